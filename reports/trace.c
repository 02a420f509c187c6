/*
 * trace.c - per-sample traces in memory and in HDF5, and merging; see trace.h.
 *
 * Every numeric dataset of the schema is described once as a struct col (where
 * it lives in the file, its type, shape, allowed values and the memory holding
 * it). Writing, reading with shape checks, validating ranges and merging rows
 * all walk the same lists, so they cannot disagree about the schema.
 */
#include "trace.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5io.h"
#include "core/arena.h"

static void *array(size_t n, size_t size, bool *ok)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		*ok = false;
	return p;
}

int ee_trace_alloc(struct ee_trace *t, int n, int nexits, int num_classes, bool with_softmax,
		   int ngated, const int *channels, int nlayers, struct ee_err *err)
{
	size_t ne = (size_t)n * nexits;
	bool ok = true;
	int g;

	memset(t, 0, sizeof(*t));
	if (n < 0 || nexits < 1 || nexits > EE_MAX_EXITS || num_classes < 1 || ngated < 0 ||
	    nlayers < 0)
		return ee_err_set(err, EE_ERR_INPUT, "trace of %d samples, %d exits, %d classes is "
				  "malformed", n, nexits, num_classes);
	t->n = n;
	t->nexits = nexits;
	t->num_classes = num_classes;
	t->ngated = ngated;
	t->nlayers = nlayers;
	t->index = array(n, sizeof(*t->index), &ok);
	t->label = array(n, sizeof(*t->label), &ok);
	t->pred = array(ne, sizeof(*t->pred), &ok);
	t->maxprob = array(ne, sizeof(*t->maxprob), &ok);
	t->entropy = array(ne, sizeof(*t->entropy), &ok);
	t->margin = array(ne, sizeof(*t->margin), &ok);
	if (with_softmax)
		t->softmax = array(ne * num_classes, sizeof(*t->softmax), &ok);
	t->ens_pred = array(n, sizeof(*t->ens_pred), &ok);
	t->ens_maxprob = array(n, sizeof(*t->ens_maxprob), &ok);
	t->macs = array(ne, sizeof(*t->macs), &ok);
	t->macs_cascade = array(ne, sizeof(*t->macs_cascade), &ok);
	t->gated = array(ngated, sizeof(*t->gated), &ok);
	t->open = array((size_t)n * ngated, sizeof(*t->open), &ok);
	t->bits = array(ngated, sizeof(*t->bits), &ok);
	for (g = 0; ok && g < ngated; g++) {
		t->gated[g].channels = channels[g];
		t->bits[g] = array((size_t)n * channels[g], 1, &ok);
	}
	t->layers = array(nlayers, sizeof(*t->layers), &ok);
	if (ok)
		return EE_OK;
	ee_trace_release(t);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a trace of %d samples", n);
}

int ee_trace_logits_alloc(struct ee_trace *t, struct ee_err *err)
{
	size_t count = (size_t)t->n * t->nexits * t->num_classes;

	free(t->logits);
	if ((t->logits = calloc(count ? count : 1, sizeof(*t->logits))))
		return EE_OK;
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for the logits of %d samples", t->n);
}

void ee_trace_release(struct ee_trace *t)
{
	int i;

	for (i = 0; t->gated && i < t->ngated; i++) {
		free(t->gated[i].name);
		if (t->bits)
			free(t->bits[i]);
	}
	for (i = 0; t->layers && i < t->nlayers; i++) {
		free(t->layers[i].name);
		free(t->layers[i].kind);
	}
	free(t->index);
	free(t->label);
	free(t->pred);
	free(t->maxprob);
	free(t->entropy);
	free(t->margin);
	free(t->softmax);
	free(t->logits);
	free(t->ens_pred);
	free(t->ens_maxprob);
	free(t->macs);
	free(t->macs_cascade);
	free(t->gated);
	free(t->open);
	free(t->bits);
	free(t->layers);
	ee_trace_counters_release(&t->counters);
	memset(t, 0, sizeof(*t));
}

int ee_trace_counters_alloc(struct ee_trace_counters *c, int nlayers, int n, int nwarn,
			    struct ee_err *err)
{
	bool ok = true;

	memset(c, 0, sizeof(*c));
	if (nlayers < 0 || n < 0 || n > EE_TRACE_MAX_COUNTERS || nwarn < 0)
		return ee_err_set(err, EE_ERR_INPUT, "%d counters of %d layers (at most %d "
				  "counters)", n, nlayers, EE_TRACE_MAX_COUNTERS);
	c->names = array(n, sizeof(*c->names), &ok);
	c->values = array((size_t)nlayers * n, sizeof(*c->values), &ok);
	c->warn = array(nwarn, sizeof(*c->warn), &ok);
	if (!ok) {
		ee_trace_counters_release(c);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for the counters of a trace");
	}
	c->counted = true;
	c->n = n;
	c->nwarn = nwarn;
	return EE_OK;
}

/* Copies count strings into out (NULL as ""); false when out of memory. */
static bool dup_all(char **out, char *const *in, int count)
{
	int i;

	for (i = 0; i < count; i++)
		if (!(out[i] = strdup(in[i] ? in[i] : "")))
			return false;
	return true;
}

int ee_trace_counters_copy(struct ee_trace_counters *dst, const struct ee_trace_counters *src,
			   int nlayers, struct ee_err *err)
{
	int rc;

	memset(dst, 0, sizeof(*dst));
	if (!src->counted)
		return EE_OK;
	if ((rc = ee_trace_counters_alloc(dst, nlayers, src->n, src->nwarn, err)) < 0)
		return rc;
	memcpy(dst->values, src->values, (size_t)nlayers * src->n * sizeof(*dst->values));
	if (dup_all(dst->names, src->names, src->n) && dup_all(dst->warn, src->warn, src->nwarn))
		return EE_OK;
	ee_trace_counters_release(dst);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for the counters of a trace");
}

void ee_trace_counters_release(struct ee_trace_counters *c)
{
	int i;

	for (i = 0; c->names && i < c->n; i++)
		free(c->names[i]);
	for (i = 0; c->warn && i < c->nwarn; i++)
		free(c->warn[i]);
	free(c->names);
	free(c->values);
	free(c->warn);
	memset(c, 0, sizeof(*c));
}

/* ---- the schema as data ---------------------------------------------------- */

#define TOOL_VERSION "eeprof 0.1"

/* Caps checked before anything sized by a file is allocated. */
#define MAX_SAMPLES (1 << 30)          /* dataset_size */
#define MAX_CLASSES (1 << 20)
#define MAX_GATED (1 << 16)            /* gated layers */
#define MAX_ENTRIES (1 << 20)          /* timed layers; gates of one layer */
#define MAX_NAME 1024                  /* bytes of a layer name or kind */
#define MAX_BYTES ((double)(1ull << 33)) /* memory of one trace read from a file */
#define CHUNK_BYTES ((size_t)1 << 20)  /* target size of one chunk before compression */
#define DEFLATE_LEVEL 4

