/* layertime.c - time against MACs per layer: slowest layers, plot, counters; see layertime.h. */
#include "layertime.h"
#include "labels.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NAMED 8    /* slowest layers considered for a name in the plot */
#define LABELLED 5 /* of them, named at most (those whose label fits) */

/* A point of the plot: MACs and time that a log scale can show. */
static bool has_point(const struct ee_layer_time *l)
{
	return l->macs > 0 && l->seconds > 0 && isfinite(l->macs) && isfinite(l->seconds);
}

int ee_layers_points(const struct ee_layer_time *l, int n)
{
	int i, points = 0;

	for (i = 0; i < n; i++)
		points += has_point(&l[i]);
	return points;
}

double ee_layers_gflops(const struct ee_layer_time *l, int n)
{
	double macs = 0, sec = 0;
	int i;

	for (i = 0; i < n; i++) {
		if (isfinite(l[i].macs) && isfinite(l[i].seconds)) {
			macs += l[i].macs;
			sec += l[i].seconds;
		}
	}
	return sec > 0 ? 2e-9 * macs / sec : NAN;
}

int ee_layers_slowest(const struct ee_layer_time *l, int n, int *pick, int max)
{
	double total = 0;
	int i, j, count = 0;

	for (i = 0; i < n; i++)
		if (isfinite(l[i].seconds))
			total += l[i].seconds;
	for (i = 0; i < n; i++) {
		double g;

		if (!has_point(&l[i]) || l[i].seconds < 0.01 * total)
			continue;
		g = l[i].macs / l[i].seconds;
		for (j = count < max ? count++ : max;
		     j > 0 && l[pick[j - 1]].macs / l[pick[j - 1]].seconds > g; j--)
			if (j < max)
				pick[j] = pick[j - 1];
		if (j < max)
			pick[j] = i;
	}
	return count;
}

/* The axes' ranges (log) around the points, for the label placer. */
static void axes(const struct ee_layer_time *l, int n, const struct ee_plot *p,
		 struct ee_label_axes *ax)
{
	double x0 = INFINITY, x1 = 0, y0 = INFINITY, y1 = 0;
	int i;

	for (i = 0; i < n; i++)
		if (has_point(&l[i])) {
			x0 = fmin(x0, l[i].macs);
			x1 = fmax(x1, l[i].macs);
			y0 = fmin(y0, 1e6 * l[i].seconds);
			y1 = fmax(y1, 1e6 * l[i].seconds);
		}
	ax->xmin = x0 / 2;
	ax->xmax = x1 * 2;
	ax->ymin = y0 / 2;
	ax->ymax = y1 * 2;
	ax->logx = ax->logy = true;
	ax->width = p->width;
	ax->height = p->height;
	ax->font_size = p->font_size;
}

int ee_layers_plot(struct ee_plot *p, const struct ee_layer_time *l, int n, const char *model,
		   int batch, int threads)
{
	double g = ee_layers_gflops(l, n), pts[256][2];
	int pick[NAMED], named = ee_layers_slowest(l, n, pick, NAMED), i, k, np = 0, regions = 0;
	struct ee_label lab[NAMED];
	struct ee_label_axes ax;

	if (!ee_layers_points(l, n))
		return 0;
	for (i = 0; i < n; i++)
		if (has_point(&l[i])) {
			regions = l[i].exit > regions ? l[i].exit : regions;
			if (np < 256) {
				pts[np][0] = l[i].macs;
				pts[np++][1] = 1e6 * l[i].seconds;
			}
		}
	for (k = 1; k <= regions; k++) { /* one series per exit region: a key entry each */
		fprintf(p->data, "$r%d << EOD\n", k);
		for (i = 0; i < n; i++)
			if (has_point(&l[i]) && l[i].exit == k)
				fprintf(p->data, "%.10g %.10g\n", l[i].macs, 1e6 * l[i].seconds);
		fprintf(p->data, "EOD\n");
	}
	axes(l, n, p, &ax);
	ax.font_size = p->font_size > 8 ? p->font_size - 2 : 6; /* the names' font, smaller */
	for (i = 0; i < named; i++) {
		lab[i].x = l[pick[i]].macs;
		lab[i].y = 1e6 * l[pick[i]].seconds;
		lab[i].text = l[pick[i]].name;
	}
	ee_labels_place(lab, named, (const double(*)[2])pts, np, &ax, LABELLED);
	fprintf(p->data, "$slow << EOD\n"); /* the name's place, then its point (ringed) */
	for (i = 0; i < named; i++)
		if (lab[i].shown)
			fprintf(p->data, "%.10g %.10g \"%s\" %.10g %.10g\n", lab[i].lx, lab[i].ly,
				lab[i].text, lab[i].x, lab[i].y);
	fprintf(p->data, "EOD\n");
	ee_plot_title(p, "Time against MACs per layer: %s (batch %d, %d thread%s)", model, batch,
		      threads, threads == 1 ? "" : "s");
	fprintf(p->cmds, "set logscale xy\nset xrange [%.10g:%.10g]\nset yrange [%.10g:%.10g]\n"
		"set format x '%%.0s%%c'\nset format y '%%.0s%%c'\n"
		"set xlabel 'executed MACs per sample (log scale)'\n"
		"set ylabel 'time per sample (µs, log scale)'\nset grid\n"
		"set key top left box opaque samplen 1\nplot ", ax.xmin, ax.xmax, ax.ymin, ax.ymax);
	for (k = 1; k <= regions; k++)
		fprintf(p->cmds, "$r%d using 1:2 with points pt 7 lc %d title 'layers of exit %d''s "
			"region', ", k, k, k);
	fprintf(p->cmds, "2 * x / (%.10g * 1e3) with lines dt 2 lc rgb 'black' title "
		"'model average, %.2f GFLOP/s (layers above: slower than their MACs say)'", g, g);
	if (named)
		fprintf(p->cmds, ", $slow using 4:5 with points pt 6 ps 1.6 lc rgb 'black' notitle, "
			"$slow using 1:2:3 with labels font ',%d' notitle", ax.font_size);
	fputc('\n', p->cmds);
	return ee_layers_points(l, n);
}

double ee_events_ipc(char *const *names, const double *v, int n)
{
	double ins = NAN, cyc = NAN;
	int k;

	for (k = 0; k < n; k++) {
		if (!strcmp(names[k], "PAPI_TOT_INS"))
			ins = v[k];
		else if (!strcmp(names[k], "PAPI_TOT_CYC"))
			cyc = v[k];
	}
	return cyc > 0 ? ins / cyc : NAN;
}

/* s holds word (upper case) in any case. */
static bool holds_nocase(const char *s, const char *word)
{
	size_t i, k, n = strlen(word);

	for (i = 0; s[i]; i++) {
		for (k = 0; k < n && toupper((unsigned char)s[i + k]) == word[k]; k++)
			;
		if (k == n)
			return true;
	}
	return false;
}

bool ee_event_is_miss(const char *name)
{
	static const char *const kinds[] = { "DCM", "ICM", "TCM", "LDM", "STM" };
	size_t i;

	if (holds_nocase(name, "MISS"))
		return true;
	if (strncmp(name, "PAPI_L", 6) || !isdigit((unsigned char)name[6]) || name[7] != '_')
		return false;
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (!strcmp(name + 8, kinds[i]))
			return true;
	return false;
}
