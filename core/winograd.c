/* winograd.c - 3x3 stride-1 convolutions by Winograd F(2x2, 3x3); see winograd.h.
 * Transform matrices:
 *     B^T = [1 0 -1 0; 0 1 1 0; 0 -1 1 0; 0 1 0 -1]
 *     G   = [1 0 0; 1/2 1/2 1/2; 1/2 -1/2 1/2; 0 0 1]
 *     A^T = [1 1 1 0; 0 1 -1 -1]
 */
#include "winograd.h"

#include <string.h>

#include "kernels.h"
#include "threads.h"

#define WINO_MIN_MACS 2048 /* cin * cout below this: the transforms do not pay */

bool ee_wino_eligible(int kh, int kw, int stride, int groups, int pad, int cin, int cout)
{
	return kh == 3 && kw == 3 && stride == 1 && groups == 1 && pad >= 0 && pad <= 2 &&
	       (long)cin * cout >= WINO_MIN_MACS;
}

/* G g G^T for one 3x3 filter g (row-major) into t[16]. */
static void filter_transform(const float *g, float *t)
{
	float a[4][3];
	int j;

	for (j = 0; j < 3; j++) { /* a = G g: rows of G against the columns of g */
		a[0][j] = g[j];
		a[1][j] = 0.5f * (g[j] + g[3 + j] + g[6 + j]);
		a[2][j] = 0.5f * (g[j] - g[3 + j] + g[6 + j]);
		a[3][j] = g[6 + j];
	}
	for (j = 0; j < 4; j++) { /* t = a G^T */
		t[j * 4 + 0] = a[j][0];
		t[j * 4 + 1] = 0.5f * (a[j][0] + a[j][1] + a[j][2]);
		t[j * 4 + 2] = 0.5f * (a[j][0] - a[j][1] + a[j][2]);
		t[j * 4 + 3] = a[j][2];
	}
}

void ee_wino_weights(const float *w, int cin, int cout, float *u)
{
	size_t plane = (size_t)cout * cin;
	float t[16];
	int o, i, xi;

	for (o = 0; o < cout; o++)
		for (i = 0; i < cin; i++) {
			filter_transform(w + ((size_t)o * cin + i) * 9, t);
			for (xi = 0; xi < 16; xi++)
				u[xi * plane + (size_t)o * cin + i] = t[xi];
		}
}

/* B^T d B of the 4x4 patch at p (row stride ld) into v[16]. */
static inline void input_transform(const float *p, int ld, float *v)
{
	float r[4][4];
	int j;

	for (j = 0; j < 4; j++) { /* r = B^T d */
		float d0 = p[j], d1 = p[ld + j], d2 = p[2 * ld + j], d3 = p[3 * ld + j];

		r[0][j] = d0 - d2;
		r[1][j] = d1 + d2;
		r[2][j] = d2 - d1;
		r[3][j] = d1 - d3;
	}
	for (j = 0; j < 4; j++) { /* v = r B */
		v[j * 4 + 0] = r[j][0] - r[j][2];
		v[j * 4 + 1] = r[j][1] + r[j][2];
		v[j * 4 + 2] = r[j][2] - r[j][1];
		v[j * 4 + 3] = r[j][1] - r[j][3];
	}
}

/*
 * V [16][cin][tiles]: for sample s and channel c, the plane is zero-padded into xp
 * so that every 4x4 patch is inside it, then each tile's patch is transformed.
 */
