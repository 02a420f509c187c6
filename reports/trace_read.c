/*
 * trace_read.c - ee_trace_read: an HDF5 trace into memory, refusing any file that
 * breaks the shapes, ranges or size caps of the schema (trace.h, trace-impl.h).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/h5check.h"
#include "core/h5io.h"
#include "reports/trace-impl.h"

#define MAX_BYTES ((double)(1ull << 33)) /* memory of one trace read from a file */

static const char *fmt_dims(char *buf, size_t size, int rank, const hsize_t *d)
{
	size_t len = 0;
	int i;

	buf[0] = '\0';
	for (i = 0; i < rank && len < size; i++)
		len += (size_t)snprintf(buf + len, size - len, "%s%llu", i ? ", " : "[",
					(unsigned long long)d[i]);
	if (len < size)
		snprintf(buf + len, size - len, "%s", rank ? "]" : "scalar");
	return buf;
}


/* True if every link along an absolute path exists (H5Lexists needs the parents to). */
static bool exists(hid_t f, const char *path)
{
	char buf[MAX_NAME + 32];
	size_t i, len = strlen(path);

	if (len >= sizeof(buf))
		return false;
	for (i = 2; i <= len; i++) {
		if (i < len && path[i] != '/')
			continue;
		memcpy(buf, path, i);
		buf[i] = '\0';
		if (H5Lexists(f, buf, H5P_DEFAULT) <= 0)
			return false;
	}
	return true;
}

static int open_dataset(hid_t f, const char *path, hid_t *ds, struct ee_err *err)
{
	*ds = exists(f, path) ? H5Dopen2(f, path, H5P_DEFAULT) : H5I_INVALID_HID;
	return *ds < 0 ? ee_err_set(err, EE_ERR_INPUT, "no dataset '%s'", path) : EE_OK;
}

/* The data of dataset p was written and lies inside the file (core/h5check.h). */
static int check_storage(hid_t ds, const char *p, struct ee_err *err)
{
	char what[MAX_NAME + 48];

	snprintf(what, sizeof(what), "dataset '%s'", p);
	return ee_h5_check_storage(ds, "", what, err);
}

/* Reads a numeric dataset into c->data after checking its type class and exact shape. */
static int get_col(hid_t f, const struct col *c, struct ee_err *err)
{
	char p[MAX_NAME + 32], got[128], want[128];
	hsize_t d[H5S_MAX_RANK];
	H5T_class_t cls;
	hid_t ds, sp, ty;
	int rank, rc;

	if ((rc = open_dataset(f, ee_tr_col_path(c, p, sizeof(p)), &ds, err)) < 0)
		return rc;
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	cls = H5Tget_class(ty);
	rank = H5Sget_simple_extent_ndims(sp);
	if (rank < 0 || H5Sget_simple_extent_dims(sp, d, NULL) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read the shape of dataset '%s'", p);
	else if (!ee_h5_number_type_ok(ty) ||
		 (cls != H5T_INTEGER && (cls != H5T_FLOAT || c->type == 'i' || c->type == 'b')))
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' does not hold %s", p,
				c->type == 'i' || c->type == 'b' ? "integers" : "numbers");
	else if (rank != c->rank || memcmp(d, c->dims, (size_t)rank * sizeof(*d)))
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has shape %s, expected %s", p,
				fmt_dims(got, sizeof(got), rank, d),
				fmt_dims(want, sizeof(want), c->rank, c->dims));
	else if ((rc = check_storage(ds, p, err)) < 0)
		;
	else if (H5Dread(ds, h5_type(c->type), H5S_ALL, H5S_ALL, H5P_DEFAULT, c->data) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read dataset '%s' (corrupt?)", p);
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc < 0 ? rc : ee_tr_check_col(c, err);
}

