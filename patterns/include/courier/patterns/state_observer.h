// SPDX-License-Identifier: MIT
// Observe target state: the audio side reports its state back, periodically through a latest-value cell
// (state_observer) or on request through a reply lane (state_query) (docs/patterns/state_observer.md).
#pragma once

#include <courier/cache_line.h>
#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane.h>
#include <courier/role_guard.h>

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <type_traits>
#include <utility>

namespace courier {

template <class T>
class state_publisher;
template <class T>
class state_reader;

/// A latest-value cell from one publishing thread (the audio callback: meters, playhead) to one reading
/// thread (a GUI timer). The publisher overwrites, the reader takes the newest value: neither ever waits for
/// the other, publishing never fails, and a reader that falls behind skips stale values but always gets the
/// newest one. Reads are never torn: the cell is a triple buffer, so the publisher and the reader never touch
/// the same slot at once.
///
/// Each published value carries a sequence number (1 for the first publish, 0 for the initial value), so the
/// reader can tell how many values it skipped. T is trivially copyable: a publish is a plain copy, and nothing
/// is ever freed on the publishing thread. The cell allocates its three slots at setup and must outlive both ends.
template <class T>
class state_observer
{
    static_assert(std::is_trivially_copyable_v<T> && std::is_default_constructible_v<T>,
                  "courier::state_observer: T must be trivially copyable (it is copied on the audio thread) "
                  "and default-constructible");

public:
    /// The ends' types, for a processor that keeps them as members.
    using publisher_type = state_publisher<T>;
    using reader_type = state_reader<T>;

    /// Creates the cell holding `initial` (sequence 0). Allocates the three slots now.
    /// Thread: setup. Real-time: no (allocates).
    explicit state_observer(const T& initial = T{});

    state_observer(const state_observer&) = delete;
    state_observer& operator=(const state_observer&) = delete;

    /// Hands out the publishing end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_publisher<T> publisher();

    /// Hands out the reading end. Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_reader<T> reader();

    /// How many values have been published so far.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t published() const noexcept COURIER_REALTIME
    {
        return published_count.load();
    }

private:
    friend class state_publisher<T>;
    friend class state_reader<T>;

    struct alignas(cache_line_size) slot
    {
        T value;
        std::uint64_t sequence = 0;
    };

    // The shared index word: the slot index (0..2) of the middle slot, plus `fresh` when the publisher put it
    // there and the reader has not taken it yet.
    static constexpr unsigned index_mask = 3u;
    static constexpr unsigned fresh = 4u;

    void publish(const T& value) noexcept COURIER_REALTIME;
    bool update() noexcept COURIER_REALTIME;

    // Written at setup only; each slot is owned by exactly one of publisher, middle, reader at any time.
    std::unique_ptr<slot[]> slots;
    bool publisher_taken = false;
    bool reader_taken = false;

    // Exchanged by both sides: the middle slot, handed over whole.
    alignas(cache_line_size) std::atomic<unsigned> middle{1u};

    // Written by the publishing thread only.
    struct alignas(cache_line_size) publisher_state
    {
        unsigned back = 0;  // the slot the next publish writes
        std::uint64_t sequence = 0;
        role_guard guard{detail::type_label<state_observer>::text, "publisher"};
    } writer;
    counter published_count;  // written by the publishing thread

    // Written by the reading thread only.
    struct alignas(cache_line_size) reader_state
    {
        unsigned front = 2;  // the slot value() reads
        role_guard guard{detail::type_label<state_observer>::text, "reader"};
    } reading;
};

/// The publishing end of a state_observer (the audio side). Move-only.
template <class T>
class state_publisher
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_publisher() noexcept = default;

    /// Makes `value` the newest value. Never fails and never waits: a value the reader has not taken yet is
    /// simply replaced (it was stale).
    /// Thread: audio (the one publishing thread). Real-time: wait-free.
    void publish(const T& value) noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(cell != nullptr);
        cell->publish(value);
    }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { cell->writer.guard.expect_idle(); }

