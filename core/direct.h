/*
 * direct.h - dense convolutions with few channels, computed directly.
 *
 * When channel counts are small (ResNet-20's 16 and 32, EMGNet's MLModules), a
 * general GEMM spends more time building and packing its operands (im2col)
 * than multiplying. This kernel reads the input planes in place instead: with
 * the input zero-padded and laid out at the padded width wp, output pixel q
 * (row-major at width wp) of a stride-1 convolution is
 *
 *     y[o][q] = bias[o] + sum over input channels i and taps t of
 *               w[o][i][t] * x[i][q + off[t]]          off[t] = dy * wp + dx
 *
 * so every tap is a shifted contiguous read. It keeps 4 output channels x 16
 * pixels in registers over all cin * taps terms and stores each pixel once. A
 * 1x1 convolution is the case of one tap at offset 0 on the unpadded input.
 */
#ifndef EE_DIRECT_H
#define EE_DIRECT_H

#include <stdbool.h>
#include <stddef.h>

#define EE_DIRECT_MAX_TAPS 25

/* Whether the direct kernel is the better choice: stride 1, one group, kernel <= 5x5,
 * and few enough input terms (cin * kh * kw) that the input planes stay in cache. */
bool ee_direct_fits(int cin, int cout, int kh, int kw, int stride, int groups);

/*
 * y[o][q] for q < len, o < cout: w [cout][cin][taps], bias [cout] or NULL, off[taps]
 * offsets into each input plane, x planes xstride floats apart, y planes ystride
 * floats apart. Reads x[i][q + off[t]] only.
 */
void ee_direct_conv(const float *w, const float *bias, const int *off, int taps, const float *x,
		    size_t xstride, int cin, int cout, size_t len, float *y, size_t ystride);

#endif
