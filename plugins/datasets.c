/*
 * datasets.c - the table of dataset readers, spec parsing, split slicing, the size and
 * label checks every reader shares, and preprocessing into network inputs.
 */
#include "plugins/dataset-impl.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <threads.h>

#define FASHION_MNIST_DIR "/usr/share/datasets/fashion-mnist"

struct reader {
	const char *name;
	const char *syntax;      /* what follows the name in a spec, for --help */
	const char *description;
	const char *default_dir; /* used for NAME:SPLIT; NULL: DIR is required */
	int has_splits;          /* 0: NAME:FILE, the whole file */
	ee_dataset_open_fn open;
};

static const struct reader readers[] = {
	{ "fashion-mnist", "[:DIR]:SPLIT", "Fashion-MNIST IDX, gzipped or not (DIR defaults to "
	  FASHION_MNIST_DIR ")", FASHION_MNIST_DIR, 1, ee_dataset_idx_open },
	{ "mnist", ":DIR:SPLIT", "MNIST IDX, gzipped or not", NULL, 1, ee_dataset_idx_open },
	{ "cifar10", ":DIR:SPLIT", "CIFAR-10 binary: data_batch_1..5.bin, test_batch.bin", NULL,
	  1, ee_dataset_cifar10_open },
	{ "cifar100", ":DIR:SPLIT", "CIFAR-100 binary: train.bin, test.bin (fine labels)", NULL,
	  1, ee_dataset_cifar100_open },
	{ "h5", ":FILE", "HDF5: /images uint8 or float32 [N,C,H,W], /labels integer [N]", NULL,
	  0, ee_dataset_h5_open },
	{ "imagefolder", ":DIR", "JPEG/PNG files in DIR/<class>/ (torchvision's ImageFolder)",
	  NULL, 0, ee_dataset_imagefolder_open },
	{ "imagelist", ":FILE", "JPEG/PNG files listed as 'PATH LABEL' lines", NULL, 0,
	  ee_dataset_imagelist_open },
};

#define NREADERS (sizeof(readers) / sizeof(readers[0]))

/* A split: which part it is cut from and which samples of it it keeps. */
enum cut { CUT_ALL, CUT_HEAD, CUT_TAIL };

static const struct split {
	const char *name;
	enum ee_dataset_part part;
	enum cut cut; /* HEAD: all but the last EE_DATASET_VAL_SIZE; TAIL: those */
} splits[] = {
	{ "test", EE_DATASET_TEST, CUT_ALL },
	{ "train", EE_DATASET_TRAIN, CUT_HEAD },
	{ "val", EE_DATASET_TRAIN, CUT_TAIL },
	{ "train-all", EE_DATASET_TRAIN, CUT_ALL },
};

static const struct split whole_file = { "", EE_DATASET_FILE, CUT_ALL };

#define NSPLITS (sizeof(splits) / sizeof(splits[0]))

/* A parsed spec: the reader, where its files are (DIR, FILE or the default) and the split. */
struct parsed {
	const struct reader *reader;
	char where[256];
	const struct split *split;
};

/* Writes the names of a table whose rows start with `const char *name`, ", "-separated. */
static void join_names(char *out, size_t size, const void *table, size_t stride, size_t count)
{
	size_t i, len = 0;

	out[0] = '\0';
	for (i = 0; i < count && len < size; i++) {
		const char *name = *(const char *const *)((const char *)table + i * stride);

		len += (size_t)snprintf(out + len, size - len, "%s%s", i ? ", " : "", name);
	}
}

static const struct reader *find_reader(const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < NREADERS; i++)
		if (strlen(readers[i].name) == len && !memcmp(readers[i].name, name, len))
			return &readers[i];
	return NULL;
}

static const struct split *find_split(const char *name)
{
	size_t i;

	for (i = 0; i < NSPLITS; i++)
		if (!strcmp(splits[i].name, name))
			return &splits[i];
	return NULL;
}

