/*
 * model.c - building the layer graph, deriving cost regions, planning memory.
 * See model.h for what finish() derives and why.
 */
#include "model.h"

#include <stdlib.h>
#include <string.h>

void ee_model_init(struct ee_model *m, struct ee_shape input)
{
	memset(m, 0, sizeof(*m));
	m->input = input;
}

void ee_model_release(struct ee_model *m)
{
	free(m->nodes);
	ee_pool_release(&m->pool);
	memset(m, 0, sizeof(*m));
}

static int grow_nodes(struct ee_model *m, struct ee_err *err)
{
	int cap = m->cap ? 2 * m->cap : 64;
	struct ee_node *nodes;

	if (cap > 1 << 20)
		return ee_err_set(err, EE_ERR_INPUT, "network has more than %d layers", 1 << 20);
	nodes = realloc(m->nodes, (size_t)cap * sizeof(*nodes));
	if (!nodes)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory building the network");
	m->nodes = nodes;
	m->cap = cap;
	return EE_OK;
}

int ee_model_add(struct ee_model *m, struct ee_layer *layer, const int *in, int nin,
		 struct ee_err *err)
{
	struct ee_shape shapes[EE_LAYER_MAX_IN];
	struct ee_node *node;
	int i, rc;

	if (!layer)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory building the network");
	if (layer->ops->api_version != EE_LAYER_API)
		return ee_err_set(err, EE_ERR_INTERNAL, "layer '%s' (%s) implements layer API %d, "
				  "libee drives API %d", layer->name ? layer->name : "?",
				  layer->ops->kind, layer->ops->api_version, EE_LAYER_API);
	if (nin < 1 || nin > EE_LAYER_MAX_IN)
		return ee_err_set(err, EE_ERR_INTERNAL, "layer '%s' has %d inputs", layer->name, nin);
	for (i = 0; i < nin; i++) {
		if (in[i] == EE_NODE_INPUT)
			shapes[i] = m->input;
		else if (in[i] >= 0 && in[i] < m->nnodes)
			shapes[i] = m->nodes[in[i]].shape;
		else
			return ee_err_set(err, EE_ERR_INTERNAL, "layer '%s' has an unknown input",
					  layer->name);
	}
	if (m->nnodes == m->cap && (rc = grow_nodes(m, err)) < 0)
		return rc;
	node = &m->nodes[m->nnodes];
	memset(node, 0, sizeof(*node));
	rc = layer->ops->infer(layer, shapes, nin, &node->shape, err);
	if (rc < 0)
		return ee_err_prefix(err, "layer '%s' (%s): ", layer->name ? layer->name : "?",
				     layer->ops->kind);
	layer->in = shapes[0];
	layer->out = node->shape;
	node->layer = layer;
	memcpy(node->in, in, (size_t)nin * sizeof(*in));
	node->nin = nin;
	node->gate_index = -1;
	layer->ops->cost(layer, &node->cost);
	return m->nnodes++;
}

int ee_model_set_exit(struct ee_model *m, int node, struct ee_err *err)
{
	if (m->nexits == EE_MAX_EXITS)
		return ee_err_set(err, EE_ERR_INPUT, "network has more than %d exits", EE_MAX_EXITS);
	if (node < 0 || node >= m->nnodes)
		return ee_err_set(err, EE_ERR_INTERNAL, "exit %d is not a layer", m->nexits + 1);
	m->exit_node[m->nexits++] = node;
	return EE_OK;
}

/* exits[i] gets bit k set when node i feeds exit k: a backward sweep per exit. */
static void mark_exits(const struct ee_model *m, unsigned *exits)
{
	int k, i, j;

	for (k = 0; k < m->nexits; k++) {
		exits[m->exit_node[k]] |= 1u << k;
		for (i = m->exit_node[k]; i >= 0; i--) {
			if (!(exits[i] & (1u << k)))
				continue;
			for (j = 0; j < m->nodes[i].nin; j++)
				if (m->nodes[i].in[j] >= 0)
					exits[m->nodes[i].in[j]] |= 1u << k;
		}
	}
}

static int derive_regions(struct ee_model *m, unsigned *exits, struct ee_err *err)
{
	int i;

	mark_exits(m, exits);
	for (i = 0; i < m->nnodes; i++) {
		struct ee_node *n = &m->nodes[i];

		if (!exits[i])
			return ee_err_set(err, EE_ERR_INTERNAL, "layer '%s' feeds no exit",
					  n->layer->name);
		n->exits = exits[i];
		n->exit = __builtin_ctz(exits[i]) + 1;
		n->head = __builtin_popcount(exits[i]) == 1;
	}
	return EE_OK;
}

