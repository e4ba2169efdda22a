// SPDX-License-Identifier: MIT
// The JUCE plugin's processBlock neither allocates, frees nor locks while the editor's messages flow: the
// real processor, a real audio thread, and every courier channel busy (tests/gui/README.md).
#include "demos/plugin/plugin_processor.h"
#include "tests/support/allocation_counter.h"

#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <pthread.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <cstdlib>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

// The test binary is linked with -Wl,--wrap for these: every call from courier's, the plugin's and JUCE's
// objects (all linked statically here) goes through a counter of the calling thread first.
namespace {
thread_local std::size_t raw_heap_calls = 0;
thread_local std::size_t lock_calls = 0;
}  // namespace
extern "C" {
void* __real_malloc(std::size_t);
void* __real_calloc(std::size_t, std::size_t);
void* __real_realloc(void*, std::size_t);
void __real_free(void*);
int __real_pthread_mutex_lock(pthread_mutex_t*);
void* __wrap_malloc(std::size_t n) { ++raw_heap_calls; return __real_malloc(n); }
void* __wrap_calloc(std::size_t n, std::size_t s) { ++raw_heap_calls; return __real_calloc(n, s); }
void* __wrap_realloc(void* p, std::size_t n) { ++raw_heap_calls; return __real_realloc(p, n); }
void __wrap_free(void* p) { ++raw_heap_calls; __real_free(p); }
int __wrap_pthread_mutex_lock(pthread_mutex_t* m) { ++lock_calls; return __real_pthread_mutex_lock(m); }
}

namespace {

struct audio_thread_counts
{
    std::size_t blocks = 0;
    std::size_t heap = 0;    // operator new/delete (allocation_counter) plus malloc/calloc/realloc/free
    std::size_t locks = 0;   // pthread_mutex_lock (std::mutex, juce::CriticalSection, ...)
};

// One block of processBlock with the counters around it.
void counted_block(courier::plugin::processor& p, juce::AudioBuffer<float>& buffer, juce::MidiBuffer& midi,
                   audio_thread_counts& counts)
{
    const courier::test::allocation_counter news;
    const std::size_t heap_before = raw_heap_calls;
    const std::size_t locks_before = lock_calls;
    p.processBlock(buffer, midi);
    counts.heap += news.count() + (raw_heap_calls - heap_before);
    counts.locks += lock_calls - locks_before;
    ++counts.blocks;
}

}  // namespace

TEST_CASE("plugin processor: the counters see an allocation and a lock on the audio thread")
{
    // The wrapping works: without it the real test below could not fail.
    std::size_t heap = 0;
    std::size_t locks = 0;
    std::thread([&] {
        const std::size_t h = raw_heap_calls;
        const std::size_t l = lock_calls;
        const courier::test::allocation_counter news;
        std::vector<int> grown(100, 1);
        std::mutex m;
        { const std::lock_guard<std::mutex> hold(m); }
        heap = news.count() + raw_heap_calls - h;
        locks = lock_calls - l;
    }).join();
    CHECK(heap >= 2);
    CHECK(locks >= 1);
}

