/*
 * exec.c - the executor: memory of a run, the forward loop over micro-batches
 * and lanes, and the MAC ledger. See exec.h.
 */
#include "exec.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "threads.h"

/*
 * The run's memory is laid out twice by the same code: once to measure (arena
 * NULL: only bytes are counted) and once to carve the arena, so that the size
 * and the layout cannot disagree.
 */
struct carver {
	struct ee_arena *arena; /* NULL while measuring */
	size_t bytes;
};

static void *carve(struct carver *c, size_t bytes)
{
	c->bytes += ee_align_up(bytes);
	return c->arena ? ee_arena_alloc(c->arena, bytes) : NULL;
}

static size_t gate_bytes(const struct ee_model *m, int max_batch)
{
	size_t sum = 0;
	int g;

	for (g = 0; g < m->ngated; g++)
		sum += (size_t)m->nodes[m->gated[g]].cost.gates * max_batch;
	return sum;
}

/* Most gates of one node: the width of a lane's gate scratch. */
static int max_gates(const struct ee_model *m)
{
	int g, most = 0;

	for (g = 0; g < m->ngated; g++)
		if (m->nodes[m->gated[g]].cost.gates > most)
			most = m->nodes[m->gated[g]].cost.gates;
	return most;
}

static void layout_lane(struct ee_run *r, struct carver *c, struct ee_lane *lane, int threads,
			bool keep_z)
{
	const struct ee_model *m = r->m;
	size_t rows = (size_t)r->micro * max_gates(m);
	int s;

	lane->slot = carve(c, (size_t)m->nslots * sizeof(float *));
	for (s = 0; s < m->nslots; s++) {
		float *p = carve(c, m->slot_floats[s] * (size_t)r->micro * sizeof(float));

		if (lane->slot)
			lane->slot[s] = p;
	}
	lane->work = carve(c, r->work_floats * sizeof(float) * threads);
	lane->seconds = carve(c, (size_t)m->nnodes * sizeof(double));
	lane->index = carve(c, (size_t)r->micro * sizeof(int));
	lane->gates = carve(c, rows);
	lane->gate_z = keep_z ? carve(c, rows * sizeof(float)) : NULL;
	lane->open = carve(c, (size_t)r->micro * sizeof(int32_t));
	lane->leave = carve(c, (size_t)r->micro);
}

static void layout(struct ee_run *r, struct carver *c, bool keep_z)
{
	const struct ee_model *m = r->m;
	size_t gates = gate_bytes(m, r->max_batch), off = 0;
	int i, k;

	r->lanes = carve(c, (size_t)r->nlanes * sizeof(*r->lanes));
	for (i = 0; i < r->nlanes; i++) {
		struct ee_lane dummy;

		layout_lane(r, c, r->lanes ? &r->lanes[i] : &dummy, i == 0 ? r->threads : 1, keep_z);
	}
	for (k = 0; k < m->nexits; k++)
		r->out[k] = carve(c, ee_shape_numel(m->nodes[m->exit_node[k]].shape) *
					     (size_t)r->max_batch * sizeof(float));
	r->gates = carve(c, gates);
	r->gate_z = keep_z ? carve(c, gates * sizeof(float)) : NULL;
	r->gate_off = carve(c, (size_t)m->ngated * sizeof(size_t));
	r->open = carve(c, (size_t)m->ngated * r->max_batch * sizeof(int32_t));
	r->seconds = carve(c, (size_t)m->nnodes * sizeof(double));
	r->taken = carve(c, (size_t)r->max_batch * sizeof(int));
	r->hold_index = carve(c, (size_t)r->max_batch * sizeof(int));
	for (k = 0; k + 1 < m->nexits; k++) {
		int o;

		r->hold_floats[k] = 0;
		for (o = 0; o < m->ncarry[k]; o++)
			r->hold_floats[k] += ee_shape_numel(m->nodes[m->carry[k][o]].shape);
	}
	for (i = 0; r->gate_off && i < m->ngated; i++) {
		r->gate_off[i] = off;
		off += (size_t)m->nodes[m->gated[i]].cost.gates * r->max_batch;
	}
}

int ee_run_micro(const struct ee_model *m, int max_batch)
{
	size_t per = 0;
	int s;
	long micro;

	for (s = 0; s < m->nslots; s++)
		per += m->slot_floats[s] * sizeof(float);
	micro = per ? (long)(EE_MICRO_BYTES / per) : max_batch;
	return micro < 1 ? 1 : micro > max_batch ? max_batch : (int)micro;
}

