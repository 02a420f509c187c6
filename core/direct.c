/* direct.c - dense convolutions with few channels, computed directly; see direct.h. */
#include "direct.h"

#include <string.h>

#include "kernels.h"

#define MAX_TERMS 576 /* cin * taps: 64 channels of 3x3; beyond, GEMM blocking wins */
#define MAX_CIN 96     /* input planes re-read per 4 output channels must stay near L1 */

/* 8-float vectors (AVX in the x86-64-v3 clone, SSE pairs otherwise) and, where the
 * compiler can target AVX-512, 16-float ones for CPUs that have it. The kernels below
 * are written once for a vector type V: each output pixel is the same running sum over
 * (input channel, tap) in order whatever the width, so both give the same floats. */
typedef float v8 __attribute__((vector_size(32)));
#if defined(__x86_64__) && defined(__GNUC__)
#define HAVE_V16 1
typedef float v16 __attribute__((vector_size(64)));
#define AVX512 __attribute__((target("avx512f,fma")))
#endif
#define LOADV(dst, p) memcpy(&(dst), (p), sizeof(dst))
#define STOREV(p, src) memcpy((p), &(src), sizeof(src))
#define INLINE static inline __attribute__((always_inline))

bool ee_direct_fits(int cin, int cout, int kh, int kw, int stride, int groups)
{
	return stride == 1 && groups == 1 && kh * kw <= EE_DIRECT_MAX_TAPS && cout >= 1 &&
	       cin <= MAX_CIN && (long)cin * kh * kw <= MAX_TERMS;
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

/*
 * The kernels for vectors of type V (NW floats), suffix SFX:
 *   block4SFX: 2 NW pixels from q of output channels o..o+3 in 8 registers;
 *   block1SFX: NW pixels from q of output channel o;
 *   convSFX:   all output channels and pixels (len >= 2 NW unless V is v8, whose conv
 *              also takes short rows pixel by pixel). The last block of a row that is not
 *              a multiple of the block overlaps the one before: it recomputes some pixels
 *              with the same result instead of a scalar tail.
 */
#define DIRECT_KERNELS(SFX, V, WIDE)                                                                   \
INLINE void block4##SFX(const float *w, const float *bias, const int *off, int taps,             \
			const float *x, size_t xstride, int cin, size_t q, float *y,             \
			size_t ystride, int o)                                                   \
{                                                                                                \
	const int nw = sizeof(V) / sizeof(float);                                                \
	size_t terms = (size_t)cin * taps;                                                       \
	const float *w0 = w + o * terms, *w1 = w0 + terms, *w2 = w1 + terms, *w3 = w2 + terms;   \
	V a0 = (V){ 0 } + (bias ? bias[o] : 0.0f), a1 = (V){ 0 } + (bias ? bias[o + 1] : 0.0f); \
	V a2 = (V){ 0 } + (bias ? bias[o + 2] : 0.0f);                                           \
	V a3 = (V){ 0 } + (bias ? bias[o + 3] : 0.0f);                                           \
	V c0 = a0, c1 = a1, c2 = a2, c3 = a3, u, v;                                              \
	int i, t;                                                                                \
                                                                                                 \
	for (i = 0; i < cin; i++) {                                                              \
		const float *xi = x + i * xstride + q;                                           \
                                                                                                 \
		for (t = 0; t < taps; t++, w0++, w1++, w2++, w3++) {                             \
			LOADV(u, xi + off[t]);                                                   \
			LOADV(v, xi + off[t] + nw);                                              \
			a0 += *w0 * u, c0 += *w0 * v;                                            \
			a1 += *w1 * u, c1 += *w1 * v;                                            \
			a2 += *w2 * u, c2 += *w2 * v;                                            \
			a3 += *w3 * u, c3 += *w3 * v;                                            \
		}                                                                                \
	}                                                                                        \
	y += o * ystride + q;                                                                    \
	STOREV(y, a0), STOREV(y + nw, c0);                                                       \
	STOREV(y + ystride, a1), STOREV(y + ystride + nw, c1);                                   \
	STOREV(y + 2 * ystride, a2), STOREV(y + 2 * ystride + nw, c2);                           \
	STOREV(y + 3 * ystride, a3), STOREV(y + 3 * ystride + nw, c3);                           \
}                                                                                                \
                                                                                                 \
