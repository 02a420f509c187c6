/*
 * image.h - image files decoded as Pillow decodes them: Image.open(f).convert(mode).
 *
 * JPEG goes through libjpeg-turbo and PNG through libpng, with Pillow's settings, and
 * the result is converted to 'RGB' (3 channels) or 'L' (1) with Pillow's integer
 * formulas, so that every pixel equals PIL's (tests/parity/images.py checks it):
 *
 *   JPEG   libjpeg's defaults (islow IDCT, fancy upsampling); grey -> L, YCbCr/RGB -> RGB,
 *          CMYK/YCCK -> CMYK read inverted (Pillow assumes Adobe's convention).
 *   PNG    1/2/4-bit grey scaled to 0..255, palettes looked up (indices past the palette
 *          are grey i, as in Pillow), 16-bit colour keeps the high byte, 16-bit grey
 *          (Pillow's mode I) is clipped to 255, alpha and tRNS dropped, gamma ignored.
 *   to RGB grey repeated; CMYK: c' = nk - c * nk / 255 (rounded as Pillow), nk = 255 - k
 *   to L   (19595 r + 38470 g + 7471 b + 32768) >> 16 (CMYK through RGB)
 *
 * The format is recognised from the first bytes (as Pillow does), not the file name. A
 * truncated JPEG or PNG is an error (Pillow raises "image file is truncated"); libjpeg's
 * other warnings are not, as in Pillow.
 */
#ifndef EE_IMAGE_H
#define EE_IMAGE_H

#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* Largest image decoded, in pixels: Pillow's decompression-bomb error limit. */
#define EE_IMAGE_MAX_PIXELS 178956970L

/* Largest image file read, in bytes. */
#define EE_IMAGE_MAX_FILE ((size_t)1 << 30)

/* A decoded image. */
struct ee_image {
	int w, h, c;  /* width, height, channels (1 or 3) */
	uint8_t *px;  /* [h][w][c] */
};

/*
 * Decodes the JPEG or PNG held in buf[0..len) into img as Pillow's
 * Image.open(f).convert('L' if channels == 1 else 'RGB'). name is the file name for
 * messages: "image '<name>': <problem>", EE_ERR_INPUT for anything undecodable (not an
 * image, corrupt, truncated, too large), EE_ERR_NOMEM. On failure img holds nothing.
 */
int ee_image_decode(struct ee_image *img, const uint8_t *buf, size_t len, int channels,
		    const char *name, struct ee_err *err);

/* Reads the file at path whole and decodes it (ee_image_decode); a file that cannot be
 * read is EE_ERR_INPUT naming it. */
int ee_image_load(struct ee_image *img, const char *path, int channels, struct ee_err *err);

void ee_image_release(struct ee_image *img);

/* ---- for the decoders (plugins/image_*.c) ---- */

/* What a decoder hands back before the conversion: Pillow's mode of the file. */
enum ee_image_mode {
	EE_IMAGE_L,    /* 1 channel */
	EE_IMAGE_LA,   /* 2: grey, alpha */
	EE_IMAGE_RGB,  /* 3 */
	EE_IMAGE_RGBA, /* 4 */
	EE_IMAGE_CMYK, /* 4, as Pillow holds it (after the Adobe inversion) */
};

/* Channels of a mode. */
int ee_image_mode_channels(enum ee_image_mode mode);

/* Checks w x h against EE_IMAGE_MAX_PIXELS and allocates img->px for w x h x c. */
int ee_image_alloc(struct ee_image *img, int w, int h, int c, const char *name,
		   struct ee_err *err);

/* Decoders: the file's own pixels into img (img->c = the mode's channels). */
int ee_jpeg_decode(struct ee_image *img, enum ee_image_mode *mode, const uint8_t *buf,
		   size_t len, const char *name, struct ee_err *err);
int ee_png_decode(struct ee_image *img, enum ee_image_mode *mode, const uint8_t *buf,
		  size_t len, const char *name, struct ee_err *err);

#endif
