/*
 * pointwise.h - 1x1 convolutions with few channels, register-blocked.
 *
 * out[o][p] = act(bias[o] + sum_i w[o][i] * x[i][p]) for one sample. When the
 * channel counts are small (EMGNet's MLModules: 8..128), a general GEMM spends
 * more time packing its operands than multiplying; this kernel keeps 4 output
 * channels x 16 pixels in registers, streams the input rows once per 4 output
 * channels, and applies bias and activation before the single store.
 */
#ifndef EE_POINTWISE_H
#define EE_POINTWISE_H

#include <stdbool.h>
#include <stddef.h>

#include "layer.h"

/* Whether the direct kernel is the better choice for these channel counts. */
bool ee_pointwise_fits(int cin, int cout);

/* w [cout][cin], bias [cout] or NULL, x [cin][plane] (row stride plane), y [cout][plane]. */
void ee_pointwise(const float *w, const float *bias, enum ee_act act, const float *x, int cin,
		  int cout, size_t plane, float *y);

#endif