/* Fills p->where with [from, from + len), or the reader's default directory. */
static int parse_where(struct parsed *p, const char *spec, const char *from, size_t len,
		       struct ee_err *err)
{
	const struct reader *r = p->reader;

	if (!from && !r->default_dir)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': %s needs a %s (%s%s)", spec,
				  r->name, r->has_splits ? "directory" : "file", r->name,
				  r->syntax);
	if (!from) {
		snprintf(p->where, sizeof(p->where), "%s", r->default_dir);
		return EE_OK;
	}
	if (len == 0)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': empty %s", spec,
				  r->has_splits ? "directory" : "file name");
	memcpy(p->where, from, len);
	p->where[len] = '\0';
	return EE_OK;
}

/* NAME:FILE, NAME:SPLIT or NAME:DIR:SPLIT; the name ends at the first ':', SPLIT starts
 * after the last one. */
static int parse_spec(struct parsed *p, const char *spec, struct ee_err *err)
{
	const char *colon = strchr(spec, ':'), *rest, *last;
	size_t name_len = colon ? (size_t)(colon - spec) : strlen(spec);
	char known[128];

	if (strlen(spec) >= sizeof(p->where))
		return ee_err_set(err, EE_ERR_USAGE, "dataset spec '%.40s...' is longer than %zu "
				  "characters", spec, sizeof(p->where) - 1);
	p->reader = find_reader(spec, name_len);
	if (!p->reader) {
		join_names(known, sizeof(known), readers, sizeof(readers[0]), NREADERS);
		return ee_err_set(err, EE_ERR_USAGE, "unknown dataset '%.*s' (known: %s)",
				  (int)name_len, spec, known);
	}
	if (!p->reader->has_splits) {
		p->split = &whole_file;
		return parse_where(p, spec, colon ? colon + 1 : NULL,
				   colon ? strlen(colon + 1) : 0, err);
	}
	if (!colon)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': no split (%s%s)", spec,
				  p->reader->name, p->reader->syntax);
	rest = colon + 1;
	last = strrchr(rest, ':');
	p->split = find_split(last ? last + 1 : rest);
	if (!p->split) {
		join_names(known, sizeof(known), splits, sizeof(splits[0]), NSPLITS);
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': unknown split '%s' (known: %s)",
				  spec, last ? last + 1 : rest, known);
	}
	return parse_where(p, spec, last ? rest : NULL, last ? (size_t)(last - rest) : 0, err);
}

/* Shrinks an array to keep count elements from first on (realloc failing to shrink is
 * harmless: the old block stays). */
static void *keep_range(void *base, size_t elem, size_t first, size_t count)
{
	void *p;

	if (!base)
		return NULL;
	memmove(base, (char *)base + first * elem, count * elem);
	p = realloc(base, count * elem);
	return p ? p : base;
}

/* Cuts the split's samples out of the part a reader opened. */
static int cut_split(struct ee_dataset *ds, const struct split *s, struct ee_err *err)
{
	size_t pixels = (size_t)ds->c * ds->h * ds->w, first, count;

	if (s->cut == CUT_ALL)
		return EE_OK;
	if (ds->n <= EE_DATASET_VAL_SIZE)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': the training set holds %d "
				  "images, too few to hold out %d for val", ds->spec, ds->n,
				  EE_DATASET_VAL_SIZE);
	first = s->cut == CUT_HEAD ? 0 : (size_t)ds->n - EE_DATASET_VAL_SIZE;
	count = s->cut == CUT_HEAD ? (size_t)ds->n - EE_DATASET_VAL_SIZE : EE_DATASET_VAL_SIZE;
	ds->u8 = keep_range(ds->u8, pixels, first, count);
	ds->f32 = keep_range(ds->f32, pixels * sizeof(float), first, count);
	ds->labels = keep_range(ds->labels, sizeof(int32_t), first, count);
	ds->n = (int)count;
	return EE_OK;
}

