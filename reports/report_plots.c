/*
 * report_plots.c - the gnuplot scripts (data and commands, plot.h) of a report's
 * plots: accuracy against MACs, open-gate ratio per EMG layer, exit distribution per
 * threshold, time against MACs per layer; see report.h.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "table.h"

/* The smallest and largest MACs the accuracy plot shows. */
static void macs_span(const struct ee_report *r, double *lo, double *hi)
{
	int i, j;

	*lo = INFINITY;
	*hi = 0;
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++)
			if (isfinite(m->curve[j].accuracy) && m->curve[j].macs_mean > 0) {
				*lo = fmin(*lo, m->curve[j].macs_mean);
				*hi = fmax(*hi, m->curve[j].macs_mean);
			}
		for (j = 0; j < m->nexits; j++) {
			*lo = fmin(*lo, m->stats.macs_mean[j]);
			*hi = fmax(*hi, m->stats.macs_mean[j]);
		}
		*hi = fmax(*hi, m->stats.ensemble_macs);
	}
}

/* The smallest and largest accuracy (%) the plot shows. */
static void accuracy_span(const struct ee_report *r, double *lo, double *hi)
{
	int i, j;

	*lo = 100;
	*hi = 0;
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++)
			if (isfinite(m->curve[j].accuracy)) {
				*lo = fmin(*lo, 100 * m->curve[j].accuracy);
				*hi = fmax(*hi, 100 * m->curve[j].accuracy);
			}
		for (j = 0; j < m->nexits; j++) {
			*lo = fmin(*lo, 100 * m->stats.accuracy[j]);
			*hi = fmax(*hi, 100 * m->stats.accuracy[j]);
		}
		*lo = fmin(*lo, 100 * m->stats.ensemble_accuracy);
		*hi = fmax(*hi, 100 * m->stats.ensemble_accuracy);
	}
}

/* A log x axis with ticks at 1, 2 and 5 times the powers of ten in [lo, hi], labelled
 * with SI suffixes (2M, 5M, 10M): gnuplot alone gives one tick per decade. */
static void log_ticks(FILE *f, double lo, double hi)
{
	static const double steps[] = { 1, 2, 5 };
	double d;
	char buf[32];
	int i, n = 0;

	fprintf(f, "set logscale x\nset xtics (");
	for (d = pow(10, floor(log10(lo))); d <= hi; d *= 10)
		for (i = 0; i < 3; i++)
			if (steps[i] * d >= lo && steps[i] * d <= hi)
				fprintf(f, "%s'%s' %.10g", n++ ? ", " : "",
					ee_fmt_si(buf, sizeof(buf), steps[i] * d), steps[i] * d);
	fprintf(f, ")\n");
}

/* Datablocks $cI (sweep), $eI (exits) and $nI (ensemble) of model i. */
static void accuracy_data(const struct ee_report_model *m, int i, FILE *f)
{
	int j;

	fprintf(f, "$c%d << EOD\n", i);
	for (j = 0; j < m->ncurve; j++)
		if (isfinite(m->curve[j].accuracy))
			fprintf(f, "%.10g %.10g\n", m->curve[j].macs_mean, 100 * m->curve[j].accuracy);
	fprintf(f, "EOD\n$e%d << EOD\n", i);
	for (j = 0; j < m->nexits; j++)
		fprintf(f, "%.10g %.10g\n", m->stats.macs_mean[j], 100 * m->stats.accuracy[j]);
	fprintf(f, "EOD\n$n%d << EOD\n%.10g %.10g\nEOD\n", i, m->stats.ensemble_macs,
		100 * m->stats.ensemble_accuracy);
}

#define MAX_EXIT_LABELS 256
#define MAX_OBSTACLES 2048

/* The exit numbers, placed next to their points without overlap (labels.h) with the
 * points and the sweep curves (every other point), as $lab. */