/* 8 output channels x 2 NW pixels: 16 sums, for 32-register (AVX-512) targets. */            \
INLINE void block8##SFX(const float *w, const float *bias, const int *off, int taps,             \
			const float *x, size_t xstride, int cin, size_t q, float *y,             \
			size_t ystride, int o)                                                   \
{                                                                                                \
	const int nw = sizeof(V) / sizeof(float);                                                \
	size_t terms = (size_t)cin * taps;                                                       \
	const float *w0 = w + o * terms;                                                         \
	V a0, a1, a2, a3, a4, a5, a6, a7, c0, c1, c2, c3, c4, c5, c6, c7, u, v;                  \
	int i, t;                                                                                \
                                                                                                 \
	a0 = c0 = (V){ 0 } + (bias ? bias[o] : 0.0f);                                            \
	a1 = c1 = (V){ 0 } + (bias ? bias[o + 1] : 0.0f);                                        \
	a2 = c2 = (V){ 0 } + (bias ? bias[o + 2] : 0.0f);                                        \
	a3 = c3 = (V){ 0 } + (bias ? bias[o + 3] : 0.0f);                                        \
	a4 = c4 = (V){ 0 } + (bias ? bias[o + 4] : 0.0f);                                        \
	a5 = c5 = (V){ 0 } + (bias ? bias[o + 5] : 0.0f);                                        \
	a6 = c6 = (V){ 0 } + (bias ? bias[o + 6] : 0.0f);                                        \
	a7 = c7 = (V){ 0 } + (bias ? bias[o + 7] : 0.0f);                                        \
	for (i = 0; i < cin; i++) {                                                              \
		const float *xi = x + i * xstride + q;                                           \
                                                                                                 \
		for (t = 0; t < taps; t++, w0++) {                                               \
			LOADV(u, xi + off[t]);                                                   \
			LOADV(v, xi + off[t] + nw);                                              \
			a0 += w0[0] * u, c0 += w0[0] * v;                                        \
			a1 += w0[terms] * u, c1 += w0[terms] * v;                                \
			a2 += w0[2 * terms] * u, c2 += w0[2 * terms] * v;                        \
			a3 += w0[3 * terms] * u, c3 += w0[3 * terms] * v;                        \
			a4 += w0[4 * terms] * u, c4 += w0[4 * terms] * v;                        \
			a5 += w0[5 * terms] * u, c5 += w0[5 * terms] * v;                        \
			a6 += w0[6 * terms] * u, c6 += w0[6 * terms] * v;                        \
			a7 += w0[7 * terms] * u, c7 += w0[7 * terms] * v;                        \
		}                                                                                \
	}                                                                                        \
	y += o * ystride + q;                                                                    \
	STOREV(y, a0), STOREV(y + nw, c0), y += ystride;                                         \
	STOREV(y, a1), STOREV(y + nw, c1), y += ystride;                                         \
	STOREV(y, a2), STOREV(y + nw, c2), y += ystride;                                         \
	STOREV(y, a3), STOREV(y + nw, c3), y += ystride;                                         \
	STOREV(y, a4), STOREV(y + nw, c4), y += ystride;                                         \
	STOREV(y, a5), STOREV(y + nw, c5), y += ystride;                                         \
	STOREV(y, a6), STOREV(y + nw, c6), y += ystride;                                         \
	STOREV(y, a7), STOREV(y + nw, c7);                                                       \
}                                                                                                \
                                                                                                 \
INLINE void block1##SFX(const float *w, const float *bias, const int *off, int taps,             \
			const float *x, size_t xstride, int cin, size_t q, float *y, int o)      \
{                                                                                                \
	const float *wo = w + (size_t)o * cin * taps;                                            \
	V a = (V){ 0 } + (bias ? bias[o] : 0.0f), u;                                             \
	int i, t;                                                                                \
                                                                                                 \
	for (i = 0; i < cin; i++)                                                                \
		for (t = 0; t < taps; t++, wo++) {                                               \
			LOADV(u, x + i * xstride + q + off[t]);                                  \
			a += *wo * u;                                                            \
		}                                                                                \
	STOREV(y + q, a);                                                                        \
}                                                                                                \
                                                                                                 \
