/*
 * realexit_dist.c - real early exit shared out over the ranks of an MPI job; see
 * realexit_dist.h.
 */
#include "realexit_dist.h"

#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "plugins/dist.h"
#include "plugins/trace_dist.h"

int ee_realexit_dist_open(struct ee_realexit *re, const char *checkpoint, const char *data,
			  const struct ee_realexit_opts *o, struct ee_err *err)
{
	struct ee_realexit_opts mine = *o;
	int opened, rc;

	mine.rank = ee_dist_rank();
	mine.ranks = ee_dist_size();
	opened = ee_realexit_open(re, checkpoint, data, &mine, err);
	if ((rc = ee_dist_agree(opened, err)) < 0 && opened == EE_OK) /* failed elsewhere */
		ee_realexit_release(re);
	return rc;
}

/* re's ranks and rank_seconds. */
static int set_ranks(struct ee_realexit *re, int ranks, const double *secs, struct ee_err *err)
{
	free(re->rank_seconds);
	if (!(re->rank_seconds = malloc((size_t)ranks * sizeof(*re->rank_seconds)))) {
		re->ranks = 0;
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	}
	memcpy(re->rank_seconds, secs, (size_t)ranks * sizeof(*secs));
	re->ranks = ranks;
	return EE_OK;
}

/* What a pass counted and timed, summed over the ranks on rank 0; each timed run's seconds
 * there those of the slowest rank. */
static void reduce_pass(struct ee_realexit_pass *p, double *run_seconds, int repeat, int e)
{
	struct ee_counts *c = &p->counts;

	ee_dist_reduce(c->v, c->nnodes * c->nch, EE_DIST_LLONG, EE_DIST_SUM);
	ee_dist_reduce(c->calls, c->nnodes, EE_DIST_LONG, EE_DIST_SUM);
	ee_dist_reduce(c->samples, c->nnodes, EE_DIST_LONG, EE_DIST_SUM);
	ee_dist_reduce(c->macs, c->nnodes, EE_DIST_DOUBLE, EE_DIST_SUM);
	ee_dist_reduce(p->stage_seconds, e, EE_DIST_DOUBLE, EE_DIST_SUM);
	ee_dist_reduce(&p->cpu_seconds, 1, EE_DIST_DOUBLE, EE_DIST_SUM);
	ee_dist_reduce(run_seconds, repeat, EE_DIST_DOUBLE, EE_DIST_MAX);
}

/* Every rank's n-element array a (elements of size bytes) into *all on rank 0, in rank
 * order; *total gets the elements there. */
static int gather_array(const void *a, int n, size_t size, void **all, int *total,
			struct ee_err *err)
{
	int ranks = ee_dist_size(), r, rc = EE_OK;
	size_t *lens = ee_dist_rank() == 0 ? calloc((size_t)ranks, sizeof(*lens)) : NULL;

	*total = 0;
	if (ee_dist_rank() == 0 && !lens)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = ee_dist_agree(rc, err)) == EE_OK)
		rc = ee_dist_gather(a, (size_t)n * size, all, lens, err);
	for (r = 0; rc == EE_OK && lens && r < ranks; r++)
		*total += (int)(lens[r] / size);
	free(lens);
	return rc;
}

/* On rank 0: the merged traces and gathered arrays (of total samples) in place of its
 * shard's, and the figures made again. Takes full, dyn, taken and macs in all cases. */
static int whole(struct ee_realexit *re, const struct ee_trace_parts *full,
		 const struct ee_trace_parts *dyn, int *taken, double *macs, int total,
		 struct ee_err *err)
{
	struct ee_trace f, d;
	int rc = ee_trace_parts_merge(full, &f, err);

	if (rc < 0) {
		free(taken);
		free(macs);
		return rc;
	}
	if ((rc = ee_trace_parts_merge(dyn, &d, err)) < 0) {
		ee_trace_release(&f);
		free(taken);
		free(macs);
		return rc;
	}
	ee_trace_release(&re->full);
	ee_trace_release(&re->dyn);
	free(re->taken);
	free(re->macs);
	re->full = f;
	re->dyn = d;
	re->taken = taken;
	re->macs = macs;
	if (f.n != total || d.n != total)
		return ee_err_set(err, EE_ERR_INPUT, "the ranks' parts hold %d, %d and %d samples",
				  f.n, d.n, total);
	re->count = total;
	re->first = re->o.offset;
	ee_realexit_results(re);
	return EE_OK;
}

/* Everything every rank measured to rank 0 (see the top of realexit_dist.h). Collective. */
static int gather(struct ee_realexit *re, struct ee_err *err)
{
	int ranks = ee_dist_size(), repeat = re->dyn_spread.n, total = 0, rc;
	struct ee_trace_parts full = { 0 }, dyn = { 0 };
	void *taken = NULL, *macs = NULL;
	double *secs = calloc((size_t)ranks, sizeof(*secs));

	rc = ee_dist_agree(secs ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory"), err);
	if (rc == EE_OK && (rc = ee_trace_gather(&re->full, &full, err)) == EE_OK &&
	    (rc = ee_trace_gather(&re->dyn, &dyn, err)) == EE_OK &&
	    (rc = gather_array(re->taken, re->count, sizeof(int), &taken, &total, err)) == EE_OK)
		rc = gather_array(re->macs, re->count, sizeof(double), &macs, &total, err);
	if (rc == EE_OK) {
		reduce_pass(&re->all, re->all_runs, repeat, re->e);
		reduce_pass(&re->dynamic, re->dyn_runs, repeat, re->e);
		ee_dist_gather_double(ee_now() - re->opened, secs);
	}
	if (rc == EE_OK && ee_dist_rank() == 0) {
		rc = whole(re, &full, &dyn, taken, macs, total, err);
		taken = macs = NULL;
		secs[0] = ee_now() - re->opened;
		if (rc == EE_OK)
			rc = set_ranks(re, ranks, secs, err);
	}
	ee_trace_parts_release(&full);
	ee_trace_parts_release(&dyn);
	free(taken);
	free(macs);
	free(secs);
	return rc;
}

int ee_realexit_dist_run(struct ee_realexit *re, const struct ee_exit_rule *rule,
			 struct ee_counters *c, bool measure, struct ee_err *err)
{
	int rc = ee_realexit_run(re, rule, c, measure, err);
	double alone;

	if (ee_dist_size() == 1) {
		alone = ee_now() - re->opened;
		return rc == EE_OK ? set_ranks(re, 1, &alone, err) : rc;
	}
	if ((rc = ee_dist_agree(rc, err)) < 0)
		return rc;
	return ee_dist_agree(gather(re, err), err);
}
