/*
 * check_exec.c - the executor and the EMG gated conv, end to end in C.
 *
 * A small two-exit network with an EMG layer (conv -> emg -> gap -> fc for exit 1,
 * a second conv + gap -> fc for exit 2) and weights made here:
 *  - every way of running a batch (micro-batch 1 or the whole batch, one or two
 *    threads, i.e. lanes in parallel or layers split) gives the same logits,
 *    gates and MACs;
 *  - the ring taps of closed gates are never executed: with every threshold
 *    above every |I| the kernel's own tap counter stays 0 and each sample's
 *    MACs equal the minimum; with every threshold far below, every ring runs;
 *  - the per-sample MACs follow the open count of each sample exactly;
 *  - cost regions: exit 1's standalone cost excludes exit 2's layers, cascade
 *    cost of exit 2 includes exit 1's head;
 *  - real early exit: samples that leave at exit 1 (here: even batch indices)
 *    get exactly the logits and MACs of exit 1 of a full run, the others those
 *    of exit 2, whatever the schedule, although the batch was compacted;
 *  - a layer kind written for another layer API (layer.h) is refused by name;
 *  - the thread team (threads.h): every item of a loop runs exactly once, on a
 *    thread index below the loop's thread count; a loop nested in a loop runs on the
 *    calling thread with index 0; ee_team_each reaches every thread once.
 */
#include <check.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/layers.h"
#include "core/model.h"
#include "core/threads.h"
#include "testutil.h"

#define N 7   /* samples */
#define C 6   /* channels */
#define H 9
#define W 11
#define K 5   /* classes */

struct net {
	struct ee_model m;
	float w1[C * 3 * 3 * 3], w5[C * 25], thr[C], mask[25], fc1[K * C], fc2[K * C],
		w2[C * C * 3 * 3], b2[C];
};

static void add(struct net *n, struct ee_layer *l, int in, int *id)
{
	struct ee_err err = { 0 };

	*id = ee_model_add(&n->m, l, &in, 1, &err);
	ck_assert_msg(*id >= 0, "%s", err.msg);
}

/* conv1 -> emg -> {gap -> fc1 (exit 1), conv2 -> gap -> fc2 (exit 2)}; thresholds = t. */
static void build(struct net *n, float t)
{
	struct ee_err err = { 0 };
	struct ee_conv2d *c1, *c2;
	struct ee_emgconv *e;
	struct ee_linear *f1, *f2;
	int x, y, z, i;

	memset(n, 0, sizeof(*n));
	tu_fill(n->w1, sizeof(n->w1) / 4, 1, -0.5f, 0.5f);
	tu_fill(n->w5, sizeof(n->w5) / 4, 2, -0.5f, 0.5f);
	tu_fill(n->fc1, sizeof(n->fc1) / 4, 3, -0.5f, 0.5f);
	tu_fill(n->fc2, sizeof(n->fc2) / 4, 4, -0.5f, 0.5f);
	tu_fill(n->w2, sizeof(n->w2) / 4, 5, -0.3f, 0.3f);
	tu_fill(n->b2, C, 6, -0.1f, 0.1f);
	for (i = 0; i < 25; i++)
		n->mask[i] = i / 5 >= 1 && i / 5 <= 3 && i % 5 >= 1 && i % 5 <= 3;
	for (i = 0; i < C; i++)
		n->thr[i] = isnan(t) ? 0.15f + 0.05f * i : t; /* NAN: a spread that splits samples */
	ee_model_init(&n->m, (struct ee_shape){ 3, H, W });
	c1 = ee_conv2d_new(&n->m.pool, 3, C, 3, 3, 1, 1, 1);
	c1->weight = n->w1;
	c1->act = EE_ACT_RELU;
	add(n, &c1->base, EE_NODE_INPUT, &x);
	e = ee_emgconv_new(&n->m.pool, C, 1, 2);
	e->weight = n->w5;
	e->threshold = n->thr;
	e->mask = n->mask;
	add(n, &e->base, x, &y);
	add(n, ee_adaptive_avgpool_new(&n->m.pool, 1, 1), y, &z);
	f1 = ee_linear_new(&n->m.pool, C, K);
	f1->weight = n->fc1;
	add(n, &f1->base, z, &z);
	ck_assert_int_eq(ee_model_set_exit(&n->m, z, &err), 0);
	c2 = ee_conv2d_new(&n->m.pool, C, C, 3, 3, 2, 1, 1);
	c2->weight = n->w2;
	c2->bias = n->b2;
	add(n, &c2->base, y, &z);
	add(n, ee_adaptive_avgpool_new(&n->m.pool, 1, 1), z, &z);
	f2 = ee_linear_new(&n->m.pool, C, K);
	f2->weight = n->fc2;
	add(n, &f2->base, z, &z);
	ck_assert_int_eq(ee_model_set_exit(&n->m, z, &err), 0);
	ck_assert_msg(ee_model_finish(&n->m, &err) == 0, "%s", err.msg);
	ck_assert_msg(ee_model_prepare(&n->m, &err) == 0, "%s", err.msg);
}

