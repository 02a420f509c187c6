/*
 * profile.h - one inference pass of a checkpoint over a dataset into a trace.
 *
 * The library side of `eeprof profile` (and of `eeprof report`, which profiles
 * every checkpoint it is given): loads the checkpoint, runs the samples
 * [offset, offset + limit) of the dataset in batches with per-layer timing on,
 * and fills a trace (reports/trace.h), identity included. With a counter set
 * (plugins/counters.h, opened by the caller) the layers are also counted: their CPU
 * time and events go into the trace's /timing, the set's warnings with them.
 *
 *     struct ee_counters c;
 *     ee_counters_open(&c, "PAPI_TOT_INS,PAPI_TOT_CYC", &err);  // print c.warn[]
 *     o.counters = &c;
 *     ee_profile_run("m.h5", "fashion-mnist:test", &o, &t, &err); // c.warn[] may grow
 *     ee_counters_close(&c);
 */
#ifndef EE_PROFILE_H
#define EE_PROFILE_H

#include <stdbool.h>

#include "core/imgprep.h"
#include "plugins/counters.h"
#include "plugins/dataset.h"
#include "reports/trace.h"

struct ee_profile_opts {
	int batch;         /* samples per forward pass (default 64) */
	int threads;       /* set by the caller with ee_threads_set() before this call */
	int offset, limit; /* samples [offset, offset + limit); limit 0 = to the end */
	/* ranks > 1: only shard rank of those samples split in ranks (plugins/dist.h,
	 * ee_dist_shard); the trace may then have no sample. 0, 0 or 0, 1: all of them */
	int rank, ranks;
	bool softmax;      /* record the full softmax of every exit */
	bool no_logits;    /* do not record every exit's logits (calibration needs them) */
	/* called after each batch with samples done and total (progress bars); may be NULL */
	void (*progress)(void *ctx, long done, long total);
	void *progress_ctx;
	/* (optional) counters attached to the run while it profiles; NULL: the layers are
	 * timed but not counted */
	struct ee_counters *counters;
	/* (optional, the caller's) records every layer of every micro-batch (reports/
	 * timeline.h): attached to the run for the loop, after the counters; the caller
	 * writes it and releases it */
	struct ee_timeline *timeline;
	/* image files (imagefolder:, imagelist:): resize and filter; zero: the defaults */
	struct ee_imgprep prep;
	/* (optional) --skip-bad: the selected image files that cannot be decoded are left
	 * out (ee_dataset_keep_good: each is decoded once more before the pass) and counted
	 * here; NULL: the first one fails the pass. The trace's index keeps the listing's
	 * positions. */
	struct ee_skipped *skipped;
};

int ee_profile_run(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		   struct ee_trace *t, struct ee_err *err);

#endif
