/*
 * builder.c - checkpoint-driven network construction; see builder.h.
 */
#include "builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A tensor to read at finish() and the layer field that will point at it. */
struct ee_bind {
	struct ee_ckpt_tensor *t;
	float **dst;
};

void ee_builder_init(struct ee_builder *b, struct ee_model *m, struct ee_ckpt *ck,
		     struct ee_err *err)
{
	memset(b, 0, sizeof(*b));
	b->m = m;
	b->ck = ck;
	b->err = err;
}

void ee_builder_release(struct ee_builder *b)
{
	free(b->binds);
	b->binds = NULL;
	free(b->slab);
	b->slab = NULL;
}

int ee_b_fail(struct ee_builder *b, const char *fmt, ...)
{
	char msg[EE_ERR_MSG_MAX];
	va_list ap;

	if (b->rc < 0)
		return b->rc;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	b->rc = ee_err_set(b->err, EE_ERR_INPUT, "checkpoint '%s': %s", b->ck->path, msg);
	return b->rc;
}

static int nomem(struct ee_builder *b)
{
	if (b->rc == EE_OK)
		b->rc = ee_err_set(b->err, EE_ERR_NOMEM, "out of memory building the network");
	return b->rc;
}

const char *ee_b_key(struct ee_builder *b, const char *fmt, ...)
{
	char buf[512];
	const char *s;
	va_list ap;

	if (b->rc < 0)
		return NULL;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	s = ee_pool_strdup(&b->m->pool, buf);
	if (!s)
		nomem(b);
	return s;
}

const struct ee_ckpt_tensor *ee_b_tensor(struct ee_builder *b, const char *prefix,
					 const char *suffix)
{
	char key[512];

	if (!prefix)
		return NULL;
	snprintf(key, sizeof(key), "%s%s%s", prefix, *suffix ? "." : "", suffix);
	return ee_ckpt_find(b->ck, key);
}

bool ee_b_has(struct ee_builder *b, const char *prefix, const char *suffix)
{
	return ee_b_tensor(b, prefix, suffix) != NULL;
}

bool ee_b_has_prefix(struct ee_builder *b, const char *prefix)
{
	return b->rc == EE_OK && prefix && ee_ckpt_has_prefix(b->ck, prefix);
}

int ee_b_dim(struct ee_builder *b, const char *prefix, const char *suffix, int i)
{
	const struct ee_ckpt_tensor *t = ee_b_tensor(b, prefix, suffix);

	if (!t) {
		ee_b_fail(b, "missing tensor '%s.%s'", prefix ? prefix : "?", suffix);
		return -1;
	}
	if (i >= t->rank) {
		ee_b_fail(b, "tensor '%s' has rank %d, expected more than %d", t->key, t->rank, i);
		return -1;
	}
	return (int)t->dims[i];
}

void ee_b_ignore(struct ee_builder *b, const char *prefix)
{
	size_t n = strlen(prefix);
	int i;

	for (i = 0; i < b->ck->nt; i++)
		if (!strncmp(b->ck->t[i].key, prefix, n) && b->ck->t[i].use == EE_CKPT_UNUSED)
			b->ck->t[i].use = EE_CKPT_IGNORED;
}

struct ee_shape ee_b_shape(struct ee_builder *b, int x)
{
	static const struct ee_shape none;

	if (x == EE_NODE_INPUT)
		return b->m->input;
	if (x < 0 || x >= b->m->nnodes)
		return none;
	return b->m->nodes[x].shape;
}

static void shape_str(char *buf, size_t size, int rank, const int64_t *dims)
{
	int i, n = snprintf(buf, size, "[");

	for (i = 0; i < rank && n < (int)size; i++)
		n += snprintf(buf + n, size - n, "%s%lld", i ? ", " : "", (long long)dims[i]);
	if (n < (int)size)
		snprintf(buf + n, size - n, "]");
}

/*
 * Records that *dst must point at tensor prefix.suffix, whose shape must be
 * dims[0..rank) (a dim of -1 matches anything). Missing or misshaped tensors
 * fail here, before anything is read.
 */
