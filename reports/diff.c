/*
 * diff.c - see diff.h. First the two reports are checked to describe the same
 * models and data (identity), then every metric is judged.
 */
#include "diff.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/version.h"
#include "table.h"

#define SLACK 1e-9 /* "more than the limit" ignores rounding noise this small */

struct side {
	const struct ee_jv *doc;
	const char *file;
};

/* A model of a report under its name; a report's models sorted by name (matching 60,000
 * models costs n log n, not n^2). */
struct named {
	const char *name;
	const struct ee_jv *m;
};

struct ctx {
	struct side base, cur;
	const struct ee_diff_opts *o;
	struct ee_diff *d;
	struct ee_err *err;
	struct named *sorted[2]; /* [ee_jv_len(models)] of base and cur, by match_key */
};

/* ---- reading fields ---- */

static int bad_field(struct ee_err *err, const char *file, const char *where, const char *key,
		     const char *want)
{
	return ee_err_set(err, EE_ERR_INPUT, "'%s': %s%s%s is missing or not %s", file, where,
			  where[0] ? "." : "", key, want);
}

/* A number at obj.key; NAN where none fits: the key absent from an object whose
 * "feasible" is false (or null, as reports before "feasible" wrote it). */
static int get_num(const struct ee_jv *obj, const char *key, const char *file, const char *where,
		   double *v, struct ee_err *err)
{
	const struct ee_jv *x = ee_jv_get(obj, key), *fits = ee_jv_get(obj, "feasible");

	if ((x && x->type == EE_JV_NULL) || (!x && fits && fits->type == EE_JV_BOOL && !fits->b)) {
		*v = NAN;
		return EE_OK;
	}
	return ee_jv_num(x, v) ? EE_OK : bad_field(err, file, where, key, "a number");
}

static int get_str(const struct ee_jv *obj, const char *key, const char *file, const char *where,
		   const char **s, struct ee_err *err)
{
	*s = ee_jv_str(ee_jv_get(obj, key));
	return *s ? EE_OK : bad_field(err, file, where, key, "a string");
}

static int get_arr(const struct ee_jv *obj, const char *key, const char *file, const char *where,
		   const struct ee_jv **a, struct ee_err *err)
{
	*a = ee_jv_get(obj, key);
	return *a && (*a)->type == EE_JV_ARR ? EE_OK : bad_field(err, file, where, key, "an array");
}

/* ---- identity ---- */

/* The string field key is the same in both reports. */
static int same_str(struct ctx *c, const struct ee_jv *b, const struct ee_jv *n, const char *where,
		    const char *key, const char *what)
{
	const char *x, *y;
	int rc;

	if ((rc = get_str(b, key, c->base.file, where, &x, c->err)) < 0 ||
	    (rc = get_str(n, key, c->cur.file, where, &y, c->err)) < 0)
		return rc;
	if (strcmp(x, y))
		return ee_err_set(c->err, EE_ERR_INPUT, "reports of different %s: '%s' in '%s', "
				  "'%s' in '%s'", what, x, c->base.file, y, c->cur.file);
	return EE_OK;
}

static int same_num(struct ctx *c, const struct ee_jv *b, const struct ee_jv *n, const char *where,
		    const char *key, const char *what)
{
	double x, y;
	int rc;

	if ((rc = get_num(b, key, c->base.file, where, &x, c->err)) < 0 ||
	    (rc = get_num(n, key, c->cur.file, where, &y, c->err)) < 0)
		return rc;
	if (x != y)
		return ee_err_set(c->err, EE_ERR_INPUT, "reports of different %s: %.15g in '%s', "
				  "%.15g in '%s'", what, x, c->base.file, y, c->cur.file);
	return EE_OK;
}

static int schema(const struct side *s, struct ee_err *err)
{
	double v;
	int rc;

	if (!s->doc || s->doc->type != EE_JV_OBJ)
		return ee_err_set(err, EE_ERR_INPUT, "'%s' is not a report (not a JSON object)",
				  s->file);
	if ((rc = get_num(s->doc, "schema_version", s->file, "", &v, err)) < 0)
		return rc;
	if (v != EE_SCHEMA_VERSION)
		return ee_err_set(err, EE_ERR_INPUT, "'%s': schema_version %.15g is not supported "
				  "(this eeprof reads %d)", s->file, v, EE_SCHEMA_VERSION);
	return EE_OK;
}

