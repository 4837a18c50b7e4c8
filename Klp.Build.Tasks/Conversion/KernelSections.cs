namespace Klp.Build.Conversion;

/// <summary>How the kernel uses a section of the patch module, as far as livepatch relocations are concerned.</summary>
public enum SectionUse
{
    /// <summary>Code or data: any livepatch relocation works (module ones are applied when the module loads).</summary>
    Ordinary,

    /// <summary>
    /// A table whose entries describe the patch module's own code, read when the patch module loads
    /// (module_finalize, find_module_sections): every entry must point into the patch module. A relocation to
    /// another object there is a mistake (apply_alternatives / ftrace / ORC would work on foreign addresses).
    /// </summary>
    SiteTable,

    /// <summary>
    /// Consumed while the patch module loads (jump labels, static calls, alternative replacements, init code).
    /// vmlinux relocations are fine: the module loader applies .klp.rela.vmlinux.* sections in
    /// apply_relocations(), before module_finalize() and the MODULE_STATE_COMING notifiers. Module relocations
    /// are applied only when that module loads, after the kernel has used (or freed) the section.
    /// </summary>
    LoadTime,

    /// <summary>Not SHF_ALLOC (debug info...): the module loader never applies relocations there.</summary>
    NotLoaded,
}

/// <summary>Classifies the patch module's sections (arch/x86/kernel/module.c, kernel/module/main.c, kernel/jump_label.c, kernel/static_call_inline.c).</summary>
public static class KernelSections
{
    private static readonly HashSet<string> SiteTables = new(StringComparer.Ordinal)
    {
        ".altinstructions", ".parainstructions", ".smp_locks", ".orc_unwind", ".orc_unwind_ip", ".orc_header",
        ".retpoline_sites", ".return_sites", ".ibt_endbr_seal", ".call_sites", ".cfi_sites", ".kcfi_traps",
        "__ex_table", "__bug_table", "__mcount_loc", "__patchable_function_entries", "_kprobe_blacklist",
        "_error_injection_whitelist", "__tracepoints_ptrs",
    };

    private static readonly string[] SiteTablePrefixes = ["__ksymtab", "__kcrctab", ".discard"];

    private static readonly HashSet<string> LoadTime = new(StringComparer.Ordinal)
    {
        "__jump_table", ".static_call_sites", ".altinstr_replacement", ".altinstr_aux", "__param", "__modver",
        ".init_array", ".ctors", "_ftrace_events", "_ftrace_eval_map", "__bpf_raw_tp_map", "__trace_printk_fmt",
        "__tracepoint_str", "__tracepoints", "__tracepoints_strings", "__dyndbg", "__dyndbg_classes",
        ".gnu.linkonce.this_module", "__srcu_struct_ptrs", ".data..ro_after_init",
    };

    public static SectionUse Classify(string name, bool allocated)
    {
        if (!allocated) return SectionUse.NotLoaded;
        if (SiteTables.Contains(name) || SiteTablePrefixes.Any(p => name.StartsWith(p, StringComparison.Ordinal))) return SectionUse.SiteTable;
        // .init.* is freed after the patch module's init (module_init_layout_section); .exit.* stays with MODULE_UNLOAD.
        if (LoadTime.Contains(name) || name.StartsWith(".init", StringComparison.Ordinal)) return SectionUse.LoadTime;
        return SectionUse.Ordinary;
    }
}
