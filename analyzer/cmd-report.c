/*
 * cmd-report.c - `eeprof report CKPT... --data SPEC -o DIR`: profile every
 * checkpoint once (or read traces made before, with --traces), run every
 * analysis, and write the report directory (reports/report.h): report.json,
 * report.md, CSVs, timing.json and the PNG/SVG plots drawn by gnuplot.
 *
 * Nothing appears in DIR until every model has been profiled and analysed and
 * every file and plot is complete; then all are renamed into place at once.
 * stdout gets a short summary; a progress bar goes to stderr on a terminal.
 *
 * Before any inference (a second at most) it checks what would make it fail late: the
 * output directory is made (with its parents, as mkdir -p), every checkpoint, dataset and
 * trace opens, and gnuplot draws a PNG and an SVG (unless --no-plots). Directories it
 * made are removed again if the report fails.
 *
 * Models are named by --name (one per checkpoint or trace, comma-separated), else by
 * the file stem of their checkpoint; `eeprof diff` pairs models by these names.
 *
 * --counters counts every layer while profiling, as `eeprof profile --counters` does
 * (default none: CPU time only); one counter set serves every profile, so that an
 * event that cannot be counted is warned about once. timing.json and report.md then
 * show per exit and per layer the time, MACs, GFLOP/s, IPC and cache misses.
 *
 * --repeat N --warmup W profiles the test data W + N times (plugins/profile_repeat.h):
 * timing.json's times are the medians of the N timed passes, with their spread.
 *
 * Under mpirun or srun every profile pass (test and validation data) is shared out over the
 * ranks (plugins/profile_dist.h); rank 0 alone analyses, writes the directory and prints,
 * and timing.json records the ranks and each one's wall time.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "analyzer.h"
#include "checkpoints/ckpt.h"
#include "plugins/counters.h"
#include "plugins/dataset.h"
#include "plugins/dist.h"
#include "plugins/net.h"
#include "plugins/profile_dist.h"
#include "plugins/profile_repeat.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "reports/table.h"
#include "reports/timeline.h"

static const char synopsis[] =
	"eeprof report <checkpoint.h5>... --data <spec> (-o | --output) <dir> [--val <spec>]\n"
	"       [--policy <p>] [--fallback <f>] [--threshold <t>[,<t>...]] [--trace-dir <dir>]\n"
	"       [--no-plots] [--gnuplot <prog>] [--name <name>[,<name>...]] [--counters <events>]\n"
	"       [--limit <n>] [--batch <n>] [--threads <n>] [--repeat <n>] [--warmup <n>]\n"
	"       [--resize <s>] [--interpolation <i>] [--no-resize]\n"
	"   or: eeprof report --traces <trace.h5>... [--val-traces <v1.h5,v2.h5,...>] -o <dir> "
	"[...]\n\n"
	"policies: maxprob, entropy, margin, patience; fallbacks: last, ensemble, best.\n"
	"The sweep covers the policy's thresholds; --threshold also applies one rule (one\n"
	"number, or one per exit) and reports it beside the sweep (report.json's rule).\n"
	"--trace-dir keeps the traces (<name>.h5, <name>.val.h5) for later --traces runs.\n"
	"The gnuplot program is --gnuplot, else $EEPROF_GNUPLOT, else gnuplot from PATH.";

struct report_opts {
	const char *data, *val, *output, *trace_dir, *gnuplot, *val_traces;
	const char *counters, *name_list, *timeline;
	struct ee_cli_rule rule;       /* --policy, --fallback, --threshold as given */
	struct ee_exit_rule parsed;    /* policy and fallback parsed */
	double v[EE_MAX_EXITS];        /* --threshold parsed: [nv], nv = 0 without it */
	int nv;
	const char *names[EE_MAX_POS]; /* the model of argument i (NULL: its checkpoint's stem) */
	struct ee_timeline *tls;  /* --timeline: [checkpoints] one per model's test profile */
	bool traces, no_plots, log_x;
	struct ee_cli_plot_opts look;
	int repeat, warmup; /* timed profile passes of the test data, untimed ones first */
	struct ee_profile_opts profile;
	struct ee_cli_images img;
};

