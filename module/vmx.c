// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: one VMCS per vCPU, EPT + VPID + unrestricted guest.
 * This file holds the vCPU life cycle (init, destroy, load, put), the VMCS
 * controls, host state and reset state, entering the guest and reading what
 * the exit left, and the backend table.  Beside it: vmx_insn.c (the VMX
 * instructions), vmx_caps.c (capability probing), vmx_cpu.c (VMXON per
 * CPU), vmx_state.c (guest registers and MSRs), vmx_exits.c (exit handlers),
 * vmx_dump.c (VMCS dump) and vmx_enter.S (VMLAUNCH/VMRESUME).
 *
 * Everything follows the Intel SDM Vol. 3C: chapter 24 (VMX operation),
 * 25 (VMCS), 27 (VM entries), 28 (VM exits), 29 (EPT), 31 (VMX instructions)
 * and Vol. 3D Appendix A (capability MSRs).
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/smp.h>
#include <linux/percpu.h>
#include <linux/idr.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include <asm/desc.h>
#include <asm/segment.h>
#include <asm/debugreg.h>
#include <asm/tsc.h>
#include <asm/traps.h>
#include <asm/mmu_context.h>	/* load_gs_index() */
#include "vmx.h"

/*
 * Every stay in the guest is bounded by the VMX-preemption timer, so pending
 * signals and need_resched are seen even when no external interrupt makes
 * the guest exit.  Bochs (2.7 and current) recomputes its interrupt masking
 * during VM entry before it marks the CPU as being in VMX non-root operation:
 * with guest RFLAGS.IF = 0 the host's pending interrupts stay masked despite
 * "external-interrupt exiting", and a spinning guest never exits (that is
 * also what wedges kvm_intel there).  On real CPUs this is only a safety net.
 */
static unsigned int preemption_timer_us = 2000;
module_param(preemption_timer_us, uint, 0644);
MODULE_PARM_DESC(preemption_timer_us,
		 "VMX: longest guest stay between exits, in microseconds (0: unbounded)");

static DEFINE_IDA(vmx_vpid_ida);

#define MVX_DR7_ENABLES		0xffUL

/* ---- VMCS contents: controls, host state, guest state --------------- */

static u32 vmx_preemption_timer_value(void)
{
	u64 ticks = (u64)preemption_timer_us * (tsc_khz ? tsc_khz : 1000000);

	ticks = div_u64(ticks, 1000) >> vmx_caps.timer_rate;
	return clamp_t(u64, ticks, 1, U32_MAX);
}

static void vmx_write_controls(struct vmx_vcpu *vmx)
{
	u32 proc2 = vmx_caps.proc2;

	if (!vmx->vpid)
		proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	vmcs_write(PIN_BASED_VM_EXEC_CONTROL, vmx_caps.pin);
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL, vmx_caps.proc);
	vmcs_write(SECONDARY_VM_EXEC_CONTROL, proc2);
	vmcs_write(VM_EXIT_CONTROLS, vmx_caps.exit);
	vmcs_write(VM_ENTRY_CONTROLS, vmx_caps.entry);
	if (vmx->vpid)
		vmcs_write(VIRTUAL_PROCESSOR_ID, vmx->vpid);

	/* The core's list; vector n is bit n of the exception bitmap. */
	vmcs_write(EXCEPTION_BITMAP, MVX_INTERCEPT_EXCEPTIONS);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MASK, 0);
	vmcs_write(PAGE_FAULT_ERROR_CODE_MATCH, 0);
	vmcs_write(CR3_TARGET_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_STORE_COUNT, 0);
	vmcs_write(VM_EXIT_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_MSR_LOAD_COUNT, 0);
	vmcs_write(VM_ENTRY_INTR_INFO_FIELD, 0);
	vmcs_write(TSC_OFFSET, 0);
	vmcs_write(CR0_GUEST_HOST_MASK, vmx_cr0_mask);
	vmcs_write(CR4_GUEST_HOST_MASK, vmx_cr4_mask);
	vmcs_write(VMCS_LINK_POINTER, ~0ULL);
	vmx->timer_on = vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER;
}

static u64 vmx_tss_base(const struct desc_ptr *gdt)
{
	u16 tr;
	const u8 *d;
	u64 base;

	asm volatile("str %0" : "=r" (tr));
	d = (const u8 *)gdt->address + (tr & ~7);
	/* 16-byte system descriptor (SDM Vol. 3A 7.2.3). */
	base = d[2] | (d[3] << 8) | (d[4] << 16) | ((u64)d[7] << 24);
	base |= (u64)*(const u32 *)(d + 8) << 32;
	return base;
}

