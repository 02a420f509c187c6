/*
 * sha256.h - SHA-256 (FIPS 180-4) of a byte stream or a file.
 *
 * Traces record the SHA-256 of the checkpoint they were made from, so that
 * `eeprof merge` can refuse shards of different models even when the files
 * have the same name, and so that a report says exactly which weights it
 * describes. Streaming, so a large checkpoint is hashed in fixed memory.
 *
 *     struct ee_sha256 s;
 *     uint8_t d[EE_SHA256_BYTES];
 *     ee_sha256_init(&s);
 *     ee_sha256_update(&s, "abc", 3);
 *     ee_sha256_final(&s, d);     // ba7816bf...
 */
#ifndef EE_SHA256_H
#define EE_SHA256_H

#include <stddef.h>
#include <stdint.h>

#include "status.h"

#define EE_SHA256_BYTES 32
#define EE_SHA256_HEX (2 * EE_SHA256_BYTES + 1) /* hex digits and the NUL */

struct ee_sha256 {
	uint32_t h[8];    /* the hash state H0..H7 */
	uint64_t bytes;   /* message length so far */
	uint8_t block[64]; /* the block being filled */
	size_t fill;      /* bytes in block */
};

void ee_sha256_init(struct ee_sha256 *s);
void ee_sha256_update(struct ee_sha256 *s, const void *data, size_t n);
/* Pads, writes the digest and leaves s to be initialised again. */
void ee_sha256_final(struct ee_sha256 *s, uint8_t digest[EE_SHA256_BYTES]);
/* Lowercase hex of a digest. */
void ee_sha256_hex(const uint8_t digest[EE_SHA256_BYTES], char hex[EE_SHA256_HEX]);
/* Hex digest of a whole file; EE_ERR_INPUT naming the file if it cannot be read. */
int ee_sha256_file(const char *path, char hex[EE_SHA256_HEX], struct ee_err *err);

#endif
