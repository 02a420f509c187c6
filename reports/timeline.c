/*
 * timeline.c - per-layer timeline of a run as Chrome trace events; see timeline.h.
 */
#include "timeline.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/outfile.h"
#include "json.h"

/* ---------------------------------------------------------------- recording */

static void on_begin(void *ctx, int lane, int node)
{
	struct ee_timeline *tl = ctx;

	if (tl->inner)
		tl->inner->begin(tl->inner->ctx, lane, node);
	tl->lanes[lane].t0 = ee_now();
}

/* Room for one more event in lane l; false when full or out of memory. */
static bool room(struct ee_timeline *tl, struct ee_timeline_lane *l)
{
	struct ee_timeline_event *ev;
	long cap;

	if (l->count < l->cap)
		return true;
	cap = l->cap ? 2 * l->cap : 1024;
	if (!(ev = realloc(l->ev, (size_t)cap * sizeof(*ev)))) {
		tl->failed = true;
		return false;
	}
	l->ev = ev;
	l->cap = cap;
	return true;
}

static void on_end(void *ctx, int lane, int node, int n)
{
	struct ee_timeline *tl = ctx;
	const struct ee_timeline_node *nd = &tl->nodes[node];
	struct ee_timeline_lane *l = &tl->lanes[lane];
	double t1 = ee_now();
	struct ee_timeline_event *e;
	long open = 0;
	int j;

	if (tl->inner)
		tl->inner->end(tl->inner->ctx, lane, node, n);
	if (tl->paused)
		return;
	/* lanes record concurrently: the total is only an estimate, exact per lane */
	if (tl->total >= EE_TIMELINE_MAX_EVENTS || !room(tl, l)) {
		__atomic_add_fetch(&tl->dropped, 1, __ATOMIC_RELAXED);
		return;
	}
	__atomic_add_fetch(&tl->total, 1, __ATOMIC_RELAXED);
	if (nd->gated)
		for (j = 0; j < n; j++)
			open += tl->run->lanes[lane].open[j];
	e = &l->ev[l->count++];
	e->node = node;
	e->n = n;
	e->t0 = l->t0;
	e->t1 = t1;
	e->open = open;
	e->macs = nd->macs * n + nd->gate_macs * open;
}

/* The nodes of r's model as the file names them. */
static bool copy_nodes(struct ee_timeline *tl, const struct ee_model *m)
{
	int i;

	tl->nnodes = m->nnodes;
	if (!(tl->nodes = calloc((size_t)m->nnodes + 1, sizeof(*tl->nodes))))
		return false;
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];
		struct ee_timeline_node *t = &tl->nodes[i];

		t->kind = n->layer->ops->kind;
		if (!(t->name = strdup(n->layer->name ? n->layer->name : t->kind)))
			return false;
		t->exit = n->exit;
		t->head = n->head;
		t->gated = n->gate_index >= 0;
		t->macs = n->cost.macs;
		t->gate_macs = n->cost.gate_macs;
	}
	return true;
}

int ee_timeline_attach(struct ee_timeline *tl, struct ee_run *r, struct ee_err *err)
{
	memset(tl, 0, sizeof(*tl));
	tl->run = r;
	tl->nlanes = r->nlanes;
	tl->lanes = calloc((size_t)r->nlanes, sizeof(*tl->lanes));
	tl->mark = calloc((size_t)r->nlanes, sizeof(*tl->mark));
	if (!tl->lanes || !tl->mark || !copy_nodes(tl, r->m)) {
		ee_timeline_release(tl);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a timeline");
	}
	tl->inner = r->hooks;
	tl->hooks.begin = on_begin;
	tl->hooks.end = on_end;
	tl->hooks.ctx = tl;
	r->hooks = &tl->hooks;
	tl->start = tl->batch_start = ee_now();
	return EE_OK;
}

void ee_timeline_batch(struct ee_timeline *tl, int first, int n)
{
	struct ee_timeline_batch *b;
	int l;

	if (tl->nbatches == tl->batch_cap) {
		int cap = tl->batch_cap ? 2 * tl->batch_cap : 64;
		struct ee_timeline_batch *nb = realloc(tl->batches, (size_t)cap * sizeof(*nb));

		if (!nb) {
			tl->failed = true;
			return;
		}
		tl->batches = nb;
		tl->batch_cap = cap;
	}
	b = &tl->batches[tl->nbatches++];
	memset(b, 0, sizeof(*b));
	b->first = first;
	b->n = n;
	b->t0 = tl->batch_start;
	b->t1 = tl->batch_start = ee_now();
	for (l = 0; l < tl->nlanes; l++) {
		const struct ee_timeline_lane *ln = &tl->lanes[l];
		long i;

		for (i = tl->mark[l]; i < ln->count; i++) {
			b->macs += ln->ev[i].macs;
			b->open += ln->ev[i].open;
		}
		tl->mark[l] = ln->count;
	}
}

