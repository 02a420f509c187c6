/*
 * trace_dist.c - a trace held in parts by the ranks of an MPI job, brought whole to rank 0;
 * see trace_dist.h.
 */
#include "trace_dist.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plugins/dist.h"

int ee_trace_gather(const struct ee_trace *part, struct ee_trace_parts *p, struct ee_err *err)
{
	void *buf = NULL;
	size_t len = 0;
	int rc = EE_OK;

	memset(p, 0, sizeof(*p));
	p->ranks = ee_dist_size();
	if (part->n > 0)
		rc = ee_trace_to_bytes(part, &buf, &len, err);
	if (rc == EE_OK && ee_dist_rank() == 0 &&
	    !(p->lens = calloc((size_t)p->ranks, sizeof(*p->lens))))
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory");
	if ((rc = ee_dist_agree(rc, err)) == EE_OK)
		rc = ee_dist_gather(buf, len, &p->all, p->lens, err);
	free(buf);
	if (rc < 0) {
		ee_trace_parts_release(p);
		return rc;
	}
	for (int r = 0; p->lens && r < p->ranks; r++)
		p->bytes += p->lens[r];
	return EE_OK;
}

int ee_trace_parts_merge(const struct ee_trace_parts *p, struct ee_trace *whole,
			 struct ee_err *err)
{
	int ranks = p->ranks, r, n = 0;
	struct ee_trace *part = calloc((size_t)ranks, sizeof(*part));
	const struct ee_trace **in = calloc((size_t)ranks, sizeof(*in));
	char (*names)[32] = calloc((size_t)ranks, sizeof(*names));
	const char **name = calloc((size_t)ranks, sizeof(*name));
	const char *at = p->all;
	int rc = part && in && names && name ? EE_OK
					     : ee_err_set(err, EE_ERR_NOMEM, "out of memory");

	memset(whole, 0, sizeof(*whole));
	for (r = 0; r < ranks && rc == EE_OK; at += p->lens[r], r++) {
		if (!p->lens[r]) /* a rank without rows sent nothing */
			continue;
		snprintf(names[n], sizeof(names[n]), "rank %d", r);
		name[n] = names[n];
		rc = ee_trace_from_bytes(&part[n], at, p->lens[r], name[n], err);
		in[n] = &part[n];
		n += rc == EE_OK;
	}
	if (rc == EE_OK)
		rc = ee_trace_merge_named(whole, in, name, n, err);
	for (r = 0; r < n; r++)
		ee_trace_release(&part[r]);
	free(part);
	free(in);
	free(names);
	free(name);
	return rc;
}

void ee_trace_parts_release(struct ee_trace_parts *p)
{
	free(p->all);
	free(p->lens);
	memset(p, 0, sizeof(*p));
}
