/*
 * timeline.h - a per-layer timeline of a run, written as a Chrome trace-event JSON
 * file (the format chrome://tracing, Perfetto and speedscope open).
 *
 * A recorder attaches to a run (core/exec.h) through its node hooks (chaining any
 * hooks already there, e.g. counters) and keeps, per lane (thread), one event per
 * node per micro-batch: the node, its start and end, the samples it ran on and the
 * MACs it executed (its per-sample MACs times the samples, plus the ring MACs of the
 * gates that opened). The caller marks the end of every batch (ee_timeline_batch).
 *
 * The file is {"traceEvents": [...], "displayTimeUnit": "ms", "otherData": {...}}:
 *   - process and thread names (ph "M"): pid 1 (2, ...: one per timeline written
 *     together, e.g. per model of a report) is named by the caller;
 *     tid 0 "batches", tid 1 + L "lane L" (one per thread running micro-batches);
 *   - complete events (ph "X", ts and dur in microseconds from the start):
 *       cat "batch"   on tid 0, one per batch: "batch B", args first, samples, macs,
 *                     open_gates
 *       cat "region"  on a lane, "region k": consecutive layers of exit k's region in
 *                     one micro-batch, args exit, samples
 *       cat "exit"    on a lane, "exit k head": consecutive layers of exit k's head,
 *                     args exit, samples
 *       cat "layer"   on a lane, the layer's name: args kind, exit, samples, macs
 *   - counter events (ph "C") on pid 1: "executed MACs" {"MACs"} and "open gates"
 *     {"gates"} at each batch's start with that batch's totals, and "samples lane L"
 *     {"samples"} at each region's start: under real early exit (eeprof run) the
 *     micro-batch shrinks from region to region as samples leave (compaction).
 * Layer events nest inside exit and region events on their lane (same start or end).
 * At most EE_TIMELINE_MAX_EVENTS layer events are kept per timeline; later ones are
 * counted as dropped ("otherData": {"dropped_events": n}, summed).
 */
#ifndef EE_TIMELINE_H
#define EE_TIMELINE_H

#include <stdbool.h>

#include "core/exec.h"
#include "core/status.h"

#define EE_TIMELINE_MAX_EVENTS (4L << 20)

struct ee_timeline_event {
	int node, n;          /* node id, samples in the call */
	double t0, t1;        /* seconds, ee_now() */
	double macs;          /* executed MACs of the call */
	long open;            /* gates opened in the call (gated nodes) */
};

struct ee_timeline_lane {
	struct ee_timeline_event *ev; /* [count] in time order */
	long count, cap;
	double t0;                    /* begin of the node running now */
};

struct ee_timeline_batch {
	int first, n;
	double t0, t1, macs;
	long open;
};

/* What the file says about a node (copied: the model may be gone when it is written). */
struct ee_timeline_node {
	char *name;
	const char *kind;             /* the layer kind's static name */
	int exit;                     /* region, 1-based */
	bool head, gated;
	double macs, gate_macs;       /* per sample; per open gate */
};

struct ee_timeline {
	const struct ee_run *run;     /* while attached */
	int nnodes;
	struct ee_timeline_node *nodes; /* [nnodes] */
	struct ee_run_hooks hooks;    /* installed into the run */
	const struct ee_run_hooks *inner; /* the hooks that were there (called too) */
	int nlanes;
	struct ee_timeline_lane *lanes; /* [nlanes] */
	long *mark;                   /* [nlanes] events before the current batch */
	struct ee_timeline_batch *batches;
	int nbatches, batch_cap;
	double start, batch_start;    /* ee_now() at attach, at the current batch's start */
	int pid;                      /* while writing */
	bool paused;
	long total, dropped;
	bool failed;                  /* out of memory while recording */
};

/* Attaches a recorder to run r (already initialised; its hooks, if any, are kept and
 * still called; attach after them, detach before them). EE_ERR_NOMEM. */
int ee_timeline_attach(struct ee_timeline *tl, struct ee_run *r, struct ee_err *err);
/* Marks the end of a batch of n samples starting at first (call after each forward,
 * from one thread); the next batch starts now. */
void ee_timeline_batch(struct ee_timeline *tl, int first, int n);
/* While paused (after attach: not), the recorder calls the hooks it wraps and records
 * nothing; resuming starts the next batch now (eeprof run times its dynamic pass only). */
void ee_timeline_pause(struct ee_timeline *tl);
void ee_timeline_resume(struct ee_timeline *tl);
/* Puts the run's hooks back as they were; the events stay for writing. */
void ee_timeline_detach(struct ee_timeline *tl, struct ee_run *r);
void ee_timeline_release(struct ee_timeline *tl);

/* Writes count timelines into one JSON file atomically (core/outfile.h), timeline i as
 * process pid i + 1 named names[i] (e.g. "emgnet20-w8-fmnist"), all on one clock (the
 * first one's start is 0). EE_ERR_NOMEM if recording ran out of memory, EE_ERR_IO. */
int ee_timeline_write(const struct ee_timeline *const *tl, const char *const *names, int count,
		      const char *path, struct ee_err *err);

#endif
