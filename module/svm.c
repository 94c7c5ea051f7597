// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx SVM backend: AMD-V with nested paging (AMD APM Vol. 2, chapter 15).
 *
 * Per CPU: EFER.SVME, the VMRUN host save area (VM_HSAVE_PA) and a page
 * for VMSAVE/VMLOAD of the host state VMRUN does not switch, plus an ASID
 * allocator.  Per vCPU: one VMCB.  Every port and every MSR access exits
 * (all-ones permission maps shared by all VMCBs); the core handles them.
 * The exit handlers live in svm_exits.c, the entry code in svm_enter.S.
 */
#define pr_fmt(fmt) "minivmx: svm: " fmt

#include <linux/kernel.h>
#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/mm.h>
#include <linux/gfp.h>
#include <linux/percpu.h>
#include <linux/smp.h>
#include <linux/mutex.h>
#include <linux/io.h>
#include <asm/msr.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include <asm/cpufeature.h>
#include <asm/debugreg.h>
#include <asm/pgtable.h>
#include "svm.h"

static bool dump_invalid_vmcb;
module_param(dump_invalid_vmcb, bool, 0644);
MODULE_PARM_DESC(dump_invalid_vmcb,
		 "SVM: dump the VMCB to dmesg when VMRUN refuses the guest state");

/* The offsets the hardware defines (APM Appendix B). */
static_assert(sizeof(struct svm_vmcb_control) == 0x400);
static_assert(offsetof(struct svm_vmcb, control.exit_code) == 0x070);
static_assert(offsetof(struct svm_vmcb, control.event_inj) == 0x0a8);
static_assert(offsetof(struct svm_vmcb, control.next_rip) == 0x0c8);
static_assert(offsetof(struct svm_vmcb, save.tr) == 0x490);
static_assert(offsetof(struct svm_vmcb, save.cpl) == 0x4cb);
static_assert(offsetof(struct svm_vmcb, save.efer) == 0x4d0);
static_assert(offsetof(struct svm_vmcb, save.cr4) == 0x548);
static_assert(offsetof(struct svm_vmcb, save.rip) == 0x578);
static_assert(offsetof(struct svm_vmcb, save.rsp) == 0x5d8);
static_assert(offsetof(struct svm_vmcb, save.rax) == 0x5f8);
static_assert(offsetof(struct svm_vmcb, save.cr2) == 0x640);
static_assert(offsetof(struct svm_vmcb, save.g_pat) == 0x668);
static_assert(sizeof(struct svm_vmcb) <= PAGE_SIZE);

#define SVM_VM_CR_SVMDIS	BIT_ULL(4)
#define SVM_CPUID_NP		BIT(0)
#define SVM_CPUID_NRIPS		BIT(3)
#define SVM_CPUID_DECODE_ASSISTS BIT(7)

#define SVM_RESET_CR0		(X86_CR0_ET | X86_CR0_CD | X86_CR0_NW)
#define SVM_CR0_CACHE_BITS	(X86_CR0_CD | X86_CR0_NW)
#define SVM_RESET_DR7		0x400
#define SVM_DEBUGCTL_BITS	(DEBUGCTLMSR_LBR | DEBUGCTLMSR_BTF)

/* Nested page table entry bits: present, writable, user (all NPT walks are user). */
#define SVM_NPT_TABLE		0x7ULL

#define SVM_IOPM_ORDER		2	/* 12 KiB used */
#define SVM_MSRPM_ORDER		1	/* 8 KiB */

struct svm_caps svm_caps;
static bool svm_has_tsc_aux;		/* RDTSCP or RDPID read TSC_AUX */

struct svm_cpu {
	struct page *hsave;		/* VMRUN's host save area */
	struct page *host_vmcb;		/* VMSAVE/VMLOAD of host state */
	u64 asid_gen;
	u32 next_asid;
	u64 host_tsc_aux;		/* Linux keeps its CPU number here */
	bool enabled;
};

static DEFINE_PER_CPU(struct svm_cpu, svm_cpu);

/* All-ones I/O and MSR permission maps, shared while any vCPU exists. */
static DEFINE_MUTEX(svm_maps_lock);
static unsigned int svm_maps_users;
static struct page *svm_iopm, *svm_msrpm;

/*
 * CLGI and STGI raise #UD once EFER.SVME is clear, and SVM can be turned
 * off underneath a vCPU (our reboot notifier, the kernel's emergency
 * callback): the fault stops our VMs (mvx_hw_fault()), never an oops.
 */
