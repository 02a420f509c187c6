/*
 * cmd-info.c - `eeprof info CKPT [--json] [--layers]`: what a checkpoint is and
 * what each exit costs, before anything runs.
 *
 * Per exit: MACs standalone (backbone to the exit + its own head) and cascade
 * (+ every earlier head), each as min (every EMG gate closed) and max (every
 * gate open); equal for networks without gates. --layers adds the per-layer
 * table: region, output shape, MACs (min-max for gated layers), other ops.
 * The input normalisation (mean, std per channel) is shown too: eval, profile
 * and report apply it to every dataset image, and export.py never guesses it.
 * So is the training record a trained file carries (checkpoints/train.py: epochs,
 * seed, training seconds, recipe), so that samples can be compared for effort.
 */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "plugins/net.h"
#include "reports/json.h"
#include "reports/table.h"

static const char synopsis[] = "eeprof info <checkpoint.h5> [--json] [--layers]";

struct exit_cost {
	double min, max, cmin, cmax, other;
};

static struct exit_cost exit_cost(const struct ee_model *m, int k)
{
	struct exit_cost c = {
		ee_model_exit_macs(m, k, false, 0), ee_model_exit_macs(m, k, false, 1),
		ee_model_exit_macs(m, k, true, 0), ee_model_exit_macs(m, k, true, 1), 0,
	};
	int i;

	for (i = 0; i < m->nnodes; i++)
		if (ee_model_node_in_exit(m, i, k, false))
			c.other += m->nodes[i].cost.other;
	return c;
}

static const char *region(char *buf, size_t size, const struct ee_node *n)
{
	snprintf(buf, size, "%s %d", n->head ? "head" : "backbone", n->exit);
	return buf;
}

static void json_layers(struct ee_json *j, const struct ee_model *m)
{
	char buf[32];
	int i;

	ee_json_begin(j, "layers", '[');
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];

		ee_json_begin(j, NULL, '{');
		ee_json_str(j, "name", n->layer->name);
		ee_json_str(j, "kind", n->layer->ops->kind);
		ee_json_str(j, "fused", n->layer->fused ? n->layer->fused : "");
		ee_json_str(j, "region", region(buf, sizeof(buf), n));
		ee_json_begin(j, "shape", '[');
		ee_json_int(j, NULL, n->shape.c);
		ee_json_int(j, NULL, n->shape.h);
		ee_json_int(j, NULL, n->shape.w);
		ee_json_end(j);
		ee_json_num(j, "macs_min", n->cost.macs);
		ee_json_num(j, "macs_max", n->cost.macs + n->cost.gates * n->cost.gate_macs);
		ee_json_int(j, "gates", n->cost.gates);
		ee_json_num(j, "other_ops", n->cost.other);
		ee_json_end(j);
	}
	ee_json_end(j);
}

/* The checkpoint's float64 mean/std were read as float: printed with FLT_DIG digits they
 * are the values written (0.286, not 0.2860000134). */
static void json_floats(struct ee_json *j, const char *key, const float *v, int n)
{
	double d[EE_MAX_CHANNELS];
	char buf[32];
	int i;

	for (i = 0; i < n; i++) {
		snprintf(buf, sizeof(buf), "%.*g", FLT_DIG, v[i]);
		d[i] = strtod(buf, NULL);
	}
	ee_json_nums(j, key, d, n);
}

static void print_floats(const char *label, const float *v, int n)
{
	int i;

	printf("%-12s", label);
	for (i = 0; i < n; i++)
		printf("%s%.*g", i ? "," : "", FLT_DIG, v[i]);
	printf("\n");
}

/* A number of the training record, null where the file has none. */
static void json_opt(struct ee_json *j, const char *key, double v)
{
	if (isnan(v))
		ee_json_null(j, key);
	else
		ee_json_num(j, key, v);
}

static void print_json(const struct ee_net *net, bool layers)
{
	const struct ee_model *m = &net->model;
	struct ee_json j;
	int k;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "checkpoint", net->ck.path);
	ee_json_str(&j, "arch", net->arch->name);
	ee_json_int(&j, "num_classes", net->ck.num_classes);
	ee_json_begin(&j, "input_shape", '[');
	ee_json_int(&j, NULL, m->input.c);
	ee_json_int(&j, NULL, m->input.h);
	ee_json_int(&j, NULL, m->input.w);
	ee_json_end(&j);
	json_floats(&j, "mean", net->ck.mean, m->input.c);
	json_floats(&j, "std", net->ck.std, m->input.c);
	ee_json_int(&j, "params", net->params);
	ee_json_int(&j, "gated_layers", m->ngated);
	ee_json_str(&j, "source", net->ck.source);
	ee_json_str(&j, "dataset", net->ck.dataset);
	ee_json_str(&j, "recipe", net->ck.recipe);
	json_opt(&j, "epochs", net->ck.epochs);
	json_opt(&j, "seed", net->ck.seed);
	json_opt(&j, "train_seconds", net->ck.train_seconds);
	ee_json_begin(&j, "exits", '[');
	for (k = 0; k < m->nexits; k++) {
		struct exit_cost c = exit_cost(m, k);

		ee_json_begin(&j, NULL, '{');
		ee_json_int(&j, "exit", k + 1);
		ee_json_num(&j, "macs_min", c.min);
		ee_json_num(&j, "macs_max", c.max);
		ee_json_num(&j, "macs_cascade_min", c.cmin);
		ee_json_num(&j, "macs_cascade_max", c.cmax);
		ee_json_num(&j, "other_ops", c.other);
		if (k < net->ck.n_test_acc)
			ee_json_num(&j, "pytorch_test_accuracy", net->ck.test_acc[k]);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	if (layers)
		json_layers(&j, m);
	ee_json_end(&j);
}

