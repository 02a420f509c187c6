/*
 * check_trace.c - traces (write, read, merge, refusals), softmax statistics and SHA-256.
 *
 * Traces are filled by hand: every per-sample value is a function of the dataset
 * index (row_values), so a shard holds exactly the rows of the whole trace with
 * the same indices, and a merge of shards can be compared with the whole field by
 * field. Timed layers are counted (two events and a warning, as profile --counters
 * leaves them) unless a test says otherwise. Bad files are made from a good one with
 * the HDF5 API, one defect each.
 */
#define _XOPEN_SOURCE 700 /* nftw */
#include <check.h>
#include <ftw.h>
#include <hdf5.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/sha256.h"
#include "plugins/profile.h"
#include "plugins/rows.h"
#include "reports/trace.h"
#include "tests/unit/testutil.h"

#define E 3
#define K 4
#define G 2
#define L 3
#define DATASET 10
#define SHA_A "1111111111111111111111111111111111111111111111111111111111111111"
#define SHA_B "2222222222222222222222222222222222222222222222222222222222222222"
#define C 2 /* counted events */
#define NO_PMU "PAPI_TOT_CYC not counted: Component containing event is disabled"

static const int channels[G] = { 3, 5 };

static const char *tpath(const char *name)
{
	static char buf[8][512];
	static int next;
	char *p = buf[next++ % 8];

	snprintf(p, sizeof(buf[0]), "%s/%s", tu_tmpdir(), name);
	return p;
}

/* Everything in row `row` of t as a function of the dataset index idx. */
static void row_values(struct ee_trace *t, int row, int idx)
{
	int x, c, g;

	t->index[row] = idx;
	t->label[row] = idx % K;
	for (x = 0; x < t->nexits; x++) {
		size_t at = (size_t)row * t->nexits + x;
		float top = 0.5f + 0.05f * x + 0.01f * idx;

		t->pred[at] = (idx + x) % K;
		t->maxprob[at] = top;
		t->entropy[at] = 0.1f * (idx + 1);
		t->margin[at] = top - (1 - top) / (K - 1);
		t->macs[at] = 1000.0 * (x + 1) + idx;
		t->macs_cascade[at] = t->macs[at] + 10 * x;
		for (c = 0; t->softmax && c < K; c++)
			t->softmax[at * K + c] = c == t->pred[at] ? top : (1 - top) / (K - 1);
	}
	t->ens_pred[row] = (idx + 1) % K;
	t->ens_maxprob[row] = 0.4f + 0.01f * idx;
	for (g = 0; g < t->ngated; g++) {
		int open = 0;

		for (c = 0; c < channels[g]; c++)
			open += t->bits[g][(size_t)row * channels[g] + c] = (idx + c + g) % 3 == 0;
		t->open[(size_t)row * t->ngated + g] = open;
	}
}

/* Counts c of events named PAPI_TOT_INS, PAPI_L1_DCM... (or none) for t's layers, with the
 * warning w (or none). */
static void count_layers(struct ee_trace *t, int c, const char *w)
{
	static const char *const names[C] = { "PAPI_TOT_INS", "PAPI_L1_DCM" };
	struct ee_err err = { 0 };
	int i, k;

	ee_trace_counters_release(&t->counters);
	ck_assert_int_eq(ee_trace_counters_alloc(&t->counters, t->nlayers, c, w ? 1 : 0, &err),
			 EE_OK);
	for (k = 0; k < c; k++)
		t->counters.names[k] = strdup(names[k]);
	if (w)
		t->counters.warn[0] = strdup(w);
	for (i = 0; i < t->nlayers; i++) {
		t->layers[i].cpu_seconds = 0.25 / (i + 1);
		for (k = 0; k < c; k++)
			t->counters.values[i * c + k] = 1e12 * (i + 1) + k;
	}
}

static void header_values(struct ee_trace *t, const char *sha)
{
	static const char *const names[L] = { "conv1", "layer1.0.conv2", "fc3" };
	static const char *const kinds[L] = { "conv2d+bn1+relu", "emgconv+bn2", "linear" };
	int i, x;

	snprintf(t->checkpoint, sizeof(t->checkpoint), "model.h5");
	snprintf(t->ckpt_sha256, sizeof(t->ckpt_sha256), "%s", sha);
	snprintf(t->arch, sizeof(t->arch), "emgnet");
	snprintf(t->data, sizeof(t->data), "h5:data.h5");
	t->dataset_size = DATASET;
	for (i = 0; i < 4; i++)
		for (x = 0; x < t->nexits; x++)
			t->exit_macs[i][x] = 100.0 * (i + 1) + x;
	for (i = 0; i < t->ngated; i++) {
		char name[32];

		snprintf(name, sizeof(name), "layer%d.0.conv2", i + 1);
		t->gated[i].name = strdup(name);
		t->gated[i].exit = i + 1;
		t->gated[i].ring_macs = 16.0 * 64 * (i + 1);
	}
	for (i = 0; i < t->nlayers; i++) {
		t->layers[i].name = strdup(names[i]);
		t->layers[i].kind = strdup(kinds[i]);
		t->layers[i].exit = i + 1;
		t->layers[i].head = i == L - 1;
		t->layers[i].seconds = 0.5 / (i + 1);
		t->layers[i].macs = 10.0 * (i + 1);
	}
	t->seconds = 1.5;
	t->threads = 2;
	t->batch = 3;
	if (t->nlayers)
		count_layers(t, C, NO_PMU);
}

