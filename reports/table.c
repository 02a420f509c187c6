/* table.c - aligned text and Markdown tables for stdout and report.md; see table.h. */
#include "table.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void add_row(struct ee_table *t, const char *const *cells)
{
	int i, base;

	if (t->failed)
		return;
	if ((t->nrows + 1) == t->cap) {
		int cap = t->cap * 2;
		char **p = realloc(t->cells, (size_t)cap * t->ncols * sizeof(*p));

		if (!p) {
			t->failed = true;
			return;
		}
		t->cells = p;
		t->cap = cap;
	}
	base = t->nrows * t->ncols;
	for (i = 0; i < t->ncols; i++)
		t->cells[base + i] = strdup(cells[i] ? cells[i] : "");
	t->nrows++;
}

void ee_table_init(struct ee_table *t, int ncols, const char *const *head)
{
	memset(t, 0, sizeof(*t));
	t->ncols = ncols > EE_TABLE_MAX_COLS ? EE_TABLE_MAX_COLS : ncols;
	t->cap = 16;
	t->cells = calloc((size_t)t->cap * t->ncols, sizeof(*t->cells));
	t->failed = !t->cells;
	add_row(t, head);
}

void ee_table_row(struct ee_table *t, const char *const *cells)
{
	add_row(t, cells);
}

void ee_table_rowf(struct ee_table *t, const char *fmt, ...)
{
	char buf[1024], *cells[EE_TABLE_MAX_COLS] = { 0 }, *p = buf;
	va_list ap;
	int i;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	for (i = 0; i < t->ncols && p; i++) {
		cells[i] = p;
		p = strchr(p, '\t');
		if (p)
			*p++ = '\0';
	}
	add_row(t, (const char *const *)cells);
}

/* Markdown's header rule: |---|--:| (numbers right-aligned). */
static void rule(FILE *f, const int *width, int ncols)
{
	int c, i;

	fputc('|', f);
	for (c = 0; c < ncols; c++) {
		for (i = 0; i < width[c] + 1; i++)
			fputc('-', f);
		fputs(c ? ":|" : "-|", f);
	}
	fputc('\n', f);
}

void ee_table_print(const struct ee_table *t, FILE *f, bool markdown)
{
	int width[EE_TABLE_MAX_COLS] = { 0 }, r, c;

	if (t->failed)
		return;
	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			int w = (int)strlen(t->cells[r * t->ncols + c]);

			if (w > width[c])
				width[c] = w;
		}
	for (r = 0; r < t->nrows; r++) {
		for (c = 0; c < t->ncols; c++) {
			const char *s = t->cells[r * t->ncols + c];

			fputs(markdown ? (c ? " | " : "| ") : (c ? "  " : ""), f);
			fprintf(f, c ? "%*s" : "%-*s", width[c], s);
		}
		fputs(markdown ? " |\n" : "\n", f);
		if (markdown && r == 0)
			rule(f, width, t->ncols);
	}
}

void ee_table_release(struct ee_table *t)
{
	int i;

	for (i = 0; t->cells && i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	memset(t, 0, sizeof(*t));
}

const char *ee_fmt_si(char *buf, size_t size, double v)
{
	static const char suffix[] = { ' ', 'k', 'M', 'G', 'T', 'P' };
	double a = fabs(v);
	int e = 0;

	while (a >= 1000 && e < 5) {
		a /= 1000;
		v /= 1000;
		e++;
	}
	if (e == 0)
		snprintf(buf, size, "%.4g", v);
	else
		snprintf(buf, size, "%.4g%c", v, suffix[e]);
	return buf;
}
