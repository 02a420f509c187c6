/*
 * threads.h - the one thread team of libee and its parallel loop.
 *
 * eeprof runs its parallel loops on its own small team (threads.c), not on the
 * OpenMP runtime: an OpenMP loop ends in a barrier that every thread of the team
 * must reach, so when a neighbour process holds the core of one thread the whole
 * layer waits for a scheduler time slice (a few ms), and at batch 1 two threads
 * ran 20-50x slower than one. Here a loop's items are claimed in small ranges by
 * whoever is running: the calling thread takes part and never waits for a helper
 * that has not started; it waits only for ranges a helper has claimed and is
 * still computing. So a late or descheduled helper costs at most its own range.
 *
 * Wait policy (passive, deliberately): on a machine shared with other processes a
 * spinning thread takes CPU time from its own process (Linux schedules each session's
 * threads as one group with one share), so an idle helper spins only EE_SPIN_NS, enough
 * for back-to-back loops, then sleeps on a futex until the next loop wakes it; the
 * caller waiting for ranges a helper holds spins the same time, then sleeps too.
 *
 * Per-loop decision: a loop whose estimated work (in MACs, or about 4 per float of
 * memory-bound work) is below EE_PARALLEL_MIN_WORK runs on the calling thread only,
 * without waking anybody. The threshold adapts to the machine (threads.c): loops in
 * which the helpers did little, or for which the caller had to sleep, raise it (on a
 * saturated machine until nothing is split), loops that paid off lower it again, and
 * one loop in 16 that would be split on a free machine is split to find out; a load
 * average of at least the CPUs plus our threads starts it at "nothing is split". Loops nested in a parallel loop run on the
 * thread that calls them. OpenBLAS is kept single-threaded and called from the team
 * (ee_gemm splits a large product into blocks).
 */
#ifndef EE_THREADS_H
#define EE_THREADS_H

#define EE_SPIN_NS 5000             /* spinning before sleeping: 5 us */
#define EE_PARALLEL_MIN_WORK 131072 /* smaller loops stay on the calling thread (~10 us) */

/* n >= 1 threads for eeprof's loops and products (call before ee_run_init). */
void ee_threads_set(int n);
int ee_threads_get(void);
/* The calling thread's index in the team (0: the thread that called the loop, and
 * every thread outside the team). */
int ee_thread_id(void);
/* True while the calling thread computes items of a parallel loop. */
int ee_in_parallel(void);

/* Items [lo, hi) of a loop on team thread tid, 0 <= tid < the loop's threads (the index
 * of the thread's scratch area; 0 when the loop runs on the calling thread alone). */
typedef void ee_loop_fn(void *ctx, long lo, long hi, int tid);

/*
 * fn over items [0, count) on at most `threads` threads; work is the loop's estimated
 * cost (see above). Returns when every item is done. Runs fn(ctx, 0, count, 0) on the
 * calling thread when the loop is small, nested, or the team is busy with another caller.
 */
void ee_parallel_for(int threads, long count, double work, ee_loop_fn *fn, void *ctx);

/* Tests: loops of at least `work` are split (0: every loop; negative: the default
 * EE_PARALLEL_MIN_WORK); also forgets what the team learnt about the machine. Call it
 * while no loop runs. */
void ee_parallel_min_work(double work);

/* fn(ctx, tid) once on each of threads 0..threads-1 of the team (per-thread setup and
 * teardown, e.g. counters); waits for all of them. */
void ee_team_each(int threads, void (*fn)(void *ctx, int tid), void *ctx);

#endif
