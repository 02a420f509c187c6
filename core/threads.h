/*
 * threads.h - the one thread count of libee.
 *
 * Every parallel loop runs on one OpenMP team of N threads; OpenBLAS is kept
 * single-threaded and called from that team (ee_gemm splits a large product
 * into one block per thread). Two thread pools on the same cores would fight:
 * idle OpenMP threads spin while OpenBLAS's threads wait for a core. Loops are
 * written EE_PARALLEL_FOR(i, count); inside an already parallel region they run
 * serially on the calling thread, and without OpenMP they are plain loops.
 */
#ifndef EE_THREADS_H
#define EE_THREADS_H

#define EE_PRAGMA(x) _Pragma(#x)
#define EE_PARALLEL_FOR(i, count) \
	EE_PRAGMA(omp parallel for schedule(static)) for (i = 0; i < (count); i++)

/* n >= 1 threads for eeprof's loops and products (call before ee_run_init). */
void ee_threads_set(int n);
int ee_threads_get(void);
/* The calling thread's index in the current team (0 outside parallel regions). */
int ee_thread_id(void);
/* True inside a parallel region. */
int ee_in_parallel(void);

#endif
