/*
 * check_analysis.c - reports/analysis.c on hand-made traces, answers worked out by hand.
 *
 * Confidences are multiples of 1/64 and the like, exact in float, so "equal to the
 * threshold" really is equal. Each case's comment shows the arithmetic.
 *
 * The main trace T6: 6 samples, 3 exits, 5 classes (class 4 has no sample), 2 EMG layers.
 *
 *      label ens | pred    | maxprob            | entropy           | margin            | cascade
 *   s0   0    0  | 0 0 0   | .9375 .96875 .984375| .25 .125 .0625  | .875 .9375 .96875 | 10 25 45
 *   s1   1    1  | 2 1 1   | .75   .875   .9375 | .75 .5   .25     | .5   .75   .875   | 10 25 45
 *   s2   2    2  | 3 2 2   | .5    .6875  .625  | 1   .625 .75     | .25  .375  .25    | 10 25 45
 *   s3   3    3  | 1 3 0   | .375  .5     .5    | 1.25 1   .875    | .125 .25   .0625  | 10 25 45
 *   s4   0    0  | 0 1 1   | .625  .5625  .875  | .875 .9375 .5    | .375 .1875 .75    | 12 29 51
 *   s5   1    0  | 1 0 2   | .25   .25    .25   | 1.375 x3         | .0625 x3          | 10 25 45
 *   standalone MACs: 10 22 40 (s4: 12 26 46)
 *
 * Correct per exit: e1 s0 s4 s5 (3/6), e2 s0 s1 s2 s3 (4/6), e3 s0 s1 s2 (3/6),
 * ensemble s0..s4 (5/6).
 */
#include <check.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "reports/analysis.h"
#include "testutil.h"

#define EPS 1e-12
#define COUNT(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* ---------------------------------------------------------------- fixtures */

struct srow {
	int label, ens;
	int pred[3];
	float maxprob[3], entropy[3], margin[3];
	double macs[3], cascade[3];
};

static const struct srow t6_rows[] = {
	{ 0, 0, { 0, 0, 0 }, { .9375f, .96875f, .984375f }, { .25f, .125f, .0625f },
	  { .875f, .9375f, .96875f }, { 10, 22, 40 }, { 10, 25, 45 } },
	{ 1, 1, { 2, 1, 1 }, { .75f, .875f, .9375f }, { .75f, .5f, .25f }, { .5f, .75f, .875f },
	  { 10, 22, 40 }, { 10, 25, 45 } },
	{ 2, 2, { 3, 2, 2 }, { .5f, .6875f, .625f }, { 1, .625f, .75f }, { .25f, .375f, .25f },
	  { 10, 22, 40 }, { 10, 25, 45 } },
	{ 3, 3, { 1, 3, 0 }, { .375f, .5f, .5f }, { 1.25f, 1, .875f }, { .125f, .25f, .0625f },
	  { 10, 22, 40 }, { 10, 25, 45 } },
	{ 0, 0, { 0, 1, 1 }, { .625f, .5625f, .875f }, { .875f, .9375f, .5f },
	  { .375f, .1875f, .75f }, { 12, 26, 46 }, { 12, 29, 51 } },
	{ 1, 0, { 1, 0, 2 }, { .25f, .25f, .25f }, { 1.375f, 1.375f, 1.375f },
	  { .0625f, .0625f, .0625f }, { 10, 22, 40 }, { 10, 25, 45 } },
};

/* Gate bits of T6's two EMG layers, one string per sample ('1' = ring ran). */
static const char *const t6_gate0[] = { "1100", "1110", "1000", "1110", "1100", "1010" };
static const char *const t6_gate1[] = { "11111", "00000", "11110", "00100", "10100", "00110" };

/* Fills t with rows (e exits, k classes); gates: per layer the bit strings of every row. */
static void build(struct ee_trace *t, const struct srow *rows, int n, int e, int k,
		  const char *const *const *gates, int ngated)
{
	int channels[2] = { 0 }, i, j, g;
	struct ee_err err = { 0 };

	for (g = 0; g < ngated; g++)
		channels[g] = (int)strlen(gates[g][0]);
	ck_assert_int_eq(ee_trace_alloc(t, n, e, k, false, ngated, channels, 0, &err), EE_OK);
	snprintf(t->arch, sizeof(t->arch), "emgnet");
	for (i = 0; i < n; i++) {
		t->index[i] = i;
		t->label[i] = rows[i].label;
		t->ens_pred[i] = rows[i].ens;
		for (j = 0; j < e; j++) {
			size_t at = (size_t)i * e + j;

			t->pred[at] = rows[i].pred[j];
			t->maxprob[at] = rows[i].maxprob[j];
			t->entropy[at] = rows[i].entropy[j];
			t->margin[at] = rows[i].margin[j];
			t->macs[at] = rows[i].macs[j];
			t->macs_cascade[at] = rows[i].cascade[j];
		}
	}
	for (g = 0; g < ngated; g++) {
		t->gated[g].name = strdup(g ? "layer1" : "layer0");
		t->gated[g].ring_macs = g ? 144 : 64;
		for (i = 0; i < n; i++)
			for (j = 0; j < channels[g]; j++) {
				t->bits[g][(size_t)i * channels[g] + j] = gates[g][i][j] == '1';
				t->open[(size_t)i * ngated + g] += gates[g][i][j] == '1';
			}
	}
}

static void build_t6(struct ee_trace *t)
{
	const char *const *const gates[] = { t6_gate0, t6_gate1 };

	build(t, t6_rows, COUNT(t6_rows), 3, 5, gates, 2);
}

/* Simulates T6 under a global threshold; checks accuracy (correct/6), mean MACs (sum/6)
 * and the exit counts (exit 1, 2, 3, fallback). */
static void expect_global(enum ee_policy p, enum ee_fallback f, double thr, int correct,
			  double macs_sum, const long *exits)
{
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	int k;

	build_t6(&t);
	ee_rule_global(&r, p, f, thr);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_double_eq_tol(res.accuracy, correct / 6.0, EPS);
	ck_assert_double_eq_tol(res.macs_mean, macs_sum / 6, EPS);
	ck_assert_double_eq(res.threshold, thr);
	for (k = 0; k < 4; k++)
		ck_assert_msg(res.exits[k] == exits[k], "%s/%s %g: exit %d took %ld, want %ld",
			      ee_policy_name(p), ee_fallback_name(f), thr, k + 1, res.exits[k],
			      exits[k]);
	ee_trace_release(&t);
}

