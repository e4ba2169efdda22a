// SPDX-License-Identifier: MIT
// A debug guard that catches two threads inside one end of a single-producer/single-consumer queue at the same
// time (docs/contracts.md, "Role guards").
#pragma once

#include <courier/contracts.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <cstring>
#include <functional>
#include <source_location>
#include <string_view>
#include <thread>
#include <type_traits>

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#endif

namespace courier {

/// Guards one role of one object (say, "sender of this lane"): every call made in the role holds the guard for
/// the call's duration, through a role_guard::scope, and a second thread that enters while the first is still
/// inside is reported as a contract violation. This is the classic silent SPSC bug: two producers on one queue
/// corrupt it without a crash until much later.
///
/// A role is not an OS thread. Hosts (REAPER, Bitwig, CLAP hosts) call the audio callback from a different
/// worker thread on different blocks, never two at once; each block's thread enters and leaves the role in
/// turn, which the guard accepts without any reset. What the guard cannot see is a hand-over without a
/// happens-before (two threads that take turns by luck): that is a data race, and ThreadSanitizer reports it.
///
/// The guard names the object (its type and role, and a name given at setup) and both threads in its report.
/// With COURIER_CHECKS off a scope does nothing; the guard keeps its (unused) members so that layouts never
/// depend on the setting.
class role_guard
{
public:
    /// Holds the guard for as long as it lives: the body of one call made in the role. Nested scopes on the
    /// same thread (a handler that calls back into the same end) hold nothing more.
    class scope;

    /// A guard for an anonymous queue end.
    /// Thread: setup. Real-time: wait-free.
    role_guard() noexcept = default;

    /// A guard for role `role` ("sender") of an object of type `object` ("courier::lane<int>"). Both strings
    /// must outlive the guard (string literals, or detail::type_label).
    /// Thread: setup. Real-time: wait-free.
    role_guard(const char* object, const char* role) noexcept : object_type(object), role_name(role) {}

    /// Gives the guarded object a name for violation reports ("scope feed"); `name` must outlive the guard.
    /// Thread: setup. Real-time: wait-free.
    void set_name(const char* name) noexcept COURIER_REALTIME { given_name = name; }

    /// For calls that are setup (reset_thread_role, destructors): reports a violation when another thread is
    /// inside the role now, since a setup call must not overlap any other call. Holds nothing afterwards.
    /// Thread: setup. Real-time: wait-free.
    void expect_idle(std::source_location where = std::source_location::current()) noexcept COURIER_REALTIME;

private:
    friend class scope;
    friend void report_role_overlap(const role_guard&, std::thread::id, const std::source_location&) noexcept;

