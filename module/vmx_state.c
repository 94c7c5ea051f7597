// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: the guest state held in the VMCS or kept beside it.
 * Segments, CR0/CR4 with their shadows and EFER, the debug registers, the
 * special registers and the CPU mode, the MSRs in the VMCS and those switched
 * at vcpu_load/vcpu_put.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/preempt.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include "vmx.h"

static const u32 vmx_seg_fields[VMX_NR_SEGS] = {
	[VMX_ES] = GUEST_ES_SELECTOR, [VMX_CS] = GUEST_CS_SELECTOR,
	[VMX_SS] = GUEST_SS_SELECTOR, [VMX_DS] = GUEST_DS_SELECTOR,
	[VMX_FS] = GUEST_FS_SELECTOR, [VMX_GS] = GUEST_GS_SELECTOR,
	[VMX_LDTR] = GUEST_LDTR_SELECTOR, [VMX_TR] = GUEST_TR_SELECTOR,
};

/* Selector, limit, access rights and base fields are evenly spaced. */
u32 vmx_seg_field(enum vmx_seg seg, u32 first_es_field)
{
	return first_es_field + (vmx_seg_fields[seg] - GUEST_ES_SELECTOR);
}

/* KVM's struct kvm_segment <-> VMCS access rights (SDM 25.4.1). */
static u32 vmx_seg_to_ar(const struct mvx_segment *s)
{
	if (s->unusable || !s->present)
		return VMX_AR_UNUSABLE_MASK;
	return (s->type & 15) | (s->s & 1) << 4 | (s->dpl & 3) << 5 |
	       (s->present & 1) << 7 | (s->avl & 1) << 12 | (s->l & 1) << 13 |
	       (s->db & 1) << 14 | (s->g & 1) << 15;
}

void vmx_set_segment(enum vmx_seg seg, const struct mvx_segment *s)
{
	vmcs_write(vmx_seg_field(seg, GUEST_ES_SELECTOR), s->selector);
	vmcs_write(vmx_seg_field(seg, GUEST_ES_BASE), s->base);
	vmcs_write(vmx_seg_field(seg, GUEST_ES_LIMIT), s->limit);
	vmcs_write(vmx_seg_field(seg, GUEST_ES_AR_BYTES), vmx_seg_to_ar(s));
}

static void vmx_get_segment(enum vmx_seg seg, struct mvx_segment *s)
{
	u32 ar = vmcs_read(vmx_seg_field(seg, GUEST_ES_AR_BYTES));

	memset(s, 0, sizeof(*s));
	s->selector = vmcs_read(vmx_seg_field(seg, GUEST_ES_SELECTOR));
	s->base = vmcs_read(vmx_seg_field(seg, GUEST_ES_BASE));
	s->limit = vmcs_read(vmx_seg_field(seg, GUEST_ES_LIMIT));
	s->unusable = !!(ar & VMX_AR_UNUSABLE_MASK);
	s->type = ar & 15;
	s->s = (ar >> 4) & 1;
	s->dpl = (ar >> 5) & 3;
	s->present = !s->unusable && ((ar >> 7) & 1);
	s->avl = (ar >> 12) & 1;
	s->l = (ar >> 13) & 1;
	s->db = (ar >> 14) & 1;
	s->g = (ar >> 15) & 1;
}

u64 vmx_hw_cr0(u64 cr0)
{
	return ((cr0 | vmx_caps.cr0_fixed0) & vmx_caps.cr0_fixed1) &
	       ~(u64)MVX_CR0_ALWAYS_OFF;
}

u64 vmx_hw_cr4(u64 cr4)
{
	return (cr4 | vmx_caps.cr4_fixed0) & vmx_caps.cr4_fixed1;
}

/* ---- guest control registers ------------------------------------------ */

u64 vmx_guest_cr0(struct vmx_vcpu *vmx)
{
	return (vmcs_read(GUEST_CR0) & ~vmx_cr0_mask) |
	       (vmx->cr0 & vmx_cr0_mask);
}

u64 vmx_guest_cr4(struct vmx_vcpu *vmx)
{
	return (vmcs_read(GUEST_CR4) & ~vmx_cr4_mask) |
	       (vmx->cr4 & vmx_cr4_mask);
}

static bool vmx_pae_paging(u64 cr0, u64 cr4, u64 efer)
{
	return (cr0 & X86_CR0_PG) && (cr4 & X86_CR4_PAE) && !(efer & EFER_LMA);
}

/*
 * With EPT, VM entry takes PAE paging's four PDPTEs from the VMCS; when we,
 * not the guest's own MOV CR, change the paging mode, load them here.
 */
