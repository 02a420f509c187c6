/*
 * check_report.c - the gnuplot pipe (reports/plot.h), the report built from a
 * hand-made trace (reports/report.h) and the regression verdicts of diff
 * (reports/diff.h).
 *
 * The plot cases run the real gnuplot (Debian's gnuplot-nox): a good script gives a
 * PNG and an SVG with the right magic bytes; a bad script, a missing program (by
 * name, by path, and with a PATH that lacks it) and a program that draws nothing
 * give an error and leave no file behind, under the real name or a temporary one.
 *
 * The report cases use a 4-sample, 2-exit, 3-class trace whose answers are worked
 * out by hand next to it (make_trace), and check the written directory: every file,
 * byte-identical report.json on a second write, and nothing at all (or the old
 * report untouched) when a plot fails. The diff cases use report JSON written here.
 */
#include <check.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/version.h"
#include "reports/diff.h"
#include "reports/jsonread.h"
#include "reports/plot.h"
#include "reports/report.h"
#include "tests/unit/testutil.h"

#define PATH_SZ 512

/* tu_tmpdir()/sub/name into buf (sub made fresh by the caller with fresh_dir). */
static const char *in_dir(char *buf, const char *dir, const char *name)
{
	int n = snprintf(buf, PATH_SZ, "%s/%s", dir, name);

	ck_assert(n > 0 && n < PATH_SZ);
	return buf;
}

/* A new empty directory under tu_tmpdir() named after the test. */
static const char *fresh_dir(char *buf, const char *name)
{
	in_dir(buf, tu_tmpdir(), name);
	ck_assert_int_eq(mkdir(buf, 0755), 0);
	return buf;
}

/* Entries of dir other than . and .. */
static int count_files(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	ck_assert_ptr_nonnull(d);
	while ((e = readdir(d)))
		n += strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
	closedir(d);
	return n;
}

/* The first n bytes of a file into buf; returns how many were read. */
static size_t head(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	got = fread(buf, 1, n, f);
	fclose(f);
	return got;
}

static void simple_plot(struct ee_plot *p, const char *plot_line)
{
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_plot_init(p, &err), EE_OK);
	fprintf(p->data, "$pts << EOD\n1 0.5\n2 0.7\n3 0.75\nEOD\n");
	fprintf(p->cmds, "set xlabel 'MACs'\nset ylabel 'accuracy'\n%s\n", plot_line);
}

START_TEST(plot_writes_png_and_svg)
{
	char dir[PATH_SZ], png[PATH_SZ], svg[PATH_SZ], buf[256];
	struct ee_err err = { 0 };
	struct ee_plot p;
	size_t n;

	fresh_dir(dir, "plot_ok");
	simple_plot(&p, "plot $pts with linespoints title 'it''s a model_1'");
	ck_assert_int_eq(ee_plot_save(&p, NULL, in_dir(png, dir, "a.png"), in_dir(svg, dir, "a.svg"),
				      &err), EE_OK);
	ee_plot_release(&p);
	ck_assert_uint_eq(head(png, buf, 8), 8);
	ck_assert(!memcmp(buf, "\x89PNG\r\n\x1a\n", 8));
	n = head(svg, buf, sizeof(buf) - 1);
	buf[n] = '\0';
	ck_assert(!strncmp(buf, "<?xml", 5) && strstr(buf, "<svg"));
	ck_assert_int_eq(count_files(dir), 2); /* no temporary or log file left */
}
END_TEST

/* Only an SVG, via ee_plot_render and a caller-side commit. */
START_TEST(plot_render_one_format)
{
	char dir[PATH_SZ], svg[PATH_SZ], buf[8];
	enum ee_plot_format fmt = EE_PLOT_SVG;
	struct ee_err err = { 0 };
	struct ee_plot p;
	struct ee_out out;

	fresh_dir(dir, "plot_render");
	simple_plot(&p, "plot $pts with points");
	ck_assert_int_eq(ee_out_begin(&out, in_dir(svg, dir, "b.svg"), &err), EE_OK);
	ck_assert_int_eq(ee_plot_render(&p, "gnuplot", &out, &fmt, 1, &err), EE_OK);
	ck_assert_int_eq(count_files(dir), 1);
	ck_assert_int_eq(access(svg, F_OK), -1); /* not under its name before the commit */
	ck_assert_int_eq(ee_out_commit(&out, &err), EE_OK);
	ck_assert_uint_eq(head(svg, buf, 5), 5);
	ck_assert(!memcmp(buf, "<?xml", 5));
	ee_plot_release(&p);
}
END_TEST

START_TEST(plot_bad_script_fails_without_files)
{
	char dir[PATH_SZ], png[PATH_SZ], svg[PATH_SZ];
	struct ee_err err = { 0 };
	struct ee_plot p;

	fresh_dir(dir, "plot_bad");
	simple_plot(&p, "plot $pts with lines\nplot no_such_function(x)");
	ck_assert_int_eq(ee_plot_save(&p, NULL, in_dir(png, dir, "a.png"), in_dir(svg, dir, "a.svg"),
				      &err), EE_ERR_IO);
	ck_assert_msg(strstr(err.msg, "gnuplot failed (status 1)") &&
		      strstr(err.msg, "undefined function: no_such_function"), "%s", err.msg);
	ck_assert_int_eq(count_files(dir), 0);
	ee_plot_release(&p);
}
END_TEST

