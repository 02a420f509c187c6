/*
 * ee.h - libee, the library behind eeprof: early-exit CNNs (EMGNet, SD-ResNet/BYOT, SCAN,
 * ResNet) loaded from eeprof checkpoints, run numerically as PyTorch runs them, with the
 * multiply-accumulates (MACs) every image really executed and the gate decisions it took.
 *
 * This is libee's one public header: a program includes <eeprof/ee.h> and builds with
 * `cc prog.c $(pkg-config --cflags --libs eeprof)`. Everything it needs is declared here;
 * the rest of libee is internal and may change. README.md ("Using libee from C") has a
 * complete program; `make test` builds and runs that program against the installed library.
 *
 * A walk through the API, from a checkpoint to what one batch did (its code, as one
 * function, is compiled by make check-headers):
 *
 *  1. Errors. A function that can fail returns a negative enum ee_status (or NULL) and
 *     writes a one-line message into a struct ee_err that the caller owns:
 *
 *         struct ee_err err = {0};
 *
 *  2. Open a checkpoint (an HDF5 file written by checkpoints/export.py). The file is read,
 *     checked against the architecture tensor by tensor, and closed; what stays is the
 *     network: a static graph of layers with its weights, numbered exits and gates.
 *
 *         struct ee_net *net = ee_net_open("model.h5", &err);
 *         if (!net) { fprintf(stderr, "%s\n", err.msg); return 1; }
 *         int exits = ee_net_exits(net);       // exit 0 is the shallowest
 *         int classes = ee_net_classes(net);
 *         int c, h, w;
 *         ee_net_input(net, &c, &h, &w);       // one image as the network takes it
 *
 *  3. Get network inputs: float32 [n][c][h][w], normalised with the checkpoint's mean and
 *     std. Either fill them yourself, or read a dataset eeprof knows by its spec (the
 *     same specs as `eeprof eval --data`), which converts, pads or crops and normalises
 *     exactly as the PyTorch side's transforms do:
 *
 *         struct ee_dataset *data = ee_data_open("fashion-mnist:test", &err);
 *         float *x = malloc(sizeof(float) * 100 * c * h * w);
 *         int labels[100];
 *         ee_data_read(data, net, 0, 100, x, labels, &err);   // images 0..99
 *
 *  4. Run a batch. A run owns everything a forward pass writes for up to max_batch images;
 *     it never modifies the network, so several runs may share one. Set the number of
 *     threads first (default 1). Every exit runs for every image (static
 *     inference: what each exit would answer, and what it would cost).
 *
 *         ee_set_threads(2);
 *         struct ee_run *run = ee_run_new(net, 100, &err);
 *         ee_run_batch(run, x, 100, &err);
 *
 *  5. Read the per-exit logits of image i at exit k: [classes] floats, as PyTorch's
 *     output for that exit (before softmax).
 *
 *         int k = exits - 1, i = 0;               // the deepest exit, the first image
 *         const float *logits = ee_run_logits(run, k, i);
 *
 *  6. Read the MACs image i executed to reach exit k. Standalone: the backbone up to the
 *     exit plus its own head (the per-exit points of the papers); cascade: plus every
 *     earlier exit's head, as a dynamic early-exit run really computes them. With EMGNet
 *     gates the figure depends on the image; ee_net_macs() gives the bounds (all gates
 *     closed, all open) that a FLOP counter would report.
 *
 *         double macs = ee_run_macs(run, k, i, false);
 *         double lo = ee_net_macs(net, k, false, 0), hi = ee_net_macs(net, k, false, 1);
 *
 *  7. Read the gate decisions (EMGNet's multi-scale convolutions; other architectures have
 *     none): for each gated layer, one 0/1 per channel and image, 1 = the gate opened and
 *     the 5x5 outer ring was computed.
 *
 *         for (int g = 0; g < ee_net_gated(net); g++) {
 *                 int channels;
 *                 const char *layer = ee_net_gate_layer(net, g, &channels);
 *                 const uint8_t *open = ee_run_open_gates(run, g, i);   // [channels]
 *         }
 *
 *  8. Release, in any order after the last use (a run must not outlive its network):
 *
 *         ee_run_free(run); ee_data_free(data); ee_net_free(net); free(x);
 *
 * Numbers follow README.md's counting convention: MACs of convolution, transposed
 * convolution and linear layers (FLOPs = 2 x MACs). Exits are numbered from 0 here; eeprof's
 * command line and reports number them from 1.
 */
#ifndef EEPROF_EE_H
#define EEPROF_EE_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* What libee exports from libee.so; the rest is hidden there. */
#if defined(__GNUC__)
#define EE_API __attribute__((visibility("default")))
#else
#define EE_API
#endif

