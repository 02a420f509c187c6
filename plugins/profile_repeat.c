/* profile_repeat.c - see profile_repeat.h. */
#include "profile_repeat.h"

#include <stdlib.h>
#include <string.h>

#include "plugins/profile_dist.h"
#include "reports/spread.h"

/* The timed figures of one layer kept per pass: seconds, CPU seconds, then each event. */
struct timed {
	int nlayers, nfields, repeat;
	double *v; /* [nlayers][nfields][repeat] */
};

static double *at(const struct timed *tm, int layer, int field, int run)
{
	return &tm->v[((size_t)layer * tm->nfields + field) * tm->repeat + run];
}

/* Pass run's figures of t into tm; EE_ERR_INPUT if its layers or events differ from the
 * first pass's. */
static int keep(struct timed *tm, const struct ee_trace *t, int run, struct ee_err *err)
{
	int nev = t->counters.counted ? t->counters.n : 0, i, k;

	if (t->nlayers != tm->nlayers || 2 + nev != tm->nfields)
		return ee_err_set(err, EE_ERR_INPUT, "profile pass %d has %d layers and %d events, "
				  "the first %d and %d", run + 1, t->nlayers, nev, tm->nlayers,
				  tm->nfields - 2);
	for (i = 0; i < t->nlayers; i++) {
		*at(tm, i, 0, run) = t->layers[i].seconds;
		*at(tm, i, 1, run) = t->layers[i].cpu_seconds;
		for (k = 0; k < nev; k++)
			*at(tm, i, 2 + k, run) = t->counters.values[(size_t)i * nev + k];
	}
	return EE_OK;
}

/* Every kept figure of t replaced by its median over the passes. */
static void medians(const struct timed *tm, struct ee_trace *t)
{
	struct ee_spread s;
	int i, f;

	for (i = 0; i < tm->nlayers; i++)
		for (f = 0; f < tm->nfields; f++) {
			ee_spread_of(at(tm, i, f, 0), tm->repeat, &s);
			if (f == 0)
				t->layers[i].seconds = s.median;
			else if (f == 1)
				t->layers[i].cpu_seconds = s.median;
			else
				t->counters.values[(size_t)i * (tm->nfields - 2) + f - 2] = s.median;
		}
}

int ee_profile_repeat(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		      int repeat, int warmup, struct ee_trace *t, double *runs,
		      struct ee_err *err)
{
	struct ee_profile_dist_info info;
	struct ee_profile_opts quiet = *o; /* the passes but the first timed one: no timeline */
	struct timed tm = { 0 };
	struct ee_trace u;
	struct ee_spread s;
	int r, rc = EE_OK;

	if (repeat < 1 || repeat > EE_REPEAT_MAX || warmup < 0)
		return ee_err_set(err, EE_ERR_USAGE, "repeat %d, warmup %d: out of range", repeat,
				  warmup);
	quiet.timeline = NULL;
	for (r = 0; r < warmup && rc == EE_OK; r++)
		if ((rc = ee_profile_dist(checkpoint, data, &quiet, &u, &info, err)) == EE_OK)
			ee_trace_release(&u);
	if (rc < 0 || (rc = ee_profile_dist(checkpoint, data, o, t, &info, err)) < 0)
		return rc;
	runs[0] = t->seconds;
	if (repeat == 1)
		return EE_OK;
	tm.nlayers = t->nlayers;
	tm.nfields = 2 + (t->counters.counted ? t->counters.n : 0);
	tm.repeat = repeat;
	if (!(tm.v = calloc((size_t)tm.nlayers * tm.nfields * repeat + 1, sizeof(*tm.v))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d timed passes", repeat);
	if (rc == EE_OK)
		rc = keep(&tm, t, 0, err);
	for (r = 1; r < repeat && rc == EE_OK; r++) {
		if ((rc = ee_profile_dist(checkpoint, data, &quiet, &u, &info, err)) < 0)
			break;
		runs[r] = u.seconds;
		rc = keep(&tm, &u, r, err);
		ee_trace_release(&u);
	}
	if (rc == EE_OK) {
		medians(&tm, t);
		ee_spread_of(runs, repeat, &s);
		t->seconds = s.median;
	} else {
		ee_trace_release(t);
	}
	free(tm.v);
	return rc;
}
