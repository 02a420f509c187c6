/*
 * gallery.c - the most and least confident samples per exit, and their image grid;
 * see gallery.h.
 */
#include "gallery.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ranked {
	double sure;  /* higher: surer */
	int row;
};

static int surest_first(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->sure != y->sure)
		return x->sure > y->sure ? -1 : 1;
	return (x->row > y->row) - (x->row < y->row);
}

/* The confidence of row i at exit k (k = E: the deepest) under policy p, as shown. */
static double confidence(const struct ee_trace *t, enum ee_policy p, int i, int k)
{
	size_t at = (size_t)i * t->nexits + (k < t->nexits ? k : t->nexits - 1);

	switch (p) {
	case EE_POLICY_ENTROPY:
		return t->entropy[at];
	case EE_POLICY_MARGIN:
		return t->margin[at];
	default:
		return t->maxprob[at];
	}
}

static struct ee_gallery_pick pick(const struct ee_trace *t, const struct ee_exit_rule *r,
				   int row, int k)
{
	struct ee_gallery_pick p;

	p.row = row;
	p.label = t->label[row];
	p.pred = ee_rule_predict(t, r, row, k);
	p.confidence = confidence(t, r->policy, row, k);
	return p;
}

int ee_gallery_pick(const struct ee_trace *t, const struct ee_exit_rule *r, int per,
		    struct ee_gallery *g, struct ee_err *err)
{
	struct ee_dyn_result res;
	struct ranked *rk;
	int *taken, k, i;

	memset(g, 0, sizeof(*g));
	if (per < 1 || per > EE_GALLERY_MAX)
		return ee_err_set(err, EE_ERR_USAGE, "%d samples per exit (1..%d)", per,
				  EE_GALLERY_MAX);
	if (t->n < 1)
		return ee_err_set(err, EE_ERR_INPUT, "the trace has no samples");
	taken = malloc((size_t)t->n * sizeof(*taken));
	rk = malloc((size_t)t->n * sizeof(*rk));
	if (!taken || !rk) {
		free(taken);
		free(rk);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	}
	g->nexits = t->nexits;
	ee_simulate(t, r, &res, taken);
	for (k = 0; k <= t->nexits; k++) {
		int n = 0;

		for (i = 0; i < t->n; i++) {
			double c;

			if (taken[i] != k)
				continue;
			c = confidence(t, r->policy, i, k);
			rk[n].sure = r->policy == EE_POLICY_ENTROPY ? -c : c;
			rk[n++].row = i;
		}
		g->leaving[k] = n;
		qsort(rk, (size_t)n, sizeof(*rk), surest_first);
		for (i = 0; i < n && i < per; i++)
			g->easy[k][g->neasy[k]++] = pick(t, r, rk[i].row, k);
		for (i = n - 1; i >= per && n - 1 - i < per; i--)
			g->hard[k][g->nhard[k]++] = pick(t, r, rk[i].row, k);
	}
	free(taken);
	free(rk);
	return EE_OK;
}

/* ---------------------------------------------------------------- the grid */

#define PAD 2      /* pixels between tiles, scaled with the tile */
#define CAPTION 12 /* tile heights are h + CAPTION rows of caption space, in image pixels */

/* Copies one tile's pixels into the grid rgb[gh][gw][3] at its top-left corner (x0, y0). */
static void tile(uint8_t *rgb, int gw, const uint8_t *px, int c, int h, int w, int x0, int y0)
{
	size_t plane = (size_t)h * w;
	int x, y, k;

	for (y = 0; y < h; y++)
		for (x = 0; x < w; x++)
			for (k = 0; k < 3; k++)
				rgb[(((size_t)y0 + y) * gw + x0 + x) * 3 + k] =
					px[(c == 3 ? k * plane : 0) + (size_t)y * w + x];
}

/* The grid as gnuplot's rgbimage wants it: x fastest, from the bottom row up. */
static void grid(FILE *f, const uint8_t *rgb, int gw, int gh)
{
	int x, y;

	fputs("$img << EOD\n", f);
	for (y = gh - 1; y >= 0; y--)
		for (x = 0; x < gw; x++) {
			const uint8_t *q = rgb + ((size_t)y * gw + x) * 3;

			fprintf(f, "%d %d %d %d %d\n", x, gh - 1 - y, q[0], q[1], q[2]);
		}
	fputs("EOD\n", f);
}