START_TEST(plot_missing_program)
{
	char dir[PATH_SZ], png[PATH_SZ], *path = strdup(getenv("PATH"));
	struct ee_err err = { 0 };
	struct ee_plot p;

	fresh_dir(dir, "plot_missing");
	in_dir(png, dir, "a.png");
	simple_plot(&p, "plot $pts");
	ck_assert_int_eq(ee_plot_save(&p, "no-such-gnuplot", png, NULL, &err), EE_ERR_IO);
	ck_assert_str_eq(err.msg, "cannot run 'no-such-gnuplot': not found in PATH (install "
			 "gnuplot, e.g. Debian's gnuplot-nox)");
	ck_assert_int_eq(ee_plot_save(&p, "/nonexistent/gnuplot", png, NULL, &err), EE_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot run '/nonexistent/gnuplot': No such file"));
	/* the default program with a PATH that does not hold it */
	ck_assert_int_eq(setenv("PATH", dir, 1), 0);
	ck_assert_int_eq(ee_plot_save(&p, NULL, png, NULL, &err), EE_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot run 'gnuplot': not found in PATH"));
	ck_assert_int_eq(setenv("PATH", path, 1), 0);
	ck_assert_int_eq(count_files(dir), 0);
	ee_plot_release(&p);
	free(path);
}
END_TEST

/* A program that exits 0 without drawing (or reading its input) is an error too. */
START_TEST(plot_program_that_draws_nothing)
{
	char dir[PATH_SZ], png[PATH_SZ];
	struct ee_err err = { 0 };
	struct ee_plot p;

	fresh_dir(dir, "plot_true");
	simple_plot(&p, "plot $pts");
	ck_assert_int_eq(ee_plot_save(&p, "true", in_dir(png, dir, "a.png"), NULL, &err),
			 EE_ERR_IO);
	ck_assert_msg(strstr(err.msg, "cannot write the plot script to 'true'") ||
		      strstr(err.msg, "gnuplot wrote nothing to"), "%s", err.msg);
	ck_assert_int_eq(count_files(dir), 0);
	ee_plot_release(&p);
}
END_TEST

START_TEST(plot_quotes_strings)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	ee_plot_quote(f, "it's\na 'model'");
	fclose(f);
	ck_assert_str_eq(buf, "'it''s a ''model'''");
	free(buf);
}
END_TEST

/* ---- the report, from a hand-made trace ---- */

/*
 * 4 samples, 2 exits, 3 classes; labels 0 1 2 0.
 *   exit 1: pred 0 1 0 1 (accuracy 0.5),  maxprob 0.9 0.6 0.55 0.5, MACs 100 (cascade 100)
 *   exit 2: pred 0 1 2 2 (accuracy 0.75), maxprob 0.8 0.9 0.7 0.6,  MACs 300 (cascade 320)
 *   ensemble: pred 0 1 2 1 (accuracy 0.75, MACs 320)
 * maxprob, fallback last (strict >, float32), by threshold t:
 *   t < 0.5         all leave at exit 1               accuracy 0.5,  MACs 100
 *   0.5 <= t < 0.55 sample 3 goes on to exit 2 (wrong) accuracy 0.5,  MACs 155
 *   0.55 <= t < 0.6 sample 2 too (right)               accuracy 0.75, MACs 210, shares 2 2 0
 *   0.6 <= t < 0.9  sample 1 at exit 2, 3 falls back   accuracy 0.75, MACs 265
 *   t >= 0.9        all fall back to exit 2            accuracy 0.75, MACs 320
 * Budget table (deepest exit: 300 MACs): 25 % (75) none fits; 50 % (150): 0.5 at t = 0;
 * 75 % (225) and 100 % (300): 0.75 at t = 0.55.
 * One EMG layer of 4 channels, open 1110 1100 1000 1010: fractions .75 .5 .25 .5, mean
 * 0.5, std sqrt(0.03125); channel 0 always open, channel 3 never; 10 ring MACs each.
 */
static void make_trace(struct ee_trace *t, const char *ckpt, const char *data)
{
	static const int32_t label[4] = { 0, 1, 2, 0 }, pred[8] = { 0, 0, 1, 1, 0, 2, 1, 2 };
	static const int32_t ens[4] = { 0, 1, 2, 1 }, open[4] = { 3, 2, 1, 2 };
	static const float maxprob[8] = { 0.9f, 0.8f, 0.6f, 0.9f, 0.55f, 0.7f, 0.5f, 0.6f };
	static const char *const bits = "1110110010001010";
	int channels = 4, i, k;
	struct ee_err err = { 0 };

	ck_assert_int_eq(ee_trace_alloc(t, 4, 2, 3, false, 1, &channels, 2, &err), EE_OK);
	snprintf(t->checkpoint, sizeof(t->checkpoint), "%s", ckpt);
	snprintf(t->ckpt_sha256, sizeof(t->ckpt_sha256), "%064d", 7);
	snprintf(t->arch, sizeof(t->arch), "emgnet");
	snprintf(t->data, sizeof(t->data), "%s", data);
	t->dataset_size = 4;
	for (k = 0; k < 2; k++) {
		t->exit_macs[0][k] = t->exit_macs[1][k] = k ? 300 : 100;
		t->exit_macs[2][k] = t->exit_macs[3][k] = k ? 320 : 100;
	}
	for (i = 0; i < 4; i++) {
		t->index[i] = i;
		t->label[i] = label[i];
		t->ens_pred[i] = ens[i];
		t->open[i] = open[i];
		for (k = 0; k < 2; k++) {
			t->pred[i * 2 + k] = pred[i * 2 + k];
			t->maxprob[i * 2 + k] = maxprob[i * 2 + k];
			t->macs[i * 2 + k] = k ? 300 : 100;
			t->macs_cascade[i * 2 + k] = k ? 320 : 100;
		}
	}
	for (i = 0; i < 16; i++)
		t->bits[0][i] = bits[i] == '1';
	t->gated[0].name = strdup("layer1.0.conv2");
	t->gated[0].exit = 1;
	t->gated[0].ring_macs = 10;
	for (i = 0; i < 2; i++) {
		t->layers[i].name = strdup(i ? "fc" : "conv1");
		t->layers[i].kind = strdup(i ? "linear" : "conv2d");
		t->layers[i].seconds = 0.5;
		t->layers[i].exit = i + 1;
	}
	t->seconds = 1;
	t->threads = 1;
	t->batch = 4;
}

static void report_of(struct ee_report *r, const char *ckpt, bool val)
{
	struct ee_err err = { 0 };
	struct ee_trace t;

	make_trace(&t, ckpt, "h5:/some/where/data.h5");
	ee_report_init(r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST);
	ck_assert_msg(ee_report_add(r, &t, val ? &t : NULL, &err) == EE_OK, "%s", err.msg);
	ee_trace_release(&t);
}

START_TEST(report_by_hand)
{
	const struct ee_report_model *m;
	const struct ee_report_gate *g;
	struct ee_report r;

	report_of(&r, "/ckpt/dir/modelA.h5", false);
	ck_assert_str_eq(r.data, "h5:data.h5");
	ck_assert_int_eq(r.samples, 4);
	ck_assert_int_eq(r.nmodels, 1);
	m = &r.models[0];
	ck_assert_str_eq(m->name, "modelA");
	ck_assert_double_eq(m->stats.accuracy[0], 0.5);
	ck_assert_double_eq(m->stats.accuracy[1], 0.75);
	ck_assert_double_eq(m->stats.cascade_mean[1], 320);
	ck_assert_double_eq(m->stats.ensemble_accuracy, 0.75);
	ck_assert_int_eq(m->ncurve, 101);
	ck_assert_double_eq(m->curve[0].macs_mean, 100);
	ck_assert_double_eq(m->curve[52].macs_mean, 155);
	ck_assert_double_eq(m->curve[52].accuracy, 0.5);
	ck_assert_double_eq(m->curve[55].accuracy, 0.75);
	ck_assert_double_eq(m->curve[55].macs_mean, 210);
	ck_assert(m->curve[55].exits[0] == 2 && m->curve[55].exits[1] == 2 &&
		  m->curve[55].exits[2] == 0);
	ck_assert_double_eq(m->curve[85].macs_mean, 265);
	ck_assert(m->curve[85].exits[0] == 1 && m->curve[85].exits[1] == 1 &&
		  m->curve[85].exits[2] == 2);
	ck_assert_double_eq(m->curve[100].macs_mean, 320);
	ck_assert_int_eq(m->table[0].index, -1);
	ck_assert_int_eq(m->table[1].index, 0);
	ck_assert_int_eq(m->table[2].index, 55);
	ck_assert_int_eq(m->table[3].index, 55);
	ck_assert_double_eq(m->table[2].budget, 225);
	ck_assert_int_eq(m->ngates, 1);
	g = &m->gates[0];
	ck_assert_str_eq(g->layer, "layer1.0.conv2");
	ck_assert_double_eq(g->s.mean, 0.5);
	ck_assert_double_eq_tol(g->s.std, 0.1767766953, 1e-9);
	ck_assert(g->s.always_open == 1 && g->s.never_open == 1);
	ck_assert(g->s.hist[2] == 1 && g->s.hist[5] == 2 && g->s.hist[7] == 1);
	ck_assert_double_eq(g->s.ring_macs_never, 10);
	ck_assert_int_eq(m->nlayers, 2);
	ck_assert(!m->has_val);
	ee_report_release(&r);
}
END_TEST

/* report --threshold: the rule given is applied beside the sweep, to every model whose
 * exits its list fits; a list of another length is a usage error naming the count. */
START_TEST(report_applies_rule_given)
{
	const double two[2] = { 0.55, 0.55 }, three[3] = { 0.5, 0.5, 0.5 };
	struct ee_err err = { 0 };
	struct ee_report r;
	struct ee_trace t;
	int n;

	make_trace(&t, "/ckpt/modelA.h5", "h5:data.h5");
	for (n = 1; n <= 2; n++) {
		ee_report_init(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST);
		r.nthr = n;
		memcpy(r.thr, two, sizeof(two));
		ck_assert_msg(ee_report_add(&r, &t, NULL, &err) == EE_OK, "%s", err.msg);
		ck_assert(r.models[0].has_rule);
		ck_assert_double_eq(r.models[0].rule.thr[1], 0.55);
		ck_assert_double_eq(r.models[0].applied.accuracy, r.models[0].curve[55].accuracy);
		ck_assert_double_eq(r.models[0].applied.macs_mean, 210);
		ck_assert_int_eq(r.models[0].ncurve, 101); /* the sweep stays */
		ee_report_release(&r);
	}
	ee_report_init(&r, EE_POLICY_MAXPROB, EE_FALLBACK_LAST);
	r.nthr = 3;
	memcpy(r.thr, three, sizeof(three));
	ck_assert_int_eq(ee_report_add(&r, &t, NULL, &err), EE_ERR_USAGE);
	ck_assert_str_eq(err.msg, "model 'modelA': 3 thresholds for a model of 2 exits: give 2 "
			 "(one per exit) or 1 (the same for every exit)");
	ck_assert_int_eq(r.nmodels, 0);
	ee_report_release(&r);
	report_of(&r, "/ckpt/modelA.h5", false); /* without --threshold: no rule */
	ck_assert(!r.models[0].has_rule);
	ee_report_release(&r);
	ee_trace_release(&t);
}
END_TEST

START_TEST(report_refuses_mixed_inputs)
{
	struct ee_err err = { 0 };
	struct ee_report r;
	struct ee_trace t;

	report_of(&r, "a/modelA.h5", false);
	make_trace(&t, "b/modelA.h5", "h5:/elsewhere/data.h5");
	ck_assert_int_eq(ee_report_add(&r, &t, NULL, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "two models are named 'modelA'");
	snprintf(t.checkpoint, sizeof(t.checkpoint), "modelB.h5");
	snprintf(t.data, sizeof(t.data), "h5:/x/other.h5");
	ck_assert_int_eq(ee_report_add(&r, &t, NULL, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "trace of 'modelB' is of 'h5:other.h5' (4 samples) but the "
			 "report's is of 'h5:data.h5' (4 samples)");
	snprintf(t.data, sizeof(t.data), "h5:data.h5");
	t.label[3] = 1;
	ck_assert_int_eq(ee_report_add(&r, &t, NULL, &err), EE_ERR_INPUT);
	ck_assert_ptr_nonnull(strstr(err.msg, "holds other samples or labels"));
	t.label[3] = 0;
	t.ckpt_sha256[0] = 'f';
	ck_assert_int_eq(ee_report_add(&r, &t, &t, &err), EE_OK); /* val of its own checkpoint */
	ck_assert_int_eq(r.nmodels, 2);
	ck_assert(r.models[1].has_val);
	ck_assert_int_eq(r.val_samples, 4);
	snprintf(t.checkpoint, sizeof(t.checkpoint), "modelC.h5");
	{
		struct ee_trace v;

		make_trace(&v, "modelC.h5", "h5:data.h5");
		ck_assert_int_eq(ee_report_add(&r, &t, &v, &err), EE_ERR_INPUT);
		ck_assert_str_eq(err.msg, "validation trace of 'modelC' is of another checkpoint");
		ee_trace_release(&v);
	}
	ck_assert_int_eq(r.nmodels, 2);
	ee_trace_release(&t);
	ee_report_release(&r);
}
END_TEST

START_TEST(report_names)
{
	static const char *const cases[][2] = {
		{ "dir/sub/model.h5", "model" }, { "model.h5", "model" }, { "model", "model" },
		{ "a.b.h5", "a.b" }, { ".h5", ".h5" }, { "dir/", "dir" },
	};
	static const char *const specs[][2] = {
		{ "fashion-mnist:test", "fashion-mnist:test" },
		{ "h5:/tmp/x/data.h5", "h5:data.h5" },
		{ "h5:data.h5", "h5:data.h5" },
		{ "cifar10:/data/cifar-10-batches-bin/:val", "cifar10:cifar-10-batches-bin:val" },
		{ "mnist:rel/dir:train", "mnist:dir:train" },
		{ "/abs/only", "only" },
	};
	char buf[256];
	size_t i;

	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ee_report_stem(cases[i][0], buf, sizeof(buf));
		ck_assert_str_eq(buf, cases[i][1]);
	}
	for (i = 0; i < sizeof(specs) / sizeof(specs[0]); i++) {
		ee_report_data_name(specs[i][0], buf, sizeof(buf));
		ck_assert_str_eq(buf, specs[i][1]);
	}
}
END_TEST

/* The whole file into a new buffer; *len gets its size. */
static char *slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	long n;

	ck_assert_msg(f != NULL, "cannot open '%s'", path);
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
	buf[n] = '\0';
	fclose(f);
	*len = (size_t)n;
	return buf;
}

static bool exists(const char *dir, const char *name)
{
	char path[PATH_SZ];

	return access(in_dir(path, dir, name), F_OK) == 0;
}

/* True if some line of a Markdown table in text has exactly these cells (trimmed). */
static bool has_row(const char *text, const char *const *cells, int n)
{
	const char *line;

	for (line = text; line && *line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
		const char *p = line, *end = strchr(line, '\n');
		int i;

		if (!end)
			end = line + strlen(line);
		for (i = 0; i < n && p < end && *p == '|'; i++) {
			const char *q = p + 1, *bar;

			while (*q == ' ')
				q++;
			bar = memchr(q, '|', (size_t)(end - q));
			if (!bar || strncmp(q, cells[i], strlen(cells[i])) ||
			    strspn(q + strlen(cells[i]), " ") != (size_t)(bar - q) - strlen(cells[i]))
				break;
			p = bar;
		}
		if (i == n && p + 1 == end)
			return true;
	}
	return false;
}

#define ROW(text, ...) has_row((text), (const char *const[]){ __VA_ARGS__ }, \
			       (int)(sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)))