/* The field that pairs models: "name", or "arch" (match_arch). */
static const char *match_key(const struct ctx *c)
{
	return c->o->match_arch ? "arch" : "name";
}

static int cmp_named(const void *a, const void *b)
{
	return strcmp(((const struct named *)a)->name, ((const struct named *)b)->name);
}

/* The model whose key (match_key) is name among n sorted ones, or NULL. */
static const struct ee_jv *find_model(const struct named *v, int n, const char *name)
{
	struct named key = { name, NULL };
	const struct named *hit = n && name ? bsearch(&key, v, (size_t)n, sizeof(*v), cmp_named)
					    : NULL;

	return hit ? hit->m : NULL;
}

/* Both reports hold the same model names (or archs), each once, in any order; sorts
 * c->sorted by that key. */
static int same_models(struct ctx *c, const struct ee_jv *bm, const struct ee_jv *nm)
{
	const struct side *sides[2] = { &c->base, &c->cur };
	const struct ee_jv *lists[2] = { bm, nm };
	const char *key = match_key(c);
	char where[32];
	int s, i, rc, n[2] = { ee_jv_len(bm), ee_jv_len(nm) };

	for (s = 0; s < 2; s++) {
		c->sorted[s] = malloc((size_t)(n[s] ? n[s] : 1) * sizeof(struct named));
		if (!c->sorted[s])
			return ee_err_set(c->err, EE_ERR_NOMEM, "out of memory");
		for (i = 0; i < n[s]; i++) {
			c->sorted[s][i].m = ee_jv_at(lists[s], i);
			snprintf(where, sizeof(where), "models[%d]", i);
			if ((rc = get_str(c->sorted[s][i].m, key, sides[s]->file, where,
					  &c->sorted[s][i].name, c->err)) < 0)
				return rc;
		}
		qsort(c->sorted[s], (size_t)n[s], sizeof(struct named), cmp_named);
		for (i = 1; i < n[s]; i++)
			if (!strcmp(c->sorted[s][i - 1].name, c->sorted[s][i].name))
				return ee_err_set(c->err, EE_ERR_INPUT, c->o->match_arch ?
						  "'%s': two models have arch '%s' (--match-by name "
						  "pairs them)" : "'%s': two models are named '%s'",
						  sides[s]->file, c->sorted[s][i].name);
	}
	for (s = 0; s < 2; s++)
		for (i = 0; i < n[s]; i++)
			if (!find_model(c->sorted[1 - s], n[1 - s], c->sorted[s][i].name))
				return ee_err_set(c->err, EE_ERR_INPUT, "reports of different models: "
						  "%s'%s' is in '%s' but not in '%s'%s",
						  c->o->match_arch ? "arch " : "",
						  c->sorted[s][i].name, sides[s]->file,
						  sides[1 - s]->file, c->o->match_arch ? "" :
						  " (models are matched by name: --name when "
						  "reporting, or --match-by arch)");
	return EE_OK;
}

/* The model of the new report paired with b of the base report. */
static const struct ee_jv *counterpart(const struct ctx *c, const struct ee_jv *nm,
				       const struct ee_jv *b)
{
	return find_model(c->sorted[1], ee_jv_len(nm), ee_jv_str(ee_jv_get(b, match_key(c))));
}

