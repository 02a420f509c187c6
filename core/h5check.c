/*
 * h5check.c - see h5check.h. The file format is the HDF5 File Format Specification
 * version 3.0 (superblock, object headers version 1 and 2, attribute message versions
 * 1-3, datatype and dataspace messages, global heap collections); only object headers,
 * attribute messages and the global heap are parsed, each read bounded by the real file
 * size.
 */
#include "h5check.h"

#include <errno.h>
#include <fcntl.h>
#include <hdf5.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define FAIL(err, ...) ee_err_set(err, EE_ERR_INPUT, __VA_ARGS__)
#define UNDEF UINT64_MAX
#define MAX_CHUNKS 64          /* object header chunks followed */
#define MAX_CHUNK (1u << 20)   /* bytes in one object header chunk */
#define MAX_HEAP (1u << 26)    /* bytes in one global heap collection */

static const unsigned char signature[8] = { 0x89, 'H', 'D', 'F', '\r', '\n', 0x1a, '\n' };

static uint64_t le(const unsigned char *p, int n)
{
	uint64_t v = 0;

	while (n-- > 0)
		v = v << 8 | p[n];
	return v;
}

/* An open file: its descriptor, real size, and base address (where addresses start). */
struct raw {
	int fd;
	uint64_t size, base;
	unsigned char *mem; /* [size] the file's image, if it lives in memory (else NULL) */
};

/* Reads n bytes at file address addr (relative to the base); -1 if any lies outside. */
static int raw_get(const struct raw *r, uint64_t addr, void *buf, size_t n)
{
	uint64_t a = addr + r->base;

	if (addr == UNDEF || a < addr || a > r->size || n > r->size - a)
		return -1;
	if (r->mem) {
		memcpy(buf, r->mem + a, n);
		return 0;
	}
	return pread(r->fd, buf, n, (off_t)a) == (ssize_t)n ? 0 : -1;
}

static void raw_close(struct raw *r)
{
	if (r->fd >= 0)
		close(r->fd);
	free(r->mem);
}

struct find;
static void walk_header(const struct raw *r, uint64_t addr, struct find *f);
static const char *check_root(const struct raw *r, uint64_t addr, char *buf, size_t size);

