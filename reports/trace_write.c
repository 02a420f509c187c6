/*
 * trace_write.c - ee_trace_write: a checked trace into an HDF5 file that appears
 * whole or not at all (core/outfile.h); see trace.h for the layout.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5io.h"
#include "reports/trace-impl.h"

#define TOOL_VERSION "eeprof 0.1"
#define CHUNK_BYTES ((size_t)1 << 20)  /* target size of one chunk before compression */
#define DEFLATE_LEVEL 4

/* Chunked and deflated (with byte shuffling for wider types), no timestamps. */
static hid_t create_props(const struct col *c)
{
	hid_t p = H5Pcreate(H5P_DATASET_CREATE);
	size_t row = row_len(c) * type_size(c->type);
	hsize_t chunk[3];
	int i;

	if (p < 0 || H5Pset_obj_track_times(p, 0) < 0 || col_count(c) == 0)
		return p; /* an empty dataset stays contiguous: chunks have no zero size */
	chunk[0] = CHUNK_BYTES / row ? CHUNK_BYTES / row : 1;
	if (chunk[0] > c->dims[0])
		chunk[0] = c->dims[0];
	for (i = 1; i < c->rank; i++)
		chunk[i] = c->dims[i];
	if (H5Pset_chunk(p, c->rank, chunk) < 0 ||
	    (type_size(c->type) > 1 && H5Pset_shuffle(p) < 0) ||
	    H5Pset_deflate(p, DEFLATE_LEVEL) < 0) {
		H5Pclose(p);
		return H5I_INVALID_HID;
	}
	return p;
}