START_TEST(report_writes_directory)
{
	static const char *const files[] = { "report.json", "report.md", "exits.csv", "curve.csv",
					     "gates.csv", "budgets.csv", "timing.json",
					     "calibration.csv", "classes.csv",
					     "accuracy_vs_macs.png", "accuracy_vs_macs.svg",
					     "gates.png", "gates.svg", "exits-modelA.png",
					     "exits-modelA.svg", "reliability-modelA.png",
					     "reliability-modelA.svg", "classes-modelA.png",
					     "classes-modelA.svg" };
	struct ee_report_write_opts o = { true, NULL, NULL };
	char dir[PATH_SZ], dir2[PATH_SZ], path[PATH_SZ];
	const struct ee_jv *m, *x;
	struct ee_err err = { 0 };
	struct ee_report r;
	struct ee_jv doc;
	char *a, *b;
	size_t na, nb, i;
	double v = 0;

	report_of(&r, "modelA.h5", true);
	in_dir(dir, tu_tmpdir(), "report1");
	in_dir(dir2, tu_tmpdir(), "report2");
	ck_assert_msg(ee_report_write(&r, dir, &o, &err) == EE_OK, "%s", err.msg);
	for (i = 0; i < sizeof(files) / sizeof(files[0]); i++)
		ck_assert_msg(exists(dir, files[i]), "no %s", files[i]);
	ck_assert_int_eq(count_files(dir), (int)(sizeof(files) / sizeof(files[0])));
	o.plots = false;
	ck_assert_int_eq(ee_report_write(&r, dir2, &o, &err), EE_OK);
	ck_assert_int_eq(count_files(dir2), 9); /* the texts */
	a = slurp(in_dir(path, dir, "report.json"), &na);
	b = slurp(in_dir(path, dir2, "report.json"), &nb);
	ck_assert(na == nb && !memcmp(a, b, na)); /* deterministic */
	ck_assert_int_eq(ee_jv_parse(&doc, a, na, &err), EE_OK);
	ck_assert(ee_jv_num(ee_jv_get(&doc, "schema_version"), &v) && v == 1);
	ck_assert_str_eq(ee_jv_str(ee_jv_get(&doc, "data")), "h5:data.h5");
	ck_assert_str_eq(ee_jv_str(ee_jv_get(&doc, "policy")), "maxprob");
	m = ee_jv_at(ee_jv_get(&doc, "models"), 0);
	ck_assert_str_eq(ee_jv_str(ee_jv_get(m, "name")), "modelA");
	ck_assert(ee_jv_num(ee_jv_get(ee_jv_at(ee_jv_get(m, "exits"), 1), "accuracy"), &v) &&
		  v == 0.75);
	ck_assert(ee_jv_num(ee_jv_get(ee_jv_get(m, "ensemble"), "accuracy"), &v) && v == 0.75);
	ck_assert_int_eq(ee_jv_len(ee_jv_get(m, "curve")), 101);
	x = ee_jv_at(ee_jv_get(m, "curve"), 55);
	ck_assert(ee_jv_num(ee_jv_get(x, "macs_mean"), &v) && v == 210);
	ck_assert(ee_jv_num(ee_jv_at(ee_jv_get(x, "exit_share"), 0), &v) && v == 0.5);
	x = ee_jv_get(m, "budget_table");
	ck_assert(!ee_jv_get(ee_jv_at(x, 0), "feasible")->b); /* none fits: no point, no null */
	ck_assert_ptr_null(ee_jv_get(ee_jv_at(x, 0), "accuracy"));
	ck_assert(ee_jv_get(ee_jv_at(x, 2), "feasible")->b);
	ck_assert(ee_jv_num(ee_jv_get(ee_jv_at(x, 2), "threshold"), &v) && v == 0.55);
	x = ee_jv_at(ee_jv_get(m, "gates"), 0);
	ck_assert(ee_jv_num(ee_jv_get(x, "open_ratio"), &v) && v == 0.5);
	ck_assert_int_eq(ee_jv_len(ee_jv_get(m, "budgets")), 4);
	ck_assert_ptr_null(strstr(a, tu_tmpdir())); /* no directory in it */
	ee_jv_release(&doc);
	free(a);
	free(b);
	a = slurp(in_dir(path, dir, "report.md"), &na);
	ck_assert_ptr_nonnull(strstr(a, "## modelA (`emgnet`)"));
	ck_assert_ptr_nonnull(strstr(a, "![accuracy vs MACs](accuracy_vs_macs.png)"));
	ck_assert(ROW(a, "75%", "225", "0.7500", "0.55", "210"));
	ck_assert(ROW(a, "25%", "75", "none fits", "-", "-"));
	ck_assert(ROW(a, "0.55", "0.7500", "210", "70.0%", "50.0%", "50.0%", "0.0%"));
	ck_assert(ROW(a, "layer1.0.conv2", "1", "4", "0.5000", "0.1768", "1", "1", "10"));
	ck_assert(ROW(a, "ensemble", "0.7500", "", "320", "", ""));
	free(a);
	a = slurp(in_dir(path, dir, "curve.csv"), &na);
	ck_assert_ptr_nonnull(strstr(a, "\nmodelA,maxprob,last,0.55,0.75,210,0.5,0.5,0\n"));
	free(a);
	ee_report_release(&r);
}
END_TEST

