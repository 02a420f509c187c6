/*
 * realexit_dist.h - real early exit (plugins/realexit.h, `eeprof run`) shared out over the
 * ranks of an MPI job (plugins/dist.h), the outcome put together on rank 0.
 *
 * Every rank opens its shard of the samples the options select (ee_dist_shard: contiguous,
 * boundaries multiples of the batch, so each rank runs exactly the batches a single process
 * would run) and runs both passes over it. Rank 0 then gets:
 *  - the per-sample traces full and dyn, merged as `eeprof merge` merges
 *    (plugins/trace_dist.h), and taken[] and macs[] (gathered in rank order);
 *  - the per-node counts, per-stage and CPU seconds of each pass, summed over the ranks;
 *  - each timed run's seconds: the job's time for a run is that of its slowest rank;
 *  - each rank's wall time from its open (ranks, rank_seconds);
 * and makes the outcome, layer figures and spreads again over the whole selection
 * (ee_realexit_results), so that accuracy, exits, MACs, the simulation and its agreement
 * are those of a single process. Alone (one rank) it is ee_realexit_open/_run, with ranks 1.
 *
 * Collective: every rank calls both with the same arguments. They fail on every rank or on
 * none, with the message of the lowest failing rank ("rank 2: ..."). On success rank 0
 * holds the whole outcome; the other ranks hold their shard's, which they release.
 *
 *     rc = ee_realexit_dist_open(&re, ckpt, data, &o, &err);  // o.rank, o.ranks set inside
 *     ... rule for re.e exits, counters (ee_dist_agree on their status) ...
 *     rc = ee_realexit_dist_run(&re, &rule, &c, true, &err);
 *     if (rc == EE_OK && ee_dist_rank() == 0)
 *             print(&re);                                     // rank 0 alone prints
 *     ee_realexit_release(&re);
 */
#ifndef EE_REALEXIT_DIST_H
#define EE_REALEXIT_DIST_H

#include "plugins/realexit.h"

/* ee_realexit_open on this rank's shard of the samples o selects. On failure nothing is left
 * to release, on any rank. */
int ee_realexit_dist_open(struct ee_realexit *re, const char *checkpoint, const char *data,
			  const struct ee_realexit_opts *o, struct ee_err *err);
/* ee_realexit_run on every rank's shard, the outcome of all of them on rank 0. */
int ee_realexit_dist_run(struct ee_realexit *re, const struct ee_exit_rule *rule,
			 struct ee_counters *c, bool measure, struct ee_err *err);

#endif
