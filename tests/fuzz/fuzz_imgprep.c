/*
 * fuzz_imgprep.c - the preparation of a decoded image (core/imgprep.c: torchvision's
 * Resize and CenterCrop; core/resample.c: Pillow's filters on a window), as a batch of
 * --data imagefolder: applies it after decoding (the decoders are fuzz_jpeg, fuzz_png).
 * Input: 6 bytes of settings - bit 0 of the first: 1 channel or 3, bits 1-2: the filter,
 * bit 3: no resize; then the width and height (1..64), the crop's height and width
 * (1..32) and S (0: the default) - and the pixels, repeated to fill the image.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>

#include "core/imgprep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ee_err err = { 0 };
	struct ee_imgprep p;
	int c, w, h, oh, ow;
	uint8_t *px, *out;
	size_t i, n;

	if (size < 6)
		return 0;
	c = data[0] & 1 ? 1 : 3;
	p.interp = (enum ee_interp)((data[0] >> 1) % 3);
	p.resize = data[0] & 8 ? EE_IMGPREP_NO_RESIZE : data[5];
	w = 1 + data[1] % 64;
	h = 1 + data[2] % 64;
	oh = 1 + data[3] % 32;
	ow = 1 + data[4] % 32;
	n = (size_t)w * h * c;
	px = malloc(n);
	out = malloc((size_t)c * oh * ow);
	if (!px || !out)
		abort();
	for (i = 0; i < n; i++)
		px[i] = size > 6 ? data[6 + i % (size - 6)] : 0;
	ee_imgprep_apply(px, w, h, c, oh, ow, &p, "fuzz", out, &err);
	free(px);
	free(out);
	return 0;
}
