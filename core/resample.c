/*
 * resample.c - see resample.h. The arithmetic follows Pillow 9.4's libImaging/Resample.c
 * (precompute_coeffs, normalize_coeffs_8bpc, ImagingResample{Horizontal,Vertical}_8bpc,
 * ImagingResampleInner) and Geometry.c (ImagingScaleAffine) operation for operation,
 * in the same order and types, so that every pixel is the one Pillow computes.
 */
#include "core/resample.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Pillow's fixed point: 8 bits of pixel, 2 of headroom, the rest for the weights. */
#define PRECISION_BITS (32 - 8 - 2)

struct filter {
	double (*fn)(double x);
	double support;
};

static double bilinear_filter(double x)
{
	if (x < 0.0)
		x = -x;
	if (x < 1.0)
		return 1.0 - x;
	return 0.0;
}

static double bicubic_filter(double x)
{
	const double a = -0.5;

	if (x < 0.0)
		x = -x;
	if (x < 1.0)
		return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
	if (x < 2.0)
		return (((x - 5) * x + 8) * x - 4) * a;
	return 0.0;
}

static const struct filter filters[] = {
	[EE_INTERP_BILINEAR] = { bilinear_filter, 1.0 },
	[EE_INTERP_BICUBIC] = { bicubic_filter, 2.0 },
};

static const char *const interp_names[] = {
	[EE_INTERP_BILINEAR] = "bilinear",
	[EE_INTERP_BICUBIC] = "bicubic",
	[EE_INTERP_NEAREST] = "nearest",
};

int ee_interp_parse(const char *name)
{
	int i;

	for (i = 0; i < (int)(sizeof(interp_names) / sizeof(interp_names[0])); i++)
		if (!strcmp(name, interp_names[i]))
			return i;
	return -1;
}

const char *ee_interp_name(enum ee_interp interp)
{
	return interp_names[interp];
}

/* The weights of output positions [first, first + n) of one axis, in fixed point. */
struct coeffs {
	int ksize;      /* weights per output position */
	int *bounds;    /* [n][2]: first source index, number of weights */
	int32_t *k;     /* [n][ksize] */
};

static void coeffs_release(struct coeffs *cf)
{
	free(cf->bounds);
	free(cf->k);
}

/* Pillow's precompute_coeffs + normalize_coeffs_8bpc for the box [0, in_size). */
static int coeffs_init(struct coeffs *cf, int in_size, int out_size, int first, int n,
		       const struct filter *f)
{
	double support, scale, filterscale;
	double *w;
	int i, x;

	/* box[2] - box[0] is a float subtraction in Pillow: exact below 2^24. */
	filterscale = scale = (double)((float)in_size - 0.0f) / out_size;
	if (filterscale < 1.0)
		filterscale = 1.0;
	support = f->support * filterscale;
	cf->ksize = (int)ceil(support) * 2 + 1;
	cf->bounds = malloc((size_t)n * 2 * sizeof(int));
	cf->k = malloc((size_t)n * cf->ksize * sizeof(int32_t));
	w = malloc((size_t)cf->ksize * sizeof(double));
	if (!cf->bounds || !cf->k || !w) {
		free(w);
		coeffs_release(cf);
		return EE_ERR_NOMEM;
	}
	for (i = 0; i < n; i++) {
		double center = 0.0 + (first + i + 0.5) * scale, ww = 0.0, ss = 1.0 / filterscale;
		int xmin = (int)(center - support + 0.5), xmax = (int)(center + support + 0.5);
		int32_t *k = cf->k + (size_t)i * cf->ksize;

		if (xmin < 0)
			xmin = 0;
		if (xmax > in_size)
			xmax = in_size;
		xmax -= xmin;
		for (x = 0; x < xmax; x++) {
			w[x] = f->fn((x + xmin - center + 0.5) * ss);
			ww += w[x];
		}
		for (x = 0; x < xmax; x++) {
			if (ww != 0.0)
				w[x] /= ww;
			k[x] = w[x] < 0 ? (int32_t)(-0.5 + w[x] * (1 << PRECISION_BITS)) :
					  (int32_t)(0.5 + w[x] * (1 << PRECISION_BITS));
		}
		for (; x < cf->ksize; x++)
			k[x] = 0;
		cf->bounds[i * 2] = xmin;
		cf->bounds[i * 2 + 1] = xmax;
	}
	free(w);
	return EE_OK;
}

