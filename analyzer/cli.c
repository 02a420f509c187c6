/*
 * cli.c - what every subcommand shares: table-driven option parsing, usage,
 * errors and exit statuses, threads, progress, opening a checkpoint for a run;
 * and what the trace analyses share: loading a trace, model names, table rows.
 * See analyzer.h.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "core/exec.h"
#include "core/imgprep.h"
#include "core/outfile.h"
#include "core/threads.h"
#include "plugins/counters.h"
#include "plugins/dataset.h"
#include "plugins/dist.h"
#include "plugins/net.h"
#include "reports/analysis.h"
#include "reports/json.h"

static void usage(FILE *f, const char *synopsis, const struct ee_opt *opts)
{
	const struct ee_opt *o;

	fprintf(f, "usage: %s\n", synopsis);
	if (opts[0].name)
		fprintf(f, "\noptions:\n");
	for (o = opts; o->name; o++) {
		char left[64];

		/* the one short option: -o for --output (parse) */
		snprintf(left, sizeof(left), "%s--%s%s%s", strcmp(o->name, "output") ? "" : "-o, ",
			 o->name, o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-24s %s\n", left, o->help);
	}
	fprintf(f, "  %-24s %s\n", "-h, --help", "show this help");
}

static const struct ee_opt *find(const struct ee_opt *opts, const char *name, size_t len)
{
	for (; opts->name; opts++)
		if (strlen(opts->name) == len && !strncmp(opts->name, name, len))
			return opts;
	return NULL;
}

/* A bound as people write it: 1073741824, 0.5 (not %g's 1.07374e+09). */
static const char *bound(char *buf, size_t size, double v)
{
	snprintf(buf, size, v == floor(v) && fabs(v) < 1e15 ? "%.0f" : "%.15g", v);
	return buf;
}

static int set_value(const struct ee_opt *o, const char *v, struct ee_err *err)
{
	char *end, lo[32], hi[32];
	double d;

	if (o->kind == EE_OPT_FILE && !strcmp(v, "-"))
		return ee_err_set(err, EE_ERR_USAGE, "--%s: '-' (standard output) is for text "
				  "outputs; this one needs a %s name", o->name,
				  strcmp(o->arg ? o->arg : "", "<dir>") ? "file" : "directory");
	if (o->kind == EE_OPT_STR || o->kind == EE_OPT_FILE) {
		*(const char **)o->dst = v;
		return EE_OK;
	}
	errno = 0;
	d = strtod(v, &end);
	if (!*v || *end || errno || !isfinite(d))
		return ee_err_set(err, EE_ERR_USAGE, "--%s: '%s' is not a number", o->name, v);
	if (d < o->min || d > o->max)
		return ee_err_set(err, EE_ERR_USAGE, "--%s: %s is out of range [%s, %s]", o->name, v,
				  bound(lo, sizeof(lo), o->min), bound(hi, sizeof(hi), o->max));
	if (o->kind == EE_OPT_NUM) {
		*(double *)o->dst = d;
		return EE_OK;
	}
	if (d != floor(d))
		return ee_err_set(err, EE_ERR_USAGE, "--%s: '%s' is not a whole number", o->name, v);
	*(int *)o->dst = (int)d;
	return EE_OK;
}

const char *hint(const char *synopsis)
{
	static char buf[128];
	const char *sp = strchr(synopsis, ' '), *end = sp ? strchr(sp + 1, ' ') : NULL;

	snprintf(buf, sizeof(buf), "; see '%.*s --help'", end ? (int)(end - synopsis) : 6, synopsis);
	return buf;
}

/*
 * Parses argv[1..argc) (argv[0] is the subcommand): options from opts (a table ending with
 * a zero entry), the rest positional into pos[0..*npos). Returns 0, 1 when --help was
 * printed, or EE_ERR_USAGE.
 */
static int parse(int argc, char **argv, const char *synopsis, const struct ee_opt *opts,
		 int min_pos, int max_pos, const char **pos, int *npos, struct ee_err *err)
{
	bool only_pos = false;
	int i, rc;

	*npos = 0;
	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *eq, *v;
		const struct ee_opt *o;

		if (only_pos || a[0] != '-' || !a[1]) {
			if (*npos == max_pos)
				return ee_err_set(err, EE_ERR_USAGE, "unexpected argument '%s'%s", a,
						  hint(synopsis));
			pos[(*npos)++] = a;
			continue;
		}
		if (!strcmp(a, "--")) {
			only_pos = true;
			continue;
		}
		if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
			usage(stdout, synopsis, opts);
			return 1;
		}
		eq = strchr(a, '=');
		if (!strcmp(a, "-o")) /* the one short option: -o for --output */
			o = find(opts, "output", 6);
		else
			o = a[1] == '-' ? find(opts, a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2))
					: NULL;
		if (!o)
			return ee_err_set(err, EE_ERR_USAGE, "unknown option '%s'%s", argv[i],
					  hint(synopsis));
		if (o->kind == EE_OPT_FLAG) {
			if (eq)
				return ee_err_set(err, EE_ERR_USAGE, "--%s takes no value", o->name);
			*(bool *)o->dst = true;
			continue;
		}
		v = eq ? eq + 1 : (i + 1 < argc ? argv[++i] : NULL);
		if (!v)
			return ee_err_set(err, EE_ERR_USAGE, "--%s needs a value %s", o->name,
					  o->arg ? o->arg : "");
		if ((rc = set_value(o, v, err)) < 0)
			return rc;
	}
	if (*npos < min_pos)
		return ee_err_set(err, EE_ERR_USAGE, "missing argument%s", hint(synopsis));
	return EE_OK;
}

