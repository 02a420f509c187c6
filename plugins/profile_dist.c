/*
 * profile_dist.c - one profile pass shared out over the ranks of an MPI job; see
 * profile_dist.h.
 */
#include "profile_dist.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugins/dist.h"
#include "plugins/trace_dist.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Every rank's part of the trace to rank 0 and every rank's wall time into secs (rank 0's
 * own once the trace is whole), merged there into t. Collective; called once every rank has
 * its part. */
static int gather_and_merge(const struct ee_trace *part, double start, double *secs,
			    struct ee_trace *t, struct ee_profile_dist_info *info,
			    struct ee_err *err)
{
	struct ee_trace_parts p;
	int rc = ee_trace_gather(part, &p, err);

	if (rc < 0)
		return rc;
	ee_dist_gather_double(now() - start, secs);
	if (ee_dist_rank() == 0) {
		rc = ee_trace_parts_merge(&p, t, err);
		info->bytes = p.bytes;
		secs[0] = now() - start;
		if (rc == EE_OK)
			rc = ee_trace_set_ranks(t, p.ranks, secs, err);
	}
	ee_trace_parts_release(&p);
	return rc;
}

int ee_profile_dist(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		    struct ee_trace *t, struct ee_profile_dist_info *info, struct ee_err *err)
{
	struct ee_profile_opts mine = *o;
	struct ee_trace part = { 0 };
	int ranks = ee_dist_size(), rc;
	double start = now(), done, ready, *secs;

	memset(info, 0, sizeof(*info));
	if (ranks == 1) {
		rc = ee_profile_run(checkpoint, data, o, t, err);
		done = now() - start;
		return rc == EE_OK ? ee_trace_set_ranks(t, 1, &done, err) : rc;
	}
	memset(t, 0, sizeof(*t));
	mine.rank = ee_dist_rank(); /* this rank's shard */
	mine.ranks = ranks;
	rc = ee_profile_run(checkpoint, data, &mine, &part, err);
	if (!(secs = calloc((size_t)ranks, sizeof(*secs))) && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	done = now();
	rc = ee_dist_agree(rc, err); /* rank 0 waits here for the slowest rank */
	ready = now();
	if (rc == EE_OK)
		rc = ee_dist_agree(gather_and_merge(&part, start, secs, t, info, err), err);
	if (rc == EE_OK && ee_dist_rank() == 0) {
		info->wait_seconds = ready - done;
		info->gather_seconds = now() - ready;
	}
	ee_trace_release(&part);
	free(secs);
	if (rc < 0) {
		ee_trace_release(t);
		memset(info, 0, sizeof(*info));
	}
	return rc;
}
