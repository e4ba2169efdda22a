// SPDX-License-Identifier: MIT
// Tests for <courier/audio/portaudio_driver.h>: listing, clear setup errors, and (under the JACK dummy server that
// tests/support/with_jack_dummy.sh starts) a real stream paced by the server whose callback never allocates.
#include <courier/audio/portaudio_driver.h>

#include <courier/audio/driver_error.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <thread>

using courier::audio::device_request;
using courier::audio::driver_error;
using courier::audio::portaudio_driver;
using courier::audio::stream_config;

namespace {

// The message of the driver_error that `f` throws, or "" if it throws none.
template <class F>
std::string error_of(F&& f)
{
    try
    {
        f();
    }
    catch (const driver_error& e)
    {
        return e.what();
    }
    return {};
}

bool contains(const std::string& text, const std::string& part) { return text.find(part) != std::string::npos; }

// True when tests/support/with_jack_dummy.sh runs us: a JACK server of our own is up.
bool jack_dummy_running() { return std::getenv("COURIER_JACK_SERVER") != nullptr; }

}  // namespace

TEST_CASE("portaudio_driver")
{
    portaudio_driver driver;

    SUBCASE("host_apis lists at least one host API, exactly one of them the default")
    {
        const auto apis = driver.host_apis();
        REQUIRE_FALSE(apis.empty());
        CHECK(std::count_if(apis.begin(), apis.end(), [](const auto& a) { return a.is_default; }) == 1);
    }

    SUBCASE("devices names only host APIs that host_apis lists, with as many devices as it counts")
    {
        const auto apis = driver.host_apis();
        const auto devices = driver.devices();
        for (const auto& api : apis)
        {
            const auto n = std::count_if(devices.begin(), devices.end(),
                                         [&](const auto& d) { return d.host_api == api.name; });
            CHECK(static_cast<std::size_t>(n) == api.device_count);
        }
    }

    SUBCASE("describe names the PortAudio version and every host API")
    {
        const std::string text = driver.describe();
        CHECK(contains(portaudio_driver::version(), "PortAudio"));
        CHECK(contains(text, portaudio_driver::version()));
        for (const auto& api : driver.host_apis())
            CHECK(contains(text, "'" + api.name + "'"));
    }

    SUBCASE("open throws driver_error listing the host APIs there are when the host API does not exist")
    {
        struct silent final : courier::audio::audio_callback
        {
            void process(const float* const*, float* const*, std::size_t) noexcept COURIER_REALTIME override {}
        } callback;
        const std::string what = error_of([&] { driver.open({"NoSuchHostApi", "", {}}, callback); });
        CHECK(contains(what, "no host API matching 'NoSuchHostApi'"));
        CHECK(contains(what, "'" + driver.host_apis().front().name + "'"));
        CHECK_FALSE(driver.is_open());
    }

    SUBCASE("open throws driver_error naming the device when the device does not exist")
    {
        struct silent final : courier::audio::audio_callback
        {
            void process(const float* const*, float* const*, std::size_t) noexcept COURIER_REALTIME override {}
        } callback;
        const std::string what = error_of([&] { driver.open({"default", "no such device xyz", {}}, callback); });
        CHECK(contains(what, "no device matching 'no such device xyz'"));
        CHECK_FALSE(driver.is_open());
    }

    SUBCASE("open throws driver_error when the request has no channels or no block size")
    {
        struct silent final : courier::audio::audio_callback
        {
            void process(const float* const*, float* const*, std::size_t) noexcept COURIER_REALTIME override {}
        } callback;
        CHECK_THROWS_AS(driver.open({"default", "", {48000.0, 256, 0, 0}}, callback), driver_error);
        CHECK_THROWS_AS(driver.open({"default", "", {48000.0, 0, 0, 2}}, callback), driver_error);
    }

    SUBCASE("start and info throw driver_error, stop and close do nothing, and xruns is 0 when no stream is open")
    {
        CHECK(driver.xruns() == 0);
        CHECK_THROWS_AS(driver.start(), driver_error);
        CHECK_THROWS_AS(static_cast<void>(driver.info()), driver_error);
        driver.stop();
        driver.close();
        CHECK_FALSE(driver.is_open());
        CHECK_FALSE(driver.is_running());
    }
}

namespace {

// A test callback for a real device: writes a quiet sine, counts blocks and frames, and counts the heap calls
// made inside process() on the device's thread.
class pacing_probe final : public courier::audio::audio_callback
{
public:
    void prepare(const stream_config& actual) override { prepared = actual; }