/* One numeric dataset: where it is, what it may hold, and the memory behind it. */
struct col {
	const char *group;  /* "" (root), "gates", "gates/bits" or "timing" */
	const char *name;
	char type;          /* 'i' int32, 'f' float32, 'd' float64, 'b' uint8 */
	int rank;           /* 1..3 */
	hsize_t dims[3];    /* dims[0]: rows (samples or table entries) */
	double lo, hi;      /* every value is finite and within [lo, hi] */
	void *data;         /* [dims[0]][dims[1]][dims[2]], row-major */
};

static struct col col(const char *group, const char *name, char type, const void *data,
		      int rank, hsize_t rows, hsize_t width, hsize_t depth, double lo, double hi)
{
	struct col c = { group, name, type, rank, { rows, width, depth }, lo, hi, (void *)data };

	return c;
}

static size_t type_size(char type)
{
	return type == 'b' ? 1 : type == 'd' ? 8 : 4;
}

static hid_t h5_type(char type)
{
	return type == 'i'   ? H5T_NATIVE_INT32
	       : type == 'f' ? H5T_NATIVE_FLOAT
	       : type == 'd' ? H5T_NATIVE_DOUBLE
			     : H5T_NATIVE_UINT8;
}

/* Values in one row (everything after dims[0]). */
static size_t row_len(const struct col *c)
{
	size_t w = 1;
	int i;

	for (i = 1; i < c->rank; i++)
		w *= c->dims[i];
	return w;
}

static size_t col_count(const struct col *c)
{
	return c->dims[0] * row_len(c);
}

static double col_value(const struct col *c, size_t i)
{
	switch (c->type) {
	case 'i': return ((const int32_t *)c->data)[i];
	case 'f': return ((const float *)c->data)[i];
	case 'd': return ((const double *)c->data)[i];
	}
	return ((const uint8_t *)c->data)[i];
}

/* "/gates/bits/layer1.0.conv2" */
static const char *col_path(const struct col *c, char *buf, size_t size)
{
	snprintf(buf, size, "/%s%s%s", c->group, c->group[0] ? "/" : "", c->name);
	return buf;
}

static const char *fmt_dims(char *buf, size_t size, int rank, const hsize_t *d)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < rank && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "[",
					(unsigned long long)d[i]);
	if (len < size)
		snprintf(buf + len, size - len, "%s", rank ? "]" : "scalar");
	return buf;
}

static int check_col(const struct col *c, struct ee_err *err)
{
	size_t i, w = row_len(c), count = col_count(c);
	char p[MAX_NAME + 32];

	for (i = 0; i < count; i++) {
		double v = col_value(c, i);

		if (!isfinite(v) || v < c->lo || v > c->hi)
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' holds %g in row %zu, "
					  "outside [%g, %g]", col_path(c, p, sizeof(p)), v, i / w,
					  c->lo, c->hi);
	}
	return EE_OK;
}

/*
 * The datasets that are not per sample, as arrays (the trace keeps them in structs).
 * Names are borrowed from the trace when writing, owned when reading.
 */
struct tables {
	double *exit_macs;          /* [4][E] */
	int32_t *gate_channels;     /* [G] */
	int32_t *gate_exit;         /* [G] */
	double *gate_ring;          /* [G] */
	int32_t *layer_exit;        /* [L] */
	uint8_t *layer_head;        /* [L] */
	double *layer_seconds;      /* [L] */
	double *layer_macs;         /* [L] */
	double *layer_cpu;          /* [L] (counted traces) */
	char **gate_name;           /* [G] */
	char **layer_name;          /* [L] */
	char **layer_kind;          /* [L] */
	struct ee_trace_counters cn; /* borrowed from the trace when writing */
	int e, g, l;
	bool own_names;
};

static void tables_release(struct tables *tb)
{
	int i;

	for (i = 0; tb->own_names && tb->gate_name && i < tb->g; i++)
		free(tb->gate_name[i]);
	for (i = 0; tb->own_names && tb->layer_name && i < tb->l; i++) {
		free(tb->layer_name[i]);
		free(tb->layer_kind[i]);
	}
	if (tb->own_names)
		ee_trace_counters_release(&tb->cn);
	free(tb->exit_macs);
	free(tb->gate_channels);
	free(tb->gate_exit);
	free(tb->gate_ring);
	free(tb->layer_exit);
	free(tb->layer_head);
	free(tb->layer_seconds);
	free(tb->layer_macs);
	free(tb->layer_cpu);
	free(tb->gate_name);
	free(tb->layer_name);
	free(tb->layer_kind);
	memset(tb, 0, sizeof(*tb));
}

/* With own_names, tables read from a file: the counters too if the file has them (c >= 0
 * events, w warnings); c < 0: not counted. */
static int tables_alloc(struct tables *tb, int e, int g, int l, bool own_names, int c, int w,
			struct ee_err *err)
{
	bool ok = true;

	memset(tb, 0, sizeof(*tb));
	tb->e = e;
	tb->g = g;
	tb->l = l;
	tb->own_names = own_names;
	tb->exit_macs = array((size_t)4 * e, sizeof(double), &ok);
	tb->gate_channels = array(g, sizeof(int32_t), &ok);
	tb->gate_exit = array(g, sizeof(int32_t), &ok);
	tb->gate_ring = array(g, sizeof(double), &ok);
	tb->layer_exit = array(l, sizeof(int32_t), &ok);
	tb->layer_head = array(l, 1, &ok);
	tb->layer_seconds = array(l, sizeof(double), &ok);
	tb->layer_macs = array(l, sizeof(double), &ok);
	tb->layer_cpu = array(l, sizeof(double), &ok);
	tb->gate_name = array(g, sizeof(char *), &ok);
	tb->layer_name = array(l, sizeof(char *), &ok);
	tb->layer_kind = array(l, sizeof(char *), &ok);
	if (ok && c >= 0 && ee_trace_counters_alloc(&tb->cn, l, c, w, err) < 0) {
		tables_release(tb);
		return err->code;
	}
	if (ok)
		return EE_OK;
	tables_release(tb);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for the tables of a trace");
}

/* Fills tb (allocated for t's sizes, names borrowed) from t. */
static void tables_from(struct tables *tb, const struct ee_trace *t)
{
	int i, k;

	for (i = 0; i < 4; i++)
		for (k = 0; k < t->nexits; k++)
			tb->exit_macs[i * t->nexits + k] = t->exit_macs[i][k];
	for (i = 0; i < t->ngated; i++) {
		tb->gate_channels[i] = t->gated[i].channels;
		tb->gate_exit[i] = t->gated[i].exit;
		tb->gate_ring[i] = t->gated[i].ring_macs;
		tb->gate_name[i] = t->gated[i].name ? t->gated[i].name : (char *)"";
	}
	for (i = 0; i < t->nlayers; i++) {
		tb->layer_exit[i] = t->layers[i].exit;
		tb->layer_head[i] = t->layers[i].head;
		tb->layer_seconds[i] = t->layers[i].seconds;
		tb->layer_macs[i] = t->layers[i].macs;
		tb->layer_cpu[i] = t->layers[i].cpu_seconds;
		tb->layer_name[i] = t->layers[i].name ? t->layers[i].name : (char *)"";
		tb->layer_kind[i] = t->layers[i].kind ? t->layers[i].kind : (char *)"";
	}
	tb->cn = t->counters;
}