INLINE void conv##SFX(const float *w, const float *bias, const int *off, int taps,               \
		      const float *x, size_t xstride, int cin, int cout, size_t len, float *y,   \
		      size_t ystride)                                                            \
{                                                                                                \
	const size_t nw = sizeof(V) / sizeof(float);                                             \
	size_t q;                                                                                \
	int o, r;                                                                                \
                                                                                                 \
	for (o = 0; WIDE && len >= 2 * nw && o + 8 <= cout; o += 8)                               \
		for (q = 0; q < len; q += 2 * nw)                                                \
			block8##SFX(w, bias, off, taps, x, xstride, cin,                         \
				    q + 2 * nw <= len ? q : len - 2 * nw, y, ystride, o);        \
	for (; o + 4 <= cout; o += 4) {                                                          \
		for (q = 0; len >= 2 * nw && q < len; q += 2 * nw)                               \
			block4##SFX(w, bias, off, taps, x, xstride, cin,                         \
				    q + 2 * nw <= len ? q : len - 2 * nw, y, ystride, o);        \
		for (r = 0; len < 2 * nw && r < 4; r++)                                          \
			for (q = 0; q < len; q++)                                                \
				y[(o + r) * ystride + q] =                                       \
					pixel(w, bias, off, taps, x, xstride, cin, q, o + r);    \
		/* channels left over (cout not a multiple of 4, e.g. 7): the next block ends at \
		 * cout, overlapping this one, whose channels it computes again with the same    \
		 * sums (one channel a block is bound by the loads of its inputs) */             \
		if (o + 4 < cout && o + 8 > cout && len >= 2 * nw)                               \
			o = cout - 8;                                                            \
	}                                                                                        \
	for (; o < cout; o++) {                                                                  \
		for (q = 0; len >= nw && q < len; q += nw)                                       \
			block1##SFX(w, bias, off, taps, x, xstride, cin,                         \
				    q + nw <= len ? q : len - nw, y + o * ystride, o);           \
		for (q = 0; len < nw && q < len; q++)                                            \
			y[o * ystride + q] = pixel(w, bias, off, taps, x, xstride, cin, q, o);   \
	}                                                                                        \
}                                                                                                \
                                                                                                 \
/* conv with a constant tap count for 1x1, 2x2 (transposed 4x4 stride-2 convs, sub-pixel    \
 * form) and 3x3, so that the tap loop disappears. */                                            \
INLINE void taps##SFX(const float *w, const float *bias, const int *off, int taps,               \
		      const float *x, size_t xstride, int cin, int cout, size_t len, float *y,   \
		      size_t ystride)                                                            \
{                                                                                                \
	int o[EE_DIRECT_MAX_TAPS], t;                                                            \
                                                                                                 \
	for (t = 0; t < taps; t++)                                                               \
		o[t] = off[t];                                                                   \
	if (taps == 1 && off[0] == 0)                                                            \
		conv##SFX(w, bias, (const int[]){ 0 }, 1, x, xstride, cin, cout, len, y,         \
			  ystride);                                                              \
	else if (taps == 9)                                                                      \
		conv##SFX(w, bias, o, 9, x, xstride, cin, cout, len, y, ystride);                \
	else if (taps == 4)                                                                      \
		conv##SFX(w, bias, o, 4, x, xstride, cin, cout, len, y, ystride);                \
	else                                                                                     \
		conv##SFX(w, bias, o, taps, x, xstride, cin, cout, len, y, ystride);             \
}

DIRECT_KERNELS(8, v8, false)

EE_KERNEL
static void direct8(const float *w, const float *bias, const int *off, int taps, const float *x,
		    size_t xstride, int cin, int cout, size_t len, float *y, size_t ystride)
{
	taps8(w, bias, off, taps, x, xstride, cin, cout, len, y, ystride);
}

#ifdef HAVE_V16
DIRECT_KERNELS(16, v16, true)

static AVX512 void direct16(const float *w, const float *bias, const int *off, int taps,
			    const float *x, size_t xstride, int cin, int cout, size_t len, float *y,
			    size_t ystride)
{
	taps16(w, bias, off, taps, x, xstride, cin, cout, len, y, ystride);
}
#endif

void ee_direct_conv(const float *w, const float *bias, const int *off, int taps, const float *x,
		    size_t xstride, int cin, int cout, size_t len, float *y, size_t ystride)
{
#ifdef HAVE_V16
	if (len >= 32 && __builtin_cpu_supports("avx512f")) {
		direct16(w, bias, off, taps, x, xstride, cin, cout, len, y, ystride);
		return;
	}
#endif
	direct8(w, bias, off, taps, x, xstride, cin, cout, len, y, ystride);
}