/* The length of a 1-D dataset, capped. */
static int get_length(hid_t f, const char *path, long max, int *len, struct ee_err *err)
{
	hid_t ds, sp;
	hsize_t d[H5S_MAX_RANK];
	int rc = open_dataset(f, path, &ds, err);

	if (rc < 0)
		return rc;
	sp = H5Dget_space(ds);
	if (H5Sget_simple_extent_ndims(sp) != 1 || H5Sget_simple_extent_dims(sp, d, NULL) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' is not 1-D", path);
	else if (d[0] > (hsize_t)max)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' has %llu entries, more than %ld",
				path, (unsigned long long)d[0], max);
	else
		*len = (int)d[0];
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

/* A string memory type like the file's, of size bytes (or variable). */
static hid_t string_type(hid_t file_type, size_t size)
{
	hid_t mt = H5Tcopy(H5T_C_S1);

	H5Tset_size(mt, size);
	H5Tset_cset(mt, H5Tget_cset(file_type));
	return mt;
}

/* Copies count strings of at most MAX_NAME bytes into out (new allocations). */
static int dup_strings(char *const *s, int count, char **out)
{
	int i;

	for (i = 0; i < count; i++)
		if (strlen(s[i] ? s[i] : "") > MAX_NAME || !(out[i] = strdup(s[i] ? s[i] : "")))
			return -1;
	return 0;
}

static int read_fixed(hid_t ds, hid_t ty, int count, char **out)
{
	size_t size = H5Tget_size(ty) + 1;
	hid_t mt = string_type(ty, size);
	char *buf = size <= MAX_NAME + 1 ? calloc(count ? (size_t)count : 1, size) : NULL;
	char **v = calloc(count ? (size_t)count : 1, sizeof(*v));
	int i, rc = buf && v && H5Dread(ds, mt, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf) >= 0 ? 0 : -1;

	for (i = 0; rc == 0 && i < count; i++)
		v[i] = buf + (size_t)i * size;
	if (rc == 0)
		rc = dup_strings(v, count, out);
	free(v);
	free(buf);
	H5Tclose(mt);
	return rc;
}

/* Reads a 1-D dataset of count fixed-length strings into out[count]. */
static int get_strings(hid_t f, const char *path, int count, char **out, struct ee_err *err)
{
	hsize_t d[H5S_MAX_RANK];
	hid_t ds, sp, ty;
	int rc = open_dataset(f, path, &ds, err);

	if (rc < 0)
		return rc;
	sp = H5Dget_space(ds);
	ty = H5Dget_type(ds);
	if (H5Tget_class(ty) != H5T_STRING || H5Sget_simple_extent_ndims(sp) != 1 ||
	    H5Sget_simple_extent_dims(sp, d, NULL) < 0 || d[0] != (hsize_t)count)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' is not %d strings", path, count);
	else if (H5Tis_variable_str(ty) != 0) /* eeprof writes fixed-length ones */
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s' holds variable-length strings (not "
				"read: libhdf5 trusts their global heap, core/h5check.h)", path);
	else if (read_fixed(ds, ty, count, out) < 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "cannot read dataset '%s' as strings of at "
				"most %d bytes", path, MAX_NAME);
	H5Tclose(ty);
	H5Sclose(sp);
	H5Dclose(ds);
	return rc;
}

static int get_attr(hid_t f, const struct attr *a, struct ee_err *err)
{
	hid_t loc = exists(f, a->group) ? H5Oopen(f, a->group, H5P_DEFAULT) : H5I_INVALID_HID;
	char s[8192];
	double v = 0;
	int n, got = 0;
	char what[300];

	snprintf(what, sizeof(what), "group '%s'", a->group);
	if (loc >= 0 && ee_h5_check_attrs(loc, "", what, err) < 0) {
		H5Oclose(loc);
		return EE_ERR_INPUT;
	}
	if (loc >= 0 && a->s)
		got = ee_h5_attr_string(loc, a->name, s, sizeof(s)) == 1 && strlen(s) < a->size;
	else if (loc >= 0)
		got = ee_h5_attr_doubles(loc, a->name, &v, 1, &n) == 1 && isfinite(v) &&
		      v >= a->lo && v <= a->hi && (a->d || v == floor(v));
	if (loc >= 0)
		H5Oclose(loc);
	if (!got)
		return ee_err_set(err, EE_ERR_INPUT, "attribute '%s' of '%s' is missing or bad",
				  a->name, a->group);
	if (a->s)
		memcpy(a->s, s, strlen(s) + 1);
	else if (a->i)
		*a->i = (int)v;
	else
		*a->d = v;
	return EE_OK;
}

/* format, trace_version and the identity and timing attributes, into id. */
static int get_attrs(hid_t f, struct ee_trace *id, struct ee_err *err)
{
	struct attr a[MAX_ATTRS];
	char format[64] = "";
	double version = 0;
	int i, n, m = ee_tr_attrs(id, a), rc = EE_OK;

	if (ee_h5_check_attrs(f, "", "the root group", err) < 0)
		return EE_ERR_INPUT;
	if (ee_h5_attr_string(f, "format", format, sizeof(format)) != 1 ||
	    strcmp(format, EE_TRACE_FORMAT))
		return ee_err_set(err, EE_ERR_INPUT, "not an eeprof trace (format attribute '%s', "
				  "expected '%s')", format, EE_TRACE_FORMAT);
	if (ee_h5_attr_doubles(f, "trace_version", &version, 1, &n) != 1 ||
	    version != EE_TRACE_VERSION)
		return ee_err_set(err, EE_ERR_INPUT, "trace_version %g is not supported (this "
				  "eeprof reads version %d)", version, EE_TRACE_VERSION);
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_attr(f, &a[i], err);
	return rc;
}

