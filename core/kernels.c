/* kernels.c - the numeric building blocks shared by several layer kinds; see kernels.h. */
#include "kernels.h"

#include "skinny.h"
#include "threads.h"

#include <cblas.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

static void sgemm(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
		  int ldb, float beta, float *c, int ldc)
{
	if (!ta && !tb && beta == 0.0f && ee_gemm_skinny(m, n, k, a, lda, b, ldb, c, ldc))
		return;
	cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans,
		    m, n, k, 1.0f, a, lda, b, ldb, beta, c, ldc);
}

/* A product split into blocks of `step` columns (cols) or rows. */
struct gemm_split {
	bool ta, tb, cols;
	int m, n, k, lda, ldb, ldc, step;
	const float *a, *b;
	float beta, *c;
};

static void gemm_blocks(void *ctx, long lo, long hi, int tid)
{
	const struct gemm_split *g = ctx;
	int len = g->cols ? g->n : g->m, i0 = (int)lo * g->step;
	int i1 = (int)hi * g->step < len ? (int)hi * g->step : len, cnt = i1 - i0;

	(void)tid;
	if (g->cols)
		sgemm(g->ta, g->tb, g->m, cnt, g->k, g->a, g->lda,
		      g->tb ? g->b + (size_t)i0 * g->ldb : g->b + i0, g->ldb, g->beta, g->c + i0,
		      g->ldc);
	else
		sgemm(g->ta, g->tb, cnt, g->n, g->k, g->ta ? g->a + i0 : g->a + (size_t)i0 * g->lda,
		      g->lda, g->b, g->ldb, g->beta, g->c + (size_t)i0 * g->ldc, g->ldc);
}

/*
 * OpenBLAS runs single-threaded (threads.h); a large product is split into blocks
 * of columns (or, if there are few columns, of rows), two per thread so that a
 * helper that starts late leaves little to wait for, block edges on 16-float
 * boundaries; the team's loop decides from the MACs whether to split at all.
 */
void ee_gemm_ex(bool ta, bool tb, int m, int n, int k, const float *a, int lda, const float *b,
		int ldb, float beta, float *c, int ldc)
{
	int t = ee_threads_get(), len, blocks;
	struct gemm_split g = { ta, tb, n >= 64 * t, m, n, k, lda, ldb, ldc, 0, a, b, beta, c };

	if (t == 1 || ee_in_parallel() || (!g.cols && m < 32 * t)) {
		sgemm(ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
		return;
	}
	len = g.cols ? n : m;
	g.step = ((len + 2 * t - 1) / (2 * t) + 15) & ~15;
	blocks = (len + g.step - 1) / g.step;
	ee_parallel_for(t, blocks, (double)m * n * k, gemm_blocks, &g);
}

void ee_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
	     int ldc)
{
	ee_gemm_ex(false, false, m, n, k, a, lda, b, ldb, 0.0f, c, ldc);
}

/* The range of output columns [*lo, *hi) whose input column ox*stride + d - pad is inside [0, w). */
static void valid_range(int w, int ow, int stride, int pad, int d, int *lo, int *hi)
{
	int off = d - pad; /* input column of output 0 */

	*lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
	*hi = w - 1 - off < 0 ? 0 : (w - 1 - off) / stride + 1;
	if (*hi > ow)
		*hi = ow;
	if (*lo > *hi)
		*lo = *hi;
}

/*
 * im2col of a strided window without padding (stride > 1: the patch convolutions of
 * exit heads, whose windows tile the image), image row by image row: output pixel ox
 * of row oy reads kw contiguous inputs from ox * stride, which go to kw rows of col.
 * Reading contiguous runs instead of gathering every stride-th input per row of col,
 * which costs a loop per (tap, output row): on the 4x4 outputs of 8x8 patches, a loop
 * per 4 floats.
 */
static void im2col_unpadded(const float *x, int c, int h, int w, int kh, int kw, int stride,
			    int oh, int ow, float *col, size_t ldcol)
{
	int ch, dy, dx, oy, ox;

	for (ch = 0; ch < c; ch++)
		for (dy = 0; dy < kh; dy++) {
			float *rows = col + (size_t)(ch * kh + dy) * kw * ldcol;

			for (oy = 0; oy < oh; oy++) {
				const float *src = x + ((size_t)ch * h + oy * stride + dy) * w;
				float *dst = rows + (size_t)oy * ow;

				for (ox = 0; ox < ow; ox++, src += stride)
					for (dx = 0; dx < kw; dx++)
						dst[dx * ldcol + ox] = src[dx];
			}
		}
}

/* The general im2col (see ee_im2col); inlined twice: with wide output rows of stride 2
 * (vec), whose gathers vectorise for a constant stride, and for the rest, where short
 * vectorised gathers would cost more than they save. */
