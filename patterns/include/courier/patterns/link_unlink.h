// SPDX-License-Identifier: MIT
// Link and unlink: objects built on the control side join a live intrusive list on the audio side, and
// leave it to die back on the control side (docs/patterns/link_unlink.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/send_status.h>
#include <courier/ticket.h>
#include <courier/patterns/deferred_delete.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier {

template <class T>
class link_unlink;

/// Names one object handed to a link_unlink, so the control side can ask for its removal later. A handle
/// stays safe to use after its object is gone: a request for an object that no longer exists is ignored
/// and counted. (Handles are a slot and a 32-bit generation; a stale handle could only be mistaken for a
/// new object after its slot has been reused 2^32 times while the request waited in the lane.)
struct link_handle
{
    static constexpr std::uint32_t no_slot = UINT32_MAX;
    std::uint32_t slot = no_slot;
    std::uint32_t generation = 0;

    /// True for a handle that try_link gave out.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] explicit operator bool() const noexcept COURIER_REALTIME { return slot != no_slot; }
    /// True when both name the same slot and generation, that is, the same object.
    /// Thread: any. Real-time: wait-free.
    bool operator==(const link_handle&) const = default;
};

/// A snapshot of a link_unlink's counters; each field is exact for some moment during the call.
struct link_unlink_stats
{
    lane_stats requests;                ///< link and unlink requests to the audio side; `refused` = lane full
    in_flight_stats returns;            ///< the way back; `out` = objects alive, `refused` = at capacity
    std::uint64_t linked = 0;           ///< objects the audio side linked
    std::uint64_t unlinked = 0;         ///< objects the audio side unlinked, on its own or on request
    std::uint64_t stale_requests = 0;   ///< unlink requests that found their object already gone
};

/// The links an object carries, so that the audio side can put it in its live list without allocating.
/// Derive T publicly from link_hook<T>. Hooks are not copyable: a linked object is one of a kind.
template <class T>
class link_hook
{
public:
    link_hook(const link_hook&) = delete;
    link_hook& operator=(const link_hook&) = delete;

    /// The handle the object was linked under; empty until try_link accepts the object.
    /// Thread: the object's holder. Real-time: wait-free.
    [[nodiscard]] link_handle handle() const noexcept COURIER_REALTIME { return self; }

protected:
    link_hook() noexcept = default;
    ~link_hook() = default;

private:
    friend class link_unlink<T>;
    T* prev = nullptr;  // written by the audio thread while the object is linked
    T* next = nullptr;
    link_handle self;   // written by the control thread before the hand-off; the lanes publish it
};

/// A live list of objects owned by the audio side (voices, processors), fed from the control side.
/// - **Link:** the control side builds an object (a std::unique_ptr, allocated there) and try_link()s
///   it. The audio side's poll(), at the start of its next callback, puts it at the end of an intrusive
///   list (the object carries its own links, so nothing is allocated), and for_each() sees it from then on.
/// - **Unlink:** the audio side removes an object when it decides to (a voice has finished: unlink()),
///   or when the control side asks (try_request_unlink(handle)). The object travels back through a
///   deferred_delete and its destructor runs in the control side's collect(): never on the audio thread.
///
/// **Sizing (why returning can never fail):** at most `max_objects` objects exist at once, counting those
/// queued for linking, linked, and on their way back. try_link enforces it (`no_credit`) by taking one
/// reservation of the deferred_delete per object, and the return lane holds `max_objects`, so the audio side
/// can always send an object back. A full request lane makes try_link or try_request_unlink return a
/// refusal; the caller keeps its object.
///
/// **Teardown:** the destructor, on the control thread after the audio stream has stopped, destroys every
/// object still linked, queued or on its way back, there. Nothing leaks and nothing dies on the audio thread.
template <class T>
class link_unlink
{
    static_assert(std::is_base_of_v<link_hook<T>, T>, "courier::link_unlink: derive T from courier::link_hook<T>");
    static_assert(std::is_nothrow_destructible_v<T>, "courier::link_unlink: T must be nothrow-destructible");

public:
    /// Makes room for `max_objects` objects alive at once and a lane of `max_requests` link and unlink
    /// requests to the audio side. Throws std::invalid_argument when either is 0 or `max_objects` is 2^32 - 1
    /// or more.
    /// Thread: setup. Real-time: no (allocates).
    link_unlink(std::size_t max_objects, std::size_t max_requests);

