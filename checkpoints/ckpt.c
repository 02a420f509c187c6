/*
 * ckpt.c - the schema-v1 checkpoint reader; the schema is documented in ckpt.h.
 */
#include "ckpt.h"

#include <errno.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5check.h"
#include "core/h5io.h"

#define FAIL(err, ...) ee_err_set(err, EE_ERR_INPUT, __VA_ARGS__)

/* Tensor key's data was written and lies inside the file. */
static int check_storage(struct ee_ckpt *ck, hid_t ds, const char *key, struct ee_err *err)
{
	char desc[4200], what[1100];

	snprintf(desc, sizeof(desc), "checkpoint '%s'", ck->path);
	snprintf(what, sizeof(what), "tensor '%s'", key);
	return ee_h5_check_storage(ds, desc, what, err);
}

/* One dataset of /state_dict: its shape, or an error naming it. */
static int stat_tensor(struct ee_ckpt *ck, hid_t group, const char *key,
		       struct ee_ckpt_tensor *t, struct ee_err *err)
{
	hid_t ds = H5Dopen2(group, key, H5P_DEFAULT), sp, ty;
	hsize_t dims[8];
	int rank, i, rc = EE_OK;

	if (ds < 0)
		return FAIL(err, "checkpoint '%s': '/state_dict/%s' is not a dataset", ck->path, key);
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	rank = H5Sget_simple_extent_ndims(sp);
	if (!ee_h5_number_type_ok(ty))
		rc = FAIL(err, "checkpoint '%s': tensor '%s' is not numeric", ck->path, key);
	else if (rank < 0 || rank > EE_CKPT_MAX_RANK)
		rc = FAIL(err, "checkpoint '%s': tensor '%s' has rank %d (at most %d)", ck->path,
			  key, rank, EE_CKPT_MAX_RANK);
	if (rc == EE_OK) {
		H5Sget_simple_extent_dims(sp, dims, NULL);
		t->rank = rank;
		t->numel = 1;
		for (i = 0; i < rank; i++) {
			t->dims[i] = (int64_t)dims[i];
			if (dims[i] > EE_CKPT_MAX_FLOATS || ee_mul_size(t->numel, dims[i], &t->numel) ||
			    t->numel > EE_CKPT_MAX_FLOATS)
				rc = FAIL(err, "checkpoint '%s': tensor '%s' is too large", ck->path,
					  key);
		}
	}
	if (rc == EE_OK)
		rc = check_storage(ck, ds, key, err);
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

struct walk {
	struct ee_ckpt *ck;
	int cap;
	int rc;
	struct ee_err *err;
};

static herr_t visit(hid_t group, const char *name, const H5L_info_t *info, void *data)
{
	struct walk *w = data;
	struct ee_ckpt *ck = w->ck;
	struct ee_ckpt_tensor *t;

	(void)info;
	if (ck->nt == EE_CKPT_MAX_TENSORS) {
		w->rc = FAIL(w->err, "checkpoint '%s': more than %d tensors", ck->path,
			     EE_CKPT_MAX_TENSORS);
		return -1;
	}
	if (ck->nt == w->cap) {
		int cap = w->cap ? 2 * w->cap : 256;
		void *p = realloc(ck->t, (size_t)cap * sizeof(*ck->t));

		if (!p) {
			w->rc = ee_err_set(w->err, EE_ERR_NOMEM, "out of memory reading '%s'", ck->path);
			return -1;
		}
		ck->t = p;
		w->cap = cap;
	}
	t = &ck->t[ck->nt];
	memset(t, 0, sizeof(*t));
	t->key = ee_pool_strdup(&ck->pool, name);
	if (!t->key) {
		w->rc = ee_err_set(w->err, EE_ERR_NOMEM, "out of memory reading '%s'", ck->path);
		return -1;
	}
	w->rc = stat_tensor(ck, group, name, t, w->err);
	if (w->rc < 0)
		return -1;
	ck->nt++;
	return 0;
}

static int cmp_tensor(const void *a, const void *b)
{
	return strcmp(((const struct ee_ckpt_tensor *)a)->key, ((const struct ee_ckpt_tensor *)b)->key);
}

static int read_directory(struct ee_ckpt *ck, struct ee_err *err)
{
	struct walk w = { ck, 0, EE_OK, err };
	hid_t g;

	if (H5Lexists(ck->file, "state_dict", H5P_DEFAULT) <= 0 ||
	    (g = H5Gopen2(ck->file, "state_dict", H5P_DEFAULT)) < 0)
		return FAIL(err, "checkpoint '%s': no group '/state_dict'", ck->path);
	if (H5Literate(g, H5_INDEX_NAME, H5_ITER_NATIVE, NULL, visit, &w) < 0 && w.rc == EE_OK)
		w.rc = FAIL(err, "checkpoint '%s': cannot list '/state_dict'", ck->path);
	H5Gclose(g);
	if (w.rc == EE_OK && !ck->nt)
		w.rc = FAIL(err, "checkpoint '%s': '/state_dict' is empty", ck->path);
	if (w.rc == EE_OK)
		qsort(ck->t, (size_t)ck->nt, sizeof(*ck->t), cmp_tensor);
	return w.rc;
}

/* A required integer attribute in [lo, hi]. */
/* Optional number attribute: *out = NaN when absent; refused when it is not one number,
 * lies outside [lo, hi] or, when whole, has a fraction. */
static int attr_opt(struct ee_ckpt *ck, const char *name, double lo, double hi, bool whole,
		    double *out, struct ee_err *err)
{
	double v;
	int n, rc = ee_h5_attr_doubles(ck->file, name, &v, 1, &n);

	*out = NAN;
	if (rc == 0)
		return EE_OK;
	if (rc != 1)
		return FAIL(err, "checkpoint '%s': attribute '%s' is malformed (not one number)",
			    ck->path, name);
	if (!(v >= lo && v <= hi) || (whole && v != floor(v)))
		return FAIL(err, "checkpoint '%s': attribute '%s' = %.15g is out of range [%.15g, "
			    "%.15g]%s", ck->path, name, v, lo, hi, whole ? " or not whole" : "");
	*out = v;
	return EE_OK;
}

static int attr_int(struct ee_ckpt *ck, const char *name, int lo, int hi, int *out,
		    struct ee_err *err)
{
	double v;
	int rc = attr_opt(ck, name, lo, hi, true, &v, err);

