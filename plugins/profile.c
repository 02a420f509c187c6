/*
 * profile.c - one inference pass of a checkpoint over a dataset into a trace;
 * see profile.h. The loop is plugins/loop.c's, the rows of exits plugins/rows.c's;
 * this file adds the gates, the layer table and the counters.
 */
#include "profile.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/sha256.h"
#include "core/threads.h"
#include "plugins/dist.h"
#include "plugins/loop.h"
#include "plugins/rows.h"
#include "reports/timeline.h"

/* What the batch callback needs besides the trace. */
struct fill {
	struct ee_trace *t;
	const struct ee_dataset *ds;
	const struct ee_profile_opts *o;
	int offset;
	long done;
	double *open_sum;  /* [G] open gates of each gated layer summed over samples */
	float *prob;       /* [K] softmax scratch when the trace does not keep it */
	double *ens;       /* [K] softmax summed over the exits */
};

static void fill_gates(struct fill *f, const struct ee_run *r, int i, int row)
{
	struct ee_trace *t = f->t;
	int g;

	for (g = 0; g < t->ngated; g++) {
		size_t ch = (size_t)t->gated[g].channels;
		int32_t open = r->open[(size_t)g * r->max_batch + i];

		memcpy(t->bits[g] + row * ch, ee_run_gates(r, g, i), ch);
		t->open[(size_t)row * t->ngated + g] = open;
		f->open_sum[g] += open;
	}
}

static int fill_batch(void *ctx, const struct ee_run *r, int first, struct ee_err *err)
{
	struct fill *f = ctx;
	int i;

	(void)err;
	for (i = 0; i < r->n; i++) {
		int row = first - f->offset + i;

		f->t->index[row] = ee_dataset_position(f->ds, first + i);
		f->t->label[row] = f->ds->labels[first + i];
		ee_rows_sample(f->t, row, r, i, f->prob, f->ens);
		fill_gates(f, r, i, row);
	}
	f->done += r->n;
	if (f->o->timeline)
		ee_timeline_batch(f->o->timeline, first, r->n);
	if (f->o->progress)
		f->o->progress(f->o->progress_ctx, f->done, f->t->n);
	return EE_OK;
}

/* "conv2d+bn1+relu": the kind and what was fused into it. */
static char *kind_name(const struct ee_layer *l)
{
	size_t size = strlen(l->ops->kind) + (l->fused ? strlen(l->fused) + 1 : 0) + 1;
	char *s = malloc(size);

	if (s)
		snprintf(s, size, "%s%s%s", l->ops->kind, l->fused ? "+" : "",
			 l->fused ? l->fused : "");
	return s;
}

/* Per node: name, kind, region, time and mean executed MACs (gates at their mean). */
static int fill_layers(struct ee_trace *t, const struct ee_run *r, const double *open_sum)
{
	const struct ee_model *m = r->m;
	int i;

	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];
		struct ee_trace_layer *l = &t->layers[i];

		l->name = strdup(n->layer->name ? n->layer->name : "");
		l->kind = kind_name(n->layer);
		if (!l->name || !l->kind)
			return EE_ERR_NOMEM;
		l->exit = n->exit;
		l->head = n->head;
		l->seconds = r->seconds[i];
		l->macs = n->cost.macs;
		if (n->gate_index >= 0)
			l->macs += n->cost.gate_macs * open_sum[n->gate_index] / t->n;
	}
	return EE_OK;
}

/* Sizes the trace for count samples of the model and fills what is known before running. */
static int start_trace(struct ee_trace *t, const struct ee_net *net, const char *checkpoint,
		       const char *data, const struct ee_dataset *ds, int count, bool softmax,
		       struct ee_err *err)
{
	const struct ee_model *m = &net->model;
	int *channels = malloc(((size_t)m->ngated + 1) * sizeof(*channels));
	int g, rc;

	if (!channels)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	for (g = 0; g < m->ngated; g++)
		channels[g] = m->nodes[m->gated[g]].cost.gates;
	rc = ee_trace_alloc(t, count, m->nexits, net->ck.num_classes, softmax, m->ngated, channels,
			    m->nnodes, err);
	free(channels);
	if (rc < 0)
		return rc;
	ee_rows_identity(t, net, checkpoint, data, ds);
	for (g = 0; g < m->ngated; g++) {
		const struct ee_node *n = &m->nodes[m->gated[g]];

		if (!(t->gated[g].name = strdup(n->layer->name ? n->layer->name : "")))
			return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
		t->gated[g].exit = n->exit;
		t->gated[g].ring_macs = n->cost.gate_macs;
	}
	return ee_sha256_file(checkpoint, t->ckpt_sha256, err);
}