static inline __attribute__((always_inline)) void im2col_rows(const float *x, int c, int h,
							      int w, int kh, int kw, int stride,
							      int pad, int oh, int ow, float *col,
							      size_t ldcol, bool vec)
{
	int ch, dy, dx, oy, ox;

	for (ch = 0; ch < c; ch++)
		for (dy = 0; dy < kh; dy++)
			for (dx = 0; dx < kw; dx++) {
				float *row = col + ((size_t)(ch * kh + dy) * kw + dx) * ldcol;
				int lo, hi;

				valid_range(w, ow, stride, pad, dx, &lo, &hi);
				for (oy = 0; oy < oh; oy++) {
					int iy = oy * stride + dy - pad;
					float *dst = row + (size_t)oy * ow;
					const float *src;

					if (iy < 0 || iy >= h) {
						memset(dst, 0, (size_t)ow * sizeof(float));
						continue;
					}
					src = x + ((size_t)ch * h + iy) * w + dx - pad;
					for (ox = 0; ox < lo; ox++)
						dst[ox] = 0;
					if (stride == 1)
						memcpy(dst + lo, src + lo, (size_t)(hi - lo) * sizeof(float));
					else if (vec)
						EE_SIMD for (ox = lo; ox < hi; ox++)
							dst[ox] = src[ox * stride];
					else
						for (ox = lo; ox < hi; ox++)
							dst[ox] = src[ox * stride];
					for (ox = hi; ox < ow; ox++)
						dst[ox] = 0;
				}
			}
}

EE_KERNEL
void ee_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride, int pad, int oh,
	       int ow, float *col, size_t ldcol)
{
	if (stride > 1 && pad == 0 && kw > 1)
		im2col_unpadded(x, c, h, w, kh, kw, stride, oh, ow, col, ldcol);
	else if (stride == 2 && ow >= 8)
		im2col_rows(x, c, h, w, kh, kw, 2, pad, oh, ow, col, ldcol, true);
	else
		im2col_rows(x, c, h, w, kh, kw, stride, pad, oh, ow, col, ldcol, false);
}

/*
 * exp(x) in a form GCC vectorises (libm's expf is a call per element): x = n*ln2 + r
 * with |r| <= ln2/2 (Cody-Waite, ln2 in two parts), exp(r) by Cephes' degree-6
 * polynomial (about 1 ulp, like the Sleef expf PyTorch vectorises with), 2^n put
 * in the exponent bits. |x| is first clamped to 88 in integer arithmetic: a float
 * compare would keep the loop scalar (GCC may not speculate FP ops that could
 * trap). So exp(x > 88) = exp(88) = 1.65e38 and results below FLT_MIN (x < -87.3)
 * flush to 0, which neither softmax (x <= 0) nor sigmoid notices; NaN acts as +-88.
 */
static inline __attribute__((always_inline)) float vexpf(float x)
{
	const int32_t lim = 0x42b00000; /* the bits of 88.0f */
	float a = fabsf(x), n, r, p, scale;
	int32_t bits;

	memcpy(&bits, &a, sizeof(bits));
	bits = bits < lim ? bits : lim;
	memcpy(&a, &bits, sizeof(a));
	x = copysignf(a, x);
	n = x * 1.44269504f + 0x1.8p23f - 0x1.8p23f; /* round to nearest, no libm call */
	r = x - n * 0.693359375f + n * 2.12194440e-4f;
	p = 1.9875691500e-4f;
	p = p * r + 1.3981999507e-3f;
	p = p * r + 8.3334519073e-3f;
	p = p * r + 4.1665795894e-2f;
	p = p * r + 1.6666665459e-1f;
	p = p * r + 5.0000001201e-1f;
	p = p * r * r + r + 1.0f;
	bits = ((int32_t)n + 127) << 23; /* n = -127 gives 0 */
	memcpy(&scale, &bits, sizeof(scale));
	return p * scale;
}

/*
 * dst[i] = act(expr) for i < len, with one loop per activation so that each
 * vectorises. expr is written in terms of i. Sigmoid is 1 / (1 + exp(-v)) as
 * PyTorch's vectorised kernel computes it.
 */
#define ACT_LOOP(act, i, len, dst, expr)                        \
	switch (act) {                                          \
	case EE_ACT_NONE:                                       \
		EE_SIMD for (i = 0; i < (len); i++)             \
			(dst)[i] = (expr);                      \
		break;                                          \
	case EE_ACT_RELU:                                       \
		EE_SIMD for (i = 0; i < (len); i++) {           \
			float v_ = (expr);                      \
								\
			(dst)[i] = v_ > 0.0f ? v_ : 0.0f;       \
		}                                               \
		break;                                          \
	case EE_ACT_SIGMOID:                                    \
		EE_SIMD for (i = 0; i < (len); i++)             \
			(dst)[i] = 1.0f / (1.0f + vexpf(-(expr))); \
		break;                                          \
	}

