// SPDX-License-Identifier: GPL-2.0
//#if (knownFunction)
#include <linux/fs.h>
#include <linux/string.h>

/*
 * Replaces fs/binfmt_misc.c:bm_status_read() in the binfmt_misc module, which answers reads of
 * <binfmt_misc mount>/status. A replacement has the prototype of the function it replaces and external
 * linkage (no static); the registration is generated from the project file. To patch another function,
 * change PatchedFunction (and its Object) in the .klpproj and copy that function's prototype and body
 * from the target's source.
 */
ssize_t livepatch_KLP_FUNCTION(struct file *file, char __user *buf, size_t nbytes, loff_t *ppos)
{
	static const char status[] = "enabled (live patched)\n";

	return simple_read_from_buffer(buf, nbytes, ppos, status, strlen(status));
}
//#else
/*
 * Replaces KLP_FUNCTION in the KLP_OBJECT module. A replacement has the prototype of the function it replaces
 * and external linkage (no static): copy KLP_FUNCTION's prototype and body from the target kernel's source
 * (apt-get source linux, or the release's tag), name it livepatch_KLP_FUNCTION, change what needs fixing,
 * and delete the #error line. Static functions and data of KLP_OBJECT that the body uses can be declared and
 * called as they are: the build turns those references into livepatch relocations.
 */
#error "livepatch.c: give livepatch_KLP_FUNCTION the prototype and body of KLP_FUNCTION (see README.md)"
//#endif
