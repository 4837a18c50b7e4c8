// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

/* Replaces fs/proc/cmdline.c:cmdline_proc_show(); the registration is generated from cmdline.klpproj. */
int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", "this has been live patched");
	return 0;
}
