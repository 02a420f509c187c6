/*
 * testutil.h - helpers shared by the Check suites in tests/unit/.
 *
 * Run one suite with CK_RUN_SUITE=<name> build/tests/check_<module>; debug without
 * fork with CK_FORK=no (e.g. under gdb or valgrind).
 */
#ifndef EE_TESTUTIL_H
#define EE_TESTUTIL_H

#include <check.h>
#include <stddef.h>
#include <stdint.h>

/* Deterministic uniform floats in [lo, hi) from a 64-bit state (xorshift*). */
float tu_uniform(uint64_t *state, float lo, float hi);
void tu_fill(float *x, size_t n, uint64_t seed, float lo, float hi);

/*
 * Compares got with want elementwise: |got - want| <= atol + rtol * |want|.
 * On the first mismatch prints "what[i]: want W got G" plus the max error to
 * stderr and returns 0; returns 1 if all match.
 */
int tu_close(const char *what, const float *got, const float *want, size_t n, double atol,
	     double rtol);

/* Adds a case of the NULL-terminated tests to s, each with timeout seconds. */
void tu_add_case(Suite *s, const char *name, const TTest *const *tests, double timeout);

/* Runs every test of s (then frees it); EXIT_SUCCESS if all passed, else EXIT_FAILURE. */
int tu_run(Suite *s);

/* A fresh temporary directory for this test process (removed by the runner). */
const char *tu_tmpdir(void);

#endif