/* A trace of the samples idx[0..n) (any order), E exits unless nexits says otherwise. */
static void make(struct ee_trace *t, const int *idx, int n, int nexits, bool softmax,
		 const char *sha)
{
	struct ee_err err = { 0 };
	int i;

	ck_assert_int_eq(ee_trace_alloc(t, n, nexits, K, softmax, G, channels, L, &err), EE_OK);
	header_values(t, sha);
	for (i = 0; i < n; i++)
		row_values(t, i, idx[i]);
}

static void make_range(struct ee_trace *t, int first, int n)
{
	int idx[DATASET], i;

	for (i = 0; i < n; i++)
		idx[i] = first + i;
	make(t, idx, n, E, true, SHA_A);
}

#define SAME(a, b, field, count) \
	ck_assert_msg(!memcmp((a)->field, (b)->field, (size_t)(count) * sizeof(*(a)->field)), \
		      "field " #field " differs")

/* Every per-sample array, identity field and table equal. */
static void same_samples(const struct ee_trace *a, const struct ee_trace *b)
{
	size_t n = (size_t)a->n, ne = n * a->nexits;
	int g;

	ck_assert_int_eq(a->n, b->n);
	ck_assert_int_eq(a->nexits, b->nexits);
	ck_assert_int_eq(a->num_classes, b->num_classes);
	ck_assert_int_eq(a->ngated, b->ngated);
	ck_assert_str_eq(a->checkpoint, b->checkpoint);
	ck_assert_str_eq(a->ckpt_sha256, b->ckpt_sha256);
	ck_assert_str_eq(a->arch, b->arch);
	ck_assert_str_eq(a->data, b->data);
	ck_assert_int_eq(a->dataset_size, b->dataset_size);
	ck_assert(!memcmp(a->exit_macs, b->exit_macs, sizeof(a->exit_macs)));
	SAME(a, b, index, n);
	SAME(a, b, label, n);
	SAME(a, b, pred, ne);
	SAME(a, b, maxprob, ne);
	SAME(a, b, entropy, ne);
	SAME(a, b, margin, ne);
	ck_assert_int_eq(!a->softmax, !b->softmax);
	if (a->softmax)
		SAME(a, b, softmax, ne * a->num_classes);
	SAME(a, b, ens_pred, n);
	SAME(a, b, ens_maxprob, n);
	SAME(a, b, macs, ne);
	SAME(a, b, macs_cascade, ne);
	SAME(a, b, open, n * a->ngated);
	for (g = 0; g < a->ngated; g++) {
		ck_assert_str_eq(a->gated[g].name, b->gated[g].name);
		ck_assert_int_eq(a->gated[g].channels, b->gated[g].channels);
		ck_assert_int_eq(a->gated[g].exit, b->gated[g].exit);
		ck_assert(a->gated[g].ring_macs == b->gated[g].ring_macs);
		ck_assert(!memcmp(a->bits[g], b->bits[g], n * a->gated[g].channels));
	}
}

/* Counted events, warnings and counts equal, counts and CPU time scaled by `times`. */
static void same_counters(const struct ee_trace *a, const struct ee_trace *b, double times)
{
	const struct ee_trace_counters *x = &a->counters, *y = &b->counters;
	int i, k;

	ck_assert_int_eq(x->counted, y->counted);
	ck_assert_int_eq(x->n, y->n);
	ck_assert_int_eq(x->nwarn, y->nwarn);
	for (k = 0; k < x->n; k++)
		ck_assert_str_eq(x->names[k], y->names[k]);
	for (k = 0; k < x->nwarn; k++)
		ck_assert_str_eq(x->warn[k], y->warn[k]);
	for (i = 0; i < a->nlayers; i++) {
		ck_assert(b->layers[i].cpu_seconds == a->layers[i].cpu_seconds * times);
		for (k = 0; k < x->n; k++)
			ck_assert(y->values[i * x->n + k] == x->values[i * x->n + k] * times);
	}
}

/* Layer tables equal, with seconds scaled by `times` (a merge sums them). */
static void same_timing(const struct ee_trace *a, const struct ee_trace *b, double times)
{
	int i;

	ck_assert_int_eq(a->nlayers, b->nlayers);
	ck_assert(b->seconds == a->seconds * times);
	ck_assert_int_eq(a->threads, b->threads);
	ck_assert_int_eq(a->batch, b->batch);
	for (i = 0; i < a->nlayers; i++) {
		ck_assert_str_eq(a->layers[i].name, b->layers[i].name);
		ck_assert_str_eq(a->layers[i].kind, b->layers[i].kind);
		ck_assert_int_eq(a->layers[i].exit, b->layers[i].exit);
		ck_assert_int_eq(a->layers[i].head, b->layers[i].head);
		ck_assert(b->layers[i].seconds == a->layers[i].seconds * times);
		ck_assert(fabs(b->layers[i].macs - a->layers[i].macs) < 1e-9);
	}
	same_counters(a, b, times);
}

static bool exists(const char *path)
{
	return access(path, F_OK) == 0;
}

/* ---- write and read --------------------------------------------------------- */

START_TEST(round_trip)
{
	struct ee_trace t, back;
	struct ee_err err = { 0 };
	const char *p = tpath("round.h5");

	make_range(&t, 2, 5);
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&back, p, &err), EE_OK);
	same_samples(&t, &back);
	same_timing(&t, &back, 1);
	ee_trace_release(&back);
	ee_trace_release(&t);
}
END_TEST