int ee_h5_check_file(const char *path, const char *what, struct ee_err *err)
{
	unsigned char sb[128];
	struct raw r = { .fd = -1 };
	struct stat st;
	uint64_t at, eof = 0, root = 0;
	int version, rc = EE_OK;
	const char *bad;
	char why[160];

	r.fd = open(path, O_RDONLY);
	if (r.fd < 0)
		return FAIL(err, "%s '%s': cannot open: %s", what, path, strerror(errno));
	if (fstat(r.fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(r.fd);
		return FAIL(err, "%s '%s': not a regular file", what, path);
	}
	r.size = (uint64_t)st.st_size;
	/* The superblock is at 0, 512, 1024, 2048, ... (after a user block). */
	for (at = 0; at < r.size; at = at ? 2 * at : 512)
		if (!raw_get(&r, at, sb, 8) && !memcmp(sb, signature, 8))
			break;
	if (at >= r.size) {
		close(r.fd);
		return FAIL(err, "%s '%s': not an HDF5 file (no HDF5 signature)", what, path);
	}
	memset(sb, 0, sizeof(sb));
	if (raw_get(&r, at, sb, 8 + 1) < 0) {
		close(r.fd);
		return FAIL(err, "%s '%s': truncated HDF5 superblock", what, path);
	}
	version = sb[8];
	if (version > 3) {
		rc = FAIL(err, "%s '%s': HDF5 superblock version %d is not supported (0-3)", what,
			  path, version);
	} else if (version <= 1) {
		/* 8 sig, 8 versions, sizes, K values, flags (+4 in v1), 4 addresses, root entry */
		size_t n = version == 0 ? 56 + 40 : 60 + 40;

		if (raw_get(&r, at, sb, n) < 0)
			rc = FAIL(err, "%s '%s': truncated HDF5 superblock", what, path);
		else if (sb[13] != 8 || sb[14] != 8)
			rc = FAIL(err, "%s '%s': HDF5 addresses of %d bytes and lengths of %d are not "
				  "supported (8 and 8)", what, path, sb[13], sb[14]);
		else {
			const unsigned char *a = sb + (version == 0 ? 24 : 28);

			r.base = le(a, 8);
			eof = le(a + 16, 8);
			root = le(a + 32 + 8, 8); /* root symbol table entry: name offset, header */
		}
	} else {
		if (raw_get(&r, at, sb, 48) < 0)
			rc = FAIL(err, "%s '%s': truncated HDF5 superblock", what, path);
		else if (sb[9] != 8 || sb[10] != 8)
			rc = FAIL(err, "%s '%s': HDF5 addresses of %d bytes and lengths of %d are not "
				  "supported (8 and 8)", what, path, sb[9], sb[10]);
		else {
			r.base = le(sb + 12, 8);
			eof = le(sb + 28, 8);
			root = le(sb + 36, 8);
		}
	}
	if (rc == EE_OK && (r.base > r.size || eof == UNDEF || eof > r.size - r.base))
		rc = FAIL(err, "%s '%s': truncated HDF5 file (%llu bytes, its superblock says %llu)",
			  what, path, (unsigned long long)r.size,
			  (unsigned long long)(eof == UNDEF ? eof : eof + r.base));
	else if (rc == EE_OK && (root == UNDEF || root >= eof))
		rc = FAIL(err, "%s '%s': corrupt HDF5 superblock (root group outside the file)",
			  what, path);
	else if (rc == EE_OK && (bad = check_root(&r, root, why, sizeof(why))))
		rc = FAIL(err, "%s '%s': corrupt HDF5 root group (%s)", what, path, bad);
	close(r.fd);
	return rc;
}

bool ee_h5_number_type_ok(int64_t type)
{
	H5T_class_t c = H5Tget_class(type);
	size_t size = H5Tget_size(type), prec, spos, epos, esize, mpos, msize, bits;
	H5T_order_t order = H5Tget_order(type);
	int off;

	if ((c != H5T_INTEGER && c != H5T_FLOAT) || size < 1 || size > 8 ||
	    (order != H5T_ORDER_LE && order != H5T_ORDER_BE))
		return false;
	prec = H5Tget_precision(type);
	off = H5Tget_offset(type);
	bits = 8 * size;
	if (prec < 1 || off < 0 || prec > bits || (size_t)off > bits - prec)
		return false;
	if (c == H5T_INTEGER)
		return true;
	if (H5Tget_fields(type, &spos, &epos, &esize, &mpos, &msize) < 0)
		return false;
	/* the sign, exponent and mantissa lie inside the value and do not overlap */
	return esize >= 1 && esize <= 16 && msize >= 1 && msize <= 64 && spos < bits &&
	       esize <= bits && epos <= bits - esize && msize <= bits && mpos <= bits - msize &&
	       (mpos + msize <= epos || epos + esize <= mpos) &&
	       (spos < mpos || spos >= mpos + msize) && (spos < epos || spos >= epos + esize);
}

/* --- variable-length string attributes, read from the file's bytes ----------------- */

/* What a walk of an object header looks for, and what it found. */
struct find {
	const char *name;      /* attribute wanted, or NULL (only check every attribute) */
	int found;             /* its message was seen */
	int dense;             /* the object keeps (some) attributes in a fractal heap */
	uint64_t seq, heap;    /* the string's length and its global heap collection */
	uint32_t index;        /* its object in that collection */
	const char *bad;       /* what is malformed, or NULL */
	char bad_name[72];     /* the malformed attribute's name, if it is readable */
};

static uint64_t align8(uint64_t v)
{
	return (v + 7) & ~(uint64_t)7;
}

#define MAX_TYPE_DEPTH 8 /* datatypes nested in compound, enum, array and vlen types */

/* A member or enum name at p[n] (datatype version < 3: padded to 8 bytes); its length. */
static const char *type_name(const unsigned char *p, size_t n, int version, size_t *len)
{
	const unsigned char *z = memchr(p, 0, n);

	if (!z)
		return "a datatype member name without its end";
	*len = (size_t)(z - p) + 1;
	if (version < 3)
		*len = ((size_t)(z - p) + 8) / 8 * 8;
	return *len > n ? "a datatype member name longer than its message" : NULL;
}

/*
 * The datatype message at p[n], as libhdf5 1.10.8 decodes it without bounds: len gets its
 * encoded length (<= n), size the bytes of one value in the file. A variable-length type
 * is 16 bytes in the file whatever it declares; nested inside another type it would change
 * that type's size, so it is refused there.
 */
static const char *datatype(const unsigned char *p, size_t n, int depth, size_t *len,
			    uint64_t *size)
{
	size_t at = 8, l, i, k, nmemb;
	unsigned version, cls;
	uint64_t sz, base, nelem = 1;
	const char *bad;

	if (depth > MAX_TYPE_DEPTH)
		return "a datatype nested too deeply";
	if (n < 8)
		return "a truncated datatype";
	cls = p[0] & 0x0f;
	version = p[0] >> 4;
	nmemb = (size_t)le(p + 1, 2);
	sz = le(p + 4, 4);
	if (version < 1 || version > 3)
		return "a datatype of an unknown version";
	switch (cls) {
	case 0: case 4: at += 4; break;                 /* integer, bitfield */
	case 1: at += 12; break;                        /* float */
	case 2: at += 2; break;                         /* time */
	case 3: case 7: break;                          /* string, reference */
	case 5: at += p[1]; break;                      /* opaque: its tag */
	case 9:                                         /* variable-length */
		if (depth > 0)
			return "a variable-length type inside another type";
		if ((bad = datatype(p + at, n - at, depth + 1, &l, &base)))
			return bad;
		at += l;
		sz = 16;
		break;
	case 10:                                        /* array */
		if (version < 2 || n < at + 1 || p[at] > 32)
			return "a malformed array datatype";
		k = p[at];
		l = version == 2 ? 4 + 8 * k : 1 + 4 * k;
		if (n - at < l)
			return "a truncated array datatype";
		for (i = 0; i < k; i++)
			if (__builtin_mul_overflow(nelem, le(p + at + (version == 2 ? 4 : 1) + 4 * i, 4),
						   &nelem))
				return "an array datatype of too many values";
		at += l;
		if ((bad = datatype(p + at, n - at, depth + 1, &l, &base)))
			return bad;
		at += l;
		if (__builtin_mul_overflow(nelem, base, &nelem) || nelem != sz)
			return "an array datatype whose size is not its values' size";
		break;
	case 6:                                         /* compound */
		for (i = 0; i < nmemb; i++) {
			uint64_t off, msize;

			if ((bad = type_name(p + at, n - at, (int)version, &l)))
				return bad;
			at += l;
			l = version == 1 ? 32 : 4;      /* offset (v1: and dimensions) */
			if (version == 3)
				for (l = 1; l < 8 && sz >> (8 * l); l++)
					;
			if (n - at < l)
				return "a truncated compound datatype";
			off = le(p + at, (int)(version == 3 ? l : 4));
			at += l;
			if ((bad = datatype(p + at, n - at, depth + 1, &l, &msize)))
				return bad;
			at += l;
			if (off > sz || msize > sz - off)
				return "a compound member outside its datatype";
		}
		break;
	case 8:                                         /* enumeration */
		if ((bad = datatype(p + at, n - at, depth + 1, &l, &base)))
			return bad;
		at += l;
		if (base != sz)
			return "an enumeration whose size is not its base type's";
		for (i = 0; i < nmemb; i++) {
			if ((bad = type_name(p + at, n - at, (int)version, &l)))
				return bad;
			at += l;
		}
		if ((n - at) / (base ? base : 1) < nmemb)
			return "a truncated enumeration datatype";
		at += nmemb * base;
		break;
	default:
		return "a datatype of an unknown class";
	}
	if (at > n)
		return "a datatype longer than its message";
	*len = at;
	*size = sz;
	return NULL;
}

/* The dataspace message at p[n]: its encoded length fits and points gets its values. */
static const char *dataspace(const unsigned char *p, size_t n, uint64_t *points)
{
	size_t rank, head, i;

	if (n < 4)
		return "a truncated dataspace";
	rank = p[1];
	if (p[0] == 1)
		head = 8;
	else if (p[0] == 2)
		head = 4;
	else
		return "a dataspace of an unknown version";
	if (rank > 32)
		return "a dataspace of more than 32 dimensions";
	if (n < head + 8 * rank * ((p[2] & 1) ? 2 : 1))
		return "a truncated dataspace";
	*points = 1;
	if (p[0] == 2 && p[3] == 2)
		*points = 0; /* a null dataspace */
	else if (p[0] == 2 && p[3] > 2)
		return "a dataspace of an unknown kind";
	for (i = 0; i < rank; i++)
		if (__builtin_mul_overflow(*points, le(p + head + 8 * i, 8), points))
			return "a dataspace of too many values";
	return NULL;
}

/*
 * An attribute message (versions 1-3) at p[n], checked as libhdf5 1.10.8 decodes it: the
 * name, datatype and dataspace lie inside the message, each inside its declared size, and
 * the value (values x value size) after them. libhdf5 checks none of this (a dataspace size
 * of 1288 in a 120-byte message made it copy the value from past its buffer).
 */
static const char *check_attribute(const unsigned char *p, size_t n, int mflags, char *name,
				   size_t name_size)
{
	uint64_t name_n, type_n, space_n, at, points, vsize, data;
	size_t len;
	const char *bad;
	int version;

	if (n < 8)
		return "a truncated attribute message";
	version = p[0];
	name_n = le(p + 2, 2);
	type_n = le(p + 4, 2);
	space_n = le(p + 6, 2);
	at = version == 3 ? 9 : 8;
	if (version < 1 || version > 3)
		return "an attribute message of an unknown version";
	if (n < at || !name_n || name_n > n - at || p[at + name_n - 1] != 0)
		return "an attribute name outside its message";
	if (strlen((const char *)p + at) < name_size) /* named in errors if printable */
		for (len = 0; len == 0 || name[len - 1]; len++)
			name[len] = p[at + len] >= 0x20 && p[at + len] < 0x7f ? (char)p[at + len] :
				    p[at + len] ? '?' : '\0';
	if ((mflags & 0x02) || (version > 1 && (p[1] & 3)))
		return "a shared attribute, datatype or dataspace (not read by eeprof)";
	if (version == 1) {
		name_n = align8(name_n);
		type_n = align8(type_n);
		space_n = align8(space_n);
	}
	if (name_n > n - at || type_n > n - at - name_n || space_n > n - at - name_n - type_n)
		return "a datatype or dataspace longer than its attribute message";
	at += name_n;
	if ((bad = datatype(p + at, (size_t)type_n, 0, &len, &vsize)))
		return bad;
	at += type_n;
	if ((bad = dataspace(p + at, (size_t)space_n, &points)))
		return bad;
	at += space_n;
	if (__builtin_mul_overflow(points, vsize, &data) || data > n - at)
		return "a value longer than its attribute message";
	return NULL;
}

/* A datatype message at p[n]: a variable-length string of 1-byte characters. */
static const char *vlen_string_type(const unsigned char *p, size_t n)
{
	if (n < 8 + 8)
		return "a truncated datatype";
	if ((p[0] & 0x0f) != 9 || (p[1] & 0x0f) != 1)
		return "not a variable-length string";
	p += 8; /* the base type: a 1-byte integer */
	if ((p[0] & 0x0f) != 0 || le(p + 4, 4) != 1)
		return "a variable-length string whose characters are not bytes";
	return NULL;
}

/* A dataspace message at p[n] (checked by dataspace()): one element. */
static const char *one_element(const unsigned char *p, size_t n)
{
	uint64_t points = 0;

	if (dataspace(p, n, &points) || points != 1)
		return "more than one value";
	return NULL;
}

/* An attribute message at p[n]: checks it; if it is f->name, decodes its string. */
static void attribute_message(struct find *f, const unsigned char *p, size_t n, int mflags)
{
	uint64_t name_n, type_n, space_n, at;
	char name[sizeof(f->bad_name)] = "";

	if ((f->bad = check_attribute(p, n, mflags, name, sizeof(name)))) {
		memcpy(f->bad_name, name, sizeof(name));
		return;
	}
	if (!f->name || f->found || strcmp(name, f->name))
		return;
	f->found = 1;
	name_n = le(p + 2, 2);
	type_n = le(p + 4, 2);
	space_n = le(p + 6, 2);
	at = p[0] == 3 ? 9 : 8;
	if (p[0] == 1) {
		name_n = align8(name_n);
		type_n = align8(type_n);
		space_n = align8(space_n);
	}
	at += name_n;
	if ((f->bad = vlen_string_type(p + at, (size_t)type_n)))
		return;
	at += type_n;
	if ((f->bad = one_element(p + at, (size_t)space_n)))
		return;
	at += space_n; /* the value: 16 bytes, checked by check_attribute() */
	f->seq = le(p + at, 4);
	f->heap = le(p + at + 4, 8);
	f->index = (uint32_t)le(p + at + 12, 4);
}

/* One message of an object header: remembers continuations, looks at attributes. */
static void message(struct find *f, int type, int mflags, const unsigned char *p, size_t n,
		    uint64_t *cont, int *ncont)
{
	if (type == 0x10 && n >= 16 && *ncont < MAX_CHUNKS) { /* continuation */
		cont[2 * *ncont] = le(p, 8);
		cont[2 * *ncont + 1] = le(p + 8, 8);
		++*ncont;
	} else if (type == 0x15 && n >= 2 + 8) { /* attribute info: dense storage? */
		size_t at = 2 + ((p[1] & 1) ? 2 : 0);

		if (n >= at + 8 && le(p + at, 8) != UNDEF)
			f->dense = 1;
	} else if (type == 0x0c) {
		attribute_message(f, p, n, mflags);
	}
}

/* The messages of one chunk (v1: 8-byte headers; v2: 4 or 6-byte headers). */
static void chunk_messages(struct find *f, const unsigned char *p, size_t n, int v2, int order,
			   uint64_t *cont, int *ncont)
{
	size_t at = 0, head = v2 ? 4 + (order ? 2 : 0) : 8;

	while (n - at >= head && !f->bad) {
		int type = v2 ? p[at] : (int)le(p + at, 2);
		size_t size = (size_t)le(p + at + (v2 ? 1 : 2), 2);
		int mflags = p[at + (v2 ? 3 : 4)];

		if (size > n - at - head) {
			f->bad = "a message longer than its object header";
			return;
		}
		message(f, type, mflags, p + at + head, size, cont, ncont);
		at += head + size;
	}
}

/* Walks the object header at addr (version 1 or 2) and its continuation chunks. */
static void walk_header(const struct raw *r, uint64_t addr, struct find *f)
{
	uint64_t cont[2 * MAX_CHUNKS];
	unsigned char pre[16 + 16 + 4 + 8];
	unsigned char *buf = NULL;
	int ncont = 0, i, v2, order = 0;
	uint64_t start, len;

	if (raw_get(r, addr, pre, 16) < 0) {
		f->bad = "an object header outside the file";
		return;
	}
	v2 = !memcmp(pre, "OHDR", 4);
	if (v2) {
		int flags = pre[5];
		size_t at = 6 + ((flags & 0x20) ? 16 : 0) + ((flags & 0x10) ? 4 : 0);
		int width = 1 << (flags & 3);

		order = flags & 0x04;
		if (pre[4] != 2 || raw_get(r, addr, pre, at + (size_t)width) < 0) {
			f->bad = "a malformed object header";
			return;
		}
		start = addr + at + (size_t)width;
		len = le(pre + at, width);
		if (len > 0)
			len += 4; /* the checksum: not a message, stripped below */
	} else if (pre[0] == 1) {
		start = addr + 16;
		len = le(pre + 8, 4);
	} else {
		f->bad = "an object header of an unknown version";
		return;
	}
	for (i = -1; i < ncont && !f->bad; i++) {
		const unsigned char *p;
		size_t n;

		if (i >= 0) {
			start = cont[2 * i];
			len = cont[2 * i + 1];
		}
		if (len > MAX_CHUNK || (v2 && len < 4 + (i >= 0 ? 4 : 0))) {
			f->bad = "an object header chunk of a wrong size";
			break;
		}
		free(buf);
		buf = malloc(len ? len : 1);
		if (!buf || raw_get(r, start, buf, (size_t)len) < 0) {
			f->bad = "an object header outside the file";
			break;
		}
		p = buf;
		n = (size_t)len;
		if (v2 && i >= 0) {
			if (memcmp(p, "OCHK", 4)) {
				f->bad = "a continuation chunk without its signature";
				break;
			}
			p += 4;
			n -= 4;
		}
		if (v2)
			n -= 4;
		chunk_messages(f, p, n, v2, order, cont, &ncont);
	}
	free(buf);
}

/* The root group's object header (libhdf5 loads it in H5Fopen, allocating each chunk at the
 * size its continuation message states) and its attributes: NULL or what is malformed
 * (in buf). */
static const char *check_root(const struct raw *r, uint64_t addr, char *buf, size_t size)
{
	struct find f = { .name = NULL };

	walk_header(r, addr, &f);
	if (f.bad && f.bad_name[0])
		snprintf(buf, size, "attribute '%s': %s", f.bad_name, f.bad);
	else if (f.bad)
		snprintf(buf, size, "%s", f.bad);
	return f.bad ? buf : NULL;
}

/*
 * Finds object index in the global heap collection at addr, walking every object as
 * libhdf5 would (so that a collection it would loop on or overrun is refused), and
 * copies up to size - 1 bytes of its first seq bytes into buf.
 */
static const char *heap_string(const struct raw *r, uint64_t addr, uint32_t index, uint64_t seq,
			       char *buf, size_t size)
{
	unsigned char head[16], *c;
	uint64_t n, at = 16, obj_at = 0, obj_n = 0;
	int found = 0;

	if (raw_get(r, addr, head, 16) < 0 || memcmp(head, "GCOL", 4) || head[4] != 1)
		return "a string whose global heap collection is missing";
	n = le(head + 8, 8);
	if (n < 16 || n > MAX_HEAP || !(c = malloc((size_t)n)))
		return "a global heap collection of a wrong size";
	if (raw_get(r, addr, c, (size_t)n) < 0) {
		free(c);
		return "a global heap collection that runs past the end of the file";
	}
	while (at < n) {
		uint64_t idx, osize, need;

		if (n - at < 16) /* too short for an object: free space */
			break;
		idx = le(c + at, 2);
		osize = le(c + at + 8, 8);
		need = idx ? 16 + align8(osize) : osize;
		if (osize > n || need < 16 || need > n - at) {
			free(c);
			return "a global heap collection with an object of a wrong size";
		}
		if (idx == index && idx) {
			found = 1;
			obj_at = at + 16;
			obj_n = osize;
		}
		at += need;
	}
	if (!found || seq > obj_n) {
		free(c);
		return "a string that is not in its global heap collection";
	}
	if (size) {
		size_t k = seq < size - 1 ? (size_t)seq : size - 1;

		memcpy(buf, c + obj_at, k);
		buf[k] = '\0';
		if (strlen(buf) != k) {
			free(c);
			return "a string holding a NUL byte";
		}
	}
	free(c);
	return NULL;
}

/* The HDF5 address of object loc, or UNDEF. */
static uint64_t object_address(hid_t loc)
{
#if H5_VERSION_GE(1, 12, 0)
	H5O_info2_t oi;
	haddr_t addr;
	hid_t file = H5Iget_file_id(loc);
	int ok = file >= 0 && H5Oget_info3(loc, &oi, H5O_INFO_BASIC) >= 0 &&
		 H5VLnative_token_to_addr(file, oi.token, &addr) >= 0;

	if (file >= 0)
		H5Fclose(file);
	return ok ? (uint64_t)addr : UNDEF;
#else
	H5O_info_t oi;

	return H5Oget_info2(loc, &oi, H5O_INFO_BASIC) >= 0 ? (uint64_t)oi.addr : UNDEF;
#endif
}

#if defined(__SANITIZE_ADDRESS__)
#define EE_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define EE_ASAN 1
#endif
#endif

/*
 * An attribute in dense storage (a fractal heap, which eeprof does not parse): libhdf5
 * reads it in a child process limited to 1 s of CPU time (and 1 GiB of address space
 * outside sanitizer builds), so that a crash, a hang or a huge allocation inside libhdf5
 * ends the child, not eeprof. Returns NULL or what went wrong.
 */
static const char *isolated_read(hid_t loc, const char *name, char *buf, size_t size)
{
	int fd[2], status = 0;
	ssize_t got = 0, k;
	pid_t pid;

	if (!size || pipe(fd) < 0)
		return "no pipe for an isolated read";
	fflush(NULL);
	pid = fork();
	if (pid < 0) {
		close(fd[0]);
		close(fd[1]);
		return "no process for an isolated read";
	}
	if (pid == 0) {
		struct rlimit cpu = { 1, 1 }, core = { 0, 0 };
		hid_t a, mt = H5Tcopy(H5T_C_S1);
		char *s = NULL;
		size_t n;

		close(fd[0]);
		setrlimit(RLIMIT_CPU, &cpu);
		setrlimit(RLIMIT_CORE, &core);
#ifndef EE_ASAN
		struct rlimit as = { 1u << 30, 1u << 30 };

		setrlimit(RLIMIT_AS, &as);
#endif
		H5Tset_size(mt, H5T_VARIABLE);
		a = H5Aopen(loc, name, H5P_DEFAULT);
		if (a >= 0)
			H5Tset_cset(mt, H5Tget_cset(H5Aget_type(a)));
		if (a < 0 || H5Aread(a, mt, &s) < 0 || !s)
			_exit(1);
		n = strlen(s);
		if (write(fd[1], s, n < size - 1 ? n : size - 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(fd[1]);
	while (got < (ssize_t)size - 1 && (k = read(fd[0], buf + got, size - 1 - (size_t)got)) > 0)
		got += k;
	buf[got] = '\0';
	close(fd[0]);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFSIGNALED(status))
		return "libhdf5 crashed or stalled reading it in a separate process";
	if (!WIFEXITED(status) || WEXITSTATUS(status))
		return "libhdf5 could not read it";
	return NULL;
}

#define MAX_IMAGE (1u << 30) /* bytes of a file in memory (HDF5's core driver) copied */

/* The image of file (opened with HDF5's core driver, e.g. a trace sent by an MPI rank)
 * into r->mem; EE_OK, or 1 if the file is not in memory. */
static int raw_image(hid_t file, struct raw *r, const char *path, struct ee_err *err)
{
	hid_t fapl = H5Fget_access_plist(file);
	int core = fapl >= 0 && H5Pget_driver(fapl) == H5FD_CORE;
	ssize_t n = core ? H5Fget_file_image(file, NULL, 0) : 0;

	if (fapl >= 0)
		H5Pclose(fapl);
	if (!core)
		return 1;
	if (n <= 0 || (size_t)n > MAX_IMAGE || !(r->mem = malloc((size_t)n)) ||
	    H5Fget_file_image(file, r->mem, (size_t)n) != n)
		return FAIL(err, "%s: cannot copy its HDF5 image (%zd bytes)", path, n);
	r->size = (uint64_t)n;
	return EE_OK;
}

/* Opens the file of object loc for raw reads into r (path gets its name). */
static int raw_open(hid_t loc, struct raw *r, char *path, size_t size, struct ee_err *err)
{
	hid_t file = H5Iget_file_id(loc), fcpl;
	hsize_t userblock = 0;
	struct stat st;
	int rc;

	if (file < 0 || H5Fget_name(file, path, size) <= 0) {
		if (file >= 0)
			H5Fclose(file);
		return FAIL(err, "an HDF5 object whose file cannot be found");
	}
	fcpl = H5Fget_create_plist(file);
	if (fcpl >= 0) {
		H5Pget_userblock(fcpl, &userblock);
		H5Pclose(fcpl);
	}
	r->base = userblock;
	rc = raw_image(file, r, path, err);
	H5Fclose(file);
	if (rc <= 0)
		return rc;
	r->fd = open(path, O_RDONLY);
	if (r->fd < 0 || fstat(r->fd, &st) < 0) {
		if (r->fd >= 0)
			close(r->fd);
		return FAIL(err, "'%s': cannot open: %s", path, strerror(errno));
	}
	r->size = (uint64_t)st.st_size;
	return EE_OK;
}

int ee_h5_check_attrs(int64_t loc, const char *file_desc, const char *what, struct ee_err *err)
{
	struct find f = { .name = NULL };
	struct raw r = { .fd = -1 };
	char path[4096];
	int rc = raw_open(loc, &r, path, sizeof(path), err);
	const char *sep = *file_desc ? ": " : "";

	if (rc < 0)
		return rc;
	walk_header(&r, object_address(loc), &f);
	raw_close(&r);
	if (f.bad && f.bad_name[0])
		return FAIL(err, "%s%s%s has a malformed attribute '%s' (%s)", file_desc, sep, what,
			    f.bad_name, f.bad);
	if (f.bad)
		return FAIL(err, "%s%s%s has a malformed attribute or object header (%s)", file_desc,
			    sep, what, f.bad);
	return EE_OK;
}

int ee_h5_vlen_string(int64_t loc, const char *name, char *buf, size_t size, struct ee_err *err)
{
	struct find f = { .name = name };
	struct raw r = { .fd = -1 };
	char path[4096];
	const char *bad = NULL;
	int rc;

	if (size)
		buf[0] = '\0';
	if ((rc = raw_open(loc, &r, path, sizeof(path), err)) < 0)
		return rc;
	walk_header(&r, object_address(loc), &f);
	if (f.bad)
		bad = f.bad;
	else if (!f.found && f.dense)
		bad = isolated_read(loc, name, buf, size);
	else if (!f.found)
		bad = "an attribute message eeprof cannot find";
	else if (f.seq) /* an empty string may have no heap object */
		bad = heap_string(&r, f.heap, f.index, f.seq, buf, size);
	raw_close(&r);
	if (bad)
		return FAIL(err, "'%s': attribute '%s' is malformed (%s)", path, name, bad);
	return 1;
}

/* --- dataset storage ---------------------------------------------------------------- */

/*
 * Every chunk of a chunked dataset was written. (H5Dget_space_status cannot tell: libhdf5
 * 1.10.8 calls a compressed dataset "partly allocated" when it stores fewer bytes than
 * its size.)
 */
static bool all_chunks(hid_t ds, hid_t dcpl, hid_t sp)
{
	hsize_t dims[H5S_MAX_RANK], chunk[H5S_MAX_RANK], want = 1, got = 0;
	int rank = H5Sget_simple_extent_dims(sp, dims, NULL), i;

	if (rank < 0 || H5Pget_chunk(dcpl, H5S_MAX_RANK, chunk) != rank)
		return false;
	for (i = 0; i < rank; i++)
		if (!chunk[i] || __builtin_mul_overflow(want, (dims[i] + chunk[i] - 1) / chunk[i], &want))
			return false;
	return H5Dget_num_chunks(ds, sp, &got) >= 0 && got == want;
}

int ee_h5_check_storage(int64_t ds, const char *file_desc, const char *what, struct ee_err *err)
{
	hid_t dcpl = H5Dget_create_plist(ds), sp = H5Dget_space(ds), ty = H5Dget_type(ds);
	hid_t file = H5Iget_file_id(ds);
	hssize_t npoints = sp >= 0 ? H5Sget_simple_extent_npoints(sp) : -1;
	size_t elem = ty >= 0 ? H5Tget_size(ty) : 0;
	hsize_t stored = H5Dget_storage_size(ds), fsize = 0;
	H5D_space_status_t status = H5D_SPACE_STATUS_ERROR;
	H5D_layout_t layout = dcpl >= 0 ? H5Pget_layout(dcpl) : H5D_LAYOUT_ERROR;
	uint64_t want = 0;
	const char *sep = *file_desc ? ": " : "";
	int rc = EE_OK;

	if (file >= 0)
		H5Fget_filesize(file, &fsize);
	H5Dget_space_status(ds, &status);
	if (npoints < 0 || !elem || dcpl < 0 || file < 0 || layout == H5D_LAYOUT_ERROR ||
	    __builtin_mul_overflow((uint64_t)npoints, (uint64_t)elem, &want))
		rc = FAIL(err, "%s%s%s is malformed", file_desc, sep, what);
	else if (H5Pget_external_count(dcpl) != 0 || layout == H5D_VIRTUAL)
		rc = FAIL(err, "%s%s%s keeps its data in another file (not read by "
			  "eeprof)", file_desc, sep, what);
	else if (want == 0 || layout == H5D_COMPACT)
		rc = EE_OK; /* nothing to read, or the data is inside the object header */
	else if (layout == H5D_CHUNKED ? !all_chunks(ds, dcpl, sp) :
		 status != H5D_SPACE_STATUS_ALLOCATED)
		rc = FAIL(err, "%s%s%s was declared but its data never written",
			  file_desc, sep, what);
	else if (stored > fsize)
		rc = FAIL(err, "%s%s%s claims %llu bytes, more than the file's %llu",
			  file_desc, sep, what, (unsigned long long)stored, (unsigned long long)fsize);
	else if (layout == H5D_CONTIGUOUS) {
		haddr_t off = H5Dget_offset(ds);

		if (stored != want || off == HADDR_UNDEF || off > fsize || want > fsize - off)
			rc = FAIL(err, "%s%s%s of %llu bytes does not fit in the file "
				  "(%llu bytes)", file_desc, sep, what, (unsigned long long)want,
				  (unsigned long long)fsize);
	} else if (layout == H5D_CHUNKED) {
		/* Uncompressed chunks hold at least the data; deflate expands at most ~1032x. */
		int filtered = H5Pget_nfilters(dcpl) > 0;

		if (filtered ? want / 2048 > stored : stored < want)
			rc = FAIL(err, "%s%s%s declares %llu bytes but stores %llu",
				  file_desc, sep, what, (unsigned long long)want, (unsigned long long)stored);
	} else {
		rc = FAIL(err, "%s%s%s has an unknown storage layout", file_desc, sep, what);
	}
	if (file >= 0)
		H5Fclose(file);
	if (ty >= 0)
		H5Tclose(ty);
	if (sp >= 0)
		H5Sclose(sp);
	if (dcpl >= 0)
		H5Pclose(dcpl);
	return rc;
}
