/* dwconv.c - direct depthwise convolution of one plane, register-blocked; see dwconv.h. */
#include "dwconv.h"

#include <string.h>

#include "kernels.h"

/* 8-float vectors: AVX in the x86-64-v3 clone, SSE pairs otherwise. Loads and stores
 * go through memcpy (unaligned); macros, so that no function passes a vector. */
typedef float v8 __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))
#define STORE8(p, src) memcpy((p), &(src), sizeof(v8))

/* x's rows into the interior of xp, in vectors (a memcpy call per row of a small plane
 * costs more than the copy). */
static void copy_interior(const float *restrict x, int h, int w, int pad, float *restrict xp)
{
	int wp = w + 2 * pad, y, i;

	for (y = 0; y < h; y++) {
		const float *src = x + (size_t)y * w;
		float *row = xp + (size_t)(y + pad) * wp + pad;
		v8 u;

		for (i = 0; i + 8 <= w; i += 8) {
			LOAD8(u, src + i);
			STORE8(row + i, u);
		}
		for (; i < w; i++)
			row[i] = src[i];
	}
}

/* The pad zero rows above and below xp's interior and the pad zero columns beside it
 * (each float of the plane is written once: with copy_interior, the whole plane). */
static void zero_border(int h, int w, int pad, float *xp)
{
	int wp = w + 2 * pad, y;

	memset(xp, 0, (size_t)pad * wp * sizeof(float));
	for (y = pad; y < h + pad; y++) {
		memset(xp + (size_t)y * wp, 0, (size_t)pad * sizeof(float));
		memset(xp + (size_t)y * wp + pad + w, 0, (size_t)pad * sizeof(float));
	}
	memset(xp + (size_t)(h + pad) * wp, 0, (size_t)pad * wp * sizeof(float));
}

void ee_pad_plane(const float *x, int h, int w, int pad, float *xp)
{
	zero_border(h, w, pad, xp);
	copy_interior(x, h, w, pad, xp);
}

void ee_pad_reuse(const float *x, int h, int w, int pad, float *xp, bool *bordered)
{
	if (!*bordered)
		zero_border(h, w, pad, xp);
	*bordered = true;
	copy_interior(x, h, w, pad, xp);
}

void ee_taps_from_kernel(struct ee_taps *t, const float *k, int kh, int kw, int ldk, int wp,
			 bool (*pick)(int dy, int dx))
{
	int dy, dx;

	t->n = 0;
	for (dy = 0; dy < kh; dy++)
		for (dx = 0; dx < kw; dx++)
			if ((!pick || pick(dy, dx)) && t->n < EE_MAX_TAPS) {
				t->off[t->n] = dy * wp + dx;
				t->w[t->n++] = k[dy * ldk + dx];
			}
}

#define INLINE static inline __attribute__((always_inline))

/* 16 output columns of a stride-1 row: two vectors summed over the n taps. */
INLINE void block16(const float *src, int n, const int *off, const float *w, float *dst, bool acc)
{
	v8 a = { 0 }, b = { 0 }, u, v;
	int i;

	if (acc) {
		LOAD8(a, dst);
		LOAD8(b, dst + 8);
	}
	for (i = 0; i < n; i++) {
		LOAD8(u, src + off[i]);
		LOAD8(v, src + off[i] + 8);
		a += w[i] * u;
		b += w[i] * v;
	}
	STORE8(dst, a);
	STORE8(dst + 8, b);
}

INLINE void block8(const float *src, int n, const int *off, const float *w, float *dst, bool acc)
{
	v8 a = { 0 }, u;
	int i;

	if (acc)
		LOAD8(a, dst);
	for (i = 0; i < n; i++) {
		LOAD8(u, src + off[i]);
		a += w[i] * u;
	}
	STORE8(dst, a);
}

/* One output column at any stride. */
INLINE float column(const float *src, int n, const int *off, const float *w, float init)
{
	float s = init;
	int i;

	for (i = 0; i < n; i++)
		s += w[i] * src[off[i]];
	return s;
}

/* The plane with n taps; inlined with a constant n for the common tap counts, so that
 * the tap loops unroll and the weights stay in registers. */
INLINE void plane(const float *restrict xp, int wp, int n, const int *off, const float *w,
		  int stride, float *restrict y, int oh, int ow, bool acc)
{
	int oy, ox;

	for (oy = 0; oy < oh; oy++) {
		const float *src = xp + (size_t)oy * stride * wp;
		float *dst = y + (size_t)oy * ow;

		ox = 0;
		if (stride == 1) {
			for (; ox + 16 <= ow; ox += 16)
				block16(src + ox, n, off, w, dst + ox, acc);
			for (; ox + 8 <= ow; ox += 8)
				block8(src + ox, n, off, w, dst + ox, acc);
		}
		for (; ox < ow; ox++)
			dst[ox] = column(src + ox * stride, n, off, w, acc ? dst[ox] : 0.0f);
	}
}