struct outcome {
	float logits[2][N * K];
	double macs[2][N], cascade[2][N];
	uint8_t gates[N * C];
	uint64_t ring_taps;
};

static void run(struct net *n, const float *x, int threads, int micro, struct outcome *o)
{
	struct ee_tensor in = ee_tensor_dense((float *)x, N, 3, H, W);
	struct ee_err err = { 0 };
	struct ee_run r;
	int k, i;

	ee_threads_set(threads);
	ee_parallel_min_work(0); /* split every loop, however small */
	ck_assert_msg(ee_run_init_micro(&r, &n->m, N, micro, false, &err) == 0, "%s", err.msg);
	ee_run_forward(&r, &in);
	for (k = 0; k < 2; k++) {
		memcpy(o->logits[k], ee_run_output(&r, k).data, sizeof(o->logits[k]));
		for (i = 0; i < N; i++) {
			o->macs[k][i] = ee_run_sample_macs(&r, k, i, false);
			o->cascade[k][i] = ee_run_sample_macs(&r, k, i, true);
		}
	}
	memcpy(o->gates, ee_run_gates(&r, 0, 0), sizeof(o->gates));
	o->ring_taps = r.ring_taps;
	ee_run_release(&r);
	ee_threads_set(1);
	ee_parallel_min_work(-1);
}

static float *input(void)
{
	static float x[N * 3 * H * W];

	tu_fill(x, sizeof(x) / 4, 42, -1, 1);
	return x;
}

START_TEST(every_schedule_agrees)
{
	static const int modes[][2] = { { 1, N }, { 1, 1 }, { 2, 1 }, { 2, N }, { 2, 3 } };
	struct outcome ref, got;
	struct net n;
	int i, open = 0;

	build(&n, NAN);
	run(&n, input(), 1, N, &ref);
	for (i = 0; i < N * C; i++)
		open += ref.gates[i];
	ck_assert_msg(open > 0 && open < N * C, "thresholds should split the gates (%d open)", open);
	for (i = 1; i < (int)(sizeof(modes) / sizeof(modes[0])); i++) {
		run(&n, input(), modes[i][0], modes[i][1], &got);
		ck_assert_msg(tu_close("exit 1", got.logits[0], ref.logits[0], N * K, 1e-6, 1e-5) &&
				      tu_close("exit 2", got.logits[1], ref.logits[1], N * K, 1e-6, 1e-5),
			      "threads %d micro %d", modes[i][0], modes[i][1]);
		ck_assert_mem_eq(got.gates, ref.gates, sizeof(ref.gates));
		ck_assert_mem_eq(got.macs, ref.macs, sizeof(ref.macs));
		ck_assert_int_eq(got.ring_taps, ref.ring_taps);
	}
	ee_model_release(&n.m);
}
END_TEST

START_TEST(closed_rings_cost_nothing)
{
	double plane = H * W, centre = 9 * C * plane, conv1 = C * plane * 27;
	struct outcome o;
	struct net n;
	int i;

	build(&n, 1e9f); /* z = mean|I| - t < 0 everywhere: every gate closed */
	run(&n, input(), 2, 1, &o);
	ck_assert_int_eq(o.ring_taps, 0);
	for (i = 0; i < N * C; i++)
		ck_assert_int_eq(o.gates[i], 0);
	for (i = 0; i < N; i++)
		ck_assert_double_eq(o.macs[0][i], conv1 + centre + C * K);
	ee_model_release(&n.m);

	build(&n, -1e9f); /* every gate open */
	run(&n, input(), 2, 1, &o);
	ck_assert_int_eq(o.ring_taps, (uint64_t)N * C * 16 * H * W);
	for (i = 0; i < N; i++)
		ck_assert_double_eq(o.macs[0][i], conv1 + centre + 16 * C * plane + C * K);
	ee_model_release(&n.m);
}
END_TEST

