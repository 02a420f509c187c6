/*
 * report_dir.c - ee_report_write: every file of a report into its directory under
 * temporary names, renamed into place only when all are complete, report.json last;
 * see report.h.
 */
#include "report.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report_extra.h"

static bool any_gates(const struct ee_report *r)
{
	int i;

	for (i = 0; i < r->nmodels; i++)
		if (r->models[i].ngates)
			return true;
	return false;
}

/* Points of m's time-against-MACs plot (0: none drawn). */
static int layer_points(const struct ee_report_model *m)
{
	struct ee_layer_time *l = ee_report_layer_times_new(m);
	int n = l ? ee_layers_points(l, m->nlayers) : 0;

	free(l);
	return n;
}

/* Files begun in dir, committed together. */
struct outset {
	const char *dir;
	struct ee_out *o;
	int n, cap;
	struct ee_err *err;
	const struct ee_plot_look *look; /* of every plot (its title: accuracy_vs_macs only) */
};

/* Begins dir/name; returns its index, or < 0. */
static int out_begin(struct outset *s, const char *name)
{
	char path[4096];

	if (s->n == s->cap) {
		int cap = s->cap ? 2 * s->cap : 16;
		struct ee_out *o = realloc(s->o, (size_t)cap * sizeof(*o));

		if (!o)
			return ee_err_set(s->err, EE_ERR_NOMEM, "out of memory");
		s->o = o;
		s->cap = cap;
	}
	if (snprintf(path, sizeof(path), "%s/%s", s->dir, name) >= (int)sizeof(path))
		return ee_err_set(s->err, EE_ERR_USAGE, "output directory name is too long");
	if (ee_out_begin(&s->o[s->n], path, s->err) < 0)
		return s->err->code;
	return s->n++;
}

typedef void text_writer(const struct ee_report *r, FILE *f);

static void markdown_plots(const struct ee_report *r, FILE *f)
{
	ee_report_markdown(r, true, f);
}

static void markdown_no_plots(const struct ee_report *r, FILE *f)
{
	ee_report_markdown(r, false, f);
}

static int write_text(struct outset *s, const char *name, text_writer *fn,
		      const struct ee_report *r)
{
	int i = out_begin(s, name);
	FILE *f;

	if (i < 0)
		return i;
	if (!(f = fopen(s->o[i].tmp, "w")))
		return ee_err_set(s->err, EE_ERR_IO, "cannot create '%s': %s", s->o[i].path,
				  strerror(errno));
	fn(r, f);
	if (ferror(f) | fclose(f))
		return ee_err_set(s->err, EE_ERR_IO, "cannot write '%s'", s->o[i].path);
	return EE_OK;
}

/* Begins base.png and base.svg and renders p into them. */
static int write_plot(struct outset *s, const char *base, struct ee_plot *p, const char *program)
{
	static const enum ee_plot_format formats[2] = { EE_PLOT_PNG, EE_PLOT_SVG };
	char name[320];
	int i;

	snprintf(name, sizeof(name), "%s.png", base);
	if ((i = out_begin(s, name)) < 0)
		return i;
	snprintf(name, sizeof(name), "%s.svg", base);
	if (out_begin(s, name) < 0)
		return s->err->code;
	return ee_plot_render(p, program, &s->o[i], formats, 2, s->err);
}

typedef void plot_writer(const struct ee_report *r, const struct ee_report_model *m,
			 struct ee_plot *p);

static void accuracy_plot(const struct ee_report *r, const struct ee_report_model *m,
			  struct ee_plot *p)
{
	(void)m;
	ee_report_plot_accuracy(r, p);
}

static void gates_plot(const struct ee_report *r, const struct ee_report_model *m,
		       struct ee_plot *p)
{
	(void)m;
	ee_report_plot_gates(r, p);
}

static void layers_plot(const struct ee_report *r, const struct ee_report_model *m,
			struct ee_plot *p)
{
	(void)r;
	ee_report_plot_layers(m, p);
}

