/*
 * check_layers.c - every layer kind against a plain reference written below.
 *
 * Layers are driven through the real machinery: a tiny model (ee_model_add,
 * finish, prepare) and a run (ee_run_forward, ee_run_tensor). Each case runs in
 * two wirings (enum wiring): once with dense inputs and outputs, once with the
 * layer reading and writing views whose samples sit further apart than c*h*w
 * (the planner's concat and slice aliasing), with NaN in every float the layer
 * must not read (the gaps of the network input, fresh slots and the scratch).
 * Shapes are odd on purpose. References accumulate in double.
 */
#include <check.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/kernels.h"
#include "core/skinny.h"
#include "core/layers.h"
#include "core/model.h"
#include "testutil.h"

#define GEMM_ATOL 2e-5 /* sums of up to a few hundred products in float */
#define GEMM_RTOL 1e-4
#define ELEM_TOL 1e-6  /* a few float roundings */

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- harness */

enum wiring {
	PLAIN, /* one input: the dense network input; several: slices of it owning their buffers */
	VIEWS, /* inputs are channel views of a concat, the output a view of concat(out, out) */
};

/* Makes the layer under test in the model's pool (called once per wiring). */
typedef struct ee_layer *(*make_fn)(struct ee_pool *p, const void *arg);

struct lcase {
	make_fn make;
	const void *arg;
	int n;                              /* samples */
	int nin;                            /* inputs */
	struct ee_shape in[EE_LAYER_MAX_IN]; /* per-sample input shapes (equal h, w if nin > 1) */
};

static float *falloc(size_t n)
{
	float *x = malloc(n * sizeof(float));

	ck_assert_ptr_nonnull(x);
	return x;
}

static float *pool_copy(struct ee_pool *p, const float *src, size_t n)
{
	float *dst;

	if (!src)
		return NULL;
	dst = ee_pool_alloc(p, n * sizeof(float));
	ck_assert_ptr_nonnull(dst);
	memcpy(dst, src, n * sizeof(float));
	return dst;
}

static int add_node(struct ee_model *m, struct ee_layer *l, const int *in, int nin)
{
	struct ee_err err = { 0 };
	int id;

	ck_assert_ptr_nonnull(l);
	if (!l->name)
		l->name = l->ops->kind;
	id = ee_model_add(m, l, in, nin, &err);
	ck_assert_msg(id >= 0, "adding %s: %s", l->ops->kind, err.msg);
	return id;
}

static void fill_nan(float *x, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = NAN;
}

/* Copies the n samples of t densely into y. */
static void gather(const struct ee_tensor *t, float *y)
{
	size_t len = (size_t)t->c * t->h * t->w;
	int i;

	for (i = 0; i < t->n; i++)
		memcpy(y + i * len, ee_tensor_sample(t, i), len * sizeof(float));
}

/* The network input: inputs x[j] [n][c_j][h][w] side by side in channels, with a gap
 * of NaN after each sample when pad > 0. */
static struct ee_tensor network_input(const struct lcase *c, const float *const *x, size_t pad)
{
	size_t plane = (size_t)c->in[0].h * c->in[0].w, chw = 0, off;
	struct ee_tensor t;
	int i, j;

	for (j = 0; j < c->nin; j++)
		chw += (size_t)c->in[j].c * plane;
	t = ee_tensor_dense(falloc((chw + pad) * c->n), c->n, (int)(chw / plane),
			    c->in[0].h, c->in[0].w);
	t.nstride = chw + pad;
	fill_nan(t.data, t.nstride * c->n);
	for (i = 0; i < c->n; i++)
		for (j = 0, off = 0; j < c->nin; off += ee_shape_numel(c->in[j]), j++)
			memcpy(ee_tensor_sample(&t, i) + off, x[j] + i * ee_shape_numel(c->in[j]),
			       ee_shape_numel(c->in[j]) * sizeof(float));
	return t;
}

/*
 * Builds the model of one wiring around the layer, runs it on x and returns in y
 * the layer's output (densely), after checking its shape against want. cost gets
 * the layer's node cost.
 */
static void run_case(const struct lcase *c, const float *const *x, enum wiring wiring,
		     struct ee_shape want, float *y, struct ee_cost *cost)
{
	struct ee_err err = { 0 };
	struct ee_model m;
	struct ee_run r;
	struct ee_shape net = c->in[0];
	struct ee_tensor input, t;
	int j, off, ins[EE_LAYER_MAX_IN], node, cat_in = -1, out = -1, s;
	size_t len = ee_shape_numel(want) * c->n;

	for (j = 1; j < c->nin; j++)
		net.c += c->in[j].c;
	ee_model_init(&m, net);
	if (wiring == PLAIN && c->nin == 1)
		ins[0] = EE_NODE_INPUT;
	else
		for (j = 0, off = 0; j < c->nin; off += c->in[j].c, j++)
			ins[j] = add_node(&m, ee_slice_new(&m.pool, off, off + c->in[j].c),
					  (int[]){ EE_NODE_INPUT }, 1);
	if (wiring == VIEWS)
		cat_in = add_node(&m, ee_concat_new(&m.pool),
				  c->nin == 1 ? (int[]){ ins[0], ins[0] } : ins,
				  c->nin == 1 ? 2 : c->nin);
	node = add_node(&m, c->make(&m.pool, c->arg), ins, c->nin);
	ck_assert_msg(m.nodes[node].shape.c == want.c && m.nodes[node].shape.h == want.h &&
			      m.nodes[node].shape.w == want.w,
		      "shape %dx%dx%d, want %dx%dx%d", m.nodes[node].shape.c,
		      m.nodes[node].shape.h, m.nodes[node].shape.w, want.c, want.h, want.w);
	if (wiring == VIEWS) {
		out = add_node(&m, ee_concat_new(&m.pool), (int[]){ node, node }, 2);
		ck_assert_int_eq(ee_model_set_exit(&m, cat_in, &err), 0);
	}
	ck_assert_int_eq(ee_model_set_exit(&m, out >= 0 ? out : node, &err), 0);
	ck_assert_msg(ee_model_finish(&m, &err) == 0, "%s", err.msg);
	ck_assert_msg(ee_model_prepare(&m, &err) == 0, "%s", err.msg);
	/* one micro-batch, so that every node's output of the whole batch stays readable */
	ck_assert_msg(ee_run_init_micro(&r, &m, c->n + 1, c->n + 1, false, &err) == 0, "%s",
		      err.msg);
	for (s = 0; s < m.nslots; s++)
		fill_nan(r.lanes[0].slot[s], m.slot_floats[s] * r.micro);
	fill_nan(r.lanes[0].work, r.work_floats * r.threads);

	input = network_input(c, x, wiring == VIEWS ? 5 : 0);
	ee_run_forward(&r, &input);
	t = ee_run_tensor(&r, node);
	gather(&t, y);
	if (wiring == VIEWS) {
		float *twice = falloc(2 * len);
		struct ee_tensor both = ee_run_tensor(&r, out);

		ck_assert_msg(t.nstride > ee_shape_numel(want), "the output is not a view");
		ck_assert_msg(ee_run_tensor(&r, ins[0]).nstride > ee_shape_numel(c->in[0]),
			      "input 1 is not a view");
		gather(&both, twice);
		for (j = 0; j < c->n; j++)
			ck_assert_mem_eq(twice + (2 * j + 1) * len / c->n, y + j * len / c->n,
					 len / c->n * sizeof(float));
		free(twice);
	}
	*cost = m.nodes[node].cost;
	free(input.data);
	ee_run_release(&r);
	ee_model_release(&m);
}

/* Runs both wirings and compares with want [n][want_shape]; returns the layer's cost. */
static struct ee_cost check_case(const struct lcase *c, const float *const *x, const float *want,
				 struct ee_shape want_shape, double atol, double rtol)
{
	size_t len = ee_shape_numel(want_shape) * c->n;
	float *y = falloc(len);
	struct ee_cost cost = { 0 };
	int wiring;

	for (wiring = PLAIN; wiring <= VIEWS; wiring++) {
		run_case(c, x, wiring, want_shape, y, &cost);
		ck_assert_msg(tu_close(wiring == PLAIN ? "dense" : "views", y, want, len, atol,
				       rtol),
			      "%s wiring differs from the reference",
			      wiring == PLAIN ? "dense" : "views");
	}
	free(y);
	return cost;
}

/* A shape literal. */
static struct ee_shape shp(int c, int h, int w)
{
	struct ee_shape s = { c, h, w };

	return s;
}

/* n samples of shape s filled from seed in [lo, hi). */
static float *random_batch(int n, struct ee_shape s, uint64_t seed, float lo, float hi)
{
	float *x = falloc(ee_shape_numel(s) * n);

	tu_fill(x, ee_shape_numel(s) * n, seed, lo, hi);
	return x;
}

/* Adds layer l on nin copies of a network input of shape in; returns ee_model_add's status
 * and the message in err. */
static int add_status(struct ee_model *m, struct ee_layer *l, int nin, struct ee_err *err)
{
	int ins[EE_LAYER_MAX_IN] = { EE_NODE_INPUT, EE_NODE_INPUT, EE_NODE_INPUT,
				     EE_NODE_INPUT };

	l->name = "bad";
	return ee_model_add(m, l, ins, nin, err);
}

