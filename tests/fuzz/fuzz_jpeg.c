/*
 * fuzz_jpeg.c - the JPEG decoder (plugins/image_jpeg.c, libjpeg-turbo) with Pillow's
 * conversions (plugins/image.c), as imagefolder:/imagelist: datasets and infer --input
 * read a .jpg. Input: the file's bytes (seeds: tests/fuzz/mkimageseeds.py).
 */
#include "tests/fuzz/fuzz.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_image(data, size);
	return 0;
}