/* A failing plot: nothing new appears, an earlier report stays as it was. */
START_TEST(report_write_is_atomic)
{
	struct ee_report_write_opts o = { true, "no-such-gnuplot", NULL };
	char dir[PATH_SZ], path[PATH_SZ];
	struct ee_err err = { 0 };
	struct ee_report r;
	char *before, *after;
	size_t nb, na;

	report_of(&r, "modelA.h5", false);
	in_dir(dir, tu_tmpdir(), "atomic");
	ck_assert_int_eq(ee_report_write(&r, dir, &o, &err), EE_ERR_IO);
	ck_assert_ptr_nonnull(strstr(err.msg, "cannot run 'no-such-gnuplot'"));
	ck_assert_int_ne(access(dir, F_OK), 0); /* the directory it made is removed */
	o.plots = false;
	ck_assert_int_eq(ee_report_write(&r, dir, &o, &err), EE_OK);
	before = slurp(in_dir(path, dir, "report.json"), &nb);
	ee_report_release(&r);
	report_of(&r, "modelB.h5", false);
	o.plots = true;
	ck_assert_int_eq(ee_report_write(&r, dir, &o, &err), EE_ERR_IO);
	ck_assert_int_eq(count_files(dir), 8); /* the texts of the report before */
	after = slurp(path, &na);
	ck_assert(na == nb && !memcmp(before, after, na));
	free(before);
	free(after);
	ee_report_release(&r);
}
END_TEST