int ee_run_init_micro(struct ee_run *r, const struct ee_model *m, int max_batch, int micro,
		      bool keep_z, struct ee_err *err)
{
	struct carver c = { NULL, 0 };
	int i, rc;

	memset(r, 0, sizeof(*r));
	if (max_batch < 1)
		return ee_err_set(err, EE_ERR_USAGE, "batch size must be at least 1");
	r->m = m;
	r->max_batch = max_batch;
	r->micro = micro >= 1 && micro <= max_batch ? micro : ee_run_micro(m, max_batch);
	r->threads = ee_threads_get();
	r->nlanes = r->threads > 1 && max_batch > 1 ? r->threads : 1;
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_layer *l = m->nodes[i].layer;
		size_t w = l->ops->workspace ? l->ops->workspace(l, r->micro) : 0;

		if (w > r->work_floats)
			r->work_floats = w;
	}
	r->work_floats = ee_align_up(r->work_floats * sizeof(float)) / sizeof(float);
	layout(r, &c, keep_z);
	rc = ee_arena_init(&r->arena, c.bytes, err);
	if (rc < 0)
		return rc;
	c.arena = &r->arena;
	layout(r, &c, keep_z);
	return EE_OK;
}

int ee_run_init(struct ee_run *r, const struct ee_model *m, int max_batch, bool keep_z,
		struct ee_err *err)
{
	return ee_run_init_micro(r, m, max_batch, 0, keep_z, err);
}

void ee_run_release(struct ee_run *r)
{
	free(r->hold[0]);
	ee_arena_release(&r->arena);
	memset(r, 0, sizeof(*r));
}

/* Node i's output in a lane holding n samples. */
static struct ee_tensor lane_tensor(const struct ee_run *r, const struct ee_lane *lane, int node,
				    int n)
{
	const struct ee_node *nd = &r->m->nodes[node];
	const struct ee_node *o = &r->m->nodes[nd->owner];
	size_t plane = (size_t)nd->shape.h * nd->shape.w;
	struct ee_tensor t = { n, nd->shape.c, nd->shape.h, nd->shape.w, ee_shape_numel(o->shape),
			       lane->slot[o->slot] + (size_t)nd->coff * plane };
	return t;
}

struct ee_tensor ee_run_tensor(const struct ee_run *r, int node)
{
	return lane_tensor(r, &r->lanes[0], node, r->lanes[0].n);
}

struct ee_tensor ee_run_output(const struct ee_run *r, int k)
{
	struct ee_shape s = r->m->nodes[r->m->exit_node[k]].shape;

	return ee_tensor_dense(r->out[k], r->n, s.c, s.h, s.w);
}

double ee_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

/* The gate records of gated node nd for the lane's n rows, copied to their batch rows. */
static void scatter_gates(struct ee_run *r, const struct ee_lane *lane, const struct ee_node *nd,
			  int n)
{
	int g = nd->gate_index, c = nd->cost.gates, j;

	for (j = 0; j < n; j++) {
		size_t to = r->gate_off[g] + (size_t)lane->index[j] * c;

		memcpy(r->gates + to, lane->gates + (size_t)j * c, (size_t)c);
		if (r->gate_z)
			memcpy(r->gate_z + to, lane->gate_z + (size_t)j * c, (size_t)c * sizeof(float));
		r->open[(size_t)g * r->max_batch + lane->index[j]] = lane->open[j];
	}
}

/* Runs node i for the lane's n rows, whose network input starts at sample first (rows of a
 * dynamic run are not contiguous in the batch, but then no late stage reads the input);
 * threads > 1 splits the layer. */
static void run_node(struct ee_run *r, struct ee_lane *lane, int i, int first, int n, int threads)
{
	const struct ee_node *nd = &r->m->nodes[i];
	struct ee_tensor in[EE_LAYER_MAX_IN];
	struct ee_exec x = { 0 };
	int j;

	for (j = 0; j < nd->nin; j++) {
		if (nd->in[j] != EE_NODE_INPUT) {
			in[j] = lane_tensor(r, lane, nd->in[j], n);
			continue;
		}
		in[j] = r->input;
		in[j].n = n;
		in[j].data = ee_tensor_sample(&r->input, first);
	}
	x.n = n;
	x.in = in;
	x.nin = nd->nin;
	x.out = lane_tensor(r, lane, i, n);
	x.work = lane->work;
	x.work_stride = r->work_floats;
	x.threads = threads;
	x.gates = lane->gates;
	x.gate_z = lane->gate_z;
	x.open = lane->open;
	if (r->hooks)
		r->hooks->begin(r->hooks->ctx, (int)(lane - r->lanes), i);
	nd->layer->ops->forward(nd->layer, &x);
	if (r->hooks)
		r->hooks->end(r->hooks->ctx, (int)(lane - r->lanes), i, n);
	lane->ring_taps += x.ring_taps;
	if (nd->gate_index >= 0)
		scatter_gates(r, lane, nd, n);
}

