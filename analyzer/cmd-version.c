/*
 * cmd-version.c - `eeprof version` (also `eeprof --version`): eeprof's version and the
 * versions of HDF5, OpenBLAS and PAPI it was built with, and those loaded now.
 *
 * Text: "eeprof 0.2.0", then one line per library, "HDF5 1.10.8", with "(running X)"
 * when the loaded library is another version, and what OpenBLAS says of its CPU core.
 * JSON (--json): schema_version, generator, version, libraries[] {name, built, running,
 * detail} (docs/version.md).
 */
#include <stdio.h>
#include <string.h>

#include "analyzer.h"
#include "core/version.h"
#include "reports/json.h"

static const char synopsis[] = "eeprof version [--json]";

static void print_json(const struct ee_lib_version *v)
{
	struct ee_json j;
	int i;

	ee_json_init(&j, stdout);
	ee_json_begin(&j, NULL, '{');
	ee_json_stamp(&j);
	ee_json_str(&j, "version", EE_VERSION);
	ee_json_begin(&j, "libraries", '[');
	for (i = 0; i < EE_NLIBS; i++) {
		ee_json_begin(&j, NULL, '{');
		ee_json_str(&j, "name", v[i].name);
		ee_json_str(&j, "built", v[i].built);
		ee_json_str(&j, "running", v[i].running);
		ee_json_str(&j, "detail", v[i].detail);
		ee_json_end(&j);
	}
	ee_json_end(&j);
	ee_json_end(&j);
}

static void print_text(const struct ee_lib_version *v)
{
	int i;

	printf("%s\n", ee_generator());
	printf("built with:\n");
	for (i = 0; i < EE_NLIBS; i++) {
		printf("  %-9s %s", v[i].name, v[i].built);
		if (v[i].running[0] && strcmp(v[i].running, v[i].built))
			printf(" (running %s)", v[i].running);
		if (v[i].detail[0])
			printf(" (%s)", v[i].detail);
		putchar('\n');
	}
}

static int body(void *ctx, const char **pos, int npos, struct ee_err *err)
{
	struct ee_lib_version v[EE_NLIBS];

	(void)pos;
	(void)npos;
	(void)err;
	ee_lib_versions(v);
	if (*(const bool *)ctx)
		print_json(v);
	else
		print_text(v);
	return EE_OK;
}

int cmd_version(int argc, char **argv)
{
	bool json = false;
	const struct ee_opt opts[] = {
		EE_OPT_JSON(&json),
		{ 0 },
	};

	return ee_cli_main(argc, argv, synopsis, opts, 0, 0, body, &json);
}
