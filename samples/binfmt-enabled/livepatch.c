// SPDX-License-Identifier: GPL-2.0
#include <linux/fs.h>
#include <linux/kernel.h>

/* binfmt_misc's `static int enabled`: its assembler name is the module's symbol, resolved by the livepatch core. */
extern int binfmt_misc_enabled __asm__("enabled");

/* Replaces fs/binfmt_misc.c:bm_status_read() and shows the module's own variable. */
ssize_t livepatch_bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	char status[40];
	int length = scnprintf(status, sizeof(status), "enabled=%d (live patched)\n", binfmt_misc_enabled);

	return simple_read_from_buffer(buf, nbytes, ppos, status, length);
}
