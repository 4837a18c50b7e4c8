// SPDX-License-Identifier: GPL-2.0
#include <linux/fs.h>
#include <linux/string.h>

/* Replaces fs/binfmt_misc.c:bm_status_read() in the binfmt_misc module (same prototype). */
ssize_t livepatch_bm_status_read(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	static const char status[] = "enabled (live patched)\n";

	return simple_read_from_buffer(buf, nbytes, ppos, status, strlen(status));
}