static void expect_refused(struct ee_shape in, make_fn make, const void *arg, int nin,
			   const char *needle)
{
	struct ee_err err = { 0 };
	struct ee_model m;
	int rc;

	ee_model_init(&m, in);
	rc = add_status(&m, make(&m.pool, arg), nin, &err);
	ck_assert_int_eq(rc, EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, needle), "message '%s' lacks '%s'", err.msg, needle);
	ee_model_release(&m);
}

/* ------------------------------------------------------------- references */

static double ref_act(double v, enum ee_act act)
{
	if (act == EE_ACT_RELU)
		return v > 0 ? v : 0;
	if (act == EE_ACT_SIGMOID)
		return 1 / (1 + exp(-v));
	return v;
}

/* Eval-mode BatchNorm parameters of c channels, NULL gamma for none. */
struct bn_params {
	const float *gamma, *beta, *mean, *var;
	float eps;
};

static double ref_bn(double v, const struct bn_params *bn, int ch)
{
	if (!bn || !bn->gamma)
		return v;
	return (v - bn->mean[ch]) / sqrt((double)bn->var[ch] + bn->eps) * bn->gamma[ch] +
	       bn->beta[ch];
}

/* Random BN parameters for c channels in one array [4][c]. */
static float *random_bn(int c, uint64_t seed, struct bn_params *bn)
{
	float *p = falloc(4 * (size_t)c);

	tu_fill(p, c, seed, 0.5f, 1.5f);              /* gamma */
	tu_fill(p + c, c, seed + 1, -0.5f, 0.5f);     /* beta */
	tu_fill(p + 2 * c, c, seed + 2, -0.5f, 0.5f); /* mean */
	tu_fill(p + 3 * c, c, seed + 3, 0.1f, 2.0f);  /* var */
	bn->gamma = p;
	bn->beta = p + c;
	bn->mean = p + 2 * c;
	bn->var = p + 3 * c;
	bn->eps = 1e-5f;
	return p;
}

static void set_bn(struct ee_bn *dst, const struct bn_params *bn)
{
	dst->gamma = bn->gamma;
	dst->beta = bn->beta;
	dst->mean = bn->mean;
	dst->var = bn->var;
	dst->eps = bn->eps;
	dst->on = bn->gamma != NULL;
}

/* x[i][ch][y][x] of a dense batch of shape s, 0 outside the plane. */
static double at(const float *x, struct ee_shape s, int i, int ch, int y, int xx)
{
	if (y < 0 || y >= s.h || xx < 0 || xx >= s.w)
		return 0;
	return x[(((size_t)i * s.c + ch) * s.h + y) * s.w + xx];
}

static float *out_at(float *y, struct ee_shape s, int i, int ch, int yy, int xx)
{
	return &y[(((size_t)i * s.c + ch) * s.h + yy) * s.w + xx];
}

/* ------------------------------------------------------------------ conv2d */

struct conv_case {
	int n, cin, cout, h, w, kh, kw, stride, pad, groups;
	bool bias, bn;
	enum ee_act act;
};

static const struct conv_case conv_cases[] = {
	/* n cin cout  h   w kh kw  s  p  g  bias   bn     act */
	{ 3, 5, 7, 7, 9, 3, 3, 1, 1, 1, true, false, EE_ACT_RELU },    /* plane 63: one GEMM of 3 */
	{ 7, 5, 7, 7, 9, 3, 3, 1, 1, 1, false, false, EE_ACT_NONE },   /* GEMMs of 5 + 2 (partial) */
	{ 3, 4, 6, 11, 13, 5, 5, 1, 2, 1, true, true, EE_ACT_RELU },   /* 5x5, GEMMs of 2 + 1 */
	{ 2, 3, 8, 23, 21, 7, 7, 2, 3, 1, false, true, EE_ACT_RELU },  /* 7x7 stem, BN without bias */
	{ 3, 5, 7, 17, 19, 3, 3, 1, 1, 1, true, true, EE_ACT_NONE },   /* plane 323: GEMM/sample */
	{ 3, 6, 5, 17, 19, 1, 1, 1, 0, 1, true, false, EE_ACT_NONE },  /* 1x1, no im2col */
	{ 3, 6, 4, 17, 19, 1, 1, 1, 0, 2, false, true, EE_ACT_RELU },  /* 1x1 grouped, no im2col */
	{ 5, 6, 5, 5, 7, 1, 1, 1, 0, 1, true, false, EE_ACT_SIGMOID }, /* 1x1 small plane: batched */
	{ 3, 5, 6, 9, 11, 3, 3, 2, 1, 1, true, false, EE_ACT_RELU },   /* strided */
	/* strided without padding: im2col reads each window's rows whole */
	{ 9, 16, 16, 32, 32, 8, 8, 8, 0, 1, true, true, EE_ACT_RELU }, /* 8x8 patches (exit
									 * heads): columns capped
									 * at 6, GEMMs of 5 + 4 */
	{ 2, 3, 5, 11, 13, 3, 3, 2, 0, 1, false, false, EE_ACT_NONE }, /* windows overlap */
	{ 2, 4, 5, 10, 14, 2, 2, 3, 0, 1, true, false, EE_ACT_SIGMOID }, /* gaps between them */
	{ 3, 5, 6, 7, 9, 3, 3, 1, 2, 1, false, false, EE_ACT_NONE },   /* padding wider than needed */
	{ 3, 6, 4, 7, 9, 3, 3, 1, 1, 2, true, false, EE_ACT_RELU },    /* groups 2 */
	{ 3, 6, 9, 7, 9, 3, 3, 2, 1, 3, false, true, EE_ACT_RELU },    /* groups 3, strided */
	{ 3, 4, 8, 7, 9, 3, 3, 1, 1, 4, true, false, EE_ACT_RELU },    /* groups = cin, 2 out each */
	{ 3, 5, 5, 7, 9, 3, 3, 1, 1, 5, false, false, EE_ACT_NONE },   /* depthwise 3x3 */
	{ 3, 5, 5, 7, 9, 3, 3, 2, 1, 5, true, true, EE_ACT_RELU },     /* depthwise 3x3 stride 2 */
	{ 3, 5, 5, 7, 9, 5, 5, 1, 2, 5, true, false, EE_ACT_SIGMOID }, /* depthwise 5x5 */
	{ 3, 5, 5, 7, 9, 5, 5, 2, 2, 5, false, true, EE_ACT_RELU },    /* depthwise 5x5 stride 2 */
	{ 3, 5, 3, 7, 9, 1, 3, 1, 0, 1, true, false, EE_ACT_NONE },    /* 1x3 kernel */
	{ 1, 5, 7, 7, 9, 3, 3, 1, 1, 1, true, true, EE_ACT_RELU },     /* one sample */
	{ 3, 48, 48, 9, 11, 3, 3, 1, 1, 1, true, true, EE_ACT_RELU },  /* Winograd, odd plane */
	{ 4, 64, 40, 7, 6, 3, 3, 1, 2, 1, false, false, EE_ACT_NONE }, /* Winograd, pad 2 */
	{ 11, 32, 72, 3, 5, 3, 3, 1, 1, 1, true, false, EE_ACT_SIGMOID }, /* Winograd, chunks */
	{ 1, 64, 40, 4, 4, 3, 3, 1, 1, 1, true, true, EE_ACT_RELU },   /* too few tiles: GEMM */
	/* 4x4 planes of a late stage: skinny.h's products (16, 32, 48 columns), rows not a
	 * multiple of its 8 */
	{ 3, 128, 20, 4, 4, 3, 3, 1, 1, 1, true, true, EE_ACT_RELU },  /* 48 columns */
	{ 2, 96, 13, 4, 4, 3, 3, 1, 1, 1, false, false, EE_ACT_NONE }, /* 32 columns */
	/* more than 576 input terms: im2col + GEMM rather than the direct kernel */
	{ 30, 70, 9, 5, 7, 3, 3, 2, 1, 1, true, true, EE_ACT_RELU },   /* GEMMs of 22 + 8 */
	{ 2, 70, 5, 33, 33, 3, 3, 2, 1, 1, false, false, EE_ACT_NONE }, /* GEMM per sample */
	{ 2, 600, 5, 16, 17, 1, 1, 1, 0, 1, true, false, EE_ACT_RELU }, /* 1x1 GEMM, no im2col */
	{ 3, 600, 4, 3, 5, 1, 1, 1, 0, 1, false, true, EE_ACT_NONE },  /* 1x1 GEMM, batched */
};

struct conv_arg {
	const struct conv_case *cc;
	const float *weight, *bias; /* [cout][cin/groups][kh][kw], [cout] or NULL */
	struct bn_params bn;        /* gamma NULL: none */
};

static struct ee_layer *make_conv(struct ee_pool *p, const void *arg)
{
	const struct conv_arg *a = arg;
	const struct conv_case *c = a->cc;
	struct ee_conv2d *cv = ee_conv2d_new(p, c->cin, c->cout, c->kh, c->kw, c->stride, c->pad,
					     c->groups);

