/*
 * check_dataset.c - the dataset readers, spec parsing, splits and preprocessing.
 *
 * Fixtures are written at start-up into tu_tmpdir(): IDX sets (gzipped and plain),
 * CIFAR-10/100 binaries and small HDF5 files. Every pixel is pix(seed, i, k) and every
 * label lab(seed, i, classes), so any sample can be checked wherever a split puts it.
 * The training parts hold just over EE_DATASET_VAL_SIZE samples so that train is a few.
 * The last case reads Debian's real Fashion-MNIST.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <check.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "plugins/dataset.h"
#include "tests/unit/testutil.h"

#define FMNIST "/usr/share/datasets/fashion-mnist"
#define PATH_SZ 512 /* fixture paths */
#define SPEC_SZ 600 /* specs: a path and a reader name */
#define IDX_TEST_N 4
#define IDX_TRAIN_N (EE_DATASET_VAL_SIZE + 3)
#define IDX_H 2
#define IDX_W 3
#define CIFAR_PIXELS 3072
#define CIFAR10_PER_BATCH 1002 /* 5 batches: 5010 training images */
#define CIFAR100_TRAIN_N (EE_DATASET_VAL_SIZE + 2)

enum seed { S_IDX_TEST = 1, S_IDX_TRAIN, S_C10_TEST, S_C10_TRAIN, S_C100_TEST, S_C100_TRAIN };

static uint8_t pix(int seed, int i, int k)
{
	return (uint8_t)(i * 31 + k * 7 + seed * 13);
}

static int lab(int seed, int i, int classes)
{
	return (i * 3 + seed) % classes;
}

static char *vstrf(char *buf, size_t size, const char *fmt, va_list ap)
{
	int len = vsnprintf(buf, size, fmt, ap);

	if (len < 0 || (size_t)len >= size)
		abort(); /* a fixture path cut short would test the wrong thing */
	return buf;
}