static void progress(void *ctx, long done, long total)
{
	ee_cli_progress(ctx, done, total);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* Writes t to dir/<name><suffix>.h5 (dir made if missing). */
static int keep_trace(const struct ee_trace *t, const char *dir, const char *name,
		      const char *suffix, struct ee_err *err)
{
	char path[4096];

	if (mkdir(dir, 0777) < 0 && access(dir, F_OK) < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot create directory '%s'", dir);
	if (snprintf(path, sizeof(path), "%s/%s%s.h5", dir, name, suffix) >= (int)sizeof(path))
		return ee_err_set(err, EE_ERR_USAGE, "--trace-dir: path is too long");
	return ee_trace_write(t, path, err);
}

/* The trace (and val trace) of model i, runs[o->repeat] the seconds of its timed passes:
 * profiled (shared out over the ranks of an MPI job,
 * whole on rank 0, empty elsewhere; fails on every rank or none, but for writing --trace-dir,
 * rank 0's alone), or read with --traces (rank 0 alone). */
static int traces_of(const struct report_opts *o, int i, const char *arg, const char *given,
		     const char *val_path, struct ee_trace *t, struct ee_trace *v, bool *has_val,
		     double *runs, struct ee_err *err)
{
	char name[256];
	struct ee_profile_opts po = o->profile;
	struct ee_profile_dist_info info;
	struct ee_skipped skipped = { 0 }, val_skipped = { 0 };
	int rc;

	*has_val = false;
	if (o->traces) {
		if ((rc = ee_trace_read(t, arg, err)) < 0)
			return rc;
		if (val_path && (rc = ee_trace_read(v, val_path, err)) < 0) {
			ee_trace_release(t);
			return rc;
		}
		*has_val = val_path != NULL;
		return EE_OK;
	}
	if (given)
		snprintf(name, sizeof(name), "%s", given);
	else
		ee_report_stem(arg, name, sizeof(name));
	po.progress_ctx = name;
	po.skipped = o->img.skip_bad ? &skipped : NULL;
	po.timeline = o->tls ? &o->tls[i] : NULL;
	if ((rc = ee_profile_repeat(arg, o->data, &po, o->repeat, o->warmup, t, runs, err)) < 0)
		return rc;
	po.skipped = o->img.skip_bad ? &val_skipped : NULL;
	po.timeline = NULL; /* the test pass only */
	if (o->val && (rc = ee_profile_dist(arg, o->val, &po, v, &info, err)) < 0) {
		ee_trace_release(t);
		return rc;
	}
	*has_val = o->val != NULL;
	if (ee_dist_rank() == 0) { /* each pass's, the same files for every model */
		ee_cli_warn_skipped(&skipped);
		ee_cli_warn_skipped(&val_skipped);
	}
	if (ee_dist_rank() == 0 && o->trace_dir &&
	    (rc = keep_trace(t, o->trace_dir, name, "", err)) == EE_OK && *has_val)
		rc = keep_trace(v, o->trace_dir, name, ".val", err);
	if (rc < 0) {
		ee_trace_release(t);
		if (*has_val)
			ee_trace_release(v);
	}
	return rc;
}

/* Splits the comma-separated list of option opt in place into out[0..*n). */
static int split_list(const char *opt, char *s, const char **out, int max, int *n,
		      struct ee_err *err)
{
	char *p;

	for (*n = 0, p = s; p; (*n)++) {
		if (*n == max)
			return ee_err_set(err, EE_ERR_USAGE, "--%s: more than %d values", opt, max);
		out[*n] = p;
		if ((p = strchr(p, ',')))
			*p++ = '\0';
	}
	return EE_OK;
}

static int build(struct ee_report *r, const struct report_opts *o, const char *const *args,
		 int nargs, const char *const *vals, struct ee_err *err)
{
	int i, rc = EE_OK;

	for (i = 0; i < nargs && rc == EE_OK; i++) {
		struct ee_trace t, v;
		double runs[EE_REPEAT_MAX];
		bool has_val;

		rc = traces_of(o, i, args[i], o->names[i], vals ? vals[i] : NULL, &t, &v, &has_val,
			       runs, err);
		if (rc == EE_OK) {
			if (ee_dist_rank() == 0 &&
			    (rc = ee_report_add_named(r, &t, has_val ? &v : NULL, o->names[i],
						      err)) == EE_OK && !o->traces)
				rc = ee_report_set_runs(&r->models[r->nmodels - 1], runs, o->repeat,
							o->warmup, err);
			ee_trace_release(&t);
			if (has_val)
				ee_trace_release(&v);
		}
		if (!o->traces) /* profiling is collective: every rank stops at once */
			rc = ee_dist_agree(rc, err);
	}
	return rc;
}

static void print_summary(const struct ee_report *r, const char *dir)
{
	static const char *const head[] = { "model", "arch", "deepest exit", "MACs", "ensemble",
					    "at 50% MACs" };
	char a[32], h[32];
	struct ee_table t;
	int i;

	ee_table_init(&t, 6, head);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		int e = m->nexits - 1, half = m->table[1].index;

		if (half < 0)
			snprintf(h, sizeof(h), "none fits");
		else
			snprintf(h, sizeof(h), "%.4f", m->curve[half].accuracy);
		ee_table_rowf(&t, "%s\t%s\t%.4f\t%s\t%.4f\t%s", m->name, m->arch, m->stats.accuracy[e],
			      ee_fmt_si(a, sizeof(a), m->stats.macs_mean[e]),
			      m->stats.ensemble_accuracy, h);
	}
	ee_table_print(&t, stdout, false);
	ee_table_release(&t);
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		char thr[EE_MAX_EXITS * 24];

		if (m->has_rule)
			printf("%s %s: %s %s, fallback %s: accuracy %.4f at %s MACs\n",
			       i ? "           " : "\nrule       ", m->name,
			       ee_policy_name(m->rule.policy),
			       ee_cli_thresholds_text(&m->rule, m->nexits, thr, sizeof(thr)),
			       ee_fallback_name(m->rule.fallback), m->applied.accuracy,
			       ee_fmt_si(a, sizeof(a), m->applied.macs_mean));
	}
	printf("\nreport      %s/report.md (%d samples of %s, %.1f s)\n", dir, r->samples, r->data,
	       r->wall_seconds);
}

