/*
 * dataset_idx.c - the fashion-mnist and mnist readers: IDX files, gzipped or not.
 *
 * IDX (LeCun's MNIST format): a big-endian magic 0x000008NN (0x08 = unsigned bytes,
 * NN = number of dimensions), NN big-endian uint32 dimensions, then the bytes. Images
 * are [n][h][w] (magic 0x00000803), labels [n] (0x00000801). zlib's gzread reads gzip
 * and passes plain files through, so one code path serves both.
 *
 * Headers are not trusted: the pixels are read into a buffer that grows as data
 * arrives, so a header claiming 60,000 images in a 1 KB file costs 1 KB, not 47 MB,
 * and the error can say how many images the file really holds.
 */
#include "plugins/dataset-impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define IDX_CLASSES 10
#define IDX_UBYTE 0x08
#define IDX_FIRST_ALLOC ((size_t)1 << 22) /* the body buffer starts here and doubles */
#define IDX_MAX_READ ((size_t)1 << 30)    /* gzread takes an unsigned, returns an int */

/* File names of each part: images, labels. ".gz" is tried first. */
static const char *const idx_names[][2] = {
	[EE_DATASET_TEST] = { "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
	[EE_DATASET_TRAIN] = { "train-images-idx3-ubyte", "train-labels-idx1-ubyte" },
};

/* One open IDX file and its header. */
struct idx {
	gzFile f;
	char path[4096]; /* the file actually opened */
	uint32_t dims[3];
};

static const char *open_error(void)
{
	return errno ? strerror(errno) : "out of memory";
}

/* Opens dir/name.gz, or dir/name when there is no .gz. */
static int idx_open(struct idx *x, const char *dir, const char *name, struct ee_err *err)
{
	char plain[sizeof(x->path) - 3];
	int rc = ee_dataset_path(plain, sizeof(plain), dir, name, err);

	if (rc < 0)
		return rc;
	snprintf(x->path, sizeof(x->path), "%s.gz", plain);
	errno = 0;
	x->f = gzopen(x->path, "rb");
	if (!x->f && errno == ENOENT) {
		x->f = gzopen(plain, "rb");
		if (!x->f && errno == ENOENT)
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot open: %s (nor "
					  "without .gz)", x->path, strerror(ENOENT));
		if (x->f)
			memcpy(x->path, plain, sizeof(plain));
	}
	if (!x->f)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot open: %s", x->path,
				  open_error());
	gzbuffer(x->f, 1 << 17);
	return EE_OK;
}

static void idx_close(struct idx *x)
{
	if (x->f)
		gzclose(x->f);
	x->f = NULL;
}

/* True if the gzip stream ended before its end marker (a cut-off download). */
static int idx_truncated(struct idx *x)
{
	int e;

	gzerror(x->f, &e);
	return e == Z_BUF_ERROR;
}

/* zlib's message without the "path: " it starts with ("incorrect data check"). */
static const char *gz_problem(struct idx *x)
{
	const char *msg = gzerror(x->f, &(int){ 0 });
	size_t len = strlen(x->path);

	if (!strncmp(msg, x->path, len) && msg[len] == ':' && msg[len + 1] == ' ')
		return msg + len + 2;
	return msg;
}

/* Reads up to len bytes; *got < len at the end of the data. Fails on corrupt data. */
static int idx_read(struct idx *x, void *buf, size_t len, size_t *got, struct ee_err *err)
{
	*got = 0;
	while (*got < len) {
		size_t want = len - *got < IDX_MAX_READ ? len - *got : IDX_MAX_READ;
		int r = gzread(x->f, (char *)buf + *got, (unsigned)want);

		if (r < 0)
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot read: %s",
					  x->path, gz_problem(x));
		if (r == 0)
			break;
		*got += (size_t)r;
	}
	return EE_OK;
}

static uint32_t be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Opens dir/name and reads a header of ndims dimensions of unsigned bytes. */
static int idx_open_header(struct idx *x, const char *dir, const char *name, int ndims,
			   struct ee_err *err)
{
	unsigned char h[16];
	size_t want = 4 + 4 * (size_t)ndims, got;
	uint32_t magic = IDX_UBYTE << 8 | (uint32_t)ndims;
	int rc = idx_open(x, dir, name, err), i;

