// SPDX-License-Identifier: MIT
// Tests for <courier/audio/offline_driver.h>: exact, repeatable renders into memory and WAV files, clear errors, and a
// started driver that paces blocks like a device without allocating between them.
#include <courier/audio/offline_driver.h>

#include <courier/audio/driver_error.h>

#include "tests/support/allocation_counter.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using courier::audio::driver_error;
using courier::audio::interleaved_audio;
using courier::audio::offline_driver;
using courier::audio::stream_config;

namespace {

// The known signal: a sawtooth ramp of exactly representable floats, a different one per channel.
float ramp(std::uint64_t frame, std::size_t channel) noexcept
{
    const auto step = static_cast<float>(static_cast<std::int64_t>(frame % 4096) - 2048) / 2048.0f;  // [-1, 1)
    return channel == 0 ? step : -0.5f * step;
}

// Writes ramp() plus its input to every output channel, and records what the driver did.
class ramp_callback final : public courier::audio::audio_callback
{
public:
    void prepare(const stream_config& actual) override
    {
        prepared = actual;
        ++prepare_calls;
        position = 0;
    }

    void process(const float* const* in, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t c = 0; c < prepared.output_channels; ++c)
            for (std::size_t i = 0; i < frames; ++i)
                out[c][i] = ramp(position + i, c) + (c < prepared.input_channels ? in[c][i] : 0.0f);
        position += frames;
        if (block_count < block_sizes.size())
            block_sizes[block_count] = frames;
        ++block_count;
    }

    stream_config prepared;
    int prepare_calls = 0;
    std::uint64_t position = 0;
    std::vector<std::size_t> block_sizes = std::vector<std::size_t>(64);  // sized before process() runs
    std::size_t block_count = 0;
};

std::vector<char> file_bytes(const std::filesystem::path& path)
{
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b)
{
    return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

// A scratch directory of this test's own, removed at the end of the subcase.
struct scratch_dir
{
    std::filesystem::path path = std::filesystem::temp_directory_path() /
                                 ("courier_offline_driver_test_" + std::to_string(::getpid()));
    scratch_dir() { std::filesystem::create_directories(path); }
    ~scratch_dir() { std::filesystem::remove_all(path); }
};

}  // namespace