START_TEST(round_trip_without_softmax_gates_layers)
{
	struct ee_trace t, back;
	struct ee_err err = { 0 };
	const char *p = tpath("plain.h5");
	int i;

	ck_assert_int_eq(ee_trace_alloc(&t, 4, 1, 2, false, 0, NULL, 0, &err), EE_OK);
	header_values(&t, SHA_B);
	for (i = 0; i < 4; i++) {
		t.index[i] = 3 * i;
		t.label[i] = t.pred[i] = t.ens_pred[i] = i % 2;
		t.maxprob[i] = t.ens_maxprob[i] = 0.75f;
		t.margin[i] = 0.5f;
		t.entropy[i] = 0.5623351f;
		t.macs[i] = t.macs_cascade[i] = 1e9;
	}
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&back, p, &err), EE_OK);
	same_samples(&t, &back);
	same_timing(&t, &back, 1);
	ck_assert_ptr_null(back.softmax);
	ee_trace_release(&back);
	ee_trace_release(&t);
}
END_TEST

START_TEST(write_refuses_malformed_trace)
{
	struct ee_trace t;
	struct ee_err err = { 0 };
	const char *p = tpath("malformed.h5");

	make_range(&t, 0, 3);
	t.label[1] = K;
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "'/label' holds 4 in row 1"), "%s", err.msg);
	ck_assert(!exists(p));
	t.label[1] = 0;
	t.index[2] = t.index[1];
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "not increasing"), "%s", err.msg);
	t.index[2] = 2;
	t.bits[1][0] ^= 1;
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "/gates/open"), "%s", err.msg);
	t.bits[1][0] ^= 1;
	t.counters.values[C + 1] = NAN;
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "'/timing/layer_counters' holds nan in row 1"), "%s", err.msg);
	t.counters.values[C + 1] = 0;
	free(t.counters.names[1]);
	t.counters.names[1] = strdup("");
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "counter 1 has an empty name"), "%s", err.msg);
	count_layers(&t, C, NO_PMU);
	ck_assert(!exists(p));
	ck_assert_int_eq(ee_trace_write(&t, tpath("nodir/x.h5"), &err), EE_ERR_IO);
	ck_assert(!exists(tpath("nodir")));
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	ee_trace_release(&t);
}
END_TEST

/* profile --counters none: CPU time only, no events, no warnings (empty datasets). */
START_TEST(round_trip_counted_without_events)
{
	struct ee_trace t, back;
	struct ee_err err = { 0 };
	const char *p = tpath("none.h5");

	make_range(&t, 0, 4);
	count_layers(&t, 0, NULL);
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&back, p, &err), EE_OK);
	same_samples(&t, &back);
	same_timing(&t, &back, 1);
	ck_assert(back.counters.counted && back.counters.n == 0 && back.counters.nwarn == 0);
	ee_trace_release(&back);
	ee_trace_release(&t);
}
END_TEST

static bool has_dataset(const char *path, const char *name)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDONLY, H5P_DEFAULT);
	bool yes = H5Lexists(f, "timing", H5P_DEFAULT) > 0 && H5Lexists(f, name, H5P_DEFAULT) > 0;

	H5Fclose(f);
	return yes;
}

static void unlink_dataset(const char *path, const char *name);

static const char *const counter_sets[] = { "timing/counter_names", "timing/counter_warnings",
					    "timing/layer_cpu_seconds", "timing/layer_counters" };

/* Traces of older eeprofs (and of profile --counters off) have no counter datasets: they
 * read as not counted, everything else as before, and are written back without them. */
START_TEST(trace_without_counters_reads)
{
	const char *p = tpath("old.h5"), *q = tpath("old2.h5");
	struct ee_trace t, back, again;
	struct ee_err err = { 0 };
	size_t i;

	make_range(&t, 0, 5);
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	for (i = 0; i < sizeof(counter_sets) / sizeof(counter_sets[0]); i++) {
		ck_assert(has_dataset(p, counter_sets[i]));
		unlink_dataset(p, counter_sets[i]);
	}
	ck_assert_msg(ee_trace_read(&back, p, &err) == EE_OK, "%s", err.msg);
	same_samples(&t, &back);
	ck_assert(!back.counters.counted && back.counters.n == 0 && !back.counters.names);
	ck_assert(back.layers[1].seconds == t.layers[1].seconds && back.layers[1].cpu_seconds == 0);
	ck_assert_int_eq(ee_trace_write(&back, q, &err), EE_OK);
	ck_assert(!has_dataset(q, "timing/layer_cpu_seconds") && has_dataset(q, "timing/layer_seconds"));
	ck_assert_int_eq(ee_trace_read(&again, q, &err), EE_OK);
	same_timing(&back, &again, 1);
	ee_trace_release(&again);
	ee_trace_release(&back);
	ee_trace_release(&t);
}
END_TEST

