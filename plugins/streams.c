/*
 * streams.c - consecutive batches on separate threads, callbacks in batch order; see
 * streams.h.
 *
 * A pool of runs (EE_STREAMS_RUNS per thread): a thread takes a free run (the one it used
 * last if it is free: its memory is in this core's caches), claims the next batch,
 * prepares and runs it, marks the run done, and then hands every done batch that is next
 * in order to the callback, whoever ran it; a run is free again once its callback has
 * returned. So a thread waits only when every run holds a batch whose turn has not come
 * (a thread another process keeps off its core holds the lowest one), not after each
 * batch. The thread that finishes the lowest batch, or a callback, goes on with the done
 * batches after it, so a thread with nothing left to claim may leave. A failed batch (its
 * inputs or its callback) stops the loop when its turn comes: the error is that of the
 * first failing batch in order, as in the plain loop, and no callback follows it.
 */
#include "streams.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "core/threads.h"
#include "sde.h"

struct streams;

enum { FREE, BUSY, DONE };

struct stream {
	struct ee_run run; /* one thread, r's batch and micro-batch */
	float *buf;        /* [max_batch, C, H, W] network inputs */
	int state;         /* FREE, BUSY (a thread prepares and runs batch b), DONE (b ran) */
	int b;             /* its batch while BUSY or DONE */
	int rc;            /* DONE: EE_OK, or the failure preparing b (err) */
	struct ee_err err;
};

struct streams {
	const struct ee_net *net;
	const struct ee_dataset *ds;
	struct stream *st; /* [n] the pool */
	int n;
	int ready;         /* runs made (st[0..ready)) */
	int threads;
	int offset, count, batch, nbatches;
	ee_batch_fn fn;
	void *ctx;
	pthread_mutex_t lock;  /* guards what follows, and every run's state, b, rc, err */
	pthread_cond_t change; /* broadcast at every change of what follows */
	int next;              /* the next batch to claim */
	int committed;         /* batches whose callback returned EE_OK */
	bool committing;       /* a thread is in the callback */
	bool failed;           /* a batch failed at its turn: rc and err */
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

/* The run holding batch b, DONE; -1 if there is none (under lock). */
static int done_run(const struct streams *s, int b)
{
	int i;

	for (i = 0; i < s->ready; i++)
		if (s->st[i].state == DONE && s->st[i].b == b)
			return i;
	return -1;
}

/* A FREE run, `last` if it is; -1 if there is none (under lock). */
static int free_run(const struct streams *s, int last)
{
	int i;

	if (last >= 0 && s->st[last].state == FREE)
		return last;
	for (i = 0; i < s->ready; i++)
		if (s->st[i].state == FREE)
			return i;
	return -1;
}

/* Prepares and runs batch b in run i (without the lock); its status into the run. */
static void compute(struct streams *s, int i, int b)
{
	const struct ee_net *net = s->net;
	struct ee_shape in = net->model.input;
	struct stream *st = &s->st[i];
	int first = s->offset + b * s->batch, left = s->offset + s->count - first;
	int n = left < s->batch ? left : s->batch;

	memset(&st->err, 0, sizeof(st->err));
	st->rc = ee_dataset_batch(s->ds, first, n, in, net->ck.mean, net->ck.std, st->buf,
				  &st->err);
	if (st->rc == EE_OK) {
		struct ee_tensor x = ee_tensor_dense(st->buf, n, in.c, in.h, in.w);

		ee_run_forward(&st->run, &x);
	}
}

/* The callback of the done batch in run i, the next in order (without the lock, while
 * `committing` keeps the others out); its status, err filled on failure. */
static int commit(struct streams *s, int i, struct ee_err *err)
{
	struct stream *st = &s->st[i];

	if (st->rc != EE_OK) {
		*err = st->err;
		return st->rc;
	}
	ee_sde_record(&st->run);
	return s->fn(s->ctx, &st->run, s->offset + st->b * s->batch, err);
}

/* One thread: callbacks of done batches whose turn has come, else the next batch in a
 * free run, else a wait; it leaves when the loop failed or has nothing left for it. */
static void work(struct streams *s)
{
	int last = -1;

	pthread_mutex_lock(&s->lock);
	while (!s->failed && s->committed < s->nbatches) {
		int i = s->committing ? -1 : done_run(s, s->committed), b;

		if (i >= 0) {
			struct ee_err err = { 0 };
			int rc;

			s->committing = true;
			pthread_mutex_unlock(&s->lock);
			rc = commit(s, i, &err);
			pthread_mutex_lock(&s->lock);
			s->committing = false;
			if (rc != EE_OK) {
				s->failed = true;
				s->rc = rc;
				s->err = err;
			} else {
				s->st[i].state = FREE;
				s->committed++;
			}
			pthread_cond_broadcast(&s->change);
			continue;
		}
		if (s->next >= s->nbatches) /* what is left runs, or is done: others go on */
			break;
		if ((i = free_run(s, last)) < 0) {
			pthread_cond_wait(&s->change, &s->lock);
			continue;
		}
		b = s->next++;
		s->st[i].state = BUSY;
		s->st[i].b = b;
		pthread_mutex_unlock(&s->lock);
		compute(s, i, b);
		pthread_mutex_lock(&s->lock);
		s->st[i].state = DONE;
		last = i;
		pthread_cond_broadcast(&s->change);
	}
	pthread_mutex_unlock(&s->lock);
}

static void *work_thread(void *arg)
{
	work(arg);
	return NULL;
}

/* The calling thread and threads - 1 threads of their own (one that cannot start leaves
 * its share to the others). */
static void run_all(struct streams *s)
{
	pthread_t *tid = calloc((size_t)s->threads, sizeof(*tid));
	bool *started = calloc((size_t)s->threads, sizeof(*started));
	int i;

	for (i = 1; tid && started && i < s->threads; i++)
		started[i] = !pthread_create(&tid[i], NULL, work_thread, s);
	work(s);
	for (i = 1; tid && started && i < s->threads; i++)
		if (started[i])
			pthread_join(tid[i], NULL);
	free(tid);
	free(started);
}

/* The pool: runs (made while the thread count is 1: runs of one thread) and input
 * buffers. */
static int open_streams(struct streams *s, const struct ee_run *r, struct ee_err *err)
{
	struct ee_shape in = s->net->model.input;
	size_t bytes = ee_align_up(ee_shape_numel(in) * r->max_batch * sizeof(float));
	int i, rc = EE_OK;

	s->st = calloc((size_t)s->n, sizeof(*s->st));
	if (!s->st)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d runs", s->n);
	for (i = 0; i < s->n && rc == EE_OK; i++) {
		struct stream *st = &s->st[i];

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

/* Adds what every run of the pool summed to r, and frees the pool. */
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
	struct streams s = { .net = net, .ds = ds, .threads = streams, .offset = offset,
			     .count = count, .batch = r->max_batch, .fn = fn, .ctx = ctx,
			     .lock = PTHREAD_MUTEX_INITIALIZER,
			     .change = PTHREAD_COND_INITIALIZER };
	int threads = ee_threads_get(), rc;
	double t0;

	s.nbatches = (count + r->max_batch - 1) / r->max_batch;
	s.n = streams * EE_STREAMS_RUNS < s.nbatches ? streams * EE_STREAMS_RUNS : s.nbatches;
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
	pthread_cond_destroy(&s.change);
	pthread_mutex_destroy(&s.lock);
	return rc;
}
