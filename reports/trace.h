/*
 * trace.h - one inference pass over a dataset, kept per sample (schema in README.md).
 *
 * `eeprof profile` runs a checkpoint once over a dataset and records, for every
 * sample, what every later analysis needs: the label; per exit the predicted
 * class, max softmax, entropy, top-2 margin, the logits (calibration.h needs them;
 * optional), optionally the whole softmax, and
 * the executed MACs (standalone and cascade); the ensemble's prediction; per
 * EMG layer the open-gate count and the gate bit of every channel. Analyses
 * (analysis.h) read traces and never re-run the model. Traces of disjoint shards
 * of one dataset, made from one checkpoint, merge into one (ee_trace_merge).
 *
 * Memory: ee_trace_alloc() sizes every array for n samples; ee_trace_release()
 * frees them. Arrays are row-major with the sample first ("[n][E]").
 *
 * HDF5 file (format "eeprof-trace", trace_version 1), for n samples, E exits,
 * K classes, G gated layers and L timed layers (graph nodes). Numeric datasets
 * are chunked and deflated; strings are fixed-length UTF-8.
 *   attributes  format, trace_version, eeprof_version, checkpoint (path as given),
 *               checkpoint_sha256 (64 hex digits), arch, data (dataset spec),
 *               dataset_size, num_classes (K), exits (E)
 *   /index int32 [n]      strictly increasing positions in the dataset, < dataset_size
 *   /label int32 [n]      /pred int32 [n,E]   (labels and predictions in [0, K))
 *   /maxprob, /entropy, /margin float32 [n,E]
 *   /softmax float32 [n,E,K] (only with --softmax)
 *   /logits float32 [n,E,K] (finite; unless profiled with --no-logits)
 *   /ens_pred int32 [n]   /ens_maxprob float32 [n]
 *   /macs, /macs_cascade float64 [n,E]
 *   /exit_macs float64 [4,E]: standalone min, max, cascade min, max (static)
 *   /gates (only if G > 0), gated layers in model order:
 *     /gates/layer_name strings [G]: MLConv2d state_dict prefixes
 *     /gates/layer_channels int32 [G], /gates/layer_exit int32 [G] (region),
 *     /gates/layer_ring_macs float64 [G] (MACs one open channel adds per sample)
 *     /gates/open int32 [n,G]: open gates (= the bits set in that row)
 *     /gates/bits/<layer_name> uint8 [n,channels]: 1 = the ring ran
 *   /timing: attributes seconds (the inference loop), threads, batch, and (when recorded:
 *     traces of eeprof profile since MPI, R >= 1) ranks (R: the processes that made it,
 *     MPI ranks or merged shards) and rank_seconds float64 [R] (each one's wall time); if L > 0:
 *     /timing/layer_name, /timing/layer_kind ("conv2d+bn+relu") strings [L],
 *     /timing/layer_exit int32 [L], /timing/layer_head uint8 [L],
 *     /timing/layer_seconds float64 [L] (summed over the pass),
 *     /timing/layer_macs float64 [L] (mean executed MACs per sample)
 *   and if the layers were counted (profile --counters, not off; C >= 0 events counted,
 *   W >= 0 warnings; all four or none; traces without them read as not counted):
 *     /timing/counter_names strings [C] (PAPI event names, as asked for),
 *     /timing/counter_warnings strings [W] (events asked for but not counted, and why),
 *     /timing/layer_cpu_seconds float64 [L] (thread CPU time, summed over the pass),
 *     /timing/layer_counters float64 [L,C] (event counts, summed over the pass; finite)
 * ee_trace_write refuses to write, and ee_trace_read to read, a trace that breaks
 * any of the shapes and ranges above.
 */
#ifndef EE_TRACE_H
#define EE_TRACE_H

#include <stdbool.h>
#include <stdint.h>

#include "core/model.h"
#include "core/status.h"

#define EE_TRACE_FORMAT "eeprof-trace"
#define EE_TRACE_VERSION 1

struct ee_trace_gate {
	char *name;       /* MLConv2d state_dict prefix */
	int channels;     /* gates per sample */
	int exit;         /* region: shallowest exit it feeds (1-based) */
	double ring_macs; /* MACs one open channel adds per sample (16 x output plane) */
};

struct ee_trace_layer {
	char *name, *kind;
	int exit;         /* region, 1-based */
	bool head;
	double seconds;   /* wall time summed over the whole pass */
	double macs;      /* mean executed MACs per sample */
	double cpu_seconds; /* thread CPU time summed over the pass (if counted, else 0) */
};

#define EE_TRACE_MAX_COUNTERS 64 /* events a trace may hold */

/* Hardware counters of the timed layers (plugins/counters.h), as profile measured them. */
struct ee_trace_counters {
	bool counted;     /* layers' cpu_seconds and the values below were measured */
	int n;            /* C: events counted */
	char **names;     /* [C] their names */
	double *values;   /* [L][C] counts per layer, summed over the pass */
	int nwarn;        /* W */
	char **warn;      /* [W] "PAPI_TOT_CYC not counted: <PAPI's reason>" */
};

