/* skinny.c - matrix products with few columns; see skinny.h. */
#include "skinny.h"

#include <string.h>

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
#endif

#define ROWS 8          /* rows of A per block: 8 accumulators per column vector */
/* Where it beats OpenBLAS's own AVX-512 kernels (OPENBLAS_CORETYPE unset), measured on the
 * shapes of ResNet-18's convolutions and Winograd products: up to NARROW columns always
 * (1.3-1.8x); up to 64 while B (k x n floats) stays in L2 (MAX_B); wider, only short
 * products (MAX_B_WIDE: 256 x 256 x 256 gains, 512 x 256 x 512 loses a little). */
#define NARROW 48
#define MAX_B 160000
#define MAX_B_WIDE 100000
#define MIN_K 64        /* shorter sums: too little to amortise the call */

#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_SKINNY 1
#define AVX512 __attribute__((target("avx512f")))

#define UNROLL _Pragma("GCC unroll 8") /* registers are named, not indexed: every loop over
					   * rows or vectors is unrolled */

typedef float v16 __attribute__((vector_size(64)));

/* block_NV: C[0..ROWS)[0..16*NV) from A[0..ROWS)[0..k) and B[0..k)[0..16*NV) (each its own
 * function: the accumulators must be an array of exactly the size used to stay in
 * registers). */
#define BLOCK(NV)								\
static AVX512 void block_##NV(int k, const float *a, int lda, const float *b, int ldb,	\
			      float *c, int ldc)					\
{										\
	v16 s[ROWS][NV], x[NV];							\
	int r, p, v;								\
										\
	memset(s, 0, sizeof(s));						\
	for (p = 0; p < k; p++) {						\
		UNROLL for (v = 0; v < NV; v++)				\
			memcpy(&x[v], b + (size_t)p * ldb + 16 * v, sizeof(v16)); \
		UNROLL for (r = 0; r < ROWS; r++) {				\
			float w = a[(size_t)r * lda + p];			\
										\
			UNROLL for (v = 0; v < NV; v++)			\
				s[r][v] += w * x[v];				\
		}								\
	}									\
	UNROLL for (r = 0; r < ROWS; r++)					\
		UNROLL for (v = 0; v < NV; v++)					\
			memcpy(c + (size_t)r * ldc + 16 * v, &s[r][v], sizeof(v16)); \
}
BLOCK(1)
BLOCK(2)
BLOCK(3)

/* The last cnt < 16 columns of C[0..ROWS): block_1 with masked loads and stores (the
 * same sums; nothing past column n read or written). */
static AVX512 void block_tail(int k, const float *a, int lda, const float *b, int ldb, float *c,
			      int ldc, int cnt)
{
	__mmask16 msk = (__mmask16)((1u << cnt) - 1);
	__m512 s[ROWS], x;
	int r, p;

	UNROLL for (r = 0; r < ROWS; r++)
		s[r] = _mm512_setzero_ps();
	for (p = 0; p < k; p++) {
		x = _mm512_maskz_loadu_ps(msk, b + (size_t)p * ldb);
		UNROLL for (r = 0; r < ROWS; r++)
			s[r] = _mm512_fmadd_ps(_mm512_set1_ps(a[(size_t)r * lda + p]), x, s[r]);
	}
	UNROLL for (r = 0; r < ROWS; r++)
		_mm512_mask_storeu_ps(c + (size_t)r * ldc, msk, s[r]);
}

/* Blocks of ROWS rows; rows left over (m not a multiple of ROWS, m >= ROWS) go in one more
 * block that ends at row m and overlaps the one before: its rows are computed again with
 * the same sums (a row alone, in one accumulator, was a chain of dependent FMAs at a
 * quarter of the rate: the 14 or 28 output channels of width-7 networks). */
static AVX512 void skinny(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
			  float *c, int ldc)
{
	int i, j;

	for (i = 0; i < m; i += ROWS) {
		const float *ai;
		float *ci;

		if (i + ROWS > m)
			i = m - ROWS;
		ai = a + (size_t)i * lda;
		ci = c + (size_t)i * ldc;
		for (j = 0; n % 48 == 0 && j < n; j += 48)
			block_3(k, ai, lda, b + j, ldb, ci + j, ldc);
		for (; j + 32 <= n; j += 32)
			block_2(k, ai, lda, b + j, ldb, ci + j, ldc);
		for (; j + 16 <= n; j += 16)
			block_1(k, ai, lda, b + j, ldb, ci + j, ldc);
		if (j < n)
			block_tail(k, ai, lda, b + j, ldb, ci + j, ldc, n - j);
	}
}
#endif

bool ee_skinny_fits(int m, int n, int k)
{
#ifdef HAVE_SKINNY
	return __builtin_cpu_supports("avx512f") && m >= ROWS && n >= 16 && k >= MIN_K &&
	       (n <= NARROW || (long)n * k <= (n <= 64 ? MAX_B : MAX_B_WIDE));
#else
	(void)m, (void)n, (void)k;
	return false;
#endif
}

bool ee_gemm_skinny(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
		    float *c, int ldc)
{
	if (!ee_skinny_fits(m, n, k))
		return false;
#ifdef HAVE_SKINNY
	skinny(m, n, k, a, lda, b, ldb, c, ldc);
#else
	(void)a, (void)lda, (void)b, (void)ldb, (void)c, (void)ldc;
#endif
	return true;
}
