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

#define ROW_TILES 256 /* tiles of a row transformed in one call (stack scratch) */

/*
 * B^T d B of the 4x4 patches of one row of tw <= ROW_TILES tiles: patch tx starts at
 * column 2 tx of rows r[0..3]; value xi of patch tx goes to v[xi][tx]. The rows are first
 * split into even and odd columns, so that the transform reads every operand with unit
 * stride across tx and GCC vectorises it (the same sums in the same order as the
 * scalar transform).
 */
EE_KERNEL
static void input_row(const float *const *r, int tw, float *const restrict *v)
{
	float e[4][ROW_TILES + 1], o[4][ROW_TILES + 1];
	float *restrict v0 = v[0], *restrict v1 = v[1], *restrict v2 = v[2], *restrict v3 = v[3];
	float *restrict v4 = v[4], *restrict v5 = v[5], *restrict v6 = v[6], *restrict v7 = v[7];
	float *restrict v8 = v[8], *restrict v9 = v[9], *restrict v10 = v[10];
	float *restrict v11 = v[11], *restrict v12 = v[12], *restrict v13 = v[13];
	float *restrict v14 = v[14], *restrict v15 = v[15];
	int tx, k;

	for (k = 0; k < 4; k++)
		for (tx = 0; tx <= tw; tx++) {
			e[k][tx] = r[k][2 * tx];
			o[k][tx] = r[k][2 * tx + 1];
		}
	EE_SIMD for (tx = 0; tx < tw; tx++) {
		/* q = B^T d, column by column (columns 0..3 = e[tx], o[tx], e[tx+1], o[tx+1]) */
		float q00 = e[0][tx] - e[2][tx], q01 = o[0][tx] - o[2][tx];
		float q02 = e[0][tx + 1] - e[2][tx + 1], q03 = o[0][tx + 1] - o[2][tx + 1];
		float q10 = e[1][tx] + e[2][tx], q11 = o[1][tx] + o[2][tx];
		float q12 = e[1][tx + 1] + e[2][tx + 1], q13 = o[1][tx + 1] + o[2][tx + 1];
		float q20 = e[2][tx] - e[1][tx], q21 = o[2][tx] - o[1][tx];
		float q22 = e[2][tx + 1] - e[1][tx + 1], q23 = o[2][tx + 1] - o[1][tx + 1];
		float q30 = e[1][tx] - e[3][tx], q31 = o[1][tx] - o[3][tx];
		float q32 = e[1][tx + 1] - e[3][tx + 1], q33 = o[1][tx + 1] - o[3][tx + 1];

		/* v = q B */
		v0[tx] = q00 - q02, v1[tx] = q01 + q02, v2[tx] = q02 - q01, v3[tx] = q01 - q03;
		v4[tx] = q10 - q12, v5[tx] = q11 + q12, v6[tx] = q12 - q11, v7[tx] = q11 - q13;
		v8[tx] = q20 - q22, v9[tx] = q21 + q22, v10[tx] = q22 - q21, v11[tx] = q21 - q23;
		v12[tx] = q30 - q32, v13[tx] = q31 + q32, v14[tx] = q32 - q31, v15[tx] = q31 - q33;
	}
}

/* The operands of one Winograd call, shared by its parallel loops. */
struct wino_loop {
	const struct ee_tensor *in;
	struct ee_tensor *out;
	const float *u, *bias;
	enum ee_act act;
	int pad, th, tw;
	float *v, *mm, *xp; /* V, M and the padded planes (one per thread) */
	size_t xp_stride;
};

/*
 * V [16][cin][tiles] for items [lo, hi) of (sample s, channel c): the plane is zero-padded
 * into thread tid's xp so that every 4x4 patch is inside it, then each tile's patch is
 * transformed.
 */
static void inputs_range(void *ctx, long lo, long hi, int tid)
{
	const struct wino_loop *w = ctx;
	const struct ee_tensor *in = w->in;
	int cin = in->c, th = w->th, tw = w->tw, tiles = th * tw, ntiles = in->n * tiles;
	int hp = 2 * th + 2, wp = 2 * tw + 2, pad = w->pad;
	float *xp = w->xp + (size_t)tid * w->xp_stride, *v[16];
	long job;

	for (job = lo; job < hi; job++) {
		int s = (int)(job / cin), c = (int)(job % cin), y, ty, xi;
		const float *src = ee_tensor_sample(in, s) + (size_t)c * in->h * in->w;

		memset(xp, 0, (size_t)hp * wp * sizeof(float));
		for (y = 0; y < in->h && y + pad < hp; y++)
			memcpy(xp + (size_t)(y + pad) * wp + pad, src + (size_t)y * in->w,
			       (size_t)(in->w + pad < wp ? in->w : wp - pad) * sizeof(float));
		for (ty = 0; ty < th; ty++) {
			int t0, n;

			for (t0 = 0; t0 < tw; t0 += n) {
				const float *r = xp + (size_t)2 * ty * wp + 2 * t0;
				const float *rows[4] = { r, r + wp, r + 2 * wp, r + 3 * wp };

				n = tw - t0 < ROW_TILES ? tw - t0 : ROW_TILES;
				for (xi = 0; xi < 16; xi++)
					v[xi] = w->v + ((size_t)xi * cin + c) * ntiles +
						(size_t)s * tiles + (size_t)ty * tw + t0;
				input_row(rows, n, v);
			}
		}
	}
}