/* snprintf for fixture paths and specs that aborts rather than cut one short. */
static char *strf(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static char *strf(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vstrf(buf, size, fmt, ap);
	va_end(ap);
	return buf;
}

/* strf for a path under the test's temporary directory. */
static const char *tpath(char *buf, size_t size, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static const char *tpath(char *buf, size_t size, const char *fmt, ...)
{
	size_t len = strlen(strf(buf, size, "%s/", tu_tmpdir()));
	va_list ap;

	va_start(ap, fmt);
	vstrf(buf + len, size - len, fmt, ap);
	va_end(ap);
	return buf;
}

static const char *tdir(char *buf, size_t size, const char *name)
{
	tpath(buf, size, "%s", name);
	mkdir(buf, 0700);
	return buf;
}

/* ---- fixture writers (called outside tests too, so they abort rather than assert) ---- */

static void need(int ok, const char *what, const char *path)
{
	if (!ok) {
		fprintf(stderr, "check_dataset: fixture: %s '%s' failed\n", what, path);
		abort();
	}
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/* Writes head then body to path, through gzip if gz. */
static void write_file(const char *path, int gz, const void *head, size_t hn, const void *body,
		       size_t bn)
{
	if (gz) {
		gzFile f = gzopen(path, "wb");

		need(f != NULL, "gzopen", path);
		need(gzwrite(f, head, (unsigned)hn) == (int)hn, "gzwrite", path);
		need(!bn || gzwrite(f, body, (unsigned)bn) == (int)bn, "gzwrite", path);
		need(gzclose(f) == Z_OK, "gzclose", path);
	} else {
		FILE *f = fopen(path, "wb");

		need(f != NULL, "fopen", path);
		need(fwrite(head, 1, hn, f) == hn && (!bn || fwrite(body, 1, bn, f) == bn), "fwrite",
		     path);
		need(fclose(f) == 0, "fclose", path);
	}
}

/* An IDX file dir/name: magic, ndims dimensions, then len bytes of data. */
static void write_idx(const char *dir, const char *name, int gz, uint32_t magic,
		      const uint32_t *dims, int ndims, const uint8_t *data, size_t len)
{
	uint8_t head[16];
	char path[PATH_SZ];
	int i;

	put_be32(head, magic);
	for (i = 0; i < ndims; i++)
		put_be32(head + 4 + 4 * i, dims[i]);
	strf(path, sizeof(path), "%s/%s%s", dir, name, gz ? ".gz" : "");
	write_file(path, gz, head, 4 + 4 * (size_t)ndims, data, len);
}

/* prefix "t10k" or "train": n images of h x w (pix) and their labels (lab, 10 classes). */
static void write_idx_set(const char *dir, const char *prefix, int n, int h, int w, int seed,
			  int gz)
{
	size_t plane = (size_t)h * w;
	uint8_t *px = malloc((size_t)n * plane), *lb = malloc((size_t)n);
	uint32_t dims[3] = { (uint32_t)n, (uint32_t)h, (uint32_t)w };
	char name[64];
	size_t k;
	int i;

	for (i = 0; i < n; i++) {
		for (k = 0; k < plane; k++)
			px[(size_t)i * plane + k] = pix(seed, i, (int)k);
		lb[i] = (uint8_t)lab(seed, i, 10);
	}
	strf(name, sizeof(name), "%s-images-idx3-ubyte", prefix);
	write_idx(dir, name, gz, 0x803, dims, 3, px, (size_t)n * plane);
	strf(name, sizeof(name), "%s-labels-idx1-ubyte", prefix);
	write_idx(dir, name, gz, 0x801, dims, 1, lb, (size_t)n);
	free(px);
	free(lb);
}

/* CIFAR records [first, first + n) of a set: label byte(s) (CIFAR-100: a coarse label
 * that differs from the fine one, then the fine one), then 3072 pixels. */
static void write_cifar(const char *path, int label_bytes, int classes, int first, int n,
			int seed)
{
	size_t rec = (size_t)label_bytes + CIFAR_PIXELS;
	uint8_t *buf = malloc(rec * (size_t)n);
	int i, k;

	for (i = 0; i < n; i++) {
		uint8_t *r = buf + rec * (size_t)i;

		r[0] = (uint8_t)(19 - (first + i) % 20);
		r[label_bytes - 1] = (uint8_t)lab(seed, first + i, classes);
		for (k = 0; k < CIFAR_PIXELS; k++)
			r[label_bytes + k] = pix(seed, first + i, k);
	}
	write_file(path, 0, buf, rec * (size_t)n, NULL, 0);
	free(buf);
}

static void write_bytes(const char *path, const char *text)
{
	write_file(path, 0, text, strlen(text), NULL, 0);
}

static void build_fixtures(void)
{
	char dir[PATH_SZ], path[PATH_SZ];
	int b;

	tdir(dir, sizeof(dir), "idx");
	write_idx_set(dir, "t10k", IDX_TEST_N, IDX_H, IDX_W, S_IDX_TEST, 1);
	write_idx_set(dir, "train", IDX_TRAIN_N, IDX_H, IDX_W, S_IDX_TRAIN, 1);
	tdir(dir, sizeof(dir), "plain:idx"); /* a colon in DIR, uncompressed files */
	write_idx_set(dir, "t10k", IDX_TEST_N, IDX_H, IDX_W, S_IDX_TEST, 0);
	tdir(dir, sizeof(dir), "cifar10");
	write_cifar(tpath(path, sizeof(path), "cifar10/test_batch.bin"), 1, 10, 0, 3,
		    S_C10_TEST);
	for (b = 0; b < 5; b++)
		write_cifar(tpath(path, sizeof(path), "cifar10/data_batch_%d.bin", b + 1), 1, 10,
			    b * CIFAR10_PER_BATCH, CIFAR10_PER_BATCH, S_C10_TRAIN);
	tdir(dir, sizeof(dir), "cifar100");
	write_cifar(tpath(path, sizeof(path), "cifar100/test.bin"), 2, 100, 0, 3, S_C100_TEST);
	write_cifar(tpath(path, sizeof(path), "cifar100/train.bin"), 2, 100, 0, CIFAR100_TRAIN_N,
		    S_C100_TRAIN);
}

/* ---- assertions ---- */

static void open_ok(struct ee_dataset *ds, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static void open_ok(struct ee_dataset *ds, const char *fmt, ...)
{
	struct ee_err err = { 0 };
	char spec[PATH_SZ];
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(spec, sizeof(spec), fmt, ap);
	va_end(ap);
	rc = ee_dataset_open(ds, spec, &err);
	ck_assert_msg(rc == EE_OK, "open '%s': %d %s", spec, rc, err.msg);
	ck_assert_str_eq(ds->spec, spec);
}

/* Opening spec fails with code, a one-line lowercase message holding want (and want2,
 * if not NULL), and leaves nothing allocated. Returns the message for exact checks. */
static const char *open_fails(const char *spec, int code, const char *want, const char *want2)
{
	static struct ee_err err;
	struct ee_dataset ds;
	int rc;

	memset(&err, 0, sizeof(err));
	rc = ee_dataset_open(&ds, spec, &err);
	ck_assert_msg(rc == code, "open '%s': want %d got %d (%s)", spec, code, rc, err.msg);
	ck_assert_int_eq(err.code, code);
	ck_assert_msg(strstr(err.msg, want), "'%s' lacks '%s'", err.msg, want);
	ck_assert_msg(!want2 || strstr(err.msg, want2), "'%s' lacks '%s'", err.msg, want2);
	ck_assert_msg(!strchr(err.msg, '\n') && err.msg[0] >= 'a' && err.msg[0] <= 'z',
		      "not one lowercase line: '%s'", err.msg);
	ck_assert_ptr_null(ds.u8);
	ck_assert_ptr_null(ds.f32);
	ck_assert_ptr_null(ds.labels);
	return err.msg;
}

/* Sample j of ds is sample i of the set written with seed. */
static void check_sample(const struct ee_dataset *ds, int j, int i, int seed)
{
	size_t k, plane = (size_t)ds->c * ds->h * ds->w;

	ck_assert_int_lt(j, ds->n);
	ck_assert_int_eq(ds->labels[j], lab(seed, i, ds->num_classes));
	for (k = 0; k < plane; k++)
		ck_assert_msg(ds->u8[(size_t)j * plane + k] == pix(seed, i, (int)k),
			      "%s: sample %d pixel %zu: want %d got %d", ds->spec, j, k,
			      pix(seed, i, (int)k), ds->u8[(size_t)j * plane + k]);
}

/* Every sample of ds is sample first + j of the set written with seed. */
static void check_all(const struct ee_dataset *ds, int n, int first, int seed)
{
	int j;

	ck_assert_int_eq(ds->n, n);
	ck_assert_ptr_null(ds->f32);
	for (j = 0; j < n; j++)
		check_sample(ds, j, first + j, seed);
}

/* Opens reader:DIR:SPLIT and checks its size and its first and last samples. */
static void check_split(const char *reader, const char *dir, const char *split, int n,
			int first, int seed)
{
	struct ee_dataset ds;

	open_ok(&ds, "%s:%s/%s:%s", reader, tu_tmpdir(), dir, split);
	ck_assert_int_eq(ds.n, n);
	check_sample(&ds, 0, first, seed);
	check_sample(&ds, n - 1, first + n - 1, seed);
	ee_dataset_release(&ds);
}

/* ---- spec parsing ---- */

START_TEST(spec_unknown_reader)
{
	ck_assert_str_eq(open_fails("x", EE_ERR_USAGE, "x", NULL),
			 "unknown dataset 'x' (known: fashion-mnist, mnist, cifar10, cifar100, h5, "
			 "imagefolder, imagelist)");
	open_fails("imagenet:/data:val", EE_ERR_USAGE, "unknown dataset 'imagenet'", NULL);
	open_fails("", EE_ERR_USAGE, "unknown dataset ''", NULL);
}
END_TEST

START_TEST(spec_bad_split_or_dir)
{
	ck_assert_str_eq(open_fails("fashion-mnist:validation", EE_ERR_USAGE, "validation", NULL),
			 "dataset 'fashion-mnist:validation': unknown split 'validation' (known: "
			 "test, train, val, train-all)");
	open_fails("cifar10:/data:Test", EE_ERR_USAGE, "unknown split 'Test'", NULL);
	open_fails("fashion-mnist", EE_ERR_USAGE, "no split", NULL);
	open_fails("cifar10:test", EE_ERR_USAGE, "cifar10 needs a directory", NULL);
	open_fails("mnist:test", EE_ERR_USAGE, "mnist needs a directory", NULL);
	open_fails("fashion-mnist::test", EE_ERR_USAGE, "empty directory", NULL);
	open_fails("h5", EE_ERR_USAGE, "h5 needs a file", NULL);
	open_fails("h5:", EE_ERR_USAGE, "empty file name", NULL);
}
END_TEST

START_TEST(spec_too_long)
{
	char spec[400];

	memset(spec, 'a', sizeof(spec) - 1);
	memcpy(spec, "h5:/", 4);
	spec[sizeof(spec) - 1] = '\0';
	open_fails(spec, EE_ERR_USAGE, "longer than 255", NULL);
}
END_TEST

START_TEST(spec_help_lists_readers)
{
	const char *help = ee_dataset_help();

	ck_assert_ptr_nonnull(strstr(help, "  fashion-mnist[:DIR]:SPLIT "));
	ck_assert_ptr_nonnull(strstr(help, "  mnist:DIR:SPLIT "));
	ck_assert_ptr_nonnull(strstr(help, "  cifar10:DIR:SPLIT "));
	ck_assert_ptr_nonnull(strstr(help, "  cifar100:DIR:SPLIT "));
	ck_assert_ptr_nonnull(strstr(help, "  h5:FILE "));
	ck_assert_int_eq(help[strlen(help) - 1], '\n');
	ck_assert_ptr_eq(help, ee_dataset_help());
}
END_TEST

/* ---- IDX ---- */

START_TEST(idx_test_values)
{
	struct ee_dataset ds;

	open_ok(&ds, "fashion-mnist:%s/idx:test", tu_tmpdir());
	ck_assert_str_eq(ds.name, "fashion-mnist");
	ck_assert_int_eq(ds.c, 1);
	ck_assert_int_eq(ds.h, IDX_H);
	ck_assert_int_eq(ds.w, IDX_W);
	ck_assert_int_eq(ds.num_classes, 10);
	check_all(&ds, IDX_TEST_N, 0, S_IDX_TEST);
	/* spot-check the formulas themselves: sample 1, row 1, column 2 */
	ck_assert_int_eq(ds.u8[1 * 6 + 1 * 3 + 2], (uint8_t)(31 + 5 * 7 + S_IDX_TEST * 13));
	ck_assert_int_eq(ds.labels[3], (9 + S_IDX_TEST) % 10);
	ee_dataset_release(&ds);
	ck_assert_ptr_null(ds.u8);
	ck_assert_int_eq(ds.n, 0);
}
END_TEST

START_TEST(idx_plain_and_colon_dir)
{
	struct ee_dataset ds;

	open_ok(&ds, "mnist:%s/plain:idx:test", tu_tmpdir());
	ck_assert_str_eq(ds.name, "mnist");
	check_all(&ds, IDX_TEST_N, 0, S_IDX_TEST);
	ee_dataset_release(&ds);
}
END_TEST

START_TEST(idx_splits)
{
	check_split("fashion-mnist", "idx", "train-all", IDX_TRAIN_N, 0, S_IDX_TRAIN);
	check_split("fashion-mnist", "idx", "train", IDX_TRAIN_N - EE_DATASET_VAL_SIZE, 0,
		    S_IDX_TRAIN);
	check_split("mnist", "idx", "val", EE_DATASET_VAL_SIZE,
		    IDX_TRAIN_N - EE_DATASET_VAL_SIZE, S_IDX_TRAIN);
	check_split("mnist", "idx", "test", IDX_TEST_N, 0, S_IDX_TEST);
}
END_TEST

/* ---- IDX, bad input ---- */

/* A fresh directory name for a bad-input case, and a spec for its test split. */
static const char *bad_dir(char *dir, size_t size, const char *name, char *spec, size_t ssize)
{
	tdir(dir, size, name);
	strf(spec, ssize, "fashion-mnist:%s:test", dir);
	return dir;
}

START_TEST(idx_missing)
{
	char dir[PATH_SZ], spec[SPEC_SZ];

	bad_dir(dir, sizeof(dir), "idx-missing", spec, sizeof(spec));
	open_fails(spec, EE_ERR_INPUT, "/idx-missing/t10k-images-idx3-ubyte.gz': cannot open",
		   "No such file");
	open_fails("fashion-mnist:/nonexistent/dir:val", EE_ERR_INPUT,
		   "/nonexistent/dir/train-images-idx3-ubyte.gz", NULL);
}
END_TEST

START_TEST(idx_empty)
{
	char dir[PATH_SZ], spec[SPEC_SZ], path[SPEC_SZ];

	bad_dir(dir, sizeof(dir), "idx-empty", spec, sizeof(spec));
	strf(path, sizeof(path), "%s/t10k-images-idx3-ubyte.gz", dir);
	write_bytes(path, "");
	open_fails(spec, EE_ERR_INPUT, path, "file is empty");
	write_file(path, 0, "\0\0\x08", 3, NULL, 0);
	open_fails(spec, EE_ERR_INPUT, path, "3 bytes are too short for an IDX header");
}
END_TEST

START_TEST(idx_truncated_gzip)
{
	char dir[PATH_SZ], spec[SPEC_SZ], path[SPEC_SZ];
	struct stat st;

	bad_dir(dir, sizeof(dir), "idx-trunc", spec, sizeof(spec));
	write_idx_set(dir, "t10k", 500, 28, 28, 9, 1);
	strf(path, sizeof(path), "%s/t10k-images-idx3-ubyte.gz", dir);
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size / 2), 0);
	open_fails(spec, EE_ERR_INPUT, path, "(gzip data is truncated)");
	ck_assert_int_eq(truncate(path, 12), 0); /* inside the gzip header */
	open_fails(spec, EE_ERR_INPUT, path, "truncated");
}
END_TEST

START_TEST(idx_corrupt_gzip)
{
	char dir[PATH_SZ], spec[SPEC_SZ], path[SPEC_SZ];
	FILE *f;

	bad_dir(dir, sizeof(dir), "idx-corrupt", spec, sizeof(spec));
	write_idx_set(dir, "t10k", 50, 28, 28, 9, 1);
	strf(path, sizeof(path), "%s/t10k-images-idx3-ubyte.gz", dir);
	f = fopen(path, "r+b");
	ck_assert_ptr_nonnull(f);
	fseek(f, -6, SEEK_END); /* the CRC-32 of the gzip trailer */
	fputc(0x5a, f);
	fputc(0xa5, f);
	fclose(f);
	open_fails(spec, EE_ERR_INPUT, path, "gz': cannot read: incorrect data check");
}
END_TEST

START_TEST(idx_bad_magic)
{
	char dir[PATH_SZ], spec[SPEC_SZ];
	uint32_t dims[3] = { 1, 2, 2 };
	uint8_t px[4] = { 0 };

	bad_dir(dir, sizeof(dir), "idx-magic", spec, sizeof(spec));
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x801, dims, 3, px, 4);
	open_fails(spec, EE_ERR_INPUT, "t10k-images-idx3-ubyte.gz': not an IDX file of images",
		   "magic 0x00000801, expected 0x00000803");
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x0d03, dims, 3, px, 4); /* float IDX */
	open_fails(spec, EE_ERR_INPUT, "magic 0x00000d03", NULL);
}
END_TEST

