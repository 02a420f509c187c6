/*
 * exec.c - the executor: memory of a run, the forward loop and the MAC ledger.
 * See exec.h.
 */
#include "exec.h"

#include "threads.h"

#include <string.h>
#include <time.h>

static size_t run_bytes(const struct ee_model *m, int max_batch, size_t work_floats,
			size_t gate_floats, bool keep_z)
{
	size_t bytes = 0;
	int s;

	for (s = 0; s < m->nslots; s++)
		bytes += ee_align_up(m->slot_floats[s] * (size_t)max_batch * sizeof(float));
	bytes += ee_align_up((size_t)m->nslots * sizeof(float *));
	bytes += ee_align_up(work_floats * sizeof(float)) * (size_t)ee_threads_get();
	bytes += ee_align_up(gate_floats) * (keep_z ? 1 + sizeof(float) : 1);
	bytes += ee_align_up((size_t)m->ngated * sizeof(size_t));
	bytes += ee_align_up((size_t)m->ngated * max_batch * sizeof(int32_t));
	bytes += ee_align_up((size_t)m->nnodes * sizeof(double));
	return bytes;
}

int ee_run_init(struct ee_run *r, const struct ee_model *m, int max_batch, bool keep_z,
		struct ee_err *err)
{
	size_t work = 0, gate_floats = 0;
	int i, rc;

	memset(r, 0, sizeof(*r));
	if (max_batch < 1)
		return ee_err_set(err, EE_ERR_USAGE, "batch size must be at least 1");
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_layer *l = m->nodes[i].layer;
		size_t w = l->ops->workspace ? l->ops->workspace(l, max_batch) : 0;

		if (w > work)
			work = w;
		gate_floats += (size_t)m->nodes[i].cost.gates * max_batch;
	}
	rc = ee_arena_init(&r->arena, run_bytes(m, max_batch, work, gate_floats, keep_z), err);
	if (rc < 0)
		return rc;
	r->m = m;
	r->max_batch = max_batch;
	r->slot = ee_arena_alloc(&r->arena, (size_t)m->nslots * sizeof(float *));
	for (i = 0; i < m->nslots; i++)
		r->slot[i] = ee_arena_alloc(&r->arena,
					    m->slot_floats[i] * (size_t)max_batch * sizeof(float));
	r->threads = ee_threads_get();
	r->work_floats = ee_align_up(work * sizeof(float)) / sizeof(float);
	r->work = ee_arena_alloc(&r->arena, r->work_floats * sizeof(float) * r->threads);
	r->gates = ee_arena_alloc(&r->arena, gate_floats);
	if (keep_z)
		r->gate_z = ee_arena_alloc(&r->arena, gate_floats * sizeof(float));
	r->gate_off = ee_arena_alloc(&r->arena, (size_t)m->ngated * sizeof(size_t));
	r->open = ee_arena_alloc(&r->arena, (size_t)m->ngated * max_batch * sizeof(int32_t));
	r->seconds = ee_arena_alloc(&r->arena, (size_t)m->nnodes * sizeof(double));
	for (i = 0, gate_floats = 0; i < m->ngated; i++) {
		r->gate_off[i] = gate_floats;
		gate_floats += (size_t)m->nodes[m->gated[i]].cost.gates * max_batch;
	}
	return EE_OK;
}

void ee_run_release(struct ee_run *r)
{
	ee_arena_release(&r->arena);
	memset(r, 0, sizeof(*r));
}

struct ee_tensor ee_run_tensor(const struct ee_run *r, int node)
{
	const struct ee_node *n = &r->m->nodes[node];
	const struct ee_node *o = &r->m->nodes[n->owner];
	size_t plane = (size_t)n->shape.h * n->shape.w;
	struct ee_tensor t = { r->n, n->shape.c, n->shape.h, n->shape.w, ee_shape_numel(o->shape),
			       r->slot[o->slot] + (size_t)n->coff * plane };
	return t;
}

struct ee_tensor ee_run_output(const struct ee_run *r, int k)
{
	return ee_run_tensor(r, r->m->exit_node[k]);
}

double ee_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static void run_node(struct ee_run *r, int i)
{
	const struct ee_node *n = &r->m->nodes[i];
	struct ee_tensor in[EE_LAYER_MAX_IN];
	struct ee_exec x = { 0 };
	int j;

	for (j = 0; j < n->nin; j++)
		in[j] = n->in[j] == EE_NODE_INPUT ? r->input : ee_run_tensor(r, n->in[j]);
	x.n = r->n;
	x.in = in;
	x.nin = n->nin;
	x.out = ee_run_tensor(r, i);
	x.work = r->work;
	x.work_stride = r->work_floats;
	x.threads = r->threads;
	if (n->gate_index >= 0) {
		size_t off = r->gate_off[n->gate_index];

		x.gates = r->gates + off;
		x.gate_z = r->gate_z ? r->gate_z + off : NULL;
		x.open = r->open + (size_t)n->gate_index * r->max_batch;
	}
	n->layer->ops->forward(n->layer, &x);
	r->ring_taps += x.ring_taps;
}

void ee_run_forward(struct ee_run *r, const struct ee_tensor *input)
{
	int i;

	r->n = input->n;
	r->input = *input;
	for (i = 0; i < r->m->nnodes; i++) {
		if (r->time_layers) {
			double t0 = ee_now();

			run_node(r, i);
			r->seconds[i] += ee_now() - t0;
		} else {
			run_node(r, i);
		}
	}
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
