// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU file descriptors: register access, the run page, and the run loop
 * that enters the guest through the backend until an exit needs userspace.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/context_tracking.h>
#include <linux/file.h>
#include <linux/ftrace.h>
#include <linux/mm.h>
#include <linux/sched/signal.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/vtime.h>
#include <asm/fpu/api.h>
#include <asm/fpu/xcr.h>
#include <asm/special_insns.h>
#include "core.h"
#include "trace.h"

/* Offsets in the XSAVE/FXSAVE image (SDM Vol. 1, 10.5.1 and 13.4). */
#define FXSAVE_FCW		0
#define FXSAVE_FSW		2
#define FXSAVE_FTW		4
#define FXSAVE_FOP		6
#define FXSAVE_FIP		8
#define FXSAVE_FDP		16
#define FXSAVE_MXCSR		24
#define FXSAVE_MXCSR_MASK	28
#define FXSAVE_ST		32
#define FXSAVE_XMM		160
#define XSAVE_HDR_BV		512
#define XSTATE_FP_SSE		0x3ULL

static u64 host_xcr0;
static bool host_pkru;		/* the kernel runs with CR4.PKE */
static unsigned int xsave_size = 512;
static u32 mxcsr_mask = 0xffbf;

/* Called once at module load: what the host's FPU save area looks like. */
void mvx_fpu_setup(void)
{
	unsigned int eax, ebx, ecx, edx;

	if (boot_cpu_has(X86_FEATURE_OSXSAVE)) {
		host_xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
		cpuid_count(0xd, 0, &eax, &ebx, &ecx, &edx);
		xsave_size = max(ebx, 576U);
	}
	host_pkru = boot_cpu_has(X86_FEATURE_OSPKE);
}

u64 mvx_host_xcr0(void)
{
	return host_xcr0;
}

static void xsave_to(void *buf, u64 mask)
{
	if (host_xcr0)
		asm volatile("xsave64 (%0)" : : "D" (buf), "a" ((u32)mask),
			     "d" ((u32)(mask >> 32)) : "memory");
	else
		asm volatile("fxsave64 (%0)" : : "D" (buf) : "memory");
}

static void xrstor_from(void *buf, u64 mask)
{
	if (host_xcr0)
		asm volatile("xrstor64 (%0)" : : "D" (buf), "a" ((u32)mask),
			     "d" ((u32)(mask >> 32)) : "memory");
	else
		asm volatile("fxrstor64 (%0)" : : "D" (buf) : "memory");
}

/*
 * The components the guest can reach: those its XCR0 enables, plus SSE
 * (usable with CR4.OSFXSR whatever XCR0 says).  The others stay as the
 * host left them, out of the guest's sight, and cost no save or restore.
 * PKRU is not among them: it guards the VMM's user memory, so it is
 * switched around each entry instead (pkru_to_guest, pkru_to_host).
 */
static u64 guest_fpu_mask(struct mvx_vcpu *vcpu)
{
	return host_xcr0 & ~XFEATURE_MASK_PKRU &
	       (vcpu->xcr0 | XFEATURE_MASK_FPSSE);
}

static void guest_fpu_load(struct mvx_vcpu *vcpu)
{
	xrstor_from(vcpu->xsave, guest_fpu_mask(vcpu));
	if (host_xcr0 && vcpu->xcr0 != host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, vcpu->xcr0);
}

static void guest_fpu_save(struct mvx_vcpu *vcpu)
{
	if (host_xcr0 && mvx_quirk(MVX_QUIRK_XCR0_READBACK))
		vcpu->xcr0 = xgetbv(XCR_XFEATURE_ENABLED_MASK);
	if (host_xcr0 && vcpu->xcr0 != host_xcr0)
		xsetbv(XCR_XFEATURE_ENABLED_MASK, host_xcr0);
	xsave_to(vcpu->xsave, guest_fpu_mask(vcpu));
}

