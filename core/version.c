/* version.c - versions of eeprof and of the libraries it links (see version.h). */
#include "version.h"

#include <stdio.h>
#include <string.h>

#include <cblas.h>
#include <hdf5.h>
#include <papi.h>

const char *ee_generator(void)
{
	return "eeprof " EE_VERSION;
}

/* " OpenBLAS 0.3.21 " -> "0.3.21"; from "OpenBLAS 0.3.21 NO_LAPACKE ... Haswell ..." the
 * version and the rest. */
static void openblas_words(const char *s, char *version, size_t vsize, char *rest, size_t rsize)
{
	size_t n;

	s += strspn(s, " ");
	if (!strncmp(s, "OpenBLAS", 8))
		s += 8;
	s += strspn(s, " ");
	n = strcspn(s, " ");
	snprintf(version, vsize, "%.*s", (int)n, s);
	s += n;
	s += strspn(s, " ");
	if (rest)
		snprintf(rest, rsize, "%s", s);
}

static void papi_version(char *buf, size_t size, int v)
{
	snprintf(buf, size, "%d.%d.%d.%d", PAPI_VERSION_MAJOR(v), PAPI_VERSION_MINOR(v),
		 PAPI_VERSION_REVISION(v), PAPI_VERSION_INCREMENT(v));
}

void ee_lib_versions(struct ee_lib_version v[EE_NLIBS])
{
	unsigned maj = 0, min = 0, rel = 0;
	int papi;

	memset(v, 0, EE_NLIBS * sizeof(*v));
	v[0].name = "HDF5";
	snprintf(v[0].built, sizeof(v[0].built), "%d.%d.%d", H5_VERS_MAJOR, H5_VERS_MINOR,
		 H5_VERS_RELEASE);
	if (H5get_libversion(&maj, &min, &rel) >= 0)
		snprintf(v[0].running, sizeof(v[0].running), "%u.%u.%u", maj, min, rel);

	v[1].name = "OpenBLAS";
	openblas_words(OPENBLAS_VERSION, v[1].built, sizeof(v[1].built), NULL, 0);
	openblas_words(openblas_get_config(), v[1].running, sizeof(v[1].running), v[1].detail,
		       sizeof(v[1].detail));

	v[2].name = "PAPI";
	papi_version(v[2].built, sizeof(v[2].built), PAPI_VERSION);
	papi = PAPI_get_opt(PAPI_LIB_VERSION, NULL);
	if (papi > 0)
		papi_version(v[2].running, sizeof(v[2].running), papi);
}
