/* SPDX-License-Identifier: MIT
 * spin model of courier::protocol::request_reply (<courier/protocol/request_reply.h>): the cancel-versus-
 * result race, with progress replies before the terminal. How the model maps to the header:
 * docs/patterns/protocol_request_reply.md (Guarantees, "Model").
 *
 * Processes: requester (reply_client, party A), worker (reply_server, party B), and init as the setup
 * thread that destroys the request_reply after both have stopped. Lanes: inbox_a and inbox_b, bounded
 * exactly as duplex sizes them; pool_a (requests, `credits` slots) and pool_b (results, `credits + 1 +
 * progress_credits`), each with its return lane. The worker sends any number of progress replies for a held
 * request (try_progress, with its reserve check). The requester asks any number of times, cancels any request at any time, and stops
 * asking when it likes; either party may close (go away) at any point, as close() allows. The header never
 * reuses an id (next_id counts up); the model, to stay finite, gives each new request the lowest id of which
 * no trace is left (not waiting, not pending, in no lane that is still read), which no party can tell apart
 * from a fresh one; it asserts that such an id always exists.
 *
 * Checked in every reachable state, for every interleaving:
 *  - exactly one terminal (result, cancelled or server_gone) per request: drain() asserts that a terminal
 *    settles a request still waiting (so never twice), and that a progress reply arrives only for a request
 *    still waiting (so never after its terminal); a request never settled leaves both parties stuck,
 *    which spin reports as an invalid end state; teardown asserts that every request had one;
 *  - every body returned to its pool exactly once (duplex.pml's assertions, and all slots free at the end);
 *  - in flight never above the credits: outstanding and pending requests and bodies out stay within the
 *    credits (monitor), and every send the header says has room reserved (cancel, cancelled, result) finds
 *    room, however many progress replies are out.
 * -DPROGRESS_UNRESERVED is a deliberately broken server: try_progress takes any free body, leaving no room
 * reserved for the final replies; spin must catch a final reply that finds no body.
 */

#ifndef CREDITS
#define CREDITS 2  /* request_reply(table, credits) */
#endif
#ifndef IDS
#define IDS 5      /* correlation ids 1..IDS: more than can be alive at once (asserted) */
#endif

#ifndef PROGRESS
#define PROGRESS 0 /* request_reply(table, credits, progress_credits) */
#endif

/* request_reply's constructor: duplex(table, credits, credits + 1 + progress_credits, 2 * credits) */
#define CREDITS_A CREDITS
#define CREDITS_B (CREDITS + 1 + PROGRESS)
#ifndef MARKERS
#define MARKERS (2 * CREDITS)  /* -DMARKERS=... tries a smaller reserve */
#endif
/* -DREQUESTS=n stops after n requests: for 2 credits, every sequence of requests is too many states. */
#define INBOX_A (CREDITS_B + MARKERS + 1)  /* duplex: inbox_a(table, 1, credits_b + markers + 1) */
#define INBOX_B (CREDITS_A + MARKERS + 1)  /* duplex: inbox_b(table, 1, credits_a + markers + 1) */

#define MAX_SLOTS CREDITS_B
#include "duplex.pml"

mtype = { request, cancel, progress, result, cancelled };  /* detail::reply_kind (result is reply) */

/* envelope: kind, id, body (slot or NONE), reply_to */
chan inbox_a = [INBOX_A] of { mtype, byte, byte, chan };  /* drained by the requester */
chan inbox_b = [INBOX_B] of { mtype, byte, byte, chan };  /* drained by the worker */
bool inbox_a_open = true;
bool inbox_b_open = true;

pool pool_a;  /* requests (credits_a slots); the requester is the source */
chan returns_a = [CREDITS_A] of { byte };
pool pool_b;  /* results (credits_b slots); the worker is the source */
chan returns_b = [CREDITS_B] of { byte };

/* reply_client: waiting is its id_table<bool> (value: a cancel was sent) */
bool waiting[IDS + 1];
bool cancel_sent[IDS + 1];
byte waiting_size = 0;
byte cancellable = 0;  /* waiting ids whose cancel was not sent (only to keep idle steps out of the model) */
byte next_id = 0;  /* the id of the request being sent */
byte terminals[IDS + 1];  /* handed out by drain() for the id's last request: must end at exactly 1 (an id
                             never used counts as settled once) */