/* --name's list into o->names (in place in a copy, *buf, freed by the caller): one per
 * argument. */
static int name_models(struct report_opts *o, int npos, char **buf, struct ee_err *err)
{
	int n, rc;

	if (!(*buf = strdup(o->name_list)))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = split_list("name", *buf, o->names, EE_MAX_POS, &n, err)) < 0)
		return rc;
	if (n != npos)
		return ee_err_set(err, EE_ERR_USAGE, "--name lists %d names for %d %s", n, npos,
				  o->traces ? "traces" : "checkpoints");
	return EE_OK;
}

/* Checks option combinations; usage errors name what is wrong. */
static int check_opts(const struct report_opts *o, const char *const *pos, int npos,
		      struct ee_err *err)
{
	char a[256], b[256];
	int i, j;

	if (!o->output)
		return ee_err_set(err, EE_ERR_USAGE, "--output is required%s", hint(synopsis));
	if (o->traces && (o->data || o->val || o->trace_dir || o->counters))
		return ee_err_set(err, EE_ERR_USAGE, "--traces reads traces: --data, --val, "
				  "--trace-dir and --counters do not apply%s", hint(synopsis));
	if (o->traces && (o->repeat != 1 || o->warmup))
		return ee_err_set(err, EE_ERR_USAGE, "--traces reads traces: --repeat and --warmup "
				  "time profile passes%s", hint(synopsis));
	if (o->traces && o->timeline)
		return ee_err_set(err, EE_ERR_USAGE, "--timeline records the profiles: not with "
				  "--traces%s", hint(synopsis));
	if (!o->traces && !o->data)
		return ee_err_set(err, EE_ERR_USAGE, "--data is required%s", hint(synopsis));
	if (!o->traces && o->val_traces)
		return ee_err_set(err, EE_ERR_USAGE, "--val-traces goes with --traces%s",
				  hint(synopsis));
	for (i = 0; o->names[0] && i < npos; i++)
		if (!o->names[i][0] || strchr(o->names[i], '/'))
			return ee_err_set(err, EE_ERR_USAGE, "--name: '%s' is not a model name (one "
					  "per %s, without '/')", o->names[i],
					  o->traces ? "trace" : "checkpoint");
	for (i = 0; (!o->traces || o->names[0]) && i < npos; i++) {
		for (j = 0; j < i; j++) {
			snprintf(a, sizeof(a), "%s", o->names[i] ? o->names[i] : "");
			snprintf(b, sizeof(b), "%s", o->names[j] ? o->names[j] : "");
			if (!o->names[i]) {
				ee_report_stem(pos[i], a, sizeof(a));
				ee_report_stem(pos[j], b, sizeof(b));
			}
			if (!strcmp(a, b))
				return ee_err_set(err, EE_ERR_USAGE, "two models are named '%s'%s", a,
						  o->names[i] ? "" : ": reports name models by file "
						  "stem; --name a,b names them");
		}
	}
	return EE_OK;
}

