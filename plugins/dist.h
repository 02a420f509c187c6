/*
 * dist.h - the processes of one job: MPI ranks when eeprof is started by mpirun or srun
 * and built with MPI (make MPI=1, or Open MPI found by pkg-config), one process otherwise.
 *
 * The distributed commands (profile, eval, report, run) split their samples into
 * contiguous shards (ee_dist_shard), run one shard per rank and bring the results to
 * rank 0 (ee_dist_gather), which alone prints and writes. Every rank must make the same
 * sequence of collective calls, so that no rank waits for one that has given up: a step
 * that can fail on some ranks only ends with ee_dist_agree(), after which every rank
 * holds the same status and message (those of the lowest failing rank).
 *
 * Started plainly (no launcher in the environment) the job is one rank and MPI is never
 * initialised; a build without MPI is always one rank, and refuses to start under a
 * launcher that asks for several processes (they would all write the same files).
 *
 *     struct ee_err err = { 0 };
 *     if (ee_dist_init(&argc, &argv, &err) < 0)  // main(), before anything else
 *             ...;
 *     ee_dist_shard(n, batch, ee_dist_rank(), ee_dist_size(), &first, &count);
 *     rc = ee_dist_agree(work(first, count, &err), &err);   // same rc on every rank
 *     ...
 *     ee_dist_finalize();                                    // end of main()
 */
#ifndef EE_DIST_H
#define EE_DIST_H

#include <stdbool.h>
#include <stddef.h>

#include "core/status.h"

/* Joins the job the launcher started (MPI_Init) if there is one; one rank otherwise.
 * EE_ERR_INPUT when a launcher asks for several processes of a build without MPI. */
int ee_dist_init(int *argc, char ***argv, struct ee_err *err);
/* Leaves the job (MPI_Finalize); a no-op when alone. */
void ee_dist_finalize(void);

/* This process's rank in [0, size) and the number of ranks (1 when alone). */
int ee_dist_rank(void);
int ee_dist_size(void);
/* True if this binary was built with MPI. */
bool ee_dist_built_with_mpi(void);

/* Every rank passes its own status rc (EE_OK or negative) and error. Returns on every rank
 * the status of the lowest rank that failed (EE_OK if none) and copies that rank's error
 * into err, its message prefixed with "rank R: " when R is not 0. */
int ee_dist_agree(int rc, struct ee_err *err);
/* The largest v of all ranks, on every rank. */
int ee_dist_max(int v);

/* Gathers len bytes of buf from every rank on rank 0: there *all (malloc'd, the caller frees
 * it) holds them in rank order and lens[r] (room for ee_dist_size() entries) the size of
 * rank r's part; elsewhere *all is NULL and lens (which may be NULL) is not used. Collective; fails on every rank or on none
 * (EE_ERR_NOMEM, or EE_ERR_INPUT for a part of 2 GiB or more). */
int ee_dist_gather(const void *buf, size_t len, void **all, size_t *lens, struct ee_err *err);
/* Every rank's v into out[ee_dist_size()] on rank 0 (out is untouched elsewhere). */
void ee_dist_gather_double(double v, double *out);

/* Element types and operations of ee_dist_reduce. */
enum ee_dist_type { EE_DIST_DOUBLE, EE_DIST_LONG, EE_DIST_LLONG };
enum ee_dist_op { EE_DIST_SUM, EE_DIST_MAX };

/* The n values of buf (of type type) combined element by element over every rank's buf by
 * op, into rank 0's buf; the other ranks' buf is left as it was. Collective. */
void ee_dist_reduce(void *buf, int n, enum ee_dist_type type, enum ee_dist_op op);

/* Rank's shard of n samples cut into batches of batch: [*first, *first + *count), the
 * batches split as evenly as they go, the lower ranks taking the extra ones; boundaries are
 * multiples of batch. A rank may get no sample (more ranks than batches), rank 0 never
 * (unless n is 0). */
void ee_dist_shard(int n, int batch, int rank, int size, int *first, int *count);

#endif
