// SPDX-License-Identifier: GPL-2.0
/*
 * Speculative-execution hygiene around guest entry, shared by both
 * backends, and the guest's speculation-control MSRs.
 *
 * Wherever the kernel exports a mitigation, it is used as is, so that the
 * kernel's own choice (command line, CPU bugs, microcode) decides whether
 * it runs: IBPB through indirect_branch_prediction_barrier() (a no-op
 * unless X86_FEATURE_USE_IBPB), the host's SPEC_CTRL from the per-CPU
 * x86_spec_ctrl_current, VMSCAPE's IBPB on the way back to userspace
 * through x86_ibpb_exit_to_user.  The parts that must sit next to
 * VMLAUNCH/VMRUN (VERW buffer clearing, RSB filling, BHB clearing, return
 * untraining) are the kernel's ALTERNATIVE macros in vmx_enter.S and
 * svm_enter.S.
 *
 * What these barriers protect against can only be shown on real silicon:
 * the emulated PCs of the test cells have none of the bugs (QEMU's -cpu max
 * has no SPEC_CTRL at all).  The mitigations cell of `make check` boots with
 * the kernel's default mitigations so that every path that the emulated CPU
 * enables runs; the selftests (exception_test) check the guest-visible
 * parts: SPEC_CTRL follows the guest's CPUID and reads back what was
 * written.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/percpu.h>
#include <linux/cpumask.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/nospec-branch.h>
#include <asm/processor.h>
#include "core.h"

/*
 * The VM whose guest last ran on each CPU.  Cleared when a vCPU of that VM
 * is destroyed, so a new VM allocated at the same address cannot look like
 * the old one and skip its barrier.
 */
static DEFINE_PER_CPU(struct mvx_vm *, mvx_last_vm);

/*
 * One VM must not steer the branch predictions of another: when a CPU
 * switches to a vCPU of a different VM, issue an IBPB (what KVM does when it
 * loads another VM's VMCS or VMCB).  Switching between vCPUs of one VM
 * needs none: they trust each other as much as the threads of one process.
 */
void mvx_spec_vcpu_load(struct mvx_vcpu *vcpu, int cpu)
{
	struct mvx_vm **last = per_cpu_ptr(&mvx_last_vm, cpu);

	/* Another CPU may clear it meanwhile (mvx_spec_vcpu_destroy). */
	if (READ_ONCE(*last) == vcpu->vm)
		return;
	WRITE_ONCE(*last, vcpu->vm);
	indirect_branch_prediction_barrier();
}

void mvx_spec_vcpu_destroy(struct mvx_vcpu *vcpu)
{
	int cpu;

	for_each_possible_cpu(cpu)
		cmpxchg(per_cpu_ptr(&mvx_last_vm, cpu), vcpu->vm, NULL);
}

/*
 * Guest/host SPEC_CTRL.  Every guest access to the MSR exits (the backends
 * intercept all MSRs), so vcpu->msrs.spec_ctrl is always the value the
 * guest runs with.  The MSR is written only when the two differ: a WRMSR to
 * SPEC_CTRL serializes and costs hundreds of cycles.  The few instructions
 * between this write and VMLAUNCH/VMRUN, and between the exit and
 * mvx_spec_ctrl_host(), run with the guest's value; they are the entry
 * code's straight-line stores and no indirect branches (KVM does the same
 * switch a few instructions closer, in its entry assembly).
 */
void mvx_spec_ctrl_guest(struct mvx_vcpu *vcpu)
{
	u64 guest = vcpu->msrs.spec_ctrl;

	if (guest != this_cpu_read(x86_spec_ctrl_current))
		native_wrmsrl(MSR_IA32_SPEC_CTRL, guest);
}

void mvx_spec_ctrl_host(struct mvx_vcpu *vcpu)
{
	u64 host = this_cpu_read(x86_spec_ctrl_current);

	if (vcpu->msrs.spec_ctrl != host)
		native_wrmsrl(MSR_IA32_SPEC_CTRL, host);
}

/*
 * After any exit: a guest may have trained the branch predictors against
 * the VMM that is about to run (VMSCAPE).  When the kernel mitigates that,
 * it issues an IBPB on the next return to userspace if this flag is set.
 */
void mvx_spec_after_exit(void)
{
	if (cpu_feature_enabled(X86_FEATURE_IBPB_EXIT_TO_USER))
		this_cpu_write(x86_ibpb_exit_to_user, true);
}

/*
 * L1 Terminal Fault: a guest can read whatever the host left in the L1 data
 * cache through a not-present guest PTE, so the cache is flushed before
 * every entry on affected Intel CPUs, unless the kernel was told l1tf=off or
 * the CPU says the flush is not needed (ARCH_CAPABILITIES.SKIP_L1DFL_VMENTRY,
 * set by a hypervisor below us that flushes itself).  KVM's default only
 * flushes after the host ran "interesting" code; flushing always is the
 * simpler and stricter choice.  Without the FLUSH_L1D microcode there is no
 * flush here (KVM then reads 64 KiB to evict the cache; we do not): such a
 * host is told once in dmesg.  None of the emulated CPUs has the bug, so
 * this runs only on real silicon.
 */
static int l1d_flush_state = -1;	/* -1: not yet decided */

