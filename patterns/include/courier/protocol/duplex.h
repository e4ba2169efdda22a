// SPDX-License-Identifier: MIT
// The two-way link every protocol in <courier/protocol/> runs on: one port per party, messages from the sender's pool,
// failures as values (docs/patterns/protocol_send.md describes the transport).
#pragma once

#include <courier/contracts.h>
#include <courier/counter.h>
#include <courier/object_pool.h>
#include <courier/patterns/channel.h>
#include <courier/patterns/port.h>
#include <courier/patterns/port_table.h>
#include <courier/protocol/envelope.h>
#include <courier/protocol/send_stats.h>
#include <courier/send_status.h>

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>
#include <utility>
#include <vector>

namespace courier::protocol {

template <class AtoB, class BtoA, class Kind>
class duplex;

/// One party's end of a duplex: its outgoing pool (credits), its inbox, and its channel into the peer's inbox.
/// Used by one thread, the party's own; reached through duplex::a() or duplex::b().
template <class Out, class In, class Kind>
class party
{
public:
    using out_envelope = envelope<Out, Kind, In>;
    using in_envelope = envelope<In, Kind, Out>;
    /// A channel an answer is sent through: the `reply_to` of a message this party received.
    using answer_channel = channel<out_envelope>;

    party(const party&) = delete;
    party& operator=(const party&) = delete;

    /// Makes a body from `args` in this party's pool and sends it with `id` and `kind`. On any refusal the
    /// body dies here at once, on its source thread, and the refusal is counted and returned.
    /// Thread: this party. Real-time: wait-free if Out's constructor and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_post(std::uint64_t id, Kind kind, Args&&... args) noexcept;

    /// Sends a marker (no body) with `id` and `kind`; refusals are counted and returned.
    /// Thread: this party. Real-time: wait-free.
    [[nodiscard]] send_status try_signal(std::uint64_t id, Kind kind) noexcept COURIER_REALTIME
    {
        return deliver(peer, out_envelope{id, kind, {}, {}});
    }

    /// As try_post, but sends through `to`, the `reply_to` a received message carried (an answer goes where
    /// its request said). `gone` when that party's inbox has closed.
    /// Thread: this party (the lane `to` names is reserved for it). Real-time: wait-free if Out's constructor
    /// and destructor are.
    template <class... Args>
    [[nodiscard]] send_status try_post_to(const answer_channel& to, std::uint64_t id, Kind kind,
                                      Args&&... args) noexcept;

    /// As try_signal, but sends through `to`, the `reply_to` a received message carried.
    /// Thread: this party. Real-time: wait-free.
    [[nodiscard]] send_status try_signal_to(const answer_channel& to, std::uint64_t id, Kind kind) noexcept
        COURIER_REALTIME
    {
        return deliver(to, out_envelope{id, kind, {}, {}});
    }

    /// Counts a refusal the protocol decided on before sending (say every request's room is taken:
    /// `no_credit`) and returns `why`, so that stats() counts every refusal, not only the transport's.
    /// Thread: this party. Real-time: wait-free.
    send_status refuse(send_status why) noexcept COURIER_REALTIME
    {
        switch (why)
        {
            case send_status::full: full.add(); break;
            case send_status::no_credit: no_credit.add(); break;
            case send_status::gone: gone.add(); break;
            case send_status::sent:
            case send_status::closed:  // the protocol's state, not a refusal for room: not counted
            case send_status::too_large: break;
        }
        return why;
    }

    /// Calls `handle(in_envelope&&)` for up to `budget` messages from the peer, in the order sent, and returns
    /// how many. Each body goes back to the peer's pool when its envelope dies (after the call), from here.
    /// Thread: this party. Real-time: wait-free if `handle` is.
    template <class Handler>
    std::size_t drain(Handler&& handle, std::size_t budget) noexcept
    {
        return inbox->drain(std::forward<Handler>(handle), budget);
    }

    /// Destroys the bodies that came back from the peer, on this (their source) thread; returns how many.
    /// Thread: this party. Real-time: wait-free if Out's destructor is.
    std::size_t collect() noexcept { return pool->collect(); }

    /// Bodies of this party's pool that are out (sent and not yet back and collected).
    /// Thread: this party. Real-time: wait-free.
    [[nodiscard]] std::size_t in_flight() const noexcept COURIER_REALTIME { return pool->in_use(); }

    /// This party's credits: how many bodies may be out at once.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] std::size_t credits() const noexcept COURIER_REALTIME { return pool->capacity(); }

    /// True while the peer's inbox is open (the peer has not gone).
    /// Thread: this party. Real-time: wait-free.
    [[nodiscard]] bool peer_open() const noexcept COURIER_REALTIME { return peer.is_open(); }