static int bind(struct ee_builder *b, const char *prefix, const char *suffix, float **dst,
		int rank, const int64_t *dims)
{
	struct ee_ckpt_tensor *t = (struct ee_ckpt_tensor *)ee_b_tensor(b, prefix, suffix);
	char want[128], got[128];
	int i;

	if (b->rc < 0)
		return b->rc;
	if (!t)
		return ee_b_fail(b, "missing tensor '%s.%s'", prefix, suffix);
	for (i = 0; i < rank && t->rank == rank; i++)
		if (dims[i] >= 0 && dims[i] != t->dims[i])
			break;
	if (t->rank != rank || i < rank) {
		shape_str(want, sizeof(want), rank, dims);
		shape_str(got, sizeof(got), t->rank, t->dims);
		return ee_b_fail(b, "tensor '%s' has shape %s, the network needs %s", t->key, got,
				 want);
	}
	if (b->nbinds == b->cap) {
		int cap = b->cap ? 2 * b->cap : 256;
		void *p = realloc(b->binds, (size_t)cap * sizeof(*b->binds));

		if (!p)
			return nomem(b);
		b->binds = p;
		b->cap = cap;
	}
	t->use = EE_CKPT_USED;
	b->binds[b->nbinds++] = (struct ee_bind){ t, dst };
	return EE_OK;
}

#define DIMS(...) (const int64_t[]){ __VA_ARGS__ }

/* Binds an optional bias [c]: absent leaves *dst NULL. */
static void bind_bias(struct ee_builder *b, const char *prefix, float **dst, int c)
{
	if (ee_b_has(b, prefix, "bias"))
		bind(b, prefix, "bias", dst, 1, DIMS(c));
}

static void bind_bn(struct ee_builder *b, const char *prefix, int c, struct ee_bn *bn)
{
	bind(b, prefix, "weight", (float **)&bn->gamma, 1, DIMS(c));
	bind(b, prefix, "bias", (float **)&bn->beta, 1, DIMS(c));
	bind(b, prefix, "running_mean", (float **)&bn->mean, 1, DIMS(c));
	bind(b, prefix, "running_var", (float **)&bn->var, 1, DIMS(c));
	if (ee_b_has(b, prefix, "num_batches_tracked"))
		ee_b_ignore(b, ee_b_key(b, "%s.num_batches_tracked", prefix));
	bn->eps = b->ck->bn_eps;
	bn->on = true;
}

static const char *act_name(enum ee_act act)
{
	return act == EE_ACT_RELU ? "relu" : act == EE_ACT_SIGMOID ? "sigmoid" : NULL;
}

/* "bn+relu": what a fused layer computes besides its own module. */
static const char *fused_name(struct ee_builder *b, const char *bn, enum ee_act act)
{
	const char *a = act_name(act);

	if (!bn && !a)
		return NULL;
	return ee_b_key(b, "%s%s%s", bn ? "bn" : "", bn && a ? "+" : "", a ? a : "");
}

/* Adds layer l on inputs, naming it; returns the node id or the failure. */
static int add_node(struct ee_builder *b, struct ee_layer *l, const char *name, const char *fused,
		    const int *in, int nin)
{
	int id;

	if (b->rc < 0)
		return b->rc;
	if (!l)
		return nomem(b);
	l->name = name;
	l->fused = fused;
	id = ee_model_add(b->m, l, in, nin, b->err);
	if (id < 0) {
		b->rc = id;
		ee_err_prefix(b->err, "checkpoint '%s': ", b->ck->path);
	}
	return id;
}

void ee_b_scope(struct ee_builder *b, const char *scope)
{
	b->scope = scope;
}

/* Name of an operation without a module of its own: "<scope>.<kind>", else
 * "<input's name>+<kind>". */
static const char *op_name(struct ee_builder *b, int x, const char *kind)
{
	const char *in = x >= 0 && x < b->m->nnodes ? b->m->nodes[x].layer->name : "input";

	if (b->scope)
		return ee_b_key(b, "%s.%s", b->scope, kind);
	return ee_b_key(b, "%s+%s", in ? in : "?", kind);
}

/* Room for a folded bias when a conv without one is followed by BN. */
static float *zero_bias(struct ee_builder *b, int c)
{
	float *p = ee_pool_alloc(&b->m->pool, (size_t)c * sizeof(float));

	if (!p)
		nomem(b);
	return p;
}

/*
 * A conv whose weight must be [cout, in.c, kh, kw] (depthwise: [in.c, 1, kh, kw], one group
 * per channel): the groups are the architecture's, never guessed from the weight's shape.
 */