START_TEST(macs_follow_each_samples_gates)
{
	double plane = H * W, base = C * plane * 27 + 9 * C * plane;
	double conv2 = C * 5 * 6 * C * 9.0; /* stride 2: 9x11 -> 5x6 */
	struct outcome o;
	struct net n;
	int i, c;

	build(&n, NAN);
	run(&n, input(), 1, N, &o);
	for (i = 0; i < N; i++) {
		int open = 0;

		for (c = 0; c < C; c++)
			open += o.gates[i * C + c];
		ck_assert_double_eq(o.macs[0][i], base + 16 * plane * open + C * K);
		/* exit 2 standalone: backbone + conv2 + fc2; cascade adds fc1 */
		ck_assert_double_eq(o.macs[1][i], base + 16 * plane * open + conv2 + C * K);
		ck_assert_double_eq(o.cascade[1][i], o.macs[1][i] + C * K);
		ck_assert_double_eq(o.cascade[0][i], o.macs[0][i]);
	}
	ck_assert_double_eq(ee_model_exit_macs(&n.m, 0, false, 0), base + C * K);
	ck_assert_double_eq(ee_model_exit_macs(&n.m, 0, false, 1), base + 16 * plane * C + C * K);
	ee_model_release(&n.m);
}
END_TEST

/* Even batch indices leave at exit 1. */
static void leave_even(void *ctx, int k, const struct ee_tensor *logits, const int *index, int n,
		       uint8_t *leave)
{
	int j;

	(void)ctx;
	ck_assert_int_eq(logits->n, n);
	for (j = 0; j < n; j++)
		if (k == 0)
			leave[j] = index[j] % 2 == 0;
}

START_TEST(dynamic_exit_matches_full_run)
{
	static const int modes[][2] = { { 1, N }, { 1, 2 }, { 2, 1 }, { 2, N } };
	struct ee_tensor in = ee_tensor_dense(input(), N, 3, H, W);
	struct ee_err err = { 0 };
	struct outcome full;
	struct ee_run r;
	struct net n;
	int m, i;

	build(&n, NAN);
	run(&n, input(), 1, N, &full);
	for (m = 0; m < (int)(sizeof(modes) / sizeof(modes[0])); m++) {
		ee_threads_set(modes[m][0]);
		ck_assert_int_eq(ee_run_init_micro(&r, &n.m, N, modes[m][1], false, &err), 0);
		ck_assert_int_eq(ee_run_forward_dynamic(&r, &in, leave_even, NULL, &err), 0);
		for (i = 0; i < N; i++) {
			int k = i % 2 == 0 ? 0 : 1;

			ck_assert_int_eq(r.taken[i], k);
			ck_assert(tu_close("taken exit", ee_run_output(&r, k).data + i * K,
					   full.logits[k] + i * K, K, 1e-6, 1e-5));
			ck_assert_double_eq(ee_run_sample_macs(&r, k, i, true), full.cascade[k][i]);
		}
		ee_run_release(&r);
	}
	ee_threads_set(1);
	ee_model_release(&n.m);
}
END_TEST

/* Sizes of the exit-2 calls of a dynamic run (leave_even's decisions). */
struct late_calls {
	int n[N];
	int calls;
};

static void leave_even_note(void *ctx, int k, const struct ee_tensor *logits, const int *index,
			    int n, uint8_t *leave)
{
	struct late_calls *lc = ctx;

	leave_even(NULL, k, logits, index, n, leave);
	if (k == 1)
		lc->n[lc->calls++] = n;
}

/* One thread, micro-batches of 2: the 3 odd samples that pass exit 1 come from different
 * micro-batches, and stage 2 runs them gathered (2 + 1), not one call per micro-batch. */
START_TEST(dynamic_gathers_survivors_across_micro_batches)
{
	struct ee_tensor in = ee_tensor_dense(input(), N, 3, H, W);
	struct ee_err err = { 0 };
	struct late_calls lc = { { 0 }, 0 };
	struct ee_run r;
	struct net n;

	build(&n, NAN);
	ee_threads_set(1);
	ck_assert_int_eq(ee_run_init_micro(&r, &n.m, N, 2, false, &err), 0);
	ck_assert_int_eq(ee_run_forward_dynamic(&r, &in, leave_even_note, &lc, &err), 0);
	ck_assert_int_eq(lc.calls, 2);
	ck_assert_int_eq(lc.n[0], 2);
	ck_assert_int_eq(lc.n[1], 1);
	ee_run_release(&r);
	ee_model_release(&n.m);
}
END_TEST

