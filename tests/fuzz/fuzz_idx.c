/*
 * fuzz_idx.c - the IDX reader (fashion-mnist:DIR:SPLIT), gzipped or not.
 * Input: a 2-byte little-endian length L, then L bytes of t10k-images-idx3-ubyte and the
 * rest as t10k-labels-idx1-ubyte (each may be gzip: zlib detects it). Opened datasets are
 * also turned into network inputs (ee_dataset_batch, cropping or padding to 1x28x28).
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>

#include "plugins/dataset.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ee_dataset ds;
	struct ee_err err = { 0 };
	char spec[300];
	size_t n;
	float x[2 * 28 * 28];

	if (size < 2)
		return 0;
	n = (size_t)data[0] | (size_t)data[1] << 8;
	if (n > size - 2)
		n = size - 2;
	fz_write("t10k-images-idx3-ubyte", data + 2, n);
	fz_write("t10k-labels-idx1-ubyte", data + 2 + n, size - 2 - n);
	snprintf(spec, sizeof(spec), "fashion-mnist:%s:test", fz_dir());
	if (ee_dataset_open(&ds, spec, &err) == EE_OK) {
		int count = ds.n < 2 ? ds.n : 2;

		ee_dataset_batch(&ds, 0, count, (struct ee_shape){ 1, 28, 28 }, NULL, NULL, x, &err);
		ee_dataset_release(&ds);
	}
	return 0;
}