static void guest_fpu_reset(struct mvx_vcpu *vcpu)
{
	u8 *x = vcpu->xsave;

	memset(x, 0, xsave_size);
	*(u16 *)(x + FXSAVE_FCW) = 0x37f;
	*(u32 *)(x + FXSAVE_MXCSR) = 0x1f80;
	if (host_xcr0)
		*(u64 *)(x + XSAVE_HDR_BV) = XSTATE_FP_SSE;
	vcpu->xcr0 = XFEATURE_MASK_FP;
	vcpu->pkru = 0;
}

static void vcpu_get_fpu(struct mvx_vcpu *vcpu, struct mvx_fpu *fpu)
{
	const u8 *x = vcpu->xsave;

	memset(fpu, 0, sizeof(*fpu));
	memcpy(fpu->fpr, x + FXSAVE_ST, sizeof(fpu->fpr));
	fpu->fcw = *(const u16 *)(x + FXSAVE_FCW);
	fpu->fsw = *(const u16 *)(x + FXSAVE_FSW);
	fpu->ftwx = *(x + FXSAVE_FTW);
	fpu->last_opcode = *(const u16 *)(x + FXSAVE_FOP);
	fpu->last_ip = *(const u64 *)(x + FXSAVE_FIP);
	fpu->last_dp = *(const u64 *)(x + FXSAVE_FDP);
	memcpy(fpu->xmm, x + FXSAVE_XMM, sizeof(fpu->xmm));
	fpu->mxcsr = *(const u32 *)(x + FXSAVE_MXCSR);
}

static int vcpu_set_fpu(struct mvx_vcpu *vcpu, const struct mvx_fpu *fpu)
{
	u8 *x = vcpu->xsave;

	/* XRSTOR would fault on reserved MXCSR bits. */
	if (fpu->mxcsr & ~mxcsr_mask)
		return -EINVAL;
	memcpy(x + FXSAVE_ST, fpu->fpr, sizeof(fpu->fpr));
	*(u16 *)(x + FXSAVE_FCW) = fpu->fcw;
	*(u16 *)(x + FXSAVE_FSW) = fpu->fsw;
	*(x + FXSAVE_FTW) = fpu->ftwx;
	*(u16 *)(x + FXSAVE_FOP) = fpu->last_opcode;
	*(u64 *)(x + FXSAVE_FIP) = fpu->last_ip;
	*(u64 *)(x + FXSAVE_FDP) = fpu->last_dp;
	memcpy(x + FXSAVE_XMM, fpu->xmm, sizeof(fpu->xmm));
	*(u32 *)(x + FXSAVE_MXCSR) = fpu->mxcsr;
	if (host_xcr0)
		*(u64 *)(x + XSAVE_HDR_BV) |= XSTATE_FP_SSE;
	return 0;
}

static void vcpu_sched_in(struct preempt_notifier *pn, int cpu)
{
	mvx_ops->vcpu_load(container_of(pn, struct mvx_vcpu, pn), cpu);
}

static void vcpu_sched_out(struct preempt_notifier *pn,
			   struct task_struct *next)
{
	mvx_ops->vcpu_put(container_of(pn, struct mvx_vcpu, pn));
}

static struct preempt_ops vcpu_preempt_ops = {
	.sched_in = vcpu_sched_in,
	.sched_out = vcpu_sched_out,
};

/* Make the vCPU's VMCS/VMCB current here and follow the thread's moves. */
static void vcpu_load(struct mvx_vcpu *vcpu)
{
	int cpu = get_cpu();

	preempt_notifier_register(&vcpu->pn);
	mvx_ops->vcpu_load(vcpu, cpu);
	put_cpu();
}

static void vcpu_put(struct mvx_vcpu *vcpu)
{
	preempt_disable();
	mvx_ops->vcpu_put(vcpu);
	preempt_notifier_unregister(&vcpu->pn);
	preempt_enable();
}

/* Stale second-level translations may be cached on a CPU we come back to. */
static void flush_if_needed(struct mvx_vcpu *vcpu, int cpu)
{
	unsigned long gen = READ_ONCE(vcpu->vm->mmu_gen);

	if (vcpu->last_cpu == cpu && vcpu->mmu_gen == gen)
		return;
	mvx_ops->flush_tlb(vcpu);
	vcpu->last_cpu = cpu;
	vcpu->mmu_gen = gen;
}

