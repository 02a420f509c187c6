/*
 * profile_dist.c - one profile pass shared out over the ranks of an MPI job; see
 * profile_dist.h.
 */
#include "profile_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "plugins/dist.h"

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* On rank 0: the parts of all (lens[r] bytes from rank r, in rank order) read back and
 * merged into t; ranks without samples sent nothing. */
static int combine(const char *all, const size_t *lens, int ranks, struct ee_trace *t,
		   struct ee_err *err)
{
	struct ee_trace *part = calloc((size_t)ranks, sizeof(*part));
	const struct ee_trace **in = calloc((size_t)ranks, sizeof(*in));
	char (*names)[32] = calloc((size_t)ranks, sizeof(*names));
	const char **name = calloc((size_t)ranks, sizeof(*name));
	int r, n = 0, rc = part && in && names && name ? EE_OK
						       : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	for (r = 0; r < ranks && rc == EE_OK; all += lens[r], r++) {
		if (!lens[r])
			continue;
		snprintf(names[n], sizeof(names[n]), "rank %d", r);
		name[n] = names[n];
		rc = ee_trace_from_bytes(&part[n], all, lens[r], name[n], err);
		in[n] = &part[n];
		n += rc == EE_OK;
	}
	if (rc == EE_OK)
		rc = ee_trace_merge_named(t, in, name, n, err);
	for (r = 0; r < n; r++)
		ee_trace_release(&part[r]);
	free(part);
	free(in);
	free(names);
	free(name);
	return rc;
}

/* This rank's shard profiled and encoded into *buf (NULL, 0 bytes if it has no sample);
 * *encode gets the seconds the encoding took. */
static int profile_shard(const char *checkpoint, const char *data,
			 const struct ee_profile_opts *o, void **buf, size_t *len, double *encode,
			 struct ee_err *err)
{
	struct ee_profile_opts mine = *o;
	struct ee_trace t;
	double start;
	int rc;

	*buf = NULL;
	*len = 0;
	*encode = 0;
	mine.rank = ee_dist_rank();
	mine.ranks = ee_dist_size();
	if ((rc = ee_profile_run(checkpoint, data, &mine, &t, err)) < 0)
		return rc;
	start = now();
	if (t.n > 0)
		rc = ee_trace_to_bytes(&t, buf, len, err);
	*encode = now() - start;
	ee_trace_release(&t);
	return rc;
}

/* Every rank's bytes to rank 0 and every rank's wall time into secs (rank 0's own once the
 * trace is whole), merged there into t. Collective; called once every rank has its part. */
static int gather_and_merge(const void *buf, size_t len, double start, double *secs,
			    struct ee_trace *t, struct ee_profile_dist_info *info,
			    struct ee_err *err)
{
	int ranks = ee_dist_size(), r, rc = EE_OK;
	size_t *lens = ee_dist_rank() == 0 ? calloc((size_t)ranks, sizeof(*lens)) : NULL;
	void *all = NULL;

	if (ee_dist_rank() == 0 && !lens)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = ee_dist_agree(rc, err)) < 0 || (rc = ee_dist_gather(buf, len, &all, lens, err)) < 0)
		return rc;
	ee_dist_gather_double(now() - start, secs);
	if (ee_dist_rank() == 0) {
		rc = combine(all, lens, ranks, t, err);
		for (r = 0; r < ranks; r++)
			info->bytes += lens[r];
		secs[0] = now() - start;
		if (rc == EE_OK)
			rc = ee_trace_set_ranks(t, ranks, secs, err);
	}
	free(all);
	free(lens);
	return rc;
}

int ee_profile_dist(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		    struct ee_trace *t, struct ee_profile_dist_info *info, struct ee_err *err)
{
	int ranks = ee_dist_size(), rc;
	double start = now(), encode = 0, done, ready, *secs;
	size_t len = 0;
	void *buf = NULL;

	memset(info, 0, sizeof(*info));
	if (ranks == 1) {
		rc = ee_profile_run(checkpoint, data, o, t, err);
		done = now() - start;
		return rc == EE_OK ? ee_trace_set_ranks(t, 1, &done, err) : rc;
	}
	memset(t, 0, sizeof(*t));
	rc = profile_shard(checkpoint, data, o, &buf, &len, &encode, err);
	if (!(secs = calloc((size_t)ranks, sizeof(*secs))) && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	done = now();
	rc = ee_dist_agree(rc, err); /* rank 0 waits here for the slowest rank */
	ready = now();
	if (rc == EE_OK)
		rc = ee_dist_agree(gather_and_merge(buf, len, start, secs, t, info, err), err);
	if (rc == EE_OK && ee_dist_rank() == 0) {
		info->wait_seconds = ready - done;
		info->gather_seconds = encode + (now() - ready);
	}
	free(buf);
	free(secs);
	if (rc < 0) {
		ee_trace_release(t);
		memset(info, 0, sizeof(*info));
	}
	return rc;
}
