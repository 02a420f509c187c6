/*
 * main.c - eeprof: the subcommand table, global options (--help, --version), `eeprof help
 * CMD` (= `eeprof CMD --help`) and the exit policy.
 *
 * Started by mpirun or srun (plugins/dist.h), every rank runs main(): a distributed
 * command runs on every rank, which share its samples out; any other command runs on
 * rank 0 alone and the other ranks exit with its status. Only rank 0 prints.
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "core/outfile.h"
#include "plugins/dist.h"

struct cmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
	bool dist; /* shares its work out over the ranks of an MPI job */
};

static const struct cmd commands[] = {
	{ "info", cmd_info, "describe a checkpoint: architecture, exits, parameters, MACs", false },
	{ "infer", cmd_infer, "run a checkpoint on an HDF5 batch; write logits, MACs, gates", false },
	{ "eval", cmd_eval, "per-exit accuracy and MACs of a checkpoint on a dataset", true },
	{ "profile", cmd_profile, "one pass over a dataset into a per-sample trace (HDF5)", true },
	{ "run", cmd_run, "real early exit: measured time, counters and MACs against every exit", true },
	{ "merge", cmd_merge, "join the traces of disjoint shards of a dataset", false },
	{ "curve", cmd_curve, "accuracy vs MACs: per-exit points and threshold sweeps of traces", false },
	{ "budget", cmd_budget, "thresholds meeting a MAC budget on validation, applied to test", false },
	{ "gates", cmd_gates, "EMG gate (multi-scale) ratios per layer, by exit and by class", false },
	{ "gallery", cmd_gallery, "grid of the most and least confident images leaving at each exit",
	  false },
	{ "calibration", cmd_calibration,
	  "per-exit calibration: ECE, MCE, Brier, reliability, temperature scaling", false },
	{ "report", cmd_report, "profile + all analyses into a directory: JSON, Markdown, CSV, plots", true },
	{ "diff", cmd_diff, "regression verdicts between two report.json files (CI)", false },
	{ "version", cmd_version, "eeprof's version and those of HDF5, OpenBLAS and PAPI", false },
	{ "dataset", cmd_dataset, "convert a dataset spec (e.g. a folder of JPEGs) into an h5: file",
	  false },
};

#define NCOMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: eeprof <command> [<args>] (eeprof help <command> for details)\n"
		   "       eeprof --version | --help\n\n"
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

/* The command on this job's ranks (see the top); returns this rank's exit status, the same
 * on every rank. */
static int run_command(const struct cmd *c, int argc, char **argv)
{
	int status;

	if (ee_dist_rank() != 0) {
		if (!freopen("/dev/null", "w", stdout))
			return EE_EXIT_INTERNAL;
		return ee_dist_max(c->dist ? c->fn(argc, argv) : 0);
	}
	status = finish_stdout(c->fn(argc, argv));
	return ee_dist_max(status);
}

/* Everything but the command: usage, --help, --version, help CMD, an unknown command. */
static int dispatch(int argc, char **argv)
{
	char version[] = "version", help[] = "--help", *alias[3] = { argv[0], NULL, NULL };
	bool quiet = ee_dist_rank() != 0;
	size_t i;

	if (argc >= 2 && !strcmp(argv[1], "--version")) { /* eeprof version */
		alias[1] = version;
		argc = 2;
		argv = alias;
	} else if (argc > 2 && !strcmp(argv[1], "help")) { /* eeprof CMD --help */
		alias[1] = argv[2];
		alias[2] = help;
		argc = 3;
		argv = alias;
	}
	if (argc < 2) {
		if (!quiet)
			usage(stderr);
		return EE_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
		if (quiet)
			return EE_EXIT_OK;
		usage(stdout);
		return finish_stdout(EE_EXIT_OK);
	}
	for (i = 0; i < NCOMMANDS; i++)
		if (!strcmp(argv[1], commands[i].name))
			return run_command(&commands[i], argc - 1, argv + 1);
	if (!quiet)
		fprintf(stderr, "eeprof: error: unknown command '%s' (eeprof --help lists them)\n",
			argv[1]);
	return EE_EXIT_USAGE;
}

int main(int argc, char **argv)
{
	struct ee_err err = { 0 };
	int status;

	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	signal(SIGHUP, on_signal);
	if (ee_dist_init(&argc, &argv, &err) < 0)
		return ee_fail(&err);
	status = dispatch(argc, argv);
	ee_dist_finalize();
	return status;
}
