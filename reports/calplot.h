/*
 * calplot.h - the reliability diagram of one model's calibration (calibration.h)
 * as a gnuplot script for plot.h.
 *
 * One panel per exit, side by side: accuracy against confidence per equal-width bin
 * (boxes), the diagonal a calibrated exit would follow, the samples per bin on the
 * right axis (log scale), and with a validation fit the accuracy per bin after
 * temperature scaling; each panel's title gives the exit's ECE (and the temperature).
 */
#ifndef EE_CALPLOT_H
#define EE_CALPLOT_H

#include "calibration.h"
#include "plot.h"

void ee_calplot_reliability(struct ee_plot *p, const char *model,
			    const struct ee_model_calibration *mc);

#endif
