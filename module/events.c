// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupts, NMIs and exceptions for the guest: what the VMM queues
 * (MVX_INTERRUPT, MVX_NMI, MVX_SET_VCPU_EVENTS), what exit handlers raise,
 * and what an exit cut short.  The policy of which event goes first and
 * when a window must be watched is here, once for both backends; a backend
 * only turns one struct mvx_event into its VMCS or VMCB field.
 *
 * The model is the architecture's: at most one exception, one NMI and one
 * external interrupt are in flight, and a second NMI can be latched while
 * NMIs are blocked.  KVM's documented ABI (api.rst) and its x86.c define
 * what each ioctl reports; where minivmx differs it says so below.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/sched/signal.h>
#include <linux/uaccess.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "core.h"
#include "trace.h"

/* At most one NMI running and one latched behind it. */
#define MVX_MAX_PENDING_NMIS	2

enum exception_class { EXC_BENIGN, EXC_CONTRIBUTORY, EXC_PAGE_FAULT };

/* SDM Vol. 3A, Table 6-4: which pairs of exceptions make a #DF. */
static enum exception_class exception_class(u8 vector)
{
	switch (vector) {
	case X86_TRAP_PF:
		return EXC_PAGE_FAULT;
	case X86_TRAP_DE:
	case X86_TRAP_TS:
	case X86_TRAP_NP:
	case X86_TRAP_SS:
	case X86_TRAP_GP:
		return EXC_CONTRIBUTORY;
	default:
		return EXC_BENIGN;
	}
}

static bool makes_double_fault(u8 first, u8 second)
{
	enum exception_class c1 = exception_class(first);
	enum exception_class c2 = exception_class(second);

	return (c1 == EXC_CONTRIBUTORY && c2 == EXC_CONTRIBUTORY) ||
	       (c1 == EXC_PAGE_FAULT && c2 != EXC_BENIGN);
}

static void set_exception(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	vcpu->events.exception = *ev;
	vcpu->events.exception_queued = true;
}

/*
 * An exception raised while another is still waiting for delivery
 * combines with it as the CPU would combine them: into #DF, and a fault
 * on top of #DF shuts the guest down.  Otherwise the newer one wins; the
 * older, if it was a fault, comes back when the instruction runs again.
 */
static void queue_exception_event(struct mvx_vcpu *vcpu,
				  const struct mvx_event *ev)
{
	struct mvx_event_state *e = &vcpu->events;
	struct mvx_event df = {
		.type = MVX_EV_EXCEPTION, .vector = X86_TRAP_DF,
		.has_error = true, .error_code = 0,
	};
	u8 first = e->exception.vector;

	if (!e->exception_queued || e->exception.type != MVX_EV_EXCEPTION ||
	    ev->type != MVX_EV_EXCEPTION) {
		set_exception(vcpu, ev);
		return;
	}
	if (first == X86_TRAP_DF) {
		e->exception_queued = false;
		e->triple_fault = true;
		return;
	}
	set_exception(vcpu, makes_double_fault(first, ev->vector) ? &df : ev);
}

void mvx_queue_exception(struct mvx_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error_code)
{
	struct mvx_event ev = {
		.type = MVX_EV_EXCEPTION, .vector = vector,
		.has_error = has_error, .error_code = error_code,
	};

	queue_exception_event(vcpu, &ev);
}

/*
 * Called by the backend at an exit before the guest took the external
 * interrupt it was handed: it is queued again, as MVX_INTERRUPT left it.
 */
void mvx_return_interrupt(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	struct mvx_event_state *e = &vcpu->events;

	e->interrupt = *ev;
	e->interrupt.reinjected = false;
	e->interrupt_queued = true;
}

/* Called by the backend at an exit that cut the delivery of @ev short. */
void mvx_requeue_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	struct mvx_event_state *e = &vcpu->events;

	switch (ev->type) {
	case MVX_EV_NMI:
		e->nmi_injected = true;
		break;
	case MVX_EV_EXTINT:
	case MVX_EV_SOFT_INTR:
		e->interrupt = *ev;
		e->interrupt.reinjected = true;
		e->interrupt_queued = true;
		break;
	default:
		set_exception(vcpu, ev);
		e->exception.reinjected = true;
	}
}

