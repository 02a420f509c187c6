/*
 * profile_dist.h - one profile pass (plugins/profile.h) shared out over the ranks of an MPI
 * job (plugins/dist.h), the trace put together on rank 0.
 *
 * Every rank profiles its shard of the samples the options select (ee_dist_shard: contiguous,
 * boundaries multiples of the batch, so each rank runs exactly the batches a single process
 * would run) and sends its trace to rank 0, which joins the parts with ee_trace_merge, the code
 * of `eeprof merge` (plugins/trace_dist.h). The trace
 * records the ranks and each rank's wall time. Alone (one rank) it is ee_profile_run.
 *
 * Collective: every rank calls it with the same arguments. It fails on every rank or on
 * none, with the message of the lowest failing rank ("rank 2: ..."). On success rank 0 holds
 * the whole trace and the other ranks an empty one (n = 0), which they release.
 *
 *     rc = ee_profile_dist(ckpt, data, &o, &t, &info, &err);
 *     if (rc == EE_OK && ee_dist_rank() == 0)
 *             rc = ee_trace_write(&t, out, &err);     // rank 0 alone writes
 *     ee_trace_release(&t);
 */
#ifndef EE_PROFILE_DIST_H
#define EE_PROFILE_DIST_H

#include <stddef.h>

#include "plugins/profile.h"

/* What putting the trace together cost, on rank 0 (zero elsewhere, and when alone). */
struct ee_profile_dist_info {
	double gather_seconds; /* from every rank done profiling to the merged trace: the
				  ranks' encoding, receiving, decoding and merging, as rank 0
				  sees it */
	double wait_seconds;   /* before that, rank 0's wait for the slowest rank */
	size_t bytes;          /* trace bytes received, all ranks */
};

int ee_profile_dist(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		    struct ee_trace *t, struct ee_profile_dist_info *info, struct ee_err *err);

#endif
