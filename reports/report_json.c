/*
 * report_json.c - report.json (canonical, deterministic) and timing.json (time and
 * counters), and the parts of report.json other commands print; schemas in report.h.
 */
#include "report.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "report_extra.h"
#include "spread.h"

void ee_report_json_shares(struct ee_json *j, const struct ee_dyn_result *d, int nexits, long n,
			   unsigned flags)
{
	int k;

	ee_json_begin(j, "exit_share", '[');
	for (k = 0; k < nexits; k++)
		ee_json_num(j, NULL, (double)d->exits[k] / n);
	ee_json_end(j);
	ee_json_num(j, "fallback_share", (double)d->exits[nexits] / n);
	if (!(flags & EE_REPORT_JSON_COUNTS))
		return;
	ee_json_begin(j, "exit_count", '[');
	for (k = 0; k < nexits; k++)
		ee_json_int(j, NULL, d->exits[k]);
	ee_json_end(j);
	ee_json_int(j, "fallback_count", d->exits[nexits]);
}

void ee_report_json_exits(struct ee_json *j, const struct ee_report_model *m, unsigned flags)
{
	int k;

	ee_json_begin(j, "exits", '[');
	for (k = 0; k < m->nexits; k++) {
		ee_json_begin(j, NULL, '{');
		ee_json_int(j, "exit", k + 1);
		ee_json_num(j, "accuracy", m->stats.accuracy[k]);
		ee_json_num(j, "macs_mean", m->stats.macs_mean[k]);
		ee_json_num(j, "macs_cascade_mean", m->stats.cascade_mean[k]);
		if (flags & EE_REPORT_JSON_RANGES) {
			ee_json_num(j, "macs_min", m->exit_macs[0][k]);
			ee_json_num(j, "macs_max", m->exit_macs[1][k]);
			ee_json_num(j, "macs_cascade_min", m->exit_macs[2][k]);
			ee_json_num(j, "macs_cascade_max", m->exit_macs[3][k]);
			if (m->class_n) /* analysed for a report */
				ee_report_json_calibration(j, m, k);
		}
		ee_json_end(j);
	}
	ee_json_end(j);
	ee_json_begin(j, "ensemble", '{');
	ee_json_num(j, "accuracy", m->stats.ensemble_accuracy);
	ee_json_num(j, "macs_mean", m->stats.ensemble_macs);
	ee_json_end(j);
}

void ee_report_json_curve(struct ee_json *j, const struct ee_report_model *m, unsigned flags)
{
	int i, f;

	ee_json_begin(j, "curve", '[');
	for (i = 0; i < m->ncurve; i++) {
		ee_json_begin(j, NULL, '{');
		ee_json_num(j, "threshold", m->curve[i].threshold);
		ee_json_num(j, "accuracy", m->curve[i].accuracy);
		ee_json_num(j, "macs_mean", m->curve[i].macs_mean);
		ee_report_json_shares(j, &m->curve[i], m->nexits, m->n, flags);
		ee_json_end(j);
	}
	ee_json_end(j);
	ee_json_begin(j, "budget_table", '[');
	for (f = 0; f < EE_REPORT_NFRAC; f++) {
		const struct ee_report_point *pt = &m->table[f];
		const struct ee_dyn_result *d = pt->index >= 0 ? &m->curve[pt->index] : NULL;

		ee_json_begin(j, NULL, '{');
		ee_json_num(j, "fraction", ee_report_fractions[f]);
		ee_json_num(j, "budget_macs", pt->budget);
		ee_json_bool(j, "feasible", d != NULL);
		if (d) { /* none fits: "feasible": false, and no point (as budgets[]) */
			ee_json_num(j, "accuracy", d->accuracy);
			ee_json_num(j, "threshold", d->threshold);
			ee_json_num(j, "macs_mean", d->macs_mean);
		}
		ee_json_end(j);
	}
	ee_json_end(j);
}

