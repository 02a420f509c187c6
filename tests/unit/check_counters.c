/*
 * check_counters.c - counters per node and stage, and eeprof's PAPI SDE events.
 *
 * A three-exit network with two EMG layers, made here (stage 1: conv, emg, head 1;
 * stage 2: strided conv, head 2; stage 3: emg, head 3):
 *  - with the fake source (each begin/end pair adds known steps) every node's sums
 *    are its calls times the steps, samples add up per node and stage, and this holds
 *    for every schedule (micro-batches, lanes on two threads, split layers), over
 *    several forwards, and in a dynamic run where samples leave at each exit;
 *  - executed MACs per node add up to the ledger (ee_run_sample_macs at each taken
 *    exit), and gated nodes count only the samples that ran them;
 *  - spec parsing: back-end prefixes, PAPI names with colons, refusals; events that
 *    cannot be counted are warned about once per reason and dropped;
 *  - the papi source on this machine: whatever it can count, the clocks run;
 *  - sde:::eeprof::* read through the ordinary PAPI calls around an inference equal
 *    the run's ledger (MACs, open and evaluated gates, exits taken).
 */
#include <check.h>
#include <math.h>
#include <papi.h>
#include <stdlib.h>
#include <string.h>

#include "core/exec.h"
#include "core/layers.h"
#include "core/threads.h"
#include "plugins/counters.h"
#include "plugins/sde.h"
#include "testutil.h"

#define N 9  /* samples */
#define C 4  /* channels */
#define S 8  /* input side */
#define K 3  /* classes */
#define E 3  /* exits */

struct net {
	struct ee_model m;
	float w1[C * 9], e1[C * 25], e2[C * 25], t1[C], t2[C], mask[25], w2[C * C * 9];
	float fc[E][K * C];
};

static int add(struct net *n, struct ee_layer *l, int in)
{
	struct ee_err err = { 0 };
	int id = ee_model_add(&n->m, l, &in, 1, &err);

	ck_assert_msg(id >= 0, "%s", err.msg);
	return id;
}

static struct ee_emgconv *emg(struct net *n, float *w, float *t, uint64_t seed)
{
	struct ee_emgconv *e = ee_emgconv_new(&n->m.pool, C, 1, 2);
	int c;

	tu_fill(w, C * 25, seed, -0.5f, 0.5f);
	for (c = 0; c < C; c++)
		t[c] = 0.1f + 0.06f * c; /* a spread that opens some gates, not all */
	e->weight = w;
	e->threshold = t;
	e->mask = n->mask;
	return e;
}

/* gap -> fc: the head of exit k, marked as the next exit. */
static void head(struct net *n, int from, int k)
{
	struct ee_err err = { 0 };
	struct ee_linear *fc = ee_linear_new(&n->m.pool, C, K);
	int x = add(n, ee_adaptive_avgpool_new(&n->m.pool, 1, 1), from);

	tu_fill(n->fc[k], K * C, 10 + k, -0.5f, 0.5f);
	fc->weight = n->fc[k];
	ck_assert_int_eq(ee_model_set_exit(&n->m, add(n, &fc->base, x), &err), 0);
}

