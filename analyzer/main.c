/*
 * main.c - eeprof: the subcommand table, global options and the exit policy.
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "checkpoints/h5io.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct cmd commands[] = {
	{ "info", cmd_info, "describe a checkpoint: architecture, exits, parameters, MACs" },
	{ "infer", cmd_infer, "run a checkpoint on an HDF5 batch; write logits, MACs, gates" },
	{ "eval", cmd_eval, "per-exit accuracy and MACs of a checkpoint on a dataset" },
	{ "profile", cmd_profile, "one pass over a dataset into a per-sample trace (HDF5)" },
	{ "run", cmd_run, "real early exit: measured time, counters and MACs against every exit" },
	{ "merge", cmd_merge, "join the traces of disjoint shards of a dataset" },
	{ "curve", cmd_curve, "accuracy vs MACs: per-exit points and threshold sweeps of traces" },
	{ "budget", cmd_budget, "thresholds meeting a MAC budget on validation, applied to test" },
	{ "gates", cmd_gates, "EMG gate (multi-scale) ratios per layer, by exit and by class" },
	{ "calibration", cmd_calibration,
	  "per-exit calibration: ECE, MCE, Brier, reliability, temperature scaling" },
	{ "report", cmd_report, "profile + all analyses into a directory: JSON, Markdown, CSV, plots" },
	{ "diff", cmd_diff, "regression verdicts between two report.json files (CI)" },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: eeprof <command> [<args>] (eeprof <command> --help for details)\n\n"
		   "eeprof audits early-exit CNNs (EMGNet, SD-ResNet, SCAN, ResNet): exact\n"
		   "inference from HDF5 checkpoints, executed MACs per exit and gate.\n\ncommands:\n");
	for (i = 0; i < NCOMMANDS; i++)
		fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
	fprintf(f, "\nexit status: 0 ok, 1 regression (diff), 2 usage, 3 bad input, 4 internal\n");
}

/* Removes temporary output files, then dies of the same signal. */
static void on_signal(int sig)
{
	ee_out_cleanup_signal();
	signal(sig, SIG_DFL);
	raise(sig);
}

static int finish_stdout(int status)
{
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "eeprof: error: write failure on standard output\n");
		return status ? status : EE_EXIT_INPUT;
	}
	return status;
}

int main(int argc, char **argv)
{
	size_t i;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (argc < 2) {
		usage(stderr);
		return EE_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		usage(stdout);
		return finish_stdout(EE_EXIT_OK);
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return finish_stdout(commands[i].fn(argc - 1, argv + 1));
	fprintf(stderr, "eeprof: error: unknown command '%s' (eeprof --help lists them)\n", argv[1]);
	return EE_EXIT_USAGE;
}
