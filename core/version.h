/*
 * version.h - eeprof's version, the schema version of its JSON outputs, and the versions
 * of the libraries it was built with and runs with (eeprof --version).
 *
 * EE_VERSION is the Makefile's VERSION, which passes it as -DEE_VERSION="..." to every
 * compilation: one place to change it, shared by the program, libee.so's file name and
 * eeprof.pc. A build outside the Makefile must pass it too.
 *
 *     printf("%s\n", ee_generator());           // "eeprof 0.2.0"
 *     struct ee_lib_version v[EE_NLIBS];
 *     ee_lib_versions(v);                       // v[0].name "HDF5", v[0].built "1.10.8"
 */
#ifndef EE_VERSION_H
#define EE_VERSION_H

#ifndef EE_VERSION
#error "EE_VERSION is the Makefile's VERSION: compile with -DEE_VERSION='\"x.y.z\"'"
#endif

/*
 * schema_version of every JSON eeprof writes (info, eval, curve, gates, budget, run,
 * version, report.json, timing.json; docs/ describes each). Adding a field keeps it;
 * removing one or changing its meaning or unit raises it.
 */
#define EE_SCHEMA_VERSION 1

/* "eeprof <EE_VERSION>": the generator field of every JSON output. */
const char *ee_generator(void);

#define EE_NLIBS 3

/* A library eeprof links: the version of its headers at build time, and of the shared
 * library loaded now (they differ when the library was upgraded after the build). */
struct ee_lib_version {
	const char *name; /* "HDF5", "OpenBLAS", "PAPI" */
	char built[32];   /* "1.10.8" */
	char running[32]; /* "1.10.8" */
	char detail[96];  /* what else the library says of itself (OpenBLAS: its CPU core), or "" */
};

/* Fills v[0..EE_NLIBS): HDF5, OpenBLAS, PAPI. */
void ee_lib_versions(struct ee_lib_version v[EE_NLIBS]);

#endif