    link_unlink(const link_unlink&) = delete;
    link_unlink& operator=(const link_unlink&) = delete;

    /// Destroys every object still linked, queued or on its way back, on this thread.
    /// Thread: setup (the control thread, after the audio stream has stopped). Real-time: no (frees).
    ~link_unlink();

    // ----- control side ---------------------------------------------------------------------------------

    /// Queues `object` for linking, leaving `object` empty, and returns a ticket whose `id` is its handle. The
    /// `result` is `sent` (the audio side links the object in its next poll()), `full` (the request lane is full)
    /// or `no_credit` (`max_objects` objects exist already; collect() and retry). On a refusal (both counted)
    /// `object` is left untouched, still owned by the caller, and `id` is an empty handle.
    /// Thread: control (the one control thread of this object). Real-time: wait-free.
    [[nodiscard]] ticket<link_handle> try_link(std::unique_ptr<T>&& object) noexcept COURIER_REALTIME;

    /// Asks the audio side to unlink the object named by `handle` in its next poll(). Returns false
    /// (counted in `requests.refused`) when the request lane is full. A request for an object that is already
    /// gone is harmless: the audio side ignores it and counts it in `stale_requests`.
    /// Thread: control. Real-time: wait-free.
    [[nodiscard]] bool try_request_unlink(link_handle handle) noexcept COURIER_REALTIME;

    /// Destroys the objects the audio side has sent back, here on the control thread, frees their places for
    /// new objects, and returns how many it destroyed. Call it regularly (on a timer, or before linking).
    /// Thread: control. Real-time: no (runs T's destructor and frees).
    std::size_t collect() noexcept;

    /// Objects that exist now: queued, linked, or on their way back (not yet collected).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t alive() const noexcept COURIER_REALTIME 
    {
        return static_cast<std::size_t>(graveyard.stats().out);
    }

    /// The most objects that exist at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_objects() const noexcept COURIER_REALTIME { return graveyard.capacity(); }

    // ----- audio side -----------------------------------------------------------------------------------

    /// Handles up to `budget` queued requests, oldest first, and returns how many it handled: links new
    /// objects at the end of the list and unlinks the ones asked for (they are sent back, not destroyed).
    /// Call it at the start of each callback: an object try_link()ed before then is visible to for_each()
    /// right after, provided no more than `budget` requests were waiting.
    /// Thread: audio. Real-time: wait-free.
    std::size_t poll(std::size_t budget) noexcept COURIER_REALTIME;

    /// poll() with a budget of the request lane's capacity: handles every request queued when it starts.
    /// Thread: audio. Real-time: wait-free.
    std::size_t poll() noexcept COURIER_REALTIME { return poll(requests.capacity()); }

    /// Calls `visit(T&)` for each linked object in the order they were linked. `visit` may unlink the object
    /// it was given (its neighbours stay valid), but no other.
    /// Thread: audio. Real-time: wait-free if `visit` is.
    template <class F>
    void for_each(F&& visit) noexcept;

    /// Removes `object`, which must be linked, from the list and sends it back to the control side, where it
    /// dies in collect(). Never destroys it here. Cannot fail (see "Sizing" above).
    /// Thread: audio. Real-time: wait-free.
    void unlink(T& object) noexcept COURIER_REALTIME;

