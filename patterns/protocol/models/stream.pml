/* SPDX-License-Identifier: MIT
 * spin model of courier::protocol::stream (<courier/protocol/stream.h>): ordered items and the end marker of
 * a finite stream. How the model maps to the header: docs/patterns/protocol_stream.md (Guarantees, "Model").
 *
 * Processes: stream_writer (party A), stream_reader (party B), and init as the setup thread that destroys the
 * stream after both have stopped. Lanes: inbox_b (the reader's), bounded exactly as duplex sizes it; pool_a
 * holds the items (`credits` slots), with its return lane. The writer writes any number of items and may
 * end after any of them; the reader may close (stop an endless stream) at any point. To stay finite, the
 * model counts item indices (written, the ids, what the reader counted) modulo WRAP, more than the items that
 * can be queued at once, so a lost, repeated or reordered item still shows as a wrong index.
 *
 * Checked in every reachable state, for every interleaving:
 *  - exactly one end marker per stream, after the last item: drain() asserts each item arrives once, in
 *    order, before the end, that the end carries the number of items, and that nothing follows it; teardown
 *    asserts that a stream the writer ended and the reader kept open was read to its end;
 *  - every item returned to its pool exactly once (duplex.pml, and all slots free at the end);
 *  - in flight never above the credits (monitor), and the end marker never finds the lane full once the
 *    writer's items are within its credits.
 */

#ifndef CREDITS
#define CREDITS 2   /* stream(table, credits) */
#endif
#ifndef WRAP
#define WRAP (CREDITS + 2)  /* item indices are counted modulo WRAP: more than can be queued at once */
#endif

/* stream's constructor: duplex(table, credits, 1, 1) */
#define CREDITS_A CREDITS
#define MARKERS 1
#define INBOX_B (CREDITS_A + MARKERS + 1)  /* duplex: inbox_b(table, 1, credits_a + markers + 1) */

#define MAX_SLOTS CREDITS_A
#include "duplex.pml"

mtype = { item, end_marker };                          /* detail::stream_kind (end is a Promela label prefix) */

/* envelope: kind, id, body (slot or NONE), reply_to (a stream never answers: inbox_a is never sent to) */
chan inbox_a = [MARKERS + 2] of { mtype, byte, byte, chan };  /* the writer's; duplex sizes it 1 + 1 + 1 */
chan inbox_b = [INBOX_B] of { mtype, byte, byte, chan };      /* drained by the reader */
bool inbox_b_open = true;

pool pool_a;  /* items; the writer is the source */
chan returns_a = [CREDITS_A] of { byte };

#define NEXT(n) ((n) % WRAP + 1)  /* n + 1, modulo WRAP, in 1..WRAP */

/* stream_writer */
byte written = 0;  /* items(), modulo WRAP: 0 before the first, then 1..WRAP */
bool finished = false;
bool writer_done = false;

/* stream_reader */
bool ended = false;
byte items_read = 0;  /* the index drain() last handed to on_item (modulo WRAP): must be 1, 2, ... in order */
bool reader_closed = false;
bool reader_done = false;

proctype writer()
{
    byte slot, tmp;
    mtype o;

    do
    /* try_write(args): closed once ended; else try_post(written + 1, item) */
    :: !finished ->
        if
        :: !inbox_b_open -> o = gone  /* make_and_deliver checks the channel first */
        :: else ->
            pool_try_make(pool_a, returns_a, slot, tmp);
            if
            :: slot == NONE -> o = no_credit
            :: else ->
                DELIVER(inbox_b, inbox_b_open, item, NEXT(written), slot, inbox_a, o);
                if
                :: o != sent -> pool_give_back(pool_a, returns_a, slot, true)  /* dies here, on its source */
                :: else -> skip
                fi
            fi
        fi;
        if
        :: o == sent -> written = NEXT(written)
        :: else -> skip
        fi;
        slot = 0; o = 0
    /* try_end(): closed once ended; signals end(written); ended only when it went out */
    :: !finished ->
        DELIVER(inbox_b, inbox_b_open, end_marker, written, NONE, inbox_a, o);
        assert(o != queue_full);  /* at most `credits` items and this one marker are ever queued */
        finished = (o == sent);
        o = 0
    :: nempty(returns_a) -> pool_collect(pool_a, returns_a, tmp)
    :: finished || !inbox_b_open -> break
    od;
    writer_done = true
}

proctype reader()
{
    byte id, body;
    mtype kind;
    chan reply;

    do
    /* drain(on_item, on_end, max), one message per step */
    :: atomic {
        nempty(inbox_b) -> inbox_b?kind, id, body, reply;
        assert(!ended);  /* nothing follows the end marker */
        if
        :: kind == item -> assert(body != NONE && id == NEXT(items_read)); items_read = id  /* once, in order */
        :: kind == end_marker -> assert(body == NONE && id == items_read); ended = true  /* after the last */
        fi;
        id = 0; kind = 0; reply = no_channel
       };
        if  /* the envelope dies after on_item(): the item goes home to the writer's pool */
        :: body != NONE -> atomic { pool_give_back(pool_a, returns_a, body, false); body = 0 }
        :: else -> skip
        fi
    /* close(): stops an endless stream; queued items die here and go home */
    :: atomic { may_leave -> inbox_b_open = false; reader_closed = true };
        do
        :: atomic { nempty(inbox_b) -> inbox_b?kind, id, body, reply; id = 0; kind = 0; reply = no_channel };
            if
            :: body != NONE -> atomic { pool_give_back(pool_a, returns_a, body, false) }
            :: else -> skip
            fi
        :: empty(inbox_b) -> break
        od;
        break
    :: writer_done && empty(inbox_b) -> break
    od;
    reader_done = true
}

/* Invariants in every state: in flight never above the credits. */
active proctype monitor()
{
end_monitor:
    atomic {
        !(pool_a.in_use <= CREDITS_A && len(returns_a) <= pool_a.in_use && len(inbox_b) <= CREDITS_A + 1) ->
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
        pool_a.capacity = CREDITS_A;
        run writer(); run reader()
    };
    (writer_done && reader_done);

    /* ~duplex: close the reader's inbox (queued items die here and go home), then collect */
    inbox_b_open = false;
    do
    :: inbox_b?kind, i, body, reply ->
        if :: body != NONE -> pool_give_back(pool_a, returns_a, body, false) :: else -> skip fi
    :: empty(inbox_b) -> break
    od;
    pool_collect(pool_a, returns_a, tmp);
    pool_all_home(pool_a, tmp);

    /* an ended stream the reader kept open was read to its end: every item, then the marker, once */
    assert(reader_closed || !finished || (ended && items_read == written))
}
