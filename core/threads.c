/*
 * threads.c - the thread team: helpers started on first use, loops whose ranges
 * are claimed by whoever runs, futex sleeps after a short spin. See threads.h.
 *
 * One loop ("job") at a time is published by its caller ("master"): the job's
 * fields, then seq (the job number) that sleeping helpers wait on. Ranges are
 * claimed from `claim` = seq << 32 | next item with a compare-and-swap, so a
 * helper that wakes after its job is over (seq moved on) claims nothing. `done`
 * counts finished items; the master waits for done == count, i.e. only for ranges
 * that were claimed. All shared fields are sequentially consistent atomics: the
 * sleep/wake handshakes (sleepers vs seq, master_waits vs done) rely on it.
 */
#include "threads.h"

#include <cblas.h>
#include <limits.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define MAX_THREADS 256

static int threads = 1;

static struct {
	pthread_mutex_t lock; /* held by the master of the current job */
	int started;          /* helper threads running (ids 1..started) */
	_Atomic uint32_t seq; /* number of the last job published; helpers sleep on it */
	_Atomic int sleepers; /* helpers in futex_wait on seq */
	_Atomic uint64_t claim; /* seq << 32 | next unclaimed item */
	_Atomic uint32_t done;  /* items finished of the job */
	_Atomic int master_waits; /* the master sleeps on done */
	/* the job (valid for the seq it was published with) */
	_Atomic(ee_loop_fn *) fn;
	_Atomic(void (*)(void *, int)) each; /* ee_team_each's job, else NULL */
	_Atomic(void *) ctx;
	_Atomic long count, grain;
	_Atomic int nthreads;
} team = { .lock = PTHREAD_MUTEX_INITIALIZER };

static _Thread_local int my_tid;
static _Thread_local int in_task;