private:
    friend class state_observer<T>;
    explicit state_publisher(state_observer<T>& c) noexcept : cell(&c) {}

    state_observer<T>* cell = nullptr;
};

/// The reading end of a state_observer (the control side). Move-only.
template <class T>
class state_reader
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_reader() noexcept = default;

    /// Takes the newest published value if one has come since the last update, and returns whether it did.
    /// Values published in between and never taken are skipped.
    /// Thread: control (the one reading thread). Real-time: wait-free.
    bool update() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(cell != nullptr);
        return cell->update();
    }

    /// The value taken by the last update() (the initial value before any). The reference stays valid and
    /// unchanged until the next update().
    /// Thread: control (the reading thread). Real-time: wait-free.
    [[nodiscard]] const T& value() const noexcept COURIER_REALTIME { return cell->slots[cell->reading.front].value; }

    /// The sequence number of value(): 0 for the initial value, n for the n-th publish.
    /// Thread: control (the reading thread). Real-time: wait-free.
    [[nodiscard]] std::uint64_t sequence() const noexcept COURIER_REALTIME
    {
        return cell->slots[cell->reading.front].sequence;
    }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME { cell->reading.guard.expect_idle(); }

private:
    friend class state_observer<T>;
    explicit state_reader(state_observer<T>& c) noexcept : cell(&c) {}

    state_observer<T>* cell = nullptr;
};

template <class Request, class Reply>
class state_query_asker;
template <class Request, class Reply>
class state_query_answerer;

/// A reply to one request, carrying the id try_ask returned for it.
template <class Reply>
struct query_reply
{
    std::uint64_t id;
    Reply value;
};

/// A snapshot of a state_query's counters.
struct state_query_stats
{
    lane_stats requests;  ///< control to audio
    lane_stats replies;   ///< audio to control
    std::uint64_t refused = 0;  ///< try_ask calls refused because max_in_flight requests were outstanding
};

/// Observation on request: the control side asks ("what is voice 3 doing?"), and the audio side answers at
/// its next callback through a reply lane, each request exactly once, in order. At most `max_in_flight`
/// requests are outstanding (asked and reply not yet taken); a further try_ask is refused at once and
/// counted, so the reply lane can never be full when the audio side answers.
///
/// Requests are trivially copyable (they die on the audio thread). A reply is made on the audio thread and
/// dies wherever the asker drops it. The object outlives both ends; replies never taken die in its destructor.
template <class Request, class Reply>
class state_query
{
    static_assert(std::is_trivially_copyable_v<Request>,
                  "courier::state_query: requests must be trivially copyable (they die on the audio thread)");

public:
    /// Allows `max_in_flight` outstanding requests; allocates both lanes now. Throws std::invalid_argument for 0.
    /// Thread: setup. Real-time: no (allocates).
    explicit state_query(std::size_t max_in_flight) : requests(max_in_flight), replies(max_in_flight) {}

    state_query(const state_query&) = delete;
    state_query& operator=(const state_query&) = delete;

    /// Hands out the asking end (control). Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_query_asker<Request, Reply> asker()
    {
        return state_query_asker<Request, Reply>(*this, requests.sender(), replies.receiver());
    }

    /// Hands out the answering end (audio). Throws std::logic_error when called a second time.
    /// Thread: setup. Real-time: no (may throw).
    [[nodiscard]] state_query_answerer<Request, Reply> answerer()
    {
        return state_query_answerer<Request, Reply>(requests.receiver(), replies.sender());
    }

    /// The most requests outstanding at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t max_in_flight() const noexcept COURIER_REALTIME { return requests.capacity(); }