/* Nodes [from, to) for the lane's n rows, timed per node if asked. */
static void run_nodes(struct ee_run *r, struct ee_lane *lane, int from, int to, int first, int n,
		      int threads)
{
	int i;

	for (i = from; i < to; i++) {
		double t0 = r->time_layers ? ee_now() : 0;

		run_node(r, lane, i, first, n, threads);
		if (r->time_layers)
			lane->seconds[i] += ee_now() - t0;
	}
}

/* Exit k's logits of the lane's n rows into r->out[k] at their batch rows. */
static void copy_logits(struct ee_run *r, const struct ee_lane *lane, int k, int n)
{
	struct ee_tensor t = lane_tensor(r, lane, r->m->exit_node[k], n);
	size_t per = (size_t)t.c * t.h * t.w;
	int j;

	for (j = 0; j < n; j++)
		memcpy(r->out[k] + (size_t)lane->index[j] * per, ee_tensor_sample(&t, j),
		       per * sizeof(float));
}

/* Moves the rows of the samples that stay (leave[j] == 0) to the front of every buffer
 * a later stage reads, and of the index; returns how many stay. */
static int compact(struct ee_run *r, struct ee_lane *lane, int k, int n)
{
	const struct ee_model *m = r->m;
	int j, live = 0, c;

	for (j = 0; j < n; j++) {
		if (lane->leave[j])
			continue;
		if (live != j) {
			for (c = 0; c < m->ncarry[k]; c++) {
				int o = m->carry[k][c];
				size_t per = ee_shape_numel(m->nodes[o].shape);
				float *base = lane->slot[m->nodes[o].slot];

				memcpy(base + live * per, base + j * per, per * sizeof(float));
			}
			lane->index[live] = lane->index[j];
		}
		live++;
	}
	return live;
}

/* Stage k's nodes on the lane's n rows (network input from sample first), timed, its
 * exit's logits into r->out[k]. */
static void run_stage(struct ee_run *r, struct ee_lane *lane, int k, int first, int n,
		      int threads)
{
	double t0 = ee_now();

	run_nodes(r, lane, k ? r->m->stage_end[k - 1] : 0, r->m->stage_end[k], first, n, threads);
	copy_logits(r, lane, k, n);
	lane->stage_seconds[k] += ee_now() - t0;
}

/* decide on the lane's n rows after exit k, into lane->leave and r->taken. */
static void exit_decisions(struct ee_run *r, struct ee_lane *lane, int k, int n,
			   ee_exit_fn decide, void *ctx)
{
	const struct ee_model *m = r->m;
	struct ee_tensor logits = lane_tensor(r, lane, m->exit_node[k], n);
	int j;

	memset(lane->leave, k == m->nexits - 1, (size_t)n);
	decide(ctx, k, &logits, lane->index, n, lane->leave);
	for (j = 0; j < n; j++)
		if (lane->leave[j] || k == m->nexits - 1)
			r->taken[lane->index[j]] = k;
}

/* The network on samples [first, first + n) in one lane, stage by stage; with decide,
 * samples leave after the stage of the exit that lets them go. */
static void run_micro(struct ee_run *r, struct ee_lane *lane, int first, int n, int threads,
		      ee_exit_fn decide, void *ctx)
{
	const struct ee_model *m = r->m;
	int j, k;

	lane->n = n;
	for (j = 0; j < n; j++)
		lane->index[j] = first + j;
	for (k = 0; k < m->nexits && n > 0; k++) {
		run_stage(r, lane, k, first, n, threads);
		if (!decide)
			continue;
		exit_decisions(r, lane, k, n, decide, ctx);
		if (k < m->nexits - 1)
			n = compact(r, lane, k, n);
	}
}