bool stopping = false;    /* the requester asks no more */
#ifdef REQUESTS
byte requests_sent = 0;   /* a bound on the requests, for credits too large to model every sequence */
#endif
bool requester_closed = false;
bool requester_done = false;

/* reply_server: open is its id_table<held_request> (the request's body and reply_to) */
bool open[IDS + 1];
byte open_body[IDS + 1];
chan open_reply[IDS + 1];
byte open_size = 0;
bool worker_done = false;

/* No trace of request `id` is left anywhere: a fresh id may take its place. */
#define FORGOTTEN(id) (!waiting[id] && !open[id] && !(inbox_a??[_, eval(id), _, _]) && !(inbox_b??[_, eval(id), _, _]))

proctype requester()
{
    byte id, slot, tmp, body;
    mtype kind, o;
    chan reply;

    do
    /* try_request(args): no_credit when `credits` are unsettled; else try_post(next_id, request) */
    :: !stopping && waiting_size < CREDITS ->
        if
        :: !inbox_b_open -> o = gone  /* make_and_deliver checks the channel first */
        :: else ->
            pool_try_make(pool_a, returns_a, slot, tmp);
            if
            :: slot == NONE -> o = no_credit
            :: else ->
                atomic {  /* DELIVER, with a fresh id */
                    if
                    :: !inbox_b_open -> o = gone
                    :: inbox_b_open && nfull(inbox_b) ->
                        next_id = 1;
                        do
                        :: next_id <= IDS && FORGOTTEN(next_id) -> break
                        :: next_id <= IDS && !FORGOTTEN(next_id) -> next_id++
                        :: next_id > IDS -> assert(false)  /* IDS too small for this model */
                        od;
                        assert(terminals[next_id] == 1);  /* the id's last request settled once */
                        inbox_b!request, next_id, slot, inbox_a; o = sent
                    :: inbox_b_open && full(inbox_b) -> o = queue_full
                    fi
                };
                if
                :: o != sent -> pool_give_back(pool_a, returns_a, slot, true)  /* dies here, on its source */
                :: else -> skip
                fi
            fi
        fi;
        if
        :: o == sent ->
            d_step {
                waiting[next_id] = true; cancel_sent[next_id] = false; waiting_size++; cancellable++;
                terminals[next_id] = 0; next_id = 0;
#ifdef REQUESTS
                requests_sent++; stopping = (requests_sent == REQUESTS)
#endif
            }
        :: o == gone -> stopping = true  /* the worker has gone: asking again is pointless */
        :: else -> skip
        fi;
        slot = NONE; o = 0
    :: !stopping -> stopping = true
    /* try_cancel(id): closed unless waiting and not yet cancelled; room reserved (see request_reply) */
    :: cancellable > 0 ->
        atomic {
            select(id : 1 .. IDS);
            if
            :: waiting[id] && !cancel_sent[id] ->
                DELIVER(inbox_b, inbox_b_open, cancel, id, NONE, inbox_a, o);
                assert(o != queue_full);  /* "room reserved": a cancel never finds the queue full */
                if
                :: o == sent -> cancel_sent[id] = true; cancellable--
                :: else -> skip
                fi
            :: else -> skip  /* closed */
            fi;
            id = 0; o = 0
        }
    /* drain(handle, max) as calls with a max of 1 (a larger budget is several of them): one message */
    :: atomic {
        nempty(inbox_a) -> inbox_a?kind, id, body, reply;
        assert(waiting[id]);  /* a terminal settles a request still waiting; progress comes only before it */
        assert(terminals[id] == 0);
        if
        :: kind == progress -> assert(body != NONE)  /* not a terminal: the request stays waiting */
        :: else ->
            terminals[id]++;
            assert(kind == result && body != NONE || kind == cancelled && body == NONE);
            waiting[id] = false; waiting_size--;
            if
            :: !cancel_sent[id] -> cancellable--
            :: else -> cancel_sent[id] = false
            fi
        fi;
        id = 0; kind = 0; reply = no_channel
       };
        if  /* the envelope dies after handle(): the result goes home to the worker's pool */
        :: body != NONE -> atomic { pool_give_back(pool_b, returns_b, body, false); body = 0 }
        :: else -> skip
        fi
    /* the call of drain() that finds the worker gone: peer_open() is read BEFORE the inbox is found empty
     * (the other order would settle a request whose result arrived in between); then the rest settle as
     * server_gone, one each */
    :: !inbox_b_open && waiting_size > 0 ->
        if
        :: empty(inbox_a) ->
            d_step {
                id = 1;
                do
                :: id <= IDS && waiting[id] ->
                    assert(terminals[id] == 0); terminals[id]++; waiting[id] = false; waiting_size--;
                    if :: !cancel_sent[id] -> cancellable-- :: else -> cancel_sent[id] = false fi;
                    id++
                :: id <= IDS && !waiting[id] -> id++
                :: id > IDS -> break
                od;
                id = 0
            }
        :: nempty(inbox_a) -> skip  /* messages first (the call handles them as above) */
        fi
    :: nempty(returns_a) -> pool_collect(pool_a, returns_a, tmp)
    /* close(): the requester goes away; queued settlements die here and their bodies go home */
    :: atomic { may_leave -> inbox_a_open = false; requester_closed = true };
        do
        :: atomic { nempty(inbox_a) -> inbox_a?kind, id, body, reply; id = 0; kind = 0; reply = no_channel };
            if
            :: body != NONE -> atomic { pool_give_back(pool_b, returns_b, body, false); body = 0 }
            :: else -> skip
            fi
        :: empty(inbox_a) -> break
        od;
        break
    /* done: asks no more and every request settled */
    :: stopping && waiting_size == 0 -> break
    od;
    requester_done = true
}

