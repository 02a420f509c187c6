/*
 * report_csv.c - the CSV files of a report: exits.csv, curve.csv, gates.csv and
 * budgets.csv; see report.h.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "csv.h"

static int max_exits(const struct ee_report *r)
{
	int i, e = 0;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i].nexits > e)
			e = r->models[i].nexits;
	return e;
}

void ee_report_csv_exits(const struct ee_report *r, FILE *f)
{
	int i, k;

	fprintf(f, "model,exit,accuracy,macs_mean,macs_cascade_mean,macs_min,macs_max\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (k = 0; k < m->nexits; k++) {
			ee_csv_str(f, m->name);
			fprintf(f, ",%d", k + 1);
			ee_csv_num(f, m->stats.accuracy[k]);
			ee_csv_num(f, m->stats.macs_mean[k]);
			ee_csv_num(f, m->stats.cascade_mean[k]);
			ee_csv_num(f, m->exit_macs[0][k]);
			ee_csv_num(f, m->exit_macs[1][k]);
			fputc('\n', f);
		}
		ee_csv_str(f, m->name);
		fputs(",ensemble", f);
		ee_csv_num(f, m->stats.ensemble_accuracy);
		fputs(",", f);
		ee_csv_num(f, m->stats.ensemble_macs);
		fputs(",,\n", f);
	}
}

/* Exit shares as CSV columns, padded to e exits; then the fallback share. */
static void csv_shares(FILE *f, const struct ee_dyn_result *d, int nexits, int e, long n)
{
	int k;

	for (k = 0; k < e; k++)
		ee_csv_num(f, k < nexits ? (double)d->exits[k] / n : NAN);
	ee_csv_num(f, (double)d->exits[nexits] / n);
}

void ee_report_csv_curve(const struct ee_report *r, FILE *f)
{
	int i, j, k, e = max_exits(r);

	fprintf(f, "model,policy,fallback,threshold,accuracy,macs_mean");
	for (k = 0; k < e; k++)
		fprintf(f, ",exit%d_share", k + 1);
	fprintf(f, ",fallback_share\n");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++) {
			ee_csv_str(f, m->name);
			fprintf(f, ",%s,%s", ee_policy_name(r->policy), ee_fallback_name(r->fallback));
			ee_csv_num(f, m->curve[j].threshold);
			ee_csv_num(f, m->curve[j].accuracy);
			ee_csv_num(f, m->curve[j].macs_mean);
			csv_shares(f, &m->curve[j], m->nexits, e, m->n);
			fputc('\n', f);
		}
	}
}

void ee_report_csv_gates(const struct ee_report *r, FILE *f)
{
	int i, g, b;

	fprintf(f, "model,layer,exit,channels,open_ratio,std,always_open,never_open,"
		"ring_macs_never,ring_macs_always");
	for (b = 0; b < EE_GATE_BINS; b++)
		fprintf(f, ",hist%d", b);
	fputc('\n', f);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (g = 0; g < m->ngates; g++) {
			const struct ee_report_gate *rg = &m->gates[g];

			ee_csv_str(f, m->name);
			fputc(',', f);
			ee_csv_str(f, rg->layer);
			fprintf(f, ",%d,%d", rg->exit, rg->channels);
			ee_csv_num(f, rg->s.mean);
			ee_csv_num(f, rg->s.std);
			fprintf(f, ",%d,%d", rg->s.always_open, rg->s.never_open);
			ee_csv_num(f, rg->s.ring_macs_never);
			ee_csv_num(f, rg->s.ring_macs_always);
			for (b = 0; b < EE_GATE_BINS; b++)
				fprintf(f, ",%ld", rg->s.hist[b]);
			fputc('\n', f);
		}
	}
}

void ee_report_csv_budgets(const struct ee_report *r, FILE *f)
{
	int i, b, k, e = max_exits(r);

	fprintf(f, "model,fraction,budget_macs,feasible,val_accuracy,val_macs_mean,"
		"test_accuracy,test_macs_mean");
	for (k = 0; k < e; k++)
		fprintf(f, ",threshold%d", k + 1);
	fputc('\n', f);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (b = 0; m->has_val && b < EE_REPORT_NFRAC; b++) {
			const struct ee_report_budget *bu = &m->budgets[b];
			double no = NAN;

			ee_csv_str(f, m->name);
			ee_csv_num(f, ee_report_fractions[b]);
			ee_csv_num(f, bu->budget);
			fprintf(f, ",%d", bu->feasible);
			ee_csv_num(f, bu->feasible ? bu->val.accuracy : no);
			ee_csv_num(f, bu->feasible ? bu->val.macs_mean : no);
			ee_csv_num(f, bu->feasible ? bu->test.accuracy : no);
			ee_csv_num(f, bu->feasible ? bu->test.macs_mean : no);
			for (k = 0; k < e; k++)
				ee_csv_num(f, bu->feasible && k < m->nexits ? bu->rule.thr[k] : no);
			fputc('\n', f);
		}
	}
}