static void transform_inputs(const struct ee_tensor *in, int pad, int th, int tw, float *v,
			     float *xp_all, size_t xp_stride)
{
	int cin = in->c, tiles = th * tw, ntiles = in->n * tiles, hp = 2 * th + 2, wp = 2 * tw + 2;
	long job;

#pragma omp parallel for schedule(static)
	for (job = 0; job < (long)in->n * cin; job++) {
		int s = (int)(job / cin), c = (int)(job % cin), y, ty, tx, xi;
		const float *src = ee_tensor_sample(in, s) + (size_t)c * in->h * in->w;
		float *xp = xp_all + (size_t)ee_thread_id() * xp_stride, t[16];

		memset(xp, 0, (size_t)hp * wp * sizeof(float));
		for (y = 0; y < in->h && y + pad < hp; y++)
			memcpy(xp + (size_t)(y + pad) * wp + pad, src + (size_t)y * in->w,
			       (size_t)(in->w + pad < wp ? in->w : wp - pad) * sizeof(float));
		for (ty = 0; ty < th; ty++)
			for (tx = 0; tx < tw; tx++) {
				size_t col = (size_t)s * tiles + ty * tw + tx;

				input_transform(xp + (size_t)2 * ty * wp + 2 * tx, wp, t);
				for (xi = 0; xi < 16; xi++)
					v[((size_t)xi * cin + c) * ntiles + col] = t[xi];
			}
	}
}

/* A^T m A for the 16 values of one tile into y[2][2]. */
static inline void output_transform(const float *m, float y[2][2])
{
	float r[2][4];
	int j;

	for (j = 0; j < 4; j++) {
		r[0][j] = m[j] + m[4 + j] + m[8 + j];
		r[1][j] = m[4 + j] - m[8 + j] - m[12 + j];
	}
	for (j = 0; j < 2; j++) {
		y[j][0] = r[j][0] + r[j][1] + r[j][2];
		y[j][1] = r[j][1] - r[j][2] - r[j][3];
	}
}

static inline float activate(float v, enum ee_act act)
{
	if (act == EE_ACT_RELU)
		return v > 0.0f ? v : 0.0f;
	return act == EE_ACT_SIGMOID ? ee_sigmoidf(v) : v;
}

/* Output channel planes from M [16][cout][tiles], bias and act applied. */
static void transform_outputs(const float *mm, const float *bias, enum ee_act act,
			      struct ee_tensor *out, int th, int tw)
{
	int cout = out->c, tiles = th * tw, ntiles = out->n * tiles;
	long job;

#pragma omp parallel for schedule(static)
	for (job = 0; job < (long)out->n * cout; job++) {
		int s = (int)(job / cout), o = (int)(job % cout), ty, tx, xi, dy, dx;
		float *dst = ee_tensor_sample(out, s) + (size_t)o * out->h * out->w;
		float b = bias ? bias[o] : 0.0f, m[16], y[2][2];

		for (ty = 0; ty < th; ty++)
			for (tx = 0; tx < tw; tx++) {
				size_t col = (size_t)s * tiles + ty * tw + tx;

				for (xi = 0; xi < 16; xi++)
					m[xi] = mm[((size_t)xi * cout + o) * ntiles + col];
				output_transform(m, y);
				for (dy = 0; dy < 2 && 2 * ty + dy < out->h; dy++)
					for (dx = 0; dx < 2 && 2 * tx + dx < out->w; dx++)
						dst[(size_t)(2 * ty + dy) * out->w + 2 * tx + dx] =
							activate(y[dy][dx] + b, act);
			}
	}
}

void ee_wino_conv(const float *u, const float *bias, enum ee_act act, const struct ee_tensor *in,
		  struct ee_tensor *out, int pad, float *work)
{
	int th = (out->h + 1) / 2, tw = (out->w + 1) / 2, ntiles = in->n * th * tw;
	int cin = in->c, cout = out->c;
	float *v = work, *mm = v + (size_t)16 * cin * ntiles;
	float *xp = mm + (size_t)16 * cout * ntiles;
	size_t xp_stride = (size_t)(2 * th + 2) * (2 * tw + 2);
	long xi;

	transform_inputs(in, pad, th, tw, v, xp, xp_stride);
#pragma omp parallel for schedule(static)
	for (xi = 0; xi < 16; xi++)
		ee_gemm(cout, ntiles, cin, u + (size_t)xi * cout * cin, cin,
			v + (size_t)xi * cin * ntiles, ntiles, mm + (size_t)xi * cout * ntiles, ntiles);
	transform_outputs(mm, bias, act, out, th, tw);
}
