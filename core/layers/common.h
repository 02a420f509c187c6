/*
 * common.h - what several kinds in core/layers/ share; private to this folder.
 *
 * Input checks for infer(), the job split of elementwise kinds, and the k x k
 * window pooling that maxpool.c and avgpool.c differ in by one flag. Everything
 * is static inline so that each kind's file stays the one place its kind lives.
 */
#ifndef EE_LAYERS_COMMON_H
#define EE_LAYERS_COMMON_H

#include <stdbool.h>
#include <string.h>

#include "../kernels.h"
#include "../layers.h"
#include "../threads.h"

/* infer(): EE_OK if the kind accepts nin inputs (lo..hi). */
static inline int kind_check_inputs(int nin, int lo, int hi, struct ee_err *err)
{
	if (nin >= lo && nin <= hi)
		return EE_OK;
	if (lo == hi)
		return ee_err_set(err, EE_ERR_INPUT, "takes %d input%s, got %d", lo,
				  lo == 1 ? "" : "s", nin);
	return ee_err_set(err, EE_ERR_INPUT, "takes %d to %d inputs, got %d", lo, hi, nin);
}

/* infer() of elementwise kinds: exactly nin inputs of one shape, which the output has. */
static inline int kind_infer_same(const struct ee_shape *in, int nin, int want, struct ee_shape *out,
				  struct ee_err *err)
{
	int j, rc = kind_check_inputs(nin, want, want, err);

	if (rc < 0)
		return rc;
	for (j = 1; j < nin; j++)
		if (in[j].c != in[0].c || in[j].h != in[0].h || in[j].w != in[0].w)
			return ee_err_set(err, EE_ERR_INPUT,
					  "input %d is %dx%dx%d but input 1 is %dx%dx%d", j + 1,
					  in[j].c, in[j].h, in[j].w, in[0].c, in[0].h, in[0].w);
	*out = in[0];
	return EE_OK;
}

/* A zeroed kind struct of size bytes (its base first) with ops set; NULL if out of memory. */
static inline void *kind_alloc(struct ee_pool *p, size_t size, const struct ee_layer_ops *ops)
{
	struct ee_layer *l = ee_pool_alloc(p, size);

	if (l)
		l->ops = ops;
	return l;
}

/* Plane ch of sample i of t. */
static inline float *kind_plane(const struct ee_tensor *t, int i, int ch)
{
	return ee_tensor_sample(t, i) + (size_t)ch * t->h * t->w;
}

/*
 * A parallel loop over n x per items of a layer (item j of sample i: a channel plane,
 * a chunk, an input) on the team (threads.h). item() gets the layer, the batch, a
 * kind's own argument, i, j and the thread's scratch index tid; work is the loop's
 * estimated cost in MACs (about 4 per float of memory-bound work), which decides
 * whether it is worth more than the calling thread.
 */
typedef void kind_item_fn(const struct ee_layer *l, struct ee_exec *x, const void *arg, int i,
			  int j, int tid);

struct kind_loop {
	const struct ee_layer *l;
	struct ee_exec *x;
	const void *arg;
	long per;
	kind_item_fn *item;
};

static inline void kind_loop_range(void *ctx, long lo, long hi, int tid)
{
	const struct kind_loop *k = ctx;
	long job;

	for (job = lo; job < hi; job++)
		k->item(k->l, k->x, k->arg, (int)(job / k->per), (int)(job % k->per), tid);
}

static inline void kind_for(const struct ee_layer *l, struct ee_exec *x, const void *arg, int n,
			    long per, double work, kind_item_fn *item)
{
	struct kind_loop k = { l, x, arg, per, item };

	ee_parallel_for(x->threads, (long)n * per, work, kind_loop_range, &k);
}

/* Work of a memory-bound loop touching floats floats (threads.h's unit). */
static inline double kind_mem_work(double floats)
{
	return 4.0 * floats;
}

/* Copies len floats unless dst is src already (a view the planner placed there). */
static inline void kind_copy(float *dst, const float *src, size_t len)
{
	if (dst != src)
		memcpy(dst, src, len * sizeof(float));
}

/* Sets c to a cost of `other` non-MAC ops per sample and nothing else. */
static inline void kind_cost_other(struct ee_cost *c, double other)
{
	memset(c, 0, sizeof(*c));
	c->other = other;
}

/*
 * Elementwise kinds treat a sample as one run of c*h*w floats (a view is a
 * channel range, so its samples are contiguous too) and split each sample into
 * jobs of at most KIND_CHUNK floats: long vector loops, and parallel work even
 * for one sample, without a call per tiny plane.
 */
