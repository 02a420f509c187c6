/*
 * imgprep.h - torchvision's evaluation transforms on a decoded image, exactly:
 *
 *     Resize(S)             the shorter side to S, the longer to int(S * long / short),
 *                           with Pillow's filter (core/resample.c); skipped when the size
 *                           does not change
 *     CenterCrop((H, W))    an image smaller than the crop is first zero-padded by
 *                           (diff // 2, (diff + 1) // 2) on each axis; then the offset is
 *                           round((size - crop) / 2), Python's round (half to even)
 *     PILToTensor           uint8 [C][H][W]; ToTensor and Normalize are the dataset's
 *                           float step (plugins/datasets.c)
 *
 * S defaults to round(H / 0.875) (256 for 224, the ImageNet convention); no resize
 * crops or pads only. Only the crop's window of the resized image is computed.
 */
#ifndef EE_IMGPREP_H
#define EE_IMGPREP_H

#include <stdint.h>

#include "core/resample.h"
#include "core/status.h"

#define EE_IMGPREP_NO_RESIZE (-1)

/* Largest side of a resized image. */
#define EE_IMGPREP_MAX_SIDE (1 << 16)

struct ee_imgprep {
	int resize;            /* S; 0: round(H / 0.875); EE_IMGPREP_NO_RESIZE: crop/pad only */
	enum ee_interp interp; /* Resize's filter */
};

/* S for a crop of height h: p->resize, or the default; EE_IMGPREP_NO_RESIZE as is. */
int ee_imgprep_short_side(const struct ee_imgprep *p, int h);

/*
 * Resizes and centre-crops px ([h][w][c] interleaved, as decoded) into dst, a planar
 * [c][out_h][out_w] uint8 image. EE_ERR_INPUT naming `name` if the resize would exceed
 * EE_IMGPREP_MAX_SIDE, EE_ERR_NOMEM.
 */
int ee_imgprep_apply(const uint8_t *px, int w, int h, int c, int out_h, int out_w,
		     const struct ee_imgprep *p, const char *name, uint8_t *dst,
		     struct ee_err *err);

#endif