static int identity(struct ctx *c, const struct ee_jv **bm, const struct ee_jv **nm)
{
	const struct ee_jv *b = c->base.doc, *n = c->cur.doc;
	int rc;

	if ((rc = schema(&c->base, c->err)) < 0 || (rc = schema(&c->cur, c->err)) < 0 ||
	    (rc = same_str(c, b, n, "", "data", "data")) < 0 ||
	    (rc = same_num(c, b, n, "", "samples", "sample counts")) < 0 ||
	    (rc = same_str(c, b, n, "", "labels_hash", "samples or labels (labels_hash)")) < 0 ||
	    (rc = same_str(c, b, n, "", "policy", "exit policies")) < 0 ||
	    (rc = same_str(c, b, n, "", "fallback", "fallbacks")) < 0 ||
	    (rc = get_arr(b, "models", c->base.file, "", bm, c->err)) < 0 ||
	    (rc = get_arr(n, "models", c->cur.file, "", nm, c->err)) < 0)
		return rc;
	return same_models(c, *bm, *nm);
}

/* ---- judging ---- */

static double limit_of(const struct ee_diff_opts *o, enum ee_diff_kind kind)
{
	return kind == EE_DIFF_ACCURACY ? o->max_acc_drop :
	       kind == EE_DIFF_MACS ? o->max_macs_rise : o->max_time_rise;
}

static enum ee_verdict judge(const struct ee_diff_opts *o, enum ee_diff_kind kind, double old_v,
			     double new_v, double *change)
{
	bool lower = kind != EE_DIFF_ACCURACY; /* lower is better, relative change */
	double limit = limit_of(o, kind);

	*change = NAN;
	if (isnan(old_v) || isnan(new_v)) /* null: lost is a regression, gained an improvement */
		return isnan(old_v) && isnan(new_v) ? EE_VERDICT_SAME :
		       isnan(new_v) ? EE_VERDICT_REGRESSION : EE_VERDICT_BETTER;
	*change = lower ? (old_v != 0 ? (new_v - old_v) / old_v : (new_v > 0 ? INFINITY : 0))
			: new_v - old_v;
	if (old_v == new_v)
		return EE_VERDICT_SAME;
	if (lower ? new_v < old_v : new_v > old_v)
		return EE_VERDICT_BETTER;
	if ((lower ? *change : -*change) > limit + SLACK)
		return EE_VERDICT_REGRESSION;
	return EE_VERDICT_WORSE;
}

static int add_check(struct ctx *c, const char *model, const char *metric,
		     enum ee_diff_kind kind, double old_v, double new_v)
{
	struct ee_diff *d = c->d;
	struct ee_diff_check *k;

	if (d->n == d->cap) {
		int cap = d->cap ? 2 * d->cap : 32;
		struct ee_diff_check *p = realloc(d->checks, (size_t)cap * sizeof(*p));

		if (!p)
			return ee_err_set(c->err, EE_ERR_NOMEM, "out of memory");
		d->checks = p;
		d->cap = cap;
	}
	k = &d->checks[d->n++];
	snprintf(k->model, sizeof(k->model), "%s", model);
	snprintf(k->metric, sizeof(k->metric), "%s", metric);
	k->kind = kind;
	k->old_v = old_v;
	k->new_v = new_v;
	k->verdict = judge(c->o, kind, old_v, new_v, &k->change);
	d->regressions += k->verdict == EE_VERDICT_REGRESSION;
	return EE_OK;
}

/* Compares field key of objects b and n (found at where in each file) as metric. */
static int compare(struct ctx *c, const char *model, const struct ee_jv *b, const struct ee_jv *n,
		   const char *where, const char *key, const char *metric, enum ee_diff_kind kind)
{
	double x, y;
	int rc;

	if ((rc = get_num(b, key, c->base.file, where, &x, c->err)) < 0 ||
	    (rc = get_num(n, key, c->cur.file, where, &y, c->err)) < 0)
		return rc;
	return add_check(c, model, metric, kind, x, y);
}