#define KIND_CHUNK 16384

enum kind_op {
	KIND_ACT, /* out = act(in0) */
	KIND_ADD, /* out = act(in0 + in1) */
	KIND_MUL, /* out = in0 * in1 */
};

struct kind_elementwise_arg {
	size_t len;
	enum kind_op op;
	enum ee_act act;
};

static inline void kind_elementwise_item(const struct ee_layer *l, struct ee_exec *x,
					 const void *arg, int i, int chunk, int tid)
{
	const struct kind_elementwise_arg *e = arg;
	size_t off = (size_t)chunk * KIND_CHUNK;
	size_t cnt = e->len - off < KIND_CHUNK ? e->len - off : KIND_CHUNK;
	float *dst = ee_tensor_sample(&x->out, i) + off;
	const float *a = ee_tensor_sample(&x->in[0], i) + off;

	(void)l, (void)tid;
	if (e->op == KIND_ACT)
		ee_affine_act_copy(dst, a, cnt, 1.0f, 0.0f, e->act);
	else if (e->op == KIND_ADD)
		ee_add_act(dst, a, ee_tensor_sample(&x->in[1], i) + off, cnt, e->act);
	else
		ee_mul(dst, a, ee_tensor_sample(&x->in[1], i) + off, cnt);
}

static inline void kind_elementwise(const struct ee_layer *l, struct ee_exec *x, size_t len,
				    enum kind_op op, enum ee_act act)
{
	struct kind_elementwise_arg e = { len, op, act };
	long chunks = (long)((len + KIND_CHUNK - 1) / KIND_CHUNK);

	kind_for(l, x, &e, x->n, chunks, kind_mem_work((double)x->n * len * (op == KIND_ACT ? 2 : 3)),
		 kind_elementwise_item);
}

/* A k x k window pooling kind (maxpool.c, avgpool.c). */
struct pool2d {
	struct ee_layer base;
	int k, stride, pad;
};

static inline int pool2d_infer(struct ee_layer *l, const struct ee_shape *in, int nin,
			       struct ee_shape *out, struct ee_err *err)
{
	const struct pool2d *p = (const struct pool2d *)l;
	int rc = kind_check_inputs(nin, 1, 1, err);

	if (rc < 0)
		return rc;
	if (p->k < 1 || p->stride < 1 || p->pad < 0 || 2 * p->pad > p->k)
		return ee_err_set(err, EE_ERR_INPUT,
				  "kernel %d, stride %d, padding %d: want k >= 1, stride >= 1 and "
				  "0 <= padding <= k/2", p->k, p->stride, p->pad);
	out->c = in->c;
	out->h = ee_conv_out(in->h, p->k, p->stride, p->pad);
	out->w = ee_conv_out(in->w, p->k, p->stride, p->pad);
	if (out->h < 1 || out->w < 1)
		return ee_err_set(err, EE_ERR_INPUT, "a %dx%d window does not fit a %dx%d input",
				  p->k, p->k, in->h, in->w);
	return EE_OK;
}

/* k*k ops per output element. */
static inline void pool2d_cost(const struct ee_layer *l, struct ee_cost *c)
{
	const struct pool2d *p = (const struct pool2d *)l;

	kind_cost_other(c, (double)ee_shape_numel(l->out) * p->k * p->k);
}

static inline void pool2d_item(const struct ee_layer *l, struct ee_exec *x, const void *arg,
			       int i, int ch, int tid)
{
	const struct pool2d *p = (const struct pool2d *)l;
	const struct ee_tensor *in = &x->in[0];

	(void)tid;
	ee_pool_plane(kind_plane(in, i, ch), in->h, in->w, p->k, p->stride, p->pad, *(const bool *)arg,
		      kind_plane(&x->out, i, ch), x->out.h, x->out.w);
}

/* One job per (sample, channel) plane. */
static inline void pool2d_forward(const struct ee_layer *l, struct ee_exec *x, bool max)
{
	const struct pool2d *p = (const struct pool2d *)l;

	kind_for(l, x, &max, x->n, x->out.c,
		 kind_mem_work((double)x->n * ee_tensor_plane(&x->out) * x->out.c * p->k * p->k),
		 pool2d_item);
}

static inline struct ee_layer *pool2d_new(struct ee_pool *pool, const struct ee_layer_ops *ops,
					  int k, int stride, int pad)
{
	struct pool2d *p = kind_alloc(pool, sizeof(*p), ops);

	if (!p)
		return NULL;
	p->k = k;
	p->stride = stride;
	p->pad = pad;
	return &p->base;
}

#endif
