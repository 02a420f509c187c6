/*
 * skinny.h - matrix products with few columns: the convolutions of small batches.
 *
 * At batch 1 and on the small compacted batches that reach late exits, a deep layer's
 * convolution is a product C[m][n] = A[m][k] B[k][n] of its weights A (m output channels,
 * k = cin x 3 x 3 terms, megabytes) with few columns n (the samples' pixels: 16 per sample
 * on a 4x4 plane). OpenBLAS packs the whole of A for every such call and its kernels are
 * shaped for wide B; here A is read once, in place, a block of 8 rows at a time against
 * 16 to 48 columns held in AVX-512 registers (a width that is not a multiple of 16 ends
 * in a masked block: EMGNet's branch convolutions have 100 and 25 columns), B (k x n,
 * small) staying in cache. Each entry of C is one running sum over k in order.
 *
 *     if (!ee_gemm_skinny(m, n, k, w, k, col, n, out, n))
 *             ee_gemm(m, n, k, w, k, col, n, out, n);   // not its shape, or no AVX-512
 */
#ifndef EE_SKINNY_H
#define EE_SKINNY_H

#include <stdbool.h>

/* Whether ee_gemm_skinny takes this shape on this CPU. */
bool ee_skinny_fits(int m, int n, int k);

/* C[m][n] (row stride ldc) = A[m][k] (lda) * B[k][n] (ldb), row-major, as ee_gemm; false
 * (C untouched) when !ee_skinny_fits(m, n, k). Reads A[i][0..k), B[p][0..n) only. */
bool ee_gemm_skinny(int m, int n, int k, const float *a, int lda, const float *b, int ldb,
		    float *c, int ldc);

#endif