/* Anything that must see the vCPU between two entries. */
static bool vcpu_must_leave(struct mvx_vcpu *vcpu)
{
	return signal_pending(current) || need_resched() ||
	       rwsem_is_contended(&vcpu->vm->slots_sem);
}

/*
 * PKRU applies to every access to user pages, the kernel's copy_to_user()
 * and the VMM's own code included: the guest's value is in the register
 * only from right before an entry to right after the exit.
 */
static void pkru_to_guest(struct mvx_vcpu *vcpu, u32 host)
{
	if (host_pkru && vcpu->pkru != host)
		wrpkru(vcpu->pkru);
}

static void pkru_to_host(struct mvx_vcpu *vcpu, u32 host)
{
	if (!host_pkru)
		return;
	vcpu->pkru = rdpkru();
	if (vcpu->pkru != host)
		wrpkru(host);
}

/*
 * For RCU and context tracking, entering the guest is what returning to
 * user mode is: with context tracking on for this CPU (nohz_full), RCU
 * stops watching it until the exit; otherwise the entry is a quiescent
 * state, so a guest that keeps the CPU holds up no grace period.  The
 * guest runs with interrupts on, which is what lockdep and the irq-flag
 * tracer are told.
 */
static __always_inline void guest_context_enter(void)
{
	trace_hardirqs_on_prepare();
	lockdep_hardirqs_on_prepare();
	if (!context_tracking_guest_enter())
		rcu_note_context_switch(false);
	lockdep_hardirqs_on(CALLER_ADDR0);
}

static __always_inline void guest_context_exit(void)
{
	lockdep_hardirqs_off(CALLER_ADDR0);
	context_tracking_guest_exit();
	trace_hardirqs_off_finish();
}

/*
 * Interrupts that ended the guest's stay are taken here.  STI holds them
 * off for one more instruction, so one sits between STI and CLI.
 */
static void vcpu_take_interrupts(void)
{
	local_irq_enable();
	asm volatile("nop");
	local_irq_disable();
}

/*
 * Run the guest until an exit that handle_exit() must see (returns true),
 * or until the vCPU must leave after exits it finished with interrupts off
 * (false).  The guest FPU stays loaded across those fast exits.
 *
 * For the rest of the kernel this is what running user code is: the
 * task's time counts as guest time (PF_VCPU, set until the ticks that
 * arrived in the guest have been taken), and each entry is an RCU
 * quiescent state, or with context tracking on (nohz_full) an extended
 * one that lasts until the exit.
 */
static bool vcpu_enter_guest(struct mvx_vcpu *vcpu)
{
	u32 host_pkru_val = 0;
	bool pending;

	preempt_disable();
	kernel_fpu_begin_mask(0);
	local_irq_disable();
	/*
	 * Before flush_if_needed() reads mmu_gen: an invalidation of guest
	 * memory either sees this CPU here and waits for us to leave the
	 * guest, or we see its new generation (mmu.c).
	 */
	cpumask_set_cpu(smp_processor_id(), vcpu->vm->cpus_in_guest);
	/* Pairs with the one between mmu_gen and the mask in mmu.c. */
	smp_mb__after_atomic();
	if (host_pkru)
		host_pkru_val = rdpkru();
	guest_fpu_load(vcpu);
	vtime_account_guest_enter();
	for (;;) {
		flush_if_needed(vcpu, smp_processor_id());
		mvx_inject_events(vcpu);
		trace_minivmx_entry(vcpu);
		pkru_to_guest(vcpu, host_pkru_val);
		guest_context_enter();
		mvx_ops->vcpu_enter(vcpu);
		guest_context_exit();
		pkru_to_host(vcpu, host_pkru_val);
		trace_minivmx_exit(vcpu);
		vcpu->exits++;
		pending = !mvx_ops->handle_exit_irqoff(vcpu);
		if (pending)
			break;
		/*
		 * Host interrupts normally end the guest's stay with an exit
		 * of their own, but not on every CPU (Bochs holds them while
		 * the guest has IF=0): let them in between fast exits.  The
		 * kernel-FPU section keeps their handlers off the FPU.
		 */
		vcpu_take_interrupts();
		if (vcpu_must_leave(vcpu))
			break;
	}
	guest_fpu_save(vcpu);
	cpumask_clear_cpu(smp_processor_id(), vcpu->vm->cpus_in_guest);
	vcpu_take_interrupts();
	vtime_account_guest_exit();
	local_irq_enable();
	kernel_fpu_end();
	preempt_enable();
	return pending;
}