static __always_inline bool svm_clgi(void)
{
	asm goto("1: clgi\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : : "memory" : fault);
	return true;
fault:
	mvx_hw_fault("clgi");
	return false;
}

static __always_inline void svm_stgi(void)
{
	asm goto("1: stgi\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : : "memory" : fault);
	return;
fault:
	mvx_hw_fault("stgi");
}

/* ---- probe and per-CPU enable ------------------------------------------ */

/*
 * CR4 bits a guest may set (by MOV, intercepted, or through SET_SREGS):
 * those the CPU itself accepts, from its CPUID rather than the kernel's
 * feature words (the kernel may not use PCID, say, but the guest may).
 * LA57 stays off: the guest page walker knows four levels only.
 */
static u64 svm_compute_cr4_allowed(void)
{
	u64 bits = X86_CR4_VME | X86_CR4_PVI | X86_CR4_TSD | X86_CR4_DE |
		   X86_CR4_PSE | X86_CR4_PAE | X86_CR4_MCE | X86_CR4_PGE |
		   X86_CR4_PCE | X86_CR4_OSFXSR | X86_CR4_OSXMMEXCPT;
	u32 ecx1 = cpuid_ecx(1), eax7 = 0, ebx7 = 0, ecx7 = 0, edx7 = 0;

	if (cpuid_eax(0) >= 7)
		cpuid_count(7, 0, &eax7, &ebx7, &ecx7, &edx7);
	if (ecx1 & BIT(17))
		bits |= X86_CR4_PCIDE;
	if ((ecx1 & BIT(26)) && boot_cpu_has(X86_FEATURE_OSXSAVE))
		bits |= X86_CR4_OSXSAVE;
	if (ebx7 & BIT(0))
		bits |= X86_CR4_FSGSBASE;
	if (ebx7 & BIT(7))
		bits |= X86_CR4_SMEP;
	if (ebx7 & BIT(20))
		bits |= X86_CR4_SMAP;
	if (ecx7 & BIT(2))
		bits |= X86_CR4_UMIP;
	/* PKRU is switched only where the host runs with CR4.PKE. */
	if ((ecx7 & BIT(3)) && boot_cpu_has(X86_FEATURE_OSPKE))
		bits |= X86_CR4_PKE;
	return bits;
}

static int svm_probe(void)
{
	u64 vm_cr;
	u32 edx;

	if (cpuid_eax(0x80000000) < 0x8000000a ||
	    !(cpuid_ecx(0x80000001) & BIT(2))) {
		pr_err("CPU has no AMD-V (SVM)\n");
		return -ENODEV;
	}
	if (!rdmsrl_safe(MSR_VM_CR, &vm_cr) && (vm_cr & SVM_VM_CR_SVMDIS)) {
		pr_err("SVM is disabled by the firmware (VM_CR.SVMDIS): enable virtualization in the BIOS setup\n");
		return -ENODEV;
	}
	edx = cpuid_edx(0x8000000a);
	if (!(edx & SVM_CPUID_NP)) {
		pr_err("CPU has SVM but no nested paging (NPT)\n");
		return -ENODEV;
	}
	svm_caps.max_asid = cpuid_ebx(0x8000000a) - 1;
	if (svm_caps.max_asid < 1 || svm_caps.max_asid > 0x7fffffff) {
		pr_err("CPU reports no usable ASIDs\n");
		return -ENODEV;
	}
	svm_caps.nrips = edx & SVM_CPUID_NRIPS;
	svm_caps.decode_assists = edx & SVM_CPUID_DECODE_ASSISTS;
	mvx_set_cr4_allowed(svm_compute_cr4_allowed());
	svm_has_tsc_aux = boot_cpu_has(X86_FEATURE_RDTSCP) ||
			  boot_cpu_has(X86_FEATURE_RDPID);
	pr_info("AMD-V with nested paging, %u ASIDs, NRIP save %s\n",
		svm_caps.max_asid, svm_caps.nrips ? "yes" : "no");
	return 0;
}

static void svm_free_cpu_pages(struct svm_cpu *c)
{
	if (c->hsave)
		__free_page(c->hsave);
	if (c->host_vmcb)
		__free_page(c->host_vmcb);
	c->hsave = NULL;
	c->host_vmcb = NULL;
}

/* Interrupts off (hw_enable_this_cpu()): see there why. */
static int svm_cpu_enable(void)
{
	struct svm_cpu *c = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (c->enabled)
		return 0;
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		pr_err("EFER.SVME is already set on CPU %d: another hypervisor (kvm_amd?) is using SVM\n",
		       smp_processor_id());
		return -EBUSY;
	}
	c->hsave = alloc_page(GFP_ATOMIC | __GFP_ZERO);
	c->host_vmcb = alloc_page(GFP_ATOMIC | __GFP_ZERO);
	if (!c->hsave || !c->host_vmcb) {
		svm_free_cpu_pages(c);
		pr_err("out of memory enabling SVM on CPU %d\n",
		       smp_processor_id());
		return -ENOMEM;
	}
	wrmsrl(MSR_EFER, efer | EFER_SVME);
	wrmsrl(MSR_VM_HSAVE_PA, page_to_phys(c->hsave));
	if (svm_has_tsc_aux)
		rdmsrl(MSR_TSC_AUX, c->host_tsc_aux);
	/*
	 * ASIDs used before (by us or another hypervisor) may still have TLB
	 * entries: start a new generation whose first assignment flushes.
	 */
	c->asid_gen++;
	c->next_asid = svm_caps.max_asid + 1;
	c->enabled = true;
	return 0;
}

/* Interrupts off (hw_disable_this_cpu()). */
static void svm_cpu_disable(void)
{
	struct svm_cpu *c = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (!c->enabled)
		return;
	wrmsrl(MSR_VM_HSAVE_PA, 0);
	rdmsrl(MSR_EFER, efer);
	wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	svm_free_cpu_pages(c);
	c->enabled = false;
}

/*
 * From the kernel's emergency callback, possibly in NMI.  GIF is set first:
 * a crash between CLGI and STGI would otherwise keep INIT and NMI blocked
 * in the next kernel.  The pages stay allocated: no freeing in NMI.
 */
static void svm_emergency_disable(void)
{
	struct svm_cpu *c = this_cpu_ptr(&svm_cpu);
	u64 efer;

	if (!READ_ONCE(c->enabled))
		return;
	rdmsrl(MSR_EFER, efer);
	if (efer & EFER_SVME) {
		svm_stgi();
		wrmsrl(MSR_VM_HSAVE_PA, 0);
		wrmsrl(MSR_EFER, efer & ~EFER_SVME);
	}
	WRITE_ONCE(c->enabled, false);
}

/* ---- permission maps --------------------------------------------------- */

static int svm_maps_get(void)
{
	int r = 0;

	mutex_lock(&svm_maps_lock);
	if (!svm_maps_users) {
		svm_iopm = alloc_pages(GFP_KERNEL, SVM_IOPM_ORDER);
		svm_msrpm = alloc_pages(GFP_KERNEL, SVM_MSRPM_ORDER);
		if (!svm_iopm || !svm_msrpm) {
			if (svm_iopm)
				__free_pages(svm_iopm, SVM_IOPM_ORDER);
			if (svm_msrpm)
				__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
			svm_iopm = NULL;
			svm_msrpm = NULL;
			r = -ENOMEM;
			goto out;
		}
		memset(page_address(svm_iopm), 0xff,
		       PAGE_SIZE << SVM_IOPM_ORDER);
		memset(page_address(svm_msrpm), 0xff,
		       PAGE_SIZE << SVM_MSRPM_ORDER);
	}
	svm_maps_users++;
out:
	mutex_unlock(&svm_maps_lock);
	return r;
}

static void svm_maps_put(void)
{
	mutex_lock(&svm_maps_lock);
	if (!--svm_maps_users) {
		__free_pages(svm_iopm, SVM_IOPM_ORDER);
		__free_pages(svm_msrpm, SVM_MSRPM_ORDER);
		svm_iopm = NULL;
		svm_msrpm = NULL;
	}
	mutex_unlock(&svm_maps_lock);
}

/* ---- VMCB set-up ------------------------------------------------------- */

static void svm_set_seg(struct svm_seg *s, u16 sel, u64 base, u32 limit,
			u16 attrib)
{
	s->sel = sel;
	s->base = base;
	s->limit = limit;
	s->attrib = attrib;
}

/*
 * Guest CR0.CD/NW would make the hardware run the guest uncached.  Like
 * KVM, run with them clear and keep what the guest was given in
 * cr0_hidden; the next guest write to CR0 (intercepted while bits are
 * hidden, see svm_arm_cr0_write_intercept()) drops the shadow.
 */
void svm_set_cr0(struct svm_vcpu *svm, u64 cr0)
{
	svm->cr0_hidden = cr0 & SVM_CR0_CACHE_BITS;
	svm->vmcb->save.cr0 = cr0 & ~SVM_CR0_CACHE_BITS;
}

static u64 svm_get_cr0(struct svm_vcpu *svm)
{
	return svm->vmcb->save.cr0 | svm->cr0_hidden;
}

/*
 * QEMU's TCG (7.2) cannot leave a guest that has EFER.LME set with CR0.PG
 * and CR4.PAE clear: #VMEXIT then refuses the host's CR0, and the host CPU
 * runs on with paging off and GIF clear, hung.  LME does nothing until
 * paging is turned on, so it stays out of the VMCB while CR0.PG = 0, and
 * svm_exit_cr0_write() switches paging on and off itself for such a guest.
 * Call after the VMCB's CR0 is final.
 */
void svm_write_efer(struct svm_vcpu *svm, u64 efer)
{
	struct svm_vmcb_save *save = &svm->vmcb->save;

	svm->lme_hidden = mvx_quirk(MVX_QUIRK_HIDE_LME) &&
			  (efer & EFER_LME) && !(save->cr0 & X86_CR0_PG);
	if (svm->lme_hidden)
		efer &= ~EFER_LME;
	save->efer = efer | EFER_SVME;	/* VMRUN requires it; the guest never sees it */
}

/* EFER as the guest and userspace see it. */
u64 svm_get_efer(struct svm_vcpu *svm)
{
	u64 efer = svm->vmcb->save.efer & ~EFER_SVME;

	return svm->lme_hidden ? efer | EFER_LME : efer;
}

/* Until the guest touches a debug register, DR0-3 stay the host's. */
static void svm_intercept_dr(struct svm_vcpu *svm)
{
	svm->guest_owns_dr = false;
	memset(svm->dr, 0, sizeof(svm->dr));
	svm->vmcb->control.dr_read = 0xff;
	svm->vmcb->control.dr_write = 0xff;
}

/* Intercepts and the other control-area fields, set once per vCPU. */
static void svm_init_controls(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;

	/* The core's list; vector n is bit n of the intercept vector. */
	ctl->exceptions = MVX_INTERCEPT_EXCEPTIONS;
	ctl->intercept1 = SVM_I1_INTR | SVM_I1_NMI | SVM_I1_SMI |
			  SVM_I1_RDPMC | SVM_I1_CPUID | SVM_I1_INVD |
			  SVM_I1_HLT | SVM_I1_INVLPGA | SVM_I1_IOIO |
			  SVM_I1_MSR | SVM_I1_SHUTDOWN;
	ctl->intercept2 = SVM_I2_VMRUN | SVM_I2_VMMCALL | SVM_I2_VMLOAD |
			  SVM_I2_VMSAVE | SVM_I2_STGI | SVM_I2_CLGI |
			  SVM_I2_SKINIT | SVM_I2_WBINVD |
			  SVM_I2_MONITOR | SVM_I2_MWAIT | SVM_I2_MWAIT_COND |
			  SVM_I2_XSETBV;
	/* CR4 writes are checked against what we offer (svm_exit_cr4_write). */
	ctl->cr_write = BIT(4);
	ctl->iopm_pa = page_to_phys(svm_iopm);
	ctl->msrpm_pa = page_to_phys(svm_msrpm);
	/* Guest CR8 and RFLAGS.IF act on virtual interrupts only. */
	ctl->int_ctl = SVM_INT_CTL_INTR_MASKING;
	ctl->np_ctl = SVM_NP_ENABLE;
	ctl->clean = 0;		/* we never tell the CPU it may cache VMCB state */
}

/* The architectural reset state, as KVM sets it after KVM_CREATE_VCPU. */
void svm_reset_guest_state(struct svm_vcpu *svm)
{
	struct svm_vmcb_save *save = &svm->vmcb->save;
	const u16 data = SVM_ATTR_P | SVM_ATTR_S | 0x3;

	memset(save, 0, sizeof(*save));
	svm_set_seg(&save->cs, 0xf000, 0xffff0000, 0xffff,
		    SVM_ATTR_P | SVM_ATTR_S | 0xb);
	svm_set_seg(&save->ds, 0, 0, 0xffff, data);
	svm_set_seg(&save->es, 0, 0, 0xffff, data);
	svm_set_seg(&save->fs, 0, 0, 0xffff, data);
	svm_set_seg(&save->gs, 0, 0, 0xffff, data);
	svm_set_seg(&save->ss, 0, 0, 0xffff, data);
	svm_set_seg(&save->ldtr, 0, 0, 0xffff, SVM_ATTR_P | 0x2);
	svm_set_seg(&save->tr, 0, 0, 0xffff, SVM_ATTR_P | 0xb);
	svm_set_seg(&save->gdtr, 0, 0, 0xffff, 0);
	svm_set_seg(&save->idtr, 0, 0, 0xffff, 0);
	svm_set_cr0(svm, SVM_RESET_CR0);
	svm_write_efer(svm, 0);
	save->dr6 = DR6_RESERVED;
	save->dr7 = SVM_RESET_DR7;
	save->g_pat = MVX_PAT_RESET;
	save->rflags = X86_EFLAGS_FIXED;
	save->rip = 0xfff0;
	svm->vmcb->control.int_ctl &= ~SVM_INT_CTL_TPR_MASK;
	svm->vmcb->control.event_inj = 0;
	svm_intercept_dr(svm);
	svm->asid_cpu = -1;		/* new state: no TLB entries of the old */
}

/* ---- vCPU lifetime ----------------------------------------------------- */

static void svm_free_vcpu_pages(struct svm_vcpu *svm)
{
	if (svm->vmcb)
		free_page((unsigned long)svm->vmcb);
	if (svm->npt_pml5)
		free_page((unsigned long)svm->npt_pml5);
	svm->vmcb = NULL;
	svm->npt_pml5 = NULL;
}

static int svm_vcpu_init(struct mvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	int r;

	r = svm_maps_get();
	if (r)
		return r;
	svm->vmcb = (struct svm_vmcb *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	/*
	 * Nested paging walks as many levels as the host's own paging: with
	 * LA57 on, put a fifth level above the core's 4-level table.
	 */
	if (pgtable_l5_enabled())
		svm->npt_pml5 = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!svm->vmcb || (pgtable_l5_enabled() && !svm->npt_pml5)) {
		svm_free_vcpu_pages(svm);
		svm_maps_put();
		return -ENOMEM;
	}
	svm->vmcb_pa = __pa(svm->vmcb);
	svm->asid_cpu = -1;
	svm_init_controls(svm);
	svm_reset_guest_state(svm);
	return 0;
}

static void svm_vcpu_destroy(struct mvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);

	if (!svm->vmcb)
		return;
	mvx_spec_vcpu_destroy(vcpu);
	svm_free_vcpu_pages(svm);
	svm_maps_put();
}

