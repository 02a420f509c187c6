/*
 * dataset_cifar.c - the cifar10 and cifar100 readers: the "binary version" files.
 *
 * A file is a run of records: label byte(s), then 3072 pixel bytes - 1024 red, 1024
 * green, 1024 blue, each a row-major 32x32 plane, which is the [c][h][w] layout of a
 * tensor already. CIFAR-10 records have one label byte (10 classes); CIFAR-100 records
 * two, coarse (20 superclasses) then fine (100 classes), and the fine one is used.
 * File sizes are checked against the record size before anything is read.
 */
#include "plugins/dataset-impl.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#define CIFAR_C 3
#define CIFAR_HW 32
#define CIFAR_PIXELS (CIFAR_C * CIFAR_HW * CIFAR_HW)
#define CIFAR_MAX_FILES 5
#define CIFAR_MAX_LABEL_BYTES 2

struct cifar_format {
	const char *files[2][CIFAR_MAX_FILES + 1]; /* per part, NULL-terminated */
	int label_bytes;                           /* the label is the last of them */
	int classes;
};

static const struct cifar_format cifar10 = {
	.files = {
		[EE_DATASET_TEST] = { "test_batch.bin" },
		[EE_DATASET_TRAIN] = { "data_batch_1.bin", "data_batch_2.bin", "data_batch_3.bin",
				       "data_batch_4.bin", "data_batch_5.bin" },
	},
	.label_bytes = 1,
	.classes = 10,
};

static const struct cifar_format cifar100 = {
	.files = {
		[EE_DATASET_TEST] = { "test.bin" },
		[EE_DATASET_TRAIN] = { "train.bin" },
	},
	.label_bytes = 2,
	.classes = 100,
};

/* Counts the records of a file from its size, which must be a whole number of them. */
static int cifar_records(const char *path, size_t rec, uint64_t *records, struct ee_err *err)
{
	uint64_t size;
	int rc = ee_dataset_file_size(path, &size, err);

	if (rc < 0)
		return rc;
	if (size % rec)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': file size %llu is not a "
				  "multiple of the %zu-byte record", path, (unsigned long long)size,
				  rec);
	*records = size / rec;
	return EE_OK;
}

/* Reads count records of a file into samples [first, first + count) of ds. */
static int cifar_read(struct ee_dataset *ds, const char *path, const struct cifar_format *fmt,
		      int first, int count, struct ee_err *err)
{
	unsigned char buf[CIFAR_MAX_LABEL_BYTES + CIFAR_PIXELS];
	size_t rec = (size_t)fmt->label_bytes + CIFAR_PIXELS;
	FILE *f = fopen(path, "rb");
	int i, rc = EE_OK;

	if (!f)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot open: %s", path,
				  strerror(errno));
	for (i = 0; i < count && rc >= 0; i++) {
		if (fread(buf, rec, 1, f) != 1) {
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot read record %d: %s",
					path, i, ferror(f) ? strerror(errno) : "file got shorter");
			break;
		}
		ds->labels[first + i] = buf[fmt->label_bytes - 1];
		memcpy(ds->u8 + (size_t)(first + i) * CIFAR_PIXELS, buf + fmt->label_bytes,
		       CIFAR_PIXELS);
	}
	fclose(f);
	if (rc >= 0)
		rc = ee_dataset_check_labels(path, ds->labels + first, count, 0, fmt->classes, err);
	return rc;
}

static int cifar_open(struct ee_dataset *ds, const char *where, enum ee_dataset_part part,
		      const struct cifar_format *fmt, struct ee_err *err)
{
	const char *const *names = fmt->files[part == EE_DATASET_TEST ? EE_DATASET_TEST :
					      EE_DATASET_TRAIN];
	char path[CIFAR_MAX_FILES][4096];
	uint64_t records[CIFAR_MAX_FILES], total = 0;
	int i, first = 0, rc = EE_OK;

	for (i = 0; names[i] && rc >= 0; i++) {
		rc = ee_dataset_path(path[i], sizeof(path[i]), where, names[i], err);
		if (rc >= 0)
			rc = cifar_records(path[i], (size_t)fmt->label_bytes + CIFAR_PIXELS,
					   &records[i], err);
		total += rc >= 0 ? records[i] : 0;
	}
	if (rc >= 0)
		rc = ee_dataset_check_size(where, total, CIFAR_C, CIFAR_HW, CIFAR_HW, 1, err);
	if (rc >= 0)
		rc = ee_dataset_alloc(ds, where, (int)total, CIFAR_C, CIFAR_HW, CIFAR_HW, 1, err);
	ds->num_classes = fmt->classes;
	for (i = 0; names[i] && rc >= 0; i++) {
		rc = cifar_read(ds, path[i], fmt, first, (int)records[i], err);
		first += (int)records[i];
	}
	return rc;
}

int ee_dataset_cifar10_open(struct ee_dataset *ds, const char *where,
			    enum ee_dataset_part part, struct ee_err *err)
{
	return cifar_open(ds, where, part, &cifar10, err);
}

int ee_dataset_cifar100_open(struct ee_dataset *ds, const char *where,
			     enum ee_dataset_part part, struct ee_err *err)
{
	return cifar_open(ds, where, part, &cifar100, err);
}