static int compare_exits(struct ctx *c, const char *name, const struct ee_jv *bx,
			 const struct ee_jv *nx)
{
	static const struct {
		const char *key, *what;
		enum ee_diff_kind kind;
	} fields[] = {
		{ "accuracy", "accuracy", EE_DIFF_ACCURACY },
		{ "macs_mean", "MACs", EE_DIFF_MACS },
		{ "macs_cascade_mean", "cascade MACs", EE_DIFF_MACS },
	};
	char where[32], metric[64];
	size_t f;
	int k, rc;

	for (k = 0; k < ee_jv_len(bx); k++) {
		snprintf(where, sizeof(where), "exits[%d]", k);
		for (f = 0; f < sizeof(fields) / sizeof(fields[0]); f++) {
			snprintf(metric, sizeof(metric), "exit %d %s", k + 1, fields[f].what);
			rc = compare(c, name, ee_jv_at(bx, k), ee_jv_at(nx, k), where, fields[f].key,
				     metric, fields[f].kind);
			if (rc < 0)
				return rc;
		}
	}
	return EE_OK;
}

/* Rows of the budget tables, matched by fraction. */
static int compare_budgets(struct ctx *c, const char *name, const struct ee_jv *bt,
			   const struct ee_jv *nt)
{
	char where[32], metric[64];
	double fb, fn;
	int i, j, rc;

	for (i = 0; i < ee_jv_len(bt); i++) {
		const struct ee_jv *row = NULL;

		snprintf(where, sizeof(where), "budget_table[%d]", i);
		if ((rc = get_num(ee_jv_at(bt, i), "fraction", c->base.file, where, &fb, c->err)) < 0)
			return rc;
		for (j = 0; j < ee_jv_len(nt) && !row; j++)
			if (ee_jv_num(ee_jv_get(ee_jv_at(nt, j), "fraction"), &fn) && fn == fb)
				row = ee_jv_at(nt, j);
		if (!row)
			return ee_err_set(c->err, EE_ERR_INPUT, "reports of different budget tables: "
					  "'%s' in '%s' has no row for %g", name, c->cur.file, fb);
		snprintf(metric, sizeof(metric), "budget %g%% accuracy", 100 * fb);
		if ((rc = compare(c, name, ee_jv_at(bt, i), row, where, "accuracy", metric,
				  EE_DIFF_ACCURACY)) < 0)
			return rc;
	}
	return EE_OK;
}

/* The accuracy and MACs of the result key ("ensemble", "rule") of models b and n. */
static int compare_result(struct ctx *c, const char *name, const struct ee_jv *b,
			  const struct ee_jv *n, const char *key)
{
	char where[160], acc[64], macs[64];
	int rc;

	snprintf(where, sizeof(where), "model '%s'.%s", name, key);
	snprintf(acc, sizeof(acc), "%s accuracy", key);
	snprintf(macs, sizeof(macs), "%s MACs", key);
	if ((rc = compare(c, name, ee_jv_get(b, key), ee_jv_get(n, key), where, "accuracy", acc,
			  EE_DIFF_ACCURACY)) < 0)
		return rc;
	return compare(c, name, ee_jv_get(b, key), ee_jv_get(n, key), where, "macs_mean", macs,
		       EE_DIFF_MACS);
}

/* The rule given to report --threshold, when both models have one: the same thresholds,
 * then its accuracy and MACs. */
static int compare_rule(struct ctx *c, const char *name, const struct ee_jv *b,
			const struct ee_jv *n)
{
	const struct ee_jv *br = ee_jv_get(b, "rule"), *nr = ee_jv_get(n, "rule"), *bt, *nt;
	double x, y;
	int k, len;

	if (!br || !nr)
		return EE_OK;
	bt = ee_jv_get(br, "thresholds");
	nt = ee_jv_get(nr, "thresholds");
	len = ee_jv_len(bt);
	for (k = 0; k < len && len == ee_jv_len(nt); k++)
		if (!ee_jv_num(ee_jv_at(bt, k), &x) || !ee_jv_num(ee_jv_at(nt, k), &y) || x != y)
			break;
	if (!len || k < len || len != ee_jv_len(nt))
		return ee_err_set(c->err, EE_ERR_INPUT, "reports of different rules: model '%s' "
				  "has other thresholds in '%s' than in '%s' (report --threshold)",
				  name, c->base.file, c->cur.file);
	return compare_result(c, name, b, n, "rule");
}

