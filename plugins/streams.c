/*
 * streams.c - consecutive batches on separate threads, callbacks in batch order; see
 * streams.h.
 *
 * Batches are claimed in order from one counter; the callback of batch b runs once the
 * callbacks of batches 0..b-1 have (the turn, `committed`). A stream holds one claimed
 * batch at a time and the lowest uncommitted batch is always held by a stream that is
 * computing, not waiting, so the streams cannot wait for each other in a circle (and a
 * stream whose thread did not start leaves its batches to the others). A failed batch
 * (its inputs or its callback) stops the loop when its turn comes, so the error returned
 * is that of the first failing batch in order, as in the plain loop.
 */
#include "streams.h"

#include <pthread.h>
#include <stdlib.h>
#include <unistd.h>

#include "core/threads.h"
#include "sde.h"

struct streams;

struct stream {
	struct streams *s;
	struct ee_run run; /* one thread, r's batch and micro-batch */
	float *buf;        /* [max_batch, C, H, W] network inputs */
};

struct streams {
	const struct ee_net *net;
	const struct ee_dataset *ds;
	struct stream *st; /* [n] */
	int n;
	int ready;         /* streams whose run is made (st[0..ready)) */
	int offset, count, batch, nbatches;
	ee_batch_fn fn;
	void *ctx;
	pthread_mutex_t lock;
	pthread_cond_t turn;   /* signalled when committed or failed changes */
	int next;              /* the next batch to claim (under lock) */
	int committed;         /* batches whose callback returned EE_OK (under lock) */
	int failed;            /* a batch failed at its turn: rc and err (under lock) */
	int rc;
	struct ee_err err;
};

int ee_streams_count(const struct ee_run *r, int count)
{
	const struct ee_model *m = r->m;
	long batches = ((long)count + r->max_batch - 1) / r->max_batch;
	double work = (double)r->max_batch * ee_model_exit_macs(m, m->nexits - 1, true, 1);

	if (r->threads < 2 || r->hooks || batches < 2 || work >= EE_STREAMS_MAX_WORK)
		return 1;
	return batches < r->threads ? (int)batches : r->threads;
}

/* Waits for batch b's turn; false if an earlier batch failed. */
static bool wait_turn(struct streams *s, int b)
{
	bool mine;

	pthread_mutex_lock(&s->lock);
	while (s->committed != b && !s->failed)
		pthread_cond_wait(&s->turn, &s->lock);
	mine = !s->failed;
	pthread_mutex_unlock(&s->lock);
	return mine;
}

/* Ends the turn of the batch that holds it: the next one's, or the failure of all. */
static void pass_turn(struct streams *s, int rc, const struct ee_err *err)
{
	pthread_mutex_lock(&s->lock);
	if (rc != EE_OK) {
		s->failed = 1;
		s->rc = rc;
		s->err = *err;
	} else {
		s->committed++;
	}
	pthread_cond_broadcast(&s->turn);
	pthread_mutex_unlock(&s->lock);
}

/* The next unclaimed batch, or -1 when none is left or the loop failed. */
static int claim(struct streams *s)
{
	int b = -1;

	pthread_mutex_lock(&s->lock);
	if (!s->failed && s->next < s->nbatches)
		b = s->next++;
	pthread_mutex_unlock(&s->lock);
	return b;
}

/* One stream: batches claimed until none are left, each prepared, run, and handed to the
 * callback at its turn. */
static void run_stream(struct streams *s, struct stream *me)
{
	const struct ee_net *net = s->net;
	struct ee_shape in = net->model.input;
	int b;

	while ((b = claim(s)) >= 0) {
		int first = s->offset + b * s->batch, left = s->offset + s->count - first;
		int n = left < s->batch ? left : s->batch, rc;
		struct ee_err err = { 0 };

		rc = ee_dataset_batch(s->ds, first, n, in, net->ck.mean, net->ck.std, me->buf, &err);
		if (rc == EE_OK) {
			struct ee_tensor x = ee_tensor_dense(me->buf, n, in.c, in.h, in.w);

			ee_run_forward(&me->run, &x);
		}
		if (!wait_turn(s, b))
			return;
		if (rc == EE_OK) {
			ee_sde_record(&me->run);
			rc = s->fn(s->ctx, &me->run, first, &err);
		}
		pass_turn(s, rc, &err);
		if (rc != EE_OK)
			return;
	}
}