EE_KERNEL
void ee_affine_act_copy(float *dst, const float *src, size_t len, float scale, float shift,
			enum ee_act act)
{
	size_t i;

	ACT_LOOP(act, i, len, dst, src[i] * scale + shift)
}

EE_KERNEL
void ee_add_act(float *dst, const float *a, const float *b, size_t len, enum ee_act act)
{
	size_t i;

	ACT_LOOP(act, i, len, dst, a[i] + b[i])
}

EE_KERNEL
void ee_mul(float *dst, const float *a, const float *b, size_t len)
{
	size_t i;

	EE_SIMD for (i = 0; i < len; i++)
		dst[i] = a[i] * b[i];
}

/* Lanes of the reductions below. GCC 12 at -O2 keeps an OpenMP simd reduction
 * scalar, so they accumulate in vectors of GCC's vector extension instead (a
 * 32-byte one: two SSE registers in the portable clone, one AVX register in the
 * x86-64-v3 one). */
#define LANES 8
typedef float lanes __attribute__((vector_size(LANES * sizeof(float))));
typedef int32_t ilanes __attribute__((vector_size(LANES * sizeof(int32_t))));

static inline __attribute__((always_inline)) float lane_sum(const float *x, size_t len)
{
	lanes acc = { 0 }, v;
	float s = 0.0f;
	size_t i;

	for (i = 0; i + LANES <= len; i += LANES) {
		memcpy(&v, x + i, sizeof(v));
		acc += v;
	}
	for (; i < len; i++)
		s += x[i];
	return s + (((acc[0] + acc[4]) + (acc[1] + acc[5])) + ((acc[2] + acc[6]) + (acc[3] + acc[7])));
}

EE_KERNEL
float ee_sum(const float *x, size_t len)
{
	return lane_sum(x, len);
}

EE_KERNEL
float ee_mean_abs_minus(const float *x, size_t len, float t)
{
	lanes acc = { 0 }, v, tv = { t, t, t, t, t, t, t, t };
	const int32_t m = INT32_MAX; /* clears the sign bit: |v| */
	ilanes bits, mask = { m, m, m, m, m, m, m, m };
	double s = 0;
	size_t i;
	int j;

	for (i = 0; i + LANES <= len; i += LANES) {
		memcpy(&bits, x + i, sizeof(bits));
		bits &= mask;
		memcpy(&v, &bits, sizeof(v));
		acc += v - tv;
	}
	for (; i < len; i++)
		s += (double)(fabsf(x[i]) - t);
	for (j = 0; j < LANES; j++)
		s += acc[j];
	return (float)(s / (double)len);
}

EE_KERNEL
void ee_row_means(const float *x, size_t rows, size_t len, float *y)
{
	size_t r;

	for (r = 0; r < rows; r++)
		y[r] = lane_sum(x + r * len, len) / (float)len;
}

EE_KERNEL
float ee_max(const float *x, size_t len)
{
	lanes acc, v;
	ilanes more;
	float m = x[0];
	size_t i;
	int j;

	for (j = 0; j < LANES; j++)
		acc[j] = x[0];
	for (i = 0; i + LANES <= len; i += LANES) {
		memcpy(&v, x + i, sizeof(v));
		more = v > acc; /* all ones where v wins */
		acc = (lanes)(((ilanes)v & more) | ((ilanes)acc & ~more));
	}
	for (; i < len; i++)
		m = x[i] > m ? x[i] : m;
	for (j = 0; j < LANES; j++)
		m = acc[j] > m ? acc[j] : m;
	return m;
}

EE_KERNEL
float ee_exp_sum(float *dst, const float *src, size_t len, float shift)
{
	size_t i;

	EE_SIMD for (i = 0; i < len; i++)
		dst[i] = vexpf(src[i] - shift);
	return ee_sum(dst, len);
}

void ee_affine_act(float *y, size_t len, float scale, float shift, enum ee_act act)
{
	if (scale == 1.0f && shift == 0.0f && act == EE_ACT_NONE)
		return;
	ee_affine_act_copy(y, y, len, scale, shift, act);
}

/* What one tap of a window sweep does between an image row and a grid row. */
enum tap_op {
	TAP_FMA,     /* grid += wgt * image: depthwise conv, sum pooling (wgt 1) */
	TAP_MAX,     /* grid = max(grid, image): max pooling */
	TAP_SCATTER, /* image += grid: col2im */
};