/*
 * VMSAVE/VMLOAD around every VMRUN move the host state; only the branch
 * predictors need a barrier when this CPU last ran another VM.
 */
static void svm_vcpu_load(struct mvx_vcpu *vcpu, int cpu)
{
	vcpu->cpu = cpu;
	mvx_spec_vcpu_load(vcpu, cpu);
}

static void svm_vcpu_put(struct mvx_vcpu *vcpu)
{
	vcpu->cpu = -1;
}

/* ---- guest entry ------------------------------------------------------- */

/*
 * ASIDs are handed out per CPU in generations: when a CPU runs out, it
 * starts a new generation with a flush of all ASIDs.  A vCPU keeps its ASID
 * while it stays on the CPU and generation it got it in; a fresh ASID has
 * no stale translations, which is also how flush_tlb() works.
 */
static void svm_assign_asid(struct svm_vcpu *svm, struct svm_cpu *c)
{
	int cpu = smp_processor_id();

	if (svm->asid_cpu == cpu && svm->asid_gen == c->asid_gen)
		return;
	if (c->next_asid > svm_caps.max_asid) {
		c->asid_gen++;
		c->next_asid = 1;
		svm->vmcb->control.tlb_control = SVM_TLB_FLUSH_ALL;
	}
	svm->asid = c->next_asid++;
	svm->asid_cpu = cpu;
	svm->asid_gen = c->asid_gen;
	svm->vmcb->control.asid = svm->asid;
}

