// SPDX-License-Identifier: GPL-2.0
#include <linux/init.h>
#include <linux/seq_file.h>

/*
 * saved_command_line is declared in <linux/init.h> but not exported to modules: the build resolves it
 * against the target kernel's symbol map.
 */
int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "%s [live patched]\n", saved_command_line);
	return 0;
}