/* ---- diff verdicts on hand-made report JSON ---- */

struct fake {
	const char *name, *arch, *data;
	int samples, nexits;
	double acc[2], macs[2], ens;
	const char *budget[2]; /* accuracy of the 0.5 and 1.0 rows, as JSON ("null"), or "none":
				* none fits, written as report.json does ("feasible": false) */
};

static const struct fake base_fake = { "m", "emgnet", "h5:d.h5", 100, 2, { 0.8, 0.9 },
				       { 1000, 3000 }, 0.91, { "0.85", "0.9" } };

/* A report.json text for f into buf. */
static void fake_json(const struct fake *f, char *buf, size_t size)
{
	char exits[600] = "", rows[2][64];
	int k, n = 0;

	for (k = 0; k < 2; k++)
		snprintf(rows[k], sizeof(rows[k]), strcmp(f->budget[k], "none") ?
			 "\"accuracy\": %s" : "\"feasible\": false", f->budget[k]);
	for (k = 0; k < f->nexits; k++)
		n += snprintf(exits + n, sizeof(exits) - (size_t)n, "%s{\"exit\": %d, \"accuracy\": "
			      "%.17g, \"macs_mean\": %.17g, \"macs_cascade_mean\": %.17g}",
			      k ? ", " : "", k + 1, f->acc[k], f->macs[k], f->macs[k] + 10);
	snprintf(buf, size, "{\"schema_version\": 1, \"data\": \"%s\", \"samples\": %d, "
		 "\"labels_hash\": \"0123\", \"policy\": \"maxprob\", \"fallback\": \"last\", "
		 "\"models\": [{\"name\": \"%s\", \"arch\": \"%s\", \"exits\": [%s], "
		 "\"ensemble\": {\"accuracy\": %.17g, \"macs_mean\": 3010}, \"budget_table\": ["
		 "{\"fraction\": 0.5, %s}, {\"fraction\": 1, %s}]}]}",
		 f->data, f->samples, f->name, f->arch, exits, f->ens, rows[0], rows[1]);
}

