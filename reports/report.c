/*
 * report.c - see report.h: the report model built from traces (per model: exits,
 * sweep, budget table, gates, MSDNet budgets, time and counters per exit and per
 * layer). Each output file has its own writer: report_json.c (report.json,
 * timing.json), report_md.c, report_csv.c, report_plots.c; report_dir.c writes them
 * all into the directory, atomically as a set.
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report_extra.h"

const double ee_report_fractions[EE_REPORT_NFRAC] = { 0.25, 0.5, 0.75, 1.0 };

void ee_report_init(struct ee_report *r, enum ee_policy p, enum ee_fallback f)
{
	memset(r, 0, sizeof(*r));
	r->policy = p;
	r->fallback = f;
}

static void model_release(struct ee_report_model *m)
{
	int i;

	for (i = 0; m->gates && i < m->ngates; i++) {
		free(m->gates[i].layer);
		ee_gate_stats_release(&m->gates[i].s);
	}
	free(m->gates);
	for (i = 0; m->layers && i < m->nlayers; i++) {
		free(m->layers[i].name);
		free(m->layers[i].kind);
	}
	free(m->layers);
	ee_trace_counters_release(&m->counters);
	free(m->runs);
	ee_report_extra_release(m);
	memset(m, 0, sizeof(*m));
}

void ee_report_release(struct ee_report *r)
{
	int i;

	for (i = 0; i < r->nmodels; i++)
		model_release(&r->models[i]);
	free(r->models);
	free(r->rank_seconds);
	memset(r, 0, sizeof(*r));
}

/* The last component of s[0..len), trailing slashes ignored, into *base and *n. */
static void last_component(const char *s, size_t len, const char **base, size_t *n)
{
	size_t start;

	while (len > 1 && s[len - 1] == '/')
		len--;
	for (start = len; start > 0 && s[start - 1] != '/'; start--)
		;
	*base = s + start;
	*n = len - start;
}

void ee_report_stem(const char *path, char *buf, size_t size)
{
	const char *base, *dot;
	size_t n;

	last_component(path, strlen(path), &base, &n);
	for (dot = base + n; dot > base && dot[-1] != '.'; dot--)
		;
	if (dot > base + 1) /* "model.h5" -> "model"; ".h5" and "model" stay */
		n = (size_t)(dot - 1 - base);
	snprintf(buf, size, "%.*s", (int)n, base);
}

void ee_report_data_name(const char *spec, char *buf, size_t size)
{
	const char *colon = strchr(spec, ':'), *rest, *last, *base;
	size_t n;

	if (!colon) {
		last_component(spec, strlen(spec), &base, &n);
		snprintf(buf, size, "%.*s", (int)n, base);
		return;
	}
	rest = colon + 1;
	last = strrchr(rest, ':');
	if (!strncmp(spec, "h5:", 3) || !last) { /* READER:FILE or READER:SPLIT */
		last_component(rest, strlen(rest), &base, &n);
		snprintf(buf, size, "%.*s%.*s", (int)(rest - spec), spec, (int)n, base);
		return;
	}
	last_component(rest, (size_t)(last - rest), &base, &n); /* READER:DIR:SPLIT */
	snprintf(buf, size, "%.*s%.*s%s", (int)(rest - spec), spec, (int)n, base, last);
}

/* FNV-1a 64 of the (index, label) rows, little-endian, as 16 hex digits. */
static void labels_hash(const struct ee_trace *t, char *buf, size_t size)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	int i, b;

	for (i = 0; i < t->n; i++) {
		uint32_t v[2] = { (uint32_t)t->index[i], (uint32_t)t->label[i] };

		for (b = 0; b < 8; b++) {
			h ^= (v[b / 4] >> (8 * (b % 4))) & 0xff;
			h *= 0x100000001b3ULL;
		}
	}
	snprintf(buf, size, "%016llx", (unsigned long long)h);
}

/* t's data against what the report (or its val side) already holds; sets it if first. */
static int same_data(char *data, int *samples, char *hash, size_t hash_size,
		     const struct ee_trace *t, const char *what, const char *name,
		     struct ee_err *err)
{
	char d[256], h[32];

	ee_report_data_name(t->data, d, sizeof(d));
	labels_hash(t, h, sizeof(h));
	if (!data[0]) {
		snprintf(data, 256, "%s", d);
		*samples = t->n;
		if (hash)
			snprintf(hash, hash_size, "%s", h);
		return EE_OK;
	}
	if (strcmp(d, data) || t->n != *samples)
		return ee_err_set(err, EE_ERR_INPUT, "%s of '%s' is of '%s' (%d samples) but the "
				  "report's is of '%s' (%d samples)", what, name, d, t->n, data,
				  *samples);
	if (hash && strcmp(h, hash))
		return ee_err_set(err, EE_ERR_INPUT, "%s of '%s' holds other samples or labels "
				  "than the report's '%s'", what, name, data);
	return EE_OK;
}