TEST_CASE("plugin processor: processBlock allocates, frees and locks nothing while messages flow")
{
    ::unsetenv("COURIER_PLUGIN_OSC_PORT");  // this test is the OSC inbox's producer itself
    const juce::ScopedJuceInitialiser_GUI juce_runtime;  // the message manager; this thread is its thread
    courier::plugin::processor p;
    // The OSC inbox's producer end, as the OSC endpoint's network thread holds it (one producer: this thread).
    courier::audio::engine_sender osc = p.core().take_osc_sender();
    constexpr int block = 256;
    p.setPlayConfigDetails(2, 2, 48000.0, block);
    p.prepareToPlay(48000.0, block);

    // The audio thread's buffers and MIDI are made here, at setup: adding MIDI events allocates.
    juce::AudioBuffer<float> buffer(2, block);
    std::vector<juce::MidiBuffer> midi(8);
    for (std::size_t i = 0; i < midi.size(); ++i)
    {
        const int note = 48 + static_cast<int>(i);
        midi[i].addEvent(juce::MidiMessage::noteOn(1, note, 0.7F), 10);
        midi[i].addEvent(juce::MidiMessage::noteOff(1, note - 1), 100);
    }

    // The audio thread runs at least `blocks` blocks, and on until the control side has seen every kind of
    // message arrive (no timing is assumed: on a loaded machine either side may run far ahead of the other).
    constexpr std::size_t blocks = 3000;
    std::atomic<bool> done{false};  // release in the audio thread's store; acquire in the control loop's load
    std::atomic<bool> control_done{false};  // release in the control loop's store; acquire in the audio loop
    audio_thread_counts counts;
    std::thread audio([&] {
        for (std::size_t b = 0; b < blocks || !control_done.load(std::memory_order_acquire); ++b)
        {
            for (int c = 0; c < 2; ++c)  // an input: a quiet square wave
                for (int i = 0; i < block; ++i)
                    buffer.setSample(c, i, ((i / 32) % 2 == 0) ? 0.1F : -0.1F);
            counted_block(p, buffer, midi[b % midi.size()], counts);
        }
        done.store(true, std::memory_order_release);  // pairs with the acquire load below
    });

    // The control side, as the editor and a host would: parameter changes, commands, graph swaps, meters, scope.
    std::size_t params_changed = 0, commands_sent = 0, swaps = 0, meters = 0, scopes = 0, osc_sent = 0;
    std::vector<float> scope(1024);
    auto& engine = p.core().engine();
    auto* gain = p.parameter_tree().getParameter("gain");
    auto* cutoff = p.parameter_tree().getParameter("cutoff");
    for (std::size_t round = 0; !done.load(std::memory_order_acquire); ++round)  // pairs with the release store
    {
        gain->setValueNotifyingHost(static_cast<float>(round % 100) / 100.0F);
        cutoff->setValueNotifyingHost(static_cast<float>((round * 7) % 100) / 100.0F);
        ++params_changed;
        p.control_tick();
        if (p.core().commands().try_send(courier::synth::make_note_on(static_cast<std::uint32_t>(60 + round % 12), 0.5F)))
            ++commands_sent;
        if (p.core().commands().try_send(courier::synth::make_note_off(static_cast<std::uint32_t>(60 + (round + 6) % 12))))
            ++commands_sent;
        if (round % 50 == 0 && p.core().try_swap_graph(static_cast<courier::synth::waveform>(round % 3), 4 + round % 8))
            ++swaps;
        // OSC events of every /synth/ type (1 to 6), and one the plugin does not know (99).
        courier::audio::engine_event e;
        e.type = static_cast<std::uint16_t>(round % 7 == 6 ? 99 : 1 + round % 7);
        e.key = e.type == 5 ? static_cast<std::uint32_t>(round % 3) : static_cast<std::uint32_t>(60 + round % 12);
        e.value = e.type == 4 ? 2000.0F : 0.5F;
        if (osc.try_send(e))
            ++osc_sent;
        courier::audio::engine_meters m;
        if (engine.try_read_meters(m))
            ++meters;
        while (engine.try_read_scope(scope) > 0)
            ++scopes;
        if (!control_done.load(std::memory_order_relaxed))
        {
            const auto seen = engine.stats();
            if (round >= 200 && seen.graphs_adopted >= 1 && engine.mailbox_stats(0).received > 10 &&
                p.parameters_read().changes_read() > 10 && meters > 0 && scopes > 0 && p.core().osc_stats().applied > 10)
                control_done.store(true, std::memory_order_release);  // pairs with the audio loop's acquire
        }
        std::this_thread::yield();
    }
    audio.join();
    p.control_tick();
    const auto stats = engine.stats();
    const auto osc_in = p.core().osc_stats();
    const auto midi_in = p.midi_stats();
    MESSAGE("blocks " << counts.blocks << ", heap calls " << counts.heap << ", locks " << counts.locks
                      << "; control side: " << params_changed << " parameter rounds, " << commands_sent
                      << " commands, " << swaps << " graph swaps, " << meters << " meter reads, " << scopes
                      << " scope buffers; audio side applied " << engine.mailbox_stats(0).received << " commands, "
                      << p.parameters_read().changes_read() << " parameter changes, adopted " << stats.graphs_adopted
                      << " graphs, " << midi_in.midi << " MIDI events, " << osc_in.applied << " OSC events of "
                      << osc_sent << " sent");
    CHECK(counts.blocks >= blocks);
    CHECK(counts.heap == 0);
    CHECK(counts.locks == 0);
    // The messages really flowed while it ran.
    CHECK(p.parameters_read().changes_read() > 10);
    CHECK(engine.mailbox_stats(0).received > 10);
    CHECK(stats.graphs_adopted >= 1);
    CHECK(midi_in.midi == 2 * counts.blocks);
    CHECK(midi_in.dropped == 0);
    CHECK(stats.host_events_applied == midi_in.midi + midi_in.other);
    CHECK(meters > 0);
    CHECK(scopes > 0);
    CHECK(osc_in.applied > 10);
    CHECK(osc_in.lane.sent == osc_sent);
    p.releaseResources();
}

