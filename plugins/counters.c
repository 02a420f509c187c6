/*
 * counters.c - counter sets: parsing the spec, the back-end table, the per-node
 * hooks that difference each node's channels into its lane, and the sums. See
 * counters.h.
 */
#include "counters.h"

#include "../core/threads.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const struct ee_counter_backend ee_counters_papi, ee_counters_fake;

const struct ee_counter_backend *const ee_counter_backends[] = {
	&ee_counters_papi,
	&ee_counters_fake,
	NULL,
};

/* ---------------------------------------------------------------- per node sums */

int ee_counts_init(struct ee_counts *t, int nnodes, int nch, struct ee_err *err)
{
	size_t n = nnodes > 0 ? (size_t)nnodes : 1;

	memset(t, 0, sizeof(*t));
	t->nnodes = nnodes;
	t->nch = nch;
	t->v = calloc(n * nch, sizeof(*t->v));
	t->calls = calloc(n, sizeof(*t->calls));
	t->samples = calloc(n, sizeof(*t->samples));
	t->macs = calloc(n, sizeof(*t->macs));
	if (t->v && t->calls && t->samples && t->macs)
		return EE_OK;
	ee_counts_release(t);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for counters");
}

void ee_counts_release(struct ee_counts *t)
{
	free(t->v);
	free(t->calls);
	free(t->samples);
	free(t->macs);
	memset(t, 0, sizeof(*t));
}

void ee_counts_clear(struct ee_counts *t)
{
	memset(t->v, 0, (size_t)t->nnodes * t->nch * sizeof(*t->v));
	memset(t->calls, 0, (size_t)t->nnodes * sizeof(*t->calls));
	memset(t->samples, 0, (size_t)t->nnodes * sizeof(*t->samples));
	memset(t->macs, 0, (size_t)t->nnodes * sizeof(*t->macs));
}

/* t += a, node by node. */
static void counts_add(struct ee_counts *t, const struct ee_counts *a)
{
	size_t i, nv = (size_t)t->nnodes * t->nch;

	for (i = 0; i < nv; i++)
		t->v[i] += a->v[i];
	for (i = 0; i < (size_t)t->nnodes; i++) {
		t->calls[i] += a->calls[i];
		t->samples[i] += a->samples[i];
		t->macs[i] += a->macs[i];
	}
}

/* Executed MACs of node i (stage s) summed over the samples of r's last forward. */
static double node_macs(const struct ee_run *r, int i, int s)
{
	const struct ee_node *nd = &r->m->nodes[i];
	double sum = 0;
	long ran = 0;
	int j;

	for (j = 0; j < r->n; j++) {
		if (r->taken[j] < s)
			continue;
		ran++;
		if (nd->gate_index >= 0)
			sum += nd->cost.gate_macs *
			       r->open[(size_t)nd->gate_index * r->max_batch + j];
	}
	return sum + nd->cost.macs * (double)ran;
}

void ee_counts_add_macs(struct ee_counts *t, const struct ee_run *r)
{
	const struct ee_model *m = r->m;
	int i, s = 0;

	for (i = 0; i < m->nnodes && i < t->nnodes; i++) {
		while (s < m->nexits - 1 && i >= m->stage_end[s])
			s++;
		t->macs[i] += node_macs(r, i, s);
	}
}

void ee_counts_stage(const struct ee_counts *t, const struct ee_model *m, int k, long long *ch,
		     double *macs, long *samples)
{
	int from = k > 0 ? m->stage_end[k - 1] : 0, i, c;

	if (ch)
		memset(ch, 0, (size_t)t->nch * sizeof(*ch));
	if (macs)
		*macs = 0;
	if (samples)
		*samples = from < m->stage_end[k] ? t->samples[from] : 0;
	for (i = from; i < m->stage_end[k]; i++) {
		for (c = 0; ch && c < t->nch; c++)
			ch[c] += t->v[(size_t)i * t->nch + c];
		if (macs)
			*macs += t->macs[i];
	}
}

/* ---------------------------------------------------------------- the hooks */

/*
 * Reads happen at the end of every node; the begin of a node reuses the end of the one
 * before it when that ran just before in the same lane and stage (only the executor's
 * bookkeeping between two nodes, a few instructions, goes to the next node), and reads
 * afresh at the first node of a stage (exit decisions and compaction come before it).
 * This halves the reads of a forward.
 */
static void hook_begin(void *ctx, int lane, int node)
{
	struct ee_counters *c = ctx;
	struct ee_counter_lane *l = &c->lanes[lane];

	if (node != l->last + 1 || c->fresh[node])
		c->be->read(c->state, l->start);
}