static u64 svm_npt_root(struct svm_vcpu *svm)
{
	u64 root = mvx_mmu_root_pa(svm->vcpu.vm);

	if (!svm->npt_pml5)
		return root;
	/* Guest-physical addresses stay below 2^48: only entry 0 is used. */
	WRITE_ONCE(svm->npt_pml5[0], root | SVM_NPT_TABLE);
	return __pa(svm->npt_pml5);
}

/*
 * The one place the CR0-write intercept is set: guest CR0 writes exit to
 * svm_exit_cr0_write() while CD/NW are hidden, and while the guest has
 * EFER.LME set (paging switches are ours to do, and clearing PG from
 * 64-bit code must raise #GP where QEMU's TCG would leave long mode).
 */
static void svm_arm_cr0_write_intercept(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;

	if (svm->cr0_hidden || (svm_get_efer(svm) & EFER_LME))
		ctl->cr_write |= BIT(0);
	else
		ctl->cr_write &= ~BIT(0);
}

/* Guest state the core owns while we are outside the guest. */
static void svm_sync_to_vmcb(struct svm_vcpu *svm)
{
	struct mvx_vcpu *vcpu = &svm->vcpu;
	struct svm_vmcb *vmcb = svm->vmcb;

	/* An instruction we completed for the guest ends its STI/MOV SS shadow. */
	if (vmcb->save.rip != vcpu->rip)
		vmcb->control.int_state = 0;
	vmcb->save.rip = vcpu->rip;
	vmcb->save.rsp = vcpu->gprs[MVX_RSP];
	vmcb->save.rax = vcpu->gprs[MVX_RAX];
	vmcb->save.rflags = vcpu->rflags;
	vmcb->control.tsc_offset = vcpu->msrs.tsc_offset;
	vmcb->control.ncr3 = svm_npt_root(svm);
	svm_arm_cr0_write_intercept(svm);
}