/*
 * An interrupt whose delivery already began (INT n, or an external one an
 * exit cut short) goes on whatever RFLAGS.IF and the shadow say now: the
 * CPU had accepted it.
 */
static bool interrupt_in_flight(struct mvx_vcpu *vcpu)
{
	struct mvx_event_state *e = &vcpu->events;

	return e->interrupt_queued &&
	       (e->interrupt.type == MVX_EV_SOFT_INTR || e->interrupt.reinjected);
}

static bool event_in_flight(struct mvx_vcpu *vcpu)
{
	struct mvx_event_state *e = &vcpu->events;

	return e->exception_queued || e->nmi_injected ||
	       interrupt_in_flight(vcpu);
}

/* RFLAGS.IF set and no STI / MOV SS shadow: an interrupt may come now. */
static bool interrupt_allowed(struct mvx_vcpu *vcpu)
{
	return (vcpu->rflags & X86_EFLAGS_IF) &&
	       !mvx_ops->get_interrupt_shadow(vcpu);
}

static bool nmi_allowed(struct mvx_vcpu *vcpu)
{
	return !mvx_ops->get_nmi_mask(vcpu) &&
	       !mvx_ops->get_interrupt_shadow(vcpu);
}

/*
 * What run->ready_for_interrupt_injection says: MVX_INTERRUPT now would
 * be delivered at the next entry.  KVM looks only at the interrupt slot;
 * we also wait for an exception or NMI in flight, which would go first.
 */
static bool ready_for_interrupt(struct mvx_vcpu *vcpu)
{
	return !vcpu->events.interrupt_queued && !event_in_flight(vcpu) &&
	       interrupt_allowed(vcpu);
}

static void inject(struct mvx_vcpu *vcpu, const struct mvx_event *ev)
{
	trace_minivmx_inject(vcpu, ev);
	mvx_ops->inject_event(vcpu, ev);
}

static const struct mvx_event nmi_event = {
	.type = MVX_EV_NMI, .vector = X86_TRAP_NMI,
};

/*
 * Hand the backend what the next entry delivers, in the architecture's
 * order: an event whose delivery is under way first, then an NMI, then an
 * external interrupt.  Whatever must still wait opens a window, so that
 * the guest exits as soon as it can take it.  Interrupts are off.
 */
void mvx_inject_events(struct mvx_vcpu *vcpu)
{
	struct mvx_event_state *e = &vcpu->events;
	bool irq_window, nmi_window;

	if (e->exception_queued) {
		e->exception_queued = false;
		inject(vcpu, &e->exception);
	} else if (e->nmi_injected) {
		e->nmi_injected = false;
		inject(vcpu, &nmi_event);
	} else if (interrupt_in_flight(vcpu)) {
		e->interrupt_queued = false;
		inject(vcpu, &e->interrupt);
	} else if (e->nmi_pending && nmi_allowed(vcpu)) {
		e->nmi_pending--;
		inject(vcpu, &nmi_event);
	} else if (e->interrupt_queued && interrupt_allowed(vcpu)) {
		e->interrupt_queued = false;
		inject(vcpu, &e->interrupt);
	}
	irq_window = e->interrupt_queued || vcpu->run->request_interrupt_window;
	nmi_window = e->nmi_pending;
	mvx_ops->set_windows(vcpu, irq_window, nmi_window);
}

/*
 * A window exit only gives the core a say; the next entry injects what
 * has become deliverable, and the run loop tells userspace about an open
 * window it asked for.
 */
int mvx_exit_window(struct mvx_vcpu *vcpu)
{
	return 1;
}

