/*
 * streams.h - consecutive batches of the inference loop on separate threads, their
 * callbacks in batch order.
 *
 * ee_loop_dataset (loop.h) hands its batches to streams when threads splitting a batch
 * would not pay: each of T streams has its own run (one thread, its own arena) and input
 * buffer, claims the next batch, prepares its inputs and runs its forward pass
 * alongside the others; the batch callbacks are called one at a time in batch order,
 * each on the thread whose run holds its batch, so that a callback sees exactly what the
 * plain loop would show it (the outputs of a one-thread run are every schedule's: those
 * of `--threads 1`).
 *
 * When (ee_streams_count): the run has T > 1 threads, nothing is hooked into it, there
 * are at least two batches, and a batch's work - max_batch x the network's MACs per
 * sample with every gate open - is below EE_STREAMS_MAX_WORK. Why: inside one batch the
 * threads meet once per layer (layers split: at batch 1) or once per batch (lanes,
 * exec.h), and the inputs and the callback run on one thread between batches; a small
 * model's layer lasts a few microseconds at batch 1, about what waking a thread costs,
 * and its small batches spend a fair share of their time in that one-thread part, so
 * two threads ran at 0.6-0.9x of one (README, Performance). Streams meet once per batch
 * only to pass the callback's turn on, and prepare inputs in parallel. Above the bound
 * a batch lasts long enough (tens of milliseconds) that lanes lose little, while
 * streams keep T batches in memory and leave threads idle in the last round when the
 * batches do not divide among them. Hooks (per-layer counters, the CPU time that
 * `profile` and `report` count by default included; timelines) record per lane of the
 * one run they were attached to, so a hooked run keeps the plain loop.
 *
 * What the caller's run holds afterwards: the per-node and per-stage seconds and the
 * ring taps of every stream, summed (like lanes' sums: thread time, not wall time); its
 * per-batch fields (n, outputs, gates) are not those of the last batch - the callback
 * reads them from the run it is given.
 *
 * Threads: stream 0 runs on the calling thread, the others on threads of their own, all
 * while eeprof's thread count is 1 (ee_threads_set; restored afterwards), so that every
 * loop and product inside a stream runs unsplit on its thread and computes what one
 * thread computes, bit for bit (a product split into blocks does not). Meanwhile the
 * thread team is idle: another thread of the program that ran loops of its own would get
 * them unsplit. Waiting is passive: a stream whose batch is ready before its turn sleeps
 * on a condition variable; a stream that another process keeps off its core holds the
 * others up until its one batch is done, and nobody spins meanwhile.
 *
 * A busy machine: when the 1-minute load average is at least the CPUs plus the streams
 * (read once per loop; the thread team's test, threads.h) one stream runs every batch on
 * the calling thread. Linux schedules a session's threads as one group with one CPU
 * share (autogroup), so with other work on every CPU a second thread brings the process
 * no more CPU, and each wait for a turn gives up part of the share (measured: 0.80-1.06x
 * of one thread at load 8.4 on 2 CPUs with two streams). The results are the same.
 */
#ifndef EE_STREAMS_H
#define EE_STREAMS_H

#include "plugins/loop.h"

/* A batch of at least this many MACs (max_batch x per-sample MACs) keeps the plain loop. */
#define EE_STREAMS_MAX_WORK 2e9

/* The streams for count samples through r in batches of r->max_batch: 1 (the plain loop)
 * or up to r->threads, by the rule above. */
int ee_streams_count(const struct ee_run *r, int count);

/* ee_loop_dataset on `streams` >= 2 streams (1 on a busy machine, see above): samples
 * [offset, offset + count) (inside ds, checked by the caller) in batches of r->max_batch,
 * fn called in batch order; on failure
 * the error of the first batch in order that failed (its preparation or its callback),
 * and no callback after it. *seconds: as ee_loop_dataset, without making the streams. */
int ee_streams_loop(struct ee_run *r, int streams, const struct ee_net *net,
		    const struct ee_dataset *ds, int offset, int count, ee_batch_fn fn, void *ctx,
		    double *seconds, struct ee_err *err);

/* Tests: every stream runs whatever the load average (on: true). */
void ee_streams_ignore_load(bool on);

#endif
