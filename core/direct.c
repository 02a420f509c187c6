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
 *   blockSFX:  2 NW pixels from q of output channels o..o+R-1 (R = 4 or 8);
 *   block1SFX: NW pixels from q of output channel o;
 *   convSFX:   all output channels and pixels (len >= 2 NW unless V is v8, whose conv
 *              also takes short rows pixel by pixel). The last block of a row that is not
 *              a multiple of the block overlaps the one before: it recomputes some pixels
 *              with the same result instead of a scalar tail.
 */
#define DIRECT_KERNELS(SFX, V, WIDE)                                                                   \
/* R (4 or 8: a constant at each call) output channels x 2 NW pixels: 2 R sums in  \
 * registers (8 channels for 32-register AVX-512 targets). */                                 \
INLINE void block##SFX(const float *w, const float *bias, const int *off, int taps,              \
		       const float *x, size_t xstride, int cin, size_t q, float *y,              \
		       size_t ystride, int o, const int R)                                       \
{                                                                                                \
	const int nw = sizeof(V) / sizeof(float);                                                \
	size_t terms = (size_t)cin * taps;                                                       \
	const float *w0 = w + o * terms;                                                         \
	V a[8], c[8], u, v;                                                                      \
	int i, t, r;                                                                             \
                                                                                                 \
	for (r = 0; r < R; r++)                                                                  \
		a[r] = c[r] = (V){ 0 } + (bias ? bias[o + r] : 0.0f);                            \
	for (i = 0; i < cin; i++) {                                                              \
		const float *xi = x + i * xstride + q;                                           \
                                                                                                 \
		for (t = 0; t < taps; t++, w0++) {                                               \
			LOADV(u, xi + off[t]);                                                   \
			LOADV(v, xi + off[t] + nw);                                              \
			for (r = 0; r < R; r++)                                                  \
				a[r] += w0[r * terms] * u, c[r] += w0[r * terms] * v;            \
		}                                                                                \
	}                                                                                        \
	y += o * ystride + q;                                                                    \
	for (r = 0; r < R; r++, y += ystride)                                                    \
		STOREV(y, a[r]), STOREV(y + nw, c[r]);                                           \
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
			block##SFX(w, bias, off, taps, x, xstride, cin,                          \
				   q + 2 * nw <= len ? q : len - 2 * nw, y, ystride, o, 8);      \
	for (; o + 4 <= cout; o += 4) {                                                          \
		for (q = 0; len >= 2 * nw && q < len; q += 2 * nw)                               \
			block##SFX(w, bias, off, taps, x, xstride, cin,                          \
				   q + 2 * nw <= len ? q : len - 2 * nw, y, ystride, o, 4);      \
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
