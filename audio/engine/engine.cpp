// SPDX-License-Identifier: MIT
// The engine's bodies and the patterns it is built from (audio/README.md).
#include <courier/audio/engine.h>

#include <courier/counter.h>
#include <courier/mailbox.h>
#include <courier/patterns/drain_source.h>
#include <courier/patterns/port_registry.h>
#include <courier/patterns/state_observer.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <mutex>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace courier::audio {
namespace {

std::size_t positive(std::size_t n, const char* what)
{
    if (n == 0)
        throw std::invalid_argument(std::string("courier::audio::engine: ") + what + " must be at least 1");
    return n;
}

std::unique_ptr<audio_graph> not_null(std::unique_ptr<audio_graph> graph)
{
    if (graph == nullptr)
        throw std::invalid_argument("courier::audio::engine: the initial graph must not be null");
    return graph;
}

using scope_buffer = std::vector<float>;

}  // namespace

namespace detail {

// Everything the engine shares between threads, allocated in the constructor, in this file only.
struct engine_state
{
    engine_state(std::unique_ptr<audio_graph> initial, const engine_config& c)
        : settings(c), graphs(not_null(std::move(initial)), positive(c.max_graphs_in_flight, "max_graphs_in_flight")),
          immediate(positive(c.max_producers, "max_producers"), positive(c.mailbox_capacity, "mailbox_capacity")),
          immediate_in(immediate.receiver()),
          timed(positive(c.timed_capacity, "timed_capacity"), positive(c.timed_buffer, "timed_buffer")),
          timed_in(timed.receiver()), meters_out(meters.publisher()), meters_in(meters.reader()),
          scope(positive(c.scope_buffers, "scope_buffers"), scope_buffer(positive(c.scope_frames, "scope_frames"), 0.0F))
    {
        positive(c.message_budget, "message_budget");
    }

    void publish_meters(float* const* out, std::size_t channels, std::size_t frames, std::uint64_t end_frame,
                        const audio_graph& graph) noexcept COURIER_REALTIME;
    void feed_scope(const float* channel, std::size_t frames) noexcept COURIER_REALTIME;
    void render(audio_graph& graph, const float* const* in, float* const* out, std::size_t from,
                std::size_t to) const noexcept COURIER_REALTIME;

    const engine_config settings;
    double seconds_per_frame = 1.0 / 48000.0;  // written in prepare() only
    stream_config shape;                       // written in prepare() only

    swap_and_retire<audio_graph> graphs;
    mailbox<engine_event> immediate;
    mailbox_receiver<engine_event> immediate_in;
    // Serialises add_producer, on control threads (the mailbox's add_producer must not overlap itself); the
    // audio thread never takes it.
    std::mutex adding;
    timed_events<engine_event> timed;
    timed_event_receiver<engine_event> timed_in;
    timed_events<engine_event>::sender_type timed_out;
    state_observer<engine_meters> meters;
    state_publisher<engine_meters> meters_out;
    state_reader<engine_meters> meters_in;
    buffer_pool<scope_buffer> scope;
    // Audio thread only: the scope buffer being filled (declared after `scope`, so it goes back first).
    buffer_lease<scope_buffer> scope_fill;
    std::size_t scope_position = 0;
    // Set up by open_processor_ports() before the stream starts; the ports close (✗ with the messages still in
    // them) in ~engine, on the control thread, while their table, which the owner keeps, still exists.
    std::vector<std::string> processor_names;
    std::vector<port<engine_event>> processor_ports;

