/*
 * cmd-merge.c - `eeprof merge -o OUT.h5 TRACE...`: one trace from the traces of
 * disjoint shards of a dataset, so that a dataset can be profiled by several
 * processes or machines (`eeprof profile --offset <i> --limit <n>` each).
 *
 * The inputs must come from one checkpoint (same SHA-256) and one dataset spec
 * and size, with the same exits, classes, gated layers and softmax setting; no
 * sample may be in two of them. Rows come out sorted by dataset index; timing
 * is summed. The output is written atomically.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "reports/trace.h"

static const char synopsis[] =
	"eeprof merge (-o | --output) <out.h5> <trace.h5>...\n\n"
	"Joins the traces of disjoint shards of one dataset profiled with one checkpoint,\n"
	"e.g. made with 'eeprof profile CKPT --data SPEC --offset 0 --limit 5000 -o a.h5'\n"
	"and '... --offset 5000 -o b.h5'. Rows are sorted by dataset index; a sample in\n"
	"two traces, or traces of different checkpoints or data, are refused.";

/* Reads every trace, merges and writes them. */
static int merge(const char *const *paths, int count, const char *output, struct ee_err *err)
{
	struct ee_trace *in = calloc((size_t)count, sizeof(*in)), out;
	const struct ee_trace **ptr = calloc((size_t)count, sizeof(*ptr));
	int i, read = 0, rc = in && ptr ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	for (; rc == EE_OK && read < count; read++) {
		rc = ee_trace_read(&in[read], paths[read], err);
		ptr[read] = &in[read];
	}
	if (rc == EE_OK)
		rc = ee_trace_merge_named(&out, ptr, paths, count, err);
	if (rc == EE_OK) {
		rc = ee_trace_write(&out, output, err);
		if (rc == EE_OK)
			printf("merged      %d traces: %d of the %d samples of '%s'\n"
			       "trace       %s\n", count, out.n, out.dataset_size, out.data,
			       output);
		ee_trace_release(&out);
	}
	for (i = 0; i < read; i++)
		ee_trace_release(&in[i]);
	free(in);
	free(ptr);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const char *const *output = ctx;

	if (!*output)
		return ee_err_set(err, EE_ERR_USAGE, "--output is required%s", hint(synopsis));
	return merge(pos, npos, *output, err);
}

int cmd_merge(int argc, char **argv)
{
	const char *output = NULL;
	const struct ee_opt opts[] = {
		{ "output", EE_OPT_FILE, &output, "<file>", "merged trace to write", 0, 0 },
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, EE_MAX_POS, body, &output);
}
