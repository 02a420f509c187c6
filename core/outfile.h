/*
 * outfile.h - output files that appear whole or not at all.
 *
 * An output file is written under a temporary name in the same directory and
 * renamed into place only when complete, so an interrupted or failed run never
 * leaves a half-written file under the name the user asked for. The temporary
 * names still pending are registered so that a signal handler can remove them
 * (ee_out_cleanup_signal). HDF5 files are created with ee_out_h5create (core/h5io.h).
 *
 *     struct ee_out o;
 *     FILE *f;
 *     if (ee_out_begin(&o, "report.md", &err) < 0) return err.code;
 *     f = fopen(o.tmp, "w");                // write everything, then fclose(f)
 *     ok ? ee_out_commit(&o, &err) : ee_out_abort(&o);
 */
#ifndef EE_OUTFILE_H
#define EE_OUTFILE_H

#include "core/status.h"

/* An output file written under a temporary name, renamed on commit. */
struct ee_out {
	char path[4096]; /* final name */
	char tmp[4200];  /* temporary name in the same directory */
};
/* Chooses the temporary name and registers it for removal if the process is interrupted. */
int ee_out_begin(struct ee_out *o, const char *path, struct ee_err *err);
/* Renames tmp to path (after the caller closed it). */
int ee_out_commit(struct ee_out *o, struct ee_err *err);
/* Removes tmp (after a failure). */
void ee_out_abort(struct ee_out *o);
/* Unlinks every temporary file still registered: call from a signal handler. */
void ee_out_cleanup_signal(void);

#endif