    // Written by the audio thread only, read by stats() anywhere (relaxed: counters; frame_clock is the frames
    // rendered, max_per_callback a high-water mark).
    counter callbacks, frame_clock, over_budget, immediate_applied, port_applied, timed_applied, host_applied,
        max_per_callback, budget_exhausted;
    static_assert(std::atomic<double>::is_always_lock_free);
    std::atomic<double> max_load{0.0};
    std::atomic<double> load_sum{0.0};
};

void engine_state::publish_meters(float* const* out, std::size_t channels, std::size_t frames,
                                  std::uint64_t end_frame, const audio_graph& graph) noexcept
{
    engine_meters m;
    m.frame = end_frame;
    m.activity = graph.activity();
    for (std::size_t c = 0; c < std::min<std::size_t>(2, channels); ++c)
    {
        float peak = 0.0F;
        double energy = 0.0;
        for (std::size_t i = 0; i < frames; ++i)
        {
            peak = std::max(peak, std::fabs(out[c][i]));
            energy += static_cast<double>(out[c][i]) * static_cast<double>(out[c][i]);
        }
        m.peak[c] = peak;
        m.rms[c] = frames == 0 ? 0.0F : static_cast<float>(std::sqrt(energy / static_cast<double>(frames)));
    }
    meters_out.publish(m);
}

void engine_state::feed_scope(const float* channel, std::size_t frames) noexcept
{
    std::size_t done = 0;
    while (done < frames)
    {
        if (!scope_fill)
        {
            scope_fill = scope.try_acquire();  // empty when the reader holds them all: counted in `starved`
            scope_position = 0;
            if (!scope_fill)
                return;  // the rest of this block is not scoped; the next block tries again
        }
        scope_buffer& buffer = *scope_fill.get();
        const std::size_t n = std::min(frames - done, buffer.size() - scope_position);
        std::copy_n(channel + done, n, buffer.begin() + static_cast<std::ptrdiff_t>(scope_position));
        scope_position += n;
        done += n;
        if (scope_position == buffer.size())
            scope.send(std::move(scope_fill));  // cannot fail: the loop's lanes hold every buffer
    }
}

void engine_state::render(audio_graph& graph, const float* const* in, float* const* out, std::size_t from,
                          std::size_t to) const noexcept
{
    if (out == nullptr)
        return;
    const std::size_t in_channels = in == nullptr ? 0 : shape.input_channels;
    // The graph was prepared for blocks of at most block_size frames: longer host blocks go in pieces.
    for (std::size_t at = from; at < to;)
    {
        const std::size_t n = std::min(to - at, shape.block_size);
        graph.render_with_input(in, in_channels, out, shape.output_channels, at, n);
        at += n;
    }
}

}  // namespace detail

bool engine_timed_sender::try_send(std::uint64_t frame, const engine_event& event) noexcept
{
    COURIER_EXPECTS(state != nullptr);
    return state->timed_out.try_send({frame, event});
}

void engine_timed_sender::reset_thread_role() noexcept
{
    COURIER_EXPECTS(state != nullptr);
    state->timed_out.reset_thread_role();
}

engine::engine(std::unique_ptr<audio_graph> initial, const engine_config& config)
    : state(std::make_unique<detail::engine_state>(std::move(initial), config))
{
}

engine::~engine() = default;  // ✗ the scope lease, the graphs, queued messages and buffers die here

void engine::prepare(const stream_config& actual)
{
    if (!(actual.sample_rate > 0.0) || actual.block_size == 0)
        throw std::invalid_argument("courier::audio::engine: prepare() needs a sample rate above 0 and a block size of "
                                    "at least 1");
    shape = actual;
    state->shape = actual;
    state->seconds_per_frame = 1.0 / actual.sample_rate;
    state->graphs.current().prepare(actual.sample_rate, actual.block_size);
    // A new stream may call process() from a new thread.
    state->graphs.reset_thread_roles();
    state->immediate_in.reset_thread_role();
    state->timed_in.reset_thread_role();
    state->meters_out.reset_thread_role();
    for (port<engine_event>& p : state->processor_ports)
        p.reset_thread_role();
    state->scope.reset_thread_roles();
}

engine_sender engine::add_producer()
{
    // The lock orders the mailbox's add_producer calls; the mailbox publishes each new lane to the audio side
    // itself (its release store of the producer count pairs with the receiver's acquire load).
    const std::lock_guard<std::mutex> lock(state->adding);
    return engine_sender(state->immediate.add_producer());  // throws std::length_error past max_producers
}

engine_timed_sender engine::timed_sender()
{
    state->timed_out = state->timed.sender();  // throws std::logic_error the second time
    return engine_timed_sender(*state);
}

bool engine::try_publish_graph(std::unique_ptr<audio_graph>& fresh)
{
    COURIER_EXPECTS(fresh != nullptr);
    if (!state->processor_names.empty())
    {
        const std::span<const std::string_view> names = fresh->processors();
        if (!std::equal(names.begin(), names.end(), state->processor_names.begin(), state->processor_names.end()))
            throw std::invalid_argument("courier::audio::engine: a new graph must list the same processors as the "
                                        "one the ports were opened for");
    }
    fresh->prepare(shape.sample_rate, shape.block_size);
    return state->graphs.try_publish(std::move(fresh));
}