/* ---------------------------------------------------------------- names and parsing */

START_TEST(names_round_trip)
{
	static const char *const pol[] = { "maxprob", "entropy", "margin", "patience" };
	static const char *const fb[] = { "last", "ensemble", "best" };
	int i;

	for (i = 0; i < 4; i++) {
		ck_assert_int_eq(ee_policy_parse(pol[i]), i);
		ck_assert_str_eq(ee_policy_name((enum ee_policy)i), pol[i]);
	}
	for (i = 0; i < 3; i++) {
		ck_assert_int_eq(ee_fallback_parse(fb[i]), i);
		ck_assert_str_eq(ee_fallback_name((enum ee_fallback)i), fb[i]);
	}
	ck_assert_int_eq(ee_policy_parse("MaxProb"), -1);
	ck_assert_int_eq(ee_policy_parse(""), -1);
	ck_assert_int_eq(ee_fallback_parse("first"), -1);
	ck_assert_int_eq(ee_policy_parse(NULL), -1);
}
END_TEST

START_TEST(rule_names)
{
	struct ee_exit_rule r;
	struct ee_err err = { 0 };

	ee_rule_global(&r, EE_POLICY_MARGIN, EE_FALLBACK_BEST, 0.5);
	ck_assert_int_eq(ee_rule_names(&r, NULL, NULL, &err), EE_OK);
	ck_assert_int_eq(r.policy, EE_POLICY_MAXPROB);
	ck_assert_int_eq(r.fallback, EE_FALLBACK_LAST);
	ck_assert_double_eq(r.thr[7], 0.5); /* thresholds untouched */
	ck_assert_int_eq(ee_rule_names(&r, "entropy", "ensemble", &err), EE_OK);
	ck_assert_int_eq(r.policy, EE_POLICY_ENTROPY);
	ck_assert_int_eq(r.fallback, EE_FALLBACK_ENSEMBLE);
	ck_assert_int_eq(ee_rule_names(&r, "confidence", NULL, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "unknown policy 'confidence' (maxprob, entropy, margin or "
			 "patience)");
	ck_assert_int_eq(ee_rule_names(&r, NULL, "first", &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "unknown fallback 'first' (last, ensemble or best)");
}
END_TEST

START_TEST(threshold_lists)
{
	static const char *const bad[] = { "", ",", "0.9,", ",0.9", "a", "0.9;0.8", "nan", "inf",
					   "1e999", "0.9 0.8", "1,2,3,4,5,6,7,8,9" };
	double v[EE_MAX_EXITS];
	struct ee_err err = { 0 };
	int count, i;

	ck_assert_int_eq(ee_thresholds_parse("0.98,0.97,0.98,0.95", v, &count, &err), EE_OK);
	ck_assert_int_eq(count, 4);
	ck_assert_double_eq(v[0], 0.98);
	ck_assert_double_eq(v[3], 0.95);
	ck_assert_int_eq(ee_thresholds_parse("-1", v, &count, &err), EE_OK);
	ck_assert_int_eq(count, 1);
	ck_assert_double_eq(v[0], -1);
	ck_assert_int_eq(ee_thresholds_parse("1,2,3,4,5,6,7,8", v, &count, &err), EE_OK);
	ck_assert_int_eq(count, 8);
	for (i = 0; i < COUNT(bad); i++)
		ck_assert_msg(ee_thresholds_parse(bad[i], v, &count, &err) == EE_ERR_USAGE,
			      "'%s' was accepted", bad[i]);
	ck_assert_str_eq(err.msg, "threshold list '1,2,3,4,5,6,7,8,9' has more than 8 values");
}
END_TEST

START_TEST(rule_thresholds)
{
	const double one[] = { 0.9 }, three[] = { 0.98, 0.97, 0.95 }, frac[] = { 1.5 };
	struct ee_exit_rule r;
	struct ee_err err = { 0 };
	int k;

	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0);
	ck_assert_int_eq(ee_rule_thresholds(&r, one, 1, 3, &err), EE_OK);
	for (k = 0; k < EE_MAX_EXITS; k++)
		ck_assert_double_eq(r.thr[k], 0.9);
	ck_assert_int_eq(ee_rule_thresholds(&r, three, 3, 3, &err), EE_OK);
	ck_assert_double_eq(r.thr[0], 0.98);
	ck_assert_double_eq(r.thr[1], 0.97);
	ck_assert_double_eq(r.thr[2], 0.95);
	ck_assert_int_eq(ee_rule_thresholds(&r, three, 3, 4, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "3 thresholds for a model of 4 exits: give 4 (one per exit) or 1 "
			 "(the same for every exit)");
	ck_assert_int_eq(ee_rule_thresholds(&r, three, 2, 3, &err), EE_ERR_USAGE);
	r.policy = EE_POLICY_PATIENCE;
	ck_assert_int_eq(ee_rule_thresholds(&r, frac, 1, 3, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_rule_thresholds(&r, three, 3, 3, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_rule_thresholds(&r, (const double[]){ -1 }, 1, 3, &err), EE_ERR_USAGE);
	ck_assert_int_eq(ee_rule_thresholds(&r, (const double[]){ 2 }, 1, 3, &err), EE_OK);
	ck_assert_double_eq(r.thr[0], 2);
}
END_TEST

/* ---------------------------------------------------------------- per-exit statistics */

START_TEST(exit_stats)
{
	struct ee_trace t;
	struct ee_exit_stats s;

	build_t6(&t);
	ee_exit_stats(&t, &s);
	/* correct: e1 3, e2 4, e3 3, ensemble 5 (see the top of the file) */
	ck_assert_double_eq(s.accuracy[0], 0.5);
	ck_assert_double_eq_tol(s.accuracy[1], 4 / 6.0, EPS);
	ck_assert_double_eq(s.accuracy[2], 0.5);
	ck_assert_double_eq_tol(s.ensemble_accuracy, 5 / 6.0, EPS);
	/* standalone: (5*10 + 12)/6, (5*22 + 26)/6, (5*40 + 46)/6 = 41 */
	ck_assert_double_eq_tol(s.macs_mean[0], 62 / 6.0, EPS);
	ck_assert_double_eq_tol(s.macs_mean[1], 136 / 6.0, EPS);
	ck_assert_double_eq_tol(s.macs_mean[2], 41, EPS);
	/* cascade: 62/6, (5*25 + 29)/6, (5*45 + 51)/6 = 46; the ensemble ran everything */
	ck_assert_double_eq_tol(s.cascade_mean[0], 62 / 6.0, EPS);
	ck_assert_double_eq_tol(s.cascade_mean[1], 154 / 6.0, EPS);
	ck_assert_double_eq_tol(s.cascade_mean[2], 46, EPS);
	ck_assert_double_eq_tol(s.ensemble_macs, 46, EPS);
	ee_trace_release(&t);
}
END_TEST

/* ---------------------------------------------------------------- dynamic exit */

/*
 * maxprob 0.75: s0 .9375 > .75 exits at 1 (10); s1 .75 is not > .75 (strict), .875 exits
 * at 2 (25); s4 .625 .5625 .875 exits at 3 (51); s2 (.5 .6875 .625), s3 (.375 .5 .5)
 * and s5 (.25 x3) fall back (45 each). MACs 10 + 25 + 51 + 3*45 = 221.
 * Right before the fallback: s0 s1 right, s4 wrong (pred 1, label 0).
 *   last      s2 pred 2 right, s3 pred 0 wrong, s5 pred 2 wrong        -> 3/6
 *   ensemble  s2 ens 2 right, s3 ens 3 right, s5 ens 0 wrong           -> 4/6
 *   best      s2 -> exit 2 (.6875) pred 2 right; s3 ties .5 at exits 2 and 3 -> the
 *             shallower, pred 3 right; s5 ties three ways -> exit 1, pred 1 right -> 5/6
 */
START_TEST(maxprob_each_fallback)
{
	const long exits[] = { 1, 1, 1, 3 };

	expect_global(EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.75, 3, 221, exits);
	expect_global(EE_POLICY_MAXPROB, EE_FALLBACK_ENSEMBLE, 0.75, 4, 221, exits);
	expect_global(EE_POLICY_MAXPROB, EE_FALLBACK_BEST, 0.75, 5, 221, exits);
}
END_TEST

START_TEST(taken_per_sample)
{
	const int want[] = { 0, 1, 3, 3, 2, 3 }; /* from maxprob_each_fallback; 3 = fallback */
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	int taken[6], i;

	build_t6(&t);
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.75);
	ee_simulate(&t, &r, &res, taken);
	for (i = 0; i < 6; i++)
		ck_assert_int_eq(taken[i], want[i]);
	ee_trace_release(&t);
}
END_TEST

/*
 * entropy 0.625 (exit if entropy < .625): s0 .25 exits at 1; s1 .75 no, .5 exits at 2;
 * s2 1 no, .625 is not < .625, .75 no: fallback; s3 (1.25 1 .875) fallback; s4 .875
 * .9375 .5 exits at 3; s5 fallback. The same exits as maxprob 0.75: MACs 221.
 *   last      3/6 (as maxprob)
 *   ensemble  4/6 (as maxprob)
 *   best      lowest entropy: s2 exit 2 (.625) pred 2 right; s3 exit 3 (.875) pred 0
 *             wrong (maxprob would pick exit 2); s5 ties -> exit 1 right         -> 4/6
 */
START_TEST(entropy_each_fallback)
{
	const long exits[] = { 1, 1, 1, 3 };

	expect_global(EE_POLICY_ENTROPY, EE_FALLBACK_LAST, 0.625, 3, 221, exits);
	expect_global(EE_POLICY_ENTROPY, EE_FALLBACK_ENSEMBLE, 0.625, 4, 221, exits);
	expect_global(EE_POLICY_ENTROPY, EE_FALLBACK_BEST, 0.625, 4, 221, exits);
}
END_TEST

/*
 * margin 0.25: s0 .875 exits at 1 right (10); s1 .5 exits at 1, pred 2 wrong (10);
 * s2 .25 not > .25, .375 exits at 2 right (25); s3 .125, .25 (equal), .0625: fallback
 * (45); s4 .375 exits at 1 right (12); s5 fallback (45). MACs 147; exits 3 1 0 2.
 *   last      s3 pred 0 wrong, s5 pred 2 wrong                           -> 3/6
 *   ensemble  s3 ens 3 right, s5 ens 0 wrong                             -> 4/6
 *   best      s3 largest margin at exit 2 (.25) pred 3 right; s5 ties -> exit 1
 *             pred 1 right                                               -> 5/6
 */
START_TEST(margin_each_fallback)
{
	const long exits[] = { 3, 1, 0, 2 };

	expect_global(EE_POLICY_MARGIN, EE_FALLBACK_LAST, 0.25, 3, 147, exits);
	expect_global(EE_POLICY_MARGIN, EE_FALLBACK_ENSEMBLE, 0.25, 4, 147, exits);
	expect_global(EE_POLICY_MARGIN, EE_FALLBACK_BEST, 0.25, 5, 147, exits);
}
END_TEST

/*
 * Patience (preds s0 000, s1 211, s2 322, s3 130, s4 011, s5 102):
 *   0  everything exits at 1: e1's 3/6, MACs 62
 *   1  s0 at 2 (0=0, 25) right; s1 at 3 (1=1, 45) right; s2 at 3 (2=2, 45) right;
 *      s4 at 3 (1=1, 51) wrong; s3, s5 fall back (45 each). MACs 256.
 *      last: s3, s5 wrong -> 3/6. best ranks by maxprob: s3 -> exit 2 pred 3 right,
 *      s5 -> exit 1 pred 1 right -> 5/6
 *   2  only s0 agrees three times (45, right); the rest fall back: last gives s1 s2
 *      right, s3 s4 s5 wrong -> 3/6; MACs 276
 */
START_TEST(patience_pabee)
{
	expect_global(EE_POLICY_PATIENCE, EE_FALLBACK_LAST, 0, 3, 62, (const long[]){ 6, 0, 0, 0 });
	expect_global(EE_POLICY_PATIENCE, EE_FALLBACK_LAST, 1, 3, 256, (const long[]){ 0, 1, 3, 2 });
	expect_global(EE_POLICY_PATIENCE, EE_FALLBACK_BEST, 1, 5, 256, (const long[]){ 0, 1, 3, 2 });
	expect_global(EE_POLICY_PATIENCE, EE_FALLBACK_LAST, 2, 3, 276, (const long[]){ 0, 0, 1, 5 });
	/* patience 3 or more: no exit has three before it, everything falls back */
	expect_global(EE_POLICY_PATIENCE, EE_FALLBACK_LAST, 3, 3, 276, (const long[]){ 0, 0, 0, 6 });
}
END_TEST

/*
 * SCAN-style vector, maxprob (.9375, .625, .9): s0 .9375 not > .9375, .96875 exits at 2;
 * s1 .875 and s2 .6875 exit at 2 (all right, 25 each); s3 (.5 at exit 3 < .9), s4
 * (.625 < .9375, .5625 < .625, .875 < .9) and s5 fall back (45 + 51 + 45).
 * MACs 75 + 141 = 216. last: s3 s4 s5 wrong -> 3/6; ensemble: s3 ens 3 and s4 ens 0
 * right, s5 wrong -> 5/6.
 */
START_TEST(per_exit_vector)
{
	const double v[] = { 0.9375, 0.625, 0.9 };
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	struct ee_err err = { 0 };

	build_t6(&t);
	ck_assert_int_eq(ee_rule_names(&r, "maxprob", "last", &err), EE_OK);
	ck_assert_int_eq(ee_rule_thresholds(&r, v, 3, 3, &err), EE_OK);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_double_eq(res.accuracy, 0.5);
	ck_assert_double_eq_tol(res.macs_mean, 36, EPS);
	ck_assert_double_eq(res.threshold, 0.9375); /* thr[0] outside sweeps */
	ck_assert_int_eq(res.exits[0], 0);
	ck_assert_int_eq(res.exits[1], 3);
	ck_assert_int_eq(res.exits[2], 0);
	ck_assert_int_eq(res.exits[3], 3);
	r.fallback = EE_FALLBACK_ENSEMBLE;
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_double_eq_tol(res.accuracy, 5 / 6.0, EPS);
	ee_trace_release(&t);
}
END_TEST

/*
 * Strict comparison in float: a threshold equal to a confidence does not let it pass, and
 * 0.9 means the float nearest 0.9 (0.89999998f), so a maxprob of 0.9f stays too, while
 * a maxprob one float above passes.
 */
START_TEST(threshold_equal_to_confidence)
{
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;

	build_t6(&t);
	t.maxprob[0] = 0.9f;        /* s0 at exit 1 */
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.9);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_int_eq(res.exits[0], 0);
	ck_assert_int_eq(res.exits[1], 1); /* s0 .96875 at exit 2 */
	t.maxprob[0] = nextafterf(0.9f, 1);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_int_eq(res.exits[0], 1);
	/* 0.1f is above the double 0.1: compared in double it would pass */
	t.maxprob[0] = 0.1f;
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.1);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_int_eq(res.exits[0], 5); /* everyone else is above 0.1 at exit 1 */
	/* a threshold beyond float's range is +inf, not undefined behaviour */
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, -1e300);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_int_eq(res.exits[0], 6);
	ee_rule_global(&r, EE_POLICY_ENTROPY, EE_FALLBACK_LAST, 1e300);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert_int_eq(res.exits[0], 6);
	ee_trace_release(&t);
}
END_TEST

