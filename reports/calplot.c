/*
 * calplot.c - the reliability diagram of a model's calibration; see calplot.h.
 */
#include "calplot.h"

#include <math.h>

/* "NaN" for gnuplot's missing points, else the number. */
static void num(FILE *f, double v)
{
	if (isnan(v))
		fputs(" NaN", f);
	else
		fprintf(f, " %.6g", v);
}

/* $relK: bin centre, accuracy, samples, then the same after scaling. */
static void data(FILE *f, const struct ee_model_calibration *mc, int k)
{
	int b;

	fprintf(f, "$rel%d << EOD\n", k + 1);
	for (b = 0; b < EE_CAL_BINS; b++) {
		const struct ee_calibration *s = mc->has_val ? &mc->scaled[k] : NULL;

		fprintf(f, "%.6g", (b + 0.5) / EE_CAL_BINS);
		num(f, mc->exits[k].acc[b]);
		num(f, mc->exits[k].count[b] ? (double)mc->exits[k].count[b] : NAN);
		num(f, s ? s->acc[b] : NAN);
		num(f, s && s->count[b] ? (double)s->count[b] : NAN);
		fputc('\n', f);
	}
	fputs("EOD\n", f);
}

void ee_calplot_reliability(struct ee_plot *p, const char *model,
			    const struct ee_model_calibration *mc)
{
	/* panels of at least ~300 pixels: 3 exits side by side on a wide canvas, else 2 a row */
	int k, e = mc->nexits, cols = e <= 3 && p->width >= 300 * e ? e : e < 2 ? e : 2;
	int rows = (e + cols - 1) / cols;

	for (k = 0; k < e; k++)
		data(p->data, mc, k);
	fprintf(p->cmds, "set datafile missing 'NaN'\nset multiplot layout %d,%d", rows, cols);
	if (!(p->title && !*p->title)) {
		fputs(" title ", p->cmds);
		ee_plot_quote(p->cmds, p->title ? p->title : model);
		fputs(" . ': reliability per exit'", p->cmds);
	}
	fprintf(p->cmds, "\nunset title\nset xrange [0:1]\nset yrange [0:1]\nset xtics 0.25\n"
		"set ytics 0.25 nomirror\nset y2range [1:*]\nset logscale y2\nset y2tics nomirror "
		"format '%%.0s%%c'\nset grid\nset key top left Left reverse samplen 1 font ',8' opaque\n"
		"set style fill solid 0.35 border -1\nset boxwidth %g absolute\n", 1.0 / EE_CAL_BINS);
	for (k = 0; k < e; k++) {
		fprintf(p->cmds, "set title 'exit %d: ECE %.3f", k + 1, mc->exits[k].ece);
		if (mc->has_val)
			fprintf(p->cmds, " (T %.2f: %.3f)", mc->temperature[k], mc->scaled[k].ece);
		fprintf(p->cmds, "'\nset ylabel %s\nset y2label %s\nset xlabel %s\n",
			k % cols == 0 ? "'accuracy'" : "''",
			k % cols == cols - 1 || k == e - 1 ? "'samples (log)'" : "''",
			k / cols == rows - 1 ? "'confidence (max softmax)'" : "''");
		fprintf(p->cmds, "plot $rel%d using 1:2 with boxes lc rgb '#4477aa' title "
			"'accuracy', x with lines dt 2 lc rgb 'black' title 'perfect calibration', "
			"$rel%d using 1:3 axes x1y2 with linespoints pt 7 ps 0.6 lc rgb '#999999' "
			"title 'samples'", k + 1, k + 1);
		if (mc->has_val)
			fprintf(p->cmds, ", $rel%d using 1:4 with points pt 9 ps 1.1 lc rgb "
				"'#cc3311' title 'after scaling'", k + 1);
		fputs("\nunset key\n", p->cmds); /* the first panel's key serves them all */
	}
	fputs("unset multiplot\n", p->cmds);
}
