/*
 * cmd-profile.c - `eeprof profile CKPT --data SPEC -o TRACE.h5`: one inference
 * pass over a dataset, or over the shard --offset/--limit of it, into a trace
 * (reports/trace.h) that every analysis reads without running the model again.
 * Under mpirun or srun the samples are shared out over the ranks and rank 0 alone writes
 * the trace (plugins/profile_dist.h); the summary then shows each rank's wall time and
 * what gathering the trace cost.
 *
 * stdout gets a short summary (samples, time, per-exit accuracy and MACs); a
 * progress bar goes to stderr when it is a terminal. The trace is written under
 * a temporary name and renamed into place, so a failure or a signal leaves no
 * file under the name asked for.
 *
 * Every layer's wall time is recorded. --counters (the spec of `run`, plugins/counters.h)
 * also counts every layer: CPU time and the PAPI events asked for go into /timing of
 * the trace. The default is none (times only): the trace is for analyses, and PAPI's
 * default set would only warn on machines without a PMU; `--counters default` asks
 * for it. `off` records no CPU time either (no hooks: the trace of older eeprofs).
 * Events that cannot be counted are warned about once each on stderr, as `run` does,
 * and kept in the trace with the reason.
 */
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "plugins/counters.h"
#include "plugins/dist.h"
#include "plugins/profile_dist.h"
#include "reports/analysis.h"
#include "reports/table.h"
#include "reports/timeline.h"

static const char synopsis[] =
	"eeprof profile <checkpoint.h5> --data <spec> (-o | --output) <trace.h5> [--softmax] "
	"[--no-logits] [--timeline <file.json>] [--counters <events>] [--limit <n>] [--offset <n>] "
	"[--batch <n>] [--threads <n>] [--resize <s>] [--interpolation <i>] [--no-resize]";

/* Opens the set a --counters spec names into c and points o at it; "off": none. */
static int open_counters(struct ee_counters *c, const char *spec, struct ee_profile_opts *o,
			 struct ee_err *err)
{
	int rc;

	o->counters = NULL;
	if (spec && !strcmp(spec, "off"))
		return EE_OK;
	if ((rc = ee_counters_open(c, spec ? spec : "none", err)) < 0)
		return rc;
	ee_cli_warn_counters(c, 0);
	o->counters = c;
	return EE_OK;
}

static void progress(void *ctx, long done, long total)
{
	(void)ctx;
	ee_cli_progress("profile", done, total);
}

/* With several ranks: each one's wall time and what putting the trace together cost. */
static void print_ranks(const struct ee_trace *t, const struct ee_profile_dist_info *info)
{
	int r;

	if (t->ranks < 2)
		return;
	printf("ranks       %d, wall s:", t->ranks);
	for (r = 0; r < t->ranks; r++)
		printf(" %.3f", t->rank_seconds[r]);
	printf("\ngather      %zu bytes, %.4f s (rank 0 waited %.4f s for the others)\n",
	       info->bytes, info->gather_seconds, info->wait_seconds);
}

static void print_summary(const struct ee_trace *t, const char *output,
			  const struct ee_profile_dist_info *info)
{
	static const char *const head[] = { "exit", "accuracy", "MACs mean", "MACs cascade" };
	struct ee_exit_stats st;
	struct ee_table tab;
	char a[32], b[32];
	int k;

	printf("profiled    %d samples of '%s' (from %d of %d) in %.2f s, %.0f images/s\n", t->n,
	       t->data, t->index[0], t->dataset_size, t->seconds,
	       t->seconds > 0 ? t->n / t->seconds : 0.0);
	print_ranks(t, info);
	ee_exit_stats(t, &st);
	ee_table_init(&tab, 4, head);
	for (k = 0; k < t->nexits; k++)
		ee_table_rowf(&tab, "%d\t%.4f\t%s\t%s", k + 1, st.accuracy[k],
			      ee_fmt_si(a, sizeof(a), st.macs_mean[k]),
			      ee_fmt_si(b, sizeof(b), st.cascade_mean[k]));
	ee_table_rowf(&tab, "ensemble\t%.4f\t\t", st.ensemble_accuracy);
	putchar('\n');
	ee_table_print(&tab, stdout, false);
	ee_table_release(&tab);
	printf("\ntrace       %s\n", output);
}

