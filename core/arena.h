/*
 * arena.h - bump allocators with a single owner.
 *
 * struct ee_arena is one fixed block carved in 64-byte aligned pieces: a run's
 * activations and scratch, sized exactly by the planner before it is created.
 * struct ee_pool grows in chunks and holds the small objects of a model (layer
 * structs, names); freeing the model is one ee_pool_release().
 */
#ifndef EE_ARENA_H
#define EE_ARENA_H

#include <stddef.h>

#include "status.h"

#define EE_ALIGN 64

struct ee_arena {
	char *base;   /* aligned block of size bytes */
	size_t size;  /* capacity in bytes */
	size_t used;  /* bytes handed out, a multiple of EE_ALIGN */
};

int ee_arena_init(struct ee_arena *a, size_t size, struct ee_err *err);
/* Returns zeroed, EE_ALIGN-aligned memory, or NULL when the arena is full (a planner bug). */
void *ee_arena_alloc(struct ee_arena *a, size_t bytes);
void ee_arena_release(struct ee_arena *a);

/* Rounds a byte count up to EE_ALIGN; every arena piece takes this much. */
static inline size_t ee_align_up(size_t bytes)
{
	return (bytes + EE_ALIGN - 1) & ~(size_t)(EE_ALIGN - 1);
}

struct ee_pool_chunk;

struct ee_pool {
	struct ee_pool_chunk *head; /* newest chunk first */
};

/* Zeroed memory that lives until ee_pool_release(); NULL on out of memory. */
void *ee_pool_alloc(struct ee_pool *p, size_t bytes);
char *ee_pool_strdup(struct ee_pool *p, const char *s);
void ee_pool_release(struct ee_pool *p);

/* a*b with overflow check: returns 0 and sets *out, or -1 on overflow. */
int ee_mul_size(size_t a, size_t b, size_t *out);

#endif
