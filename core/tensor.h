/*
 * tensor.h - the NCHW float32 tensor view every kernel works on.
 *
 * A tensor never owns memory: its data is carved from a run's arena (activations)
 * or from a model's weight slab. Samples may sit further apart than c*h*w floats,
 * so that a tensor can be a channel range of a wider buffer: that is how channel
 * concatenation and slicing cost nothing (MLModule's cat([x1, x2])[:, :oup]).
 *
 *     sample i, channel ch, row y, column x  ->  data[i*nstride + (ch*h + y)*w + x]
 */
#ifndef EE_TENSOR_H
#define EE_TENSOR_H

#include <stddef.h>

/* The shape of one sample; a batch adds n. Linear layers use c = features, h = w = 1. */
struct ee_shape {
	int c, h, w;
};

struct ee_tensor {
	int n, c, h, w;  /* shape [n, c, h, w] */
	size_t nstride;  /* floats from one sample to the next, >= c*h*w */
	float *data;     /* [n][nstride]; only the first c*h*w floats of a sample belong to it */
};

static inline size_t ee_shape_numel(struct ee_shape s)
{
	return (size_t)s.c * (size_t)s.h * (size_t)s.w;
}

static inline size_t ee_tensor_plane(const struct ee_tensor *t)
{
	return (size_t)t->h * (size_t)t->w;
}

/* Pointer to sample i (its channel 0). */
static inline float *ee_tensor_sample(const struct ee_tensor *t, int i)
{
	return t->data + (size_t)i * t->nstride;
}

/* A dense tensor over data: nstride = c*h*w. */
static inline struct ee_tensor ee_tensor_dense(float *data, int n, int c, int h, int w)
{
	struct ee_tensor t = { n, c, h, w, (size_t)c * h * w, data };
	return t;
}

static inline struct ee_shape ee_tensor_shape(const struct ee_tensor *t)
{
	struct ee_shape s = { t->c, t->h, t->w };
	return s;
}

#endif
