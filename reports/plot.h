/*
 * plot.h - PNG and SVG plots drawn by gnuplot through a pipe.
 *
 * A plot is a gnuplot script built in memory in two parts: inline data
 * (datablocks, `$name << EOD ... EOD`) written once, and the commands that draw
 * (set ..., plot ...), repeated once per output format. ee_plot_render() runs
 * gnuplot once with popen(), writes the whole script into the pipe and checks
 * what pclose() says: a missing program, a gnuplot error (its last stderr line
 * is quoted in the message), a crash, or an empty output file all fail with
 * EE_ERR_IO, and leave no output file behind. Outputs are drawn at the
 * temporary names of struct ee_out (core/outfile.h), so the caller decides
 * when they appear under their real names; ee_plot_save() does it all for one
 * PNG and one SVG. Nothing is printed: gnuplot's stderr goes to a temporary log
 * next to the first output, read back for the message and removed.
 *
 *     struct ee_plot p;
 *     ee_plot_init(&p);
 *     fprintf(p.data, "$pts << EOD\n1 0.5\n2 0.7\nEOD\n");
 *     fprintf(p.cmds, "set xlabel 'MACs'\nplot $pts with linespoints title 'a'\n");
 *     if (ee_plot_save(&p, NULL, "acc.png", "acc.svg", &err) < 0) ...;
 *     ee_plot_release(&p);
 */
#ifndef EE_PLOT_H
#define EE_PLOT_H

#include <stdbool.h>
#include <stdio.h>

#include "core/outfile.h"
#include "core/status.h"

#define EE_PLOT_PROGRAM "gnuplot" /* the default program, looked up in PATH */

enum ee_plot_format { EE_PLOT_PNG, EE_PLOT_SVG };

struct ee_plot {
	FILE *data;       /* datablocks, written once at the top of the script */
	FILE *cmds;       /* drawing commands, repeated for each output */
	int width, height; /* pixels (default 960 x 600) */
	int font_size;    /* points (default 10) */
	const char *title; /* replaces the plot's own title when not NULL (borrowed) */
	char *data_buf, *cmds_buf; /* what data and cmds hold (memory streams) */
	size_t data_len, cmds_len;
};

/* How a user asked plots to look (--plot-size, --font-size, --title); 0 / NULL: default. */
struct ee_plot_look {
	int width, height, font_size;
	const char *title;
};
/* Sets p's size, font and title from l (NULL: nothing), keeping defaults for zeros. */
void ee_plot_look_apply(struct ee_plot *p, const struct ee_plot_look *l);

/* Opens the two memory streams; EE_ERR_NOMEM if they cannot be made. */
int ee_plot_init(struct ee_plot *p, struct ee_err *err);
void ee_plot_release(struct ee_plot *p);

/* Writes "set title '...'" into p->cmds: p->title if set, else the title given
 * (printf-formatted); an empty p->title leaves the plot without a title. */
void ee_plot_title(struct ee_plot *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parses "W,H" (pixels, each 100..10000) for --plot-size; EE_ERR_USAGE otherwise. */
int ee_plot_size_parse(const char *s, int *width, int *height, struct ee_err *err);

/* Writes s as a single-quoted gnuplot string ('it''s'), newlines as spaces. */
void ee_plot_quote(FILE *f, const char *s);

/*
 * Runs program (NULL: EE_PLOT_PROGRAM; a name is looked up in PATH, a path is used as
 * is) once and draws the commands into out[i].tmp in formats[i], for i < n. The outs
 * must have been begun (ee_out_begin); on failure their temporary files are removed.
 */
int ee_plot_render(struct ee_plot *p, const char *program, struct ee_out *out,
		   const enum ee_plot_format *formats, int n, struct ee_err *err);

/* Checks that program runs and draws PNG and SVG: a one-point plot into dir, then removed
 * (a report's check before its long work). The errors of ee_plot_render. */
int ee_plot_check(const char *program, const char *dir, struct ee_err *err);

/* Renders png and svg (either may be NULL) and renames them into place. */
int ee_plot_save(struct ee_plot *p, const char *program, const char *png, const char *svg,
		 struct ee_err *err);

#endif
