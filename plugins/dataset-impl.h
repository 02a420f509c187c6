/*
 * dataset-impl.h - what the dataset readers (plugins/dataset_*.c) share with
 * plugins/datasets.c. Internal to libee: not for the CLI or other plugins.
 *
 * A reader opens one whole part of a dataset - all test images or all training images -
 * into a zeroed struct ee_dataset: it sets c, h, w, num_classes, n and either u8 or f32,
 * plus labels, all malloc'ed; datasets.c then cuts the split out of the training part.
 * On failure a reader may leave partial allocations in ds: the caller releases them.
 * Errors name the file: "dataset '<file>': <problem>".
 *
 * Adding a reader: write plugins/dataset_<format>.c with an ee_dataset_open_fn, declare
 * it below, add a row to readers[] in datasets.c, and tests to check_dataset.c.
 */
#ifndef EE_DATASET_IMPL_H
#define EE_DATASET_IMPL_H

#include <stddef.h>
#include <stdint.h>

#include "plugins/dataset.h"

enum ee_dataset_part {
	EE_DATASET_TEST,  /* the test files */
	EE_DATASET_TRAIN, /* all training files; train/val/train-all are cut from it */
	EE_DATASET_FILE,  /* the one file of a reader without splits (h5) */
};

/* Opens a part from where: a directory, or the file of h5:FILE. */
typedef int (*ee_dataset_open_fn)(struct ee_dataset *ds, const char *where,
				  enum ee_dataset_part part, struct ee_err *err);

int ee_dataset_idx_open(struct ee_dataset *ds, const char *where, enum ee_dataset_part part,
			struct ee_err *err);
int ee_dataset_cifar10_open(struct ee_dataset *ds, const char *where,
			    enum ee_dataset_part part, struct ee_err *err);
int ee_dataset_cifar100_open(struct ee_dataset *ds, const char *where,
			     enum ee_dataset_part part, struct ee_err *err);
int ee_dataset_h5_open(struct ee_dataset *ds, const char *where, enum ee_dataset_part part,
		       struct ee_err *err);
int ee_dataset_imagefolder_open(struct ee_dataset *ds, const char *where,
				enum ee_dataset_part part, struct ee_err *err);
int ee_dataset_imagelist_open(struct ee_dataset *ds, const char *where,
			      enum ee_dataset_part part, struct ee_err *err);

/*
 * Decodes image files [start, start + count) of ds and applies ds->prep into dst
 * [count][in.c][in.h][in.w] uint8, on the thread team. bad: as ee_dataset_batch_u8.
 */
int ee_dataset_images_u8(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
			 uint8_t *dst, int *bad, struct ee_err *err);

/*
 * Checks n images of c x h x w elements of elem bytes against the caps before anything
 * is allocated: n >= 1 and fits an int, 1 <= c*h*w <= EE_DATASET_MAX_PIXELS, and the
 * whole array <= EE_DATASET_MAX_BYTES. Dimensions come straight from file headers, so
 * any uint64_t is allowed. EE_ERR_INPUT naming file otherwise.
 */
int ee_dataset_check_size(const char *file, uint64_t n, uint64_t c, uint64_t h, uint64_t w,
			  size_t elem, struct ee_err *err);

/*
 * Sets ds->n, c, h, w and allocates ds->labels [n] and ds->u8 (elem 1) or ds->f32
 * (elem 4) [n][c][h][w]; call ee_dataset_check_size() first. EE_ERR_NOMEM naming file.
 */
int ee_dataset_alloc(struct ee_dataset *ds, const char *file, int n, int c, int h, int w,
		     size_t elem, struct ee_err *err);

/* Fails with EE_ERR_INPUT naming file if any of labels[0..n) is outside
 * [0, num_classes); first numbers the samples in messages (labels[0] is sample first). */
int ee_dataset_check_labels(const char *file, const int32_t *labels, int n, int first,
			    int num_classes, struct ee_err *err);

/* Sets *size to the size of path, a non-empty regular file; EE_ERR_INPUT naming it
 * otherwise ("cannot open: No such file or directory", "file is empty"). */
int ee_dataset_file_size(const char *path, uint64_t *size, struct ee_err *err);

/* Joins dir and name into out (size bytes); EE_ERR_USAGE if it does not fit. */
int ee_dataset_path(char *out, size_t size, const char *dir, const char *name,
		    struct ee_err *err);

#endif
