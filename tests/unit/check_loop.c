/*
 * check_loop.c - the inference loop (plugins/loop.h) and its streams (plugins/streams.h)
 * on the EMGNet sample checkpoint (3 exits, gated layers) and Fashion-MNIST's test split:
 *
 *  - with 2 or 3 threads at batch 1, 3 (a partial last batch) and 8 the batches run in
 *    streams (the callback is handed runs other than the caller's), the callbacks come in
 *    batch order, and every exit's logits, MACs, open counts and gate bits are those of
 *    one thread, bit for bit; the caller's run gets every layer's time;
 *  - a callback that fails stops the loop at its batch: its error, no callback after it;
 *    of two bad image files (each stream decodes its own batch) the first in order fails
 *    the loop, whichever was decoded first;
 *  - the rule: one thread, one batch, a hooked run or a batch of too much work keep the
 *    plain loop; a hooked run sees every layer of every sample in its own lanes.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/threads.h"
#include "plugins/loop.h"
#include "plugins/streams.h"
#include "testutil.h"
#include "tests/unit/images_data.h"

#define SAMPLE "checkpoints/samples/emgnet20-w8-fmnist.h5"
#define DATA "fashion-mnist:test"
#define N 30      /* samples */
#define OFFSET 20 /* the first one */

static struct ee_net net;
static struct ee_dataset ds;

static void load(void)
{
	struct ee_err err = { 0 };

	ck_assert_msg(ee_net_load(&net, SAMPLE, &err) == EE_OK, "%s", err.msg);
	ck_assert_msg(ee_dataset_open(&ds, DATA, &err) == EE_OK, "%s", err.msg);
}

static void unload(void)
{
	ee_dataset_release(&ds);
	ee_net_release(&net);
}

/* What the callback saw of every sample, and of the calls. */
struct seen {
	const struct ee_run *caller;
	int fail_first;       /* the callback fails for the batch starting there; -1: never */
	int calls, firsts[N]; /* callbacks in order: the first sample of each */
	bool other_runs;      /* a callback was handed a run other than the caller's */
	int streams;          /* ee_streams_count for the pass */
	float *logits;        /* [N][exits][K] */
	double *macs;         /* [N][exits] cascade MACs */
	int32_t *open;        /* [N][gated] */
	uint8_t *gates;       /* [N][gates of all gated layers] */
	size_t per_gates;     /* gates of all gated layers */
};

static void seen_init(struct seen *s)
{
	const struct ee_model *m = &net.model;
	int g;

	memset(s, 0, sizeof(*s));
	s->fail_first = -1;
	for (g = 0; g < m->ngated; g++)
		s->per_gates += (size_t)m->nodes[m->gated[g]].cost.gates;
	s->logits = calloc((size_t)N * m->nexits * net.ck.num_classes, sizeof(float));
	s->macs = calloc((size_t)N * m->nexits, sizeof(double));
	s->open = calloc((size_t)N * m->ngated + 1, sizeof(int32_t));
	s->gates = calloc((size_t)N * s->per_gates + 1, 1);
	ck_assert(s->logits && s->macs && s->open && s->gates);
}

static void seen_release(struct seen *s)
{
	free(s->logits);
	free(s->macs);
	free(s->open);
	free(s->gates);
}

/* A callback that notes the call only. */
static int record_call(void *ctx, const struct ee_run *r, int first, struct ee_err *err)
{
	struct seen *s = ctx;

	(void)err;
	ck_assert_int_lt(s->calls, N);
	s->firsts[s->calls++] = first;
	s->other_runs |= r != s->caller;
	return EE_OK;
}

/* The callback that notes everything of samples OFFSET.. (fails at s->fail_first). */
static int record(void *ctx, const struct ee_run *r, int first, struct ee_err *err)
{
	struct seen *s = ctx;
	const struct ee_model *m = r->m;
	int k = net.ck.num_classes, e = m->nexits, i, x, g;

	record_call(ctx, r, first, err);
	if (first == s->fail_first)
		return ee_err_set(err, EE_ERR_INPUT, "batch at %d failed", first);
	for (i = 0; i < r->n; i++) {
		int row = first - OFFSET + i;
		uint8_t *bits = s->gates + (size_t)row * s->per_gates;

		for (x = 0; x < e; x++) {
			memcpy(s->logits + ((size_t)row * e + x) * k, ee_run_output(r, x).data +
			       (size_t)i * k, (size_t)k * sizeof(float));
			s->macs[(size_t)row * e + x] = ee_run_sample_macs(r, x, i, true);
		}
		for (g = 0; g < m->ngated; g++) {
			size_t c = (size_t)m->nodes[m->gated[g]].cost.gates;

			s->open[(size_t)row * m->ngated + g] = r->open[(size_t)g * r->max_batch + i];
			memcpy(bits, ee_run_gates(r, g, i), c);
			bits += c;
		}
	}
	return EE_OK;
}

