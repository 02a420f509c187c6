/*
 * analysis.c - per-exit accuracy, simulated dynamic exit, threshold sweeps, MSDNet
 * budgets and EMG gate statistics over traces; see analysis.h for the semantics.
 *
 * Sums run over samples in row order, so the same trace gives the same bits.
 */
#include "analysis.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "table.h"

#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- names and rules */

static const char *const policy_names[] = { "maxprob", "entropy", "margin", "patience" };
static const char *const fallback_names[] = { "last", "ensemble", "best" };

static int lookup(const char *const *names, int count, const char *s)
{
	int i;

	for (i = 0; s && i < count; i++)
		if (!strcmp(names[i], s))
			return i;
	return -1;
}

const char *ee_policy_name(enum ee_policy p)
{
	return (unsigned)p < (unsigned)COUNT(policy_names) ? policy_names[p] : "?";
}

const char *ee_fallback_name(enum ee_fallback f)
{
	return (unsigned)f < (unsigned)COUNT(fallback_names) ? fallback_names[f] : "?";
}

int ee_policy_parse(const char *s)
{
	return lookup(policy_names, COUNT(policy_names), s);
}

int ee_fallback_parse(const char *s)
{
	return lookup(fallback_names, COUNT(fallback_names), s);
}

void ee_rule_global(struct ee_exit_rule *r, enum ee_policy p, enum ee_fallback f, double thr)
{
	int k;

	r->policy = p;
	r->fallback = f;
	for (k = 0; k < EE_MAX_EXITS; k++)
		r->thr[k] = thr;
}

int ee_rule_names(struct ee_exit_rule *r, const char *policy, const char *fallback,
		  struct ee_err *err)
{
	int p = policy ? ee_policy_parse(policy) : EE_POLICY_MAXPROB;
	int f = fallback ? ee_fallback_parse(fallback) : EE_FALLBACK_LAST;

	if (p < 0)
		return ee_err_set(err, EE_ERR_USAGE, "unknown policy '%s' (maxprob, entropy, margin "
				  "or patience)", policy);
	if (f < 0)
		return ee_err_set(err, EE_ERR_USAGE, "unknown fallback '%s' (last, ensemble or best)",
				  fallback);
	r->policy = (enum ee_policy)p;
	r->fallback = (enum ee_fallback)f;
	return EE_OK;
}

int ee_thresholds_parse(const char *s, double *v, int *count, struct ee_err *err)
{
	const char *p = s;

	*count = 0;
	for (;;) {
		char *end;

		errno = 0;
		v[*count] = strtod(p, &end);
		if (end == p || (*end && *end != ',') || errno || !isfinite(v[*count]))
			return ee_err_set(err, EE_ERR_USAGE, "bad threshold list '%s' (numbers "
					  "separated by commas)", s);
		++*count;
		if (!*end)
			return EE_OK;
		if (*count == EE_MAX_EXITS)
			return ee_err_set(err, EE_ERR_USAGE, "threshold list '%s' has more than %d "
					  "values", s, EE_MAX_EXITS);
		p = end + 1;
	}
}

int ee_rule_thresholds(struct ee_exit_rule *r, const double *v, int count, int nexits,
		       struct ee_err *err)
{
	int k;

	if (r->policy == EE_POLICY_PATIENCE && (count != 1 || v[0] < 0 || v[0] != floor(v[0])))
		return ee_err_set(err, EE_ERR_USAGE, "patience takes one whole number >= 0");
	if (count != 1 && count != nexits)
		return ee_err_set(err, EE_ERR_USAGE, "%d thresholds for a model of %d exits: give "
				  "%d (one per exit) or 1 (the same for every exit)", count, nexits,
				  nexits);
	for (k = 0; k < EE_MAX_EXITS; k++)
		r->thr[k] = v[count == 1 ? 0 : k < count ? k : count - 1];
	return EE_OK;
}

