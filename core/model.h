/*
 * model.h - a network as a static graph of layers with named exits.
 *
 * An architecture plugin adds nodes in execution order (every input must already
 * exist), marks the logits node of each exit from shallow to deep, and calls
 * ee_model_finish(). finish() then derives, without help from the plugin:
 *
 *  - the exits every node feeds (node.exits) and its region: node.exit = the
 *    shallowest exit it feeds, node.head = it feeds no other exit. Backbone nodes
 *    of region k run for every exit >= k; head nodes only for their exit. Hence
 *        standalone(k) = nodes feeding exit k  (backbone <= k + head k)
 *        cascade(k)    = nodes feeding any exit <= k  (backbone <= k + heads <= k)
 *  - the execution order: nodes sorted by region, stable (all of region 1, then
 *    region 2, ...), which keeps inputs before their consumers because a node's
 *    inputs feed every exit it feeds. Exit k's stage is nodes [stage_end[k-1],
 *    stage_end[k]); a dynamic run can stop any sample after any stage. The
 *    buffers a later stage still reads (carry[k]) are what such a run compacts.
 *  - the memory plan: views (slices, concat inputs) share their owner's buffer,
 *    and buffers whose lifetimes do not overlap share one of model.nslots slots.
 *
 * A one-exit model, pooling then a linear layer (compiled by make check-headers):
 *
 *     #include "core/layers.h"
 *     struct ee_err err = { 0 };
 *     struct ee_model m;
 *     ee_model_init(&m, (struct ee_shape){ 16, 8, 8 });   // the input of one sample
 *     struct ee_layer *gap = ee_adaptive_avgpool_new(&m.pool, 1, 1);
 *     int x = ee_model_add(&m, gap, (int[]){ EE_NODE_INPUT }, 1, &err);
 *     struct ee_linear *fc = ee_linear_new(&m.pool, 16, 10); // fc->weight: set by the caller
 *     int logits = x < 0 ? x : ee_model_add(&m, &fc->base, &x, 1, &err);
 *     if (logits < 0 || ee_model_set_exit(&m, logits, &err) < 0 ||
 *         ee_model_finish(&m, &err) < 0)
 *             return err.code;   // err.msg: "layer 'fc' (linear): ..."
 *     ee_model_release(&m);
 */
#ifndef EE_MODEL_H
#define EE_MODEL_H

#include <stdbool.h>

#include "arena.h"
#include "layer.h"

#define EE_MAX_EXITS 8
#define EE_NODE_INPUT (-1) /* input id meaning "the network input" */

struct ee_node {
	struct ee_layer *layer;
	int in[EE_LAYER_MAX_IN]; /* producer node ids, or EE_NODE_INPUT */
	int nin;
	struct ee_shape shape;   /* per-sample output shape */
	struct ee_cost cost;     /* per-sample cost */
	unsigned exits;          /* bit k set: this node feeds exit k+1 (set by finish) */
	int exit;                /* region: shallowest exit it feeds, 1-based (set by finish) */
	bool head;               /* region is exit `exit`'s head only (set by finish) */
	int gate_index;          /* index among gated nodes, or -1 */
	int owner;               /* node whose buffer holds this output (itself unless a view) */
	int coff;                /* first channel of this output inside the owner's buffer */
	int slot;                /* memory slot of the owner's buffer (owners only) */
};

struct ee_model {
	struct ee_shape input;   /* network input per sample [C, H, W] */
	int nnodes, cap;
	struct ee_node *nodes;   /* [nnodes] in execution order */
	int nexits;
	int exit_node[EE_MAX_EXITS]; /* logits node of exit k+1, shallow to deep */
	int stage_end[EE_MAX_EXITS]; /* nodes of region k+1 end before index stage_end[k] */
	int ncarry[EE_MAX_EXITS];    /* buffers (owner nodes) written by stages <= k+1 ... */
	int *carry[EE_MAX_EXITS];    /* ... and read by later stages: [ncarry[k]] */
	bool input_late;             /* a stage after the first reads the network input */
	int ngated;              /* nodes with cost.gates > 0 */
	int *gated;              /* [ngated] their node ids */
	int nslots;
	size_t *slot_floats;     /* [nslots] floats per sample of each memory slot */
	struct ee_pool pool;     /* layer structs, names, the arrays above */
};

void ee_model_init(struct ee_model *m, struct ee_shape input);
/* Adds a node computing layer(in[0..nin)); returns its id (>= 0) or a negative status. */
int ee_model_add(struct ee_model *m, struct ee_layer *layer, const int *in, int nin,
		 struct ee_err *err);
/* Declares node as the logits of the next exit (call shallow to deep). */
int ee_model_set_exit(struct ee_model *m, int node, struct ee_err *err);
/* Derives regions, gated indices and the memory plan; calls no layer method but cost. */
int ee_model_finish(struct ee_model *m, struct ee_err *err);
/* Runs every layer's prepare() (after the weights are in place). */
int ee_model_prepare(struct ee_model *m, struct ee_err *err);
void ee_model_release(struct ee_model *m);

/* Per-sample MACs of exit k (0-based) summed over its nodes, ignoring gates:
 * gates = 0 gives the minimum, gates = 1 the maximum (every gate open). */
double ee_model_exit_macs(const struct ee_model *m, int k, bool cascade, int gates_open);
/* True if node i counts toward exit k (0-based). */
bool ee_model_node_in_exit(const struct ee_model *m, int i, int k, bool cascade);

#endif
