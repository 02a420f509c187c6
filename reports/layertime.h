/*
 * layertime.h - time against MACs per layer: which layers are slower than their
 * MACs say, and the counter figures shown next to them. One implementation for
 * `eeprof run --plot` (layers measured by its counters, plugins/counters.h) and
 * `eeprof report` (the layers of a trace's /timing, trace.h).
 *
 * A layer is described per sample, so that passes of any length compare:
 *
 *     struct ee_layer_time l[n];   // name, exit region, MACs and seconds per sample
 *     int pick[8], k = ee_layers_slowest(l, n, pick, 8);  // l[pick[0]]: the slowest
 *     double model = ee_layers_gflops(l, n);              // the model's average rate
 *     struct ee_plot p;
 *     ee_plot_init(&p, &err);
 *     if (ee_layers_plot(&p, l, n, "resnet", 64, 1) > 0)
 *             ee_plot_save(&p, NULL, "layers.png", "layers.svg", &err);
 *     ee_plot_release(&p);
 */
#ifndef EE_LAYERTIME_H
#define EE_LAYERTIME_H

#include <stdbool.h>

#include "plot.h"

struct ee_layer_time {
	const char *name;  /* borrowed */
	int exit;          /* region, 1-based (the colour of its point) */
	double macs;       /* executed MACs per sample */
	double seconds;    /* wall time per sample */
};

/* The layers with MACs and time (the points of the plot). */
int ee_layers_points(const struct ee_layer_time *l, int n);

/* Achieved GFLOP/s (2 x MACs per second) of the n layers together; NAN without time. */
double ee_layers_gflops(const struct ee_layer_time *l, int n);

/* Up to max layers with MACs that take at least 1 % of the time, the lowest GFLOP/s
 * first, into pick[max]; returns how many. */
int ee_layers_slowest(const struct ee_layer_time *l, int n, int *pick, int max);

/*
 * The plot script (plot.h) of time against MACs per layer, log-log: a point per layer
 * with MACs and time (colour: exit region), the model's average rate as a line (layers
 * above it are slower than their MACs say), the slowest 8 named. model, batch and
 * threads go into the title. Returns the points drawn: with none gnuplot has nothing
 * to scale the axes by, and the caller should not render it.
 */
int ee_layers_plot(struct ee_plot *p, const struct ee_layer_time *l, int n, const char *model,
		   int batch, int threads);

/* Instructions per cycle from events names[k] counted v[k] times: PAPI_TOT_INS /
 * PAPI_TOT_CYC, NAN without both (or without cycles). */
double ee_events_ipc(char *const *names, const double *v, int n);

/* A cache-miss event: PAPI's PAPI_L<n>_{DCM,ICM,TCM,LDM,STM} presets and any name that
 * says MISS (native events such as perf::CACHE-MISSES), in any case. */
bool ee_event_is_miss(const char *name);

#endif