START_TEST(idx_header_claims_too_much)
{
	char dir[PATH_SZ], spec[SPEC_SZ], want[700];
	uint32_t dims[3] = { 10000, 28, 28 };
	uint8_t *px = calloc(312 * 784 + 100, 1);

	bad_dir(dir, sizeof(dir), "idx-claims", spec, sizeof(spec));
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x803, dims, 3, px, 312 * 784 + 100);
	free(px);
	strf(want, sizeof(want), "dataset '%s/t10k-images-idx3-ubyte.gz': header claims "
		 "10000 images of 28x28 but the file holds 312", dir);
	ck_assert_str_eq(open_fails(spec, EE_ERR_INPUT, "holds 312", NULL), want);
}
END_TEST

/* A test set of IDX_TEST_N good images whose labels file claims `claimed` labels and
 * holds lb[0..len); dir and spec get the case's directory and spec. */
static void labels_case(const char *name, int gz, uint32_t claimed, const uint8_t *lb,
			size_t len, char *dir, char *spec)
{
	bad_dir(dir, PATH_SZ, name, spec, SPEC_SZ);
	write_idx_set(dir, "t10k", IDX_TEST_N, 2, 2, 9, gz);
	write_idx(dir, "t10k-labels-idx1-ubyte", gz, 0x801, &claimed, 1, lb, len);
}

