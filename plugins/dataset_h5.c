/*
 * dataset_h5.c - the h5 reader: one HDF5 file holding
 *
 *   1. /images       uint8 or float32, rank 4 [N, C, H, W] (float32 used as is)
 *   2. /labels       any integer type, rank 1 [N]
 *   3. num_classes   optional integer root attribute; without it, 1 + the largest label
 *
 * Ranks, types and N are checked before any data is read, and sizes against the caps.
 * HDF5's automatic error printing is turned off while the reader runs (and restored
 * after): every HDF5 failure becomes an ee_err naming the file, the dataset and the
 * innermost message of HDF5's error stack.
 */
#include "core/h5check.h"
#include "plugins/dataset-impl.h"

#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#define H5_MAX_CLASSES (1 << 20)

/* The innermost message of HDF5's error stack (the most specific one). */
static herr_t first_desc(unsigned n, const H5E_error2_t *e, void *buf)
{
	(void)n;
	snprintf(buf, EE_ERR_MSG_MAX / 2, "%s", e->desc ? e->desc : "unknown HDF5 error");
	return 1;
}

static int h5_fail(const char *path, const char *what, struct ee_err *err)
{
	char desc[EE_ERR_MSG_MAX / 2] = "unknown HDF5 error";

	H5Ewalk2(H5E_DEFAULT, H5E_WALK_UPWARD, first_desc, desc);
	return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot %s: %s", path, what, desc);
}

static int h5_open_file(const char *path, hid_t *file, struct ee_err *err)
{
	uint64_t size;
	int rc = ee_dataset_file_size(path, &size, err);

	if (rc < 0 || (rc = ee_h5_check_file(path, "dataset", err)) < 0)
		return rc;
	if (H5Fis_hdf5(path) <= 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': not an HDF5 file", path);
	*file = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	return *file < 0 ? h5_fail(path, "open the HDF5 file", err) : EE_OK;
}

static int h5_open_dataset(hid_t file, const char *path, const char *name, hid_t *dset,
			   struct ee_err *err)
{
	char what[64];

	if (H5Lexists(file, name, H5P_DEFAULT) <= 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': no dataset '%s'", path, name);
	*dset = H5Dopen2(file, name, H5P_DEFAULT);
	snprintf(what, sizeof(what), "open '%s'", name);
	return *dset < 0 ? h5_fail(path, what, err) : EE_OK;
}

/* Reads the dims of dset, which must have the given rank (shape names the axes). */
static int h5_dims(hid_t dset, const char *path, const char *name, int rank,
		   const char *shape, hsize_t *dims, struct ee_err *err)
{
	hid_t space = H5Dget_space(dset);
	int r = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);

	if (r >= 0 && r != rank) {
		H5Sclose(space);
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': '%s' has rank %d, expected %d "
				  "%s", path, name, r, rank, shape);
	}
	if (r < 0 || H5Sget_simple_extent_dims(space, dims, NULL) < 0) {
		char what[64];
		int rc;

		snprintf(what, sizeof(what), "read the shape of '%s'", name);
		rc = h5_fail(path, what, err); /* before H5Sclose() clears HDF5's error stack */
		if (space >= 0)
			H5Sclose(space);
		return rc;
	}
	H5Sclose(space);
	return EE_OK;
}

/* Names a stored type for messages: "int16", "float64", "a string type", ... */
static void type_name(hid_t type, char *out, size_t size)
{
	H5T_class_t cls = H5Tget_class(type);
	size_t bits = H5Tget_size(type) * 8;

	if (cls == H5T_INTEGER)
		snprintf(out, size, "%sint%zu", H5Tget_sign(type) == H5T_SGN_NONE ? "u" : "", bits);
	else if (cls == H5T_FLOAT)
		snprintf(out, size, "float%zu", bits);
	else
		snprintf(out, size, "a non-numeric type");
}

/* 1 for uint8 images, 4 for float32 ones, 0 for any other type. */
static size_t image_elem(hid_t type)
{
	if (H5Tget_class(type) == H5T_INTEGER && H5Tget_size(type) == 1 &&
	    H5Tget_sign(type) == H5T_SGN_NONE)
		return 1;
	if (H5Tget_class(type) == H5T_FLOAT && H5Tget_size(type) == 4)
		return 4;
	return 0;
}

/* Checks the type of dset: images must be uint8 or float32, labels integers. */
static int h5_type(hid_t dset, const char *path, const char *name, int labels, size_t *elem,
		   struct ee_err *err)
{
	hid_t type = H5Dget_type(dset);
	char got[32];
	int ok;

	if (type < 0)
		return h5_fail(path, labels ? "read the type of '/labels'" :
				     "read the type of '/images'", err);
	*elem = labels ? sizeof(int32_t) : image_elem(type);
	ok = ee_h5_number_type_ok(type) && (labels ? H5Tget_class(type) == H5T_INTEGER : *elem != 0);
	type_name(type, got, sizeof(got));
	H5Tclose(type);
	if (!ok)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': '%s' has type %s, expected %s",
				  path, name, got, labels ? "an integer type" : "uint8 or float32");
	return EE_OK;
}

/* The data of dset was written and lies in the file (core/h5check.h). */
static int h5_storage(hid_t dset, const char *path, const char *name, struct ee_err *err)
{
	char desc[EE_ERR_MSG_MAX], what[64];

	snprintf(desc, sizeof(desc), "dataset '%s'", path);
	snprintf(what, sizeof(what), "'%s'", name);
	return ee_h5_check_storage(dset, desc, what, err);
}

