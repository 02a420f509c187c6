/*
 * profile.h - one inference pass of a checkpoint over a dataset into a trace.
 *
 * The library side of `eeprof profile` (and of `eeprof report`, which profiles
 * every checkpoint it is given): loads the checkpoint, runs the samples
 * [offset, offset + limit) of the dataset in batches with per-layer timing on,
 * and fills a trace (trace.h), identity included.
 */
#ifndef EE_PROFILE_H
#define EE_PROFILE_H

#include <stdbool.h>

#include "trace.h"

struct ee_profile_opts {
	int batch;         /* samples per forward pass (default 64) */
	int threads;       /* set by the caller with ee_threads_set() before this call */
	int offset, limit; /* samples [offset, offset + limit); limit 0 = to the end */
	bool softmax;      /* record the full softmax of every exit */
	/* called after each batch with samples done and total (progress bars); may be NULL */
	void (*progress)(void *ctx, long done, long total);
	void *progress_ctx;
};

int ee_profile_run(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		   struct ee_trace *t, struct ee_err *err);

/* Softmax of logits z[k] in float32 as PyTorch computes it (max subtracted) into p[k], with
 * its argmax (first on ties), max, entropy (nats) and top-1 minus top-2 margin. */
void ee_softmax_stats(const float *z, int k, float *p, int32_t *pred, float *maxprob,
		      float *entropy, float *margin);

#endif
