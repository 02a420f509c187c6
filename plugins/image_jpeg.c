/*
 * image_jpeg.c - JPEG through libjpeg-turbo with Pillow's settings (JpegDecode.c): the
 * library's defaults (islow IDCT, fancy upsampling, no scaling), the output colour space
 * from the number of components (1 grey, 3 RGB, 4 CMYK), and CMYK inverted as Pillow's
 * "CMYK;I" raw mode does. libjpeg's fatal errors come back through longjmp; its warnings
 * are ignored, except running out of data, which Pillow reports as a truncated file.
 */
#include <setjmp.h>
#include <stdio.h>

#include <jerror.h>
#include <jpeglib.h>

#include "plugins/image.h"

struct jpeg_fail {
	struct jpeg_error_mgr mgr;
	jmp_buf jump;
	int truncated; /* libjpeg ran out of data and padded with an EOI */
};

static void on_error(j_common_ptr ci)
{
	longjmp(((struct jpeg_fail *)ci->err)->jump, 1);
}

static void on_message(j_common_ptr ci, int level)
{
	if (level < 0 && ci->err->msg_code == JWRN_JPEG_EOF)
		((struct jpeg_fail *)ci->err)->truncated = 1;
}

/* Runs the decoder; a libjpeg error longjmps back into ee_jpeg_decode. */
static int decode(struct jpeg_decompress_struct *ci, struct jpeg_fail *jf, struct ee_image *img,
		  enum ee_image_mode *mode, const char *name, struct ee_err *err)
{
	size_t line, i;
	int rc;

	jpeg_read_header(ci, TRUE);
	switch (ci->num_components) {
	case 1:
		ci->out_color_space = JCS_GRAYSCALE;
		*mode = EE_IMAGE_L;
		break;
	case 3:
		ci->out_color_space = JCS_RGB;
		*mode = EE_IMAGE_RGB;
		break;
	case 4:
		ci->out_color_space = JCS_CMYK;
		*mode = EE_IMAGE_CMYK;
		break;
	default:
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': JPEG with %d components",
				  name, ci->num_components);
	}
	if (ci->image_width > 65535 || ci->image_height > 65535)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': JPEG of %ux%u", name,
				  ci->image_width, ci->image_height);
	rc = ee_image_alloc(img, (int)ci->image_width, (int)ci->image_height,
			    ee_image_mode_channels(*mode), name, err);
	if (rc < 0)
		return rc;
	jpeg_start_decompress(ci);
	line = (size_t)img->w * img->c;
	while (ci->output_scanline < ci->output_height && !jf->truncated) {
		JSAMPROW row = img->px + ci->output_scanline * line;

		jpeg_read_scanlines(ci, &row, 1);
	}
	if (jf->truncated)
		return ee_err_set(err, EE_ERR_INPUT, "image '%s': truncated JPEG data", name);
	if (*mode == EE_IMAGE_CMYK)
		for (i = 0; i < line * img->h; i++)
			img->px[i] = (uint8_t)(255 - img->px[i]);
	return EE_OK;
}

int ee_jpeg_decode(struct ee_image *img, enum ee_image_mode *mode, const uint8_t *buf,
		   size_t len, const char *name, struct ee_err *err)
{
	struct jpeg_decompress_struct ci;
	struct jpeg_fail jf;
	volatile int rc = EE_OK;

	ci.err = jpeg_std_error(&jf.mgr);
	jf.mgr.error_exit = on_error;
	jf.mgr.emit_message = on_message;
	jf.truncated = 0;
	jpeg_create_decompress(&ci);
	if (setjmp(jf.jump)) {
		char msg[JMSG_LENGTH_MAX];

		jf.mgr.format_message((j_common_ptr)&ci, msg);
		if (jf.truncated) /* libjpeg choked on the end it made up */
			rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': truncated JPEG data", name);
		else
			rc = ee_err_set(err, EE_ERR_INPUT, "image '%s': corrupt JPEG: %s", name,
					msg);
	} else {
		jpeg_mem_src(&ci, buf, (unsigned long)len);
		rc = decode(&ci, &jf, img, mode, name, err);
	}
	jpeg_destroy_decompress(&ci);
	return rc;
}
