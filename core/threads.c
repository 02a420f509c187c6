/* threads.c - see threads.h. */
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
	openblas_set_num_threads(threads);
}

int ee_threads_get(void)
{
	return threads;
}