/* ---------------------------------------------------------------- simulating exits */

/* thr as float32, the type of the confidences; out of range goes to +-inf (not UB). */
static float as_float(double thr)
{
	if (thr > FLT_MAX)
		return INFINITY;
	if (thr < -FLT_MAX)
		return -INFINITY;
	return (float)thr;
}

/* The patience of a rule: thr[0] as a count of agreeing earlier exits, 0..EE_MAX_EXITS. */
static int patience(const struct ee_exit_rule *r)
{
	if (!(r->thr[0] > 0))
		return 0;
	return r->thr[0] >= EE_MAX_EXITS ? EE_MAX_EXITS : (int)r->thr[0];
}

/* PABEE: exit k (0-based) and the pat exits before it all predict the same class. */
static bool agrees(const struct ee_trace *t, int i, int k, int pat)
{
	const int32_t *pred = t->pred + (size_t)i * t->nexits;
	int j;

	if (k < pat)
		return false;
	for (j = k - pat; j < k; j++)
		if (pred[j] != pred[k])
			return false;
	return true;
}

/* True if the rule lets sample i leave at exit k (0-based). */
static bool confident(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k)
{
	size_t at = (size_t)i * t->nexits + k;

	switch (r->policy) {
	case EE_POLICY_MAXPROB: return t->maxprob[at] > as_float(r->thr[k]);
	case EE_POLICY_ENTROPY: return t->entropy[at] < as_float(r->thr[k]);
	case EE_POLICY_MARGIN: return t->margin[at] > as_float(r->thr[k]);
	case EE_POLICY_PATIENCE: return agrees(t, i, k, patience(r));
	}
	return false;
}

/* The policy's confidence of sample i at exit k, larger = more confident: entropy is
 * negated (exact in float), patience ranks by maxprob. NAN ranks below everything. */
static float confidence(const struct ee_trace *t, enum ee_policy p, int i, int k)
{
	size_t at = (size_t)i * t->nexits + k;
	float c = p == EE_POLICY_ENTROPY ? -t->entropy[at] :
		  p == EE_POLICY_MARGIN ? t->margin[at] : t->maxprob[at];

	return isnan(c) ? -INFINITY : c;
}

/* The exit (0-based) the "best" fallback takes: the most confident, shallowest on ties. */
static int most_confident(const struct ee_trace *t, enum ee_policy p, int i)
{
	int k, best = 0;

	for (k = 1; k < t->nexits; k++)
		if (confidence(t, p, i, k) > confidence(t, p, i, best))
			best = k;
	return best;
}

/* The class the rule predicts for sample i, which leaves at exit k (E: fallback). */
static int32_t predicted(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k)
{
	const int32_t *pred = t->pred + (size_t)i * t->nexits;

	if (k < t->nexits)
		return pred[k];
	switch (r->fallback) {
	case EE_FALLBACK_ENSEMBLE: return t->ens_pred[i];
	case EE_FALLBACK_BEST: return pred[most_confident(t, r->policy, i)];
	case EE_FALLBACK_LAST: break;
	}
	return pred[t->nexits - 1];
}

bool ee_rule_leaves(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k)
{
	return confident(t, r, i, k);
}

int32_t ee_rule_predict(const struct ee_trace *t, const struct ee_exit_rule *r, int i, int k)
{
	return predicted(t, r, i, k);
}

void ee_simulate(const struct ee_trace *t, const struct ee_exit_rule *r, struct ee_dyn_result *res,
		 int *taken)
{
	int e = t->nexits, i, k;
	double macs = 0;
	long correct = 0;

	memset(res, 0, sizeof(*res));
	res->threshold = r->thr[0];
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < e && !confident(t, r, i, k); k++)
			;
		res->exits[k]++;
		correct += predicted(t, r, i, k) == t->label[i];
		macs += t->macs_cascade[(size_t)i * e + (k < e ? k : e - 1)];
		if (taken)
			taken[i] = k;
	}
	res->accuracy = t->n ? (double)correct / t->n : NAN;
	res->macs_mean = t->n ? macs / t->n : NAN;
}