/* Sorts nodes by region (stable) and renumbers every reference; see model.h. */
static int order_by_region(struct ee_model *m, int *perm, int *inv, struct ee_err *err)
{
	struct ee_node *sorted = malloc((size_t)m->nnodes * sizeof(*sorted));
	int i, j, k, pos = 0;

	if (!sorted)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory planning the network");
	for (k = 1; k <= m->nexits; k++) {
		for (i = 0; i < m->nnodes; i++)
			if (m->nodes[i].exit == k)
				perm[pos++] = i;
		m->stage_end[k - 1] = pos;
	}
	for (i = 0; i < m->nnodes; i++)
		inv[perm[i]] = i;
	for (i = 0; i < m->nnodes; i++) {
		sorted[i] = m->nodes[perm[i]];
		for (j = 0; j < sorted[i].nin; j++)
			if (sorted[i].in[j] >= 0)
				sorted[i].in[j] = inv[sorted[i].in[j]];
	}
	for (k = 0; k < m->nexits; k++)
		m->exit_node[k] = inv[m->exit_node[k]];
	memcpy(m->nodes, sorted, (size_t)m->nnodes * sizeof(*sorted));
	free(sorted);
	return EE_OK;
}

/*
 * Views: a slice is a channel range of its input; the inputs of a concat are
 * written straight into the concat's buffer, unless they are the network input
 * or already a view (then the concat copies them). parent/poff form chains that
 * end at the owner of the memory.
 */
static void plan_views(struct ee_model *m, int *parent, int *poff)
{
	int i, j, off;

	for (i = 0; i < m->nnodes; i++) {
		parent[i] = i;
		poff[i] = 0;
	}
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];

		if (n->layer->ops->alias == EE_ALIAS_SLICE && n->in[0] >= 0) {
			parent[i] = n->in[0];
			poff[i] = n->layer->alias_c0;
		} else if (n->layer->ops->alias == EE_ALIAS_CONCAT) {
			for (j = 0, off = 0; j < n->nin; j++) {
				int x = n->in[j];

				if (x >= 0 && parent[x] == x) {
					parent[x] = i;
					poff[x] = off;
				}
				off += x >= 0 ? m->nodes[x].shape.c : m->input.c;
			}
		}
	}
	for (i = 0; i < m->nnodes; i++) {
		int o = i, c = 0;

		while (parent[o] != o) {
			c += poff[o];
			o = parent[o];
		}
		m->nodes[i].owner = o;
		m->nodes[i].coff = c;
	}
}

/* Greedy slot assignment in execution order: a slot is free once every reader of
 * the buffer it holds has run. Best fit among free slots, else the largest grows. */
static int plan_slots(struct ee_model *m, int *first, int *last, int *slot_busy_until,
		      struct ee_err *err)
{
	size_t *floats;
	int i, j, s;

	for (i = 0; i < m->nnodes; i++) {
		first[i] = m->nnodes;
		last[i] = -1;
	}
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];

		if (first[n->owner] > i)
			first[n->owner] = i;
		if (last[n->owner] < i)
			last[n->owner] = i;
		for (j = 0; j < n->nin; j++) {
			int o = n->in[j] >= 0 ? m->nodes[n->in[j]].owner : -1;

			if (o >= 0 && last[o] < i)
				last[o] = i;
		}
	}
	for (i = 0; i < m->nexits; i++)
		last[m->nodes[m->exit_node[i]].owner] = m->nnodes;

	floats = ee_pool_alloc(&m->pool, (size_t)m->nnodes * sizeof(*floats));
	if (!floats)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory planning the network");
	m->nslots = 0;
	for (i = 0; i < m->nnodes; i++) {
		struct ee_node *n = &m->nodes[i];
		size_t need = ee_shape_numel(n->shape);
		int best = -1, big = -1;

		if (n->owner != i)
			continue;
		for (s = 0; s < m->nslots; s++) {
			if (slot_busy_until[s] >= first[i])
				continue;
			if (floats[s] >= need && (best < 0 || floats[s] < floats[best]))
				best = s;
			if (big < 0 || floats[s] > floats[big])
				big = s;
		}
		if (best < 0 && big >= 0)
			best = big;
		if (best < 0)
			best = m->nslots++;
		if (floats[best] < need)
			floats[best] = need;
		slot_busy_until[best] = last[i];
		n->slot = best;
	}
	m->slot_floats = floats;
	return EE_OK;
}