/* Could the guest take an event right now, were it halted? */
static bool wakeup_event(struct mvx_vcpu *vcpu)
{
	struct mvx_event_state *e = &vcpu->events;

	return (e->interrupt_queued && (vcpu->rflags & X86_EFLAGS_IF)) ||
	       (e->nmi_pending && !mvx_ops->get_nmi_mask(vcpu));
}

/*
 * HLT goes to userspace, which owns the interrupt controller, unless an
 * event the core already holds would wake the guest at once: then the
 * HLT ends here, as on a CPU whose interrupt arrives right after it.
 */
bool mvx_hlt_wakes_at_once(struct mvx_vcpu *vcpu)
{
	return wakeup_event(vcpu);
}

/*
 * At the start of MVX_RUN.  A vCPU that userspace put in HALTED stays out
 * of the guest until it has something to wake up for: then it runs again
 * (and is RUNNABLE), else RUN returns at once with MVX_EXIT_HLT.
 * Returns true when the guest may be entered.
 */
bool mvx_events_before_run(struct mvx_vcpu *vcpu)
{
	struct mvx_event_state *e = &vcpu->events;

	if (e->mp_state != MVX_MP_STATE_HALTED)
		return true;
	if (!wakeup_event(vcpu)) {
		vcpu->run->exit_reason = MVX_EXIT_HLT;
		return false;
	}
	e->mp_state = MVX_MP_STATE_RUNNABLE;
	return true;
}

/* A double fault's fault: the CPU shuts down (SDM Vol. 3A, 6.15). */
bool mvx_triple_fault(struct mvx_vcpu *vcpu)
{
	if (!vcpu->events.triple_fault)
		return false;
	vcpu->events.triple_fault = false;
	return true;
}

/*
 * After every handled exit, as KVM does: userspace that asked for the
 * window gets MVX_EXIT_IRQ_WINDOW_OPEN as soon as it can inject.
 */
bool mvx_irq_window_open(struct mvx_vcpu *vcpu)
{
	if (!READ_ONCE(vcpu->run->request_interrupt_window) ||
	    !ready_for_interrupt(vcpu))
		return false;
	vcpu->run->exit_reason = MVX_EXIT_IRQ_WINDOW_OPEN;
	return true;
}

/* The fields of the run page that every return from MVX_RUN fills in. */
void mvx_events_after_run(struct mvx_vcpu *vcpu)
{
	struct mvx_run *run = vcpu->run;

	run->if_flag = !!(vcpu->rflags & X86_EFLAGS_IF);
	run->flags = 0;
	run->cr8 = mvx_ops->get_cr8(vcpu);
	run->apic_base = vcpu->msrs.apic_base;
	run->ready_for_interrupt_injection = ready_for_interrupt(vcpu);
}

/* Without an in-kernel APIC, run->cr8 is the VMM's TPR: it goes in first. */
int mvx_events_load_cr8(struct mvx_vcpu *vcpu)
{
	u64 cr8 = READ_ONCE(vcpu->run->cr8);

	if (cr8 > 15)
		return -EINVAL;
	if (cr8 != mvx_ops->get_cr8(vcpu))
		mvx_ops->set_cr8(vcpu, cr8);
	return 0;
}

/*
 * MVX_INTERRUPT.  KVM injects at the next entry whatever the guest's
 * RFLAGS.IF says (VMX then refuses the entry); minivmx holds the vector
 * until the guest can take it, opening the interrupt window itself.  A
 * second vector before the first was delivered replaces it, as on KVM.
 */
int mvx_vcpu_interrupt(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_interrupt irq;

	if (copy_from_user(&irq, argp, sizeof(irq)))
		return -EFAULT;
	if (irq.irq >= MVX_NR_INTERRUPTS)
		return -EINVAL;
	vcpu->events.interrupt = (struct mvx_event) {
		.type = MVX_EV_EXTINT, .vector = irq.irq,
	};
	vcpu->events.interrupt_queued = true;
	return 0;
}