    /// The linked object named by `handle`, or nullptr when it is not linked (not yet, or no longer).
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] T* find(link_handle handle) const noexcept COURIER_REALTIME;

    /// How many objects are linked now.
    /// Thread: audio. Real-time: wait-free.
    [[nodiscard]] std::size_t linked_count() const noexcept COURIER_REALTIME { return list_size; }

    // ----- any thread / setup ---------------------------------------------------------------------------

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] link_unlink_stats stats() const noexcept COURIER_REALTIME;

    /// Lets new threads take over the control and audio roles (say the device restarted its callback on a
    /// new thread). The old threads must have stopped using this object.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        to_audio.reset_thread_role();
        from_control.reset_thread_role();
        graveyard.reset_thread_roles();
    }

private:
    // A message to the audio side: link `object`, or (when `object` is empty) unlink the object at `handle`.
    struct request
    {
        request(std::unique_ptr<T>&& o, link_handle h) noexcept : object(std::move(o)), handle(h) {}
        explicit request(link_handle h) noexcept : handle(h) {}
        std::unique_ptr<T> object;
        link_handle handle;
    };

    static link_hook<T>& hook_of(T& object) noexcept COURIER_REALTIME { return object; }
    static std::size_t checked_objects(std::size_t max_objects);
    void link_at_tail(T& object) noexcept COURIER_REALTIME;

    // Written at setup only.
    deferred_delete<T> graveyard;  // the way back; one reservation per object alive
    lane<request> requests;
    lane_sender<request> to_audio;       // used by the control thread
    lane_receiver<request> from_control;  // used by the audio thread

    // Written by the control thread only.
    std::vector<std::uint32_t> free_slots;   // a stack; reserved at setup, never reallocates
    std::vector<std::uint32_t> generations;  // per slot; bumped when the slot's object is collected

    // Written by the audio thread only (and by the destructor, at setup).
    std::vector<T*> by_slot;  // the linked object in each slot, or nullptr
    T* head = nullptr;
    T* tail = nullptr;
    std::size_t list_size = 0;
    counter linked;
    counter unlinked;
    counter stale;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
std::size_t link_unlink<T>::checked_objects(std::size_t max_objects)
{
    if (max_objects == 0 || max_objects >= link_handle::no_slot)
        throw std::invalid_argument("courier::link_unlink: max_objects must be between 1 and 2^32 - 2");
    return max_objects;
}

template <class T>
link_unlink<T>::link_unlink(std::size_t max_objects, std::size_t max_requests)
    : graveyard(checked_objects(max_objects)), requests(max_requests), to_audio(requests.sender()),
      from_control(requests.receiver()), generations(max_objects, 0), by_slot(max_objects, nullptr)
{
    free_slots.reserve(max_objects);
    for (std::size_t i = max_objects; i-- > 0;)
        free_slots.push_back(static_cast<std::uint32_t>(i));  // slot 0 on top
}

template <class T>
link_unlink<T>::~link_unlink()
{
    // Setup: the audio side has stopped, so its list is ours now.
    for (T* object = head; object != nullptr;)
    {
        T* next = hook_of(*object).next;
        delete object;  // ✗ a linked object dies here, on the destroying (control) thread
        object = next;
    }
    // Then the members: ✗ objects still queued in `requests` or waiting in `graveyard` die in their lanes'
    // destructors, on this thread too.
}

template <class T>
ticket<link_handle> link_unlink<T>::try_link(std::unique_ptr<T>&& object) noexcept
{
    COURIER_EXPECTS(object != nullptr);
    if (!graveyard.try_reserve())
        return {send_status::no_credit, {}};
    // Not empty: a slot is taken with each reservation and given back with it in collect(), so free slots =
    // max_objects - reservations out > 0 here.
    COURIER_EXPECTS(!free_slots.empty());
    const std::uint32_t slot = free_slots.back();
    const link_handle handle{slot, generations[slot]};
    hook_of(*object).self = handle;  // published to the audio side by the lane, with the object
    // Built in place, and only once room is known, so a refusal leaves `object` with the caller.
    if (!to_audio.try_emplace(std::move(object), handle))
    {
        graveyard.cancel_reservation();
        hook_of(*object).self = link_handle{};
        return {send_status::full, {}};
    }
    free_slots.pop_back();  // never frees: the vector's capacity stays
    return {send_status::sent, handle};
}