/*
 * Host state loaded by every VM exit.  Per-CPU values (descriptor tables,
 * TSS, GS base, SYSENTER stack) and per-task values (FS base) are written
 * here at vcpu_load; CR3/CR4 are checked before every entry.
 */
static void vmx_write_host_state(struct vmx_vcpu *vmx)
{
	struct desc_ptr gdt, idt;
	u64 v;

	native_store_gdt(&gdt);
	store_idt(&idt);

	vmcs_write(HOST_CR0, read_cr0());
	vmx->host_cr3 = __read_cr3();
	vmcs_write(HOST_CR3, vmx->host_cr3);
	vmx->host_cr4 = cr4_read_shadow();
	vmcs_write(HOST_CR4, vmx->host_cr4);

	vmcs_write(HOST_CS_SELECTOR, __KERNEL_CS);
	vmcs_write(HOST_SS_SELECTOR, __KERNEL_DS);
	/* Linux runs with null DS/ES/FS/GS; vcpu_put reloads the user's. */
	vmcs_write(HOST_DS_SELECTOR, 0);
	vmcs_write(HOST_ES_SELECTOR, 0);
	vmcs_write(HOST_FS_SELECTOR, 0);
	vmcs_write(HOST_GS_SELECTOR, 0);
	vmcs_write(HOST_TR_SELECTOR, GDT_ENTRY_TSS * 8);

	rdmsrl(MSR_FS_BASE, v);
	vmcs_write(HOST_FS_BASE, v);
	rdmsrl(MSR_GS_BASE, v);
	vmcs_write(HOST_GS_BASE, v);
	vmcs_write(HOST_TR_BASE, vmx_tss_base(&gdt));
	vmcs_write(HOST_GDTR_BASE, gdt.address);
	vmcs_write(HOST_IDTR_BASE, idt.address);

	rdmsrl(MSR_IA32_SYSENTER_CS, v);
	vmcs_write(HOST_IA32_SYSENTER_CS, v);
	rdmsrl(MSR_IA32_SYSENTER_ESP, v);
	vmcs_write(HOST_IA32_SYSENTER_ESP, v);
	rdmsrl(MSR_IA32_SYSENTER_EIP, v);
	vmcs_write(HOST_IA32_SYSENTER_EIP, v);
	rdmsrl(MSR_EFER, v);
	vmcs_write(HOST_IA32_EFER, v);
	if (vmx_caps.pat) {
		rdmsrl(MSR_IA32_CR_PAT, v);
		vmcs_write(HOST_IA32_PAT, v);
	}
}

/* The architectural reset state, as KVM sets it after KVM_CREATE_VCPU. */
static void vmx_write_guest_reset_state(struct vmx_vcpu *vmx)
{
	struct mvx_vcpu *vcpu = &vmx->vcpu;
	struct mvx_segment seg = {
		.limit = 0xffff, .type = 3, .s = 1, .present = 1,
	};
	enum vmx_seg i;

	for (i = VMX_ES; i <= VMX_GS; i++)
		if (i != VMX_CS)
			vmx_set_segment(i, &seg);
	seg.selector = 0xf000;
	seg.base = 0xffff0000;
	seg.type = 0xb;
	vmx_set_segment(VMX_CS, &seg);
	seg = (struct mvx_segment){ .limit = 0xffff, .type = 2, .present = 1 };
	vmx_set_segment(VMX_LDTR, &seg);
	seg.type = 0xb;			/* busy 32-bit TSS */
	vmx_set_segment(VMX_TR, &seg);

	vmcs_write(GUEST_GDTR_BASE, 0);
	vmcs_write(GUEST_GDTR_LIMIT, 0xffff);
	vmcs_write(GUEST_IDTR_BASE, 0);
	vmcs_write(GUEST_IDTR_LIMIT, 0xffff);

	vmx->cr0 = X86_CR0_CD | X86_CR0_NW | X86_CR0_ET;
	vmcs_write(CR0_READ_SHADOW, vmx->cr0);
	vmcs_write(GUEST_CR0, vmx_hw_cr0(vmx->cr0));
	vmx->cr4 = 0;
	vmcs_write(CR4_READ_SHADOW, 0);
	vmcs_write(GUEST_CR4, vmx_hw_cr4(0));
	vmcs_write(GUEST_CR3, 0);
	vmx->cr2 = 0;
	vmx->cr8 = 0;
	vmcs_write(GUEST_IA32_EFER, 0);
	if (vmx_caps.pat)
		vmcs_write(GUEST_IA32_PAT,
			   vcpu->msrs.pat ? vcpu->msrs.pat : MVX_PAT_RESET);
	vmcs_write(GUEST_DR7, MVX_DR7_RESET);
	vmcs_write(GUEST_IA32_DEBUGCTL, 0);
	vmx->guest_owns_dr = false;
	memset(vmx->dr, 0, sizeof(vmx->dr));
	vmx->dr6 = DR6_RESERVED;
	vmcs_set_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MOV_DR_EXITING);
	vmcs_write(GUEST_SYSENTER_CS, 0);
	vmcs_write(GUEST_SYSENTER_ESP, 0);
	vmcs_write(GUEST_SYSENTER_EIP, 0);

	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RSP, vcpu->gprs[MVX_RSP]);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);
	vmcs_write(GUEST_INTERRUPTIBILITY_INFO, 0);
	vmcs_write(GUEST_ACTIVITY_STATE, GUEST_ACTIVITY_ACTIVE);
	vmcs_write(GUEST_PENDING_DBG_EXCEPTIONS, 0);
}

