/*
 * exec.h - running a model on batches, with the MAC ledger.
 *
 * A run owns everything a forward pass writes, in one arena: per thread a lane
 * (the memory slots of the plan and scratch) and, for the whole batch, the exit
 * logits and the per-sample records (gate decisions and open counts of every
 * gated layer). Weights stay in the model, which a run never modifies, so
 * several runs may share one model.
 *
 * A batch runs as micro-batches small enough that a lane's activations stay in
 * cache (ee_run_micro). With several threads and several micro-batches, each
 * thread runs whole micro-batches through the whole network in its own lane;
 * a single micro-batch (batch 1) runs in lane 0 with the threads splitting each
 * layer instead.
 *
 * ee_run_forward_dynamic() is real early exit: a micro-batch runs stage by stage
 * (model.h); after exit k a callback decides which samples leave, and the rest
 * are compacted to the front of the buffers the later stages read, so that
 * later layers only compute what is still running. Per-layer hooks (counters)
 * see every node with its lane and sample count.
 *
 * A batch through a finished, prepared model (compiled by make check-headers):
 *
 *     // given: const struct ee_model *m, const struct ee_tensor *batch, int k, int i
 *     struct ee_err err = { 0 };
 *     struct ee_run r;
 *     if (ee_run_init(&r, m, 64, false, &err) < 0)   // batches of up to 64 samples
 *             return err.code;
 *     ee_run_forward(&r, batch);                      // batch: [n <= 64, C, H, W]
 *     struct ee_tensor logits = ee_run_output(&r, k); // [n, K, 1, 1] of exit k
 *     double macs = ee_run_sample_macs(&r, k, i, false);
 *     ee_run_release(&r);
 */
#ifndef EE_EXEC_H
#define EE_EXEC_H

#include <stdbool.h>
#include <stdint.h>

#include "model.h"

/* Activation bytes a lane aims to keep per micro-batch (about a share of L2 + L3). */
#define EE_MICRO_BYTES ((size_t)4 << 20)

/* One thread's memory for a micro-batch: the memory slots of the plan and scratch. */
struct ee_lane {
	float **slot;        /* [m->nslots] slot bases, each slot_floats * micro floats */
	float *work;         /* scratch: work_floats, times threads for lane 0 */
	double *seconds;     /* [m->nnodes] wall time per node in this lane */
	uint64_t ring_taps;  /* ring taps its gated nodes executed */
	int n;               /* samples of the micro-batch it ran last */
	int *index;          /* [micro] batch index of each row (rows move when samples leave) */
	uint8_t *gates;      /* [micro][most gates of a node] decisions of the node just run */
	float *gate_z;       /* same shape, z values (keep_z only) */
	int32_t *open;       /* [micro] open gates of the node just run */
	double stage_seconds[EE_MAX_EXITS]; /* wall time of each stage in this lane */
	uint8_t *leave;      /* [micro] scratch for exit decisions */
};

/* Called around every node when set (counters): lane, node id and samples in the call. */
struct ee_run_hooks {
	void (*begin)(void *ctx, int lane, int node);
	void (*end)(void *ctx, int lane, int node, int n);
	void *ctx;
};

/*
 * Exit decision of a dynamic run: after exit k (0-based) has run on n samples whose
 * logits are in `logits` [n, K, 1, 1] and whose batch indices are index[0..n), set
 * leave[j] = 1 for each sample that exits here. Called concurrently from several
 * threads (for disjoint samples). At the last exit every sample leaves.
 */
typedef void (*ee_exit_fn)(void *ctx, int k, const struct ee_tensor *logits, const int *index,
			   int n, uint8_t *leave);

