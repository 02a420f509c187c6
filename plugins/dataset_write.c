/*
 * dataset_write.c - see dataset_write.h. /images is a chunked HDF5 dataset (one image a
 * chunk) grown batch by batch, so that a folder larger than memory converts in constant
 * space; /labels is written at the end.
 */
#include "plugins/dataset_write.h"

#include <hdf5.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5io.h"
#include "core/outfile.h"

/* The HDF5 side: the file, /images and how many rows it holds. */
struct sink {
	hid_t file, images;
	long rows;
	struct ee_shape in;
	bool u8;
};

static int sink_open(struct sink *s, const struct ee_out *out, const struct ee_write_opts *o,
		     struct ee_err *err)
{
	hsize_t dims[4] = { 0, (hsize_t)o->in.c, (hsize_t)o->in.h, (hsize_t)o->in.w };
	hsize_t max[4] = { H5S_UNLIMITED, dims[1], dims[2], dims[3] };
	hsize_t chunk[4] = { 1, dims[1], dims[2], dims[3] };
	hid_t space, plist;

	s->in = o->in;
	s->u8 = o->u8;
	s->rows = 0;
	s->images = -1;
	s->file = ee_out_h5create((struct ee_out *)out, err);
	if (s->file < 0)
		return EE_ERR_IO;
	space = H5Screate_simple(4, dims, max);
	plist = H5Pcreate(H5P_DATASET_CREATE);
	if (space >= 0 && plist >= 0 && H5Pset_chunk(plist, 4, chunk) >= 0)
		s->images = H5Dcreate2(s->file, "images", o->u8 ? H5T_STD_U8LE : H5T_IEEE_F32LE,
				       space, H5P_DEFAULT, plist, H5P_DEFAULT);
	if (space >= 0)
		H5Sclose(space);
	if (plist >= 0)
		H5Pclose(plist);
	if (s->images < 0)
		return ee_err_set(err, EE_ERR_IO, "output '%s': cannot create /images", out->path);
	return EE_OK;
}

/* Appends n images (uint8 or float32, as the sink stores them). */
static int sink_append(struct sink *s, const void *x, int n, const char *path,
		       struct ee_err *err)
{
	hsize_t dims[4] = { (hsize_t)(s->rows + n), (hsize_t)s->in.c, (hsize_t)s->in.h,
			    (hsize_t)s->in.w };
	hsize_t start[4] = { (hsize_t)s->rows, 0, 0, 0 }, count[4] = { (hsize_t)n, dims[1],
								       dims[2], dims[3] };
	hid_t fspace = -1, mspace = -1;
	herr_t ok = -1;

	if (n == 0)
		return EE_OK;
	if (H5Dset_extent(s->images, dims) >= 0 && (fspace = H5Dget_space(s->images)) >= 0 &&
	    H5Sselect_hyperslab(fspace, H5S_SELECT_SET, start, NULL, count, NULL) >= 0 &&
	    (mspace = H5Screate_simple(4, count, NULL)) >= 0)
		ok = H5Dwrite(s->images, s->u8 ? H5T_NATIVE_UINT8 : H5T_NATIVE_FLOAT, mspace,
			      fspace, H5P_DEFAULT, x);
	if (fspace >= 0)
		H5Sclose(fspace);
	if (mspace >= 0)
		H5Sclose(mspace);
	if (ok < 0)
		return ee_err_set(err, EE_ERR_IO, "output '%s': cannot write /images", path);
	s->rows += n;
	return EE_OK;
}

/* /labels, num_classes and where the file came from. */
static int sink_finish(struct sink *s, const struct ee_dataset *ds, const int32_t *labels,
		       const struct ee_write_opts *o, struct ee_err *err)
{
	uint64_t n = (uint64_t)s->rows;
	double resize;
	hid_t attr, space;
	long long nc = ds->num_classes;
	int rc = ee_h5_write(s->file, "labels", 'i', 1, &n, labels, err);

	if (rc == EE_OK) {
		space = H5Screate(H5S_SCALAR);
		attr = H5Acreate2(s->file, "num_classes", H5T_STD_I64LE, space, H5P_DEFAULT,
				  H5P_DEFAULT);
		if (attr < 0 || H5Awrite(attr, H5T_NATIVE_LLONG, &nc) < 0)
			rc = ee_err_set(err, EE_ERR_IO, "cannot write attribute num_classes");
		if (attr >= 0)
			H5Aclose(attr);
		H5Sclose(space);
	}
	if (rc == EE_OK)
		rc = ee_h5_write_attr_string(s->file, "source", ds->spec, err);
	if (rc == EE_OK && ds->paths) {
		resize = ee_imgprep_short_side(&ds->prep, o->in.h);
		rc = ee_h5_write_attr_doubles(s->file, "resize", &resize, 1, err);
		if (rc == EE_OK)
			rc = ee_h5_write_attr_string(s->file, "interpolation",
						     ee_interp_name(ds->prep.interp), err);
	}
	if (rc == EE_OK && !o->u8 && o->mean && o->std) {
		double m[4], sd[4];
		int c;

		for (c = 0; c < o->in.c && c < 4; c++) {
			m[c] = o->mean[c];
			sd[c] = o->std[c];
		}
		rc = ee_h5_write_attr_doubles(s->file, "mean", m, o->in.c < 4 ? o->in.c : 4, err);
		if (rc == EE_OK)
			rc = ee_h5_write_attr_doubles(s->file, "std", sd, o->in.c < 4 ? o->in.c : 4,
						      err);
	}
	return rc;
}

