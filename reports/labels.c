/*
 * labels.c - labels placed next to points without overlap; see labels.h.
 */
#include "labels.h"

#include <math.h>
#include <string.h>

struct box {
	double x0, y0, x1, y1;
};

/* Position v on an axis [lo, hi] as a fraction of it. */
static double unit(double v, double lo, double hi, bool log_axis)
{
	if (log_axis)
		return (log10(v) - log10(lo)) / (log10(hi) - log10(lo));
	return (v - lo) / (hi - lo);
}

static double data(double u, double lo, double hi, bool log_axis)
{
	if (log_axis)
		return pow(10, log10(lo) + u * (log10(hi) - log10(lo)));
	return lo + u * (hi - lo);
}

static double overlap(const struct box *a, const struct box *b)
{
	double w = fmin(a->x1, b->x1) - fmax(a->x0, b->x0);
	double h = fmin(a->y1, b->y1) - fmax(a->y0, b->y0);

	return w > 0 && h > 0 ? w * h : 0;
}

/* Area of box b outside the unit square. */
static double outside(const struct box *b)
{
	struct box in = { 0, 0, 1, 1 };

	return (b->x1 - b->x0) * (b->y1 - b->y0) - overlap(b, &in);
}

void ee_labels_place(struct ee_label *l, int n, const double (*pts)[2], int npts,
		     const struct ee_label_axes *ax, int max_shown)
{
	/* the plot area is about 80 % of the canvas; a character ~0.6 em wide */
	double cw = 0.6 * ax->font_size * 1.33 / (0.8 * ax->width);
	double ch = 1.2 * ax->font_size * 1.33 / (0.8 * ax->height);
	double pr = 0.5 * ch; /* a point's half size */
	struct box placed[256];
	int np = 0, shown = 0, i, j, c;

	for (i = 0; i < n; i++) {
		double ux = unit(l[i].x, ax->xmin, ax->xmax, ax->logx);
		double uy = unit(l[i].y, ax->ymin, ax->ymax, ax->logy);
		double w = cw * (strlen(l[i].text) + 0.5), h = ch, best = INFINITY;
		static const int dir[8][2] = { { 1, 0 },  { -1, 0 }, { 0, 1 },   { 0, -1 },
					       { 1, 1 },  { -1, 1 }, { 1, -1 },  { -1, -1 } };
		struct box bb = { 0, 0, 0, 0 };

		l[i].shown = false;
		for (c = 0; c < 8; c++) {
			double cx = ux + dir[c][0] * (w / 2 + pr), cy = uy + dir[c][1] * (h / 2 + pr);
			struct box b = { cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2 };
			double s = 4 * outside(&b);

			for (j = 0; j < np; j++)
				s += overlap(&b, &placed[j]);
			for (j = 0; j < npts; j++) {
				double px = unit(pts[j][0], ax->xmin, ax->xmax, ax->logx);
				double py = unit(pts[j][1], ax->ymin, ax->ymax, ax->logy);
				struct box p = { px - pr, py - pr, px + pr, py + pr };

				s += overlap(&b, &p);
			}
			if (s < best - 1e-12) {
				best = s;
				bb = b;
			}
		}
		if (max_shown > 0 && (best > 0 || shown >= max_shown))
			continue;
		l[i].shown = true;
		l[i].lx = data((bb.x0 + bb.x1) / 2, ax->xmin, ax->xmax, ax->logx);
		l[i].ly = data((bb.y0 + bb.y1) / 2, ax->ymin, ax->ymax, ax->logy);
		if (np < (int)(sizeof(placed) / sizeof(placed[0])))
			placed[np++] = bb;
		shown++;
	}
}
