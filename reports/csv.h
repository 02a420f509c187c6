/*
 * csv.h - CSV fields, as the report's CSV files and `eeprof curve --csv` write them.
 *
 * A field is quoted only if it must be (RFC 4180: it holds a comma, quote or line
 * break; quotes are doubled). Numbers carry the comma before them, so a row is a
 * first field and then numbers:
 *
 *     ee_csv_str(f, "resnet,v2");   // "resnet,v2"
 *     ee_csv_num(f, 0.5);           // ,0.5
 *     ee_csv_num(f, NAN);           // ,   (empty: not finite)
 *     fputc('\n', f);
 */
#ifndef EE_CSV_H
#define EE_CSV_H

#include <stdio.h>

void ee_csv_str(FILE *f, const char *s);
/* A comma and v with 10 significant digits, or the comma alone if v is not finite. */
void ee_csv_num(FILE *f, double v);

#endif
