/*
 * exec.c - the executor: memory of a run, the forward loop over micro-batches
 * and lanes, and the MAC ledger. See exec.h.
 */
#include "exec.h"

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

static void layout_lane(struct ee_run *r, struct carver *c, struct ee_lane *lane, int threads)
{
	const struct ee_model *m = r->m;
	int s;

	lane->slot = carve(c, (size_t)m->nslots * sizeof(float *));
	for (s = 0; s < m->nslots; s++) {
		float *p = carve(c, m->slot_floats[s] * (size_t)r->micro * sizeof(float));

		if (lane->slot)
			lane->slot[s] = p;
	}
	lane->work = carve(c, r->work_floats * sizeof(float) * threads);
	lane->seconds = carve(c, (size_t)m->nnodes * sizeof(double));
}

static void layout(struct ee_run *r, struct carver *c, bool keep_z)
{
	const struct ee_model *m = r->m;
	size_t gates = gate_bytes(m, r->max_batch), off = 0;
	int i, k;

	r->lanes = carve(c, (size_t)r->nlanes * sizeof(*r->lanes));
	for (i = 0; i < r->nlanes; i++) {
		struct ee_lane dummy;

		layout_lane(r, c, r->lanes ? &r->lanes[i] : &dummy, i == 0 ? r->threads : 1);
	}
	for (k = 0; k < m->nexits; k++)
		r->out[k] = carve(c, ee_shape_numel(m->nodes[m->exit_node[k]].shape) *
					     (size_t)r->max_batch * sizeof(float));
	r->gates = carve(c, gates);
	r->gate_z = keep_z ? carve(c, gates * sizeof(float)) : NULL;
	r->gate_off = carve(c, (size_t)m->ngated * sizeof(size_t));
	r->open = carve(c, (size_t)m->ngated * r->max_batch * sizeof(int32_t));
	r->seconds = carve(c, (size_t)m->nnodes * sizeof(double));
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
	r->nlanes = r->micro < max_batch ? r->threads : 1;
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

/* Runs node i for samples [first, first + n) in lane; threads > 1 splits the layer. */
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
	if (nd->gate_index >= 0) {
		size_t off = r->gate_off[nd->gate_index] + (size_t)first * nd->cost.gates;

		x.gates = r->gates + off;
		x.gate_z = r->gate_z ? r->gate_z + off : NULL;
		x.open = r->open + (size_t)nd->gate_index * r->max_batch + first;
	}
	nd->layer->ops->forward(nd->layer, &x);
	lane->ring_taps += x.ring_taps;
}

/* The whole network on samples [first, first + n) in one lane; logits copied out. */
static void run_micro(struct ee_run *r, struct ee_lane *lane, int first, int n, int threads)
{
	const struct ee_model *m = r->m;
	int i, k;

	lane->n = n;
	for (i = 0; i < m->nnodes; i++) {
		double t0 = r->time_layers ? ee_now() : 0;

		run_node(r, lane, i, first, n, threads);
		if (r->time_layers)
			lane->seconds[i] += ee_now() - t0;
	}
	for (k = 0; k < m->nexits; k++) {
		struct ee_tensor t = lane_tensor(r, lane, m->exit_node[k], n);
		size_t per = (size_t)t.c * t.h * t.w;

		for (i = 0; i < n; i++)
			memcpy(r->out[k] + (first + i) * per, ee_tensor_sample(&t, i), per * sizeof(float));
	}
}

/* Micro-batch size for n samples: at most r->micro, in a number of micro-batches that the
 * lanes share evenly. */
static int micro_for(const struct ee_run *r, int n)
{
	int chunks = (n + r->micro - 1) / r->micro;

	if (chunks > 1 && r->nlanes > 1)
		chunks = (chunks + r->nlanes - 1) / r->nlanes * r->nlanes;
	return (n + chunks - 1) / chunks;
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
	}
}

void ee_run_forward(struct ee_run *r, const struct ee_tensor *input)
{
	int mb = micro_for(r, input->n), chunks = (input->n + mb - 1) / mb;
	long c;

	r->n = input->n;
	r->input = *input;
	if (chunks == 1 || r->nlanes == 1) {
		for (c = 0; c < chunks; c++) {
			int first = (int)c * mb;

			run_micro(r, &r->lanes[0], first, input->n - first < mb ? input->n - first : mb,
				  r->threads);
		}
	} else {
#pragma omp parallel for schedule(dynamic, 1) num_threads(r->nlanes)
		for (c = 0; c < chunks; c++) {
			int first = (int)c * mb;

			run_micro(r, &r->lanes[ee_thread_id()], first,
				  input->n - first < mb ? input->n - first : mb, 1);
		}
	}
	collect_lanes(r);
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