/* ---- merge ------------------------------------------------------------------ */

/* The in-memory image (what MPI ranks send) reads back as the file does, ranks included;
 * damaged bytes are refused, not crashed on. */
START_TEST(bytes_round_trip_and_ranks)
{
	static const double secs[3] = { 1.5, 2.25, 0 };
	struct ee_trace t, back, f;
	struct ee_err err = { 0 };
	const char *p = tpath("ranks.h5");
	size_t len;
	void *buf;

	make_range(&t, 2, 5);
	ck_assert_int_eq(ee_trace_set_ranks(&t, 3, secs, &err), EE_OK);
	ck_assert_int_eq(ee_trace_to_bytes(&t, &buf, &len, &err), EE_OK);
	ck_assert_uint_gt(len, 8);
	ck_assert_int_eq(ee_trace_from_bytes(&back, buf, len, "rank 1", &err), EE_OK);
	same_samples(&t, &back);
	same_timing(&t, &back, 1);
	ck_assert_int_eq(back.ranks, 3);
	ck_assert(!memcmp(back.rank_seconds, secs, sizeof(secs)));
	ck_assert_int_eq(ee_trace_write(&t, p, &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&f, p, &err), EE_OK);
	ck_assert_int_eq(f.ranks, 3);
	ck_assert(!memcmp(f.rank_seconds, secs, sizeof(secs)));
	ee_trace_release(&f);
	ee_trace_release(&back);
	memset((char *)buf + len / 2, 0xff, len / 2);
	ck_assert_int_lt(ee_trace_from_bytes(&back, buf, len, "rank 2", &err), 0);
	ck_assert_ptr_nonnull(strstr(err.msg, "rank 2"));
	ck_assert_int_lt(ee_trace_from_bytes(&back, buf, 3, "rank 2", &err), 0);
	free(buf);
	ee_trace_release(&t);
}
END_TEST

/* Merged traces keep the ranks of their inputs in order; none if an input has none. */
START_TEST(merge_ranks)
{
	static const int lo[] = { 0, 1 }, hi[] = { 2, 3 };
	static const double sa[1] = { 4 }, sb[2] = { 5, 6 };
	struct ee_trace a, b, m;
	const struct ee_trace *in[2] = { &b, &a };
	struct ee_err err = { 0 };

	make(&a, lo, 2, E, true, SHA_A);
	make(&b, hi, 2, E, true, SHA_A);
	ck_assert_int_eq(ee_trace_set_ranks(&a, 1, sa, &err), EE_OK);
	ck_assert_int_eq(ee_trace_merge(&m, in, 2, &err), EE_OK);
	ck_assert_int_eq(m.ranks, 0);
	ee_trace_release(&m);
	ck_assert_int_eq(ee_trace_set_ranks(&b, 2, sb, &err), EE_OK);
	ck_assert_int_eq(ee_trace_merge(&m, in, 2, &err), EE_OK);
	ck_assert_int_eq(m.ranks, 3);
	ck_assert(m.rank_seconds[0] == 5 && m.rank_seconds[1] == 6 && m.rank_seconds[2] == 4);
	ee_trace_release(&m);
	ee_trace_release(&a);
	ee_trace_release(&b);
}
END_TEST

START_TEST(merge_shards)
{
	static const int odd[] = { 1, 3, 5, 7 }, even[] = { 0, 2, 4, 6 };
	struct ee_trace whole, a, b, m, back;
	const struct ee_trace *in[2] = { &a, &b };
	struct ee_err err = { 0 };

	make_range(&whole, 0, 8);
	make(&a, odd, 4, E, true, SHA_A);
	make(&b, even, 4, E, true, SHA_A);
	ck_assert_int_eq(ee_trace_merge(&m, in, 2, &err), EE_OK);
	same_samples(&whole, &m);
	same_timing(&whole, &m, 2);
	ck_assert_int_eq(ee_trace_write(&m, tpath("merged.h5"), &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&back, tpath("merged.h5"), &err), EE_OK);
	same_samples(&whole, &back);
	ee_trace_release(&back);
	ee_trace_release(&m);
	ee_trace_release(&a);
	ee_trace_release(&b);
	ee_trace_release(&whole);
}
END_TEST