	if (rc < 0)
		return rc;
	if (isnan(v))
		return FAIL(err, "checkpoint '%s': missing or malformed attribute '%s'", ck->path, name);
	*out = (int)v;
	return EE_OK;
}

static int read_format(struct ee_ckpt *ck, struct ee_err *err)
{
	char fmt[64] = "";
	int version = 0, rc;
	char desc[4200];

	snprintf(desc, sizeof(desc), "checkpoint '%s'", ck->path);
	if ((rc = ee_h5_check_attrs(ck->file, desc, "the root group", err)) < 0)
		return rc;
	rc = ee_h5_attr_string(ck->file, "format", fmt, sizeof(fmt));
	if (rc < 0)
		return FAIL(err, "checkpoint '%s': attribute 'format' is malformed (corrupt file?)",
			    ck->path);
	if (rc != 1 || strcmp(fmt, EE_CKPT_FORMAT))
		return FAIL(err, "checkpoint '%s': not an eeprof checkpoint (attribute 'format' is "
			    "not '%s'; convert PyTorch files with checkpoints/export.py)",
			    ck->path, EE_CKPT_FORMAT);
	if ((rc = attr_int(ck, "format_version", 0, 1 << 30, &version, err)) < 0)
		return rc;
	if (version != EE_CKPT_VERSION)
		return FAIL(err, "checkpoint '%s': format_version %d is not supported (this eeprof "
			    "reads version %d)", ck->path, version, EE_CKPT_VERSION);
	if (ee_h5_attr_string(ck->file, "arch", ck->arch, sizeof(ck->arch)) < 0)
		return FAIL(err, "checkpoint '%s': attribute 'arch' is not a readable string",
			    ck->path);
	return EE_OK; /* an absent arch is detected from the key names (plugins/net.c) */
}

static int read_input(struct ee_ckpt *ck, struct ee_err *err)
{
	double v[EE_MAX_CHANNELS];
	int n, i, rc;

	if ((rc = attr_int(ck, "num_classes", 1, 1 << 24, &ck->num_classes, err)) < 0)
		return rc;
	if (ee_h5_attr_doubles(ck->file, "input_shape", v, 3, &n) != 1 || n != 3)
		return FAIL(err, "checkpoint '%s': attribute 'input_shape' must be [C, H, W]", ck->path);
	if (!(v[0] >= 1 && v[0] <= EE_MAX_CHANNELS && v[1] >= 1 && v[1] <= 8192 && v[2] >= 1 &&
	      v[2] <= 8192))
		return FAIL(err, "checkpoint '%s': input_shape [%.15g, %.15g, %.15g] is out of range",
			    ck->path, v[0], v[1], v[2]);
	if (v[0] != (int)v[0] || v[1] != (int)v[1] || v[2] != (int)v[2])
		return FAIL(err, "checkpoint '%s': input_shape [%g, %g, %g] is not whole numbers",
			    ck->path, v[0], v[1], v[2]);
	ck->input = (struct ee_shape){ (int)v[0], (int)v[1], (int)v[2] };
	if (ee_h5_attr_doubles(ck->file, "mean", v, EE_MAX_CHANNELS, &n) != 1 || n != ck->input.c)
		return FAIL(err, "checkpoint '%s': attribute 'mean' must have %d values", ck->path,
			    ck->input.c);
	for (i = 0; i < n; i++) {
		if (!(fabs(v[i]) <= EE_CKPT_MAX_MEAN))
			return FAIL(err, "checkpoint '%s': mean[%d] = %g is not a number in [-%g, %g]",
				    ck->path, i, v[i], EE_CKPT_MAX_MEAN, EE_CKPT_MAX_MEAN);
		ck->mean[i] = (float)v[i];
	}
	if (ee_h5_attr_doubles(ck->file, "std", v, EE_MAX_CHANNELS, &n) != 1 || n != ck->input.c)
		return FAIL(err, "checkpoint '%s': attribute 'std' must have %d values", ck->path,
			    ck->input.c);
	for (i = 0; i < n; i++) {
		if (!(v[i] >= EE_CKPT_MIN_STD && v[i] <= EE_CKPT_MAX_MEAN))
			return FAIL(err, "checkpoint '%s': std[%d] = %g is not a number in [%g, %g]",
				    ck->path, i, v[i], EE_CKPT_MIN_STD, EE_CKPT_MAX_MEAN);
		ck->std[i] = (float)v[i];
	}
	return EE_OK;
}

static int read_options(struct ee_ckpt *ck, struct ee_err *err)
{
	const struct { const char *name; char *buf; size_t size; } text[] = {
		{ "source", ck->source, sizeof(ck->source) },
		{ "source_sha256", ck->sha256, sizeof(ck->sha256) },
		{ "exporter", ck->exporter, sizeof(ck->exporter) },
		{ "dataset", ck->dataset, sizeof(ck->dataset) },
		{ "recipe", ck->recipe, sizeof(ck->recipe) },
	};
	size_t i;

	double v;
	int n, rc;

	ck->bn_eps = 1e-5f;
	if (ee_h5_attr_doubles(ck->file, "bn_eps", &v, 1, &n) == 1) {
		if (!(v > 0 && v < 1))
			return FAIL(err, "checkpoint '%s': bn_eps = %g is out of range", ck->path, v);
		ck->bn_eps = (float)v;
	}
	ck->stem_maxpool = -1;
	if (ee_h5_attr_doubles(ck->file, "stem_maxpool", &v, 1, &n) == 1)
		ck->stem_maxpool = v != 0;
	for (i = 0; i < sizeof(text) / sizeof(text[0]); i++) /* optional, but well-formed */
		if (ee_h5_attr_string(ck->file, text[i].name, text[i].buf, text[i].size) < 0)
			return FAIL(err, "checkpoint '%s': attribute '%s' is not a readable string",
				    ck->path, text[i].name);
	if ((rc = attr_opt(ck, "epochs", 0, 1e6, true, &ck->epochs, err)) < 0 ||
	    (rc = attr_opt(ck, "seed", -0x1p53, 0x1p53, true, &ck->seed, err)) < 0 ||
	    (rc = attr_opt(ck, "train_seconds", 0, 1e12, false, &ck->train_seconds, err)) < 0)
		return rc;
	return EE_OK;
}

/* /eval/<name>: float64 [exits], optional. */
static void read_eval(struct ee_ckpt *ck, const char *name, double *v, int *n)
{
	hid_t ds, sp;
	hsize_t d;

	*n = 0;
	if (H5Lexists(ck->file, "eval", H5P_DEFAULT) <= 0 ||
	    H5Lexists(ck->file, name, H5P_DEFAULT) <= 0 ||
	    (ds = H5Dopen2(ck->file, name, H5P_DEFAULT)) < 0)
		return;
	sp = H5Dget_space(ds);
	if (H5Sget_simple_extent_ndims(sp) == 1 && H5Sget_simple_extent_dims(sp, &d, NULL) == 1 &&
	    d >= 1 && d <= EE_MAX_EXITS &&
	    H5Dread(ds, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v) >= 0)
		*n = (int)d;
	H5Sclose(sp);
	H5Dclose(ds);
}

static int open_ckpt(struct ee_ckpt *ck, const char *path, struct ee_err *err)
{
	int rc;

	ck->path = ee_pool_strdup(&ck->pool, path);
	if (!ck->path)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = ee_h5_check_file(path, "checkpoint", err)) < 0)
		return rc;
	if (H5Fis_hdf5(path) <= 0)
		return FAIL(err, "checkpoint '%s': not an HDF5 file (or truncated)", path);
	ck->file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	if (ck->file < 0)
		return FAIL(err, "checkpoint '%s': cannot open as HDF5 (corrupt or truncated)", path);
	if ((rc = read_format(ck, err)) < 0 || (rc = read_input(ck, err)) < 0 ||
	    (rc = read_options(ck, err)) < 0 || (rc = read_directory(ck, err)) < 0)
		return rc;
	read_eval(ck, "/eval/test_accuracy", ck->test_acc, &ck->n_test_acc);
	read_eval(ck, "/eval/val_accuracy", ck->val_acc, &ck->n_val_acc);
	return EE_OK;
}

