/* archs.c - the table of architectures; see arch.h for how to add one. */
#include <stdio.h>
#include <string.h>

#include "arch.h"

extern const struct ee_arch ee_arch_resnet, ee_arch_resnet_cifar, ee_arch_sdresnet,
	ee_arch_sdresnet_tpami, ee_arch_scan, ee_arch_emgnet;

/* Detection order: the most specific key patterns first. */
const struct ee_arch *const ee_archs[] = {
	&ee_arch_emgnet,
	&ee_arch_sdresnet,
	&ee_arch_sdresnet_tpami,
	&ee_arch_scan,
	&ee_arch_resnet_cifar,
	&ee_arch_resnet,
	NULL,
};

const struct ee_arch *ee_arch_find(const char *name)
{
	int i;

	for (i = 0; ee_archs[i]; i++)
		if (!strcmp(ee_archs[i]->name, name))
			return ee_archs[i];
	return NULL;
}

const struct ee_arch *ee_arch_detect(const struct ee_ckpt *ck)
{
	int i;

	for (i = 0; ee_archs[i]; i++)
		if (ee_archs[i]->detect(ck))
			return ee_archs[i];
	return NULL;
}

const char *ee_arch_names(void)
{
	static char names[256];
	int i, n = 0;

	if (!names[0])
		for (i = 0; ee_archs[i] && n < (int)sizeof(names); i++)
			n += snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
				      ee_archs[i]->name);
	return names;
}