std::size_t engine::collect_graphs() noexcept
{
    return state->graphs.collect();  // ✗ replaced graphs die here, on the control thread
}

void engine::process(const float* const* in, float* const* out, std::size_t frames) noexcept
{
    process_block(in, out, frames, {});
}

void engine::process_block(const float* const* in, float* const* out, std::size_t frames,
                           std::span<const block_event> events) noexcept
{
    detail::engine_state& s = *state;
    const auto started = std::chrono::steady_clock::now();

    // 1. The newest graph, in O(1); the new one takes over what must carry on from the old one, which then
    //    travels back to collect_graphs().
    audio_graph& graph =
        s.graphs.acquire([](audio_graph& fresh, audio_graph& old) noexcept { fresh.adopt(old); });

    // 2. Immediate messages: the mailbox and the processors' ports share one budget, neither starving the
    //    other (audio_poll); all in effect from frame 0.
    std::size_t now_applied = 0;
    std::size_t port_count = 0;
    const auto from_mailbox = [&](std::size_t max) noexcept {
        const std::size_t n = s.immediate_in.drain([&graph](engine_event&& e) noexcept { graph.apply(e); }, max);
        now_applied += n;
        return n;
    };
    const auto from_ports = [&](std::size_t max) noexcept {
        std::size_t n = 0;  // fewer than `max` only when every port came up empty, as audio_poll requires
        for (std::size_t i = 0; i < s.processor_ports.size() && n < max; ++i)
            n += s.processor_ports[i].drain([&graph, i](engine_event&& e) noexcept { graph.apply_to(i, e); }, max - n);
        port_count += n;
        return n;
    };
    if (audio_poll(s.settings.message_budget, from_mailbox, from_ports) == s.settings.message_budget)
        s.budget_exhausted.add(1);

    // 3. Timed events and the host's block events, each at its frame: render sub-blocks cut at their times.
    const std::uint64_t block_start = s.frame_clock.load();
    const auto block = s.timed_in.begin_block(block_start, static_cast<std::uint32_t>(frames));
    std::size_t position = 0;  // frames rendered so far
    std::size_t next_host = 0;
    // Renders up to `until`, cut at the host events before it, each applied at its frame.
    const auto render_until = [&](std::size_t until) noexcept {
        for (; next_host < events.size() && events[next_host].frame < until; ++next_host)
        {
            const std::size_t at = std::max<std::size_t>(position, events[next_host].frame);
            s.render(graph, in, out, position, at);
            position = at;
            graph.apply(events[next_host].event);
        }
        s.render(graph, in, out, position, until);
        position = until;
    };
    std::size_t timed_count = 0;
    for (const timed_block<engine_event>::sub_block& part : block)
    {
        render_until(std::max<std::size_t>(position, part.offset));
        for (const timed_event<engine_event>& e : part.events)
            graph.apply(e.event);
        timed_count += part.events.size();
    }
    render_until(frames);
    for (; next_host < events.size(); ++next_host)  // at or after `frames`: in effect from the next block
        graph.apply(events[next_host].event);

    // 4. Meters and scope.
    if (out != nullptr && shape.output_channels > 0)
    {
        s.publish_meters(out, shape.output_channels, frames, block_start + frames, graph);
        s.feed_scope(out[0], frames);
    }

    // 5. Statistics (single writer: loads and stores, relaxed; they are counters).
    s.immediate_applied.add(now_applied);
    s.port_applied.add(port_count);
    s.timed_applied.add(timed_count);
    s.host_applied.add(events.size());
    const std::uint64_t applied = now_applied + port_count + timed_count + events.size();
    s.max_per_callback.raise_to(applied);
    s.frame_clock.set(block_start + frames);

    const std::chrono::duration<double> took = std::chrono::steady_clock::now() - started;
    const double period = static_cast<double>(std::max<std::size_t>(frames, 1)) * s.seconds_per_frame;
    const double load = took.count() / period;
    s.load_sum.store(s.load_sum.load(std::memory_order_relaxed) + load, std::memory_order_relaxed);
    if (load > s.max_load.load(std::memory_order_relaxed))
        s.max_load.store(load, std::memory_order_relaxed);
    if (load > s.settings.over_budget_load)
        s.over_budget.add(1);
    s.callbacks.add(1);
}