/* ---- vCPU life cycle and CPU migration ------------------------------- */

/* Make the VMCS active and current on this CPU (preemption off). */
static void vmx_load_vmcs(struct vmx_vcpu *vmx, int cpu)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int old = READ_ONCE(vmx->vmcs_cpu);
	bool migrated = old != cpu;
	unsigned long flags;

	if (migrated) {
		if (old >= 0)
			smp_call_function_single(old, vmx_vmcs_clear_local,
						 vmx, 1);
		/* Pairs with the smp_wmb() in vmx_vmcs_clear_local(). */
		smp_rmb();
		local_irq_save(flags);
		list_add(&vmx->loaded_link, &vc->loaded);
		vmx->vmcs_cpu = cpu;
		local_irq_restore(flags);
	}
	if (vc->current_vmcs != vmx->vmcs) {
		vmx_vmptrld(vmx->vmcs_pa);
		vc->current_vmcs = vmx->vmcs;
	}
	if (migrated)
		vmx_write_host_state(vmx);
}

static int vmx_vcpu_init(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu, vpid;

	vmx->vmcs = (void *)__get_free_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	if (!vmx->vmcs)
		return -ENOMEM;
	*(u32 *)vmx->vmcs = vmx_caps.revision;
	vmx->vmcs_pa = __pa(vmx->vmcs);
	vmx->vmcs_cpu = -1;
	INIT_LIST_HEAD(&vmx->loaded_link);
	if (vmx_caps.vpid) {
		vpid = ida_alloc_range(&vmx_vpid_ida, 1, 0xffff, GFP_KERNEL);
		vmx->vpid = vpid > 0 ? vpid : 0;	/* none left: no VPID */
	}

	cpu = get_cpu();
	vmx_vmclear(vmx->vmcs_pa);	/* launch state "clear" (SDM 25.11.3) */
	vmx_load_vmcs(vmx, cpu);
	vmx_write_controls(vmx);
	vmx_write_guest_reset_state(vmx);
	put_cpu();
	vmx->need_vpid_flush = true;
	return 0;
}

static void vmx_vcpu_destroy(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int cpu = READ_ONCE(vmx->vmcs_cpu);

	if (cpu >= 0)
		smp_call_function_single(cpu, vmx_vmcs_clear_local, vmx, 1);
	mvx_spec_vcpu_destroy(vcpu);
	if (vmx->vpid)
		ida_free(&vmx_vpid_ida, vmx->vpid);
	free_page((unsigned long)vmx->vmcs);
	vmx->vmcs = NULL;
}

/*
 * SYSCALL MSRs and KERNEL_GS_BASE are not switched by VM entry/exit: the
 * guest's values stay in the hardware while the vCPU is loaded.
 */
