/* direct.c - dense convolutions with few channels, computed directly; see direct.h. */
#include "direct.h"

#include <string.h>

#include "kernels.h"

#define MAX_TERMS 576 /* cin * taps: 64 channels of 3x3; beyond, GEMM blocking wins */
#define MAX_CIN 96     /* input planes re-read per 4 output channels must stay near L1 */

typedef float v8 __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))
#define STORE8(p, src) memcpy((p), &(src), sizeof(v8))
#define SPLAT(b) ((v8){ (b), (b), (b), (b), (b), (b), (b), (b) })

bool ee_direct_fits(int cin, int cout, int kh, int kw, int stride, int groups)
{
	return stride == 1 && groups == 1 && kh * kw <= EE_DIRECT_MAX_TAPS && cout >= 1 &&
	       cin <= MAX_CIN && (long)cin * kh * kw <= MAX_TERMS;
}

/* 16 pixels from q of output channels o..o+3. */
static inline __attribute__((always_inline)) void block4(const float *w, const float *bias,
							 const int *off, int taps, const float *x,
							 size_t xstride, int cin, size_t q,
							 float *y, size_t ystride, int o)
{
	size_t terms = (size_t)cin * taps;
	const float *w0 = w + o * terms, *w1 = w0 + terms, *w2 = w1 + terms, *w3 = w2 + terms;
	v8 a0 = SPLAT(bias ? bias[o] : 0.0f), a1 = SPLAT(bias ? bias[o + 1] : 0.0f);
	v8 a2 = SPLAT(bias ? bias[o + 2] : 0.0f), a3 = SPLAT(bias ? bias[o + 3] : 0.0f);
	v8 c0 = a0, c1 = a1, c2 = a2, c3 = a3, u, v;
	int i, t;

	for (i = 0; i < cin; i++) {
		const float *xi = x + i * xstride + q;

		for (t = 0; t < taps; t++, w0++, w1++, w2++, w3++) {
			LOAD8(u, xi + off[t]);
			LOAD8(v, xi + off[t] + 8);
			a0 += *w0 * u, c0 += *w0 * v;
			a1 += *w1 * u, c1 += *w1 * v;
			a2 += *w2 * u, c2 += *w2 * v;
			a3 += *w3 * u, c3 += *w3 * v;
		}
	}
	y += o * ystride + q;
	STORE8(y, a0), STORE8(y + 8, c0);
	STORE8(y + ystride, a1), STORE8(y + ystride + 8, c1);
	STORE8(y + 2 * ystride, a2), STORE8(y + 2 * ystride + 8, c2);
	STORE8(y + 3 * ystride, a3), STORE8(y + 3 * ystride + 8, c3);
}

/* One output pixel q of channel o. */
static inline float pixel(const float *w, const float *bias, const int *off, int taps,
			  const float *x, size_t xstride, int cin, size_t q, int o)
{
	const float *wo = w + (size_t)o * cin * taps;
	float s = bias ? bias[o] : 0.0f;
	int i, t;

	for (i = 0; i < cin; i++)
		for (t = 0; t < taps; t++)
			s += *wo++ * x[i * xstride + q + off[t]];
	return s;
}

/* 8 pixels from q of output channel o. */
static inline __attribute__((always_inline)) void block1(const float *w, const float *bias,
							 const int *off, int taps, const float *x,
							 size_t xstride, int cin, size_t q,
							 float *y, int o)
{
	const float *wo = w + (size_t)o * cin * taps;
	v8 a = SPLAT(bias ? bias[o] : 0.0f), u;
	int i, t;

	for (i = 0; i < cin; i++)
		for (t = 0; t < taps; t++, wo++) {
			LOAD8(u, x + i * xstride + q + off[t]);
			a += *wo * u;
		}
	STORE8(y + q, a);
}

/* All output channels and pixels; inlined with a constant tap count for 1x1, 2x2 and 3x3 so
 * that the tap loop disappears. The last block of a row that is not a multiple of the
 * block overlaps the one before: it recomputes some pixels with the same result instead
 * of a scalar tail. */
static inline __attribute__((always_inline)) void conv(const float *w, const float *bias,
						       const int *off, int taps, const float *x,
						       size_t xstride, int cin, int cout,
						       size_t len, float *y, size_t ystride)
{
	size_t q;
	int o, r;

	for (o = 0; o + 4 <= cout; o += 4) {
		for (q = 0; len >= 16 && q < len; q += 16)
			block4(w, bias, off, taps, x, xstride, cin, q + 16 <= len ? q : len - 16, y,
			       ystride, o);
		for (r = 0; len < 16 && r < 4; r++)
			for (q = 0; q < len; q++)
				y[(o + r) * ystride + q] = pixel(w, bias, off, taps, x, xstride, cin, q,
								  o + r);
	}
	for (; o < cout; o++) {
		for (q = 0; len >= 8 && q < len; q += 8)
			block1(w, bias, off, taps, x, xstride, cin, q + 8 <= len ? q : len - 8,
			       y + o * ystride, o);
		for (q = 0; len < 8 && q < len; q++)
			y[o * ystride + q] = pixel(w, bias, off, taps, x, xstride, cin, q, o);
	}
}

EE_KERNEL
void ee_direct_conv(const float *w, const float *bias, const int *off, int taps, const float *x,
		    size_t xstride, int cin, int cout, size_t len, float *y, size_t ystride)
{
	int o[EE_DIRECT_MAX_TAPS], t;

	for (t = 0; t < taps; t++)
		o[t] = off[t];
	if (taps == 1 && off[0] == 0)
		conv(w, bias, (const int[]){ 0 }, 1, x, xstride, cin, cout, len, y, ystride);
	else if (taps == 9)
		conv(w, bias, o, 9, x, xstride, cin, cout, len, y, ystride);
	else if (taps == 4) /* 2x2: the phases of a 4x4, stride-2 transposed conv */
		conv(w, bias, o, 4, x, xstride, cin, cout, len, y, ystride);
	else
		conv(w, bias, o, taps, x, xstride, cin, cout, len, y, ystride);
}