#define ALWAYS_INLINE inline __attribute__((always_inline))

/* Grid columns [lo, hi) against image columns ox * stride (img is already offset by the tap). */
static ALWAYS_INLINE void tap_row(enum tap_op op, float *img, float *grid, int lo, int hi,
				  int stride, float wgt)
{
	int ox;

	if (stride > 1) {
		for (ox = lo; ox < hi; ox++)
			if (op == TAP_FMA)
				grid[ox] += wgt * img[ox * stride];
			else if (op == TAP_MAX)
				grid[ox] = img[ox * stride] > grid[ox] ? img[ox * stride] : grid[ox];
			else
				img[ox * stride] += grid[ox];
	} else if (op == TAP_FMA) {
		EE_SIMD for (ox = lo; ox < hi; ox++)
			grid[ox] += wgt * img[ox];
	} else if (op == TAP_MAX) {
		EE_SIMD for (ox = lo; ox < hi; ox++)
			grid[ox] = img[ox] > grid[ox] ? img[ox] : grid[ox];
	} else {
		EE_SIMD for (ox = lo; ox < hi; ox++)
			img[ox] += grid[ox];
	}
}

/*
 * Tap (dy, dx) of a window swept over the image plane img [h][w]; grid [oh][ow] has
 * one pixel per window position. Applies op between grid pixel (oy, ox) and image
 * pixel (oy*stride + dy - pad, ox*stride + dx - pad) wherever the latter is inside.
 * Only TAP_SCATTER writes img (the others get a cast-away const).
 */
static ALWAYS_INLINE void tap(enum tap_op op, float *img, int h, int w, int stride, int pad,
			      int dy, int dx, float wgt, float *grid, int oh, int ow)
{
	int lo, hi, oy;

	valid_range(w, ow, stride, pad, dx, &lo, &hi);
	for (oy = 0; oy < oh; oy++) {
		int iy = oy * stride + dy - pad;

		if (iy >= 0 && iy < h)
			tap_row(op, img + (size_t)iy * w + dx - pad, grid + (size_t)oy * ow, lo, hi,
				stride, wgt);
	}
}

EE_KERNEL
void ee_col2im(const float *col, size_t ldcol, int c, int h, int w, int kh, int kw, int stride,
	       int pad, int oh, int ow, float *y)
{
	int ch, dy, dx;

	for (ch = 0; ch < c; ch++)
		for (dy = 0; dy < kh; dy++)
			for (dx = 0; dx < kw; dx++)
				tap(TAP_SCATTER, y + (size_t)ch * h * w, h, w, stride, pad, dy, dx,
				    1.0f, (float *)col + ((size_t)(ch * kh + dy) * kw + dx) * ldcol,
				    oh, ow);
}

EE_KERNEL
void ee_pool_plane(const float *x, int h, int w, int k, int stride, int pad, bool max, float *y,
		   int oh, int ow)
{
	size_t i, len = (size_t)oh * ow;
	float fill = max ? -INFINITY : 0.0f, area = (float)(k * k);
	int dy, dx, oy, ox;

	if (ow < 8) { /* window by window: a sweep per tap costs a call per tap and row, and
		       * gains nothing from vectors on narrow rows (4x4 windows on 4x4 planes,
		       * SCAN's exits: 10 us a sample); the same taps in the same order */
		for (oy = 0; oy < oh; oy++)
			for (ox = 0; ox < ow; ox++) {
				float acc = fill;

				for (dy = 0; dy < k; dy++) {
					int iy = oy * stride + dy - pad;

					for (dx = 0; iy >= 0 && iy < h && dx < k; dx++) {
						int ix = ox * stride + dx - pad;
						float v;

						if (ix < 0 || ix >= w) /* padding: skipped */
							continue;
						v = x[(size_t)iy * w + ix];
						acc = max ? (v > acc ? v : acc) : acc + v;
					}
				}
				y[(size_t)oy * ow + ox] = max ? acc : acc / area;
			}
		return;
	}
	EE_SIMD for (i = 0; i < len; i++)
		y[i] = fill;
	for (dy = 0; dy < k; dy++)
		for (dx = 0; dx < k; dx++)
			if (max)
				tap(TAP_MAX, (float *)x, h, w, stride, pad, dy, dx, 0.0f, y, oh, ow);
			else
				tap(TAP_FMA, (float *)x, h, w, stride, pad, dy, dx, 1.0f, y, oh, ow);
	if (!max)
		EE_SIMD for (i = 0; i < len; i++)
			y[i] /= area;
}

float ee_sigmoidf(float x)
{
	return 1.0f / (1.0f + expf(-x));
}