static int plot(struct outset *s, const char *base, plot_writer *fn, const struct ee_report *r,
		const struct ee_report_model *m, const char *program)
{
	struct ee_plot p;
	int rc = ee_plot_init(&p, s->err);

	if (rc < 0)
		return rc;
	ee_plot_look_apply(&p, s->look);
	if (strcmp(base, "accuracy_vs_macs"))
		p.title = NULL;
	fn(r, m, &p);
	rc = write_plot(s, base, &p, program);
	ee_plot_release(&p);
	return rc;
}

static int plots(struct outset *s, const struct ee_report *r, const char *program)
{
	char base[300], safe[256];
	int i, rc;

	if ((rc = plot(s, "accuracy_vs_macs", accuracy_plot, r, NULL, program)) < 0)
		return rc;
	if (any_gates(r) && (rc = plot(s, "gates", gates_plot, r, NULL, program)) < 0)
		return rc;
	for (i = 0; i < r->nmodels; i++) {
		ee_report_file_name(r->models[i].name, safe, sizeof(safe));
		snprintf(base, sizeof(base), "exits-%s", safe);
		if (r->models[i].ncurve && r->models[i].nexits > 1 && /* one exit: nothing to show */
		    (rc = plot(s, base, ee_report_plot_exits, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "reliability-%s", safe);
		if ((rc = plot(s, base, ee_report_plot_reliability, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "classes-%s", safe);
		if (ee_report_class_plots(&r->models[i]) &&
		    (rc = plot(s, base, ee_report_plot_classes, r, &r->models[i], program)) < 0)
			return rc;
		snprintf(base, sizeof(base), "layers-%s", safe);
		if (layer_points(&r->models[i]) &&
		    (rc = plot(s, base, layers_plot, r, &r->models[i], program)) < 0)
			return rc;
	}
	return EE_OK;
}

/* Makes dir unless it exists; *made tells whether this call created it. */
static int make_dir(const char *dir, bool *made, struct ee_err *err)
{
	struct stat st;

	*made = mkdir(dir, 0777) == 0;
	if (!*made && errno != EEXIST)
		return ee_err_set(err, EE_ERR_IO, "cannot create directory '%s': %s", dir,
				  strerror(errno));
	if (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode))
		return ee_err_set(err, EE_ERR_IO, "'%s' is not a directory", dir);
	return EE_OK;
}

static int write_all(struct outset *s, const struct ee_report *r,
		     const struct ee_report_write_opts *o)
{
	static const struct {
		const char *name;
		text_writer *fn;
	} texts[] = {
		{ "exits.csv", ee_report_csv_exits },
		{ "curve.csv", ee_report_csv_curve },
		{ "gates.csv", ee_report_csv_gates },
		{ "calibration.csv", ee_report_csv_calibration },
		{ "classes.csv", ee_report_csv_classes },
		{ "timing.json", ee_report_timing },
	};
	size_t i;
	int rc;

	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++)
		if ((rc = write_text(s, texts[i].name, texts[i].fn, r)) < 0)
			return rc;
	if (r->val_data[0] && (rc = write_text(s, "budgets.csv", ee_report_csv_budgets, r)) < 0)
		return rc;
	if (o->plots && (rc = plots(s, r, o->gnuplot)) < 0)
		return rc;
	rc = write_text(s, "report.md", o->plots ? markdown_plots : markdown_no_plots, r);
	return rc < 0 ? rc : write_text(s, "report.json", ee_report_json, r);
}

int ee_report_write(const struct ee_report *r, const char *dir,
		    const struct ee_report_write_opts *o, struct ee_err *err)
{
	struct outset s = { dir, NULL, 0, 0, err, o->look };
	bool made;
	int rc, i;

	if ((rc = make_dir(dir, &made, err)) < 0)
		return rc;
	rc = write_all(&s, r, o);
	for (i = 0; i < s.n; i++) { /* in order: report.json, begun last, is renamed last */
		if (rc == EE_OK)
			rc = ee_out_commit(&s.o[i], err);
		else
			ee_out_abort(&s.o[i]);
	}
	free(s.o);
	if (rc < 0 && made)
		rmdir(dir); /* a directory this run made holds nothing after a failure */
	return rc;
}
