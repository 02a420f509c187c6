/*
 * profile_repeat.h - a profile pass (plugins/profile_dist.h) repeated to time it: --warmup
 * untimed passes, then --repeat timed ones, every time figure of the trace the median of
 * the timed passes (`eeprof report --repeat N --warmup N`).
 *
 * The predictions, MACs and gates are those of the first timed pass (every pass computes
 * the same ones); its seconds, each layer's seconds and CPU seconds and each layer's counted
 * events are replaced by their medians over the timed passes (per layer and per event, so
 * the layers' sum is close to, not exactly, the median of the passes). runs[] gets each
 * timed pass's seconds as measured, for ee_spread_of (reports/spread.h). A timeline
 * (o->timeline) records the first timed pass only.
 *
 * Collective under MPI, as ee_profile_dist: every rank calls it with the same arguments.
 *
 *     double runs[EE_REPEAT_MAX];
 *     rc = ee_profile_repeat(ckpt, data, &o, 5, 1, &t, runs, &err); // 6 passes, 5 timed
 */
#ifndef EE_PROFILE_REPEAT_H
#define EE_PROFILE_REPEAT_H

#include "plugins/profile.h"

/* repeat in [1, EE_REPEAT_MAX], warmup >= 0; runs[repeat]. On failure t is left empty. */
int ee_profile_repeat(const char *checkpoint, const char *data, const struct ee_profile_opts *o,
		      int repeat, int warmup, struct ee_trace *t, double *runs,
		      struct ee_err *err);

#endif