/* Diffs base_fake against cur with the given limits; returns the status. */
static int diff_of(const struct fake *cur, double acc_drop, double macs_rise, struct ee_diff *d,
		   struct ee_err *err)
{
	struct ee_diff_opts o = { acc_drop, macs_rise, INFINITY, "base.json", "new.json", false };
	char a[2048], b[2048];
	struct ee_jv x, y;
	int rc;

	fake_json(&base_fake, a, sizeof(a));
	fake_json(cur, b, sizeof(b));
	ck_assert_int_eq(ee_jv_parse(&x, a, strlen(a), err), EE_OK);
	ck_assert_int_eq(ee_jv_parse(&y, b, strlen(b), err), EE_OK);
	rc = ee_diff_reports(&x, &y, &o, d, err);
	ee_jv_release(&x);
	ee_jv_release(&y);
	return rc;
}

/* The verdict of check metric (model m). */
static enum ee_verdict verdict(const struct ee_diff *d, const char *metric)
{
	int i;

	for (i = 0; i < d->n; i++)
		if (!strcmp(d->checks[i].metric, metric))
			return d->checks[i].verdict;
	ck_abort_msg("no check '%s'", metric);
	return EE_VERDICT_SAME;
}

START_TEST(diff_equal_reports)
{
	struct ee_err err = { 0 };
	struct ee_diff d;
	int i;

	ck_assert_int_eq(diff_of(&base_fake, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.n, 2 * 3 + 2 + 2); /* exits x 3, ensemble x 2, budget rows */
	ck_assert_int_eq(d.regressions, 0);
	for (i = 0; i < d.n; i++)
		ck_assert_int_eq(d.checks[i].verdict, EE_VERDICT_SAME);
	ee_diff_release(&d);
	/* even with zero tolerance */
	ck_assert_int_eq(diff_of(&base_fake, 0, 0, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 0);
	ee_diff_release(&d);
}
END_TEST

START_TEST(diff_accuracy_drop)
{
	struct fake f = base_fake;
	struct ee_err err = { 0 };
	struct ee_diff d;

	f.acc[1] = 0.89; /* one point down: beyond the default half point */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 1);
	ck_assert_int_eq(verdict(&d, "exit 2 accuracy"), EE_VERDICT_REGRESSION);
	ck_assert_double_eq_tol(d.checks[3].change, -0.01, 1e-12);
	ee_diff_release(&d);
	ck_assert_int_eq(diff_of(&f, 0.02, EE_DIFF_MACS_RISE, &d, &err), EE_OK); /* wider limit */
	ck_assert_int_eq(d.regressions, 0);
	ck_assert_int_eq(verdict(&d, "exit 2 accuracy"), EE_VERDICT_WORSE);
	ee_diff_release(&d);
	f.acc[1] = 0.897; /* within */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 0);
	ee_diff_release(&d);
	f.acc[1] = 0.895; /* exactly at the limit: not more than it */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 0);
	ee_diff_release(&d);
	f = base_fake;
	f.ens = 0.85;
	f.budget[0] = "null"; /* fitted before, no longer */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 2);
	ck_assert_int_eq(verdict(&d, "ensemble accuracy"), EE_VERDICT_REGRESSION);
	ck_assert_int_eq(verdict(&d, "budget 50% accuracy"), EE_VERDICT_REGRESSION);
	ee_diff_release(&d);
	f.budget[0] = "none"; /* report.json's own way: "feasible": false, no accuracy */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(verdict(&d, "budget 50% accuracy"), EE_VERDICT_REGRESSION);
	ee_diff_release(&d);
}
END_TEST

