/* arena.c - bump allocators with a single owner; see arena.h. */
#include "arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int ee_arena_init(struct ee_arena *a, size_t size, struct ee_err *err)
{
	a->used = 0;
	a->size = ee_align_up(size ? size : EE_ALIGN);
	a->base = aligned_alloc(EE_ALIGN, a->size);
	if (!a->base)
		return ee_err_set(err, EE_ERR_NOMEM, "cannot allocate %zu bytes of run memory",
				  a->size);
	return EE_OK;
}

void *ee_arena_alloc(struct ee_arena *a, size_t bytes)
{
	size_t need = ee_align_up(bytes);
	void *p;

	if (need > a->size - a->used)
		return NULL;
	p = a->base + a->used;
	a->used += need;
	memset(p, 0, need);
	return p;
}

void ee_arena_release(struct ee_arena *a)
{
	free(a->base);
	a->base = NULL;
	a->size = a->used = 0;
}

struct ee_pool_chunk {
	struct ee_pool_chunk *next;
	size_t size, used;
	_Alignas(16) char data[];
};

#define EE_POOL_CHUNK 16384

void *ee_pool_alloc(struct ee_pool *p, size_t bytes)
{
	struct ee_pool_chunk *c = p->head;
	size_t need = (bytes + 15) & ~(size_t)15;
	void *out;

	if (!c || need > c->size - c->used) {
		size_t size = need > EE_POOL_CHUNK ? need : EE_POOL_CHUNK;

		c = malloc(sizeof(*c) + size);
		if (!c)
			return NULL;
		c->size = size;
		c->used = 0;
		c->next = p->head;
		p->head = c;
	}
	out = c->data + c->used;
	c->used += need;
	memset(out, 0, need);
	return out;
}

char *ee_pool_strdup(struct ee_pool *p, const char *s)
{
	size_t n = strlen(s) + 1;
	char *d = ee_pool_alloc(p, n);

	if (d)
		memcpy(d, s, n);
	return d;
}

void ee_pool_release(struct ee_pool *p)
{
	while (p->head) {
		struct ee_pool_chunk *next = p->head->next;

		free(p->head);
		p->head = next;
	}
}

int ee_mul_size(size_t a, size_t b, size_t *out)
{
	if (a && b > SIZE_MAX / a)
		return -1;
	*out = a * b;
	return 0;
}