/* Creates path and its missing parents, as mkdir -p; EE_ERR_IO naming the one that fails.
 * *made: the length of path's first component that did not exist (0: none was made). */
static int make_dirs(const char *path, size_t *made, struct ee_err *err)
{
	char dir[4096];
	struct stat st;
	size_t i, n = strlen(path);

	*made = 0;
	if (n >= sizeof(dir))
		return ee_err_set(err, EE_ERR_USAGE, "--output: path is too long");
	memcpy(dir, path, n + 1);
	for (i = 1; i <= n; i++) {
		if (dir[i] != '/' && dir[i] != '\0')
			continue;
		dir[i] = '\0';
		if (mkdir(dir, 0777) == 0 && !*made)
			*made = i;
		else if (errno != EEXIST && access(dir, F_OK) < 0)
			return ee_err_set(err, EE_ERR_IO, "cannot create directory '%s': %s", dir,
					  strerror(errno));
		dir[i] = path[i];
	}
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode))
		return ee_err_set(err, EE_ERR_IO, "'%s' is not a directory", path);
	if (access(path, W_OK | X_OK) < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot write into '%s': %s", path,
				  strerror(errno));
	return EE_OK;
}

/* The --threshold list fits a model of nexits exits (a usage error naming the count). */
static int rule_fits(const struct report_opts *o, const char *path, int nexits,
		     struct ee_err *err)
{
	struct ee_exit_rule rule = o->parsed;

	if (o->nv && ee_rule_thresholds(&rule, o->v, o->nv, nexits, err) < 0)
		return ee_err_prefix(err, "'%s': ", path);
	return EE_OK;
}

/* Every input opens: checkpoints, datasets, or traces; a --threshold list fits every
 * model (a list of more than one value needs the checkpoint's model built). */
static int inputs_open(const struct report_opts *o, const char *const *pos, int npos,
		       struct ee_err *err)
{
	const char *specs[2] = { o->data, o->val };
	struct ee_dataset ds;
	struct ee_ckpt ck;
	struct ee_trace t;
	struct ee_net net;
	int i, rc;

	for (i = 0; i < npos; i++) {
		if (o->traces) {
			if ((rc = ee_trace_read(&t, pos[i], err)) < 0)
				return rc;
			rc = rule_fits(o, pos[i], t.nexits, err);
			ee_trace_release(&t);
		} else if (o->nv > 1) {
			if ((rc = ee_net_load(&net, pos[i], err)) < 0)
				return rc;
			rc = rule_fits(o, pos[i], net.model.nexits, err);
			ee_net_release(&net);
		} else {
			if ((rc = ee_ckpt_open(&ck, pos[i], err)) < 0)
				return rc;
			ee_ckpt_release(&ck);
			rc = rule_fits(o, pos[i], 1, err); /* one value fits any model */
		}
		if (rc < 0)
			return rc;
	}
	for (i = 0; i < 2 && !o->traces; i++) {
		if (!specs[i])
			continue;
		if ((rc = ee_dataset_open(&ds, specs[i], err)) < 0)
			return rc;
		ee_dataset_release(&ds);
	}
	return EE_OK;
}

/* After a failure: removes the directories make_dirs made (the deepest made first up to
 * path's first new component at length made), those that are still empty. */
static void unmake_dirs(const char *path, size_t made)
{
	char dir[4096];
	char *slash;

	if (!made || strlen(path) >= sizeof(dir))
		return;
	snprintf(dir, sizeof(dir), "%s", path);
	while (strlen(dir) >= made && rmdir(dir) == 0 && (slash = strrchr(dir, '/')))
		*slash = '\0';
}

/* What would fail late, checked first (see the top); *made as make_dirs sets it. */
static int preflight(const struct report_opts *o, const char *const *pos, int npos,
		     size_t *made, struct ee_err *err)
{
	int rc = EE_OK;

	*made = 0;
	if (ee_dist_rank() == 0) { /* rank 0 alone writes: it alone checks (all ranks agree) */
		if ((rc = make_dirs(o->output, made, err)) == EE_OK &&
		    (rc = inputs_open(o, pos, npos, err)) == EE_OK && !o->no_plots &&
		    (rc = ee_plot_check(o->gnuplot, o->output, err)) < 0)
			snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
				 " (--no-plots writes the report without plots)");
	}
	return ee_dist_agree(rc, err);
}