static void svm_sync_from_vmcb(struct svm_vcpu *svm)
{
	struct mvx_vcpu *vcpu = &svm->vcpu;
	struct svm_vmcb *vmcb = svm->vmcb;

	vcpu->rip = vmcb->save.rip;
	vcpu->gprs[MVX_RSP] = vmcb->save.rsp;
	vcpu->gprs[MVX_RAX] = vmcb->save.rax;
	vcpu->rflags = vmcb->save.rflags;
}

/* DR0-3 are not in the VMCB: switch them once the guest has used them. */
static void svm_load_guest_dr(struct svm_vcpu *svm)
{
	/* No host breakpoint may fire on guest addresses meanwhile. */
	set_debugreg(0UL, 7);
	set_debugreg(svm->dr[0], 0);
	set_debugreg(svm->dr[1], 1);
	set_debugreg(svm->dr[2], 2);
	set_debugreg(svm->dr[3], 3);
}

/*
 * #VMEXIT disables the host's breakpoints in DR7 and leaves the guest's
 * DR6 (and DR0-3 if it owns them) in the hardware.
 */
static void svm_restore_host_dr(struct svm_vcpu *svm)
{
	if (svm->guest_owns_dr) {
		get_debugreg(svm->dr[0], 0);
		get_debugreg(svm->dr[1], 1);
		get_debugreg(svm->dr[2], 2);
		get_debugreg(svm->dr[3], 3);
	}
	if (hw_breakpoint_active())
		hw_breakpoint_restore();
	else if (svm->vmcb->save.dr6 != DR6_RESERVED)
		set_debugreg(DR6_RESERVED, 6);
}

static void svm_record_exit(struct svm_vcpu *svm)
{
	struct svm_vmcb_control *ctl = &svm->vmcb->control;
	struct svm_exit *e = &svm->exit;

	/*
	 * Only the low half counts: QEMU stores -1 (VMEXIT_INVALID) as a
	 * 32-bit value, the hardware as a 64-bit one; KVM reads 32 bits too.
	 */
	e->code = lower_32_bits(ctl->exit_code);
	e->info1 = ctl->exit_info1;
	e->info2 = ctl->exit_info2;
	e->int_info = ctl->exit_int_info;
	svm->vcpu.exit_in_delivery = e->int_info & SVM_EVT_VALID;
	ctl->tlb_control = 0;
	ctl->event_inj = 0;
	if (e->code == SVM_EXIT_INVALID || e->code == MVX_SVM_EXIT_LOST) {
		/* Nothing ran: the core's registers are still the truth. */
		e->rip = svm->vcpu.rip;
		return;
	}
	svm_sync_from_vmcb(svm);
	e->rip = svm->vcpu.rip;
	svm_complete_events(svm);
}

