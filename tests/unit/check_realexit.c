/*
 * check_realexit.c - real early exit (plugins/realexit.h) on the EMGNet sample
 * checkpoint and Fashion-MNIST's test split (Debian's dataset-fashion-mnist):
 *
 *  - the dynamic pass agrees with the rule simulated on the all-exits pass, and with
 *    the rule simulated on a trace `eeprof profile` makes of the same samples: same
 *    accuracy, exit counts and mean MACs; the all-exits rows are the profile's rows
 *    (the two fill them with the same code, plugins/rows.h);
 *  - every stage is entered by the samples no earlier exit let go, and the samples
 *    leaving at each exit ran exactly the cascade MACs of that exit;
 *  - thresholds at the edges: all leave at exit 1, or all take the fallback;
 *  - measuring or not changes no decision; without measuring no node is hooked;
 *  - the shards of a job's ranks (plugins/realexit_dist.h) split the run, a rank without
 *    samples included;
 *  - an offset past the end, a missing checkpoint or dataset: statuses, nothing left
 *    to release (make asan checks the leaks).
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/profile.h"
#include "plugins/realexit.h"
#include "testutil.h"

#define SAMPLE "checkpoints/samples/emgnet20-w8-fmnist.h5"
#define DATA "fashion-mnist:test"
#define N 90      /* samples */
#define OFFSET 20 /* the first one */
#define BATCH 16  /* samples per forward: the last batch is partial */

/* Opens the engine on the test samples and runs rule, counted by the fake source. */
static void run_rule(struct ee_realexit *re, struct ee_counters *c,
		     const struct ee_exit_rule *rule, bool measure)
{
	struct ee_realexit_opts o = { .offset = OFFSET, .limit = N, .batch = BATCH, .repeat = 1 };
	struct ee_err err = { 0 };

	ck_assert_msg(ee_realexit_open(re, SAMPLE, DATA, &o, &err) == EE_OK, "%s", err.msg);
	ck_assert_int_eq(re->count, N);
	ck_assert_int_eq(re->e, 3);
	ck_assert_int_eq(re->k, 10);
	ck_assert_msg(ee_counters_open(c, "fake:A,BAD1", &err) == EE_OK, "%s", err.msg);
	ck_assert_msg(ee_realexit_run(re, rule, c, measure, &err) == EE_OK, "%s", err.msg);
}

static void assert_same_result(const struct ee_dyn_result *a, const struct ee_dyn_result *b,
			       int e)
{
	int x;

	ck_assert_double_eq(a->accuracy, b->accuracy);
	ck_assert_double_eq(a->macs_mean, b->macs_mean);
	for (x = 0; x <= e; x++)
		ck_assert_int_eq(a->exits[x], b->exits[x]);
}

START_TEST(agrees_with_simulation_and_profile)
{
	struct ee_profile_opts po = { .batch = BATCH, .offset = OFFSET, .limit = N };
	struct ee_realexit re;
	struct ee_counters c;
	struct ee_exit_rule rule;
	struct ee_dyn_result on_trace;
	struct ee_err err = { 0 };
	struct ee_trace t;
	size_t ne = (size_t)N * 3;
	int x;

	ee_rule_global(&rule, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.9);
	run_rule(&re, &c, &rule, true);
	ck_assert_int_eq(re.agree, N);
	assert_same_result(&re.real, &re.sim, re.e);
	for (x = 0; x < re.e; x++) /* the threshold lets samples go at every exit */
		ck_assert_int_gt(re.real.exits[x], 0);
	ck_assert_double_lt(re.real.macs_mean, re.macs_all);

	ck_assert_msg(ee_profile_run(SAMPLE, DATA, &po, &t, &err) == EE_OK, "%s", err.msg);
	ck_assert_int_eq(t.n, N);
	ee_simulate(&t, &rule, &on_trace, NULL);
	assert_same_result(&re.real, &on_trace, re.e);
	ck_assert_mem_eq(re.full.index, t.index, N * sizeof(*t.index));
	ck_assert_mem_eq(re.full.label, t.label, N * sizeof(*t.label));
	ck_assert_mem_eq(re.full.pred, t.pred, ne * sizeof(*t.pred));
	ck_assert_mem_eq(re.full.maxprob, t.maxprob, ne * sizeof(*t.maxprob));
	ck_assert_mem_eq(re.full.entropy, t.entropy, ne * sizeof(*t.entropy));
	ck_assert_mem_eq(re.full.margin, t.margin, ne * sizeof(*t.margin));
	ck_assert_mem_eq(re.full.macs, t.macs, ne * sizeof(*t.macs));
	ck_assert_mem_eq(re.full.macs_cascade, t.macs_cascade, ne * sizeof(*t.macs_cascade));
	ck_assert_mem_eq(re.full.ens_pred, t.ens_pred, N * sizeof(*t.ens_pred));
	ck_assert_mem_eq(re.full.ens_maxprob, t.ens_maxprob, N * sizeof(*t.ens_maxprob));
	ee_trace_release(&t);
	ee_realexit_release(&re);
	ee_counters_close(&c);
}
END_TEST

