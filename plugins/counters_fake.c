/*
 * counters_fake.c - the "fake" counter source: known values where no counter exists.
 *
 * Each thread keeps its own count of reads r (1, 2, ...), and read number r yields
 *   real = 1000 r, virtual = 500 r, event i = 10 (i + 1) r,
 * so every begin/end pair of a node adds exactly 1000, 500 and 10 (i + 1): a node's
 * sums are those steps times its calls, whatever lane or thread ran it. Events whose
 * name starts with "BAD" exist but cannot be counted (reason FAKE_REASON), to exercise the
 * warnings; names starting with "NOSUCH" do not exist at all (a usage error, as PAPI's
 * unknown names are). Used by tests/unit/check_counters.c and by `--counters fake:...`.
 */
#include <stdlib.h>
#include <string.h>

#include "counters.h"

#define FAKE_REASON "Event exists but cannot be counted here (fake source)"

struct fake {
	unsigned long id; /* tells this set's per-thread count from an older set's */
	int nevents;
};

/* The calling thread's read count for the set it last read. */
static _Thread_local struct {
	unsigned long owner;
	long long reads;
} mine;

static int fake_open(void **state, const char *const *events, int n, const char **why,
		     struct ee_err *err)
{
	static unsigned long next_id;
	struct fake *f = calloc(1, sizeof(*f));
	int i;

	if (!f)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	f->id = __atomic_add_fetch(&next_id, 1, __ATOMIC_RELAXED);
	for (i = 0; i < n; i++)
		if (!strncmp(events[i], "NOSUCH", 6)) {
			free(f);
			return ee_err_set(err, EE_ERR_USAGE, "unknown event '%s': Event does not "
					  "exist (fake source)", events[i]);
		}
	for (i = 0; i < n; i++) {
		why[i] = strncmp(events[i], "BAD", 3) ? NULL : FAKE_REASON;
		f->nevents += !why[i];
	}
	*state = f;
	return EE_OK;
}

static void fake_read(void *state, long long *ch)
{
	const struct fake *f = state;
	int i;

	if (mine.owner != f->id) {
		mine.owner = f->id;
		mine.reads = 0;
	}
	mine.reads++;
	ch[EE_CH_REAL] = 1000 * mine.reads;
	ch[EE_CH_VIRT] = 500 * mine.reads;
	for (i = 0; i < f->nevents; i++)
		ch[EE_CH_EVENTS + i] = 10LL * (i + 1) * mine.reads;
}

static void fake_thread_done(void *state)
{
	const struct fake *f = state;

	if (mine.owner == f->id)
		mine.owner = 0;
}

static void fake_close(void *state)
{
	free(state);
}

const struct ee_counter_backend ee_counters_fake = {
	.name = "fake",
	.open = fake_open,
	.read = fake_read,
	.thread_done = fake_thread_done,
	.close = fake_close,
};
