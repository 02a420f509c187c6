/*
 * trace.c - the trace in memory (alloc, release, counters) and merging traces of
 * disjoint shards; see trace.h. The HDF5 side is trace_schema.c, trace_write.c and
 * trace_read.c (trace-impl.h says what they share).
 */
#include "trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/trace-impl.h"

void *ee_tr_array(size_t n, size_t size, bool *ok)
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
	t->index = ee_tr_array(n, sizeof(*t->index), &ok);
	t->label = ee_tr_array(n, sizeof(*t->label), &ok);
	t->pred = ee_tr_array(ne, sizeof(*t->pred), &ok);
	t->maxprob = ee_tr_array(ne, sizeof(*t->maxprob), &ok);
	t->entropy = ee_tr_array(ne, sizeof(*t->entropy), &ok);
	t->margin = ee_tr_array(ne, sizeof(*t->margin), &ok);
	if (with_softmax)
		t->softmax = ee_tr_array(ne * num_classes, sizeof(*t->softmax), &ok);
	t->ens_pred = ee_tr_array(n, sizeof(*t->ens_pred), &ok);
	t->ens_maxprob = ee_tr_array(n, sizeof(*t->ens_maxprob), &ok);
	t->macs = ee_tr_array(ne, sizeof(*t->macs), &ok);
	t->macs_cascade = ee_tr_array(ne, sizeof(*t->macs_cascade), &ok);
	t->gated = ee_tr_array(ngated, sizeof(*t->gated), &ok);
	t->open = ee_tr_array((size_t)n * ngated, sizeof(*t->open), &ok);
	t->bits = ee_tr_array(ngated, sizeof(*t->bits), &ok);
	for (g = 0; ok && g < ngated; g++) {
		t->gated[g].channels = channels[g];
		t->bits[g] = ee_tr_array((size_t)n * channels[g], 1, &ok);
	}
	t->layers = ee_tr_array(nlayers, sizeof(*t->layers), &ok);
	if (ok)
		return EE_OK;
	ee_trace_release(t);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a trace of %d samples", n);
}

void ee_softmax_stats(const float *z, int k, float *p, int32_t *pred, float *maxprob,
		      float *entropy, float *margin)
{
	int best = 0, c;
	float sum = 0, second = 0;
	double h = 0;

	for (c = 1; c < k; c++)
		if (z[c] > z[best])
			best = c;
	for (c = 0; c < k; c++)
		sum += p[c] = expf(z[c] - z[best]);
	for (c = 0; c < k; c++) {
		p[c] /= sum;
		if (p[c] > 0)
			h -= (double)p[c] * log((double)p[c]);
		if (c != best && p[c] > second)
			second = p[c];
	}
	*pred = best;
	*maxprob = p[best];
	*entropy = (float)h;
	*margin = p[best] - second;
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
	free(t->rank_seconds);
	ee_trace_counters_release(&t->counters);
	memset(t, 0, sizeof(*t));
}

int ee_trace_set_ranks(struct ee_trace *t, int ranks, const double *seconds, struct ee_err *err)
{
	double *s = ranks > 0 ? malloc((size_t)ranks * sizeof(*s)) : NULL;

	if (ranks > 0 && !s)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if (s)
		memcpy(s, seconds, (size_t)ranks * sizeof(*s));
	free(t->rank_seconds);
	t->rank_seconds = s;
	t->ranks = ranks > 0 ? ranks : 0;
	return EE_OK;
}

int ee_trace_counters_alloc(struct ee_trace_counters *c, int nlayers, int n, int nwarn,
			    struct ee_err *err)
{
	bool ok = true;

	memset(c, 0, sizeof(*c));
	if (nlayers < 0 || n < 0 || n > EE_TRACE_MAX_COUNTERS || nwarn < 0)
		return ee_err_set(err, EE_ERR_INPUT, "%d counters of %d layers (at most %d "
				  "counters)", n, nlayers, EE_TRACE_MAX_COUNTERS);
	c->names = ee_tr_array(n, sizeof(*c->names), &ok);
	c->values = ee_tr_array((size_t)nlayers * n, sizeof(*c->values), &ok);
	c->warn = ee_tr_array(nwarn, sizeof(*c->warn), &ok);
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

void ee_tr_copy_header(struct ee_trace *dst, const struct ee_trace *src)
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



/* The ranks of in[] one after the other, if every input has them. */
static int merge_ranks(struct ee_trace *out, const struct ee_trace *const *in, int count)
{
	long total = 0;
	int j;

	for (j = 0; j < count; j++) {
		if (in[j]->ranks < 1)
			return EE_OK;
		total += in[j]->ranks;
	}
	if (total > MAX_RANKS)
		return EE_OK; /* more than a trace records: left out */
	if (!(out->rank_seconds = malloc((size_t)total * sizeof(double))))
		return EE_ERR_NOMEM;
	for (j = 0; j < count; j++) {
		memcpy(out->rank_seconds + out->ranks, in[j]->rank_seconds,
		       (size_t)in[j]->ranks * sizeof(double));
		out->ranks += in[j]->ranks;
	}
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
	return merge_ranks(out, in, count);
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
	m = ee_tr_sample_cols(out, c);
	for (i = 0; i < count; i++)
		ee_tr_sample_cols(in[i], c + per * (i + 1));
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
		ee_tr_copy_header(out, in[0]);
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