static void json_gates(struct ee_json *j, const struct ee_report_model *m)
{
	int g, b;

	ee_json_begin(j, "gates", '[');
	for (g = 0; g < m->ngates; g++) {
		const struct ee_report_gate *rg = &m->gates[g];

		ee_json_begin(j, NULL, '{');
		ee_json_str(j, "layer", rg->layer);
		ee_json_int(j, "exit", rg->exit);
		ee_json_int(j, "channels", rg->channels);
		ee_json_num(j, "open_ratio", rg->s.mean);
		ee_json_num(j, "std", rg->s.std);
		ee_json_begin(j, "hist", '[');
		for (b = 0; b < EE_GATE_BINS; b++)
			ee_json_int(j, NULL, rg->s.hist[b]);
		ee_json_end(j);
		ee_json_int(j, "always_open", rg->s.always_open);
		ee_json_int(j, "never_open", rg->s.never_open);
		ee_json_num(j, "ring_macs_never", rg->s.ring_macs_never);
		ee_json_num(j, "ring_macs_always", rg->s.ring_macs_always);
		ee_report_json_gate_difficulty(j, m, g);
		ee_json_end(j);
	}
	ee_json_end(j);
}

/* A dynamic-exit result as an object {accuracy, macs_mean, exit_share, fallback_share}. */
static void json_result(struct ee_json *j, const char *key, const struct ee_dyn_result *d,
			int nexits, long n)
{
	ee_json_begin(j, key, '{');
	ee_json_num(j, "accuracy", d->accuracy);
	ee_json_num(j, "macs_mean", d->macs_mean);
	ee_report_json_shares(j, d, nexits, n, 0);
	ee_json_end(j);
}

static void json_budgets(struct ee_json *j, const struct ee_report_model *m, int val_n)
{
	int f;

	ee_json_begin(j, "budgets", '[');
	for (f = 0; f < EE_REPORT_NFRAC; f++) {
		const struct ee_report_budget *b = &m->budgets[f];

		ee_json_begin(j, NULL, '{');
		ee_json_num(j, "fraction", ee_report_fractions[f]);
		ee_json_num(j, "budget_macs", b->budget);
		ee_json_bool(j, "feasible", b->feasible);
		if (b->feasible) {
			ee_json_nums(j, "thresholds", b->rule.thr, m->nexits);
			json_result(j, "val", &b->val, m->nexits, val_n);
			json_result(j, "test", &b->test, m->nexits, m->n);
		}
		ee_json_end(j);
	}
	ee_json_end(j);
}

/* The --threshold rule applied: every exit's threshold (patience: its one number) and
 * the result. */
static void json_rule(struct ee_json *j, const struct ee_report_model *m)
{
	ee_json_begin(j, "rule", '{');
	ee_json_nums(j, "thresholds", m->rule.thr,
		     m->rule.policy == EE_POLICY_PATIENCE ? 1 : m->nexits);
	ee_json_num(j, "accuracy", m->applied.accuracy);
	ee_json_num(j, "macs_mean", m->applied.macs_mean);
	ee_report_json_shares(j, &m->applied, m->nexits, m->n, 0);
	ee_json_end(j);
}

void ee_report_json(const struct ee_report *r, FILE *f)
{
	struct ee_json j;
	int i;

	ee_json_init(&j, f);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "data", r->data);
	ee_json_int(&j, "samples", r->samples);
	ee_json_str(&j, "labels_hash", r->labels_hash);
	ee_json_str(&j, "policy", ee_policy_name(r->policy));
	ee_json_str(&j, "fallback", ee_fallback_name(r->fallback));
	if (r->val_data[0]) {
		ee_json_str(&j, "val_data", r->val_data);
		ee_json_int(&j, "val_samples", r->val_samples);
	}
	ee_json_begin(&j, "models", '[');
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		ee_json_begin(&j, NULL, '{');
		ee_json_str(&j, "name", m->name);
		ee_json_str(&j, "arch", m->arch);
		ee_json_str(&j, "checkpoint_sha256", m->sha256);
		ee_json_int(&j, "num_classes", m->num_classes);
		ee_report_json_exits(&j, m, EE_REPORT_JSON_RANGES);
		ee_report_json_curve(&j, m, 0);
		if (m->ngates)
			json_gates(&j, m);
		if (m->has_val)
			json_budgets(&j, m, r->val_samples);
		if (m->has_rule)
			json_rule(&j, m);
		ee_report_json_extra(&j, m);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	ee_json_end(&j);
}

/* ---- timing.json ---- */

