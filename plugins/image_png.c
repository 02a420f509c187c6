/*
 * image_png.c - PNG through libpng, giving the pixels of Pillow's PngImagePlugin modes:
 * 1/2/4-bit grey scaled to 8 bits (Pillow's "1", "L;2", "L;4"), 16-bit samples cut to
 * their high byte ("RGB;16B", "RGBA;16B", "LA;16B"), except 16-bit grey, which Pillow
 * opens as mode I and clips to 255 when converting; palettes looked up here (with
 * Pillow's grey ramp past the palette's end); tRNS, gamma and colour profiles ignored.
 * libpng's errors come back through longjmp with its message.
 */
#include <png.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/image.h"

struct png_src {
	const uint8_t *buf;
	size_t len, at;
	char msg[160]; /* libpng's error message */
};

static void on_error(png_structp png, png_const_charp msg)
{
	struct png_src *s = png_get_error_ptr(png);

	snprintf(s->msg, sizeof(s->msg), "%s", msg);
	png_longjmp(png, 1);
}

static void on_warning(png_structp png, png_const_charp msg)
{
	(void)png;
	(void)msg;
}

static void on_read(png_structp png, png_bytep out, size_t n)
{
	struct png_src *s = png_get_io_ptr(png);

	if (n > s->len - s->at)
		png_error(png, "truncated PNG data");
	memcpy(out, s->buf + s->at, n);
	s->at += n;
}

/* Pillow's palette: the PNG's entries, then grey i for index i. */
static void palette(png_structp png, png_infop info, uint8_t rgb[256][3])
{
	png_colorp plte = NULL;
	int n = 0, i;

	for (i = 0; i < 256; i++)
		rgb[i][0] = rgb[i][1] = rgb[i][2] = (uint8_t)i;
	if (png_get_PLTE(png, info, &plte, &n) & PNG_INFO_PLTE)
		for (i = 0; i < n && i < 256; i++) {
			rgb[i][0] = plte[i].red;
			rgb[i][1] = plte[i].green;
			rgb[i][2] = plte[i].blue;
		}
}

/* The mode Pillow gives a colour type (after the transformations set in decode()). */
static enum ee_image_mode png_mode(int color_type)
{
	switch (color_type) {
	case PNG_COLOR_TYPE_GRAY:
		return EE_IMAGE_L;
	case PNG_COLOR_TYPE_GRAY_ALPHA:
		return EE_IMAGE_LA;
	case PNG_COLOR_TYPE_RGB_ALPHA:
		return EE_IMAGE_RGBA;
	default: /* RGB, and palettes once looked up */
		return EE_IMAGE_RGB;
	}
}

/*
 * Reads the rows into raw (bytes per row: rowbytes), then turns them into img's pixels:
 * 16-bit grey clipped, palette indices looked up, anything else copied.
 */
static void unpack(png_structp png, png_infop info, struct ee_image *img, const uint8_t *raw,
		   size_t rowbytes, int color_type, int depth)
{
	uint8_t rgb[256][3];
	size_t i, n = (size_t)img->w * img->h;

	if (color_type == PNG_COLOR_TYPE_PALETTE) {
		palette(png, info, rgb);
		for (i = 0; i < n; i++)
			memcpy(img->px + i * 3, rgb[raw[(i / img->w) * rowbytes + i % img->w]], 3);
	} else if (color_type == PNG_COLOR_TYPE_GRAY && depth == 16) {
		for (i = 0; i < n; i++) {
			const uint8_t *p = raw + (i / img->w) * rowbytes + (i % img->w) * 2;

			img->px[i] = p[0] ? 255 : p[1];
		}
	} else {
		for (i = 0; i < (size_t)img->h; i++)
			memcpy(img->px + i * img->w * img->c, raw + i * rowbytes,
			       (size_t)img->w * img->c);
	}
}

static int decode(png_structp png, png_infop info, struct ee_image *img,
		  enum ee_image_mode *mode, uint8_t **raw, png_bytep **rows, const char *name,
		  struct ee_err *err)
{
	png_uint_32 w, h, y;
	int depth, color_type, rc;
	size_t rowbytes;

	png_read_info(png, info);
	png_get_IHDR(png, info, &w, &h, &depth, &color_type, NULL, NULL, NULL);
	if (w > (png_uint_32)EE_IMAGE_MAX_PIXELS || h > (png_uint_32)EE_IMAGE_MAX_PIXELS)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': PNG of %ux%u is more than %ld "
				  "pixels", name, (unsigned)w, (unsigned)h, EE_IMAGE_MAX_PIXELS);
	if (color_type == PNG_COLOR_TYPE_PALETTE)
		png_set_packing(png);
	else if (color_type == PNG_COLOR_TYPE_GRAY && depth < 8)
		png_set_expand_gray_1_2_4_to_8(png);
	if (depth == 16 && color_type != PNG_COLOR_TYPE_GRAY)
		png_set_strip_16(png);
	png_set_interlace_handling(png);
	png_read_update_info(png, info);
	*mode = png_mode(color_type);
	rc = ee_image_alloc(img, (int)w, (int)h, ee_image_mode_channels(*mode), name, err);
	if (rc < 0)
		return rc;
	rowbytes = png_get_rowbytes(png, info);
	*raw = malloc(rowbytes * h);
	*rows = malloc(h * sizeof(**rows));
	if (!*raw || !*rows)
		return ee_err_set(err, EE_ERR_NOMEM, "image '%s': cannot allocate %zu bytes",
				  name, rowbytes * h);
	for (y = 0; y < h; y++)
		(*rows)[y] = *raw + y * rowbytes;
	png_read_image(png, *rows);
	unpack(png, info, img, *raw, rowbytes, color_type, depth);
	return EE_OK;
}

int ee_png_decode(struct ee_image *img, enum ee_image_mode *mode, const uint8_t *buf,
		  size_t len, const char *name, struct ee_err *err)
{
	struct png_src src = { buf, len, 0, "" };
	png_structp png;
	png_infop info = NULL;
	uint8_t *volatile raw = NULL;
	png_bytep *volatile rows = NULL;
	volatile int rc = EE_OK;

	png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &src, on_error, on_warning);
	if (png)
		info = png_create_info_struct(png);
	if (!png || !info) {
		png_destroy_read_struct(png ? &png : NULL, NULL, NULL);
		return ee_err_set(err, EE_ERR_NOMEM, "image '%s': cannot set up libpng", name);
	}
	if (setjmp(png_jmpbuf(png))) {
		rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': corrupt PNG: %s", name, src.msg);
	} else {
		png_set_read_fn(png, &src, on_read);
		rc = decode(png, info, img, mode, (uint8_t **)&raw, (png_bytep **)&rows, name,
			    err);
	}
	png_destroy_read_struct(&png, &info, NULL);
	free(raw);
	free(rows);
	return rc;
}
