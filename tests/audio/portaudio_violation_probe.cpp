// SPDX-License-Identifier: MIT
// RealtimeSanitizer build only: a PortAudio stream (through JACK) whose callback allocates but is NOT marked
// COURIER_REALTIME. RTSan must still catch it, because portaudio_driver's trampoline is marked: this proves
// the driver puts every audio_callback::process in a checked real-time context (tests/audio/CMakeLists.txt).
#include <courier/audio/portaudio_driver.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <thread>

namespace {

struct allocating_callback final : courier::audio::audio_callback
{
    std::atomic<int> calls{0};

    void process(const float* const*, float* const* out, std::size_t frames) noexcept override
    {
        const auto scratch = std::make_unique<float[]>(frames);  // the violation: allocates and frees
        for (std::size_t i = 0; i < frames; ++i)
            out[0][i] = scratch[i];
        calls.fetch_add(1, std::memory_order_relaxed);
    }
};

}  // namespace

int main()
{
    courier::audio::portaudio_driver driver;
    allocating_callback callback;
    driver.open({"jack", "", {48000.0, 256, 0, 1}}, callback);
    driver.start();
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
    while (callback.calls.load(std::memory_order_relaxed) < 10 && std::chrono::steady_clock::now() < deadline)
        std::this_thread::yield();
    driver.stop();
    // Reached only if RTSan let the allocations through.
    std::printf("portaudio_violation_probe: %d callbacks allocated and RTSan said nothing\n", callback.calls.load());
    return 1;
}
