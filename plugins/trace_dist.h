/*
 * trace_dist.h - a trace whose rows the ranks of an MPI job (plugins/dist.h) hold in parts,
 * brought whole to rank 0.
 *
 * Each rank encodes its part as the HDF5 image ee_trace_write would write
 * (ee_trace_to_bytes; a part without rows sends nothing) and sends it to rank 0, which reads
 * every part back with the checks of ee_trace_read and joins them with ee_trace_merge, the
 * code of `eeprof merge`: rows in index order, identities (checkpoint SHA-256, data, shape)
 * checked equal. The two steps are apart so that a caller can gather more between them
 * (each rank's wall time once its bytes are sent, other arrays).
 *
 *     struct ee_trace_parts p;
 *     rc = ee_trace_gather(&part, &p, &err);                  // collective
 *     if (rc == EE_OK && ee_dist_rank() == 0)
 *             rc = ee_trace_parts_merge(&p, &whole, &err);     // rank 0 alone
 *     rc = ee_dist_agree(rc, &err);
 *     ee_trace_parts_release(&p);
 */
#ifndef EE_TRACE_DIST_H
#define EE_TRACE_DIST_H

#include <stddef.h>

#include "reports/trace.h"

struct ee_trace_parts {
	void *all;    /* rank 0: the parts, rank after rank (NULL elsewhere) */
	size_t *lens; /* rank 0: [ranks] bytes of rank r's part, 0 for a part without rows */
	size_t bytes; /* rank 0: all the parts' bytes */
	int ranks;
};

/* Every rank's part (which may have no row) to rank 0. Collective: fails on every rank or
 * on none (an encoding that failed, out of memory), p then empty. */
int ee_trace_gather(const struct ee_trace *part, struct ee_trace_parts *p, struct ee_err *err);
/* On rank 0: the parts read back and merged into whole (left empty on failure). */
int ee_trace_parts_merge(const struct ee_trace_parts *p, struct ee_trace *whole,
			 struct ee_err *err);
void ee_trace_parts_release(struct ee_trace_parts *p);

#endif