static void vmx_switch_to_guest_msrs(struct vmx_vcpu *vmx)
{
	struct vmx_host_state *h = &vmx->host;
	struct mvx_vcpu_msrs *m = &vmx->vcpu.msrs;

	savesegment(ds, h->ds);
	savesegment(es, h->es);
	savesegment(fs, h->fs);
	savesegment(gs, h->gs);
	rdmsrl(MSR_FS_BASE, h->fs_base);
	rdmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	rdmsrl(MSR_STAR, h->star);
	rdmsrl(MSR_LSTAR, h->lstar);
	rdmsrl(MSR_CSTAR, h->cstar);
	rdmsrl(MSR_SYSCALL_MASK, h->sfmask);
	rdmsrl(MSR_IA32_DEBUGCTLMSR, h->debugctl);
	native_store_gdt(&h->gdt);
	store_idt(&h->idt);

	wrmsrl(MSR_KERNEL_GS_BASE, m->kernel_gs_base);
	wrmsrl(MSR_STAR, m->star);
	wrmsrl(MSR_LSTAR, m->lstar);
	wrmsrl(MSR_CSTAR, m->cstar);
	wrmsrl(MSR_SYSCALL_MASK, m->sfmask);
	/*
	 * RDTSCP and RDPID run in the guest without exits and read TSC_AUX:
	 * it holds the guest's value while the vCPU is loaded.  The host reads
	 * it only in user mode (getcpu), never while we are in RUN.
	 */
	if (vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_RDTSCP) {
		rdmsrl(MSR_TSC_AUX, h->tsc_aux);
		if ((u32)m->tsc_aux != h->tsc_aux)
			wrmsrl(MSR_TSC_AUX, (u32)m->tsc_aux);
	}
	vmx->guest_msrs_loaded = true;
}

static void vmx_switch_to_host_msrs(struct vmx_vcpu *vmx)
{
	struct vmx_host_state *h = &vmx->host;
	struct mvx_vcpu_msrs *m = &vmx->vcpu.msrs;

	rdmsrl(MSR_KERNEL_GS_BASE, m->kernel_gs_base);
	wrmsrl(MSR_STAR, h->star);
	wrmsrl(MSR_LSTAR, h->lstar);
	wrmsrl(MSR_CSTAR, h->cstar);
	wrmsrl(MSR_SYSCALL_MASK, h->sfmask);
	if ((vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_RDTSCP) &&
	    (u32)m->tsc_aux != h->tsc_aux)
		wrmsrl(MSR_TSC_AUX, h->tsc_aux);

	/* VM exit loaded null selectors and limits of 0xffff / 0x67. */
	if (h->ds)
		loadsegment(ds, h->ds);
	if (h->es)
		loadsegment(es, h->es);
	if (h->fs) {
		loadsegment(fs, h->fs);
		wrmsrl(MSR_FS_BASE, h->fs_base);
	}
	if (h->gs)
		load_gs_index(h->gs);
	wrmsrl(MSR_KERNEL_GS_BASE, h->kernel_gs_base);
	native_load_gdt(&h->gdt);
	load_idt(&h->idt);
	invalidate_tss_limit();
	vmx->guest_msrs_loaded = false;
}

static void vmx_vcpu_load(struct mvx_vcpu *vcpu, int cpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	vmx_load_vmcs(vmx, cpu);
	mvx_spec_vcpu_load(vcpu, cpu);
	if (!vmx->guest_msrs_loaded)
		vmx_switch_to_guest_msrs(vmx);
	/* Per task: the same CPU may now run another thread. */
	vmcs_write(HOST_FS_BASE, vmx->host.fs_base);
}

static void vmx_vcpu_put(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);

	if (vmx->guest_msrs_loaded)
		vmx_switch_to_host_msrs(vmx);
}

/* ---- guest entry ----------------------------------------------------- */

/*
 * The watchdog that bounds every stay in the guest; rewritten before each
 * entry, so "save VMX-preemption timer value" is not needed.
 */
static void vmx_arm_preemption_timer(struct vmx_vcpu *vmx)
{
	bool on = mvx_quirk(MVX_QUIRK_IRQ_WATCHDOG) && preemption_timer_us &&
		  (vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER);

	if (on != vmx->timer_on) {
		if (on)
			vmcs_set_bits(PIN_BASED_VM_EXEC_CONTROL,
				      PIN_BASED_VMX_PREEMPTION_TIMER);
		else
			vmcs_clear_bits(PIN_BASED_VM_EXEC_CONTROL,
					PIN_BASED_VMX_PREEMPTION_TIMER);
		vmx->timer_on = on;
	}
	if (on)
		vmcs_write(VMX_PREEMPTION_TIMER_VALUE,
			   vmx_preemption_timer_value());
}