/* How many samples, gated and timed layers the file holds, whether it has softmax and
 * logits, and
 * its counted events and warnings (c < 0: the layers were not counted). */
struct sizes {
	int n, g, l, c, w;
	bool softmax, logits;
};

/* Any of the counter datasets there (then all of them must be). */
static bool has_counters(hid_t f)
{
	return exists(f, "/timing/counter_names") || exists(f, "/timing/counter_warnings") ||
	       exists(f, "/timing/layer_cpu_seconds") || exists(f, "/timing/layer_counters");
}

static int get_sizes(hid_t f, const struct ee_trace *id, struct sizes *s, struct ee_err *err)
{
	int rc = get_length(f, "/index", id->dataset_size, &s->n, err);

	s->g = s->l = s->w = 0;
	s->c = -1;
	s->softmax = exists(f, "/softmax");
	s->logits = exists(f, "/logits");
	if (rc == EE_OK && s->n < 1)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '/index' is empty");
	if (rc == EE_OK && exists(f, "/gates"))
		rc = get_length(f, "/gates/layer_name", MAX_GATED, &s->g, err);
	if (rc == EE_OK && exists(f, "/timing/layer_name"))
		rc = get_length(f, "/timing/layer_name", MAX_ENTRIES, &s->l, err);
	if (rc == EE_OK && s->l && has_counters(f))
		rc = get_length(f, "/timing/counter_names", EE_TRACE_MAX_COUNTERS, &s->c, err);
	if (rc == EE_OK && s->c >= 0)
		rc = get_length(f, "/timing/counter_warnings", EE_TRACE_MAX_COUNTERS, &s->w, err);
	return rc;
}

/* Reads the tables (with the gate channels that size the trace) and their names. */
static int get_tables(hid_t f, struct tables *tb, struct ee_err *err)
{
	struct col c[MAX_TABLE_COLS];
	int i, m = ee_tr_table_cols(tb, c), rc = EE_OK;

	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_col(f, &c[i], err);
	if (rc == EE_OK && tb->g)
		rc = get_strings(f, "/gates/layer_name", tb->g, tb->gate_name, err);
	if (rc == EE_OK && tb->l)
		rc = get_strings(f, "/timing/layer_name", tb->l, tb->layer_name, err);
	if (rc == EE_OK && tb->l)
		rc = get_strings(f, "/timing/layer_kind", tb->l, tb->layer_kind, err);
	if (rc == EE_OK && tb->cn.counted)
		rc = get_strings(f, "/timing/counter_names", tb->cn.n, tb->cn.names, err);
	if (rc == EE_OK && tb->cn.counted)
		rc = get_strings(f, "/timing/counter_warnings", tb->cn.nwarn, tb->cn.warn, err);
	return rc == EE_OK ? ee_tr_check_names(tb, err) : rc;
}

/* Refuses a trace that would take more than MAX_BYTES, before anything is allocated. */
static int check_sizes(const struct ee_trace *id, const struct sizes *s, const struct tables *tb,
		       struct ee_err *err)
{
	double e = id->nexits, row = 4 * 4 + e * (4 * 4 + 2 * 8) + 4.0 * s->g;
	int g;

	if (s->softmax)
		row += e * id->num_classes * sizeof(float);
	if (s->logits)
		row += e * id->num_classes * sizeof(float);
	for (g = 0; g < tb->g; g++)
		row += tb->gate_channels[g];
	if (row * s->n > MAX_BYTES)
		return ee_err_set(err, EE_ERR_INPUT, "%d samples of %.0f bytes each are more than "
				  "the %.0f bytes a trace may take", s->n, row, MAX_BYTES);
	return EE_OK;
}

/* Reads the per-sample datasets into t (allocated) and checks what ties rows together. */
static int get_samples(hid_t f, struct ee_trace *t, struct ee_err *err)
{
	struct col *c = malloc(MAX_SAMPLE_COLS(t->ngated) * sizeof(*c));
	int i, m, rc = c ? EE_OK : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	m = c ? ee_tr_sample_cols(t, c) : 0;
	for (i = 0; i < m && rc == EE_OK; i++)
		rc = get_col(f, &c[i], err);
	free(c);
	if (rc == EE_OK)
		rc = ee_tr_check_identity(t, err);
	return rc == EE_OK ? ee_tr_check_rows(t, err) : rc;
}