EE_KERNEL
static void dw_taps8(const float *xp, int wp, const struct ee_taps *t, int stride, float *y, int oh,
		     int ow, bool accumulate)
{
	int off[EE_MAX_TAPS], i;
	float w[EE_MAX_TAPS];

	for (i = 0; i < t->n; i++) {
		off[i] = t->off[i];
		w[i] = t->w[i];
	}
	switch (t->n) {
	case 9: /* 3x3 kernels and the centre of the EMG 5x5 */
		plane(xp, wp, 9, off, w, stride, y, oh, ow, accumulate);
		break;
	default:
		plane(xp, wp, t->n, off, w, stride, y, oh, ow, accumulate);
	}
}

/* ---------------------------------------------------------------- the EMG 5x5, stride 1 */

/* A tap of a 5x5 kernel by position; loops over constant tables of them unroll into
 * constant displacements from five row pointers (no offset table to load). */
struct tap5 {
	int dy, dx;
};

static const struct tap5 centre5[9] = {
	{ 1, 1 }, { 1, 2 }, { 1, 3 }, { 2, 1 }, { 2, 2 }, { 2, 3 }, { 3, 1 }, { 3, 2 }, { 3, 3 },
};
/* The ring in two passes of 10 and 6 taps, so that their weights fit the registers. */
static const struct tap5 ring5_rows[10] = {
	{ 0, 0 }, { 0, 1 }, { 0, 2 }, { 0, 3 }, { 0, 4 }, { 4, 0 }, { 4, 1 }, { 4, 2 }, { 4, 3 }, { 4, 4 },
};
static const struct tap5 ring5_sides[6] = {
	{ 1, 0 }, { 1, 4 }, { 2, 0 }, { 2, 4 }, { 3, 0 }, { 3, 4 },
};

INLINE void plane5(const float *restrict xp, int wp, const float *k, const struct tap5 *t, int n,
		   float *restrict y, int oh, int ow, bool acc)
{
	v8 wv[10];
	float ws[10];
	int oy, ox, i;

	for (i = 0; i < n; i++) {
		ws[i] = k[t[i].dy * 5 + t[i].dx];
		wv[i] = (v8){ ws[i], ws[i], ws[i], ws[i], ws[i], ws[i], ws[i], ws[i] };
	}
	for (oy = 0; oy < oh; oy++) {
		const float *src = xp + (size_t)oy * wp;
		float *dst = y + (size_t)oy * ow;

		for (ox = 0; ox + 8 <= ow; ox += 8) {
			v8 a = { 0 }, u;

			if (acc)
				LOAD8(a, dst + ox);
			for (i = 0; i < n; i++) {
				LOAD8(u, src + t[i].dy * wp + t[i].dx + ox);
				a += wv[i] * u;
			}
			STORE8(dst + ox, a);
		}
		for (; ox < ow; ox++) {
			float s = acc ? dst[ox] : 0.0f;

			for (i = 0; i < n; i++)
				s += ws[i] * src[t[i].dy * wp + t[i].dx + ox];
			dst[ox] = s;
		}
	}
}

EE_KERNEL
static void dw_emg5_8(const float *xp, int wp, const float *k, bool ring, float *y, int oh, int ow)
{
	if (!ring) {
		plane5(xp, wp, k, centre5, 9, y, oh, ow, false);
		return;
	}
	plane5(xp, wp, k, ring5_rows, 10, y, oh, ow, true);
	plane5(xp, wp, k, ring5_sides, 6, y, oh, ow, true);
}

/* ---------------------------------------------------------------- AVX-512 */

/*
 * On CPUs with AVX-512: the EMG centre, 8 output rows at once sharing each input load
 * (centre512), and the planes the 8-float path leaves (partly) scalar: rows whose
 * width is not a multiple of 8 (EMGNet's 10x10 and 5x5 branch planes) and stride 2. Every
 * output row is swept 16 columns at a time with a masked last block, 4 rows at once, and
 * stride 2 reads 32 input columns and keeps the even ones with one permute. (Where the
 * 8-float path has no tail it stays: a 16-float load at a tap's odd offset splits a cache
 * line every time, and measured slower.)
 * Each output is the same running sum over the taps in the same order as above, so
 * both paths give the same floats.
 */
#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>

#define AVX512 __attribute__((target("avx512f")))
#define INLINE512 static inline __attribute__((always_inline)) AVX512
/* Registers are named, not indexed: the loops over taps and rows must unroll fully. */
#define UNROLL _Pragma("GCC unroll 16")

