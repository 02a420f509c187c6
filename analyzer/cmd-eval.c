/*
 * cmd-eval.c - `eeprof eval CKPT --data SPEC`: per-exit accuracy and MACs on a
 * dataset, plus the ensemble (mean of the exits' softmax).
 *
 * JSON (--json): exits[] with accuracy (a fraction), correct, macs_mean
 * (standalone, executed) and macs_cascade_mean; ensemble.accuracy; and timing:
 * inference_seconds (the inference loop alone, loading excluded; the median of the
 * --repeat runs, after --warmup untimed ones), images_per_second (from it), repeat,
 * warmup and spread {runs, median, min, max, iqr, values[]} of the runs' seconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "core/exec.h"
#include "plugins/loop.h"
#include "reports/json.h"
#include "plugins/rows.h"
#include "reports/spread.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof eval <checkpoint.h5> --data <spec> [--json] [--limit <n>] [--offset <n>] "
	"[--batch <n>] [--threads <n>] [--repeat <n>] [--warmup <n>]";

struct tally {
	const struct ee_dataset *ds;
	int e, k;
	long n;
	long correct[EE_MAX_EXITS];
	long ens_correct;
	double macs[EE_MAX_EXITS], cascade[EE_MAX_EXITS];
	float *prob;      /* [k] softmax scratch */
	double *ens;      /* [k] summed softmax */
	long total;       /* samples to run, for the progress bar */
};

static int tally_batch(void *ctx, const struct ee_run *r, int first, struct ee_err *err)
{
	struct tally *t = ctx;
	int i, k, c, best;

	(void)err;
	for (i = 0; i < r->n; i++) {
		int label = t->ds->labels[first + i];

		memset(t->ens, 0, (size_t)t->k * sizeof(double));
		for (k = 0; k < t->e; k++) {
			struct ee_tensor out = ee_run_output(r, k);
			int32_t pred;
			float maxprob, entropy, margin;

			ee_softmax_stats(ee_tensor_sample(&out, i), t->k, t->prob, &pred, &maxprob,
					 &entropy, &margin);
			t->correct[k] += pred == label;
			t->macs[k] += ee_run_sample_macs(r, k, i, false);
			t->cascade[k] += ee_run_sample_macs(r, k, i, true);
			for (c = 0; c < t->k; c++)
				t->ens[c] += t->prob[c];
		}
		for (c = 1, best = 0; c < t->k; c++)
			if (t->ens[c] > t->ens[best])
				best = c;
		t->ens_correct += best == label;
	}
	t->n += r->n;
	ee_cli_progress("eval", t->n, t->total);
	return EE_OK;
}

/* Seconds of the timed runs and what they say together. */
struct timing {
	double v[EE_REPEAT_MAX];
	int warmup;
	struct ee_spread s;
};

static void print_json(const struct tally *t, const char *ckpt, const char *arch,
		       const char *data, const struct timing *tm)
{
	struct ee_json j;
	int k;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "checkpoint", ckpt);
	ee_json_str(&j, "arch", arch);
	ee_json_str(&j, "data", data);
	ee_json_int(&j, "samples", t->n);
	ee_json_begin(&j, "exits", '[');
	for (k = 0; k < t->e; k++) {
		ee_json_begin(&j, NULL, '{');
		ee_json_int(&j, "exit", k + 1);
		ee_json_num(&j, "accuracy", (double)t->correct[k] / t->n);
		ee_json_int(&j, "correct", t->correct[k]);
		ee_json_num(&j, "macs_mean", t->macs[k] / t->n);
		ee_json_num(&j, "macs_cascade_mean", t->cascade[k] / t->n);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	ee_json_begin(&j, "ensemble", '{');
	ee_json_num(&j, "accuracy", (double)t->ens_correct / t->n);
	ee_json_int(&j, "correct", t->ens_correct);
	ee_json_end(&j);
	ee_json_begin(&j, "timing", '{');
	ee_json_num(&j, "inference_seconds", tm->s.median);
	ee_json_num(&j, "images_per_second", t->n / tm->s.median);
	ee_json_int(&j, "repeat", tm->s.n);
	ee_json_int(&j, "warmup", tm->warmup);
	ee_json_spread(&j, "spread", &tm->s, tm->v);
	ee_json_end(&j);
	ee_json_end(&j);
}