void ee_exit_stats(const struct ee_trace *t, struct ee_exit_stats *s)
{
	int e = t->nexits, i, k;
	long correct[EE_MAX_EXITS] = { 0 }, ens = 0;
	double n = t->n ? t->n : NAN;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < t->n; i++) {
		for (k = 0; k < e; k++) {
			size_t at = (size_t)i * e + k;

			correct[k] += t->pred[at] == t->label[i];
			s->macs_mean[k] += t->macs[at];
			s->cascade_mean[k] += t->macs_cascade[at];
		}
		ens += t->ens_pred[i] == t->label[i];
	}
	for (k = 0; k < e; k++) {
		s->accuracy[k] = correct[k] / n;
		s->macs_mean[k] /= n;
		s->cascade_mean[k] /= n;
	}
	s->ensemble_accuracy = ens / n;
	s->ensemble_macs = s->cascade_mean[e - 1];
}

/* ---------------------------------------------------------------- sweeps */

int ee_sweep_grid(const struct ee_trace *t, enum ee_policy p, double *thr, int max)
{
	int i, count = p == EE_POLICY_PATIENCE ? t->nexits - 1 : 101;
	double top = p == EE_POLICY_ENTROPY ? log(t->num_classes) : 1.0;

	if (count > max)
		count = max;
	for (i = 0; i < count; i++)
		thr[i] = p == EE_POLICY_PATIENCE ? i + 1 : top * i / 100.0;
	return count < 0 ? 0 : count;
}

void ee_sweep(const struct ee_trace *t, enum ee_policy p, enum ee_fallback f, const double *thr,
	      int count, struct ee_dyn_result *res)
{
	struct ee_exit_rule r;
	int j;

	for (j = 0; j < count; j++) {
		ee_rule_global(&r, p, f, thr[j]);
		ee_simulate(t, &r, &res[j], NULL);
	}
}

double ee_accuracy_within(const struct ee_dyn_result *res, int count, double budget)
{
	double best = NAN;
	int j;

	for (j = 0; j < count; j++)
		if (res[j].macs_mean <= budget && !(res[j].accuracy <= best))
			best = res[j].accuracy;
	return best;
}

/* ---------------------------------------------------------------- budgets (MSDNet) */

struct ranked {
	float conf;
	int row;
};

/* More confident first; equal confidences by row, so qsort's order is total. */
static int by_confidence(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->conf != y->conf)
		return x->conf > y->conf ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* The threshold of policy p under which exactly the confidences > c pass. */
static double threshold_above(enum ee_policy p, float c)
{
	return p == EE_POLICY_ENTROPY ? -(double)c : c;
}

/* Candidate p (1..40) of MSDNet's search on val: fills r->thr (see analysis.h). */
static void msdnet_thresholds(const struct ee_trace *val, int p, struct ee_exit_rule *r,
			      struct ranked *rank, bool *running)
{
	double q = p / 20.0, share[EE_MAX_EXITS], sum = 0;
	int e = val->nexits, i, k, m, want;

	for (k = 0; k < e; k++)
		sum += share[k] = pow(q, k + 1);
	for (i = 0; i < val->n; i++)
		running[i] = true;
	for (k = 0; k < e - 1; k++) {
		float cut;

		for (i = m = 0; i < val->n; i++)
			if (running[i])
				rank[m++] = (struct ranked){ confidence(val, r->policy, i, k), i };
		qsort(rank, (size_t)m, sizeof(*rank), by_confidence);
		want = (int)floor(val->n * share[k] / sum + 1e-9);
		cut = want <= 0 ? INFINITY : want >= m ? -INFINITY :
		      nextafterf(rank[want - 1].conf, -INFINITY);
		r->thr[k] = threshold_above(r->policy, cut);
		for (i = 0; i < m; i++)
			if (confident(val, r, rank[i].row, k))
				running[rank[i].row] = false;
	}
	r->thr[e - 1] = threshold_above(r->policy, -INFINITY);
}

