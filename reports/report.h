/*
 * report.h - everything `eeprof report` says about a set of models, and the
 * files it is written to.
 *
 * A report is built from traces (trace.h), one per model, all of the same data:
 * per-exit accuracy and MACs, the ensemble, a threshold sweep of dynamic exit
 * under one policy and fallback (analysis.h), the best accuracy within 25, 50,
 * 75 and 100 % of the deepest exit's mean MACs, EMG gate statistics, and with a
 * validation trace per model MSDNet's budgeted thresholds for those budgets.
 * ee_report_write() writes into a directory (the file that writes each kind in
 * brackets; report.c builds the model they all read):
 *
 *   report.json       canonical and deterministic (schema below): the same traces give
 *                     the same bytes; no time, date or directory in it  [report_json.c]
 *   report.md         the human report: tables and links to the plots, and per model
 *                     a "time and counters" section (not deterministic)  [report_md.c]
 *   exits.csv, curve.csv, gates.csv, budgets.csv (with validation traces)  [report_csv.c]
 *   timing.json       what is not deterministic: seconds, images/s, and per exit region
 *                     and per layer time, MACs, GFLOP/s and counters (schema below)
 *                     [report_json.c]
 *   plots, drawn by gnuplot from the scripts of report_plots.c:
 *   accuracy_vs_macs.{png,svg}   every model: sweep curve, per-exit points, ensemble
 *   gates.{png,svg}              open-gate (multi-scale) ratio per EMG layer, if any
 *   exits-<model>.{png,svg}      share of samples leaving at each exit per threshold
 *   layers-<model>.{png,svg}     time against MACs per layer (layertime.h), if timed
 *
 * Every file is written under a temporary name first; only when all of them (the
 * plots included) are complete are they renamed into place, report.json last. A
 * failed or interrupted run leaves the directory as it was  [report_dir.c].
 *
 * report.json (docs/report.md), schema_version 1 (EE_SCHEMA_VERSION):
 *   schema_version, generator "eeprof <version>", data (the dataset spec, directories dropped
 *   from paths), samples, labels_hash (FNV-1a 64 of the (index, label) rows: two
 *   reports of the same data have the same hash), policy, fallback,
 *   [val_data, val_samples], models[]:
 *     name (checkpoint file stem), arch, checkpoint_sha256, num_classes,
 *     exits[] {exit, accuracy (fraction), macs_mean, macs_cascade_mean, macs_min,
 *              macs_max, macs_cascade_min, macs_cascade_max},
 *     ensemble {accuracy, macs_mean},
 *     curve[] {threshold, accuracy, macs_mean, exit_share[E], fallback_share},
 *     budget_table[] {fraction, budget_macs, feasible, accuracy, threshold, macs_mean}
 *              (best sweep point within fraction x the deepest exit's macs_mean;
 *              none fits: feasible false and the point's three fields absent),
 *     gates[] {layer, exit, channels, open_ratio, std, hist[10], always_open,
 *              never_open, ring_macs_never, ring_macs_always}   (EMG layers only)
 *     budgets[] {fraction, budget_macs, feasible, thresholds[E], val {accuracy,
 *              macs_mean}, test {accuracy, macs_mean, exit_share[E], fallback_share}}
 *              (with validation traces only; none fits: feasible false, the rest absent),
 *     rule {thresholds[E] (patience: [its one number]), accuracy, macs_mean,
 *              exit_share[E], fallback_share}   (with nthr > 0 only: --threshold)
 * MACs are multiply-accumulates per sample (FLOPs = 2 x MACs); accuracies fractions.
 *
 * timing.json (docs/timing.md), schema_version 1: schema_version, generator,
 *   [wall_seconds], [ranks, rank_seconds[ranks]] (the processes of an MPI job, 1 alone, and
 *   each one's wall time), models[]:
 *   name, arch, samples, seconds, images_per_second, threads, batch,
 *   [repeat, warmup, spread {runs, median, min, max, iqr, values[]}] (seconds of the timed
 *   profile passes, report --repeat; absent in a report of traces),
 *   counters {cpu_time (CPU time was measured per layer), counted (some event was
 *            counted: events[] is not empty), events[] (the events counted), warnings[]
 *            (events asked for but not counted, and why)},
 *   exits[] {exit, layers, <cost>}: the layers of the exit's region (the layers that run
 *            first for that exit: its stage) summed,
 *   layers[] {name, kind, exit, head, <cost>}
 * where <cost> is macs_mean (executed, per sample), seconds (wall time over the pass),
 * us_per_sample, gflops (2 x MACs / time), cpu_seconds (thread CPU time), ipc
 * (PAPI_TOT_INS / PAPI_TOT_CYC), events {name: count over the pass} and
 * cache_misses_per_sample {name: count per sample} of the cache-miss events among them;
 * null where not measured or not countable.
 */
