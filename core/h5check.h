/*
 * h5check.h - checks the bytes of an untrusted HDF5 file that libhdf5 itself trusts.
 *
 * libhdf5 (1.10.8 tested) believes several fields of a file it reads: a global heap
 * collection's object sizes (a wrong one makes it loop forever or read past its buffer),
 * a variable-length string's base type size (a huge one makes it allocate and clear
 * gigabytes), a number type's precision and offset (a wrong one makes its converter read
 * outside the value: SIGBUS), an attribute message's inner sizes (it copies the value
 * from wherever they point), an object header chunk's size (allocated as stated). eeprof
 * never lets libhdf5 act on those fields unchecked:
 *
 *  - ee_h5_check_file()    before H5Fopen: the signature, a superblock eeprof understands
 *                          (version 0-3, 8-byte addresses and lengths), the end-of-file
 *                          address within the real file size, the root group's object
 *                          header (chunks inside the file, <= 1 MiB) and its attributes.
 *  - ee_h5_number_type_ok() before every H5Aread/H5Dread of numbers: an integer or IEEE-
 *                          like float of 1-8 bytes whose bit fields lie inside its size.
 *  - ee_h5_check_attrs()   before any attribute of an object is touched (libhdf5 decodes all
 *                          of them to find one): every attribute message's name, datatype,
 *                          dataspace and value lie inside the message, each inside its
 *                          declared size (libhdf5 1.10.8 copies the value from wherever the
 *                          sizes point: a heap-buffer-overflow read).
 *  - ee_h5_vlen_string()   reads a variable-length string attribute from the file's bytes
 *                          (object header, attribute message, global heap collection, all
 *                          bounds-checked) instead of H5Aread: libhdf5 never touches the
 *                          global heap.
 *  - ee_h5_check_storage() before reading a dataset: its data was written (storage
 *                          allocated), lies inside the file, is as large as its declared
 *                          shape needs (or, compressed, not absurdly smaller), and is not
 *                          in an external file.
 *
 * What remains trusted is listed in README.md ("Security and robustness").
 */
#ifndef EE_H5CHECK_H
#define EE_H5CHECK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/status.h"

/* what names the file in errors ("checkpoint", "trace", "input"). EE_ERR_INPUT if bad. */
int ee_h5_check_file(const char *path, const char *what, struct ee_err *err);

/* True if the hid_t type is a number type whose fields libhdf5 can convert safely. */
bool ee_h5_number_type_ok(int64_t type);

/*
 * Every attribute message in the object header of loc is well-formed (see above); the
 * object's dense attribute storage (a fractal heap) is not parsed. Errors read
 * "<file_desc>: <what> has a malformed attribute 'x' (...)"; file_desc "" for none.
 */
int ee_h5_check_attrs(int64_t loc, const char *file_desc, const char *what, struct ee_err *err);

/*
 * Reads the scalar variable-length string attribute name of object loc into buf (cut to
 * size - 1 bytes). Returns 1 if read, EE_ERR_INPUT (with err naming the attribute) if its
 * bytes are malformed or stored where eeprof does not read them (dense attribute storage).
 */
int ee_h5_vlen_string(int64_t loc, const char *name, char *buf, size_t size, struct ee_err *err);

/*
 * Dataset ds holds written data inside its file. Errors read "<file_desc>: <what> ...",
 * e.g. file_desc "checkpoint 'a.h5'" ("" for none), what "tensor 'fc.weight'".
 */
int ee_h5_check_storage(int64_t ds, const char *file_desc, const char *what, struct ee_err *err);

#endif
