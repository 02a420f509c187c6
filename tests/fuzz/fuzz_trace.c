/*
 * fuzz_trace.c - the trace reader (what curve, gates, budget, merge and report --traces
 * read): the input is written to a file and read with ee_trace_read().
 */
#include "tests/fuzz/fuzz.h"

#include "reports/trace.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ee_trace t;
	struct ee_err err = { 0 };

	if (ee_trace_read(&t, fz_write("trace.h5", data, size), &err) == EE_OK)
		ee_trace_release(&t);
	fz_no_open_hdf5(); /* libhdf5's own leaks are suppressed (lsan.supp); eeprof's are not */
	return 0;
}