START_TEST(diff_macs_rise)
{
	struct fake f = base_fake;
	struct ee_err err = { 0 };
	struct ee_diff d;

	f.macs[0] = 1020; /* +2 % */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 2); /* MACs and cascade MACs of exit 1 */
	ck_assert_int_eq(verdict(&d, "exit 1 MACs"), EE_VERDICT_REGRESSION);
	ck_assert_double_eq_tol(d.checks[1].change, 0.02, 1e-12);
	ee_diff_release(&d);
	f.macs[0] = 1005; /* +0.5 % */
	ck_assert_int_eq(diff_of(&f, EE_DIFF_ACC_DROP, EE_DIFF_MACS_RISE, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 0);
	ck_assert_int_eq(verdict(&d, "exit 1 MACs"), EE_VERDICT_WORSE);
	ee_diff_release(&d);
}
END_TEST

START_TEST(diff_improvements_never_fail)
{
	struct fake f = base_fake;
	struct ee_err err = { 0 };
	struct ee_diff d;

	f.acc[0] = 0.95;
	f.acc[1] = 0.99;
	f.macs[0] = 10;
	f.macs[1] = 20;
	f.ens = 1;
	f.budget[0] = "0.99";
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_OK);
	ck_assert_int_eq(d.regressions, 0);
	ck_assert_int_eq(verdict(&d, "exit 1 MACs"), EE_VERDICT_BETTER);
	ck_assert_int_eq(verdict(&d, "exit 2 accuracy"), EE_VERDICT_BETTER);
	ee_diff_release(&d);
	f = base_fake; /* a budget row that now fits */
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_OK);
	ee_diff_release(&d);
}
END_TEST

START_TEST(diff_refuses_other_models_or_data)
{
	struct fake f;
	struct ee_err err = { 0 };
	struct ee_diff d;

	f = base_fake;
	f.name = "other";
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "reports of different models: 'm' is in 'base.json' but not in "
			 "'new.json' (models are matched by name: --name when reporting, or "
			 "--match-by arch)");
	f = base_fake;
	f.arch = "scan";
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "reports of different architectures: 'emgnet' in 'base.json', "
			 "'scan' in 'new.json'");
	f = base_fake;
	f.nexits = 1;
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "reports of different models: 'm' has 2 exits in 'base.json', 1 "
			 "in 'new.json'");
	f = base_fake;
	f.data = "h5:e.h5";
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "reports of different data: 'h5:d.h5' in 'base.json', 'h5:e.h5' "
			 "in 'new.json'");
	f = base_fake;
	f.samples = 99;
	ck_assert_int_eq(diff_of(&f, 0, 0, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "reports of different sample counts: 100 in 'base.json', 99 in "
			 "'new.json'");
	ck_assert_int_eq(d.n, 0);
}
END_TEST

