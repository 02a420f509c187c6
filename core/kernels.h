/*
 * kernels.h - the numeric building blocks shared by several layer kinds.
 *
 * Inner loops are plain C written so that GCC vectorises them; EE_KERNEL gives
 * each an AVX-512 and an AVX2+FMA clone next to the portable one, and the loader picks the
 * clone the CPU supports at run time (GCC function multi-versioning).
 * Matrix products go to OpenBLAS's cblas_sgemm, those with few columns to skinny.h.
 */
#ifndef EE_KERNELS_H
#define EE_KERNELS_H

#include <stdbool.h>
#include <stddef.h>

#include "layer.h"

/* x86-64-v3 (AVX2, FMA, ...) is dispatched on CPU features; "arch=haswell" would be
 * on the CPU model, and no AMD or later Intel CPU is a Haswell. */
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(EE_NO_CLONES)
#define EE_KERNEL __attribute__((target_clones("arch=x86-64-v4", "arch=x86-64-v3", "default")))
#else
#define EE_KERNEL
#endif

/*
 * Vectorise the next loop whatever the cost model: at -O2, GCC 12's "very cheap"
 * model leaves every loop of unknown trip count scalar. Only for loops whose
 * iterations are independent (dst may equal a source, never overlap it shifted).
 */
#define EE_SIMD _Pragma("omp simd")

/* C[m][n] (row stride ldc) = A[m][k] (lda) * B[k][n] (ldb), row-major, through cblas_sgemm. */
void ee_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
	     int ldc);

/* C = op(A) * op(B) + beta * C, row-major, where op(A) is [m][k] and op(B) is [k][n]:
 * A is stored [k][m] when ta, B is stored [n][k] when tb. */
void ee_gemm_ex(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
		int ldb, float beta, float *c, int ldc);

/*
 * im2col of one sample x [c][h][w] for a kh x kw window: column j of col (row
 * stride ldcol) holds the c*kh*kw inputs that output pixel j = oy*ow + ox reads,
 * zeros where the window leaves the image.
 */
void ee_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride, int pad, int oh,
	       int ow, float *col, size_t ldcol);

/*
 * The adjoint of ee_im2col with the same arguments: adds every entry of col back
 * into the image y [c][h][w] at the input pixel im2col read it from (entries that
 * fall on the padding are dropped). Rows of col are ordered (ch, dy, dx), as
 * PyTorch's col2im sums them. A transposed convolution is a GEMM then this, with
 * (h, w) its output and (oh, ow) its input.
 */
void ee_col2im(const float *col, size_t ldcol, int c, int h, int w, int kh, int kw, int stride,
	       int pad, int oh, int ow, float *y);

/* y[i] = act(y[i] * scale + shift) for i < len. */
void ee_affine_act(float *y, size_t len, float scale, float shift, enum ee_act act);
/* dst[i] = act(src[i] * scale + shift): the same while copying. */
void ee_affine_act_copy(float *dst, const float *src, size_t len, float scale, float shift,
			enum ee_act act);

/*
 * Pooling of one plane x [h][w] with a k x k window into y [oh][ow]: the maximum
 * over the window (padding never wins), or, if !max, the window's sum divided by
 * k*k (padding counts as zeros, PyTorch's count_include_pad). Sums run row by
 * row, left to right, as PyTorch's.
 */
void ee_pool_plane(const float *x, int h, int w, int k, int stride, int pad, bool max, float *y,
		   int oh, int ow);

/* dst[i] = act(a[i] + b[i]); dst may be a or b. */
void ee_add_act(float *dst, const float *a, const float *b, size_t len, enum ee_act act);
/* dst[i] = a[i] * b[i]; dst may be a or b. */
void ee_mul(float *dst, const float *a, const float *b, size_t len);
/* Sum and maximum of x[0..len) (len >= 1 for the maximum), in vector lanes. */
float ee_sum(const float *x, size_t len);
/* mean(|x[i]| - t) over x[0..len): the EMG gate input (vector lanes summed in double). */
float ee_mean_abs_minus(const float *x, size_t len, float t);
float ee_max(const float *x, size_t len);
/* y[r] = the mean of row r of x [rows][len]: global average pooling of a sample. */
void ee_row_means(const float *x, size_t rows, size_t len, float *y);
/* dst[i] = exp(src[i] - shift), vectorised (about 1 ulp); returns the sum of dst. */
float ee_exp_sum(float *dst, const float *src, size_t len, float shift);

/* Output size of a window sweep, or <= 0 if the window does not fit. */
static inline int ee_conv_out(int in, int k, int stride, int pad)
{
	/* C division truncates toward zero: a window wider than the padded input is 0 */
	return in + 2 * pad < k ? 0 : (in + 2 * pad - k) / stride + 1;
}

/* Sigmoid as PyTorch computes it in float32, one value with libm's expf (the EMG
 * gate's decision); the activation loops above use a vectorised exp instead. */
float ee_sigmoidf(float x);

#endif
