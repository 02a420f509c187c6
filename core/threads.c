/* threads.c - the one thread count of libee; see threads.h. */
#include "threads.h"

#include <cblas.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static int threads = 1;

void ee_threads_set(int n)
{
	threads = n < 1 ? 1 : n;
#ifdef _OPENMP
	omp_set_num_threads(threads);
#endif
	openblas_set_num_threads(1);
}

/* One thread until told otherwise, and OpenBLAS never starts its own pool. */
__attribute__((constructor)) static void threads_init(void)
{
	ee_threads_set(1);
}

int ee_thread_id(void)
{
#ifdef _OPENMP
	return omp_get_thread_num();
#else
	return 0;
#endif
}

int ee_in_parallel(void)
{
#ifdef _OPENMP
	return omp_in_parallel();
#else
	return 0;
#endif
}

int ee_threads_get(void)
{
	return threads;
}
