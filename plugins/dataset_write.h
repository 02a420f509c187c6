/*
 * dataset_write.h - writing any dataset spec as an h5: file (eeprof dataset).
 *
 * The file holds /images [N, C, H, W] (uint8 pixels before ToTensor, or float32 after
 * Normalize), /labels int32 [N] and root attributes num_classes, source (the spec),
 * resize and interpolation (image files only). It is read back by the h5: reader, so
 * `--data h5:OUT` then gives the same network inputs as `--data SPEC` (the uint8 form
 * with the checkpoint's mean and std). Written batch by batch under a temporary name and
 * renamed when complete (core/outfile.h).
 */
#ifndef EE_DATASET_WRITE_H
#define EE_DATASET_WRITE_H

#include <stdbool.h>

#include "core/tensor.h"
#include "plugins/dataset.h"

struct ee_write_opts {
	struct ee_shape in;       /* the stored image shape */
	bool u8;                  /* uint8 pixels; else float32 normalised by mean, std */
	const float *mean, *std;  /* [in.c], or NULL for 0 and 1 */
	int offset, count;        /* samples [offset, offset + count) of the dataset */
	int batch;                /* samples prepared at a time */
	bool skip_bad;            /* leave out undecodable image files instead of failing */
	void (*progress)(void *ctx, long done, long total); /* after each batch, or NULL */
	void *ctx;
};

struct ee_write_result {
	long written;
	struct ee_skipped skipped; /* skip_bad: the undecodable files left out */
};

/* Writes samples of ds to path as described above. Errors name the sample's file or the
 * output; on failure nothing is left at path. */
int ee_dataset_write(const struct ee_dataset *ds, const char *path,
		     const struct ee_write_opts *o, struct ee_write_result *res,
		     struct ee_err *err);

#endif