struct ee_trace {
	/* identity: merge refuses traces that differ here */
	char checkpoint[4096];    /* path as given to profile */
	char ckpt_sha256[65];     /* SHA-256 of the checkpoint file, hex */
	char arch[32];
	char data[256];           /* dataset spec */
	int dataset_size;         /* samples in the whole dataset */
	int num_classes;          /* K */
	int nexits;               /* E */
	double exit_macs[4][EE_MAX_EXITS]; /* standalone min, max, cascade min, max */

	int n;                    /* samples (rows) */
	int32_t *index;           /* [n] position in the dataset */
	int32_t *label;           /* [n] */
	int32_t *pred;            /* [n][E] argmax of each exit */
	float *maxprob;           /* [n][E] max softmax */
	float *entropy;           /* [n][E] softmax entropy, nats */
	float *margin;            /* [n][E] top-1 minus top-2 softmax */
	float *softmax;           /* [n][E][K], or NULL when not recorded */
	float *logits;            /* [n][E][K], or NULL when not recorded */
	int32_t *ens_pred;        /* [n] argmax of the mean of the exits' softmax */
	float *ens_maxprob;       /* [n] its max */
	double *macs;             /* [n][E] standalone executed MACs */
	double *macs_cascade;     /* [n][E] cascade executed MACs */

	int ngated;               /* G */
	struct ee_trace_gate *gated; /* [G] */
	int32_t *open;            /* [n][G] open gates per sample and EMG layer */
	uint8_t **bits;           /* [G] -> [n][channels of that layer] */

	/* timing: not deterministic, kept apart from analyses that must be */
	double seconds;           /* the inference loop (summed over the processes that ran it) */
	int threads, batch;
	int ranks;                /* R: processes that made it (MPI ranks, merged shards); 0 if
				     not recorded */
	double *rank_seconds;     /* [R] each one's wall time (load, inference, sending) */
	int nlayers;
	struct ee_trace_layer *layers; /* [nlayers] */
	struct ee_trace_counters counters;
};

/* Allocates every per-sample array for n rows (softmax only if with_softmax), the gate
 * table and bits for the given layers, and the layer table; identity left zero. */
int ee_trace_alloc(struct ee_trace *t, int n, int nexits, int num_classes, bool with_softmax,
		   int ngated, const int *channels, int nlayers, struct ee_err *err);
void ee_trace_release(struct ee_trace *t);
/* Softmax of logits z[k] in float32 as PyTorch computes it (max subtracted) into p[k], with
 * its argmax (first on ties), max, entropy (nats) and top-1 minus top-2 margin. */
void ee_softmax_stats(const float *z, int k, float *p, int32_t *pred, float *maxprob,
		      float *entropy, float *margin);

/* Allocates t->logits (zeroed) for t's n, E and K; merge and read call it when the
 * inputs have logits, profile unless told not to. */
int ee_trace_logits_alloc(struct ee_trace *t, struct ee_err *err);

/* Makes c counted, for nlayers layers, n events and nwarn warnings: values zeroed, names
 * and warnings NULL, to be set by the caller (strdup; ee_trace_counters_release frees). */
int ee_trace_counters_alloc(struct ee_trace_counters *c, int nlayers, int n, int nwarn,
			    struct ee_err *err);
/* A copy of src (of nlayers layers) into dst; dst is left empty on failure. */
int ee_trace_counters_copy(struct ee_trace_counters *dst, const struct ee_trace_counters *src,
			   int nlayers, struct ee_err *err);
void ee_trace_counters_release(struct ee_trace_counters *c);

/* Records that ranks processes made t, with their wall times seconds[ranks]. */
int ee_trace_set_ranks(struct ee_trace *t, int ranks, const double *seconds, struct ee_err *err);

/* Writes the HDF5 file atomically (temporary name + rename). */
int ee_trace_write(const struct ee_trace *t, const char *path, struct ee_err *err);
/* Reads and validates a trace file (format, version, shapes, ranges). */
int ee_trace_read(struct ee_trace *t, const char *path, struct ee_err *err);
/* The bytes of the HDF5 file ee_trace_write would write, made in memory: *buf (malloc'd, the
 * caller frees it) of *len bytes; to send a trace to another process (MPI). */
int ee_trace_to_bytes(const struct ee_trace *t, void **buf, size_t *len, struct ee_err *err);
/* Reads such bytes back, validated as ee_trace_read validates a file; name names them in
 * errors. */
int ee_trace_from_bytes(struct ee_trace *t, const void *buf, size_t len, const char *name,
			struct ee_err *err);
/* Joins traces of disjoint shards of one dataset made from one checkpoint, rows sorted by
 * index; EE_ERR_INPUT naming the field if they differ (counted events included) or overlap.
 * Times and counts are summed; the warnings are those of every input, once each; the ranks
 * are those of the inputs in order (not recorded if any input has none). */
int ee_trace_merge(struct ee_trace *out, const struct ee_trace *const *in, int count,
		   struct ee_err *err);
/* The same, naming input i as names[i] (its file) in errors rather than "trace i+1". */
int ee_trace_merge_named(struct ee_trace *out, const struct ee_trace *const *in,
			 const char *const *names, int count, struct ee_err *err);

#endif
