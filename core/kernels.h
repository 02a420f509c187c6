/*
 * kernels.h - the numeric building blocks shared by several layer kinds.
 *
 * Inner loops are plain C written so that GCC vectorises them; EE_KERNEL gives
 * each an AVX2+FMA clone next to the portable one, and the loader picks the
 * clone the CPU supports at run time (GCC function multi-versioning).
 * Matrix products go to OpenBLAS's cblas_sgemm.
 */
#ifndef EE_KERNELS_H
#define EE_KERNELS_H

#include <stddef.h>

#include "layer.h"

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EE_NO_CLONES)
#define EE_KERNEL __attribute__((target_clones("arch=haswell", "default")))
#else
#define EE_KERNEL
#endif

/* C[m][n] (row stride ldc) = A[m][k] (lda) * B[k][n] (ldb), row-major, through cblas_sgemm. */
void ee_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
	     int ldc);

/*
 * im2col of one sample x [c][h][w] for a kh x kw window: column j of col (row
 * stride ldcol) holds the c*kh*kw inputs that output pixel j = oy*ow + ox reads,
 * zeros where the window leaves the image.
 */
void ee_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride, int pad, int oh,
	       int ow, float *col, size_t ldcol);

/* y[i] = act(y[i] * scale + shift) for i < len. */
void ee_affine_act(float *y, size_t len, float scale, float shift, enum ee_act act);
/* dst[i] = act(src[i] * scale + shift): the same while copying. */
void ee_affine_act_copy(float *dst, const float *src, size_t len, float scale, float shift,
			enum ee_act act);

/* One tap of a depthwise conv: y[oy][ox] += wgt * x[oy*stride + dy - pad][ox*stride + dx - pad],
 * skipping reads outside the h x w input. x is [h][w], y is [oh][ow]. */
void ee_dw_tap(const float *x, int h, int w, int stride, int pad, int dy, int dx, float wgt,
	       float *y, int oh, int ow);

/* y = sum of the taps of a kh x kw kernel k (row stride ldk) over x; y is overwritten. */
void ee_dw_plane(const float *x, int h, int w, const float *k, int kh, int kw, int ldk,
		 int stride, int pad, float *y, int oh, int ow);

/* Output size of a window sweep, or <= 0 if the window does not fit. */
static inline int ee_conv_out(int in, int k, int stride, int pad)
{
	return (in + 2 * pad - k) / stride + 1;
}

/* Sigmoid as PyTorch computes it in float32. */
float ee_sigmoidf(float x);

#endif
