/* SPDX-License-Identifier: MIT
 * spin model of courier::protocol::subscription (<courier/protocol/subscription.h>): subscribe, notify,
 * unsubscribe and its final acknowledgement. How the model maps to the header:
 * docs/patterns/protocol_subscription.md (Guarantees, "Model").
 *
 * Processes: subscriber (party A), publisher (party B), and init as the setup thread that destroys the
 * subscription after both have stopped. Lanes: inbox_a and inbox_b, bounded exactly as duplex sizes them;
 * pool_b holds the notifications (`credits` slots), with its return lane. The subscriber subscribes and
 * unsubscribes any number of times and stops when it likes; either party may close (go away) at any point.
 * The header never reuses a subscription id (it counts up); the model, to stay finite, gives each new
 * subscription the lowest id of which no trace is left (not live, in no lane that is still read), which no
 * party can tell apart from a fresh one; it asserts that such an id always exists.
 *
 * Checked in every reachable state, for every interleaving:
 *  - no notification after the acknowledgement: drain() asserts that no notification for a subscription id
 *    arrives once its terminal (ack or publisher_gone) was handed out;
 *  - exactly one terminal per subscription: at most one is handed out per id; a subscription never ended
 *    leaves both parties stuck, which spin reports as an invalid end state; and at teardown every subscription
 *    has had one (unless the subscriber went away first);
 *  - every notification returned to its pool exactly once (duplex.pml, and all slots free at the end);
 *  - in flight never above the credits (monitor), and the ack, whose room is reserved, always finds room.
 *
 * Built with -DACK_BEFORE_FORGET, the publisher acknowledges first and forgets the subscription only at its
 * next poll (the bug of docs/patterns/protocol_subscription.md, pitfall 2): spin must then find a notification
 * after the ack. tests/protocol/spin_models.sh checks that it does.
 */

#ifndef CREDITS
#define CREDITS 2         /* subscription(table, credits): notifications out at most */
#endif
#ifndef IDS
#define IDS 2             /* subscription ids 1..IDS: more than can be alive at once (asserted) */
#endif

/* subscription's constructor: duplex(table, 1, credits, 2) */
#define CREDITS_A 1
#define CREDITS_B CREDITS
#define MARKERS 2
#define INBOX_A (CREDITS_B + MARKERS + 1)  /* duplex: inbox_a(table, 1, credits_b + markers + 1) */
#define INBOX_B (CREDITS_A + MARKERS + 1)  /* duplex: inbox_b(table, 1, credits_a + markers + 1) */

#define MAX_SLOTS CREDITS_B
#include "duplex.pml"

mtype = { subscribe, unsubscribe, notify, ack };                /* detail::subscription_kind */
mtype = { idle, subscribed, unsubscribing };                    /* subscriber_state */

/* envelope: kind, id, body (slot or NONE), reply_to */
chan inbox_a = [INBOX_A] of { mtype, byte, byte, chan };  /* drained by the subscriber */
chan inbox_b = [INBOX_B] of { mtype, byte, byte, chan };  /* drained by the publisher */
bool inbox_a_open = true;
bool inbox_b_open = true;

/* The subscriber signals only (no bodies), so only the publisher's pool is modelled. */
pool pool_b;  /* notifications; the publisher is the source */
chan returns_b = [CREDITS_B] of { byte };

/* subscriber */
mtype now = idle;
byte current = 0;
byte terminals[IDS + 1];  /* ack or publisher_gone handed out for the id's last subscription: must end at
                             exactly 1 (an id never used counts as ended once) */
bool after_ack[IDS + 1];  /* the id's terminal was handed out: nothing for it may follow */
byte fresh = 0;           /* the id being subscribed */
bool stopping = false;    /* the subscriber subscribes no more */
bool subscriber_closed = false;
bool subscriber_done = false;

/* publisher */
byte published = 0;          /* publisher::current: the live subscription's id, 0 for none */
chan notify_to;              /* publisher::notify_to: the channel subscribe carried */
#ifdef ACK_BEFORE_FORGET
bool forget_at_next_poll = false;
#endif
bool publisher_done = false;

