/*
 * fuzz_ckpt.c - the checkpoint loader (core/h5check, the HDF5 reads, the architecture
 * builders, the weight reads and BN folding): the input is written to a file and loaded
 * as a network with ee_net_load().
 */
#include "tests/fuzz/fuzz.h"

#include "plugins/net.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ee_net net;
	struct ee_err err = { 0 };

	if (ee_net_load(&net, fz_write("ckpt.h5", data, size), &err) == EE_OK)
		ee_net_release(&net);
	fz_no_open_hdf5(); /* libhdf5's own leaks are suppressed (lsan.supp); eeprof's are not */
	return 0;
}
