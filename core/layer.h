/*
 * layer.h - the small, versioned vtable behind every layer kind.
 *
 * One kind per file in core/layers/. A kind subclasses struct ee_layer (the ops
 * pointer first, then its own fields), is created by its constructor in
 * layers.h, and is driven by the model and executor only through these methods:
 *
 *   infer      check the input shapes, store what forward needs, give the output shape
 *   cost       MACs and other ops per sample (counting convention in README.md)
 *   workspace  (optional) scratch floats ONE thread needs for a batch of n samples
 *   prepare    (optional) once, after the weights are loaded (BN folding, packing)
 *   forward    compute a batch; never fails (shapes were checked by infer)
 *
 * Layer structs live in the model's pool and weights in its slab, so a kind has
 * no destructor. Methods above are valid for EE_LAYER_API 1; a kind says which API it
 * implements in ops.api_version, and ee_model_add() refuses a kind written for another.
 */
#ifndef EE_LAYER_H
#define EE_LAYER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "status.h"
#include "tensor.h"

#define EE_LAYER_API 1
#define EE_LAYER_MAX_IN 4

/* Activation fused into a layer's epilogue. */
enum ee_act {
	EE_ACT_NONE,
	EE_ACT_RELU,
	EE_ACT_SIGMOID,
};

/* How a kind's output relates to its inputs' memory (see model.c's planner). */
enum ee_alias {
	EE_ALIAS_NONE,   /* output has its own buffer */
	EE_ALIAS_SLICE,  /* output is a channel range of input 0: forward is a no-op */
	EE_ALIAS_CONCAT, /* inputs are written straight into the output's channel ranges */
};

/* Per-sample cost of one layer; see "Counting convention" in README.md. */
struct ee_cost {
	double macs;      /* MACs executed for every sample (conv, transposed conv, linear) */
	double gate_macs; /* extra MACs per open gate (EMG outer ring), 0 if not gated */
	int gates;        /* gates per sample (EMG channels), 0 if not gated */
	double other;     /* non-MAC ops: BN, activations, pooling, adds, muls, gate arithmetic */
};

/* What forward sees for one batch. */
struct ee_exec {
	int n;                      /* samples in the batch (<= the run's max batch) */
	const struct ee_tensor *in; /* [nin] inputs, each [n, ...] */
	int nin;
	struct ee_tensor out;       /* output [n, ...], maybe a view into a wider buffer */
	float *work;                /* scratch of thread 0: workspace(n) floats, shared by all layers */
	size_t work_stride;         /* floats from one thread's scratch to the next */
	int threads;                /* threads with a scratch area (work + t * work_stride) */
	uint8_t *gates;             /* gated kinds: [n][gates] decisions to write (1 = open) */
	int32_t *open;              /* gated kinds: [n] open gates per sample to write */
	float *gate_z;              /* gated kinds, optional: [n][gates] z = mean(|I| - t) */
	uint64_t ring_taps;         /* gated kinds add the ring taps they executed (tests) */
};

struct ee_layer;

struct ee_layer_ops {
	int api_version;  /* EE_LAYER_API */
	const char *kind; /* "conv2d", "batchnorm", ... */
	enum ee_alias alias;
	int (*infer)(struct ee_layer *l, const struct ee_shape *in, int nin, struct ee_shape *out,
		     struct ee_err *err);
	void (*cost)(const struct ee_layer *l, struct ee_cost *c);
	size_t (*workspace)(const struct ee_layer *l, int n);   /* (optional) */
	int (*prepare)(struct ee_layer *l, struct ee_err *err); /* (optional) */
	void (*forward)(const struct ee_layer *l, struct ee_exec *x);
};

struct ee_layer {
	const struct ee_layer_ops *ops;
	const char *name;        /* state_dict prefix of the module it computes ("layer1.0.conv1") */
	const char *fused;       /* (optional) modules folded into it ("bn1+relu") */
	struct ee_shape in, out; /* per-sample shapes of input 0 and the output, set by infer */
	int alias_c0;            /* EE_ALIAS_SLICE kinds: first channel of input 0 in the view */
};

#endif
