/*
 * check_report.c - the gnuplot pipe (reports/plot.h).
 *
 * The plot cases run the real gnuplot (Debian's gnuplot-nox): a good script gives a
 * PNG and an SVG with the right magic bytes; a bad script, a missing program (by
 * name, by path, and with a PATH that lacks it) and a program that draws nothing
 * give an error and leave no file behind, under the real name or a temporary one.
 */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "reports/plot.h"
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

static Suite *report_suite(void)
{
	Suite *s = suite_create("report");
	TCase *plot = tcase_create("plot");

	tcase_set_timeout(plot, 60);
	tcase_add_test(plot, plot_writes_png_and_svg);
	tcase_add_test(plot, plot_render_one_format);
	tcase_add_test(plot, plot_bad_script_fails_without_files);
	tcase_add_test(plot, plot_missing_program);
	tcase_add_test(plot, plot_program_that_draws_nothing);
	tcase_add_test(plot, plot_quotes_strings);
	suite_add_tcase(s, plot);
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