static int conv(struct ee_builder *b, int x, const char *name, const char *bn, int stride,
		int pad, bool depthwise, enum ee_act act)
{
	struct ee_shape in = ee_b_shape(b, x);
	int cout = ee_b_dim(b, name, "weight", 0);
	int kh = ee_b_dim(b, name, "weight", 2), kw = ee_b_dim(b, name, "weight", 3);
	struct ee_conv2d *cv;

	if (b->rc < 0)
		return b->rc;
	if (depthwise)
		cout = in.c;
	cv = ee_conv2d_new(&b->m->pool, in.c, cout, kh, kw, stride, pad, depthwise ? in.c : 1);
	if (!cv)
		return nomem(b);
	bind(b, name, "weight", &cv->weight, 4, DIMS(cout, depthwise ? 1 : in.c, kh, kw));
	bind_bias(b, name, &cv->bias, cout);
	cv->act = act;
	if (bn) {
		bind_bn(b, bn, cout, &cv->bn);
		if (!cv->bias)
			cv->bias = zero_bias(b, cout);
	}
	return add_node(b, &cv->base, name, fused_name(b, bn, act), &x, 1);
}

int ee_b_conv(struct ee_builder *b, int x, const char *name, const char *bn, int stride, int pad,
	      enum ee_act act)
{
	return conv(b, x, name, bn, stride, pad, false, act);
}

int ee_b_dwconv(struct ee_builder *b, int x, const char *name, const char *bn, int stride,
		int pad, enum ee_act act)
{
	return conv(b, x, name, bn, stride, pad, true, act);
}

int ee_b_conv_t(struct ee_builder *b, int x, const char *conv, const char *bn, int stride,
		int pad, enum ee_act act)
{
	struct ee_shape in = ee_b_shape(b, x);
	int cout = ee_b_dim(b, conv, "weight", 1), k = ee_b_dim(b, conv, "weight", 2);
	struct ee_conv_transpose2d *ct;

	if (b->rc < 0)
		return b->rc;
	ct = ee_conv_transpose2d_new(&b->m->pool, in.c, cout, k, stride, pad);
	if (!ct)
		return nomem(b);
	bind(b, conv, "weight", &ct->weight, 4, DIMS(in.c, cout, k, k));
	bind_bias(b, conv, &ct->bias, cout);
	ct->act = act;
	if (bn) {
		bind_bn(b, bn, cout, &ct->bn);
		if (!ct->bias)
			ct->bias = zero_bias(b, cout);
	}
	return add_node(b, &ct->base, conv, fused_name(b, bn, act), &x, 1);
}

int ee_b_emg(struct ee_builder *b, int x, const char *conv, const char *bn, int stride, int pad,
	     enum ee_act act)
{
	struct ee_shape in = ee_b_shape(b, x);
	struct ee_emgconv *e;

	if (b->rc < 0)
		return b->rc;
	e = ee_emgconv_new(&b->m->pool, in.c, stride, pad);
	if (!e)
		return nomem(b);
	bind(b, conv, "weight", &e->weight, 4, DIMS(in.c, 1, 5, 5));
	bind(b, conv, "threshold", &e->threshold, 4, DIMS(1, in.c, 1, 1));
	bind(b, conv, "skeleton_mask", &e->mask, 2, DIMS(5, 5));
	bind_bias(b, conv, &e->bias, in.c);
	if (bn)
		bind_bn(b, bn, in.c, &e->bn);
	e->act = act;
	return add_node(b, &e->base, conv, fused_name(b, bn, act), &x, 1);
}

int ee_b_bn(struct ee_builder *b, int x, const char *bn, enum ee_act act)
{
	struct ee_shape in = ee_b_shape(b, x);
	struct ee_batchnorm *l;

	if (b->rc < 0)
		return b->rc;
	l = ee_batchnorm_new(&b->m->pool, in.c, act);
	if (!l)
		return nomem(b);
	bind_bn(b, bn, in.c, &l->bn);
	return add_node(b, &l->base, bn, act_name(act), &x, 1);
}

int ee_b_linear(struct ee_builder *b, int x, const char *fc)
{
	struct ee_shape in = ee_b_shape(b, x);
	int out = ee_b_dim(b, fc, "weight", 0), nin = ee_b_dim(b, fc, "weight", 1);
	struct ee_linear *l;

	if (b->rc < 0)
		return b->rc;
	if ((size_t)nin != ee_shape_numel(in))
		return ee_b_fail(b, "linear '%s' takes %d features, its input has %d x %d x %d = %zu",
				 fc, nin, in.c, in.h, in.w, ee_shape_numel(in));
	l = ee_linear_new(&b->m->pool, nin, out);
	if (!l)
		return nomem(b);
	bind(b, fc, "weight", &l->weight, 2, DIMS(out, nin));
	bind_bias(b, fc, &l->bias, out);
	return add_node(b, &l->base, fc, NULL, &x, 1);
}

static int op1(struct ee_builder *b, int x, struct ee_layer *l, const char *kind)
{
	return add_node(b, l, op_name(b, x, kind), NULL, &x, 1);
}

