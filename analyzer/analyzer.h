/*
 * analyzer.h - the eeprof command line: one subcommand per file, a table in main.c.
 *
 * To add a subcommand:
 *  1. write analyzer/cmd-<name>.c with `int cmd_<name>(int argc, char **argv)` that
 *     declares its option table and returns ee_cli_main(..., body, &opts): ee_cli_main
 *     parses (--help, usage errors), calls body, which calls the library and prints
 *     results to stdout, and turns body's status into the exit status; every
 *     subcommand goes through it;
 *  2. declare it below and add it to commands[] in main.c;
 *  3. document it in README.md with an example, and add tests under tests/cli/.
 *
 * Only this folder prints and chooses exit statuses:
 *   0 success, 1 regression found (diff), 2 usage error, 3 bad input (file,
 *   checkpoint, dataset, trace, unwritable output), 4 internal error.
 */
#ifndef EE_ANALYZER_H
#define EE_ANALYZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "core/status.h"
#include "reports/spread.h"
#include "reports/table.h"

enum {
	EE_EXIT_OK = 0,
	EE_EXIT_REGRESSION = 1,
	EE_EXIT_USAGE = 2,
	EE_EXIT_INPUT = 3,
	EE_EXIT_INTERNAL = 4,
};

enum ee_opt_kind {
	EE_OPT_FLAG, /* bool */
	EE_OPT_STR,  /* const char * */
	EE_OPT_FILE, /* const char *: a binary file or directory to write; "-" (stdout, for text
		      * outputs only) is a usage error */
	EE_OPT_INT,  /* int, within [min, max] */
	EE_OPT_NUM,  /* double, within [min, max] */
};

struct ee_opt {
	const char *name;  /* "batch" for --batch */
	enum ee_opt_kind kind;
	void *dst;
	const char *arg;   /* placeholder in usage: "<n>" */
	const char *help;
	double min, max;
};

#define EE_MAX_POS 64

/* "; see 'eeprof <cmd> --help'", to end a usage error on one line. */
const char *hint(const char *synopsis);
/* Prints "eeprof: error: <msg>" to stderr and returns the exit status for err->code. */
int ee_fail(const struct ee_err *err);
/* The exit status of a library status code. */
int ee_exit_status(int code);
/* True for the output path "-": standard output. */
bool ee_cli_stdout(const char *path);
/* Writes a text output (CSV, JSON, XML) that put() prints: to standard output for "-", else
 * atomically to path (core/outfile.h: whole or not at all). */
int ee_cli_write(const char *path, void (*put)(FILE *f, const void *ctx), const void *ctx,
		 struct ee_err *err);
/*
 * A subcommand's whole life after its option table: parses argv[1..argc) (argv[0] is the
 * subcommand; options from opts, a table ending with a zero entry, the rest positional,
 * min_pos to max_pos of them; --help printed; usage errors), then body(ctx, pos, npos, err)
 * with the positional arguments, and turns the outcome into the exit status: EE_EXIT_OK
 * for a status >= 0, else err printed (ee_fail). A body refuses a missing option with
 * ee_err_set(err, EE_ERR_USAGE, "...%s", hint(synopsis)). A command with an exit status of
 * its own (diff: 1 for a regression) keeps it in ctx and returns it when this is EE_EXIT_OK.
 */
typedef int (*ee_cmd_body)(void *ctx, const char **pos, int npos, struct ee_err *err);
int ee_cli_main(int argc, char **argv, const char *synopsis, const struct ee_opt *opts,
		int min_pos, int max_pos, ee_cmd_body body, void *ctx);
/* Sets the threads of the team that runs the loops and products (--threads). */
void ee_cli_threads(int n);
/* True if stderr is a terminal (progress bars). */
bool ee_cli_tty(void);
/* A progress bar on stderr, redrawn in place; done = total ends the line. */
void ee_cli_progress(const char *what, long done, long total);

struct ee_counters;
/* "eeprof: warning: ..." on stderr for the counter set's warnings from number from on
 * (events asked for that cannot be counted, threads that could not count). */
void ee_cli_warn_counters(const struct ee_counters *c, int from);

struct ee_net;
struct ee_run;
/* Loads a checkpoint and prepares a run for batches of up to batch samples. */
int ee_cli_open(const char *path, int batch, bool keep_z, struct ee_net *net, struct ee_run *run,
		struct ee_err *err);
void ee_cli_close(struct ee_net *net, struct ee_run *run);

/* Options several commands take, spelled and checked the same everywhere. */
#define EE_OPT_THREADS(dst) \
	{ "threads", EE_OPT_INT, (dst), "<n>", "threads for the loops and products (default 1)", 1, 256 }
