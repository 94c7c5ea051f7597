// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx SVM backend: events.  The core (events.c) decides what the guest
 * gets; here one struct mvx_event becomes EVENTINJ (APM Vol. 2, 15.20),
 * EXITINTINFO becomes one again, the interrupt window is a virtual
 * interrupt with the VINTR intercept (15.21.4), and NMI blocking, which
 * the VMCB does not show, is tracked from injection to the guest's IRET.
 */
#include <linux/kernel.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "svm.h"

static u64 svm_event_type(const struct mvx_event *ev)
{
	switch (ev->type) {
	case MVX_EV_EXTINT:
		return SVM_EVT_TYPE_INTR;
	case MVX_EV_NMI:
		return SVM_EVT_TYPE_NMI;
	case MVX_EV_SOFT_INTR:
		return SVM_EVT_TYPE_SOFT;
	default:
		return SVM_EVT_TYPE_EXCEPTION;
	}
}

/*
 * NMIs stay blocked from the injection of one until its handler's IRET
 * has run.  The IRET exits before it runs; NMIs are open again at the
 * first exit after RIP has left it (svm_complete_events).
 */
static void svm_block_nmis(struct svm_vcpu *svm)
{
	svm->nmi_masked = true;
	svm->awaiting_iret = false;
	svm->vmcb->control.intercept1 |= SVM_I1_IRET;
}

static void svm_unblock_nmis(struct svm_vcpu *svm)
{
	svm->nmi_masked = false;
	svm->awaiting_iret = false;
	svm->vmcb->control.intercept1 &= ~SVM_I1_IRET;
}

#define SVM_VIRQ_BITS	(SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_IGN_TPR |	\
			 SVM_INT_CTL_V_PRIO_MAX | SVM_INT_CTL_V_VECTOR)

/*
 * MVX_QUIRK_SVM_VIRQ (main.c): a fresh external interrupt as a virtual
 * interrupt of the highest priority.  The VINTR intercept stays off until
 * the guest has taken it (svm_set_irq_window).
 */
static void svm_inject_virq(struct svm_vcpu *svm, u8 vector)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;

	ctl->int_ctl = (ctl->int_ctl & ~SVM_VIRQ_BITS) | SVM_INT_CTL_V_IRQ |
		       SVM_INT_CTL_V_IGN_TPR | SVM_INT_CTL_V_PRIO_MAX |
		       (u64)vector << SVM_INT_CTL_V_VECTOR_SHIFT;
	ctl->intercept1 &= ~SVM_I1_VINTR;
	svm->virq_injected = true;
	svm->virq_vector = vector;
}

/*
 * At the exit.  @cut: EXITINTINFO holds the virtual interrupt, whose
 * delivery the exit cut short (svm_complete_events requeues it from
 * there).  Otherwise V_IRQ still set means the guest has not taken it:
 * it goes back to the core as it came.
 */
static void svm_complete_virq(struct svm_vcpu *svm, bool cut)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;
	struct mvx_event ev = {
		.type = MVX_EV_EXTINT, .vector = svm->virq_vector,
	};

	svm->virq_injected = false;
	if (!cut && (ctl->int_ctl & SVM_INT_CTL_V_IRQ))
		mvx_return_interrupt(&svm->vcpu, &ev);
	ctl->int_ctl &= ~SVM_VIRQ_BITS;
}

void svm_inject_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 info = ev->vector | svm_event_type(ev) | SVM_EVT_VALID;

	if (ev->type == MVX_EV_EXTINT && !ev->reinjected &&
	    mvx_quirk(MVX_QUIRK_SVM_VIRQ)) {
		svm_inject_virq(svm, ev->vector);
		return;
	}

	/* Real mode pushes no error code. */
	if (ev->has_error && (svm->vmcb->save.cr0 & X86_CR0_PE))
		info |= SVM_EVT_HAS_ERROR | ((u64)ev->error_code << 32);
	if (ev->type == MVX_EV_NMI)
		svm_block_nmis(svm);
	svm->vmcb->control.event_inj = info;
}

/*
 * A virtual interrupt the guest takes as soon as RFLAGS.IF and the shadow
 * let it, at the highest priority so that V_TPR cannot hold it back; the
 * VINTR intercept turns that moment into an exit.
 */
static void svm_set_irq_window(struct svm_vcpu *svm, bool on)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;

	/* V_IRQ carries an interrupt: the window waits until it is taken. */
	if (svm->virq_injected)
		return;
	if (on) {
		ctl->int_ctl |= SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_IGN_TPR |
				SVM_INT_CTL_V_PRIO_MAX;
		ctl->intercept1 |= SVM_I1_VINTR;
	} else {
		ctl->int_ctl &= ~(SVM_INT_CTL_V_IRQ | SVM_INT_CTL_V_IGN_TPR |
				  SVM_INT_CTL_V_PRIO_MAX);
		ctl->intercept1 &= ~SVM_I1_VINTR;
	}
}

/*
 * SVM has no NMI window.  While the NMI handler runs, its IRET exits
 * anyway.  Once that IRET is due, a single step over it (RFLAGS.TF, and
 * the #DB intercept every vCPU has) brings the guest back at once.
 */
static void svm_set_nmi_window(struct svm_vcpu *svm, bool on)
{
	if (on && svm->nmi_masked && svm->awaiting_iret)
		svm->nmi_singlestep = true;
}

void svm_set_windows(struct mvx_vcpu *vcpu, bool irq, bool nmi)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	svm_set_irq_window(svm, irq);
	svm_set_nmi_window(svm, nmi);
}