static void exit_labels(const struct ee_report *r, const struct ee_label_axes *ax, FILE *f)
{
	static const char *const digits[] = { "1", "2", "3", "4", "5", "6", "7", "8" };
	static double pts[MAX_OBSTACLES][2];
	struct ee_label l[MAX_EXIT_LABELS];
	int n = 0, np, i, k;

	for (i = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].nexits && n < MAX_EXIT_LABELS; k++, n++) {
			pts[n][0] = l[n].x = r->models[i].stats.macs_mean[k];
			pts[n][1] = l[n].y = 100 * r->models[i].stats.accuracy[k];
			l[n].text = digits[k % 8];
		}
	np = n;
	for (i = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].ncurve && np < MAX_OBSTACLES; k += 2)
			if (isfinite(r->models[i].curve[k].accuracy)) {
				pts[np][0] = r->models[i].curve[k].macs_mean;
				pts[np++][1] = 100 * r->models[i].curve[k].accuracy;
			}
	ee_labels_place(l, n, (const double(*)[2])pts, np, ax, 0);
	fprintf(f, "$lab << EOD\n");
	for (i = 0, n = 0; i < r->nmodels; i++)
		for (k = 0; k < r->models[i].nexits && n < MAX_EXIT_LABELS; k++, n++)
			fprintf(f, "%.10g %.10g %s %d\n", l[n].lx, l[n].ly, l[n].text, i + 1);
	fprintf(f, "EOD\n");
}

void ee_report_plot_accuracy(const struct ee_report *r, struct ee_plot *p)
{
	struct ee_label_axes ax = { 0 };
	double lo, hi, alo, ahi;
	bool logx;
	int i;

	macs_span(r, &lo, &hi);
	accuracy_span(r, &alo, &ahi);
	logx = r->log_x || (lo > 0 && hi / lo > 5);
	ax.logx = logx;
	ax.xmin = logx ? lo / 1.4 : lo - 0.08 * (hi - lo);
	ax.xmax = logx ? hi * 1.4 : hi + 0.08 * (hi - lo);
	if (!(ax.xmax > ax.xmin)) {
		ax.xmin = lo * 0.9;
		ax.xmax = hi * 1.1 + 1;
	}
	ax.ymin = fmax(0, alo - 0.08 * (ahi - alo) - 0.5);
	ax.ymax = fmin(100, ahi + 0.08 * (ahi - alo) + 0.5);
	ax.width = p->width;
	ax.height = p->height;
	ax.font_size = p->font_size;
	ee_plot_title(p, "Accuracy vs MACs (threshold sweep: %s, fallback %s)",
		      ee_policy_name(r->policy), ee_fallback_name(r->fallback));
	fprintf(p->cmds, "set xlabel 'mean MACs per sample%s'\nset ylabel 'accuracy (%%)'\n"
		"set grid\nset key bottom right box opaque samplen 2\nset xrange [%.10g:%.10g]\n"
		"set yrange [%.10g:%.10g]\n", logx ? " (log scale)" : "", ax.xmin, ax.xmax,
		ax.ymin, ax.ymax);
	if (logx)
		log_ticks(p->cmds, ax.xmin, ax.xmax);
	else
		fprintf(p->cmds, "set format x '%%.1s%%c'\n");
	exit_labels(r, &ax, p->data);
	fprintf(p->cmds, "plot ");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		int lc = i + 1;

		accuracy_data(m, i, p->data);
		if (m->ncurve)
			fprintf(p->cmds, "$c%d using 1:2 with lines lw 2 lc %d notitle, ", i, lc);
		fprintf(p->cmds, "$e%d using 1:2 with linespoints dt 3 pt 7 ps 1.3 lc %d title ", i,
			lc);
		ee_plot_quote(p->cmds, m->name);
		fprintf(p->cmds, ", $n%d using 1:2 with points pt 9 ps 1.8 lc %d notitle, ", i, lc);
	}
	fprintf(p->cmds, "$lab using 1:2:3:4 with labels tc variable font ',9' notitle, "
		"keyentry with points pt 7 ps 1.3 lc rgb 'gray40' title 'exit k (number: k)', "
		"keyentry with points pt 9 ps 1.8 lc rgb 'gray40' title 'ensemble of the exits', "
		"keyentry with lines lw 2 lc rgb 'gray40' title 'dynamic exit, threshold sweep'\n");
}

/* Length of the ".a.b" suffix that all of m's EMG layer names share (0 for one layer), so
 * that plot labels keep only the part that tells layers apart. */
static size_t common_suffix(const struct ee_report_model *m)
{
	const char *first = m->gates[0].layer;
	size_t len = strlen(first), best = len;
	int g;

	for (g = 1; g < m->ngates; g++) {
		const char *s = m->gates[g].layer;
		size_t n = strlen(s), k = 0;

		while (k < n && k < len && s[n - 1 - k] == first[len - 1 - k])
			k++;
		if (k >= n)
			return 0;
		best = k < best ? k : best;
	}
	while (best > 0 && first[len - best] != '.')
		best--;
	return best >= len ? 0 : best;
}