/* A^T m A of tile tx of a row (m[xi][tx] its 16 values) plus b into y[2][2]. */
static inline void output_tile(const float *const *m, int tx, float b, float y[2][2])
{
	/* r = A^T m: row 0 = m0 + m1 + m2 (rows of 4), row 1 = m1 - m2 - m3 */
	float r00 = m[0][tx] + m[4][tx] + m[8][tx], r01 = m[1][tx] + m[5][tx] + m[9][tx];
	float r02 = m[2][tx] + m[6][tx] + m[10][tx], r03 = m[3][tx] + m[7][tx] + m[11][tx];
	float r10 = m[4][tx] - m[8][tx] - m[12][tx], r11 = m[5][tx] - m[9][tx] - m[13][tx];
	float r12 = m[6][tx] - m[10][tx] - m[14][tx], r13 = m[7][tx] - m[11][tx] - m[15][tx];

	y[0][0] = r00 + r01 + r02 + b;
	y[0][1] = r01 - r02 - r03 + b;
	y[1][0] = r10 + r11 + r12 + b;
	y[1][1] = r11 - r12 - r13 + b;
}

/*
 * One row of tiles into output rows y0 and y1: the tw2 tiles whose two columns are
 * inside the plane across tx (GCC vectorises it), then the half tile of an odd width
 * (odd). y1 may be scratch when the second row is past the plane.
 */
EE_KERNEL
static void output_row(const float *const *m, int tw2, bool odd, float b, float *restrict y0,
		       float *restrict y1)
{
	float y[2][2];
	int tx;

	EE_SIMD for (tx = 0; tx < tw2; tx++) {
		output_tile(m, tx, b, y);
		y0[2 * tx] = y[0][0];
		y0[2 * tx + 1] = y[0][1];
		y1[2 * tx] = y[1][0];
		y1[2 * tx + 1] = y[1][1];
	}
	if (odd) {
		output_tile(m, tw2, b, y);
		y0[2 * tw2] = y[0][0];
		y1[2 * tw2] = y[1][0];
	}
}

/* Items [lo, hi) of (sample s, output channel o): planes from M [16][cout][tiles], bias
 * and act applied. */
static void outputs_range(void *ctx, long lo, long hi, int tid)
{
	const struct wino_loop *w = ctx;
	struct ee_tensor *out = w->out;
	int cout = out->c, th = w->th, tw = w->tw, tiles = th * tw, ntiles = out->n * tiles;
	float *spare = w->xp + (size_t)tid * w->xp_stride; /* free once the inputs are done */
	const float *m[16];
	long job;

	for (job = lo; job < hi; job++) {
		int s = (int)(job / cout), o = (int)(job % cout), ty, xi;
		float *dst = ee_tensor_sample(out, s) + (size_t)o * out->h * out->w;
		float b = w->bias ? w->bias[o] : 0.0f;

		for (ty = 0; ty < th; ty++) {
			float *y0 = dst + (size_t)2 * ty * out->w;

			for (xi = 0; xi < 16; xi++)
				m[xi] = w->mm + ((size_t)xi * cout + o) * ntiles + (size_t)s * tiles +
					(size_t)ty * tw;
			output_row(m, out->w / 2, out->w % 2, b, y0,
				   2 * ty + 1 < out->h ? y0 + out->w : spare);
		}
		if (w->act != EE_ACT_NONE)
			ee_affine_act(dst, (size_t)out->h * out->w, 1.0f, 0.0f, w->act);
	}
}

/* Products [lo, hi) of the 16: M[xi] = U[xi] V[xi]. */
static void products_range(void *ctx, long lo, long hi, int tid)
{
	const struct wino_loop *w = ctx;
	int cin = w->in->c, cout = w->out->c, ntiles = w->in->n * w->th * w->tw;
	long xi;

	(void)tid;
	for (xi = lo; xi < hi; xi++)
		ee_gemm(cout, ntiles, cin, w->u + (size_t)xi * cout * cin, cin,
			w->v + (size_t)xi * cin * ntiles, ntiles, w->mm + (size_t)xi * cout * ntiles,
			ntiles);
}

void ee_wino_conv(const float *u, const float *bias, enum ee_act act, const struct ee_tensor *in,
		  struct ee_tensor *out, int pad, float *work, int threads)
{
	int th = (out->h + 1) / 2, tw = (out->w + 1) / 2, ntiles = in->n * th * tw;
	int cin = in->c, cout = out->c;
	struct wino_loop w = { in, out, u, bias, act, pad, th, tw, work, NULL, NULL,
			       (size_t)(2 * th + 2) * (2 * tw + 2) };
	double floats = (double)16 * ntiles * (cin + cout);

	w.mm = w.v + (size_t)16 * cin * ntiles;
	w.xp = w.mm + (size_t)16 * cout * ntiles;
	ee_parallel_for(threads, (long)in->n * cin, 4.0 * floats, inputs_range, &w);
	ee_parallel_for(threads, 16, 16.0 * ntiles * cin * cout, products_range, &w);
	ee_parallel_for(threads, (long)out->n * cout, 4.0 * floats, outputs_range, &w);
}