struct ee_run {
	const struct ee_model *m;
	int max_batch;
	int micro;               /* samples per micro-batch (a lane's slots hold this many) */
	int nlanes;              /* lanes = threads at init (1 for one thread or max_batch 1) */
	int n;                   /* samples in the last forward */
	struct ee_arena arena;
	struct ee_lane *lanes;   /* [nlanes] */
	struct ee_tensor input;  /* the batch of the last forward (caller's memory) */
	int threads;             /* ee_threads_get() at init */
	size_t work_floats;      /* one thread's scratch */
	float *out[EE_MAX_EXITS];/* [max_batch][numel of exit k's logits] */
	uint8_t *gates;          /* [m->ngated][max_batch][gates of that node], see ee_run_gates */
	size_t *gate_off;        /* [m->ngated] offset of each gated node in gates */
	int32_t *open;           /* [m->ngated][max_batch] open gates per sample */
	float *gate_z;           /* like gates, the z values, only if keep_z was set */
	bool time_layers;        /* record per-node wall time */
	double *seconds;         /* [m->nnodes] per-node time summed over lanes and forwards */
	double stage_seconds[EE_MAX_EXITS]; /* per stage, summed over lanes and forwards */
	uint64_t ring_taps;      /* accumulated ring taps executed by gated nodes */
	float *hold[EE_MAX_EXITS];  /* [max_batch][hold_floats[k]] the carried buffers (carry[k])
				     * of the samples past exit k, held between the stages of a
				     * dynamic run in lane 0 (see forward_staged in exec.c);
				     * malloc'd by the first dynamic forward */
	size_t hold_floats[EE_MAX_EXITS]; /* floats per sample in hold[k] */
	int *hold_index;         /* [max_batch] batch index of each held sample */
	int *taken;              /* [max_batch] exit (0-based) each sample left at (dynamic runs;
				  * E-1 for all in ee_run_forward) */
	const struct ee_run_hooks *hooks; /* (optional) */
};

/* Sizes the run for max_batch samples and the current ee_threads_get() threads (set the
 * thread count first), micro-batches chosen by ee_run_micro(). */
int ee_run_init(struct ee_run *r, const struct ee_model *m, int max_batch, bool keep_z,
		struct ee_err *err);
/* The same with an explicit micro-batch size (1..max_batch; 0 = automatic). */
int ee_run_init_micro(struct ee_run *r, const struct ee_model *m, int max_batch, int micro,
		      bool keep_z, struct ee_err *err);
/* Automatic micro-batch: as many samples as fit EE_MICRO_BYTES of activations (at least
 * 1, at most max_batch). */
int ee_run_micro(const struct ee_model *m, int max_batch);
/* Runs every node on input [n, C, H, W] (n <= max_batch, shape checked by the caller). */
void ee_run_forward(struct ee_run *r, const struct ee_tensor *input);
/* Real early exit on input [n, C, H, W]: see ee_exit_fn. Afterwards r->taken[i] is the exit
 * sample i left at, its logits are row i of ee_run_output(r, taken[i]) (rows of deeper exits
 * are stale), and ee_run_sample_macs(r, taken[i], i, true) is what it really cost.
 * EE_ERR_USAGE if a later stage reads the network input (not supported). */
int ee_run_forward_dynamic(struct ee_run *r, const struct ee_tensor *input, ee_exit_fn decide,
			   void *ctx, struct ee_err *err);
/* The output tensor of node i in lane 0's last micro-batch (the whole batch when it ran
 * as one micro-batch, e.g. when micro = max_batch). */
struct ee_tensor ee_run_tensor(const struct ee_run *r, int node);
/* Logits of exit k (0-based) of the last forward, dense [n, K, 1, 1]. */
struct ee_tensor ee_run_output(const struct ee_run *r, int k);
/* Executed MACs of sample i at exit k (0-based) in the last forward. */
double ee_run_sample_macs(const struct ee_run *r, int k, int i, bool cascade);
/* Gate decisions of gated node g (0-based among gated) for sample i: [gates] of 0/1. */
const uint8_t *ee_run_gates(const struct ee_run *r, int g, int i);
void ee_run_release(struct ee_run *r);

/* Wall-clock seconds from a monotonic clock. */
double ee_now(void);

#endif