static int vmx_load_pdptrs(struct vmx_vcpu *vmx, u64 cr3)
{
	u64 pdpte[4];
	int i, r;

	r = mvx_read_guest(&vmx->vcpu, cr3 & 0xffffffe0ULL, pdpte,
			   sizeof(pdpte));
	if (r)
		return r;
	for (i = 0; i < 4; i++)
		vmcs_write(GUEST_PDPTR0 + 2 * i, pdpte[i]);
	return 0;
}

/* IA32_EFER.LMA and the "IA-32e mode guest" entry control go together. */
static void vmx_set_efer_hw(u64 efer, bool lma)
{
	efer = lma ? efer | EFER_LMA : efer & ~(u64)EFER_LMA;
	vmcs_write(GUEST_IA32_EFER, efer);
	if (lma)
		vmcs_set_bits(VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
	else
		vmcs_clear_bits(VM_ENTRY_CONTROLS, VM_ENTRY_IA32E_MODE);
}

static int vmx_check_cr4(u64 cr4, u64 efer)
{
	if (cr4 & ~mvx_cr4_allowed)
		return -EINVAL;
	if ((efer & EFER_LMA) && !(cr4 & X86_CR4_PAE))
		return -EINVAL;
	return 0;
}

/* MOV to CR0 / LMSW from the guest, or SET_SREGS. */
int vmx_set_cr0(struct vmx_vcpu *vmx, u64 cr0)
{
	u64 old = vmx_guest_cr0(vmx), cr4 = vmx_guest_cr4(vmx);
	u64 efer = vmcs_read(GUEST_IA32_EFER);
	bool lma = (cr0 & X86_CR0_PG) && (efer & EFER_LME);

	if (!mvx_cr0_valid(cr0, cr4, efer))
		return -EINVAL;
	vmx->cr0 = cr0;
	vmcs_write(CR0_READ_SHADOW, cr0);
	vmcs_write(GUEST_CR0, vmx_hw_cr0(cr0));
	vmx_set_efer_hw(efer, lma);
	/* A real MOV CR0 that changes PG or PE flushes the guest TLB. */
	if ((old ^ cr0) & (X86_CR0_PG | X86_CR0_PE | X86_CR0_WP))
		vmx->need_vpid_flush = true;
	if (vmx_pae_paging(cr0, cr4, lma ? EFER_LMA : 0))
		return vmx_load_pdptrs(vmx, vmcs_read(GUEST_CR3));
	return 0;
}

int vmx_set_cr4(struct vmx_vcpu *vmx, u64 cr4)
{
	u64 cr0 = vmx_guest_cr0(vmx), efer = vmcs_read(GUEST_IA32_EFER);

	if (vmx_check_cr4(cr4, efer))
		return -EINVAL;
	vmx->cr4 = cr4;
	vmcs_write(CR4_READ_SHADOW, cr4);
	vmcs_write(GUEST_CR4, vmx_hw_cr4(cr4));
	vmx->need_vpid_flush = true;
	if (vmx_pae_paging(cr0, cr4, efer))
		return vmx_load_pdptrs(vmx, vmcs_read(GUEST_CR3));
	return 0;
}

/*
 * First guest MOV DR: from now on the guest's DR0-3 and DR6 are in the
 * hardware while it runs (DR7 is switched by VM entry and exit), and its
 * MOV DR run natively.  Until then it has no breakpoints to arm.
 */
void vmx_guest_takes_dr(struct vmx_vcpu *vmx)
{
	vmx->guest_owns_dr = true;
	vmcs_clear_bits(CPU_BASED_VM_EXEC_CONTROL, CPU_BASED_MOV_DR_EXITING);
}

void vmx_load_guest_dr(struct vmx_vcpu *vmx)
{
	/* No host breakpoint may fire on guest addresses meanwhile. */
	set_debugreg(0UL, 7);
	set_debugreg(vmx->dr[0], 0);
	set_debugreg(vmx->dr[1], 1);
	set_debugreg(vmx->dr[2], 2);
	set_debugreg(vmx->dr[3], 3);
	set_debugreg(vmx->dr6, 6);
}

/* VM exit left the guest's DR0-3 and DR6 in the hardware: take them back. */
void vmx_save_guest_dr(struct vmx_vcpu *vmx)
{
	get_debugreg(vmx->dr[0], 0);
	get_debugreg(vmx->dr[1], 1);
	get_debugreg(vmx->dr[2], 2);
	get_debugreg(vmx->dr[3], 3);
	get_debugreg(vmx->dr6, 6);
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else
		set_debugreg(DR6_RESERVED, 6);
}

void vmx_set_cr2(struct mvx_vcpu *vcpu, u64 cr2)
{
	to_vmx(vcpu)->cr2 = cr2;
}

void vmx_set_dr6(struct mvx_vcpu *vcpu, u64 dr6)
{
	to_vmx(vcpu)->dr6 = dr6;
}

/* ---- guest state for userspace ------------------------------------- */

static const struct {
	enum vmx_seg vmx;
	size_t offset;
} vmx_sregs_segs[] = {
	{ VMX_CS, offsetof(struct mvx_sregs, cs) },
	{ VMX_DS, offsetof(struct mvx_sregs, ds) },
	{ VMX_ES, offsetof(struct mvx_sregs, es) },
	{ VMX_FS, offsetof(struct mvx_sregs, fs) },
	{ VMX_GS, offsetof(struct mvx_sregs, gs) },
	{ VMX_SS, offsetof(struct mvx_sregs, ss) },
	{ VMX_TR, offsetof(struct mvx_sregs, tr) },
	{ VMX_LDTR, offsetof(struct mvx_sregs, ldt) },
};

void vmx_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	int i;

	memset(sregs, 0, sizeof(*sregs));
	for (i = 0; i < ARRAY_SIZE(vmx_sregs_segs); i++)
		vmx_get_segment(vmx_sregs_segs[i].vmx,
				(void *)sregs + vmx_sregs_segs[i].offset);
	sregs->gdt.base = vmcs_read(GUEST_GDTR_BASE);
	sregs->gdt.limit = vmcs_read(GUEST_GDTR_LIMIT);
	sregs->idt.base = vmcs_read(GUEST_IDTR_BASE);
	sregs->idt.limit = vmcs_read(GUEST_IDTR_LIMIT);
	sregs->cr0 = vmx_guest_cr0(vmx);
	sregs->cr2 = vmx->cr2;
	sregs->cr3 = vmcs_read(GUEST_CR3);
	sregs->cr4 = vmx_guest_cr4(vmx);
	sregs->cr8 = vmx->cr8;
	sregs->efer = vmcs_read(GUEST_IA32_EFER);
	sregs->apic_base = vcpu->msrs.apic_base;
}

