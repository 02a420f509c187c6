/*
 * threads.h - the one thread count of libee.
 *
 * Our own loops (im2col, depthwise, epilogues, gates) run on OpenMP; matrix
 * products on OpenBLAS's pool. ee_threads_set() sets both, so `--threads N`
 * means N threads everywhere. Loops are written EE_PARALLEL_FOR(i, count) and
 * fall back to plain loops in a build without OpenMP.
 */
#ifndef EE_THREADS_H
#define EE_THREADS_H

#define EE_PRAGMA(x) _Pragma(#x)
#define EE_PARALLEL_FOR(i, count) \
	EE_PRAGMA(omp parallel for schedule(static)) for (i = 0; i < (count); i++)

/* n >= 1 threads for OpenMP and OpenBLAS. */
void ee_threads_set(int n);
int ee_threads_get(void);

#endif