/*
 * The exit userspace has just served is finished first, so that RUN with
 * immediate_exit set flushes it into the registers.
 */
static int vcpu_run_start(struct mvx_vcpu *vcpu)
{
	int ret = mvx_complete_pending(vcpu);

	if (ret > 0 && READ_ONCE(vcpu->run->immediate_exit)) {
		vcpu->run->exit_reason = MVX_EXIT_INTR;
		return -EINTR;
	}
	if (ret > 0 && !mvx_events_before_run(vcpu))
		return 0;
	return ret;
}

static int vcpu_run_loop(struct mvx_vcpu *vcpu)
{
	struct mvx_run *run = vcpu->run;
	struct mvx_vm *vm = vcpu->vm;
	int ret;

	down_read(&vm->slots_sem);
	ret = vcpu_run_start(vcpu);
	while (ret > 0) {
		if (mvx_triple_fault(vcpu)) {
			ret = mvx_exit_shutdown(vcpu);
			break;
		}
		if (signal_pending(current)) {
			run->exit_reason = MVX_EXIT_INTR;
			ret = -EINTR;
			break;
		}
		/* Let the scheduler and slot updates in between entries. */
		if (vcpu_must_leave(vcpu)) {
			up_read(&vm->slots_sem);
			cond_resched();
			down_read(&vm->slots_sem);
		}
		if (!vcpu_enter_guest(vcpu))
			continue;
		ret = mvx_ops->handle_exit(vcpu);
		if (ret > 0 && mvx_irq_window_open(vcpu))
			ret = 0;
	}
	up_read(&vm->slots_sem);
	return ret;
}

static int vcpu_run(struct mvx_vcpu *vcpu)
{
	sigset_t saved;
	int ret;

	if (!mvx_hw_usable())
		return -EIO;
	ret = mvx_events_load_cr8(vcpu);
	if (ret)
		return ret;
	if (vcpu->sigset_active)
		sigprocmask(SIG_SETMASK, &vcpu->sigset, &saved);
	ret = vcpu_run_loop(vcpu);
	if (vcpu->sigset_active)
		sigprocmask(SIG_SETMASK, &saved, NULL);
	mvx_events_after_run(vcpu);
	trace_minivmx_userspace_exit(vcpu->run->exit_reason, ret);
	return ret;
}

static void vcpu_get_regs(struct mvx_vcpu *vcpu, struct mvx_regs *r)
{
	const u64 *g = vcpu->gprs;

	*r = (struct mvx_regs) {
		.rax = g[MVX_RAX], .rbx = g[MVX_RBX], .rcx = g[MVX_RCX],
		.rdx = g[MVX_RDX], .rsi = g[MVX_RSI], .rdi = g[MVX_RDI],
		.rsp = g[MVX_RSP], .rbp = g[MVX_RBP],
		.r8 = g[MVX_R8], .r9 = g[MVX_R9], .r10 = g[MVX_R10],
		.r11 = g[MVX_R11], .r12 = g[MVX_R12], .r13 = g[MVX_R13],
		.r14 = g[MVX_R14], .r15 = g[MVX_R15],
		.rip = vcpu->rip, .rflags = vcpu->rflags,
	};
}

/*
 * Where the guest's next instruction is, as the CPU sees it: a pending
 * completion belongs to the instruction there and to no other.
 */