/* No trace of subscription `id` is left: a fresh one may take its id. */
#define FORGOTTEN(id) (!(id == current && now != idle) && !(inbox_b_open && id == published) \
                       && !(inbox_a??[_, eval(id), _, _]) && !(inbox_b??[_, eval(id), _, _]))

proctype subscriber()
{
    byte id, body;
    mtype kind, o;
    chan reply;

    do
    /* try_subscribe(): closed unless idle; signals subscribe with a fresh id */
    :: now == idle && !stopping ->
        atomic {  /* DELIVER, with a fresh id */
            if
            :: !inbox_b_open -> o = gone
            :: inbox_b_open && nfull(inbox_b) ->
                fresh = 1;
                do
                :: fresh <= IDS && FORGOTTEN(fresh) -> break
                :: fresh <= IDS && !FORGOTTEN(fresh) -> fresh++
                :: fresh > IDS -> assert(false)  /* IDS too small for this model */
                od;
                assert(terminals[fresh] == 1);  /* the id's last subscription ended once */
                inbox_b!subscribe, fresh, NONE, inbox_a; o = sent
            :: inbox_b_open && full(inbox_b) -> o = queue_full
            fi
        };
        if
        :: o == sent ->
            d_step { now = subscribed; current = fresh; fresh = 0; terminals[current] = 0; after_ack[current] = false;
                     o = 0 }
        :: o == gone -> stopping = true; o = 0  /* the publisher has gone */
        :: else -> o = 0
        fi
    :: now == idle && !stopping -> stopping = true
    /* try_unsubscribe(): closed unless subscribed; signals unsubscribe(current) */
    :: now == subscribed ->
        DELIVER(inbox_b, inbox_b_open, unsubscribe, current, NONE, inbox_a, o);
        if
        :: o == sent -> atomic { now = unsubscribing; o = 0 }
        :: else -> o = 0
        fi
    /* drain(handle, max) as calls with a max of 1 (a larger max is several of them): one message */
    :: atomic {
        nempty(inbox_a) -> inbox_a?kind, id, body, reply;
        if
        :: kind == ack ->
            assert(body == NONE && id == current && now == unsubscribing);
            assert(terminals[id] == 0);  /* one terminal per subscription */
            terminals[id]++; after_ack[id] = true; now = idle
        :: kind == notify ->
            assert(body != NONE);
            assert(!after_ack[id])  /* no notification after the ack */
        :: else -> assert(false)
        fi;
        id = 0; kind = 0; reply = no_channel
       };
        if  /* the envelope dies after handle(): the notification goes home to the publisher's pool */
        :: body != NONE -> atomic { pool_give_back(pool_b, returns_b, body, false); body = 0 }
        :: else -> skip
        fi
    /* the call of drain() that finds the publisher gone: peer_open() is read BEFORE the inbox is found empty;
     * then a live subscription ends with publisher_gone */
    :: !inbox_b_open && now != idle ->
        if
        :: empty(inbox_a) ->
            d_step { assert(terminals[current] == 0); terminals[current]++; after_ack[current] = true; now = idle }
        :: nempty(inbox_a) -> skip  /* messages first (the call handles them as above) */
        fi
    /* close(): the subscriber goes away; queued notifications die here and go home */
    :: atomic { may_leave -> inbox_a_open = false; subscriber_closed = true };
        do
        :: atomic { nempty(inbox_a) -> inbox_a?kind, id, body, reply; id = 0; kind = 0; reply = no_channel };
            if
            :: body != NONE -> atomic { pool_give_back(pool_b, returns_b, body, false); body = 0 }
            :: else -> skip
            fi
        :: empty(inbox_a) -> break
        od;
        break
    /* done: subscribes no more and the last subscription ended */
    :: now == idle && stopping -> break
    od;
    subscriber_done = true
}