/* Counts and CPU time summed; each warning once, in the order first seen. */
START_TEST(merge_counters_and_warnings)
{
	static const int odd[] = { 1, 3 }, even[] = { 0, 2 }, rest[] = { 4 };
	struct ee_trace a, b, c, m, back;
	const struct ee_trace *in[3] = { &a, &b, &c };
	struct ee_err err = { 0 };

	make(&a, odd, 2, E, true, SHA_A);
	make(&b, even, 2, E, true, SHA_A);
	make(&c, rest, 1, E, true, SHA_A);
	count_layers(&b, C, "BAD_X not counted: Event does not exist");
	ck_assert_int_eq(ee_trace_merge(&m, in, 3, &err), EE_OK);
	ck_assert_int_eq(m.counters.nwarn, 2);
	ck_assert_str_eq(m.counters.warn[0], NO_PMU);
	ck_assert_str_eq(m.counters.warn[1], "BAD_X not counted: Event does not exist");
	ck_assert(m.counters.values[2 * C + 1] == 3 * (3e12 + 1));
	ck_assert(m.layers[2].cpu_seconds == 3 * (0.25 / 3));
	ck_assert_int_eq(ee_trace_write(&m, tpath("merged3.h5"), &err), EE_OK);
	ck_assert_int_eq(ee_trace_read(&back, tpath("merged3.h5"), &err), EE_OK);
	same_timing(&m, &back, 1);
	ee_trace_release(&back);
	ee_trace_release(&m);
	ee_trace_release(&a);
	ee_trace_release(&b);
	ee_trace_release(&c);
}
END_TEST

START_TEST(merge_of_one_is_a_copy)
{
	struct ee_trace a, m;
	const struct ee_trace *in[1] = { &a };
	struct ee_err err = { 0 };

	make_range(&a, 3, 4);
	ck_assert_int_eq(ee_trace_merge(&m, in, 1, &err), EE_OK);
	same_samples(&a, &m);
	same_timing(&a, &m, 1);
	ee_trace_release(&m);
	ee_trace_release(&a);
	ck_assert_int_eq(ee_trace_merge(&m, in, 0, &err), EE_ERR_USAGE);
}
END_TEST

/* Merges that must fail: b differs from a = samples {0, 1, 5} of SHA_A in one way. */
static const struct refusal {
	int idx[3], n, nexits;
	bool softmax;
	const char *sha, *data;
	const char *want[4];  /* strings the one-line message must hold */
	int counters;         /* b's layers: 0 counted as a's, 1 not counted, 2 other events */
} refusals[] = {
	{ { 2, 3 }, 2, E, true, SHA_B, NULL,
	  { "'a.h5' and 'b.h5'", "checkpoint_sha256", SHA_A, SHA_B }, 0 },
	{ { 2, 5, 6 }, 3, E, true, SHA_A, NULL, { "sample 5", "in both 'a.h5' and 'b.h5'" }, 0 },
	{ { 2, 3 }, 2, 2, true, SHA_A, NULL, { "'a.h5' and 'b.h5' differ in exits ('3' vs '2')" }, 0 },
	{ { 2, 3 }, 2, E, true, SHA_A, "h5:other.h5", { "differ in data", "h5:other.h5" }, 0 },
	{ { 2, 3 }, 2, E, false, SHA_A, NULL, { "differ in softmax" }, 0 },
	{ { 2, 3 }, 2, E, true, SHA_A, NULL,
	  { "'a.h5' and 'b.h5' differ in layer counters ('counted' vs 'not counted')" }, 1 },
	{ { 2, 3 }, 2, E, true, SHA_A, NULL,
	  { "differ in counted event ('PAPI_L1_DCM' vs 'PAPI_L2_DCM')" }, 2 },
};

START_TEST(merge_refusals)
{
	static const int x[] = { 0, 1, 5 };
	const struct refusal *r = &refusals[_i];
	const char *names[2] = { "a.h5", "b.h5" };
	struct ee_trace a, b, m;
	const struct ee_trace *in[2] = { &a, &b };
	struct ee_err err = { 0 };
	int i;

	make(&a, x, 3, E, true, SHA_A);
	make(&b, r->idx, r->n, r->nexits, r->softmax, r->sha);
	if (r->data)
		snprintf(b.data, sizeof(b.data), "%s", r->data);
	if (r->counters == 1)
		ee_trace_counters_release(&b.counters);
	if (r->counters == 2) {
		free(b.counters.names[1]);
		b.counters.names[1] = strdup("PAPI_L2_DCM");
	}
	ck_assert_int_eq(ee_trace_merge_named(&m, in, names, 2, &err), EE_ERR_INPUT);
	ck_assert_ptr_null(strchr(err.msg, '\n'));
	for (i = 0; i < 4 && r->want[i]; i++)
		ck_assert_msg(strstr(err.msg, r->want[i]), "'%s' not in: %s", r->want[i], err.msg);
	ck_assert_ptr_null(m.index);
	ee_trace_release(&a);
	ee_trace_release(&b);
}
END_TEST

/* ---- bad files ------------------------------------------------------------------ */

static void copy_file(const char *from, const char *to)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	char buf[4096];
	size_t n;

	ck_assert(in && out);
	while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
		ck_assert_uint_eq(fwrite(buf, 1, n, out), n);
	fclose(in);
	ck_assert_int_eq(fclose(out), 0);
}

/* A fresh copy of a good trace of 6 samples (with softmax) to damage. */
static const char *good_copy(const char *name)
{
	static bool made;
	const char *good = tpath("good.h5"), *p = tpath(name);
	struct ee_err err = { 0 };

	if (!made) {
		struct ee_trace t;

		make_range(&t, 1, 6);
		ck_assert_int_eq(ee_trace_write(&t, good, &err), EE_OK);
		ee_trace_release(&t);
		made = true;
	}
	copy_file(good, p);
	return p;
}