static void svm_vcpu_enter(struct mvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_cpu *c = this_cpu_ptr(&svm_cpu);
	bool tsc_aux;

	/* Interrupts are off: nothing turns SVM off on this CPU from here. */
	if (unlikely(!c->enabled || !mvx_hw_usable())) {
		svm->exit.code = MVX_SVM_EXIT_LOST;
		svm->exit.rip = vcpu->rip;
		return;
	}
	svm_assign_asid(svm, c);
	svm_sync_to_vmcb(svm);
	svm_nmi_singlestep_begin(svm);

	/*
	 * RDTSCP and RDPID read TSC_AUX in the guest, and RDPID cannot be
	 * intercepted: the guest's value goes into the MSR while we are in
	 * the guest (interrupts off, so no host code reads it meanwhile).
	 */
	tsc_aux = svm_has_tsc_aux &&
		  (u32)vcpu->msrs.tsc_aux != c->host_tsc_aux;
	if (tsc_aux)
		wrmsrl(MSR_TSC_AUX, (u32)vcpu->msrs.tsc_aux);

	/* Still there after mvx_svm_vmrun() if a fault skipped VMRUN. */
	svm->vmcb->control.exit_code = MVX_SVM_EXIT_LOST;
	if (svm_clgi()) {
		if (svm->guest_owns_dr)
			svm_load_guest_dr(svm);
		mvx_spec_ctrl_guest(vcpu);
		/*
		 * With V_INTR_MASKING the host's RFLAGS.IF at VMRUN decides
		 * whether physical interrupts reach us as #VMEXIT (APM
		 * "Physical (INTR) Interrupt Masking in EFLAGS"); GIF = 0
		 * holds them pending until STGI meanwhile.  Not STI right
		 * before VMRUN: its shadow would bleed into the guest's first
		 * instruction (AMD CPUs, and QEMU's TCG likewise), so an
		 * interrupt window would open one instruction late.
		 */
		raw_local_irq_enable();
		mvx_svm_vmrun(vcpu->gprs, svm->vmcb_pa,
			      page_to_phys(c->host_vmcb));
		raw_local_irq_disable();
		mvx_spec_ctrl_host(vcpu);
		mvx_spec_after_exit();
		svm_restore_host_dr(svm);
		svm_stgi();
	}

	/*
	 * A machine check in the guest exits (MVX_INTERCEPT_EXCEPTIONS) instead
	 * of reaching the guest's handler: hand it to the host's, still with
	 * interrupts off, as the CPU would have on the host.
	 */
	if (lower_32_bits(svm->vmcb->control.exit_code) ==
	    SVM_EXIT_EXCP_BASE + X86_TRAP_MC)
		asm volatile("int $0x12");

	if (tsc_aux)
		wrmsrl(MSR_TSC_AUX, c->host_tsc_aux);

	svm_record_exit(svm);
	if (svm->exit.code == MVX_SVM_EXIT_LOST)
		mvx_hw_fault("vmsave/vmload/vmrun");
}

/* ---- guest state for userspace ----------------------------------------- */

static void svm_seg_to_user(const struct svm_seg *s, struct mvx_segment *u)
{
	u->base = s->base;
	u->limit = s->limit;
	u->selector = s->sel;
	u->type = s->attrib & SVM_ATTR_TYPE;
	u->s = !!(s->attrib & SVM_ATTR_S);
	u->dpl = (s->attrib >> SVM_ATTR_DPL_SHIFT) & 3;
	u->present = !!(s->attrib & SVM_ATTR_P);
	u->avl = !!(s->attrib & SVM_ATTR_AVL);
	u->l = !!(s->attrib & SVM_ATTR_L);
	u->db = !!(s->attrib & SVM_ATTR_DB);
	u->g = !!(s->attrib & SVM_ATTR_G);
	/* The VMCB has no "unusable" bit: a segment without P is unusable. */
	u->unusable = !u->present;
	u->padding = 0;
}

static void svm_seg_from_user(struct svm_seg *s, const struct mvx_segment *u)
{
	s->base = u->base;
	s->limit = u->limit;
	s->sel = u->selector;
	s->attrib = (u->type & SVM_ATTR_TYPE) |
		    (u->s ? SVM_ATTR_S : 0) |
		    ((u->dpl & 3) << SVM_ATTR_DPL_SHIFT) |
		    (u->present && !u->unusable ? SVM_ATTR_P : 0) |
		    (u->avl ? SVM_ATTR_AVL : 0) |
		    (u->l ? SVM_ATTR_L : 0) |
		    (u->db ? SVM_ATTR_DB : 0) |
		    (u->g ? SVM_ATTR_G : 0);
}

static void svm_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb_save *save = &svm->vmcb->save;

	memset(sregs, 0, sizeof(*sregs));
	svm_seg_to_user(&save->cs, &sregs->cs);
	svm_seg_to_user(&save->ds, &sregs->ds);
	svm_seg_to_user(&save->es, &sregs->es);
	svm_seg_to_user(&save->fs, &sregs->fs);
	svm_seg_to_user(&save->gs, &sregs->gs);
	svm_seg_to_user(&save->ss, &sregs->ss);
	svm_seg_to_user(&save->tr, &sregs->tr);
	svm_seg_to_user(&save->ldtr, &sregs->ldt);
	/* The CPL lives in the VMCB; SS.DPL is not reliable on every CPU. */
	sregs->ss.dpl = save->cpl;
	sregs->gdt.base = save->gdtr.base;
	sregs->gdt.limit = save->gdtr.limit;
	sregs->idt.base = save->idtr.base;
	sregs->idt.limit = save->idtr.limit;
	sregs->cr0 = svm_get_cr0(svm);
	sregs->cr2 = save->cr2;
	sregs->cr3 = save->cr3;
	sregs->cr4 = save->cr4;
	sregs->cr8 = svm->vmcb->control.int_ctl & SVM_INT_CTL_TPR_MASK;
	sregs->efer = svm_get_efer(svm);
	sregs->apic_base = vcpu->msrs.apic_base;
}