/* Samples [OFFSET, OFFSET + N) through the loop with threads and batch into s; the
 * loop's status. Every layer must have its time in the caller's run. */
static int pass(int threads, int batch, struct seen *s, struct ee_err *err)
{
	struct ee_run r;
	int i, rc;

	ee_threads_set(threads);
	ck_assert_msg(ee_run_init(&r, &net.model, batch, false, err) == EE_OK, "%s", err->msg);
	r.time_layers = true;
	s->caller = &r;
	s->streams = ee_streams_count(&r, N);
	rc = ee_loop_dataset(&r, &net, &ds, OFFSET, N, record, s, NULL, err);
	for (i = 0; rc == EE_OK && i < net.model.nnodes; i++)
		ck_assert_msg(r.seconds[i] > 0, "threads %d batch %d: node %d has no time", threads,
			      batch, i);
	ee_run_release(&r);
	ee_threads_set(1);
	return rc;
}

START_TEST(streams_give_one_threads_results)
{
	static const int batches[] = { 1, 3, 8 };
	const struct ee_model *m = &net.model;
	size_t e = (size_t)m->nexits, k = (size_t)net.ck.num_classes;
	struct ee_err err = { 0 };
	int b, t, j;

	load();
	for (b = 0; b < 3; b++) {
		int batch = batches[b], nb = (N + batch - 1) / batch;
		struct seen ref;

		seen_init(&ref);
		ck_assert_msg(pass(1, batch, &ref, &err) == EE_OK, "%s", err.msg);
		ck_assert_int_eq(ref.streams, 1);
		ck_assert(!ref.other_runs);
		for (t = 2; t <= 3; t++) {
			struct seen got;

			seen_init(&got);
			ck_assert_msg(pass(t, batch, &got, &err) == EE_OK, "%s", err.msg);
			ck_assert_int_eq(got.streams, t);
			ck_assert_msg(got.other_runs, "threads %d batch %d: no stream ran", t, batch);
			ck_assert_int_eq(got.calls, nb);
			for (j = 0; j < nb; j++)
				ck_assert_int_eq(got.firsts[j], OFFSET + j * batch);
			ck_assert_mem_eq(got.logits, ref.logits, N * e * k * sizeof(float));
			ck_assert_mem_eq(got.macs, ref.macs, N * e * sizeof(double));
			ck_assert_mem_eq(got.open, ref.open, N * (size_t)m->ngated * sizeof(int32_t));
			ck_assert_mem_eq(got.gates, ref.gates, N * ref.per_gates);
			seen_release(&got);
		}
		seen_release(&ref);
	}
	unload();
}
END_TEST

START_TEST(failing_callback_stops_at_its_batch)
{
	int t, j;

	load();
	for (t = 1; t <= 2; t++) {
		struct ee_err err = { 0 };
		struct seen s;

		seen_init(&s);
		s.fail_first = OFFSET + 5;
		ck_assert_int_eq(pass(t, 1, &s, &err), EE_ERR_INPUT);
		ck_assert_str_eq(err.msg, "batch at 25 failed");
		ck_assert_int_eq(s.calls, 6);
		for (j = 0; j < s.calls; j++)
			ck_assert_int_eq(s.firsts[j], OFFSET + j);
		seen_release(&s);
	}
	unload();
}
END_TEST

/* Writes n bytes of data to dir/name. */
static void write_file(const char *dir, const char *name, const uint8_t *data, size_t n)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	ck_assert_msg((f = fopen(path, "wb")) != NULL, "%s", path);
	ck_assert_int_eq(fwrite(data, 1, n, f), n);
	fclose(f);
}

/* Image files: each stream decodes its own batch; of two bad files (the 3rd and 6th of 8:
 * a/0 a/1 a/2 a/3 b/4 b/5 b/6 b/7) the first in order fails the loop, with 1 or 2 threads,
 * after the callbacks of the two batches before it. */
