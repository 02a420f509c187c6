/* testutil.c - helpers shared by the Check suites; see testutil.h. */
#include "testutil.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>

float tu_uniform(uint64_t *state, float lo, float hi)
{
	uint64_t x = *state ? *state : 0x9e3779b97f4a7c15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return lo + (hi - lo) * (float)((x * 0x2545f4914f6cdd1dull) >> 40) / (float)(1u << 24);
}

void tu_fill(float *x, size_t n, uint64_t seed, float lo, float hi)
{
	size_t i;

	for (i = 0; i < n; i++)
		x[i] = tu_uniform(&seed, lo, hi);
}

int tu_close(const char *what, const float *got, const float *want, size_t n, double atol,
	     double rtol)
{
	double worst = 0;
	size_t i, bad = n;

	for (i = 0; i < n; i++) {
		double d = fabs((double)got[i] - want[i]);

		if (!(d <= atol + rtol * fabs(want[i])) && bad == n)
			bad = i;
		if (d > worst || d != d)
			worst = d;
	}
	if (bad == n)
		return 1;
	fprintf(stderr, "%s[%zu]: want %.9g got %.9g (max abs error %.3g over %zu values)\n", what,
		bad, want[bad], got[bad], worst, n);
	return 0;
}

const char *tu_tmpdir(void)
{
	static char dir[256];

	if (!dir[0]) {
		const char *base = getenv("EE_TEST_TMP");

		snprintf(dir, sizeof(dir), "%s/ut-XXXXXX", base ? base : "/tmp");
		if (!mkdtemp(dir))
			abort();
	}
	return dir;
}

void tu_add_case(Suite *s, const char *name, const TTest *const *tests, double timeout)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, timeout);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
}

int tu_run(Suite *s)
{
	SRunner *sr = srunner_create(s);
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
