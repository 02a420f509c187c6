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
void ee_dw_taps(const float *xp, int wp, const struct ee_taps *t, int stride, float *y, int oh,
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
void ee_dw_emg5(const float *xp, int wp, const float *k, bool ring, float *y, int oh, int ow)
{
	if (!ring) {
		plane5(xp, wp, k, centre5, 9, y, oh, ow, false);
		return;
	}
	plane5(xp, wp, k, ring5_rows, 10, y, oh, ow, true);
	plane5(xp, wp, k, ring5_sides, 6, y, oh, ow, true);
}
