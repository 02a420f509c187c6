/* fuzz.c - the temporary directory and file writer of the fuzz targets (fuzz.h). */
#include "fuzz.h"

#include <hdf5.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plugins/image.h"

static char dir[256];

static void cleanup(void)
{
	char cmd[300];

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (dir[0] && system(cmd) != 0)
		fprintf(stderr, "fuzz: cannot remove %s\n", dir);
}

const char *fz_dir(void)
{
	if (!dir[0]) {
		const char *tmp = getenv("TMPDIR");

		snprintf(dir, sizeof(dir), "%s/eeprof-fuzz.XXXXXX", tmp ? tmp : "/tmp");
		if (!mkdtemp(dir))
			abort();
		atexit(cleanup);
	}
	return dir;
}

const char *fz_write(const char *name, const uint8_t *data, size_t size)
{
	static char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", fz_dir(), name);
	f = fopen(path, "wb");
	if (!f || fwrite(data, 1, size, f) != size || fclose(f))
		abort();
	return path;
}

void fz_no_open_hdf5(void)
{
	ssize_t n = H5Fget_obj_count(H5F_OBJ_ALL, H5F_OBJ_ALL);

	if (n != 0) {
		fprintf(stderr, "fuzz: %zd HDF5 objects left open\n", n);
		abort();
	}
}

void fz_image(const uint8_t *data, size_t size)
{
	struct ee_image rgb, grey;
	struct ee_err err = { 0 };
	int ok3 = ee_image_decode(&rgb, data, size, 3, "fuzz", &err) == EE_OK;
	int ok1 = ee_image_decode(&grey, data, size, 1, "fuzz", &err) == EE_OK;
	uint64_t sum = 0;
	size_t i;

	if (ok3 != ok1 || (ok3 && (rgb.c != 3 || grey.c != 1 || rgb.w != grey.w ||
				   rgb.h != grey.h || rgb.w < 1 || rgb.h < 1 ||
				   (long)rgb.w * rgb.h > EE_IMAGE_MAX_PIXELS))) {
		fprintf(stderr, "fuzz: RGB and L decodes disagree\n");
		abort();
	}
	if (ok3) /* every pixel was written: MSan would see an uninitialised one, ASan reads */
		for (i = 0; i < (size_t)grey.w * grey.h; i++)
			sum += grey.px[i] + rgb.px[3 * i];
	if (sum == UINT64_MAX)
		abort();
	ee_image_release(&rgb);
	ee_image_release(&grey);
}
