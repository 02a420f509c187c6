/*
 * plot.c - see plot.h. The pipe is written with SIGPIPE blocked (and a SIGPIPE
 * our writes raised is consumed afterwards), so that gnuplot dying on a bad
 * line makes pclose() report its status instead of killing eeprof.
 */
#include "plot.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define PATH_MAX_LEN 4096

int ee_plot_init(struct ee_plot *p, struct ee_err *err)
{
	memset(p, 0, sizeof(*p));
	p->width = 960;
	p->height = 600;
	p->font_size = 10;
	p->data = open_memstream(&p->data_buf, &p->data_len);
	p->cmds = open_memstream(&p->cmds_buf, &p->cmds_len);
	if (p->data && p->cmds)
		return EE_OK;
	ee_plot_release(p);
	return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a plot script");
}

void ee_plot_release(struct ee_plot *p)
{
	if (p->data)
		fclose(p->data);
	if (p->cmds)
		fclose(p->cmds);
	free(p->data_buf);
	free(p->cmds_buf);
	memset(p, 0, sizeof(*p));
}

void ee_plot_look_apply(struct ee_plot *p, const struct ee_plot_look *l)
{
	if (!l)
		return;
	if (l->width > 0 && l->height > 0) {
		p->width = l->width;
		p->height = l->height;
	}
	if (l->font_size > 0)
		p->font_size = l->font_size;
	if (l->title)
		p->title = l->title;
}

void ee_plot_title(struct ee_plot *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (p->title && !*p->title) {
		fputs("unset title\n", p->cmds);
		return;
	}
	fputs("set title ", p->cmds);
	ee_plot_quote(p->cmds, p->title ? p->title : buf);
	fputc('\n', p->cmds);
}

int ee_plot_size_parse(const char *s, int *width, int *height, struct ee_err *err)
{
	const char *at;
	char *end;
	long w, h;

	errno = 0;
	w = strtol(s, &end, 10);
	if (end == s || *end != ',' || errno)
		goto bad;
	at = end + 1;
	h = strtol(at, &end, 10);
	if (end == at || *end || errno || w < 100 || w > 10000 || h < 100 || h > 10000)
		goto bad;
	*width = (int)w;
	*height = (int)h;
	return EE_OK;
bad:
	return ee_err_set(err, EE_ERR_USAGE, "--plot-size: '%s' is not W,H in pixels (each "
			  "100..10000, e.g. 640,400)", s);
}

void ee_plot_quote(FILE *f, const char *s)
{
	fputc('\'', f);
	for (; *s; s++) {
		if (*s == '\'')
			fputs("''", f);
		else
			fputc(*s == '\n' || *s == '\r' ? ' ' : *s, f);
	}
	fputc('\'', f);
}

/* Writes s single-quoted for /bin/sh into buf; false if it does not fit. */
static bool sh_quote(char *buf, size_t size, const char *s)
{
	size_t n = 0;

	if (size < 3)
		return false;
	buf[n++] = '\'';
	for (; *s; s++) {
		const char *piece = *s == '\'' ? "'\\''" : NULL;
		size_t k = piece ? 4 : 1;

		if (n + k + 2 > size)
			return false;
		if (piece)
			memcpy(buf + n, piece, k);
		else
			buf[n] = *s;
		n += k;
	}
	buf[n++] = '\'';
	buf[n] = '\0';
	return true;
}

/* The executable for program: itself if it holds a '/', else the first match in PATH. */
static int find_program(const char *program, char *found, size_t size, struct ee_err *err)
{
	const char *path = getenv("PATH"), *dir, *end;

	if (strchr(program, '/')) {
		if (access(program, X_OK) < 0)
			return ee_err_set(err, EE_ERR_IO, "cannot run '%s': %s (install gnuplot, "
					  "e.g. Debian's gnuplot-nox)", program, strerror(errno));
		snprintf(found, size, "%s", program);
		return EE_OK;
	}
	for (dir = path ? path : "/usr/bin:/bin"; *dir; dir = *end ? end + 1 : end) {
		int len;

		end = strchr(dir, ':');
		if (!end)
			end = dir + strlen(dir);
		len = snprintf(found, size, "%.*s/%s", end > dir ? (int)(end - dir) : 1,
			       end > dir ? dir : ".", program);
		if (len > 0 && (size_t)len < size && access(found, X_OK) == 0)
			return EE_OK;
	}
	return ee_err_set(err, EE_ERR_IO, "cannot run '%s': not found in PATH (install gnuplot, "
			  "e.g. Debian's gnuplot-nox)", program);
}