/*
 * How n samples run: in lanes (micro-batches of *mb samples claimed by the team's threads,
 * each in its own lane with unsplit layers: one synchronisation per forward instead of
 * one per layer, which small layers cannot pay for) when there are at least
 * LANE_MIN_SAMPLES per lane, else one micro-batch after the other in lane 0 with the
 * layers split. In lanes, the batch is cut into LANE_CHUNKS micro-batches per lane (at
 * most r->micro samples each) so that a helper delayed by other processes holds up a
 * small part of it.
 */
#define LANE_MIN_SAMPLES 2
#define LANE_CHUNKS 2

static bool use_lanes(const struct ee_run *r, int n, int *mb)
{
	int chunks = (n + r->micro - 1) / r->micro;
	bool lanes = r->nlanes > 1 && n >= LANE_MIN_SAMPLES * r->nlanes;

	if (lanes) {
		int want = n >= LANE_MIN_SAMPLES * LANE_CHUNKS * r->nlanes ? LANE_CHUNKS * r->nlanes
									   : r->nlanes;

		chunks = (chunks + want - 1) / want * want;
	}
	*mb = (n + chunks - 1) / chunks;
	return lanes;
}

static void collect_lanes(struct ee_run *r)
{
	int l, i;

	for (l = 0; l < r->nlanes; l++) {
		struct ee_lane *lane = &r->lanes[l];

		for (i = 0; r->time_layers && i < r->m->nnodes; i++) {
			r->seconds[i] += lane->seconds[i];
			lane->seconds[i] = 0;
		}
		r->ring_taps += lane->ring_taps;
		lane->ring_taps = 0;
		for (i = 0; i < r->m->nexits; i++) {
			r->stage_seconds[i] += lane->stage_seconds[i];
			lane->stage_seconds[i] = 0;
		}
	}
}

struct lanes_job {
	struct ee_run *r;
	int mb; /* samples per micro-batch */
	ee_exit_fn decide;
	void *ctx;
};

/* Micro-batches [lo, hi) through run_micro in the lane of thread tid, layers unsplit. */
static void lanes_range(void *ctx, long lo, long hi, int tid)
{
	const struct lanes_job *j = ctx;
	int n = j->r->input.n;
	long c;

	for (c = lo; c < hi; c++) {
		int first = (int)c * j->mb;

		run_micro(j->r, &j->r->lanes[tid], first, n - first < j->mb ? n - first : j->mb, 1,
			  j->decide, j->ctx);
	}
}

/* Moves the carried buffers of boundary k between the lane's rows [0, n) and the held
 * samples from at on: with leave, the rows that stay (leave[j] == 0) into the hold, in
 * order, with their batch indices; without, held samples [at, at + n) back into the
 * lane's rows. Returns the rows moved. */
static int hold_rows(struct ee_run *r, struct ee_lane *lane, int k, int at, int n,
		     const uint8_t *leave)
{
	const struct ee_model *m = r->m;
	size_t off = 0;
	int c, j, moved = 0;

	for (c = 0; c < m->ncarry[k]; c++) {
		const struct ee_node *o = &m->nodes[m->carry[k][c]];
		size_t per = ee_shape_numel(o->shape);
		float *base = lane->slot[o->slot];

		for (j = 0, moved = 0; j < n; j++) {
			float *held = r->hold[k] + (size_t)(at + moved) * r->hold_floats[k] + off;

			if (!leave)
				memcpy(base + j * per, held, per * sizeof(float));
			else if (!leave[j])
				memcpy(held, base + j * per, per * sizeof(float));
			else
				continue;
			moved++;
		}
		off += per;
	}
	for (j = 0, moved = 0; leave && j < n; j++)
		if (!leave[j])
			r->hold_index[at + moved++] = lane->index[j];
	return leave ? moved : n;
}

/*
 * A dynamic run in lane 0, stage by stage over the whole batch: stage k runs on
 * micro-batches of the samples that passed every earlier exit, gathered from all the
 * batch's micro-batches (held in r->hold between stages), instead of each micro-batch's
 * few survivors on their own. With the automatic micro-batch of 8 samples, EMGNet-20's
 * stage 2 would otherwise run on about 1.7 samples per call at threshold 0.8, where the
 * per-call costs of the kernels (packing, setup) outweigh the work.
 */
