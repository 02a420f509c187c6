/*
 * check_difficulty.c - reports/difficulty.c on a hand-made trace, answers worked out by
 * hand.
 *
 * 4 samples, 2 exits, 3 classes, one EMG layer of 4 channels:
 *        label | pred | maxprob   | open
 *   s0     0   | 0 0  | .9  .95   | 1
 *   s1     1   | 1 2  | .5  .6    | 3
 *   s2     2   | 0 2  | .4  .8    | 2
 *   s3     0   | 1 1  | .3  .5    | 4
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "reports/difficulty.h"
#include "testutil.h"

#define EPS 1e-12

static void build(struct ee_trace *t)
{
	static const int label[] = { 0, 1, 2, 0 }, pred[][2] = { { 0, 0 }, { 1, 2 }, { 0, 2 },
								  { 1, 1 } };
	static const float conf[][2] = { { .9f, .95f }, { .5f, .6f }, { .4f, .8f }, { .3f, .5f } };
	static const int open[] = { 1, 3, 2, 4 };
	const int channels = 4;
	struct ee_err err = { 0 };
	int i, k;

	ck_assert_int_eq(ee_trace_alloc(t, 4, 2, 3, false, 1, &channels, 0, &err), EE_OK);
	t->gated[0].exit = 1;
	for (i = 0; i < 4; i++) {
		t->index[i] = i;
		t->label[i] = label[i];
		t->ens_pred[i] = label[i];
		t->open[i] = open[i];
		for (k = 0; k < 2; k++) {
			t->pred[2 * i + k] = pred[i][k];
			t->maxprob[2 * i + k] = conf[i][k];
			t->macs[2 * i + k] = t->macs_cascade[2 * i + k] = 10 * (k + 1);
		}
	}
}

/*
 * Without a rule the deepest exit decides: s0, s2 right (fractions 1/4, 2/4: mean .375),
 * s1, s3 wrong (3/4, 4/4: .875). Open (1,3,2,4) against (.95,.6,.8,.5): deviations
 * (-1.5,.5,-.5,1.5) and (.2375,-.1125,.0875,-.2125): sxy -.775, sxx 5, syy .121875,
 * r = -.775 / sqrt(.609375); the ranks are exactly reversed: Spearman -1.
 */
START_TEST(deepest_exit_decides)
{
	struct ee_gate_difficulty d;
	struct ee_trace t;
	struct ee_err err = { 0 };

	build(&t);
	ck_assert_int_eq(ee_gate_difficulty(&t, NULL, NULL, &d, &err), EE_OK);
	ck_assert_int_eq(d.n_right, 2);
	ck_assert_int_eq(d.n_wrong, 2);
	ck_assert_double_eq_tol(d.right[0], 0.375, EPS);
	ck_assert_double_eq_tol(d.wrong[0], 0.875, EPS);
	ck_assert_double_eq_tol(d.pearson[0], -0.775 / sqrt(0.609375), 1e-6);
	ck_assert_double_eq_tol(d.pearson_total, d.pearson[0], EPS);
	ck_assert_double_eq_tol(d.spearman_total, -1, EPS);
	ck_assert(isnan(d.by_exit[0][0][0]) && isnan(d.by_exit[0][0][1]));
	ee_gate_difficulty_release(&d);
	ee_trace_release(&t);
}
END_TEST

/*
 * maxprob 0.85, fallback last: s0 leaves at exit 1 (right, 1/4); s1, s2, s3 are never
 * confident and the fallback (exit 2's prediction) decides: s2 right (2/4), s1 and s3
 * wrong (3/4, 4/4).
 */
START_TEST(rule_decides)
{
	struct ee_gate_difficulty d;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	struct ee_trace t;
	struct ee_err err = { 0 };
	int taken[4];

	build(&t);
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.85);
	ee_simulate(&t, &r, &res, taken);
	ck_assert_int_eq(ee_gate_difficulty(&t, &r, taken, &d, &err), EE_OK);
	ck_assert_int_eq(d.by_exit_n[0][1], 1);
	ck_assert_int_eq(d.by_exit_n[0][0], 0);
	ck_assert_int_eq(d.by_exit_n[1][0] + d.by_exit_n[1][1], 0);
	ck_assert_int_eq(d.by_exit_n[2][1], 1);
	ck_assert_int_eq(d.by_exit_n[2][0], 2);
	ck_assert_double_eq_tol(d.by_exit[0][0][1], 0.25, EPS);
	ck_assert(isnan(d.by_exit[0][0][0]) && isnan(d.by_exit[0][1][1]));
	ck_assert_double_eq_tol(d.by_exit[0][2][1], 0.5, EPS);
	ck_assert_double_eq_tol(d.by_exit[0][2][0], 0.875, EPS);
	ck_assert_double_eq_tol(d.right[0], 0.375, EPS);
	ee_gate_difficulty_release(&d);
	ck_assert_int_eq(ee_gate_difficulty(&t, &r, NULL, &d, &err), EE_ERR_USAGE);
	t.ngated = 0;
	ck_assert_int_eq(ee_gate_difficulty(&t, NULL, NULL, &d, &err), EE_ERR_INPUT);
	t.ngated = 1;
	ee_trace_release(&t);
}
END_TEST

/* Ties share their mean rank: x (1,1,2) ranks (1.5,1.5,3), y (1,2,3): deviations
 * (-.5,-.5,1) and (-1,0,1): 1.5 / sqrt(1.5 x 2). A constant side: NAN. */
START_TEST(correlations)
{
	const double x[] = { 1, 1, 2 }, y[] = { 1, 2, 3 }, c[] = { 5, 5, 5 };
	struct ee_err err = { 0 };
	double rho;

	ck_assert_int_eq(ee_spearman(x, y, 3, &rho, &err), EE_OK);
	ck_assert_double_eq_tol(rho, 1.5 / sqrt(3.0), EPS);
	ck_assert(isnan(ee_pearson(c, y, 3)));
	ck_assert(isnan(ee_pearson(x, y, 1)));
	ck_assert_double_eq_tol(ee_pearson(y, y, 3), 1, EPS);
}
END_TEST

static Suite *difficulty_suite(void)
{
	Suite *s = suite_create("difficulty");
	TCase *tc = tcase_create("difficulty");

	tcase_add_test(tc, deepest_exit_decides);
	tcase_add_test(tc, rule_decides);
	tcase_add_test(tc, correlations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(difficulty_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