static int compare_model(struct ctx *c, const struct ee_jv *b, const struct ee_jv *n)
{
	const struct ee_jv *bx, *nx, *bt, *nt;
	const char *bname = ee_jv_str(ee_jv_get(b, "name")), *nname = ee_jv_str(ee_jv_get(n, "name"));
	char where[160], name[128];
	int rc;

	/* paired by arch, a renamed model is "old -> new" */
	if (!bname || !nname || !strcmp(bname, nname))
		snprintf(name, sizeof(name), "%s", bname ? bname : "?");
	else
		snprintf(name, sizeof(name), "%.60s -> %.60s", bname, nname);
	snprintf(where, sizeof(where), "model '%s'", bname ? bname : "?");
	if ((rc = same_str(c, b, n, where, "arch", "architectures")) < 0 ||
	    (rc = get_arr(b, "exits", c->base.file, where, &bx, c->err)) < 0 ||
	    (rc = get_arr(n, "exits", c->cur.file, where, &nx, c->err)) < 0 ||
	    (rc = get_arr(b, "budget_table", c->base.file, where, &bt, c->err)) < 0 ||
	    (rc = get_arr(n, "budget_table", c->cur.file, where, &nt, c->err)) < 0)
		return rc;
	if (ee_jv_len(bx) != ee_jv_len(nx))
		return ee_err_set(c->err, EE_ERR_INPUT, "reports of different models: '%s' has %d "
				  "exits in '%s', %d in '%s'", name, ee_jv_len(bx), c->base.file,
				  ee_jv_len(nx), c->cur.file);
	if ((rc = compare_exits(c, name, bx, nx)) < 0)
		return rc;
	if ((rc = compare_result(c, name, b, n, "ensemble")) < 0 ||
	    (rc = compare_rule(c, name, b, n)) < 0)
		return rc;
	return compare_budgets(c, name, bt, nt);
}

int ee_diff_reports(const struct ee_jv *base, const struct ee_jv *cur,
		    const struct ee_diff_opts *o, struct ee_diff *d, struct ee_err *err)
{
	struct ctx c = { { base, o->base_name ? o->base_name : "base" },
			 { cur, o->new_name ? o->new_name : "new" }, o, d, err, { NULL, NULL } };
	const struct ee_jv *bm = NULL, *nm = NULL;
	int i, rc;

	memset(d, 0, sizeof(*d));
	rc = identity(&c, &bm, &nm);
	for (i = 0; rc == EE_OK && i < ee_jv_len(bm); i++) {
		const struct ee_jv *b = ee_jv_at(bm, i);

		rc = compare_model(&c, b, counterpart(&c, nm, b));
	}
	free(c.sorted[0]);
	free(c.sorted[1]);
	if (rc < 0)
		ee_diff_release(d);
	return rc;
}

/* Seconds per sample of model m (at where in file) into *v. */
static int per_sample(const struct ee_jv *m, const char *file, const char *where, double *v,
		      struct ee_err *err)
{
	double seconds, n;
	int rc;

	if ((rc = get_num(m, "seconds", file, where, &seconds, err)) < 0 ||
	    (rc = get_num(m, "samples", file, where, &n, err)) < 0)
		return rc;
	*v = n > 0 ? seconds / n : NAN;
	return EE_OK;
}

/* The [*lo, *hi] of model m's timed runs per sample (its spread, which report --repeat
 * writes); false without one (then no noise band applies). */
static bool run_range(const struct ee_jv *m, double *lo, double *hi)
{
	const struct ee_jv *s = ee_jv_get(m, "spread");
	double n;

	if (!s || !ee_jv_num(ee_jv_get(m, "samples"), &n) || !(n > 0) ||
	    !ee_jv_num(ee_jv_get(s, "min"), lo) || !ee_jv_num(ee_jv_get(s, "max"), hi))
		return false;
	*lo /= n;
	*hi /= n;
	return *lo <= *hi;
}

/* A time check whose two sets of runs overlap ([min, max] of each) is noise: the medians
 * differ by less than the runs themselves do. */