static void vmx_sync_entry_state(struct vmx_vcpu *vmx)
{
	struct mvx_vcpu *vcpu = &vmx->vcpu;
	u64 v;

	vmcs_write(GUEST_RIP, vcpu->rip);
	vmcs_write(GUEST_RSP, vcpu->gprs[MVX_RSP]);
	vmcs_write(GUEST_RFLAGS, vcpu->rflags);

	/*
	 * Skipping an instruction ends its STI / MOV SS shadow.  With
	 * RFLAGS.IF clear (by SET_REGS) there is no STI shadow either: VM
	 * entry refuses one (SDM 26.3.1.5).
	 */
	if (vcpu->rip != vmx->exit.rip || !(vcpu->rflags & X86_EFLAGS_IF)) {
		u32 drop = vcpu->rip != vmx->exit.rip ? MVX_INTR_SHADOW :
							GUEST_INTR_STATE_STI;

		v = vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
		if (v & drop)
			vmcs_write(GUEST_INTERRUPTIBILITY_INFO, v & ~(u64)drop);
	}

	v = __read_cr3();
	if (v != vmx->host_cr3) {
		vmx->host_cr3 = v;
		vmcs_write(HOST_CR3, v);
	}
	v = cr4_read_shadow();
	if (v != vmx->host_cr4) {
		vmx->host_cr4 = v;
		vmcs_write(HOST_CR4, v);
	}
	v = mvx_mmu_root_pa(vcpu->vm) | MVX_EPTP_WALK4 | MVX_EPTP_WB;
	if (v != vmx->eptp) {
		vmx->eptp = v;
		vmcs_write(EPT_POINTER, v);
	}
	if (vcpu->msrs.tsc_offset != vmx->tsc_offset) {
		vmx->tsc_offset = vcpu->msrs.tsc_offset;
		vmcs_write(TSC_OFFSET, vmx->tsc_offset);
	}
	vmx_arm_preemption_timer(vmx);
	if (vmx->inject_info & INTR_INFO_VALID_MASK) {
		vmcs_write(VM_ENTRY_INTR_INFO_FIELD, vmx->inject_info);
		vmcs_write(VM_ENTRY_EXCEPTION_ERROR_CODE, vmx->inject_error);
		vmcs_write(VM_ENTRY_INSTRUCTION_LEN, vmx->inject_len);
	}
	if (vmx->need_vpid_flush) {
		vmx_flush_vpid(vmx);
		vmx->need_vpid_flush = false;
	}
	if (native_read_cr2() != vmx->cr2)
		native_write_cr2(vmx->cr2);
}

static void vmx_read_exit_info(struct vmx_vcpu *vmx)
{
	struct vmx_exit_info *e = &vmx->exit;
	struct mvx_vcpu *vcpu = &vmx->vcpu;

	e->reason = vmcs_read(VM_EXIT_REASON);
	e->qual = vmcs_read(EXIT_QUALIFICATION);
	e->insn_len = vmcs_read(VM_EXIT_INSTRUCTION_LEN);
	e->insn_info = vmcs_read(VMX_INSTRUCTION_INFO);
	e->intr_info = vmcs_read(VM_EXIT_INTR_INFO);
	e->intr_error = vmcs_read(VM_EXIT_INTR_ERROR_CODE);
	e->idt_info = vmcs_read(IDT_VECTORING_INFO_FIELD);
	e->idt_error = vmcs_read(IDT_VECTORING_ERROR_CODE);
	e->gpa = vmcs_read(GUEST_PHYSICAL_ADDRESS);
	vcpu->exit_in_delivery = e->idt_info & INTR_INFO_VALID_MASK;
	vcpu->rip = vmcs_read(GUEST_RIP);
	vcpu->gprs[MVX_RSP] = vmcs_read(GUEST_RSP);
	vcpu->rflags = vmcs_read(GUEST_RFLAGS);
	e->rip = vcpu->rip;
}

/* NMIs and machine checks that hit the guest go to the host's handlers. */
static void vmx_handle_host_events(struct vmx_vcpu *vmx)
{
	u32 info = vmx->exit.intr_info;

	if ((u16)vmx->exit.reason != EXIT_REASON_EXCEPTION_NMI ||
	    !(info & INTR_INFO_VALID_MASK))
		return;
	if (MVX_INTR_TYPE(info) == INTR_TYPE_NMI_INTR)
		asm volatile("int $2");
	else if (MVX_INTR_VECTOR(info) == X86_TRAP_MC)
		asm volatile("int $0x12");
}

/*
 * After a failed entry, VMCLEAR + VMPTRLD puts the launch state back to a
 * known "clear", so the next attempt (with fixed state) uses VMLAUNCH.
 */
static void vmx_reset_launch_state(struct vmx_vcpu *vmx)
{
	vmx_vmclear(vmx->vmcs_pa);
	vmx_vmptrld(vmx->vmcs_pa);
	vmx->launched = false;
}