/* build() with the layers counted as --counters says (profiling only). */
static int build_counted(struct ee_report *r, struct report_opts *o, const char *const *pos,
			 int npos, const char *const *vals, struct ee_err *err)
{
	const char *spec = o->counters ? o->counters : "none";
	struct ee_counters c = { 0 };
	int nwarn, rc;

	o->profile.counters = NULL;
	if (!o->traces && strcmp(spec, "off")) {
		/* (agreed: a node of a cluster may lack what another has) */
		if ((rc = ee_dist_agree(ee_counters_open(&c, spec, err), err)) < 0) {
			ee_counters_close(&c);
			return rc;
		}
		ee_cli_warn_counters(&c, 0);
		o->profile.counters = &c;
	}
	nwarn = c.nwarn;
	rc = build(r, o, pos, npos, vals, err);
	ee_cli_warn_counters(&c, nwarn);
	ee_counters_close(&c);
	o->profile.counters = NULL;
	return rc;
}

/* One process per model (its test profile) in one file. */
static int write_timeline(const struct report_opts *o, const char *const *pos, int npos,
			  struct ee_err *err)
{
	const struct ee_timeline **tl = calloc((size_t)npos, sizeof(*tl));
	const char **names = calloc((size_t)npos, sizeof(*names));
	char (*buf)[256] = calloc((size_t)npos, sizeof(*buf));
	int i, rc = tl && names && buf ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	for (i = 0; rc == EE_OK && i < npos; i++) {
		ee_report_stem(pos[i], buf[i], sizeof(buf[i]));
		names[i] = buf[i];
		tl[i] = &o->tls[i];
	}
	if (rc == EE_OK)
		rc = ee_timeline_write(tl, names, npos, o->timeline, err);
	free(tl);
	free(names);
	free(buf);
	return rc;
}

/* The ranks of the job and each one's wall time so far into r (on rank 0). Collective. */
static int ranks_of(struct ee_report *r, struct ee_err *err)
{
	int ranks = ee_dist_size();
	double *secs = calloc((size_t)ranks, sizeof(*secs));
	int rc = secs ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	if ((rc = ee_dist_agree(rc, err)) < 0) {
		free(secs);
		return rc;
	}
	ee_dist_gather_double(r->wall_seconds, secs);
	r->ranks = ranks;
	r->rank_seconds = secs;
	return EE_OK;
}

/* The report: every rank profiles (their shares of the samples); with --traces rank 0 alone
 * reads them. Rank 0 alone analyses, writes and prints. */
