/* SPDX-License-Identifier: GPL-2.0 */
/*
 * klp/klp_reloc.h - name the target symbol a livepatch means when its name is ambiguous.
 *
 * Klp.Build converts every relocation of the patch module that uses an undefined, non-exported symbol into
 * a livepatch relocation (.klp.rela.<object>.<section> against .klp.sym.<object>.<symbol>,<position>).
 * A name that occurs more than once in its object (e.g. a static function defined in several files) needs
 * its position: the N-th symbol of that name, counting from 1 in kallsyms order for vmlinux (by address)
 * and in symbol table order for a module. Say it in one of three ways:
 *
 *   1. In the project:   <KernelSymbol Include="type_show" Object="vmlinux" Position="3" />
 *
 *   2. Upstream klp-convert style, an annotation array (removed from the module after conversion):
 *        extern ssize_t type_show(struct device *, struct device_attribute *, char *);
 *        KLP_MODULE_RELOC(vmlinux) my_relocs[] = {
 *                KLP_SYMPOS(type_show, 3),
 *        };
 *
 *   3. SUSE minimal klp-convert style, a declaration whose assembler name already is the livepatch symbol:
 *        extern ssize_t type_show(struct device *, struct device_attribute *, char *)
 *                KLP_RELOC_SYMBOL_POS(vmlinux, vmlinux, type_show, 3);
 *      lp_obj is the object whose loading applies the relocation (normally the same as sym_obj);
 *      a module-specific lp_obj may not use vmlinux symbols.
 *
 * The position 0 means "the only symbol of that name" and fails when the name is not unique.
 */
#ifndef _KLP_BUILD_KLP_RELOC_H
#define _KLP_BUILD_KLP_RELOC_H

/* One annotation entry: 12 bytes on every architecture (the converter reads sympos at offset 8). */
struct klp_module_reloc {
	union {
		void *sym;
		unsigned long long sym64;	/* force 64-bit width */
	};
	unsigned int sympos;
} __attribute__((__packed__));

#define __KLP_STRINGIFY(x) #x

/* Opens an array of KLP_SYMPOS entries for the symbols of object obj (vmlinux or a module name). */
#define KLP_MODULE_RELOC(obj)							\
	static struct klp_module_reloc						\
	__attribute__((__used__, __section__(".klp.module_relocs." #obj), __aligned__(4)))

/* One entry: symbol is the pos-th symbol of that name in the array's object. */
#define KLP_SYMPOS(symbol, pos)							\
	{									\
		.sym = (void *)&(symbol),					\
		.sympos = (pos),						\
	}

/*
 * Declares a symbol under its livepatch name: relocations against it go to .klp.rela.<lp_obj>.<section>
 * and resolve to the pos-th sym of sym_obj. Put it after the declarator: extern int x KLP_RELOC_SYMBOL_POS(...);
 * pos must be a literal number.
 */
#define KLP_RELOC_SYMBOL_POS(lp_obj, sym_obj, sym, pos)				\
	__asm__("\".klp.sym.rela." __KLP_STRINGIFY(lp_obj) "." __KLP_STRINGIFY(sym_obj) "."	\
		__KLP_STRINGIFY(sym) "," __KLP_STRINGIFY(pos) "\"")

#define KLP_RELOC_SYMBOL(lp_obj, sym_obj, sym)					\
	KLP_RELOC_SYMBOL_POS(lp_obj, sym_obj, sym, 0)

/* The upstream asm-label form: .klp.sym.<sym_obj>.<sym>,<pos> (relocations go to .klp.rela.<sym_obj>.*). */
#define KLP_SYMBOL_POS(sym_obj, sym, pos)					\
	__asm__("\".klp.sym." __KLP_STRINGIFY(sym_obj) "." __KLP_STRINGIFY(sym) "," __KLP_STRINGIFY(pos) "\"")

#endif /* _KLP_BUILD_KLP_RELOC_H */