    void process(const float* const* in, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
    {
        const std::size_t heap_before = courier::test::heap_calls_on_this_thread();
        constexpr float two_pi = 6.28318530717958647692f;
        const float step = two_pi * 440.0f / static_cast<float>(prepared.sample_rate);
        for (std::size_t i = 0; i < frames; ++i)
        {
            const float sample = 0.1f * std::sin(phase);
            phase += step;
            if (phase > two_pi)
                phase -= two_pi;
            for (std::size_t c = 0; c < prepared.output_channels; ++c)
                out[c][i] = sample;
        }
        if (prepared.input_channels > 0 && (in == nullptr || in[0] == nullptr))
            bad_pointers.store(true, std::memory_order_relaxed);
        if (out == nullptr || out[0] == nullptr)
            bad_pointers.store(true, std::memory_order_relaxed);
        largest_block.store(std::max(largest_block.load(std::memory_order_relaxed), frames), std::memory_order_relaxed);
        heap_calls.store(heap_calls.load(std::memory_order_relaxed) +
                             (courier::test::heap_calls_on_this_thread() - heap_before),
                         std::memory_order_relaxed);
        // Counters only (read as numbers on the test thread): one writer, relaxed is enough.
        frames_seen.store(frames_seen.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
    }

    stream_config prepared;  // written by prepare() before the stream starts
    float phase = 0.0f;      // device thread only
    std::atomic<std::uint64_t> frames_seen{0};
    std::atomic<std::size_t> largest_block{0};
    std::atomic<std::size_t> heap_calls{0};
    std::atomic<bool> bad_pointers{false};
};

}  // namespace

TEST_CASE("portaudio_driver: a JACK stream is paced by the server" * doctest::test_suite("jack") *
          doctest::skip(!jack_dummy_running()))
{
    portaudio_driver driver;
    const auto apis = driver.host_apis();
    const bool has_jack = std::any_of(apis.begin(), apis.end(), [](const auto& a) { return contains(a.name, "JACK"); });
    REQUIRE_MESSAGE(has_jack, "PortAudio lists no JACK host API although a JACK server runs");

    SUBCASE("a stream opened through the JACK host API runs process at 48 kHz without allocating")
    {
        MESSAGE("PortAudio devices with JACK server '" << std::getenv("COURIER_JACK_SERVER") << "' running:\n"
                                                      << driver.describe());
        // [portaudio-open-jack]
        pacing_probe probe;
        driver.open({"jack", "", {48000.0, 256, 2, 2}}, probe);  // host API by substring; "" = its default device
        const auto info = driver.info();
        CHECK(info.config.sample_rate == 48000.0);
        CHECK(probe.prepared.sample_rate == 48000.0);
        driver.start();
        // [portaudio-open-jack]
        CHECK(contains(info.host_api, "JACK"));
        CHECK(info.device == "system");
        CHECK(info.output_latency > 0.0);
        CHECK(driver.is_open());
        CHECK(driver.is_running());

        const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (probe.frames_seen.load(std::memory_order_relaxed) == 0 && std::chrono::steady_clock::now() < deadline)
            std::this_thread::yield();
        REQUIRE_MESSAGE(probe.frames_seen.load() > 0, "the JACK stream never called process");

        const auto t0 = std::chrono::steady_clock::now();
        const auto f0 = probe.frames_seen.load(std::memory_order_relaxed);
        std::this_thread::sleep_for(std::chrono::seconds(2));  // the span measured, not a synchronisation
        const auto t1 = std::chrono::steady_clock::now();
        const auto f1 = probe.frames_seen.load(std::memory_order_relaxed);
        driver.stop();
        CHECK_FALSE(driver.is_running());
        const auto after_stop = probe.frames_seen.load(std::memory_order_relaxed);
        driver.close();
        CHECK_FALSE(driver.is_open());

        const double elapsed = std::chrono::duration<double>(t1 - t0).count();
        const double expected = elapsed * 48000.0;
        const double got = static_cast<double>(f1 - f0);
        const auto xruns = driver.xruns();
        MESSAGE("JACK dummy pacing: " << got << " frames in " << elapsed << " s = " << got / elapsed
                                      << " frames/s (expected 48000), " << xruns << " xruns");
        // Paced: never faster than the clock. Running: never far slower, though a JACK server that misses a
        // cycle on a busy machine drops that time (an xrun), so the floor is generous when xruns occurred.
        CHECK(got <= 1.05 * expected + 4.0 * 256.0);
        CHECK(got >= (xruns == 0 ? 0.95 : 0.5) * expected - 4.0 * 256.0);
        CHECK(probe.largest_block.load() == 256);
        CHECK(probe.heap_calls.load() == 0);
        CHECK_FALSE(probe.bad_pointers.load());
        CHECK(probe.frames_seen.load() == after_stop);  // stop() returned after the last process()
    }

    SUBCASE("open throws driver_error naming both rates when the JACK server runs at another rate")
    {
        pacing_probe probe;
        const std::string what = error_of([&] { driver.open({"jack", "", {44100.0, 256, 0, 2}}, probe); });
        CHECK(contains(what, "44100"));
        CHECK(contains(what, "48000"));
        CHECK_FALSE(driver.is_open());
    }

    SUBCASE("open throws driver_error listing JACK's devices when the device does not exist")
    {
        pacing_probe probe;
        const std::string what = error_of([&] { driver.open({"jack", "nope", {48000.0, 256, 0, 2}}, probe); });
        CHECK(contains(what, "no device matching 'nope'"));
        CHECK(contains(what, "'system'"));
    }

    SUBCASE("open throws driver_error when a stream is already open, or the device has too few channels")
    {
        pacing_probe probe;
        CHECK_THROWS_WITH_AS(driver.open({"jack", "system", {48000.0, 256, 0, 8}}, probe),
                             doctest::Contains("8 were asked for"), driver_error);
        driver.open({"jack", "sys", {48000.0, 256, 0, 2}}, probe);
        CHECK_THROWS_WITH_AS(driver.open({"jack", "", {48000.0, 256, 0, 2}}, probe),
                             doctest::Contains("already open"), driver_error);
        driver.close();
    }
}
