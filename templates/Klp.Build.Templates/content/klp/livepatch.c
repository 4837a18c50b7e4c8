// SPDX-License-Identifier: GPL-2.0
//#if (knownFunction)
#include <linux/seq_file.h>

/*
 * Replaces fs/proc/cmdline.c:cmdline_proc_show(), which answers reads of /proc/cmdline.
 * A replacement has the prototype of the function it replaces and external linkage (no static); the
 * registration of module KLP_MODULE_NAME is generated from the project file. To patch another function,
 * change PatchedFunction in the .klpproj and copy that function's prototype and body from the target's source.
 */
int livepatch_KLP_FUNCTION(struct seq_file *m, void *v)
{
	seq_printf(m, "%s\n", "this has been live patched");
	return 0;
}
//#else
/*
 * Replaces KLP_FUNCTION. A replacement has the prototype of the function it replaces and external linkage
 * (no static): copy KLP_FUNCTION's prototype and body from the target kernel's source (apt-get source
 * linux, or the release's tag), name it livepatch_KLP_FUNCTION, change what needs fixing, and delete the
 * #error line. The build checks the prototype against the kernel's DWARF (KLP4112).
 */
#error "livepatch.c: give livepatch_KLP_FUNCTION the prototype and body of KLP_FUNCTION (see README.md)"
//#endif