void ee_report_plot_gates(const struct ee_report *r, struct ee_plot *p)
{
	const struct ee_report_model *first = NULL;
	int i, g, shown = 0, nshow = 0, most = 0;
	size_t cut;

	for (i = 0; i < r->nmodels; i++) {
		nshow += r->models[i].ngates > 0;
		most = r->models[i].ngates > most ? r->models[i].ngates : most;
		if (!first && r->models[i].ngates)
			first = &r->models[i];
	}
	if (!first)
		return;
	if (p->width < 200 + 24 * most) /* room for every layer's label */
		p->width = 200 + 24 * most;
	cut = common_suffix(first);
	ee_plot_title(p, "Multi-scale ratio: share of open 5x5 gates per EMG layer (mean; bars: "
		      "one std over samples, clipped to 0-100 %%)");
	fprintf(p->cmds, "set ylabel 'open gates (%%)'\nset yrange [0:100]\n"
		"set xtics rotate by -45 font ',8' nomirror\nset grid ytics\nset key top right\n"
		"set xrange [0.5:%g]\nset xlabel 'EMG layer'", most + 0.5);
	if (cut) {
		fprintf(p->cmds, " . ' (names end in ' . ");
		ee_plot_quote(p->cmds, first->gates[0].layer + strlen(first->gates[0].layer) - cut);
		fprintf(p->cmds, " . ')'");
	}
	fprintf(p->cmds, "\nplot ");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		double off = nshow > 1 ? 0.1 * (shown - (nshow - 1) / 2.0) : 0;

		if (!m->ngates)
			continue;
		fprintf(p->data, "$g%d << EOD\n", i);
		for (g = 0; g < m->ngates; g++) /* bars clipped to 0..100 % */
			fprintf(p->data, "%d %.10g %.10g %.10g \"%.*s\"\n", g + 1,
				100 * m->gates[g].s.mean,
				fmax(0, 100 * (m->gates[g].s.mean - m->gates[g].s.std)),
				fmin(100, 100 * (m->gates[g].s.mean + m->gates[g].s.std)),
				(int)(strlen(m->gates[g].layer) - (m == first ? cut : 0)),
				m->gates[g].layer);
		fprintf(p->data, "EOD\n");
		fprintf(p->cmds, "%s$g%d using ($1%+.3f):2:3:4%s with yerrorlines pt 7 lw 2 lc %d "
			"title ", shown ? ", " : "", i, off, shown ? "" : ":xtic(5)", i + 1);
		ee_plot_quote(p->cmds, m->name);
		shown++;
	}
	fputc('\n', p->cmds);
}

void ee_report_plot_exits(const struct ee_report *r, const struct ee_report_model *m,
			  struct ee_plot *p)
{
	int j, k;

	fprintf(p->data, "$x << EOD\n");
	for (j = 0; j < m->ncurve; j++) {
		long cum = 0;

		fprintf(p->data, "%.10g 0", m->curve[j].threshold);
		for (k = 0; k <= m->nexits; k++) {
			cum += m->curve[j].exits[k];
			fprintf(p->data, " %.10g", 100.0 * cum / m->n);
		}
		fputc('\n', p->data);
	}
	fprintf(p->data, "EOD\n");
	fprintf(p->cmds, "set title ");
	ee_plot_quote(p->cmds, m->name);
	fprintf(p->cmds, " . ': where samples leave, by threshold'\nset xlabel 'threshold (%s)'\n"
		"set ylabel 'samples (%%, stacked)'\nset yrange [0:100]\nset key outside right\n"
		"set style fill solid 0.7\nplot ", ee_policy_name(r->policy));
	for (k = 0; k <= m->nexits; k++) {
		fprintf(p->cmds, "$x using 1:%d:%d with filledcurves lc %d title ", k + 2, k + 3, k + 1);
		if (k < m->nexits)
			fprintf(p->cmds, "'exit %d', ", k + 1);
		else
			fprintf(p->cmds, "'no exit confident: %s'\n", ee_fallback_name(r->fallback));
	}
}

int ee_report_plot_layers(const struct ee_report_model *m, struct ee_plot *p)
{
	struct ee_layer_time *l = ee_report_layer_times_new(m);
	int points = l ? ee_layers_plot(p, l, m->nlayers, m->name, m->batch, m->threads) : 0;

	free(l);
	return points;
}
