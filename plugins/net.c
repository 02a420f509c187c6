/* net.c - loading a checkpoint into a runnable network; see net.h. */
#include "net.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Every exit must give num_classes logits. */
static int check_exits(struct ee_net *net, struct ee_err *err)
{
	int k;

	for (k = 0; k < net->model.nexits; k++) {
		struct ee_shape s = net->model.nodes[net->model.exit_node[k]].shape;

		if (ee_shape_numel(s) != (size_t)net->ck.num_classes)
			return ee_err_set(err, EE_ERR_INPUT,
					  "checkpoint '%s': exit %d gives %zu logits but num_classes "
					  "is %d", net->ck.path, k + 1, ee_shape_numel(s),
					  net->ck.num_classes);
	}
	return EE_OK;
}

/* The checkpoint's architecture: its arch attribute, or else detected from the key names
 * (the error then lists what each architecture expects). */
static int find_arch(struct ee_net *net, struct ee_err *err)
{
	char keys[EE_ERR_MSG_MAX] = "";
	int i, n = 0;

	if (net->ck.arch[0]) {
		net->arch = ee_arch_find(net->ck.arch);
		if (!net->arch)
			return ee_err_set(err, EE_ERR_INPUT, "checkpoint '%s': unknown arch '%s' "
					  "(known: %s)", net->ck.path, net->ck.arch, ee_arch_names());
		return EE_OK;
	}
	net->arch = ee_arch_detect(&net->ck);
	if (net->arch) {
		snprintf(net->ck.arch, sizeof(net->ck.arch), "%s", net->arch->name);
		return EE_OK;
	}
	for (i = 0; ee_archs[i] && n < (int)sizeof(keys); i++)
		n += snprintf(keys + n, sizeof(keys) - n, "%s%s (%s)", i ? "; " : "",
			      ee_archs[i]->name, ee_archs[i]->keys);
	return ee_err_set(err, EE_ERR_INPUT, "checkpoint '%s': no 'arch' attribute and no "
			  "architecture matches its keys; expected %s", net->ck.path, keys);
}

static int build(struct ee_net *net, struct ee_err *err)
{
	struct ee_builder b;
	int rc;

	ee_model_init(&net->model, net->ck.input);
	ee_builder_init(&b, &net->model, &net->ck, err);
	rc = net->arch->build(&b);
	if (rc == EE_OK)
		rc = ee_builder_finish(&b);
	if (rc == EE_OK) {
		net->slab = b.slab;
		net->slab_floats = b.slab_floats;
		b.slab = NULL;
	}
	ee_builder_release(&b);
	return rc;
}

int ee_net_load(struct ee_net *net, const char *path, struct ee_err *err)
{
	int rc;

	memset(net, 0, sizeof(*net));
	rc = ee_ckpt_open(&net->ck, path, err);
	if (rc < 0)
		goto fail;
	rc = find_arch(net, err);
	if (rc < 0)
		goto fail;
	net->params = ee_ckpt_params(&net->ck);
	rc = build(net, err);
	if (rc == EE_OK)
		rc = check_exits(net, err);
	ee_ckpt_close(&net->ck);
	if (rc == EE_OK)
		return EE_OK;
fail:
	ee_net_release(net);
	return rc;
}

void ee_net_release(struct ee_net *net)
{
	ee_model_release(&net->model);
	ee_ckpt_release(&net->ck);
	free(net->slab);
	memset(net, 0, sizeof(*net));
}
