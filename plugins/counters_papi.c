/*
 * counters_papi.c - the "papi" counter source: PAPI events and PAPI's clocks.
 *
 * PAPI counts per thread: an event set belongs to the thread that started it, and
 * holds events of one component only. So open() checks each event in the calling
 * thread (name known, added, and the set still starts with it: a PMU has few
 * counters), remembers the codes grouped by component, and every thread that reads
 * makes its own sets at its first read (PAPI_register_thread, create, add, start)
 * and reads them with PAPI_read while they run; thread_done() stops them. Per-thread
 * state is thread-local and tagged with the set's id, so a thread that still holds
 * the sets of a closed counter set stops them before making new ones.
 *
 * A name PAPI does not know at all is a usage error (EE_ERR_USAGE with PAPI's message): a
 * preset (PAPI_*) PAPI has no entry for, or a native name whose component is enabled but
 * has no such event (or that no component owns). PAPI cannot look up native names of a
 * disabled component (perf_event on a VM without a PMU): those, like known events that
 * cannot be counted here, are dropped with the reason (a warning).
 *
 * PAPI is initialised once with a thread id function (pthread_self) unless the
 * process already did; if that fails every event is reported with PAPI's reason and
 * CPU time comes from clock_gettime (thread CPU time). Real time is always the
 * monotonic clock read directly: PAPI_get_real_nsec gives the same wall time but
 * cost 380 ns a call on our VMs against 45 ns, and it is read at every layer.
 */
#include <papi.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "counters.h"

struct papi {
	unsigned long id;
	bool clocks;                    /* PAPI is initialised: its CPU clock */
	int nevents;
	int code[EE_COUNTERS_MAX];      /* counted events, in the caller's order */
	int set_of[EE_COUNTERS_MAX];    /* which of a thread's sets holds event i ... */
	int pos_of[EE_COUNTERS_MAX];    /* ... at which position */
	int nsets;
	int comp[EE_COUNTERS_MAX];      /* component of set s */
	const char *trouble;            /* first failure in another thread, or NULL */
};

/* The calling thread's event sets for the counter set `owner`. */
static _Thread_local struct {
	unsigned long owner;
	int nsets;
	int set[EE_COUNTERS_MAX];
	bool broken;
} mine;

static unsigned long thread_id(void)
{
	return (unsigned long)pthread_self();
}

static int init_status;
static char init_reason[160];

static void init_once(void)
{
	int v = (int)PAPI_VER_CURRENT;

	if (PAPI_is_initialized() == PAPI_NOT_INITED)
		v = PAPI_library_init(PAPI_VER_CURRENT);
	if (v != (int)PAPI_VER_CURRENT) {
		init_status = v < 0 ? v : PAPI_EINVAL;
		snprintf(init_reason, sizeof(init_reason), "PAPI could not be initialised: %s",
			 v < 0 ? PAPI_strerror(v) : "version mismatch");
		return;
	}
	PAPI_thread_init(thread_id); /* fails harmlessly if the process set one already */
}

/* PAPI_OK once PAPI is ready, else a PAPI error (init_reason says why). */
static int papi_ready(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
	return init_status;
}

/* Stops and frees the calling thread's sets, whoever they belonged to. */
static void drop_mine(void)
{
	long long sink[EE_COUNTERS_MAX];
	int s;

	for (s = 0; s < mine.nsets; s++) {
		PAPI_stop(mine.set[s], sink);
		PAPI_cleanup_eventset(mine.set[s]);
		PAPI_destroy_eventset(&mine.set[s]);
	}
	mine.nsets = 0;
	mine.owner = 0;
}

/* Makes and starts set s of p in the calling thread; PAPI_OK or an error. */
static int make_set(const struct papi *p, int s, int *set)
{
	int i, rc;

	*set = PAPI_NULL;
	if ((rc = PAPI_create_eventset(set)) != PAPI_OK)
		return rc;
	for (i = 0; i < p->nevents; i++)
		if (p->set_of[i] == s && (rc = PAPI_add_event(*set, p->code[i])) != PAPI_OK)
			return rc;
	return PAPI_start(*set);
}