static void print_text(const struct tally *t, const char *data, const struct timing *tm)
{
	static const char *const head[] = { "exit", "accuracy", "correct", "MACs mean",
					    "MACs cascade" };
	struct ee_table tab;
	char a[32], b[32];
	int k;

	printf("data        %s (%ld samples)\n\n", data, t->n);
	ee_table_init(&tab, 5, head);
	for (k = 0; k < t->e; k++)
		ee_table_rowf(&tab, "%d\t%.4f\t%ld\t%s\t%s", k + 1, (double)t->correct[k] / t->n,
			      t->correct[k], ee_fmt_si(a, sizeof(a), t->macs[k] / t->n),
			      ee_fmt_si(b, sizeof(b), t->cascade[k] / t->n));
	ee_table_rowf(&tab, "ensemble\t%.4f\t%ld\t\t", (double)t->ens_correct / t->n, t->ens_correct);
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
	printf("\ninference   %.2f s, %.0f images/s", tm->s.median, t->n / tm->s.median);
	if (tm->s.n > 1)
		printf(" (median of %d runs: %.2f-%.2f s, IQR %.3f s)", tm->s.n, tm->s.min,
		       tm->s.max, tm->s.q3 - tm->s.q1);
	putchar('\n');
}

struct eval_opts {
	const char *data;
	bool json;
	int limit, offset, batch, threads, repeat, warmup;
};

/* Forgets the counts of a run (each timed run counts the same samples again). */
static void tally_reset(struct tally *t)
{
	memset(t->correct, 0, sizeof(t->correct));
	memset(t->macs, 0, sizeof(t->macs));
	memset(t->cascade, 0, sizeof(t->cascade));
	t->ens_correct = 0;
	t->n = 0;
}

/* --warmup untimed runs, then --repeat timed ones, each over every selected sample. */
static int run_all(struct ee_run *run, const struct ee_net *net, const struct ee_dataset *ds,
		   const struct eval_opts *o, int count, struct tally *t, struct timing *tm,
		   struct ee_err *err)
{
	int i, rc = EE_OK;

	tm->warmup = o->warmup;
	for (i = 0; rc == EE_OK && i < o->warmup + o->repeat; i++) {
		double seconds = 0;

		tally_reset(t);
		rc = ee_loop_dataset(run, net, ds, o->offset, count, tally_batch, t, &seconds, err);
		if (i >= o->warmup)
			tm->v[i - o->warmup] = seconds;
	}
	if (rc == EE_OK)
		ee_spread_of(tm->v, o->repeat, &tm->s);
	return rc;
}

static int evaluate(const char *ckpt, const struct eval_opts *o, struct ee_err *err)
{
	struct ee_dataset ds = { 0 };
	struct tally t = { 0 };
	struct ee_net net;
	struct ee_run run;
	struct timing tm;
	int rc, count;

	if ((rc = ee_dataset_open(&ds, o->data, err)) < 0)
		return rc;
	count = o->limit > 0 && o->limit < ds.n - o->offset ? o->limit : ds.n - o->offset;
	rc = ee_cli_open(ckpt, o->batch, false, &net, &run, err);
	if (rc == EE_OK) {
		t.ds = &ds;
		t.e = net.model.nexits;
		t.k = net.ck.num_classes;
		t.total = count;
		t.prob = malloc((size_t)t.k * sizeof(float));
		t.ens = malloc((size_t)t.k * sizeof(double));
		if (!t.prob || !t.ens)
			rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
		else if (count < 1)
			rc = ee_err_set(err, EE_ERR_USAGE, "no samples selected from '%s'", o->data);
		else
			rc = ee_loop_check_classes(&net, &ds, err);
		if (rc == EE_OK)
			rc = run_all(&run, &net, &ds, o, count, &t, &tm, err);
		if (rc == EE_OK && o->json)
			print_json(&t, ckpt, net.arch->name, o->data, &tm);
		else if (rc == EE_OK)
			print_text(&t, o->data, &tm);
		free(t.prob);
		free(t.ens);
		ee_cli_close(&net, &run);
	}
	ee_dataset_release(&ds);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct eval_opts *o = ctx;

	(void)npos;
	if (!o->data)
		return ee_err_set(err, EE_ERR_USAGE, "--data is required%s", hint(synopsis));
	ee_cli_threads(o->threads);
	return evaluate(pos[0], o, err);
}

int cmd_eval(int argc, char **argv)
{
	struct eval_opts o = { NULL, false, 0, 0, 64, 1, 1, 0 };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		EE_OPT_JSON(&o.json),
		EE_OPTS_SAMPLES(&o),
		EE_OPT_REPEAT(&o.repeat, "1"),
		EE_OPT_WARMUP(&o.warmup),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
