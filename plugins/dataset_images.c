/*
 * dataset_images.c - the imagefolder and imagelist readers: folders of JPEG/PNG files,
 * listed at open and decoded batch by batch (plugins/image.h, core/imgprep.h).
 *
 *   imagefolder:DIR   torchvision's ImageFolder: every sub-folder of DIR (symlinks
 *                     followed, hidden ones too) is a class, numbered in sorted order;
 *                     its files at any depth whose names end, in any case, in one of
 *                     torchvision's extensions are its samples, sorted by folder path,
 *                     then name. A class without files is an error, as in torchvision.
 *   imagelist:FILE    lines "PATH LABEL": PATH relative to FILE's folder (or absolute,
 *                     may hold spaces), LABEL an integer >= 0; blank lines and lines
 *                     starting with '#' skipped; classes: 1 + the largest label.
 *
 * Names sort by bytes (strcmp), which is Python's order for UTF-8 names.
 */
#include <dirent.h>
#include <stdbool.h>
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "core/imgprep.h"
#include "core/threads.h"
#include "plugins/dataset-impl.h"
#include "plugins/image.h"

#define MAX_DEPTH 64           /* folder nesting (stops symlink loops) */
#define MAX_LABEL (1 << 20)    /* imagelist labels */
#define MAX_LINE 8192

static const char *const extensions[] = { ".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm",
					  ".tif", ".tiff", ".webp" };

/* A growing list of samples: full path, folder part (for sorting) and label. */
struct sample {
	char *path;
	size_t dir_len; /* path[0..dir_len) is the folder */
	int32_t label;
};

struct list {
	struct sample *s;
	int n, cap;
};

static int list_add(struct list *l, const char *dir, const char *name, int32_t label,
		    const char *what, struct ee_err *err)
{
	size_t dl = strlen(dir), nl = strlen(name);

	if (l->n == INT_MAX)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': more than %d images", what,
				  INT_MAX);
	if (l->n == l->cap) {
		int cap = l->cap ? (l->cap > INT_MAX / 2 ? INT_MAX : l->cap * 2) : 256;
		struct sample *s = realloc(l->s, (size_t)cap * sizeof(*s));

		if (!s)
			return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': out of memory", what);
		l->s = s;
		l->cap = cap;
	}
	l->s[l->n].path = malloc(dl + nl + 2);
	if (!l->s[l->n].path)
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': out of memory", what);
	if (*name && *dir)
		sprintf(l->s[l->n].path, "%s/%s", dir, name);
	else
		sprintf(l->s[l->n].path, "%s%s", dir, name);
	l->s[l->n].dir_len = dl;
	l->s[l->n].label = label;
	l->n++;
	return EE_OK;
}

static void list_free(struct list *l)
{
	int i;

	for (i = 0; i < l->n; i++)
		free(l->s[i].path);
	free(l->s);
}

/* Hands the list over to ds: paths and labels. */
static int list_to_dataset(struct ee_dataset *ds, struct list *l, const char *what,
			   struct ee_err *err)
{
	int i;