static void hook_end(void *ctx, int lane, int node, int n)
{
	struct ee_counters *c = ctx;
	struct ee_counter_lane *l = &c->lanes[lane];
	long long now[EE_CH_MAX], *sum = l->sum.v + (size_t)node * c->nch;
	int ch;

	c->be->read(c->state, now);
	for (ch = 0; ch < c->nch; ch++) {
		sum[ch] += now[ch] - l->start[ch];
		l->start[ch] = now[ch];
	}
	l->last = node;
	l->sum.calls[node]++;
	l->sum.samples[node] += n;
}

/* ---------------------------------------------------------------- the set */

static const struct ee_counter_backend *find_backend(const char *name, size_t len)
{
	int i;

	for (i = 0; ee_counter_backends[i]; i++)
		if (strlen(ee_counter_backends[i]->name) == len &&
		    !strncmp(ee_counter_backends[i]->name, name, len))
			return ee_counter_backends[i];
	return NULL;
}

/* Splits "A,B,C" into names[*n] (copies in buf); EE_ERR_USAGE for bad lists. */
static int split_events(const char *list, char (*names)[EE_COUNTERS_NAME], int *n,
			struct ee_err *err)
{
	const char *p = list;

	*n = 0;
	while (*p) {
		size_t len = strcspn(p, ",");
		int i;

		if (len == 0 || len >= EE_COUNTERS_NAME)
			return ee_err_set(err, EE_ERR_USAGE, "bad event list '%s' (names of 1 to %d "
					  "characters separated by commas)", list,
					  EE_COUNTERS_NAME - 1);
		if (*n == EE_COUNTERS_MAX)
			return ee_err_set(err, EE_ERR_USAGE, "event list '%s' has more than %d "
					  "events", list, EE_COUNTERS_MAX);
		snprintf(names[*n], EE_COUNTERS_NAME, "%.*s", (int)len, p);
		for (i = 0; i < *n; i++)
			if (!strcmp(names[i], names[*n]))
				return ee_err_set(err, EE_ERR_USAGE, "event '%s' is listed twice",
						  names[i]);
		++*n;
		p += len;
		if (*p == ',' && !*++p)
			return ee_err_set(err, EE_ERR_USAGE, "event list '%s' ends with a comma",
					  list);
	}
	return EE_OK;
}

/* "fake:A,B" -> fake and "A,B"; no known prefix: papi and the whole list. */
static int parse_spec(const char *spec, const struct ee_counter_backend **be, const char **list,
		      struct ee_err *err)
{
	const char *colon = strchr(spec, ':');

	*be = ee_counter_backends[0];
	*list = spec;
	if (!strcmp(spec, "none"))
		*list = "";
	else if (!strcmp(spec, "default"))
		*list = EE_COUNTERS_DEFAULT;
	/* "sde:::x" and "perf::x" are PAPI names: only a single colon names a back-end */
	if (!colon || colon[1] == ':' || (colon > spec && colon[-1] == ':'))
		return EE_OK;
	*be = find_backend(spec, (size_t)(colon - spec));
	*list = colon + 1;
	if (!*be)
		return ee_err_set(err, EE_ERR_USAGE, "unknown counter source '%.*s' (papi or fake)",
				  (int)(colon - spec), spec);
	return EE_OK;
}

/* One warning naming every event that failed for reason why[i]. */
static void warn_reason(struct ee_counters *c, char (*names)[EE_COUNTERS_NAME], int n,
			const char **why, int i)
{
	char list[EE_COUNTERS_MAX * (EE_COUNTERS_NAME + 2)] = "";
	size_t len = 0;
	int j;

	for (j = i; j < n; j++)
		if (why[j] && !strcmp(why[j], why[i]))
			len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s",
						len ? ", " : "", names[j]);
	snprintf(c->warn[c->nwarn++], sizeof(c->warn[0]), "%.180s not counted: %s", list, why[i]);
}

/* Keeps the names the back-end counts; one warning per distinct reason for the rest. */
static void keep_counted(struct ee_counters *c, char (*names)[EE_COUNTERS_NAME], int n,
			 const char **why)
{
	int i, j;

	for (i = 0; i < n; i++) {
		if (!why[i]) {
			memcpy(c->event[c->nevents++], names[i], EE_COUNTERS_NAME);
			continue;
		}
		for (j = 0; j < i && !(why[j] && !strcmp(why[j], why[i])); j++)
			;
		if (j == i) /* the first event of this reason */
			warn_reason(c, names, n, why, i);
	}
	c->nch = EE_CH_EVENTS + c->nevents;
}