bool engine::try_read_meters(engine_meters& into) noexcept
{
    if (!state->meters_in.poll())
        return false;
    into = state->meters_in.value();
    return true;
}

std::uint64_t engine::meters_published() const noexcept
{
    return state->meters.published();
}

std::size_t engine::try_read_scope(std::span<float> into) noexcept
{
    buffer_lease<scope_buffer> full = state->scope.try_receive();
    if (!full)
        return 0;
    const std::size_t n = std::min(into.size(), full.get()->size());
    std::copy_n(full.get()->begin(), n, into.begin());
    return n;
}  // `full` drops here: the buffer goes back through the return lane

void engine::open_processor_ports(port_table& table)
{
    if (!state->processor_ports.empty())
        throw std::logic_error("courier::audio::engine: open_processor_ports() called twice");
    std::vector<std::string> names;
    std::vector<port<engine_event>> ports;
    for (const std::string_view name : state->graphs.current().processors())
    {
        names.emplace_back(name);
        ports.emplace_back(table, state->settings.port_lanes, positive(state->settings.port_capacity, "port_capacity"));
    }
    state->processor_names = std::move(names);
    state->processor_ports = std::move(ports);
}

const std::vector<std::string>& engine::processor_names() const noexcept
{
    return state->processor_names;
}

port<engine_event>& engine::processor_port(std::string_view name)
{
    const auto& names = state->processor_names;
    const auto at = std::find(names.begin(), names.end(), name);
    if (at == names.end())
        throw std::out_of_range("courier::audio::engine: no processor port called '" + std::string(name) + "'");
    return state->processor_ports[static_cast<std::size_t>(at - names.begin())];
}

void engine::register_processors(port_registry<engine_event>& registry, std::string_view prefix)
{
    for (std::size_t i = 0; i < state->processor_names.size(); ++i)
        registry.add(std::string(prefix) + state->processor_names[i], state->processor_ports[i]);
}

const engine_config& engine::settings() const noexcept
{
    return state->settings;
}

lane_stats engine::mailbox_stats(std::size_t index) const noexcept
{
    return state->immediate.stats(index);
}

std::size_t engine::producer_count() const noexcept
{
    return state->immediate.producer_count();
}

timed_events_stats engine::timed_stats() const noexcept
{
    return state->timed.stats();
}

swap_and_retire_stats engine::graph_stats() const noexcept
{
    return state->graphs.stats();
}

in_flight_stats engine::scope_stats() const noexcept
{
    return state->scope.stats();
}

engine_stats engine::stats() const noexcept
{
    const detail::engine_state& s = *state;
    engine_stats r;
    // Counters written by the audio thread: relaxed loads, nothing is read through them.
    r.callbacks = s.callbacks.load();
    r.frames = s.frame_clock.load();
    r.max_load = s.max_load.load(std::memory_order_relaxed);
    r.mean_load =
        r.callbacks == 0 ? 0.0 : s.load_sum.load(std::memory_order_relaxed) / static_cast<double>(r.callbacks);
    r.over_budget = s.over_budget.load();
    r.immediate_applied = s.immediate_applied.load();
    r.port_applied = s.port_applied.load();
    r.timed_applied = s.timed_applied.load();
    r.host_events_applied = s.host_applied.load();
    r.max_messages_per_callback = s.max_per_callback.load();
    r.mean_messages_per_callback =
        r.callbacks == 0 ? 0.0
                         : static_cast<double>(r.immediate_applied + r.port_applied + r.timed_applied + r.host_events_applied) /
                               static_cast<double>(r.callbacks);
    r.budget_exhausted = s.budget_exhausted.load();
    const timed_events_stats t = s.timed.stats();
    r.late_events = t.late;
    const swap_and_retire_stats g = s.graphs.stats();
    r.graphs_adopted = g.publications.received;
    r.sends_refused = t.lane.refused + g.returns.refused;
    for (std::size_t i = 0; i < s.immediate.producer_count(); ++i)
        r.sends_refused += s.immediate.stats(i).refused;
    for (const port<engine_event>& p : s.processor_ports)
        for (std::size_t lane = 0; lane < p.lane_count(); ++lane)
            r.sends_refused += p.stats(lane).refused;
    r.scope_sent = s.scope.sent();
    r.scope_starved = s.scope.stats().refused;
    return r;
}

int engine::compiled_checks() noexcept COURIER_REALTIME { return COURIER_CHECKS; }

}  // namespace courier::audio