int ee_dataset_open(struct ee_dataset *ds, const char *spec, struct ee_err *err)
{
	struct parsed p;
	int rc;

	memset(ds, 0, sizeof(*ds));
	rc = parse_spec(&p, spec, err);
	if (rc < 0)
		return rc;
	snprintf(ds->spec, sizeof(ds->spec), "%s", spec);
	snprintf(ds->name, sizeof(ds->name), "%s", p.reader->name);
	rc = p.reader->open(ds, p.where, p.split->part, err);
	if (rc >= 0)
		rc = cut_split(ds, p.split, err);
	if (rc < 0)
		ee_dataset_release(ds);
	return rc;
}

void ee_dataset_release(struct ee_dataset *ds)
{
	int i;

	for (i = 0; ds->paths && i < ds->n; i++)
		free(ds->paths[i]);
	free(ds->paths);
	ds->paths = NULL;
	free(ds->u8);
	free(ds->f32);
	free(ds->labels);
	free(ds->index);
	ds->index = NULL;
	ds->u8 = NULL;
	ds->f32 = NULL;
	ds->labels = NULL;
	ds->n = 0;
}

static char help_text[NREADERS * 160];

static void build_help(void)
{
	size_t i, len = 0;

	for (i = 0; i < NREADERS && len < sizeof(help_text); i++) {
		char head[48];

		snprintf(head, sizeof(head), "%s%s", readers[i].name, readers[i].syntax);
		len += (size_t)snprintf(help_text + len, sizeof(help_text) - len, "  %-26s  %s\n",
					head, readers[i].description);
	}
}

const char *ee_dataset_help(void)
{
	static once_flag once = ONCE_FLAG_INIT;

	call_once(&once, build_help);
	return help_text;
}

/* ---- helpers shared by the readers (dataset-impl.h) ---- */

int ee_dataset_check_size(const char *file, uint64_t n, uint64_t c, uint64_t h, uint64_t w,
			  size_t elem, struct ee_err *err)
{
	uint64_t pixels;

	if (n == 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': holds no images", file);
	if (n > INT_MAX)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': claims %llu images, more than "
				  "%d", file, (unsigned long long)n, INT_MAX);
	if (c == 0 || h == 0 || w == 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': empty image shape %llux%llux%llu",
				  file, (unsigned long long)c, (unsigned long long)h,
				  (unsigned long long)w);
	/* Each factor is below 2^32 only if checked; divide instead of multiplying. */
	if (c > EE_DATASET_MAX_PIXELS || h > EE_DATASET_MAX_PIXELS / c ||
	    w > EE_DATASET_MAX_PIXELS / (c * h))
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': image shape %llux%llux%llu is "
				  "larger than %d values", file, (unsigned long long)c,
				  (unsigned long long)h, (unsigned long long)w,
				  EE_DATASET_MAX_PIXELS);
	pixels = c * h * w;
	if (n > EE_DATASET_MAX_BYTES / elem / pixels)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': %llu images of %llu values are "
				  "more than %llu GiB", file, (unsigned long long)n,
				  (unsigned long long)pixels,
				  (unsigned long long)(EE_DATASET_MAX_BYTES >> 30));
	return EE_OK;
}

int ee_dataset_alloc(struct ee_dataset *ds, const char *file, int n, int c, int h, int w,
		     size_t elem, struct ee_err *err)
{
	size_t bytes = (size_t)n * c * h * w * elem;

	ds->n = n;
	ds->c = c;
	ds->h = h;
	ds->w = w;
	ds->labels = malloc((size_t)n * sizeof(*ds->labels));
	if (elem == 1)
		ds->u8 = malloc(bytes);
	else
		ds->f32 = malloc(bytes);
	if (!ds->labels || (!ds->u8 && !ds->f32))
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': cannot allocate %zu bytes for "
				  "%d images", file, bytes, n);
	return EE_OK;
}

int ee_dataset_check_labels(const char *file, const int32_t *labels, int n, int first,
			    int num_classes, struct ee_err *err)
{
	int i;

	for (i = 0; i < n; i++)
		if (labels[i] < 0 || labels[i] >= num_classes)
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': label %ld of sample %d "
					  "is out of range (%d classes)", file, (long)labels[i],
					  first + i, num_classes);
	return EE_OK;
}

