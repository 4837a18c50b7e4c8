// SPDX-License-Identifier: GPL-2.0
#include <linux/seq_file.h>

/*
 * The kernel's own static copy of cpuid_eax(); the C name differs from the inline in <asm/processor.h>,
 * the assembler name is the kernel's, and the project's KernelSymbol item says which copy.
 */
extern unsigned int kernel_cpuid_eax(unsigned int op) __asm__("cpuid_eax");

int livepatch_cmdline_proc_show(struct seq_file *m, void *v)
{
	seq_printf(m, "cpuid level %u\n", kernel_cpuid_eax(0));
	return 0;
}
