/*
 * dataset.h - labelled image sets, named by spec strings, and preprocessing.
 *
 * A dataset is read whole into memory (Fashion-MNIST test: 7.8 MB; a CIFAR batch
 * file: 30 MB) by a reader registered in plugins/datasets.c. Specs:
 *
 *   fashion-mnist:SPLIT        Debian's /usr/share/datasets/fashion-mnist
 *   fashion-mnist:DIR:SPLIT    IDX files in DIR (also mnist:DIR:SPLIT)
 *   cifar10:DIR:SPLIT          CIFAR-10 binary batches (data_batch_1..5.bin, test_batch.bin)
 *   cifar100:DIR:SPLIT         CIFAR-100 binary (train.bin, test.bin), fine labels
 *   h5:FILE                    /images uint8 or float32 [N,C,H,W] and /labels [N]
 *   imagefolder:DIR            JPEG/PNG files in torchvision's ImageFolder layout
 *   imagelist:FILE             JPEG/PNG files listed as "PATH LABEL" lines
 *
 * Image files (imagefolder, imagelist; plugins/dataset_images.c) are only listed at open:
 * each batch decodes its files as Pillow does and applies torchvision's Resize and
 * CenterCrop to the model's input shape (ds->prep, core/imgprep.h), on the thread team.
 *
 * The reader name ends at the first ':' and SPLIT starts after the last one, so DIR
 * and FILE may themselves hold colons. IDX files are train-images-idx3-ubyte,
 * train-labels-idx1-ubyte, t10k-images-idx3-ubyte and t10k-labels-idx1-ubyte, each
 * gzipped (".gz", tried first) or not.
 *
 * SPLIT is test, train (all but the last EE_DATASET_VAL_SIZE training images), val
 * (the last EE_DATASET_VAL_SIZE training images: the fixed validation split of
 * checkpoints/train.py) or train-all. Pixels are kept as stored; ee_dataset_batch()
 * turns samples into network inputs.
 *
 * Network inputs of a whole split, 100 at a time (compiled by make check-headers):
 *
 *     // given: struct ee_shape shape, const float *mean, const float *std, float *x
 *     struct ee_dataset ds;
 *     struct ee_err err = {0};
 *     if (ee_dataset_open(&ds, "fashion-mnist:test", &err) < 0)
 *             return err.code;   // err.msg: "dataset '...': ..."
 *     for (int i = 0; i < ds.n; i += 100)   // x: [100, shape.c, shape.h, shape.w]
 *             if (ee_dataset_batch(&ds, i, ds.n - i < 100 ? ds.n - i : 100, shape, mean,
 *                                  std, x, &err) < 0)
 *                     break;
 *     ee_dataset_release(&ds);
 */
#ifndef EE_DATASET_H
#define EE_DATASET_H

#include <stdint.h>

#include "core/imgprep.h"
#include "core/status.h"
#include "core/tensor.h"

/* Largest image a reader accepts, per sample (guards allocations from headers). */
#define EE_DATASET_MAX_PIXELS (4096 * 4096 * 4)

/* Largest pixel array a reader accepts for a whole file or set, in bytes. */
#define EE_DATASET_MAX_BYTES ((uint64_t)8 << 30)

/* Training images held out as the val split (train = the ones before them). */
#define EE_DATASET_VAL_SIZE 5000

struct ee_dataset {
	char spec[256];     /* the spec it was opened with */
	char name[32];      /* reader name: "fashion-mnist", "cifar10", "h5", ... */
	int n;              /* samples */
	int c, h, w;        /* stored image shape; 0 for image files (decoded to the model's) */
	int num_classes;    /* classes of the format (10, 100), or 1 + max label (h5) */
	uint8_t *u8;        /* [n][c][h][w] pixels 0..255, or NULL */
	float *f32;         /* [n][c][h][w] float pixels (h5 float32, used as is), or NULL */
	int32_t *labels;    /* [n], 0 <= label < num_classes */
	char **paths;       /* [n] image files, decoded batch by batch, or NULL */
	struct ee_imgprep prep; /* image files: resize and filter (zero: torchvision's
				 * defaults); set it after opening */
	int32_t *index;     /* [n] each sample's position in the spec's listing after
			     * ee_dataset_keep_good, or NULL: sample i is at i */
	int listed;         /* samples the spec lists (n before ee_dataset_keep_good) */
};