/* One input vector of the row at p for output columns ox.. (mask m; stride 2: masks m0 and
 * m1 of the 32 columns read, even lanes kept). */
INLINE512 __m512 tap512(const float *p, int stride, int ox, __mmask16 m, __mmask16 m0,
			__mmask16 m1)
{
	const __m512i even = _mm512_set_epi32(30, 28, 26, 24, 22, 20, 18, 16, 14, 12, 10, 8, 6, 4,
					      2, 0);

	if (stride == 1)
		return _mm512_maskz_loadu_ps(m, p + ox);
	return _mm512_permutex2var_ps(_mm512_maskz_loadu_ps(m0, p + 2 * ox), even,
				      _mm512_maskz_loadu_ps(m1, p + 2 * ox + 16));
}

/* Output rows dst[0..R)[0..ow) (R <= 4, rows ow apart) from src (the first input pixel of
 * the first row; rows rstep apart) with the n taps (off, w): R independent sums per column
 * block keep the FMA units busy (one chain of n dependent FMAs would wait on each). */
INLINE512 void rows512(int R, const float *src, size_t rstep, int n, const int *off,
		       const float *w, int stride, float *dst, int ow, bool acc)
{
	int ox, i;

	for (ox = 0; ox < ow; ox += 16) {
		int cnt = ow - ox < 16 ? ow - ox : 16;
		__mmask16 m = (__mmask16)((1u << cnt) - 1);
		/* stride 2: lanes 0..2 cnt - 2 of the 32 input columns */
		__mmask16 m0 = (__mmask16)(2 * cnt - 1 >= 16 ? 0xffff : (1u << (2 * cnt - 1)) - 1);
		__mmask16 m1 = (__mmask16)(2 * cnt - 1 > 16 ? (1u << (2 * cnt - 17)) - 1 : 0);
		__m512 a0 = _mm512_setzero_ps(), a1 = a0, a2 = a0, a3 = a0;

		if (acc) {
			a0 = _mm512_maskz_loadu_ps(m, dst + ox);
			if (R > 1)
				a1 = _mm512_maskz_loadu_ps(m, dst + ow + ox);
			if (R > 2)
				a2 = _mm512_maskz_loadu_ps(m, dst + 2 * ow + ox);
			if (R > 3)
				a3 = _mm512_maskz_loadu_ps(m, dst + 3 * ow + ox);
		}
		UNROLL for (i = 0; i < n; i++) {
			const float *p = src + off[i];
			__m512 wv = _mm512_set1_ps(w[i]);

			a0 = _mm512_fmadd_ps(wv, tap512(p, stride, ox, m, m0, m1), a0);
			if (R > 1)
				a1 = _mm512_fmadd_ps(wv, tap512(p + rstep, stride, ox, m, m0, m1), a1);
			if (R > 2)
				a2 = _mm512_fmadd_ps(wv, tap512(p + 2 * rstep, stride, ox, m, m0, m1),
						     a2);
			if (R > 3)
				a3 = _mm512_fmadd_ps(wv, tap512(p + 3 * rstep, stride, ox, m, m0, m1),
						     a3);
		}
		_mm512_mask_storeu_ps(dst + ox, m, a0);
		if (R > 1)
			_mm512_mask_storeu_ps(dst + ow + ox, m, a1);
		if (R > 2)
			_mm512_mask_storeu_ps(dst + 2 * ow + ox, m, a2);
		if (R > 3)
			_mm512_mask_storeu_ps(dst + 3 * ow + ox, m, a3);
	}
}

/* The plane with n taps (stride 1 or 2); inlined with constant n and stride. */
INLINE512 void plane512(const float *xp, int wp, int n, const int *off, const float *w,
			int stride, float *y, int oh, int ow, bool acc)
{
	size_t rstep = (size_t)stride * wp;
	int oy = 0;

	for (; oy + 4 <= oh; oy += 4)
		rows512(4, xp + oy * rstep, rstep, n, off, w, stride, y + (size_t)oy * ow, ow, acc);
	if (oy + 2 <= oh) {
		rows512(2, xp + oy * rstep, rstep, n, off, w, stride, y + (size_t)oy * ow, ow, acc);
		oy += 2;
	}
	if (oy < oh)
		rows512(1, xp + oy * rstep, rstep, n, off, w, stride, y + (size_t)oy * ow, ow, acc);
}

