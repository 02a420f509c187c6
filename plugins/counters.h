/*
 * counters.h - time and hardware counters per layer (graph node) and per exit stage.
 *
 * A counter set measures, around every node a run executes (struct ee_run_hooks),
 * a few channels read from a back-end:
 *   channel 0  real time, ns (the monotonic clock)
 *   channel 1  the calling thread's CPU ("virtual") time, ns (PAPI_get_virt_nsec)
 *   channel 2+ the events that could be counted, in the order asked for
 * and adds the difference (end - begin) to its lane's sums, so that lanes running
 * on different threads never share a sum. One read per node: a node's begin is the
 * end of the node before it in the same stage and lane (the executor's few
 * instructions between them go to the next node); the first node of a stage reads. ee_counters_collect() adds the lanes
 * into a struct ee_counts (per node: channels, calls, samples) and clears them;
 * per stage sums are sums over the stage's nodes (model.h: the stages partition
 * the nodes), so per node and per stage figures always agree.
 *
 * Back-ends live in a static table (counters.c): "papi" (counters_papi.c: PAPI
 * preset or native names, one event set per thread and PAPI component, started at
 * a thread's first read) and "fake" (counters_fake.c: deterministic values, to test
 * the arithmetic where no counter exists). An event that cannot be counted is
 * dropped with PAPI's own reason in warn[] (events failing for the same reason
 * share one message); the set goes on with the rest, and with none it still times.
 *
 * Threads: a back-end counts the thread that reads. When one micro-batch runs with
 * its layers split over several threads (exec.h: batch 1 with --threads > 1) the
 * events and CPU time are those of the calling thread only; real time is exact.
 *
 * Counting one forward of a run (compiled by make check-headers):
 *
 *     // given: struct ee_run *run, const struct ee_tensor *x
 *     struct ee_err err = { 0 };
 *     struct ee_counters c;
 *     struct ee_counts t;
 *     if (ee_counters_open(&c, "PAPI_TOT_INS,PAPI_TOT_CYC", &err) < 0)
 *             return err.code;
 *     for (int i = 0; i < c.nwarn; i++)
 *             fprintf(stderr, "warning: %s\n", c.warn[i]);
 *     if (ee_counters_attach(&c, run, &err) < 0 ||     // installs run->hooks
 *         ee_counts_init(&t, run->m->nnodes, c.nch, &err) < 0) {
 *             ee_counters_close(&c);
 *             return err.code;
 *     }
 *     ee_run_forward(run, x);
 *     ee_counters_collect(&c, &t);                   // t += lanes; lanes = 0
 *     ee_counts_add_macs(&t, run);                   // executed MACs per node
 *     ee_counters_detach(&c);
 *     ee_counts_release(&t);
 *     ee_counters_close(&c);
 */
#ifndef EE_COUNTERS_H
#define EE_COUNTERS_H

#include <stdbool.h>
#include <stdint.h>

#include "core/exec.h"

#define EE_COUNTERS_MAX 8   /* events per set */
#define EE_COUNTERS_NAME 64 /* longest event name + 1 */
#define EE_COUNTERS_DEFAULT "PAPI_TOT_INS,PAPI_TOT_CYC,PAPI_L1_DCM,PAPI_L2_DCM"

enum {
	EE_CH_REAL,   /* real time, ns */
	EE_CH_VIRT,   /* CPU time of the thread, ns */
	EE_CH_EVENTS, /* first event */
	EE_CH_MAX = EE_CH_EVENTS + EE_COUNTERS_MAX,
};

/*
 * A source of channel values. open() is given the events asked for and sets why[i]
 * to a reason (static text) for each one it cannot count, NULL for the others;
 * read() then yields channels 0, 1 and the counted events in order. read() and
 * thread_done() act on the calling thread (read starts its counting the first time);
 * thread_done() stops it and may run in threads that never read. A thread whose counting
 * fails reads zeros for the events; trouble() then says why (a warning at detach).
 */