static void terminal(FILE *f, const struct ee_plot *p, enum ee_plot_format format)
{
	if (format == EE_PLOT_PNG)
		fprintf(f, "set terminal pngcairo size %d,%d noenhanced font 'sans,%d'\n",
			p->width, p->height, p->font_size);
	else
		fprintf(f, "set terminal svg size %d,%d noenhanced font 'sans,%d' "
			"background rgb 'white'\n", p->width, p->height, p->font_size);
}

/* The whole script into the pipe; false if a write failed (gnuplot gone). */
static bool write_script(FILE *gp, const struct ee_plot *p, const struct ee_out *out,
			 const enum ee_plot_format *formats, int n)
{
	int i;

	fwrite(p->data_buf, 1, p->data_len, gp);
	for (i = 0; i < n; i++) {
		terminal(gp, p, formats[i]);
		fputs("set output ", gp);
		ee_plot_quote(gp, out[i].tmp);
		fputc('\n', gp);
		fwrite(p->cmds_buf, 1, p->cmds_len, gp);
		fputs("\nunset output\n", gp);
	}
	return fflush(gp) == 0 && !ferror(gp);
}

/* The last non-blank line of gnuplot's stderr log, trimmed, into buf ("" if none). */
static void last_log_line(const char *log, char *buf, size_t size)
{
	char line[512];
	FILE *f = fopen(log, "r");

	buf[0] = '\0';
	if (!f)
		return;
	while (fgets(line, sizeof(line), f)) {
		char *s = line, *e;

		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strlen(s);
		while (e > s && strchr(" \t\r\n", e[-1]))
			*--e = '\0';
		if (*s && strcmp(s, "^"))
			snprintf(buf, size, "%s", s);
	}
	fclose(f);
}

/* Turns pclose()'s status (and a failed write) into an error naming the cause. */
static int check_status(int status, bool wrote, const char *program, const char *log,
			struct ee_err *err)
{
	char why[512];

	if (status == -1)
		return ee_err_set(err, EE_ERR_IO, "cannot run '%s': %s", program, strerror(errno));
	if (WIFSIGNALED(status))
		return ee_err_set(err, EE_ERR_IO, "'%s' was killed by signal %d", program,
				  WTERMSIG(status));
	if (WIFEXITED(status) && (WEXITSTATUS(status) == 126 || WEXITSTATUS(status) == 127))
		return ee_err_set(err, EE_ERR_IO, "cannot run '%s' (status %d)", program,
				  WEXITSTATUS(status));
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		last_log_line(log, why, sizeof(why));
		return ee_err_set(err, EE_ERR_IO, "gnuplot failed (status %d): %s",
				  WIFEXITED(status) ? WEXITSTATUS(status) : -1,
				  why[0] ? why : "no message");
	}
	if (!wrote)
		return ee_err_set(err, EE_ERR_IO, "cannot write the plot script to '%s'", program);
	return EE_OK;
}

/* The directory of every output is there and writable; else an error naming it (the shell
 * that runs gnuplot would fail on the log beside the first output with its own message). */
static int check_dirs(const struct ee_out *out, int n, struct ee_err *err)
{
	char dir[PATH_MAX_LEN];
	int i;

	for (i = 0; i < n; i++) {
		const char *path = out[i].path, *slash = strrchr(path, '/');
		int len = slash ? (int)(slash - path) + (slash == path) : 1; /* "/x.png": "/" */

		snprintf(dir, sizeof(dir), "%.*s", len, slash ? path : ".");
		if (access(dir, W_OK | X_OK) < 0)
			return ee_err_set(err, EE_ERR_IO, "cannot write plot '%s': directory '%s': "
					  "%s", path, dir, strerror(errno));
	}
	return EE_OK;
}

/* Every output exists and is not empty. */
static int check_outputs(const struct ee_out *out, int n, struct ee_err *err)
{
	struct stat st;
	int i;

	for (i = 0; i < n; i++)
		if (stat(out[i].tmp, &st) < 0 || st.st_size == 0)
			return ee_err_set(err, EE_ERR_IO, "gnuplot wrote nothing to '%s'",
					  out[i].path);
	return EE_OK;
}