static u64 vcpu_linear_rip(struct mvx_vcpu *vcpu)
{
	struct mvx_cpu_mode mode;

	mvx_ops->get_mode(vcpu, &mode);
	if (mode.cs_l && (mode.efer & EFER_LMA))
		return vcpu->rip;
	return (u32)(mode.seg_base[MVX_CS] + vcpu->rip);
}

/*
 * A VMM that puts the vCPU somewhere else (a reset, a jump) after an exit
 * to userspace has abandoned that instruction: finishing it would advance
 * RIP from the old place.  Rewriting the same RIP keeps it, as on KVM.
 */
static void drop_completion(struct mvx_vcpu *vcpu)
{
	vcpu->pending.what = MVX_PENDING_NONE;
}

static void vcpu_set_regs(struct mvx_vcpu *vcpu, const struct mvx_regs *r)
{
	u64 *g = vcpu->gprs;

	if (r->rip != vcpu->rip)
		drop_completion(vcpu);

	g[MVX_RAX] = r->rax; g[MVX_RBX] = r->rbx; g[MVX_RCX] = r->rcx;
	g[MVX_RDX] = r->rdx; g[MVX_RSI] = r->rsi; g[MVX_RDI] = r->rdi;
	g[MVX_RSP] = r->rsp; g[MVX_RBP] = r->rbp;
	g[MVX_R8] = r->r8; g[MVX_R9] = r->r9; g[MVX_R10] = r->r10;
	g[MVX_R11] = r->r11; g[MVX_R12] = r->r12; g[MVX_R13] = r->r13;
	g[MVX_R14] = r->r14; g[MVX_R15] = r->r15;
	vcpu->rip = r->rip;
	/* Bit 1 of RFLAGS is reserved and always set. */
	vcpu->rflags = r->rflags | 0x2;
}

static void vcpu_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *s)
{
	memset(s, 0, sizeof(*s));
	mvx_ops->get_sregs(vcpu, s);
	s->apic_base = vcpu->msrs.apic_base;
	mvx_events_get_sregs(vcpu, s);
}

static int vcpu_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *s)
{
	bool pending = vcpu->pending.what != MVX_PENDING_NONE;
	u64 lip = pending ? vcpu_linear_rip(vcpu) : 0;
	int ret = mvx_check_sregs(s);

	if (!ret)
		ret = mvx_ops->set_sregs(vcpu, s);
	if (ret)
		return ret;
	vcpu->msrs.apic_base = s->apic_base;
	mvx_events_set_sregs(vcpu, s);
	if (pending && vcpu_linear_rip(vcpu) != lip)
		drop_completion(vcpu);
	return 0;
}

/*
 * The register ioctls: the argument is copied whole, then handed to the
 * accessor; a SET either applies all of it or (for an invalid value)
 * none.  The structs live on the stack: struct mvx_sregs is 312 bytes.
 */
static int ioctl_get_regs(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_regs regs;

	vcpu_get_regs(vcpu, &regs);
	return copy_to_user(argp, &regs, sizeof(regs)) ? -EFAULT : 0;
}

static int ioctl_set_regs(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_regs regs;

	if (copy_from_user(&regs, argp, sizeof(regs)))
		return -EFAULT;
	vcpu_set_regs(vcpu, &regs);
	return 0;
}

static int ioctl_get_sregs(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_sregs sregs;

	vcpu_get_sregs(vcpu, &sregs);
	return copy_to_user(argp, &sregs, sizeof(sregs)) ? -EFAULT : 0;
}

static int ioctl_set_sregs(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_sregs sregs;

	if (copy_from_user(&sregs, argp, sizeof(sregs)))
		return -EFAULT;
	return vcpu_set_sregs(vcpu, &sregs);
}

static int ioctl_get_fpu(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_fpu fpu;

	vcpu_get_fpu(vcpu, &fpu);
	return copy_to_user(argp, &fpu, sizeof(fpu)) ? -EFAULT : 0;
}