int ee_dataset_file_size(const char *path, uint64_t *size, struct ee_err *err)
{
	struct stat st;

	if (stat(path, &st) < 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot open: %s", path,
				  strerror(errno));
	if (!S_ISREG(st.st_mode))
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': not a regular file", path);
	if (st.st_size == 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': file is empty", path);
	*size = (uint64_t)st.st_size;
	return EE_OK;
}

int ee_dataset_path(char *out, size_t size, const char *dir, const char *name,
		    struct ee_err *err)
{
	int len = snprintf(out, size, "%s/%s", dir, name);

	if (len < 0 || (size_t)len >= size)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s/%s': path is too long", dir,
				  name);
	return EE_OK;
}

/* ---- preprocessing ---- */

/*
 * Where a source axis of length src lands in a destination axis of length dst after
 * centre padding or cropping: destination index d reads source d + shift; only
 * [lo, hi) have a source, the rest are padding. shift = floor((src - dst) / 2) for a
 * crop, -floor((dst - src) / 2) for a pad: the odd one out is at the end either way.
 */
struct axis {
	int shift, lo, hi;
};

static struct axis place_axis(int src, int dst)
{
	struct axis a;

	a.shift = src >= dst ? (src - dst) / 2 : -((dst - src) / 2);
	a.lo = a.shift < 0 ? -a.shift : 0;
	a.hi = src - a.shift < dst ? src - a.shift : dst;
	return a;
}

/* Per-channel normalisation: a table for uint8 pixels, mean and std for float ones. */
struct norm {
	float lut[256]; /* ((float)v / 255.0f - mean) / std */
	float mean, std;
	float pad;      /* (0 - mean) / std */
};

/* Converts one row of n source pixels, starting at src, into dst. */
typedef void (*row_fn)(float *dst, const void *src, int n, const struct norm *nm);

static void row_u8(float *dst, const void *src, int n, const struct norm *nm)
{
	const uint8_t *s = src;
	int x;

	for (x = 0; x < n; x++)
		dst[x] = nm->lut[s[x]];
}

static void row_f32(float *dst, const void *src, int n, const struct norm *nm)
{
	const float *s = src;
	int x;

	for (x = 0; x < n; x++)
		dst[x] = (s[x] - nm->mean) / nm->std;
}

static void fill(float *dst, int n, float v)
{
	int i;

	for (i = 0; i < n; i++)
		dst[i] = v;
}

/* One channel plane: src is [sh][sw] elements of elem bytes, dst [dh][dw] floats. */
static void place_plane(float *dst, int dh, int dw, const char *src, int sw, size_t elem,
			struct axis ay, struct axis ax, row_fn row, const struct norm *nm)
{
	int y;

	for (y = 0; y < dh; y++, dst += dw) {
		if (y < ay.lo || y >= ay.hi) {
			fill(dst, dw, nm->pad);
			continue;
		}
		fill(dst, ax.lo, nm->pad);
		row(dst + ax.lo, src + ((size_t)(y + ay.shift) * sw + ax.lo + ax.shift) * elem,
		    ax.hi - ax.lo, nm);
		fill(dst + ax.hi, dw - ax.hi, nm->pad);
	}
}

static int check_batch(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		       const float *std, struct ee_err *err)
{
	int ch;

	if (start < 0 || count < 0 || start > ds->n || count > ds->n - start)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': samples [%d, %lld) are outside "
				  "its %d samples", ds->spec, start, (long long)start + count,
				  ds->n);
	if (in.c <= 0 || in.h <= 0 || in.w <= 0)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': empty model input shape "
				  "%dx%dx%d", ds->spec, in.c, in.h, in.w);
	if (in.c != ds->c && !ds->paths)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %d channel%s but the model "
				  "expects %d", ds->spec, ds->c, ds->c == 1 ? "" : "s", in.c);
	for (ch = 0; std && ch < in.c; ch++)
		if (!(fabsf(std[ch]) > 0) || !isfinite(std[ch]))
			return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': std of channel %d is "
					  "%g", ds->spec, ch, (double)std[ch]);
	return EE_OK;
}

