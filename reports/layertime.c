/* layertime.c - time against MACs per layer: slowest layers, plot, counters; see layertime.h. */
#include "layertime.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define NAMED 8 /* slowest layers named in the plot */

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

int ee_layers_plot(struct ee_plot *p, const struct ee_layer_time *l, int n, const char *model,
		   int batch, int threads)
{
	double g = ee_layers_gflops(l, n);
	int pick[NAMED], named = ee_layers_slowest(l, n, pick, NAMED), i;

	fprintf(p->data, "$layers << EOD\n");
	for (i = 0; i < n; i++)
		if (has_point(&l[i]))
			fprintf(p->data, "%.10g %.10g %d\n", l[i].macs, 1e6 * l[i].seconds,
				l[i].exit);
	fprintf(p->data, "EOD\n$slow << EOD\n");
	for (i = 0; i < named; i++) {
		fprintf(p->data, "%.10g %.10g \"%s\"\n", l[pick[i]].macs, 1e6 * l[pick[i]].seconds,
			l[pick[i]].name);
	}
	fprintf(p->data, "EOD\n");
	fprintf(p->cmds, "set title 'Time against MACs per layer: ' . ");
	ee_plot_quote(p->cmds, model);
	fprintf(p->cmds, " . ' (every exit, batch %d, threads %d)'\nset logscale xy\n"
		"set xlabel 'MACs per sample'\nset ylabel 'time per sample (us)'\nset grid\n"
		"set key bottom right\nset offsets graph 0.02, graph 0.02, graph 0.05, graph 0.05\n"
		"plot $layers using 1:2:3 with points pt 7 lc variable title 'layer (colour: "
		"exit region)', 2 * x / (%.10g * 1e3) with lines lc rgb 'black' title "
		"'the model average, %.2f GFLOP/s: layers above it are slower than their MACs say'",
		batch, threads, g, g);
	if (named)
		fprintf(p->cmds, ", $slow using 1:2:3 with labels left offset 1,0 font ',8' notitle");
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
