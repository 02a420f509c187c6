/*
 * trace.c - per-sample traces in memory; see trace.h. (HDF5 reading, writing
 * and merging follow below.)
 */
#include "trace.h"

#include <stdlib.h>
#include <string.h>

static void *array(size_t n, size_t size, bool *ok)
{
	void *p = calloc(n ? n : 1, size);

	if (!p)
		*ok = false;
	return p;
}

int ee_trace_alloc(struct ee_trace *t, int n, int nexits, int num_classes, bool with_softmax,
		   int ngated, const int *channels, int nlayers, struct ee_err *err)
{
	size_t ne = (size_t)n * nexits;
	bool ok = true;
	int g;

	memset(t, 0, sizeof(*t));
	if (n < 0 || nexits < 1 || nexits > EE_MAX_EXITS || num_classes < 1 || ngated < 0 ||
	    nlayers < 0)
		return ee_err_set(err, EE_ERR_INPUT, "trace of %d samples, %d exits, %d classes is "
				  "malformed", n, nexits, num_classes);
	t->n = n;
	t->nexits = nexits;
	t->num_classes = num_classes;
	t->ngated = ngated;
	t->nlayers = nlayers;
	t->index = array(n, sizeof(*t->index), &ok);
	t->label = array(n, sizeof(*t->label), &ok);
	t->pred = array(ne, sizeof(*t->pred), &ok);
	t->maxprob = array(ne, sizeof(*t->maxprob), &ok);
	t->entropy = array(ne, sizeof(*t->entropy), &ok);
	t->margin = array(ne, sizeof(*t->margin), &ok);
	if (with_softmax)
		t->softmax = array(ne * num_classes, sizeof(*t->softmax), &ok);
	t->ens_pred = array(n, sizeof(*t->ens_pred), &ok);
	t->ens_maxprob = array(n, sizeof(*t->ens_maxprob), &ok);
	t->macs = array(ne, sizeof(*t->macs), &ok);
	t->macs_cascade = array(ne, sizeof(*t->macs_cascade), &ok);
	t->gated = array(ngated, sizeof(*t->gated), &ok);
	t->open = array((size_t)n * ngated, sizeof(*t->open), &ok);
	t->bits = array(ngated, sizeof(*t->bits), &ok);
	for (g = 0; ok && g < ngated; g++) {
		t->gated[g].channels = channels[g];
		t->bits[g] = array((size_t)n * channels[g], 1, &ok);
	}
	t->layers = array(nlayers, sizeof(*t->layers), &ok);
	if (ok)
		return EE_OK;
	ee_trace_release(t);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a trace of %d samples", n);
}

void ee_trace_release(struct ee_trace *t)
{
	int i;

	for (i = 0; t->gated && i < t->ngated; i++) {
		free(t->gated[i].name);
		if (t->bits)
			free(t->bits[i]);
	}
	for (i = 0; t->layers && i < t->nlayers; i++) {
		free(t->layers[i].name);
		free(t->layers[i].kind);
	}
	free(t->index);
	free(t->label);
	free(t->pred);
	free(t->maxprob);
	free(t->entropy);
	free(t->margin);
	free(t->softmax);
	free(t->ens_pred);
	free(t->ens_maxprob);
	free(t->macs);
	free(t->macs_cascade);
	free(t->gated);
	free(t->open);
	free(t->bits);
	free(t->layers);
	memset(t, 0, sizeof(*t));
}
