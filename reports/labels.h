/*
 * labels.h - text labels next to plotted points, placed so that they neither overlap
 * each other nor cover points (gnuplot places `with labels` blindly).
 *
 * Positions are worked out in the plot's unit square (log axes in log10), with each
 * label's box estimated from its length and the font size against the plot's size in
 * pixels. Each label tries 8 places around its point (right, left, above, below and
 * the diagonals) and takes the one overlapping least (labels placed before it, the
 * points, the frame); labels are placed in the order given, so the caller puts the
 * most important first. With max_shown > 0, only labels that fit without overlap are
 * shown, at most max_shown of them (dense plots); otherwise every label is shown at its
 * best place.
 *
 *     struct ee_label l[3] = { { .x = 4e7, .y = 91.2, .text = "3" }, ... };
 *     struct ee_label_axes ax = { 1e6, 1e8, 85, 95, true, false, 960, 600, 10 };
 *     ee_labels_place(l, 3, pts, npts, &ax, 0);   // then l[i].lx, l[i].ly, l[i].shown
 */
#ifndef EE_LABELS_H
#define EE_LABELS_H

#include <stdbool.h>

struct ee_label {
	double x, y;        /* the point, data units */
	const char *text;
	double lx, ly;      /* where the label's centre goes, data units */
	bool shown;
};

struct ee_label_axes {
	double xmin, xmax, ymin, ymax; /* the ranges the plot is drawn with */
	bool logx, logy;
	int width, height, font_size;  /* pixels, points */
};

/* Places l[0..n) (see above) avoiding each other and the points pts[0..npts). */
void ee_labels_place(struct ee_label *l, int n, const double (*pts)[2], int npts,
		     const struct ee_label_axes *ax, int max_shown);

#endif