int ee_exit_status(int code)
{
	switch (code) {
	case EE_OK: return EE_EXIT_OK;
	case EE_ERR_USAGE: return EE_EXIT_USAGE;
	case EE_ERR_INPUT:
	case EE_ERR_IO: return EE_EXIT_INPUT;
	}
	return EE_EXIT_INTERNAL;
}

int ee_fail(const struct ee_err *err)
{
	if (ee_dist_rank() == 0) /* ranks agree on errors (plugins/dist.h): one message */
		fprintf(stderr, "eeprof: error: %s\n", err->msg[0] ? err->msg : ee_strerror(err->code));
	return ee_exit_status(err->code ? err->code : EE_ERR_INTERNAL);
}

int ee_cli_main(int argc, char **argv, const char *synopsis, const struct ee_opt *opts,
		int min_pos, int max_pos, ee_cmd_body body, void *ctx)
{
	struct ee_err err = { 0 };
	const char *pos[EE_MAX_POS];
	int npos, rc = parse(argc, argv, synopsis, opts, min_pos, max_pos, pos, &npos, &err);

	if (rc == EE_OK)
		rc = body(ctx, pos, npos, &err);
	return rc < 0 ? ee_fail(&err) : EE_EXIT_OK; /* rc 1: --help was shown */
}

bool ee_cli_stdout(const char *path)
{
	return path && !strcmp(path, "-");
}

int ee_cli_write(const char *path, void (*put)(FILE *f, const void *ctx), const void *ctx,
		 struct ee_err *err)
{
	struct ee_out out;
	FILE *f;
	int rc;

	if (ee_cli_stdout(path)) {
		put(stdout, ctx);
		return EE_OK;
	}
	if ((rc = ee_out_begin(&out, path, err)) < 0)
		return rc;
	if (!(f = fopen(out.tmp, "w"))) {
		rc = errno;
		ee_out_abort(&out);
		return ee_err_set(err, EE_ERR_IO, "cannot create '%s': %s", path, strerror(rc));
	}
	put(f, ctx);
	if (ferror(f) | fclose(f)) {
		ee_out_abort(&out);
		return ee_err_set(err, EE_ERR_IO, "cannot write '%s'", path);
	}
	return ee_out_commit(&out, err);
}

void ee_cli_warn_counters(const struct ee_counters *c, int from)
{
	int i;

	for (i = from; ee_dist_rank() == 0 && i < c->nwarn; i++) /* rank 0 speaks */
		fprintf(stderr, "eeprof: warning: %s\n", c->warn[i]);
}

void ee_cli_threads(int n)
{
	ee_threads_set(n);
}

bool ee_cli_tty(void)
{
	return ee_dist_rank() == 0 && isatty(STDERR_FILENO);
}

void ee_cli_progress(const char *what, long done, long total)
{
	int width = 30, fill = total > 0 ? (int)(width * done / total) : width;

	if (!ee_cli_tty())
		return;
	fprintf(stderr, "\r%s [%.*s%*s] %ld/%ld", what, fill,
		"##############################", width - fill, "", done, total);
	if (done >= total)
		fputc('\n', stderr);
	fflush(stderr);
}

int ee_cli_open(const char *path, int batch, bool keep_z, struct ee_net *net, struct ee_run *run,
		struct ee_err *err)
{
	int rc = ee_net_load(net, path, err);

	if (rc < 0)
		return rc;
	rc = ee_run_init(run, &net->model, batch, keep_z, err);
	if (rc < 0)
		ee_net_release(net);
	return rc;
}

void ee_cli_close(struct ee_net *net, struct ee_run *run)
{
	ee_run_release(run);
	ee_net_release(net);
}

/* ---------------------------------------------------------------- trace analyses */

int ee_cli_trace_load(struct ee_trace *t, const char *path, struct ee_err *err)
{
	int rc = ee_trace_read(t, path, err);

	if (rc == EE_OK && t->n < 1) {
		ee_trace_release(t);
		rc = ee_err_set(err, EE_ERR_INPUT, "trace '%s' has no samples", path);
	}
	return rc;
}

