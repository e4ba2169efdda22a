// SPDX-License-Identifier: MIT
// A user's first program: a lane, a pattern, (when linked) a plugin-style block through courier::engine, and an
// offline render through courier::audio.
#include <courier/lane.h>
#include <courier/experimental/priority_lanes.h>  // experimental headers install with patterns too

#ifdef CONSUMER_WITH_ENGINE
#include <courier/audio/engine.h>

#include <array>
#include <memory>
#endif
#ifdef CONSUMER_WITH_AUDIO
#include <courier/audio/offline_driver.h>
#endif

#include <cstdio>

// The transport and the patterns stand on the standard library alone: moodycamel is an opt-in storage policy
// (<courier/rwq_storage.h>, courier::moodycamel), never pulled in by the core headers.
#ifdef MOODYCAMEL_CACHE_LINE_SIZE
#error "a core or pattern header included moodycamel's readerwriterqueue.h"
#endif

#ifdef CONSUMER_WITH_ENGINE
namespace {
// A plugin's graph: output = input × gain, the gain set by a block event.
struct gain_graph final : courier::audio::audio_graph
{
    float gain = 1.0f;
    void prepare(double, std::size_t) override {}
    void apply(const courier::audio::engine_event& e) noexcept COURIER_REALTIME override { gain = e.value; }
    void render(float* const* out, std::size_t, std::size_t at, std::size_t n) noexcept COURIER_REALTIME override
    {
        for (std::size_t i = at; i < at + n; ++i)
            out[0][i] = 0.0f;
    }
    void render_with_input(const float* const* in, std::size_t, float* const* out, std::size_t, std::size_t at,
                           std::size_t n) noexcept COURIER_REALTIME override
    {
        for (std::size_t i = at; i < at + n; ++i)
            out[0][i] = in[0][i] * gain;
    }
};
}  // namespace
#endif

#ifdef CONSUMER_WITH_AUDIO
namespace {
struct half_scale : courier::audio::audio_callback
{
    void process(const float* const*, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override
    {
        for (std::size_t i = 0; i < frames; ++i)
            out[0][i] = 0.5f;
    }
};
}  // namespace
#endif

int main()
{
    courier::lane<int> numbers(4);
    auto tx = numbers.sender();
    auto rx = numbers.receiver();
    if (!tx.try_send(42) || rx.try_receive() != 42)
        return 1;

    courier::priority_lanes<int> lanes(4, 4, 1);
    auto urgent = lanes.urgent_sender();
    if (!urgent.try_send(7))
        return 1;

#ifdef CONSUMER_WITH_ENGINE
    courier::audio::engine plugin(std::make_unique<gain_graph>());
    plugin.prepare({48000.0, 16, 1, 1});
    std::array<float, 16> buffer{};
    buffer.fill(1.0f);
    float* channels[] = {buffer.data()};
    std::array<courier::audio::block_event, 1> events{};
    events[0].frame = 8;
    events[0].event.value = 0.25f;
    plugin.process_block(channels, channels, 16, events);  // in place, as a host calls it
    if (buffer[7] != 1.0f || buffer[8] != 0.25f)
        return 1;
    std::puts("consumer ran a block through courier::engine");
#endif
#ifdef CONSUMER_WITH_AUDIO
    courier::audio::offline_driver driver({48000.0, 64, 0, 1});
    half_scale callback;
    const auto rendered = driver.render(callback, 100);
    if (rendered.frames() != 100 || rendered.samples.back() != 0.5f)
        return 1;
    std::puts("consumer rendered 100 frames offline");
#endif
    std::puts("consumer received 42");
    return 0;
}