static void futex_wait(_Atomic uint32_t *addr, uint32_t val)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void futex_wake(_Atomic uint32_t *addr, int n)
{
	syscall(SYS_futex, (uint32_t *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Spins up to EE_SPIN_NS while *addr == val; returns the value it saw last. */
static uint32_t spin_while(_Atomic uint32_t *addr, uint32_t val)
{
	int64_t until = 0;
	uint32_t v;
	int i;

	for (i = 0;; i++) {
		if ((v = atomic_load(addr)) != val)
			return v;
		if ((i & 63) == 0) {
			int64_t t = now_ns();

			if (!until)
				until = t + EE_SPIN_NS;
			else if (t > until)
				return v;
		}
		cpu_relax();
	}
}

/* Claims and runs ranges of job s until none are left; returns the items it did. */
static long run_ranges(uint32_t s, int tid)
{
	long did = 0;

	for (;;) {
		uint64_t c = atomic_load(&team.claim);
		ee_loop_fn *fn = atomic_load(&team.fn);
		void *ctx = atomic_load(&team.ctx);
		long count = atomic_load(&team.count), grain = atomic_load(&team.grain);
		long lo = (long)(uint32_t)c, hi = lo + grain < count ? lo + grain : count;

		if ((uint32_t)(c >> 32) != s || lo >= count)
			return did;
		if (!atomic_compare_exchange_weak(&team.claim, &c, ((uint64_t)s << 32) | (uint64_t)hi))
			continue;
		in_task = 1;
		fn(ctx, lo, hi, tid);
		in_task = 0;
		did += hi - lo;
		if (atomic_fetch_add(&team.done, (uint32_t)(hi - lo)) + (uint32_t)(hi - lo) ==
			    (uint32_t)count && atomic_load(&team.master_waits))
			futex_wake(&team.done, 1);
	}
}

static void *helper(void *arg)
{
	uint32_t seen = (uint32_t)(uintptr_t)arg >> 16; /* seq when started */

	my_tid = (int)((uintptr_t)arg & 0xffff);
	for (;;) {
		uint32_t s = spin_while(&team.seq, seen);
		void (*each)(void *, int);

		if (s == seen) {
			atomic_fetch_add(&team.sleepers, 1);
			while ((s = atomic_load(&team.seq)) == seen)
				futex_wait(&team.seq, seen);
			atomic_fetch_sub(&team.sleepers, 1);
		}
		seen = s;
		if (my_tid >= atomic_load(&team.nthreads))
			continue;
		each = atomic_load(&team.each);
		/* an each-job waits for every thread, so its fields stay those of seq s; its
		 * claim word carries s too (a loop's fields read here may be a later job's) */
		if (each && (uint32_t)(atomic_load(&team.claim) >> 32) == s) {
			each(atomic_load(&team.ctx), my_tid);
			if (atomic_fetch_add(&team.done, 1) + 1 ==
				    (uint32_t)atomic_load(&team.nthreads) &&
			    atomic_load(&team.master_waits))
				futex_wake(&team.done, 1);
			continue;
		}
		if (!each)
			run_ranges(s, my_tid);
	}
	return NULL;
}

/* Starts helpers up to n - 1 (under team.lock); fewer if the system refuses. */
static int start_helpers(int n)
{
	while (team.started < n - 1 && team.started < MAX_THREADS - 1) {
		pthread_t t;
		pthread_attr_t attr;
		uintptr_t arg = ((uintptr_t)atomic_load(&team.seq) << 16) | (uintptr_t)(team.started + 1);
		int rc;

		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		rc = pthread_create(&t, &attr, helper, (void *)arg);
		pthread_attr_destroy(&attr);
		if (rc)
			break;
		team.started++;
	}
	return team.started + 1 < n ? team.started + 1 : n;
}

/* Publishes a job for n threads (under team.lock) and wakes sleeping helpers. */
static uint32_t publish(int n, ee_loop_fn *fn, void (*each)(void *, int), void *ctx, long count,
			long grain)
{
	uint32_t s = atomic_load(&team.seq) + 1;

	/* Close the claim word first: a helper still in run_ranges of the last job may have
	 * read its claim word and then this job's fields; its compare-and-swap must fail,
	 * or it would run a stale range of this job and count it in `done` twice. */
	atomic_store(&team.claim, ((uint64_t)s << 32) | UINT32_MAX);
	atomic_store(&team.fn, fn);
	atomic_store(&team.each, each);
	atomic_store(&team.ctx, ctx);
	atomic_store(&team.count, count);
	atomic_store(&team.grain, grain);
	atomic_store(&team.nthreads, n);
	atomic_store(&team.done, 0);
	atomic_store(&team.claim, (uint64_t)s << 32);
	atomic_store(&team.seq, s);
	if (atomic_load(&team.sleepers) > 0)
		futex_wake(&team.seq, INT_MAX);
	return s;
}

/* The master waits until done reaches target: a spin, then futex sleeps. True if it had
 * to sleep. */
static bool wait_done(uint32_t target)
{
	uint32_t d = atomic_load(&team.done);
	bool slept = false;

	while (d != target) {
		d = spin_while(&team.done, d);
		if (d == target)
			break;
		atomic_store(&team.master_waits, 1);
		if ((d = atomic_load(&team.done)) != target) {
			futex_wait(&team.done, d);
			slept = true;
		}
		atomic_store(&team.master_waits, 0);
		d = atomic_load(&team.done);
	}
	return slept;
}

/*
 * The threshold adapts to the machine: a loop pays off when the helpers did a fair part
 * of its items (at least half of an even share) and the caller did not have to sleep
 * waiting for a range a helper held (a helper descheduled by other processes). Every loop
 * that did not pay doubles `scale` (up to MAX_SCALE: on a saturated machine nothing is
 * split, two threads then cost what one does), every one that did divides it by 4; loops
 * below EE_PARALLEL_MIN_WORK * scale run on the calling thread, except one in PROBE of
 * those that would have been split at scale 1, which is split to see whether splitting
 * pays again. A short run has few loops to learn from, so the load average (read at most
 * once a second) sets scale to MAX_SCALE while other processes keep the CPUs busy: a
 * 1-minute load of at least the CPUs plus our own threads.
 */
#define MAX_SCALE (1 << 20)
#define PROBE 16
static int scale = 1; /* under team.lock */
static int skipped;   /* loops run alone since the last probe, under team.lock */
static double min_work = EE_PARALLEL_MIN_WORK;
static int64_t load_read; /* when the load average was last read (ns), under team.lock */

/* Under team.lock: scale to MAX_SCALE if the machine is busy with other work. */
static void check_load(int n)
{
	int64_t now = now_ns();
	double load;

	if (now - load_read < 1000000000 && load_read)
		return;
	load_read = now;
	if (getloadavg(&load, 1) == 1 && load >= (double)sysconf(_SC_NPROCESSORS_ONLN) + n)
		scale = MAX_SCALE;
}

void ee_parallel_min_work(double work)
{
	pthread_mutex_lock(&team.lock);
	min_work = work < 0 ? EE_PARALLEL_MIN_WORK : work;
	scale = 1;
	skipped = 0;
	pthread_mutex_unlock(&team.lock);
}

void ee_parallel_for(int n, long count, double work, ee_loop_fn *fn, void *ctx)
{
	uint32_t s;
	long grain, mine;
	bool slept;

	if (n > threads)
		n = threads;
	if (count <= 0)
		return;
	if (n <= 1 || count == 1 || in_task || work < min_work || count > INT_MAX ||
	    pthread_mutex_trylock(&team.lock)) {
		fn(ctx, 0, count, 0);
		return;
	}
	if (min_work > 0)
		check_load(n);
	if (work < min_work * scale && ++skipped < PROBE) {
		pthread_mutex_unlock(&team.lock);
		fn(ctx, 0, count, 0);
		return;
	}
	skipped = 0;
	n = start_helpers(n);
	if (n > count)
		n = (int)count;
	/* ranges small enough that a late helper's share is small, large enough to make the
	 * claims cheap */
	grain = count / ((long)n * 8);
	if (grain < 1)
		grain = 1;
	s = publish(n, fn, NULL, ctx, count, grain);
	mine = run_ranges(s, 0);
	slept = wait_done((uint32_t)count);
	if (slept || (count - mine) * 2 * n < count * (n - 1))
		scale = scale * 2 > MAX_SCALE ? MAX_SCALE : scale * 2;
	else
		scale = scale / 4 > 1 ? scale / 4 : 1;
	pthread_mutex_unlock(&team.lock);
}

void ee_team_each(int n, void (*fn)(void *ctx, int tid), void *ctx)
{
	if (n > threads)
		n = threads;
	if (n <= 1 || in_task) {
		fn(ctx, my_tid);
		return;
	}
	pthread_mutex_lock(&team.lock);
	n = start_helpers(n);
	publish(n, NULL, fn, ctx, n, 1);
	fn(ctx, 0);
	atomic_fetch_add(&team.done, 1);
	wait_done((uint32_t)n);
	pthread_mutex_unlock(&team.lock);
}

void ee_threads_set(int n)
{
	threads = n < 1 ? 1 : n > MAX_THREADS ? MAX_THREADS : n;
}

/* OpenBLAS's pthread build (libopenblas0-pthread) starts its pool when the library is
 * loaded, before any constructor of ours: one thread per CPU but the caller, each spinning
 * (sched_yield in a loop) for about 2^28 TSC cycles, a tenth of a second, before it sleeps.
 * Setting its thread count to 1 does not stop them. On a 2-CPU machine that spinner shares
 * the second CPU with our second thread for the first tenth of a second of every process:
 * `eeprof eval` of a small model (sdresnet18 sample, batch 8, 256 images, streams), whose
 * inference starts within that time and lasts 50 ms, ran at 0.92-0.98x of one thread in 10
 * of 12 alternated pairs and at 1.9x in the other 2 (2026-12-05 04:22 UTC, load 0.2-0.5);
 * with OPENBLAS_NUM_THREADS=1 it ran at 1.9x. Its batches on the second thread took 14-18 ms
 * instead of 1.6 ms whenever the spinner held the CPU. blas_thread_shutdown_ (OpenBLAS's own
 * fork handler) ends the pool; OpenBLAS would start it again only for a call that may use
 * more than one thread (eeprof sets its count to 1, once: openblas_set_num_threads starts
 * the pool again when it is down, so ee_threads_set does not call it). Weak: other BLAS
 * builds (serial, OpenMP) have no such symbol and no such pool. */
extern int blas_thread_shutdown_(void) __attribute__((weak));

/* One thread until told otherwise, and no OpenBLAS pool. */
__attribute__((constructor)) static void threads_init(void)
{
	ee_threads_set(1);
	openblas_set_num_threads(1);
	if (blas_thread_shutdown_)
		blas_thread_shutdown_();
}

int ee_thread_id(void)
{
	return my_tid;
}

int ee_in_parallel(void)
{
	return in_task;
}

int ee_threads_get(void)
{
	return threads;
}