    /// A snapshot of the counters.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] state_query_stats stats() const noexcept COURIER_REALTIME
    {
        state_query_stats s;
        s.requests = requests.stats();
        s.replies = replies.stats();
        s.refused = refused.load(std::memory_order_relaxed);  // a counter; no data is read through it
        return s;
    }

private:
    friend class state_query_asker<Request, Reply>;
    friend class state_query_answerer<Request, Reply>;

    struct request_message
    {
        std::uint64_t id;
        Request value;
    };

    // Written at setup only (the lanes' own state belongs to their ends).
    lane<request_message> requests;
    lane<query_reply<Reply>> replies;

    // Written by the asking thread only.
    std::atomic<std::uint64_t> refused{0};
};

/// The asking end of a state_query (control side). Move-only.
template <class Request, class Reply>
class state_query_asker
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_query_asker() noexcept = default;

    /// Sends `request` and returns its id (1, 2, 3, ...), or returns nothing when max_in_flight requests are
    /// already outstanding (counted in `stats().refused`); try again after taking a reply.
    /// Thread: control (the one asking thread). Real-time: wait-free.
    [[nodiscard]] std::optional<std::uint64_t> try_ask(const Request& request) noexcept COURIER_REALTIME;

    /// Takes the oldest reply, or returns nothing when no reply has come yet. Taking a reply frees its slot
    /// for a new request.
    /// Thread: control (the asking thread). Real-time: wait-free.
    [[nodiscard]] std::optional<query_reply<Reply>> try_take_reply() noexcept COURIER_REALTIME
    {
        COURIER_EXPECTS(owner != nullptr);
        auto reply = from_audio.try_receive();
        if (reply)
            --outstanding;
        return reply;
    }

    /// Requests asked whose replies have not been taken yet.
    /// Thread: control (the asking thread). Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return outstanding; }

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        to_audio.reset_thread_role();
        from_audio.reset_thread_role();
    }

private:
    using request_message = typename state_query<Request, Reply>::request_message;
    friend class state_query<Request, Reply>;
    state_query_asker(state_query<Request, Reply>& o, lane_sender<request_message> s,
                      lane_receiver<query_reply<Reply>> r) noexcept
        : owner(&o), to_audio(std::move(s)), from_audio(std::move(r))
    {
    }

    state_query<Request, Reply>* owner = nullptr;
    lane_sender<request_message> to_audio;
    lane_receiver<query_reply<Reply>> from_audio;
    // Written by the asking thread only.
    std::size_t outstanding = 0;
    std::uint64_t last_id = 0;
};

/// The answering end of a state_query (audio side). Move-only.
template <class Request, class Reply>
class state_query_answerer
{
public:
    /// An end connected to nothing; give it a value by moving a real one in.
    state_query_answerer() noexcept = default;

    /// Answers every request waiting (at most max_in_flight), oldest first: calls `answer(const Request&)`,
    /// which returns the Reply, and sends it back with the request's id. Returns how many it answered. Call it
    /// once per callback, where the state it reports is consistent. Each request dies here, on this thread.
    /// Thread: audio. Real-time: wait-free if `answer` and Reply's constructor and move are.
    template <class Answer>
    std::size_t answer_pending(Answer&& answer) noexcept;

    /// Marks a hand-over of this end to a new thread (say the host restarted processing). Not needed: a role may
    /// change threads between calls; checks that no thread is inside the end now.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        from_control.reset_thread_role();
        to_control.reset_thread_role();
    }

private:
    using request_message = typename state_query<Request, Reply>::request_message;
    friend class state_query<Request, Reply>;
    state_query_answerer(lane_receiver<request_message> r, lane_sender<query_reply<Reply>> s) noexcept
        : from_control(std::move(r)), to_control(std::move(s))
    {
    }

    lane_receiver<request_message> from_control;
    lane_sender<query_reply<Reply>> to_control;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class T>
state_observer<T>::state_observer(const T& initial) : slots(std::make_unique<slot[]>(3))
{
    for (std::size_t i = 0; i < 3; ++i)
        slots[i].value = initial;
}