static hid_t open_rw(const char *path)
{
	hid_t f = H5Fopen(path, H5F_ACC_RDWR, H5P_DEFAULT);

	ck_assert_int_ge(f, 0);
	return f;
}

static void set_attr(const char *path, const char *obj, const char *name, hid_t type,
		     const void *v)
{
	hid_t f = open_rw(path), s = H5Screate(H5S_SCALAR), a;

	if (H5Aexists_by_name(f, obj, name, H5P_DEFAULT) > 0)
		H5Adelete_by_name(f, obj, name, H5P_DEFAULT);
	a = H5Acreate_by_name(f, obj, name, type, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
	ck_assert_int_ge(a, 0);
	ck_assert_int_ge(H5Awrite(a, type, v), 0);
	H5Aclose(a);
	H5Sclose(s);
	H5Fclose(f);
}

static void set_int_attr(const char *path, const char *name, int v)
{
	set_attr(path, "/", name, H5T_NATIVE_INT, &v);
}

static void set_str_attr(const char *path, const char *name, const char *v)
{
	hid_t t = H5Tcopy(H5T_C_S1);

	H5Tset_size(t, strlen(v) + 1);
	set_attr(path, "/", name, t, v);
	H5Tclose(t);
}

/* Replaces dataset name (or only deletes it when data is NULL) by an int32 array. */
static void replace(const char *path, const char *name, int rank, const hsize_t *dims,
		    const int32_t *data)
{
	hid_t f = open_rw(path), s, d;

	ck_assert_int_ge(H5Ldelete(f, name, H5P_DEFAULT), 0);
	if (data) {
		s = H5Screate_simple(rank, dims, NULL);
		d = H5Dcreate2(f, name, H5T_NATIVE_INT32, s, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
		ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, data),
				 0);
		H5Dclose(d);
		H5Sclose(s);
	}
	H5Fclose(f);
}

static void unlink_dataset(const char *path, const char *name)
{
	replace(path, name, 0, NULL, NULL);
}

/* Reading path must fail with EE_ERR_INPUT and a message naming it and holding want. */
static void bad(const char *path, const char *want)
{
	struct ee_err err = { 0 };
	struct ee_trace t;

	ck_assert_int_eq(ee_trace_read(&t, path, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, path) && strstr(err.msg, want), "want '%s' in: %s", want,
		      err.msg);
	ck_assert_ptr_null(t.index);
}

START_TEST(read_refuses_not_a_trace)
{
	const char *text = tpath("text.h5");
	FILE *f = fopen(text, "w");

	fputs("not a trace\n", f);
	fclose(f);
	bad(text, "not an HDF5 file");
	bad(tpath("nosuch.h5"), "cannot open");
	set_str_attr(good_copy("format.h5"), "format", "eeprof-checkpoint");
	bad(tpath("format.h5"), "not an eeprof trace");
}
END_TEST

START_TEST(read_refuses_truncated)
{
	const char *p = good_copy("truncated.h5");
	FILE *f = fopen(p, "rb+");
	long size;

	fseek(f, 0, SEEK_END);
	size = ftell(f);
	fclose(f);
	ck_assert_int_eq(truncate(p, size / 2), 0);
	bad(p, "truncated");
}
END_TEST

START_TEST(read_refuses_wrong_version_and_attributes)
{
	set_int_attr(good_copy("v2.h5"), "trace_version", 2);
	bad(tpath("v2.h5"), "trace_version 2 is not supported");
	set_int_attr(good_copy("exits.h5"), "exits", EE_MAX_EXITS + 1);
	bad(tpath("exits.h5"), "attribute 'exits'");
	set_int_attr(good_copy("classes.h5"), "num_classes", 0);
	bad(tpath("classes.h5"), "attribute 'num_classes'");
	set_str_attr(good_copy("sha.h5"), "checkpoint_sha256", "abc");
	bad(tpath("sha.h5"), "checkpoint_sha256 'abc'");
	set_int_attr(good_copy("size.h5"), "dataset_size", 3);
	bad(tpath("size.h5"), "'/index' has 6 entries, more than 3");
}
END_TEST

/* One dataset of the good trace replaced by int32 data of another shape (or deleted). */
static const int32_t zeros[6 * (E + 1) * 2], labels[6] = { 0, 1, 2, 3, 4, 0 };
static const struct damage {
	const char *dataset;
	int rank;
	hsize_t dims[3];
	const int32_t *data; /* NULL: deleted */
	const char *want;    /* in the error message */
} damages[] = {
	{ "pred", 2, { 6, E + 1 }, zeros, "'/pred' has shape [6, 4], expected [6, 3]" },
	{ "label", 1, { 6 }, labels, "'/label' holds 4 in row 4, outside [0, 3]" },
	{ "macs", 3, { 6, E, 2 }, zeros, "'/macs' has shape [6, 3, 2], expected [6, 3]" },
	{ "margin", 0, { 0 }, NULL, "no dataset '/margin'" },
	{ "gates/bits/layer2.0.conv2", 0, { 0 }, NULL,
	  "no dataset '/gates/bits/layer2.0.conv2'" },
	{ "gates/layer_name", 1, { G }, labels, "'/gates/layer_name' is not 2 strings" },
	{ "gates/layer_exit", 1, { G }, labels, "'/gates/layer_exit' holds 0 in row 0" },
	{ "timing/layer_kind", 0, { 0 }, NULL, "no dataset '/timing/layer_kind'" },
	{ "timing/layer_counters", 0, { 0 }, NULL, "no dataset '/timing/layer_counters'" },
	{ "timing/counter_names", 0, { 0 }, NULL, "no dataset '/timing/counter_names'" },
	{ "timing/layer_cpu_seconds", 1, { L + 1 }, zeros,
	  "'/timing/layer_cpu_seconds' has shape [4], expected [3]" },
	{ "timing/layer_counters", 2, { L, C + 1 }, zeros,
	  "'/timing/layer_counters' has shape [3, 3], expected [3, 2]" },
};