int ee_ckpt_open(struct ee_ckpt *ck, const char *path, struct ee_err *err)
{
	int rc;

	memset(ck, 0, sizeof(*ck));
	ck->file = -1;
	ee_h5_quiet();
	rc = open_ckpt(ck, path, err);
	if (rc < 0)
		ee_ckpt_release(ck);
	return rc;
}

struct ee_ckpt_tensor *ee_ckpt_find(const struct ee_ckpt *ck, const char *key)
{
	struct ee_ckpt_tensor probe = { .key = key };

	if (!ck->nt)
		return NULL;
	return bsearch(&probe, ck->t, (size_t)ck->nt, sizeof(*ck->t), cmp_tensor);
}

bool ee_ckpt_has_prefix(const struct ee_ckpt *ck, const char *prefix)
{
	size_t n = strlen(prefix);
	int lo = 0, hi = ck->nt;

	while (lo < hi) { /* the first key >= prefix */
		int mid = (lo + hi) / 2;

		if (strcmp(ck->t[mid].key, prefix) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo < ck->nt && !strncmp(ck->t[lo].key, prefix, n);
}

static int ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), m = strlen(suffix);

	return n >= m && !strcmp(s + n - m, suffix);
}

int ee_ckpt_read(const struct ee_ckpt *ck, const struct ee_ckpt_tensor *t, float *dst,
		 struct ee_err *err)
{
	char name[1024];
	hid_t ds;
	herr_t st;
	size_t i;