int vmx_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	bool lma = (sregs->efer & EFER_LME) && (sregs->cr0 & X86_CR0_PG);
	int i;

	for (i = 0; i < ARRAY_SIZE(vmx_sregs_segs); i++)
		vmx_set_segment(vmx_sregs_segs[i].vmx,
				(const void *)sregs + vmx_sregs_segs[i].offset);
	vmcs_write(GUEST_GDTR_BASE, sregs->gdt.base);
	vmcs_write(GUEST_GDTR_LIMIT, sregs->gdt.limit);
	vmcs_write(GUEST_IDTR_BASE, sregs->idt.base);
	vmcs_write(GUEST_IDTR_LIMIT, sregs->idt.limit);
	vmcs_write(GUEST_CR3, sregs->cr3);
	vmx->cr2 = sregs->cr2;
	vmx->cr8 = sregs->cr8;
	vcpu->msrs.apic_base = sregs->apic_base;

	/* Order: EFER.LME, then CR4.PAE, then CR0.PG, as a guest would. */
	vmx_set_efer_hw(sregs->efer, false);
	vmx->cr4 = sregs->cr4;
	vmcs_write(CR4_READ_SHADOW, sregs->cr4);
	vmcs_write(GUEST_CR4, vmx_hw_cr4(sregs->cr4));
	vmx->cr0 = sregs->cr0;
	vmcs_write(CR0_READ_SHADOW, sregs->cr0);
	vmcs_write(GUEST_CR0, vmx_hw_cr0(sregs->cr0));
	vmx_set_efer_hw(sregs->efer, lma);
	vmx->need_vpid_flush = true;
	/* No pending event survives a state change from userspace. */
	vmx->inject_info = 0;
	if (vmx_pae_paging(sregs->cr0, sregs->cr4, lma ? EFER_LMA : 0) &&
	    vmx_load_pdptrs(vmx, sregs->cr3))
		return -EINVAL;
	return 0;
}

void vmx_get_mode(struct mvx_vcpu *vcpu, struct mvx_cpu_mode *mode)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 cs_ar = vmcs_read(GUEST_CS_AR_BYTES);
	u32 ss_ar = vmcs_read(GUEST_SS_AR_BYTES);
	int i;

	mode->cr0 = vmx_guest_cr0(vmx);
	mode->cr3 = vmcs_read(GUEST_CR3);
	mode->cr4 = vmx_guest_cr4(vmx);
	mode->efer = vmcs_read(GUEST_IA32_EFER);
	for (i = 0; i < MVX_NR_SEGS; i++)
		mode->seg_base[i] = vmcs_read(vmx_seg_field(i, GUEST_ES_BASE));
	mode->cs_db = (cs_ar >> 14) & 1;
	mode->cs_l = (cs_ar >> 13) & 1;
	mode->cpl = (mode->cr0 & X86_CR0_PE) ? (ss_ar >> 5) & 3 : 0;
}

/* ---- MSRs that live in the VMCS or that we switch ------------------ */

