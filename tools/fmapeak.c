/*
 * fmapeak.c - the machine's measured FMA peak, for make bench (tools/bench.py).
 *
 *     fmapeak [threads]    prints {"threads": N, "per_core_gflops": X, "wall_gflops": Y}
 *
 * Each thread runs 12 independent chains of AVX-512 (else AVX2) fused multiply-adds,
 * enough to hide the FMA latency on current x86 cores. per_core_gflops divides each
 * thread's flops by its own CPU time (what a core does while it runs, whatever else
 * the machine is doing; the median over the threads); wall_gflops divides all flops by
 * the wall time (what the threads got, other processes included).
 */
#include <immintrin.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define ITERS 20000000L
#define CHAINS 12
#define MAX_THREADS 64

static double clock_s(clockid_t id)
{
	struct timespec t;

	clock_gettime(id, &t);
	return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

#define FMA(a) a = _mm512_fmadd_ps(a, x, y)
#define FMA2(a) a = _mm256_fmadd_ps(a, x, y)

/* Returns the flops done; *sink keeps the result alive. */
__attribute__((target("avx512f"))) static double chains512(float *sink)
{
	__m512 x = _mm512_set1_ps(1.0000001f), y = _mm512_set1_ps(0.9999999f);
	__m512 a0 = _mm512_set1_ps(0), a1 = _mm512_set1_ps(1), a2 = _mm512_set1_ps(2),
	       a3 = _mm512_set1_ps(3), a4 = _mm512_set1_ps(4), a5 = _mm512_set1_ps(5),
	       a6 = _mm512_set1_ps(6), a7 = _mm512_set1_ps(7), a8 = _mm512_set1_ps(8),
	       a9 = _mm512_set1_ps(9), a10 = _mm512_set1_ps(10), a11 = _mm512_set1_ps(11);
	long k;

	for (k = 0; k < ITERS; k++) {
		FMA(a0), FMA(a1), FMA(a2), FMA(a3), FMA(a4), FMA(a5);
		FMA(a6), FMA(a7), FMA(a8), FMA(a9), FMA(a10), FMA(a11);
	}
	a0 = _mm512_add_ps(_mm512_add_ps(_mm512_add_ps(a0, a1), _mm512_add_ps(a2, a3)),
			   _mm512_add_ps(_mm512_add_ps(a4, a5), _mm512_add_ps(a6, a7)));
	a0 = _mm512_add_ps(a0, _mm512_add_ps(_mm512_add_ps(a8, a9), _mm512_add_ps(a10, a11)));
	*sink = _mm512_reduce_add_ps(a0);
	return (double)ITERS * CHAINS * 16 * 2;
}

__attribute__((target("avx2,fma"))) static double chains256(float *sink)
{
	__m256 x = _mm256_set1_ps(1.0000001f), y = _mm256_set1_ps(0.9999999f);
	__m256 a0 = _mm256_set1_ps(0), a1 = _mm256_set1_ps(1), a2 = _mm256_set1_ps(2),
	       a3 = _mm256_set1_ps(3), a4 = _mm256_set1_ps(4), a5 = _mm256_set1_ps(5),
	       a6 = _mm256_set1_ps(6), a7 = _mm256_set1_ps(7), a8 = _mm256_set1_ps(8),
	       a9 = _mm256_set1_ps(9), a10 = _mm256_set1_ps(10), a11 = _mm256_set1_ps(11);
	float v[8];
	long k;
	int i;

	for (k = 0; k < ITERS; k++) {
		FMA2(a0), FMA2(a1), FMA2(a2), FMA2(a3), FMA2(a4), FMA2(a5);
		FMA2(a6), FMA2(a7), FMA2(a8), FMA2(a9), FMA2(a10), FMA2(a11);
	}
	a0 = _mm256_add_ps(_mm256_add_ps(_mm256_add_ps(a0, a1), _mm256_add_ps(a2, a3)),
			   _mm256_add_ps(_mm256_add_ps(a4, a5), _mm256_add_ps(a6, a7)));
	a0 = _mm256_add_ps(a0, _mm256_add_ps(_mm256_add_ps(a8, a9), _mm256_add_ps(a10, a11)));
	_mm256_storeu_ps(v, a0);
	for (i = 0, *sink = 0; i < 8; i++)
		*sink += v[i];
	return (double)ITERS * CHAINS * 8 * 2;
}

struct job {
	double flops, cpu;
	float sink;
};

static void *worker(void *arg)
{
	struct job *j = arg;
	double t0 = clock_s(CLOCK_THREAD_CPUTIME_ID);

	j->flops = __builtin_cpu_supports("avx512f") ? chains512(&j->sink) : chains256(&j->sink);
	j->cpu = clock_s(CLOCK_THREAD_CPUTIME_ID) - t0;
	return NULL;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 1, i;
	pthread_t t[MAX_THREADS];
	struct job j[MAX_THREADS];
	double rate[MAX_THREADS], flops = 0, t0;

	if (n < 1 || n > MAX_THREADS) {
		fprintf(stderr, "fmapeak: threads must be 1..%d\n", MAX_THREADS);
		return 2;
	}
	t0 = clock_s(CLOCK_MONOTONIC);
	for (i = 0; i < n; i++)
		if (pthread_create(&t[i], NULL, worker, &j[i])) {
			fprintf(stderr, "fmapeak: cannot start thread %d\n", i);
			return 3;
		}
	for (i = 0; i < n; i++) {
		pthread_join(t[i], NULL);
		rate[i] = j[i].flops / j[i].cpu;
		flops += j[i].flops;
	}
	t0 = clock_s(CLOCK_MONOTONIC) - t0;
	qsort(rate, (size_t)n, sizeof(double), cmp);
	printf("{\"threads\": %d, \"isa\": \"%s\", \"per_core_gflops\": %.1f, \"wall_gflops\": %.1f}\n",
	       n, __builtin_cpu_supports("avx512f") ? "avx512" : "avx2", 1e-9 * rate[n / 2],
	       1e-9 * flops / t0);
	return 0;
}