#define EE_OPT_BATCH(dst) \
	{ "batch", EE_OPT_INT, (dst), "<n>", "samples per forward pass (default 64)", 1, 65536 }
#define EE_OPT_JSON(dst) \
	{ "json", EE_OPT_FLAG, (dst), NULL, "print JSON", 0, 0 }
/* --limit: at least 1 (0 is a usage error, not "all"; leaving it out means all). */
#define EE_OPT_LIMIT_HELP(dst, help) \
	{ "limit", EE_OPT_INT, (dst), "<n>", (help), 1, 1 << 30 }
#define EE_OPT_LIMIT(dst) EE_OPT_LIMIT_HELP(dst, "at most n samples (default: all)")
/* --counters of profile, run and report (EE_COUNTERS_DEFAULT: plugins/counters.h). An event
 * PAPI does not know is a usage error; one it knows but cannot count here, a warning. */
#define EE_OPT_COUNTERS(dst) \
	{ "counters", EE_OPT_STR, (dst), "<events>", "count every layer: PAPI events, " \
	  "comma-separated, or default (" EE_COUNTERS_DEFAULT "); none (the default): times " \
	  "only; off: no per-layer measuring; fake:A,B for the test source", 0, 0 }
#define EE_OPT_OFFSET(dst) \
	{ "offset", EE_OPT_INT, (dst), "<n>", "skip the first n samples", 0, 1 << 30 }
/* The options of a command that runs a model over samples of a dataset (eval, run): o
 * points to a struct with int fields limit, offset, batch and threads. */
#define EE_OPTS_SAMPLES(o) \
	EE_OPT_LIMIT(&(o)->limit), EE_OPT_OFFSET(&(o)->offset), EE_OPT_BATCH(&(o)->batch), \
		EE_OPT_THREADS(&(o)->threads)
/* Timing repeats: --repeat runs measured (spread.h: median, min, max, IQR), after
 * --warmup runs that are not kept. */
#define EE_OPT_REPEAT(dst, dflt) \
	{ "repeat", EE_OPT_INT, (dst), "<n>", "timed runs; figures are their median, with " \
	  "min, max and IQR (default " dflt ")", 1, EE_REPEAT_MAX }
#define EE_OPT_WARMUP(dst) \
	{ "warmup", EE_OPT_INT, (dst), "<n>", "untimed runs first (default 0)", 0, 100 }

