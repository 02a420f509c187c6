/* pointwise.c - see pointwise.h. */
#include "pointwise.h"

#include <string.h>

#include "kernels.h"

#define MAX_CIN 96 /* beyond this OpenBLAS's blocking wins */

typedef float v8 __attribute__((vector_size(32)));
#define LOAD8(dst, p) memcpy(&(dst), (p), sizeof(v8))
#define STORE8(p, src) memcpy((p), &(src), sizeof(v8))

bool ee_pointwise_fits(int cin, int cout)
{
	return cin <= MAX_CIN && cout >= 1;
}

#define ROW(o) (w + (size_t)(o) * cin)
#define SPLAT(b) ((v8){ (b), (b), (b), (b), (b), (b), (b), (b) })

/* 16 pixels from p of output rows o..o+3, bias included, no activation. */
static inline __attribute__((always_inline)) void block4(const float *w, const float *bias,
							 const float *x, int cin, size_t plane,
							 size_t p, float *y, int o)
{
	float b0 = bias ? bias[o] : 0, b1 = bias ? bias[o + 1] : 0, b2 = bias ? bias[o + 2] : 0,
	      b3 = bias ? bias[o + 3] : 0;
	v8 a0 = SPLAT(b0), a1 = SPLAT(b1), a2 = SPLAT(b2), a3 = SPLAT(b3);
	v8 c0 = a0, c1 = a1, c2 = a2, c3 = a3, u, v;
	int i;

	for (i = 0; i < cin; i++) {
		LOAD8(u, x + (size_t)i * plane + p);
		LOAD8(v, x + (size_t)i * plane + p + 8);
		a0 += ROW(o)[i] * u, c0 += ROW(o)[i] * v;
		a1 += ROW(o + 1)[i] * u, c1 += ROW(o + 1)[i] * v;
		a2 += ROW(o + 2)[i] * u, c2 += ROW(o + 2)[i] * v;
		a3 += ROW(o + 3)[i] * u, c3 += ROW(o + 3)[i] * v;
	}
	STORE8(y + (size_t)o * plane + p, a0), STORE8(y + (size_t)o * plane + p + 8, c0);
	STORE8(y + (size_t)(o + 1) * plane + p, a1), STORE8(y + (size_t)(o + 1) * plane + p + 8, c1);
	STORE8(y + (size_t)(o + 2) * plane + p, a2), STORE8(y + (size_t)(o + 2) * plane + p + 8, c2);
	STORE8(y + (size_t)(o + 3) * plane + p, a3), STORE8(y + (size_t)(o + 3) * plane + p + 8, c3);
}

/* One output row o, all pixels (vector blocks, then the tail), bias included. */
static inline __attribute__((always_inline)) void row1(const float *w, const float *bias,
						       const float *x, int cin, size_t plane,
						       float *y, int o)
{
	float b = bias ? bias[o] : 0.0f;
	size_t p;
	int i;

	for (p = 0; p + 8 <= plane; p += 8) {
		v8 a = SPLAT(b), u;

		for (i = 0; i < cin; i++) {
			LOAD8(u, x + (size_t)i * plane + p);
			a += ROW(o)[i] * u;
		}
		STORE8(y + (size_t)o * plane + p, a);
	}
	for (; p < plane; p++) {
		float s = b;

		for (i = 0; i < cin; i++)
			s += ROW(o)[i] * x[(size_t)i * plane + p];
		y[(size_t)o * plane + p] = s;
	}
}

EE_KERNEL
void ee_pointwise(const float *w, const float *bias, enum ee_act act, const float *x, int cin,
		  int cout, size_t plane, float *y)
{
	size_t p, tail = plane / 16 * 16;
	int o, r;

	for (o = 0; o + 4 <= cout; o += 4) {
		for (p = 0; p < tail; p += 16)
			block4(w, bias, x, cin, plane, p, y, o);
		for (r = 0; tail < plane && r < 4; r++) /* pixels past the last block of 16 */
			for (p = tail; p < plane; p++) {
				float s = bias ? bias[o + r] : 0.0f;
				int i;

				for (i = 0; i < cin; i++)
					s += ROW(o + r)[i] * x[(size_t)i * plane + p];
				y[(size_t)(o + r) * plane + p] = s;
			}
	}
	for (; o < cout; o++)
		row1(w, bias, x, cin, plane, y, o);
	ee_affine_act(y, (size_t)cout * plane, 1.0f, 0.0f, act);
}