START_TEST(first_bad_image_in_order)
{
	char dir[256], spec[300], sub[300];
	struct ee_dataset imgs;
	struct ee_err err = { 0 };
	int i, t;

	load();
	snprintf(dir, sizeof(dir), "%s/imgs", tu_tmpdir());
	mkdir(dir, 0700);
	for (i = 0; i < 2; i++) {
		snprintf(sub, sizeof(sub), "%s/%c", dir, "ab"[i]);
		mkdir(sub, 0700);
	}
	for (i = 0; i < 8; i++) {
		char name[16];

		snprintf(name, sizeof(name), "%c/%d.jpg", i < 4 ? 'a' : 'b', i);
		write_file(dir, name, jpeg_rgb, i == 2 || i == 5 ? 40 : sizeof(jpeg_rgb));
	}
	snprintf(spec, sizeof(spec), "imagefolder:%s", dir);
	ck_assert_msg(ee_dataset_open(&imgs, spec, &err) == EE_OK, "%s", err.msg);
	ck_assert_int_eq(imgs.n, 8);
	for (t = 1; t <= 2; t++) {
		struct seen s;
		struct ee_run r;

		ee_threads_set(t);
		ck_assert(ee_run_init(&r, &net.model, 1, false, &err) == EE_OK);
		seen_init(&s);
		s.caller = &r;
		ck_assert_int_eq(ee_streams_count(&r, 8), t);
		ck_assert_int_eq(ee_loop_dataset(&r, &net, &imgs, 0, 8, record_call, &s, NULL, &err),
				 EE_ERR_INPUT);
		ck_assert_msg(strstr(err.msg, "/a/2.jpg'") != NULL, "threads %d: %s", t, err.msg);
		ck_assert_int_eq(s.calls, 2);
		ck_assert_int_eq(s.firsts[0] + 1, s.firsts[1]);
		seen_release(&s);
		ee_run_release(&r);
		ee_threads_set(1);
	}
	ee_dataset_release(&imgs);
	unload();
}
END_TEST

struct hooked {
	int begins[4][256]; /* [lane][node] */
};

static void on_begin(void *ctx, int lane, int node)
{
	struct hooked *h = ctx;

	h->begins[lane][node]++;
}

static void on_end(void *ctx, int lane, int node, int n)
{
	(void)ctx, (void)lane, (void)node, (void)n;
}

START_TEST(the_rule)
{
	struct hooked h = { 0 };
	struct ee_run_hooks hooks = { on_begin, on_end, &h };
	struct ee_err err = { 0 };
	struct ee_run r;
	struct seen s;
	double macs;
	int i, big;

	load();
	macs = ee_model_exit_macs(&net.model, net.model.nexits - 1, true, 1);
	ck_assert_int_le(net.model.nnodes, 256);
	ee_threads_set(2);
	ck_assert(ee_run_init(&r, &net.model, 1, false, &err) == EE_OK);
	ck_assert_int_eq(ee_streams_count(&r, 10), 2);
	ck_assert_int_eq(ee_streams_count(&r, 1), 1); /* one batch */
	/* hooked: the plain loop, every layer of every sample seen in lane 0 */
	r.hooks = &hooks;
	ck_assert_int_eq(ee_streams_count(&r, 10), 1);
	seen_init(&s);
	s.caller = &r;
	ck_assert_msg(ee_loop_dataset(&r, &net, &ds, OFFSET, N, record, &s, NULL, &err) == EE_OK,
		      "%s", err.msg);
	ck_assert(!s.other_runs);
	for (i = 0; i < net.model.nnodes; i++)
		ck_assert_int_eq(h.begins[0][i], N);
	seen_release(&s);
	ee_run_release(&r);
	/* a batch of at least EE_STREAMS_MAX_WORK MACs */
	big = (int)(EE_STREAMS_MAX_WORK / macs) + 1;
	ck_assert_msg(ee_run_init(&r, &net.model, big, false, &err) == EE_OK, "%s", err.msg);
	ck_assert_int_eq(ee_streams_count(&r, 10 * big), 1);
	ee_run_release(&r);
	ck_assert(ee_run_init(&r, &net.model, big - 2, false, &err) == EE_OK);
	ck_assert_int_eq(ee_streams_count(&r, 10 * big), 2);
	ee_run_release(&r);
	/* three threads, two batches: two streams; one thread: none */
	ee_threads_set(3);
	ck_assert(ee_run_init(&r, &net.model, 4, false, &err) == EE_OK);
	ck_assert_int_eq(ee_streams_count(&r, 8), 2);
	ck_assert_int_eq(ee_streams_count(&r, 9), 3);
	ee_run_release(&r);
	ee_threads_set(1);
	ck_assert(ee_run_init(&r, &net.model, 1, false, &err) == EE_OK);
	ck_assert_int_eq(ee_streams_count(&r, 10), 1);
	ee_run_release(&r);
	unload();
}
END_TEST

int main(void)
{
	const TTest *const tests[] = { streams_give_one_threads_results,
				       failing_callback_stops_at_its_batch, first_bad_image_in_order,
				       the_rule, NULL };
	Suite *s = suite_create("loop");

	tu_add_case(s, "loop", tests, 300);
	return tu_run(s);
}