static int op2(struct ee_builder *b, int x, int y, struct ee_layer *l, const char *kind)
{
	int in[2] = { x, y };

	return add_node(b, l, op_name(b, x, kind), NULL, in, 2);
}

int ee_b_act(struct ee_builder *b, int x, enum ee_act act)
{
	return op1(b, x, ee_activation_new(&b->m->pool, act), act_name(act));
}

int ee_b_add(struct ee_builder *b, int x, int y, enum ee_act act)
{
	return op2(b, x, y, ee_add_new(&b->m->pool, act), act == EE_ACT_RELU ? "add+relu" : "add");
}

int ee_b_mul(struct ee_builder *b, int x, int y)
{
	return op2(b, x, y, ee_mul_new(&b->m->pool), "mul");
}

int ee_b_concat(struct ee_builder *b, int x, int y)
{
	return op2(b, x, y, ee_concat_new(&b->m->pool), "cat");
}

int ee_b_slice(struct ee_builder *b, int x, int c0, int c1)
{
	return op1(b, x, ee_slice_new(&b->m->pool, c0, c1), "slice");
}

int ee_b_maxpool(struct ee_builder *b, int x, int k, int stride, int pad)
{
	return op1(b, x, ee_maxpool_new(&b->m->pool, k, stride, pad), "maxpool");
}

int ee_b_avgpool(struct ee_builder *b, int x, int k, int stride, int pad)
{
	return op1(b, x, ee_avgpool_new(&b->m->pool, k, stride, pad), "avgpool");
}

int ee_b_gap(struct ee_builder *b, int x)
{
	return op1(b, x, ee_adaptive_avgpool_new(&b->m->pool, 1, 1), "gap");
}

int ee_b_upsample(struct ee_builder *b, int x, int factor)
{
	return op1(b, x, ee_upsample_new(&b->m->pool, factor), "upsample");
}

int ee_b_shortcut_a(struct ee_builder *b, int x, int stride, int pad_lo, int pad_hi)
{
	return op1(b, x, ee_shortcut_a_new(&b->m->pool, stride, pad_lo, pad_hi), "shortcut");
}

int ee_b_exit(struct ee_builder *b, int x)
{
	int rc;

	if (b->rc < 0)
		return b->rc;
	rc = ee_model_set_exit(b->m, x, b->err);
	if (rc < 0)
		b->rc = rc;
	return rc < 0 ? rc : x;
}

/* Fails naming up to a few tensors that nothing bound or ignored. */
static int check_unused(struct ee_builder *b)
{
	char list[300] = "";
	int i, n = 0, len = 0;

	for (i = 0; i < b->ck->nt; i++) {
		if (b->ck->t[i].use != EE_CKPT_UNUSED)
			continue;
		if (n++ < 4 && len < (int)sizeof(list))
			len += snprintf(list + len, sizeof(list) - len, "%s'%s'", n > 1 ? ", " : "",
					b->ck->t[i].key);
	}
	if (!n)
		return EE_OK;
	return ee_b_fail(b, "%d tensor%s not used by architecture '%s': %s%s", n, n > 1 ? "s are" : " is",
			 b->ck->arch, list, n > 4 ? ", ..." : "");
}

static int read_weights(struct ee_builder *b)
{
	size_t off = 0;
	int i, rc;

	b->slab_floats = 0;
	for (i = 0; i < b->nbinds; i++)
		b->slab_floats += b->binds[i].t->numel;
	if (b->slab_floats > EE_CKPT_MAX_FLOATS)
		return ee_b_fail(b, "weights are larger than %zu floats", EE_CKPT_MAX_FLOATS);
	b->slab = aligned_alloc(EE_ALIGN, ee_align_up((b->slab_floats + 1) * sizeof(float)));
	if (!b->slab)
		return nomem(b);
	for (i = 0; i < b->nbinds; i++) {
		rc = ee_ckpt_read(b->ck, b->binds[i].t, b->slab + off, b->err);
		if (rc < 0)
			return b->rc = rc;
		*b->binds[i].dst = b->slab + off;
		off += b->binds[i].t->numel;
	}
	return EE_OK;
}

int ee_builder_finish(struct ee_builder *b)
{
	int rc;

	if (b->rc < 0 || check_unused(b) < 0 || read_weights(b) < 0)
		return b->rc;
	rc = ee_model_finish(b->m, b->err);
	if (rc == EE_OK)
		rc = ee_model_prepare(b->m, b->err);
	if (rc < 0) {
		ee_err_prefix(b->err, "checkpoint '%s': ", b->ck->path);
		b->rc = rc;
	}
	return b->rc = rc;
}
