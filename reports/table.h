/*
 * table.h - aligned text and Markdown tables for stdout and report.md.
 *
 * The first column is left-aligned, the others right-aligned (numbers).
 *
 *     struct ee_table t;
 *     ee_table_init(&t, 3, (const char *[]){ "exit", "accuracy", "MACs" });
 *     ee_table_row(&t, (const char *[]){ "1", "0.9132", "40.6M" });
 *     ee_table_print(&t, stdout, false);
 *     ee_table_release(&t);
 */
#ifndef EE_TABLE_H
#define EE_TABLE_H

#include <stdbool.h>
#include <stdio.h>

#define EE_TABLE_MAX_COLS 16

struct ee_table {
	int ncols, nrows, cap;
	char **cells; /* [(nrows + 1) * ncols], row 0 is the header; NULL after out of memory */
	bool failed;  /* a row could not be stored */
};

void ee_table_init(struct ee_table *t, int ncols, const char *const *head);
void ee_table_row(struct ee_table *t, const char *const *cells);
/* A row from printf-formatted cells separated by '\t'. */
void ee_table_rowf(struct ee_table *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void ee_table_print(const struct ee_table *t, FILE *f, bool markdown);
void ee_table_release(struct ee_table *t);

/* "40.55M", "1.2G", "812k", "95": 4 significant digits with an SI suffix. */
const char *ee_fmt_si(char *buf, size_t size, double v);

#endif