/* Fails on the first NaN or infinity: no network input may hold one. */
static int check_finite(const struct ee_dataset *ds, const char *path, struct ee_err *err)
{
	size_t i, per = (size_t)ds->c * ds->h * ds->w, total = per * (size_t)ds->n;

	for (i = 0; i < total; i++)
		if (!isfinite(ds->f32[i]))
			return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': '/images' holds %g in "
					  "image %zu", path, (double)ds->f32[i], i / per);
	return EE_OK;
}

static int read_images(struct ee_dataset *ds, hid_t file, const char *path,
		       struct ee_err *err)
{
	hid_t dset = -1;
	hsize_t d[4];
	size_t elem = 0;
	int rc = h5_open_dataset(file, path, "/images", &dset, err);

	if (rc >= 0)
		rc = h5_dims(dset, path, "/images", 4, "[N,C,H,W]", d, err);
	if (rc >= 0)
		rc = h5_type(dset, path, "/images", 0, &elem, err);
	if (rc >= 0)
		rc = h5_storage(dset, path, "/images", err);
	if (rc >= 0)
		rc = ee_dataset_check_size(path, d[0], d[1], d[2], d[3], elem, err);
	if (rc >= 0)
		rc = ee_dataset_alloc(ds, path, (int)d[0], (int)d[1], (int)d[2], (int)d[3], elem,
				      err);
	if (rc >= 0 && H5Dread(dset, elem == 1 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, H5S_ALL,
			       H5S_ALL, H5P_DEFAULT, elem == 1 ? (void *)ds->u8 :
			       (void *)ds->f32) < 0)
		rc = h5_fail(path, "read '/images'", err);
	if (rc >= 0 && ds->f32)
		rc = check_finite(ds, path, err);
	if (dset >= 0)
		H5Dclose(dset);
	return rc;
}

/* Reads /labels into ds->labels; out-of-range values saturate and are caught later. */
static int read_labels(struct ee_dataset *ds, hid_t file, const char *path,
		       struct ee_err *err)
{
	hid_t dset = -1;
	hsize_t n;
	size_t elem;
	int rc = h5_open_dataset(file, path, "/labels", &dset, err);

	if (rc >= 0)
		rc = h5_dims(dset, path, "/labels", 1, "[N]", &n, err);
	if (rc >= 0)
		rc = h5_type(dset, path, "/labels", 1, &elem, err);
	if (rc >= 0)
		rc = h5_storage(dset, path, "/labels", err);
	if (rc >= 0 && n != (hsize_t)ds->n)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': '/images' holds %d images but "
				"'/labels' %llu labels", path, ds->n, (unsigned long long)n);
	if (rc >= 0 && H5Dread(dset, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT,
			       ds->labels) < 0)
		rc = h5_fail(path, "read '/labels'", err);
	if (dset >= 0)
		H5Dclose(dset);
	return rc;
}

/* The root attribute num_classes, or 0 when there is none. */
static int read_num_classes(hid_t file, const char *path, int *classes, struct ee_err *err)
{
	long long v = 0;
	hid_t attr, space, type;
	int ok;
	char desc[EE_ERR_MSG_MAX / 2];

	*classes = 0;
	snprintf(desc, sizeof(desc), "dataset '%s'", path);
	if (ee_h5_check_attrs(file, desc, "the root group", err) < 0)
		return EE_ERR_INPUT;
	if (H5Aexists(file, "num_classes") <= 0)
		return EE_OK;
	attr = H5Aopen(file, "num_classes", H5P_DEFAULT);
	if (attr < 0)
		return h5_fail(path, "open root attribute 'num_classes'", err);
	space = H5Aget_space(attr);
	type = H5Aget_type(attr);
	ok = space >= 0 && H5Sget_simple_extent_npoints(space) == 1 && ee_h5_number_type_ok(type) &&
	     H5Aread(attr, H5T_NATIVE_LLONG, &v) >= 0;
	if (space >= 0)
		H5Sclose(space);
	if (type >= 0)
		H5Tclose(type);
	H5Aclose(attr);
	if (!ok || v < 1 || v > H5_MAX_CLASSES)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': root attribute 'num_classes' "
				  "is not one integer in 1..%d", path, H5_MAX_CLASSES);
	*classes = (int)v;
	return EE_OK;
}

/* Sets num_classes from the attribute or the labels, then checks every label. */
static int set_classes(struct ee_dataset *ds, hid_t file, const char *path,
		       struct ee_err *err)
{
	int rc = read_num_classes(file, path, &ds->num_classes, err), i, max = 0;

	if (rc < 0)
		return rc;
	for (i = 0; !ds->num_classes && i < ds->n; i++)
		max = ds->labels[i] > max ? ds->labels[i] : max;
	if (!ds->num_classes)
		ds->num_classes = max < H5_MAX_CLASSES ? max + 1 : H5_MAX_CLASSES;
	return ee_dataset_check_labels(path, ds->labels, ds->n, 0, ds->num_classes, err);
}

static int h5_load(struct ee_dataset *ds, const char *path, struct ee_err *err)
{
	hid_t file = -1;
	int rc = h5_open_file(path, &file, err);

	if (rc >= 0)
		rc = read_images(ds, file, path, err);
	if (rc >= 0)
		rc = read_labels(ds, file, path, err);
	if (rc >= 0)
		rc = set_classes(ds, file, path, err);
	if (file >= 0)
		H5Fclose(file);
	return rc;
}

int ee_dataset_h5_open(struct ee_dataset *ds, const char *where, enum ee_dataset_part part,
		       struct ee_err *err)
{
	H5E_auto2_t old_fn = NULL;
	void *old_data = NULL;
	int rc;

	(void)part;
	H5Eget_auto2(H5E_DEFAULT, &old_fn, &old_data);
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
	rc = h5_load(ds, where, err);
	H5Eset_auto2(H5E_DEFAULT, old_fn, old_data);
	return rc;
}