START_TEST(other_layer_api_refused)
{
	struct ee_err err = { 0 };
	struct ee_model m;
	struct ee_layer *l;
	struct ee_layer_ops ops;
	int in = EE_NODE_INPUT;

	ee_model_init(&m, (struct ee_shape){ 3, H, W });
	l = ee_adaptive_avgpool_new(&m.pool, 1, 1);
	l->name = "gap";
	ops = *l->ops;
	ops.api_version = EE_LAYER_API + 1;
	l->ops = &ops;
	ck_assert_int_eq(ee_model_add(&m, l, &in, 1, &err), EE_ERR_INTERNAL);
	ck_assert_msg(strstr(err.msg, "'gap'") && strstr(err.msg, "layer API"), "%s", err.msg);
	ops.api_version = EE_LAYER_API;
	ck_assert_int_eq(ee_model_add(&m, l, &in, 1, &err), 0);
	ee_model_release(&m);
}
END_TEST

#define ITEMS 5000

struct team_probe {
	int hits[ITEMS];   /* times each item ran */
	int tid_bad;       /* items run with a thread index out of range */
	int nested_bad;    /* nested loops not run on the calling thread with index 0 */
	int each[4];       /* ee_team_each calls per thread */
	int threads;
};

static void nested_range(void *ctx, long lo, long hi, int tid)
{
	struct team_probe *p = ctx;

	if (lo != 0 || hi != 3 || tid != 0 || ee_in_parallel() != (p->threads > 1))
		__atomic_fetch_add(&p->nested_bad, 1, __ATOMIC_RELAXED);
}

static void probe_range(void *ctx, long lo, long hi, int tid)
{
	struct team_probe *p = ctx;
	long i;

	if (tid < 0 || tid >= p->threads || tid != ee_thread_id())
		__atomic_fetch_add(&p->tid_bad, 1, __ATOMIC_RELAXED);
	for (i = lo; i < hi; i++)
		__atomic_fetch_add(&p->hits[i], 1, __ATOMIC_RELAXED);
	ee_parallel_for(p->threads, 3, 1e12, nested_range, p);
}

static void probe_each(void *ctx, int tid)
{
	struct team_probe *p = ctx;

	__atomic_fetch_add(&p->each[tid], 1, __ATOMIC_RELAXED);
}

START_TEST(team_runs_every_item_once)
{
	static struct team_probe p;
	int round, i, t;

	for (t = 1; t <= 3; t++) {
		memset(&p, 0, sizeof(p));
		p.threads = t;
		ee_threads_set(t);
		ee_parallel_min_work(0);
		for (round = 0; round < 50; round++)
			ee_parallel_for(t, ITEMS, 1e12, probe_range, &p);
		ee_team_each(t, probe_each, &p);
		for (i = 0; i < ITEMS; i++)
			ck_assert_msg(p.hits[i] == 50, "threads %d: item %d ran %d times in 50 loops", t,
				      i, p.hits[i]);
		ck_assert_int_eq(p.tid_bad, 0);
		ck_assert_int_eq(p.nested_bad, 0);
		for (i = 0; i < 4; i++)
			ck_assert_int_eq(p.each[i], i < t);
		ck_assert(!ee_in_parallel());
	}
	ee_threads_set(1);
	ee_parallel_min_work(-1);
}
END_TEST

/* Back-to-back loops of a few items: a helper still claiming in the last loop while the
 * next one is published must not run (or count) a range of the new one. Before the fix
 * in publish() one of the first few thousand loops lost its count and the caller slept
 * forever (the test's timeout) or an item ran twice. */
START_TEST(team_survives_back_to_back_small_loops)
{
	static struct team_probe p;
	int round, i, n;

	ee_threads_set(2);
	ee_parallel_min_work(0);
	p.threads = 2;
	for (round = 0; round < 200000; round++) {
		n = 2 + round % 5;
		memset(p.hits, 0, sizeof(int) * (size_t)n);
		ee_parallel_for(2, n, 1e12, probe_range, &p);
		for (i = 0; i < n; i++)
			if (p.hits[i] != 1)
				ck_abort_msg("loop %d of %d items: item %d ran %d times", round, n, i,
					     p.hits[i]);
	}
	ck_assert_int_eq(p.tid_bad, 0);
	ee_threads_set(1);
	ee_parallel_min_work(-1);
}
END_TEST

static Suite *exec_suite(void)
{
	Suite *s = suite_create("exec");
	TCase *tc = tcase_create("exec");

	tcase_add_test(tc, every_schedule_agrees);
	tcase_add_test(tc, closed_rings_cost_nothing);
	tcase_add_test(tc, macs_follow_each_samples_gates);
	tcase_add_test(tc, dynamic_exit_matches_full_run);
	tcase_add_test(tc, dynamic_gathers_survivors_across_micro_batches);
	tcase_add_test(tc, other_layer_api_refused);
	tcase_add_test(tc, team_runs_every_item_once);
	tcase_add_test(tc, team_survives_back_to_back_small_loops);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(exec_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
