/*
 * resample.h - Pillow's image resizing, reproduced bit for bit on 8-bit images.
 *
 * Bilinear and bicubic are Pillow's separable convolution (Resample.c): filter weights
 * widened by the scale when shrinking (antialiasing), normalised in double, turned into
 * 22-bit fixed point, and the horizontal pass rounded and clipped to uint8 before the
 * vertical one runs; an axis whose size does not change is not filtered. Nearest is
 * Pillow's affine scaling (Geometry.c), which accumulates the source step in double.
 * torchvision's Resize on a PIL image is Pillow's resize, so these are its pixels too.
 *
 * Images are interleaved uint8: [h][w][c]. Only a window of the resized image is
 * computed (the one a centre crop keeps); its pixels equal those of the whole resize.
 */
#ifndef EE_RESAMPLE_H
#define EE_RESAMPLE_H

#include <stdint.h>

#include "core/status.h"

enum ee_interp {
	EE_INTERP_BILINEAR, /* Pillow's BILINEAR (torchvision's default) */
	EE_INTERP_BICUBIC,  /* Pillow's BICUBIC, a = -0.5 */
	EE_INTERP_NEAREST,  /* Pillow's NEAREST */
};

/* "bilinear", "bicubic", "nearest": the interpolation, or -1 for another name. */
int ee_interp_parse(const char *name);
const char *ee_interp_name(enum ee_interp interp);

/* A rectangle of the resized image: columns [x, x + w), rows [y, y + h). */
struct ee_window {
	int x, y, w, h;
};

/*
 * Resizes src ([sh][sw][c], 1 <= c <= 4) to dw x dh and writes the window win of the
 * result into dst ([win.h][win.w][c]). The window must lie inside dw x dh. Scratch
 * (coefficients, the horizontal pass) is allocated per call. EE_ERR_USAGE for empty
 * or out-of-range sizes, EE_ERR_NOMEM.
 */
int ee_resample(const uint8_t *src, int sw, int sh, int c, int dw, int dh, struct ee_window win,
		enum ee_interp interp, uint8_t *dst, struct ee_err *err);

#endif