static uint8_t clip8(int32_t v)
{
	v >>= PRECISION_BITS;
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/*
 * Filters along one axis. The samples of output position i, channel ch, are
 * src[(b + j) * stride + ch] for j < count (b the first source index of i), and the
 * result goes to dst[i * dstep + ch]; rows repeats this for `rows` lines, src and dst
 * advancing by src_line and dst_line.
 */
struct pass {
	const uint8_t *src;
	size_t stride, src_line;
	uint8_t *dst;
	size_t dstep, dst_line;
	int rows, c;
};

static void filter_axis(const struct pass *p, const struct coeffs *cf, int n)
{
	int r, i, j, ch;

	for (r = 0; r < p->rows; r++) {
		const uint8_t *s = p->src + (size_t)r * p->src_line;
		uint8_t *d = p->dst + (size_t)r * p->dst_line;

		for (i = 0; i < n; i++) {
			const int32_t *k = cf->k + (size_t)i * cf->ksize;
			const uint8_t *b = s + (size_t)cf->bounds[i * 2] * p->stride;
			int count = cf->bounds[i * 2 + 1];

			for (ch = 0; ch < p->c; ch++) {
				int32_t ss = 1 << (PRECISION_BITS - 1);

				for (j = 0; j < count; j++)
					ss += b[(size_t)j * p->stride + ch] * k[j];
				d[(size_t)i * p->dstep + ch] = clip8(ss);
			}
		}
	}
}

/*
 * Pillow's ImagingResampleInner on the window: the horizontal pass (if the width
 * changes) over the source rows the window's output rows read, rounded to uint8; then
 * the vertical pass (if the height changes). An unchanged axis is copied.
 */
static int resample_conv(const uint8_t *src, int sw, int sh, int c, int dw, int dh,
			 struct ee_window win, const struct filter *f, uint8_t *dst)
{
	struct coeffs hz = { 0 }, vt = { 0 };
	size_t line = (size_t)win.w * c, mid_line = (size_t)sw * c;
	const uint8_t *mid;  /* what the vertical pass reads: rows [y0, y1) of the window */
	uint8_t *tmp = NULL;
	int y0 = win.y, y1 = win.y + win.h, y, rc = EE_OK;

	if (dh != sh) {
		rc = coeffs_init(&vt, sh, dh, win.y, win.h, f);
		if (rc < 0)
			return rc;
		y0 = vt.bounds[0];
		y1 = vt.bounds[(win.h - 1) * 2] + vt.bounds[(win.h - 1) * 2 + 1];
	}
	mid = src + ((size_t)y0 * sw + win.x) * c;
	if (dw != sw) {
		rc = coeffs_init(&hz, sw, dw, win.x, win.w, f);
		if (rc == EE_OK && dh != sh) {
			tmp = malloc((size_t)(y1 - y0) * line);
			rc = tmp ? EE_OK : EE_ERR_NOMEM;
		}
		if (rc == EE_OK) {
			struct pass p = { src + (size_t)y0 * sw * c, (size_t)c, (size_t)sw * c,
					  tmp ? tmp : dst, (size_t)c, line, y1 - y0, c };

			filter_axis(&p, &hz, win.w);
		}
		mid = tmp;
		mid_line = line;
	}
	if (rc == EE_OK && dh != sh) {
		/* Down the columns: an output row is a position, each value of a line a
		 * channel. */
		struct pass p = { mid, mid_line, 0, dst, line, 0, 1, (int)line };

		for (y = 0; y < win.h; y++)
			vt.bounds[y * 2] -= y0;
		filter_axis(&p, &vt, win.h);
	} else if (rc == EE_OK && dw == sw) {
		for (y = 0; y < win.h; y++)
			memcpy(dst + (size_t)y * line, mid + (size_t)y * mid_line, line);
	}
	free(tmp);
	coeffs_release(&hz);
	coeffs_release(&vt);
	return rc;
}

/* Pillow's COORD(): truncation, and -1 for anything left of the image. */
static int coord(double v)
{
	return v < 0.0 ? -1 : (int)v;
}

/*
 * Pillow's ImagingScaleAffine for a resize: source positions start at half a step and
 * accumulate the step in double, so they are walked from 0 even for a window.
 */
static int resample_nearest(const uint8_t *src, int sw, int sh, int c, int dw, int dh,
			    struct ee_window win, uint8_t *dst)
{
	double ax = (double)((float)sw - 0.0f) / dw, ay = (double)((float)sh - 0.0f) / dh;
	double xo = 0.0 + ax * 0.5, yo = 0.0 + ay * 0.5;
	int *xin = malloc((size_t)win.w * sizeof(int));
	int x, y;

	if (!xin)
		return EE_ERR_NOMEM;
	for (x = 0; x < win.x + win.w; x++, xo += ax)
		if (x >= win.x)
			xin[x - win.x] = coord(xo);
	for (y = 0; y < win.y + win.h; y++, yo += ay) {
		int yi = coord(yo);
		uint8_t *d;

		if (y < win.y) /* (d's offset would be negative: no pointer before dst) */
			continue;
		d = dst + (size_t)(y - win.y) * win.w * c;
		for (x = 0; x < win.w; x++) {
			if (yi >= 0 && yi < sh && xin[x] >= 0 && xin[x] < sw)
				memcpy(d + (size_t)x * c, src + ((size_t)yi * sw + xin[x]) * c,
				       (size_t)c);
			else
				memset(d + (size_t)x * c, 0, (size_t)c);
		}
	}
	free(xin);
	return EE_OK;
}

int ee_resample(const uint8_t *src, int sw, int sh, int c, int dw, int dh, struct ee_window win,
		enum ee_interp interp, uint8_t *dst, struct ee_err *err)
{
	int rc;

	if (sw < 1 || sh < 1 || dw < 1 || dh < 1 || c < 1 || c > 4 || win.w < 1 || win.h < 1 ||
	    win.x < 0 || win.y < 0 || win.x > dw - win.w || win.y > dh - win.h ||
	    (int)interp < 0 || interp > EE_INTERP_NEAREST)
		return ee_err_set(err, EE_ERR_USAGE, "resample: bad sizes (%dx%dx%d to %dx%d, "
				  "window %d,%d %dx%d)", sw, sh, c, dw, dh, win.x, win.y, win.w,
				  win.h);
	if (interp == EE_INTERP_NEAREST && (dw != sw || dh != sh))
		rc = resample_nearest(src, sw, sh, c, dw, dh, win, dst);
	else
		rc = resample_conv(src, sw, sh, c, interp == EE_INTERP_NEAREST ? sw : dw,
				   interp == EE_INTERP_NEAREST ? sh : dh, win,
				   &filters[interp == EE_INTERP_NEAREST ? 0 : interp], dst);
	if (rc < 0)
		return ee_err_set(err, rc, "resample: out of memory for %dx%d to %dx%d", sw, sh,
				  dw, dh);
	return EE_OK;
}