START_TEST(empty_trace)
{
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	struct ee_exit_stats s;
	struct ee_err err = { 0 };
	int k;

	ck_assert_int_eq(ee_trace_alloc(&t, 0, 3, 5, false, 0, NULL, 0, &err), EE_OK);
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.5);
	ee_simulate(&t, &r, &res, NULL);
	ck_assert(isnan(res.accuracy) && isnan(res.macs_mean));
	for (k = 0; k <= EE_MAX_EXITS; k++)
		ck_assert_int_eq(res.exits[k], 0);
	ee_exit_stats(&t, &s);
	ck_assert(isnan(s.accuracy[0]) && isnan(s.macs_mean[2]) && isnan(s.ensemble_accuracy));
	ee_trace_release(&t);
}
END_TEST

/* ---------------------------------------------------------------- sweeps */

START_TEST(sweep_grids)
{
	struct ee_trace t;
	double thr[128];

	build_t6(&t);
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_MAXPROB, thr, 128), 101);
	ck_assert_double_eq(thr[0], 0);
	ck_assert_double_eq(thr[50], 0.5);
	ck_assert_double_eq(thr[7], 0.07);   /* i / 100, not 0.01 added up */
	ck_assert_double_eq(thr[100], 1);
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_MARGIN, thr, 128), 101);
	ck_assert_double_eq(thr[100], 1);
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_ENTROPY, thr, 128), 101);
	ck_assert_double_eq(thr[0], 0);
	ck_assert_double_eq_tol(thr[50], log(5) / 2, EPS); /* K = 5 */
	ck_assert_double_eq(thr[100], log(5));
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_PATIENCE, thr, 128), 2); /* 1..E-1 */
	ck_assert_double_eq(thr[0], 1);
	ck_assert_double_eq(thr[1], 2);
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_MAXPROB, thr, 10), 10);
	ck_assert_double_eq(thr[9], 0.09);
	t.nexits = 1;
	ck_assert_int_eq(ee_sweep_grid(&t, EE_POLICY_PATIENCE, thr, 128), 0);
	t.nexits = 3;
	ee_trace_release(&t);
}
END_TEST