START_TEST(idx_labels_claim_too_much)
{
	char dir[PATH_SZ], spec[SPEC_SZ];
	uint8_t lb[IDX_TEST_N] = { 0 };

	labels_case("idx-lclaims", 0, IDX_TEST_N + 1, lb, IDX_TEST_N, dir, spec);
	open_fails(spec, EE_ERR_INPUT, "t10k-labels-idx1-ubyte': header claims 5 labels but the "
		   "file holds 4", NULL);
}
END_TEST

START_TEST(idx_huge_headers)
{
	char dir[PATH_SZ], spec[SPEC_SZ];
	uint32_t pixels[3] = { 1, 100000, 100000 }, count[3] = { 3000000000u, 1, 1 };
	uint32_t bytes[3] = { 20000000, 28, 28 }, zero[3] = { 5, 0, 28 };
	uint8_t px[4] = { 0 };

	bad_dir(dir, sizeof(dir), "idx-huge", spec, sizeof(spec));
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x803, pixels, 3, px, 4);
	open_fails(spec, EE_ERR_INPUT, "image shape 1x100000x100000 is larger than", NULL);
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x803, count, 3, px, 4);
	open_fails(spec, EE_ERR_INPUT, "claims 3000000000 images, more than 2147483647", NULL);
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x803, bytes, 3, px, 4);
	open_fails(spec, EE_ERR_INPUT, "20000000 images of 784 values are more than 8 GiB", NULL);
	write_idx(dir, "t10k-images-idx3-ubyte", 1, 0x803, zero, 3, px, 4);
	open_fails(spec, EE_ERR_INPUT, "empty image shape 1x0x28", NULL);
}
END_TEST

START_TEST(idx_count_mismatch)
{
	char dir[PATH_SZ], spec[SPEC_SZ], img[SPEC_SZ];
	uint8_t lb[IDX_TEST_N] = { 0 };

	labels_case("idx-count", 1, IDX_TEST_N - 1, lb, IDX_TEST_N - 1, dir, spec);
	strf(img, sizeof(img), "but '%s/t10k-images-idx3-ubyte.gz' holds 4 images", dir);
	open_fails(spec, EE_ERR_INPUT, "t10k-labels-idx1-ubyte.gz': holds 3 labels", img);
}
END_TEST

START_TEST(idx_label_out_of_range)
{
	char dir[PATH_SZ], spec[SPEC_SZ];
	uint8_t lb[IDX_TEST_N] = { 0, 9, 10, 3 };

	labels_case("idx-label", 1, IDX_TEST_N, lb, IDX_TEST_N, dir, spec);
	open_fails(spec, EE_ERR_INPUT, "t10k-labels-idx1-ubyte.gz': label 10 of sample 2 is out "
		   "of range (10 classes)", NULL);
}
END_TEST

START_TEST(idx_val_needs_enough_training_images)
{
	char dir[PATH_SZ], spec[SPEC_SZ];

	tdir(dir, sizeof(dir), "idx-small");
	write_idx_set(dir, "train", 10, 2, 2, 9, 1);
	strf(spec, sizeof(spec), "fashion-mnist:%s:val", dir);
	open_fails(spec, EE_ERR_INPUT, "holds 10 images, too few to hold out 5000 for val", NULL);
	strf(spec, sizeof(spec), "fashion-mnist:%s:train", dir);
	open_fails(spec, EE_ERR_INPUT, "too few", NULL);
}
END_TEST

/* ---- CIFAR ---- */

START_TEST(cifar10_values_and_splits)
{
	struct ee_dataset ds;
	int total = 5 * CIFAR10_PER_BATCH;

	open_ok(&ds, "cifar10:%s/cifar10:test", tu_tmpdir());
	ck_assert_str_eq(ds.name, "cifar10");
	ck_assert_int_eq(ds.c, 3);
	ck_assert_int_eq(ds.h, 32);
	ck_assert_int_eq(ds.w, 32);
	ck_assert_int_eq(ds.num_classes, 10);
	check_all(&ds, 3, 0, S_C10_TEST);
	/* channel 2 (blue), row 5, column 7 of sample 1 */
	ck_assert_int_eq(ds.u8[3072 + 2048 + 5 * 32 + 7],
			 pix(S_C10_TEST, 1, 2048 + 5 * 32 + 7));
	ee_dataset_release(&ds);
	check_split("cifar10", "cifar10", "train-all", total, 0, S_C10_TRAIN);
	check_split("cifar10", "cifar10", "train", total - EE_DATASET_VAL_SIZE, 0, S_C10_TRAIN);
	check_split("cifar10", "cifar10", "val", EE_DATASET_VAL_SIZE,
		    total - EE_DATASET_VAL_SIZE, S_C10_TRAIN);
	/* samples on both sides of a batch boundary */
	open_ok(&ds, "cifar10:%s/cifar10:train-all", tu_tmpdir());
	check_sample(&ds, CIFAR10_PER_BATCH - 1, CIFAR10_PER_BATCH - 1, S_C10_TRAIN);
	check_sample(&ds, 3 * CIFAR10_PER_BATCH, 3 * CIFAR10_PER_BATCH, S_C10_TRAIN);
	ee_dataset_release(&ds);
}
END_TEST

