/*
 * imgprep.c - see imgprep.h. The sizes and offsets follow torchvision 0.14's
 * transforms.functional (resize, center_crop) on PIL images.
 */
#include "core/imgprep.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

int ee_imgprep_short_side(const struct ee_imgprep *p, int h)
{
	return p->resize ? p->resize : (int)lround(h / 0.875);
}

/* Python's int(round(d / 2.0)) for an integer d >= 0: halves go to the even side. */
static int half_even(int d)
{
	int k = d / 2;

	return d % 2 && k % 2 ? k + 1 : k;
}

/*
 * Where output index 0 of a crop of n falls in an axis of `size` after CenterCrop's
 * padding and offset: output i reads resized index i + shift (padding outside).
 */
static int crop_shift(int size, int n)
{
	return n > size ? -((n - size) / 2) : half_even(size - n);
}

int ee_imgprep_apply(const uint8_t *px, int w, int h, int c, int out_h, int out_w,
		     const struct ee_imgprep *p, const char *name, uint8_t *dst,
		     struct ee_err *err)
{
	int s = ee_imgprep_short_side(p, out_h), rw = w, rh = h, sx, sy, x, y, ch, rc;
	struct ee_window win;
	uint8_t *tmp;

	if (s != EE_IMGPREP_NO_RESIZE) {
		double lng = (double)s * (w <= h ? h : w) / (w <= h ? w : h);

		if (lng >= EE_IMGPREP_MAX_SIDE || s >= EE_IMGPREP_MAX_SIDE)
			return ee_err_set(err, EE_ERR_INPUT, "image '%s': resizing %dx%d to a "
					  "shorter side of %d makes a side over %d", name, w, h, s,
					  EE_IMGPREP_MAX_SIDE);
		rw = w <= h ? s : (int)lng;
		rh = w <= h ? (int)lng : s;
	}
	sx = crop_shift(rw, out_w);
	sy = crop_shift(rh, out_h);
	win.x = sx > 0 ? sx : 0;
	win.y = sy > 0 ? sy : 0;
	win.w = (out_w + sx < rw ? out_w + sx : rw) - win.x;
	win.h = (out_h + sy < rh ? out_h + sy : rh) - win.y;
	tmp = malloc((size_t)win.w * win.h * c);
	if (!tmp)
		return ee_err_set(err, EE_ERR_NOMEM, "image '%s': out of memory for the crop",
				  name);
	rc = ee_resample(px, w, h, c, rw, rh, win, p->interp, tmp, err);
	if (rc == EE_OK) {
		memset(dst, 0, (size_t)c * out_h * out_w);
		for (ch = 0; ch < c; ch++)
			for (y = 0; y < win.h; y++) {
				uint8_t *d = dst + ((size_t)ch * out_h + win.y - sy + y) * out_w +
					     win.x - sx;
				const uint8_t *t = tmp + (size_t)y * win.w * c + ch;

				for (x = 0; x < win.w; x++)
					d[x] = t[(size_t)x * c];
			}
	}
	free(tmp);
	return rc;
}