/* /timing's ranks and rank_seconds into t, if the file has them (both or neither). */
static int get_ranks(hid_t f, struct ee_trace *t, struct ee_err *err)
{
	hid_t loc = H5Oopen(f, "/timing", H5P_DEFAULT);
	double v = 0, *s = NULL;
	int i, n = 0, has, rc = EE_OK;

	if (loc < 0)
		return EE_OK;
	if ((has = ee_h5_attr_doubles(loc, "ranks", &v, 1, &n)) == 0 &&
	    !H5Aexists(loc, "rank_seconds")) {
		H5Oclose(loc);
		return EE_OK;
	}
	if (has != 1 || !(v >= 1 && v <= MAX_RANKS && v == floor(v)))
		rc = ee_err_set(err, EE_ERR_INPUT, "attribute 'ranks' of '/timing' is missing or "
				"bad");
	else if (!(s = malloc((size_t)v * sizeof(*s))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	else if (ee_h5_attr_doubles(loc, "rank_seconds", s, (int)v, &n) != 1 || n != (int)v)
		rc = ee_err_set(err, EE_ERR_INPUT, "attribute 'rank_seconds' of '/timing' is "
				"missing or not of %g values", v);
	for (i = 0; rc == EE_OK && i < n; i++)
		if (!isfinite(s[i]) || s[i] < 0)
			rc = ee_err_set(err, EE_ERR_INPUT, "attribute 'rank_seconds' of '/timing' "
					"holds %g", s[i]);
	H5Oclose(loc);
	if (rc == EE_OK) {
		t->ranks = (int)v;
		t->rank_seconds = s;
	} else
		free(s);
	return rc;
}

static int read_trace(hid_t f, struct ee_trace *t, struct ee_err *err)
{
	static struct ee_trace zero;
	struct ee_trace id = zero;
	struct tables tb = { 0 };
	struct sizes s = { 0 };
	int rc = get_attrs(f, &id, err);

	if (rc == EE_OK)
		rc = get_sizes(f, &id, &s, err);
	if (rc == EE_OK)
		rc = ee_tr_tables_alloc(&tb, id.nexits, s.g, s.l, true, s.c, s.w, err);
	if (rc == EE_OK)
		rc = get_tables(f, &tb, err);
	if (rc == EE_OK)
		rc = check_sizes(&id, &s, &tb, err);
	if (rc == EE_OK)
		rc = ee_trace_alloc(t, s.n, id.nexits, id.num_classes, s.softmax, s.g,
				    tb.gate_channels, s.l, err);
	if (rc == EE_OK && s.logits)
		rc = ee_trace_logits_alloc(t, err);
	if (rc == EE_OK) {
		ee_tr_copy_header(t, &id);
		ee_tr_tables_to(&tb, t);
		rc = get_samples(f, t, err);
	}
	if (rc == EE_OK)
		rc = get_ranks(f, t, err);
	ee_tr_tables_release(&tb);
	return rc;
}

int ee_trace_read(struct ee_trace *t, const char *path, struct ee_err *err)
{
	hid_t f;
	int rc;

	memset(t, 0, sizeof(*t));
	if ((f = ee_h5_open_read(path, "trace", err)) < 0)
		return EE_ERR_INPUT;
	rc = read_trace(f, t, err);
	ee_h5_close(f);
	if (rc < 0) {
		ee_trace_release(t);
		ee_err_prefix(err, "trace '%s': ", path);
	}
	return rc;
}

/* ---- in memory ------------------------------------------------------------- */

/* File access through HDF5's core driver, in memory only (never written to disk). */
static hid_t memory_fapl_read(void)
{
	hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);

	if (fapl >= 0 && H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0) {
		H5Pclose(fapl);
		return H5I_INVALID_HID;
	}
	return fapl;
}

int ee_trace_from_bytes(struct ee_trace *t, const void *buf, size_t len, const char *name,
			struct ee_err *err)
{
	hid_t fapl, f = H5I_INVALID_HID;
	int rc;

	ee_h5_quiet();
	memset(t, 0, sizeof(*t));
	if ((fapl = memory_fapl_read()) >= 0 && H5Pset_file_image(fapl, (void *)buf, len) >= 0)
		f = H5Fopen(name, H5F_ACC_RDONLY, fapl);
	rc = f >= 0 ? read_trace(f, t, err)
		    : ee_err_set(err, EE_ERR_INPUT, "not an HDF5 image (%zu bytes)", len);
	if (f >= 0)
		H5Fclose(f);
	if (fapl >= 0)
		H5Pclose(fapl);
	if (rc < 0) {
		ee_trace_release(t);
		ee_err_prefix(err, "trace of %s: ", name);
	}
	return rc;
}