/* NMIs beyond one running and one latched are lost, as on a CPU. */
static void add_pending_nmis(struct mvx_vcpu *vcpu, unsigned int n)
{
	struct mvx_event_state *e = &vcpu->events;
	unsigned int limit = MVX_MAX_PENDING_NMIS;

	if (e->nmi_injected || mvx_ops->get_nmi_mask(vcpu))
		limit = 1;
	e->nmi_pending = min(e->nmi_pending + n, limit);
}

int mvx_vcpu_nmi(struct mvx_vcpu *vcpu)
{
	add_pending_nmis(vcpu, 1);
	return 0;
}

int mvx_vcpu_get_events(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_event_state *e = &vcpu->events;
	struct mvx_vcpu_events ev = { };

	/*
	 * Soft exceptions and INT n are not reported, as on KVM: the ABI
	 * has no instruction length for them, and with RIP still at the
	 * instruction it runs again.
	 */
	if (e->exception_queued && e->exception.type == MVX_EV_EXCEPTION) {
		ev.exception.injected = 1;
		ev.exception.nr = e->exception.vector;
		ev.exception.has_error_code = e->exception.has_error;
		ev.exception.error_code = e->exception.error_code;
	}
	if (e->interrupt_queued && e->interrupt.type == MVX_EV_EXTINT) {
		ev.interrupt.injected = 1;
		ev.interrupt.nr = e->interrupt.vector;
	}
	ev.interrupt.shadow = mvx_ops->get_interrupt_shadow(vcpu);
	ev.nmi.injected = e->nmi_injected;
	ev.nmi.pending = e->nmi_pending;
	ev.nmi.masked = mvx_ops->get_nmi_mask(vcpu);
	ev.flags = MVX_VCPUEVENT_VALID_NMI_PENDING | MVX_VCPUEVENT_VALID_SHADOW |
		   MVX_VCPUEVENT_VALID_SMM;
	return copy_to_user(argp, &ev, sizeof(ev)) ? -EFAULT : 0;
}

static int check_events(struct mvx_vcpu *vcpu,
			const struct mvx_vcpu_events *ev)
{
	u32 known = MVX_VCPUEVENT_VALID_NMI_PENDING |
		    MVX_VCPUEVENT_VALID_SIPI_VECTOR |
		    MVX_VCPUEVENT_VALID_SHADOW | MVX_VCPUEVENT_VALID_SMM;

	/* Payloads and triple faults need capabilities we do not offer. */
	if (ev->flags & ~known) {
		pr_info_ratelimited("vcpu %u: SET_VCPU_EVENTS flags %#x not supported\n",
				    vcpu->id, ev->flags & ~known);
		return -EINVAL;
	}
	if (ev->exception.injected &&
	    (ev->exception.nr > 31 || ev->exception.nr == X86_TRAP_NMI)) {
		pr_info_ratelimited("vcpu %u: SET_VCPU_EVENTS exception vector %u\n",
				    vcpu->id, ev->exception.nr);
		return -EINVAL;
	}
	if ((ev->flags & MVX_VCPUEVENT_VALID_SMM) &&
	    (ev->smi.smm || ev->smi.pending || ev->smi.smm_inside_nmi)) {
		pr_info_ratelimited("vcpu %u: SET_VCPU_EVENTS: no SMM here\n",
				    vcpu->id);
		return -EINVAL;
	}
	if ((ev->flags & MVX_VCPUEVENT_VALID_SHADOW) &&
	    (ev->interrupt.shadow & ~(MVX_X86_SHADOW_INT_MOV_SS |
				      MVX_X86_SHADOW_INT_STI)))
		return -EINVAL;
	return 0;
}

/*
 * MVX_SET_VCPU_EVENTS replaces every event in flight.  Without
 * MVX_VCPUEVENT_VALID_PAYLOAD, "pending" exceptions do not exist (KVM
 * drops the field), and a soft interrupt is left to run again from RIP.
 */