	cv->weight = pool_copy(p, a->weight, (size_t)c->cout * c->cin / c->groups * c->kh * c->kw);
	cv->bias = pool_copy(p, a->bias, c->cout);
	if (a->bn.gamma && !cv->bias) /* the room the builder gives a folded BN's shift */
		cv->bias = ee_pool_alloc(p, c->cout * sizeof(float));
	set_bn(&cv->bn, &a->bn);
	cv->act = c->act;
	return &cv->base;
}

static struct ee_shape conv_out(const struct conv_case *c)
{
	return shp(c->cout, (c->h + 2 * c->pad - c->kh) / c->stride + 1,
		   (c->w + 2 * c->pad - c->kw) / c->stride + 1);
}

/* The conv's sum at output (o, oy, ox) of sample i, before BN and act. */
static double conv_at(const struct conv_arg *a, const float *x, int i, int o, int oy, int ox)
{
	const struct conv_case *c = a->cc;
	struct ee_shape is = shp(c->cin, c->h, c->w);
	int cg = c->cin / c->groups, og = c->cout / c->groups, ci, dy, dx;
	double acc = a->bias ? a->bias[o] : 0;

	for (ci = 0; ci < cg; ci++)
		for (dy = 0; dy < c->kh; dy++)
			for (dx = 0; dx < c->kw; dx++) {
				int iy = oy * c->stride + dy - c->pad;
				int ix = ox * c->stride + dx - c->pad;
				double v = at(x, is, i, o / og * cg + ci, iy, ix);

				acc += v * a->weight[((o * cg + ci) * c->kh + dy) * c->kw + dx];
			}
	return acc;
}

static void ref_conv(const struct conv_arg *a, const float *x, float *y)
{
	const struct conv_case *c = a->cc;
	struct ee_shape os = conv_out(c);
	int i, o, oy, ox;

	for (i = 0; i < c->n; i++)
		for (o = 0; o < c->cout; o++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					double v = conv_at(a, x, i, o, oy, ox);

					*out_at(y, os, i, o, oy, ox) =
						(float)ref_act(ref_bn(v, &a->bn, o), c->act);
				}
}

START_TEST(conv2d_matches_reference)
{
	const struct conv_case *c = &conv_cases[_i];
	struct ee_shape is = shp(c->cin, c->h, c->w), os = conv_out(c);
	size_t nw = (size_t)c->cout * c->cin / c->groups * c->kh * c->kw;
	float *x = random_batch(c->n, is, 100 + _i, -1, 1), *w = falloc(nw);
	float *b = falloc(c->cout), *bnp = NULL;
	float *want = falloc(ee_shape_numel(os) * c->n);
	struct conv_arg a = { c, w, c->bias ? b : NULL, { 0 } };
	struct lcase lc = { make_conv, &a, c->n, 1, { is } };
	struct ee_cost cost;

	tu_fill(w, nw, 200 + _i, -0.5f, 0.5f);
	tu_fill(b, c->cout, 300 + _i, -0.5f, 0.5f);
	if (c->bn)
		bnp = random_bn(c->cout, 400 + _i, &a.bn);
	ref_conv(&a, x, want);
	cost = check_case(&lc, (const float *const[]){ x }, want, os, GEMM_ATOL, GEMM_RTOL);
	ck_assert_double_eq(cost.macs, (double)ee_shape_numel(os) * c->cin / c->groups * c->kh *
					       c->kw);
	free(x), free(w), free(b), free(bnp), free(want);
}
END_TEST

/* ee_gemm_skinny against a double-precision product: A and B with NaN past their k and n
 * columns (never read), C poisoned with NaN (every entry written, none past n: the masked
 * last block of a width that is not a multiple of 16). Shapes it does not take (fewer
 * than 16 columns, short sums) leave C untouched. */
START_TEST(skinny_gemm_matches_reference)
{
	static const int cases[][7] = { /* m, n, k, lda, ldb, ldc, taken (with AVX-512) */
		{ 13, 16, 70, 75, 20, 21, 1 }, { 24, 48, 64, 64, 48, 48, 1 },
		{ 9, 32, 300, 301, 40, 33, 1 }, { 17, 96, 100, 100, 100, 97, 1 },
		{ 8, 64, 2304, 2304, 64, 64, 1 }, { 16, 20, 300, 300, 20, 20, 1 },
		{ 16, 32, 40, 40, 32, 32, 0 }, { 13, 25, 70, 71, 27, 26, 1 },
		{ 11, 100, 80, 80, 100, 101, 1 }, { 16, 9, 300, 300, 9, 9, 0 } };
	const int *c = cases[_i];
	int m = c[0], n = c[1], k = c[2], lda = c[3], ldb = c[4], ldc = c[5], i, j, p;
	float *a = falloc((size_t)m * lda), *b = falloc((size_t)k * ldb), *y = falloc((size_t)m * ldc);
	bool fits = ee_skinny_fits(m, n, k);

	fill_nan(a, (size_t)m * lda);
	fill_nan(b, (size_t)k * ldb);
	fill_nan(y, (size_t)m * ldc);
	for (i = 0; i < m; i++)
		tu_fill(a + (size_t)i * lda, (size_t)k, 500 + i, -1, 1);
	for (p = 0; p < k; p++)
		tu_fill(b + (size_t)p * ldb, (size_t)n, 900 + p, -1, 1);
	ck_assert(ee_gemm_skinny(m, n, k, a, lda, b, ldb, y, ldc) == fits);
#if defined(__x86_64__) && defined(__GNUC__)
	ck_assert_msg(fits == (c[6] && __builtin_cpu_supports("avx512f")), "%dx%dx%d: %s", m, n,
		      k, fits ? "taken" : "refused");
#endif
	for (i = 0; i < m; i++)
		for (j = 0; j < ldc; j++) {
			double want = 0, tol = 1e-5 * k;

			for (p = 0; p < k && j < n; p++)
				want += (double)a[(size_t)i * lda + p] * b[(size_t)p * ldb + j];
			if (!fits || j >= n)
				ck_assert_msg(isnan(y[(size_t)i * ldc + j]), "C[%d][%d] written", i, j);
			else
				ck_assert_msg(fabs(y[(size_t)i * ldc + j] - want) <= tol,
					      "%dx%dx%d: C[%d][%d] = %g, want %g", m, n, k, i, j,
					      y[(size_t)i * ldc + j], want);
		}
	free(a), free(b), free(y);
}
END_TEST

/* A dense 5->7 3x3 padded conv with BN and ReLU on 7x9, and a 5x5 stride-2 depthwise one. */
START_TEST(conv2d_cost_by_hand)
{
	struct ee_model m;
	struct ee_err err = { 0 };
	struct ee_conv2d *dense, *dw;
	int id;

	ee_model_init(&m, shp(5, 7, 9));
	dense = ee_conv2d_new(&m.pool, 5, 7, 3, 3, 1, 1, 1);
	dense->bn.on = true; /* BN follows: only that matters to cost */
	dense->act = EE_ACT_RELU;
	id = add_status(&m, &dense->base, 1, &err);
	ck_assert_int_ge(id, 0);
	/* 7*7*9 = 441 outputs x 5*3*3 taps; BN 2 + ReLU 1 per output */
	ck_assert_double_eq(m.nodes[id].cost.macs, 19845);
	ck_assert_double_eq(m.nodes[id].cost.other, 1323);
	dw = ee_conv2d_new(&m.pool, 5, 5, 5, 5, 2, 2, 5);
	id = add_status(&m, &dw->base, 1, &err);
	/* 5 x 4x5 outputs x 25 taps, nothing else */
	ck_assert_double_eq(m.nodes[id].cost.macs, 2500);
	ck_assert_double_eq(m.nodes[id].cost.other, 0);
	ee_model_release(&m);
}
END_TEST

START_TEST(conv2d_refuses_bad_shapes)
{
	/* on a 4x2x2 input: n cin cout h w kh kw s p g (only what infer reads matters) */
	static const struct {
		struct conv_case c;
		const char *needle;
	} bad[] = {
		{ { 1, 5, 6, 2, 2, 3, 3, 1, 1, 1, false, false, EE_ACT_NONE },
		  "expects 5 input channels, got 4" },
		/* (2 - 3) / 2 + 1 truncated to 1 before ee_conv_out checked the window */
		{ { 1, 4, 6, 2, 2, 3, 3, 2, 0, 1, false, false, EE_ACT_NONE }, "does not fit" },
		/* stride 0 used to divide by zero */
		{ { 1, 4, 6, 2, 2, 1, 1, 0, 0, 1, false, false, EE_ACT_NONE }, "stride 0" },
		{ { 1, 4, 6, 2, 2, 1, 1, 1, 0, 4, false, false, EE_ACT_NONE },
		  "4->6 channels in 4 groups" },
	};
	int k;

	for (k = 0; k < COUNT(bad); k++) {
		struct conv_arg a = { &bad[k].c, NULL, NULL, { 0 } };

		expect_refused(shp(4, 2, 2), make_conv, &a, 1, bad[k].needle);
	}
}
END_TEST

