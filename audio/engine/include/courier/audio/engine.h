// SPDX-License-Identifier: MIT
// The engine: the audio_callback that drains its mailbox, applies timed events and a host's block events at their
// frames, runs the current graph on its input and reports meters, scope and statistics (audio/README.md).
#pragma once

#include <courier/audio/audio_callback.h>
#include <courier/audio/audio_graph.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/lane_stats.h>
#include <courier/patterns/buffer_pool.h>
#include <courier/patterns/port.h>
#include <courier/patterns/swap_and_retire.h>
#include <courier/patterns/timed_events.h>

#include <array>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace courier {
template <class Message>
class port_registry;
}  // namespace courier

namespace courier::audio {

/// The sizes an engine is built with; everything is allocated in the constructor or in prepare().
struct engine_config
{
    std::size_t max_producers = 4;       ///< control threads that may send immediate messages (a lane each)
    std::size_t mailbox_capacity = 1024; ///< messages each producer's lane holds
    std::size_t message_budget = 256;    ///< mailbox + port messages applied per callback at most, shared so that
                                         ///< neither starves the other (audio_poll, delivery.h); the rest wait
    std::size_t timed_capacity = 4096;   ///< timed events in flight from the sequencer (lane)
    std::size_t timed_buffer = 4096;     ///< timed events the audio side holds ahead of time
    std::size_t max_graphs_in_flight = 4;///< graphs published and not yet collected
    std::size_t scope_frames = 1024;     ///< frames per scope buffer (channel 0)
    std::size_t scope_buffers = 4;       ///< scope buffers in the closed loop
    double over_budget_load = 1.0;       ///< a callback whose duration exceeds this fraction of its period is over budget
    std::size_t port_lanes = 4;          ///< senders each processor port takes (a connect() or registry reader each)
    std::size_t port_capacity = 256;     ///< messages each sender's lane into a processor port holds
};

/// A snapshot of the engine's counters, read from the control side without locks; each field is exact for
/// some moment during the call.
struct engine_stats
{
    std::uint64_t callbacks = 0;          ///< process() calls
    std::uint64_t frames = 0;             ///< frames rendered (the engine's clock)
    double max_load = 0.0;                ///< the longest callback, as a fraction of its period
    double mean_load = 0.0;               ///< the mean callback duration, as a fraction of the period
    std::uint64_t over_budget = 0;        ///< callbacks longer than engine_config::over_budget_load
    std::uint64_t immediate_applied = 0;  ///< mailbox messages applied
    std::uint64_t port_applied = 0;       ///< messages from processor ports applied (share the message budget)
    std::uint64_t timed_applied = 0;      ///< timed events applied (each at its frame)
    std::uint64_t host_events_applied = 0;///< block events given to process_block, applied (each at its frame)
    std::uint64_t max_messages_per_callback = 0;
    double mean_messages_per_callback = 0.0;
    std::uint64_t budget_exhausted = 0;   ///< callbacks that stopped draining at the budget
    std::uint64_t late_events = 0;        ///< timed events that arrived after their frame (applied at frame 0)
    std::uint64_t sends_refused = 0;      ///< refused sends: full mailbox lanes + full processor-port lanes + full
                                          ///< timed lane + graph publications
    std::uint64_t graphs_adopted = 0;     ///< graphs swapped in by the audio side
    std::uint64_t scope_sent = 0;         ///< scope buffers sent to the control side
    std::uint64_t scope_starved = 0;      ///< scope buffers skipped because the control side held them all
};

/// What the audio side publishes after every callback (latest value wins).
struct engine_meters
{
    std::uint64_t frame = 0;          ///< the engine clock at the end of the callback
    std::array<float, 2> peak{};      ///< |sample| maximum of the block, first two channels
    std::array<float, 2> rms{};       ///< root mean square of the block, first two channels
    std::uint32_t activity = 0;       ///< audio_graph::activity() (the synth: voices sounding)
};

namespace detail {
struct engine_state;  // the patterns, defined in engine.cpp only (see the class comment)
}  // namespace detail

/// A control thread's sender of immediate messages (from engine::add_producer): it owns its lane of the
/// engine's mailbox, so sending touches nothing another sender or add_producer writes. Move-only; one thread at
/// a time. It must not outlive the engine.
class engine_sender
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    /// Thread: any. Real-time: wait-free.
    engine_sender() noexcept = default;

    /// Queues `event` for the audio side, which applies it at frame 0 of a coming callback (at most
    /// engine_config::message_budget per callback). Returns false when this sender's lane is full (counted
    /// in engine_stats::sends_refused); the caller keeps the event.
    /// Thread: control (the sender's one thread). Real-time: wait-free.
    [[nodiscard]] bool try_send(const engine_event& event) noexcept COURIER_REALTIME
    {
        return lane.try_send(event);
    }

    /// The counters of this sender's lane.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats() const noexcept COURIER_REALTIME { return lane.stats(); }

