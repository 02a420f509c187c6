/*
 * winograd.h - 3x3, stride-1 convolutions by Winograd's minimal filtering F(2x2, 3x3).
 *
 * Each 2x2 block of output pixels ("tile") is computed from the 4x4 input patch
 * under it with 16 multiplications per input channel instead of 36 (Lavin and
 * Gray, "Fast Algorithms for Convolutional Neural Networks", 2015):
 *
 *     Y = A^T [ (G g G^T) .* (B^T d B) ] A
 *
 * with g the 3x3 filter, d the 4x4 patch, and the 16 products of all channels
 * summed as 16 matrix products U[xi] (cout x cin) * V[xi] (cin x tiles). The
 * transforms only add and halve, so the result differs from the direct sum by
 * float rounding only. MACs are still counted as the direct convolution's
 * (README.md: the count is of the layer, not of an algorithm).
 */
#ifndef EE_WINOGRAD_H
#define EE_WINOGRAD_H

#include <stdbool.h>
#include <stddef.h>

#include "layer.h"

/* Whether a conv is worth it: 3x3, stride 1, one group, padding <= 2, enough channels. */
bool ee_wino_eligible(int kh, int kw, int stride, int groups, int pad, int cin, int cout);
/* U [16][cout][cin] from weights [cout][cin][3][3]. */
void ee_wino_weights(const float *w, int cin, int cout, float *u);
static inline size_t ee_wino_weight_floats(int cin, int cout)
{
	return (size_t)16 * cin * cout;
}

/* Output tiles of one sample. */
static inline int ee_wino_tiles(int oh, int ow)
{
	return ((oh + 1) / 2) * ((ow + 1) / 2);
}
/* Scratch floats for `tiles` tiles of cin -> cout channels. */
static inline size_t ee_wino_workspace(int cin, int cout, int tiles)
{
	return (size_t)16 * tiles * ((size_t)cin + cout);
}

/*
 * out = act(conv(in) + bias) for the samples of in (all of them: one batch of tiles),
 * u from ee_wino_weights, bias [cout] or NULL, pad the conv's padding. The loops and
 * products are split among up to `threads` threads of the team (threads.h; the padded
 * planes at the end of work are one per thread).
 */
void ee_wino_conv(const float *u, const float *bias, enum ee_act act, const struct ee_tensor *in,
		  struct ee_tensor *out, int pad, float *work, int threads);

#endif