START_TEST(stages_entered_and_macs_executed)
{
	struct ee_realexit re;
	struct ee_counters c;
	struct ee_exit_rule rule;
	long left = 0;
	int x, i;

	ee_rule_global(&rule, EE_POLICY_ENTROPY, EE_FALLBACK_ENSEMBLE, 0.4);
	run_rule(&re, &c, &rule, true);
	ck_assert(re.hooked);
	ck_assert_int_eq(c.nevents, 1); /* BAD1 cannot be counted: a warning says so */
	ck_assert_int_ge(c.nwarn, 1);
	ck_assert_ptr_nonnull(strstr(c.warn[0], "BAD1"));
	for (x = 0; x < re.e; x++) {
		long long ch[EE_CH_MAX];
		long entered, all_entered;
		double macs, all_macs;

		ee_counts_stage(&re.dynamic.counts, &re.net.model, x, ch, &macs, &entered);
		ck_assert_int_eq(entered, N - left);
		ee_counts_stage(&re.all.counts, &re.net.model, x, ch, &all_macs, &all_entered);
		ck_assert_int_eq(all_entered, N);
		ck_assert_double_le(macs, all_macs);
		left += re.real.exits[x];
	}
	ck_assert_int_eq(left + re.real.exits[re.e], N);
	for (i = 0; i < N; i++) {
		int k = re.taken[i] < re.e ? re.taken[i] : re.e - 1;

		ck_assert_double_eq(re.macs[i], re.full.macs_cascade[(size_t)i * re.e + k]);
	}
	ee_realexit_release(&re);
	ee_counters_close(&c);
}
END_TEST

START_TEST(thresholds_at_the_edges)
{
	struct ee_realexit re;
	struct ee_counters c;
	struct ee_exit_rule rule;
	double first = 0;
	int i;

	ee_rule_global(&rule, EE_POLICY_MAXPROB, EE_FALLBACK_BEST, 0); /* maxprob > 0: all */
	run_rule(&re, &c, &rule, true);
	ck_assert_int_eq(re.real.exits[0], N);
	for (i = 0; i < N; i++)
		first += re.full.macs_cascade[(size_t)i * re.e];
	ck_assert_double_eq_tol(re.real.macs_mean, first / N, 1e-9 * first / N);
	ck_assert_int_eq(re.agree, N);
	ee_realexit_release(&re);
	ee_counters_close(&c);

	ee_rule_global(&rule, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 1); /* maxprob > 1: none */
	run_rule(&re, &c, &rule, true);
	ck_assert_int_eq(re.real.exits[re.e], N);
	ck_assert_double_eq(re.real.macs_mean, re.macs_all);
	ck_assert_double_eq(re.real.accuracy, re.sim.accuracy);
	ee_realexit_release(&re);
	ee_counters_close(&c);
}
END_TEST

