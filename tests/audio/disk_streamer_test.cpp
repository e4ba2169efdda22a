// SPDX-License-Identifier: MIT
// Tests for <courier/audio/disk_streamer.h>: the file's frames arrive in order and bit-exact when the worker keeps up; a
// slowed worker gives counted underruns heard as silence, never a wait; the end and looping; clear errors.
#include <courier/audio/disk_streamer.h>

#include <courier/audio/driver_error.h>
#include <courier/audio/offline_driver.h>

#include "tests/support/allocation_counter.h"
#include "tests/support/violation_recorder.h"

#include <doctest/doctest.h>

#include <algorithm>
#include <cmath>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

using courier::audio::disk_streamer;
using courier::audio::disk_streamer_config;

namespace {

// A stereo file whose every sample is nonzero and tells its frame: left (f % 1000 + 1) / 2048, right negated.
struct ramp_source final : courier::audio::audio_callback
{
    std::uint64_t frame = 0;
    void process(const float* const*, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t i = 0; i < frames; ++i, ++frame)
        {
            out[0][i] = static_cast<float>(frame % 1000 + 1) / 2048.0F;
            out[1][i] = -out[0][i];
        }
    }
};

float expected_left(std::uint64_t frame)
{
    return static_cast<float>(frame % 1000 + 1) / 2048.0F;
}

std::filesystem::path write_ramp(std::size_t frames)
{
    const auto path = std::filesystem::temp_directory_path() /
                      ("courier_disk_streamer_" + std::to_string(::getpid()) + "_" + std::to_string(frames) + ".wav");
    ramp_source source;
    courier::audio::offline_driver driver({48000.0, 512, 0, 2});
    driver.render_to_file(source, frames, path);
    return path;
}

// The audio side, paced by the disk: before each block, wait until the worker has a block ready (or the file
// has ended), as a device whose period is longer than a disk read would find it. A worker that produces
// nothing for 10 s fails the test instead of hanging it.
void wait_for_block(const disk_streamer& s)
{
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
    while (true)
    {
        const auto st = s.stats();
        if (st.blocks_read > st.blocks_received || st.finished)
            return;
        if (std::chrono::steady_clock::now() > deadline)
            FAIL("the disk worker read no block in 10 s");
        std::this_thread::yield();
    }
}

// Mixes the stream in 256-frame stereo blocks, each when the worker has one ready, until it has finished (or a
// short block with an underrun shows it will not); calls `sample(frame, left, right)` for every frame mixed and
// returns how many frames that was.
template <class Sample>
std::uint64_t play_to_end(disk_streamer& s, Sample&& sample)
{
    std::vector<float> left(256), right(256);
    float* out[] = {left.data(), right.data()};
    std::uint64_t frame = 0;
    while (!s.stats().finished)
    {
        wait_for_block(s);
        std::fill(left.begin(), left.end(), 0.0F);
        std::fill(right.begin(), right.end(), 0.0F);
        const std::size_t got = s.mix(out, 2, 0, 256);
        for (std::size_t i = 0; i < got; ++i, ++frame)
            sample(frame, left[i], right[i]);
        if (got < 256 && !s.stats().finished && s.stats().underruns > 0)
            break;
    }
    return frame;
}

}  // namespace