/*
 * maxprob thresholds 0, 0.75, 1 with the ensemble fallback:
 *   0     every maxprob > 0: all leave at exit 1, e1's accuracy 3/6, MACs 62/6
 *   0.75  as maxprob_each_fallback: 4/6, 221/6
 *   1     nothing is > 1: all fall back to the ensemble, 5/6 at 276/6 = 46
 * Accuracy within a budget (the deepest exit's standalone mean is 41):
 *   25 % = 10.25: nothing is that cheap (62/6 = 10.33) -> NAN
 *   50 % = 20.5 and 75 % = 30.75: only threshold 0 -> 3/6
 *   100 % = 41: thresholds 0 and 0.75 -> 4/6;  46: all -> 5/6
 */
START_TEST(sweep_and_within)
{
	const double thr[] = { 0, 0.75, 1 };
	struct ee_dyn_result res[3];
	struct ee_trace t;

	build_t6(&t);
	ee_sweep(&t, EE_POLICY_MAXPROB, EE_FALLBACK_ENSEMBLE, thr, 3, res);
	ck_assert_double_eq(res[0].threshold, 0);
	ck_assert_double_eq(res[0].accuracy, 0.5);
	ck_assert_double_eq_tol(res[0].macs_mean, 62 / 6.0, EPS);
	ck_assert_int_eq(res[0].exits[0], 6);
	ck_assert_double_eq(res[1].threshold, 0.75);
	ck_assert_double_eq_tol(res[1].accuracy, 4 / 6.0, EPS);
	ck_assert_double_eq_tol(res[1].macs_mean, 221 / 6.0, EPS);
	ck_assert_double_eq(res[2].threshold, 1);
	ck_assert_double_eq_tol(res[2].accuracy, 5 / 6.0, EPS);
	ck_assert_double_eq_tol(res[2].macs_mean, 46, EPS);
	ck_assert_int_eq(res[2].exits[3], 6);
	ck_assert(isnan(ee_accuracy_within(res, 3, 41 * 0.25)));
	ck_assert_double_eq(ee_accuracy_within(res, 3, 41 * 0.5), 0.5);
	ck_assert_double_eq(ee_accuracy_within(res, 3, 41 * 0.75), 0.5);
	ck_assert_double_eq_tol(ee_accuracy_within(res, 3, 41), 4 / 6.0, EPS);
	ck_assert_double_eq_tol(ee_accuracy_within(res, 3, 46), 5 / 6.0, EPS);
	ee_trace_release(&t);
}
END_TEST

