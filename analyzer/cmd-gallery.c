/*
 * cmd-gallery.c - `eeprof gallery TRACE --data SPEC -o FILE.png`: the images that leave
 * at each exit under a dynamic-exit rule, the most and the least confident ones per exit
 * with their labels and predictions (reports/gallery.h), as a PNG or SVG grid.
 *
 * SPEC must be the dataset the trace was made from (the same size, and each traced
 * sample's label equal to the dataset's): the trace holds no pixels. stdout lists the
 * samples shown, one line each: exit (or "fallback"), easy/hard, rank, dataset index,
 * label, prediction, confidence. Rule: --policy (default maxprob), --threshold (default
 * 0.9; patience 1), --fallback (default last), as `gates`. --per N samples per list
 * (default 8).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "plugins/dataset.h"
#include "reports/gallery.h"
#include "reports/plot.h"

static const char synopsis[] =
	"eeprof gallery <trace.h5> --data <spec> (-o | --output) <file.png|svg> [--per <n>] "
	"[--policy <p>] [--threshold <t>[,<t>...]] [--fallback <f>] [--plot-size <w,h>] "
	"[--font-size <n>] [--title <text>]";

#define DEFAULT_THRESHOLD 0.9
#define DEFAULT_PATIENCE 1

struct images {
	const struct ee_dataset *ds;
	const struct ee_trace *t;
	uint8_t *buf;  /* [c][h][w] of the last image asked for */
};

/* Pixels of trace row `row` as 0..255 (float datasets: x * 255 clamped). */
static const uint8_t *image(void *ctx, int row)
{
	struct images *im = ctx;
	const struct ee_dataset *ds = im->ds;
	size_t per = (size_t)ds->c * ds->h * ds->w, i, at = (size_t)im->t->index[row] * per;

	if (ds->u8)
		return ds->u8 + at;
	for (i = 0; i < per; i++) {
		float v = ds->f32[at + i] * 255.0f;

		im->buf[i] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)(v + 0.5f);
	}
	return im->buf;
}

/* The dataset is the trace's: same size, channels 1 or 3, each traced label equal. */
static int check_data(const struct ee_trace *t, const struct ee_dataset *ds, struct ee_err *err)
{
	int i;

	if (ds->n != t->dataset_size)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %d samples, the trace was "
				  "made from %d ('%s')", ds->spec, ds->n, t->dataset_size, t->data);
	if (ds->c != 1 && ds->c != 3)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %d channels: the gallery "
				  "shows grey (1) or RGB (3) images", ds->spec, ds->c);
	for (i = 0; i < t->n; i++)
		if (ds->labels[t->index[i]] != t->label[i])
			return ee_err_set(err, EE_ERR_INPUT, "sample %d of dataset '%s' is labelled "
					  "%d, the trace says %d: not the trace's data ('%s')",
					  t->index[i], ds->spec, ds->labels[t->index[i]],
					  t->label[i], t->data);
	return EE_OK;
}

static void list(const struct ee_trace *t, const struct ee_gallery *g)
{
	int k, i;

	printf("exit      kind  rank   index  label  pred  confidence\n");
	for (k = 0; k <= g->nexits; k++) {
		char name[16];

		if (k < g->nexits)
			snprintf(name, sizeof(name), "%d", k + 1);
		else
			snprintf(name, sizeof(name), "fallback");
		for (i = 0; i < g->neasy[k]; i++)
			printf("%-8s  easy  %4d  %6d  %5d  %4d  %.6f\n", name, i + 1,
			       t->index[g->easy[k][i].row], g->easy[k][i].label, g->easy[k][i].pred,
			       g->easy[k][i].confidence);
		for (i = 0; i < g->nhard[k]; i++)
			printf("%-8s  hard  %4d  %6d  %5d  %4d  %.6f\n", name, i + 1,
			       t->index[g->hard[k][i].row], g->hard[k][i].label, g->hard[k][i].pred,
			       g->hard[k][i].confidence);
	}
}

struct gallery_opts {
	const char *data, *output;
	struct ee_cli_rule rule;
	int per;
	struct ee_cli_plot_opts look;
};

static int draw(const struct gallery_opts *o, const char *path, struct ee_err *err)
{
	struct ee_trace t = { 0 };
	struct ee_dataset ds = { 0 };
	struct images im = { 0 };
	struct ee_exit_rule rule;
	struct ee_gallery g;
	struct ee_plot_look look;
	struct ee_plot p;
	double v[EE_MAX_EXITS];
	char name[256], title[400];
	int nv, rc;

	if ((rc = ee_cli_rule_parse(&o->rule, &rule, v, &nv, err)) < 0 ||
	    (rc = ee_cli_plot_check(o->output, &o->look, &look, err)) < 0)
		return rc;
	if (nv == 0) {
		v[0] = rule.policy == EE_POLICY_PATIENCE ? DEFAULT_PATIENCE : DEFAULT_THRESHOLD;
		nv = 1;
	}
	if ((rc = ee_cli_trace_load(&t, path, err)) < 0)
		return rc;
	rc = ee_rule_thresholds(&rule, v, nv, t.nexits, err);
	if (rc == EE_OK && (rc = ee_dataset_open(&ds, o->data, err)) == EE_OK &&
	    (rc = check_data(&t, &ds, err)) == EE_OK &&
	    (rc = ee_gallery_pick(&t, &rule, o->per, &g, err)) == EE_OK) {
		im.ds = &ds;
		im.t = &t;
		if (!(im.buf = malloc((size_t)ds.c * ds.h * ds.w)))
			rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	}
	if (rc == EE_OK && !look.width) { /* the canvas follows the grid's shape */
		int gw, gh;

		ee_gallery_size(&g, ds.h, ds.w, &gw, &gh);
		look.width = 1000;
		look.height = 90 + (int)(860.0 * gh / gw);
	}
	if (rc == EE_OK && (rc = ee_cli_plot_begin(&p, &look, err)) == EE_OK) {
		snprintf(title, sizeof(title), "%s on %s: where samples leave (%s %g, fallback %s)",
			 ee_cli_model_name(&t, name, sizeof(name)), t.data,
			 ee_policy_name(rule.policy), rule.thr[0], ee_fallback_name(rule.fallback));
		rc = ee_gallery_plot(&g, &rule, ds.c, ds.h, ds.w, image, &im, title, &p, err);
		if (rc == EE_OK)
			rc = ee_cli_plot_end(&p, o->output, err);
		else
			ee_plot_release(&p);
	}
	if (rc == EE_OK)
		list(&t, &g);
	free(im.buf);
	ee_dataset_release(&ds);
	ee_trace_release(&t);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct gallery_opts *o = ctx;

	(void)npos;
	if (!o->data || !o->output)
		return ee_err_set(err, EE_ERR_USAGE, "--data and --output are required%s",
				  hint(synopsis));
	return draw(o, pos[0], err);
}

int cmd_gallery(int argc, char **argv)
{
	struct gallery_opts o = { .per = 8 };
	const struct ee_opt opts[] = {
		{ "data", EE_OPT_STR, &o.data, "<spec>", "the dataset the trace was made from", 0,
		  0 },
		{ "output", EE_OPT_FILE, &o.output, "<file>", "the grid, .png or .svg", 0, 0 },
		{ "per", EE_OPT_INT, &o.per, "<n>", "most and least confident samples shown per "
		  "exit (default 8)", 1, EE_GALLERY_MAX },
		EE_OPT_RULE(&o.rule, "one threshold or one per exit (default 0.9; patience 1)"),
		EE_OPT_PLOT_LOOK(&o.look),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
