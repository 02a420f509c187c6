/*
 * dataset.h - labelled image sets, named by spec strings, and preprocessing.
 *
 * A dataset is read whole into memory (Fashion-MNIST test: 7.8 MB; a CIFAR batch
 * file: 30 MB) by a reader registered in plugins/datasets.c. Specs:
 *
 *   fashion-mnist:SPLIT        Debian's /usr/share/datasets/fashion-mnist
 *   fashion-mnist:DIR:SPLIT    gzipped IDX files in DIR (also mnist:DIR:SPLIT)
 *   cifar10:DIR:SPLIT          CIFAR-10 binary batches (data_batch_*.bin, test_batch.bin)
 *   cifar100:DIR:SPLIT         CIFAR-100 binary (train.bin, test.bin), fine labels
 *   h5:FILE                    /images uint8 or float32 [N,C,H,W] and /labels [N]
 *
 * SPLIT is test, train (all but the last 5,000 training images), val (the last
 * 5,000 training images: the fixed validation split of checkpoints/train.py)
 * or train-all. Pixels are kept as stored; ee_dataset_batch() turns samples into
 * network inputs: uint8 scaled to [0,1], centre zero-padded or centre-cropped to
 * the model's H x W, then normalised with the checkpoint's mean and std.
 */
#ifndef EE_DATASET_H
#define EE_DATASET_H

#include <stdint.h>

#include "core/status.h"
#include "core/tensor.h"

/* Largest image a reader accepts, per sample (guards allocations from headers). */
#define EE_DATASET_MAX_PIXELS (4096 * 4096 * 4)

struct ee_dataset {
	char spec[256];     /* the spec it was opened with */
	char name[32];      /* reader name: "fashion-mnist", "cifar10", "h5", ... */
	int n;              /* samples */
	int c, h, w;        /* stored image shape */
	int num_classes;    /* classes of the format (10, 100), or 1 + max label (h5) */
	uint8_t *u8;        /* [n][c][h][w] pixels 0..255, or NULL */
	float *f32;         /* [n][c][h][w] float pixels (h5 float32, used as is), or NULL */
	int32_t *labels;    /* [n], 0 <= label < num_classes */
};

/* Opens a spec (see above). Errors name the file and the problem: EE_ERR_INPUT for a
 * missing, truncated or malformed file, EE_ERR_USAGE for a spec that does not parse. */
int ee_dataset_open(struct ee_dataset *ds, const char *spec, struct ee_err *err);
void ee_dataset_release(struct ee_dataset *ds);

/*
 * Writes samples [start, start + count) as network inputs into dst, a dense
 * [count, in.c, in.h, in.w] tensor. Fails with EE_ERR_INPUT if the channel
 * counts differ (no silent grey-to-colour conversion).
 */
int ee_dataset_batch(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		     const float *mean, const float *std, float *dst, struct ee_err *err);

/* One line per reader for --help: "  name  description". */
const char *ee_dataset_help(void);

#endif