TEST_CASE("disk_streamer")
{
    SUBCASE("mix adds the file's frames in order, bit for bit, and never underruns when the worker keeps up")
    {
        const auto path = write_ramp(10000);
        disk_streamer_config config;
        config.block_frames = 1000;
        config.buffers = 3;
        disk_streamer s(path, config);
        CHECK(s.channels() == 2);
        CHECK(s.sample_rate() == 48000.0);
        CHECK(s.length_frames() == 10000);
        s.start();
        REQUIRE(s.wait_until_primed(std::chrono::seconds(10)));
        std::size_t wrong = 0;
        const std::uint64_t frame = play_to_end(s, [&](std::uint64_t f, float l, float r) {
            if (l != expected_left(f) || r != -expected_left(f))
                ++wrong;
        });
        const auto st = s.stats();
        CHECK(wrong == 0);
        CHECK(frame == 10000);
        CHECK(st.frames_mixed == 10000);
        CHECK(st.underruns == 0);
        CHECK(st.underrun_frames == 0);
        CHECK(st.requests >= 10);
        CHECK(st.requests_refused == 0);
        s.stop();
        std::filesystem::remove(path);
    }

    SUBCASE("mix adds nothing and counts an underrun when no block is ready, then continues where it was")
    {
        const auto path = write_ramp(4000);
        disk_streamer_config config;
        config.block_frames = 500;
        config.buffers = 2;
        config.worker_delay = std::chrono::milliseconds(20);  // a slow disk
        disk_streamer s(path, config);
        s.start();
        std::vector<float> left(100, 0.0F), right(100, 0.0F);
        float* out[] = {left.data(), right.data()};
        // At once, long before the worker's 20 ms read: silence, counted, and no waiting.
        const auto before = std::chrono::steady_clock::now();
        CHECK(s.mix(out, 2, 0, 100) == 0);
        CHECK(std::chrono::steady_clock::now() - before < std::chrono::milliseconds(20));
        CHECK(std::all_of(left.begin(), left.end(), [](float x) { return x == 0.0F; }));
        CHECK(s.stats().underruns == 1);
        CHECK(s.stats().underrun_frames == 100);
        // Once a block is there, the stream starts at frame 0: nothing was skipped.
        wait_for_block(s);
        CHECK(s.mix(out, 2, 0, 100) == 100);
        CHECK(left[0] == expected_left(0));
        CHECK(left[99] == expected_left(99));
        // Flat out, faster than the slow worker: underruns pile up, frames stay in order.
        std::uint64_t frame = 100;
        std::size_t wrong = 0;
        std::uint64_t calls = 2;
        for (int block = 0; block < 200 && !s.stats().finished; ++block, ++calls)
        {
            std::fill(left.begin(), left.end(), 0.0F);
            const std::size_t got = s.mix(out, 2, 0, 100);
            for (std::size_t i = 0; i < got; ++i, ++frame)
                wrong += left[i] == expected_left(frame) ? 0U : 1U;
            for (std::size_t i = got; i < 100; ++i)
                wrong += left[i] == 0.0F ? 0U : 1U;  // the underrun's part is silence
        }
        CHECK(wrong == 0);
        CHECK(s.stats().underruns > 1);
        // Every frame asked for was either the file's next frame or counted silence (the stream had not ended).
        REQUIRE_FALSE(s.stats().finished);
        CHECK(s.stats().frames_mixed + s.stats().underrun_frames == calls * 100);
        CHECK(s.stats().frames_mixed == frame);
        s.stop();
        std::filesystem::remove(path);
    }

    SUBCASE("set_output_rate resamples a 16 kHz file to 48 kHz: three times the frames, same pitch and length")
    {
        // A linear ramp (frame / 16000 on the left, negated on the right), which linear interpolation keeps exact:
        // output frame k must read k / 48000.
        struct slope final : courier::audio::audio_callback
        {
            std::uint64_t frame = 0;
            void process(const float* const*, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
            {
                for (std::size_t i = 0; i < frames; ++i, ++frame)
                {
                    out[0][i] = static_cast<float>(frame) / 16000.0F;
                    out[1][i] = -out[0][i];
                }
            }
        } source;
        const auto path = std::filesystem::temp_directory_path() /
                          ("courier_disk_streamer_" + std::to_string(::getpid()) + "_16k.wav");
        courier::audio::offline_driver writer({16000.0, 500, 0, 2});
        writer.render_to_file(source, 8000, path);

        disk_streamer_config config;
        config.block_frames = 1024;
        config.buffers = 3;
        disk_streamer s(path, config);
        CHECK(s.sample_rate() == 16000.0);
        s.set_output_rate(48000.0);
        s.start();
        CHECK_THROWS_AS(s.set_output_rate(44100.0), std::logic_error);
        REQUIRE(s.wait_until_primed(std::chrono::seconds(10)));
        double worst = 0.0;
        const std::uint64_t frame = play_to_end(s, [&](std::uint64_t f, float l, float r) {
            const double want = static_cast<double>(f) / 48000.0;
            worst = std::max({worst, std::abs(l - want), std::abs(r + want)});
        });
        CHECK(worst < 1e-6);
        CHECK(frame >= 3 * 8000 - 3);
        CHECK(frame <= 3 * 8000);
        CHECK(s.stats().underruns == 0);
        s.stop();
        std::filesystem::remove(path);
    }

    SUBCASE("the destructor, on the control thread, takes back the buffer an audio thread was playing")
    {
        const auto path = write_ramp(5000);
        const courier::test::violation_recorder violations;  // counts role-guard reports where checks are on
        {
            disk_streamer_config config;
            config.block_frames = 1000;
            disk_streamer s(path, config);
            s.start();
            REQUIRE(s.wait_until_primed(std::chrono::seconds(10)));
            std::thread audio([&] {
                std::vector<float> left(256), right(256);
                float* out[] = {left.data(), right.data()};
                for (int block = 0; block < 5; ++block)  // 1280 frames: returns the first buffer, holds the second
                    static_cast<void>(s.mix(out, 2, 0, 256));
            });
            audio.join();
            s.stop();
        }  // the buffer goes home here, from this thread
        CHECK(violations.count() == 0);
        std::filesystem::remove(path);
    }

    SUBCASE("set_output_rate throws std::invalid_argument for a negative rate")
    {
        const auto path = write_ramp(100);
        disk_streamer s(path);
        CHECK_THROWS_AS(s.set_output_rate(-1.0), std::invalid_argument);
        s.set_output_rate(48000.0);  // the file's own rate: no resampling
        std::filesystem::remove(path);
    }

    SUBCASE("mix starts again at the file's first frame after its end when looping")
    {
        const auto path = write_ramp(1500);
        disk_streamer_config config;
        config.block_frames = 400;  // not a divisor of 1500: a block spans the wrap
        config.buffers = 2;
        config.loop = true;
        config.gain = 0.5F;
        disk_streamer s(path, config);
        s.start();
        std::vector<float> left(100), right(100);
        float* out[] = {left.data(), right.data()};
        std::size_t wrong = 0;
        for (std::uint64_t frame = 0; frame < 4000;)
        {
            wait_for_block(s);
            std::fill(left.begin(), left.end(), 0.0F);
            const std::size_t got = s.mix(out, 2, 0, 100);
            for (std::size_t i = 0; i < got; ++i, ++frame)
                wrong += left[i] == 0.5F * expected_left(frame % 1500) ? 0U : 1U;
        }
        CHECK(wrong == 0);
        CHECK_FALSE(s.stats().finished);
        s.stop();
        std::filesystem::remove(path);
    }

    SUBCASE("mix neither allocates nor frees")
    {
        const auto path = write_ramp(3000);
        disk_streamer_config config;
        config.block_frames = 256;
        disk_streamer s(path, config);
        s.start();
        REQUIRE(s.wait_until_primed(std::chrono::seconds(10)));
        std::vector<float> left(64), right(64);
        float* out[] = {left.data(), right.data()};
        std::size_t heap_calls = 0;
        for (int block = 0; block < 40; ++block)
        {
            wait_for_block(s);
            courier::test::allocation_counter heap;
            static_cast<void>(s.mix(out, 2, 0, 64));
            heap_calls += heap.count();
        }
        CHECK(heap_calls == 0);
        s.stop();
        std::filesystem::remove(path);
    }

    SUBCASE("the constructor throws driver_error naming the path when the file cannot be opened")
    {
        try
        {
            disk_streamer s("/nonexistent/courier.wav");
            FAIL("no exception");
        }
        catch (const courier::audio::driver_error& e)
        {
            CHECK(std::string(e.what()).find("/nonexistent/courier.wav") != std::string::npos);
        }
    }
}
