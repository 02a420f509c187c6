/* dwconv.c - see dwconv.h. */
#include "dwconv.h"

#include <string.h>

#include "kernels.h"

/* 8-float vectors: AVX in the x86-64-v3 clone, SSE pairs otherwise. Loads and stores
 * go through memcpy (unaligned); macros, so that no function passes a vector. */
typedef float v8 __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))
#define STORE8(p, src) memcpy((p), &(src), sizeof(v8))

void ee_pad_plane(const float *x, int h, int w, int pad, float *xp)
{
	int wp = w + 2 * pad, y;

	memset(xp, 0, (size_t)pad * wp * sizeof(float));
	for (y = 0; y < h; y++) {
		float *row = xp + (size_t)(y + pad) * wp;

		memset(row, 0, (size_t)pad * sizeof(float));
		memcpy(row + pad, x + (size_t)y * w, (size_t)w * sizeof(float));
		memset(row + pad + w, 0, (size_t)pad * sizeof(float));
	}
	memset(xp + (size_t)(h + pad) * wp, 0, (size_t)pad * wp * sizeof(float));
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

/* 16 output columns of a stride-1 row: two vectors summed over all taps. */
static inline __attribute__((always_inline)) void block16(const float *src, const struct ee_taps *t, float *dst, bool acc)
{
	v8 a = { 0 }, b = { 0 }, u, v;
	int i;

	if (acc) {
		LOAD8(a, dst);
		LOAD8(b, dst + 8);
	}
	for (i = 0; i < t->n; i++) {
		LOAD8(u, src + t->off[i]);
		LOAD8(v, src + t->off[i] + 8);
		a += t->w[i] * u;
		b += t->w[i] * v;
	}
	STORE8(dst, a);
	STORE8(dst + 8, b);
}

static inline __attribute__((always_inline)) void block8(const float *src, const struct ee_taps *t, float *dst, bool acc)
{
	v8 a = { 0 }, u;
	int i;

	if (acc)
		LOAD8(a, dst);
	for (i = 0; i < t->n; i++) {
		LOAD8(u, src + t->off[i]);
		a += t->w[i] * u;
	}
	STORE8(dst, a);
}

/* One output column at any stride. */
static inline __attribute__((always_inline)) float column(const float *src, const struct ee_taps *t, float init)
{
	float s = init;
	int i;

	for (i = 0; i < t->n; i++)
		s += t->w[i] * src[t->off[i]];
	return s;
}

EE_KERNEL
void ee_dw_taps(const float *xp, int wp, const struct ee_taps *t, int stride, float *y, int oh,
		int ow, bool accumulate)
{
	int oy, ox;

	for (oy = 0; oy < oh; oy++) {
		const float *src = xp + (size_t)oy * stride * wp;
		float *dst = y + (size_t)oy * ow;

		ox = 0;
		if (stride == 1) {
			for (; ox + 16 <= ow; ox += 16)
				block16(src + ox, t, dst + ox, accumulate);
			for (; ox + 8 <= ow; ox += 8)
				block8(src + ox, t, dst + ox, accumulate);
		}
		for (; ox < ow; ox++)
			dst[ox] = column(src + ox * stride, t, accumulate ? dst[ox] : 0.0f);
	}
}