START_TEST(cifar100_fine_labels_and_splits)
{
	struct ee_dataset ds;

	open_ok(&ds, "cifar100:%s/cifar100:test", tu_tmpdir());
	ck_assert_int_eq(ds.num_classes, 100);
	check_all(&ds, 3, 0, S_C100_TEST);
	ck_assert_int_eq(ds.labels[2], 6 + S_C100_TEST); /* fine, not the coarse 17 */
	ee_dataset_release(&ds);
	check_split("cifar100", "cifar100", "train-all", CIFAR100_TRAIN_N, 0, S_C100_TRAIN);
	check_split("cifar100", "cifar100", "train", CIFAR100_TRAIN_N - EE_DATASET_VAL_SIZE, 0,
		    S_C100_TRAIN);
	check_split("cifar100", "cifar100", "val", EE_DATASET_VAL_SIZE,
		    CIFAR100_TRAIN_N - EE_DATASET_VAL_SIZE, S_C100_TRAIN);
}
END_TEST

START_TEST(cifar_bad_files)
{
	char dir[PATH_SZ], spec[SPEC_SZ], path[SPEC_SZ];
	static const uint8_t good[3073];
	uint8_t rec[3073] = { 0 };
	int b;

	tdir(dir, sizeof(dir), "cifar-bad");
	strf(spec, sizeof(spec), "cifar10:%s:test", dir);
	open_fails(spec, EE_ERR_INPUT, "cifar-bad/test_batch.bin': cannot open", "No such file");
	strf(path, sizeof(path), "%s/test_batch.bin", dir);
	write_bytes(path, "");
	open_fails(spec, EE_ERR_INPUT, path, "file is empty");
	write_file(path, 0, rec, sizeof(rec), rec, 100);
	open_fails(spec, EE_ERR_INPUT, path, "file size 3173 is not a multiple of the 3073-byte "
		   "record");
	rec[0] = 10;
	write_file(path, 0, good, sizeof(good), rec, sizeof(rec));
	open_fails(spec, EE_ERR_INPUT, path, "label 10 of sample 1 is out of range (10 classes)");
	for (b = 1; b <= 5; b++)
		if (b != 3)
			write_cifar(tpath(path, sizeof(path), "cifar-bad/data_batch_%d.bin", b), 1,
				    10, 0, 2, 9);
	strf(spec, sizeof(spec), "cifar10:%s:train-all", dir);
	open_fails(spec, EE_ERR_INPUT, "cifar-bad/data_batch_3.bin': cannot open", NULL);
}
END_TEST

START_TEST(cifar100_bad_label)
{
	char dir[PATH_SZ], spec[SPEC_SZ], path[SPEC_SZ];
	uint8_t rec[3074] = { 0 };

	tdir(dir, sizeof(dir), "cifar100-bad");
	strf(path, sizeof(path), "%s/test.bin", dir);
	rec[0] = 3;
	rec[1] = 100;
	write_file(path, 0, rec, sizeof(rec), NULL, 0);
	strf(spec, sizeof(spec), "cifar100:%s:test", dir);
	open_fails(spec, EE_ERR_INPUT, "label 100 of sample 0 is out of range (100 classes)", path);
	write_file(path, 0, rec, 3073, NULL, 0); /* a CIFAR-10 record */
	open_fails(spec, EE_ERR_INPUT, "not a multiple of the 3074-byte record", NULL);
}
END_TEST

/* ---- HDF5 ---- */

/* One dataset to write: name, file type (memory type the same), rank, dims, data. */
struct h5_item {
	const char *name;
	hid_t type;
	int rank;
	hsize_t dims[4];
	const void *data;
};

#define H5_END { NULL, 0, 0, { 0 }, NULL }
#define H5_IMAGES { "images", H5T_NATIVE_UINT8, 4, { 3, 1, 3, 4 }, h5_u8 } /* 3 of 1x3x4 */
#define H5_LABELS { "labels", H5T_NATIVE_INT16, 1, { 3 }, h5_labels16 }

/* Writes the items (name NULL ends them) and, if num_classes >= 0, that root attribute. */
static void write_h5(const char *path, const struct h5_item *items, long long num_classes)
{
	hid_t f = H5Fcreate(path, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);

	need(f >= 0, "H5Fcreate", path);
	for (; items->name; items++) {
		hid_t s = H5Screate_simple(items->rank, items->dims, NULL);
		hid_t d = H5Dcreate2(f, items->name, items->type, s, H5P_DEFAULT, H5P_DEFAULT,
				     H5P_DEFAULT);

		need(d >= 0 && H5Dwrite(d, items->type, H5S_ALL, H5S_ALL, H5P_DEFAULT,
					items->data) >= 0, items->name, path);
		H5Dclose(d);
		H5Sclose(s);
	}
	if (num_classes >= 0) {
		hid_t s = H5Screate(H5S_SCALAR);
		hid_t a = H5Acreate2(f, "num_classes", H5T_STD_I64LE, s, H5P_DEFAULT, H5P_DEFAULT);

		need(H5Awrite(a, H5T_NATIVE_LLONG, &num_classes) >= 0, "num_classes", path);
		H5Aclose(a);
		H5Sclose(s);
	}
	H5Fclose(f);
}

/* 3 images of 2x2x3 (pix, seed 7) as uint8, and the same as float32 / 255. */
static uint8_t h5_u8[36];
static float h5_f32[36];
static const int16_t h5_labels16[3] = { 0, 4, 2 };
static const uint64_t h5_labels64[3] = { 9, 0, 1 };

static void h5_data(void)
{
	int i;

	for (i = 0; i < 36; i++) {
		h5_u8[i] = pix(7, i / 12, i % 12);
		h5_f32[i] = (float)h5_u8[i] / 255.0f - 0.25f;
	}
}

