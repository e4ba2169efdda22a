// SPDX-License-Identifier: MIT
// A callable stored in place in a fixed-size slot: a message that carries code, with no heap
// (docs/patterns/closure.md).
#pragma once

#include <courier/contracts.h>

#include <cstddef>
#include <cstring>
#include <functional>
#include <new>
#include <type_traits>
#include <utility>

namespace courier {

template <class Signature, std::size_t Size = 48>
class closure;

/// A move-only callable of signature `R(Args...)` whose captures live inside the object, in `Size` bytes.
/// Unlike std::function it never allocates: a callable that does not fit is a compile-time error. Move-only
/// callables (capturing a unique_ptr, say) are fine. Whatever the callable captured dies with the closure,
/// on the thread that destroys it: for a closure run on the audio thread, capture only what is trivial to
/// destroy, or move owned objects back out (see docs/patterns/closure.md, pitfall 2).
template <class R, class... Args, std::size_t Size>
class closure<R(Args...), Size>
{
public:
    /// An empty closure; calling it is a contract violation.
    closure() noexcept = default;

    /// Stores `f` in place.
    /// Thread: any. Real-time: wait-free if F's move constructor is.
    template <class F>
        requires(!std::is_same_v<std::remove_cvref_t<F>, closure> && std::is_invocable_r_v<R, std::decay_t<F>&, Args...>)
    closure(F&& f) noexcept  // NOLINT(google-explicit-constructor): a closure is its callable
    {
        using Stored = std::decay_t<F>;
        static_assert(sizeof(Stored) <= Size,
                      "courier::closure: the callable's captures do not fit in the slot; capture less (a pointer "
                      "or an index instead of a copy) or raise the closure's Size parameter");
        static_assert(alignof(Stored) <= alignof(std::max_align_t),
                      "courier::closure: the callable needs stronger alignment than std::max_align_t");
        static_assert(std::is_nothrow_constructible_v<Stored, F&&> && std::is_nothrow_move_constructible_v<Stored>,
                      "courier::closure: the callable must be nothrow-movable, since it moves on the real-time path");
        ::new (static_cast<void*>(storage)) Stored(std::forward<F>(f));
        ops = &ops_for<Stored>;
    }

    /// Moves the callable over; `other` is left empty.
    /// Thread: the closure's holder. Real-time: wait-free if the callable's move constructor is.
    closure(closure&& other) noexcept { take(other); }

    /// Destroys the held callable, then moves `other`'s over.
    /// Thread: the closure's holder. Real-time: wait-free if the callables' move and destructor are.
    closure& operator=(closure&& other) noexcept
    {
        if (this != &other)
        {
            reset();
            take(other);
        }
        return *this;
    }

    ~closure() { reset(); }

    /// Runs the stored callable.
    /// Thread: whichever thread received it. Real-time: as the callable.
    R operator()(Args... args)
    {
        COURIER_EXPECTS(ops != nullptr);
        return ops->invoke(storage, std::forward<Args>(args)...);
    }

    /// Destroys the stored callable now, on the calling thread, and leaves the closure empty.
    /// Thread: the closure's holder. Real-time: wait-free if the callable's destructor is.
    void reset() noexcept
    {
        if (ops != nullptr)
        {
            if (ops->destroy != nullptr)  // null for a trivially destructible callable: nothing to run
                ops->destroy(storage);    // the captures die here, on the calling thread
            ops = nullptr;
        }
    }

    /// True when a callable is stored.
    /// Thread: the closure's holder. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return ops != nullptr; }

    /// How many bytes of captures fit.
    static constexpr std::size_t capacity = Size;

private:
    // How a stored callable is run, moved and destroyed. A trivially copyable callable (a lambda capturing
    // numbers and pointers, the usual message) has no move_to and no destroy: moving it copies the slot's
    // bytes and destroying it does nothing, which saves two indirect calls per message on the drain path.
    struct operations
    {
        R (*invoke)(void*, Args&&...);
        void (*move_to)(void* from, void* to) noexcept;  // null: copy the bytes
        void (*destroy)(void*) noexcept;                 // null: nothing to destroy
    };

    template <class Stored>
    static constexpr operations make_operations() noexcept
    {
        operations o{[](void* self, Args&&... args) -> R {
                         return std::invoke(*static_cast<Stored*>(self), std::forward<Args>(args)...);
                     },
                     nullptr, nullptr};
        if constexpr (!std::is_trivially_copyable_v<Stored>)
        {
            o.move_to = [](void* from, void* to) noexcept {
                ::new (to) Stored(std::move(*static_cast<Stored*>(from)));
                static_cast<Stored*>(from)->~Stored();
            };
            o.destroy = [](void* self) noexcept { static_cast<Stored*>(self)->~Stored(); };
        }
        return o;
    }

    template <class Stored>
    static constexpr operations ops_for = make_operations<Stored>();

    void take(closure& other) noexcept
    {
        if (other.ops != nullptr)
        {
            if (other.ops->move_to != nullptr)
                other.ops->move_to(other.storage, storage);
            else
                std::memcpy(storage, other.storage, Size);  // a trivially copyable callable: its bytes are it
            ops = std::exchange(other.ops, nullptr);
        }
    }

    alignas(std::max_align_t) std::byte storage[Size];
    const operations* ops = nullptr;
};

}  // namespace courier
