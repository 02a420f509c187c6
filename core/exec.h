/*
 * exec.h - running a model on batches, with the MAC ledger.
 *
 * A run owns everything a forward pass writes: one arena holding the memory
 * slots of the plan (sized for max_batch samples), the scratch shared by all
 * layers, and the per-sample records (gate decisions and open counts of every
 * gated layer). Weights stay in the model, which a run never modifies, so
 * several runs may share one model.
 *
 *     struct ee_run r;
 *     ee_run_init(&r, &model, 64, &err);
 *     ee_run_forward(&r, &batch);                    // batch: [n <= 64, C, H, W]
 *     struct ee_tensor logits = ee_run_output(&r, k); // [n, K, 1, 1] of exit k
 *     double macs = ee_run_sample_macs(&r, k, i, false);
 *     ee_run_release(&r);
 */
#ifndef EE_EXEC_H
#define EE_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

struct ee_run {
	const struct ee_model *m;
	int max_batch;
	int n;                   /* samples in the last forward */
	struct ee_arena arena;
	float **slot;            /* [m->nslots] slot base pointers */
	struct ee_tensor input;  /* the batch of the last forward (caller's memory) */
	int threads;             /* ee_threads_get() at init: scratch areas and parallelism */
	float *work;             /* scratch, threads areas of work_floats each */
	size_t work_floats;
	uint8_t *gates;          /* [m->ngated][max_batch][gates of that node], see ee_run_gates */
	size_t *gate_off;        /* [m->ngated] offset of each gated node in gates */
	int32_t *open;           /* [m->ngated][max_batch] open gates per sample */
	float *gate_z;           /* like gates, the z values, only if keep_z was set */
	bool time_layers;        /* record per-node wall time */
	double *seconds;         /* [m->nnodes] accumulated wall time per node */
	uint64_t ring_taps;      /* accumulated ring taps executed by gated nodes */
};

/* Sizes the run for max_batch samples and the current ee_threads_get() threads (set the
 * thread count first). */
int ee_run_init(struct ee_run *r, const struct ee_model *m, int max_batch, bool keep_z,
		struct ee_err *err);
/* Runs every node on input [n, C, H, W] (n <= max_batch, shape checked by the caller). */
void ee_run_forward(struct ee_run *r, const struct ee_tensor *input);
/* The output tensor of node i for the last forward. */
struct ee_tensor ee_run_tensor(const struct ee_run *r, int node);
/* Logits of exit k (0-based) of the last forward, [n, K, 1, 1]. */
struct ee_tensor ee_run_output(const struct ee_run *r, int k);
/* Executed MACs of sample i at exit k (0-based) in the last forward. */
double ee_run_sample_macs(const struct ee_run *r, int k, int i, bool cascade);
/* Gate decisions of gated node g (0-based among gated) for sample i: [gates] of 0/1. */
const uint8_t *ee_run_gates(const struct ee_run *r, int g, int i);
void ee_run_release(struct ee_run *r);

/* Wall-clock seconds from a monotonic clock. */
double ee_now(void);

#endif