    // The thread inside the role now, or no thread. Written by the scopes (compare-exchange on entry, store on
    // exit). Present whether or not checks are on, so every object holding a guard has one layout in every
    // translation unit: a library built with NDEBUG and a plugin built without it can share a lane.
    std::atomic<std::thread::id> inside{};
    // Written at setup only: what the reports call the object.
    const char* object_type = "an SPSC queue";
    const char* role_name = "end";
    const char* given_name = nullptr;
};

namespace detail {

/// A test hook: when set, called on a thread right after it has entered a role (the outermost scope). Tests
/// use it to park one thread inside a call and so force two threads to overlap deterministically. Set it
/// before starting the threads it should see and clear it after joining them.
using role_entered_hook = void (*)() noexcept;
inline std::atomic<role_entered_hook> on_role_entered{nullptr};  // relaxed: set at setup, before threads start

/// The name of type T as the compiler spells it ("courier::lane<int, courier::ring_storage<int> >").
template <class T>
constexpr std::string_view type_name() noexcept
{
#if defined(__clang__) || defined(__GNUC__)
    constexpr std::string_view pretty = __PRETTY_FUNCTION__;  // "... [with T = X; ...]" or "... [T = X]"
    constexpr std::size_t start = pretty.find("T = ") + 4;
    constexpr std::size_t semicolon = pretty.find(';', start);
    constexpr std::size_t end = semicolon != std::string_view::npos ? semicolon : pretty.rfind(']');
    return pretty.substr(start, end - start);
#else
    return "an SPSC queue";
#endif
}

/// type_name<T>() as a null-terminated string with static storage, for role_guard's object type.
template <class T>
struct type_label
{
private:
    static constexpr std::string_view view = type_name<T>();
    static constexpr std::array<char, view.size() + 1> chars = [] {
        std::array<char, view.size() + 1> a{};
        for (std::size_t i = 0; i < view.size(); ++i)
            a[i] = view[i];
        return a;
    }();

public:
    static constexpr const char* text = chars.data();
};

// How std::thread::id prints with operator<< (libstdc++ and libc++ print the native handle as a number).
inline unsigned long long thread_number(std::thread::id id) noexcept
{
    if constexpr (std::is_trivially_copyable_v<std::thread::id> && sizeof(std::thread::id) == sizeof(unsigned long long))
    {
        unsigned long long n = 0;
        std::memcpy(&n, &id, sizeof id);
        return n;
    }
    else
    {
        return std::hash<std::thread::id>{}(id);
    }
}

// The calling thread's name as the OS knows it (pthread_setname_np), or an empty string.
inline void this_thread_name(char (&name)[32]) noexcept
{
    name[0] = '\0';
#if defined(__linux__) || defined(__APPLE__)
    if (pthread_getname_np(pthread_self(), name, sizeof name) != 0)
        name[0] = '\0';
#endif
}

}  // namespace detail

/// Reports that the calling thread entered `guard`'s role while `holder` was inside it. Only reached when a
/// check has already failed, so the real-time rules no longer apply.
/// Thread: any. Real-time: no (formats the report; the default handler aborts).
inline void report_role_overlap(const role_guard& guard, std::thread::id holder, const std::source_location& where) noexcept
{
    [[maybe_unused]] const detail::realtime_checks_off unchecked;  // the check has failed: formatting may do what it likes
    char me[32];
    detail::this_thread_name(me);
    char text[512];
    std::snprintf(text, sizeof text,
                  "two threads in one role at once: %s %s%s%s%s entered by thread %llu%s%s%s while thread %llu is "
                  "inside it (a role may change threads between calls, never during one)",
                  guard.object_type, guard.role_name, guard.given_name != nullptr ? " \"" : "",
                  guard.given_name != nullptr ? guard.given_name : "", guard.given_name != nullptr ? "\"" : "",
                  detail::thread_number(std::this_thread::get_id()), me[0] != '\0' ? " (\"" : "", me,
                  me[0] != '\0' ? "\")" : "", detail::thread_number(holder));
    report_contract_violation(text, where.file_name(), static_cast<int>(where.line()));
}

class role_guard::scope
{
public:
    /// A scope that holds no role (for a call that needs none on this path).
    /// Thread: any. Real-time: wait-free.
    scope() noexcept = default;

    /// Enters `guard`'s role for the life of this scope; reports a violation if another thread is inside.
    /// Thread: any. Real-time: wait-free.
    explicit scope(role_guard& guard, std::source_location where = std::source_location::current()) noexcept
        COURIER_REALTIME
    {
#if COURIER_CHECKS
        const auto me = std::this_thread::get_id();
        auto holder = std::thread::id{};
        // Relaxed: only identity is compared; the data the role guards is ordered by the queue's own atomics,
        // or (for a hand-over between threads) by whatever the host uses to pass the role on.
        if (guard.inside.compare_exchange_strong(holder, me, std::memory_order_relaxed))
        {
            held = &guard;
            if (const auto hook = detail::on_role_entered.load(std::memory_order_relaxed))
            {
                [[maybe_unused]] const detail::realtime_checks_off unchecked;  // a test hook may block
                hook();
            }
            return;
        }
        if (holder != me)  // else: nested on the same thread, the outer scope holds the role
            report_role_overlap(guard, holder, where);
#else
        static_cast<void>(guard);
        static_cast<void>(where);
#endif
    }

    scope(const scope&) = delete;
    scope& operator=(const scope&) = delete;

    /// Leaves the role, if this scope entered it.
    ~scope() COURIER_REALTIME
    {
        // Not under COURIER_CHECKS, like `held` below: a program may mix translation units built with checks on
        // and off (a library with NDEBUG, a plugin without), and the linker keeps one copy of each inline member.
        // With one layout and this release in both, any constructor pairs safely with any destructor.
        if (held != nullptr)
            held->inside.store(std::thread::id{}, std::memory_order_relaxed);  // identity only, see above
    }

private:
    role_guard* held = nullptr;  // set only by a checking constructor that entered the role
};

inline void role_guard::expect_idle(std::source_location where) noexcept
{
#if COURIER_CHECKS
    const auto holder = inside.load(std::memory_order_relaxed);  // identity only
    if (holder != std::thread::id{} && holder != std::this_thread::get_id())
        report_role_overlap(*this, holder, where);
#else
    static_cast<void>(where);
#endif
}

}  // namespace courier