template <class T>
bool link_unlink<T>::try_request_unlink(link_handle handle) noexcept
{
    COURIER_EXPECTS(handle.slot < by_slot.size());
    return to_audio.try_emplace(handle);
}

template <class T>
std::size_t link_unlink<T>::collect() noexcept
{
    return graveyard.collect([this](T& object) noexcept {
        const std::uint32_t slot = hook_of(object).self.slot;
        ++generations[slot];  // stale handles to this slot no longer match
        free_slots.push_back(slot);  // within the reserved capacity: no allocation
    });  // ✗ each returned object dies inside graveyard.collect, here on the control thread
}

template <class T>
std::size_t link_unlink<T>::poll(std::size_t budget) noexcept
{
    std::size_t handled = 0;
    // Each request leaves the lane (try_receive; not drain_in_place) before an unlinked object is retired, so
    // once the control side has collected that object and reused its reservation, the lane has room again.
    for (; handled < budget; ++handled)
    {
        auto r = from_control.try_receive();
        if (!r)
            break;
        if (r->object != nullptr)
            link_at_tail(*r->object.release());  // the list owns it now; nothing is freed
        else if (T* object = find(r->handle))
            unlink(*object);
        else
            stale.add();  // already unlinked by the audio side, or collected: nothing to do
    }  // each request dies here holding an empty unique_ptr: nothing to free
    return handled;
}

template <class T>
void link_unlink<T>::link_at_tail(T& object) noexcept
{
    link_hook<T>& hook = hook_of(object);
    COURIER_EXPECTS(hook.self.slot < by_slot.size() && by_slot[hook.self.slot] == nullptr);
    hook.prev = tail;
    hook.next = nullptr;
    if (tail != nullptr)
        hook_of(*tail).next = &object;
    else
        head = &object;
    tail = &object;
    by_slot[hook.self.slot] = &object;
    ++list_size;
    linked.add();
}

template <class T>
void link_unlink<T>::unlink(T& object) noexcept
{
    link_hook<T>& hook = hook_of(object);
    COURIER_EXPECTS(hook.self.slot < by_slot.size() && by_slot[hook.self.slot] == &object);
    (hook.prev != nullptr ? hook_of(*hook.prev).next : head) = hook.next;
    (hook.next != nullptr ? hook_of(*hook.next).prev : tail) = hook.prev;
    hook.prev = hook.next = nullptr;
    by_slot[hook.self.slot] = nullptr;
    --list_size;
    unlinked.add();
    // Never destroyed here: it travels back and dies in collect(), on the control thread. Cannot fail: the
    // object holds one of the graveyard's reservations (taken in try_link).
    graveyard.retire(std::unique_ptr<T>(&object));
}

template <class T>
T* link_unlink<T>::find(link_handle handle) const noexcept
{
    if (handle.slot >= by_slot.size())
        return nullptr;
    T* object = by_slot[handle.slot];
    // Reading the hook is safe: a linked object belongs to the audio side until it is unlinked.
    return object != nullptr && hook_of(*object).self.generation == handle.generation ? object : nullptr;
}

template <class T>
template <class F>
void link_unlink<T>::for_each(F&& visit) noexcept
{
    for (T* object = head; object != nullptr;)
    {
        T* next = hook_of(*object).next;  // read first: `visit` may unlink `object`
        visit(*object);
        object = next;
    }
}

template <class T>
link_unlink_stats link_unlink<T>::stats() const noexcept
{
    link_unlink_stats s;
    s.requests = requests.stats();
    s.returns = graveyard.stats();
    s.linked = linked.load();
    s.unlinked = unlinked.load();
    s.stale_requests = stale.load();
    return s;
}

}  // namespace courier