	if (l->n == 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': holds no images", what);
	ds->paths = malloc((size_t)l->n * sizeof(*ds->paths));
	ds->labels = malloc((size_t)l->n * sizeof(*ds->labels));
	if (!ds->paths || !ds->labels)
		return ee_err_set(err, EE_ERR_NOMEM, "dataset '%s': out of memory for %d images",
				  what, l->n);
	for (i = 0; i < l->n; i++) {
		ds->paths[i] = l->s[i].path;
		ds->labels[i] = l->s[i].label;
		l->s[i].path = NULL;
		ds->n = i + 1;
	}
	return EE_OK;
}

/* ---- imagefolder ---- */

static int has_image_extension(const char *name)
{
	size_t n = strlen(name), i;

	for (i = 0; i < sizeof(extensions) / sizeof(extensions[0]); i++) {
		size_t e = strlen(extensions[i]);

		if (n >= e && !strcasecmp(name + n - e, extensions[i]))
			return 1;
	}
	return 0;
}

static int is_dir(const char *dir, const char *name)
{
	char path[PATH_MAX];
	struct stat st;

	if (snprintf(path, sizeof(path), "%s/%s", dir, name) >= (int)sizeof(path))
		return 0;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

static int skip_dot(const struct dirent *e)
{
	return strcmp(e->d_name, ".") && strcmp(e->d_name, "..");
}

static int by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

/* The entries of dir, sorted (scandir); EE_ERR_INPUT naming it if it cannot be read. */
static int read_dir(const char *dir, struct dirent ***ents, int *n, struct ee_err *err)
{
	*n = scandir(dir, ents, skip_dot, by_name);
	if (*n < 0)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot read folder: %s", dir,
				  strerror(errno));
	return EE_OK;
}

static void free_dir(struct dirent **ents, int n)
{
	int i;

	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
}

/* os.walk(dir, followlinks=True): every file with an image extension, any depth. */
static int walk(struct list *l, const char *dir, int32_t label, int depth, struct ee_err *err)
{
	struct dirent **ents;
	int n, i, rc = read_dir(dir, &ents, &n, err);

	if (rc < 0)
		return rc;
	if (depth > MAX_DEPTH)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': folders nested deeper than %d "
				"(a symlink loop?)", dir, MAX_DEPTH);
	for (i = 0; i < n && rc == EE_OK; i++) {
		char sub[PATH_MAX];

		if (!is_dir(dir, ents[i]->d_name)) {
			if (has_image_extension(ents[i]->d_name))
				rc = list_add(l, dir, ents[i]->d_name, label, dir, err);
		} else if (snprintf(sub, sizeof(sub), "%s/%s", dir, ents[i]->d_name) >=
			   (int)sizeof(sub)) {
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s/%s': path is too long", dir,
					ents[i]->d_name);
		} else {
			rc = walk(l, sub, label, depth + 1, err);
		}
	}
	free_dir(ents, n);
	return rc;
}

/* torchvision sorts a class's files by (folder path, name). */
static int by_folder_then_name(const void *pa, const void *pb)
{
	const struct sample *a = pa, *b = pb;
	size_t n = a->dir_len < b->dir_len ? a->dir_len : b->dir_len;
	int c = memcmp(a->path, b->path, n);

	if (c)
		return c;
	if (a->dir_len != b->dir_len) /* one folder is a prefix of the other: shorter first */
		return a->dir_len < b->dir_len ? -1 : 1;
	return strcmp(a->path + a->dir_len, b->path + b->dir_len);
}

static int folder_open(struct ee_dataset *ds, const char *where, struct ee_err *err)
{
	struct list l = { 0 };
	struct dirent **ents;
	int n, i, classes = 0, rc = read_dir(where, &ents, &n, err);

	for (i = 0; i < n && rc == EE_OK; i++) {
		char sub[PATH_MAX];
		int first = l.n;

		if (!is_dir(where, ents[i]->d_name))
			continue;
		if (snprintf(sub, sizeof(sub), "%s/%s", where, ents[i]->d_name) >=
		    (int)sizeof(sub))
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s/%s': path is too long",
					where, ents[i]->d_name);
		else
			rc = walk(&l, sub, classes, 0, err);
		if (rc == EE_OK && l.n == first)
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': class folder '%s' holds no "
					"image files (.jpg .jpeg .png .ppm .bmp .pgm .tif .tiff "
					".webp)", where, ents[i]->d_name);
		if (rc == EE_OK)
			qsort(l.s + first, (size_t)(l.n - first), sizeof(*l.s),
			      by_folder_then_name);
		classes++;
	}
	if (rc == EE_OK && classes == 0)
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': no class folders (imagefolder "
				"wants DIR/<class>/<image>)", where);
	if (n >= 0 && rc == EE_OK)
		rc = list_to_dataset(ds, &l, where, err);
	ds->num_classes = classes;
	if (n >= 0 && ents)
		free_dir(ents, n);
	list_free(&l);
	return rc;
}