/* The calling thread's sets for p, made at its first read; false if they failed. */
static bool thread_sets(struct papi *p)
{
	int s, rc = PAPI_OK;

	if (mine.owner == p->id)
		return !mine.broken;
	drop_mine();
	mine.owner = p->id;
	mine.broken = false;
	PAPI_register_thread();
	for (s = 0; s < p->nsets && rc == PAPI_OK; s++) {
		rc = make_set(p, s, &mine.set[s]);
		mine.nsets = s + 1;
	}
	if (rc != PAPI_OK) {
		const char *none = NULL;

		mine.broken = true;
		__atomic_compare_exchange_n(&p->trouble, &none, PAPI_strerror(rc), false,
					    __ATOMIC_RELAXED, __ATOMIC_RELAXED);
	}
	return !mine.broken;
}

/* Set s of the component comp, made if new; -1 if all are taken. */
static int set_for(struct papi *p, int comp)
{
	int s;

	for (s = 0; s < p->nsets; s++)
		if (p->comp[s] == comp)
			return s;
	if (p->nsets == EE_COUNTERS_MAX)
		return -1;
	p->comp[p->nsets] = comp;
	return p->nsets++;
}

/* The component a native name names ("perf::CYCLES", "sde:::eeprof::x": before "::"), or
 * with no prefix the CPU's (perf_event, component 0); -1 if no component has that name. */
static int component_of(const char *name)
{
	const char *sep = strstr(name, "::");
	int cid, n = PAPI_num_components();

	if (!sep)
		return n > 0 ? 0 : -1;
	for (cid = 0; cid < n; cid++) {
		const PAPI_component_info_t *c = PAPI_get_component_info(cid);
		size_t len = (size_t)(sep - name);

		if (c && ((strlen(c->name) == len && !strncmp(c->name, name, len)) ||
			  (strlen(c->short_name) == len && !strncmp(c->short_name, name, len))))
			return cid;
	}
	return -1;
}

/* Why PAPI could not look name up (PAPI_event_name_to_code failed): NULL when PAPI does
 * not know the name at all, else the reason it may exist but cannot be looked up here (its
 * component is disabled; static text). */
static const char *lookup_failure(const char *name)
{
	static char reason[EE_COUNTERS_MAX][240];
	static int next;
	const PAPI_component_info_t *c;
	int cid;

	if (!strncmp(name, "PAPI_", 5) || (cid = component_of(name)) < 0 ||
	    !(c = PAPI_get_component_info(cid)) || !c->disabled)
		return NULL;
	next = (next + 1) % EE_COUNTERS_MAX;
	snprintf(reason[next], sizeof(reason[next]), "PAPI component %.40s is disabled (%.160s)",
		 c->name, c->disabled_reason);
	return reason[next];
}

/* Tries event name in the probe sets of this thread; NULL if it counts, else PAPI's
 * reason. A set that no longer starts with it gives it back. */
static const char *probe(struct papi *p, int *probes, const char *name)
{
	long long sink[EE_COUNTERS_MAX];
	int code, s, rc;

	if ((rc = PAPI_event_name_to_code(name, &code)) != PAPI_OK)
		return lookup_failure(name);
	if ((s = set_for(p, PAPI_get_event_component(code))) < 0)
		return "too many PAPI components";
	if (probes[s] == PAPI_NULL && (rc = PAPI_create_eventset(&probes[s])) != PAPI_OK)
		return PAPI_strerror(rc);
	if ((rc = PAPI_add_event(probes[s], code)) != PAPI_OK)
		return PAPI_strerror(rc);
	if ((rc = PAPI_start(probes[s])) != PAPI_OK) {
		PAPI_remove_event(probes[s], code);
		return PAPI_strerror(rc);
	}
	PAPI_stop(probes[s], sink);
	p->code[p->nevents] = code;
	p->set_of[p->nevents] = s;
	p->pos_of[p->nevents++] = PAPI_num_events(probes[s]) - 1;
	return NULL;
}

