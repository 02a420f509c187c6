/*
 * fuzz_cifar.c - the CIFAR-10 and CIFAR-100 binary readers: the input is both
 * test_batch.bin (cifar10:DIR:test) and test.bin (cifar100:DIR:test); opened datasets are
 * also turned into network inputs.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>

#include "plugins/dataset.h"

static void one(const char *reader)
{
	struct ee_dataset ds;
	struct ee_err err = { 0 };
	char spec[300];
	float x[2 * 3 * 32 * 32];

	snprintf(spec, sizeof(spec), "%s:%s:test", reader, fz_dir());
	if (ee_dataset_open(&ds, spec, &err) == EE_OK) {
		int count = ds.n < 2 ? ds.n : 2;

		ee_dataset_batch(&ds, 0, count, (struct ee_shape){ 3, 32, 32 }, NULL, NULL, x, &err);
		ee_dataset_release(&ds);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	fz_write("test_batch.bin", data, size);
	fz_write("test.bin", data, size);
	one("cifar10");
	one("cifar100");
	return 0;
}
