/*
 * dwconv.h - direct depthwise convolution of one plane, register-blocked.
 *
 * A depthwise conv reads one input plane per output plane, so it is bound by
 * how often it touches memory, not by arithmetic. The plane is first copied
 * into a zero-bordered scratch (ee_pad_plane), which makes every tap branch-free;
 * then each output row is computed in blocks of 16 columns held in registers
 * while all the taps are summed, and written once. The taps are a list, so the
 * same kernel runs a full k x k kernel, the centre 3x3 of a 5x5, or only its
 * outer ring (EMGNet's gated conv).
 */
#ifndef EE_DWCONV_H
#define EE_DWCONV_H

#include <stdbool.h>
#include <stddef.h>

#define EE_MAX_TAPS 49

struct ee_taps {
	int n;
	int off[EE_MAX_TAPS]; /* dy * (padded width) + dx */
	float w[EE_MAX_TAPS];
};

/* xp [h + 2 pad][w + 2 pad] = x [h][w] with pad zero rows and columns around it. */
void ee_pad_plane(const float *x, int h, int w, int pad, float *xp);
/* The same into a scratch that holds planes of one geometry (h, w, pad) in turn: the
 * zero border is written only the first time (*bordered false; it becomes true). */
void ee_pad_reuse(const float *x, int h, int w, int pad, float *xp, bool *bordered);
/* Floats ee_pad_plane writes. */
static inline size_t ee_pad_floats(int h, int w, int pad)
{
	return (size_t)(h + 2 * pad) * (w + 2 * pad);
}

/* taps = the kernel k (kh x kw, row stride ldk) entries (dy, dx) for which pick(dy, dx) is
 * true (NULL: all), against a padded plane of width wp. */
void ee_taps_from_kernel(struct ee_taps *t, const float *k, int kh, int kw, int ldk, int wp,
			 bool (*pick)(int dy, int dx));

/* y[oy][ox] = (accumulate ? y[oy][ox] : 0) + sum over taps of w * xp[oy*stride*wp + ox*stride
 * + off], for the oh x ow output plane. */
void ee_dw_taps(const float *xp, int wp, const struct ee_taps *t, int stride, float *y, int oh,
		int ow, bool accumulate);

/* EMGNet's 5x5 depthwise kernel k[25] at stride 1: its centre 3x3 taps into y, or (ring)
 * its 16 outer taps added to y. */
void ee_dw_emg5(const float *xp, int wp, const float *k, bool ring, float *y, int oh, int ow);

#endif