/* The best accuracy among points whose MACs <= budget (inclusive), in any order. */
START_TEST(within_best_not_last)
{
	struct ee_dyn_result r[5] = { { 0 } };
	const double acc[] = { 0.6, 0.8, 0.7, 0.9, 0.95 }, macs[] = { 10, 20, 30, 40, NAN };
	int j;

	for (j = 0; j < 5; j++) {
		r[j].accuracy = acc[j];
		r[j].macs_mean = macs[j];
	}
	ck_assert(isnan(ee_accuracy_within(r, 5, 9.99)));
	ck_assert_double_eq(ee_accuracy_within(r, 5, 10), 0.6);
	ck_assert_double_eq(ee_accuracy_within(r, 5, 35), 0.8); /* not the later 0.7 */
	ck_assert_double_eq(ee_accuracy_within(r, 5, 40), 0.9);
	ck_assert_double_eq(ee_accuracy_within(r, 5, 1e9), 0.9); /* NAN MACs never fit */
	ck_assert(isnan(ee_accuracy_within(r, 0, 1e9)));
}
END_TEST

/* ---------------------------------------------------------------- budgets */

/*
 * Validation V4 (2 exits, cascade 10 30): exit 1 right for v0 v1, exit 2 right for all.
 * Test W4: w2 costs 11 33.
 */
static const struct srow v4_rows[] = {
	{ 0, 0, { 0, 0 }, { .9375f, .95f }, { .25f, .2f }, { 0 }, { 10, 28 }, { 10, 30 } },
	{ 1, 1, { 1, 1 }, { .875f, .9f }, { .5f, .3f }, { 0 }, { 10, 28 }, { 10, 30 } },
	{ 2, 2, { 0, 2 }, { .75f, .9f }, { .75f, .3f }, { 0 }, { 10, 28 }, { 10, 30 } },
	{ 0, 0, { 1, 0 }, { .625f, .9f }, { 1, .3f }, { 0 }, { 10, 28 }, { 10, 30 } },
};
static const struct srow w4_rows[] = {
	{ 0, 0, { 0, 1 }, { .875f, .5f }, { .5f, 1 }, { 0 }, { 10, 28 }, { 10, 30 } },
	{ 1, 1, { 0, 1 }, { .96875f, .5f }, { .125f, 1 }, { 0 }, { 10, 28 }, { 10, 30 } },
	{ 2, 2, { 1, 2 }, { .8125f, .5f }, { .5625f, 1 }, { 0 }, { 11, 31 }, { 11, 33 } },
	{ 0, 0, { 0, 1 }, { .5f, .5f }, { .75f, 1 }, { 0 }, { 10, 28 }, { 10, 30 } },
};

static void build_pair(struct ee_trace *val, struct ee_trace *test)
{
	build(val, v4_rows, 4, 2, 3, NULL, 0);
	build(test, w4_rows, 4, 2, 3, NULL, 0);
}

/*
 * MSDNet on V4 (E = 2): exit 1's share is q / (q + q^2) = 1 / (1 + q), q = p/20, so it
 * admits floor(4 / (1 + q)): 3 for p = 1..6 (q <= .3), 2 for p = 7..20 (q <= 1),
 * 1 for p = 21..40. Ranked by maxprob at exit 1: v0 .9375, v1 .875, v2 .75, v3 .625.
 *   admit 3: v2 (wrong) leaves at 1 too: 3/4 right, MACs (3*10 + 30)/4 = 15
 *   admit 2: v0 v1 at 1, v2 v3 at 2: 4/4, MACs (2*10 + 2*30)/4 = 20
 *   admit 1: 4/4, MACs (10 + 3*30)/4 = 25
 * Budget 20 or 1000: admit 2 (most accurate, cheaper than admit 1), first at p = 7;
 * the threshold is the float just below .875 (so .875 itself passes), the last exit
 * takes everything (-inf). On W4: w0 (.875, right, 10) and w1 (.96875, wrong, 10) leave
 * at 1; w2 (.8125) and w3 (.5) at 2: w2 right (33), w3 wrong (30). 2/4, MACs 83/4.
 */
START_TEST(budget_maxprob)
{
	const double budgets[] = { 20, 1000 };
	struct ee_trace val, test;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };
	int i;

	build_pair(&val, &test);
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, budgets[i], &r, &on_val,
					   &on_test, &err), EE_OK);
		ck_assert_int_eq(r.policy, EE_POLICY_MAXPROB);
		ck_assert_int_eq(r.fallback, EE_FALLBACK_LAST);
		ck_assert_double_eq(r.thr[0], nextafterf(0.875f, 0));
		ck_assert(r.thr[1] == -INFINITY);
		ck_assert_double_eq(on_val.accuracy, 1);
		ck_assert_double_eq(on_val.macs_mean, 20);
		ck_assert_int_eq(on_val.exits[0], 2);
		ck_assert_int_eq(on_val.exits[1], 2);
		ck_assert_double_eq(on_test.accuracy, 0.5);
		ck_assert_double_eq(on_test.macs_mean, 83 / 4.0);
		ck_assert_int_eq(on_test.exits[0], 2);
		ck_assert_int_eq(on_test.exits[1], 2);
		ck_assert_int_eq(on_test.exits[2], 0);
	}
	ee_trace_release(&val);
	ee_trace_release(&test);
}
END_TEST

