/*
 * h5io.h - the few HDF5 operations checkpoints and traces need, with errors as ee_err.
 *
 * HDF5 prints its own error stack by default; ee_h5_quiet() turns that off so
 * that a failure is reported once, by us, naming the file and the object.
 * Shared by checkpoints (checkpoints/ckpt.c) and traces (reports/trace.c). Output
 * files are created through core/outfile.h (ee_out_h5create), so they appear whole
 * or not at all.
 */
#ifndef EE_H5IO_H
#define EE_H5IO_H

#include <stddef.h>
#include <stdint.h>

#include "core/outfile.h"
#include "core/status.h"

void ee_h5_quiet(void);

/* Opens an existing HDF5 file read-only; what names it in errors ("input", "trace"). */
int64_t ee_h5_open_read(const char *path, const char *what, struct ee_err *err);
void ee_h5_close(int64_t file);
/*
 * Reads dataset name (of exactly rank dims, any numeric type) as float32 into a new
 * buffer *data (the caller frees it); dims gets the shape. Fails before allocating
 * if it holds more than max values.
 */
int ee_h5_read_floats(int64_t file, const char *path, const char *name, int rank, uint64_t *dims,
		      size_t max, float **data, struct ee_err *err);

/* Attribute readers: return 1 if read, 0 if absent, EE_ERR_INPUT if of the wrong kind. */
int ee_h5_attr_string(int64_t loc, const char *name, char *buf, size_t size);
/* Reads up to max numbers (scalar or 1-D) converted to double; *n gets the count. */
int ee_h5_attr_doubles(int64_t loc, const char *name, double *v, int max, int *n);

/* Dataset writers; dims has rank entries. type: 'f' float32, 'd' float64, 'b' uint8, 'i' int32. */
int ee_h5_write(int64_t loc, const char *name, char type, int rank, const uint64_t *dims,
		const void *data, struct ee_err *err);
int ee_h5_write_attr_string(int64_t loc, const char *name, const char *value, struct ee_err *err);
int ee_h5_write_attr_doubles(int64_t loc, const char *name, const double *v, int n,
			     struct ee_err *err);
/* Creates group path (parents included) under loc; returns its hid or < 0. */
int64_t ee_h5_group(int64_t loc, const char *path, struct ee_err *err);

/* Creates the HDF5 file at o->tmp; returns its hid or < 0. */
int64_t ee_out_h5create(struct ee_out *o, struct ee_err *err);

#endif