static bool ignore_load; /* tests: ee_streams_ignore_load */

void ee_streams_ignore_load(bool on)
{
	ignore_load = on;
}

/* The machine is busy with other work: a 1-minute load average of at least the CPUs plus
 * the streams (the thread team's test, threads.h). */
static bool busy(int streams)
{
	double load;

	return !ignore_load && getloadavg(&load, 1) == 1 &&
	       load >= (double)sysconf(_SC_NPROCESSORS_ONLN) + streams;
}

static void *stream_thread(void *arg)
{
	struct stream *me = arg;

	run_stream(me->s, me);
	return NULL;
}

/* Stream 0 on the calling thread, the others on threads of their own. */
static void run_all(struct streams *s)
{
	pthread_t *tid = calloc((size_t)s->n, sizeof(*tid));
	bool *started = calloc((size_t)s->n, sizeof(*started));
	int i;

	for (i = 1; tid && started && i < s->n; i++)
		started[i] = !pthread_create(&tid[i], NULL, stream_thread, &s->st[i]);
	run_stream(s, &s->st[0]);
	for (i = 1; tid && started && i < s->n; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	free(tid);
	free(started);
}

/* Runs (made while the thread count is 1: runs of one thread) and input buffers. */
static int open_streams(struct streams *s, const struct ee_run *r, struct ee_err *err)
{
	struct ee_shape in = s->net->model.input;
	size_t bytes = ee_align_up(ee_shape_numel(in) * r->max_batch * sizeof(float));
	int i, rc = EE_OK;

	s->st = calloc((size_t)s->n, sizeof(*s->st));
	if (!s->st)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d streams", s->n);
	for (i = 0; i < s->n && rc == EE_OK; i++) {
		struct stream *st = &s->st[i];

		st->s = s;
		if ((rc = ee_run_init_micro(&st->run, r->m, r->max_batch, r->micro,
					    r->gate_z != NULL, err)) < 0)
			break;
		st->run.time_layers = r->time_layers;
		s->ready++;
		if (!(st->buf = aligned_alloc(64, bytes)))
			rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for a batch of inputs");
	}
	return rc;
}

/* Adds what every stream's run summed to r, and frees the streams. */
static void close_streams(struct streams *s, struct ee_run *r)
{
	const struct ee_model *m = r->m;
	int i, j;

	for (i = 0; i < s->ready; i++) {
		const struct ee_run *sr = &s->st[i].run;

		for (j = 0; j < m->nnodes; j++)
			r->seconds[j] += sr->seconds[j];
		for (j = 0; j < m->nexits; j++)
			r->stage_seconds[j] += sr->stage_seconds[j];
		r->ring_taps += sr->ring_taps;
		ee_run_release(&s->st[i].run);
		free(s->st[i].buf);
	}
	free(s->st);
}

int ee_streams_loop(struct ee_run *r, int streams, const struct ee_net *net,
		    const struct ee_dataset *ds, int offset, int count, ee_batch_fn fn, void *ctx,
		    double *seconds, struct ee_err *err)
{
	struct streams s = { .net = net, .ds = ds, .n = streams, .offset = offset,
			     .count = count, .batch = r->max_batch, .fn = fn, .ctx = ctx,
			     .lock = PTHREAD_MUTEX_INITIALIZER, .turn = PTHREAD_COND_INITIALIZER };
	int threads = ee_threads_get(), rc;
	double t0;

	s.nbatches = (count + r->max_batch - 1) / r->max_batch;
	if (busy(streams))
		s.n = 1;
	ee_threads_set(1);
	rc = open_streams(&s, r, err);
	t0 = ee_now();
	if (rc == EE_OK)
		run_all(&s);
	if (rc == EE_OK && seconds)
		*seconds = ee_now() - t0;
	ee_threads_set(threads);
	if (rc == EE_OK && s.failed) {
		*err = s.err;
		rc = s.rc;
	}
	close_streams(&s, r);
	pthread_cond_destroy(&s.turn);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