/*
 * Budget 15: only "admit 3" fits: val 3/4 at 15, threshold just below .75. On W4: w0
 * (.875 right), w1 (wrong), w2 (.8125 > .75: pred 1, wrong, 11) leave at 1; w3 at 2
 * (wrong, 30): 1/4, MACs 61/4. Budget 14.9: nothing fits, the cheapest needs 15.
 */
START_TEST(budget_tight_and_impossible)
{
	struct ee_trace val, test;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build_pair(&val, &test);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, 15, &r, &on_val, &on_test,
				   &err), EE_OK);
	ck_assert_double_eq(r.thr[0], nextafterf(0.75f, 0));
	ck_assert_double_eq(on_val.accuracy, 0.75);
	ck_assert_double_eq(on_val.macs_mean, 15);
	ck_assert_double_eq(on_test.accuracy, 0.25);
	ck_assert_double_eq(on_test.macs_mean, 61 / 4.0);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, 14.9, &r, &on_val, &on_test,
				   &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "none fits: no thresholds meet a budget of 14.9 MACs per sample: the "
			 "cheapest choice needs 15 on the validation trace");
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, 0, &r, &on_val, &on_test,
				   &err), EE_ERR_USAGE);
	ee_trace_release(&val);
	ee_trace_release(&test);
}
END_TEST

/*
 * Entropy ranks the other way: exit 1's entropies .25 .5 .75 1 give the same order, so
 * budget 20 admits v0 v1 with the float just above .5 (entropy < it passes .5 itself);
 * the last exit's threshold is +inf. On W4 (.5 .125 .5625 .75) w0 and w1 leave at 1:
 * the same 2/4 and 83/4 as maxprob.
 */
START_TEST(budget_entropy)
{
	struct ee_trace val, test;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build_pair(&val, &test);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_ENTROPY, 20, &r, &on_val, &on_test,
				   &err), EE_OK);
	ck_assert_int_eq(r.policy, EE_POLICY_ENTROPY);
	ck_assert_double_eq(r.thr[0], nextafterf(0.5f, 1));
	ck_assert(r.thr[1] == INFINITY);
	ck_assert_double_eq(on_val.accuracy, 1);
	ck_assert_double_eq(on_val.macs_mean, 20);
	ck_assert_double_eq(on_test.accuracy, 0.5);
	ck_assert_double_eq(on_test.macs_mean, 83 / 4.0);
	ee_trace_release(&val);
	ee_trace_release(&test);
}
END_TEST

/*
 * A share of nothing: on T6 (3 exits, n = 6) exit 1 admits floor(6 / (1 + q + q^2)) and
 * exit 2 floor(6 q / (1 + q + q^2)). p = 1..3 (q <= .15): 5 and 0; p = 4: 4 and 0; more
 * p admit fewer at exit 1, so p = 1..3 is the cheapest. Ranked at exit 1: s0 .9375, s1
 * .75, s4 .625, s2 .5, s3 .375, s5 .25; admitting 5 puts the threshold just below .375;
 * exit 2 admits none (+inf); s5 runs to exit 3. MACs 10+10+12+10+10+45 = 97; right at
 * exit 1: s0 s4; s5's exit 3 says 2, wrong: 2/6. p = 4 costs 10+10+12+10+45+45 = 132.
 * Budget 97/6 picks p = 1 (p = 2, 3 tie and come later). Used as its own test trace.
 */
START_TEST(budget_share_of_none)
{
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build_t6(&t);
	ck_assert_int_eq(ee_budget(&t, &t, EE_POLICY_MAXPROB, 97 / 6.0, &r, &on_val, &on_test,
				   &err), EE_OK);
	ck_assert_double_eq(r.thr[0], nextafterf(0.375f, 0));
	ck_assert(r.thr[1] == INFINITY);
	ck_assert(r.thr[2] == -INFINITY);
	ck_assert_int_eq(on_val.exits[0], 5);
	ck_assert_int_eq(on_val.exits[1], 0);
	ck_assert_int_eq(on_val.exits[2], 1);
	ck_assert_int_eq(on_val.exits[3], 0);
	ck_assert_double_eq_tol(on_val.accuracy, 2 / 6.0, EPS);
	ck_assert_double_eq_tol(on_test.macs_mean, 97 / 6.0, EPS);
	ck_assert_int_eq(ee_budget(&t, &t, EE_POLICY_MAXPROB, 16, &r, &on_val, &on_test, &err),
			 EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "none fits: no thresholds meet a budget of 16 MACs per sample: the "
			 "cheapest choice needs 16.17 on the validation trace");
	ee_trace_release(&t);
}
END_TEST

/*
 * Patience has no confidence to rank; its candidates are 0..E-1. On V4: patience 0 sends
 * all to exit 1 (2/4, MACs 10); patience 1: v0 (00) and v1 (11) agree at exit 2, v2 (02)
 * and v3 (10) fall back to exit 2's pred, all right: 4/4, MACs 30. Budget 29 -> 0,
 * budget 30 -> 1; on W4 no pair agrees (01 01 12 01): last preds 1 1 2 1 against labels
 * 0 1 2 0: 2/4, MACs (30 + 30 + 33 + 30)/4. Budget 9: nothing fits.
 */
START_TEST(budget_patience)
{
	struct ee_trace val, test;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build_pair(&val, &test);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_PATIENCE, 29, &r, &on_val, &on_test,
				   &err), EE_OK);
	ck_assert_double_eq(r.thr[0], 0);
	ck_assert_double_eq(on_val.accuracy, 0.5);
	ck_assert_double_eq(on_val.macs_mean, 10);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_PATIENCE, 30, &r, &on_val, &on_test,
				   &err), EE_OK);
	ck_assert_double_eq(r.thr[0], 1);
	ck_assert_double_eq(on_val.accuracy, 1);
	ck_assert_double_eq(on_test.accuracy, 0.5);
	ck_assert_double_eq(on_test.macs_mean, 123 / 4.0);
	ck_assert_int_eq(on_test.exits[2], 4);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_PATIENCE, 9, &r, &on_val, &on_test,
				   &err), EE_ERR_INPUT);
	ee_trace_release(&val);
	ee_trace_release(&test);
}
END_TEST