/* Moves tb (read from a file, names owned) into t, allocated for the same sizes. */
static void tables_to(struct tables *tb, struct ee_trace *t)
{
	int i, k;

	for (i = 0; i < 4; i++)
		for (k = 0; k < t->nexits; k++)
			t->exit_macs[i][k] = tb->exit_macs[i * t->nexits + k];
	for (i = 0; i < t->ngated; i++) {
		t->gated[i].exit = tb->gate_exit[i];
		t->gated[i].ring_macs = tb->gate_ring[i];
		t->gated[i].name = tb->gate_name[i];
		tb->gate_name[i] = NULL;
	}
	for (i = 0; i < t->nlayers; i++) {
		t->layers[i].exit = tb->layer_exit[i];
		t->layers[i].head = tb->layer_head[i];
		t->layers[i].seconds = tb->layer_seconds[i];
		t->layers[i].macs = tb->layer_macs[i];
		t->layers[i].cpu_seconds = tb->layer_cpu[i];
		t->layers[i].name = tb->layer_name[i];
		t->layers[i].kind = tb->layer_kind[i];
		tb->layer_name[i] = tb->layer_kind[i] = NULL;
	}
	t->counters = tb->cn;
	memset(&tb->cn, 0, sizeof(tb->cn));
}

/* The per-sample datasets of t into c[13 + G]; returns their count. */
static int sample_cols(const struct ee_trace *t, struct col *c)
{
	hsize_t n = t->n, e = t->nexits, k = t->num_classes;
	double top = t->num_classes - 1, inf = HUGE_VAL;
	int m = 0, g;

	c[m++] = col("", "index", 'i', t->index, 1, n, 0, 0, 0, t->dataset_size - 1);
	c[m++] = col("", "label", 'i', t->label, 1, n, 0, 0, 0, top);
	c[m++] = col("", "pred", 'i', t->pred, 2, n, e, 0, 0, top);
	c[m++] = col("", "maxprob", 'f', t->maxprob, 2, n, e, 0, 0, 1);
	c[m++] = col("", "entropy", 'f', t->entropy, 2, n, e, 0, 0, inf);
	c[m++] = col("", "margin", 'f', t->margin, 2, n, e, 0, 0, 1);
	if (t->softmax)
		c[m++] = col("", "softmax", 'f', t->softmax, 3, n, e, k, 0, 1);
	if (t->logits)
		c[m++] = col("", "logits", 'f', t->logits, 3, n, e, k, -inf, inf);
	c[m++] = col("", "ens_pred", 'i', t->ens_pred, 1, n, 0, 0, 0, top);
	c[m++] = col("", "ens_maxprob", 'f', t->ens_maxprob, 1, n, 0, 0, 0, 1);
	c[m++] = col("", "macs", 'd', t->macs, 2, n, e, 0, 0, inf);
	c[m++] = col("", "macs_cascade", 'd', t->macs_cascade, 2, n, e, 0, 0, inf);
	if (t->ngated)
		c[m++] = col("gates", "open", 'i', t->open, 2, n, t->ngated, 0, 0, MAX_ENTRIES);
	for (g = 0; g < t->ngated; g++)
		c[m++] = col("gates/bits", t->gated[g].name, 'b', t->bits[g], 2, n,
			     t->gated[g].channels, 0, 0, 1);
	return m;
}

/* The table datasets of tb into c[MAX_TABLE_COLS]; returns their count. */
static int table_cols(const struct tables *tb, struct col *c)
{
	double e = tb->e, inf = HUGE_VAL;
	int m = 0;

	c[m++] = col("", "exit_macs", 'd', tb->exit_macs, 2, 4, tb->e, 0, 0, inf);
	if (tb->g) {
		c[m++] = col("gates", "layer_channels", 'i', tb->gate_channels, 1, tb->g, 0, 0, 1,
			     MAX_ENTRIES);
		c[m++] = col("gates", "layer_exit", 'i', tb->gate_exit, 1, tb->g, 0, 0, 1, e);
		c[m++] = col("gates", "layer_ring_macs", 'd', tb->gate_ring, 1, tb->g, 0, 0, 0,
			     inf);
	}
	if (tb->l) {
		c[m++] = col("timing", "layer_exit", 'i', tb->layer_exit, 1, tb->l, 0, 0, 1, e);
		c[m++] = col("timing", "layer_head", 'b', tb->layer_head, 1, tb->l, 0, 0, 0, 1);
		c[m++] = col("timing", "layer_seconds", 'd', tb->layer_seconds, 1, tb->l, 0, 0, 0,
			     inf);
		c[m++] = col("timing", "layer_macs", 'd', tb->layer_macs, 1, tb->l, 0, 0, 0, inf);
	}
	if (tb->l && tb->cn.counted) {
		c[m++] = col("timing", "layer_cpu_seconds", 'd', tb->layer_cpu, 1, tb->l, 0, 0, 0,
			     inf);
		c[m++] = col("timing", "layer_counters", 'd', tb->cn.values, 2, tb->l, tb->cn.n, 0,
			     -inf, inf);
	}
	return m;
}
#define MAX_TABLE_COLS 10
#define MAX_SAMPLE_COLS(g) (13 + (size_t)(g))

/* ---- checks shared by writing and reading ---------------------------------- */

