namespace Klp.Build.Analysis;

/// <summary>
/// Functions a livepatch cannot replace safely, with the reason. The consistency model switches a task only when
/// no patched function is on its stack: a function every sleeping task (or every kthread) sits in keeps the
/// transition from ever finishing; the stack switch cannot be redirected mid-way; a function that never returns
/// keeps its old copy running forever; and the livepatch/ftrace machinery cannot redirect itself. Sources:
/// Documentation/livepatch/livepatch.rst (limitations; "anything inlined into __schedule()" before v4.11),
/// kpatch's patch-author-guide ("sleeping functions", kthreads), kernel/livepatch/transition.c.
/// </summary>
public static class UnsafeFunctions
{
    private const string Sleeps =
        "tasks sleep inside it: every sleeping task keeps the old copy on its stack, so the livepatch transition can never finish for them (and the kernel may wait forever)";
    private const string SwitchesStacks =
        "it switches stacks between tasks (or runs on the way in or out of a switch): its frames are not reliable and a replacement would run half on the old, half on the new task";
    private const string NeverReturns =
        "it never returns (the task or kthread lives in it until it exits): the old copy stays on the stack forever and the transition cannot finish";
    private const string Machinery =
        "it is part of the livepatch, ftrace or stack-unwinding machinery that performs the redirection itself";

    private static readonly Dictionary<string, string> Exact = new(StringComparer.Ordinal)
    {
        ["schedule"] = Sleeps, ["__schedule"] = Sleeps, ["schedule_idle"] = Sleeps, ["schedule_preempt_disabled"] = Sleeps,
        ["schedule_user"] = Sleeps, ["preempt_schedule"] = Sleeps, ["preempt_schedule_common"] = Sleeps,
        ["preempt_schedule_notrace"] = Sleeps, ["preempt_schedule_irq"] = Sleeps, ["io_schedule"] = Sleeps,
        ["io_schedule_timeout"] = Sleeps, ["do_idle"] = Sleeps, ["cpu_startup_entry"] = NeverReturns,
        ["__switch_to"] = SwitchesStacks, ["__switch_to_asm"] = SwitchesStacks, ["context_switch"] = SwitchesStacks,
        ["finish_task_switch"] = SwitchesStacks, ["prepare_task_switch"] = SwitchesStacks, ["switch_mm_irqs_off"] = SwitchesStacks,
        ["schedule_tail"] = SwitchesStacks, ["ret_from_fork"] = SwitchesStacks, ["call_on_irq_stack"] = SwitchesStacks,
        ["do_exit"] = NeverReturns, ["do_group_exit"] = NeverReturns, ["do_task_dead"] = NeverReturns,
        ["make_task_dead"] = NeverReturns, ["kthread"] = NeverReturns, ["kthreadd"] = NeverReturns,
        ["worker_thread"] = NeverReturns, ["rescuer_thread"] = NeverReturns, ["smpboot_thread_fn"] = NeverReturns,
        ["kthread_worker_fn"] = NeverReturns, ["rcu_gp_kthread"] = NeverReturns, ["rcu_tasks_kthread"] = NeverReturns,
        ["rest_init"] = NeverReturns, ["start_kernel"] = NeverReturns, ["arch_call_rest_init"] = NeverReturns,
        ["start_secondary"] = NeverReturns, ["cpu_idle_poll"] = NeverReturns, ["default_idle"] = Sleeps,
        ["default_idle_call"] = Sleeps, ["cpuidle_idle_call"] = Sleeps, ["arch_cpu_idle"] = Sleeps,
        ["klp_ftrace_handler"] = Machinery, ["klp_try_switch_task"] = Machinery, ["klp_check_stack"] = Machinery,
        ["klp_update_patch_state"] = Machinery, ["klp_enable_patch"] = Machinery, ["ftrace_ops_list_func"] = Machinery,
        ["arch_stack_walk_reliable"] = Machinery, ["unwind_next_frame"] = Machinery, ["__fentry__"] = Machinery,
    };

    private static readonly (string Prefix, string Reason)[] Prefixes =
    [
        ("schedule_timeout", Sleeps), ("schedule_hrtimeout", Sleeps), ("preempt_schedule", Sleeps), ("io_schedule", Sleeps),
        ("__switch_to", SwitchesStacks), ("ftrace_", Machinery), ("klp_", Machinery), ("__klp_", Machinery),
    ];

    /// <summary>Why the function (or the clone of one, e.g. schedule_timeout.part.0) cannot be replaced, or null.</summary>
    public static string? Reason(string name)
    {
        var baseName = CloneNames.BaseName(name);
        if (Exact.TryGetValue(baseName, out var reason)) return reason;
        foreach (var (prefix, why) in Prefixes)
            if (baseName.StartsWith(prefix, StringComparison.Ordinal)) return why;
        return null;
    }
}
