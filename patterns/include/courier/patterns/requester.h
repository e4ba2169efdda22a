// SPDX-License-Identifier: MIT
// Request/reply over ports: a request carries a correlation id and the channel its reply must go to
// (docs/patterns/ports.md).
#pragma once

#include <courier/counter.h>
#include <courier/contracts.h>
#include <courier/lane_stats.h>
#include <courier/ticket.h>
#include <courier/patterns/channel.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_table.h>

#include <cstddef>
#include <cstdint>
#include <type_traits>
#include <utility>

namespace courier {

/// A reply: the id of the request it answers, and the answer.
template <class Answer>
struct port_reply
{
    std::uint64_t id = 0;
    Answer body;
};

/// A request: its id, the channel the reply must be sent to, and the question. The reply channel is a lane of
/// the requester's port reserved for the thread that owns the port the request goes to (see requester).
template <class Question, class Answer>
struct port_request
{
    std::uint64_t id = 0;
    channel<port_reply<Answer>> reply_to;
    Question body;
};

/// Answers `request` through the reply channel it carries, moving `answer` in. Returns the send's result:
/// `gone` when the requester's port has closed, `full` when its reply lane is full (the answer is then
/// untouched: keep it and try again).
/// Thread: the thread that owns the port the request came through (the one the reply lane was reserved for).
/// Real-time: wait-free.
template <class Question, class Answer>
[[nodiscard]] send_status try_reply(const port_request<Question, Answer>& request, Answer&& answer) noexcept
    COURIER_REALTIME;

/// The requesting side of request/reply: a port for the replies, ids for the requests, and a count of the
/// requests still waiting for a reply. Used by one thread (the *requester thread*), which sends requests and
/// drains the replies.
///
/// **The reply lane rule (the classic mistake).** A reply channel is one producer lane of this requester's
/// port, and only one thread may send through a lane. So at setup, reserve one reply channel per thread that
/// will *answer* (reply_channel()), and put the channel of the thread that owns the target port into each
/// request sent there. Two responder threads sharing one reply channel corrupt the lane (the role guard reports
/// two senders inside the lane at once).
///
/// A request dies unanswered if its target port closes while the request is queued: it is destroyed on the
/// closing thread, with its reply channel. outstanding() still counts it; the requester sees that the target is
/// gone with `channel::is_open()` (the request/reply and subscription protocols build their
/// terminal results on that).
template <class Question, class Answer>
class requester
{
    static_assert(std::is_nothrow_move_constructible_v<Question> && std::is_nothrow_move_assignable_v<Question>,
                  "courier::requester: Question must be nothrow-movable (it moves on the real-time path)");
    static_assert(std::is_nothrow_move_constructible_v<Answer> && std::is_nothrow_move_assignable_v<Answer>,
                  "courier::requester: Answer must be nothrow-movable (it moves on the real-time path)");

public:
    using request_type = port_request<Question, Answer>;
    using reply_type = port_reply<Answer>;

    /// Opens the reply port in `table`, with room for `responder_threads` reply lanes of `lane_capacity` replies.
    /// Throws as port's constructor does.
    /// Thread: control. Real-time: no (allocates).
    requester(port_table& table, std::size_t responder_threads, std::size_t lane_capacity)
        : replies(table, responder_threads, lane_capacity)
    {
    }

    /// Reserves a reply lane for one responder thread and returns its channel; put it into every request sent to
    /// a port that thread owns. Throws std::length_error when every reply lane is reserved.
    /// Thread: control (setup). Real-time: no (may throw).
    [[nodiscard]] channel<reply_type> reply_channel() { return replies.connect(); }

    /// Sends `question` to the port behind `to`, with a fresh id and `reply_via` as its reply channel. On
    /// `full` or `gone`, `question` is untouched and no id is used up.
    /// Thread: the requester thread (which owns the lane behind `to`). Real-time: wait-free.
    [[nodiscard]] ticket<> try_request(const channel<request_type>& to, const channel<reply_type>& reply_via,
                                             Question&& question) noexcept COURIER_REALTIME;

    /// Calls `handle(std::uint64_t id, Answer&&)` for up to `budget` replies, round-robin over the responder
    /// lanes, and returns how many it handled. Each reply dies right after its call, on this thread.
    /// Thread: the requester thread. Real-time: wait-free if `handle` and Answer's destructor are.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t budget) noexcept;

    /// Requests sent and not yet answered (a reply drained).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::uint64_t outstanding() const noexcept COURIER_REALTIME
    {
        return sent.load() - answered.load();
    }

    /// The reply port's address.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] port_address address() const noexcept COURIER_REALTIME { return replies.address(); }

    /// The counters of reply lane `lane` (`refused` counts replies that found it full).
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] lane_stats stats(std::size_t lane) const noexcept COURIER_REALTIME { return replies.stats(lane); }

private:

    port<reply_type> replies;  // drained by the requester thread; closed when this dies (control)

    // Written by the requester thread only.
    std::uint64_t next_id = 1;
    counter sent;
    counter answered;
};

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Question, class Answer>
send_status try_reply(const port_request<Question, Answer>& request, Answer&& answer) noexcept
{
    static_assert(std::is_nothrow_move_constructible_v<Answer> && std::is_nothrow_move_assignable_v<Answer>,
                  "courier::try_reply: Answer must be nothrow-movable");
    // Build the reply around a moved answer; on refusal, give the answer back so the caller still holds it.
    port_reply<Answer> reply{request.id, std::move(answer)};
    const send_status result = request.reply_to.try_send(std::move(reply));
    if (result != send_status::sent)
        answer = std::move(reply.body);  // untouched, as far as the caller can tell
    return result;
}

template <class Question, class Answer>
ticket<> requester<Question, Answer>::try_request(const channel<request_type>& to,
                                                        const channel<reply_type>& reply_via,
                                                        Question&& question) noexcept
{
    COURIER_EXPECTS(reply_via.address() == replies.address());  // a reply channel of this requester's port
    request_type request{next_id, reply_via, std::move(question)};
    const send_status result = to.try_send(std::move(request));
    if (result != send_status::sent)
    {
        question = std::move(request.body);  // untouched, as far as the caller can tell
        return {result, 0};
    }
    sent.add();
    return {result, next_id++};
}

template <class Question, class Answer>
template <class Handler>
std::size_t requester<Question, Answer>::drain(Handler&& handle, std::size_t budget) noexcept
{
    return replies.drain(
        [&](reply_type&& reply) {
            answered.add();
            handle(reply.id, std::move(reply.body));
        },
        budget);
}

}  // namespace courier
