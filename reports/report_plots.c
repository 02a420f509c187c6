/*
 * report_plots.c - the gnuplot scripts (data and commands, plot.h) of a report's
 * plots: accuracy against MACs, open-gate ratio per EMG layer, exit distribution per
 * threshold, time against MACs per layer; see report.h.
 */
#include "report.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* The MAC unit for an axis whose largest value is v: scale and name. */
static double mac_unit(double v, const char **name)
{
	static const struct { double scale; const char *name; } units[] = {
		{ 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
	};
	size_t i;

	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (v >= units[i].scale) {
			*name = units[i].name;
			return units[i].scale;
		}
	}
	*name = "";
	return 1;
}

static double largest_macs(const struct ee_report *r)
{
	double v = 0;
	int i, j;

	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];

		for (j = 0; j < m->ncurve; j++)
			v = fmax(v, m->curve[j].macs_mean);
		for (j = 0; j < m->nexits; j++)
			v = fmax(v, m->stats.macs_mean[j]);
		v = fmax(v, m->stats.ensemble_macs);
	}
	return v;
}

/* Datablocks $cI (sweep), $eI (exits, with their number) and $nI (ensemble) of model i. */
static void accuracy_data(const struct ee_report_model *m, int i, double scale, FILE *f)
{
	int j;

	fprintf(f, "$c%d << EOD\n", i);
	for (j = 0; j < m->ncurve; j++)
		if (isfinite(m->curve[j].accuracy))
			fprintf(f, "%.10g %.10g\n", m->curve[j].macs_mean / scale,
				100 * m->curve[j].accuracy);
	fprintf(f, "EOD\n$e%d << EOD\n", i);
	for (j = 0; j < m->nexits; j++)
		fprintf(f, "%.10g %.10g %d\n", m->stats.macs_mean[j] / scale,
			100 * m->stats.accuracy[j], j + 1);
	fprintf(f, "EOD\n$n%d << EOD\n%.10g %.10g\nEOD\n", i, m->stats.ensemble_macs / scale,
		100 * m->stats.ensemble_accuracy);
}

void ee_report_plot_accuracy(const struct ee_report *r, struct ee_plot *p)
{
	const char *unit;
	double scale = mac_unit(largest_macs(r), &unit);
	int i;

	fprintf(p->cmds, "set title 'Accuracy vs MACs: exits (numbered), ensemble (triangle), "
		"dynamic exit sweep (%s, fallback %s)'\n", ee_policy_name(r->policy),
		ee_fallback_name(r->fallback));
	fprintf(p->cmds, "set xlabel 'mean MACs per sample%s%s%s'\nset ylabel 'accuracy (%%)'\n"
		"set grid\nset key bottom right\nset offsets graph 0.05, graph 0.05, graph 0.05, "
		"graph 0.05\nplot ", unit[0] ? " (" : "", unit, unit[0] ? ")" : "");
	for (i = 0; i < r->nmodels; i++) {
		const struct ee_report_model *m = &r->models[i];
		int lc = i + 1;

		accuracy_data(m, i, scale, p->data);
		if (m->ncurve) {
			fprintf(p->cmds, "$c%d using 1:2 with linespoints pt 7 ps 0.4 lw 2 lc %d title ", i, lc);
			ee_plot_quote(p->cmds, m->name);
			fprintf(p->cmds, ", ");
		}
		fprintf(p->cmds, "$e%d using 1:2 with points pt 7 ps 1.5 lc %d ", i, lc);
		if (m->ncurve) {
			fprintf(p->cmds, "notitle");
		} else {
			fprintf(p->cmds, "title ");
			ee_plot_quote(p->cmds, m->name);
		}
		fprintf(p->cmds, ", $e%d using 1:2:3 with labels offset char 0.8,0.8 tc lt %d notitle, "
			"$n%d using 1:2 with points pt 9 ps 2 lc %d notitle%s", i, lc, i, lc,
			i + 1 < r->nmodels ? ", " : "\n");
	}
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
	fprintf(p->cmds, "set title 'Multi-scale ratio: share of open 5x5 gates per EMG layer "
		"(mean, bars: std over samples)'\nset ylabel 'open gates (%%)'\nset yrange [0:100]\n"
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
		for (g = 0; g < m->ngates; g++)
			fprintf(p->data, "%d %.10g %.10g \"%.*s\"\n", g + 1, 100 * m->gates[g].s.mean,
				100 * m->gates[g].s.std,
				(int)(strlen(m->gates[g].layer) - (m == first ? cut : 0)),
				m->gates[g].layer);
		fprintf(p->data, "EOD\n");
		fprintf(p->cmds, "%s$g%d using ($1%+.3f):2:3%s with yerrorlines pt 7 lw 2 lc %d title ",
			shown ? ", " : "", i, off, shown ? "" : ":xtic(4)", i + 1);
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
