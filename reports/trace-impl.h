/*
 * trace-impl.h - what the files of the trace (trace.h) share. Internal to libee:
 * for reports/trace*.c only.
 *
 *   trace.c         the trace in memory (alloc, release, counters) and merging
 *   trace_schema.c  the schema as data (struct col lists, tables, attributes) and
 *                   the checks shared by writing and reading
 *   trace_write.c   ee_trace_write: HDF5 out
 *   trace_read.c    ee_trace_read: HDF5 in, with shape, range and size checks
 *
 * Every numeric dataset of the schema is described once as a struct col (where it
 * lives in the file, its type, shape, allowed values and the memory holding it).
 * Writing, reading with shape checks, validating ranges and merging rows all walk
 * the same lists (ee_tr_sample_cols, ee_tr_table_cols), so they cannot disagree
 * about the schema.
 */
#ifndef EE_TRACE_IMPL_H
#define EE_TRACE_IMPL_H

#include <hdf5.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "reports/trace.h"

/* Caps checked before anything sized by a file is allocated. */
#define MAX_SAMPLES (1 << 30)          /* dataset_size */
#define MAX_CLASSES (1 << 20)
#define MAX_GATED (1 << 16)            /* gated layers */
#define MAX_ENTRIES (1 << 20)          /* timed layers; gates of one layer */
#define MAX_RANKS (1 << 20)            /* ranks (processes) a trace records */
#define MAX_NAME 1024                  /* bytes of a layer name or kind */

/* One numeric dataset: where it is, what it may hold, and the memory behind it. */
struct col {
	const char *group;  /* "" (root), "gates", "gates/bits" or "timing" */
	const char *name;
	char type;          /* 'i' int32, 'f' float32, 'd' float64, 'b' uint8 */
	int rank;           /* 1..3 */
	hsize_t dims[3];    /* dims[0]: rows (samples or table entries) */
	double lo, hi;      /* every value is finite and within [lo, hi] */
	void *data;         /* [dims[0]][dims[1]][dims[2]], row-major */
};

static inline size_t type_size(char type)
{
	return type == 'b' ? 1 : type == 'd' ? 8 : 4;
}

static inline hid_t h5_type(char type)
{
	return type == 'i'   ? H5T_NATIVE_INT32
	       : type == 'f' ? H5T_NATIVE_FLOAT
	       : type == 'd' ? H5T_NATIVE_DOUBLE
			     : H5T_NATIVE_UINT8;
}

/* Values in one row (everything after dims[0]). */
static inline size_t row_len(const struct col *c)
{
	size_t w = 1;
	int i;

	for (i = 1; i < c->rank; i++)
		w *= c->dims[i];
	return w;
}

static inline size_t col_count(const struct col *c)
{
	return c->dims[0] * row_len(c);
}

/*
 * The datasets that are not per sample, as arrays (the trace keeps them in structs).
 * Names are borrowed from the trace when writing, owned when reading.
 */
struct tables {
	double *exit_macs;          /* [4][E] */
	int32_t *gate_channels;     /* [G] */
	int32_t *gate_exit;         /* [G] */
	double *gate_ring;          /* [G] */
	int32_t *layer_exit;        /* [L] */
	uint8_t *layer_head;        /* [L] */
	double *layer_seconds;      /* [L] */
	double *layer_macs;         /* [L] */
	double *layer_cpu;          /* [L] (counted traces) */
	char **gate_name;           /* [G] */
	char **layer_name;          /* [L] */
	char **layer_kind;          /* [L] */
	struct ee_trace_counters cn; /* borrowed from the trace when writing */
	int e, g, l;
	bool own_names;
};

/*
 * The attributes of a trace: strings (s, size) or integers (i, within [lo, hi]) or a
 * number (d, >= 0) on the root ("/") or on /timing.
 */
struct attr {
	const char *group, *name;
	char *s;
	size_t size;
	int *i;
	double *d;
	double lo, hi;
};

#define MAX_TABLE_COLS 10
#define MAX_SAMPLE_COLS(g) (13 + (size_t)(g))
#define MAX_ATTRS 10

/* calloc of n (at least 1) elements; clears *ok on failure (trace.c). */
void *ee_tr_array(size_t n, size_t size, bool *ok);
/* Identity, exit MACs and timing attributes of src into dst (trace.c). */
void ee_tr_copy_header(struct ee_trace *dst, const struct ee_trace *src);

/* "/gates/bits/layer1.0.conv2" */
const char *ee_tr_col_path(const struct col *c, char *buf, size_t size);
/* Every value of c finite and within [lo, hi]. */
int ee_tr_check_col(const struct col *c, struct ee_err *err);
int ee_tr_check_cols(const struct col *c, int count, struct ee_err *err);

/* With own_names, tables read from a file: the counters too if the file has them (c >= 0
 * events, w warnings); c < 0: not counted. */
int ee_tr_tables_alloc(struct tables *tb, int e, int g, int l, bool own_names, int c, int w,
		       struct ee_err *err);
void ee_tr_tables_release(struct tables *tb);
/* Fills tb (allocated for t's sizes, names borrowed) from t. */
void ee_tr_tables_from(struct tables *tb, const struct ee_trace *t);
/* Moves tb (read from a file, names owned) into t, allocated for the same sizes. */
void ee_tr_tables_to(struct tables *tb, struct ee_trace *t);

/* The per-sample datasets of t into c[MAX_SAMPLE_COLS(G)]; returns their count. */
int ee_tr_sample_cols(const struct ee_trace *t, struct col *c);
/* The table datasets of tb into c[MAX_TABLE_COLS]; returns their count. */
int ee_tr_table_cols(const struct tables *tb, struct col *c);
/* The attribute table of t (a[MAX_ATTRS]); returns its length. */
int ee_tr_attrs(struct ee_trace *t, struct attr *a);

/* Identity and timing attributes in range. */
int ee_tr_check_identity(const struct ee_trace *t, struct ee_err *err);
/* What a column's range cannot say: sorted unique indices, open counts = bits set. */
int ee_tr_check_rows(const struct ee_trace *t, struct ee_err *err);
/* Gate names must be good link names; layer names and kinds are only capped. */
int ee_tr_check_names(const struct tables *tb, struct ee_err *err);

#endif