void ee_timeline_pause(struct ee_timeline *tl)
{
	tl->paused = true;
}

void ee_timeline_resume(struct ee_timeline *tl)
{
	tl->paused = false;
	tl->batch_start = ee_now();
}

void ee_timeline_detach(struct ee_timeline *tl, struct ee_run *r)
{
	if (r->hooks == &tl->hooks)
		r->hooks = tl->inner;
	tl->run = NULL;
}

void ee_timeline_release(struct ee_timeline *tl)
{
	int l;

	for (l = 0; tl->nodes && l < tl->nnodes; l++)
		free(tl->nodes[l].name);
	free(tl->nodes);
	for (l = 0; tl->lanes && l < tl->nlanes; l++)
		free(tl->lanes[l].ev);
	free(tl->lanes);
	free(tl->mark);
	free(tl->batches);
	memset(tl, 0, sizeof(*tl));
}

/* ---------------------------------------------------------------- writing */

/* Where the timelines are written, on one clock. */
struct out {
	struct ee_json j;
	double base; /* ee_now() of ts 0 */
	int pid;
};

/* Microseconds since the start. */
/* Microseconds since the base, on a grid of 1 ns: spans that nest in time nest in the
 * file too, however long the run (ts and dur are printed to the nanosecond). */
static double us(const struct out *o, double t)
{
	return round((t - o->base) * 1e9) / 1e3;
}

static void meta(struct out *o, const char *what, int tid, const char *name)
{
	struct ee_json *j = &o->j;

	ee_json_begin(j, NULL, '{');
	ee_json_str(j, "name", what);
	ee_json_str(j, "ph", "M");
	ee_json_int(j, "pid", o->pid);
	ee_json_int(j, "tid", tid);
	ee_json_begin(j, "args", '{');
	ee_json_str(j, "name", name);
	ee_json_end(j);
	ee_json_end(j);
}

/* Opens a complete event; the caller adds args and closes it. */
static struct ee_json *span(struct out *o, const char *name, const char *cat, int tid, double t0,
			    double t1)
{
	struct ee_json *j = &o->j;

	ee_json_begin(j, NULL, '{');
	ee_json_str(j, "name", name);
	ee_json_str(j, "cat", cat);
	ee_json_str(j, "ph", "X");
	ee_json_fixed(j, "ts", us(o, t0), 3);
	ee_json_fixed(j, "dur", us(o, t1) - us(o, t0), 3);
	ee_json_int(j, "pid", o->pid);
	ee_json_int(j, "tid", tid);
	ee_json_begin(j, "args", '{');
	return j;
}

static void close_span(struct ee_json *j)
{
	ee_json_end(j); /* args */
	ee_json_end(j);
}

static void counter(struct out *o, const char *name, const char *key, double t, double v)
{
	struct ee_json *j = &o->j;

	ee_json_begin(j, NULL, '{');
	ee_json_str(j, "name", name);
	ee_json_str(j, "ph", "C");
	ee_json_fixed(j, "ts", us(o, t), 3);
	ee_json_int(j, "pid", o->pid);
	ee_json_begin(j, "args", '{');
	ee_json_num(j, key, v);
	ee_json_end(j);
	ee_json_end(j);
}

static void batches(struct out *o, const struct ee_timeline *tl)
{
	char name[64];
	int b;

	for (b = 0; b < tl->nbatches; b++) {
		const struct ee_timeline_batch *x = &tl->batches[b];
		struct ee_json *j;

		snprintf(name, sizeof(name), "batch %d", b + 1);
		j = span(o, name, "batch", 0, x->t0, x->t1);
		ee_json_int(j, "first", x->first);
		ee_json_int(j, "samples", x->n);
		ee_json_num(j, "macs", x->macs);
		ee_json_int(j, "open_gates", x->open);
		close_span(j);
		counter(o, "executed MACs", "MACs", x->t0, x->macs);
		counter(o, "open gates", "gates", x->t0, (double)x->open);
	}
}

/* The end of the run of events from i on with the same key (region or head of an exit,
 * in one call size: a new micro-batch starts a new run). */
static long run_end(const struct ee_timeline *tl, const struct ee_timeline_lane *l, long i,
		    bool heads)
{
	const struct ee_timeline_node *a = &tl->nodes[l->ev[i].node];
	long k;

	for (k = i + 1; k < l->count; k++) {
		const struct ee_timeline_node *b = &tl->nodes[l->ev[k].node];

		if (b->exit != a->exit || (heads && !b->head) || l->ev[k].node <= l->ev[k - 1].node)
			break;
	}
	return k;
}

