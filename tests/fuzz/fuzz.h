/*
 * fuzz.h - what every libFuzzer target in tests/fuzz shares: a private temporary
 * directory and writing the input there, for readers that take a path.
 *
 * Each target is one file fuzz_<name>.c defining LLVMFuzzerTestOneInput; `make fuzz`
 * builds them with clang -fsanitize=fuzzer,address,undefined against a libee built the
 * same way (build-fuzz/), and runs each on a copy of tests/fuzz/corpus/<name>.
 */
#ifndef EE_FUZZ_H
#define EE_FUZZ_H

#include <stddef.h>
#include <stdint.h>

/* The target's temporary directory (made once, removed at exit). */
const char *fz_dir(void);
/* Writes data to <fz_dir>/name and returns that path (static storage). */
const char *fz_write(const char *name, const uint8_t *data, size_t size);

/*
 * Aborts if an HDF5 object (file, dataset, attribute, type, space) is still open: a leak
 * in eeprof. LeakSanitizer cannot tell those from libhdf5's own leaks on its error paths
 * (H5Dopen2 on a corrupt header), which tests/fuzz/lsan.supp suppresses.
 */
void fz_no_open_hdf5(void);

/*
 * Decodes an image file's bytes (ee_image_decode) to RGB and to L; aborts if a decoded
 * image is not what it says (sizes, channels) or its two conversions disagree on size.
 */
void fz_image(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#endif