static const char *h5_file(char *path, size_t size, const char *name,
			   const struct h5_item *items, long long num_classes, char *spec,
			   size_t ssize)
{
	tpath(path, size, "%s.h5", name);
	write_h5(path, items, num_classes);
	strf(spec, ssize, "h5:%s", path);
	return spec;
}

START_TEST(h5_uint8)
{
	struct h5_item items[] = {
		{ "images", H5T_NATIVE_UINT8, 4, { 3, 2, 2, 3 }, h5_u8 },
		H5_LABELS,
		H5_END,
	};
	char path[PATH_SZ], spec[SPEC_SZ];
	struct ee_dataset ds;

	h5_data();
	open_ok(&ds, "%s", h5_file(path, sizeof(path), "u8", items, -1, spec, sizeof(spec)));
	ck_assert_str_eq(ds.name, "h5");
	ck_assert_int_eq(ds.n, 3);
	ck_assert_int_eq(ds.c, 2);
	ck_assert_int_eq(ds.h, 2);
	ck_assert_int_eq(ds.w, 3);
	ck_assert_int_eq(ds.num_classes, 5); /* 1 + max label */
	ck_assert_ptr_null(ds.f32);
	ck_assert_mem_eq(ds.u8, h5_u8, sizeof(h5_u8));
	ck_assert_int_eq(ds.labels[0], 0);
	ck_assert_int_eq(ds.labels[1], 4);
	ck_assert_int_eq(ds.labels[2], 2);
	ee_dataset_release(&ds);
}
END_TEST

START_TEST(h5_float32_with_num_classes)
{
	struct h5_item items[] = {
		{ "images", H5T_NATIVE_FLOAT, 4, { 3, 1, 3, 4 }, h5_f32 },
		{ "labels", H5T_NATIVE_UINT64, 1, { 3 }, h5_labels64 },
		H5_END,
	};
	char path[PATH_SZ], spec[SPEC_SZ];
	struct ee_dataset ds;

	h5_data();
	open_ok(&ds, "%s", h5_file(path, sizeof(path), "f32", items, 12, spec, sizeof(spec)));
	ck_assert_int_eq(ds.num_classes, 12);
	ck_assert_int_eq(ds.c, 1);
	ck_assert_ptr_null(ds.u8);
	ck_assert_mem_eq(ds.f32, h5_f32, sizeof(h5_f32));
	ck_assert_int_eq(ds.labels[0], 9);
	ck_assert_int_eq(ds.labels[2], 1);
	ee_dataset_release(&ds);
}
END_TEST

/* Writes items as name.h5 and expects opening it to fail with a message naming the file
 * and holding want. */
static void h5_fails(const char *name, const struct h5_item *items, long long num_classes,
		     const char *want)
{
	char path[PATH_SZ], spec[SPEC_SZ];

	h5_file(path, sizeof(path), name, items, num_classes, spec, sizeof(spec));
	open_fails(spec, EE_ERR_INPUT, path, want);
}

START_TEST(h5_bad_shapes_and_types)
{
	static const float f64_pad[72];
	static const float labels_f[3];
	struct h5_item rank3[] = {
		{ "images", H5T_NATIVE_UINT8, 3, { 3, 4, 3 }, h5_u8 },
		H5_END,
	};
	struct h5_item f64[] = {
		{ "images", H5T_NATIVE_DOUBLE, 4, { 3, 1, 2, 3 }, f64_pad },
		H5_END,
	};
	struct h5_item lfloat[] = {
		H5_IMAGES,
		{ "labels", H5T_NATIVE_FLOAT, 1, { 3 }, labels_f },
		H5_END,
	};
	struct h5_item nmismatch[] = {
		H5_IMAGES,
		{ "labels", H5T_NATIVE_INT16, 1, { 2 }, h5_labels16 },
		H5_END,
	};
	struct h5_item lrank[] = {
		H5_IMAGES,
		{ "labels", H5T_NATIVE_INT16, 2, { 3, 1 }, h5_labels16 },
		H5_END,
	};

	h5_data();
	h5_fails("rank3", rank3, -1, "'/images' has rank 3, expected 4 [N,C,H,W]");
	h5_fails("f64", f64, -1, "'/images' has type float64, expected uint8 or float32");
	h5_fails("nothing", rank3 + 1, -1, "no dataset '/images'");
	lfloat[1].name = NULL;
	h5_fails("nolabels2", lfloat, -1, "no dataset '/labels'");
	lfloat[1].name = "labels";
	h5_fails("lfloat", lfloat, -1, "'/labels' has type float32, expected an integer type");
	h5_fails("lrank", lrank, -1, "'/labels' has rank 2, expected 1 [N]");
	h5_fails("nmismatch", nmismatch, -1, "'/images' holds 3 images but '/labels' 2 labels");
}
END_TEST

START_TEST(h5_bad_labels_and_values)
{
	static const int16_t negative[3] = { 1, -1, 0 };
	static float nan_images[36];
	struct h5_item items[] = {
		H5_IMAGES,
		H5_LABELS,
		H5_END,
	};

	h5_data();
	h5_fails("over", items, 4, "label 4 of sample 1 is out of range (4 classes)");
	h5_fails("attr0", items, 0, "root attribute 'num_classes' is not one integer in 1..");
	items[1].data = negative;
	h5_fails("negative", items, -1, "label -1 of sample 1 is out of range");
	items[1].data = h5_labels16;
	nan_images[14] = NAN;
	items[0].type = H5T_NATIVE_FLOAT;
	items[0].data = nan_images;
	h5_fails("nan", items, -1, "'/images' holds nan in image 1");
}
END_TEST

START_TEST(h5_bad_files)
{
	struct h5_item items[] = {
		H5_IMAGES,
		H5_LABELS,
		H5_END,
	};
	char path[PATH_SZ], spec[SPEC_SZ];
	struct stat st;

	h5_data();
	open_fails("h5:/nonexistent.h5", EE_ERR_INPUT, "'/nonexistent.h5': cannot open",
		   "No such file");
	strf(spec, sizeof(spec), "h5:%s", tu_tmpdir());
	open_fails(spec, EE_ERR_INPUT, "not a regular file", NULL);
	strf(spec, sizeof(spec), "h5:%s", tpath(path, sizeof(path), "empty.h5"));
	write_bytes(path, "");
	open_fails(spec, EE_ERR_INPUT, path, "file is empty");
	write_bytes(path, "images,labels\n1,2\n");
	open_fails(spec, EE_ERR_INPUT, path, "not an HDF5 file");
	h5_file(path, sizeof(path), "trunc", items, -1, spec, sizeof(spec));
	ck_assert_int_eq(stat(path, &st), 0);
	ck_assert_int_eq(truncate(path, st.st_size - 100), 0);
	open_fails(spec, EE_ERR_INPUT, path, "truncated HDF5 file");
}
END_TEST