static bool l1d_flush_decide(void)
{
	u64 caps = 0;

	if (!boot_cpu_has_bug(X86_BUG_L1TF) ||
	    l1tf_mitigation == L1TF_MITIGATION_OFF)
		return false;
	if (boot_cpu_has(X86_FEATURE_ARCH_CAPABILITIES))
		rdmsrl_safe(MSR_IA32_ARCH_CAPABILITIES, &caps);
	if (caps & ARCH_CAP_SKIP_VMENTRY_L1DFLUSH)
		return false;
	if (!boot_cpu_has(X86_FEATURE_FLUSH_L1D)) {
		pr_warn_once("L1TF: CPU without the L1D flush command; guests may read the host's L1 data cache\n");
		return false;
	}
	return true;
}

bool mvx_l1d_flush_needed(void)
{
	int s = READ_ONCE(l1d_flush_state);

	if (s < 0) {
		s = l1d_flush_decide();
		WRITE_ONCE(l1d_flush_state, s);
	}
	return s;
}

void mvx_l1d_flush(void)
{
	native_wrmsrl(MSR_IA32_FLUSH_CMD, L1D_FLUSH);
}

/* ---- the guest's speculation-control MSRs ------------------------------ */

#define CPUID7_EDX_SPEC_CTRL	BIT(26)	/* IBRS and IBPB */
#define CPUID7_EDX_STIBP	BIT(27)
#define CPUID7_EDX_SSBD		BIT(31)
#define CPUIDX8_EBX_IBPB	BIT(12)	/* leaf 0x80000008 */
#define CPUIDX8_EBX_IBRS	BIT(14)
#define CPUIDX8_EBX_STIBP	BIT(15)
#define CPUIDX8_EBX_SSBD	BIT(24)

static const struct mvx_cpuid_entry2 *guest_leaf(struct mvx_vcpu *vcpu,
						 u32 fn)
{
	unsigned int i;

	for (i = 0; i < vcpu->cpuid_nent; i++)
		if (vcpu->cpuid[i].function == fn && !vcpu->cpuid[i].index)
			return &vcpu->cpuid[i];
	return NULL;
}

static void guest_spec_features(struct mvx_vcpu *vcpu, u32 *edx7, u32 *ebx8)
{
	const struct mvx_cpuid_entry2 *e;

	e = guest_leaf(vcpu, 7);
	*edx7 = e ? e->edx : 0;
	e = guest_leaf(vcpu, 0x80000008);
	*ebx8 = e ? e->ebx : 0;
}

/*
 * The SPEC_CTRL bits this guest may set: those its CPUID tells it about
 * (Intel's or AMD's way) and the host CPU has in that MSR.  The others #GP,
 * as on a CPU without them; the whole MSR #GPs without any.
 */
static u64 spec_ctrl_valid(struct mvx_vcpu *vcpu)
{
	u32 edx7, ebx8;
	u64 valid = 0;

	if (!boot_cpu_has(X86_FEATURE_MSR_SPEC_CTRL))
		return 0;
	guest_spec_features(vcpu, &edx7, &ebx8);
	if (boot_cpu_has(X86_FEATURE_IBRS) &&
	    ((edx7 & CPUID7_EDX_SPEC_CTRL) || (ebx8 & CPUIDX8_EBX_IBRS)))
		valid |= SPEC_CTRL_IBRS;
	if (boot_cpu_has(X86_FEATURE_STIBP) &&
	    ((edx7 & CPUID7_EDX_STIBP) || (ebx8 & CPUIDX8_EBX_STIBP)))
		valid |= SPEC_CTRL_STIBP;
	if ((boot_cpu_has(X86_FEATURE_SPEC_CTRL_SSBD) ||
	     boot_cpu_has(X86_FEATURE_AMD_SSBD)) &&
	    ((edx7 & CPUID7_EDX_SSBD) || (ebx8 & CPUIDX8_EBX_SSBD)))
		valid |= SPEC_CTRL_SSBD;
	return valid;
}

static bool guest_has_ibpb(struct mvx_vcpu *vcpu)
{
	u32 edx7, ebx8;

	if (!boot_cpu_has(X86_FEATURE_IBPB))
		return false;
	guest_spec_features(vcpu, &edx7, &ebx8);
	return (edx7 & CPUID7_EDX_SPEC_CTRL) || (ebx8 & CPUIDX8_EBX_IBPB);
}

/* -ENOENT: not ours; -EINVAL: #GP for the guest, a failed entry for SET_MSRS. */
int mvx_spec_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data)
{
	if (index != MSR_IA32_SPEC_CTRL)
		return -ENOENT;
	if (!spec_ctrl_valid(vcpu))
		return -EINVAL;
	*data = vcpu->msrs.spec_ctrl;
	return 0;
}

int mvx_spec_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data)
{
	switch (index) {
	case MSR_IA32_SPEC_CTRL: {
		u64 valid = spec_ctrl_valid(vcpu);

		if (!valid || (data & ~valid))
			return -EINVAL;
		vcpu->msrs.spec_ctrl = data;
		return 0;
	}
	case MSR_IA32_PRED_CMD:
		if (!guest_has_ibpb(vcpu) || (data & ~PRED_CMD_IBPB))
			return -EINVAL;
		/* Write-only, and only this CPU's predictors: do it now. */
		if (data)
			native_wrmsrl(MSR_IA32_PRED_CMD, PRED_CMD_IBPB);
		return 0;
	default:
		return -ENOENT;
	}
}