TEST_CASE("plugin processor: the OSC inbox")
{
    ::unsetenv("COURIER_PLUGIN_OSC_PORT");
    const juce::ScopedJuceInitialiser_GUI juce_runtime;
    courier::plugin::processor p;
    constexpr int block = 256;
    p.setPlayConfigDetails(2, 2, 48000.0, block);
    p.prepareToPlay(48000.0, block);
    courier::audio::engine_sender osc = p.core().take_osc_sender();
    juce::AudioBuffer<float> buffer(2, block);
    juce::MidiBuffer midi;
    using side = courier::plugin::audio_side;

    SUBCASE("take_osc_sender throws when called a second time")
    {
        CHECK_THROWS_AS((void)p.core().take_osc_sender(), std::logic_error);
    }
    SUBCASE("process applies message_budget events per block when more wait, and counts the block")
    {
        courier::audio::engine_event gain;
        gain.type = 3;  // /synth/gain
        gain.value = 0.5F;
        std::size_t sent = 0;
        while (osc.try_send(gain))
            ++sent;
        CHECK(sent == side::mailbox_capacity);
        CHECK(p.core().osc_stats().lane.refused == 1);  // a full inbox refuses, and says so
        buffer.clear();
        p.processBlock(buffer, midi);
        CHECK(p.core().osc_stats().applied == side::message_budget);
        CHECK(p.core().engine().stats().budget_exhausted == 1);
        CHECK(p.core().osc_stats().lane.depth() == side::mailbox_capacity - side::message_budget);
    }
    SUBCASE("process plays an OSC note_on and silences it with all_notes_off")
    {
        courier::audio::engine_event on;
        on.type = 1;  // /synth/note_on
        on.key = 69;
        on.value = 1.0F;
        REQUIRE(osc.try_send(on));
        float peak = 0.0F;
        for (int b = 0; b < 10; ++b)
        {
            buffer.clear();
            p.processBlock(buffer, midi);
            peak = std::max(peak, buffer.getMagnitude(0, 0, block));
        }
        CHECK(peak > 0.05F);
        courier::audio::engine_event off;
        off.type = 6;  // /synth/all_notes_off
        REQUIRE(osc.try_send(off));
        for (int b = 0; b < 400; ++b)  // past the release
        {
            buffer.clear();
            p.processBlock(buffer, midi);
        }
        CHECK(buffer.getMagnitude(0, 0, block) < 1e-4F);
        CHECK(p.core().osc_stats().applied == 2);
        CHECK(p.core().frames_processed() == 410U * block);
        CHECK(p.core().blocks_processed() == 410U);
    }
}

TEST_CASE("plugin processor: a graph swap under a held note leaves no step in the output")
{
    const juce::ScopedJuceInitialiser_GUI juce_runtime;
    courier::plugin::processor p;
    constexpr int block = 256;
    p.setPlayConfigDetails(2, 2, 48000.0, block);
    p.prepareToPlay(48000.0, block);
    p.parameter_tree().getParameter("waveform")->setValueNotifyingHost(0.0F);  // sine: no steps of its own
    REQUIRE(p.core().commands().try_send(courier::synth::make_note_on(69, 1.0F)));

    juce::AudioBuffer<float> buffer(2, block);
    juce::MidiBuffer midi;
    float previous = 0.0F;
    // The largest sample-to-sample change in `blocks` blocks (silent input: the output is the synth).
    const auto largest_step = [&](int blocks) {
        float largest = 0.0F;
        for (int b = 0; b < blocks; ++b)
        {
            buffer.clear();
            p.processBlock(buffer, midi);
            for (int i = 0; i < block; ++i)
            {
                largest = std::max(largest, std::abs(buffer.getSample(0, i) - previous));
                previous = buffer.getSample(0, i);
            }
        }
        return largest;
    };
    largest_step(20);  // past the attack
    const float steady = largest_step(20);
    REQUIRE(p.core().try_swap_graph(courier::synth::waveform::sine, 4));
    const float across_swap = largest_step(4);
    MESSAGE("largest step: " << steady << " while the note holds, " << across_swap << " across the swap");
    CHECK(p.core().engine().stats().graphs_adopted == 1);
    CHECK(steady > 0.002F);  // the note sounds (a 440 Hz sine of about 0.12 moves 0.007 per sample)
    CHECK(across_swap <= 1.5F * steady);
}

TEST_CASE("plugin processor: MIDI beyond a block's capacity is carried to the next block, then counted")
{
    const juce::ScopedJuceInitialiser_GUI juce_runtime;
    courier::plugin::processor p;
    constexpr int block = 256;
    p.setPlayConfigDetails(2, 2, 48000.0, block);
    p.prepareToPlay(48000.0, block);
    juce::AudioBuffer<float> buffer(2, block);
    constexpr std::size_t capacity = courier::plugin::processor::events_per_block;
    // The first block carries the 4 parameters' first values too: capacity - 4 MIDI events fit in it.
    juce::MidiBuffer flood;
    for (std::size_t i = 0; i < capacity + 100; ++i)
        flood.addEvent(juce::MidiMessage::noteOn(1, 60, 0.5F), static_cast<int>(i % block));
    juce::MidiBuffer none;
    buffer.clear();
    p.processBlock(buffer, flood);
    auto s = p.midi_stats();
    CHECK(s.midi == capacity + 100);
    CHECK(s.carried == 104);
    CHECK(s.dropped == 0);
    CHECK(s.carrying == 104);
    p.processBlock(buffer, none);  // the carried events arrive, at frame 0 of this block
    s = p.midi_stats();
    CHECK(s.carrying == 0);
    CHECK(p.core().engine().stats().host_events_applied == capacity + 100 + 4);

    SUBCASE("beyond the carry, events are dropped and counted, never silently")
    {
        juce::MidiBuffer huge;
        for (std::size_t i = 0; i < 2 * capacity + 10; ++i)
            huge.addEvent(juce::MidiMessage::noteOff(1, 60), 0);
        p.processBlock(buffer, huge);
        s = p.midi_stats();
        CHECK(s.carrying == capacity);
        CHECK(s.dropped == 10);
        CHECK(s.carried == 104 + capacity);
    }
}