static void vmx_vcpu_enter(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	unsigned long host_dr7;
	int r;

	/* Interrupts are off: nothing turns VMX off on this CPU from here. */
	if (unlikely(!this_cpu_ptr(&vmx_cpu)->on || !mvx_hw_usable())) {
		memset(&vmx->exit, 0, sizeof(vmx->exit));
		vmx->exit.vmfail = MVX_VMX_LOST;
		return;
	}
	vmx_sync_entry_state(vmx);
	host_dr7 = native_get_debugreg(7);
	if (vmx->guest_owns_dr)
		vmx_load_guest_dr(vmx);

	if (mvx_l1d_flush_needed())
		mvx_l1d_flush();
	mvx_spec_ctrl_guest(vcpu);
	r = mvx_vmx_run(vcpu->gprs, vmx->launched);
	mvx_spec_ctrl_host(vcpu);
	mvx_spec_after_exit();

	if (vmx->guest_owns_dr)
		vmx_save_guest_dr(vmx);

	/* VM exit set DR7 to 0x400 and cleared DEBUGCTL (SDM 28.5.1). */
	if (host_dr7 & MVX_DR7_ENABLES)
		native_set_debugreg(7, host_dr7);
	if (vmx->host.debugctl)
		wrmsrl(MSR_IA32_DEBUGCTLMSR, vmx->host.debugctl);

	memset(&vmx->exit, 0, sizeof(vmx->exit));
	if (r == MVX_VMX_LOST) {
		/* An NMI (the kernel's emergency callback) turned VMX off. */
		mvx_hw_fault("vmlaunch/vmresume");
		vmx->exit.vmfail = r;
		return;
	}
	if (r != MVX_VMX_EXITED) {
		vmx->exit.vmfail = r;
		if (r == MVX_VMX_FAIL_VALID)
			vmx->exit.insn_error = vmcs_read(VM_INSTRUCTION_ERROR);
		vmx->exit.rip = vcpu->rip;
		vmx_reset_launch_state(vmx);
		return;
	}
	vmx->cr2 = native_read_cr2();
	vmx_read_exit_info(vmx);
	if (vmx->exit.reason & VMX_EXIT_REASONS_FAILED_VMENTRY) {
		vmx_reset_launch_state(vmx);
		return;
	}
	vmx->launched = true;
	vmx_complete_events(vmx);
	vmx_handle_host_events(vmx);
}

const struct mvx_backend mvx_vmx_backend = {
	.name		= "vmx",
	.vcpu_size	= sizeof(struct vmx_vcpu),
	.pt_table_bits	= MVX_EPT_READ | MVX_EPT_WRITE | MVX_EPT_EXEC,
	.pt_leaf_bits	= MVX_EPT_READ | MVX_EPT_EXEC | MVX_EPT_MEMTYPE_WB,
	.pt_write_bit	= MVX_EPT_WRITE,
	.probe		= vmx_probe,
	.cpu_enable	= vmx_cpu_enable,
	.cpu_disable	= vmx_cpu_disable,
	.emergency_disable = vmx_emergency_disable,
	.vcpu_init	= vmx_vcpu_init,
	.vcpu_destroy	= vmx_vcpu_destroy,
	.vcpu_load	= vmx_vcpu_load,
	.vcpu_put	= vmx_vcpu_put,
	.vcpu_enter	= vmx_vcpu_enter,
	.handle_exit	= vmx_handle_exit,
	.handle_exit_irqoff = vmx_handle_exit_irqoff,
	.get_sregs	= vmx_get_sregs,
	.set_sregs	= vmx_set_sregs,
	.get_mode	= vmx_get_mode,
	.mcg_cap_bits	= ~0ULL,
	.get_msr	= vmx_get_msr,
	.set_msr	= vmx_set_msr,
	.inject_event	= vmx_inject_event,
	.set_windows	= vmx_set_windows,
	.get_interrupt_shadow = vmx_get_interrupt_shadow,
	.set_interrupt_shadow = vmx_set_interrupt_shadow,
	.get_nmi_mask	= vmx_get_nmi_mask,
	.set_nmi_mask	= vmx_set_nmi_mask,
	.get_cr8	= vmx_get_cr8,
	.set_cr8	= vmx_set_cr8,
	.set_cr2	= vmx_set_cr2,
	.set_dr6	= vmx_set_dr6,
	.flush_tlb	= vmx_flush_tlb,
	.exit_info	= vmx_exit_info,
};
