/*
 * trace_schema.c - the trace's HDF5 schema as data: the struct col lists of the
 * per-sample and table datasets, the tables, the attributes, and the checks that
 * writing and reading share; see trace-impl.h.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/trace-impl.h"

static struct col col(const char *group, const char *name, char type, const void *data,
		      int rank, hsize_t rows, hsize_t width, hsize_t depth, double lo, double hi)
{
	struct col c = { group, name, type, rank, { rows, width, depth }, lo, hi, (void *)data };

	return c;
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
const char *ee_tr_col_path(const struct col *c, char *buf, size_t size)
{
	snprintf(buf, size, "/%s%s%s", c->group, c->group[0] ? "/" : "", c->name);
	return buf;
}

int ee_tr_check_col(const struct col *c, struct ee_err *err)
{
	size_t i, w = row_len(c), count = col_count(c);
	char p[MAX_NAME + 32];

	for (i = 0; i < count; i++) {
		double v = col_value(c, i);

		if (!isfinite(v) || v < c->lo || v > c->hi)
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' holds %g in row %zu, "
					  "outside [%g, %g]", ee_tr_col_path(c, p, sizeof(p)), v, i / w,
					  c->lo, c->hi);
	}
	return EE_OK;
}

void ee_tr_tables_release(struct tables *tb)
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
int ee_tr_tables_alloc(struct tables *tb, int e, int g, int l, bool own_names, int c, int w,
			struct ee_err *err)
{
	bool ok = true;

	memset(tb, 0, sizeof(*tb));
	tb->e = e;
	tb->g = g;
	tb->l = l;
	tb->own_names = own_names;
	tb->exit_macs = ee_tr_array((size_t)4 * e, sizeof(double), &ok);
	tb->gate_channels = ee_tr_array(g, sizeof(int32_t), &ok);
	tb->gate_exit = ee_tr_array(g, sizeof(int32_t), &ok);
	tb->gate_ring = ee_tr_array(g, sizeof(double), &ok);
	tb->layer_exit = ee_tr_array(l, sizeof(int32_t), &ok);
	tb->layer_head = ee_tr_array(l, 1, &ok);
	tb->layer_seconds = ee_tr_array(l, sizeof(double), &ok);
	tb->layer_macs = ee_tr_array(l, sizeof(double), &ok);
	tb->layer_cpu = ee_tr_array(l, sizeof(double), &ok);
	tb->gate_name = ee_tr_array(g, sizeof(char *), &ok);
	tb->layer_name = ee_tr_array(l, sizeof(char *), &ok);
	tb->layer_kind = ee_tr_array(l, sizeof(char *), &ok);
	if (ok && c >= 0 && ee_trace_counters_alloc(&tb->cn, l, c, w, err) < 0) {
		ee_tr_tables_release(tb);
		return err->code;
	}
	if (ok)
		return EE_OK;
	ee_tr_tables_release(tb);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for the tables of a trace");
}

/* Fills tb (allocated for t's sizes, names borrowed) from t. */
void ee_tr_tables_from(struct tables *tb, const struct ee_trace *t)
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
void ee_tr_tables_to(struct tables *tb, struct ee_trace *t)
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
int ee_tr_sample_cols(const struct ee_trace *t, struct col *c)
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
int ee_tr_table_cols(const struct tables *tb, struct col *c)
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
static bool is_sha256(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

int ee_tr_check_identity(const struct ee_trace *t, struct ee_err *err)
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
int ee_tr_check_rows(const struct ee_trace *t, struct ee_err *err)
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
int ee_tr_check_names(const struct tables *tb, struct ee_err *err)
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

int ee_tr_check_cols(const struct col *c, int count, struct ee_err *err)
{
	int i, rc = EE_OK;

	for (i = 0; i < count && rc == EE_OK; i++)
		rc = ee_tr_check_col(&c[i], err);
	return rc;
}

/* The attribute table of t; writing casts the const away but only reads through it. */
int ee_tr_attrs(struct ee_trace *t, struct attr *a)
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
