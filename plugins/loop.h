/*
 * loop.h - running a network over a dataset in batches.
 *
 * The one inference loop of eeprof: it turns samples into network inputs
 * (ee_dataset_batch), runs them, and hands each finished batch to a callback
 * that takes what it needs from the run (logits, MACs, gates) before the next
 * batch overwrites them.
 */
#ifndef EE_LOOP_H
#define EE_LOOP_H

#include "core/exec.h"
#include "dataset.h"
#include "net.h"

/* Called after each batch: samples first .. first + r->n - 1 of the dataset. A negative
 * return stops the loop and is returned (with err filled). */
typedef int (*ee_batch_fn)(void *ctx, const struct ee_run *r, int first, struct ee_err *err);

/*
 * Runs samples [offset, offset + count) in batches of r->max_batch and calls fn
 * after each. *seconds (if not NULL) gets the wall time of the loop: input
 * preparation, forward passes and callbacks, without loading.
 */
int ee_loop_dataset(struct ee_run *r, const struct ee_net *net, const struct ee_dataset *ds,
		    int offset, int count, ee_batch_fn fn, void *ctx, double *seconds,
		    struct ee_err *err);

/* Index of the largest of v[0..n) (the first one on ties, like torch.argmax). */
int ee_argmax(const float *v, int n);

#endif