START_TEST(read_refuses_damaged_dataset)
{
	const struct damage *d = &damages[_i];
	char name[32];

	snprintf(name, sizeof(name), "damage%d.h5", _i);
	replace(good_copy(name), d->dataset, d->rank, d->dims, d->data);
	bad(tpath(name), d->want);
}
END_TEST

/* Attributes and /index that claim a trace of 12 GB: refused before allocating. */
START_TEST(read_refuses_huge_claims)
{
	const char *p = good_copy("huge.h5");
	const hsize_t d[1] = { 1000 };
	int32_t idx[1000];
	int i;

	for (i = 0; i < 1000; i++)
		idx[i] = i;
	set_int_attr(p, "dataset_size", 1000);
	set_int_attr(p, "num_classes", 1 << 20);
	replace(p, "index", 1, d, idx);
	bad(p, "1000 samples of 12583");
}
END_TEST

START_TEST(read_refuses_inconsistent_gates)
{
	const char *p = good_copy("open.h5");
	hid_t f = open_rw(p), d = H5Dopen2(f, "gates/open", H5P_DEFAULT);
	int32_t open[6 * G];

	ck_assert_int_ge(H5Dread(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, open), 0);
	open[2 * G + 1] += 1;
	ck_assert_int_ge(H5Dwrite(d, H5T_NATIVE_INT32, H5S_ALL, H5S_ALL, H5P_DEFAULT, open), 0);
	H5Dclose(d);
	H5Fclose(f);
	bad(p, "'/gates/open' says");
}
END_TEST

/* Garbage over the compressed chunk of /label: the deflate filter fails. */
START_TEST(read_refuses_corrupt_chunk)
{
	const char *p = good_copy("chunk.h5");
	hid_t f = H5Fopen(p, H5F_ACC_RDONLY, H5P_DEFAULT), d = H5Dopen2(f, "label", H5P_DEFAULT);
	hsize_t origin[1] = { 0 }, size;
	haddr_t addr;
	unsigned mask;
	char junk[64];
	FILE *fp;

	ck_assert_int_ge(H5Dget_chunk_info_by_coord(d, origin, &mask, &addr, &size), 0);
	H5Dclose(d);
	H5Fclose(f);
	memset(junk, 0xa5, sizeof(junk));
	fp = fopen(p, "rb+");
	fseek(fp, (long)addr, SEEK_SET);
	fwrite(junk, 1, size < sizeof(junk) ? size : sizeof(junk), fp);
	fclose(fp);
	bad(p, "cannot read dataset '/label'");
}
END_TEST

/* ---- softmax statistics ----------------------------------------------------------- */

START_TEST(softmax_stats_by_hand)
{
	/* z = 1, 2, 3: p = e^-2, e^-1, 1 over 1 + e^-1 + e^-2 = 1.5032147 */
	const float z[3] = { 1, 2, 3 };
	float p[3], mp, ent, mg;
	int32_t pred;

	ee_softmax_stats(z, 3, p, &pred, &mp, &ent, &mg);
	ck_assert_int_eq(pred, 2);
	ck_assert_float_eq_tol(p[0], 0.09003057f, 1e-7f);
	ck_assert_float_eq_tol(p[1], 0.24472847f, 1e-7f);
	ck_assert_float_eq_tol(mp, 0.66524096f, 1e-7f);
	ck_assert_float_eq_tol(mg, 0.66524096f - 0.24472847f, 1e-7f);
	/* -(p0 ln p0 + p1 ln p1 + p2 ln p2) = 0.2167 + 0.3446 + 0.2711 */
	ck_assert_float_eq_tol(ent, 0.83239555f, 1e-6f);
}
END_TEST