/* The budget table: per fraction the best sweep point (first of equals) within it. */
void ee_report_budget_table(struct ee_report_model *m)
{
	double deep = m->stats.macs_mean[m->nexits - 1];
	int f, j;

	for (f = 0; f < EE_REPORT_NFRAC; f++) {
		struct ee_report_point *pt = &m->table[f];
		double acc;

		pt->budget = ee_report_fractions[f] * deep;
		pt->index = -1;
		acc = ee_accuracy_within(m->curve, m->ncurve, pt->budget);
		for (j = 0; j < m->ncurve && pt->index < 0 && !isnan(acc); j++)
			if (m->curve[j].macs_mean <= pt->budget && m->curve[j].accuracy == acc)
				pt->index = j;
	}
}

static int gates(struct ee_report_model *m, const struct ee_trace *t, struct ee_err *err)
{
	int g, rc;

	if (!t->ngated)
		return EE_OK;
	m->gates = calloc((size_t)t->ngated, sizeof(*m->gates));
	if (!m->gates)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for gate statistics");
	for (g = 0; g < t->ngated; g++) {
		struct ee_report_gate *rg = &m->gates[g];

		if ((rc = ee_gate_stats(t, g, NULL, &rg->s, err)) < 0)
			return rc;
		m->ngates++;
		rg->exit = t->gated[g].exit;
		rg->channels = t->gated[g].channels;
		if (!(rg->layer = strdup(t->gated[g].name ? t->gated[g].name : "")))
			return ee_err_set(err, EE_ERR_NOMEM, "out of memory for gate statistics");
	}
	return EE_OK;
}

/* MSDNet's budgets on val, applied to t; a budget no candidate meets is infeasible. */
static int budgets(struct ee_report_model *m, enum ee_policy p, const struct ee_trace *val,
		   const struct ee_trace *t, struct ee_err *err)
{
	int f, rc;

	if (strcmp(val->ckpt_sha256, t->ckpt_sha256) || val->nexits != t->nexits ||
	    val->num_classes != t->num_classes)
		return ee_err_set(err, EE_ERR_INPUT, "validation trace of '%s' is of another "
				  "checkpoint", m->name);
	if (val->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "validation trace of '%s' has no samples",
				  m->name);
	m->has_val = true;
	for (f = 0; f < EE_REPORT_NFRAC; f++) {
		struct ee_report_budget *b = &m->budgets[f];
		struct ee_err why = { 0 };

		b->budget = m->table[f].budget;
		rc = ee_budget(val, t, p, b->budget, &b->rule, &b->val, &b->test, &why);
		if (rc < 0 && rc != EE_ERR_INPUT)
			return ee_err_set(err, rc, "%s", why.msg);
		b->feasible = rc == EE_OK;
	}
	return EE_OK;
}