/* a is a better choice than b: more accurate on val, or as accurate and cheaper. */
static bool better(const struct ee_dyn_result *a, const struct ee_dyn_result *b)
{
	return a->accuracy > b->accuracy ||
	       (a->accuracy == b->accuracy && a->macs_mean < b->macs_mean);
}

static int budget_check(const struct ee_trace *val, const struct ee_trace *test, double budget,
			struct ee_err *err)
{
	if (strcmp(val->ckpt_sha256, test->ckpt_sha256))
		return ee_err_set(err, EE_ERR_INPUT, "the validation and test traces come from "
				  "different checkpoints (sha256 %.12s... and %.12s...)",
				  val->ckpt_sha256, test->ckpt_sha256);
	if (val->nexits != test->nexits || val->num_classes != test->num_classes)
		return ee_err_set(err, EE_ERR_INPUT, "the validation trace has %d exits and %d "
				  "classes, the test trace %d and %d", val->nexits,
				  val->num_classes, test->nexits, test->num_classes);
	if (val->n < 1 || test->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "the %s trace has no samples",
				  val->n < 1 ? "validation" : "test");
	if (!(budget > 0))
		return ee_err_set(err, EE_ERR_USAGE, "a budget must be a positive number of MACs");
	return EE_OK;
}

int ee_budget(const struct ee_trace *val, const struct ee_trace *test, enum ee_policy p,
	      double budget, struct ee_exit_rule *rule, struct ee_dyn_result *on_val,
	      struct ee_dyn_result *on_test, struct ee_err *err)
{
	bool patient = p == EE_POLICY_PATIENCE, found = false;
	int ncand = patient ? val->nexits : 40, c, rc;
	struct ranked *rank = NULL;
	bool *running = NULL;
	double cheapest = INFINITY;
	char si_budget[32], si_cheapest[32];

	if ((rc = budget_check(val, test, budget, err)) < 0)
		return rc;
	rank = malloc((size_t)val->n * sizeof(*rank));
	running = malloc((size_t)val->n * sizeof(*running));
	if (!rank || !running) {
		free(rank);
		free(running);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d samples", val->n);
	}
	for (c = 0; c < ncand; c++) {
		struct ee_exit_rule r;
		struct ee_dyn_result res;

		ee_rule_global(&r, p, EE_FALLBACK_LAST, c);
		if (!patient)
			msdnet_thresholds(val, c + 1, &r, rank, running);
		ee_simulate(val, &r, &res, NULL);
		cheapest = fmin(cheapest, res.macs_mean);
		if (res.macs_mean <= budget && (!found || better(&res, on_val))) {
			*rule = r;
			*on_val = res;
			found = true;
		}
	}
	free(rank);
	free(running);
	if (!found)
		return ee_err_set(err, EE_ERR_INPUT, "none fits: no thresholds meet a budget of %s MACs "
				  "per sample: the cheapest choice needs %s on the validation trace",
				  ee_fmt_si(si_budget, sizeof(si_budget), budget),
				  ee_fmt_si(si_cheapest, sizeof(si_cheapest), cheapest));
	ee_simulate(test, rule, on_test, NULL);
	return EE_OK;
}

/* ---------------------------------------------------------------- gates */

/* Mean, std (over n) and histogram of the open fractions of layer g. */
static void gate_moments(const struct ee_trace *t, int g, const double *frac,
			 struct ee_gate_stats *s)
{
	int c = t->gated[g].channels, i;
	double sum = 0, sq = 0;