/* --------------------------------------------------------------- batchnorm */

struct bn_arg {
	int c;
	enum ee_act act;
	struct bn_params bn;
};

static struct ee_layer *make_bn(struct ee_pool *p, const void *arg)
{
	const struct bn_arg *a = arg;
	struct ee_batchnorm *b = ee_batchnorm_new(p, a->c, a->act);

	set_bn(&b->bn, &a->bn);
	return &b->base;
}

START_TEST(batchnorm_matches_reference)
{
	static const enum ee_act acts[] = { EE_ACT_NONE, EE_ACT_RELU, EE_ACT_SIGMOID };
	struct ee_shape s = shp(5, 7, 9);
	float *x = random_batch(3, s, 11, -2, 2), *want = falloc(ee_shape_numel(s) * 3);
	struct bn_arg a = { 5, acts[_i], { 0 } };
	float *bnp = random_bn(5, 12, &a.bn);
	struct lcase lc = { make_bn, &a, 3, 1, { s } };
	struct ee_cost cost;
	int i, ch, k;

	for (i = 0; i < 3; i++)
		for (ch = 0; ch < 5; ch++)
			for (k = 0; k < 63; k++) {
				size_t at_ = ((size_t)i * 5 + ch) * 63 + k;

				want[at_] = (float)ref_act(ref_bn(x[at_], &a.bn, ch), a.act);
			}
	cost = check_case(&lc, (const float *const[]){ x }, want, s, ELEM_TOL, 1e-5);
	/* 315 elements: 2 ops each, 1 more with an activation */
	ck_assert_double_eq(cost.other, a.act == EE_ACT_NONE ? 630 : 945);
	ck_assert_double_eq(cost.macs, 0);
	free(x), free(want), free(bnp);
}
END_TEST

/* ------------------------------------------------------------------ linear */

struct linear_arg {
	int in, out;
	const float *weight, *bias;
};

static struct ee_layer *make_linear(struct ee_pool *p, const void *arg)
{
	const struct linear_arg *a = arg;
	struct ee_linear *fc = ee_linear_new(p, a->in, a->out);

	fc->weight = pool_copy(p, a->weight, (size_t)a->in * a->out);
	fc->bias = pool_copy(p, a->bias, a->out);
	return &fc->base;
}

/* in features from a c x h x w sample, for n samples, with or without bias. */
static void check_linear(int n, struct ee_shape s, int out, bool bias)
{
	int in = (int)ee_shape_numel(s), i, o, k;
	float *x = random_batch(n, s, 21, -1, 1), *w = falloc((size_t)in * out);
	float *b = falloc(out), *want = falloc((size_t)n * out);
	struct linear_arg a = { in, out, w, bias ? b : NULL };
	struct lcase lc = { make_linear, &a, n, 1, { s } };
	struct ee_cost cost;

	tu_fill(w, (size_t)in * out, 22, -0.5f, 0.5f);
	tu_fill(b, out, 23, -1, 1);
	for (i = 0; i < n; i++)
		for (o = 0; o < out; o++) {
			double acc = bias ? b[o] : 0;

			for (k = 0; k < in; k++)
				acc += (double)x[(size_t)i * in + k] * w[(size_t)o * in + k];
			want[i * out + o] = (float)acc;
		}
	cost = check_case(&lc, (const float *const[]){ x }, want, shp(out, 1, 1), GEMM_ATOL,
			  GEMM_RTOL);
	ck_assert_double_eq(cost.macs, (double)in * out);
	ck_assert_double_eq(cost.other, 0);
	free(x), free(w), free(b), free(want);
}

START_TEST(linear_flattens_and_batches)
{
	check_linear(3, shp(5, 3, 3), 7, true);  /* 45 -> 7 on flattened 5x3x3 */
	check_linear(5, shp(37, 1, 1), 11, false);
	check_linear(1, shp(13, 1, 1), 10, true); /* one sample: a GEMV */
}
END_TEST

START_TEST(linear_cost_and_refusals)
{
	struct linear_arg a = { 45, 10, NULL, NULL };
	struct ee_model m;
	struct ee_err err = { 0 };
	int id;

	ee_model_init(&m, shp(5, 3, 3));
	id = add_status(&m, make_linear(&m.pool, &a), 1, &err);
	ck_assert_double_eq(m.nodes[id].cost.macs, 450);
	ee_model_release(&m);
	a.in = 44;
	expect_refused(shp(5, 3, 3), make_linear, &a, 1, "expects 44 input features, got 5x3x3");
	a.in = 45;
	expect_refused(shp(5, 3, 3), make_linear, &a, 2, "takes 1 input, got 2");
}
END_TEST

/* -------------------------------------------------------------- activation */

static struct ee_layer *make_act(struct ee_pool *p, const void *arg)
{
	return ee_activation_new(p, *(const enum ee_act *)arg);
}

START_TEST(activation_relu_and_sigmoid)
{
	static const enum ee_act acts[] = { EE_ACT_RELU, EE_ACT_SIGMOID };
	struct ee_shape s = shp(5, 7, 9);
	float *x = random_batch(3, s, 31, -6, 6), *want = falloc(ee_shape_numel(s) * 3);
	struct ee_model m;
	struct ee_layer *l;
	struct lcase lc = { make_act, NULL, 3, 1, { s } };
	struct ee_cost cost;
	size_t k;
	int j;

	for (j = 0; j < 2; j++) {
		lc.arg = &acts[j];
		for (k = 0; k < ee_shape_numel(s) * 3; k++)
			want[k] = (float)ref_act(x[k], acts[j]);
		cost = check_case(&lc, (const float *const[]){ x }, want, s, ELEM_TOL, 1e-6);
		ck_assert_double_eq(cost.other, 315);
	}
	ee_model_init(&m, s);
	l = ee_activation_new(&m.pool, EE_ACT_RELU);
	ck_assert_str_eq(l->ops->kind, "relu");
	ck_assert_str_eq(ee_activation_new(&m.pool, EE_ACT_SIGMOID)->ops->kind, "sigmoid");
	ee_model_release(&m);
	expect_refused(s, make_act, &(enum ee_act){ EE_ACT_NONE }, 1, "neither relu nor sigmoid");
	free(x), free(want);
}
END_TEST

/* Sigmoid's vectorised exp at and beyond its clamp (|x| = 88), near FLT_MIN, and for
 * tiny x, where float32 PyTorch gives exactly 0.5 (what the EMG gate relies on). */
START_TEST(activation_sigmoid_extremes)
{
	static const float x[] = { -1000, -100, -88.5f, -88, -87.5f, -20, -1e-8f, 0, 1e-8f,
				   3e-8f, 20, 87.5f, 88, 88.5f, 100, 1000 };
	struct ee_shape s = shp(COUNT(x), 1, 1);
	struct lcase lc = { make_act, &(enum ee_act){ EE_ACT_SIGMOID }, 1, 1, { s } };
	float want[COUNT(x)];
	int k;

	for (k = 0; k < COUNT(x); k++)
		want[k] = (float)ref_act(x[k], EE_ACT_SIGMOID);
	want[6] = want[8] = 0.5f; /* 1 - 1e-8 rounds to 1 in float */
	check_case(&lc, (const float *const[]){ x }, want, s, 1e-38, 2e-7);
}
END_TEST

/* A sample longer than one elementwise job (16384 floats), for the split. */
START_TEST(activation_long_sample)
{
	struct ee_shape s = shp(3, 101, 103); /* 31209 floats: two jobs, one partial */
	float *x = random_batch(2, s, 32, -1, 1), *want = falloc(ee_shape_numel(s) * 2);
	struct lcase lc = { make_act, &(enum ee_act){ EE_ACT_RELU }, 2, 1, { s } };
	size_t k;

	for (k = 0; k < ee_shape_numel(s) * 2; k++)
		want[k] = x[k] > 0 ? x[k] : 0;
	check_case(&lc, (const float *const[]){ x }, want, s, 0, 0);
	free(x), free(want);
}
END_TEST

/* ----------------------------------------------------------------- pooling */

struct pool_arg {
	bool max;
	int k, stride, pad;
};

static struct ee_layer *make_pool(struct ee_pool *p, const void *arg)
{
	const struct pool_arg *a = arg;

	return (a->max ? ee_maxpool_new : ee_avgpool_new)(p, a->k, a->stride, a->pad);
}

static void ref_pool(const struct pool_arg *a, const float *x, int n, struct ee_shape is,
		     struct ee_shape os, float *y)
{
	int i, ch, oy, ox, dy, dx;

	for (i = 0; i < n; i++)
		for (ch = 0; ch < is.c; ch++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					double acc = a->max ? -INFINITY : 0;

					for (dy = 0; dy < a->k; dy++)
						for (dx = 0; dx < a->k; dx++) {
							int yy = oy * a->stride + dy - a->pad;
							int xx = ox * a->stride + dx - a->pad;
							double v = at(x, is, i, ch, yy, xx);

							if (!a->max)
								acc += v;
							else if (yy >= 0 && yy < is.h && xx >= 0 &&
								 xx < is.w && v > acc)
								acc = v;
						}
					*out_at(y, os, i, ch, oy, ox) =
						(float)(a->max ? acc : acc / (a->k * a->k));
				}
}