static void caption(FILE *f, const struct ee_gallery_pick *p, double x, double y)
{
	fprintf(f, "set label '%d/%d %.2f' at %g,%g center front font ',7' tc rgb '%s'\n", p->label,
		p->pred, p->confidence, x, y, p->label == p->pred ? "#117733" : "#cc3311");
}

void ee_gallery_size(const struct ee_gallery *g, int h, int w, int *gw, int *gh)
{
	int per = 0, rows = 0, k;

	for (k = 0; k <= g->nexits; k++) {
		per = g->neasy[k] > per ? g->neasy[k] : per;
		per = g->nhard[k] > per ? g->nhard[k] : per;
		rows += g->leaving[k] > 0;
	}
	*gw = (w + PAD) * (2 * per + 1);
	*gh = (h + CAPTION) * rows + CAPTION;
}

int ee_gallery_plot(const struct ee_gallery *g, const struct ee_exit_rule *r, int c, int h,
		    int w, ee_gallery_image_fn image, void *ctx, const char *title,
		    struct ee_plot *p, struct ee_err *err)
{
	int per = 0, k, i, row, tw = w + PAD, th = h + CAPTION, gw, gh;
	uint8_t *rgb;

	for (k = 0; k <= g->nexits; k++) {
		per = g->neasy[k] > per ? g->neasy[k] : per;
		per = g->nhard[k] > per ? g->nhard[k] : per;
	}
	ee_gallery_size(g, h, w, &gw, &gh);
	if (!(rgb = malloc((size_t)gw * gh * 3)))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a %d x %d grid", gw, gh);
	memset(rgb, 255, (size_t)gw * gh * 3);
	for (k = 0, row = 0; k <= g->nexits; k++) {
		if (!g->leaving[k])
			continue;
		for (i = 0; i < g->neasy[k]; i++)
			tile(rgb, gw, image(ctx, g->easy[k][i].row), c, h, w, i * tw,
			     CAPTION + row * th);
		for (i = 0; i < g->nhard[k]; i++)
			tile(rgb, gw, image(ctx, g->hard[k][i].row), c, h, w, (per + 1 + i) * tw,
			     CAPTION + row * th);
		row++;
	}
	grid(p->data, rgb, gw, gh);
	free(rgb);
	ee_plot_title(p, "%s", title);
	fprintf(p->cmds, "unset border\nunset tics\nunset key\nset size ratio -1\n"
		"set xrange [%g:%g]\nset yrange [-0.5:%g]\nset lmargin 14\nset rmargin 1\n",
		-0.5, gw - 0.5, gh - 0.5);
	fprintf(p->cmds, "set label 'most confident (label/prediction confidence)' at %g,%g "
		"center front font ',9'\nset label 'least confident' at %g,%g center front "
		"font ',9'\n",
		per * tw / 2.0, gh - CAPTION / 2.0, (per + 1 + per / 2.0) * tw, gh - CAPTION / 2.0);
	for (k = 0, row = 0; k <= g->nexits; k++) {
		double ytile, ycap;

		if (!g->leaving[k])
			continue;
		ytile = gh - 1 - (CAPTION + row * th + h / 2.0);
		ycap = gh - 1 - (CAPTION + row * th + h + CAPTION / 2.0 - 1);
		if (k < g->nexits)
			fprintf(p->cmds, "set label \"exit %d\\n%ld leave\" at graph 0,first %g "
				"right offset char -1,0 font ',9'\n", k + 1, g->leaving[k], ytile);
		else
			fprintf(p->cmds, "set label \"fallback (%s)\\n%ld\" at graph 0,first %g "
				"right offset char -1,0 font ',9'\n", ee_fallback_name(r->fallback),
				g->leaving[k], ytile);
		for (i = 0; i < g->neasy[k]; i++)
			caption(p->cmds, &g->easy[k][i], i * tw + w / 2.0, ycap);
		for (i = 0; i < g->nhard[k]; i++)
			caption(p->cmds, &g->hard[k][i], (per + 1 + i) * tw + w / 2.0, ycap);
		row++;
	}
	fputs("plot $img using 1:2:3:4:5 with rgbimage\n", p->cmds);
	return EE_OK;
}