int mvx_vcpu_set_events(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_event_state *e = &vcpu->events;
	struct mvx_vcpu_events ev;
	int ret;

	if (copy_from_user(&ev, argp, sizeof(ev)))
		return -EFAULT;
	ret = check_events(vcpu, &ev);
	if (ret)
		return ret;

	e->exception_queued = ev.exception.injected;
	e->exception = (struct mvx_event) {
		.type = MVX_EV_EXCEPTION, .vector = ev.exception.nr,
		.has_error = ev.exception.has_error_code,
		.error_code = ev.exception.error_code,
	};
	e->interrupt_queued = ev.interrupt.injected && !ev.interrupt.soft;
	e->interrupt = (struct mvx_event) {
		.type = MVX_EV_EXTINT, .vector = ev.interrupt.nr,
	};
	if (ev.flags & MVX_VCPUEVENT_VALID_SHADOW)
		mvx_ops->set_interrupt_shadow(vcpu, ev.interrupt.shadow);
	e->nmi_injected = ev.nmi.injected;
	mvx_ops->set_nmi_mask(vcpu, ev.nmi.masked);
	if (ev.flags & MVX_VCPUEVENT_VALID_NMI_PENDING) {
		e->nmi_pending = 0;
		add_pending_nmis(vcpu, ev.nmi.pending);
	}
	e->triple_fault = false;
	return 0;
}

/*
 * GET/SET_SREGS carry an injected external interrupt as one bit of
 * interrupt_bitmap (an older form of the same information).
 */
void mvx_events_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *s)
{
	struct mvx_event_state *e = &vcpu->events;
	u8 v = e->interrupt.vector;

	if (e->interrupt_queued && e->interrupt.type == MVX_EV_EXTINT)
		s->interrupt_bitmap[v / 64] |= 1ULL << (v % 64);
}

void mvx_events_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *s)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(s->interrupt_bitmap); i++) {
		if (!s->interrupt_bitmap[i])
			continue;
		vcpu->events.interrupt = (struct mvx_event) {
			.type = MVX_EV_EXTINT,
			.vector = i * 64 + __ffs64(s->interrupt_bitmap[i]),
		};
		vcpu->events.interrupt_queued = true;
		return;
	}
}

int mvx_vcpu_get_mp_state(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_mp_state mp = { .mp_state = vcpu->events.mp_state };

	return copy_to_user(argp, &mp, sizeof(mp)) ? -EFAULT : 0;
}

/*
 * Without an in-kernel APIC there is no INIT or SIPI to wait for, so the
 * other states KVM knows are refused, as KVM refuses them then.  KVM also
 * refuses HALTED there; minivmx takes it (see mvx_events_before_run).
 */
int mvx_vcpu_set_mp_state(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_mp_state mp;

	if (copy_from_user(&mp, argp, sizeof(mp)))
		return -EFAULT;
	if (mp.mp_state != MVX_MP_STATE_RUNNABLE &&
	    mp.mp_state != MVX_MP_STATE_HALTED) {
		pr_info_ratelimited("vcpu %u: MP state %u needs an in-kernel APIC\n",
				    vcpu->id, mp.mp_state);
		return -EINVAL;
	}
	vcpu->events.mp_state = mp.mp_state;
	return 0;
}

/*
 * MVX_SET_SIGNAL_MASK: the signals blocked while the thread is in
 * MVX_RUN; a NULL argument goes back to the thread's own mask.
 */
int mvx_vcpu_set_signal_mask(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_signal_mask hdr;
	sigset_t set;

	if (!argp) {
		vcpu->sigset_active = false;
		return 0;
	}
	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	if (hdr.len != sizeof(sigset_t))
		return -EINVAL;
	if (copy_from_user(&set, argp + sizeof(hdr), sizeof(set)))
		return -EFAULT;
	sigdelsetmask(&set, sigmask(SIGKILL) | sigmask(SIGSTOP));
	vcpu->sigset = set;
	vcpu->sigset_active = true;
	return 0;
}

void mvx_events_reset(struct mvx_vcpu *vcpu)
{
	memset(&vcpu->events, 0, sizeof(vcpu->events));
	vcpu->events.mp_state = MVX_MP_STATE_RUNNABLE;
}