START_TEST(diff_refuses_malformed_reports)
{
	struct ee_diff_opts o = { 0.005, 0.01, INFINITY, "a.json", "b.json", false };
	struct ee_err err = { 0 };
	struct ee_diff d;
	struct ee_jv x, y;
	char a[2048];
	const char *s;

	fake_json(&base_fake, a, sizeof(a));
	ck_assert_int_eq(ee_jv_parse(&x, a, strlen(a), &err), EE_OK);
	s = "[1]";
	ck_assert_int_eq(ee_jv_parse(&y, s, strlen(s), &err), EE_OK);
	ck_assert_int_eq(ee_diff_reports(&x, &y, &o, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "'b.json' is not a report (not a JSON object)");
	ee_jv_release(&y);
	s = "{\"schema_version\": 2}";
	ck_assert_int_eq(ee_jv_parse(&y, s, strlen(s), &err), EE_OK);
	ck_assert_int_eq(ee_diff_reports(&x, &y, &o, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "'b.json': schema_version 2 is not supported (this eeprof reads 1)");
	ee_jv_release(&y);
	a[strlen(a) - 1] = '\0'; /* cut the JSON apart where the exit fields are */
	s = strstr(a, "\"macs_mean\": 3000");
	ck_assert_ptr_nonnull(s);
	memcpy((char *)s, "\"macs_mea_\"", 11);
	strcat(a, "}");
	ck_assert_int_eq(ee_jv_parse(&y, a, strlen(a), &err), EE_OK);
	ck_assert_int_eq(ee_diff_reports(&x, &y, &o, &d, &err), EE_ERR_INPUT);
	ck_assert_str_eq(err.msg, "'b.json': exits[1].macs_mean is missing or not a number");
	ee_jv_release(&y);
	ee_jv_release(&x);
}
END_TEST

/* A timing.json of one model "m" of 10 samples taking `seconds`, with the spread of its
 * runs [lo, hi] if lo < hi. */
static void timing_doc(struct ee_jv *v, char *buf, size_t size, double seconds, double lo,
		       double hi)
{
	struct ee_err err = { 0 };
	char spread[100] = "";

	if (lo < hi)
		snprintf(spread, sizeof(spread), ", \"spread\": {\"min\": %g, \"max\": %g}", lo, hi);
	snprintf(buf, size, "{\"schema_version\": %d, \"models\": [{\"name\": \"m\", "
		 "\"samples\": 10, \"seconds\": %g%s}]}", EE_SCHEMA_VERSION, seconds, spread);
	ck_assert_msg(ee_jv_parse(v, buf, strlen(buf), &err) == EE_OK, "%s: %s", buf, err.msg);
}

/* diff --timing of two such files (limit: 5 % rise). */
static void timing_diff(double s0, double lo0, double hi0, double s1, double lo1, double hi1,
			struct ee_diff *d)
{
	struct ee_diff_opts o = { .max_time_rise = 0.05 };
	struct ee_err err = { 0 };
	char a[300], b[300];
	struct ee_jv x, y;

	timing_doc(&x, a, sizeof(a), s0, lo0, hi0);
	timing_doc(&y, b, sizeof(b), s1, lo1, hi1);
	ck_assert_msg(ee_diff_timing(&x, &y, &o, d, &err) == EE_OK, "%s", err.msg);
	ee_jv_release(&x);
	ee_jv_release(&y);
}

/* diff --timing: a rise beyond the limit is a regression, unless the two files' runs
 * overlap (noise); without spreads the old rule holds. */
START_TEST(diff_timing_spread_is_noise)
{
	struct ee_diff d;

	timing_diff(1.0, 0, 0, 1.2, 0, 0, &d); /* no spreads: +20 % > 5 % */
	ck_assert_int_eq(d.checks[0].verdict, EE_VERDICT_REGRESSION);
	ck_assert_int_eq(d.regressions, 1);
	ee_diff_release(&d);
	timing_diff(1.0, 0.9, 1.25, 1.2, 1.1, 1.4, &d); /* runs overlap: noise */
	ck_assert_int_eq(d.checks[0].verdict, EE_VERDICT_NOISE);
	ck_assert_int_eq(d.regressions, 0);
	ee_diff_release(&d);
	timing_diff(1.0, 0.95, 1.05, 1.2, 1.15, 1.3, &d); /* apart: a regression */
	ck_assert_int_eq(d.checks[0].verdict, EE_VERDICT_REGRESSION);
	ck_assert_int_eq(d.regressions, 1);
	ee_diff_release(&d);
	timing_diff(1.0, 0.9, 1.1, 0.95, 0.9, 1.0, &d); /* faster, overlapping: noise too */
	ck_assert_int_eq(d.checks[0].verdict, EE_VERDICT_NOISE);
	ck_assert_str_eq(ee_verdict_name(EE_VERDICT_NOISE), "noise (runs overlap)");
	ee_diff_release(&d);
}
END_TEST

START_TEST(diff_markdown_and_junit)
{
	struct ee_diff_opts o = { 0.005, 0.01, INFINITY, "a", "b", false };
	struct fake f = base_fake;
	struct ee_err err = { 0 };
	struct ee_diff d;
	char *buf = NULL;
	size_t len = 0;
	FILE *out;

	f.acc[0] = 0.7;
	f.name = base_fake.name;
	ck_assert_int_eq(diff_of(&f, 0.005, 0.01, &d, &err), EE_OK);
	out = open_memstream(&buf, &len);
	ee_diff_markdown(&d, &o, out);
	fclose(out);
	ck_assert(ROW(buf, "metric", "old", "new", "change", "verdict"));
	ck_assert(ROW(buf, "m: exit 1 accuracy", "0.8000", "0.7000", "-0.1000", "REGRESSION"));
	ck_assert(ROW(buf, "m: exit 1 MACs", "1k", "1k", "0", "same"));
	ck_assert_ptr_nonnull(strstr(buf, "\n1 regression in 10 checks (limits: accuracy drop "
				     "0.0050, MACs rise 1.00%)\n"));
	free(buf);
	buf = NULL;
	out = open_memstream(&buf, &len);
	ee_diff_junit(&d, &o, out);
	fclose(out);
	ck_assert_ptr_nonnull(strstr(buf, "<testsuite name=\"eeprof diff\" tests=\"10\" "
				     "failures=\"1\""));
	ck_assert_ptr_nonnull(strstr(buf, "<testcase classname=\"eeprof.diff.m\" name=\"exit 1 "
				     "accuracy\">\n      <failure type=\"regression\" message=\"exit 1 "
				     "accuracy: 0.8000 -&gt; 0.7000 (-0.1000; limit 0.0050)\">"));
	ck_assert_ptr_nonnull(strstr(buf, "<testcase classname=\"eeprof.diff.m\" name=\"exit 2 "
				     "accuracy\"/>"));
	free(buf);
	ee_diff_release(&d);
}
END_TEST

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *plot = tcase_create("plot"), *report = tcase_create("report");
	TCase *diff = tcase_create("diff");

	tcase_set_timeout(plot, 60);
	tcase_add_test(plot, plot_writes_png_and_svg);
	tcase_add_test(plot, plot_render_one_format);
	tcase_add_test(plot, plot_bad_script_fails_without_files);
	tcase_add_test(plot, plot_missing_program);
	tcase_add_test(plot, plot_program_that_draws_nothing);
	tcase_add_test(plot, plot_quotes_strings);
	suite_add_tcase(s, plot);
	tcase_set_timeout(report, 60);
	tcase_add_test(report, report_by_hand);
	tcase_add_test(report, report_refuses_mixed_inputs);
	tcase_add_test(report, report_applies_rule_given);
	tcase_add_test(report, report_names);
	tcase_add_test(report, report_writes_directory);
	tcase_add_test(report, report_write_is_atomic);
	suite_add_tcase(s, report);
	tcase_add_test(diff, diff_equal_reports);
	tcase_add_test(diff, diff_accuracy_drop);
	tcase_add_test(diff, diff_macs_rise);
	tcase_add_test(diff, diff_improvements_never_fail);
	tcase_add_test(diff, diff_refuses_other_models_or_data);
	tcase_add_test(diff, diff_refuses_malformed_reports);
	tcase_add_test(diff, diff_markdown_and_junit);
	tcase_add_test(diff, diff_timing_spread_is_noise);
	suite_add_tcase(s, diff);
	return s;
}

int main(void)
{
	SRunner *sr = srunner_create(report_suite());
	int failed;

	srunner_run_all(sr, CK_NORMAL);
	failed = srunner_ntests_failed(sr);
	srunner_free(sr);
	return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