/* Drops the bad samples of a batch from px (per bytes each) and labels; returns the rest. */
static int compact(uint8_t *px, size_t per, int32_t *labels, const int *bad, int n,
		   const struct ee_dataset *ds, int first, struct ee_write_result *res)
{
	int i, k = 0;

	for (i = 0; i < n; i++) {
		if (bad[i]) {
			ee_skipped_add(&res->skipped, ds->paths[first + i]);
			continue;
		}
		if (k != i) {
			memmove(px + (size_t)k * per, px + (size_t)i * per, per);
			labels[k] = labels[i];
		}
		k++;
	}
	return k;
}

/* Every batch: pixels, bad ones left out, normalised if asked, appended. */
static int write_batches(const struct ee_dataset *ds, struct sink *s, int32_t *labels,
			 const struct ee_write_opts *o, struct ee_write_result *res,
			 const char *path, struct ee_err *err)
{
	size_t per = ee_shape_numel(o->in);
	uint8_t *px = malloc((size_t)o->batch * per);
	float *fx = o->u8 ? NULL : malloc((size_t)o->batch * per * sizeof(float));
	int *bad = calloc((size_t)o->batch, sizeof(int));
	int first, rc = px && bad && (o->u8 || fx) ? EE_OK :
			ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of %d", o->batch);

	for (first = 0; rc == EE_OK && first < o->count; first += o->batch) {
		int n = o->count - first < o->batch ? o->count - first : o->batch, k;
		int32_t *lab = labels + res->written;

		if (ds->f32) { /* float pixels: only normalised float32 output (checked) */
			rc = ee_dataset_batch(ds, o->offset + first, n, o->in, o->mean, o->std, fx,
					      err);
			memcpy(lab, ds->labels + o->offset + first, (size_t)n * sizeof(*lab));
			k = n;
		} else {
			rc = ee_dataset_batch_u8(ds, o->offset + first, n, o->in, px,
						 o->skip_bad ? bad : NULL, err);
			memcpy(lab, ds->labels + o->offset + first, (size_t)n * sizeof(*lab));
			k = rc == EE_OK ? compact(px, per, lab, bad, n, ds, o->offset + first, res) : 0;
		}
		if (rc == EE_OK && !o->u8 && !ds->f32 && k > 0) {
			/* ToTensor and Normalize exactly as --data SPEC does: the same code on a
			 * dataset of the cropped pixels. */
			struct ee_dataset view = *ds;

			view.paths = NULL;
			view.u8 = px;
			view.n = k;
			view.c = o->in.c;
			view.h = o->in.h;
			view.w = o->in.w;
			rc = ee_dataset_batch(&view, 0, k, o->in, o->mean, o->std, fx, err);
		}
		if (rc == EE_OK)
			rc = sink_append(s, o->u8 ? (const void *)px : (const void *)fx, k, path, err);
		res->written += rc == EE_OK ? k : 0;
		if (rc == EE_OK && o->progress)
			o->progress(o->ctx, first + n, o->count);
	}
	free(px);
	free(fx);
	free(bad);
	return rc;
}

int ee_dataset_write(const struct ee_dataset *ds, const char *path,
		     const struct ee_write_opts *o, struct ee_write_result *res,
		     struct ee_err *err)
{
	struct ee_out out;
	struct sink s = { -1, -1, 0, { 0, 0, 0 }, false };
	int32_t *labels;
	int rc, begun;

	memset(res, 0, sizeof(*res));
	if (o->count < 1 || o->offset < 0 || o->offset > ds->n - o->count || o->batch < 1)
		return ee_err_set(err, EE_ERR_USAGE, "dataset '%s': samples [%d, %d) are outside "
				  "its %d samples", ds->spec, o->offset, o->offset + o->count,
				  ds->n);
	if (ds->f32 && o->u8)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s' holds float32 pixels: --uint8 "
				  "needs uint8 ones", ds->spec);
	labels = malloc((size_t)o->count * sizeof(*labels));
	if (!labels)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d labels", o->count);
	rc = ee_out_begin(&out, path, err);
	begun = rc == EE_OK;
	if (rc == EE_OK)
		rc = sink_open(&s, &out, o, err);
	if (rc == EE_OK)
		rc = write_batches(ds, &s, labels, o, res, path, err);
	if (rc == EE_OK && res->written == 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': no image could be decoded (%ld "
				"skipped)", ds->spec, res->skipped.n);
	if (rc == EE_OK)
		rc = sink_finish(&s, ds, labels, o, err);
	if (s.images >= 0)
		H5Dclose(s.images);
	if (s.file >= 0 && H5Fclose(s.file) < 0 && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_IO, "output '%s': cannot write", path);
	free(labels);
	if (rc == EE_OK)
		return ee_out_commit(&out, err);
	if (begun)
		ee_out_abort(&out);
	return rc;
}