    /// True while this party's inbox is open.
    /// Thread: any. Real-time: wait-free.
    [[nodiscard]] bool is_open() const noexcept COURIER_REALTIME { return inbox->is_open(); }

    /// Closes this party's inbox: the peer's later sends answer gone. Messages still queued die here,
    /// on the calling thread (their bodies go home to the peer's pool); returns how many. The party's thread
    /// must have stopped using the party (for an audio-side party: the audio thread no longer calls it).
    /// Thread: control. Real-time: no (waits for a sender inside a send, frees).
    std::size_t close() noexcept { return inbox->close(); }

    /// Lets a new thread take over this party (say the audio device restarted its callback on a new thread):
    /// forgets its pool's source thread (object_pool::reset_thread_roles), so a thread that later gets the old
    /// thread's id, or the old thread in another role, cannot pass for the source and destroy a body in place
    /// while the new thread uses the pool; and hands over its inbox's draining. The party's old thread must have
    /// stopped using it.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_role() noexcept COURIER_REALTIME
    {
        pool->reset_thread_roles();
        inbox->reset_thread_role();
    }

    /// A snapshot of this party's send counters.
    /// Thread: any (a snapshot). Real-time: wait-free.
    [[nodiscard]] send_stats stats() const noexcept COURIER_REALTIME
    {
        return {sent.load(), full.load(), no_credit.load(), gone.load()};
    }

private:
    template <class A, class B, class K>
    friend class duplex;
    party(object_pool<Out>& p, port<in_envelope>& in) noexcept : pool(&p), inbox(&in) {}

    template <class... Args>
    send_status make_and_deliver(const answer_channel& to, std::uint64_t id, Kind kind, Args&&... args) noexcept;
    send_status deliver(const answer_channel& to, out_envelope&& message) noexcept COURIER_REALTIME;

    object_pool<Out>* pool;
    port<in_envelope>* inbox;
    channel<out_envelope> peer;        // set at setup by duplex: the lane into the peer's inbox reserved for us
    channel<in_envelope> return_lane;  // set at setup by duplex: the lane into our inbox reserved for the peer

    // Written by this party's thread only.
    counter sent;
    counter full;
    counter no_credit;
    counter gone;
};

/// The two parties of a protocol, A and B, wired at setup: each has a pool for what it sends (its credits) and
/// an inbox port with room for every body the peer can have out plus `markers` bodiless messages. Either party
/// may be the audio thread. Destroy it (setup) after both parties' threads have stopped: it closes both inboxes
/// and then the pools, so every body dies on the destroying thread at the latest, exactly once.
template <class AtoB, class BtoA, class Kind>
class duplex
{
public:
    /// Opens two ports in `table` (which must have two free slots and outlive this). Throws as object_pool and
    /// port do, and std::invalid_argument when `markers` is above 2^32 - 1.
    /// Thread: setup. Real-time: no (allocates).
    /// `b_queue`, when not 0, makes B's inbox that small instead (so A's sends can find it full).
    duplex(port_table& table, std::size_t credits_a, std::size_t credits_b, std::size_t markers,
           std::size_t b_queue = 0)
        : pool_a(credits_a), pool_b(credits_b), inbox_a(table, 1, inbox_room(credits_b, markers)),
          inbox_b(table, 1, b_queue != 0 ? b_queue : inbox_room(credits_a, markers)), side_a(pool_a, inbox_a),
          side_b(pool_b, inbox_b)
    {
        side_a.peer = inbox_b.connect();
        side_b.peer = inbox_a.connect();
        // What each party puts in its messages' reply_to: its own inbox, through the lane the peer sends on.
        side_a.return_lane = side_b.peer;
        side_b.return_lane = side_a.peer;
    }

    duplex(const duplex&) = delete;
    duplex& operator=(const duplex&) = delete;

    /// Closes both inboxes, then destroys the pools with everything that came back.
    /// Thread: setup (both parties stopped). Real-time: no (frees).
    ~duplex()
    {
        // This thread takes over every role: the parties' threads have stopped.
        pool_a.reset_thread_roles();
        pool_b.reset_thread_roles();
        (void)inbox_a.close();  // ✗ queued messages die here; their bodies go home to pool_b
        (void)inbox_b.close();
        (void)pool_a.collect();
        (void)pool_b.collect();
    }  // ✗ the pools, and every body that came back, die here (~object_pool)

    /// Lets the destroying thread take over both pools' thread roles (see object_pool::reset_thread_roles);
    /// the parties' threads must have stopped.
    /// Thread: setup. Real-time: wait-free.
    void reset_thread_roles() noexcept COURIER_REALTIME
    {
        pool_a.reset_thread_roles();
        pool_b.reset_thread_roles();
    }

    /// Party A's end.
    /// Thread: setup (hand it to A's thread). Real-time: wait-free.
    [[nodiscard]] party<AtoB, BtoA, Kind>& a() noexcept COURIER_REALTIME { return side_a; }