	snprintf(name, sizeof(name), "/state_dict/%s", t->key);
	ds = H5Dopen2(ck->file, name, H5P_DEFAULT);
	if (ds < 0)
		return FAIL(err, "checkpoint '%s': cannot open tensor '%s'", ck->path, t->key);
	st = H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, dst);
	H5Dclose(ds);
	if (st < 0)
		return FAIL(err, "checkpoint '%s': cannot read tensor '%s' (truncated or corrupt file)",
			    ck->path, t->key);
	for (i = 0; i < t->numel; i++)
		if (!isfinite(dst[i]))
			return FAIL(err, "checkpoint '%s': tensor '%s' holds %s at index %zu", ck->path,
				    t->key, isnan(dst[i]) ? "NaN" : "Inf", i);
	if (ends_with(t->key, ".running_var"))
		for (i = 0; i < t->numel; i++)
			if (dst[i] < 0)
				return FAIL(err, "checkpoint '%s': tensor '%s' holds %g at index %zu (a "
					    "variance is never negative)", ck->path, t->key,
					    (double)dst[i], i);
	return EE_OK;
}

void ee_ckpt_close(struct ee_ckpt *ck)
{
	if (ck->file >= 0)
		H5Fclose(ck->file);
	ck->file = -1;
}

void ee_ckpt_release(struct ee_ckpt *ck)
{
	ee_ckpt_close(ck);
	free(ck->t);
	ee_pool_release(&ck->pool);
	memset(ck, 0, sizeof(*ck));
	ck->file = -1;
}

long long ee_ckpt_params(const struct ee_ckpt *ck)
{
	long long sum = 0;
	int i;

	for (i = 0; i < ck->nt; i++)
		if (!ends_with(ck->t[i].key, ".running_mean") && !ends_with(ck->t[i].key, ".running_var") &&
		    !ends_with(ck->t[i].key, ".num_batches_tracked"))
			sum += (long long)ck->t[i].numel;
	return sum;
}