proctype publisher()
{
    byte id, slot, tmp, body;
    mtype kind, o;
    chan reply;

    do
    /* poll(max), one message per step (a poll that finds none changes nothing, except in the broken
     * publisher, which forgets there) */
#ifdef ACK_BEFORE_FORGET
    :: nempty(inbox_b) || forget_at_next_poll ->
#else
    :: nempty(inbox_b) ->
#endif
       atomic {
#ifdef ACK_BEFORE_FORGET
        if  /* the broken publisher forgets the unsubscribed id only now */
        :: forget_at_next_poll -> published = 0; forget_at_next_poll = false
        :: else -> skip
        fi;
#endif
        if
        :: nempty(inbox_b) -> inbox_b?kind, id, body, reply;
            if
            :: kind == subscribe -> published = id; notify_to = reply; id = 0  /* answers go where it said */
#ifndef ACK_BEFORE_FORGET
            :: kind == unsubscribe && id == published -> published = 0  /* forget first: try_notify is closed */
#else
            :: kind == unsubscribe && id == published -> forget_at_next_poll = true
#endif
            :: kind == unsubscribe && id != published -> id = 0
            :: else -> assert(false)
            fi;
            kind = 0; reply = no_channel
        :: empty(inbox_b) -> skip
        fi
       };
        if
        :: id != 0 ->  /* then the ack, through notify_to; room reserved, refused only if the subscriber left */
            DELIVER(notify_to, inbox_a_open, ack, id, NONE, inbox_b, o);
            assert(o == sent || o == gone);
            id = 0; o = 0
        :: else -> skip
        fi
    /* try_notify(args): closed unless subscribed; else try_post_to(notify_to, current, notify) */
    :: published != 0 ->
        if
        :: !inbox_a_open -> skip  /* gone: make_and_deliver checks the channel first */
        :: else ->
            pool_try_make(pool_b, returns_b, slot, tmp);
            if
            :: slot == NONE -> skip  /* no_credit */
            :: else ->
                DELIVER(notify_to, inbox_a_open, notify, published, slot, inbox_b, o);
                if
                :: o != sent -> pool_give_back(pool_b, returns_b, slot, true)  /* dies here, on its source */
                :: else -> skip
                fi
            fi
        fi;
        slot = 0; o = 0
    :: nempty(returns_b) -> pool_collect(pool_b, returns_b, tmp)
    /* close(): the publisher goes away; queued subscribe/unsubscribe markers die here */
    :: atomic { may_leave -> inbox_b_open = false };
        do
        :: atomic { nempty(inbox_b) -> inbox_b?kind, id, body, reply; id = 0; kind = 0; body = 0; reply = no_channel }
        :: empty(inbox_b) -> break
        od;
        break
    :: subscriber_done -> break
    od;
    publisher_done = true
}

/* Invariants in every state: in flight never above the credits. */
active proctype monitor()
{
end_monitor:
    atomic {
        !(pool_b.in_use <= CREDITS_B && len(returns_b) <= pool_b.in_use && len(inbox_b) <= 2
          && len(inbox_a) <= CREDITS_B + 1) ->
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
        pool_b.capacity = CREDITS_B;
        run subscriber(); run publisher()
    };
    (subscriber_done && publisher_done);

    /* ~duplex: close both inboxes (queued messages die here, bodies go home), then collect */
    inbox_a_open = false;
    inbox_b_open = false;
    do
    :: inbox_a?kind, i, body, reply ->
        if :: body != NONE -> pool_give_back(pool_b, returns_b, body, false) :: else -> skip fi
    :: inbox_b?kind, i, body, reply
    :: empty(inbox_a) && empty(inbox_b) -> break
    od;
    pool_collect(pool_b, returns_b, tmp);
    pool_all_home(pool_b, tmp);

    /* exactly one terminal for every subscription, unless the subscriber went away first */
    i = 1;
    do
    :: i <= IDS -> assert(subscriber_closed || terminals[i] == 1); i++
    :: else -> break
    od
}