proctype worker()
{
    byte id, slot, tmp, body;
    mtype kind, o;
    chan reply;

    do
    /* accept(start, budget), one message per step */
    :: atomic {
        nempty(inbox_b) -> inbox_b?kind, id, body, reply;
        if
        :: kind == request ->
            assert(open_size < CREDITS && !open[id]);  /* COURIER_EXPECTS(kept): room is the credits */
            open[id] = true; open_body[id] = body; open_reply[id] = reply; open_size++;
            id = 0; body = 0; kind = 0; reply = no_channel
        :: kind == cancel && open[id] ->  /* the cancel wins: forget the request */
            open[id] = false; body = open_body[id]; open_body[id] = 0; reply = open_reply[id];
            open_reply[id] = no_channel; open_size--
        :: kind == cancel && !open[id] ->  /* the result already left: the cancel lost (late_cancels) */
            id = 0; kind = 0; reply = no_channel
        :: else -> assert(false)
        fi
       };
        if
        :: id != 0 ->  /* the request goes home, then cancelled leaves through its reply_to */
            atomic { pool_give_back(pool_a, returns_a, body, false); body = 0 };
            DELIVER(reply, inbox_a_open, cancelled, id, NONE, inbox_b, o);
            assert(o == sent || o == gone);  /* room reserved; refused only if the requester left */
            id = 0; kind = 0; reply = no_channel; o = 0
        :: else -> skip
        fi
    /* try_finish(id, args): only a pending request; the request goes home before the result leaves */
    :: open_size > 0 ->
        atomic {
            select(id : 1 .. IDS);
            if
            :: open[id] ->
                open[id] = false; body = open_body[id]; open_body[id] = 0; reply = open_reply[id];
                open_reply[id] = no_channel; open_size--;
                pool_give_back(pool_a, returns_a, body, false); body = 0
            :: else -> id = 0  /* closed: cancelled or settled, no result is made */
            fi
        };
        if
        :: id != 0 ->
            if  /* try_post_to(reply_to, id, result): make_and_deliver checks the channel first */
            :: !inbox_a_open -> o = gone
            :: else ->
                pool_try_make(pool_b, returns_b, slot, tmp);
                assert(slot != NONE);  /* COURIER_EXPECTS: never no_credit */
                DELIVER(reply, inbox_a_open, result, id, slot, inbox_b, o);
                if
                :: o != sent -> pool_give_back(pool_b, returns_b, slot, true)  /* dies here, on its source */
                :: else -> skip
                fi
            fi;
            assert(o == sent || o == gone)  /* COURIER_EXPECTS: room reserved per request */
        :: else -> skip
        fi;
        id = 0; slot = 0; reply = no_channel; o = 0
#if PROGRESS > 0 || defined(PROGRESS_UNRESERVED)
    /* try_progress(id, args): only a held request, which stays held; collect, then no_credit when only the
     * room reserved for final replies is left (in_flight + credits + 1 >= credits_b) */
    :: open_size > 0 ->
        atomic {
            select(id : 1 .. IDS);
            if
            :: open[id] -> reply = open_reply[id]
            :: else -> id = 0  /* closed */
            fi
        };
        if
        :: id != 0 ->
            pool_collect(pool_b, returns_b, tmp);
            if
#ifdef PROGRESS_UNRESERVED
            :: false -> skip  /* broken: no reserve check; only pool_try_make's own limit */
#else
            :: pool_b.in_use + CREDITS + 1 >= CREDITS_B -> o = no_credit
#endif
            :: else ->
                if
                :: !inbox_a_open -> o = gone
                :: else ->
                    pool_try_make(pool_b, returns_b, slot, tmp);
                    if
                    :: slot == NONE -> o = no_credit
                    :: else ->
                        DELIVER(reply, inbox_a_open, progress, id, slot, inbox_b, o);
                        assert(o == sent || o == gone);  /* the inbox has room for every body of pool_b */
                        if
                        :: o != sent -> pool_give_back(pool_b, returns_b, slot, true)
                        :: else -> skip
                        fi
                    fi
                fi
            fi
        :: else -> skip
        fi;
        id = 0; slot = 0; reply = no_channel; o = 0
#endif
    :: nempty(returns_b) -> pool_collect(pool_b, returns_b, tmp)
    /* close(): the worker goes away; queued requests and cancels die here, request bodies go home */
    :: atomic { may_leave -> inbox_b_open = false };
        do
        :: atomic { nempty(inbox_b) -> inbox_b?kind, id, body, reply; id = 0; kind = 0; reply = no_channel };
            if
            :: body != NONE -> atomic { pool_give_back(pool_a, returns_a, body, false); body = 0 }
            :: else -> skip
            fi
        :: empty(inbox_b) -> break
        od;
        break
    :: requester_done -> break
    od;
    worker_done = true
}