/* popen + script + pclose with SIGPIPE blocked; the exit status into *status. */
static bool pipe_script(const char *cmd, const struct ee_plot *p, const struct ee_out *out,
			const enum ee_plot_format *formats, int n, int *status)
{
	struct timespec zero = { 0, 0 };
	sigset_t pipe_set, old;
	bool wrote = false;
	FILE *gp;

	sigemptyset(&pipe_set);
	sigaddset(&pipe_set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &pipe_set, &old);
	fflush(NULL); /* the child must not inherit unflushed buffers */
	gp = popen(cmd, "w");
	*status = -1;
	if (gp) {
		wrote = write_script(gp, p, out, formats, n);
		*status = pclose(gp);
	}
	if (!sigismember(&old, SIGPIPE))
		while (sigtimedwait(&pipe_set, NULL, &zero) > 0)
			;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return wrote;
}

int ee_plot_render(struct ee_plot *p, const char *program, struct ee_out *out,
		   const enum ee_plot_format *formats, int n, struct ee_err *err)
{
	char exe[PATH_MAX_LEN], qexe[2 * PATH_MAX_LEN], qlog[2 * PATH_MAX_LEN + 32];
	char cmd[sizeof(qexe) + sizeof(qlog) + 32], logname[PATH_MAX_LEN + 16];
	struct ee_out log;
	int rc, status, i;
	bool wrote;

	if (!program)
		program = EE_PLOT_PROGRAM;
	if (n < 1)
		return ee_err_set(err, EE_ERR_USAGE, "a plot needs at least one output");
	if (fflush(p->data) || fflush(p->cmds))
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for a plot script");
	if ((rc = check_dirs(out, n, err)) < 0 ||
	    (rc = find_program(program, exe, sizeof(exe), err)) < 0)
		return rc;
	snprintf(logname, sizeof(logname), "%s.gnuplot", out[0].path);
	if ((rc = ee_out_begin(&log, logname, err)) < 0)
		return rc;
	if (!sh_quote(qexe, sizeof(qexe), exe) || !sh_quote(qlog, sizeof(qlog), log.tmp)) {
		ee_out_abort(&log);
		return ee_err_set(err, EE_ERR_USAGE, "plot path is too long");
	}
	snprintf(cmd, sizeof(cmd), "exec %s >/dev/null 2>%s", qexe, qlog);
	wrote = pipe_script(cmd, p, out, formats, n, &status);
	rc = check_status(status, wrote, program, log.tmp, err);
	if (rc == EE_OK)
		rc = check_outputs(out, n, err);
	ee_out_abort(&log);
	for (i = 0; rc < 0 && i < n; i++)
		unlink(out[i].tmp);
	return rc;
}

int ee_plot_save(struct ee_plot *p, const char *program, const char *png, const char *svg,
		 struct ee_err *err)
{
	const char *paths[2] = { png, svg };
	enum ee_plot_format formats[2];
	struct ee_out out[2];
	int n = 0, i, rc = EE_OK;

	for (i = 0; i < 2 && rc == EE_OK; i++) {
		if (!paths[i])
			continue;
		formats[n] = i ? EE_PLOT_SVG : EE_PLOT_PNG;
		if ((rc = ee_out_begin(&out[n], paths[i], err)) == EE_OK)
			n++;
	}
	if (rc == EE_OK)
		rc = ee_plot_render(p, program, out, formats, n, err);
	for (i = 0; i < n; i++) {
		if (rc == EE_OK)
			rc = ee_out_commit(&out[i], err);
		else
			ee_out_abort(&out[i]);
	}
	return rc;
}

int ee_plot_check(const char *program, const char *dir, struct ee_err *err)
{
	static const enum ee_plot_format formats[2] = { EE_PLOT_PNG, EE_PLOT_SVG };
	static const char *const names[2] = { ".eeprof-check.png", ".eeprof-check.svg" };
	char path[PATH_MAX_LEN];
	struct ee_out out[2];
	struct ee_plot p;
	int n = 0, rc;

	if ((rc = ee_plot_init(&p, err)) < 0)
		return rc;
	fprintf(p.data, "$pt << EOD\n0 0\nEOD\n");
	fprintf(p.cmds, "plot $pt notitle\n");
	for (; n < 2 && rc == EE_OK; n++) {
		snprintf(path, sizeof(path), "%s/%s", dir, names[n]);
		if ((rc = ee_out_begin(&out[n], path, err)) < 0)
			break;
	}
	if (rc == EE_OK)
		rc = ee_plot_render(&p, program, out, formats, 2, err);
	while (n-- > 0)
		ee_out_abort(&out[n]);
	ee_plot_release(&p);
	return rc;
}