/* Undecodable image files left out (--skip-bad): how many, and the first few. */
#define EE_SKIPPED_NAMED 3
struct ee_skipped {
	long n;
	char first[EE_SKIPPED_NAMED][512]; /* paths of the first n (up to EE_SKIPPED_NAMED) */
};

/* Counts path into s, naming it if it is among the first EE_SKIPPED_NAMED. */
void ee_skipped_add(struct ee_skipped *s, const char *path);

/* Opens a spec (see above). Errors name the file and the problem: EE_ERR_INPUT for a
 * missing, truncated or malformed file, EE_ERR_USAGE for a spec that does not parse
 * (unknown reader or split, missing DIR). On failure ds holds nothing to release. */
int ee_dataset_open(struct ee_dataset *ds, const char *spec, struct ee_err *err);

/* Frees the pixels and labels; ds may then be opened again. */
void ee_dataset_release(struct ee_dataset *ds);

/*
 * Writes samples [start, start + count) as network inputs into dst, a dense
 * [count, in.c, in.h, in.w] tensor, in PyTorch's order:
 *   1. uint8 pixels become x / 255.0f (ToTensor); float32 pixels are used as is;
 *   2. each axis is centre zero-padded or centre-cropped to in.h x in.w. When the
 *      size difference is odd the extra row/column is padded or cropped at the end
 *      (bottom/right): the offset is floor(diff / 2). Padding matches Pad(diff / 2) for
 *      even diff and torchvision CenterCrop's padding for odd diff; cropping matches
 *      CenterCrop except when diff % 4 == 3 (it rounds diff / 2 half to even, taking
 *      the extra row/column off the top/left there);
 *   3. (x - mean[c]) / std[c] in float32 (Normalize). Padding comes before this, so
 *      padded pixels become (0 - mean[c]) / std[c].
 * mean or std may be NULL for 0 or 1. Fails with EE_ERR_INPUT if the channel
 * counts differ (no silent grey-to-colour conversion), EE_ERR_USAGE for a range
 * outside [0, ds->n), an empty in shape, or a zero or non-finite std.
 */
int ee_dataset_batch(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		     const float *mean, const float *std, float *dst, struct ee_err *err);

/*
 * As ee_dataset_batch, but dst gets the uint8 pixels [count, in.c, in.h, in.w] before
 * ToTensor and Normalize (padding 0). EE_ERR_INPUT for float32 datasets. If bad is not
 * NULL, image files that cannot be decoded set bad[i] = 1 (their pixels are undefined)
 * instead of failing; otherwise the first one fails the call naming the file.
 */
int ee_dataset_batch_u8(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
			uint8_t *dst, int *bad, struct ee_err *err);

/*
 * --skip-bad: decodes the image files [*offset, *offset + *count) of ds once (on the
 * thread team) and keeps only those that can be read and decoded: ds then holds just
 * them, in order (n = *count = how many, *offset = 0; index[] their positions in the
 * listing, listed its size), and the others are added to s. Datasets of pixels (no
 * image files) are left alone. EE_ERR_INPUT if none is left (naming the first file),
 * EE_ERR_NOMEM.
 */
int ee_dataset_keep_good(struct ee_dataset *ds, int *offset, int *count, struct ee_skipped *s,
			 struct ee_err *err);

/* Position of sample i in the spec's listing (ds->index[i], or i). */
static inline int ee_dataset_position(const struct ee_dataset *ds, int i)
{
	return ds->index ? ds->index[i] : i;
}

/* One line per reader for --help: "  name  description", each ending in '\n'. */
const char *ee_dataset_help(void);

#endif