/* Invariants in every state: in flight never above the credits. */
#ifdef PROGRESS_UNRESERVED
#define INBOX_A_BOUND (CREDITS_B + CREDITS)  /* what the broken server can fill: let the final reply fail first */
#else
#define INBOX_A_BOUND (CREDITS + PROGRESS)
#endif
active proctype monitor()
{
end_monitor:
    atomic {
        !(waiting_size <= CREDITS && open_size <= CREDITS && pool_a.in_use <= CREDITS_A
          && pool_b.in_use <= CREDITS_B && len(returns_a) <= pool_a.in_use && len(returns_b) <= pool_b.in_use
          && len(inbox_a) <= INBOX_A_BOUND    /* a settlement per outstanding request, and progress */
          && len(inbox_b) <= 3 * CREDITS) ->  /* requests, their cancels and stale cancels */
        assert(false)
    }
}

init
{
    byte i, body, tmp;
    mtype kind;
    chan reply;

    atomic {
        if :: may_leave = true :: may_leave = false fi;
        for (i : 1 .. IDS) { terminals[i] = 1 }
        i = 0;
        pool_a.capacity = CREDITS_A; pool_b.capacity = CREDITS_B;
        run requester(); run worker()
    };
    (requester_done && worker_done);

    /* ~request_reply: pending requests go home (this thread took over the pools' roles) */
    i = 1;
    do
    :: i <= IDS && open[i] -> open[i] = false; open_size--;
        atomic { pool_give_back(pool_a, returns_a, open_body[i], false) }; i++
    :: i <= IDS && !open[i] -> i++
    :: i > IDS -> break
    od;
    /* ~duplex: close both inboxes (queued messages die here, bodies go home), then collect both pools */
    inbox_a_open = false;
    inbox_b_open = false;
    do
    :: inbox_a?kind, i, body, reply ->
        if :: body != NONE -> pool_give_back(pool_b, returns_b, body, false) :: else -> skip fi
    :: inbox_b?kind, i, body, reply ->
        if :: body != NONE -> pool_give_back(pool_a, returns_a, body, false) :: else -> skip fi
    :: empty(inbox_a) && empty(inbox_b) -> break
    od;
    pool_collect(pool_a, returns_a, tmp);
    pool_collect(pool_b, returns_b, tmp);
    pool_all_home(pool_a, tmp);
    pool_all_home(pool_b, tmp);

    /* exactly one terminal for every request sent, unless the requester went away first */
    i = 1;
    do
    :: i <= IDS -> assert(requester_closed || terminals[i] == 1); i++
    :: else -> break
    od
}