static void judge_noise(struct ee_diff *d, const struct ee_jv *b, const struct ee_jv *n)
{
	struct ee_diff_check *k = &d->checks[d->n - 1];
	double blo, bhi, nlo, nhi;

	if (k->verdict == EE_VERDICT_SAME || !run_range(b, &blo, &bhi) || !run_range(n, &nlo, &nhi) ||
	    nlo > bhi || blo > nhi)
		return;
	d->regressions -= k->verdict == EE_VERDICT_REGRESSION;
	k->verdict = EE_VERDICT_NOISE;
}

int ee_diff_timing(const struct ee_jv *base, const struct ee_jv *cur,
		   const struct ee_diff_opts *o, struct ee_diff *d, struct ee_err *err)
{
	struct ctx c = { { base, o->base_name ? o->base_name : "base" },
			 { cur, o->new_name ? o->new_name : "new" }, o, d, err, { NULL, NULL } };
	const struct ee_jv *bm = NULL, *nm = NULL;
	char where[160];
	double x, y;
	int i, rc;

	memset(d, 0, sizeof(*d));
	if ((rc = schema(&c.base, err)) == EE_OK && (rc = schema(&c.cur, err)) == EE_OK &&
	    (rc = get_arr(base, "models", c.base.file, "", &bm, err)) == EE_OK &&
	    (rc = get_arr(cur, "models", c.cur.file, "", &nm, err)) == EE_OK)
		rc = same_models(&c, bm, nm);
	for (i = 0; rc == EE_OK && i < ee_jv_len(bm); i++) {
		const struct ee_jv *b = ee_jv_at(bm, i);
		const char *name = ee_jv_str(ee_jv_get(b, "name"));

		snprintf(where, sizeof(where), "model '%s'", name);
		if ((rc = per_sample(b, c.base.file, where, &x, err)) == EE_OK &&
		    (rc = per_sample(counterpart(&c, nm, b), c.cur.file, where, &y, err)) == EE_OK &&
		    (rc = add_check(&c, name, "seconds per sample", EE_DIFF_TIME, x, y)) == EE_OK)
			judge_noise(d, b, counterpart(&c, nm, b));
	}
	free(c.sorted[0]);
	free(c.sorted[1]);
	if (rc < 0)
		ee_diff_release(d);
	return rc;
}

void ee_diff_release(struct ee_diff *d)
{
	free(d->checks);
	memset(d, 0, sizeof(*d));
}

/* ---- output ---- */

const char *ee_verdict_name(enum ee_verdict v)
{
	static const char *const names[] = { "same", "better", "worse (within limit)",
					     "REGRESSION", "noise (runs overlap)" };

	return v >= EE_VERDICT_SAME && v <= EE_VERDICT_NOISE ? names[v] : "?";
}

static const char *value(char *buf, size_t size, const struct ee_diff_check *k, double v)
{
	if (isnan(v)) /* a budget nothing fits */
		snprintf(buf, size, "none fits");
	else if (k->kind == EE_DIFF_MACS)
		ee_fmt_si(buf, size, v);
	else if (k->kind == EE_DIFF_TIME)
		snprintf(buf, size, "%.4g ms", 1e3 * v);
	else /* accuracy: a fraction, as every text and Markdown output shows it */
		snprintf(buf, size, "%.4f", v);
	return buf;
}

static const char *change(char *buf, size_t size, const struct ee_diff_check *k)
{
	if (isnan(k->change)) /* none fits on one side at least */
		snprintf(buf, size, k->verdict == EE_VERDICT_SAME ? "-" :
				    k->verdict == EE_VERDICT_BETTER ? "now fits" : "no longer fits");
	else if (k->change == 0)
		snprintf(buf, size, "0");
	else if (k->kind != EE_DIFF_ACCURACY)
		snprintf(buf, size, "%+.2f%%", 100 * k->change);
	else
		snprintf(buf, size, "%+.4f", k->change);
	return buf;
}

