/* kernels.c - see kernels.h. */
#include "kernels.h"

#include <cblas.h>
#include <math.h>
#include <string.h>

void ee_gemm(int m, int n, int k, const float *a, int lda, const float *b, int ldb, float *c,
	     int ldc)
{
	cblas_sgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m, n, k, 1.0f, a, lda, b, ldb,
		    0.0f, c, ldc);
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

EE_KERNEL
void ee_im2col(const float *x, int c, int h, int w, int kh, int kw, int stride, int pad, int oh,
	       int ow, float *col, size_t ldcol)
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
					else
						for (ox = lo; ox < hi; ox++)
							dst[ox] = src[ox * stride];
					for (ox = hi; ox < ow; ox++)
						dst[ox] = 0;
				}
			}
}

EE_KERNEL
void ee_affine_act_copy(float *dst, const float *src, size_t len, float scale, float shift,
			enum ee_act act)
{
	size_t i;

	switch (act) {
	case EE_ACT_NONE:
		for (i = 0; i < len; i++)
			dst[i] = src[i] * scale + shift;
		break;
	case EE_ACT_RELU:
		for (i = 0; i < len; i++) {
			float v = src[i] * scale + shift;

			dst[i] = v > 0.0f ? v : 0.0f;
		}
		break;
	case EE_ACT_SIGMOID:
		for (i = 0; i < len; i++)
			dst[i] = ee_sigmoidf(src[i] * scale + shift);
		break;
	}
}

void ee_affine_act(float *y, size_t len, float scale, float shift, enum ee_act act)
{
	if (scale == 1.0f && shift == 0.0f && act == EE_ACT_NONE)
		return;
	ee_affine_act_copy(y, y, len, scale, shift, act);
}

EE_KERNEL
void ee_dw_tap(const float *x, int h, int w, int stride, int pad, int dy, int dx, float wgt,
	       float *y, int oh, int ow)
{
	int lo, hi, oy, ox;

	valid_range(w, ow, stride, pad, dx, &lo, &hi);
	for (oy = 0; oy < oh; oy++) {
		int iy = oy * stride + dy - pad;
		const float *src;
		float *dst = y + (size_t)oy * ow;

		if (iy < 0 || iy >= h)
			continue;
		src = x + (size_t)iy * w + dx - pad;
		if (stride == 1)
			for (ox = lo; ox < hi; ox++)
				dst[ox] += wgt * src[ox];
		else
			for (ox = lo; ox < hi; ox++)
				dst[ox] += wgt * src[ox * stride];
	}
}

void ee_dw_plane(const float *x, int h, int w, const float *k, int kh, int kw, int ldk,
		 int stride, int pad, float *y, int oh, int ow)
{
	int dy, dx;

	memset(y, 0, (size_t)oh * ow * sizeof(float));
	for (dy = 0; dy < kh; dy++)
		for (dx = 0; dx < kw; dx++)
			ee_dw_tap(x, h, w, stride, pad, dy, dx, k[dy * ldk + dx], y, oh, ow);
}

float ee_sigmoidf(float x)
{
	return 1.0f / (1.0f + expf(-x));
}
