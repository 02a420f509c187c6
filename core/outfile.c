/* outfile.c - output files renamed into place when complete; see outfile.h. */
#include "outfile.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* Temporary files to remove if a signal ends the process (a report holds about 30:
 * its texts, two files per plot and a gnuplot log). */
#define MAX_PENDING 64
static char pending[MAX_PENDING][4200];
static volatile sig_atomic_t npending;

static void pending_set(const char *tmp, int add)
{
	int i;

	for (i = 0; i < MAX_PENDING; i++) {
		if (add && !pending[i][0]) {
			snprintf(pending[i], sizeof(pending[i]), "%s", tmp);
			npending++;
			return;
		}
		if (!add && !strcmp(pending[i], tmp)) {
			pending[i][0] = '\0';
			npending--;
			return;
		}
	}
}

void ee_out_cleanup_signal(void)
{
	int i;

	for (i = 0; i < MAX_PENDING && npending > 0; i++)
		if (pending[i][0])
			unlink(pending[i]);
}

int ee_out_begin(struct ee_out *o, const char *path, struct ee_err *err)
{
	if (strlen(path) >= sizeof(o->path))
		return ee_err_set(err, EE_ERR_USAGE, "output path is too long");
	snprintf(o->path, sizeof(o->path), "%s", path);
	snprintf(o->tmp, sizeof(o->tmp), "%s.tmp-%ld", path, (long)getpid());
	pending_set(o->tmp, 1);
	return EE_OK;
}

int ee_out_commit(struct ee_out *o, struct ee_err *err)
{
	pending_set(o->tmp, 0);
	if (rename(o->tmp, o->path) < 0) {
		unlink(o->tmp);
		return ee_err_set(err, EE_ERR_IO, "cannot write '%s'", o->path);
	}
	return EE_OK;
}

void ee_out_abort(struct ee_out *o)
{
	pending_set(o->tmp, 0);
	unlink(o->tmp);
}