/* "40.55M" or "20.9M-27.5M". */
static const char *range(char *buf, size_t size, double lo, double hi)
{
	char a[32], b[32];

	if (lo == hi)
		return ee_fmt_si(buf, size, lo);
	snprintf(buf, size, "%s-%s", ee_fmt_si(a, sizeof(a), lo), ee_fmt_si(b, sizeof(b), hi));
	return buf;
}

static void print_layers(const struct ee_model *m)
{
	static const char *const head[] = { "layer", "kind", "region", "output", "MACs", "other" };
	struct ee_table t;
	char r[32], mac[64], oth[32];
	int i;

	ee_table_init(&t, 6, head);
	for (i = 0; i < m->nnodes; i++) {
		const struct ee_node *n = &m->nodes[i];

		ee_table_rowf(&t, "%s\t%s%s%s\t%s\t%dx%dx%d\t%s\t%s", n->layer->name,
			      n->layer->ops->kind, n->layer->fused ? "+" : "",
			      n->layer->fused ? n->layer->fused : "", region(r, sizeof(r), n),
			      n->shape.c, n->shape.h, n->shape.w,
			      range(mac, sizeof(mac), n->cost.macs,
				    n->cost.macs + n->cost.gates * n->cost.gate_macs),
			      ee_fmt_si(oth, sizeof(oth), n->cost.other));
	}
	printf("\n");
	ee_table_print(&t, stdout, false);
	ee_table_release(&t);
}

/* "trained     12 epochs, seed 1, 5816.5 s (97 min)" with what the file records, then the
 * recipe one "; "-separated clause a line. */
static void print_training(const struct ee_ckpt *ck)
{
	const char *r = ck->recipe, *sep;
	const char *comma = "";

	if (!isnan(ck->epochs) || !isnan(ck->seed) || !isnan(ck->train_seconds)) {
		printf("trained     ");
		if (!isnan(ck->epochs)) {
			printf("%.0f epoch%s", ck->epochs, ck->epochs == 1 ? "" : "s");
			comma = ", ";
		}
		if (!isnan(ck->seed)) {
			printf("%sseed %.0f", comma, ck->seed);
			comma = ", ";
		}
		if (!isnan(ck->train_seconds))
			printf("%s%.1f s of training (%.0f min)", comma, ck->train_seconds,
			       ck->train_seconds / 60);
		printf("\n");
	}
	if (!r[0])
		return;
	printf("recipe      ");
	while ((sep = strstr(r, "; "))) {
		printf("%.*s;\n            ", (int)(sep - r), r);
		r = sep + 2;
	}
	printf("%s\n", r);
}

static void print_text(const struct ee_net *net, bool layers)
{
	static const char *const head[] = { "exit", "MACs standalone", "MACs cascade", "other ops",
					    "PyTorch test acc" };
	const struct ee_model *m = &net->model;
	char a[64], b[64], c[32], d[32], p[32];
	struct ee_table t;
	int k;

	printf("checkpoint  %s\narch        %s: %s\n", net->ck.path, net->arch->name,
	       net->arch->summary);
	printf("input       %d x %d x %d, %d classes\n", m->input.c, m->input.h, m->input.w,
	       net->ck.num_classes);
	print_floats("mean", net->ck.mean, m->input.c);
	print_floats("std", net->ck.std, m->input.c);
	printf("params      %lld (%s)\nlayers      %d, %d with EMG gates\n", net->params,
	       ee_fmt_si(p, sizeof(p), (double)net->params), m->nnodes, m->ngated);
	if (net->ck.source[0])
		printf("source      %s\n", net->ck.source);
	if (net->ck.dataset[0])
		printf("dataset     %s\n", net->ck.dataset);
	print_training(&net->ck);
	printf("\n");
	ee_table_init(&t, 5, head);
	for (k = 0; k < m->nexits; k++) {
		struct exit_cost e = exit_cost(m, k);

		if (k < net->ck.n_test_acc)
			snprintf(d, sizeof(d), "%.4f", net->ck.test_acc[k]);
		else
			snprintf(d, sizeof(d), "-");
		ee_table_rowf(&t, "%d\t%s\t%s\t%s\t%s", k + 1, range(a, sizeof(a), e.min, e.max),
			      range(b, sizeof(b), e.cmin, e.cmax), ee_fmt_si(c, sizeof(c), e.other), d);
	}
	ee_table_print(&t, stdout, false);
	ee_table_release(&t);
	if (layers)
		print_layers(m);
}

struct info_opts {
	bool json, layers;
};

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct info_opts *o = ctx;
	struct ee_net net;
	int rc;

	(void)npos;
	if ((rc = ee_net_load(&net, pos[0], err)) < 0)
		return rc;
	if (o->json)
		print_json(&net, o->layers);
	else
		print_text(&net, o->layers);
	ee_net_release(&net);
	return EE_OK;
}

int cmd_info(int argc, char **argv)
{
	struct info_opts o = { 0 };
	const struct ee_opt opts[] = {
		EE_OPT_JSON(&o.json),
		{ "layers", EE_OPT_FLAG, &o.layers, NULL, "add the per-layer table", 0, 0 },
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