static const struct pool_arg pool_cases[] = {
	{ true, 3, 2, 1 },  /* ResNet's stem */
	{ true, 2, 2, 0 },
	{ true, 3, 1, 1 },
	{ true, 5, 3, 2 },
	{ false, 2, 2, 0 },
	{ false, 3, 2, 1 }, /* padding counted */
	{ false, 3, 1, 1 },
	{ false, 4, 3, 2 },
};

START_TEST(pooling_matches_reference)
{
	const struct pool_arg *a = &pool_cases[_i];
	struct ee_shape is = shp(5, 7, 9);
	struct ee_shape os = shp(5, (7 + 2 * a->pad - a->k) / a->stride + 1,
				 (9 + 2 * a->pad - a->k) / a->stride + 1);
	float *x = random_batch(3, is, 41 + _i, -3, 1), *want = falloc(ee_shape_numel(os) * 3);
	struct lcase lc = { make_pool, a, 3, 1, { is } };
	struct ee_cost cost;

	ref_pool(a, x, 3, is, os, want);
	cost = check_case(&lc, (const float *const[]){ x }, want, os, ELEM_TOL, 1e-6);
	ck_assert_double_eq(cost.other, (double)ee_shape_numel(os) * a->k * a->k);
	free(x), free(want);
}
END_TEST

START_TEST(pooling_cost_and_refusals)
{
	struct pool_arg a = { true, 3, 2, 1 };
	struct ee_model m;
	struct ee_err err = { 0 };
	int id;

	ee_model_init(&m, shp(5, 7, 9));
	id = add_status(&m, make_pool(&m.pool, &a), 1, &err);
	ck_assert_double_eq(m.nodes[id].cost.other, 900); /* 5 x 4x5 outputs x 9 */
	ck_assert_str_eq(m.nodes[id].layer->ops->kind, "maxpool");
	a = (struct pool_arg){ false, 2, 2, 0 };
	id = add_status(&m, make_pool(&m.pool, &a), 1, &err);
	ck_assert_double_eq(m.nodes[id].cost.other, 240); /* 5 x 3x4 outputs x 4 */
	ck_assert_str_eq(m.nodes[id].layer->ops->kind, "avgpool");
	ee_model_release(&m);
	a = (struct pool_arg){ true, 3, 2, 2 };
	expect_refused(shp(5, 7, 9), make_pool, &a, 1, "padding <= k/2");
	a = (struct pool_arg){ false, 3, 0, 1 };
	expect_refused(shp(5, 7, 9), make_pool, &a, 1, "stride >= 1");
	a = (struct pool_arg){ true, 5, 1, 0 };
	expect_refused(shp(5, 3, 9), make_pool, &a, 1, "does not fit a 3x9 input");
}
END_TEST

/* -------------------------------------------------------- adaptive avgpool */

static struct ee_layer *make_adaptive(struct ee_pool *p, const void *arg)
{
	const int *o = arg;

	return ee_adaptive_avgpool_new(p, o[0], o[1]);
}

static void ref_adaptive(const float *x, int n, struct ee_shape is, struct ee_shape os, float *y)
{
	int i, ch, oy, ox, yy, xx;

	for (i = 0; i < n; i++)
		for (ch = 0; ch < is.c; ch++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					int y0 = (int)floor((double)oy * is.h / os.h);
					int y1 = (int)ceil((double)(oy + 1) * is.h / os.h);
					int x0 = (int)floor((double)ox * is.w / os.w);
					int x1 = (int)ceil((double)(ox + 1) * is.w / os.w);
					double acc = 0;

					for (yy = y0; yy < y1; yy++)
						for (xx = x0; xx < x1; xx++)
							acc += at(x, is, i, ch, yy, xx);
					*out_at(y, os, i, ch, oy, ox) =
						(float)(acc / ((y1 - y0) * (x1 - x0)));
				}
}

START_TEST(adaptive_avgpool_bins)
{
	/* global; bins of unequal size; overlapping bins; more outputs than inputs; odd */
	static const int outs[][2] = { { 1, 1 }, { 3, 4 }, { 5, 2 }, { 9, 11 }, { 7, 9 } };
	struct ee_shape is = shp(5, 7, 9), os = shp(5, outs[_i][0], outs[_i][1]);
	float *x = random_batch(3, is, 51, -1, 1), *want = falloc(ee_shape_numel(os) * 3);
	struct lcase lc = { make_adaptive, outs[_i], 3, 1, { is } };
	struct ee_cost cost;

	ref_adaptive(x, 3, is, os, want);
	cost = check_case(&lc, (const float *const[]){ x }, want, os, ELEM_TOL, 1e-5);
	ck_assert_double_eq(cost.other, 315); /* one op per input element */
	free(x), free(want);
}
END_TEST

START_TEST(adaptive_avgpool_refusals)
{
	expect_refused(shp(5, 7, 9), make_adaptive, (const int[]){ 0, 1 }, 1, "at least 1x1");
}
END_TEST

/* ------------------------------------------------------ add, mul, softmax */

static struct ee_layer *make_add(struct ee_pool *p, const void *arg)
{
	return ee_add_new(p, *(const enum ee_act *)arg);
}

static struct ee_layer *make_mul(struct ee_pool *p, const void *arg)
{
	(void)arg;
	return ee_mul_new(p);
}

START_TEST(add_with_and_without_relu)
{
	static const enum ee_act acts[] = { EE_ACT_NONE, EE_ACT_RELU, EE_ACT_SIGMOID };
	struct ee_shape s = shp(5, 7, 9);
	float *a = random_batch(3, s, 61, -1, 1), *b = random_batch(3, s, 62, -1, 1);
	float *want = falloc(ee_shape_numel(s) * 3);
	struct lcase lc = { make_add, &acts[_i], 3, 2, { s, s } };
	struct ee_cost cost;
	size_t k;

	for (k = 0; k < ee_shape_numel(s) * 3; k++)
		want[k] = (float)ref_act((double)(a[k] + b[k]), acts[_i]);
	cost = check_case(&lc, (const float *const[]){ a, b }, want, s, ELEM_TOL, 1e-6);
	ck_assert_double_eq(cost.other, acts[_i] == EE_ACT_NONE ? 315 : 630);
	free(a), free(b), free(want);
}
END_TEST

START_TEST(mul_elementwise)
{
	struct ee_shape s = shp(5, 7, 9);
	float *a = random_batch(3, s, 63, -2, 2), *b = random_batch(3, s, 64, 0, 1);
	float *want = falloc(ee_shape_numel(s) * 3);
	struct lcase lc = { make_mul, NULL, 3, 2, { s, s } };
	struct ee_cost cost;
	size_t k;

	for (k = 0; k < ee_shape_numel(s) * 3; k++)
		want[k] = a[k] * b[k];
	cost = check_case(&lc, (const float *const[]){ a, b }, want, s, 0, 0);
	ck_assert_double_eq(cost.other, 315);
	free(a), free(b), free(want);
}
END_TEST

START_TEST(binary_refusals)
{
	struct ee_model m;
	struct ee_err err = { 0 };
	int a, b;

	ee_model_init(&m, shp(5, 7, 9));
	a = add_node(&m, ee_slice_new(&m.pool, 0, 2), (int[]){ EE_NODE_INPUT }, 1);
	b = add_node(&m, ee_slice_new(&m.pool, 0, 3), (int[]){ EE_NODE_INPUT }, 1);
	ck_assert_int_eq(ee_model_add(&m, ee_add_new(&m.pool, EE_ACT_NONE), (int[]){ a, b }, 2,
				      &err),
			 EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "input 2 is 3x7x9 but input 1 is 2x7x9"));
	ck_assert_int_eq(ee_model_add(&m, ee_mul_new(&m.pool), (int[]){ a }, 1, &err),
			 EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "takes 2 inputs, got 1"));
	ee_model_release(&m);
}
END_TEST

static struct ee_layer *make_softmax(struct ee_pool *p, const void *arg)
{
	(void)arg;
	return ee_softmax_new(p);
}

static void ref_softmax(const float *x, int n, size_t len, float *y)
{
	size_t i, k;

	for (i = 0; i < (size_t)n; i++) {
		double m = -INFINITY, s = 0;

		for (k = 0; k < len; k++)
			m = fmax(m, x[i * len + k]);
		for (k = 0; k < len; k++)
			s += exp(x[i * len + k] - m);
		for (k = 0; k < len; k++)
			y[i * len + k] = (float)(exp(x[i * len + k] - m) / s);
	}
}