    /// Lets a new thread take over this sender (the old one must have stopped using it).
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { lane.reset_thread_role(); }

private:
    friend class engine;
    explicit engine_sender(lane_sender<engine_event> end) noexcept : lane(std::move(end)) {}
    lane_sender<engine_event> lane;
};

/// The sequencer's sender of timed events (from engine::timed_sender). Move-only; one thread at a time.
class engine_timed_sender
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    /// Thread: any. Real-time: wait-free.
    engine_timed_sender() noexcept = default;

    /// Queues `event` to take effect at engine frame `frame` (frames since the stream started): exactly
    /// there if it arrives in time, else at frame 0 of the block it arrives in (counted as late). Returns
    /// false when the lane is full (counted in engine_stats::sends_refused).
    /// Thread: control (the sequencer thread). Real-time: wait-free.
    [[nodiscard]] bool try_send(std::uint64_t frame, const engine_event& event) noexcept COURIER_REALTIME;

    /// Lets another thread take this sender over: the next try_send() makes its thread the sender's owner (for
    /// example, courier-synth queues its score on the main thread, then hands the sender to the OSC endpoint's
    /// network thread). The old thread must send no more, and the new one must start after this call.
    /// Thread: setup (between the two threads). Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME;

private:
    friend class engine;
    explicit engine_timed_sender(detail::engine_state& s) noexcept : state(&s) {}
    detail::engine_state* state = nullptr;
};

/// The audio engine: an audio_callback that, at the start of each callback,
///   1. adopts the newest published graph (swap_and_retire, O(1); audio_graph::adopt carries state over; the
///      old one dies in collect_graphs()),
///   2. drains the mailbox and the processor ports with one shared budget (audio_poll; applied at frame 0),
///   3. takes the timed events of this block (timed_events) and, in process_block, the host's block events,
///      and runs the graph on the input in sub-blocks cut at their frames, so each takes effect at its frame,
///   4. publishes meters (state_observer) and fills scope buffers (buffer_pool, closed loop),
///   5. updates its statistics (relaxed atomics, read by stats() without locks).
///
/// A driver (courier::audio) calls process(); a plugin calls process_block() from its host's callback with
/// the host's MIDI and parameter changes, and gets meters, scope and load statistics without code of its own.
///
/// It is not a template: the graph is an audio_graph (one virtual call per sub-block) and the messages are
/// engine_event (16 bytes), so any graph, the synth's or a plugin's, runs in the one compiled engine. The
/// patterns' state lives behind a pointer, in engine.cpp; this header still includes the pattern headers whose
/// types appear in its interface (scope buffers, ports, graph publication, timed events).
///
/// Threads: one audio thread (process), which a plugin host may move to a different worker thread each block,
/// one block at a time; one control thread for graphs, meters, scope and stats; up to max_producers threads
/// with an engine_sender each; one sequencer thread with the engine_timed_sender. These are roles
/// (docs/contracts.md): each is one thread at a time, not necessarily the same one.
class engine final : public audio_callback
{
public:
    /// Builds the engine around `initial` (prepared in prepare()). Throws std::invalid_argument when
    /// `initial` is null or a size is 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit engine(std::unique_ptr<audio_graph> initial, const engine_config& config = {});

    /// The stream must have stopped: the graphs, queued messages and buffers die here.
    /// Thread: setup. Real-time: no (frees).
    ~engine() override;

    engine(const engine&) = delete;
    engine& operator=(const engine&) = delete;

    /// Prepares the current graph for `actual` and lets a new audio thread take over.
    /// Thread: setup. Real-time: no (allocates).
    void prepare(const stream_config& actual) override;

    /// Runs one block (see the class comment) on `in` (stream_config::input_channels of them). Writes every
    /// output sample. The same as process_block with no block events.
    /// Thread: audio. Real-time: wait-free.
    void process(const float* const* in, float* const* out, std::size_t frames) noexcept COURIER_REALTIME override;

    /// Runs one block for a plugin host: like process(), and each of `events` (the host's MIDI and parameter
    /// changes, frames relative to this block, sorted by frame) reaches audio_graph::apply at its frame, the
    /// block cut there. An event out of order takes effect where the cut has got to; one at or after `frames`
    /// takes effect after the block's last frame (so in the next block). `in` may be `out` (a host processing
    /// in place; audio_graph::render_with_input reads before it writes). Blocks longer than
    /// stream_config::block_size are rendered in pieces of at most that size. Counted in
    /// engine_stats::host_events_applied.
    /// Thread: audio. Real-time: wait-free.
    void process_block(const float* const* in, float* const* out, std::size_t frames,
                       std::span<const block_event> events) noexcept COURIER_REALTIME;

    // ----- control side ---------------------------------------------------------------------------------