/* The same float32 operations as ToTensor then Normalize, done once per channel. */
static void make_norm(struct norm *nm, float mean, float std)
{
	int v;

	nm->mean = mean;
	nm->std = std;
	nm->pad = (0.0f - mean) / std;
	for (v = 0; v < 256; v++)
		nm->lut[v] = ((float)v / 255.0f - mean) / std;
}

/* ee_dataset_batch on pixels in memory, once checked. */
static int place_batch(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		       const float *mean, const float *std, float *dst, struct ee_err *err)
{
	struct axis ay = place_axis(ds->h, in.h), ax = place_axis(ds->w, in.w);
	size_t elem = ds->u8 ? 1 : sizeof(float), plane = (size_t)ds->h * ds->w;
	const char *base = ds->u8 ? (const char *)ds->u8 : (const char *)ds->f32;
	row_fn row = ds->u8 ? row_u8 : row_f32;
	struct norm *nm;
	int i, ch;

	nm = malloc((size_t)in.c * sizeof(*nm));
	if (!nm)
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': cannot allocate "
				  "normalisation tables", ds->spec);
	for (ch = 0; ch < in.c; ch++)
		make_norm(&nm[ch], mean ? mean[ch] : 0.0f, std ? std[ch] : 1.0f);
	for (i = 0; i < count; i++)
		for (ch = 0; ch < in.c; ch++)
			place_plane(dst + ((size_t)i * in.c + ch) * in.h * in.w, in.h, in.w,
				    base + ((size_t)(start + i) * ds->c + ch) * plane * elem,
				    ds->w, elem, ay, ax, row, &nm[ch]);
	free(nm);
	return EE_OK;
}

int ee_dataset_batch(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		     const float *mean, const float *std, float *dst, struct ee_err *err)
{
	struct ee_dataset view;
	uint8_t *u8;
	int rc = check_batch(ds, start, count, in, std, err);

	if (rc < 0 || !ds->paths || count == 0)
		return rc < 0 ? rc : place_batch(ds, start, count, in, mean, std, dst, err);
	/* Image files: decoded and cropped to the input shape, then as uint8 pixels. */
	u8 = malloc((size_t)count * ee_shape_numel(in));
	if (!u8)
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': out of memory for %d images",
				  ds->spec, count);
	rc = ee_dataset_images_u8(ds, start, count, in, u8, NULL, err);
	if (rc == EE_OK) {
		view = *ds;
		view.u8 = u8;
		view.f32 = NULL;
		view.c = in.c;
		view.h = in.h;
		view.w = in.w;
		rc = place_batch(&view, 0, count, in, mean, std, dst, err);
	}
	free(u8);
	return rc;
}

int ee_dataset_batch_u8(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
			uint8_t *dst, int *bad, struct ee_err *err)
{
	size_t per = ee_shape_numel(in), k;
	float *x;
	int i, rc = check_batch(ds, start, count, in, NULL, err);

	if (rc < 0 || ds->paths)
		return rc < 0 ? rc : ee_dataset_images_u8(ds, start, count, in, dst, bad, err);
	if (!ds->u8)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' holds float32 pixels, not "
				  "uint8", ds->spec);
	x = malloc(per * sizeof(float));
	if (!x)
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': out of memory", ds->spec);
	/* v / 255.0f * 255 rounds back to v exactly. */
	for (i = 0; i < count && rc == EE_OK; i++) {
		rc = place_batch(ds, start + i, 1, in, NULL, NULL, x, err);
		for (k = 0; rc == EE_OK && k < per; k++)
			dst[(size_t)i * per + k] = (uint8_t)lrintf(x[k] * 255.0f);
		if (bad)
			bad[i] = 0;
	}
	free(x);
	return rc;
}