static bool is_sha256(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int check_identity(const struct ee_trace *t, struct ee_err *err)
{
	if (!is_sha256(t->ckpt_sha256))
		return ee_err_set(err, EE_ERR_INPUT, "checkpoint_sha256 '%s' is not 64 hex digits",
				  t->ckpt_sha256);
	if (!t->arch[0] || !t->data[0])
		return ee_err_set(err, EE_ERR_INPUT, "arch or data is empty");
	if (t->n < 1 || t->dataset_size < t->n || t->dataset_size > MAX_SAMPLES)
		return ee_err_set(err, EE_ERR_INPUT, "%d samples of a dataset of %d", t->n,
				  t->dataset_size);
	if (!isfinite(t->seconds) || t->seconds < 0 || t->threads < 0 || t->batch < 0)
		return ee_err_set(err, EE_ERR_INPUT, "timing attributes are out of range");
	return EE_OK;
}

/* Gate names become HDF5 link names: non-empty, no '/', not "." or "..". */
static bool good_link(const char *s)
{
	return s[0] && !strchr(s, '/') && strcmp(s, ".") && strcmp(s, "..") &&
	       strlen(s) <= MAX_NAME;
}

/* What a column's range cannot say: sorted unique indices, open counts = bits set. */
static int check_rows(const struct ee_trace *t, struct ee_err *err)
{
	int i, g, c;

	for (i = 1; i < t->n; i++)
		if (t->index[i] <= t->index[i - 1])
			return ee_err_set(err, EE_ERR_INPUT, "dataset '/index' is not increasing "
					  "(%d after %d in row %d)", t->index[i], t->index[i - 1],
					  i);
	for (g = 0; g < t->ngated; g++) {
		int ch = t->gated[g].channels;

		for (i = 0; i < t->n; i++) {
			const uint8_t *b = t->bits[g] + (size_t)i * ch;
			int open = 0;

			for (c = 0; c < ch; c++)
				open += b[c];
			if (open != t->open[(size_t)i * t->ngated + g])
				return ee_err_set(err, EE_ERR_INPUT, "dataset '/gates/open' "
						  "says %d open gates of '%s' in row %d, its "
						  "bits say %d",
						  t->open[(size_t)i * t->ngated + g],
						  t->gated[g].name, i, open);
		}
	}
	return EE_OK;
}

/* Gate names must be good link names; layer names and kinds are only capped. */
static int check_names(const struct tables *tb, struct ee_err *err)
{
	int i;

	for (i = 0; i < tb->g; i++)
		if (!good_link(tb->gate_name[i]))
			return ee_err_set(err, EE_ERR_INPUT, "gated layer %d has a bad name "
					  "'%.64s'", i, tb->gate_name[i]);
	for (i = 0; i < tb->l; i++)
		if (strlen(tb->layer_name[i]) > MAX_NAME || strlen(tb->layer_kind[i]) > MAX_NAME)
			return ee_err_set(err, EE_ERR_INPUT, "layer %d has a name or kind longer "
					  "than %d bytes", i, MAX_NAME);
	for (i = 0; i < tb->cn.n; i++)
		if (!tb->cn.names[i] || !tb->cn.names[i][0] || strlen(tb->cn.names[i]) > MAX_NAME)
			return ee_err_set(err, EE_ERR_INPUT, "counter %d has an empty name or one "
					  "longer than %d bytes", i, MAX_NAME);
	for (i = 0; i < tb->cn.nwarn; i++)
		if (!tb->cn.warn[i] || strlen(tb->cn.warn[i]) > MAX_NAME)
			return ee_err_set(err, EE_ERR_INPUT, "counter warning %d is missing or "
					  "longer than %d bytes", i, MAX_NAME);
	return EE_OK;
}

static int check_cols(const struct col *c, int count, struct ee_err *err)
{
	int i, rc = EE_OK;

	for (i = 0; i < count && rc == EE_OK; i++)
		rc = check_col(&c[i], err);
	return rc;
}

/* ---- writing ----------------------------------------------------------------- */

/* Chunked and deflated (with byte shuffling for wider types), no timestamps. */
static hid_t create_props(const struct col *c)
{
	hid_t p = H5Pcreate(H5P_DATASET_CREATE);
	size_t row = row_len(c) * type_size(c->type);
	hsize_t chunk[3];
	int i;

	if (p < 0 || H5Pset_obj_track_times(p, 0) < 0 || col_count(c) == 0)
		return p; /* an empty dataset stays contiguous: chunks have no zero size */
	chunk[0] = CHUNK_BYTES / row ? CHUNK_BYTES / row : 1;
	if (chunk[0] > c->dims[0])
		chunk[0] = c->dims[0];
	for (i = 1; i < c->rank; i++)
		chunk[i] = c->dims[i];
	if (H5Pset_chunk(p, c->rank, chunk) < 0 ||
	    (type_size(c->type) > 1 && H5Pset_shuffle(p) < 0) ||
	    H5Pset_deflate(p, DEFLATE_LEVEL) < 0) {
		H5Pclose(p);
		return H5I_INVALID_HID;
	}
	return p;
}

static int put_col(hid_t f, const struct col *c, struct ee_err *err)
{
	hid_t sp = H5Screate_simple(c->rank, c->dims, NULL), dcpl = create_props(c), ds = -1;
	char p[MAX_NAME + 32];
	herr_t st = -1;

	col_path(c, p, sizeof(p));
	if (sp >= 0 && dcpl >= 0)
		ds = H5Dcreate2(f, p, h5_type(c->type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (ds >= 0) {
		st = H5Dwrite(ds, h5_type(c->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data);
		H5Dclose(ds);
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (sp >= 0)
		H5Sclose(sp);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write dataset '%s'", p) : EE_OK;
}

/* names[count] as a dataset of fixed-length UTF-8 strings. */
static int put_strings(hid_t f, const char *path, char *const *names, int count,
		       struct ee_err *err)
{
	hsize_t n = (hsize_t)count;
	size_t len = 1;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &n, NULL), ds = -1;
	herr_t st = -1;
	char *buf;
	int i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) + 1 > len)
			len = strlen(names[i]) + 1;
	buf = calloc(n ? n : 1, len);
	for (i = 0; buf && i < count; i++)
		memcpy(buf + (size_t)i * len, names[i], strlen(names[i]));
	if (buf && H5Tset_size(t, len) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
		ds = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (ds >= 0) {
		st = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
		H5Dclose(ds);
	}
	free(buf);
	H5Sclose(sp);
	H5Tclose(t);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write dataset '%s'", path) : EE_OK;
}

/* A scalar attribute of type (native int or double). */
static int put_attr(hid_t loc, const char *name, hid_t type, const void *v, struct ee_err *err)
{
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
	herr_t st = a >= 0 ? H5Awrite(a, type, v) : -1;

	if (a >= 0)
		H5Aclose(a);
	H5Sclose(s);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write attribute '%s'", name) : EE_OK;
}

/*
 * The attributes of a trace: strings (s, size) or integers (i, within [lo, hi]) or a
 * number (d, >= 0) on the root ("/") or on /timing.
 */
struct attr {
	const char *group, *name;
	char *s;
	size_t size;
	int *i;
	double *d;
	double lo, hi;
};

/* The attribute table of t; writing casts the const away but only reads through it. */
static int attrs_of(struct ee_trace *t, struct attr *a)
{
	int m = 0;

	a[m++] = (struct attr){ "/", "checkpoint", .s = t->checkpoint,
				.size = sizeof(t->checkpoint) };
	a[m++] = (struct attr){ "/", "checkpoint_sha256", .s = t->ckpt_sha256,
				.size = sizeof(t->ckpt_sha256) };
	a[m++] = (struct attr){ "/", "arch", .s = t->arch, .size = sizeof(t->arch) };
	a[m++] = (struct attr){ "/", "data", .s = t->data, .size = sizeof(t->data) };
	a[m++] = (struct attr){ "/", "dataset_size", .i = &t->dataset_size, .lo = 1,
				.hi = MAX_SAMPLES };
	a[m++] = (struct attr){ "/", "num_classes", .i = &t->num_classes, .lo = 1,
				.hi = MAX_CLASSES };
	a[m++] = (struct attr){ "/", "exits", .i = &t->nexits, .lo = 1, .hi = EE_MAX_EXITS };
	a[m++] = (struct attr){ "/timing", "seconds", .d = &t->seconds, .hi = HUGE_VAL };
	a[m++] = (struct attr){ "/timing", "threads", .i = &t->threads, .hi = 1 << 20 };
	a[m++] = (struct attr){ "/timing", "batch", .i = &t->batch, .hi = 1 << 30 };
	return m;
}

#define MAX_ATTRS 10

static int put_attrs(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	const int version = EE_TRACE_VERSION;
	struct attr a[MAX_ATTRS];
	int i, m = attrs_of((struct ee_trace *)t, a), rc;

	rc = ee_h5_write_attr_string(f, "format", EE_TRACE_FORMAT, err);
	if (rc == EE_OK)
		rc = put_attr(f, "trace_version", H5T_NATIVE_INT, &version, err);
	if (rc == EE_OK)
		rc = ee_h5_write_attr_string(f, "eeprof_version", TOOL_VERSION, err);
	for (i = 0; i < m && rc == EE_OK; i++) {
		hid_t loc = H5Oopen(f, a[i].group, H5P_DEFAULT);

		rc = a[i].s   ? ee_h5_write_attr_string(loc, a[i].name, a[i].s, err)
		     : a[i].i ? put_attr(loc, a[i].name, H5T_NATIVE_INT, a[i].i, err)
			      : put_attr(loc, a[i].name, H5T_NATIVE_DOUBLE, a[i].d, err);
		if (loc >= 0)
			H5Oclose(loc);
	}
	return rc;
}

static int put_groups(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	hid_t g = ee_h5_group(f, "timing", err);

	if (g < 0)
		return EE_ERR_IO;
	H5Gclose(g);
	if (t->ngated && (g = ee_h5_group(f, "gates/bits", err)) < 0)
		return EE_ERR_IO;
	if (t->ngated)
		H5Gclose(g);
	return EE_OK;
}

static int put_names(hid_t f, const struct tables *tb, struct ee_err *err)
{
	int rc = EE_OK;

	if (tb->g)
		rc = put_strings(f, "/gates/layer_name", tb->gate_name, tb->g, err);
	if (rc == EE_OK && tb->l)
		rc = put_strings(f, "/timing/layer_name", tb->layer_name, tb->l, err);
	if (rc == EE_OK && tb->l)
		rc = put_strings(f, "/timing/layer_kind", tb->layer_kind, tb->l, err);
	if (rc == EE_OK && tb->l && tb->cn.counted)
		rc = put_strings(f, "/timing/counter_names", tb->cn.names, tb->cn.n, err);
	if (rc == EE_OK && tb->l && tb->cn.counted)
		rc = put_strings(f, "/timing/counter_warnings", tb->cn.warn, tb->cn.nwarn, err);
	return rc;
}

/* Checks t and writes everything into the open file f. */
static int write_trace(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	struct col *c = malloc((MAX_SAMPLE_COLS(t->ngated) + MAX_TABLE_COLS) * sizeof(*c));
	struct tables tb;
	int i, m = 0, rc;

	rc = c ? tables_alloc(&tb, t->nexits, t->ngated, t->nlayers, false, -1, 0, err)
	       : ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if (rc < 0) {
		free(c);
		return rc;
	}
	tables_from(&tb, t);
	m = sample_cols(t, c);
	m += table_cols(&tb, c + m);
	rc = check_identity(t, err);
	if (rc == EE_OK)
		rc = check_names(&tb, err);
	if (rc == EE_OK)
		rc = check_cols(c, m, err);
	if (rc == EE_OK)
		rc = check_rows(t, err);
	if (rc < 0)
		rc = ee_err_prefix(err, "refusing to write a malformed trace: ");
	if (rc == EE_OK)
		rc = put_groups(f, t, err);
	if (rc == EE_OK)
		rc = put_attrs(f, t, err);
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = put_col(f, &c[i], err);
	if (rc == EE_OK)
		rc = put_names(f, &tb, err);
	tables_release(&tb);
	free(c);
	return rc;
}

int ee_trace_write(const struct ee_trace *t, const char *path, struct ee_err *err)
{
	struct ee_out out;
	hid_t f;
	int rc;

	ee_h5_quiet();
	if ((rc = ee_out_begin(&out, path, err)) < 0)
		return rc;
	if ((f = ee_out_h5create(&out, err)) < 0) {
		ee_out_abort(&out);
		return EE_ERR_IO;
	}
	rc = write_trace(f, t, err);
	if (H5Fclose(f) < 0 && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_IO, "cannot close the file");
	if (rc < 0) {
		ee_out_abort(&out);
		return ee_err_prefix(err, "trace '%s': ", path);
	}
	return ee_out_commit(&out, err);
}

/* ---- reading ----------------------------------------------------------------- */

/* True if every link along an absolute path exists (H5Lexists needs the parents to). */
static bool exists(hid_t f, const char *path)
{
	char buf[MAX_NAME + 32];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return false;
	for (i = 2; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		if (H5Lexists(f, buf, H5P_DEFAULT) <= 0)
			return false;
	}
	return true;
}

static int open_dataset(hid_t f, const char *path, hid_t *ds, struct ee_err *err)
{
	*ds = exists(f, path) ? H5Dopen2(f, path, H5P_DEFAULT) : H5I_INVALID_HID;
	return *ds < 0 ? ee_err_set(err, EE_ERR_INPUT, "no dataset '%s'", path) : EE_OK;
}

/* Reads a numeric dataset into c->data after checking its type class and exact shape. */
static int get_col(hid_t f, const struct col *c, struct ee_err *err)
{
	char p[MAX_NAME + 32], got[128], want[128];
	hsize_t d[H5S_MAX_RANK];
	H5T_class_t cls;
	hid_t ds, sp, ty;
	int rank, rc;

	if ((rc = open_dataset(f, col_path(c, p, sizeof(p)), &ds, err)) < 0)
		return rc;
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	cls = H5Tget_class(ty);
	rank = H5Sget_simple_extent_ndims(sp);
	if (rank < 0 || H5Sget_simple_extent_dims(sp, d, NULL) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read the shape of dataset '%s'", p);
	else if (cls != H5T_INTEGER && (cls != H5T_FLOAT || c->type == 'i' || c->type == 'b'))
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' does not hold %s", p,
				c->type == 'i' || c->type == 'b' ? "integers" : "numbers");
	else if (rank != c->rank || memcmp(d, c->dims, (size_t)rank * sizeof(*d)))
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has shape %s, expected %s", p,
				fmt_dims(got, sizeof(got), rank, d),
				fmt_dims(want, sizeof(want), c->rank, c->dims));
	else if (H5Dread(ds, h5_type(c->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read dataset '%s' (corrupt?)", p);
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc < 0 ? rc : check_col(c, err);
}

/* The length of a 1-D dataset, capped. */
static int get_length(hid_t f, const char *path, long max, int *len, struct ee_err *err)
{
	hid_t ds, sp;
	hsize_t d[H5S_MAX_RANK];
	int rc = open_dataset(f, path, &ds, err);

	if (rc < 0)
		return rc;
	sp = H5Dget_space(ds);
	if (H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, d, NULL) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' is not 1-D", path);
	else if (d[0] > (hsize_t)max)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %llu entries, more than %ld",
				path, (unsigned long long)d[0], max);
	else
		*len = (int)d[0];
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

/* A string memory type like the file's, of size bytes (or variable). */
static hid_t string_type(hid_t file_type, size_t size)
{
	hid_t mt = H5Tcopy(H5T_C_S1);

	H5Tset_size(mt, size);
	H5Tset_cset(mt, H5Tget_cset(file_type));
	return mt;
}

/* Copies count strings of at most MAX_NAME bytes into out (new allocations). */
static int dup_strings(char *const *s, int count, char **out)
{
	int i;

	for (i = 0; i < count; i++)
		if (strlen(s[i] ? s[i] : "") > MAX_NAME || !(out[i] = strdup(s[i] ? s[i] : "")))
			return -1;
	return 0;
}

static int read_vlen(hid_t ds, hid_t ty, hid_t sp, int count, char **out)
{
	hid_t mt = string_type(ty, H5T_VARIABLE);
	char **v = calloc(count ? (size_t)count : 1, sizeof(*v));
	int rc = v && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0 ? 0 : -1;

	if (rc == 0) {
		rc = dup_strings(v, count, out);
		H5Dvlen_reclaim(mt, sp, H5P_DEFAULT, v);
	}
	free(v);
	H5Tclose(mt);
	return rc;
}

static int read_fixed(hid_t ds, hid_t ty, int count, char **out)
{
	size_t size = H5Tget_size(ty) + 1;
	hid_t mt = string_type(ty, size);
	char *buf = size <= MAX_NAME + 1 ? calloc(count ? (size_t)count : 1, size) : NULL;
	char **v = calloc(count ? (size_t)count : 1, sizeof(*v));
	int i, rc = buf && v && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -1;

	for (i = 0; rc == 0 && i < count; i++)
		v[i] = buf + (size_t)i * size;
	if (rc == 0)
		rc = dup_strings(v, count, out);
	free(v);
	free(buf);
	H5Tclose(mt);
	return rc;
}

/* Reads a 1-D dataset of count strings (fixed or variable length) into out[count]. */
static int get_strings(hid_t f, const char *path, int count, char **out, struct ee_err *err)
{
	hsize_t d[H5S_MAX_RANK];
	hid_t ds, sp, ty;
	int rc = open_dataset(f, path, &ds, err);

	if (rc < 0)
		return rc;
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	if (H5Tget_class(ty) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 ||
	    H5Sget_simple_extent_dims(sp, d, NULL) < 0 || d[0] != (hsize_t)count)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' is not %d strings", path, count);
	else if ((H5Tis_variable_str(ty) > 0 ? read_vlen(ds, ty, sp, count, out)
					      : read_fixed(ds, ty, count, out)) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read dataset '%s' as strings of at "
				"most %d bytes", path, MAX_NAME);
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

static int get_attr(hid_t f, const struct attr *a, struct ee_err *err)
{
	hid_t loc = exists(f, a->group) ? H5Oopen(f, a->group, H5P_DEFAULT) : H5I_INVALID_HID;
	char s[8192];
	double v = 0;
	int n, got = 0;

	if (loc >= 0 && a->s)
		got = ee_h5_attr_string(loc, a->name, s, sizeof(s)) == 1 && strlen(s) < a->size;
	else if (loc >= 0)
		got = ee_h5_attr_doubles(loc, a->name, &v, 1, &n) == 1 && isfinite(v) &&
		      v >= a->lo && v <= a->hi && (a->d || v == floor(v));
	if (loc >= 0)
		H5Oclose(loc);
	if (!got)
		return ee_err_set(err, EE_ERR_INPUT, "attribute '%s' of '%s' is missing or bad",
				  a->name, a->group);
	if (a->s)
		memcpy(a->s, s, strlen(s) + 1);
	else if (a->i)
		*a->i = (int)v;
	else
		*a->d = v;
	return EE_OK;
}

/* format, trace_version and the identity and timing attributes, into id. */
static int get_attrs(hid_t f, struct ee_trace *id, struct ee_err *err)
{
	struct attr a[MAX_ATTRS];
	char format[64] = "";
	double version = 0;
	int i, n, m = attrs_of(id, a), rc = EE_OK;

	if (ee_h5_attr_string(f, "format", format, sizeof(format)) != 1 ||
	    strcmp(format, EE_TRACE_FORMAT))
		return ee_err_set(err, EE_ERR_INPUT, "not an eeprof trace (format attribute '%s', "
				  "expected '%s')", format, EE_TRACE_FORMAT);
	if (ee_h5_attr_doubles(f, "trace_version", &version, 1, &n) != 1 ||
	    version != EE_TRACE_VERSION)
		return ee_err_set(err, EE_ERR_INPUT, "trace_version %g is not supported (this "
				  "eeprof reads version %d)", version, EE_TRACE_VERSION);
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_attr(f, &a[i], err);
	return rc;
}

/* How many samples, gated and timed layers the file holds, whether it has softmax, and
 * its counted events and warnings (c < 0: the layers were not counted). */
struct sizes {
	int n, g, l, c, w;
	bool softmax, logits;
};

/* Any of the counter datasets there (then all of them must be). */
static bool has_counters(hid_t f)
{
	return exists(f, "/timing/counter_names") || exists(f, "/timing/counter_warnings") ||
	       exists(f, "/timing/layer_cpu_seconds") || exists(f, "/timing/layer_counters");
}

static int get_sizes(hid_t f, const struct ee_trace *id, struct sizes *s, struct ee_err *err)
{
	int rc = get_length(f, "/index", id->dataset_size, &s->n, err);

	s->g = s->l = s->w = 0;
	s->c = -1;
	s->softmax = exists(f, "/softmax");
	s->logits = exists(f, "/logits");
	if (rc == EE_OK && s->n < 1)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '/index' is empty");
	if (rc == EE_OK && exists(f, "/gates"))
		rc = get_length(f, "/gates/layer_name", MAX_GATED, &s->g, err);
	if (rc == EE_OK && exists(f, "/timing/layer_name"))
		rc = get_length(f, "/timing/layer_name", MAX_ENTRIES, &s->l, err);
	if (rc == EE_OK && s->l && has_counters(f))
		rc = get_length(f, "/timing/counter_names", EE_TRACE_MAX_COUNTERS, &s->c, err);
	if (rc == EE_OK && s->c >= 0)
		rc = get_length(f, "/timing/counter_warnings", EE_TRACE_MAX_COUNTERS, &s->w, err);
	return rc;
}

/* Reads the tables (with the gate channels that size the trace) and their names. */
static int get_tables(hid_t f, struct tables *tb, struct ee_err *err)
{
	struct col c[MAX_TABLE_COLS];
	int i, m = table_cols(tb, c), rc = EE_OK;

	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_col(f, &c[i], err);
	if (rc == EE_OK && tb->g)
		rc = get_strings(f, "/gates/layer_name", tb->g, tb->gate_name, err);
	if (rc == EE_OK && tb->l)
		rc = get_strings(f, "/timing/layer_name", tb->l, tb->layer_name, err);
	if (rc == EE_OK && tb->l)
		rc = get_strings(f, "/timing/layer_kind", tb->l, tb->layer_kind, err);
	if (rc == EE_OK && tb->cn.counted)
		rc = get_strings(f, "/timing/counter_names", tb->cn.n, tb->cn.names, err);
	if (rc == EE_OK && tb->cn.counted)
		rc = get_strings(f, "/timing/counter_warnings", tb->cn.nwarn, tb->cn.warn, err);
	return rc == EE_OK ? check_names(tb, err) : rc;
}

/* Refuses a trace that would take more than MAX_BYTES, before anything is allocated. */
static int check_sizes(const struct ee_trace *id, const struct sizes *s, const struct tables *tb,
		       struct ee_err *err)
{
	double e = id->nexits, row = 4 * 4 + e * (4 * 4 + 2 * 8) + 4.0 * s->g;
	int g;

	if (s->softmax)
		row += e * id->num_classes * sizeof(float);
	if (s->logits)
		row += e * id->num_classes * sizeof(float);
	for (g = 0; g < tb->g; g++)
		row += tb->gate_channels[g];
	if (row * s->n > MAX_BYTES)
		return ee_err_set(err, EE_ERR_INPUT, "%d samples of %.0f bytes each are more than "
				  "the %.0f bytes a trace may take", s->n, row, MAX_BYTES);
	return EE_OK;
}

static void copy_header(struct ee_trace *dst, const struct ee_trace *src)
{
	memcpy(dst->checkpoint, src->checkpoint, sizeof(dst->checkpoint));
	memcpy(dst->ckpt_sha256, src->ckpt_sha256, sizeof(dst->ckpt_sha256));
	memcpy(dst->arch, src->arch, sizeof(dst->arch));
	memcpy(dst->data, src->data, sizeof(dst->data));
	memcpy(dst->exit_macs, src->exit_macs, sizeof(dst->exit_macs));
	dst->dataset_size = src->dataset_size;
	dst->seconds = src->seconds;
	dst->threads = src->threads;
	dst->batch = src->batch;
}

/* Reads the per-sample datasets into t (allocated) and checks what ties rows together. */
static int get_samples(hid_t f, struct ee_trace *t, struct ee_err *err)
{
	struct col *c = malloc(MAX_SAMPLE_COLS(t->ngated) * sizeof(*c));
	int i, m, rc = c ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	m = c ? sample_cols(t, c) : 0;
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_col(f, &c[i], err);
	free(c);
	if (rc == EE_OK)
		rc = check_identity(t, err);
	return rc == EE_OK ? check_rows(t, err) : rc;
}

static int read_trace(hid_t f, struct ee_trace *t, struct ee_err *err)
{
	static struct ee_trace zero;
	struct ee_trace id = zero;
	struct tables tb = { 0 };
	struct sizes s = { 0 };
	int rc = get_attrs(f, &id, err);

	if (rc == EE_OK)
		rc = get_sizes(f, &id, &s, err);
	if (rc == EE_OK)
		rc = tables_alloc(&tb, id.nexits, s.g, s.l, true, s.c, s.w, err);
	if (rc == EE_OK)
		rc = get_tables(f, &tb, err);
	if (rc == EE_OK)
		rc = check_sizes(&id, &s, &tb, err);
	if (rc == EE_OK)
		rc = ee_trace_alloc(t, s.n, id.nexits, id.num_classes, s.softmax, s.g,
				    tb.gate_channels, s.l, err);
	if (rc == EE_OK && s.logits)
		rc = ee_trace_logits_alloc(t, err);
	if (rc == EE_OK) {
		copy_header(t, &id);
		tables_to(&tb, t);
		rc = get_samples(f, t, err);
	}
	tables_release(&tb);
	return rc;
}

int ee_trace_read(struct ee_trace *t, const char *path, struct ee_err *err)
{
	hid_t f;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((f = ee_h5_open_read(path, "trace", err)) < 0)
		return EE_ERR_INPUT;
	rc = read_trace(f, t, err);
	ee_h5_close(f);
	if (rc < 0) {
		ee_trace_release(t);
		ee_err_prefix(err, "trace '%s': ", path);
	}
	return rc;
}

/* ---- merging ----------------------------------------------------------------- */

static int differ(const char *field, const char *va, const char *vb, const char *na,
		  const char *nb, struct ee_err *err)
{
	if (!strcmp(va, vb))
		return EE_OK;
	return ee_err_set(err, EE_ERR_INPUT, "'%s' and '%s' differ in %s ('%.80s' vs '%.80s')",
			  na, nb, field, va, vb);
}

static int differ_int(const char *field, long va, long vb, const char *na, const char *nb,
		      struct ee_err *err)
{
	char a[32], b[32];

	snprintf(a, sizeof(a), "%ld", va);
	snprintf(b, sizeof(b), "%ld", vb);
	return differ(field, a, b, na, nb, err);
}

/* Same counted events (or both not counted)? */
static int match_counters(const struct ee_trace_counters *a, const struct ee_trace_counters *b,
			  const char *na, const char *nb, struct ee_err *err)
{
	int i, rc = differ("layer counters", a->counted ? "counted" : "not counted",
			   b->counted ? "counted" : "not counted", na, nb, err);

	if (rc == EE_OK)
		rc = differ_int("counted events", a->n, b->n, na, nb, err);
	for (i = 0; i < a->n && rc == EE_OK; i++)
		rc = differ("counted event", a->names[i], b->names[i], na, nb, err);
	return rc;
}

/* Same checkpoint, dataset, shapes and layers? EE_ERR_INPUT naming the first difference. */
static int match(const struct ee_trace *a, const struct ee_trace *b, const char *na,
		 const char *nb, struct ee_err *err)
{
	int i, rc = differ("checkpoint_sha256", a->ckpt_sha256, b->ckpt_sha256, na, nb, err);

	if (rc == EE_OK)
		rc = differ("arch", a->arch, b->arch, na, nb, err);
	if (rc == EE_OK)
		rc = differ("data", a->data, b->data, na, nb, err);
	if (rc == EE_OK)
		rc = differ_int("dataset_size", a->dataset_size, b->dataset_size, na, nb, err);
	if (rc == EE_OK)
		rc = differ_int("exits", a->nexits, b->nexits, na, nb, err);
	if (rc == EE_OK)
		rc = differ_int("num_classes", a->num_classes, b->num_classes, na, nb, err);
	if (rc == EE_OK)
		rc = differ("softmax", a->softmax ? "recorded" : "not recorded",
			    b->softmax ? "recorded" : "not recorded", na, nb, err);
	if (rc == EE_OK)
		rc = differ("logits", a->logits ? "recorded" : "not recorded",
			    b->logits ? "recorded" : "not recorded", na, nb, err);
	if (rc == EE_OK)
		rc = differ_int("gated layers", a->ngated, b->ngated, na, nb, err);
	for (i = 0; i < a->ngated && rc == EE_OK; i++) {
		rc = differ("gated layer", a->gated[i].name, b->gated[i].name, na, nb, err);
		if (rc == EE_OK)
			rc = differ_int("gates of a layer", a->gated[i].channels,
					b->gated[i].channels, na, nb, err);
	}
	if (rc == EE_OK)
		rc = differ_int("timed layers", a->nlayers, b->nlayers, na, nb, err);
	for (i = 0; i < a->nlayers && rc == EE_OK; i++)
		rc = differ("timed layer", a->layers[i].name, b->layers[i].name, na, nb, err);
	return rc == EE_OK ? match_counters(&a->counters, &b->counters, na, nb, err) : rc;
}

/* Row row of input src goes to out's row at its place in index order. */
struct row_ref {
	int32_t index;
	int src, row;
};

static int cmp_ref(const void *pa, const void *pb)
{
	const struct row_ref *a = pa, *b = pb;

	if (a->index != b->index)
		return a->index < b->index ? -1 : 1;
	if (a->src != b->src)
		return a->src < b->src ? -1 : 1;
	return (a->row > b->row) - (a->row < b->row);
}

static const char *label(const char *const *names, int i, char *buf, size_t size)
{
	if (names)
		return names[i];
	snprintf(buf, size, "trace %d", i + 1);
	return buf;
}

/* All rows of in[] sorted by index; EE_ERR_INPUT naming an index that is there twice. */
static int sort_rows(const struct ee_trace *const *in, const char *const *names, int count,
		     struct row_ref *refs, struct ee_err *err)
{
	char la[32], lb[32];
	int i, j, m = 0;

	for (i = 0; i < count; i++)
		for (j = 0; j < in[i]->n; j++)
			refs[m++] = (struct row_ref){ in[i]->index[j], i, j };
	qsort(refs, (size_t)m, sizeof(*refs), cmp_ref);
	for (i = 1; i < m; i++)
		if (refs[i].index == refs[i - 1].index)
			return ee_err_set(err, EE_ERR_INPUT, "sample %d of the dataset is in both "
					  "'%s' and '%s'", refs[i].index,
					  label(names, refs[i - 1].src, la, sizeof(la)),
					  label(names, refs[i].src, lb, sizeof(lb)));
	return EE_OK;
}

/* Gate and layer tables of in into out (allocated for them): names copied, timing summed,
 * mean MACs weighted by samples. */
static int merge_tables(struct ee_trace *out, const struct ee_trace *const *in, int count)
{
	int i, j;

	for (i = 0; i < out->ngated; i++) {
		out->gated[i] = in[0]->gated[i];
		if (!(out->gated[i].name = strdup(in[0]->gated[i].name)))
			return EE_ERR_NOMEM;
	}
	for (i = 0; i < out->nlayers; i++) {
		struct ee_trace_layer *l = &out->layers[i];

		*l = in[0]->layers[i];
		l->name = strdup(in[0]->layers[i].name);
		l->kind = strdup(in[0]->layers[i].kind);
		if (!l->name || !l->kind)
			return EE_ERR_NOMEM;
		l->seconds = l->macs = l->cpu_seconds = 0;
		for (j = 0; j < count; j++) {
			l->seconds += in[j]->layers[i].seconds;
			l->cpu_seconds += in[j]->layers[i].cpu_seconds;
			l->macs += in[j]->layers[i].macs * in[j]->n / out->n;
		}
	}
	for (j = 1; j < count; j++)
		out->seconds += in[j]->seconds;
	return EE_OK;
}

static bool has_warning(const struct ee_trace_counters *c, const char *w)
{
	int i;

	for (i = 0; i < c->nwarn; i++)
		if (!strcmp(c->warn[i], w))
			return true;
	return false;
}

/* Counters of in (all alike, see match_counters) into out: counts summed, the warnings of
 * every input once each. */
static int merge_counters(struct ee_trace *out, const struct ee_trace *const *in, int count)
{
	const struct ee_trace_counters *a = &in[0]->counters;
	struct ee_trace_counters *c = &out->counters;
	size_t k, nv = (size_t)out->nlayers * a->n;
	int i, j, nwarn = 0;

	if (!a->counted)
		return EE_OK;
	for (j = 0; j < count; j++)
		nwarn += in[j]->counters.nwarn;
	if (ee_trace_counters_alloc(c, out->nlayers, a->n, nwarn, NULL) < 0 ||
	    !dup_all(c->names, a->names, a->n))
		return EE_ERR_NOMEM;
	c->nwarn = 0;
	for (j = 0; j < count; j++) {
		const struct ee_trace_counters *b = &in[j]->counters;

		for (k = 0; k < nv; k++)
			c->values[k] += b->values[k];
		for (i = 0; i < b->nwarn; i++)
			if (!has_warning(c, b->warn[i]) && !(c->warn[c->nwarn++] = strdup(b->warn[i])))
				return EE_ERR_NOMEM;
	}
	return EE_OK;
}

/* Copies every per-sample dataset row by row in the order of refs. */
static int merge_rows(struct ee_trace *out, const struct ee_trace *const *in, int count,
		      const struct row_ref *refs)
{
	size_t per = MAX_SAMPLE_COLS(out->ngated);
	struct col *c = malloc(per * (size_t)(count + 1) * sizeof(*c));
	int i, j, m;

	if (!c)
		return EE_ERR_NOMEM;
	m = sample_cols(out, c);
	for (i = 0; i < count; i++)
		sample_cols(in[i], c + per * (i + 1));
	for (i = 0; i < out->n; i++) {
		const struct col *src = c + per * (refs[i].src + 1);

		for (j = 0; j < m; j++) {
			size_t b = row_len(&c[j]) * type_size(c[j].type);

			memcpy((char *)c[j].data + i * b,
			       (const char *)src[j].data + refs[i].row * b, b);
		}
	}
	free(c);
	return EE_OK;
}

int ee_trace_merge_named(struct ee_trace *out, const struct ee_trace *const *in,
			 const char *const *names, int count, struct ee_err *err)
{
	struct row_ref *refs = NULL;
	char la[32], lb[32];
	long total = 0;
	int *channels, i, rc = EE_OK;

	memset(out, 0, sizeof(*out));
	if (count < 1)
		return ee_err_set(err, EE_ERR_USAGE, "no traces to merge");
	if (!(channels = malloc(((size_t)in[0]->ngated + 1) * sizeof(*channels))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	for (i = 0; i < in[0]->ngated; i++)
		channels[i] = in[0]->gated[i].channels;
	for (i = 0; i < count && rc == EE_OK; i++) {
		total += in[i]->n;
		if (i)
			rc = match(in[0], in[i], label(names, 0, la, sizeof(la)),
				   label(names, i, lb, sizeof(lb)), err);
	}
	if (rc == EE_OK && total > MAX_SAMPLES)
		rc = ee_err_set(err, EE_ERR_INPUT, "%ld samples in all, more than a dataset holds",
				total);
	if (rc == EE_OK && !(refs = malloc((size_t)total * sizeof(*refs))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory merging %ld samples", total);
	if (rc == EE_OK)
		rc = sort_rows(in, names, count, refs, err);
	if (rc == EE_OK)
		rc = ee_trace_alloc(out, (int)total, in[0]->nexits, in[0]->num_classes,
				    in[0]->softmax != NULL, in[0]->ngated, channels, in[0]->nlayers,
				    err);
	if (rc == EE_OK && in[0]->logits)
		rc = ee_trace_logits_alloc(out, err);
	if (rc == EE_OK) {
		copy_header(out, in[0]);
		if (merge_tables(out, in, count) < 0 || merge_counters(out, in, count) < 0 ||
		    merge_rows(out, in, count, refs) < 0)
			rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory merging traces");
	}
	free(refs);
	free(channels);
	if (rc < 0)
		ee_trace_release(out);
	return rc;
}

int ee_trace_merge(struct ee_trace *out, const struct ee_trace *const *in, int count,
		   struct ee_err *err)
{
	return ee_trace_merge_named(out, in, NULL, count, err);
}