static AVX512 void dw_taps512(const float *xp, int wp, const struct ee_taps *t, int stride,
			      float *y, int oh, int ow, bool acc)
{
	if (t->n == 9 && stride == 1)
		plane512(xp, wp, 9, t->off, t->w, 1, y, oh, ow, acc);
	else if (t->n == 9)
		plane512(xp, wp, 9, t->off, t->w, 2, y, oh, ow, acc);
	else if (stride == 1)
		plane512(xp, wp, t->n, t->off, t->w, 1, y, oh, ow, acc);
	else
		plane512(xp, wp, t->n, t->off, t->w, 2, y, oh, ow, acc);
}

/*
 * The EMG centre (the 5x5's 3x3 taps at rows and columns 1..3) of output rows [0, R)
 * (R <= 8): each input vector is loaded once and added into the up to three output rows
 * that use it, R sums per column block at once. Each output still adds its taps in the
 * centre's row-major order (input rows in order, then columns), as the v8 path.
 */
INLINE512 void centre_rows(int R, const float *xp, int wp, const __m512 *kv, float *dst, int ow)
{
	int ox, j, dx, o;

	for (ox = 0; ox < ow; ox += 16) {
		int cnt = ow - ox < 16 ? ow - ox : 16;
		__mmask16 m = (__mmask16)((1u << cnt) - 1);
		__m512 a[8];

		UNROLL for (o = 0; o < R; o++)
			a[o] = _mm512_setzero_ps();
		UNROLL for (j = 1; j <= R + 2; j++)
			UNROLL for (dx = 1; dx <= 3; dx++) {
				__m512 u = _mm512_maskz_loadu_ps(m, xp + (size_t)j * wp + ox + dx);

				UNROLL for (o = 0; o < R; o++)
					if (j - o >= 1 && j - o <= 3)
						a[o] = _mm512_fmadd_ps(kv[(j - o - 1) * 3 + dx - 1], u,
								       a[o]);
			}
		UNROLL for (o = 0; o < R; o++)
			_mm512_mask_storeu_ps(dst + (size_t)o * ow + ox, m, a[o]);
	}
}

static AVX512 void centre512(const float *xp, int wp, const float *k, float *y, int oh, int ow)
{
	__m512 kv[9];
	int oy = 0, i;

	for (i = 0; i < 9; i++)
		kv[i] = _mm512_set1_ps(k[(i / 3 + 1) * 5 + i % 3 + 1]);
	for (; oy + 8 <= oh; oy += 8)
		centre_rows(8, xp + (size_t)oy * wp, wp, kv, y + (size_t)oy * ow, ow);
	if (oy + 4 <= oh) {
		centre_rows(4, xp + (size_t)oy * wp, wp, kv, y + (size_t)oy * ow, ow);
		oy += 4;
	}
	if (oy + 2 <= oh) {
		centre_rows(2, xp + (size_t)oy * wp, wp, kv, y + (size_t)oy * ow, ow);
		oy += 2;
	}
	if (oy < oh)
		centre_rows(1, xp + (size_t)oy * wp, wp, kv, y + (size_t)oy * ow, ow);
}

/* The EMG ring's 16 taps added to y in the order of the v8 path: its rows, then its
 * sides (summed in one sweep: the same sums as two). */
static AVX512 void ring512(const float *xp, int wp, const float *k, float *y, int oh, int ow)
{
	int off[16], i;
	float w[16];

	for (i = 0; i < 16; i++) {
		const struct tap5 *t = i < 10 ? &ring5_rows[i] : &ring5_sides[i - 10];

		off[i] = t->dy * wp + t->dx;
		w[i] = k[t->dy * 5 + t->dx];
	}
	plane512(xp, wp, 16, off, w, 1, y, oh, ow, true);
}

static bool has_avx512(void)
{
	return __builtin_cpu_supports("avx512f");
}
#else
static bool has_avx512(void)
{
	return false;
}
#define dw_taps512 dw_taps8
#define centre512(xp, wp, k, y, oh, ow) dw_emg5_8(xp, wp, k, false, y, oh, ow)
#define ring512(xp, wp, k, y, oh, ow) dw_emg5_8(xp, wp, k, true, y, oh, ow)
#endif

void ee_dw_taps(const float *xp, int wp, const struct ee_taps *t, int stride, float *y, int oh,
		int ow, bool accumulate)
{
	if ((stride == 2 || (stride == 1 && ow % 8)) && has_avx512())
		dw_taps512(xp, wp, t, stride, y, oh, ow, accumulate);
	else
		dw_taps8(xp, wp, t, stride, y, oh, ow, accumulate);
}

void ee_dw_emg5(const float *xp, int wp, const float *k, bool ring, float *y, int oh, int ow)
{
	if (!ring && has_avx512())
		centre512(xp, wp, k, y, oh, ow);
	else if (ring && ow % 8 && has_avx512())
		ring512(xp, wp, k, y, oh, ow);
	else
		dw_emg5_8(xp, wp, k, ring, y, oh, ow);
}
