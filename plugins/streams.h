/*
 * streams.h - consecutive batches of the inference loop on separate threads, their
 * callbacks in batch order.
 *
 * ee_loop_dataset (loop.h) hands its batches to streams when threads splitting a batch
 * would not pay: T threads share a pool of 3T runs (EE_STREAMS_RUNS per thread; each a
 * run of one thread with its own arena, and an input buffer). A thread takes a free run,
 * claims the next batch, prepares its inputs and runs its forward pass alongside the
 * others; the batch callbacks are called one at a time in batch order, by whichever
 * thread finds the next batch done, each with the run that holds its batch, so that a
 * callback sees exactly what the plain loop would show it (the outputs of a one-thread
 * run are every schedule's: those of `--threads 1`).
 *
 * When (ee_streams_count): the run has T > 1 threads, nothing is hooked into it, there
 * are at least two batches, and a batch's work - max_batch x the network's MACs per
 * sample with every gate open - is below EE_STREAMS_MAX_WORK. Why: inside one batch the
 * threads meet once per layer (layers split: at batch 1) or once per batch (lanes,
 * exec.h), and the inputs and the callback run on one thread between batches; a small
 * model's layer lasts a few microseconds at batch 1, about what waking a thread costs,
 * and its small batches spend a fair share of their time in that one-thread part, so
 * two threads ran at 0.6-0.9x of one (README, Performance). Streams meet once per batch
 * only to take a run and hand a done batch on, and prepare inputs in parallel. Above the
 * bound a batch lasts long enough (tens of milliseconds) that lanes lose little, while
 * streams keep 3T runs of it in memory and leave threads idle in the last round when
 * the batches do not divide among them. Hooks (per-layer counters, the CPU time that
 * `profile` and `report` count by default included; timelines) record per lane of the
 * one run they were attached to, so a hooked run keeps the plain loop.
 *
 * What the caller's run holds afterwards: the per-node and per-stage seconds and the
 * ring taps of every run of the pool, summed (like lanes' sums: thread time, not wall time); its
 * per-batch fields (n, outputs, gates) are not those of the last batch - the callback
 * reads them from the run it is given.
 *
 * Threads: the calling thread and T - 1 threads of their own, all while eeprof's thread
 * count is 1 (ee_threads_set; restored afterwards), so that every loop and product inside
 * a run is unsplit and computes what one thread computes, bit for bit (a product split
 * into blocks does not). Meanwhile the thread team is idle: another thread of the program
 * that ran loops of its own would get them unsplit. Waiting is passive and rare: a thread
 * sleeps on a condition variable only when every run of the pool holds a batch whose
 * turn has not come, i.e. when a thread that another process keeps off its core holds
 * the next batch in order and the others have run 3T - 1 batches past it.
 *
 * Loaded machines: streams run whatever the load. At a load average of 15 on 2 CPUs
 * (eval, medians of 5 alternated runs, 2026-12-05 02:00 UTC) two threads ran 1.09-1.50x
 * of one with this pool, where one run per thread, each waiting for its turn before the
 * next batch, ran 0.77-1.28x and the plain loop (layers split, lanes) 0.77-1.30x.
 */
#ifndef EE_STREAMS_H
#define EE_STREAMS_H

#include "plugins/loop.h"

/* A batch of at least this many MACs (max_batch x per-sample MACs) keeps the plain loop. */
#define EE_STREAMS_MAX_WORK 2e9
/* Runs in the pool per thread: how far the threads may run ahead of the callbacks. */
#define EE_STREAMS_RUNS 3

/* The streams for count samples through r in batches of r->max_batch: 1 (the plain loop)
 * or up to r->threads, by the rule above. */
int ee_streams_count(const struct ee_run *r, int count);

/* ee_loop_dataset on `streams` >= 2 threads: samples [offset, offset + count) (inside ds,
 * checked by the caller) in batches of r->max_batch, fn called in batch order; on failure
 * the error of the first batch in order that failed (its preparation or its callback),
 * and no callback after it. *seconds: as ee_loop_dataset, without making the pool. */
int ee_streams_loop(struct ee_run *r, int streams, const struct ee_net *net,
		    const struct ee_dataset *ds, int offset, int count, ee_batch_fn fn, void *ctx,
		    double *seconds, struct ee_err *err);

#endif
