/*
 * gallery.h - which samples leave where: per exit, the most and the least confident
 * samples that leave there under a dynamic-exit rule, and a grid of their images (the
 * "easy and hard examples" figures of the early-exit literature).
 *
 * Selection: the rule is applied to the trace (ee_simulate); the samples leaving at exit
 * k are ranked by their confidence at k under the rule's policy (maxprob and margin:
 * higher is surer; entropy: lower is surer; patience: maxprob); the fallback's samples
 * (taken = E) are ranked by the deepest exit's. Per exit the first `per` of the ranking
 * are the easy ones, the last `per` the hard ones (fewer when fewer leave there; a
 * sample is in one list only). Ties go to the lower row.
 *
 * The grid (gnuplot, `with rgbimage`): a row per exit that samples leave at (the
 * fallback last), the easy ones left, the hard ones right, each image with
 * "label/prediction" and its confidence under it (green: right, red: wrong).
 */
#ifndef EE_GALLERY_H
#define EE_GALLERY_H

#include <stdint.h>

#include "analysis.h"
#include "plot.h"

#define EE_GALLERY_MAX 32 /* samples per list */

struct ee_gallery_pick {
	int row;              /* trace row */
	int32_t label, pred;  /* pred: what the sample leaves with */
	double confidence;    /* under the rule's policy at the exit it leaves at */
};

struct ee_gallery {
	int nexits;
	long leaving[EE_MAX_EXITS + 1];            /* samples per exit ([E]: fallback) */
	int neasy[EE_MAX_EXITS + 1], nhard[EE_MAX_EXITS + 1];
	struct ee_gallery_pick easy[EE_MAX_EXITS + 1][EE_GALLERY_MAX]; /* surest first */
	struct ee_gallery_pick hard[EE_MAX_EXITS + 1][EE_GALLERY_MAX]; /* least sure first */
};

/* Picks up to per (1..EE_GALLERY_MAX) easy and hard samples per exit. EE_ERR_USAGE for a
 * bad per, EE_ERR_INPUT for a trace without rows, EE_ERR_NOMEM. */
int ee_gallery_pick(const struct ee_trace *t, const struct ee_exit_rule *r, int per,
		    struct ee_gallery *g, struct ee_err *err);

/* The images of the picks: pixels of trace row i are image(ctx, row) as [c][h][w]
 * 0..255 (c = 1 grey or 3 RGB). Writes the grid's data and commands into p;
 * EE_ERR_NOMEM. */
/* The grid's size in image pixels for images of h x w. */
void ee_gallery_size(const struct ee_gallery *g, int h, int w, int *gw, int *gh);
typedef const uint8_t *(*ee_gallery_image_fn)(void *ctx, int row);
int ee_gallery_plot(const struct ee_gallery *g, const struct ee_exit_rule *r, int c, int h,
		    int w, ee_gallery_image_fn image, void *ctx, const char *title,
		    struct ee_plot *p, struct ee_err *err);

#endif