/* What counter set c measured per node into t's layers (made for the same model). */
static int fill_counters(struct ee_trace *t, const struct ee_counters *c,
			 const struct ee_counts *counts, struct ee_err *err)
{
	struct ee_trace_counters *tc = &t->counters;
	int i, j, rc = ee_trace_counters_alloc(tc, t->nlayers, c->nevents, c->nwarn, err);

	for (j = 0; rc == EE_OK && j < c->nevents; j++)
		if (!(tc->names[j] = strdup(c->event[j])))
			rc = EE_ERR_NOMEM;
	for (j = 0; rc == EE_OK && j < c->nwarn; j++)
		if (!(tc->warn[j] = strdup(c->warn[j])))
			rc = EE_ERR_NOMEM;
	for (i = 0; rc == EE_OK && i < t->nlayers; i++) {
		const long long *ch = counts->v + (size_t)i * counts->nch;

		t->layers[i].cpu_seconds = 1e-9 * (double)ch[EE_CH_VIRT];
		for (j = 0; j < c->nevents; j++)
			tc->values[(size_t)i * c->nevents + j] = (double)ch[EE_CH_EVENTS + j];
	}
	return rc == EE_ERR_NOMEM ? ee_err_set(err, rc, "out of memory") : rc;
}

/* The loop over the samples, counted when o->counters is set (attached for the loop
 * only, and its warnings, those of detaching included, kept in the trace). */
static int counted_loop(struct ee_trace *t, struct ee_run *run, const struct ee_net *net,
			const struct ee_dataset *ds, const struct ee_profile_opts *o,
			struct fill *f, struct ee_err *err)
{
	struct ee_counters *c = o->counters;
	struct ee_counts counts = { 0 };
	int rc;

	if (c && ((rc = ee_counts_init(&counts, net->model.nnodes, c->nch, err)) < 0 ||
		  (rc = ee_counters_attach(c, run, err)) < 0)) {
		ee_counts_release(&counts);
		return rc;
	}
	if (o->timeline && (rc = ee_timeline_attach(o->timeline, run, err)) < 0) {
		if (c)
			ee_counters_detach(c);
		ee_counts_release(&counts);
		return rc;
	}
	rc = ee_loop_dataset(run, net, ds, o->offset, t->n, fill_batch, f, &t->seconds, err);
	if (o->timeline)
		ee_timeline_detach(o->timeline, run);
	if (c) {
		ee_counters_collect(c, &counts);
		ee_counters_detach(c);
		if (rc == EE_OK)
			rc = fill_counters(t, c, &counts, err);
		ee_counts_release(&counts);
	}
	return rc;
}

/* Runs the selected samples into t (started) and fills the layer table. */
static int run_pass(struct ee_trace *t, struct ee_run *run, const struct ee_net *net,
		    const struct ee_dataset *ds, const struct ee_profile_opts *o,
		    struct ee_err *err)
{
	int k = t->num_classes, rc;
	struct fill f = { t, ds, o, o->offset, 0, calloc((size_t)t->ngated + 1, sizeof(double)),
			  malloc((size_t)k * sizeof(float)), malloc((size_t)k * sizeof(double)) };

	rc = f.open_sum && f.prob && f.ens ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	run->time_layers = true;
	if (rc == EE_OK)
		rc = counted_loop(t, run, net, ds, o, &f, err);
	if (rc == EE_OK && fill_layers(t, run, f.open_sum) < 0)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	t->threads = ee_threads_get();
	t->batch = run->max_batch;
	free(f.open_sum);
	free(f.prob);
	free(f.ens);
	return rc;
}

int ee_profile_run(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		   struct ee_trace *t, struct ee_err *err)
{
	int batch = o->batch > 0 ? o->batch : 64, count = 0, rc;
	struct ee_profile_opts shard = *o;
	struct ee_dataset ds;
	struct ee_net net;
	struct ee_run run;

	memset(t, 0, sizeof(*t));
	if (strlen(checkpoint) >= sizeof(t->checkpoint) || strlen(data) >= sizeof(t->data))
		return ee_err_set(err, EE_ERR_USAGE, "checkpoint path or data spec is too long");
	if ((rc = ee_dataset_open(&ds, data, err)) < 0)
		return rc;
	ds.prep = o->prep;
	rc = ee_loop_select(&ds, o->offset, o->limit, &count, err);
	if (rc == EE_OK && o->skipped) { /* every rank checks the whole selection alike */
		memset(o->skipped, 0, sizeof(*o->skipped));
		rc = ee_dataset_keep_good(&ds, &shard.offset, &count, o->skipped, err);
	}
	if (rc == EE_OK && o->ranks > 1) { /* this rank's shard of the selection */
		int first = 0;

		ee_dist_shard(count, batch, o->rank, o->ranks, &first, &count);
		shard.offset += first;
	}
	o = &shard;
	if (rc == EE_OK && count == 0) { /* a shard without samples */
		ee_dataset_release(&ds);
		return EE_OK;
	}
	if (rc == EE_OK && (rc = ee_net_load(&net, checkpoint, err)) == EE_OK) {
		rc = ee_loop_check_classes(&net, &ds, err);
		if (rc == EE_OK)
			rc = ee_run_init(&run, &net.model, count < batch ? count : batch, false,
					 err);
		if (rc == EE_OK) {
			rc = start_trace(t, &net, checkpoint, data, &ds, count, o->softmax, err);
			if (rc == EE_OK && !o->no_logits)
				rc = ee_trace_logits_alloc(t, err);
			if (rc == EE_OK)
				rc = run_pass(t, &run, &net, &ds, o, err);
			ee_run_release(&run);
		}
		ee_net_release(&net);
	}
	ee_dataset_release(&ds);
	if (rc < 0)
		ee_trace_release(t);
	return rc;
}
