/* h5io.c - the HDF5 reads and writes of checkpoints and traces; see h5io.h. */
#include "h5io.h"

#include <errno.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/arena.h"
#include "core/h5check.h"

void ee_h5_quiet(void)
{
	H5Eset_auto2(H5E_DEFAULT, NULL, NULL);
}

int64_t ee_h5_open_read(const char *path, const char *what, struct ee_err *err)
{
	hid_t f;

	ee_h5_quiet();
	if (ee_h5_check_file(path, what, err) < 0)
		return -1;
	if (H5Fis_hdf5(path) <= 0 || (f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT)) < 0) {
		ee_err_set(err, EE_ERR_INPUT, "%s '%s': not an HDF5 file (or truncated)", what, path);
		return -1;
	}
	return f;
}

void ee_h5_close(int64_t file)
{
	if (file >= 0)
		H5Fclose(file);
}

int ee_h5_read_floats(int64_t file, const char *path, const char *name, int rank, uint64_t *dims,
		      size_t max, float **data, struct ee_err *err)
{
	hsize_t d[8];
	hid_t ds, sp, ty;
	size_t n = 1;
	int r, i, rc = EE_OK;

	*data = NULL;
	if (H5Lexists(file, name, H5P_DEFAULT) <= 0 || (ds = H5Dopen2(file, name, H5P_DEFAULT)) < 0)
		return ee_err_set(err, EE_ERR_INPUT, "'%s': no dataset '%s'", path, name);
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	r = H5Sget_simple_extent_ndims(sp);
	if (!ee_h5_number_type_ok(ty)) {
		rc = ee_err_set(err, EE_ERR_INPUT, "'%s': dataset '%s' does not hold numbers", path,
				name);
	} else if (r != rank) {
		rc = ee_err_set(err, EE_ERR_INPUT, "'%s': dataset '%s' has rank %d, expected %d", path,
				name, r, rank);
	} else {
		H5Sget_simple_extent_dims(sp, d, NULL);
		for (i = 0; i < rank; i++) {
			dims[i] = d[i];
			if (d[i] > max || ee_mul_size(n, d[i], &n) || n > max)
				rc = ee_err_set(err, EE_ERR_INPUT, "'%s': dataset '%s' is too large",
						path, name);
		}
	}
	if (rc == EE_OK) {
		char desc[4200], what[1100];

		snprintf(desc, sizeof(desc), "'%s'", path);
		snprintf(what, sizeof(what), "dataset '%s'", name);
		rc = ee_h5_check_storage(ds, desc, what, err);
	}
	if (rc == EE_OK && !(*data = malloc((n ? n : 1) * sizeof(float))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory reading '%s'", path);
	if (rc == EE_OK && n && H5Dread(ds, H5T_NATIVE_FLOAT, H5S_ALL, H5S_ALL, H5P_DEFAULT, *data) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "'%s': cannot read dataset '%s' as numbers", path,
				name);
	if (rc < 0) {
		free(*data);
		*data = NULL;
	}
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

/* Attribute name of loc, if it exists; libhdf5 decodes every attribute of loc to find it,
 * so all are checked first (h5check.h): a malformed one reads as missing. */
static hid_t open_attr(hid_t loc, const char *name)
{
	struct ee_err ignored = { 0 };

	if (ee_h5_check_attrs(loc, "", "", &ignored) < 0 || H5Aexists(loc, name) <= 0)
		return H5I_INVALID_HID;
	return H5Aopen(loc, name, H5P_DEFAULT);
}

int ee_h5_attr_string(int64_t loc, const char *name, char *buf, size_t size)
{
	hid_t a = open_attr(loc, name), t, mt, sp;
	int rc = EE_ERR_INPUT;

	if (a < 0)
		return 0;
	t = H5Aget_type(a);
	sp = H5Aget_space(a);
	if (H5Tget_class(t) == H5T_STRING && H5Sget_simple_extent_npoints(sp) == 1) {
		mt = H5Tcopy(H5T_C_S1);
		H5Tset_cset(mt, H5Tget_cset(t));
		if (H5Tis_variable_str(t) > 0) {
			/* read from the file's bytes: libhdf5 trusts the global heap (h5check.h) */
			struct ee_err ignored = { 0 };

			rc = ee_h5_vlen_string(loc, name, buf, size, &ignored);
		} else {
			size_t n = H5Tget_size(t);
			char *s = calloc(n + 1, 1);

			H5Tset_size(mt, n + 1);
			if (s && H5Aread(a, mt, s) >= 0) {
				snprintf(buf, size, "%s", s);
				rc = 1;
			}
			free(s);
		}
		H5Tclose(mt);
	}
	H5Sclose(sp);
	H5Tclose(t);
	H5Aclose(a);
	return rc;
}

int ee_h5_attr_doubles(int64_t loc, const char *name, double *v, int max, int *n)
{
	hid_t a = open_attr(loc, name), t, s;
	hssize_t count;
	int rc = EE_ERR_INPUT;

	*n = 0;
	if (a < 0)
		return 0;
	t = H5Aget_type(a);
	s = H5Aget_space(a);
	count = H5Sget_simple_extent_npoints(s);
	if (ee_h5_number_type_ok(t) &&
	    H5Sget_simple_extent_ndims(s) <= 1 && count >= 1 && count <= max &&
	    H5Aread(a, H5T_NATIVE_DOUBLE, v) >= 0) {
		*n = (int)count;
		rc = 1;
	}
	H5Sclose(s);
	H5Tclose(t);
	H5Aclose(a);
	return rc;
}

static hid_t mem_type(char type)
{
	switch (type) {
	case 'f': return H5T_NATIVE_FLOAT;
	case 'd': return H5T_NATIVE_DOUBLE;
	case 'b': return H5T_NATIVE_UINT8;
	case 'i': return H5T_NATIVE_INT32;
	}
	return H5I_INVALID_HID;
}

int ee_h5_write(int64_t loc, const char *name, char type, int rank, const uint64_t *dims,
		const void *data, struct ee_err *err)
{
	hsize_t d[8];
	hid_t s, ds;
	herr_t st = -1;
	int i;

	for (i = 0; i < rank && i < 8; i++)
		d[i] = dims[i];
	s = H5Screate_simple(rank, d, NULL);
	ds = s < 0 ? -1 : H5Dcreate2(loc, name, mem_type(type), s, H5P_DEFAULT, H5P_DEFAULT,
				     H5P_DEFAULT);
	if (ds >= 0) {
		st = H5Dwrite(ds, mem_type(type), H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
		H5Dclose(ds);
	}
	if (s >= 0)
		H5Sclose(s);
	if (st < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot write dataset '%s'", name);
	return EE_OK;
}

int ee_h5_write_attr_string(int64_t loc, const char *name, const char *value, struct ee_err *err)
{
	hid_t t = H5Tcopy(H5T_C_S1), s = H5Screate(H5S_SCALAR), a;
	herr_t st = -1;

	H5Tset_size(t, strlen(value) + 1);
	H5Tset_cset(t, H5T_CSET_UTF8);
	a = H5Acreate2(loc, name, t, s, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0) {
		st = H5Awrite(a, t, value);
		H5Aclose(a);
	}
	H5Sclose(s);
	H5Tclose(t);
	if (st < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot write attribute '%s'", name);
	return EE_OK;
}

int ee_h5_write_attr_doubles(int64_t loc, const char *name, const double *v, int n,
			     struct ee_err *err)
{
	hsize_t d = (hsize_t)n;
	hid_t s = H5Screate_simple(1, &d, NULL), a;
	herr_t st = -1;

	a = H5Acreate2(loc, name, H5T_NATIVE_DOUBLE, s, H5P_DEFAULT, H5P_DEFAULT);
	if (a >= 0) {
		st = H5Awrite(a, H5T_NATIVE_DOUBLE, v);
		H5Aclose(a);
	}
	H5Sclose(s);
	if (st < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot write attribute '%s'", name);
	return EE_OK;
}

int64_t ee_h5_group(int64_t loc, const char *path, struct ee_err *err)
{
	hid_t lcpl = H5Pcreate(H5P_LINK_CREATE), g;

	H5Pset_create_intermediate_group(lcpl, 1);
	g = H5Gcreate2(loc, path, lcpl, H5P_DEFAULT, H5P_DEFAULT);
	H5Pclose(lcpl);
	if (g < 0)
		ee_err_set(err, EE_ERR_IO, "cannot create group '%s'", path);
	return g;
}

int64_t ee_out_h5create(struct ee_out *o, struct ee_err *err)
{
	hid_t f = H5Fcreate(o->tmp, H5F_ACC_TRUNC, H5P_DEFAULT, H5P_DEFAULT);

	if (f < 0)
		ee_err_set(err, EE_ERR_IO, "cannot create '%s'", o->path);
	return f;
}