int cmd_info(int argc, char **argv);
int cmd_infer(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_profile(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_curve(int argc, char **argv);
int cmd_budget(int argc, char **argv);
int cmd_gates(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_calibration(int argc, char **argv);
int cmd_gallery(int argc, char **argv);
int cmd_version(int argc, char **argv);
int cmd_dataset(int argc, char **argv);

/* Image files (imagefolder:, imagelist:): torchvision's Resize before the centre crop. */
struct ee_cli_images {
	int resize;         /* --resize S; 0: round(H / 0.875) */
	const char *interp; /* --interpolation, NULL: bilinear */
	bool no_resize;     /* --no-resize */
	bool skip_bad;      /* --skip-bad */
};
#define EE_OPT_IMAGES(dst) \
	{ "resize", EE_OPT_INT, &(dst)->resize, "<s>", "image files: shorter side before the " \
	  "centre crop (default round(H / 0.875): 256 for 224)", 1, 65535 }, \
	{ "interpolation", EE_OPT_STR, &(dst)->interp, "<i>", "image files: resize filter, " \
	  "bilinear (default), bicubic or nearest (Pillow's)", 0, 0 }, \
	{ "no-resize", EE_OPT_FLAG, &(dst)->no_resize, NULL, "image files: centre crop or pad " \
	  "only", 0, 0 }, \
	{ "skip-bad", EE_OPT_FLAG, &(dst)->skip_bad, NULL, "image files: leave out those that " \
	  "cannot be read or decoded (a warning counts and names them) instead of failing", \
	  0, 0 }
/* Checks the image options into p (core/imgprep.h); EE_ERR_USAGE if they contradict. */
struct ee_imgprep;
int ee_cli_images(const struct ee_cli_images *o, struct ee_imgprep *p, struct ee_err *err);
/* "eeprof: warning: skipped N undecodable files: A, B, C, ..." on stderr if s counts any. */
struct ee_skipped;
void ee_cli_warn_skipped(const struct ee_skipped *s);
/* JSON "skipped": {"count": N, "files": [the first few]} if s is not NULL (--skip-bad). */
struct ee_json;
void ee_cli_json_skipped(struct ee_json *j, const struct ee_skipped *s);

/*
 * The dynamic-exit rule (reports/analysis.h), given the same way to every command that
 * applies one (curve, gates, run, report): --policy P, --fallback F and --threshold T,
 * where T is one number or one per exit ("0.98,0.97,0.98,0.95", SCAN style); --thresholds
 * is a synonym. budget takes --policy alone: it chooses the thresholds itself, and its
 * last exit takes every sample left, so no fallback applies.
 */
#define EE_OPT_POLICY(dst) \
	{ "policy", EE_OPT_STR, (dst), "<p>", "maxprob (default), entropy, margin or patience", \
	  0, 0 }
#define EE_OPT_FALLBACK(dst) \
	{ "fallback", EE_OPT_STR, (dst), "<f>", \
	  "when no exit is confident: last (default), ensemble or best", 0, 0 }
struct ee_cli_rule {
	const char *policy, *fallback, *threshold, *thresholds; /* as given, or NULL */
};
/* The four options; thr_help says what --threshold does in this command. */
#define EE_OPT_RULE(r, thr_help) \
	EE_OPT_POLICY(&(r)->policy), EE_OPT_FALLBACK(&(r)->fallback), \
	{ "threshold", EE_OPT_STR, &(r)->threshold, "<t>[,<t>...]", (thr_help), 0, 0 }, \
	{ "thresholds", EE_OPT_STR, &(r)->thresholds, "<t>[,<t>...]", "the same as --threshold", \
	  0, 0 }
struct ee_exit_rule;
/* Policy and fallback into rule, the threshold list into v[0..*nv) (*nv = 0 when neither
 * --threshold nor --thresholds was given). EE_ERR_USAGE for an unknown name, a list that is
 * not numbers, or both options. The count is checked against a model's exits by
 * ee_rule_thresholds (a usage error naming the count expected). */
int ee_cli_rule_parse(const struct ee_cli_rule *o, struct ee_exit_rule *rule, double *v,
		      int *nv, struct ee_err *err);
/* The rule's thresholds as text, every exit's value: "0.9,0.9,0.85" (patience: its one
 * number); 9 significant digits, so that a threshold read back is the same float. */
const char *ee_cli_thresholds_text(const struct ee_exit_rule *r, int nexits, char *buf,
				   size_t size);

/* Plots drawn by a command (cli-plot.c): --plot FILE and how it looks. */
struct ee_plot;
struct ee_cli_plot_opts {
	const char *size;  /* --plot-size W,H */
	int font_size;     /* --font-size N (0: default) */
	const char *title; /* --title TEXT */
};
#define EE_OPT_PLOT_LOOK(o) \
	{ "plot-size", EE_OPT_STR, &(o)->size, "<w,h>", "plot size in pixels (default 960,600)", \
	  0, 0 }, \
	{ "font-size", EE_OPT_INT, &(o)->font_size, "<n>", "plot font size in points (default 10)", \
	  4, 72 }, \
	{ "title", EE_OPT_STR, &(o)->title, "<text>", "plot title instead of the default ('' none)", \
	  0, 0 }
/* Checks the look options into *look, and path's extension (.png or .svg) if not NULL,
 * before any work; EE_ERR_USAGE naming the option. */
struct ee_plot_look;
int ee_cli_plot_check(const char *path, const struct ee_cli_plot_opts *o,
		      struct ee_plot_look *look, struct ee_err *err);
/* Opens a plot (ee_plot_init) with the look applied. */
int ee_cli_plot_begin(struct ee_plot *p, const struct ee_plot_look *look, struct ee_err *err);
/* Draws p into path (PNG or SVG by its extension) and releases p. */
int ee_cli_plot_end(struct ee_plot *p, const char *path, struct ee_err *err);

/* What the trace analyses (curve, budget, gates) share. */
struct ee_trace;
struct ee_dyn_result;
/* Reads a trace to analyse: ee_trace_read, and EE_ERR_INPUT for one without samples. */
int ee_cli_trace_load(struct ee_trace *t, const char *path, struct ee_err *err);
/* A model's name in reports: its checkpoint's file name without ".h5". */
const char *ee_cli_model_name(const struct ee_trace *t, char *buf, size_t size);
/* A table row built cell by cell (ee_table_row wants them all at once). */
struct ee_cli_row {
	int n;
	char cell[EE_TABLE_MAX_COLS][96];
};
void ee_cli_cell(struct ee_cli_row *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Adds the row to the table and empties it. */
void ee_cli_row_add(struct ee_table *t, struct ee_cli_row *r);
/* Column heads "exit 1" .. "exit E", "fallback" into head[0..nexits], spelled in names. */
void ee_cli_exit_heads(const char **head, char names[][16], int nexits);
/* Where the samples of a dynamic-exit result left: a cell "12.5%" per exit and the
 * fallback. (JSON: ee_report_json_shares in reports/report.h.) */
void ee_cli_share_cells(struct ee_cli_row *r, const struct ee_dyn_result *res, int nexits,
			int n);

#endif