    /// Party B's end.
    /// Thread: setup (hand it to B's thread). Real-time: wait-free.
    [[nodiscard]] party<BtoA, AtoB, Kind>& b() noexcept COURIER_REALTIME { return side_b; }

private:
    // An inbox's room: every body the peer can have out, the markers and one more. The pools have refused
    // credits above 2^32 - 1 by now (they are made first), so only `markers` can make the sum wrap.
    static std::size_t inbox_room(std::size_t peer_credits, std::size_t markers)
    {
        if (markers > UINT32_MAX)
            throw std::invalid_argument("courier::protocol::duplex: markers must be at most 2^32 - 1");
        return peer_credits + markers + 1;
    }

    object_pool<AtoB> pool_a;  // A is its source
    object_pool<BtoA> pool_b;  // B is its source
    port<envelope<BtoA, Kind, AtoB>> inbox_a;  // drained by A
    port<envelope<AtoB, Kind, BtoA>> inbox_b;  // drained by B
    party<AtoB, BtoA, Kind> side_a;
    party<BtoA, AtoB, Kind> side_b;
};

namespace detail {

// A fixed-capacity table of live correlation ids with a value each, reserved at setup: insert, find and erase
// never allocate. Used by one thread.
template <class Value>
class id_table
{
public:
    explicit id_table(std::size_t capacity) : limit(capacity) { entries.reserve(capacity); }

    bool insert(std::uint64_t id, Value&& value) noexcept
    {
        if (entries.size() == limit)
            return false;
        entries.push_back(entry{id, std::move(value)});  // within the reserved capacity: never allocates
        return true;
    }
    Value* find(std::uint64_t id) noexcept
    {
        for (auto& e : entries)
            if (e.id == id)
                return &e.value;
        return nullptr;
    }
    // Removes `id`'s entry and hands its value to `take(Value&&)`; false when absent.
    template <class Take>
    bool erase(std::uint64_t id, Take&& take) noexcept
    {
        for (std::size_t i = 0; i < entries.size(); ++i)
            if (entries[i].id == id)
            {
                Value value = std::move(entries[i].value);
                if (i + 1 != entries.size())
                    entries[i] = std::move(entries.back());
                entries.pop_back();  // never frees: the capacity stays
                take(std::move(value));
                return true;
            }
        return false;
    }
    bool erase(std::uint64_t id) noexcept
    {
        return erase(id, [](Value&&) noexcept {});
    }
    void clear() noexcept { entries.clear(); }  // never frees: the capacity stays
    std::uint64_t front_id() const noexcept { return entries.front().id; }
    std::size_t size() const noexcept { return entries.size(); }
    bool empty() const noexcept { return entries.empty(); }
    bool full() const noexcept { return entries.size() == limit; }
    std::size_t capacity() const noexcept { return limit; }

private:
    struct entry
    {
        std::uint64_t id;
        Value value;
    };
    std::size_t limit;
    std::vector<entry> entries;
};

}  // namespace detail

// ---------------------------------------------------------------------------------------------------------
// Implementation

template <class Out, class In, class Kind>
template <class... Args>
send_status party<Out, In, Kind>::try_post(std::uint64_t id, Kind kind, Args&&... args) noexcept
{
    return make_and_deliver(peer, id, kind, std::forward<Args>(args)...);
}

template <class Out, class In, class Kind>
template <class... Args>
send_status party<Out, In, Kind>::try_post_to(const answer_channel& to, std::uint64_t id, Kind kind,
                                             Args&&... args) noexcept
{
    return make_and_deliver(to, id, kind, std::forward<Args>(args)...);
}

template <class Out, class In, class Kind>
template <class... Args>
send_status party<Out, In, Kind>::make_and_deliver(const answer_channel& to, std::uint64_t id, Kind kind,
                                                  Args&&... args) noexcept
{
    if (!to.is_open())
    {
        gone.add();
        return send_status::gone;
    }
    auto body = pool->try_make(std::forward<Args>(args)...);  // collects returned bodies first when full
    if (!body)
    {
        no_credit.add();
        return send_status::no_credit;
    }
    // Refused: ✗ the body dies in here, on its source.
    return deliver(to, out_envelope{id, kind, std::move(body), {}});
}

template <class Out, class In, class Kind>
send_status party<Out, In, Kind>::deliver(const answer_channel& to, out_envelope&& message) noexcept
{
    message.reply_to = return_lane;
    switch (to.try_send(std::move(message)))
    {
        case send_status::sent: sent.add(); return send_status::sent;
        case send_status::full: full.add(); return send_status::full;
        default: break;  // gone: the only other answer a channel gives
    }
    gone.add();
    return send_status::gone;
}

}  // namespace courier::protocol