const char *ee_cli_model_name(const struct ee_trace *t, char *buf, size_t size)
{
	const char *base = strrchr(t->checkpoint, '/');
	size_t len;

	base = base ? base + 1 : t->checkpoint;
	len = strlen(base);
	if (len > 3 && !strcmp(base + len - 3, ".h5"))
		len -= 3;
	snprintf(buf, size, "%.*s", (int)len, base);
	return buf;
}

void ee_cli_cell(struct ee_cli_row *r, const char *fmt, ...)
{
	va_list ap;

	if (r->n >= EE_TABLE_MAX_COLS)
		return;
	va_start(ap, fmt);
	vsnprintf(r->cell[r->n++], sizeof(r->cell[0]), fmt, ap);
	va_end(ap);
}

void ee_cli_row_add(struct ee_table *t, struct ee_cli_row *r)
{
	const char *cells[EE_TABLE_MAX_COLS];
	int i;

	for (i = 0; i < t->ncols; i++)
		cells[i] = i < r->n ? r->cell[i] : "";
	ee_table_row(t, cells);
	r->n = 0;
}

void ee_cli_exit_heads(const char **head, char names[][16], int nexits)
{
	int k;

	for (k = 0; k < nexits; k++) {
		snprintf(names[k], sizeof(names[k]), "exit %d", k + 1);
		head[k] = names[k];
	}
	head[nexits] = "fallback";
}

void ee_cli_share_cells(struct ee_cli_row *r, const struct ee_dyn_result *res, int nexits,
			int n)
{
	int k;

	for (k = 0; k <= nexits; k++)
		ee_cli_cell(r, "%.1f%%", 100.0 * res->exits[k] / n);
}

/* ---------------------------------------------------------------- exit rule */

int ee_cli_rule_parse(const struct ee_cli_rule *o, struct ee_exit_rule *rule, double *v,
		      int *nv, struct ee_err *err)
{
	int rc = ee_rule_names(rule, o->policy, o->fallback, err);

	*nv = 0;
	if (rc < 0)
		return rc;
	if (o->threshold && o->thresholds)
		return ee_err_set(err, EE_ERR_USAGE, "give one of --threshold or --thresholds (they "
				  "are the same option)");
	if (!o->threshold && !o->thresholds)
		return EE_OK;
	return ee_thresholds_parse(o->threshold ? o->threshold : o->thresholds, v, nv, err);
}

const char *ee_cli_thresholds_text(const struct ee_exit_rule *r, int nexits, char *buf,
				   size_t size)
{
	size_t len = 0;
	int k, n = r->policy == EE_POLICY_PATIENCE ? 1 : nexits;

	buf[0] = '\0';
	for (k = 0; k < n && len < size; k++)
		len += (size_t)snprintf(buf + len, size - len, "%s%.9g", k ? "," : "", r->thr[k]);
	return buf;
}

/* ---------------------------------------------------------------- image files */

int ee_cli_images(const struct ee_cli_images *o, struct ee_imgprep *p, struct ee_err *err)
{
	int interp = o->interp ? ee_interp_parse(o->interp) : EE_INTERP_BILINEAR;

	if (interp < 0)
		return ee_err_set(err, EE_ERR_USAGE, "unknown --interpolation '%s' (bilinear, "
				  "bicubic or nearest)", o->interp);
	if (o->no_resize && o->resize)
		return ee_err_set(err, EE_ERR_USAGE, "--resize and --no-resize contradict each "
				  "other");
	p->resize = o->no_resize ? EE_IMGPREP_NO_RESIZE : o->resize;
	p->interp = (enum ee_interp)interp;
	return EE_OK;
}

void ee_cli_warn_skipped(const struct ee_skipped *s)
{
	long i;

	if (!s->n)
		return;
	fprintf(stderr, "eeprof: warning: skipped %ld undecodable file%s:", s->n,
		s->n == 1 ? "" : "s");
	for (i = 0; i < s->n && i < EE_SKIPPED_NAMED; i++)
		fprintf(stderr, "%s %s", i ? "," : "", s->first[i]);
	fprintf(stderr, "%s\n", s->n > EE_SKIPPED_NAMED ? ", ..." : "");
}

void ee_cli_json_skipped(struct ee_json *j, const struct ee_skipped *s)
{
	char *files[EE_SKIPPED_NAMED];
	int i, n = s && s->n < EE_SKIPPED_NAMED ? (int)s->n : EE_SKIPPED_NAMED;

	if (!s)
		return;
	for (i = 0; i < n; i++)
		files[i] = (char *)s->first[i];
	ee_json_begin(j, "skipped", '{');
	ee_json_int(j, "count", s->n);
	ee_json_strs(j, "files", files, n);
	ee_json_end(j);
}
