/*
 * ckpt.h - reading eeprof checkpoints (HDF5, schema version 1).
 *
 * One HDF5 file per model, written by checkpoints/export.py:
 *
 *  1. Root attributes
 *     format          "eeprof-checkpoint"
 *     format_version  1
 *     arch            resnet | resnet-cifar | sdresnet | sdresnet-tpami | scan | emgnet
 *                     (if absent, detected from the key names)
 *     num_classes     int
 *     input_shape     int[3] = C, H, W (the network input), whole numbers
 *     mean, std       float[C], the input normalisation: |mean| <= 1e6, 1e-6 <= std <= 1e6
 *     bn_eps          float, default 1e-5
 *     stem_maxpool    int 0/1 (resnet only), default: 1 for a 7x7 stem, 0 for 3x3
 *     source, source_sha256, exporter, dataset, recipe, dropped_tensors  (free text)
 *     epochs, seed, train_seconds  (optional numbers, the training record that
 *                     checkpoints/train.py writes: whole epochs in [0, 1e6], a whole seed
 *                     with |seed| <= 2^53, seconds in [0, 1e12])
 *  2. /state_dict/<key>  one float32 dataset per PyTorch state_dict() key, named
 *     exactly as the key (dots kept, "module." stripped), PyTorch's shape.
 *  3. /eval/test_accuracy, /eval/val_accuracy  (optional) float64 [exits],
 *     per-exit accuracy PyTorch measured at export, shallow to deep.
 *
 * ee_ckpt_open() reads the attributes and the directory of /state_dict (names,
 * ranks, dims) but no tensor data, so that an architecture can check every shape
 * before anything large is read; ee_ckpt_read() then reads one tensor, refusing
 * NaN and Inf, and negative values in a BatchNorm's running_var. Before any of this the
 * file's bytes pass core/h5check.h, and every tensor's data must have been written.
 * Every failure names the file and, where there is one, the tensor.
 */
#ifndef EE_CKPT_H
#define EE_CKPT_H

#include <stdbool.h>
#include <stdint.h>

#include "core/arena.h"
#include "core/model.h"
#include "core/status.h"

#define EE_CKPT_FORMAT "eeprof-checkpoint"
#define EE_CKPT_VERSION 1
#define EE_CKPT_MAX_RANK 4
#define EE_CKPT_MAX_TENSORS 65536
#define EE_CKPT_MAX_FLOATS ((size_t)1 << 30) /* 4 GiB of weights */
#define EE_MAX_CHANNELS 64                   /* input channels */
#define EE_CKPT_MAX_MEAN 1e6                 /* |mean| and std at most this */
#define EE_CKPT_MIN_STD 1e-6                 /* std at least this */

struct ee_ckpt_tensor {
	const char *key;                /* state_dict key, "layer1.0.conv1.weight" */
	int rank;                       /* 0..EE_CKPT_MAX_RANK */
	int64_t dims[EE_CKPT_MAX_RANK]; /* PyTorch shape */
	size_t numel;
	int use;                        /* enum ee_ckpt_use */
};

enum ee_ckpt_use {
	EE_CKPT_UNUSED,
	EE_CKPT_USED,    /* bound to a layer */
	EE_CKPT_IGNORED, /* known to the architecture, not needed at inference */
};

struct ee_ckpt {
	const char *path;
	int64_t file;               /* hid_t of the open file, or -1 once closed */
	char arch[32];              /* "" if the file does not say */
	int num_classes;
	struct ee_shape input;      /* C, H, W */
	float mean[EE_MAX_CHANNELS], std[EE_MAX_CHANNELS]; /* [input.c] */
	float bn_eps;
	int stem_maxpool;           /* -1 if the attribute is absent */
	char source[256], sha256[72], exporter[64], dataset[256], recipe[2048];
	double epochs, seed, train_seconds; /* the training record; NaN where absent */
	int n_test_acc, n_val_acc;
	double test_acc[EE_MAX_EXITS], val_acc[EE_MAX_EXITS]; /* /eval, shallow to deep */
	int nt;
	struct ee_ckpt_tensor *t;   /* [nt] sorted by key */
	struct ee_pool pool;        /* keys, path */
};

/* Opens and checks the checkpoint at path; on failure ck holds nothing (no release). */
int ee_ckpt_open(struct ee_ckpt *ck, const char *path, struct ee_err *err);
/* The tensor named key, or NULL. */
struct ee_ckpt_tensor *ee_ckpt_find(const struct ee_ckpt *ck, const char *key);
/* True if some tensor's key starts with prefix ("layer2.0."). */
bool ee_ckpt_has_prefix(const struct ee_ckpt *ck, const char *prefix);
/* Reads tensor t as float32 into dst[t->numel]; EE_ERR_INPUT if it holds NaN or Inf. */
int ee_ckpt_read(const struct ee_ckpt *ck, const struct ee_ckpt_tensor *t, float *dst,
		 struct ee_err *err);
/* Closes the file; metadata stays valid until release. */
void ee_ckpt_close(struct ee_ckpt *ck);
void ee_ckpt_release(struct ee_ckpt *ck);
/* Parameters as PyTorch counts them: every tensor but BN running statistics. */
long long ee_ckpt_params(const struct ee_ckpt *ck);

#endif