static void build(struct net *n)
{
	struct ee_err err = { 0 };
	struct ee_conv2d *c1, *c2;
	int x, y, i;

	memset(n, 0, sizeof(*n));
	for (i = 0; i < 25; i++)
		n->mask[i] = i / 5 >= 1 && i / 5 <= 3 && i % 5 >= 1 && i % 5 <= 3;
	ee_model_init(&n->m, (struct ee_shape){ 1, S, S });
	c1 = ee_conv2d_new(&n->m.pool, 1, C, 3, 3, 1, 1, 1);
	tu_fill(n->w1, C * 9, 1, -0.7f, 0.7f);
	c1->weight = n->w1;
	c1->act = EE_ACT_RELU;
	x = add(n, &emg(n, n->e1, n->t1, 2)->base, add(n, &c1->base, EE_NODE_INPUT));
	head(n, x, 0);
	c2 = ee_conv2d_new(&n->m.pool, C, C, 3, 3, 2, 1, 1);
	tu_fill(n->w2, C * C * 9, 3, -0.4f, 0.4f);
	c2->weight = n->w2;
	c2->act = EE_ACT_RELU;
	y = add(n, &c2->base, x);
	head(n, y, 1);
	head(n, add(n, &emg(n, n->e2, n->t2, 4)->base, y), 2);
	ck_assert_msg(ee_model_finish(&n->m, &err) == 0, "%s", err.msg);
	ck_assert_msg(ee_model_prepare(&n->m, &err) == 0, "%s", err.msg);
	ck_assert_int_eq(n->m.ngated, 2);
}

static struct ee_tensor input(void)
{
	static float x[N * S * S];

	tu_fill(x, N * S * S, 42, -1, 1);
	return ee_tensor_dense(x, N, 1, S, S);
}

/* Sample i leaves at exit (i mod 3) + 1 ... as far as exits go. */
static void leave_by_index(void *ctx, int k, const struct ee_tensor *logits, const int *index,
			   int n, uint8_t *leave)
{
	int j;

	(void)ctx;
	(void)logits;
	for (j = 0; j < n; j++)
		leave[j] |= index[j] % 3 == k;
}

static const int schedules[][2] = { { 1, N }, { 1, 1 }, { 2, 1 }, { 2, 2 }, { 2, N } };
#define NSCHED ((int)(sizeof(schedules) / sizeof(schedules[0])))

/* A network, a run of one schedule, a counter set attached to it and sums. */
struct rig {
	struct net n;
	struct ee_run r;
	struct ee_counters c;
	struct ee_counts t;
	struct ee_tensor x;
};

static void start(struct rig *g, int s, const char *spec)
{
	struct ee_err err = { 0 };

	build(&g->n);
	g->x = input();
	ee_threads_set(schedules[s][0]);
	ck_assert_msg(ee_run_init_micro(&g->r, &g->n.m, N, schedules[s][1], false, &err) == 0,
		      "%s", err.msg);
	ck_assert_msg(ee_counters_open(&g->c, spec, &err) == 0, "%s", err.msg);
	ck_assert_msg(ee_counters_attach(&g->c, &g->r, &err) == 0, "%s", err.msg);
	ck_assert_msg(ee_counts_init(&g->t, g->n.m.nnodes, g->c.nch, &err) == 0, "%s", err.msg);
}

static void stop(struct rig *g)
{
	ee_counters_detach(&g->c);
	ck_assert_ptr_null(g->r.hooks);
	ee_counters_close(&g->c);
	ee_counts_release(&g->t);
	ee_run_release(&g->r);
	ee_model_release(&g->n.m);
	ee_threads_set(1);
}

/* Every node's channels are its calls times the fake steps. */
static void check_steps(const struct ee_counts *t)
{
	static const long long step[] = { 1000, 500, 10, 20 };
	int i, ch;

	for (i = 0; i < t->nnodes; i++)
		for (ch = 0; ch < t->nch; ch++)
			ck_assert_msg(t->v[(size_t)i * t->nch + ch] == step[ch] * t->calls[i],
				      "node %d channel %d: %lld for %ld calls", i, ch,
				      t->v[(size_t)i * t->nch + ch], t->calls[i]);
}

