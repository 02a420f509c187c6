/*
 * net.h - a loaded network: checkpoint metadata, architecture, graph, weights.
 *
 * This is what the analyzer works with (compiled by make check-headers):
 *
 *     struct ee_err err = { 0 };
 *     struct ee_net net;
 *     if (ee_net_load(&net, "model.h5", &err) < 0)
 *             return err.code;   // err.msg names the file and what is wrong with it
 *     // net.model is ready for ee_run_init(); net.ck holds mean, std, eval numbers
 *     ee_net_release(&net);
 */
#ifndef EE_NET_H
#define EE_NET_H

#include "arch.h"
#include "checkpoints/ckpt.h"
#include "core/model.h"

struct ee_net {
	struct ee_ckpt ck;          /* metadata; the HDF5 file is closed after loading */
	const struct ee_arch *arch;
	struct ee_model model;
	float *slab;                /* every weight, one allocation [slab_floats] */
	size_t slab_floats;
	long long params;           /* parameters as PyTorch counts them */
};

int ee_net_load(struct ee_net *net, const char *path, struct ee_err *err);
void ee_net_release(struct ee_net *net);

#endif