/* One of the MSRs held in hardware while the vCPU is loaded. */
static u64 *vmx_switched_msr(struct mvx_vcpu *vcpu, u32 index)
{
	switch (index) {
	case MSR_KERNEL_GS_BASE:
		return &vcpu->msrs.kernel_gs_base;
	case MSR_STAR:
		return &vcpu->msrs.star;
	case MSR_LSTAR:
		return &vcpu->msrs.lstar;
	case MSR_CSTAR:
		return &vcpu->msrs.cstar;
	case MSR_SYSCALL_MASK:
		return &vcpu->msrs.sfmask;
	}
	return NULL;
}

int vmx_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *slot = vmx_switched_msr(vcpu, index);

	if (slot) {
		preempt_disable();
		if (vmx->guest_msrs_loaded && index == MSR_KERNEL_GS_BASE)
			rdmsrl(MSR_KERNEL_GS_BASE, *slot);
		*data = *slot;
		preempt_enable();
		return 0;
	}
	switch (index) {
	case MSR_EFER:
		*data = vmcs_read(GUEST_IA32_EFER);
		return 0;
	case MSR_IA32_CR_PAT:
		*data = vmx_caps.pat ? vmcs_read(GUEST_IA32_PAT) : vcpu->msrs.pat;
		return 0;
	case MSR_IA32_SYSENTER_CS:
		*data = vmcs_read(GUEST_SYSENTER_CS);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
		*data = vmcs_read(GUEST_SYSENTER_ESP);
		return 0;
	case MSR_IA32_SYSENTER_EIP:
		*data = vmcs_read(GUEST_SYSENTER_EIP);
		return 0;
	case MSR_FS_BASE:
		*data = vmcs_read(GUEST_FS_BASE);
		return 0;
	case MSR_GS_BASE:
		*data = vmcs_read(GUEST_GS_BASE);
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		*data = vmcs_read(GUEST_IA32_DEBUGCTL);
		return 0;
	}
	return -ENOENT;
}

static int vmx_set_efer(struct vmx_vcpu *vmx, u64 efer)
{
	u64 old = vmcs_read(GUEST_IA32_EFER);
	u64 cr0 = vmx_guest_cr0(vmx);

	if (efer & ~MVX_EFER_GUEST_BITS)
		return -EINVAL;
	/* LME cannot change while paging is on (SDM Vol. 3A 10.8.5). */
	if ((cr0 & X86_CR0_PG) && ((old ^ efer) & EFER_LME))
		return -EINVAL;
	vmx_set_efer_hw(efer, (efer & EFER_LME) && (cr0 & X86_CR0_PG));
	return 0;
}

static int vmx_set_switched_msr(struct vmx_vcpu *vmx, u32 index, u64 *slot,
				u64 data)
{
	if (index == MSR_SYSCALL_MASK ? data >> 32 :
	    index != MSR_STAR && !mvx_is_canonical(data))
		return -EINVAL;
	preempt_disable();
	*slot = data;
	if (vmx->guest_msrs_loaded)
		wrmsrl(index, data);
	preempt_enable();
	return 0;
}

int vmx_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 *slot = vmx_switched_msr(vcpu, index);

	if (slot)
		return vmx_set_switched_msr(vmx, index, slot, data);
	switch (index) {
	case MSR_TSC_AUX:
		if (data >> 32)
			return -EINVAL;
		preempt_disable();
		vcpu->msrs.tsc_aux = data;
		if (vmx->guest_msrs_loaded &&
		    (vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_RDTSCP))
			wrmsrl(MSR_TSC_AUX, data);
		preempt_enable();
		return 0;
	case MSR_EFER:
		return vmx_set_efer(vmx, data);
	case MSR_IA32_CR_PAT:
		if (!mvx_pat_valid(data))
			return -EINVAL;
		vcpu->msrs.pat = data;
		if (vmx_caps.pat)
			vmcs_write(GUEST_IA32_PAT, data);
		return 0;
	case MSR_IA32_SYSENTER_CS:
		vmcs_write(GUEST_SYSENTER_CS, (u32)data);
		return 0;
	case MSR_IA32_SYSENTER_ESP:
	case MSR_IA32_SYSENTER_EIP:
	case MSR_FS_BASE:
	case MSR_GS_BASE:
		if (!mvx_is_canonical(data))
			return -EINVAL;
		vmcs_write(index == MSR_IA32_SYSENTER_ESP ? GUEST_SYSENTER_ESP :
			   index == MSR_IA32_SYSENTER_EIP ? GUEST_SYSENTER_EIP :
			   index == MSR_FS_BASE ? GUEST_FS_BASE : GUEST_GS_BASE,
			   data);
		return 0;
	case MSR_IA32_DEBUGCTLMSR:
		/* No branch tracing for guests; 0 is all we accept. */
		return data ? -EINVAL : 0;
	}
	return -ENOENT;
}