template <class T>
state_publisher<T> state_observer<T>::publisher()
{
    if (publisher_taken)
        throw std::logic_error("courier::state_observer: publisher() called twice");
    publisher_taken = true;
    return state_publisher<T>(*this);
}

template <class T>
state_reader<T> state_observer<T>::reader()
{
    if (reader_taken)
        throw std::logic_error("courier::state_observer: reader() called twice");
    reader_taken = true;
    return state_reader<T>(*this);
}

template <class T>
void state_observer<T>::publish(const T& value) noexcept
{
    const role_guard::scope held(writer.guard);
    slot& back = slots[writer.back];  // ours alone: neither the middle nor the reader's slot
    back.value = value;
    back.sequence = ++writer.sequence;

    // Hands the written slot over as the fresh middle, and takes the old middle as the next back slot.
    // Release: pairs with the acquire half of update()'s exchange, so the reader sees the whole value.
    // Acquire: pairs with the release half of update()'s exchange, so the reader's last reads of the slot we
    // take back happen before we overwrite it.
    const unsigned old_middle = middle.exchange(writer.back | fresh, std::memory_order_acq_rel);
    writer.back = old_middle & index_mask;
    published_count.set(writer.sequence);
}

template <class T>
bool state_observer<T>::update() noexcept
{
    const role_guard::scope held(reading.guard);
    // A hint only: the fresh bit is set by publish and cleared only by us, so if it is clear nothing new has
    // come, and if it is set the exchange below is what synchronises.
    if ((middle.load(std::memory_order_relaxed) & fresh) == 0)
        return false;

    // Hands our old front slot back as the (not fresh) middle and takes the newest slot.
    // Acquire: pairs with the release half of publish's exchange (the value is complete).
    // Release: pairs with the acquire half of publish's exchange (we have finished reading our old slot).
    const unsigned old_middle = middle.exchange(reading.front, std::memory_order_acq_rel);
    reading.front = old_middle & index_mask;
    return true;
}

template <class Request, class Reply>
std::optional<std::uint64_t> state_query_asker<Request, Reply>::try_ask(const Request& request) noexcept
{
    COURIER_EXPECTS(owner != nullptr);
    if (outstanding == owner->max_in_flight())
    {
        // Single writer (this thread): a load and a store, no read-modify-write needed.
        count_up(owner->refused);
        return std::nullopt;
    }
    // Cannot fail: fewer than max_in_flight requests are outstanding, and the request lane holds that many.
    [[maybe_unused]] const bool sent = to_audio.try_send(request_message{last_id + 1, request});
    COURIER_EXPECTS(sent);
    if (!sent)
        return std::nullopt;  // counted by the lane as refused; unreachable while the invariant holds
    ++outstanding;
    return ++last_id;
}

template <class Request, class Reply>
template <class Answer>
std::size_t state_query_answerer<Request, Reply>::answer_pending(Answer&& answer) noexcept
{
    // The request lane never holds more than max_in_flight (= its capacity), so one pass empties it.
    const std::size_t budget = from_control.stats().capacity;
    std::size_t answered = 0;
    // The request leaves the lane (its slot is free) before we reply, as try_receive and drain both do; not
    // drain_in_place, which would free the slot only after the reply, so the asker could take the reply, ask
    // again at once, and find the request lane still full although its credit said there was room.
    while (answered < budget)
    {
        auto request = from_control.try_receive();
        if (!request)
            break;
        // Cannot fail: the asker counts a request as outstanding until it takes the reply, and allows at most
        // max_in_flight (= the reply lane's capacity) of them. A broken invariant is still counted by the
        // reply lane as refused, never silent.
        [[maybe_unused]] const bool sent =
            to_control.try_send(query_reply<Reply>{request->id, answer(std::as_const(request->value))});
        COURIER_EXPECTS(sent);
        ++answered;
    }  // each request dies here, on the audio thread (trivially: it owns nothing)
    return answered;
}

}  // namespace courier