	if (rc >= 0)
		rc = idx_read(x, h, want, &got, err);
	if (rc < 0)
		return rc;
	if (got < want && idx_truncated(x))
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': gzip data is truncated before "
				  "the end of the IDX header", x->path);
	if (got == 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': file is empty", x->path);
	if (got < want)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': %zu bytes are too short for an "
				  "IDX header", x->path, got);
	if (be32(h) != magic)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': not an IDX file of %s (magic "
				  "0x%08x, expected 0x%08x)", x->path,
				  ndims == 1 ? "labels" : "images", be32(h), magic);
	for (i = 0; i < ndims; i++)
		x->dims[i] = be32(h + 4 + 4 * i);
	return EE_OK;
}

/*
 * Reads n records of rec bytes into *out (malloc'ed, the caller's even on failure),
 * growing the buffer as data arrives. claim says what the header promised, for the
 * message when the file holds less ("10000 images of 28x28").
 */
static int idx_body(struct idx *x, size_t rec, uint64_t n, const char *claim, uint8_t **out,
		    struct ee_err *err)
{
	size_t need = rec * n, cap = need < IDX_FIRST_ALLOC ? need : IDX_FIRST_ALLOC;
	size_t have = 0, got;
	int rc;

	for (;;) {
		uint8_t *p = realloc(*out, cap);

		if (!p)
			return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': cannot allocate %zu "
					  "bytes", x->path, cap);
		*out = p;
		rc = idx_read(x, p + have, cap - have, &got, err);
		if (rc < 0)
			return rc;
		have += got;
		if (have < cap || cap == need)
			break;
		cap = cap > need / 2 ? need : cap * 2;
	}
	if (have < need)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': header claims %s but the file "
				  "holds %zu%s", x->path, claim, have / rec,
				  idx_truncated(x) ? " (gzip data is truncated)" : "");
	return EE_OK;
}

static int read_images(struct ee_dataset *ds, struct idx *x, struct ee_err *err)
{
	uint32_t n = x->dims[0], h = x->dims[1], w = x->dims[2];
	char claim[64];
	int rc = ee_dataset_check_size(x->path, n, 1, h, w, 1, err);

	if (rc < 0)
		return rc;
	snprintf(claim, sizeof(claim), "%lu images of %lux%lu", (unsigned long)n,
		 (unsigned long)h, (unsigned long)w);
	rc = idx_body(x, (size_t)h * w, n, claim, &ds->u8, err);
	ds->n = (int)n;
	ds->c = 1;
	ds->h = (int)h;
	ds->w = (int)w;
	ds->num_classes = IDX_CLASSES;
	return rc;
}

static int read_labels(struct ee_dataset *ds, struct idx *x, const char *images,
		       struct ee_err *err)
{
	uint32_t n = x->dims[0];
	uint8_t *bytes = NULL;
	char claim[32];
	int rc = ee_dataset_check_size(x->path, n, 1, 1, 1, sizeof(int32_t), err), i;

	snprintf(claim, sizeof(claim), "%lu labels", (unsigned long)n);
	if (rc >= 0)
		rc = idx_body(x, 1, n, claim, &bytes, err);
	if (rc >= 0 && n != (uint32_t)ds->n)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': holds %lu labels but '%s' holds "
				"%d images", x->path, (unsigned long)n, images, ds->n);
	if (rc >= 0 && !(ds->labels = malloc((size_t)n * sizeof(*ds->labels))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': cannot allocate %lu labels",
				x->path, (unsigned long)n);
	for (i = 0; rc >= 0 && i < ds->n; i++)
		ds->labels[i] = bytes[i];
	if (rc >= 0)
		rc = ee_dataset_check_labels(x->path, ds->labels, ds->n, 0, ds->num_classes, err);
	free(bytes);
	return rc;
}

int ee_dataset_idx_open(struct ee_dataset *ds, const char *where, enum ee_dataset_part part,
			struct ee_err *err)
{
	struct idx img = { 0 }, lab = { 0 };
	int rc;

	if (part != EE_DATASET_TEST && part != EE_DATASET_TRAIN)
		return ee_err_set(err, EE_ERR_INTERNAL, "dataset '%s': IDX has no such part",
				  where);
	rc = idx_open_header(&img, where, idx_names[part][0], 3, err);
	if (rc >= 0)
		rc = read_images(ds, &img, err);
	if (rc >= 0)
		rc = idx_open_header(&lab, where, idx_names[part][1], 1, err);
	if (rc >= 0)
		rc = read_labels(ds, &lab, img.path, err);
	idx_close(&img);
	idx_close(&lab);
	return rc;
}