static void json_cost(struct ee_json *j, const struct ee_report_model *m,
		      const struct ee_report_cost *c)
{
	const struct ee_trace_counters *tc = &m->counters;
	int k;

	ee_json_num(j, "macs_mean", c->macs);
	ee_json_num(j, "seconds", c->seconds);
	ee_json_num(j, "us_per_sample", 1e6 * c->seconds / m->n);
	ee_json_num(j, "gflops", c->gflops);
	ee_json_num(j, "cpu_seconds", c->cpu_seconds);
	ee_json_num(j, "ipc", c->ipc);
	ee_json_begin(j, "events", '{');
	for (k = 0; k < tc->n; k++)
		ee_json_num(j, tc->names[k], c->events[k]);
	ee_json_end(j);
	ee_json_begin(j, "cache_misses_per_sample", '{');
	for (k = 0; k < tc->n; k++)
		if (ee_event_is_miss(tc->names[k]))
			ee_json_num(j, tc->names[k], c->events[k] / m->n);
	ee_json_end(j);
}

static void json_counters(struct ee_json *j, const struct ee_trace_counters *c)
{
	ee_json_begin(j, "counters", '{');
	ee_json_bool(j, "cpu_time", c->counted);
	ee_json_bool(j, "counted", c->counted && c->n > 0);
	ee_json_strs(j, "events", c->names, c->n);
	ee_json_strs(j, "warnings", c->warn, c->nwarn);
	ee_json_end(j);
}

static void json_exit_costs(struct ee_json *j, const struct ee_report_model *m)
{
	struct ee_report_cost c;
	int k;

	ee_json_begin(j, "exits", '[');
	for (k = 0; k < m->nexits; k++) {
		ee_report_exit_cost(m, k, &c);
		ee_json_begin(j, NULL, '{');
		ee_json_int(j, "exit", k + 1);
		ee_json_int(j, "layers", c.layers);
		json_cost(j, m, &c);
		ee_json_end(j);
	}
	ee_json_end(j);
}

static void json_layers(struct ee_json *j, const struct ee_report_model *m)
{
	struct ee_report_cost c;
	int i;

	ee_json_begin(j, "layers", '[');
	for (i = 0; i < m->nlayers; i++) {
		const struct ee_trace_layer *l = &m->layers[i];

		ee_report_layer_cost(m, i, &c);
		ee_json_begin(j, NULL, '{');
		ee_json_str(j, "name", l->name);
		ee_json_str(j, "kind", l->kind);
		ee_json_int(j, "exit", l->exit);
		ee_json_bool(j, "head", l->head);
		json_cost(j, m, &c);
		ee_json_end(j);
	}
	ee_json_end(j);
}

/* repeat, warmup and the spread of m's timed passes, if it has them. */
static void json_runs(struct ee_json *j, const struct ee_report_model *m)
{
	struct ee_spread s;

	if (!m->runs || m->nruns < 1)
		return;
	ee_spread_of(m->runs, m->nruns, &s);
	ee_json_int(j, "repeat", m->nruns);
	ee_json_int(j, "warmup", m->warmup);
	ee_json_spread(j, "spread", &s, m->runs);
}

void ee_report_timing(const struct ee_report *r, FILE *f)
{
	struct ee_json j;
	int i;

	ee_json_init(&j, f);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	if (r->wall_seconds > 0)
		ee_json_num(&j, "wall_seconds", r->wall_seconds);
	if (r->ranks > 0) {
		ee_json_int(&j, "ranks", r->ranks);
		ee_json_nums(&j, "rank_seconds", r->rank_seconds, r->ranks);
	}
	ee_json_begin(&j, "models", '[');
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		ee_json_begin(&j, NULL, '{');
		ee_json_str(&j, "name", m->name);
		ee_json_str(&j, "arch", m->arch);
		ee_json_int(&j, "samples", m->n);
		ee_json_num(&j, "seconds", m->seconds);
		ee_json_num(&j, "images_per_second", m->seconds > 0 ? m->n / m->seconds : NAN);
		ee_json_int(&j, "threads", m->threads);
		ee_json_int(&j, "batch", m->batch);
		json_runs(&j, m);
		json_counters(&j, &m->counters);
		json_exit_costs(&j, m);
		json_layers(&j, m);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	ee_json_end(&j);
}