START_TEST(softmax_stats_ties_and_edges)
{
	const float tie[4] = { 0.5f, 2, 2, 1 }, flat[4] = { 0, 0, 0, 0 }, one[1] = { 3 };
	const float huge[3] = { 1000, 0, -1000 };
	float p[4], mp, ent, mg;
	int32_t pred;

	ee_softmax_stats(tie, 4, p, &pred, &mp, &ent, &mg);
	ck_assert_int_eq(pred, 1); /* the first of the two largest, like torch.argmax */
	ck_assert_float_eq(mg, 0);
	ck_assert_float_eq(p[1], p[2]);
	ee_softmax_stats(flat, 4, p, &pred, &mp, &ent, &mg);
	ck_assert_int_eq(pred, 0);
	ck_assert_float_eq(mp, 0.25f);
	ck_assert_float_eq(mg, 0);
	ck_assert_float_eq_tol(ent, logf(4), 1e-6f);
	ee_softmax_stats(one, 1, p, &pred, &mp, &ent, &mg);
	ck_assert_int_eq(pred, 0);
	ck_assert_float_eq(mp, 1);
	ck_assert_float_eq(ent, 0);
	ck_assert_float_eq(mg, 1);
	ee_softmax_stats(huge, 3, p, &pred, &mp, &ent, &mg);
	ck_assert_int_eq(pred, 0);
	ck_assert_float_eq(mp, 1);
	ck_assert_float_eq(p[2], 0);
	ck_assert_float_eq(ent, 0);
	ck_assert_float_eq(mg, 1);
}
END_TEST

/* ---- SHA-256 ------------------------------------------------------------------------ */

static const char *hex_of(const void *data, size_t n, size_t piece)
{
	static char hex[EE_SHA256_HEX];
	uint8_t d[EE_SHA256_BYTES];
	struct ee_sha256 s;
	size_t at;

	ee_sha256_init(&s);
	for (at = 0; at < n; at += piece)
		ee_sha256_update(&s, (const char *)data + at, n - at < piece ? n - at : piece);
	ee_sha256_final(&s, d);
	ee_sha256_hex(d, hex);
	return hex;
}

START_TEST(sha256_vectors)
{
	static const char m448[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
	static const char m896[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
				   "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

	ck_assert_str_eq(hex_of("", 0, 1),
			 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	ck_assert_str_eq(hex_of("abc", 3, 3),
			 "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	ck_assert_str_eq(hex_of(m448, 56, 56),
			 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	ck_assert_str_eq(hex_of(m448, 56, 7),
			 "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
	ck_assert_str_eq(hex_of(m896, 112, 112),
			 "cf5b16a778af8380036ce59e7b0492370b249b11e8f07a51afac45037afee9d1");
}
END_TEST

START_TEST(sha256_million_a_and_file)
{
	static const char want[] =
		"cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0";
	char *a = malloc(1000000), hex[EE_SHA256_HEX];
	struct ee_err err = { 0 };
	const char *p = tpath("million.bin");
	FILE *f;

	memset(a, 'a', 1000000);
	ck_assert_str_eq(hex_of(a, 1000000, 1000000), want);
	ck_assert_str_eq(hex_of(a, 1000000, 999), want);
	f = fopen(p, "wb");
	fwrite(a, 1, 1000000, f);
	fclose(f);
	ck_assert_int_eq(ee_sha256_file(p, hex, &err), EE_OK);
	ck_assert_str_eq(hex, want);
	ck_assert_int_eq(ee_sha256_file(tpath("nosuch.bin"), hex, &err), EE_ERR_INPUT);
	ck_assert_msg(strstr(err.msg, "nosuch.bin") && strstr(err.msg, "cannot open"), "%s",
		      err.msg);
	free(a);
}
END_TEST

static TCase *add(Suite *s, const char *name, const TTest *const *tests)
{
	TCase *tc = tcase_create(name);

	tcase_set_timeout(tc, 30);
	for (; *tests; tests++)
		tcase_add_test(tc, *tests);
	suite_add_tcase(s, tc);
	return tc;
}

static Suite *trace_suite(void)
{
	const TTest *const io[] = { round_trip, round_trip_without_softmax_gates_layers,
				    write_refuses_malformed_trace, round_trip_counted_without_events,
				    trace_without_counters_reads, bytes_round_trip_and_ranks, NULL };
	const TTest *const merge[] = { merge_shards, merge_counters_and_warnings,
				       merge_of_one_is_a_copy, merge_ranks, NULL };
	const TTest *const bad_files[] = { read_refuses_not_a_trace, read_refuses_truncated,
					   read_refuses_wrong_version_and_attributes,
					   read_refuses_huge_claims,
					   read_refuses_inconsistent_gates,
					   read_refuses_corrupt_chunk, NULL };
	const TTest *const softmax[] = { softmax_stats_by_hand, softmax_stats_ties_and_edges,
					 NULL };
	const TTest *const sha[] = { sha256_vectors, sha256_million_a_and_file, NULL };
	Suite *s = suite_create("trace");

	add(s, "io", io);
	tcase_add_loop_test(add(s, "merge", merge), merge_refusals, 0,
			    sizeof(refusals) / sizeof(refusals[0]));
	tcase_add_loop_test(add(s, "bad_files", bad_files), read_refuses_damaged_dataset, 0,
			    sizeof(damages) / sizeof(damages[0]));
	add(s, "softmax", softmax);
	add(s, "sha256", sha);
	return s;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

int main(void)
{
	SRunner *sr;
	int failed;

	H5Eset_auto2(H5E_DEFAULT, NULL, NULL); /* the bad-file cases make HDF5 complain */
	tu_tmpdir(); /* one directory for every (forked) test */
	sr = srunner_create(trace_suite());
	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	nftw(tu_tmpdir(), remove_one, 16, FTW_DEPTH | FTW_PHYS);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