/* Status codes: EE_OK, or negative when a function fails. */
enum ee_status {
	EE_OK = 0,
	EE_ERR_USAGE = -1,    /* a caller passed a bad argument or option */
	EE_ERR_INPUT = -2,    /* bad input: file, checkpoint, dataset, trace */
	EE_ERR_NOMEM = -3,    /* an allocation failed */
	EE_ERR_INTERNAL = -4, /* a bug or an unexpected library failure */
	EE_ERR_IO = -5,       /* an output file or pipe could not be written */
};

/* Room for a message naming a file, a tensor and two shapes, or listing what every
 * architecture expects. */
#define EE_ERR_MSG_MAX 1024

/* The caller's error: the last failure's code and a lowercase one-line message without a
 * trailing period that says what failed first and quotes its subject
 * ("checkpoint 'x.h5': ..."). */
struct ee_err {
	int code;                 /* last enum ee_status set, EE_OK if none */
	char msg[EE_ERR_MSG_MAX]; /* NUL-terminated one-line message */
};

/* A short, stable description of a status code ("bad input"). */
EE_API const char *ee_strerror(int code);

/* Opaque objects: a loaded network, a dataset in memory, a run's buffers. */
struct ee_net;
struct ee_dataset;
struct ee_run;

/* --- Networks ---------------------------------------------------------------------- */

/* Loads a checkpoint; NULL on failure (EE_ERR_INPUT: missing file, wrong schema, a tensor
 * of the wrong shape, NaN in the weights...). */
EE_API struct ee_net *ee_net_open(const char *path, struct ee_err *err);
EE_API void ee_net_free(struct ee_net *net);

/* Architecture name: resnet, resnet-cifar, sdresnet, sdresnet-tpami, scan or emgnet. */
EE_API const char *ee_net_arch(const struct ee_net *net);
EE_API int ee_net_exits(const struct ee_net *net);
EE_API int ee_net_classes(const struct ee_net *net);
/* The shape of one input image: channels, height, width. */
EE_API void ee_net_input(const struct ee_net *net, int *c, int *h, int *w);
/* MACs per image of exit k (0-based), standalone or cascade, with every gate closed
 * (gates_open = 0) or open (1); the two are equal without gates. */
EE_API double ee_net_macs(const struct ee_net *net, int k, bool cascade, int gates_open);
/* Gated layers (EMGNet's MLConv2d), in execution order; 0 for other architectures. */
EE_API int ee_net_gated(const struct ee_net *net);
/* Gated layer g's state_dict prefix ("layer1.0.conv2"); *channels = its gates per image. */
EE_API const char *ee_net_gate_layer(const struct ee_net *net, int g, int *channels);

/* --- Datasets ---------------------------------------------------------------------- */

/* Reads a dataset whole into memory. Specs as eeprof's --data: fashion-mnist:SPLIT,
 * fashion-mnist:DIR:SPLIT, mnist:DIR:SPLIT, cifar10:DIR:SPLIT, cifar100:DIR:SPLIT, h5:FILE;
 * SPLIT is test, train, val or train-all. imagefolder:DIR and imagelist:FILE (JPEG/PNG
 * files) are only listed: ee_data_read decodes them with torchvision's default
 * Resize + CenterCrop to the network's input. NULL on failure. */
EE_API struct ee_dataset *ee_data_open(const char *spec, struct ee_err *err);
EE_API void ee_data_free(struct ee_dataset *data);
/* Images in the dataset. */
EE_API int ee_data_count(const struct ee_dataset *data);
/* Writes images [first, first + n) as inputs of net into x, [n][c][h][w] with
 * ee_net_input's shape, and their labels into labels[n] (may be NULL). EE_ERR_INPUT if
 * the dataset's channels do not match the network's; EE_ERR_USAGE for a range outside
 * the dataset. */
EE_API int ee_data_read(const struct ee_dataset *data, const struct ee_net *net, int first,
			int n, float *x, int *labels, struct ee_err *err);

/* --- Runs -------------------------------------------------------------------------- */

/* Threads of libee's own team for the runs made afterwards; n >= 1, default 1. */
EE_API void ee_set_threads(int n);
/* Buffers for batches of up to max_batch images of net; NULL on failure. */
EE_API struct ee_run *ee_run_new(const struct ee_net *net, int max_batch, struct ee_err *err);
EE_API void ee_run_free(struct ee_run *run);
/* Runs every exit on x, [n][c][h][w] float32 (1 <= n <= max_batch). Results below stay
 * valid until the next batch. */
EE_API int ee_run_batch(struct ee_run *run, const float *x, int n, struct ee_err *err);
/* Logits of image i (0-based within the batch) at exit k: [ee_net_classes] floats. */
EE_API const float *ee_run_logits(const struct ee_run *run, int k, int i);
/* MACs image i executed to reach exit k, with its own gate decisions. */
EE_API double ee_run_macs(const struct ee_run *run, int k, int i, bool cascade);
/* Gate decisions of image i in gated layer g: [channels] of 0 (closed) or 1 (open). */
EE_API const uint8_t *ee_run_open_gates(const struct ee_run *run, int g, int i);

#ifdef __cplusplus
}
#endif

#endif