static int index_gated(struct ee_model *m, struct ee_err *err)
{
	int i;

	m->ngated = 0;
	for (i = 0; i < m->nnodes; i++)
		if (m->nodes[i].cost.gates > 0)
			m->ngated++;
	m->gated = ee_pool_alloc(&m->pool, (size_t)(m->ngated + 1) * sizeof(*m->gated));
	if (!m->gated)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory planning the network");
	m->ngated = 0;
	for (i = 0; i < m->nnodes; i++)
		if (m->nodes[i].cost.gates > 0) {
			m->nodes[i].gate_index = m->ngated;
			m->gated[m->ngated++] = i;
		}
	return EE_OK;
}

/* Marks owner o (first written at first[o]) as carried across boundary k if it was
 * written before the boundary; mark[] avoids duplicates. */
static void carry_owner(struct ee_model *m, int k, int o, const int *first, char *mark)
{
	if (first[o] < m->stage_end[k] && !mark[o]) {
		mark[o] = 1;
		m->carry[k][m->ncarry[k]++] = o;
	}
}

/* carry[k]: buffers written by stages <= k and used (read or written) after them. */
static int plan_carries(struct ee_model *m, int *first, struct ee_err *err)
{
	char *mark = malloc((size_t)(m->nnodes > 0 ? m->nnodes : 1));
	int i, j, k;

	if (!mark)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory planning the network");
	for (i = 0; i < m->nnodes; i++)
		first[i] = m->nnodes;
	for (i = 0; i < m->nnodes; i++)
		if (first[m->nodes[i].owner] > i)
			first[m->nodes[i].owner] = i;
	for (k = 0; k + 1 < m->nexits; k++) {
		memset(mark, 0, (size_t)m->nnodes);
		m->carry[k] = ee_pool_alloc(&m->pool, (size_t)m->nnodes * sizeof(int));
		if (!m->carry[k])
			break;
		for (i = m->stage_end[k]; i < m->nnodes; i++) {
			carry_owner(m, k, m->nodes[i].owner, first, mark);
			for (j = 0; j < m->nodes[i].nin; j++) {
				if (m->nodes[i].in[j] >= 0)
					carry_owner(m, k, m->nodes[m->nodes[i].in[j]].owner, first, mark);
				else if (i >= m->stage_end[0])
					m->input_late = true;
			}
		}
	}
	free(mark);
	return k + 1 < m->nexits ? ee_err_set(err, EE_ERR_NOMEM, "out of memory") : EE_OK;
}

int ee_model_finish(struct ee_model *m, struct ee_err *err)
{
	int *ints;
	int rc;

	if (!m->nexits)
		return ee_err_set(err, EE_ERR_INTERNAL, "network has no exit");
	ints = calloc((size_t)m->nnodes * 5 + 1, sizeof(*ints));
	if (!ints)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory planning the network");
	rc = derive_regions(m, (unsigned *)ints, err);
	if (rc == EE_OK)
		rc = order_by_region(m, ints, ints + m->nnodes, err);
	if (rc == EE_OK) {
		plan_views(m, ints, ints + m->nnodes);
		rc = plan_slots(m, ints, ints + m->nnodes, ints + 2 * m->nnodes, err);
	}
	if (rc == EE_OK)
		rc = plan_carries(m, ints, err);
	if (rc == EE_OK)
		rc = index_gated(m, err);
	free(ints);
	return rc;
}

int ee_model_prepare(struct ee_model *m, struct ee_err *err)
{
	int i, rc;

	for (i = 0; i < m->nnodes; i++) {
		struct ee_layer *l = m->nodes[i].layer;

		if (l->ops->prepare && (rc = l->ops->prepare(l, err)) < 0)
			return ee_err_prefix(err, "layer '%s': ", l->name);
	}
	return EE_OK;
}

bool ee_model_node_in_exit(const struct ee_model *m, int i, int k, bool cascade)
{
	unsigned mask = cascade ? (2u << k) - 1 : 1u << k;

	return (m->nodes[i].exits & mask) != 0;
}

double ee_model_exit_macs(const struct ee_model *m, int k, bool cascade, int gates_open)
{
	double sum = 0;
	int i;

	for (i = 0; i < m->nnodes; i++) {
		const struct ee_cost *c = &m->nodes[i].cost;

		if (ee_model_node_in_exit(m, i, k, cascade))
			sum += c->macs + (gates_open ? c->gates * c->gate_macs : 0);
	}
	return sum;
}