int ee_counters_open(struct ee_counters *c, const char *spec, struct ee_err *err)
{
	char names[EE_COUNTERS_MAX][EE_COUNTERS_NAME];
	const char *why[EE_COUNTERS_MAX] = { NULL }, *ptr[EE_COUNTERS_MAX], *list;
	int n = 0, i, rc;

	memset(c, 0, sizeof(*c));
	if ((rc = parse_spec(spec ? spec : "", &c->be, &list, err)) == EE_OK &&
	    (rc = split_events(list, names, &n, err)) == EE_OK) {
		for (i = 0; i < n; i++)
			ptr[i] = names[i];
		rc = c->be->open(&c->state, ptr, n, why, err);
	}
	if (rc < 0) {
		memset(c, 0, sizeof(*c)); /* closing it does nothing */
		return rc;
	}
	keep_counted(c, names, n, why);
	c->hooks.begin = hook_begin;
	c->hooks.end = hook_end;
	c->hooks.ctx = c;
	return EE_OK;
}

int ee_counters_channel(const struct ee_counters *c, const char *event)
{
	int i;

	for (i = 0; i < c->nevents; i++)
		if (!strcmp(c->event[i], event))
			return EE_CH_EVENTS + i;
	return -1;
}

static void free_lanes(struct ee_counters *c)
{
	int l;

	for (l = 0; c->lanes && l < c->nlanes; l++)
		ee_counts_release(&c->lanes[l].sum);
	free(c->lanes);
	free(c->fresh);
	c->lanes = NULL;
	c->fresh = NULL;
	c->nlanes = 0;
}

/* fresh[i]: node i is the first of a stage. */
static int mark_stages(struct ee_counters *c, const struct ee_model *m)
{
	int k;

	c->fresh = calloc((size_t)m->nnodes + 1, 1);
	if (!c->fresh)
		return EE_ERR_NOMEM;
	c->fresh[0] = 1;
	for (k = 0; k < m->nexits - 1; k++)
		if (m->stage_end[k] < m->nnodes)
			c->fresh[m->stage_end[k]] = 1;
	return EE_OK;
}

int ee_counters_attach(struct ee_counters *c, struct ee_run *r, struct ee_err *err)
{
	size_t bytes = ee_align_up((size_t)r->nlanes * sizeof(*c->lanes));
	int l, rc = EE_OK;

	if (c->run)
		ee_counters_detach(c);
	c->lanes = aligned_alloc(64, bytes);
	if (!c->lanes)
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for counters");
	memset(c->lanes, 0, bytes);
	c->nlanes = r->nlanes;
	for (l = 0; l < r->nlanes && rc == EE_OK; l++) {
		rc = ee_counts_init(&c->lanes[l].sum, r->m->nnodes, c->nch, err);
		c->lanes[l].last = -2;
	}
	if (rc == EE_OK && mark_stages(c, r->m) < 0)
		rc = ee_err_set(err, EE_ERR_NOMEM, "out of memory for counters");
	if (rc < 0) {
		free_lanes(c);
		return rc;
	}
	c->run = r;
	r->hooks = &c->hooks;
	return EE_OK;
}

void ee_counters_collect(struct ee_counters *c, struct ee_counts *t)
{
	int l;

	for (l = 0; l < c->nlanes; l++) {
		counts_add(t, &c->lanes[l].sum);
		ee_counts_clear(&c->lanes[l].sum);
	}
}

static void stop_one(void *ctx, int tid)
{
	struct ee_counters *c = ctx;

	(void)tid;
	c->be->thread_done(c->state);
}

/* Every thread of a team as large as the run's lanes stops its counting; the calling
 * thread is thread 0 of that team. */
static void stop_threads(struct ee_counters *c, int threads)
{
	ee_team_each(threads, stop_one, c);
}

void ee_counters_detach(struct ee_counters *c)
{
	const char *why;

	if (!c->run)
		return;
	if (c->run->hooks == &c->hooks)
		c->run->hooks = NULL;
	stop_threads(c, c->run->threads > c->nlanes ? c->run->threads : c->nlanes);
	c->run = NULL;
	free_lanes(c);
	why = c->be->trouble ? c->be->trouble(c->state) : NULL;
	if (why && !c->troubled && c->nwarn < EE_COUNTERS_MAX) {
		snprintf(c->warn[c->nwarn++], sizeof(c->warn[0]), "events of some threads not "
			 "counted (read as 0): %s", why);
		c->troubled = true;
	}
}

void ee_counters_close(struct ee_counters *c)
{
	ee_counters_detach(c);
	if (c->state)
		c->be->close(c->state);
	memset(c, 0, sizeof(*c));
}