	for (i = 0; i < t->n; i++)
		sum += frac[i];
	s->mean = sum / t->n;
	for (i = 0; i < t->n; i++)
		sq += (frac[i] - s->mean) * (frac[i] - s->mean);
	s->std = sqrt(sq / t->n);
	for (i = 0; i < t->n; i++) {
		long open = t->open[(size_t)i * t->ngated + g];
		long bin = open * EE_GATE_BINS / c; /* exact: no rounding at bin edges */

		s->hist[bin < 0 ? 0 : bin >= EE_GATE_BINS ? EE_GATE_BINS - 1 : bin]++;
	}
}

/* mean[j] (count[j]) = mean (number) of frac[i] over the samples with group(i) = j, for
 * j in 0..ngroups-1 (others left out); NAN where there are none. */
static void group_means(const double *frac, int n, const int *group, int ngroups, double *mean,
			long *count)
{
	int i, j;

	for (j = 0; j < ngroups; j++)
		mean[j] = count[j] = 0;
	for (i = 0; i < n; i++)
		if (group[i] >= 0 && group[i] < ngroups) {
			mean[group[i]] += frac[i];
			count[group[i]]++;
		}
	for (j = 0; j < ngroups; j++)
		mean[j] = count[j] ? mean[j] / count[j] : NAN;
}

/* Channels of layer g whose gate opened for every sample (always) or none (never). */
static void gate_channels(const struct ee_trace *t, int g, struct ee_gate_stats *s)
{
	int c, channels = t->gated[g].channels, i;

	for (c = 0; c < channels; c++) {
		long open = 0;

		for (i = 0; i < t->n; i++)
			open += t->bits[g][(size_t)i * channels + c] != 0;
		if (open == t->n)
			s->always[s->always_open++] = c;
		else if (open == 0)
			s->never[s->never_open++] = c;
	}
	s->ring_macs_never = s->never_open * t->gated[g].ring_macs;
	s->ring_macs_always = s->always_open * t->gated[g].ring_macs;
}

int ee_gate_stats(const struct ee_trace *t, int g, const int *taken, struct ee_gate_stats *s,
		  struct ee_err *err)
{
	int k = t->num_classes, channels, i;
	double *frac = NULL;
	int *label = NULL;
	long *class_n = NULL;

	memset(s, 0, sizeof(*s));
	if (g < 0 || g >= t->ngated)
		return ee_err_set(err, EE_ERR_USAGE, "no EMG layer %d (the trace has %d)", g,
				  t->ngated);
	channels = t->gated[g].channels;
	if (t->n < 1 || channels < 1)
		return ee_err_set(err, EE_ERR_INPUT, "EMG layer '%s': %d samples of %d channels",
				  t->gated[g].name ? t->gated[g].name : "?", t->n, channels);
	frac = malloc((size_t)t->n * sizeof(*frac));
	label = malloc((size_t)t->n * sizeof(*label));
	class_n = malloc((size_t)k * sizeof(*class_n));
	s->by_class = malloc((size_t)k * sizeof(*s->by_class));
	s->always = malloc((size_t)channels * sizeof(*s->always));
	s->never = malloc((size_t)channels * sizeof(*s->never));
	if (frac && label && class_n && s->by_class && s->always && s->never) {
		for (i = 0; i < t->n; i++) {
			frac[i] = (double)t->open[(size_t)i * t->ngated + g] / channels;
			label[i] = t->label[i];
		}
		gate_moments(t, g, frac, s);
		if (taken)
			group_means(frac, t->n, taken, t->nexits + 1, s->by_exit, s->by_exit_n);
		group_means(frac, t->n, label, k, s->by_class, class_n);
		gate_channels(t, g, s);
	} else {
		ee_gate_stats_release(s);
	}
	free(frac);
	free(label);
	free(class_n);
	return s->by_class ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");
}

void ee_gate_stats_release(struct ee_gate_stats *s)
{
	free(s->by_class);
	free(s->always);
	free(s->never);
	s->by_class = NULL;
	s->always = s->never = NULL;
}