int ee_dataset_imagefolder_open(struct ee_dataset *ds, const char *where,
				enum ee_dataset_part part, struct ee_err *err)
{
	(void)part;
	return folder_open(ds, where, err);
}

/* ---- imagelist ---- */

/* Splits a line "PATH LABEL" (trailing blanks removed) into the path and the label. */
static int parse_line(char *line, const char *file, long no, char **path, int32_t *label,
		      struct ee_err *err)
{
	char *end = line + strlen(line), *sep, *tail;
	long v;

	while (end > line && strchr(" \t\r\n", end[-1]))
		*--end = '\0';
	sep = end;
	while (sep > line && !strchr(" \t", sep[-1]))
		sep--;
	if (sep == line)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': line %ld: expected 'PATH "
				  "LABEL'", file, no);
	errno = 0;
	v = strtol(sep, &tail, 10);
	if (*tail || tail == sep || errno)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': line %ld: label '%s' is not "
				  "a number", file, no, sep);
	if (v < 0 || v >= MAX_LABEL)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': line %ld: label %ld is out "
				  "of range (0..%d)", file, no, v, MAX_LABEL - 1);
	while (sep > line && strchr(" \t", sep[-1]))
		*--sep = '\0';
	*path = line;
	*label = (int32_t)v;
	return EE_OK;
}

static int list_open(struct ee_dataset *ds, const char *where, struct ee_err *err)
{
	FILE *f = fopen(where, "r");
	struct list l = { 0 };
	char line[MAX_LINE], dir[PATH_MAX];
	const char *slash = strrchr(where, '/');
	int32_t max = -1;
	long no = 0;
	int rc = EE_OK;

	if (!f)
		return ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot open: %s", where,
				  strerror(errno));
	snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - where) : 1,
		 slash ? where : ".");
	if (slash == where)
		snprintf(dir, sizeof(dir), "/");
	while (rc == EE_OK && fgets(line, sizeof(line), f)) {
		char *path = NULL, *p = line;
		int32_t label = -1;

		no++;
		if (!strchr(line, '\n') && !feof(f)) {
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': line %ld is longer than %d "
					"characters", where, no, MAX_LINE - 2);
			break;
		}
		while (*p == ' ' || *p == '\t')
			p++;
		if (!*p || *p == '#' || *p == '\n' || *p == '\r')
			continue;
		rc = parse_line(p, where, no, &path, &label, err);
		if (rc == EE_OK)
			rc = list_add(&l, path[0] == '/' ? "" : dir, path, label, where, err);
		max = label > max ? label : max;
	}
	if (rc == EE_OK && ferror(f))
		rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': cannot read: %s", where,
				strerror(errno));
	fclose(f);
	if (rc == EE_OK)
		rc = list_to_dataset(ds, &l, where, err);
	ds->num_classes = max + 1;
	list_free(&l);
	return rc;
}

int ee_dataset_imagelist_open(struct ee_dataset *ds, const char *where,
			      enum ee_dataset_part part, struct ee_err *err)
{
	(void)part;
	return list_open(ds, where, err);
}

/* ---- decoding a batch ---- */

/* The batch being decoded and the first failure among its images. */
struct decode_job {
	const struct ee_dataset *ds;
	int start;
	struct ee_shape in;
	uint8_t *dst;
	int *bad;
	pthread_mutex_t lock; /* guards first_bad, rc and err */
	int first_bad, rc;
	struct ee_err *err;
};

/* Images [lo, hi) of the batch, decoded and prepared (only decoded if dst is NULL); the
 * failure of the lowest index is the one reported. */
