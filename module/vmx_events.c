// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: events.  The core (events.c) decides what the guest
 * gets; here one struct mvx_event becomes the VM-entry interruption
 * information (SDM Vol. 3C, 25.8.3), the IDT-vectoring information of an
 * exit becomes one again (27.2.4), and the interrupt and NMI windows are
 * the two processor-based controls.
 */
#include <linux/kernel.h>
#include <asm/trapnr.h>
#include "vmx.h"

static const u32 vmx_event_types[] = {
	[MVX_EV_EXTINT]			= INTR_TYPE_EXT_INTR,
	[MVX_EV_NMI]			= INTR_TYPE_NMI_INTR,
	[MVX_EV_EXCEPTION]		= INTR_TYPE_HARD_EXCEPTION,
	[MVX_EV_SOFT_INTR]		= INTR_TYPE_SOFT_INTR,
	[MVX_EV_SOFT_EXCEPTION]		= INTR_TYPE_SOFT_EXCEPTION,
	[MVX_EV_PRIV_SOFT_EXCEPTION]	= INTR_TYPE_PRIV_SW_EXCEPTION,
};

static u32 vmx_interruptibility(void)
{
	return vmcs_read(GUEST_INTERRUPTIBILITY_INFO);
}

static void vmx_set_interruptibility(u32 old, u32 new)
{
	if (old != new)
		vmcs_write(GUEST_INTERRUPTIBILITY_INFO, new);
}

/*
 * An NMI or interrupt is only ever handed to us when nothing blocks it,
 * except when userspace stored a blocking state with VCPU_EVENTS; VM
 * entry would refuse the combination (SDM 26.3.1.5), so the event wins.
 */
static void vmx_unblock_for(const struct mvx_event *ev)
{
	u32 v = vmx_interruptibility();
	u32 clear = 0;

	if (ev->type == MVX_EV_EXTINT)
		clear = MVX_INTR_SHADOW;
	else if (ev->type == MVX_EV_NMI)
		clear = GUEST_INTR_STATE_MOV_SS | GUEST_INTR_STATE_NMI;
	vmx_set_interruptibility(v, v & ~clear);
}

void vmx_inject_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 info = ev->vector | vmx_event_types[ev->type] |
		   INTR_INFO_VALID_MASK;

	/* Real mode delivers no error codes (SDM 27.2.1.3). */
	if (ev->has_error && (vmx_guest_cr0(vmx) & X86_CR0_PE))
		info |= INTR_INFO_DELIVER_CODE_MASK;
	if (ev->type == MVX_EV_EXTINT || ev->type == MVX_EV_NMI)
		vmx_unblock_for(ev);
	vmx->inject_info = info;
	vmx->inject_error = ev->error_code;
	vmx->inject_len = ev->insn_len;
}

void vmx_set_windows(struct mvx_vcpu *vcpu, bool irq, bool nmi)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 want = (irq ? CPU_BASED_INTR_WINDOW_EXITING : 0) |
		   (nmi ? CPU_BASED_NMI_WINDOW_EXITING : 0);

	if (want == vmx->windows)
		return;
	vmcs_write(CPU_BASED_VM_EXEC_CONTROL,
		   (vmcs_read(CPU_BASED_VM_EXEC_CONTROL) & ~MVX_VMX_WINDOWS) |
		   want);
	vmx->windows = want;
}

/*
 * The shadow belongs to the instruction at the exit's RIP; when the host
 * has moved RIP on, the entry drops it (vmx_sync_entry_state).
 */
u8 vmx_get_interrupt_shadow(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 v;
	u8 shadow = 0;

	if (vcpu->rip != vmx->exit.rip)
		return 0;
	v = vmx_interruptibility();
	if (v & GUEST_INTR_STATE_STI)
		shadow |= MVX_X86_SHADOW_INT_STI;
	if (v & GUEST_INTR_STATE_MOV_SS)
		shadow |= MVX_X86_SHADOW_INT_MOV_SS;
	return shadow;
}