static int put_col(hid_t f, const struct col *c, struct ee_err *err)
{
	hid_t sp = H5Screate_simple(c->rank, c->dims, NULL), dcpl = create_props(c), ds = -1;
	char p[MAX_NAME + 32];
	herr_t st = -1;

	ee_tr_col_path(c, p, sizeof(p));
	if (sp >= 0 && dcpl >= 0)
		ds = H5Dcreate2(f, p, h5_type(c->type), sp, H5P_DEFAULT, dcpl, H5P_DEFAULT);
	if (ds >= 0) {
		st = H5Dwrite(ds, h5_type(c->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data);
		H5Dclose(ds);
	}
	if (dcpl >= 0)
		H5Pclose(dcpl);
	if (sp >= 0)
		H5Sclose(sp);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write dataset '%s'", p) : EE_OK;
}

/* names[count] as a dataset of fixed-length UTF-8 strings. */
static int put_strings(hid_t f, const char *path, char *const *names, int count,
		       struct ee_err *err)
{
	hsize_t n = (hsize_t)count;
	size_t len = 1;
	hid_t t = H5Tcopy(H5T_C_S1), sp = H5Screate_simple(1, &n, NULL), ds = -1;
	herr_t st = -1;
	char *buf;
	int i;

	for (i = 0; i < count; i++)
		if (strlen(names[i]) + 1 > len)
			len = strlen(names[i]) + 1;
	buf = calloc(n ? n : 1, len);
	for (i = 0; buf && i < count; i++)
		memcpy(buf + (size_t)i * len, names[i], strlen(names[i]));
	if (buf && H5Tset_size(t, len) >= 0 && H5Tset_cset(t, H5T_CSET_UTF8) >= 0)
		ds = H5Dcreate2(f, path, t, sp, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	if (ds >= 0) {
		st = H5Dwrite(ds, t, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
		H5Dclose(ds);
	}
	free(buf);
	H5Sclose(sp);
	H5Tclose(t);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write dataset '%s'", path) : EE_OK;
}

/* A scalar attribute of type (native int or double). */
static int put_attr(hid_t loc, const char *name, hid_t type, const void *v, struct ee_err *err)
{
	hid_t s = H5Screate(H5S_SCALAR);
	hid_t a = H5Acreate2(loc, name, type, s, H5P_DEFAULT, H5P_DEFAULT);
	herr_t st = a >= 0 ? H5Awrite(a, type, v) : -1;

	if (a >= 0)
		H5Aclose(a);
	H5Sclose(s);
	return st < 0 ? ee_err_set(err, EE_ERR_IO, "cannot write attribute '%s'", name) : EE_OK;
}



/* /timing's ranks and rank_seconds, when recorded. */
static int put_ranks(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	hid_t loc;
	int i, rc;

	if (t->ranks < 1)
		return EE_OK;
	for (i = 0; i < t->ranks; i++)
		if (!isfinite(t->rank_seconds[i]) || t->rank_seconds[i] < 0)
			return ee_err_set(err, EE_ERR_INPUT, "refusing to write a malformed trace: "
					  "rank %d's seconds are %g", i, t->rank_seconds[i]);
	if ((loc = H5Oopen(f, "/timing", H5P_DEFAULT)) < 0)
		return ee_err_set(err, EE_ERR_IO, "cannot open /timing");
	rc = put_attr(loc, "ranks", H5T_NATIVE_INT, &t->ranks, err);
	if (rc == EE_OK)
		rc = ee_h5_write_attr_doubles(loc, "rank_seconds", t->rank_seconds, t->ranks, err);
	H5Oclose(loc);
	return rc;
}

static int put_attrs(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	const int version = EE_TRACE_VERSION;
	struct attr a[MAX_ATTRS];
	int i, m = ee_tr_attrs((struct ee_trace *)t, a), rc;

	rc = ee_h5_write_attr_string(f, "format", EE_TRACE_FORMAT, err);
	if (rc == EE_OK)
		rc = put_attr(f, "trace_version", H5T_NATIVE_INT, &version, err);
	if (rc == EE_OK)
		rc = ee_h5_write_attr_string(f, "eeprof_version", TOOL_VERSION, err);
	for (i = 0; i < m && rc == EE_OK; i++) {
		hid_t loc = H5Oopen(f, a[i].group, H5P_DEFAULT);

		rc = a[i].s   ? ee_h5_write_attr_string(loc, a[i].name, a[i].s, err)
		     : a[i].i ? put_attr(loc, a[i].name, H5T_NATIVE_INT, a[i].i, err)
			      : put_attr(loc, a[i].name, H5T_NATIVE_DOUBLE, a[i].d, err);
		if (loc >= 0)
			H5Oclose(loc);
	}
	return rc == EE_OK ? put_ranks(f, t, err) : rc;
}

static int put_groups(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	hid_t g = ee_h5_group(f, "timing", err);

	if (g < 0)
		return EE_ERR_IO;
	H5Gclose(g);
	if (t->ngated && (g = ee_h5_group(f, "gates/bits", err)) < 0)
		return EE_ERR_IO;
	if (t->ngated)
		H5Gclose(g);
	return EE_OK;
}

static int put_names(hid_t f, const struct tables *tb, struct ee_err *err)
{
	int rc = EE_OK;

	if (tb->g)
		rc = put_strings(f, "/gates/layer_name", tb->gate_name, tb->g, err);
	if (rc == EE_OK && tb->l)
		rc = put_strings(f, "/timing/layer_name", tb->layer_name, tb->l, err);
	if (rc == EE_OK && tb->l)
		rc = put_strings(f, "/timing/layer_kind", tb->layer_kind, tb->l, err);
	if (rc == EE_OK && tb->l && tb->cn.counted)
		rc = put_strings(f, "/timing/counter_names", tb->cn.names, tb->cn.n, err);
	if (rc == EE_OK && tb->l && tb->cn.counted)
		rc = put_strings(f, "/timing/counter_warnings", tb->cn.warn, tb->cn.nwarn, err);
	return rc;
}

/* Checks t and writes everything into the open file f. */
static int write_trace(hid_t f, const struct ee_trace *t, struct ee_err *err)
{
	struct col *c = malloc((MAX_SAMPLE_COLS(t->ngated) + MAX_TABLE_COLS) * sizeof(*c));
	struct tables tb;
	int i, m = 0, rc;

	rc = c ? ee_tr_tables_alloc(&tb, t->nexits, t->ngated, t->nlayers, false, -1, 0, err)
	       : ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if (rc < 0) {
		free(c);
		return rc;
	}
	ee_tr_tables_from(&tb, t);
	m = ee_tr_sample_cols(t, c);
	m += ee_tr_table_cols(&tb, c + m);
	rc = ee_tr_check_identity(t, err);
	if (rc == EE_OK)
		rc = ee_tr_check_names(&tb, err);
	if (rc == EE_OK)
		rc = ee_tr_check_cols(c, m, err);
	if (rc == EE_OK)
		rc = ee_tr_check_rows(t, err);
	if (rc < 0)
		rc = ee_err_prefix(err, "refusing to write a malformed trace: ");
	if (rc == EE_OK)
		rc = put_groups(f, t, err);
	if (rc == EE_OK)
		rc = put_attrs(f, t, err);
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = put_col(f, &c[i], err);
	if (rc == EE_OK)
		rc = put_names(f, &tb, err);
	ee_tr_tables_release(&tb);
	free(c);
	return rc;
}

int ee_trace_write(const struct ee_trace *t, const char *path, struct ee_err *err)
{
	struct ee_out out;
	hid_t f;
	int rc;

	ee_h5_quiet();
	if ((rc = ee_out_begin(&out, path, err)) < 0)
		return rc;
	if ((f = ee_out_h5create(&out, err)) < 0) {
		ee_out_abort(&out);
		return EE_ERR_IO;
	}
	rc = write_trace(f, t, err);
	if (H5Fclose(f) < 0 && rc == EE_OK)
		rc = ee_err_set(err, EE_ERR_IO, "cannot close the file");
	if (rc < 0) {
		ee_out_abort(&out);
		return ee_err_prefix(err, "trace '%s': ", path);
	}
	return ee_out_commit(&out, err);
}

/* ---- in memory ------------------------------------------------------------- */

/* File access through HDF5's core driver, in memory only (never written to disk). */
static hid_t memory_fapl(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	if (fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0) {
		H5Pclose(fapl);
		return H5I_INVALID_HID;
	}
	return fapl;
}

int ee_trace_to_bytes(const struct ee_trace *t, void **buf, size_t *len, struct ee_err *err)
{
	hid_t fapl, f = H5I_INVALID_HID;
	ssize_t size = -1;
	int rc;

	ee_h5_quiet();
	*buf = NULL;
	*len = 0;
	if ((fapl = memory_fapl()) >= 0)
		f = H5Fcreate("trace-in-memory.h5", H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
	rc = f >= 0 ? write_trace(f, t, err)
		    : ee_err_set(err, EE_ERR_INTERNAL, "cannot make a trace in memory");
	if (rc == EE_OK && (H5Fflush(f, H5F_SCOPE_LOCAL) < 0 ||
			    (size = H5Fget_file_image(f, NULL, 0)) <= 0))
		rc = ee_err_set(err, EE_ERR_INTERNAL, "cannot get the image of a trace in memory");
	if (rc == EE_OK && !(*buf = malloc((size_t)size)))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory (%zd bytes of trace)", size);
	if (rc == EE_OK && H5Fget_file_image(f, *buf, (size_t)size) != size)
		rc = ee_err_set(err, EE_ERR_INTERNAL, "cannot copy the image of a trace in memory");
	if (f >= 0)
		H5Fclose(f);
	if (fapl >= 0)
		H5Pclose(fapl);
	if (rc < 0) {
		free(*buf);
		*buf = NULL;
		return rc;
	}
	*len = (size_t)size;
	return EE_OK;
}
