/*
 * sde.h - eeprof's own numbers as PAPI software-defined events (libsde).
 *
 * Any PAPI-instrumented code in the same process can read, with the ordinary
 * PAPI calls (PAPI_add_named_event, PAPI_start, PAPI_read/PAPI_stop):
 *   sde:::eeprof::macs_executed   MACs executed: per sample, cascade to its exit
 *   sde:::eeprof::gates_open      EMG gates found open in the layers that ran
 *   sde:::eeprof::gates_total     EMG gates evaluated in the layers that ran
 *   sde:::eeprof::samples         samples run
 *   sde:::eeprof::exit_K_taken    samples that left at exit K (K = 1..EE_MAX_EXITS;
 *                                 a forward without early exit: the deepest exit)
 * They are process-wide sums, updated from the run's ledger by ee_sde_record()
 * after each forward (eeprof run does; any loop may). PAPI reports the change
 * between PAPI_start and the read. Registration needs no PAPI initialisation and
 * happens once, before main() in any program that links sde.o (ee_sde_init() is
 * there for programs that load it otherwise).
 *
 *     ee_run_forward(&run, &x);
 *     ee_sde_record(&run);
 */
#ifndef EE_SDE_H
#define EE_SDE_H

#include "core/exec.h"

struct ee_sde_values {
	long long macs_executed, gates_open, gates_total, samples;
	long long exit_taken[EE_MAX_EXITS]; /* [K-1]: exit_K_taken */
};

/* Registers the events with libsde (once; later calls do nothing). */
void ee_sde_init(void);
/* Adds r's last forward: every sample's cascade MACs at r->taken[i], the gates of the
 * gated layers it ran, and its exit. Safe to call from several threads. */
void ee_sde_record(const struct ee_run *r);
/* The totals so far, as PAPI would read them from 0. */
void ee_sde_values(struct ee_sde_values *v);

#endif