/* Drop the vCPU's ASID: the next entry starts with no stale translation. */
void svm_flush_tlb(struct mvx_vcpu *vcpu)
{
	to_svm(vcpu)->asid_cpu = -1;
}

static int svm_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb *vmcb = svm->vmcb;
	struct svm_vmcb_save *save = &vmcb->save;

	svm_seg_from_user(&save->cs, &sregs->cs);
	svm_seg_from_user(&save->ds, &sregs->ds);
	svm_seg_from_user(&save->es, &sregs->es);
	svm_seg_from_user(&save->fs, &sregs->fs);
	svm_seg_from_user(&save->gs, &sregs->gs);
	svm_seg_from_user(&save->ss, &sregs->ss);
	svm_seg_from_user(&save->tr, &sregs->tr);
	svm_seg_from_user(&save->ldtr, &sregs->ldt);
	save->gdtr.base = sregs->gdt.base;
	save->gdtr.limit = sregs->gdt.limit;
	save->idtr.base = sregs->idt.base;
	save->idtr.limit = sregs->idt.limit;
	svm_set_cr0(svm, sregs->cr0);
	save->cr2 = sregs->cr2;
	save->cr3 = sregs->cr3;
	save->cr4 = sregs->cr4;
	svm_write_efer(svm, sregs->efer);
	save->cpl = (sregs->cr0 & X86_CR0_PE) ? sregs->ss.dpl & 3 : 0;
	vmcb->control.int_ctl = (vmcb->control.int_ctl & ~SVM_INT_CTL_TPR_MASK) |
				(sregs->cr8 & SVM_INT_CTL_TPR_MASK);
	vcpu->msrs.apic_base = sregs->apic_base;
	/* New paging state without a guest MOV to CR3: forget old translations. */
	svm_flush_tlb(vcpu);
	return 0;
}

void svm_get_mode(struct mvx_vcpu *vcpu, struct mvx_cpu_mode *mode)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	struct svm_vmcb_save *save = &svm->vmcb->save;

	mode->cr0 = svm_get_cr0(svm);
	mode->cr3 = save->cr3;
	mode->cr4 = save->cr4;
	mode->efer = svm_get_efer(svm);
	mode->seg_base[MVX_ES] = save->es.base;
	mode->seg_base[MVX_CS] = save->cs.base;
	mode->seg_base[MVX_SS] = save->ss.base;
	mode->seg_base[MVX_DS] = save->ds.base;
	mode->seg_base[MVX_FS] = save->fs.base;
	mode->seg_base[MVX_GS] = save->gs.base;
	mode->cs_db = !!(save->cs.attrib & SVM_ATTR_DB);
	mode->cs_l = !!(save->cs.attrib & SVM_ATTR_L);
	mode->cpl = save->cpl;
}

/* ---- MSRs held in the VMCB --------------------------------------------- */

/*
 * The guest sees EFER without SVME, which must stay set for VMRUN.  LME may
 * not change while paging is on, and LMA follows the hardware, not WRMSR.
 */
static int svm_set_efer(struct svm_vcpu *svm, u64 data)
{
	u64 old = svm_get_efer(svm);

	if (data & ~MVX_EFER_GUEST_BITS)
		return -EINVAL;
	if (svm->vmcb->save.cr0 & X86_CR0_PG) {
		if ((data ^ old) & EFER_LME)
			return -EINVAL;
		data = (data & ~EFER_LMA) | (old & EFER_LMA);
	} else {
		data &= ~EFER_LMA;
	}
	svm_write_efer(svm, data);
	svm_flush_tlb(&svm->vcpu);
	return 0;
}

static u64 *svm_msr_field(struct svm_vcpu *svm, u32 index)
{
	struct svm_vmcb_save *save = &svm->vmcb->save;

	switch (index) {
	case MSR_IA32_SYSENTER_CS:
		return &save->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP:
		return &save->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP:
		return &save->sysenter_eip;
	case MSR_FS_BASE:
		return &save->fs.base;
	case MSR_GS_BASE:
		return &save->gs.base;
	case MSR_KERNEL_GS_BASE:
		return &save->kernel_gs_base;
	case MSR_STAR:
		return &save->star;
	case MSR_LSTAR:
		return &save->lstar;
	case MSR_CSTAR:
		return &save->cstar;
	case MSR_SYSCALL_MASK:
		return &save->sfmask;
	case MSR_IA32_CR_PAT:
		return &save->g_pat;
	case MSR_IA32_DEBUGCTLMSR:
		return &save->dbgctl;
	default:
		return NULL;
	}
}

static int svm_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 *field;

	if (index == MSR_EFER) {
		*data = svm_get_efer(svm);
		return 0;
	}
	field = svm_msr_field(svm, index);
	if (!field)
		return -ENOENT;
	*data = *field;
	return 0;
}