START_TEST(softmax_stable_over_chw)
{
	/* logits [n, 10, 1, 1]; a map over c*h*w; values so large that exp() overflows;
	 * a spread so wide that most exp(x - max) underflow */
	static const struct {
		int c, h, w;
		float lo, hi;
	} cases[] = { { 10, 1, 1, -5, 5 }, { 5, 7, 9, -3, 3 }, { 7, 1, 1, 80, 100 },
		      { 1000, 1, 1, -300, 0 } /* exp underflows */ };
	struct ee_shape s = shp(cases[_i].c, cases[_i].h, cases[_i].w);
	float *x = random_batch(3, s, 71, cases[_i].lo, cases[_i].hi);
	float *want = falloc(ee_shape_numel(s) * 3);
	struct lcase lc = { make_softmax, NULL, 3, 1, { s } };
	struct ee_cost cost;

	ref_softmax(x, 3, ee_shape_numel(s), want);
	cost = check_case(&lc, (const float *const[]){ x }, want, s, 1e-7, 1e-5);
	ck_assert_double_eq(cost.other, 3.0 * ee_shape_numel(s));
	free(x), free(want);
}
END_TEST

/* -------------------------------------------------------- concat and slice */

static struct ee_layer *make_concat(struct ee_pool *p, const void *arg)
{
	(void)arg;
	return ee_concat_new(p);
}

static struct ee_layer *make_slice(struct ee_pool *p, const void *arg)
{
	const int *r = arg;

	return ee_slice_new(p, r[0], r[1]);
}

/* Inputs of 2, 3 and 4 channels... concatenated; dense wiring lets the planner place
 * them (no copy), the views wiring makes the concat copy. */
START_TEST(concat_places_or_copies)
{
	static const int cs[] = { 2, 3, 1, 4 };
	int nin = 2 + _i, j, i, total = 0;
	float *x[EE_LAYER_MAX_IN] = { 0 }, *want;
	struct lcase lc = { make_concat, NULL, 3, nin, { { 0 } } };
	struct ee_cost cost;
	size_t plane = 7 * 9, off;

	for (j = 0; j < nin; j++) {
		lc.in[j] = shp(cs[j], 7, 9);
		x[j] = random_batch(3, lc.in[j], 80 + j, -1, 1);
		total += cs[j];
	}
	want = falloc(total * plane * 3);
	for (i = 0; i < 3; i++)
		for (j = 0, off = (size_t)i * total * plane; j < nin; off += cs[j] * plane, j++)
			memcpy(want + off, x[j] + i * cs[j] * plane, cs[j] * plane * 4);
	cost = check_case(&lc, (const float *const *)x, want, shp(total, 7, 9), 0, 0);
	ck_assert_double_eq(cost.other + cost.macs, 0);
	for (j = 0; j < nin; j++)
		free(x[j]);
	free(want);
}
END_TEST

START_TEST(slice_views_or_copies)
{
	static const int ranges[][2] = { { 0, 5 }, { 1, 4 }, { 4, 5 }, { 0, 1 } };
	const int *r = ranges[_i];
	struct ee_shape is = shp(5, 7, 9), os = shp(r[1] - r[0], 7, 9);
	float *x = random_batch(3, is, 91, -1, 1), *want = falloc(ee_shape_numel(os) * 3);
	struct lcase lc = { make_slice, r, 3, 1, { is } };
	struct ee_cost cost;
	int i;

	for (i = 0; i < 3; i++)
		memcpy(want + i * ee_shape_numel(os), x + i * ee_shape_numel(is) + r[0] * 63,
		       ee_shape_numel(os) * 4);
	cost = check_case(&lc, (const float *const[]){ x }, want, os, 0, 0);
	ck_assert_double_eq(cost.other + cost.macs, 0);
	free(x), free(want);
}
END_TEST

START_TEST(concat_and_slice_refusals)
{
	struct ee_model m;
	struct ee_err err = { 0 };
	struct pool_arg p = { true, 2, 2, 0 };
	int a, b;

	expect_refused(shp(5, 7, 9), make_slice, (const int[]){ 2, 6 }, 1,
		       "channels [2, 6) of a 5-channel input");
	expect_refused(shp(5, 7, 9), make_slice, (const int[]){ 3, 3 }, 1, "channels [3, 3)");
	expect_refused(shp(5, 7, 9), make_concat, NULL, 1, "takes 2 to 4 inputs, got 1");
	ee_model_init(&m, shp(5, 7, 9));
	a = add_node(&m, make_pool(&m.pool, &p), (int[]){ EE_NODE_INPUT }, 1);
	b = ee_model_add(&m, ee_concat_new(&m.pool), (int[]){ EE_NODE_INPUT, a }, 2, &err);
	ck_assert_int_eq(b, EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "input 2 is 3x4 but input 1 is 7x9"));
	ee_model_release(&m);
}
END_TEST

/*
 * The planner's views nested: relu and sigmoid write straight into a concat,
 * which also copies the network input; a slice spans both aliased parts; a mul
 * reads that slice and a slice of an aliased node.
 *     a = relu(x), b = sigmoid(x), cat = [x, a, b], s = cat[:, 6:10], t = a[:, 1:5]
 *     exits: cat, s * t
 */
START_TEST(planner_views_nested)
{
	struct ee_shape s4 = shp(4, 5, 7);
	size_t plane = 35, len = 4 * plane;
	float *x = random_batch(3, s4, 95, -2, 2), *want = falloc(12 * plane * 3);
	float *got = falloc(12 * plane * 3), *want_mul = falloc(len * 3);
	struct ee_model m;
	struct ee_run r;
	struct ee_err err = { 0 };
	struct ee_tensor in = ee_tensor_dense(x, 3, 4, 5, 7), t;
	int a, b, cat, sl, sl2, mul, i;
	size_t k;

	ee_model_init(&m, s4);
	a = add_node(&m, ee_activation_new(&m.pool, EE_ACT_RELU), (int[]){ EE_NODE_INPUT }, 1);
	b = add_node(&m, ee_activation_new(&m.pool, EE_ACT_SIGMOID), (int[]){ EE_NODE_INPUT }, 1);
	cat = add_node(&m, ee_concat_new(&m.pool), (int[]){ EE_NODE_INPUT, a, b }, 3);
	sl = add_node(&m, ee_slice_new(&m.pool, 6, 10), (int[]){ cat }, 1);
	sl2 = add_node(&m, ee_slice_new(&m.pool, 0, 4), (int[]){ a }, 1);
	mul = add_node(&m, ee_mul_new(&m.pool), (int[]){ sl, sl2 }, 2);
	ck_assert_int_eq(ee_model_set_exit(&m, cat, &err), 0);
	ck_assert_int_eq(ee_model_set_exit(&m, mul, &err), 0);
	ck_assert_int_eq(ee_model_finish(&m, &err), 0);
	/* a and b live in cat's buffer, and so do both slices */
	ck_assert_int_eq(m.nodes[a].owner, cat);
	ck_assert_int_eq(m.nodes[b].owner, cat);
	ck_assert_int_eq(m.nodes[sl].owner, cat);
	ck_assert_int_eq(m.nodes[sl].coff, 6);
	ck_assert_int_eq(m.nodes[sl2].coff, 4);
	ck_assert_int_eq(ee_run_init(&r, &m, 3, false, &err), 0);
	ee_run_forward(&r, &in);

	for (i = 0; i < 3; i++) {
		float *w = want + i * 12 * plane;
		const float *xi = x + i * len;

		for (k = 0; k < len; k++) {
			w[k] = xi[k];
			w[len + k] = xi[k] > 0 ? xi[k] : 0;
			w[2 * len + k] = 1.0f / (1.0f + expf(-xi[k]));
		}
	}
	t = ee_run_tensor(&r, cat);
	gather(&t, got);
	ck_assert(tu_close("cat", got, want, 12 * plane * 3, ELEM_TOL, 1e-6));
	for (i = 0; i < 3; i++)
		for (k = 0; k < len; k++) {
			const float *w = want + i * 12 * plane;

			want_mul[i * len + k] = w[6 * plane + k] * w[4 * plane + k];
		}
	t = ee_run_tensor(&r, mul);
	gather(&t, got);
	ck_assert(tu_close("mul", got, want_mul, len * 3, ELEM_TOL, 1e-6));
	ee_run_release(&r);
	ee_model_release(&m);
	free(x), free(want), free(got), free(want_mul);
}
END_TEST

/* -------------------------------------------------------------- shortcut A */

static struct ee_layer *make_shortcut(struct ee_pool *p, const void *arg)
{
	const int *s = arg;

	return ee_shortcut_a_new(p, s[0], s[1], s[2]);
}

START_TEST(shortcut_a_subsamples_and_pads)
{
	static const int cases[][3] = { { 2, 2, 2 }, { 2, 1, 3 }, { 1, 0, 0 }, { 3, 0, 2 } };
	const int *sc = cases[_i];
	struct ee_shape is = shp(5, 7, 9);
	struct ee_shape os = shp(sc[1] + 5 + sc[2], (7 + sc[0] - 1) / sc[0],
				 (9 + sc[0] - 1) / sc[0]);
	float *x = random_batch(3, is, 101, -1, 1), *want = falloc(ee_shape_numel(os) * 3);
	struct lcase lc = { make_shortcut, sc, 3, 1, { is } };
	struct ee_cost cost;
	int i, ch, oy, ox;

	for (i = 0; i < 3; i++)
		for (ch = 0; ch < os.c; ch++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					int src = ch - sc[1]; /* input channel, if not padding */
					double v = src < 0 || src >= 5 ? 0 :
						   at(x, is, i, src, oy * sc[0], ox * sc[0]);

					*out_at(want, os, i, ch, oy, ox) = (float)v;
				}
	cost = check_case(&lc, (const float *const[]){ x }, want, os, 0, 0);
	ck_assert_double_eq(cost.other + cost.macs, 0);
	expect_refused(is, make_shortcut, (const int[]){ 2, -1, 0 }, 1, "padding >= 0");
	free(x), free(want);
}
END_TEST