/* ---- preprocessing ---- */

/* An in-memory dataset over pixels (not owned) as if opened from spec. */
static struct ee_dataset mem_dataset(const char *spec, int n, int c, int h, int w,
				     uint8_t *u8, float *f32)
{
	struct ee_dataset ds = { .n = n, .c = c, .h = h, .w = w, .num_classes = 10,
				 .u8 = u8, .f32 = f32 };

	strf(ds.spec, sizeof(ds.spec), "%s", spec);
	return ds;
}

static void batch_ok(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
		     const float *mean, const float *std, float *dst)
{
	struct ee_err err = { 0 };
	int rc = ee_dataset_batch(ds, start, count, in, mean, std, dst, &err);

	ck_assert_msg(rc == EE_OK, "batch: %d %s", rc, err.msg);
}

/* Pixels 0, 51, 102, 153, 204, 255 are 0, .2, .4, .6, .8, 1: with mean .5 and std .25
 * they become -2, -1.2, -.4, .4, 1.2, 2, and padding (0 - .5) / .25 = -2. */
START_TEST(batch_pad_odd_extra_after)
{
	uint8_t px[6] = { 0, 51, 102, 153, 204, 255 }; /* one 2x3 image */
	float mean = 0.5f, std = 0.25f, out[5 * 6];
	struct ee_dataset ds = mem_dataset("mem", 1, 1, 2, 3, px, NULL);
	struct ee_shape in = { 1, 5, 6 };
	/* 5 - 2 = 3 rows: 1 above, 2 below; 6 - 3 = 3 columns: 1 left, 2 right */
	static const float want[5 * 6] = {
		-2, -2, -2, -2, -2, -2,
		-2, -2, -1.2f, -0.4f, -2, -2,
		-2, 0.4f, 1.2f, 2, -2, -2,
		-2, -2, -2, -2, -2, -2,
		-2, -2, -2, -2, -2, -2,
	};

	batch_ok(&ds, 0, 1, in, &mean, &std, out);
	ck_assert(tu_close("pad", out, want, 30, 1e-6, 0));
}
END_TEST

START_TEST(batch_pad_28_to_32)
{
	uint8_t *px = malloc(28 * 28);
	float mean = 0.2860f, std = 0.3530f, *out = malloc(32 * 32 * sizeof(float));
	struct ee_dataset ds = mem_dataset("mem", 1, 1, 28, 28, px, NULL);
	float pad = (0.0f - mean) / std, in_val = (1.0f - mean) / std;
	int y, x;

	memset(px, 255, 28 * 28);
	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 32, 32 }, &mean, &std, out);
	for (y = 0; y < 32; y++)
		for (x = 0; x < 32; x++) {
			int inside = y >= 2 && y < 30 && x >= 2 && x < 30;

			ck_assert_float_eq(out[y * 32 + x], inside ? in_val : pad);
		}
	free(px);
	free(out);
}
END_TEST

START_TEST(batch_crop)
{
	uint8_t px[25];
	float out[4], out4[16], one;
	struct ee_dataset ds = mem_dataset("mem", 1, 1, 5, 5, px, NULL);
	int i;

	for (i = 0; i < 25; i++)
		px[i] = (uint8_t)(i * 10);
	/* 5 -> 2: offset floor(3 / 2) = 1, the odd row/column comes off the bottom/right */
	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 2, 2 }, NULL, NULL, out);
	ck_assert_float_eq(out[0], 60 / 255.0f);
	ck_assert_float_eq(out[1], 70 / 255.0f);
	ck_assert_float_eq(out[2], 110 / 255.0f);
	ck_assert_float_eq(out[3], 120 / 255.0f);
	/* 5 -> 4: offset 0, the last row and column are dropped */
	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 4, 4 }, NULL, NULL, out4);
	ck_assert_float_eq(out4[0], 0);
	ck_assert_float_eq(out4[3], 30 / 255.0f);
	ck_assert_float_eq(out4[15], 180 / 255.0f);
	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 1, 1 }, NULL, NULL, &one);
	ck_assert_float_eq(one, 120 / 255.0f); /* 5 -> 1: offset 2, the centre */
}
END_TEST

START_TEST(batch_crop_rows_pad_columns)
{
	uint8_t px[4 * 2] = { 0, 255, 51, 204, 102, 153, 255, 0 }; /* 4x2 */
	float out[2 * 4];
	struct ee_dataset ds = mem_dataset("mem", 1, 1, 4, 2, px, NULL);
	/* rows 4 -> 2: offset 1 (rows 1, 2); columns 2 -> 4: one zero each side */
	static const float want[8] = { 0, 0.2f, 0.8f, 0, 0, 0.4f, 0.6f, 0 };

	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 2, 4 }, NULL, NULL, out);
	ck_assert(tu_close("crop+pad", out, want, 8, 1e-7, 0));
}
END_TEST

/* Every uint8 value maps to exactly PyTorch's float32 (v / 255 - mean) / std, per channel,
 * and samples [start, start + count) are the ones written. */
START_TEST(batch_normalise_exact_per_channel)
{
	uint8_t px[3 * 3 * 256];
	float *out = malloc(2 * 3 * 256 * sizeof(float));
	const float mean[3] = { 0.4914f, 0.4822f, 0.4465f }, std[3] = { 0.2470f, 0.2435f,
									 0.2616f };
	struct ee_dataset ds = mem_dataset("mem", 3, 3, 16, 16, px, NULL);
	int i, ch, v;

	for (i = 0; i < 3 * 3 * 256; i++)
		px[i] = (uint8_t)(i + i / 768);
	batch_ok(&ds, 1, 2, (struct ee_shape){ 3, 16, 16 }, mean, std, out);
	for (i = 0; i < 2; i++)
		for (ch = 0; ch < 3; ch++)
			for (v = 0; v < 256; v++) {
				uint8_t p = px[((1 + i) * 3 + ch) * 256 + v];
				float want = ((float)p / 255.0f - mean[ch]) / std[ch];

				ck_assert_msg(out[(i * 3 + ch) * 256 + v] == want,
					      "sample %d channel %d pixel %d", i, ch, v);
			}
	ck_assert_float_eq_tol(out[0], (1 / 255.0f - 0.4914f) / 0.2470f, 1e-6);
	free(out);
}
END_TEST