struct ee_counter_backend {
	const char *name;
	int (*open)(void **state, const char *const *events, int n, const char **why,
		    struct ee_err *err);
	void (*read)(void *state, long long *ch);
	void (*thread_done)(void *state);
	/* (optional) why some thread could not count, after it happened; NULL if none */
	const char *(*trouble)(void *state);
	void (*close)(void *state);
};

/* The table of back-ends, NULL-terminated ("papi" first: the default). */
extern const struct ee_counter_backend *const ee_counter_backends[];

/* Per node sums (over lanes, forwards and batches) of the channels. */
struct ee_counts {
	int nnodes, nch;
	long long *v;     /* [nnodes][nch] channel differences */
	long *calls;      /* [nnodes] times the node ran (once per micro-batch) */
	long *samples;    /* [nnodes] samples it ran on */
	double *macs;     /* [nnodes] executed MACs (ee_counts_add_macs) */
};

/* One lane's sums, and the channel values at the begin of its current node (a cache
 * line of its own: lanes run on different threads). */
struct ee_counter_lane {
	struct ee_counts sum;
	int last;                            /* node that ended last in this lane */
	_Alignas(64) long long start[EE_CH_MAX];
};

struct ee_counters {
	const struct ee_counter_backend *be;
	void *state;
	int nevents;                               /* events counted */
	char event[EE_COUNTERS_MAX][EE_COUNTERS_NAME]; /* their names: channel 2 + i */
	int nch;                                   /* EE_CH_EVENTS + nevents */
	int nwarn;
	char warn[EE_COUNTERS_MAX][256];           /* "PAPI_TOT_CYC not counted: <reason>" */
	bool troubled;                             /* the back-end's trouble is in warn[] */
	struct ee_run_hooks hooks;
	struct ee_run *run;                        /* attached run, or NULL */
	int nlanes;
	struct ee_counter_lane *lanes;             /* [nlanes], cache-line aligned */
	uint8_t *fresh;                            /* [nnodes] first node of a stage */
};

/*
 * Opens a set from a spec: "none" or "" (times only), "default" (EE_COUNTERS_DEFAULT),
 * or a comma list of event names, optionally after a back-end name ("fake:A,B",
 * "papi:PAPI_TOT_INS"; no prefix: papi). EE_ERR_USAGE for an unknown back-end, an
 * empty, repeated or too long name, or more than EE_COUNTERS_MAX events. Events that
 * cannot be counted are not an error: see warn[]. On failure c is left zeroed
 * (ee_counters_close on it does nothing).
 */
int ee_counters_open(struct ee_counters *c, const char *spec, struct ee_err *err);
/* Sizes the lanes for r and installs the hooks in r (r->hooks); one run at a time. */
int ee_counters_attach(struct ee_counters *c, struct ee_run *r, struct ee_err *err);
/* Adds every lane's sums into t (made for the same model and c->nch) and clears them. */
void ee_counters_collect(struct ee_counters *c, struct ee_counts *t);
/* Removes the hooks from the run and stops counting in the threads of its lanes; adds a
 * warning if some thread could not count. */
void ee_counters_detach(struct ee_counters *c);
void ee_counters_close(struct ee_counters *c);
/* Channel of a counted event (exact name), or -1. */
int ee_counters_channel(const struct ee_counters *c, const char *event);

int ee_counts_init(struct ee_counts *t, int nnodes, int nch, struct ee_err *err);
void ee_counts_release(struct ee_counts *t);
void ee_counts_clear(struct ee_counts *t);
/* Adds to every node the MACs it executed in r's last forward: for each sample whose
 * exit (r->taken) is at or past the node's stage, its MACs with that sample's gates.
 * Summed over nodes this is the sum of ee_run_sample_macs(r, taken[i], i, true). */
void ee_counts_add_macs(struct ee_counts *t, const struct ee_run *r);
/* Stage k's (0-based) sums over its nodes: channels into ch[nch], MACs and samples
 * that entered it (of its first node) into *macs and *samples (either may be NULL). */
void ee_counts_stage(const struct ee_counts *t, const struct ee_model *m, int k, long long *ch,
		     double *macs, long *samples);

#endif
