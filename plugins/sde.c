/*
 * sde.c - eeprof's numbers as PAPI software-defined events; see sde.h.
 *
 * libsde reads registered counters straight from our variables, so they are plain
 * long longs updated with atomic adds and read without locks. They are registered
 * when the program starts (a constructor) and unregistered at exit.
 */
#include "sde.h"

#include <math.h>
#include <pthread.h>
#include <sde_lib.h>
#include <stdio.h>
#include <stdlib.h>

static struct ee_sde_values totals;
static papi_handle_t handle;

static void add(long long *counter, long long v)
{
	__atomic_fetch_add(counter, v, __ATOMIC_RELAXED);
}

/* (No papi_sde_describe_counter: libsde 7.0 then leaks the name at shutdown.) */
static void reg(papi_handle_t h, const char *name, long long *counter)
{
	papi_sde_register_counter(h, name, PAPI_SDE_RO | PAPI_SDE_DELTA, PAPI_SDE_long_long,
				  counter);
}

/* libsde keeps copies of the names until shut down: free them at exit (leak checkers). */
static void unregister_all(void)
{
	papi_sde_shutdown(handle);
}

static void register_all(void)
{
	papi_handle_t h = handle = papi_sde_init("eeprof");
	int k;

	reg(h, "macs_executed", &totals.macs_executed);
	reg(h, "gates_open", &totals.gates_open);
	reg(h, "gates_total", &totals.gates_total);
	reg(h, "samples", &totals.samples);
	for (k = 0; k < EE_MAX_EXITS; k++) {
		char name[32];

		snprintf(name, sizeof(name), "exit_%d_taken", k + 1);
		reg(h, name, &totals.exit_taken[k]);
	}
	atexit(unregister_all);
}

void ee_sde_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, register_all);
}

/*
 * Registered before main() in every program that links this file, so that a PAPI tool
 * finds the events even before eeprof's first inference (libsde 7.0 would otherwise
 * make placeholders, whose names it never frees).
 */
__attribute__((constructor)) static void register_early(void)
{
	ee_sde_init();
}

void ee_sde_record(const struct ee_run *r)
{
	const struct ee_model *m = r->m;
	long long taken[EE_MAX_EXITS] = { 0 }, open = 0, total = 0;
	double macs = 0;
	int i, g, k;

	ee_sde_init();
	for (i = 0; i < r->n; i++) {
		k = r->taken[i];
		taken[k]++;
		macs += ee_run_sample_macs(r, k, i, true);
		for (g = 0; g < m->ngated; g++) {
			if (!ee_model_node_in_exit(m, m->gated[g], k, true))
				continue;
			open += r->open[(size_t)g * r->max_batch + i];
			total += m->nodes[m->gated[g]].cost.gates;
		}
	}
	add(&totals.macs_executed, llround(macs));
	add(&totals.gates_open, open);
	add(&totals.gates_total, total);
	add(&totals.samples, r->n);
	for (k = 0; k < m->nexits; k++)
		add(&totals.exit_taken[k], taken[k]);
}

void ee_sde_values(struct ee_sde_values *v)
{
	int k;

	v->macs_executed = __atomic_load_n(&totals.macs_executed, __ATOMIC_RELAXED);
	v->gates_open = __atomic_load_n(&totals.gates_open, __ATOMIC_RELAXED);
	v->gates_total = __atomic_load_n(&totals.gates_total, __ATOMIC_RELAXED);
	v->samples = __atomic_load_n(&totals.samples, __ATOMIC_RELAXED);
	for (k = 0; k < EE_MAX_EXITS; k++)
		v->exit_taken[k] = __atomic_load_n(&totals.exit_taken[k], __ATOMIC_RELAXED);
}