static void decode_range(void *ctx, long lo, long hi, int tid)
{
	struct decode_job *j = ctx;
	size_t per = (size_t)j->in.c * j->in.h * j->in.w;
	int i;

	(void)tid;
	for (i = (int)lo; i < (int)hi; i++) {
		const char *path = j->ds->paths[j->start + i];
		struct ee_image img;
		struct ee_err e = { 0 };
		int r = ee_image_load(&img, path, j->in.c, &e);

		if (r == EE_OK && j->dst) /* no dst: decoding checked only */
			r = ee_imgprep_apply(img.px, img.w, img.h, img.c, j->in.h, j->in.w,
					     &j->ds->prep, path, j->dst + (size_t)i * per, &e);
		ee_image_release(&img);
		if (j->bad)
			j->bad[i] = r == EE_ERR_INPUT;
		if (r < 0 && (!j->bad || r != EE_ERR_INPUT)) {
			pthread_mutex_lock(&j->lock);
			if (i < j->first_bad) {
				j->first_bad = i;
				j->rc = r;
				if (j->err)
					*j->err = e;
			}
			pthread_mutex_unlock(&j->lock);
		}
	}
}

int ee_dataset_images_u8(const struct ee_dataset *ds, int start, int count, struct ee_shape in,
			 uint8_t *dst, int *bad, struct ee_err *err)
{
	struct decode_job j = { ds, start, in, dst, bad, PTHREAD_MUTEX_INITIALIZER, INT_MAX,
				EE_OK, err };

	/* decoding a file takes about a millisecond: always worth the team */
	ee_parallel_for(ee_threads_get(), count, 1e7 * count, decode_range, &j);
	pthread_mutex_destroy(&j.lock);
	return j.rc;
}

void ee_skipped_add(struct ee_skipped *s, const char *path)
{
	if (s->n < EE_SKIPPED_NAMED)
		snprintf(s->first[s->n], sizeof(s->first[0]), "%s", path);
	s->n++;
}

/* ds reduced to the samples [offset, offset + count) whose bad[] is 0, index[] their
 * positions; the others counted in s. */
static void keep_marked(struct ee_dataset *ds, int offset, int count, const int *bad,
			int32_t *index, struct ee_skipped *s)
{
	int i, k = 0;

	for (i = 0; i < ds->n; i++) {
		bool in = i >= offset && i < offset + count;

		if (in && bad[i - offset])
			ee_skipped_add(s, ds->paths[i]);
		if (!in || bad[i - offset]) {
			free(ds->paths[i]);
			continue;
		}
		ds->paths[k] = ds->paths[i];
		ds->labels[k] = ds->labels[i];
		index[k++] = i;
	}
	ds->listed = ds->n;
	ds->n = k;
	ds->index = index;
}

int ee_dataset_keep_good(struct ee_dataset *ds, int *offset, int *count, struct ee_skipped *s,
			 struct ee_err *err)
{
	struct ee_shape in = { .c = 3, .h = 1, .w = 1 }; /* only c matters: no dst */
	int *bad;
	int32_t *index;
	int rc;

	if (!ds->paths || ds->index)
		return EE_OK;
	bad = calloc((size_t)*count + 1, sizeof(*bad));
	index = malloc(((size_t)*count + 1) * sizeof(*index));
	if (!bad || !index) {
		free(bad);
		free(index);
		return ee_err_set(err, EE_ERR_NOMEM, "out of memory for %d file names", *count);
	}
	rc = ee_dataset_images_u8(ds, *offset, *count, in, NULL, bad, err);
	if (rc == EE_OK) {
		keep_marked(ds, *offset, *count, bad, index, s);
		*offset = 0;
		*count = ds->n;
		if (ds->n == 0)
			rc = ee_err_set(err, EE_ERR_INPUT, "dataset '%s': none of the selected image "
					"files can be decoded (the first: '%s')", ds->spec,
					s->first[0]);
	}
	if (rc < 0 && ds->index != index)
		free(index);
	free(bad);
	return rc;
}