START_TEST(fake_sums_per_node_over_lanes_and_batches)
{
	long long st[EE_CH_MAX], all[EE_CH_MAX] = { 0 };
	struct ee_counts *t;
	struct rig g;
	int i, k, ch;

	start(&g, _i, "fake:INS,CYC");
	t = &g.t;
	ck_assert_int_eq(g.c.nch, 4);
	for (i = 0; i < 3; i++) {
		ee_run_forward(&g.r, &g.x);
		ee_counters_collect(&g.c, t);
	}
	check_steps(t);
	for (i = 0; i < t->nnodes; i++) {
		ck_assert_int_eq(t->samples[i], 3 * N);
		ck_assert_int_eq(t->calls[i], t->calls[0]);
	}
	ck_assert_int_ge(t->calls[0], 3 * ((N + schedules[_i][1] - 1) / schedules[_i][1]));
	for (k = 0; k < E; k++) {
		long samples;

		ee_counts_stage(t, &g.n.m, k, st, NULL, &samples);
		ck_assert_int_eq(samples, 3 * N);
		for (ch = 0; ch < t->nch; ch++)
			all[ch] += st[ch];
	}
	for (ch = 0; ch < t->nch; ch++) { /* the stages partition the nodes */
		long long sum = 0;

		for (i = 0; i < t->nnodes; i++)
			sum += t->v[(size_t)i * t->nch + ch];
		ck_assert_int_eq(all[ch], sum);
	}
	ee_counters_collect(&g.c, t); /* lanes were cleared: nothing more */
	check_steps(t);
	ck_assert_int_eq(t->samples[0], 3 * N);
	stop(&g);
}
END_TEST

/* The ledger of r's last forward: executed MACs and open/evaluated gates per sample. */
static double ledger_macs(const struct ee_run *r)
{
	double sum = 0;
	int i;

	for (i = 0; i < r->n; i++)
		sum += ee_run_sample_macs(r, r->taken[i], i, true);
	return sum;
}

static void ledger_gates(const struct ee_run *r, long long *open, long long *total)
{
	const struct ee_model *m = r->m;
	int i, g, c;

	for (i = 0; i < r->n; i++)
		for (g = 0; g < m->ngated; g++) {
			const uint8_t *bits = ee_run_gates(r, g, i);
			int gates = m->nodes[m->gated[g]].cost.gates;

			if (!ee_model_node_in_exit(m, m->gated[g], r->taken[i], true))
				continue;
			for (c = 0; c < gates; c++)
				*open += bits[c];
			*total += gates;
		}
}

START_TEST(fake_sums_in_a_dynamic_run)
{
	const struct ee_model *m;
	struct ee_err err = { 0 };
	double macs = 0, total = 0;
	struct rig g;
	int i, k;

	start(&g, _i, "fake:INS,CYC");
	m = &g.n.m;
	for (i = 0; i < 2; i++) {
		ck_assert_int_eq(ee_run_forward_dynamic(&g.r, &g.x, leave_by_index, NULL, &err), 0);
		ee_counters_collect(&g.c, &g.t);
		ee_counts_add_macs(&g.t, &g.r);
		macs += ledger_macs(&g.r);
	}
	for (i = 0; i < N; i++)
		ck_assert_int_eq(g.r.taken[i], i % 3);
	check_steps(&g.t);
	for (k = 0; k < E; k++) {
		int from = k ? m->stage_end[k - 1] : 0, want = 2 * (N - k * N / 3);
		double stage_macs;
		long samples;

		ee_counts_stage(&g.t, m, k, NULL, &stage_macs, &samples);
		ck_assert_int_eq(samples, want);
		for (i = from; i < m->stage_end[k]; i++)
			ck_assert_int_eq(g.t.samples[i], want);
		total += stage_macs;
	}
	ck_assert_double_eq(total, macs);
	stop(&g);
}
END_TEST

