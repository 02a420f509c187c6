/*
 * check_calibration.c - reports/calibration.c on hand-made confidences and traces,
 * answers worked out by hand (each case's comment shows the arithmetic).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/calibration.h"
#include "testutil.h"

#define EPS 1e-12

/*
 * Six confidences, bins of width 1/15 (upper edge included):
 *   0.2 wrong -> bin 2 (2/15, 3/15]: 0.2 is its upper edge; gap .2
 *   0.3 right -> bin 4; gap .7        0.6 right -> bin 8 (upper edge 9/15); gap .4
 *   0.9 right -> bin 13; gap .1       0.95 right, 1.0 wrong -> bin 14: acc .5, conf .975,
 *                                     gap .475
 * ECE = (.2 + .7 + .4 + .1 + 2 x .475) / 6 = 2.35 / 6; MCE = .7.
 * Adaptive: 15 equal-count bins of 6 samples put each in its own bin (ranks
 * [floor(6b/15), floor(6(b+1)/15))), so it is the mean |correct - conf| =
 * (.2 + .7 + .4 + .1 + .05 + 1) / 6 = 2.45 / 6.
 */
START_TEST(bins_by_hand)
{
	const double conf[] = { 0.9, 0.2, 1.0, 0.3, 0.95, 0.6 };
	const uint8_t correct[] = { 1, 0, 0, 1, 1, 1 };
	struct ee_calibration c;
	struct ee_err err = { 0 };
	int b;

	ck_assert_int_eq(ee_calibration_compute(conf, correct, 6, &c, &err), EE_OK);
	ck_assert_int_eq(c.n, 6);
	ck_assert_double_eq_tol(c.ece, 2.35 / 6, EPS);
	ck_assert_double_eq_tol(c.ece_adaptive, 2.45 / 6, EPS);
	ck_assert_double_eq_tol(c.mce, 0.7, EPS);
	ck_assert_double_eq_tol(c.accuracy, 4.0 / 6, EPS);
	ck_assert_double_eq_tol(c.confidence, 3.95 / 6, EPS);
	ck_assert(isnan(c.brier) && isnan(c.nll));
	for (b = 0; b < EE_CAL_BINS; b++) {
		long want = b == 2 || b == 4 || b == 8 || b == 13 ? 1 : b == 14 ? 2 : 0;

		ck_assert_int_eq(c.count[b], want);
		ck_assert(want ? !isnan(c.acc[b]) : isnan(c.acc[b]) && isnan(c.conf[b]));
	}
	ck_assert_double_eq_tol(c.acc[14], 0.5, EPS);
	ck_assert_double_eq_tol(c.conf[14], 0.975, EPS);
}
END_TEST

START_TEST(no_samples)
{
	struct ee_calibration c;
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_calibration_compute(NULL, NULL, 0, &c, &err), EE_OK);
	ck_assert(isnan(c.ece) && isnan(c.ece_adaptive) && isnan(c.mce) && isnan(c.accuracy));
}
END_TEST

/*
 * A 2-class, 1-exit trace of 3 samples whose logits are all (0, ln 3): softmax (1/4,
 * 3/4), predicted class 1; labels 1, 1, 0.
 * Brier: two right rows (1/4)^2 x 2 = 1/8, the wrong one (3/4)^2 x 2 = 9/8; mean 11/24.
 * NLL: (2 ln(4/3) + ln 4) / 3.
 * Temperature: p(1) = 1/(1 + 3^(-1/T)) is best at 2/3, so 3^(1/T) = 2, T = ln 3 / ln 2.
 */
static void build(struct ee_trace *t, bool logits)
{
	static const int labels[] = { 1, 1, 0 };
	struct ee_err err = { 0 };
	int i;

	ck_assert_int_eq(ee_trace_alloc(t, 3, 1, 2, false, 0, NULL, 0, &err), EE_OK);
	snprintf(t->ckpt_sha256, sizeof(t->ckpt_sha256), "%064d", 0);
	if (logits)
		ck_assert_ptr_nonnull(t->logits = calloc(6, sizeof(float)));
	for (i = 0; i < 3; i++) {
		t->index[i] = i;
		t->label[i] = labels[i];
		t->pred[i] = 1;
		t->maxprob[i] = 0.75f;
		t->macs[i] = t->macs_cascade[i] = 10;
		if (logits)
			t->logits[2 * i + 1] = logf(3.0f);
	}
}