/* The shadow belongs to the VMCB's RIP; the entry drops it if RIP moved. */
u8 svm_get_interrupt_shadow(struct mvx_vcpu *vcpu)
{
	struct svm_vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (vcpu->rip != vmcb->save.rip ||
	    !(vmcb->control.int_state & SVM_INT_STATE_SHADOW))
		return 0;
	/* SVM does not say which kind: report both, as KVM does. */
	return MVX_X86_SHADOW_INT_STI | MVX_X86_SHADOW_INT_MOV_SS;
}

void svm_set_interrupt_shadow(struct mvx_vcpu *vcpu, u8 shadow)
{
	struct svm_vmcb *vmcb = to_svm(vcpu)->vmcb;

	if (shadow)
		vmcb->control.int_state |= SVM_INT_STATE_SHADOW;
	else
		vmcb->control.int_state &= ~SVM_INT_STATE_SHADOW;
	vmcb->save.rip = vcpu->rip;
}

bool svm_get_nmi_mask(struct mvx_vcpu *vcpu)
{
	return to_svm(vcpu)->nmi_masked;
}

void svm_set_nmi_mask(struct mvx_vcpu *vcpu, bool masked)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	if (masked)
		svm_block_nmis(svm);
	else
		svm_unblock_nmis(svm);
}

u8 svm_get_cr8(struct mvx_vcpu *vcpu)
{
	return to_svm(vcpu)->vmcb->control.int_ctl & SVM_INT_CTL_TPR_MASK;
}

void svm_set_cr8(struct mvx_vcpu *vcpu, u8 cr8)
{
	struct svm_vmcb_control *ctl = &to_svm(vcpu)->vmcb->control;

	ctl->int_ctl = (ctl->int_ctl & ~SVM_INT_CTL_TPR_MASK) |
		       (cr8 & SVM_INT_CTL_TPR_MASK);
}

/* The NMI handler's IRET is about to run: NMIs open once it has. */
int svm_exit_iret(struct svm_vcpu *svm)
{
	svm->vmcb->control.intercept1 &= ~SVM_I1_IRET;
	svm->awaiting_iret = true;
	svm->iret_rip = svm->vcpu.rip;
	return 1;
}

/* RFLAGS as the guest has them, without the TF/RF of our single step. */
void svm_nmi_singlestep_begin(struct svm_vcpu *svm)
{
	u64 *rflags = &svm->vmcb->save.rflags;

	if (!svm->nmi_singlestep)
		return;
	svm->singlestep_guest_flags = *rflags & (X86_EFLAGS_TF | X86_EFLAGS_RF);
	*rflags |= X86_EFLAGS_TF | X86_EFLAGS_RF;
}

static void svm_nmi_singlestep_end(struct svm_vcpu *svm)
{
	u64 ours = (X86_EFLAGS_TF | X86_EFLAGS_RF) &
		   ~svm->singlestep_guest_flags;

	svm->nmi_singlestep = false;
	svm->vcpu.rflags &= ~ours;
}

/*
 * A #DB exit: was it our single step over the IRET?  Then it belongs to
 * no one, unless the guest was single-stepping itself.
 */
bool svm_nmi_singlestep_db(struct svm_vcpu *svm)
{
	bool guest_tf = svm->singlestep_guest_flags & X86_EFLAGS_TF;

	if (!svm->nmi_singlestep)
		return false;
	svm_nmi_singlestep_end(svm);
	return !guest_tf;
}

static enum mvx_event_type svm_exitintinfo_type(u64 info)
{
	switch (info & SVM_EVT_TYPE_MASK) {
	case SVM_EVT_TYPE_INTR:
		return MVX_EV_EXTINT;
	case SVM_EVT_TYPE_NMI:
		return MVX_EV_NMI;
	case SVM_EVT_TYPE_SOFT:
		return MVX_EV_SOFT_INTR;
	default:
		return MVX_EV_EXCEPTION;
	}
}

/*
 * After every exit.  NMIs open once RIP has left the IRET that exited.
 * An event the exit cut short goes back to the core, except INT n, INT3
 * and INTO: RIP still points at the instruction, and running it again
 * raises the event again, with the right return address.
 */
void svm_complete_events(struct svm_vcpu *svm)
{
	u64 info = svm->exit.int_info;
	/*
	 * QEMU's TCG reports a virtual interrupt whose delivery an exit cut
	 * short as an exception of its vector, with V_IRQ still set.
	 */
	bool virq_cut = svm->virq_injected && (info & SVM_EVT_VALID) &&
			(info & SVM_EVT_VECTOR) == svm->virq_vector &&
			svm_exitintinfo_type(info) != MVX_EV_SOFT_INTR &&
			svm_exitintinfo_type(info) != MVX_EV_NMI;
	struct mvx_event ev;

	if (svm->virq_injected)
		svm_complete_virq(svm, virq_cut);

	if (svm->nmi_singlestep && svm->exit.code != SVM_EXIT_EXCP_BASE + 1)
		svm_nmi_singlestep_end(svm);
	if (svm->awaiting_iret && svm->vcpu.rip != svm->iret_rip)
		svm_unblock_nmis(svm);
	if (!(info & SVM_EVT_VALID))
		return;
	ev = (struct mvx_event) {
		.type = svm_exitintinfo_type(info),
		.vector = info & SVM_EVT_VECTOR,
		.has_error = info & SVM_EVT_HAS_ERROR,
		.error_code = info >> 32,
	};
	if (virq_cut) {
		ev.type = MVX_EV_EXTINT;
		ev.has_error = false;
	}
	if (ev.type == MVX_EV_SOFT_INTR ||
	    (ev.type == MVX_EV_EXCEPTION &&
	     (ev.vector == X86_TRAP_BP || ev.vector == X86_TRAP_OF)))
		return;
	if (ev.type == MVX_EV_NMI)
		svm_unblock_nmis(svm);
	mvx_requeue_event(&svm->vcpu, &ev);
}
