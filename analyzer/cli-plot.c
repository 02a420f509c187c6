/*
 * cli-plot.c - what the commands that draw a plot share: the look options
 * (--plot-size, --font-size, --title) and --plot FILE (PNG or SVG by extension).
 * See analyzer.h.
 */
#include <string.h>

#include "analyzer.h"
#include "reports/plot.h"

static bool ends_with(const char *s, const char *tail)
{
	size_t n = strlen(s), k = strlen(tail);

	return n > k && !strcmp(s + n - k, tail);
}

int ee_cli_plot_check(const char *path, const struct ee_cli_plot_opts *o,
		      struct ee_plot_look *look, struct ee_err *err)
{
	int rc;

	memset(look, 0, sizeof(*look));
	look->font_size = o->font_size;
	look->title = o->title;
	if (o->size && (rc = ee_plot_size_parse(o->size, &look->width, &look->height, err)) < 0)
		return rc;
	if (path && !ends_with(path, ".png") && !ends_with(path, ".svg"))
		return ee_err_set(err, EE_ERR_USAGE, "--plot: '%s' must end in .png or .svg", path);
	return EE_OK;
}

int ee_cli_plot_begin(struct ee_plot *p, const struct ee_plot_look *look, struct ee_err *err)
{
	int rc = ee_plot_init(p, err);

	if (rc == EE_OK)
		ee_plot_look_apply(p, look);
	return rc;
}

int ee_cli_plot_end(struct ee_plot *p, const char *path, struct ee_err *err)
{
	bool svg = ends_with(path, ".svg");
	int rc = ee_plot_save(p, NULL, svg ? NULL : path, svg ? path : NULL, err);

	ee_plot_release(p);
	return rc;
}
