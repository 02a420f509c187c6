/*
 * cmd-eval.c - `eeprof eval CKPT --data SPEC`: per-exit accuracy and MACs on a
 * dataset, plus the ensemble (mean of the exits' softmax).
 *
 * It is one profile pass (plugins/profile_dist.h) whose trace is summed up and not kept:
 * under mpirun or srun the samples are shared out over the ranks and rank 0 prints.
 *
 * JSON (--json): exits[] with accuracy (a fraction), correct, macs_mean
 * (standalone, executed) and macs_cascade_mean; ensemble.accuracy; and timing:
 * inference_seconds (the inference loop alone, loading excluded, summed over the ranks;
 * the median of the --repeat runs, after --warmup untimed ones), images_per_second (from
 * it), repeat, warmup and spread {runs, median, min, max, iqr, values[]} of the runs'
 * seconds, ranks and rank_seconds (each rank's wall time in the last run). With
 * --skip-bad, skipped {count, files[] (the first 3)} after samples.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "plugins/dist.h"
#include "plugins/profile_dist.h"
#include "reports/analysis.h"
#include "reports/json.h"
#include "plugins/rows.h"
#include "reports/spread.h"
#include "reports/table.h"

static const char synopsis[] =
	"eeprof eval <checkpoint.h5> --data <spec> [--json] [--limit <n>] [--offset <n>] "
	"[--batch <n>] [--threads <n>] [--repeat <n>] [--warmup <n>] [--resize <s>] "
	"[--interpolation <i>] [--no-resize]";

/* Seconds of the timed runs and what they say together. */
struct timing {
	double v[EE_REPEAT_MAX];
	int warmup;
	struct ee_spread s;
};

static void progress(void *ctx, long done, long total)
{
	(void)ctx;
	ee_cli_progress("eval", done, total);
}

/* Correct answers among n from an accuracy that was computed as correct / n. */
static long correct_of(double accuracy, int n)
{
	return lround(accuracy * n);
}

/* "ranks": P and "rank_seconds": each rank's wall time [P], when the trace records them. */
static void json_ranks(struct ee_json *j, const struct ee_trace *t)
{
	if (t->ranks < 1)
		return;
	ee_json_int(j, "ranks", t->ranks);
	ee_json_nums(j, "rank_seconds", t->rank_seconds, t->ranks);
}

static void print_json(const struct ee_trace *t, const struct ee_exit_stats *st,
		       const struct timing *tm, const struct ee_skipped *skipped)
{
	struct ee_json j;
	int k;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "checkpoint", t->checkpoint);
	ee_json_str(&j, "arch", t->arch);
	ee_json_str(&j, "data", t->data);
	ee_json_int(&j, "samples", t->n);
	ee_cli_json_skipped(&j, skipped);
	ee_json_begin(&j, "exits", '[');
	for (k = 0; k < t->nexits; k++) {
		ee_json_begin(&j, NULL, '{');
		ee_json_int(&j, "exit", k + 1);
		ee_json_num(&j, "accuracy", st->accuracy[k]);
		ee_json_int(&j, "correct", correct_of(st->accuracy[k], t->n));
		ee_json_num(&j, "macs_mean", st->macs_mean[k]);
		ee_json_num(&j, "macs_cascade_mean", st->cascade_mean[k]);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	ee_json_begin(&j, "ensemble", '{');
	ee_json_num(&j, "accuracy", st->ensemble_accuracy);
	ee_json_int(&j, "correct", correct_of(st->ensemble_accuracy, t->n));
	ee_json_end(&j);
	ee_json_begin(&j, "timing", '{');
	ee_json_num(&j, "inference_seconds", tm->s.median);
	ee_json_num(&j, "images_per_second", t->n / tm->s.median);
	ee_json_int(&j, "repeat", tm->s.n);
	ee_json_int(&j, "warmup", tm->warmup);
	ee_json_spread(&j, "spread", &tm->s, tm->v);
	json_ranks(&j, t);
	ee_json_end(&j);
	ee_json_end(&j);
}

static void print_text(const struct ee_trace *t, const struct ee_exit_stats *st,
		       const struct timing *tm)
{
	static const char *const head[] = { "exit", "accuracy", "correct", "MACs mean",
					    "MACs cascade" };
	struct ee_table tab;
	char a[32], b[32];
	int k;

	printf("data        %s (%d samples)\n\n", t->data, t->n);
	ee_table_init(&tab, 5, head);
	for (k = 0; k < t->nexits; k++)
		ee_table_rowf(&tab, "%d\t%.4f\t%ld\t%s\t%s", k + 1, st->accuracy[k],
			      correct_of(st->accuracy[k], t->n),
			      ee_fmt_si(a, sizeof(a), st->macs_mean[k]),
			      ee_fmt_si(b, sizeof(b), st->cascade_mean[k]));
	ee_table_rowf(&tab, "ensemble\t%.4f\t%ld\t\t", st->ensemble_accuracy,
		      correct_of(st->ensemble_accuracy, t->n));
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
	printf("\ninference   %.2f s, %.0f images/s", tm->s.median, t->n / tm->s.median);
	if (tm->s.n > 1)
		printf(" (median of %d runs: %.2f-%.2f s, IQR %.3f s)", tm->s.n, tm->s.min,
		       tm->s.max, tm->s.q3 - tm->s.q1);
	putchar('\n');
	if (t->ranks > 1)
		printf("ranks       %d\n", t->ranks);
}

struct eval_opts {
	const char *data;
	bool json;
	int limit, offset, batch, threads, repeat, warmup;
	struct ee_cli_images img;
};

/* --warmup untimed passes, then --repeat timed ones, each over every selected sample and
 * shared out over the ranks of an MPI job; the statistics of the last one's trace. */
static int evaluate(const char *ckpt, const struct eval_opts *o, struct ee_err *err)
{
	struct ee_profile_opts po = { .batch = o->batch, .threads = o->threads,
				      .offset = o->offset, .limit = o->limit };
	struct ee_profile_dist_info info;
	struct timing tm = { .warmup = o->warmup };
	struct ee_exit_stats st;
	struct ee_skipped skipped = { 0 };
	struct ee_trace t = { 0 };
	int i, rc = EE_OK;

	if ((rc = ee_cli_images(&o->img, &po.prep, err)) < 0)
		return rc;
	po.skipped = o->img.skip_bad ? &skipped : NULL;
	if (ee_cli_tty())
		po.progress = progress;
	for (i = 0; rc == EE_OK && i < o->warmup + o->repeat; i++) {
		ee_trace_release(&t);
		rc = ee_profile_dist(ckpt, o->data, &po, &t, &info, err);
		if (rc == EE_OK && i >= o->warmup)
			tm.v[i - o->warmup] = t.seconds;
	}
	if (rc < 0)
		return rc;
	if (ee_dist_rank() == 0) {
		ee_cli_warn_skipped(&skipped);
		ee_spread_of(tm.v, o->repeat, &tm.s);
		ee_exit_stats(&t, &st);
		if (o->json)
			print_json(&t, &st, &tm, po.skipped);
		else
			print_text(&t, &st, &tm);
	}
	ee_trace_release(&t);
	return EE_OK;
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
	struct eval_opts o = { .batch = 64, .threads = 1, .repeat = 1 };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		EE_OPT_JSON(&o.json),
		EE_OPTS_SAMPLES(&o),
		EE_OPT_REPEAT(&o.repeat, "1"),
		EE_OPT_WARMUP(&o.warmup),
		EE_OPT_IMAGES(&o.img),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