static int ioctl_set_fpu(struct mvx_vcpu *vcpu, void __user *argp)
{
	struct mvx_fpu fpu;

	if (copy_from_user(&fpu, argp, sizeof(fpu)))
		return -EFAULT;
	return vcpu_set_fpu(vcpu, &fpu);
}

static long vcpu_dispatch(struct mvx_vcpu *vcpu, unsigned int cmd,
			  void __user *argp)
{
	switch (cmd) {
	case MVX_RUN:
		return vcpu_run(vcpu);
	case MVX_GET_REGS:
		return ioctl_get_regs(vcpu, argp);
	case MVX_SET_REGS:
		return ioctl_set_regs(vcpu, argp);
	case MVX_GET_SREGS:
		return ioctl_get_sregs(vcpu, argp);
	case MVX_SET_SREGS:
		return ioctl_set_sregs(vcpu, argp);
	case MVX_GET_FPU:
		return ioctl_get_fpu(vcpu, argp);
	case MVX_SET_FPU:
		return ioctl_set_fpu(vcpu, argp);
	case MVX_GET_MSRS:
		return mvx_vcpu_get_msrs(vcpu, argp);
	case MVX_SET_MSRS:
		return mvx_vcpu_set_msrs(vcpu, argp);
	case MVX_SET_CPUID2:
		return mvx_set_cpuid2(vcpu, argp);
	case MVX_INTERRUPT:
		return mvx_vcpu_interrupt(vcpu, argp);
	case MVX_NMI:
		return mvx_vcpu_nmi(vcpu);
	case MVX_GET_VCPU_EVENTS:
		return mvx_vcpu_get_events(vcpu, argp);
	case MVX_SET_VCPU_EVENTS:
		return mvx_vcpu_set_events(vcpu, argp);
	case MVX_GET_MP_STATE:
		return mvx_vcpu_get_mp_state(vcpu, argp);
	case MVX_SET_MP_STATE:
		return mvx_vcpu_set_mp_state(vcpu, argp);
	case MVX_SET_SIGNAL_MASK:
		return mvx_vcpu_set_signal_mask(vcpu, argp);
	case MVX_X86_SETUP_MCE:
		return mvx_mce_setup(vcpu, argp);
	default:
		return -ENOTTY;
	}
}

static long mvx_vcpu_ioctl(struct file *filp, unsigned int cmd,
			   unsigned long arg)
{
	struct mvx_vcpu *vcpu = filp->private_data;
	long ret;

	if (vcpu->vm->mm != current->mm)
		return -EIO;
	if (mutex_lock_killable(&vcpu->mutex))
		return -EINTR;
	vcpu_load(vcpu);
	ret = vcpu_dispatch(vcpu, cmd, (void __user *)arg);
	vcpu_put(vcpu);
	mutex_unlock(&vcpu->mutex);
	return ret;
}

static vm_fault_t mvx_vcpu_fault(struct vm_fault *vmf)
{
	struct mvx_vcpu *vcpu = vmf->vma->vm_file->private_data;
	struct page *page;

	if (vmf->pgoff == 0)
		page = vcpu->run_page;
	else if (vmf->pgoff == MVX_PIO_PAGE_OFFSET)
		page = vcpu->pio_page;
	else
		return VM_FAULT_SIGBUS;
	get_page(page);
	vmf->page = page;
	return 0;
}

static const struct vm_operations_struct mvx_vcpu_vm_ops = {
	.fault = mvx_vcpu_fault,
};

static int mvx_vcpu_mmap(struct file *filp, struct vm_area_struct *vma)
{
	if (vma->vm_pgoff + vma_pages(vma) > MVX_RUN_PAGES ||
	    vma_pages(vma) > MVX_RUN_PAGES)
		return -EINVAL;
	vma->vm_ops = &mvx_vcpu_vm_ops;
	return 0;
}

static int mvx_vcpu_release(struct inode *inode, struct file *filp)
{
	struct mvx_vcpu *vcpu = filp->private_data;

	mvx_vm_put(vcpu->vm);
	return 0;
}