/*
 * Equal val accuracy goes to the cheaper candidate even when it comes later. U6 (3 exits,
 * cascade 10 25 45, every label 0): exit 1 right for u0..u3, ranked u0..u5 by maxprob;
 * u4 is right from exit 2 on, u5 only at exit 3; at exit 2 u4 (.875) ranks above u3 and
 * u5 (u0 ranks higher, .9375, but has left at exit 1: only running samples count). Exits 1 and 2 admit (floor 6 s_1, floor 6 s_2): p = 1..3 (5, 0), p = 4 (4, 0),
 * p = 5..7 (4, 1), p = 8..12 (3, 1), then fewer at exit 1.
 *   p = 1..3  u4 wrong at exit 1: 5/6, MACs 5*10 + 45 = 95
 *   p = 4     u4 u5 to exit 3: 6/6, MACs 4*10 + 2*45 = 130
 *   p = 5     u4 at exit 2, u5 at 3: 6/6, MACs 40 + 25 + 45 = 110
 *   p = 8     u0..u2 at 1, u4 at 2, u3 u5 at 3: 6/6, MACs 30 + 25 + 90 = 145
 * Budget 1000: p = 5, though p = 4 is as accurate and earlier.
 */
static const struct srow u6_rows[] = {
	{ 0, 0, { 0, 0, 0 }, { .96875f, .9375f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
	{ 0, 0, { 0, 0, 0 }, { .9375f, .5f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
	{ 0, 0, { 0, 0, 0 }, { .875f, .5f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
	{ 0, 0, { 0, 0, 0 }, { .75f, .5f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
	{ 0, 0, { 1, 0, 0 }, { .625f, .875f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
	{ 0, 0, { 1, 1, 0 }, { .5f, .25f, .5f }, { 0 }, { 0 }, { 0 }, { 10, 25, 45 } },
};

START_TEST(budget_tie_goes_to_fewer_macs)
{
	struct ee_trace u;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build(&u, u6_rows, 6, 3, 2, NULL, 0);
	ck_assert_int_eq(ee_budget(&u, &u, EE_POLICY_MAXPROB, 1000, &r, &on_val, &on_test, &err),
			 EE_OK);
	ck_assert_double_eq(on_val.accuracy, 1);
	ck_assert_double_eq_tol(on_val.macs_mean, 110 / 6.0, EPS);
	ck_assert_int_eq(on_val.exits[0], 4);
	ck_assert_int_eq(on_val.exits[1], 1);
	ck_assert_int_eq(on_val.exits[2], 1);
	ck_assert_double_eq(r.thr[0], nextafterf(0.75f, 0));
	ck_assert_double_eq(r.thr[1], nextafterf(0.875f, 0));
	ee_trace_release(&u);
}
END_TEST

/*
 * Shares computed in floating point: 30 samples, 2 exits, p = 4 (q = .2) gives exit 1
 * 30 / 1.2 = 25 exactly, but 30 * .2 / .24 is 24.999999999999996 in double; the 1e-9
 * keeps it 25. Exit 1 (cascade 10) is right for the 25 most confident (maxprob
 * 1 - (i+1)/64), exit 2 (cascade 30) for all: admitting w at exit 1 costs 30 - 2w/3
 * and loses w - 25 samples if w > 25. p = 3 admits 26 (29/30, 12.67), p = 5 admits 24
 * (30/30, 14). Budget 13.5: p = 4, 30/30 at 13.33 (without the 1e-9: p = 3's 29/30).
 */
START_TEST(budget_share_rounding)
{
	struct srow rows[30];
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };
	int i;

	memset(rows, 0, sizeof(rows));
	for (i = 0; i < 30; i++) {
		rows[i].pred[0] = i >= 25;
		rows[i].maxprob[0] = 1 - (i + 1) / 64.0f;
		rows[i].maxprob[1] = 0.5f;
		rows[i].cascade[0] = 10;
		rows[i].cascade[1] = 30;
	}
	build(&t, rows, 30, 2, 2, NULL, 0);
	ck_assert_int_eq(ee_budget(&t, &t, EE_POLICY_MAXPROB, 13.5, &r, &on_val, &on_test, &err),
			 EE_OK);
	ck_assert_int_eq(on_val.exits[0], 25);
	ck_assert_double_eq(on_val.accuracy, 1);
	ck_assert_double_eq_tol(on_val.macs_mean, 40 / 3.0, EPS);
	ee_trace_release(&t);
}
END_TEST

START_TEST(budget_refuses_mismatched_traces)
{
	struct ee_trace val, test, t6;
	struct ee_exit_rule r;
	struct ee_dyn_result on_val, on_test;
	struct ee_err err = { 0 };

	build_pair(&val, &test);
	build_t6(&t6);
	snprintf(val.ckpt_sha256, sizeof(val.ckpt_sha256), "%064d", 1);
	snprintf(test.ckpt_sha256, sizeof(test.ckpt_sha256), "%064d", 2);
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, 20, &r, &on_val, &on_test,
				   &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "the validation and test traces come from different "
			 "checkpoints (sha256 000000000000... and 000000000000...)");
	test.ckpt_sha256[0] = '\0';
	val.ckpt_sha256[0] = '\0';
	ck_assert_int_eq(ee_budget(&val, &t6, EE_POLICY_MAXPROB, 20, &r, &on_val, &on_test,
				   &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "the validation trace has 2 exits and 3 classes, the test trace "
			 "3 and 5");
	val.n = 0;
	ck_assert_int_eq(ee_budget(&val, &test, EE_POLICY_MAXPROB, 20, &r, &on_val, &on_test,
				   &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "the validation trace has no samples");
	val.n = 4;
	ee_trace_release(&val);
	ee_trace_release(&test);
	ee_trace_release(&t6);
}
END_TEST

/* ---------------------------------------------------------------- gates */

/*
 * Layer 0 (4 channels, ring 64 MACs each): open 2 3 1 3 2 2 -> fractions .5 .75 .25 .75
 * .5 .5. Mean 3.25/6 = 13/24. In quarters the deviations from 13/6 are -1 5 -7 5 -1 -1
 * sixths: squares 102/36, variance 102/216 quarters^2 = 17/576, std sqrt(17)/24.
 * Bins (open*10/4): 5 7 2 7 5 5. Channel 0 always open, channel 3 never.
 * By exit (maxprob 0.75: s0 1, s1 2, s4 3, s2 s3 s5 fall back): .5, .75, .5,
 * (.25+.75+.5)/3 = .5. By class (labels 0 1 2 3 0 1): .5, (.75+.5)/2, .25, .75, none.
 */
START_TEST(gate_stats_layer0)
{
	const long hist[EE_GATE_BINS] = { 0, 0, 1, 0, 0, 3, 0, 2, 0, 0 };
	struct ee_trace t;
	struct ee_exit_rule r;
	struct ee_dyn_result res;
	struct ee_gate_stats s;
	struct ee_err err = { 0 };
	int taken[6], b;

	build_t6(&t);
	ee_rule_global(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.75);
	ee_simulate(&t, &r, &res, taken);
	ck_assert_int_eq(ee_gate_stats(&t, 0, taken, &s, &err), EE_OK);
	ck_assert_double_eq_tol(s.mean, 13 / 24.0, EPS);
	ck_assert_double_eq_tol(s.std, sqrt(17) / 24, EPS);
	for (b = 0; b < EE_GATE_BINS; b++)
		ck_assert_int_eq(s.hist[b], hist[b]);
	ck_assert_double_eq(s.by_exit[0], 0.5);
	ck_assert_double_eq(s.by_exit[1], 0.75);
	ck_assert_double_eq(s.by_exit[2], 0.5);
	ck_assert_double_eq(s.by_exit[3], 0.5);
	ck_assert_int_eq(s.by_exit_n[0], 1);
	ck_assert_int_eq(s.by_exit_n[3], 3);
	ck_assert_double_eq(s.by_class[0], 0.5);
	ck_assert_double_eq(s.by_class[1], 0.625);
	ck_assert_double_eq(s.by_class[2], 0.25);
	ck_assert_double_eq(s.by_class[3], 0.75);
	ck_assert(isnan(s.by_class[4]));
	ck_assert_int_eq(s.always_open, 1);
	ck_assert_int_eq(s.always[0], 0);
	ck_assert_int_eq(s.never_open, 1);
	ck_assert_int_eq(s.never[0], 3);
	ck_assert_double_eq(s.ring_macs_never, 64);
	ck_assert_double_eq(s.ring_macs_always, 64);
	ee_gate_stats_release(&s);
	ck_assert_ptr_null(s.by_class);
	ee_trace_release(&t);
}
END_TEST

/*
 * Layer 1 (5 channels, ring 144): open 5 0 4 1 2 2 -> 1 0 .8 .2 .4 .4, mean 14/30. In
 * fifths the deviations from 7/3 are 8 -7 5 -4 -1 -1 thirds: squares 156/9, variance
 * 26/9 fifths^2 = 26/225, std sqrt(26)/15. Bins: 10 (all open) goes to the last bin,
 * 0 8 2 4 4. No channel always (s1 has none) or never (s0 has all) open.
 * Without taken, by_exit stays zero. By class: (1+.4)/2, (0+.4)/2, .8, .2.
 */
START_TEST(gate_stats_layer1)
{
	const long hist[EE_GATE_BINS] = { 1, 0, 1, 0, 2, 0, 0, 0, 1, 1 };
	struct ee_trace t;
	struct ee_gate_stats s;
	struct ee_err err = { 0 };
	int b;

	build_t6(&t);
	ck_assert_int_eq(ee_gate_stats(&t, 1, NULL, &s, &err), EE_OK);
	ck_assert_double_eq_tol(s.mean, 14 / 30.0, EPS);
	ck_assert_double_eq_tol(s.std, sqrt(26) / 15, EPS);
	for (b = 0; b < EE_GATE_BINS; b++)
		ck_assert_int_eq(s.hist[b], hist[b]);
	for (b = 0; b <= EE_MAX_EXITS; b++) {
		ck_assert_double_eq(s.by_exit[b], 0);
		ck_assert_int_eq(s.by_exit_n[b], 0);
	}
	ck_assert_double_eq_tol(s.by_class[0], 0.7, EPS);
	ck_assert_double_eq_tol(s.by_class[1], 0.2, EPS);
	ck_assert_double_eq_tol(s.by_class[2], 0.8, EPS);
	ck_assert_double_eq_tol(s.by_class[3], 0.2, EPS);
	ck_assert_int_eq(s.always_open, 0);
	ck_assert_int_eq(s.never_open, 0);
	ck_assert_double_eq(s.ring_macs_never, 0);
	ck_assert_double_eq(s.ring_macs_always, 0);
	ee_gate_stats_release(&s);
	ee_trace_release(&t);
}
END_TEST

START_TEST(gate_stats_errors)
{
	struct ee_trace t, v;
	struct ee_gate_stats s;
	struct ee_err err = { 0 };

	build_t6(&t);
	ck_assert_int_eq(ee_gate_stats(&t, 2, NULL, &s, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "no EMG layer 2 (the trace has 2)");
	ck_assert_int_eq(ee_gate_stats(&t, -1, NULL, &s, &err), EE_ERR_USAGE);
	ck_assert_ptr_null(s.by_class);
	t.n = 0;
	ck_assert_int_eq(ee_gate_stats(&t, 0, NULL, &s, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "EMG layer 'layer0': 0 samples of 4 channels");
	t.n = 6;
	build(&v, v4_rows, 4, 2, 3, NULL, 0); /* no EMG layers */
	ck_assert_int_eq(ee_gate_stats(&v, 0, NULL, &s, &err), EE_ERR_USAGE);
	ee_trace_release(&t);
	ee_trace_release(&v);
}
END_TEST

/* ---------------------------------------------------------------- suite */

static void add(Suite *s, const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
}

static Suite *analysis_suite(void)
{
	const TTest *const parse[] = { names_round_trip, rule_names, threshold_lists,
				       rule_thresholds, NULL };
	const TTest *const exits[] = { exit_stats, maxprob_each_fallback, taken_per_sample,
				       entropy_each_fallback, margin_each_fallback, patience_pabee,
				       per_exit_vector, threshold_equal_to_confidence, empty_trace,
				       NULL };
	const TTest *const sweep[] = { sweep_grids, sweep_and_within, within_best_not_last, NULL };
	const TTest *const budget[] = { budget_maxprob, budget_tight_and_impossible,
					budget_entropy, budget_share_of_none, budget_patience,
					budget_tie_goes_to_fewer_macs, budget_share_rounding,
					budget_refuses_mismatched_traces, NULL };
	const TTest *const gates[] = { gate_stats_layer0, gate_stats_layer1, gate_stats_errors,
				       NULL };
	Suite *s = suite_create("analysis");

	add(s, "parse", parse);
	add(s, "exits", exits);
	add(s, "sweep", sweep);
	add(s, "budget", budget);
	add(s, "gates", gates);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(analysis_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