/* VM entry takes at most one kind of shadow: MOV SS is the stronger. */
void vmx_set_interrupt_shadow(struct mvx_vcpu *vcpu, u8 shadow)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u32 v = vmx_interruptibility();
	u32 n = v & ~MVX_INTR_SHADOW;

	if (shadow & MVX_X86_SHADOW_INT_MOV_SS)
		n |= GUEST_INTR_STATE_MOV_SS;
	else if (shadow & MVX_X86_SHADOW_INT_STI)
		n |= GUEST_INTR_STATE_STI;
	vmx_set_interruptibility(v, n);
	vmx->exit.rip = vcpu->rip;
}

bool vmx_get_nmi_mask(struct mvx_vcpu *vcpu)
{
	return vmx_interruptibility() & GUEST_INTR_STATE_NMI;
}

void vmx_set_nmi_mask(struct mvx_vcpu *vcpu, bool masked)
{
	u32 v = vmx_interruptibility();

	vmx_set_interruptibility(v, masked ? v | GUEST_INTR_STATE_NMI :
					     v & ~GUEST_INTR_STATE_NMI);
}

u8 vmx_get_cr8(struct mvx_vcpu *vcpu)
{
	return to_vmx(vcpu)->cr8;
}

void vmx_set_cr8(struct mvx_vcpu *vcpu, u8 cr8)
{
	to_vmx(vcpu)->cr8 = cr8;
}

static enum mvx_event_type vmx_event_type(u32 info)
{
	switch (MVX_INTR_TYPE(info)) {
	case INTR_TYPE_EXT_INTR:
		return MVX_EV_EXTINT;
	case INTR_TYPE_NMI_INTR:
		return MVX_EV_NMI;
	case INTR_TYPE_SOFT_INTR:
		return MVX_EV_SOFT_INTR;
	case INTR_TYPE_SOFT_EXCEPTION:
		return MVX_EV_SOFT_EXCEPTION;
	case INTR_TYPE_PRIV_SW_EXCEPTION:
		return MVX_EV_PRIV_SOFT_EXCEPTION;
	default:
		return MVX_EV_EXCEPTION;
	}
}

/*
 * An IRET that unblocked NMIs and then faulted (or hit an EPT violation)
 * runs again, so NMIs are blocked until it does (SDM 28.2.3, 28.2.1).
 */
static void vmx_recover_nmi_blocking(struct vmx_vcpu *vmx)
{
	struct vmx_exit_info *e = &vmx->exit;
	bool unblocked;

	if (e->idt_info & INTR_INFO_VALID_MASK)
		return;
	switch ((u16)e->reason) {
	case EXIT_REASON_EXCEPTION_NMI:
		unblocked = (e->intr_info & INTR_INFO_UNBLOCK_NMI) &&
			    MVX_INTR_VECTOR(e->intr_info) != X86_TRAP_DF;
		break;
	case EXIT_REASON_EPT_VIOLATION:
		unblocked = e->qual & INTR_INFO_UNBLOCK_NMI;
		break;
	default:
		return;
	}
	if (unblocked)
		vmx_set_nmi_mask(&vmx->vcpu, true);
}

/*
 * After every exit: the event the exit cut short goes back to the core,
 * to be delivered again; soft events with the length of their instruction,
 * whose RIP has not moved.  An NMI cut short left NMIs unblocked (SDM
 * 27.2.4's note): they stay so until it is delivered again.
 */
void vmx_complete_events(struct vmx_vcpu *vmx)
{
	u32 info = vmx->exit.idt_info;
	struct mvx_event ev;

	vmx->inject_info = 0;
	vmx_recover_nmi_blocking(vmx);
	if (!(info & INTR_INFO_VALID_MASK))
		return;
	ev = (struct mvx_event) {
		.type = vmx_event_type(info),
		.vector = MVX_INTR_VECTOR(info),
		.has_error = info & INTR_INFO_DELIVER_CODE_MASK,
		.error_code = vmx->exit.idt_error,
	};
	if (ev.type >= MVX_EV_SOFT_INTR)
		ev.insn_len = vmx->exit.insn_len;
	if (ev.type == MVX_EV_NMI)
		vmx_set_nmi_mask(&vmx->vcpu, false);
	mvx_requeue_event(&vmx->vcpu, &ev);
}
