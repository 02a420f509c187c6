/*
 * rows.h - a sample's row of a trace, filled from a finished batch: what profiling
 * (profile.c) and real early exit (realexit.c) both record per sample and exit.
 *
 * For exit x of a row: the predicted class, max softmax, entropy and top-2 margin
 * of its logits (and the whole softmax and the logits, if the trace keeps them); for the row: the
 * executed MACs of every exit (standalone and cascade) and the ensemble (argmax of
 * the mean softmax over the exits, first on ties).
 *
 *     float p[K];                               // scratch when t keeps no softmax
 *     double ens[K];
 *     ee_rows_sample(&t, row, run, i, p, ens);  // sample i of the run's last batch
 */
#ifndef EE_ROWS_H
#define EE_ROWS_H

#include <stdint.h>

#include "core/exec.h"
#include "plugins/dataset.h"
#include "plugins/net.h"
#include "reports/trace.h"

/* The softmax statistics of logits z (num_classes of them) at (row, exit x) of t; the
 * softmax goes into t's own (if kept) or into p, the logits into t's own (if kept). */
void ee_rows_exit(struct ee_trace *t, int row, int x, const float *z, float *p);

/* Every exit of sample i of r's last batch into row of t: softmax statistics, executed
 * MACs (standalone and cascade), and the ensemble. p: [K] softmax scratch (used when t
 * keeps no softmax), ens: [K] scratch. */
void ee_rows_sample(struct ee_trace *t, int row, const struct ee_run *r, int i, float *p,
		    double *ens);

/* The ensemble of a row whose every exit is in t->softmax (t keeps the softmax). */
void ee_rows_ensemble(struct ee_trace *t, int row);

/* The identity of a trace of net (loaded from checkpoint) over ds (opened from data), but
 * for the checkpoint's SHA-256 and the gated layers: checkpoint, arch, data, dataset_size
 * and the static exit_macs. */
void ee_rows_identity(struct ee_trace *t, const struct ee_net *net, const char *checkpoint,
		      const char *data, const struct ee_dataset *ds);

#endif