START_TEST(gated_nodes_count_their_own_samples)
{
	struct ee_err err = { 0 };
	struct rig g;
	int q, i, opened = 0;

	start(&g, 0, "none");
	ck_assert_int_eq(g.c.nch, EE_CH_EVENTS);
	ck_assert_int_eq(ee_run_forward_dynamic(&g.r, &g.x, leave_by_index, NULL, &err), 0);
	ee_counts_add_macs(&g.t, &g.r);
	for (q = 0; q < g.n.m.ngated; q++) {
		const struct ee_node *nd = &g.n.m.nodes[g.n.m.gated[q]];
		double want = 0;

		for (i = 0; i < N; i++) {
			int open = g.r.open[(size_t)q * g.r.max_batch + i];

			if (g.r.taken[i] < nd->exit - 1)
				continue;
			want += nd->cost.macs + nd->cost.gate_macs * open;
			opened += open > 0 && open < C;
		}
		ck_assert_double_eq(g.t.macs[g.n.m.gated[q]], want);
	}
	ck_assert_msg(opened > 0, "the thresholds should split some samples' gates");
	stop(&g);
}
END_TEST

START_TEST(specs_and_warnings)
{
	static const char *const bad[] = {
		"A,,B", "A,", ",A", "A,A", "nosuch:A", "1,2,3,4,5,6,7,8,9",
		"fake:xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx",
	};
	struct ee_err err = { 0 };
	struct ee_counters c;
	int i;

	for (i = 0; i < (int)(sizeof(bad) / sizeof(bad[0])); i++) {
		err.code = 0;
		ck_assert_msg(ee_counters_open(&c, bad[i], &err) == EE_ERR_USAGE, "%s", bad[i]);
		ck_assert_msg(err.msg[0], "%s: no message", bad[i]);
		ee_counters_close(&c);
	}
	ck_assert_int_eq(ee_counters_open(&c, "fake:BAD1,INS,BAD2,CYC,BADX", &err), 0);
	ck_assert_str_eq(c.be->name, "fake");
	ck_assert_int_eq(c.nevents, 2);
	ck_assert_int_eq(c.nwarn, 1);
	ck_assert_str_eq(c.warn[0], "BAD1, BAD2, BADX not counted: Event exists but cannot be "
				    "counted here (fake source)");
	ck_assert_int_eq(ee_counters_channel(&c, "CYC"), EE_CH_EVENTS + 1);
	ck_assert_int_eq(ee_counters_channel(&c, "BAD1"), -1);
	ee_counters_close(&c);
	/* a name the source does not know at all is a usage error, not a warning */
	ck_assert_int_eq(ee_counters_open(&c, "fake:INS,NOSUCH_X", &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "unknown event 'NOSUCH_X': Event does not exist (fake source)");
	ee_counters_close(&c);
	ck_assert_int_eq(ee_counters_open(&c, "PAPI_NO_SUCH_PRESET", &err), EE_ERR_USAGE);
	ck_assert_msg(strstr(err.msg, "unknown event 'PAPI_NO_SUCH_PRESET': "), "%s", err.msg);
	ee_counters_close(&c);
	ck_assert_int_eq(ee_counters_open(&c, "sde:::eeprof::samples", &err), 0);
	ck_assert_str_eq(c.be->name, "papi");
	ee_counters_close(&c);
}
END_TEST

/* Whatever this machine can count, the papi source runs and its clocks advance. (An
 * unprefixed name no component knows is a usage error where the CPU component is enabled,
 * and a warning where it is disabled, as on a VM without a PMU: not tested here.) */
START_TEST(papi_source_on_this_machine)
{
	static const char *const names[] = { "perf::TASK-CLOCK", "PAPI_TOT_CYC" };
	long long real = 0, cpu = 0;
	struct rig g;
	int i;

	start(&g, 2, "perf::TASK-CLOCK,PAPI_TOT_CYC");
	for (i = 0; i < 2; i++) { /* each event is counted or named in exactly one warning */
		int w, named = 0;

		for (w = 0; w < g.c.nwarn; w++)
			named += strstr(g.c.warn[w], names[i]) != NULL;
		ck_assert_int_eq(named + (ee_counters_channel(&g.c, names[i]) >= 0), 1);
	}
	ee_run_forward(&g.r, &g.x);
	ee_counters_collect(&g.c, &g.t);
	for (i = 0; i < g.t.nnodes; i++) {
		ck_assert_int_ge(g.t.v[(size_t)i * g.t.nch + EE_CH_REAL], 0);
		ck_assert_int_ge(g.t.v[(size_t)i * g.t.nch + EE_CH_VIRT], 0);
		real += g.t.v[(size_t)i * g.t.nch + EE_CH_REAL];
		cpu += g.t.v[(size_t)i * g.t.nch + EE_CH_VIRT];
	}
	ck_assert_int_gt(real, 0);
	ck_assert_int_ge(cpu, 0);
	stop(&g);
}
END_TEST

static const char *const sde_names[] = {
	"sde:::eeprof::macs_executed", "sde:::eeprof::gates_open", "sde:::eeprof::gates_total",
	"sde:::eeprof::samples",       "sde:::eeprof::exit_1_taken", "sde:::eeprof::exit_2_taken",
	"sde:::eeprof::exit_3_taken",
};
#define NSDE ((int)(sizeof(sde_names) / sizeof(sde_names[0])))

/* PAPI reads eeprof's events around two inferences (a dynamic and a plain forward). */
START_TEST(sde_events_through_papi)
{
	struct ee_tensor x = input();
	struct ee_err err = { 0 };
	long long got[NSDE], want[NSDE] = { 0 };
	struct ee_run r;
	struct net n;
	double macs = 0;
	int set = PAPI_NULL, i, pass;

	ck_assert_int_eq(PAPI_library_init(PAPI_VER_CURRENT), PAPI_VER_CURRENT);
	ck_assert_int_eq(PAPI_create_eventset(&set), PAPI_OK);
	for (i = 0; i < NSDE; i++)
		ck_assert_msg(PAPI_add_named_event(set, sde_names[i]) == PAPI_OK, "%s", sde_names[i]);
	build(&n);
	ck_assert_int_eq(ee_run_init_micro(&r, &n.m, N, 2, false, &err), 0);
	ee_run_forward(&r, &x); /* before PAPI_start: not in the counts */
	ee_sde_record(&r);
	ck_assert_int_eq(PAPI_start(set), PAPI_OK);
	for (pass = 0; pass < 2; pass++) {
		if (pass == 0)
			ck_assert_int_eq(ee_run_forward_dynamic(&r, &x, leave_by_index, NULL, &err), 0);
		else
			ee_run_forward(&r, &x);
		ee_sde_record(&r);
		macs += ledger_macs(&r);
		ledger_gates(&r, &want[1], &want[2]);
		want[3] += N;
		for (i = 0; i < N; i++)
			want[4 + r.taken[i]]++;
	}
	want[0] = llround(macs);
	ck_assert_int_eq(PAPI_stop(set, got), PAPI_OK);
	for (i = 0; i < NSDE; i++)
		ck_assert_msg(got[i] == want[i], "%s: PAPI read %lld, the ledger says %lld",
			      sde_names[i], got[i], want[i]);
	ck_assert_int_eq(want[4], N / 3); /* the dynamic pass: a third leaves at each exit */
	ck_assert_int_eq(want[6], N / 3 + N);
	ck_assert(want[1] > 0 && want[1] < want[2]);
	PAPI_cleanup_eventset(set);
	PAPI_destroy_eventset(&set);
	ee_run_release(&r);
	ee_model_release(&n.m);
}
END_TEST

static Suite *counters_suite(void)
{
	Suite *s = suite_create("counters");
	TCase *tc = tcase_create("counters");

	tcase_add_loop_test(tc, fake_sums_per_node_over_lanes_and_batches, 0, NSCHED);
	tcase_add_loop_test(tc, fake_sums_in_a_dynamic_run, 0, NSCHED);
	tcase_add_test(tc, gated_nodes_count_their_own_samples);
	tcase_add_test(tc, specs_and_warnings);
	tcase_add_test(tc, papi_source_on_this_machine);
	tcase_add_test(tc, sde_events_through_papi);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(counters_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