static int run(struct report_opts *o, const char *const *pos, int npos, struct ee_err *err)
{
	struct ee_report_write_opts wo = { !o->no_plots, o->gnuplot, NULL };
	struct ee_plot_look look;
	const char *vals[EE_MAX_POS];
	char *list = NULL;
	struct ee_report r;
	double start = now();
	int nvals = 0, rc = EE_OK;

	if (o->traces && ee_dist_rank() != 0)
		return EE_OK;
	if ((rc = ee_cli_plot_check(NULL, &o->look, &look, err)) < 0)
		return rc;
	wo.look = &look;
	if (o->val_traces) {
		if (!(list = strdup(o->val_traces)))
			return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
		rc = split_list("val-traces", list, vals, EE_MAX_POS, &nvals, err);
		if (rc == EE_OK && nvals != npos)
			rc = ee_err_set(err, EE_ERR_USAGE, "--val-traces lists %d traces for %d "
					"traces", nvals, npos);
	}
	ee_report_init(&r, o->parsed.policy, o->parsed.fallback);
	r.nthr = o->nv;
	memcpy(r.thr, o->v, sizeof(r.thr));
	r.log_x = o->log_x;
	if (rc == EE_OK && o->timeline && !(o->tls = calloc((size_t)npos, sizeof(*o->tls))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if (rc == EE_OK)
		rc = build_counted(&r, o, pos, npos, o->val_traces ? vals : NULL, err);
	if (rc == EE_OK && o->timeline && ee_dist_rank() == 0) /* rank 0's shards */
		rc = write_timeline(o, pos, npos, err);
	for (int i = 0; o->tls && i < npos; i++)
		ee_timeline_release(&o->tls[i]);
	free(o->tls);
	o->tls = NULL;
	r.wall_seconds = now() - start;
	if (rc == EE_OK && !o->traces)
		rc = ranks_of(&r, err);
	if (ee_dist_rank() != 0) { /* rank 0 alone writes */
		ee_report_release(&r);
		free(list);
		return rc;
	}
	if (rc == EE_OK && (rc = ee_report_write(&r, o->output, &wo, err)) < 0 && wo.plots &&
	    rc == EE_ERR_IO && strstr(err->msg, "gnuplot"))
		snprintf(err->msg + strlen(err->msg), sizeof(err->msg) - strlen(err->msg),
			 " (--no-plots writes the report without plots)");
	if (rc == EE_OK)
		print_summary(&r, o->output);
	ee_report_release(&r);
	free(list);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct report_opts *o = ctx;
	char *names = NULL;
	size_t made = 0;
	int rc;

	if ((o->name_list && (rc = name_models(o, npos, &names, err)) < 0) ||
	    (rc = check_opts(o, pos, npos, err)) < 0 ||
	    (rc = ee_cli_rule_parse(&o->rule, &o->parsed, o->v, &o->nv, err)) < 0 ||
	    (rc = ee_cli_images(&o->img, &o->profile.prep, err)) < 0) {
		free(names);
		return rc;
	}
	if (!o->gnuplot)
		o->gnuplot = getenv("EEPROF_GNUPLOT");
	if ((rc = preflight(o, pos, npos, &made, err)) < 0) {
		unmake_dirs(o->output, made);
		free(names);
		return rc;
	}
	ee_cli_threads(o->profile.threads);
	if (ee_cli_tty())
		o->profile.progress = progress;
	rc = run(o, pos, npos, err);
	if (rc < 0) /* the report's files appear all or none: leave no new directory either */
		unmake_dirs(o->output, made);
	free(names);
	return rc;
}

int cmd_report(int argc, char **argv)
{
	struct report_opts o = { .repeat = 1, .profile = { .batch = 64, .threads = 1 } };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "dataset, e.g. fashion-mnist:test", 0, 0 },
		{ "output", EE_OPT_FILE, &o.output, "<dir>", "report directory", 0, 0 },
		{ "val", EE_OPT_STR, &o.val, "<spec>", "validation data for MSDNet budgets, e.g. "
		  "fashion-mnist:val", 0, 0 },
		EE_OPT_RULE(&o.rule, "also apply one threshold, or one per exit, beside the sweep "
			    "(report.json's rule; the class shares and gates against difficulty "
			    "use it too, else 0.9, patience 1)"),
		{ "trace-dir", EE_OPT_FILE, &o.trace_dir, "<dir>", "keep the traces there", 0, 0 },
		{ "traces", EE_OPT_FLAG, &o.traces, NULL, "arguments are traces, not checkpoints",
		  0, 0 },
		{ "val-traces", EE_OPT_STR, &o.val_traces, "<list>", "with --traces: validation "
		  "traces, comma-separated, one per trace", 0, 0 },
		{ "no-plots", EE_OPT_FLAG, &o.no_plots, NULL, "write no PNG/SVG (no gnuplot needed)",
		  0, 0 },
		{ "gnuplot", EE_OPT_STR, &o.gnuplot, "<prog>", "the gnuplot program", 0, 0 },
		{ "name", EE_OPT_STR, &o.name_list, "<name>[,...]", "the models' names, one per "
		  "checkpoint or trace (default: the checkpoint's file stem)", 0, 0 },
		{ "timeline", EE_OPT_FILE, &o.timeline, "<file.json>", "per-layer timeline of every "
		  "model's profile, a process each (Chrome trace events)", 0, 0 },
		{ "log-x", EE_OPT_FLAG, &o.log_x, NULL, "log MACs axis (the default when the "
		  "models span more than 5x)", 0, 0 },
		EE_OPT_PLOT_LOOK(&o.look),
		EE_OPT_COUNTERS(&o.counters),
		EE_OPT_LIMIT_HELP(&o.profile.limit, "at most n samples of each dataset (default: all)"),
		EE_OPT_BATCH(&o.profile.batch),
		EE_OPT_THREADS(&o.profile.threads),
		EE_OPT_REPEAT(&o.repeat, "1"),
		EE_OPT_WARMUP(&o.warmup),
		EE_OPT_IMAGES(&o.img),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, EE_MAX_POS, body, &o);
}
