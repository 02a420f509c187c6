/*
 * arch.h - the architectures eeprof can load, registered in plugins/archs.c.
 *
 * An architecture turns a checkpoint into a layer graph with ee_b_* calls
 * (builder.h), reading depth, widths, class count and input size from tensor
 * shapes, and declares its exits shallow to deep. To add one: write
 * plugins/arch_<name>.c defining `const struct ee_arch ee_arch_<name>`, add it
 * to the table in archs.c, teach checkpoints/export.py its key names, and add a
 * parity case in tests/parity/cases.py.
 */
#ifndef EE_ARCH_H
#define EE_ARCH_H

#include <stdbool.h>

#include "builder.h"

struct ee_arch {
	const char *name;    /* the checkpoint's arch attribute and --arch value */
	const char *summary; /* one line for --help and errors */
	const char *keys;    /* the state_dict keys that identify it, for error messages */
	/* True if the checkpoint's key names are this architecture's. */
	bool (*detect)(const struct ee_ckpt *ck);
	/* Builds the graph into b->m from b->ck; returns b->rc. */
	int (*build)(struct ee_builder *b);
};

/* NULL-terminated table, in detection order. */
extern const struct ee_arch *const ee_archs[];

const struct ee_arch *ee_arch_find(const char *name);
/* The first architecture whose detect() accepts the checkpoint, or NULL. */
const struct ee_arch *ee_arch_detect(const struct ee_ckpt *ck);
/* "resnet, resnet-cifar, ..." for messages. */
const char *ee_arch_names(void);

#endif
