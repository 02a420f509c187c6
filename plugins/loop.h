/*
 * loop.h - running a network over a dataset in batches.
 *
 * The one inference loop of eeprof: it turns samples into network inputs
 * (ee_dataset_batch), runs them, and hands each finished batch to a callback
 * that takes what it needs from the run (logits, MACs, gates) before the next
 * batch overwrites them (ee_loop_dataset: eval, profile; small batches on several
 * threads at once, streams.h). A caller that runs each batch its own way
 * (realexit.h: twice) takes the inputs instead (ee_loop_inputs).
 */
#ifndef EE_LOOP_H
#define EE_LOOP_H

#include "core/exec.h"
#include "dataset.h"
#include "net.h"

/* Called after each batch: samples first .. first + r->n - 1 of the dataset. A negative
 * return stops the loop and is returned (with err filled). */
typedef int (*ee_batch_fn)(void *ctx, const struct ee_run *r, int first, struct ee_err *err);

/* Called with each batch of inputs x, prepared for the network: samples first ..
 * first + x->n - 1 of the dataset. It runs what it needs on them; a negative return
 * stops the loop and is returned (with err filled). */
typedef int (*ee_input_fn)(void *ctx, const struct ee_tensor *x, int first,
			   struct ee_err *err);

/*
 * The loop itself: samples [offset, offset + count) of ds, prepared for net (its
 * input shape and normalisation) in batches of up to max_batch, each handed to fn.
 * EE_ERR_USAGE if the samples are outside ds.
 */
int ee_loop_inputs(const struct ee_net *net, const struct ee_dataset *ds, int offset, int count,
		   int max_batch, ee_input_fn fn, void *ctx, struct ee_err *err);

/*
 * Runs samples [offset, offset + count) in batches of r->max_batch through r (one
 * forward pass each, added to the PAPI software-defined events) and calls fn after
 * each, in batch order. *seconds (if not NULL) gets the wall time of the loop: input
 * preparation, forward passes and callbacks, without loading.
 *
 * With several threads and small batches (streams.h, ee_streams_count) consecutive
 * batches run at once, each in a one-thread run of a pool: fn is then given the run that
 * holds its batch, not r, one call at a time but not always on the calling thread, and r
 * gets the sums of the pool's per-node and per-stage seconds and ring taps (its per-batch
 * fields are not the last batch's). The results fn sees are those of a one-thread run.
 * A run with hooks (counters, timeline) always runs every batch itself.
 */
int ee_loop_dataset(struct ee_run *r, const struct ee_net *net, const struct ee_dataset *ds,
		    int offset, int count, ee_batch_fn fn, void *ctx, double *seconds,
		    struct ee_err *err);

/* The samples [offset, offset + *count) that offset and limit (0: to the end) select from
 * ds; EE_ERR_USAGE ("--offset N selects no samples ...") if none. */
int ee_loop_select(const struct ee_dataset *ds, int offset, int limit, int *count,
		   struct ee_err *err);
/* EE_ERR_INPUT if ds has labels the network cannot predict (more classes than it has). */
int ee_loop_check_classes(const struct ee_net *net, const struct ee_dataset *ds,
			  struct ee_err *err);

/* Index of the largest of v[0..n) (the first one on ties, like torch.argmax). */
int ee_argmax(const float *v, int n);

#endif
