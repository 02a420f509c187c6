/*
 * ee.c - libee's public API (include/eeprof/ee.h): a thin layer over the internal objects.
 *
 * The public header names struct ee_net, ee_dataset and ee_run without their fields; here
 * they are the library's own structs (net.h, dataset.h, exec.h), allocated for the caller.
 * Every function is a few lines that check what a user can get wrong and call the
 * function the eeprof command line uses, so both run the same code.
 */
#include <stdlib.h>

#include "core/exec.h"
#include "core/threads.h"
#include "dataset.h"
#include "include/eeprof/ee.h"
#include "net.h"

static void *alloc_or_fail(size_t size, struct ee_err *err)
{
	void *p = calloc(1, size);

	if (!p)
		ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	return p;
}

struct ee_net *ee_net_open(const char *path, struct ee_err *err)
{
	struct ee_net *net = alloc_or_fail(sizeof(*net), err);

	if (net && ee_net_load(net, path, err) < 0) {
		free(net);
		return NULL;
	}
	return net;
}

void ee_net_free(struct ee_net *net)
{
	if (!net)
		return;
	ee_net_release(net);
	free(net);
}

const char *ee_net_arch(const struct ee_net *net)
{
	return net->arch->name;
}

int ee_net_exits(const struct ee_net *net)
{
	return net->model.nexits;
}

int ee_net_classes(const struct ee_net *net)
{
	return net->ck.num_classes;
}

void ee_net_input(const struct ee_net *net, int *c, int *h, int *w)
{
	*c = net->model.input.c;
	*h = net->model.input.h;
	*w = net->model.input.w;
}

double ee_net_macs(const struct ee_net *net, int k, bool cascade, int gates_open)
{
	return ee_model_exit_macs(&net->model, k, cascade, gates_open);
}

int ee_net_gated(const struct ee_net *net)
{
	return net->model.ngated;
}

const char *ee_net_gate_layer(const struct ee_net *net, int g, int *channels)
{
	const struct ee_node *node = &net->model.nodes[net->model.gated[g]];

	*channels = node->cost.gates;
	return node->layer->name;
}

struct ee_dataset *ee_data_open(const char *spec, struct ee_err *err)
{
	struct ee_dataset *data = alloc_or_fail(sizeof(*data), err);

	if (data && ee_dataset_open(data, spec, err) < 0) {
		free(data);
		return NULL;
	}
	return data;
}

void ee_data_free(struct ee_dataset *data)
{
	if (!data)
		return;
	ee_dataset_release(data);
	free(data);
}

int ee_data_count(const struct ee_dataset *data)
{
	return data->n;
}

int ee_data_read(const struct ee_dataset *data, const struct ee_net *net, int first, int n,
		 float *x, int *labels, struct ee_err *err)
{
	int rc = ee_dataset_batch(data, first, n, net->model.input, net->ck.mean, net->ck.std, x,
				  err);
	int i;

	if (rc == EE_OK && labels)
		for (i = 0; i < n; i++)
			labels[i] = data->labels[first + i];
	return rc;
}

void ee_set_threads(int n)
{
	ee_threads_set(n);
}

struct ee_run *ee_run_new(const struct ee_net *net, int max_batch, struct ee_err *err)
{
	struct ee_run *run = alloc_or_fail(sizeof(*run), err);

	if (run && ee_run_init(run, &net->model, max_batch, false, err) < 0) {
		free(run);
		return NULL;
	}
	return run;
}

void ee_run_free(struct ee_run *run)
{
	if (!run)
		return;
	ee_run_release(run);
	free(run);
}

int ee_run_batch(struct ee_run *run, const float *x, int n, struct ee_err *err)
{
	struct ee_shape in = run->m->input;
	struct ee_tensor t;

	if (n < 1 || n > run->max_batch)
		return ee_err_set(err, EE_ERR_USAGE, "run: batch of %d images, expected 1 to %d", n,
				  run->max_batch);
	/* The executor reads its input and never writes it. */
	t = ee_tensor_dense((float *)x, n, in.c, in.h, in.w);
	ee_run_forward(run, &t);
	return EE_OK;
}

const float *ee_run_logits(const struct ee_run *run, int k, int i)
{
	struct ee_tensor t = ee_run_output(run, k);

	return ee_tensor_sample(&t, i);
}

double ee_run_macs(const struct ee_run *run, int k, int i, bool cascade)
{
	return ee_run_sample_macs(run, k, i, cascade);
}

const uint8_t *ee_run_open_gates(const struct ee_run *run, int g, int i)
{
	return ee_run_gates(run, g, i);
}