#ifndef EE_REPORT_H
#define EE_REPORT_H

#include <stdbool.h>
#include <stdio.h>

#include "analysis.h"
#include "calibration.h"
#include "difficulty.h"
#include "layertime.h"
#include "plot.h"
#include "trace.h"

#define EE_REPORT_NFRAC 4     /* budgets: 25, 50, 75, 100 % of the deepest exit */
#define EE_REPORT_MAX_CURVE 256 /* sweep points per model */

extern const double ee_report_fractions[EE_REPORT_NFRAC];

struct ee_report_gate {
	char *layer;
	struct ee_gate_stats s; /* by_class, always and never freed with the report */
	int exit, channels;
};

/* One point of the budget table: the best sweep point within a budget. */
struct ee_report_point {
	double budget;          /* MACs */
	int index;              /* into curve, or -1 if no point fits */
};

/* MSDNet's thresholds chosen on the validation trace for one budget. */
struct ee_report_budget {
	double budget;          /* MACs */
	bool feasible;
	struct ee_exit_rule rule;
	struct ee_dyn_result val, test;
};

struct ee_report_model {
	char name[256];          /* file stem of the checkpoint */
	char arch[32], sha256[65];
	int nexits, num_classes, n;
	double exit_macs[4][EE_MAX_EXITS]; /* standalone min, max, cascade min, max */
	struct ee_exit_stats stats;
	int ncurve;
	struct ee_dyn_result curve[EE_REPORT_MAX_CURVE];
	struct ee_report_point table[EE_REPORT_NFRAC];
	int ngates;
	struct ee_report_gate *gates; /* [ngates] */
	bool has_val;
	struct ee_report_budget budgets[EE_REPORT_NFRAC];
	bool has_rule;           /* the report's --threshold rule applied (r->nthr > 0): */
	struct ee_exit_rule rule;       /* its thresholds for this model's exits */
	struct ee_dyn_result applied;   /* and its result on the trace */
	/* report_extra.c: calibration per exit (temperatures with a val trace that has
	 * logits), and under class_rule (the rule given, else 0.9; patience 1) the exit
	 * each class's samples take and the gates against difficulty */
	struct ee_model_calibration cal;
	struct ee_exit_rule class_rule;
	struct ee_dyn_result class_ruled; /* where class_rule sends the samples */
	long *class_exits;            /* [num_classes][E + 1] samples per class and exit */
	long *class_n;                /* [num_classes] samples per class */
	bool has_difficulty;
	struct ee_gate_difficulty difficulty;
	/* timing, never in report.json */
	double seconds;          /* the profile pass; with runs, the median of runs[] */
	int nruns, warmup;       /* timed passes (report --repeat) and untimed ones first */
	double *runs;            /* [nruns] seconds of each timed pass (malloc'd); NULL: not
				    measured here (a report of traces) */
	int threads, batch, nlayers;
	struct ee_trace_layer *layers; /* [nlayers], names owned */
	struct ee_trace_counters counters; /* of the layers, owned */
};

/* Time, MACs and counters of one exit region or one layer of a model. */
struct ee_report_cost {
	int layers;          /* layers summed */
	double macs;         /* executed MACs per sample */
	double seconds;      /* wall time over the pass */
	double cpu_seconds;  /* thread CPU time over the pass; NAN if not counted */
	double gflops;       /* 2 x MACs / seconds, in 1e9; NAN without time */
	double ipc;          /* PAPI_TOT_INS / PAPI_TOT_CYC; NAN without them */
	double events[EE_TRACE_MAX_COUNTERS]; /* [counters.n] counts over the pass */
};

/* Exit k's (0-based) region, or layer i, of m. */
void ee_report_exit_cost(const struct ee_report_model *m, int k, struct ee_report_cost *c);
void ee_report_layer_cost(const struct ee_report_model *m, int i, struct ee_report_cost *c);
/* The layers of m per sample for layertime.h, into l[m->nlayers] (names borrowed). */
void ee_report_layer_times(const struct ee_report_model *m, struct ee_layer_time *l);

struct ee_report {
	char data[256];
	int samples;
	char labels_hash[32];
	enum ee_policy policy;
	enum ee_fallback fallback;
	int nthr;                /* a rule applied beside the sweep (--threshold): 0 none, */
	double thr[EE_MAX_EXITS]; /* [nthr] 1 value for every exit, or 1 per exit; set after init */
	char val_data[256];
	int val_samples;
	int nmodels;
	struct ee_report_model *models; /* [nmodels] */
	double wall_seconds;     /* set by the caller for timing.json; 0: not shown */
	int ranks;               /* processes of the MPI job that made it; 0: not shown */
	double *rank_seconds;    /* [ranks] each one's wall time (malloc'd; released with r) */
	bool log_x;               /* plots: log MACs axis even when the models span < 5x */
};