START_TEST(measuring_changes_no_decision)
{
	struct ee_realexit on, off;
	struct ee_counters c_on, c_off;
	struct ee_exit_rule rule;
	double thr[3] = { 0.95, 0.9, 0 };
	struct ee_err err = { 0 };
	long long ch[EE_CH_MAX];
	double macs;
	long entered;

	ee_rule_names(&rule, "margin", "ensemble", &err);
	ck_assert_int_eq(ee_rule_thresholds(&rule, thr, 3, 3, &err), EE_OK);
	run_rule(&on, &c_on, &rule, true);
	run_rule(&off, &c_off, &rule, false);
	ck_assert(on.hooked && !off.hooked);
	assert_same_result(&on.real, &off.real, 3);
	ck_assert_mem_eq(on.taken, off.taken, N * sizeof(*on.taken));
	ck_assert_int_eq(off.agree, N);
	ee_counts_stage(&off.dynamic.counts, &off.net.model, 0, ch, &macs, &entered);
	ck_assert_int_eq(ch[EE_CH_REAL], 0); /* no node timed */
	ck_assert_int_eq(ch[EE_CH_EVENTS], 0);
	ee_realexit_release(&on);
	ee_realexit_release(&off);
	ee_counters_close(&c_on);
	ee_counters_close(&c_off);
}
END_TEST

/* The shards ranks of a job would run (o.rank of o.ranks), run one after the other here:
 * they take the whole selection's samples in order, each leaves exactly where it leaves in
 * the whole run, and their traces carry the identity merging checks; a rank beyond the
 * batches has no sample and still runs. */
START_TEST(shards_of_a_job)
{
	struct ee_realexit whole, part;
	struct ee_counters c;
	struct ee_exit_rule rule;
	struct ee_err err = { 0 };
	int r, at = 0, ranks = 7; /* 6 batches of 16 (the last partial): rank 6 has none */

	ee_rule_global(&rule, EE_POLICY_MAXPROB, EE_FALLBACK_LAST, 0.9);
	run_rule(&whole, &c, &rule, false);
	for (r = 0; r < ranks; r++) {
		struct ee_realexit_opts o = { .offset = OFFSET, .limit = N, .batch = BATCH,
					      .repeat = 1, .rank = r, .ranks = ranks };
		int i;

		ck_assert_msg(ee_realexit_open(&part, SAMPLE, DATA, &o, &err) == EE_OK, "%s",
			      err.msg);
		ck_assert_int_eq(part.first, OFFSET + at);
		ck_assert_int_eq(part.count, r < 5 ? BATCH : r == 5 ? N - 5 * BATCH : 0);
		ck_assert_msg(ee_realexit_run(&part, &rule, &c, false, &err) == EE_OK, "%s",
			      err.msg);
		for (i = 0; i < part.count; i++) {
			ck_assert_int_eq(part.full.index[i], OFFSET + at + i);
			ck_assert_int_eq(part.taken[i], whole.taken[at + i]);
			ck_assert_double_eq(part.macs[i], whole.macs[at + i]);
		}
		ck_assert_int_eq(strlen(part.full.ckpt_sha256), 64);
		ck_assert_str_eq(part.dyn.ckpt_sha256, part.full.ckpt_sha256);
		ck_assert_str_eq(part.full.arch, "emgnet");
		ck_assert_str_eq(part.dyn.data, DATA);
		at += part.count;
		ee_realexit_release(&part);
	}
	ck_assert_int_eq(at, N);
	ee_realexit_release(&whole);
	ee_counters_close(&c);
}
END_TEST

START_TEST(refusals)
{
	struct ee_realexit_opts o = { .offset = 10000, .batch = BATCH, .repeat = 1 };
	struct ee_realexit re;
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_realexit_open(&re, SAMPLE, DATA, &o, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "--offset 10000 selects no samples of 'fashion-mnist:test' "
			 "(10000 samples)");
	o.offset = 0;
	ck_assert_int_eq(ee_realexit_open(&re, "no/such.h5", DATA, &o, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "no/such.h5"));
	ck_assert_int_lt(ee_realexit_open(&re, SAMPLE, "h5:no/such-data.h5", &o, &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "no/such-data.h5"));
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { agrees_with_simulation_and_profile,
				       stages_entered_and_macs_executed, thresholds_at_the_edges,
				       measuring_changes_no_decision, shards_of_a_job, refusals,
				       NULL };
	Suite *s = suite_create("realexit");
	SRunner *sr;
	int failed;

	tu_add_case(s, "realexit", tests, 300);
	sr = srunner_create(s);
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