void ee_diff_markdown(const struct ee_diff *d, const struct ee_diff_opts *o, FILE *f)
{
	static const char *const head[] = { "metric", "old", "new", "change", "verdict" };
	char a[32], b[32], c[32];
	struct ee_table t;
	int i;

	ee_table_init(&t, 5, head);
	for (i = 0; i < d->n; i++) {
		const struct ee_diff_check *k = &d->checks[i];

		ee_table_rowf(&t, "%s: %s\t%s\t%s\t%s\t%s", k->model, k->metric,
			      value(a, sizeof(a), k, k->old_v), value(b, sizeof(b), k, k->new_v),
			      change(c, sizeof(c), k), ee_verdict_name(k->verdict));
	}
	ee_table_print(&t, f, true);
	ee_table_release(&t);
	fprintf(f, "\n%d regression%s in %d checks (limits: ", d->regressions,
		d->regressions == 1 ? "" : "s", d->n);
	if (d->n && d->checks[0].kind == EE_DIFF_TIME)
		fprintf(f, isinf(o->max_time_rise) ? "time rise: none" : "time rise %.2f%%",
			100 * o->max_time_rise);
	else
		fprintf(f, "accuracy drop %.4f, MACs rise %.2f%%", o->max_acc_drop,
			100 * o->max_macs_rise);
	fprintf(f, ")\n");
}

static void xml_attr(FILE *f, const char *s)
{
	for (; *s; s++) {
		switch (*s) {
		case '&': fputs("&amp;", f); break;
		case '<': fputs("&lt;", f); break;
		case '>': fputs("&gt;", f); break;
		case '"': fputs("&quot;", f); break;
		case '\'': fputs("&apos;", f); break;
		default:
			if ((unsigned char)*s < 0x20)
				fputc(' ', f);
			else
				fputc(*s, f);
		}
	}
}

void ee_diff_junit(const struct ee_diff *d, const struct ee_diff_opts *o, FILE *f)
{
	char a[32], b[32], c[32], msg[256];
	int i;

	fprintf(f, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		"<testsuites name=\"eeprof diff\" tests=\"%d\" failures=\"%d\">\n"
		"  <testsuite name=\"eeprof diff\" tests=\"%d\" failures=\"%d\" errors=\"0\" "
		"skipped=\"0\">\n", d->n, d->regressions, d->n, d->regressions);
	for (i = 0; i < d->n; i++) {
		const struct ee_diff_check *k = &d->checks[i];

		fputs("    <testcase classname=\"eeprof.diff.", f);
		xml_attr(f, k->model);
		fputs("\" name=\"", f);
		xml_attr(f, k->metric);
		if (k->verdict != EE_VERDICT_REGRESSION) {
			fputs("\"/>\n", f);
			continue;
		}
		snprintf(msg, sizeof(msg), k->kind == EE_DIFF_ACCURACY ? "%s: %s -> %s (%s; limit "
			 "%.4f%s)" : "%s: %s -> %s (%s; limit %.2f%s)", k->metric,
			 value(a, sizeof(a), k, k->old_v), value(b, sizeof(b), k, k->new_v),
			 change(c, sizeof(c), k), (k->kind == EE_DIFF_ACCURACY ? 1 : 100) *
			 limit_of(o, k->kind), k->kind == EE_DIFF_ACCURACY ? "" : "%");
		fputs("\">\n      <failure type=\"regression\" message=\"", f);
		xml_attr(f, msg);
		fputs("\">", f);
		xml_attr(f, msg);
		fputs("</failure>\n    </testcase>\n", f);
	}
	fprintf(f, "  </testsuite>\n</testsuites>\n");
}

void ee_diff_junit_refused(const char *why, FILE *f)
{
	fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	      "<testsuites name=\"eeprof diff\" tests=\"1\" failures=\"1\">\n"
	      "  <testsuite name=\"eeprof diff\" tests=\"1\" failures=\"1\" errors=\"0\" "
	      "skipped=\"0\">\n"
	      "    <testcase classname=\"eeprof.diff\" name=\"reports can be compared\">\n"
	      "      <failure type=\"refused\" message=\"", f);
	xml_attr(f, why);
	fputs("\">", f);
	xml_attr(f, why);
	fputs("</failure>\n    </testcase>\n  </testsuite>\n</testsuites>\n", f);
}