static int timing(struct ee_report_model *m, const struct ee_trace *t, struct ee_err *err)
{
	int i;

	m->seconds = t->seconds;
	m->threads = t->threads;
	m->batch = t->batch;
	if (!t->nlayers)
		return EE_OK;
	if (!(m->layers = calloc((size_t)t->nlayers, sizeof(*m->layers))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for layer timings");
	for (i = 0; i < t->nlayers; i++) {
		struct ee_trace_layer *l = &m->layers[m->nlayers++];

		*l = t->layers[i];
		l->name = strdup(t->layers[i].name ? t->layers[i].name : "");
		l->kind = strdup(t->layers[i].kind ? t->layers[i].kind : "");
		if (!l->name || !l->kind)
			return ee_err_set(err, EE_ERR_NOMEM, "out of memory for layer timings");
	}
	return ee_trace_counters_copy(&m->counters, &t->counters, t->nlayers, err);
}

int ee_report_set_runs(struct ee_report_model *m, const double *runs, int n, int warmup,
		       struct ee_err *err)
{
	double *v = malloc((size_t)(n > 0 ? n : 1) * sizeof(*v));

	if (!v)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	memcpy(v, runs, (size_t)n * sizeof(*v));
	free(m->runs);
	m->runs = v;
	m->nruns = n;
	m->warmup = warmup;
	return EE_OK;
}

/* Everything about one model from its trace(s), into m. */
static int analyse(struct ee_report_model *m, const struct ee_report *r, const struct ee_trace *t,
		   const struct ee_trace *val, struct ee_err *err)
{
	double thr[EE_REPORT_MAX_CURVE];
	int rc;

	snprintf(m->arch, sizeof(m->arch), "%s", t->arch);
	snprintf(m->sha256, sizeof(m->sha256), "%s", t->ckpt_sha256);
	m->nexits = t->nexits;
	m->num_classes = t->num_classes;
	m->n = t->n;
	memcpy(m->exit_macs, t->exit_macs, sizeof(m->exit_macs));
	ee_exit_stats(t, &m->stats);
	m->ncurve = ee_sweep_grid(t, r->policy, thr, EE_REPORT_MAX_CURVE);
	ee_sweep(t, r->policy, r->fallback, thr, m->ncurve, m->curve);
	ee_report_budget_table(m);
	if (r->nthr > 0) { /* the rule given, beside the sweep */
		m->rule.policy = r->policy;
		m->rule.fallback = r->fallback;
		if ((rc = ee_rule_thresholds(&m->rule, r->thr, r->nthr, m->nexits, err)) < 0)
			return ee_err_prefix(err, "model '%s': ", m->name);
		ee_simulate(t, &m->rule, &m->applied, NULL);
		m->has_rule = true;
	}
	if ((rc = gates(m, t, err)) < 0 || (rc = timing(m, t, err)) < 0)
		return rc;
	if (val && (rc = budgets(m, r->policy, val, t, err)) < 0)
		return rc;
	return ee_report_extra_analyse(m, r, t, val, err);
}

int ee_report_add(struct ee_report *r, const struct ee_trace *t, const struct ee_trace *val,
		  struct ee_err *err)
{
	return ee_report_add_named(r, t, val, NULL, err);
}

int ee_report_add_named(struct ee_report *r, const struct ee_trace *t, const struct ee_trace *val,
			const char *model_name, struct ee_err *err)
{
	struct ee_report_model *m, *models;
	char name[256];
	int i, rc;

	if (model_name)
		snprintf(name, sizeof(name), "%s", model_name);
	else
		ee_report_stem(t->checkpoint, name, sizeof(name));
	if (t->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "trace of '%s' has no samples", name);
	for (i = 0; i < r->nmodels; i++)
		if (!strcmp(r->models[i].name, name))
			return ee_err_set(err, EE_ERR_INPUT, "two models are named '%s'", name);
	rc = same_data(r->data, &r->samples, r->labels_hash, sizeof(r->labels_hash), t, "trace",
		       name, err);
	if (rc == EE_OK && val)
		rc = same_data(r->val_data, &r->val_samples, NULL, 0, val, "validation trace", name,
			       err);
	if (rc < 0)
		return rc;
	if (!(m = calloc(1, sizeof(*m))))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a report");
	snprintf(m->name, sizeof(m->name), "%s", name);
	rc = analyse(m, r, t, val, err);
	models = rc == EE_OK ? realloc(r->models, (size_t)(r->nmodels + 1) * sizeof(*models)) : NULL;
	if (rc == EE_OK && !models)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for a report");
	if (rc == EE_OK) {
		r->models = models;
		r->models[r->nmodels++] = *m;
	} else {
		model_release(m);
	}
	free(m);
	return rc;
}

/* ---- time and counters per exit and per layer ---- */

static void cost_add(const struct ee_report_model *m, int i, struct ee_report_cost *c)
{
	const struct ee_trace_layer *l = &m->layers[i];
	int k, nc = m->counters.n;

	c->layers++;
	c->macs += l->macs;
	c->seconds += l->seconds;
	c->cpu_seconds += l->cpu_seconds;
	for (k = 0; k < nc; k++)
		c->events[k] += m->counters.values[(size_t)i * nc + k];
}

static void cost_begin(struct ee_report_cost *c)
{
	memset(c, 0, sizeof(*c));
}

static void cost_end(const struct ee_report_model *m, struct ee_report_cost *c)
{
	if (!m->counters.counted)
		c->cpu_seconds = NAN;
	c->gflops = c->seconds > 0 ? 2e-9 * c->macs * m->n / c->seconds : NAN;
	c->ipc = ee_events_ipc(m->counters.names, c->events, m->counters.n);
}

void ee_report_exit_cost(const struct ee_report_model *m, int k, struct ee_report_cost *c)
{
	int i;

	cost_begin(c);
	for (i = 0; i < m->nlayers; i++)
		if (m->layers[i].exit == k + 1)
			cost_add(m, i, c);
	cost_end(m, c);
}

void ee_report_layer_cost(const struct ee_report_model *m, int i, struct ee_report_cost *c)
{
	cost_begin(c);
	cost_add(m, i, c);
	cost_end(m, c);
}

void ee_report_layer_times(const struct ee_report_model *m, struct ee_layer_time *l)
{
	int i;

	for (i = 0; i < m->nlayers; i++) {
		l[i].name = m->layers[i].name;
		l[i].exit = m->layers[i].exit;
		l[i].macs = m->layers[i].macs;
		l[i].seconds = m->layers[i].seconds / m->n;
	}
}

/* m's layers per sample (layertime.h), or NULL when out of memory; free() it. */
struct ee_layer_time *ee_report_layer_times_new(const struct ee_report_model *m)
{
	struct ee_layer_time *l = calloc((size_t)m->nlayers + 1, sizeof(*l));

	if (l)
		ee_report_layer_times(m, l);
	return l;
}

/* A name fit for a file name: characters other than [A-Za-z0-9._-] become '_'. */
void ee_report_file_name(const char *name, char *buf, size_t size)
{
	size_t i;

	for (i = 0; name[i] && i + 1 < size; i++)
		buf[i] = strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-",
				name[i]) ? name[i] : '_';
	buf[i] = '\0';
}