static void forward_staged(struct ee_run *r, int n, ee_exit_fn decide, void *ctx)
{
	const struct ee_model *m = r->m;
	struct ee_lane *lane = &r->lanes[0];
	int k, live = n;

	for (k = 0; k < m->nexits && live > 0; k++) {
		int chunks = (live + r->micro - 1) / r->micro, mb = (live + chunks - 1) / chunks;
		int kept = 0, at, j;

		for (at = 0; at < live; at += mb) {
			int cn = live - at < mb ? live - at : mb;

			lane->n = cn;
			for (j = 0; j < cn; j++)
				lane->index[j] = k ? r->hold_index[at + j] : at + j;
			if (k)
				hold_rows(r, lane, k - 1, at, cn, NULL);
			run_stage(r, lane, k, at, cn, r->threads);
			exit_decisions(r, lane, k, cn, decide, ctx);
			/* kept <= at: the batch indices held here never pass those still to
			 * read from hold_index (the buffers go to hold[k], read from hold[k-1]) */
			if (k < m->nexits - 1)
				kept += hold_rows(r, lane, k, kept, cn, lane->leave);
		}
		live = kept;
	}
}

/* Micro-batches of the input, each through run_micro: one after the other in lane 0 with
 * split layers (stage by stage if dynamic), or whole micro-batches per thread in their own
 * lanes. */
static void forward(struct ee_run *r, const struct ee_tensor *input, ee_exit_fn decide, void *ctx)
{
	int mb, i;
	bool lanes = use_lanes(r, input->n, &mb);
	int chunks = (input->n + mb - 1) / mb;
	long c;

	r->n = input->n;
	r->input = *input;
	for (i = 0; i < input->n; i++)
		r->taken[i] = r->m->nexits - 1;
	if (!lanes && decide) {
		forward_staged(r, input->n, decide, ctx);
	} else if (!lanes) {
		for (c = 0; c < chunks; c++) {
			int first = (int)c * mb;

			run_micro(r, &r->lanes[0], first, input->n - first < mb ? input->n - first : mb,
				  r->threads, decide, ctx);
		}
	} else {
		struct lanes_job job = { r, mb, decide, ctx };

		ee_parallel_for(r->nlanes, chunks,
				(double)input->n * ee_model_exit_macs(r->m, r->m->nexits - 1, true, 0),
				lanes_range, &job);
	}
	collect_lanes(r);
}

void ee_run_forward(struct ee_run *r, const struct ee_tensor *input)
{
	forward(r, input, NULL, NULL);
}

/* r->hold on the first dynamic forward: only dynamic runs use it, and with malloc's
 * untouched pages a run whose forwards use lanes costs no memory for it. */
static int hold_alloc(struct ee_run *r, struct ee_err *err)
{
	size_t total = 0;
	int k;

	if (r->hold[0] || r->m->nexits < 2)
		return EE_OK;
	for (k = 0; k + 1 < r->m->nexits; k++)
		total += r->hold_floats[k] * (size_t)r->max_batch;
	if (!(r->hold[0] = malloc((total + 1) * sizeof(float))))
		return ee_err_set(err, EE_ERR_NOMEM, "cannot allocate %zu bytes for the samples "
				  "between the stages", total * sizeof(float));
	for (k = 1; k + 1 < r->m->nexits; k++)
		r->hold[k] = r->hold[k - 1] + r->hold_floats[k - 1] * (size_t)r->max_batch;
	return EE_OK;
}

int ee_run_forward_dynamic(struct ee_run *r, const struct ee_tensor *input, ee_exit_fn decide,
			   void *ctx, struct ee_err *err)
{
	int rc;

	if (r->m->input_late)
		return ee_err_set(err, EE_ERR_USAGE, "real early exit needs a network whose later "
				  "stages do not read its input");
	if ((rc = hold_alloc(r, err)) < 0)
		return rc;
	forward(r, input, decide, ctx);
	return EE_OK;
}

double ee_run_sample_macs(const struct ee_run *r, int k, int i, bool cascade)
{
	const struct ee_model *m = r->m;
	double sum = ee_model_exit_macs(m, k, cascade, 0);
	int g;

	for (g = 0; g < m->ngated; g++) {
		int node = m->gated[g];

		if (ee_model_node_in_exit(m, node, k, cascade))
			sum += m->nodes[node].cost.gate_macs * r->open[(size_t)g * r->max_batch + i];
	}
	return sum;
}

const uint8_t *ee_run_gates(const struct ee_run *r, int g, int i)
{
	const struct ee_node *n = &r->m->nodes[r->m->gated[g]];

	return r->gates + r->gate_off[g] + (size_t)i * n->cost.gates;
}
