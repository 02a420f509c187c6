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

/*
 * One function per vector width, from one body: CHAINS accumulators of a GCC vector type
 * (LANES floats), each multiplied by x and added y ITERS times (contracted into one FMA:
 * -std=c11 turns contraction off, the attribute turns it on here); the chains are independent,
 * so the core's FMA pipes stay full. Returns the flops done; *sink keeps the result alive.
 */
#define CHAINS_FN(name, isa, LANES)                                                     \
	__attribute__((target(isa), optimize("fp-contract=fast"))) static double name(float *sink) \
	{                                                                               \
		typedef float vec __attribute__((vector_size(4 * (LANES))));            \
		vec a[CHAINS], x, y, s;                                                 \
		long k;                                                                 \
		int c, l;                                                               \
                                                                                        \
		for (l = 0; l < (LANES); l++)                                           \
			x[l] = 1.0000001f, y[l] = 0.9999999f;                           \
		for (c = 0; c < CHAINS; c++)                                            \
			a[c] = x * (float)c;                                            \
		for (k = 0; k < ITERS; k++) {                                           \
			_Pragma("GCC unroll 12") for (c = 0; c < CHAINS; c++)           \
				a[c] = a[c] * x + y;                                    \
		}                                                                       \
		for (c = 1, s = a[0]; c < CHAINS; c++)                                  \
			s += a[c];                                                      \
		for (l = 0, *sink = 0; l < (LANES); l++)                                \
			*sink += s[l];                                                  \
		return (double)ITERS * CHAINS * (LANES) * 2;                            \
	}

CHAINS_FN(chains512, "avx512f,fma", 16)
CHAINS_FN(chains256, "avx2,fma", 8)

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
