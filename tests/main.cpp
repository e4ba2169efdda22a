// SPDX-License-Identifier: MIT
// The doctest runner for courier_tests, with a watchdog: a test case that runs longer than its limit (120 s, or
// COURIER_TEST_WATCHDOG_SECONDS; 0 turns it off) is named on stderr with its subcase, every thread's stack is
// printed when gdb is installed, and the run exits with a failure. A hang then fails with the name of what hung
// instead of holding CI until its time limit.
#define DOCTEST_CONFIG_IMPLEMENT
#include <doctest/doctest.h>

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <mutex>
#include <string>
#include <thread>

namespace {

using watchdog_clock = std::chrono::steady_clock;

// What the runner is doing now. Written by the runner's thread (the listener), read by the watchdog thread.
struct current_test
{
    std::mutex mutex;
    char test_case[256] = {};  // copies, not std::string: a listener must not allocate inside a test's counted region
    char subcase[256] = {};
    watchdog_clock::time_point started{};
    bool running = false;
};

current_test& now_running()
{
    static current_test state;
    return state;
}

// Copies a name, cut to fit; no allocation.
void copy_name(char (&to)[256], const char* from)
{
    std::size_t i = 0;
    for (; i + 1 < sizeof to && from[i] != '\0'; ++i)
        to[i] = from[i];
    to[i] = '\0';
}

struct watchdog_listener : doctest::IReporter
{
    explicit watchdog_listener(const doctest::ContextOptions&) {}

    void test_case_start(const doctest::TestCaseData& data) override
    {
        std::lock_guard lock(now_running().mutex);
        copy_name(now_running().test_case, data.m_name);
        now_running().subcase[0] = '\0';
        now_running().started = watchdog_clock::now();
        now_running().running = true;
    }
    void test_case_end(const doctest::CurrentTestCaseStats&) override
    {
        std::lock_guard lock(now_running().mutex);
        now_running().running = false;
    }
    void subcase_start(const doctest::SubcaseSignature& signature) override
    {
        std::lock_guard lock(now_running().mutex);
        copy_name(now_running().subcase, signature.m_name.c_str());
    }
    void report_query(const doctest::QueryData&) override {}
    void test_run_start() override {}
    void test_run_end(const doctest::TestRunStats&) override {}
    void test_case_reenter(const doctest::TestCaseData&) override {}
    void test_case_exception(const doctest::TestCaseException&) override {}
    void subcase_end() override {}
    void log_assert(const doctest::AssertData&) override {}
    void log_message(const doctest::MessageData&) override {}
    void test_case_skipped(const doctest::TestCaseData&) override {}
};
REGISTER_LISTENER("courier_watchdog", 1, watchdog_listener);

// Names the test case that overran, prints every thread's stack through gdb when it is installed, and exits.
[[noreturn]] void report_hang(const char* test_case, const char* subcase, long seconds)
{
    std::fprintf(stderr, "courier_tests watchdog: test case \"%s\" (subcase \"%s\") still running after %ld s\n",
                 test_case, subcase, seconds);
    // Bounded: a gdb that stalls must not turn one hang into another.
    const std::string gdb = "command -v gdb >/dev/null && timeout -k 5 60 gdb -nx -batch -p " +
                            std::to_string(::getpid()) +
                            " -ex 'set debuginfod enabled off' -ex 'thread apply all bt' </dev/null 1>&2 2>/dev/null";
    if (std::system(gdb.c_str()) != 0)
        std::fprintf(stderr, "courier_tests watchdog: no stacks (gdb is not installed or could not attach)\n");
    std::fflush(stderr);
    std::_Exit(EXIT_FAILURE);  // not abort(): doctest's signal handler would report into a test still running
}

long watchdog_seconds()
{
    const char* text = std::getenv("COURIER_TEST_WATCHDOG_SECONDS");
    return text != nullptr ? std::strtol(text, nullptr, 10) : 120;
}

}  // namespace

int main(int argc, char** argv)
{
    const long limit = watchdog_seconds();
    std::mutex stop_mutex;
    std::condition_variable stop_signal;
    bool stopping = false;
    std::thread watchdog;
    if (limit > 0)
        watchdog = std::thread([&] {
            std::unique_lock stop_lock(stop_mutex);
            while (!stop_signal.wait_for(stop_lock, std::chrono::seconds(1), [&] { return stopping; }))
            {
                char test_case[256];
                char subcase[256];
                {
                    // Copied out, so the report holds no lock the runner's own handlers might want.
                    std::lock_guard lock(now_running().mutex);
                    const auto elapsed = watchdog_clock::now() - now_running().started;
                    if (!now_running().running || elapsed <= std::chrono::seconds(limit))
                        continue;
                    copy_name(test_case, now_running().test_case);
                    copy_name(subcase, now_running().subcase);
                }
                report_hang(test_case, subcase, limit);
            }
        });

    doctest::Context context(argc, argv);
    const int result = context.run();

    {
        std::lock_guard lock(stop_mutex);
        stopping = true;
    }
    stop_signal.notify_one();
    if (watchdog.joinable())
        watchdog.join();
    return result;
}