START_TEST(brier_nll_temperature)
{
	struct ee_trace t;
	struct ee_calibration c;
	struct ee_err err = { 0 };
	double T, want = log(3.0) / log(2.0), p1;

	build(&t, true);
	ck_assert_int_eq(ee_calibration_exit(&t, 0, 1.0, &c, &err), EE_OK);
	ck_assert_double_eq_tol(c.brier, 11.0 / 24, 1e-6);
	ck_assert_double_eq_tol(c.nll, (2 * log(4.0 / 3) + log(4.0)) / 3, 1e-6);
	ck_assert_double_eq_tol(c.accuracy, 2.0 / 3, EPS);
	ck_assert_double_eq_tol(c.ece, 0.75 - 2.0 / 3, 1e-7); /* one bin */
	ck_assert_int_eq(ee_temperature_fit(&t, 0, &T, &err), EE_OK);
	ck_assert_double_eq_tol(T, want, 1e-6);
	/* at that temperature the one bin's confidence is 2/3 = its accuracy: ECE 0 */
	ck_assert_int_eq(ee_calibration_exit(&t, 0, T, &c, &err), EE_OK);
	ck_assert_double_eq_tol(c.ece, 0, 1e-6);
	ck_assert_double_eq_tol(c.temperature, want, 1e-6);
	p1 = 2.0 / 3;
	ck_assert_double_eq_tol(c.brier, (2 * 2 * (1 - p1) * (1 - p1) + 2 * p1 * p1) / 3, 1e-6);
	ee_trace_release(&t);
}
END_TEST

/* The view recomputes maxprob at the temperature (2/3 at T = ln 3 / ln 2), keeps pred. */
START_TEST(calibrated_view)
{
	struct ee_trace t, v;
	struct ee_err err = { 0 };
	double T = log(3.0) / log(2.0);
	int i;

	build(&t, true);
	ck_assert_int_eq(ee_calibrated_view(&t, &T, &v, &err), EE_OK);
	for (i = 0; i < 3; i++) {
		ck_assert_double_eq_tol(v.maxprob[i], 2.0 / 3, 1e-6);
		ck_assert_double_eq_tol(v.margin[i], 1.0 / 3, 1e-6);
		ck_assert_ptr_eq(v.pred, t.pred);
	}
	ck_assert_float_eq(t.maxprob[0], 0.75f); /* the trace itself is untouched */
	ee_calibrated_view_release(&v);
	ee_trace_release(&t);
}
END_TEST

/* Without logits: Brier and NLL unknown, no temperature; bad exits and temperatures. */
START_TEST(refusals)
{
	struct ee_trace t, v;
	struct ee_calibration c;
	struct ee_err err = { 0 };
	double T = 2;

	build(&t, false);
	ck_assert_int_eq(ee_calibration_exit(&t, 0, 1.0, &c, &err), EE_OK);
	ck_assert(isnan(c.brier) && isnan(c.nll) && !isnan(c.ece));
	ck_assert_int_eq(ee_calibration_exit(&t, 0, 2.0, &c, &err), EE_ERR_INPUT);
	ck_assert_int_eq(ee_temperature_fit(&t, 0, &T, &err), EE_ERR_INPUT);
	ck_assert_int_eq(ee_calibrated_view(&t, &T, &v, &err), EE_ERR_INPUT);
	ck_assert_int_eq(ee_calibration_exit(&t, 1, 1.0, &c, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_calibration_exit(&t, 0, 0.0, &c, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_calibration_exit(&t, 0, NAN, &c, &err), EE_ERR_USAGE);
	ee_trace_release(&t);
}
END_TEST

/* A model with its own trace as validation: the temperature as above; one exit costs 10
 * MACs whatever the threshold, so within 5 MACs nothing fits and within 10 the sweep's
 * accuracy is 2/3 before and after scaling. Another checkpoint's val is refused. */
START_TEST(model_with_val)
{
	static const double fractions[] = { 0.5, 1.0 };
	struct ee_model_calibration mc;
	struct ee_trace t, other;
	struct ee_err err = { 0 };

	build(&t, true);
	ck_assert_int_eq(ee_calibrate_model(&t, &t, EE_POLICY_MAXPROB, EE_FALLBACK_LAST,
					    fractions, 2, &mc, &err), EE_OK);
	ck_assert(mc.has_val);
	ck_assert_double_eq_tol(mc.temperature[0], log(3.0) / log(2.0), 1e-6);
	ck_assert_double_eq_tol(mc.budget[1], 10, EPS);
	ck_assert(isnan(mc.accuracy[0]) && isnan(mc.accuracy_scaled[0])); /* 5 MACs: none */
	ck_assert_double_eq_tol(mc.accuracy[1], 2.0 / 3, EPS);
	ck_assert_double_eq_tol(mc.accuracy_scaled[1], 2.0 / 3, EPS);
	ck_assert_int_eq(ee_calibrate_model(&t, NULL, EE_POLICY_MAXPROB, EE_FALLBACK_LAST,
					    fractions, 2, &mc, &err), EE_OK);
	ck_assert(!mc.has_val);
	build(&other, true);
	other.ckpt_sha256[0] = 'f';
	ck_assert_int_eq(ee_calibrate_model(&t, &other, EE_POLICY_MAXPROB, EE_FALLBACK_LAST,
					    fractions, 2, &mc, &err), EE_ERR_INPUT);
	ee_trace_release(&other);
	ee_trace_release(&t);
}
END_TEST

static Suite *calibration_suite(void)
{
	Suite *s = suite_create("calibration");
	TCase *tc = tcase_create("calibration");

	tcase_add_test(tc, bins_by_hand);
	tcase_add_test(tc, no_samples);
	tcase_add_test(tc, brier_nll_temperature);
	tcase_add_test(tc, calibrated_view);
	tcase_add_test(tc, refusals);
	tcase_add_test(tc, model_with_val);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(calibration_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