/* The timeline of the pass, its process named after the model. */
static int write_timeline(const struct ee_timeline *tl, const struct ee_trace *t,
			  const char *path, struct ee_err *err)
{
	char name[256], process[300];
	const char *names[1] = { process };

	snprintf(process, sizeof(process), "eeprof profile %s",
		 ee_cli_model_name(t, name, sizeof(name)));
	return ee_timeline_write(&tl, names, 1, path, err);
}

struct profile_cmd {
	struct ee_profile_opts o;
	const char *data, *output, *counters, *timeline;
	struct ee_cli_images img;
};

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct profile_cmd *p = ctx;
	struct ee_timeline tl = { 0 };
	struct ee_counters c = { 0 };
	struct ee_profile_dist_info info;
	struct ee_skipped skipped = { 0 };
	struct ee_trace t;
	int nwarn, rc;

	(void)npos;
	if (!p->data || !p->output)
		return ee_err_set(err, EE_ERR_USAGE, "--data and --output are required%s",
				  hint(synopsis));
	if ((rc = ee_cli_images(&p->img, &p->o.prep, err)) < 0)
		return rc;
	p->o.skipped = p->img.skip_bad ? &skipped : NULL;
	ee_cli_threads(p->o.threads);
	if (ee_cli_tty())
		p->o.progress = progress;
	/* (agreed: a node of a cluster may lack what another has) */
	if ((rc = ee_dist_agree(open_counters(&c, p->counters, &p->o, err), err)) < 0) {
		ee_counters_close(&c);
		return rc;
	}
	nwarn = c.nwarn;
	if (p->timeline)
		p->o.timeline = &tl;
	rc = ee_profile_dist(pos[0], p->data, &p->o, &t, &info, err);
	ee_cli_warn_counters(&c, nwarn);
	ee_counters_close(&c);
	if (rc < 0) {
		ee_timeline_release(&tl);
		return rc;
	}
	/* the other ranks hold nothing and write nothing; the timeline is rank 0's shard */
	if (p->timeline && ee_dist_rank() == 0)
		rc = write_timeline(&tl, &t, p->timeline, err);
	ee_timeline_release(&tl);
	if (rc == EE_OK && ee_dist_rank() == 0)
		rc = ee_trace_write(&t, p->output, err);
	if (rc == EE_OK && ee_dist_rank() == 0) {
		ee_cli_warn_skipped(&skipped);
		print_summary(&t, p->output, &info);
		if (p->timeline)
			printf("timeline    %s\n", p->timeline);
	}
	ee_trace_release(&t);
	return rc;
}

int cmd_profile(int argc, char **argv)
{
	struct profile_cmd p = { .o = { .batch = 64, .threads = 1 } };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &p.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		{ "output", EE_OPT_FILE, &p.output, "<file>", "trace to write", 0, 0 },
		{ "softmax", EE_OPT_FLAG, &p.o.softmax, NULL, "also keep every exit's full softmax",
		  0, 0 },
		{ "no-logits", EE_OPT_FLAG, &p.o.no_logits, NULL, "do not keep the exits' logits "
		  "(a smaller trace; calibration then has no Brier score, NLL or temperatures)",
		  0, 0 },
		{ "timeline", EE_OPT_FILE, &p.timeline, "<file.json>", "write a per-layer timeline of "
		  "the pass (Chrome trace events: chrome://tracing, Perfetto)", 0, 0 },
		EE_OPT_COUNTERS(&p.counters),
		EE_OPT_LIMIT_HELP(&p.o.limit, "at most n samples (a shard; default: all)"),
		EE_OPT_OFFSET(&p.o.offset),
		EE_OPT_BATCH(&p.o.batch),
		EE_OPT_THREADS(&p.o.threads),
		EE_OPT_IMAGES(&p.img),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &p);
}