struct ee_report_write_opts {
	bool plots;              /* draw the PNG and SVG plots */
	const char *gnuplot;     /* the program; NULL: EE_PLOT_PROGRAM */
	const struct ee_plot_look *look; /* size and font of every plot, title of
					  * accuracy_vs_macs; NULL: defaults */
};

void ee_report_init(struct ee_report *r, enum ee_policy p, enum ee_fallback f);
void ee_report_release(struct ee_report *r);

/*
 * Analyses trace t (and val, if not NULL: MSDNet budgets) into a new model of the
 * report, named after the stem of t->checkpoint. EE_ERR_INPUT if t is of other data
 * or samples than the models before it (or val than their val traces), if val is
 * of another checkpoint, or if a model of that name is already in the report;
 * EE_ERR_USAGE if r->thr does not fit the model's exits (ee_rule_thresholds).
 */
int ee_report_add(struct ee_report *r, const struct ee_trace *t, const struct ee_trace *val,
		  struct ee_err *err);
/* The same, the model named name (NULL: the checkpoint's stem). */
int ee_report_add_named(struct ee_report *r, const struct ee_trace *t, const struct ee_trace *val,
			const char *name, struct ee_err *err);

/* Records that model m's profile pass was timed n times (runs[n], seconds each) after warmup
 * untimed ones; timing.json then gives repeat, warmup and their spread. */
int ee_report_set_runs(struct ee_report_model *m, const double *runs, int n, int warmup,
		       struct ee_err *err);

/* "model" from "dir/model.h5"; "fashion-mnist:test" or "h5:data.h5" from a spec. */
void ee_report_stem(const char *path, char *buf, size_t size);
void ee_report_data_name(const char *spec, char *buf, size_t size);

/* The files one by one (the writer functions behind ee_report_write). */
void ee_report_json(const struct ee_report *r, FILE *f);
void ee_report_timing(const struct ee_report *r, FILE *f);
void ee_report_markdown(const struct ee_report *r, bool plots, FILE *f);
void ee_report_csv_exits(const struct ee_report *r, FILE *f);
void ee_report_csv_curve(const struct ee_report *r, FILE *f);
void ee_report_csv_gates(const struct ee_report *r, FILE *f);
void ee_report_csv_budgets(const struct ee_report *r, FILE *f);
/* Plot scripts (data and commands) for plot.h. */
void ee_report_plot_accuracy(const struct ee_report *r, struct ee_plot *p);
void ee_report_plot_gates(const struct ee_report *r, struct ee_plot *p);
void ee_report_plot_exits(const struct ee_report *r, const struct ee_report_model *m,
			  struct ee_plot *p);
/* Time against MACs per layer of m; returns its points (0: nothing to draw). */
int ee_report_plot_layers(const struct ee_report_model *m, struct ee_plot *p);

/*
 * Parts of report.json, for the commands that print the same fields (eeprof curve,
 * budget, gates): exits[] and ensemble; curve[] (each point with its shares) and
 * budget_table[]; and where the samples of a dynamic-exit result left, exit_share[E]
 * and fallback_share as fractions of n. report.json has them with
 * EE_REPORT_JSON_RANGES, the commands with EE_REPORT_JSON_COUNTS.
 */
enum ee_report_json_flags {
	EE_REPORT_JSON_RANGES = 1 << 0, /* exits[]: macs_min, macs_max, macs_cascade_min, _max */
	EE_REPORT_JSON_COUNTS = 1 << 1, /* shares: exit_count[E] and fallback_count */
};
struct ee_json;
void ee_report_json_exits(struct ee_json *j, const struct ee_report_model *m, unsigned flags);
void ee_report_json_curve(struct ee_json *j, const struct ee_report_model *m, unsigned flags);
void ee_report_json_shares(struct ee_json *j, const struct ee_dyn_result *d, int nexits, long n,
			   unsigned flags);

/* Fills m->table from m->curve. ee_report_add does; call it again after changing the
 * curve (eeprof curve --thresholds leaves one point, the rule given, in it). */
void ee_report_budget_table(struct ee_report_model *m);

/* Shared by the writers: m's layers per sample (layertime.h), or NULL when out of memory
 * (free() it); a model name fit for a file name (characters other than [A-Za-z0-9._-]
 * become '_'). */
struct ee_layer_time *ee_report_layer_times_new(const struct ee_report_model *m);
void ee_report_file_name(const char *name, char *buf, size_t size);

/* Writes every file into dir (made if missing), atomically as a set (see above). */
int ee_report_write(const struct ee_report *r, const char *dir,
		    const struct ee_report_write_opts *o, struct ee_err *err);

#endif
