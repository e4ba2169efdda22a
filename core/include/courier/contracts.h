// SPDX-License-Identifier: MIT
// Contract macros: the real-time marker, debug preconditions and the violation handler (docs/contracts.md).
#pragma once

#include <cstdio>
#include <cstdlib>

/// COURIER_REALTIME marks a function as real-time safe. On Clang 20 and later it is
/// `[[clang::nonblocking]]`, so a RealtimeSanitizer build (`-fsanitize=realtime`) aborts on the first
/// allocation, free, lock or blocking syscall made inside it. Elsewhere it expands to nothing.
/// courier marks only functions that are real-time safe whatever the caller does. A function that runs the
/// caller's code (a handler, a closure, a constructor other than a move, a destructor of a live object) is
/// documented as "Real-time: wait-free if ..." and is not marked, because the same call is legitimate on a
/// control thread; mark your audio callback COURIER_REALTIME and RTSan checks it, and everything it runs, there.
/// Moving a message and destroying a moved-from one are part of a message type's contract (they must not
/// allocate or free), so functions that only do that are marked.
#if defined(__clang__) && defined(__has_cpp_attribute)
#if __has_cpp_attribute(clang::nonblocking)
#define COURIER_REALTIME [[clang::nonblocking]]
#endif
#endif
#ifndef COURIER_REALTIME
#define COURIER_REALTIME
#endif

/// COURIER_CHECKS turns on debug preconditions and role guards. It defaults to on unless NDEBUG is set;
/// define it to 0 or 1 to choose explicitly.
#ifndef COURIER_CHECKS
#ifdef NDEBUG
#define COURIER_CHECKS 0
#else
#define COURIER_CHECKS 1
#endif
#endif

#if defined(__has_feature)
#if __has_feature(realtime_sanitizer)
#include <sanitizer/rtsan_interface.h>
#define COURIER_DETAIL_HAS_RTSAN 1
#endif
#endif

namespace courier {

namespace detail {

// Turns RealtimeSanitizer's checks off for its lifetime, in a RealtimeSanitizer build (a no-op elsewhere): for
// the report of a check that has already failed, where the real-time rules no longer apply, and for test hooks.
struct realtime_checks_off
{
#ifdef COURIER_DETAIL_HAS_RTSAN
    realtime_checks_off() noexcept { __rtsan_disable(); }
    ~realtime_checks_off() { __rtsan_enable(); }
    realtime_checks_off(const realtime_checks_off&) = delete;
    realtime_checks_off& operator=(const realtime_checks_off&) = delete;
#endif
};

}  // namespace detail

/// What a failed check reports: the condition's text and where it was written.
struct contract_violation
{
    const char* condition;
    const char* file;
    int line;
};

/// A function called when a check fails. It may return (tests record the violation and go on); the
/// default handler prints the violation and aborts.
using contract_violation_handler = void (*)(const contract_violation&) noexcept;

namespace detail {

[[noreturn]] inline void default_violation_handler(const contract_violation& v) noexcept
{
    std::fprintf(stderr, "courier: contract violated: %s (%s:%d)\n", v.condition, v.file, v.line);
    std::abort();
}

// A plain global: the handler is chosen at setup, before any thread that could fail a check starts.
inline contract_violation_handler violation_handler = nullptr;

}  // namespace detail

/// Installs `handler` (or the default, for nullptr) and returns the previous one.
/// Thread: setup. Real-time: no (not meant for a running program).
inline contract_violation_handler set_contract_violation_handler(contract_violation_handler handler) noexcept
{
    const auto previous = detail::violation_handler;
    detail::violation_handler = handler;
    return previous;
}

/// Reports a violation to the installed handler. Only reached when a check has already failed, so the
/// real-time rules no longer apply: the default handler prints and aborts.
/// Thread: any. Real-time: no (a failed check is a bug; the default handler aborts).
inline void report_contract_violation(const char* condition, const char* file, int line) noexcept
{
    [[maybe_unused]] const detail::realtime_checks_off unchecked;  // a handler may print, lock or allocate: the check failed
    const contract_violation v{condition, file, line};
    if (detail::violation_handler != nullptr)
        detail::violation_handler(v);
    else
        detail::default_violation_handler(v);
}

}  // namespace courier

/// COURIER_EXPECTS(cond) checks a precondition when COURIER_CHECKS is on. `cond` must have no side
/// effect: it is not evaluated at all when checks are off. COURIER_FAIL(what) reports a state the code
/// holds to be impossible, with `what` as the text.
#if COURIER_CHECKS
#define COURIER_EXPECTS(cond) \
    ((cond) ? static_cast<void>(0) : ::courier::report_contract_violation(#cond, __FILE__, __LINE__))
#define COURIER_FAIL(what) ::courier::report_contract_violation(what, __FILE__, __LINE__)
#else
#define COURIER_EXPECTS(cond) static_cast<void>(0)
#define COURIER_FAIL(what) static_cast<void>(0)
#endif