/* Region spans (and a samples counter), exit head spans and layer spans of one lane. */
/* Exit head spans among events [i, k) of one region run. */
static void heads(struct out *o, const struct ee_timeline *tl, int li, long i, long k)
{
	const struct ee_timeline_lane *l = &tl->lanes[li];
	char name[64];
	long h, e;

	for (h = i; h < k; h = e) {
		const struct ee_timeline_node *b = &tl->nodes[l->ev[h].node];
		struct ee_json *j;

		e = h + 1;
		if (!b->head)
			continue;
		e = run_end(tl, l, h, true);
		snprintf(name, sizeof(name), "exit %d head", b->exit);
		j = span(o, name, "exit", 1 + li, l->ev[h].t0, l->ev[e - 1].t1);
		ee_json_int(j, "exit", b->exit);
		ee_json_int(j, "samples", l->ev[h].n);
		close_span(j);
	}
}

/* Region spans (and a samples counter), exit head spans and layer spans of one lane. */
static void lane_events(struct out *o, const struct ee_timeline *tl, int li)
{
	const struct ee_timeline_lane *l = &tl->lanes[li];
	char name[64], track[64];
	struct ee_json *j;
	long i, k, h;

	snprintf(track, sizeof(track), "samples lane %d", li);
	for (i = 0; i < l->count; i = k) {
		const struct ee_timeline_node *a = &tl->nodes[l->ev[i].node];

		k = run_end(tl, l, i, false);
		snprintf(name, sizeof(name), "region %d", a->exit);
		j = span(o, name, "region", 1 + li, l->ev[i].t0, l->ev[k - 1].t1);
		ee_json_int(j, "exit", a->exit);
		ee_json_int(j, "samples", l->ev[i].n);
		close_span(j);
		counter(o, track, "samples", l->ev[i].t0, l->ev[i].n);
		heads(o, tl, li, i, k);
		for (h = i; h < k; h++) {
			const struct ee_timeline_event *ev = &l->ev[h];
			const struct ee_timeline_node *b = &tl->nodes[ev->node];

			j = span(o, b->name, "layer", 1 + li, ev->t0, ev->t1);
			ee_json_str(j, "kind", b->kind);
			ee_json_int(j, "exit", b->exit);
			ee_json_int(j, "samples", ev->n);
			ee_json_num(j, "macs", ev->macs);
			if (b->gated)
				ee_json_int(j, "open_gates", ev->open);
			close_span(j);
		}
	}
}

static void write_json(FILE *f, const struct ee_timeline *const *tl, const char *const *names,
		       int count)
{
	struct out o = { .base = count ? tl[0]->start : 0 };
	struct ee_json *j = &o.j;
	char name[32];
	long dropped = 0;
	int i, l;

	ee_json_init(j, f);
	ee_json_begin(j, NULL, '{');
	ee_json_begin(j, "traceEvents", '[');
	for (i = 0; i < count; i++) {
		o.pid = i + 1;
		meta(&o, "process_name", 0, names[i]);
		meta(&o, "thread_name", 0, "batches");
		for (l = 0; l < tl[i]->nlanes; l++) {
			snprintf(name, sizeof(name), "lane %d", l);
			meta(&o, "thread_name", 1 + l, name);
		}
		batches(&o, tl[i]);
		for (l = 0; l < tl[i]->nlanes; l++)
			lane_events(&o, tl[i], l);
		dropped += tl[i]->dropped;
	}
	ee_json_end(j);
	ee_json_str(j, "displayTimeUnit", "ms");
	ee_json_begin(j, "otherData", '{');
	ee_json_str(j, "generator", "eeprof");
	ee_json_int(j, "dropped_events", dropped);
	ee_json_end(j);
	ee_json_end(j);
	fputc('\n', f);
}

int ee_timeline_write(const struct ee_timeline *const *tl, const char *const *names, int count,
		      const char *path, struct ee_err *err)
{
	struct ee_out o;
	FILE *f;
	int rc, i;

	for (i = 0; i < count; i++)
		if (tl[i]->failed)
			return ee_err_set(err, EE_ERR_NOMEM, "out of memory recording the timeline");
	if ((rc = ee_out_begin(&o, path, err)) < 0)
		return rc;
	if (!(f = fopen(o.tmp, "w"))) {
		ee_out_abort(&o);
		return ee_err_set(err, EE_ERR_IO, "cannot write timeline '%s'", path);
	}
	write_json(f, tl, names, count);
	if (ferror(f) | fclose(f)) {
		ee_out_abort(&o);
		return ee_err_set(err, EE_ERR_IO, "cannot write timeline '%s'", path);
	}
	return ee_out_commit(&o, err);
}