TEST_CASE("offline_driver")
{
    const stream_config config{48000.0, 256, 0, 2};

    SUBCASE("render returns exactly the samples process wrote when the length is not a multiple of the block size")
    {
        offline_driver driver(config);
        ramp_callback callback;
        const interleaved_audio out = driver.render(callback, 1000);
        CHECK(callback.prepare_calls == 1);
        CHECK(callback.prepared == config);
        REQUIRE(callback.block_count == 4);
        CHECK(callback.block_sizes[0] == 256);
        CHECK(callback.block_sizes[2] == 256);
        CHECK(callback.block_sizes[3] == 1000 - 3 * 256);
        CHECK(out.sample_rate == 48000.0);
        CHECK(out.channels == 2);
        REQUIRE(out.frames() == 1000);
        std::size_t wrong = 0;
        for (std::uint64_t n = 0; n < 1000; ++n)
            for (std::size_t c = 0; c < 2; ++c)
                wrong += out.samples[n * 2 + c] != ramp(n, c) ? 1u : 0u;
        CHECK(wrong == 0);
        CHECK(driver.frames_processed() == 1000);
        CHECK(driver.config() == config);
    }

    SUBCASE("render passes the input to process de-interleaved, and silence past its end")
    {
        offline_driver driver({48000.0, 64, 2, 2});
        ramp_callback callback;
        std::vector<float> input(100 * 2);
        for (std::size_t i = 0; i < input.size(); ++i)
            input[i] = static_cast<float>(i) / 1024.0f;  // frame f, channel c holds (2f + c) / 1024
        const interleaved_audio out = driver.render(callback, 150, input);
        REQUIRE(out.frames() == 150);
        std::size_t wrong = 0;
        for (std::uint64_t n = 0; n < 150; ++n)
            for (std::size_t c = 0; c < 2; ++c)
            {
                const float in = n < 100 ? static_cast<float>(n * 2 + c) / 1024.0f : 0.0f;
                wrong += out.samples[n * 2 + c] != ramp(n, c) + in ? 1u : 0u;
            }
        CHECK(wrong == 0);
    }

    SUBCASE("render gives the same bits when run twice on the same input")
    {
        offline_driver driver(config);
        ramp_callback first, second;
        const auto a = driver.render(first, 5000);
        const auto b = driver.render(second, 5000);
        CHECK(same_bits(a.samples, b.samples));
        CHECK(driver.frames_processed() == 10000);  // the clock runs on across renders
    }

    SUBCASE("render_to_file writes float samples that read_wav returns bit for bit")
    {
        // [offline-render-to-wav]
        const scratch_dir dir;
        offline_driver driver({48000.0, 256, 0, 2});
        ramp_callback in_memory, to_file;
        const auto expected = driver.render(in_memory, 3000);
        driver.render_to_file(to_file, 3000, dir.path / "ramp.wav");  // 32-bit float WAV by default
        const auto read_back = courier::audio::read_wav(dir.path / "ramp.wav");
        CHECK(read_back.sample_rate == 48000.0);
        CHECK(read_back.channels == 2);
        CHECK(same_bits(read_back.samples, expected.samples));
        // [offline-render-to-wav]
    }

    SUBCASE("render_to_file writes byte-identical files, without a timestamped PEAK chunk, when run twice")
    {
        const scratch_dir dir;
        offline_driver driver(config);
        ramp_callback first, second;
        driver.render_to_file(first, 4000, dir.path / "a.wav");
        driver.render_to_file(second, 4000, dir.path / "b.wav");
        const auto a = file_bytes(dir.path / "a.wav");
        const auto b = file_bytes(dir.path / "b.wav");
        CHECK(a.size() > 4000 * 2 * sizeof(float));
        CHECK(a == b);
        const std::string text(a.begin(), a.end());
        CHECK(text.find("PEAK") == std::string::npos);  // libsndfile's PEAK chunk holds the time of writing
    }

    SUBCASE("render_to_file calls between_blocks after every block, on the calling thread, outside process")
    {
        const scratch_dir dir;
        offline_driver driver({48000.0, 256, 0, 2});
        ramp_callback callback;
        std::vector<std::uint64_t> clock_at_call;
        const auto caller = std::this_thread::get_id();
        bool other_thread = false;
        driver.render_to_file(callback, 1000, dir.path / "hooked.wav", courier::audio::wav_format::float32, {},
                              [&] {
                                  clock_at_call.push_back(driver.frames_processed());
                                  other_thread = other_thread || std::this_thread::get_id() != caller;
                              });
        CHECK(clock_at_call == std::vector<std::uint64_t>{256, 512, 768, 1000});
        CHECK_FALSE(other_thread);
        const auto read_back = courier::audio::read_wav(dir.path / "hooked.wav");
        CHECK(read_back.samples.size() == 1000 * 2);
    }

    SUBCASE("render_to_file writes 24-bit PCM within one step of the samples, and clips beyond full scale")
    {
        struct loud final : courier::audio::audio_callback
        {
            void process(const float* const*, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
            {
                for (std::size_t i = 0; i < frames; ++i)
                    out[0][i] = 1.5f;  // beyond full scale: wrapping would make it negative
            }
        };
        const scratch_dir dir;
        offline_driver driver({44100.0, 128, 0, 1});
        offline_driver stereo(config);
        ramp_callback in_memory, to_file;
        const auto expected = stereo.render(in_memory, 4096);
        stereo.render_to_file(to_file, 4096, dir.path / "ramp24.wav", courier::audio::wav_format::pcm24);
        const auto read_back = courier::audio::read_wav(dir.path / "ramp24.wav");
        REQUIRE(read_back.samples.size() == expected.samples.size());
        float worst = 0.0f;
        for (std::size_t i = 0; i < expected.samples.size(); ++i)
            worst = std::max(worst, std::abs(read_back.samples[i] - expected.samples[i]));
        CHECK(worst <= 1.0f / 8388608.0f);  // one step of 24 bits
        CHECK(std::filesystem::file_size(dir.path / "ramp24.wav") < 4096 * 2 * 4);  // 3 bytes a sample, not 4

        loud clipping;
        driver.render_to_file(clipping, 300, dir.path / "loud.wav", courier::audio::wav_format::pcm24);
        const auto loud_back = courier::audio::read_wav(dir.path / "loud.wav");
        CHECK(loud_back.sample_rate == 44100.0);
        REQUIRE(loud_back.frames() == 300);
        CHECK(*std::min_element(loud_back.samples.begin(), loud_back.samples.end()) > 0.999f);
    }

    SUBCASE("render_to_file throws driver_error naming the path when the directory does not exist")
    {
        offline_driver driver(config);
        ramp_callback callback;
        const std::string path = "/nonexistent-courier-dir/out.wav";
        try
        {
            driver.render_to_file(callback, 100, path);
            FAIL("render_to_file did not throw");
        }
        catch (const driver_error& e)
        {
            const std::string what = e.what();
            CHECK(what.find(path) != std::string::npos);
            CHECK(what.find("cannot open") != std::string::npos);
        }
        CHECK(callback.block_count == 0);  // nothing ran
    }

    SUBCASE("render_to_file throws driver_error when the sample rate is not a whole number")
    {
        const scratch_dir dir;
        offline_driver driver({44100.5, 64, 0, 1});
        ramp_callback callback;
        CHECK_THROWS_AS(driver.render_to_file(callback, 10, dir.path / "x.wav"), driver_error);
    }

    SUBCASE("read_wav throws driver_error naming the path when the file does not exist")
    {
        CHECK_THROWS_WITH_AS(static_cast<void>(courier::audio::read_wav("/nonexistent-courier-dir/in.wav")),
                             doctest::Contains("/nonexistent-courier-dir/in.wav"), driver_error);
    }

    SUBCASE("the constructor throws driver_error when the block size is zero")
    {
        CHECK_THROWS_AS(offline_driver({48000.0, 0, 0, 2}), driver_error);
    }
}

namespace {

// Counts blocks and frames on the driver's thread, and the heap calls made on that thread between the start
// of one process() call and the start of the next: the driver's own loop plus the callback.
class counting_callback final : public courier::audio::audio_callback
{
public:
    void process(const float* const*, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
    {
        const std::size_t heap_now = courier::test::heap_calls_on_this_thread();
        if (blocks.load(std::memory_order_relaxed) > 0)
            heap_calls_between += heap_now - heap_at_last;
        heap_at_last = heap_now;
        for (std::size_t i = 0; i < frames; ++i)
            out[0][i] = 0.25f;
        // Counters and a flag: read after stop() joined this thread, or only as numbers, so relaxed is enough.
        frames_seen.store(frames_seen.load(std::memory_order_relaxed) + frames, std::memory_order_relaxed);
        on_caller_thread.store(std::this_thread::get_id() == caller, std::memory_order_relaxed);
        blocks.store(blocks.load(std::memory_order_relaxed) + 1, std::memory_order_relaxed);
    }

    std::thread::id caller = std::this_thread::get_id();
    std::atomic<std::uint64_t> blocks{0};
    std::atomic<std::uint64_t> frames_seen{0};
    std::atomic<bool> on_caller_thread{true};
    std::size_t heap_at_last = 0;        // driver thread only
    std::size_t heap_calls_between = 0;  // driver thread; read after stop() joined it
};

// Waits until the driver has processed `frames` frames or `limit` has passed; true if it got there.
bool wait_for_frames(const offline_driver& driver, std::uint64_t frames, std::chrono::seconds limit)
{
    const auto deadline = std::chrono::steady_clock::now() + limit;
    while (driver.frames_processed() < frames)
    {
        if (std::chrono::steady_clock::now() > deadline)
            return false;
        std::this_thread::yield();
    }
    return true;
}

}  // namespace

TEST_CASE("offline_driver: started, it paces blocks like a device" * doctest::test_suite("stress"))
{
    const stream_config config{48000.0, 256, 0, 1};

    SUBCASE("start runs process on a thread of its own at the sample rate, until stop")
    {
        offline_driver driver(config);
        counting_callback callback;
        driver.start(callback);  // pacing::real_time
        CHECK(driver.is_running());
        REQUIRE(wait_for_frames(driver, 256, std::chrono::seconds(5)));
        const auto t0 = std::chrono::steady_clock::now();
        const auto f0 = driver.frames_processed();
        std::this_thread::sleep_for(std::chrono::milliseconds(500));  // the span measured, not a synchronisation
        const auto t1 = std::chrono::steady_clock::now();
        const auto f1 = driver.frames_processed();
        driver.stop();
        CHECK_FALSE(driver.is_running());

        const double elapsed = std::chrono::duration<double>(t1 - t0).count();
        const double expected = elapsed * config.sample_rate;
        const double got = static_cast<double>(f1 - f0);
        MESSAGE("offline real-time pacing: " << got << " frames in " << elapsed << " s = " << got / elapsed
                                             << " frames/s");
        CHECK(std::abs(got - expected) <= 0.2 * expected + 4.0 * 256.0);
        CHECK_FALSE(callback.on_caller_thread.load());
        CHECK(callback.heap_calls_between == 0);
        CHECK(callback.frames_seen.load() == driver.frames_processed());  // stop() joined: nothing after
    }

    SUBCASE("start with as_fast_as_possible renders faster than real time")
    {
        offline_driver driver(config);
        counting_callback callback;
        driver.start(callback, courier::audio::pacing::as_fast_as_possible);
        // Ten seconds of audio in at most five seconds of wall-clock time: not paced.
        const bool fast = wait_for_frames(driver, 480000, std::chrono::seconds(5));
        driver.stop();
        CHECK(fast);
        CHECK(callback.heap_calls_between == 0);
    }

    SUBCASE("a recording start writes every block it ran to the WAV file, bit for bit, closed by stop")
    {
        scratch_dir dir;
        const stream_config stereo{48000.0, 256, 0, 2};
        offline_driver driver(stereo);
        ramp_callback callback;
        driver.start(callback, courier::audio::pacing::as_fast_as_possible, dir.path / "live.wav");
        REQUIRE(wait_for_frames(driver, 20000, std::chrono::seconds(10)));
        driver.stop();
        CHECK(driver.recorded_all());
        const interleaved_audio got = courier::audio::read_wav(dir.path / "live.wav");
        REQUIRE(got.frames() == driver.frames_processed());
        REQUIRE(got.channels == 2);
        bool same = true;
        for (std::size_t f = 0; f < got.frames(); ++f)
            for (std::size_t c = 0; c < 2; ++c)
                same = same && got.samples[f * 2 + c] == ramp(f, c);
        CHECK(same);
        CHECK_THROWS_AS(driver.start(callback, courier::audio::pacing::real_time, dir.path / "no" / "dir.wav"),
                        driver_error);
        CHECK_FALSE(driver.is_running());
    }
    SUBCASE("start and render throw driver_error while started, and stop does nothing when stopped")
    {
        offline_driver driver(config);
        counting_callback callback;
        driver.stop();
        driver.start(callback);
        CHECK_THROWS_AS(driver.start(callback), driver_error);
        CHECK_THROWS_AS(static_cast<void>(driver.render(callback, 10)), driver_error);
        CHECK_THROWS_AS(driver.render_to_file(callback, 10, "/tmp/never-written.wav"), driver_error);
        driver.stop();
        driver.stop();
        CHECK_FALSE(driver.is_running());
    }
}