START_TEST(batch_float32_used_as_is)
{
	float px[2 * 2] = { -1.5f, 0, 0.5f, 3 }, out[2 * 4], mean = 0.5f, std = 2;
	struct ee_dataset ds = mem_dataset("mem", 1, 1, 2, 2, NULL, px);
	/* no / 255; columns 2 -> 4 padded with (0 - .5) / 2 = -.25 */
	static const float want[8] = { -0.25f, -1, -0.25f, -0.25f, -0.25f, 0, 1.25f, -0.25f };

	batch_ok(&ds, 0, 1, (struct ee_shape){ 1, 2, 4 }, &mean, &std, out);
	ck_assert(tu_close("f32", out, want, 8, 0, 0));
}
END_TEST

START_TEST(batch_errors)
{
	uint8_t px[4] = { 0 };
	float out[12], zero = 0;
	struct ee_dataset ds = mem_dataset("fashion-mnist:test", 1, 1, 2, 2, px, NULL);
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_dataset_batch(&ds, 0, 1, (struct ee_shape){ 3, 2, 2 }, NULL, NULL,
					  out, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "dataset 'fashion-mnist:test' has 1 channel but the model "
			 "expects 3");
	ck_assert_int_eq(ee_dataset_batch(&ds, 0, 2, (struct ee_shape){ 1, 2, 2 }, NULL, NULL,
					  out, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "dataset 'fashion-mnist:test': samples [0, 2) are outside its "
			 "1 samples");
	ck_assert_int_eq(ee_dataset_batch(&ds, -1, 1, (struct ee_shape){ 1, 2, 2 }, NULL, NULL,
					  out, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_dataset_batch(&ds, 0, 1, (struct ee_shape){ 1, 0, 2 }, NULL, NULL,
					  out, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_dataset_batch(&ds, 0, 1, (struct ee_shape){ 1, 2, 2 }, NULL, &zero,
					  out, &err), EE_ERR_USAGE);
	ck_assert_ptr_nonnull(strstr(err.msg, "std of channel 0 is 0"));
	ck_assert_int_eq(ee_dataset_batch(&ds, 1, 0, (struct ee_shape){ 1, 2, 2 }, NULL, NULL,
					  out, &err), EE_OK);
}
END_TEST

/* ---- Debian's Fashion-MNIST ---- */

START_TEST(real_fashion_mnist)
{
	struct ee_dataset test, val, all;
	int hist[10] = { 0 }, i;
	float *x = malloc(2 * 32 * 32 * sizeof(float)), mean = 0.2860f, std = 0.3530f;

	ck_assert_msg(access(FMNIST "/t10k-images-idx3-ubyte.gz", R_OK) == 0,
		      "%s missing: install dataset-fashion-mnist (make deps)", FMNIST);
	open_ok(&test, "fashion-mnist:test");
	ck_assert_int_eq(test.n, 10000);
	ck_assert_int_eq(test.c, 1);
	ck_assert_int_eq(test.h, 28);
	ck_assert_int_eq(test.w, 28);
	ck_assert_int_eq(test.labels[0], 9); /* ankle boot */
	for (i = 0; i < test.n; i++)
		hist[test.labels[i]]++;
	for (i = 0; i < 10; i++)
		ck_assert_int_eq(hist[i], 1000);
	batch_ok(&test, 9998, 2, (struct ee_shape){ 1, 32, 32 }, &mean, &std, x);
	ck_assert_float_eq(x[0], (0.0f - mean) / std);
	ck_assert_float_eq(x[2 * 32 + 2 + 32 * 32],
			   ((float)test.u8[9999 * 784] / 255.0f - mean) / std);
	ee_dataset_release(&test);

	open_ok(&val, "fashion-mnist:val");
	open_ok(&all, "fashion-mnist:" FMNIST ":train-all");
	ck_assert_int_eq(val.n, 5000);
	ck_assert_int_eq(all.n, 60000);
	ck_assert_mem_eq(val.u8, all.u8 + (size_t)55000 * 784, (size_t)5000 * 784);
	ck_assert_mem_eq(val.labels, all.labels + 55000, 5000 * sizeof(int32_t));
	ck_assert_int_eq(all.labels[0], 9);
	ee_dataset_release(&val);
	ee_dataset_release(&all);
	free(x);
}
END_TEST

static Suite *dataset_suite(void)
{
	const TTest *const spec[] = { spec_unknown_reader, spec_bad_split_or_dir,
					     spec_too_long, spec_help_lists_readers, NULL };
	const TTest *const idx[] = { idx_test_values, idx_plain_and_colon_dir, idx_splits,
					    NULL };
	const TTest *const idx_bad[] = {
		idx_missing, idx_empty, idx_truncated_gzip, idx_corrupt_gzip, idx_bad_magic,
		idx_header_claims_too_much, idx_labels_claim_too_much, idx_huge_headers,
		idx_count_mismatch, idx_label_out_of_range, idx_val_needs_enough_training_images,
		NULL };
	const TTest *const cifar[] = { cifar10_values_and_splits,
					      cifar100_fine_labels_and_splits, cifar_bad_files,
					      cifar100_bad_label, NULL };
	const TTest *const h5[] = { h5_uint8, h5_float32_with_num_classes,
					   h5_bad_shapes_and_types, h5_bad_labels_and_values,
					   h5_bad_files, NULL };
	const TTest *const batch[] = {
		batch_pad_odd_extra_after, batch_pad_28_to_32, batch_crop,
		batch_crop_rows_pad_columns, batch_normalise_exact_per_channel,
		batch_float32_used_as_is, batch_errors, NULL };
	const TTest *const real[] = { real_fashion_mnist, NULL };
	Suite *s = suite_create("dataset");

	tu_add_case(s, "spec", spec, 10);
	tu_add_case(s, "idx", idx, 30);
	tu_add_case(s, "idx_bad", idx_bad, 30);
	tu_add_case(s, "cifar", cifar, 60);
	tu_add_case(s, "h5", h5, 30);
	tu_add_case(s, "batch", batch, 10);
	tu_add_case(s, "real", real, 120);
	return s;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	SRunner *sr;
	int failed;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the bad-file cases make HDF5 complain */
	build_fixtures();
	sr = srunner_create(dataset_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(tu_tmpdir(), remove_one, 16, FTW_DEPTH | FTW_PHYS); /* 31 MB of fixtures */
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
