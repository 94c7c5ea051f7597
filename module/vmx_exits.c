// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: VM-exit handlers, one per basic exit reason
 * (Intel SDM Vol. 3D, Appendix C), and the dispatcher.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/smp.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "vmx.h"

static bool vmx_dump_invalid_vmcs;
module_param_named(dump_invalid_vmcs, vmx_dump_invalid_vmcs, bool, 0644);
MODULE_PARM_DESC(dump_invalid_vmcs,
		 "VMX: print the VMCS to dmesg when VM entry fails");

typedef int (*vmx_exit_handler)(struct vmx_vcpu *vmx);

static u64 vmx_next_rip(struct vmx_vcpu *vmx)
{
	return vmx->vcpu.rip + vmx->exit.insn_len;
}

static int vmx_skip_insn(struct vmx_vcpu *vmx)
{
	mvx_skip_insn(&vmx->vcpu, vmx_next_rip(vmx));
	return 1;
}

static bool vmx_long_mode(struct vmx_vcpu *vmx)
{
	return (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read(GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
}

/* MOV from CR/DR: 64-bit operand in 64-bit mode, else 32-bit, zero-extended. */
static void vmx_set_gpr(struct vmx_vcpu *vmx, unsigned int reg, u64 val)
{
	vmx->vcpu.gprs[reg] = vmx_long_mode(vmx) ? val : (u32)val;
}

static u64 vmx_get_gpr(struct vmx_vcpu *vmx, unsigned int reg)
{
	u64 val = vmx->vcpu.gprs[reg];

	return vmx_long_mode(vmx) ? val : (u32)val;
}

static int vmx_inject_ud(struct vmx_vcpu *vmx)
{
	mvx_queue_exception(&vmx->vcpu, X86_TRAP_UD, false, 0);
	return 1;
}

static int vmx_inject_gp(struct vmx_vcpu *vmx)
{
	mvx_queue_exception(&vmx->vcpu, X86_TRAP_GP, true, 0);
	return 1;
}

static int vmx_exit_unexpected(struct vmx_vcpu *vmx)
{
	pr_info_ratelimited("vCPU %u: unhandled VM exit %#x qual %#llx at rip %#llx\n",
			    vmx->vcpu.id, vmx->exit.reason, vmx->exit.qual,
			    vmx->exit.rip);
	return mvx_exit_internal_error(&vmx->vcpu,
				       MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				       vmx->exit.reason, vmx->exit.qual,
				       vmx->exit.intr_info);
}

/* The interrupt is delivered to the host when it enables interrupts. */
static int vmx_exit_host_event(struct vmx_vcpu *vmx)
{
	return 1;
}

/* DR6 bits a #DB exit reports in its qualification (SDM 28.2.1, table 28-1). */
#define MVX_DR6_TRAPS	0xfULL		/* B0-B3 */
#define MVX_DR6_BD	BIT_ULL(13)
#define MVX_DR6_BS	BIT_ULL(14)
#define MVX_DR6_RTM	BIT_ULL(16)	/* cleared in DR6 when set here */

/*
 * A #DB the guest caused, intercepted (MVX_INTERCEPT_EXCEPTIONS) only so
 * the host keeps the CPU: deliver it as the CPU would have.  The exit does
 * not touch DR6; the qualification says what the CPU would have put there.
 */
static int vmx_reflect_db(struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit.qual;
	u64 v;

	/*
	 * ICEBP (INT1) exits before it runs: step over it, then deliver the
	 * #DB it raises, which sets no DR6 bits.  Stepping ends an STI or
	 * MOV SS shadow, as retiring the instruction would.
	 */
	if (MVX_INTR_TYPE(vmx->exit.intr_info) == INTR_TYPE_PRIV_SW_EXCEPTION) {
		vmx_skip_insn(vmx);
		mvx_queue_exception(&vmx->vcpu, X86_TRAP_DB, false, 0);
		return 1;
	}

	vmx->dr6 &= ~(MVX_DR6_TRAPS | MVX_DR6_RTM);
	vmx->dr6 |= DR6_RESERVED | (q & (MVX_DR6_TRAPS | MVX_DR6_BD |
					 MVX_DR6_BS));
	if (q & MVX_DR6_RTM)
		vmx->dr6 &= ~MVX_DR6_RTM;

	/*
	 * With TF set inside an STI / MOV SS shadow, VM entry insists that a
	 * single-step trap be pending (SDM 26.3.1.5).  Every other exit sets
	 * that bit itself; an intercepted #DB does not.
	 */
	v = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
	if ((vmx->vcpu.rflags & X86_EFLAGS_TF) &&
	    (v & (GUEST_INTR_STATE_STI | GUEST_INTR_STATE_MOV_SS)))
		vmcs_set_bits(GUEST_PENDING_DBG_EXCEPTIONS, MVX_DR6_BS);

	mvx_queue_exception(&vmx->vcpu, X86_TRAP_DB, false, 0);
	return 1;
}

static int vmx_exit_exception_nmi(struct vmx_vcpu *vmx)
{
	u32 info = vmx->exit.intr_info;

	/* vcpu_enter already ran the host's NMI / #MC handler. */
	if (MVX_INTR_TYPE(info) == INTR_TYPE_NMI_INTR ||
	    MVX_INTR_VECTOR(info) == X86_TRAP_MC)
		return 1;
	switch (MVX_INTR_VECTOR(info)) {
	case X86_TRAP_DB:
		return vmx_reflect_db(vmx);
	case X86_TRAP_AC:
		/* #AC always has an error code (0); pass on what the CPU gave. */
		mvx_queue_exception(&vmx->vcpu, X86_TRAP_AC, true,
				    vmx->exit.intr_error);
		return 1;
	}
	return vmx_exit_unexpected(vmx);
}

static int vmx_exit_triple_fault(struct vmx_vcpu *vmx)
{
	return mvx_exit_shutdown(&vmx->vcpu);
}

static int vmx_exit_cpuid(struct vmx_vcpu *vmx)
{
	return mvx_handle_cpuid(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_exit_hlt(struct vmx_vcpu *vmx)
{
	return mvx_exit_hlt(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_exit_io(struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit.qual;
	struct mvx_pio pio = {
		.port = MVX_QUAL_IO_PORT(q),
		.size = MVX_QUAL_IO_SIZE(q),
		.in = q & MVX_QUAL_IO_IN,
		.string = q & MVX_QUAL_IO_STRING,
		.rep = q & MVX_QUAL_IO_REP,
		.seg = MVX_DS,
		.next_rip = vmx_next_rip(vmx),
	};

	if (pio.size != 1 && pio.size != 2 && pio.size != 4)
		return vmx_exit_unexpected(vmx);
	if (pio.string && vmx_caps.inout_info) {
		u32 info = vmx->exit.insn_info;

		pio.addr_size = 2 << MVX_INSN_INFO_ADDR_SIZE(info);
		pio.seg = MVX_INSN_INFO_SEG(info);
		if (pio.addr_size > 8 || pio.seg >= MVX_NR_SEGS)
			return vmx_exit_unexpected(vmx);
	} else if (pio.string) {
		/* No instruction information: the mode's default size. */
		struct mvx_cpu_mode mode;

		vmx_get_mode(&vmx->vcpu, &mode);
		pio.addr_size = mode.cs_l ? 8 : mode.cs_db ? 4 : 2;
	}
	return mvx_handle_pio(&vmx->vcpu, &pio);
}

static int vmx_exit_rdmsr(struct vmx_vcpu *vmx)
{
	return mvx_handle_rdmsr(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_exit_wrmsr(struct vmx_vcpu *vmx)
{
	return mvx_handle_wrmsr(&vmx->vcpu, vmx_next_rip(vmx));
}

static int vmx_exit_xsetbv(struct vmx_vcpu *vmx)
{
	return mvx_handle_xsetbv(&vmx->vcpu, vmx_next_rip(vmx));
}

static bool vmx_in_64bit_code(struct vmx_vcpu *vmx)
{
	return (vmcs_read(GUEST_IA32_EFER) & EFER_LMA) &&
	       (vmcs_read(GUEST_CS_AR_BYTES) & VMX_AR_L_MASK);
}

static int vmx_mov_to_cr(struct vmx_vcpu *vmx, unsigned int cr, u64 val)
{
	int r;

	switch (cr) {
	case 0:
		/* Paging cannot be turned off from 64-bit code (SDM MOV CR0). */
		if (!(val & X86_CR0_PG) && vmx_in_64bit_code(vmx))
			return vmx_inject_gp(vmx);
		r = vmx_set_cr0(vmx, val);
		break;
	case 4:
		r = vmx_set_cr4(vmx, val);
		break;
	case 8:
		r = val > 15 ? -EINVAL : 0;
		if (!r)
			vmx->cr8 = val;
		break;
	default:
		return vmx_exit_unexpected(vmx);
	}
	return r ? vmx_inject_gp(vmx) : vmx_skip_insn(vmx);
}

/* Only CR0/CR4 bits we own and CR8 exit (the guest/host masks). */
static int vmx_exit_cr_access(struct vmx_vcpu *vmx)
{
	u64 q = vmx->exit.qual;
	unsigned int cr = MVX_QUAL_CR_NUM(q), reg = MVX_QUAL_CR_GPR(q);
	u64 cr0, src;

	switch (MVX_QUAL_CR_TYPE(q)) {
	case MVX_CR_MOV_TO:
		return vmx_mov_to_cr(vmx, cr, vmx_get_gpr(vmx, reg));
	case MVX_CR_MOV_FROM:
		if (cr != 8)
			return vmx_exit_unexpected(vmx);
		vmx_set_gpr(vmx, reg, vmx->cr8);
		return vmx_skip_insn(vmx);
	case MVX_CR_LMSW:
		/* LMSW loads PE, MP, EM, TS and cannot clear PE. */
		cr0 = vmx_guest_cr0(vmx);
		src = MVX_QUAL_CR_LMSW_SRC(q);
		cr0 = (cr0 & ~0xeULL) | (src & 0xf);
		return vmx_mov_to_cr(vmx, 0, cr0);
	}
	return vmx_exit_unexpected(vmx);
}

/*
 * The guest's first MOV DR: hand it the debug registers and run the
 * instruction again natively (its #UD and general-detect #DB included).
 */
static int vmx_exit_dr_access(struct vmx_vcpu *vmx)
{
	vmx_guest_takes_dr(vmx);
	return 1;
}

static int vmx_exit_ept_violation(struct vmx_vcpu *vmx)
{
	return mvx_handle_npf(&vmx->vcpu, vmx->exit.gpa,
			      vmx->exit.qual & MVX_QUAL_EPT_WRITE);
}

static int vmx_exit_ept_misconfig(struct vmx_vcpu *vmx)
{
	pr_err_ratelimited("vCPU %u: EPT misconfiguration at gpa %#llx\n",
			   vmx->vcpu.id, vmx->exit.gpa);
	return mvx_exit_internal_error(&vmx->vcpu,
				       MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				       vmx->exit.reason, vmx->exit.gpa, 0);
}

/* The watchdog fired: the core checks signals and need_resched. */
static int vmx_exit_preemption_timer(struct vmx_vcpu *vmx)
{
	return 1;
}

/* The guest can take an interrupt or an NMI now: the core's turn. */
static int vmx_exit_window(struct vmx_vcpu *vmx)
{
	return mvx_exit_window(&vmx->vcpu);
}

/* Caches need no flushing for a guest that only has WB memory. */
static int vmx_exit_skip(struct vmx_vcpu *vmx)
{
	return vmx_skip_insn(vmx);
}

/* VMX, SMX and the instructions CPUID does not offer: #UD. */
static int vmx_exit_ud(struct vmx_vcpu *vmx)
{
	return vmx_inject_ud(vmx);
}

static int vmx_exit_rdpmc(struct vmx_vcpu *vmx)
{
	return vmx_inject_gp(vmx);
}

static const vmx_exit_handler vmx_exit_handlers[] = {
	[EXIT_REASON_EXCEPTION_NMI]		= vmx_exit_exception_nmi,
	[EXIT_REASON_EXTERNAL_INTERRUPT]	= vmx_exit_host_event,
	[EXIT_REASON_TRIPLE_FAULT]		= vmx_exit_triple_fault,
	[EXIT_REASON_INTERRUPT_WINDOW]		= vmx_exit_window,
	[EXIT_REASON_NMI_WINDOW]		= vmx_exit_window,
	[EXIT_REASON_CPUID]			= vmx_exit_cpuid,
	[EXIT_REASON_HLT]			= vmx_exit_hlt,
	[EXIT_REASON_INVD]			= vmx_exit_skip,
	[EXIT_REASON_RDPMC]			= vmx_exit_rdpmc,
	[EXIT_REASON_VMCALL]			= vmx_exit_ud,
	[EXIT_REASON_VMCLEAR]			= vmx_exit_ud,
	[EXIT_REASON_VMLAUNCH]			= vmx_exit_ud,
	[EXIT_REASON_VMPTRLD]			= vmx_exit_ud,
	[EXIT_REASON_VMPTRST]			= vmx_exit_ud,
	[EXIT_REASON_VMREAD]			= vmx_exit_ud,
	[EXIT_REASON_VMRESUME]			= vmx_exit_ud,
	[EXIT_REASON_VMWRITE]			= vmx_exit_ud,
	[EXIT_REASON_VMOFF]			= vmx_exit_ud,
	[EXIT_REASON_VMON]			= vmx_exit_ud,
	[EXIT_REASON_CR_ACCESS]			= vmx_exit_cr_access,
	[EXIT_REASON_DR_ACCESS]			= vmx_exit_dr_access,
	[EXIT_REASON_IO_INSTRUCTION]		= vmx_exit_io,
	[EXIT_REASON_MSR_READ]			= vmx_exit_rdmsr,
	[EXIT_REASON_MSR_WRITE]			= vmx_exit_wrmsr,
	[EXIT_REASON_MWAIT_INSTRUCTION]		= vmx_exit_ud,
	[EXIT_REASON_MONITOR_INSTRUCTION]	= vmx_exit_ud,
	[EXIT_REASON_EPT_VIOLATION]		= vmx_exit_ept_violation,
	[EXIT_REASON_EPT_MISCONFIG]		= vmx_exit_ept_misconfig,
	[EXIT_REASON_INVEPT]			= vmx_exit_ud,
	[EXIT_REASON_RDTSCP]			= vmx_exit_ud,
	[EXIT_REASON_PREEMPTION_TIMER]		= vmx_exit_preemption_timer,
	[EXIT_REASON_INVVPID]			= vmx_exit_ud,
	[EXIT_REASON_WBINVD]			= vmx_exit_skip,
	[EXIT_REASON_XSETBV]			= vmx_exit_xsetbv,
	[EXIT_REASON_VMFUNC]			= vmx_exit_ud,
	[11 /* GETSEC */]			= vmx_exit_ud,
};

static int vmx_exit_failed_entry(struct vmx_vcpu *vmx)
{
	struct vmx_exit_info *e = &vmx->exit;
	u64 reason = e->vmfail ? e->insn_error : e->reason;

	if (e->vmfail == MVX_VMX_FAIL_INVALID)
		reason = ~0ULL;
	pr_info_ratelimited("vCPU %u: VM entry failed: %s %#llx\n",
			    vmx->vcpu.id,
			    e->vmfail ? "VM-instruction error" : "exit reason",
			    reason);
	if (vmx_dump_invalid_vmcs)
		vmx_dump_vmcs(vmx);
	return mvx_exit_fail_entry(&vmx->vcpu, reason);
}

static const struct {
	u32 reason;
	const char *name;
} vmx_exit_names[] = { VMX_EXIT_REASONS };

/* For the exit tracepoint: reason, its name, qualification, GPA/intr info. */
void vmx_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info)
{
	struct vmx_exit_info *e = &to_vmx(vcpu)->exit;
	int i;

	info->reason = (u16)e->reason;
	info->name = "UNKNOWN";
	info->info1 = e->qual;
	info->info2 = e->reason == EXIT_REASON_EPT_VIOLATION ||
		      e->reason == EXIT_REASON_EPT_MISCONFIG ?
		      e->gpa : e->intr_info;
	if (e->vmfail || (e->reason & VMX_EXIT_REASONS_FAILED_VMENTRY)) {
		info->name = "VM_ENTRY_FAILED";
		info->info1 = e->vmfail ? e->insn_error : e->reason;
		return;
	}
	for (i = 0; i < ARRAY_SIZE(vmx_exit_names); i++) {
		if (vmx_exit_names[i].reason == info->reason) {
			info->name = vmx_exit_names[i].name;
			break;
		}
	}
}

/* CPUID needs nothing that sleeps: finish it with interrupts off. */
bool vmx_handle_exit_irqoff(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx->exit.vmfail || vmx->exit.reason != EXIT_REASON_CPUID)
		return false;
	return vmx_exit_cpuid(vmx) > 0;
}

int vmx_handle_exit(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 basic = (u16)vmx->exit.reason;

	if (vmx->exit.vmfail == MVX_VMX_LOST)
		return mvx_exit_hw_lost(vcpu);
	if (vmx->exit.vmfail ||
	    (vmx->exit.reason & VMX_EXIT_REASONS_FAILED_VMENTRY))
		return vmx_exit_failed_entry(vmx);
	if (basic < ARRAY_SIZE(vmx_exit_handlers) && vmx_exit_handlers[basic])
		return vmx_exit_handlers[basic](vmx);
	return vmx_exit_unexpected(vmx);
}
