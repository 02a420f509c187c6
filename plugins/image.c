/*
 * image.c - see image.h: reading an image file, recognising its format, and Pillow's
 * conversions (libImaging/Convert.c) from the file's mode to RGB or L.
 */
#include "plugins/image.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int ee_image_mode_channels(enum ee_image_mode mode)
{
	static const int channels[] = { [EE_IMAGE_L] = 1, [EE_IMAGE_LA] = 2, [EE_IMAGE_RGB] = 3,
					[EE_IMAGE_RGBA] = 4, [EE_IMAGE_CMYK] = 4 };

	return channels[mode];
}

int ee_image_alloc(struct ee_image *img, int w, int h, int c, const char *name,
		   struct ee_err *err)
{
	if (w < 1 || h < 1)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': empty image %dx%d", name, w, h);
	if ((long)w * h > EE_IMAGE_MAX_PIXELS)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': %dx%d is more than %ld pixels",
				  name, w, h, EE_IMAGE_MAX_PIXELS);
	img->px = malloc((size_t)w * h * c);
	if (!img->px)
		return ee_err_set(err, EE_ERR_NOMEM, "image '%s': cannot allocate %dx%dx%d", name,
				  w, h, c);
	img->w = w;
	img->h = h;
	img->c = c;
	return EE_OK;
}

void ee_image_release(struct ee_image *img)
{
	free(img->px);
	memset(img, 0, sizeof(*img));
}

/* Pillow's L24: ITU-R 601-2 luma in 16-bit fixed point. */
static uint8_t luma(unsigned r, unsigned g, unsigned b)
{
	return (uint8_t)((r * 19595 + g * 38470 + b * 7471 + 0x8000) >> 16);
}

/* Pillow's MULDIV255: a * b / 255, rounded. */
static int muldiv255(int a, int b)
{
	int t = a * b + 128;

	return ((t >> 8) + t) >> 8;
}

static uint8_t clip(int v)
{
	return v < 0 ? 0 : v > 255 ? 255 : (uint8_t)v;
}

/* One pixel of mode into RGB (Pillow's l2rgb, la2rgb, rgba2rgb, cmyk2rgb). */
static void to_rgb(uint8_t *o, const uint8_t *p, enum ee_image_mode mode)
{
	int nk, i;

	switch (mode) {
	case EE_IMAGE_L:
	case EE_IMAGE_LA:
		o[0] = o[1] = o[2] = p[0];
		break;
	case EE_IMAGE_RGB:
	case EE_IMAGE_RGBA:
		memcpy(o, p, 3);
		break;
	case EE_IMAGE_CMYK:
		nk = 255 - p[3];
		for (i = 0; i < 3; i++)
			o[i] = clip(nk - muldiv255(p[i], nk));
		break;
	}
}

/* Converts img (of mode) in place to channels 1 (L) or 3 (RGB). The result is never
 * wider than the mode, except L/LA to RGB, which gets a new buffer. */
static int convert(struct ee_image *img, enum ee_image_mode mode, int channels,
		   const char *name, struct ee_err *err)
{
	size_t i, n = (size_t)img->w * img->h;
	int c = ee_image_mode_channels(mode);
	uint8_t *src = img->px, *dst = img->px, rgb[3];

	if ((channels == 1 && mode == EE_IMAGE_L) || (channels == 3 && mode == EE_IMAGE_RGB))
		return EE_OK;
	if (channels > c) {
		dst = malloc(n * channels);
		if (!dst)
			return ee_err_set(err, EE_ERR_NOMEM, "image '%s': cannot allocate %dx%dx%d",
					  name, img->w, img->h, channels);
	}
	for (i = 0; i < n; i++) {
		const uint8_t *p = src + i * c;

		if (channels == 1 && (mode == EE_IMAGE_L || mode == EE_IMAGE_LA)) {
			dst[i] = p[0];
			continue;
		}
		to_rgb(rgb, p, mode);
		if (channels == 1)
			dst[i] = luma(rgb[0], rgb[1], rgb[2]);
		else
			memcpy(dst + i * 3, rgb, 3);
	}
	if (dst != src) {
		free(src);
		img->px = dst;
	}
	img->c = channels;
	return EE_OK;
}

int ee_image_decode(struct ee_image *img, const uint8_t *buf, size_t len, int channels,
		    const char *name, struct ee_err *err)
{
	static const uint8_t png_sig[8] = { 0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n' };
	enum ee_image_mode mode = EE_IMAGE_L;
	int rc;

	memset(img, 0, sizeof(*img));
	if (channels != 1 && channels != 3)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': a model with %d input channels "
				  "(images decode to 1 or 3)", name, channels);
	if (len >= 3 && buf[0] == 0xff && buf[1] == 0xd8 && buf[2] == 0xff)
		rc = ee_jpeg_decode(img, &mode, buf, len, name, err);
	else if (len >= 8 && !memcmp(buf, png_sig, 8))
		rc = ee_png_decode(img, &mode, buf, len, name, err);
	else
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': not a JPEG or PNG image", name);
	if (rc == EE_OK)
		rc = convert(img, mode, channels, name, err);
	if (rc < 0)
		ee_image_release(img);
	return rc;
}

/* Reads a whole regular file into a new buffer. */
static int read_file(const char *path, uint8_t **buf, size_t *len, struct ee_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	size_t got = 0;
	int rc = EE_OK;

	*buf = NULL;
	if (fd < 0)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': cannot open: %s", path,
				  strerror(errno));
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode))
		rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': not a regular file", path);
	else if (st.st_size == 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': file is empty", path);
	else if ((uint64_t)st.st_size > EE_IMAGE_MAX_FILE)
		rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': file is larger than %zu MiB", path,
				EE_IMAGE_MAX_FILE >> 20);
	else if (!(*buf = malloc((size_t)st.st_size)))
		rc = ee_err_set(err, EE_ERR_NOMEM, "image '%s': cannot allocate %lld bytes", path,
				(long long)st.st_size);
	while (rc == EE_OK && got < (size_t)st.st_size) {
		ssize_t r = read(fd, *buf + got, (size_t)st.st_size - got);

		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': cannot read: %s", path,
					r < 0 ? strerror(errno) : "file got shorter");
		else
			got += (size_t)r;
	}
	close(fd);
	*len = got;
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
	}
	return rc;
}

int ee_image_load(struct ee_image *img, const char *path, int channels, struct ee_err *err)
{
	uint8_t *buf;
	size_t len = 0;
	int rc;

	memset(img, 0, sizeof(*img));
	rc = read_file(path, &buf, &len, err);
	if (rc < 0)
		return rc;
	rc = ee_image_decode(img, buf, len, channels, path, err);
	free(buf);
	return rc;
}