    /// A sender of immediate messages for one more control thread. Safe while other senders send and the
    /// stream runs: each sender owns its lane, published to the audio side by the mailbox (release/acquire),
    /// and calls to add_producer are serialised by a lock. Throws std::length_error when max_producers
    /// senders exist.
    /// Thread: control (any). Real-time: no (locks, may throw).
    [[nodiscard]] engine_sender add_producer();

    /// The one sender of timed events. Throws std::logic_error when called twice.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] engine_timed_sender timed_sender();

    /// Prepares `fresh` for the stream configuration and hands it to the audio side, which adopts it at its
    /// next callback. Returns false (counted in sends_refused; `fresh` keeps the graph) when
    /// max_graphs_in_flight are out: collect_graphs() and retry. Throws std::invalid_argument when `fresh`
    /// lists other processors (audio_graph::processors()) than the engine's ports were opened for.
    /// Thread: control. Real-time: no (prepare() allocates).
    [[nodiscard]] bool try_publish_graph(std::unique_ptr<audio_graph>& fresh);

    /// Destroys the graphs the audio side has replaced, here, and returns how many.
    /// Thread: control. Real-time: no (frees).
    std::size_t collect_graphs() noexcept;

    /// The counters, read without locks.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] engine_stats stats() const noexcept COURIER_REALTIME;

    /// Copies the newest meters into `into` and returns true if new ones came since the last call.
    /// Thread: control (the one meter reader). Real-time: wait-free.
    [[nodiscard]] bool try_read_meters(engine_meters& into) noexcept COURIER_REALTIME;

    /// How many meter values the audio side has published (one per callback with outputs).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t meters_published() const noexcept COURIER_REALTIME;

    /// Copies the oldest full scope buffer (channel 0) into `into` (up to its size), returns the buffer to
    /// the loop and returns the frames copied: 0 when none is waiting.
    /// Thread: control (the one scope reader). Real-time: wait-free.
    [[nodiscard]] std::size_t try_read_scope(std::span<float> into) noexcept COURIER_REALTIME;

    /// The sizes the engine was built with.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] const engine_config& settings() const noexcept COURIER_REALTIME;

    /// The stream configuration given to the last prepare().
    /// Thread: setup or control. Real-time: wait-free.
    [[nodiscard]] const stream_config& config() const noexcept COURIER_REALTIME { return shape; }

    // ----- processors by name (ports: <courier/patterns/port.h>, docs/patterns/ports.md) ----------------------------

    /// Opens one port per processor of the initial graph (audio_graph::processors()) in `table`, each with
    /// engine_config::port_lanes lanes of port_capacity messages. The audio side drains them after the mailbox,
    /// within the same message budget, and hands each message to audio_graph::apply_to(its processor, ...).
    /// `table` must outlive the engine and every channel to these ports (channels then answer gone once
    /// the engine has closed them). Throws std::logic_error when called twice, or what port's constructor
    /// throws (a full table, too many lanes).
    /// Thread: setup (before the stream starts). Real-time: no (allocates).
    void open_processor_ports(port_table& table);

    /// The processors that have a port, in audio_graph::processors() order (empty before open_processor_ports).
    /// Thread: control. Real-time: wait-free.
    [[nodiscard]] const std::vector<std::string>& processor_names() const noexcept COURIER_REALTIME;

    /// The port of the processor called `name`: connect() a channel to it, or list it in a registry. Throws
    /// std::out_of_range for a name that has no port.
    /// Thread: control. Real-time: no (may throw).
    [[nodiscard]] port<engine_event>& processor_port(std::string_view name);

    /// Lists every processor port in `registry` under `prefix` + its name ("/synth", "/stream"); visible to the
    /// registry's readers after its next publish(). Throws what port_registry::add throws.
    /// Thread: control. Real-time: no (allocates).
    void register_processors(port_registry<engine_event>& registry, std::string_view prefix = "/");

    /// The counters of the immediate mailbox's lane `index` (in add_producer order).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats mailbox_stats(std::size_t index) const noexcept COURIER_REALTIME;

    /// How many engine_senders exist.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t producer_count() const noexcept COURIER_REALTIME;

    /// The timed events' counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] timed_events_stats timed_stats() const noexcept COURIER_REALTIME;

    /// The graph swap's counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] swap_and_retire_stats graph_stats() const noexcept COURIER_REALTIME;

    /// The scope loop's counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] in_flight_stats scope_stats() const noexcept COURIER_REALTIME;

    /// COURIER_CHECKS as courier::engine itself was compiled (1: role guards and preconditions on). Every file of
    /// a program must agree with it: the linker keeps one copy of each inline function of courier's headers, so a
    /// file that disagrees runs the library's choice, or the library its. courier's own build makes its compiled
    /// libraries pass their setting on to whatever links them (CMakeLists.txt); tests/mixed_checks checks it.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] static int compiled_checks() noexcept COURIER_REALTIME;

private:
    stream_config shape;
    std::unique_ptr<detail::engine_state> state;  // ✗ dies in ~engine, on the control thread
};

}  // namespace courier::audio