static int papi_open(void **state, const char *const *events, int n, const char **why,
		     struct ee_err *err)
{
	static unsigned long next_id;
	int probes[EE_COUNTERS_MAX], i, s, code, rc;
	struct papi *p = calloc(1, sizeof(*p));

	if (!p)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	p->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	p->clocks = papi_ready() == PAPI_OK;
	for (i = 0; i < n && p->clocks; i++)
		if ((rc = PAPI_event_name_to_code(events[i], &code)) != PAPI_OK &&
		    !lookup_failure(events[i])) {
			free(p);
			return ee_err_set(err, EE_ERR_USAGE, "unknown event '%s': %s (PAPI; "
					  "papi_avail and papi_native_avail list the events)",
					  events[i], PAPI_strerror(rc));
		}
	for (s = 0; s < EE_COUNTERS_MAX; s++)
		probes[s] = PAPI_NULL;
	for (i = 0; i < n; i++)
		why[i] = p->clocks ? probe(p, probes, events[i]) : init_reason;
	for (s = 0; s < EE_COUNTERS_MAX; s++)
		if (probes[s] != PAPI_NULL) {
			PAPI_cleanup_eventset(probes[s]);
			PAPI_destroy_eventset(&probes[s]);
		}
	/* a component whose events all failed keeps an empty set: drop empty ones */
	for (s = p->nsets - 1; s >= 0; s--) {
		for (i = 0; i < p->nevents && p->set_of[i] != s; i++)
			;
		if (i < p->nevents)
			continue;
		for (i = 0; i < p->nevents; i++)
			p->set_of[i] -= p->set_of[i] > s;
		memmove(&p->comp[s], &p->comp[s + 1], (size_t)(p->nsets - s - 1) * sizeof(int));
		p->nsets--;
	}
	*state = p;
	return EE_OK;
}

static long long clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void papi_read(void *state, long long *ch)
{
	struct papi *p = state;
	long long v[EE_COUNTERS_MAX][EE_COUNTERS_MAX];
	int s, i;

	ch[EE_CH_REAL] = clock_ns(CLOCK_MONOTONIC);
	if (!p->clocks) {
		ch[EE_CH_VIRT] = clock_ns(CLOCK_THREAD_CPUTIME_ID);
		return;
	}
	ch[EE_CH_VIRT] = PAPI_get_virt_nsec();
	if (ch[EE_CH_VIRT] < 0)
		ch[EE_CH_VIRT] = clock_ns(CLOCK_THREAD_CPUTIME_ID);
	if (!p->nevents)
		return;
	if (!thread_sets(p)) {
		memset(ch + EE_CH_EVENTS, 0, (size_t)p->nevents * sizeof(*ch));
		return;
	}
	for (s = 0; s < p->nsets; s++)
		if (PAPI_read(mine.set[s], v[s]) != PAPI_OK)
			memset(v[s], 0, sizeof(v[s]));
	for (i = 0; i < p->nevents; i++)
		ch[EE_CH_EVENTS + i] = v[p->set_of[i]][p->pos_of[i]];
}

static void papi_thread_done(void *state)
{
	const struct papi *p = state;

	if (mine.owner == p->id)
		drop_mine();
}

static const char *papi_trouble(void *state)
{
	const struct papi *p = state;

	return __atomic_load_n(&p->trouble, __ATOMIC_RELAXED);
}

static void papi_close(void *state)
{
	papi_thread_done(state);
	free(state);
}

const struct ee_counter_backend ee_counters_papi = {
	.name = "papi",
	.open = papi_open,
	.read = papi_read,
	.thread_done = papi_thread_done,
	.trouble = papi_trouble,
	.close = papi_close,
};