static const struct file_operations mvx_vcpu_fops = {
	.owner = THIS_MODULE,
	.release = mvx_vcpu_release,
	.unlocked_ioctl = mvx_vcpu_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.mmap = mvx_vcpu_mmap,
	.llseek = noop_llseek,
};

static void vcpu_reset_core(struct mvx_vcpu *vcpu)
{
	memset(vcpu->gprs, 0, sizeof(vcpu->gprs));
	/* Family/model/stepping in EDX after RESET, as KVM reports it. */
	vcpu->gprs[MVX_RDX] = 0x600;
	vcpu->rip = 0xfff0;
	vcpu->rflags = 0x2;
	vcpu->cpu = -1;
	vcpu->last_cpu = -1;
	guest_fpu_reset(vcpu);
	mvx_msrs_reset(vcpu);
	mvx_events_reset(vcpu);
}

static struct mvx_vcpu *vcpu_alloc(struct mvx_vm *vm, unsigned int id)
{
	struct mvx_vcpu *vcpu;

	vcpu = kzalloc(mvx_ops->vcpu_size, GFP_KERNEL_ACCOUNT);
	if (!vcpu)
		return NULL;
	vcpu->vm = vm;
	vcpu->id = id;
	mutex_init(&vcpu->mutex);
	preempt_notifier_init(&vcpu->pn, &vcpu_preempt_ops);

	vcpu->run_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	vcpu->pio_page = alloc_page(GFP_KERNEL_ACCOUNT | __GFP_ZERO);
	vcpu->xsave = (void *)__get_free_pages(GFP_KERNEL_ACCOUNT | __GFP_ZERO,
					       get_order(xsave_size));
	if (!vcpu->run_page || !vcpu->pio_page || !vcpu->xsave)
		goto err;
	vcpu->run = page_address(vcpu->run_page);
	vcpu->pio_data = page_address(vcpu->pio_page);
	vcpu_reset_core(vcpu);
	if (mvx_cpuid_init(vcpu))
		goto err;
	return vcpu;
err:
	mvx_vcpu_free_core(vcpu);
	return NULL;
}

/* Frees what vcpu_alloc() allocated; the backend part is already gone. */
void mvx_vcpu_free_core(struct mvx_vcpu *vcpu)
{
	kfree(vcpu->cpuid);
	if (vcpu->xsave)
		free_pages((unsigned long)vcpu->xsave, get_order(xsave_size));
	if (vcpu->pio_page)
		__free_page(vcpu->pio_page);
	if (vcpu->run_page)
		__free_page(vcpu->run_page);
	kfree(vcpu);
}

void mvx_vcpu_free(struct mvx_vcpu *vcpu)
{
	mvx_ops->vcpu_destroy(vcpu);
	mvx_vcpu_free_core(vcpu);
}

int mvx_vcpu_create(struct mvx_vm *vm, unsigned long id)
{
	struct mvx_vcpu *vcpu;
	char name[24];
	int ret;

	if (id >= mvx_max_vcpus)
		return -EINVAL;

	mutex_lock(&vm->lock);
	if (vm->vcpus[id]) {
		ret = -EEXIST;
		goto out;
	}
	vcpu = vcpu_alloc(vm, id);
	if (!vcpu) {
		ret = -ENOMEM;
		goto out;
	}
	ret = mvx_ops->vcpu_init(vcpu);
	if (ret) {
		mvx_vcpu_free_core(vcpu);
		goto out;
	}

	mvx_vm_get(vm);
	snprintf(name, sizeof(name), "minivmx-vcpu:%lu", id);
	ret = anon_inode_getfd(name, &mvx_vcpu_fops, vcpu, O_RDWR | O_CLOEXEC);
	if (ret < 0) {
		mvx_vcpu_free(vcpu);
		/* Not the last reference: the VM fd is in use right now. */
		refcount_dec(&vm->refs);
		goto out;
	}
	vm->vcpus[id] = vcpu;
	vm->nr_vcpus++;
out:
	mutex_unlock(&vm->lock);
	return ret;
}
