/* SPDX-License-Identifier: MIT
 * courier::object_pool and the lanes of courier::protocol::duplex, shared by the spin models beside this file
 * (docs/patterns/protocol_send.md). Not installed; tests/protocol/spin_models.sh runs the models.
 *
 * A pool (typedef pool) is an array of slot states, an in_use count (object_pool::in_use: slots not on
 * free_slots) and its capacity; its return lane is a Promela channel of slot numbers, as large as the pool, as
 * in the header. A body is named by
 * its slot number; markers (no body) carry NONE. Each party is one Promela process, so a slot given back by
 * its source process dies at once and one given back by any other goes through the return lane, exactly as
 * pool_ptr::reset does. Every lane operation is one atomic step, as it is one atomic publish in the code.
 */

#define NONE 255
#define FREE 0       /* on free_slots */
#define OUT 1        /* made and not given back: in a lane, held by a party, or inside a handler */
#define RETURNING 2  /* given back off the source thread: in the return lane until collect() */

#ifndef MAX_SLOTS
#define MAX_SLOTS 4
#endif

typedef pool {
    byte slots[MAX_SLOTS];
    byte in_use;
    byte capacity
};

/* A null channel, to clear a chan variable (a smaller state vector). */
chan no_channel;

mtype = { sent, queue_full, no_credit, gone, closed };  /* send_status (full is a Promela keyword) */

/* duplex::deliver through channel::try_send, one atomic step (the send and a close never overlap):
 * gone, full or sent, into `o`. An envelope is kind, id, body (slot or NONE) and reply_to. */
#define DELIVER(to, to_open, kind, id, body, reply, o) \
    atomic { \
        if \
        :: !to_open -> o = gone \
        :: to_open && nfull(to) -> to!kind, id, body, reply; o = sent \
        :: to_open && full(to) -> o = queue_full \
        fi \
    }

/* Whether the parties may close (go away) in this run; init chooses both ways. With it, every departure is
 * explored; without it, nothing can end a wait that the protocol never ends, so a lost message leaves the
 * parties stuck, which spin reports as an invalid end state. */
bool may_leave = false;

/* object_pool::collect(): destroys what came back, on the source; each slot must be RETURNING. */
inline pool_collect(p, returns, tmp)
{
    do
    :: atomic { nempty(returns) -> returns?tmp; assert(p.slots[tmp] == RETURNING); p.slots[tmp] = FREE; p.in_use-- }
    :: empty(returns) -> tmp = 0; break
    od;
    skip  /* spin: a break may not land on the start of a d_step that follows */
}

/* object_pool::try_make(): collects first only when no slot is free; slot = NONE when still exhausted. */
inline pool_try_make(p, returns, slot, tmp)
{
    if
    :: p.in_use == p.capacity -> pool_collect(p, returns, tmp)
    :: else -> skip
    fi;
    skip;
    d_step {
        slot = NONE;
        tmp = 0;
        do
        :: tmp < p.capacity && p.slots[tmp] == FREE -> slot = tmp; break
        :: tmp < p.capacity && p.slots[tmp] != FREE -> tmp++
        :: tmp == p.capacity -> break
        od;
        if
        :: slot != NONE -> p.slots[slot] = OUT; p.in_use++
        :: else -> skip
        fi;
        tmp = 0
    }
}

/* pool_ptr::reset(): a body given back twice, or one never made, fails the assertion (exactly once). */
inline pool_give_back(p, returns, slot, on_source)
{
    assert(slot != NONE && p.slots[slot] == OUT);
    if
    :: on_source -> p.slots[slot] = FREE; p.in_use--  /* dies at once, on its source */
    :: else -> assert(nfull(returns)); returns!slot; p.slots[slot] = RETURNING  /* "cannot fail" in the header */
    fi
}

/* After teardown: every body made came home and was destroyed, exactly once. */
inline pool_all_home(p, tmp)
{
    d_step {
        assert(p.in_use == 0);
        tmp = 0;
        do
        :: tmp < p.capacity -> assert(p.slots[tmp] == FREE); tmp++
        :: else -> break
        od;
        tmp = 0
    }
}
