/*
 * cmd-dataset.c - `eeprof dataset SPEC -o OUT.h5`: any dataset spec converted once into
 * the h5: format (plugins/dataset_write.h), with the same resize and crop as --data SPEC
 * gives a model of that input shape. A progress bar on a terminal; --skip-bad leaves
 * undecodable image files out and names the first few in a warning.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"
#include "plugins/dataset_write.h"

static const char synopsis[] =
	"eeprof dataset <spec> --output <out.h5> [--input-shape <c,h,w>] [--resize <s>] "
	"[--interpolation <i>] [--no-resize] [--uint8 | --mean <m,m,m> --std <s,s,s>] "
	"[--skip-bad] [--limit <n>] [--offset <n>] [--batch <n>] [--threads <n>]";

struct dataset_opts {
	const char *output, *shape, *mean, *std;
	struct ee_cli_images img;
	bool u8;
	int limit, offset, batch, threads;
};

/* "a,b,c": n numbers (n = 0: up to max) into v. */
static int numbers(const char *s, const char *what, double *v, int max, int *n,
		   struct ee_err *err)
{
	const char *p = s;
	int k = 0;

	for (;;) {
		char *end;

		errno = 0;
		v[k] = strtod(p, &end);
		if (end == p || (*end && *end != ',') || errno || !isfinite(v[k]))
			return ee_err_set(err, EE_ERR_USAGE, "bad %s '%s' (numbers separated by "
					  "commas)", what, s);
		if (++k == max && *end)
			return ee_err_set(err, EE_ERR_USAGE, "%s '%s' has more than %d values",
					  what, s, max);
		if (!*end)
			break;
		p = end + 1;
	}
	if (*n && k != *n)
		return ee_err_set(err, EE_ERR_USAGE, "%s '%s' has %d values, expected %d", what, s,
				  k, *n);
	*n = k;
	return EE_OK;
}

/* The stored shape: --input-shape, or the dataset's own for pixels in memory. */
static int stored_shape(const struct ee_dataset *ds, const char *s, struct ee_shape *in,
			struct ee_err *err)
{
	double v[3];
	int n = 3, rc;

	if (!s && ds->paths)
		return ee_err_set(err, EE_ERR_USAGE, "--input-shape C,H,W is required for image "
				  "files (e.g. 3,224,224)");
	if (!s) {
		*in = (struct ee_shape){ ds->c, ds->h, ds->w };
		return EE_OK;
	}
	rc = numbers(s, "input shape", v, 3, &n, err);
	if (rc == EE_OK && (v[0] < 1 || v[0] > 4 || v[1] < 1 || v[1] > 8192 || v[2] < 1 ||
			    v[2] > 8192 || v[0] != floor(v[0]) || v[1] != floor(v[1]) ||
			    v[2] != floor(v[2])))
		rc = ee_err_set(err, EE_ERR_USAGE, "input shape '%s': C in 1..4, H and W in "
				"1..8192", s);
	if (rc == EE_OK)
		*in = (struct ee_shape){ (int)v[0], (int)v[1], (int)v[2] };
	return rc;
}

/* --mean and --std, one value per channel (both or neither). */
static int norm(const struct dataset_opts *o, int c, float *mean, float *std,
		struct ee_err *err)
{
	double m[4], s[4];
	int n = c, i, rc;

	if (!o->mean != !o->std)
		return ee_err_set(err, EE_ERR_USAGE, "--mean and --std go together");
	if (o->u8 && o->mean)
		return ee_err_set(err, EE_ERR_USAGE, "--uint8 stores pixels before "
				  "normalisation: no --mean/--std with it");
	if (!o->mean)
		return EE_OK;
	rc = numbers(o->mean, "--mean", m, 4, &n, err);
	if (rc == EE_OK)
		rc = numbers(o->std, "--std", s, 4, &n, err);
	for (i = 0; rc == EE_OK && i < c; i++) {
		mean[i] = (float)m[i];
		std[i] = (float)s[i];
		if (!(std[i] > 0))
			rc = ee_err_set(err, EE_ERR_USAGE, "--std '%s': every value must be > 0",
					o->std);
	}
	return rc;
}

static void progress(void *ctx, long done, long total)
{
	(void)ctx;
	ee_cli_progress("dataset", done, total);
}

static int convert(const char *spec, const struct dataset_opts *o, struct ee_err *err)
{
	struct ee_dataset ds;
	struct ee_write_opts w = { .u8 = o->u8, .offset = o->offset, .batch = o->batch,
				   .skip_bad = o->img.skip_bad, .progress = progress };
	struct ee_write_result res;
	float mean[4], std[4];
	int rc = ee_dataset_open(&ds, spec, err);

	if (rc < 0)
		return rc;
	rc = ee_cli_images(&o->img, &ds.prep, err);
	if (rc == EE_OK)
		rc = stored_shape(&ds, o->shape, &w.in, err);
	if (rc == EE_OK)
		rc = norm(o, w.in.c, mean, std, err);
	if (rc == EE_OK && o->offset >= ds.n)
		rc = ee_err_set(err, EE_ERR_USAGE, "--offset %d selects no samples of '%s' (%d "
				"samples)", o->offset, spec, ds.n);
	if (rc == EE_OK) {
		w.count = o->limit > 0 && o->limit < ds.n - o->offset ? o->limit : ds.n - o->offset;
		w.mean = o->mean ? mean : NULL;
		w.std = o->mean ? std : NULL;
		rc = ee_dataset_write(&ds, o->output, &w, &res, err);
	}
	if (rc == EE_OK)
		ee_cli_warn_skipped(&res.skipped);
	if (rc == EE_OK)
		printf("wrote %s: %ld images [%d,%d,%d] %s, %d classes\n", o->output, res.written,
		       w.in.c, w.in.h, w.in.w, o->u8 ? "uint8" : "float32", ds.num_classes);
	ee_dataset_release(&ds);
	return rc;
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	const struct dataset_opts *o = ctx;

	(void)npos;
	if (!o->output)
		return ee_err_set(err, EE_ERR_USAGE, "--output is required%s", hint(synopsis));
	ee_cli_threads(o->threads);
	return convert(pos[0], o, err);
}

int cmd_dataset(int argc, char **argv)
{
	struct dataset_opts o = { .batch = 64, .threads = 1 };
	const struct ee_opt opts[] = {
		{ "output", EE_OPT_FILE, &o.output, "<file>", "HDF5 file to write",
		  0, 0 },
		{ "input-shape", EE_OPT_STR, &o.shape, "<c,h,w>", "stored image shape (required "
		  "for image files; default: the dataset's)", 0, 0 },
		EE_OPT_IMAGES(&o.img),
		{ "uint8", EE_OPT_FLAG, &o.u8, NULL, "store uint8 pixels before normalisation "
		  "(default: float32 x / 255)", 0, 0 },
		{ "mean", EE_OPT_STR, &o.mean, "<m,m,m>", "store float32 (x / 255 - mean) / std",
		  0, 0 },
		{ "std", EE_OPT_STR, &o.std, "<s,s,s>", "with --mean", 0, 0 },
		EE_OPT_LIMIT(&o.limit),
		EE_OPT_OFFSET(&o.offset),
		EE_OPT_BATCH(&o.batch),
		EE_OPT_THREADS(&o.threads),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 1, 1, body, &o);
}