/* -------------------------------------------------------- conv_transpose2d */

struct convt_arg {
	int cin, cout, k, stride, pad;
	const float *weight, *bias; /* [cin][cout][k][k], [cout] or NULL */
	struct bn_params bn;
	enum ee_act act;
};

static struct ee_layer *make_convt(struct ee_pool *p, const void *arg)
{
	const struct convt_arg *a = arg;
	struct ee_conv_transpose2d *ct =
		ee_conv_transpose2d_new(p, a->cin, a->cout, a->k, a->stride, a->pad);

	ct->weight = pool_copy(p, a->weight, (size_t)a->cin * a->cout * a->k * a->k);
	ct->bias = pool_copy(p, a->bias, a->cout);
	if (a->bn.gamma && !ct->bias)
		ct->bias = ee_pool_alloc(p, a->cout * sizeof(float));
	set_bn(&ct->bn, &a->bn);
	ct->act = a->act;
	return &ct->base;
}

/* Gather form of the transposed conv at output (o, oy, ox) of sample i, before BN and
 * act: input (iy, ix) reaches it through tap (dy, dx) when oy = iy*stride + dy - pad. */
static double convt_at(const struct convt_arg *a, const float *x, struct ee_shape is, int i,
		       int o, int oy, int ox)
{
	double acc = a->bias ? a->bias[o] : 0;
	int ci, dy, dx;

	for (ci = 0; ci < a->cin; ci++)
		for (dy = 0; dy < a->k; dy++)
			for (dx = 0; dx < a->k; dx++) {
				int ty = oy + a->pad - dy, tx = ox + a->pad - dx;
				const float *w = a->weight + ((size_t)ci * a->cout + o) * a->k * a->k;

				if (ty >= 0 && tx >= 0 && ty % a->stride == 0 && tx % a->stride == 0)
					acc += at(x, is, i, ci, ty / a->stride, tx / a->stride) *
					       w[dy * a->k + dx];
			}
	return acc;
}

static void ref_convt(const struct convt_arg *a, const float *x, int n, struct ee_shape is,
		      struct ee_shape os, float *y)
{
	int i, o, oy, ox;

	for (i = 0; i < n; i++)
		for (o = 0; o < a->cout; o++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++)
					*out_at(y, os, i, o, oy, ox) = (float)ref_act(
						ref_bn(convt_at(a, x, is, i, o, oy, ox), &a->bn, o),
						a->act);
}

START_TEST(conv_transpose2d_matches_reference)
{
	/* cin cout k s p, bias, bn, act: SCAN's 4x4 stride-2 upsamplers and odd ones (3x3
	 * stride 2 and 5x5 stride 3: col2im) */
	static const struct {
		int cin, cout, k, s, p;
		bool bias, bn;
		enum ee_act act;
	} cases[] = {
		{ 5, 3, 4, 2, 1, true, false, EE_ACT_NONE },
		{ 4, 6, 4, 2, 1, false, true, EE_ACT_RELU },
		{ 3, 5, 3, 2, 1, true, true, EE_ACT_SIGMOID },
		{ 4, 4, 3, 1, 1, true, false, EE_ACT_RELU },
		{ 2, 3, 5, 3, 2, false, false, EE_ACT_NONE },
		{ 3, 2, 1, 1, 0, true, false, EE_ACT_NONE },
		/* k a multiple of the stride: the sub-pixel form, its phases reading inputs
		 * before, at and after their own position */
		{ 3, 4, 6, 3, 2, true, true, EE_ACT_SIGMOID },
		{ 2, 3, 4, 2, 0, false, false, EE_ACT_NONE },
		{ 3, 3, 4, 2, 3, true, false, EE_ACT_RELU },
	};
	struct ee_shape is = shp(cases[_i].cin, 5, 6);
	struct convt_arg a = { cases[_i].cin, cases[_i].cout, cases[_i].k, cases[_i].s,
			       cases[_i].p, NULL, NULL, { 0 }, cases[_i].act };
	struct ee_shape os = shp(a.cout, (5 - 1) * a.stride - 2 * a.pad + a.k,
				 (6 - 1) * a.stride - 2 * a.pad + a.k);
	size_t nw = (size_t)a.cin * a.cout * a.k * a.k;
	float *x = random_batch(3, is, 111, -1, 1), *w = falloc(nw), *b = falloc(a.cout);
	float *want = falloc(ee_shape_numel(os) * 3), *bnp = NULL;
	struct lcase lc = { make_convt, &a, 3, 1, { is } };
	struct ee_cost cost;

	tu_fill(w, nw, 112, -0.5f, 0.5f);
	tu_fill(b, a.cout, 113, -0.5f, 0.5f);
	a.weight = w;
	a.bias = cases[_i].bias ? b : NULL;
	if (cases[_i].bn)
		bnp = random_bn(a.cout, 114, &a.bn);
	ref_convt(&a, x, 3, is, os, want);
	cost = check_case(&lc, (const float *const[]){ x }, want, os, GEMM_ATOL, GEMM_RTOL);
	ck_assert_double_eq(cost.macs, (double)nw * 30);
	free(x), free(w), free(b), free(want), free(bnp);
}
END_TEST

START_TEST(conv_transpose2d_cost_and_refusals)
{
	static const float one = 1;
	struct convt_arg a = { 4, 3, 3, 2, 1, NULL, NULL, { &one, NULL, NULL, NULL, 1e-5f },
			       EE_ACT_RELU };
	struct ee_model m;
	struct ee_err err = { 0 };
	int id;

	ee_model_init(&m, shp(4, 5, 6));
	id = add_status(&m, make_convt(&m.pool, &a), 1, &err);
	ck_assert_int_ge(id, 0);
	/* 9x11 outputs; 4*3*9 MACs per input pixel x 30; BN 2 + ReLU 1 per output */
	ck_assert_int_eq(m.nodes[id].shape.h, 9);
	ck_assert_int_eq(m.nodes[id].shape.w, 11);
	ck_assert_double_eq(m.nodes[id].cost.macs, 3240);
	ck_assert_double_eq(m.nodes[id].cost.other, 891);
	ee_model_release(&m);
	expect_refused(shp(5, 5, 6), make_convt, &a, 1, "expects 4 input channels, got 5");
	a = (struct convt_arg){ 4, 3, 2, 1, 1, NULL, NULL, { 0 }, EE_ACT_NONE };
	expect_refused(shp(4, 1, 6), make_convt, &a, 1, "leaves no output of a 1x6 input");
}
END_TEST

/* ---------------------------------------------------------------- emgconv */

/* EMGNet's gated 5x5 depthwise conv against the definition: I = the centre 3x3 taps
 * (+ bias), the gate open iff mean over the plane of |I| - t > 0, then I + the 16 ring
 * taps if open, then BN and the activation. Thresholds sit halfway between the smallest
 * and the largest mean |I| of each channel over the samples, so that every channel has
 * open and closed samples and no decision is near the tie. */
struct emg_case {
	int n, c, h, w, stride;
	bool bias, bn;
	enum ee_act act;
};

static const struct emg_case emg_cases[] = {
	/* n  c   h   w  s  bias   bn     act */
	{ 3, 4, 9, 11, 1, false, true, EE_ACT_RELU },    /* a vector + 3 columns */
	{ 2, 5, 19, 21, 1, true, false, EE_ACT_NONE },   /* two vectors + 5 columns, bias */
	{ 2, 3, 6, 8, 1, false, true, EE_ACT_NONE },     /* exactly one vector */
	{ 4, 4, 9, 11, 2, false, true, EE_ACT_RELU },    /* stride 2 */
	{ 2, 3, 3, 2, 1, false, false, EE_ACT_SIGMOID }, /* plane smaller than the kernel */
};

struct emg_arg {
	const struct emg_case *ec;
	const float *weight, *bias, *threshold, *mask; /* [c][25], [c] or NULL, [c], [25] */
	struct bn_params bn;
};

static struct ee_layer *make_emg(struct ee_pool *p, const void *arg)
{
	const struct emg_arg *a = arg;
	struct ee_emgconv *e = ee_emgconv_new(p, a->ec->c, a->ec->stride, 2);

	e->weight = pool_copy(p, a->weight, (size_t)a->ec->c * 25);
	e->bias = pool_copy(p, a->bias, a->ec->c);
	e->threshold = pool_copy(p, a->threshold, a->ec->c);
	e->mask = pool_copy(p, a->mask, 25);
	set_bn(&e->bn, &a->bn);
	e->act = a->ec->act;
	return &e->base;
}