static bool svm_msr_value_valid(u32 index, u64 data)
{
	switch (index) {
	case MSR_IA32_SYSENTER_CS:
	case MSR_STAR:
		return true;
	case MSR_SYSCALL_MASK:
		return !(data >> 32);
	case MSR_IA32_CR_PAT:
		return mvx_pat_valid(data);
	case MSR_IA32_DEBUGCTLMSR:
		/* Stored only: without LBR virtualization it has no effect. */
		return !(data & ~(u64)SVM_DEBUGCTL_BITS);
	default:
		/* Bases and entry points: addresses. */
		return mvx_is_canonical(data);
	}
}

static int svm_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 *field;

	if (index == MSR_EFER)
		return svm_set_efer(svm, data);
	field = svm_msr_field(svm, index);
	if (!field)
		return -ENOENT;
	if (!svm_msr_value_valid(index, data))
		return -EINVAL;
	*field = data;
	return 0;
}

/* ---- events ------------------------------------------------------------ */

static void svm_set_cr2(struct mvx_vcpu *vcpu, u64 cr2)
{
	to_svm(vcpu)->vmcb->save.cr2 = cr2;
}

static void svm_set_dr6(struct mvx_vcpu *vcpu, u64 dr6)
{
	to_svm(vcpu)->vmcb->save.dr6 = dr6;
}

/* ---- diagnostics ------------------------------------------------------- */

static void svm_dump_seg(const char *name, const struct svm_seg *s)
{
	pr_err("  %-4s sel=%04x attr=%03x limit=%08x base=%016llx\n",
	       name, s->sel, s->attrib, s->limit, s->base);
}

void svm_dump_vmcb(struct svm_vcpu *svm)
{
	const struct svm_vmcb_control *c = &svm->vmcb->control;
	const struct svm_vmcb_save *s = &svm->vmcb->save;

	if (!dump_invalid_vmcb)
		return;
	pr_err("VMCB of vCPU %u:\n", svm->vcpu.id);
	pr_err("  intercepts cr=%04x/%04x dr=%04x/%04x exc=%08x %08x %08x\n",
	       c->cr_read, c->cr_write, c->dr_read, c->dr_write,
	       c->exceptions, c->intercept1, c->intercept2);
	pr_err("  asid=%u tlb=%u int_ctl=%llx np=%llx ncr3=%llx event_inj=%llx\n",
	       c->asid, c->tlb_control, c->int_ctl, c->np_ctl, c->ncr3,
	       c->event_inj);
	svm_dump_seg("cs", &s->cs);
	svm_dump_seg("ss", &s->ss);
	svm_dump_seg("ds", &s->ds);
	svm_dump_seg("es", &s->es);
	svm_dump_seg("fs", &s->fs);
	svm_dump_seg("gs", &s->gs);
	svm_dump_seg("tr", &s->tr);
	svm_dump_seg("ldtr", &s->ldtr);
	svm_dump_seg("gdtr", &s->gdtr);
	svm_dump_seg("idtr", &s->idtr);
	pr_err("  cpl=%u efer=%llx cr0=%llx cr3=%llx cr4=%llx dr6=%llx dr7=%llx\n",
	       s->cpl, s->efer, s->cr0, s->cr3, s->cr4, s->dr6, s->dr7);
	pr_err("  rip=%llx rsp=%llx rflags=%llx pat=%llx\n",
	       s->rip, s->rsp, s->rflags, s->g_pat);
}

const struct mvx_backend mvx_svm_backend = {
	.name = "svm",
	.vcpu_size = sizeof(struct svm_vcpu),
	.pt_table_bits = SVM_NPT_TABLE,
	.pt_leaf_bits = 0x5,		/* present, user; executable (NX clear) */
	.pt_write_bit = 0x2,
	.probe = svm_probe,
	.cpu_enable = svm_cpu_enable,
	.cpu_disable = svm_cpu_disable,
	.emergency_disable = svm_emergency_disable,
	.vcpu_init = svm_vcpu_init,
	.vcpu_destroy = svm_vcpu_destroy,
	.vcpu_load = svm_vcpu_load,
	.vcpu_put = svm_vcpu_put,
	.vcpu_enter = svm_vcpu_enter,
	.handle_exit = svm_handle_exit,
	.handle_exit_irqoff = svm_handle_exit_irqoff,
	.get_sregs = svm_get_sregs,
	.set_sregs = svm_set_sregs,
	.get_mode = svm_get_mode,
	.mcg_cap_bits = GENMASK_ULL(8, 0),
	.get_msr = svm_get_msr,
	.set_msr = svm_set_msr,
	.inject_event	= svm_inject_event,
	.set_windows	= svm_set_windows,
	.get_interrupt_shadow = svm_get_interrupt_shadow,
	.set_interrupt_shadow = svm_set_interrupt_shadow,
	.get_nmi_mask	= svm_get_nmi_mask,
	.set_nmi_mask	= svm_set_nmi_mask,
	.get_cr8	= svm_get_cr8,
	.set_cr8	= svm_set_cr8,
	.set_cr2 = svm_set_cr2,
	.set_dr6 = svm_set_dr6,
	.flush_tlb = svm_flush_tlb,
	.exit_info = svm_exit_info,
};