/* The centre (ring false) or ring taps of channel ch at output (oy, ox) of sample i. */
static double emg_taps(const struct emg_arg *a, const float *x, int i, int ch, int oy, int ox,
		       bool ring)
{
	const struct emg_case *c = a->ec;
	double acc = 0;
	int dy, dx;

	for (dy = 0; dy < 5; dy++)
		for (dx = 0; dx < 5; dx++)
			if ((dy == 0 || dy == 4 || dx == 0 || dx == 4) == ring)
				acc += at(x, shp(c->c, c->h, c->w), i, ch, oy * c->stride + dy - 2,
					  ox * c->stride + dx - 2) *
				       a->weight[ch * 25 + dy * 5 + dx];
	return acc;
}

/* mean over the output plane of |I| for sample i, channel ch. */
static double emg_mean_abs(const struct emg_arg *a, const float *x, int i, int ch,
			   struct ee_shape os)
{
	double sum = 0;
	int oy, ox;

	for (oy = 0; oy < os.h; oy++)
		for (ox = 0; ox < os.w; ox++)
			sum += fabs(emg_taps(a, x, i, ch, oy, ox, false) +
				    (a->bias ? a->bias[ch] : 0));
	return sum / (os.h * os.w);
}

START_TEST(emgconv_matches_reference)
{
	const struct emg_case *c = &emg_cases[_i];
	struct ee_shape is = shp(c->c, c->h, c->w);
	struct ee_shape os = shp(c->c, (c->h - 1) / c->stride + 1, (c->w - 1) / c->stride + 1);
	float *x = random_batch(c->n, is, 500 + _i, -1, 1), *w = falloc(25 * (size_t)c->c);
	float *b = falloc(c->c), *t = falloc(c->c), mask[25], *bnp = NULL;
	float *want = falloc(ee_shape_numel(os) * c->n);
	struct emg_arg a = { c, w, c->bias ? b : NULL, t, mask, { 0 } };
	struct lcase lc = { make_emg, &a, c->n, 1, { is } };
	int i, ch, oy, ox, open = 0;

	tu_fill(w, 25 * (size_t)c->c, 600 + _i, -0.5f, 0.5f);
	tu_fill(b, c->c, 700 + _i, -0.5f, 0.5f);
	for (i = 0; i < 25; i++)
		mask[i] = i / 5 >= 1 && i / 5 <= 3 && i % 5 >= 1 && i % 5 <= 3;
	if (c->bn)
		bnp = random_bn(c->c, 800 + _i, &a.bn);
	for (ch = 0; ch < c->c; ch++) {
		double lo = INFINITY, hi = -INFINITY;

		for (i = 0; i < c->n; i++) {
			double m = emg_mean_abs(&a, x, i, ch, os);

			lo = m < lo ? m : lo;
			hi = m > hi ? m : hi;
		}
		t[ch] = (float)((lo + hi) / 2);
	}
	for (i = 0; i < c->n; i++)
		for (ch = 0; ch < c->c; ch++) {
			bool gate = emg_mean_abs(&a, x, i, ch, os) > t[ch];

			open += gate;
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					double v = emg_taps(&a, x, i, ch, oy, ox, false) +
						   (a.bias ? a.bias[ch] : 0) +
						   (gate ? emg_taps(&a, x, i, ch, oy, ox, true) : 0);

					*out_at(want, os, i, ch, oy, ox) =
						(float)ref_act(ref_bn(v, &a.bn, ch), c->act);
				}
		}
	ck_assert_msg(open > 0 && open < c->n * c->c, "%d of %d gates open", open, c->n * c->c);
	check_case(&lc, (const float *const[]){ x }, want, os, GEMM_ATOL, GEMM_RTOL);
	free(x), free(w), free(b), free(t), free(bnp), free(want);
}
END_TEST

/* ---------------------------------------------------------------- upsample */

static struct ee_layer *make_upsample(struct ee_pool *p, const void *arg)
{
	return ee_upsample_new(p, *(const int *)arg);
}

/* Source index and weight of output d along an axis of n inputs (align_corners=False). */
static void ref_source(int d, int factor, int n, int *i0, int *i1, double *l1)
{
	double s = (d + 0.5) / factor - 0.5;

	if (s < 0)
		s = 0;
	*i0 = (int)floor(s);
	*i1 = *i0 + 1 < n ? *i0 + 1 : n - 1;
	*l1 = s - *i0;
}

START_TEST(upsample_bilinear)
{
	static const int factors[] = { 2, 4, 3, 1 };
	int f = factors[_i], i, ch, oy, ox;
	struct ee_shape is = shp(5, 3, 4), os = shp(5, 3 * f, 4 * f);
	float *x = random_batch(3, is, 121, -1, 1), *want = falloc(ee_shape_numel(os) * 3);
	struct lcase lc = { make_upsample, &factors[_i], 3, 1, { is } };
	struct ee_cost cost;

	for (i = 0; i < 3; i++)
		for (ch = 0; ch < 5; ch++)
			for (oy = 0; oy < os.h; oy++)
				for (ox = 0; ox < os.w; ox++) {
					int y0, y1, x0, x1;
					double ly, lx;

					ref_source(oy, f, is.h, &y0, &y1, &ly);
					ref_source(ox, f, is.w, &x0, &x1, &lx);
					*out_at(want, os, i, ch, oy, ox) = (float)(
						(1 - ly) * ((1 - lx) * at(x, is, i, ch, y0, x0) +
							    lx * at(x, is, i, ch, y0, x1)) +
						ly * ((1 - lx) * at(x, is, i, ch, y1, x0) +
						      lx * at(x, is, i, ch, y1, x1)));
				}
	cost = check_case(&lc, (const float *const[]){ x }, want, os, ELEM_TOL, 1e-5);
	ck_assert_double_eq(cost.other, 4.0 * ee_shape_numel(os));
	expect_refused(is, make_upsample, &(int){ 0 }, 1, "scale factor 0");
	free(x), free(want);
}
END_TEST

/* The corners of a 2x upsampled 2x2 plane, worked by hand: PyTorch gives
 * [[1, 1.25, 1.75, 2], [1.5, 1.75, 2.25, 2.5], [2.5, ...], [3, 3.25, 3.75, 4]]. */
START_TEST(upsample_by_hand)
{
	static const float x[] = { 1, 2, 3, 4 };
	static const float want[] = { 1.0f, 1.25f, 1.75f, 2.0f, 1.5f, 1.75f, 2.25f, 2.5f,
				      2.5f, 2.75f, 3.25f, 3.5f, 3.0f, 3.25f, 3.75f, 4.0f };
	struct lcase lc = { make_upsample, &(int){ 2 }, 1, 1, { { 1, 2, 2 } } };

	check_case(&lc, (const float *const[]){ x }, want, shp(1, 4, 4), 0, 0);
}
END_TEST

/* ------------------------------------------------------------------- suite */

static void add(Suite *s, const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
}

static void add_loop(Suite *s, const char *name, const TTest *test, int count)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 60);
	tcase_add_loop_test(tc, test, 0, count);
	suite_add_tcase(s, tc);
}

static Suite *layers_suite(void)
{
	Suite *s = suite_create("layers");

	add_loop(s, "conv2d", conv2d_matches_reference, COUNT(conv_cases));
	add_loop(s, "skinny_gemm", skinny_gemm_matches_reference, 10);
	add(s, "conv2d_cost", (const TTest *const[]){ conv2d_cost_by_hand, conv2d_refuses_bad_shapes,
						      NULL });
	add_loop(s, "batchnorm", batchnorm_matches_reference, 3);
	add(s, "linear", (const TTest *const[]){ linear_flattens_and_batches,
						 linear_cost_and_refusals, NULL });
	add(s, "activation", (const TTest *const[]){ activation_relu_and_sigmoid,
						     activation_sigmoid_extremes,
						     activation_long_sample, NULL });
	add_loop(s, "pooling", pooling_matches_reference, COUNT(pool_cases));
	add(s, "pooling_cost", (const TTest *const[]){ pooling_cost_and_refusals, NULL });
	add_loop(s, "adaptive_avgpool", adaptive_avgpool_bins, 5);
	add(s, "adaptive_avgpool_refusals", (const TTest *const[]){ adaptive_avgpool_refusals,
								    NULL });
	add_loop(s, "add", add_with_and_without_relu, 3);
	add(s, "mul", (const TTest *const[]){ mul_elementwise, binary_refusals, NULL });
	add_loop(s, "softmax", softmax_stable_over_chw, 4);
	add_loop(s, "concat", concat_places_or_copies, 3);
	add_loop(s, "slice", slice_views_or_copies, 4);
	add(s, "views", (const TTest *const[]){ concat_and_slice_refusals, planner_views_nested,
						NULL });
	add_loop(s, "shortcut_a", shortcut_a_subsamples_and_pads, 4);
	add_loop(s, "conv_transpose2d", conv_transpose2d_matches_reference, 9);
	add(s, "conv_transpose2d_cost", (const TTest *const[]){ conv_transpose2d_cost_and_refusals,
								NULL });
	add_loop(s, "emgconv", emgconv_matches_reference, COUNT(emg_cases));
	add_loop(s, "upsample", upsample_bilinear, 4);
	add(s, "upsample_by_hand", (const TTest *const[]){ upsample_by_hand, NULL });
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(layers_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
