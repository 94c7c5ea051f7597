/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minivmx core <-> backend contract.
 *
 * The core (main.c, vm.c, vcpu.c, mmu.c, emulate.c, cpuid.c, msr.c) knows
 * nothing about VMX or SVM.  A backend fills one struct mvx_backend and
 * calls the mvx_handle_*() helpers below from its exit-handler table.
 */
#ifndef _MINIVMX_H
#define _MINIVMX_H

#include <linux/types.h>
#include <linux/mutex.h>
#include <linux/rwsem.h>
#include <linux/refcount.h>
#include <linux/preempt.h>
#include <linux/mm_types.h>
#include <linux/cpumask.h>
#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <linux/signal_types.h>
#include <asm/asm.h>
#include <asm/trapnr.h>
#include "../uapi/minivmx.h"

#define MVX_MAX_VCPUS		64	/* per VM; also the bound on vCPU ids */
#define MVX_MAX_SLOTS		32
#define MVX_MAX_CPUID_ENTRIES	256
#define MVX_MAX_IRQ_ROUTES	4096	/* KVM_CAP_IRQ_ROUTING: KVM's number */
#define MVX_RUN_PAGES		2	/* run page + port I/O data page */

/*
 * Exceptions both backends intercept, whatever the guest does; each backend
 * turns this into its exception bitmap or intercept vector (vector n is
 * bit n in both).
 *  #DB: a guest can make the delivery of #DB raise #DB again (a data
 *       breakpoint on its own IDT or stack, CVE-2015-8104); without an exit
 *       the CPU loops in microcode and the host never gets the CPU back.
 *  #AC: the same with an unaligned stack under CR0.AM and RFLAGS.AC at CPL3
 *       (CVE-2015-5307).
 *  #MC: a machine check belongs to the host's handler, not the guest's.
 * #DB and #AC are handed back to the guest as the CPU would have delivered
 * them; each trip through the host lets it take interrupts and signals.
 */
#define MVX_INTERCEPT_EXCEPTIONS \
	(BIT(X86_TRAP_DB) | BIT(X86_TRAP_AC) | BIT(X86_TRAP_MC))

/* General purpose registers, in the order of the x86 register encoding. */
enum mvx_gpr {
	MVX_RAX, MVX_RCX, MVX_RDX, MVX_RBX, MVX_RSP, MVX_RBP, MVX_RSI, MVX_RDI,
	MVX_R8, MVX_R9, MVX_R10, MVX_R11, MVX_R12, MVX_R13, MVX_R14, MVX_R15,
	MVX_NR_GPRS
};

/* Segment registers, in the order of the x86 segment encoding. */
enum mvx_seg {
	MVX_ES, MVX_CS, MVX_SS, MVX_DS, MVX_FS, MVX_GS, MVX_NR_SEGS
};

struct mvx_slot {
	bool used;
	u32 id;
	u32 flags;
	u64 base_gfn;
	u64 npages;
	unsigned long hva;
	/*
	 * With MVX_MEM_LOG_DIRTY_PAGES: a bit per page, set (atomically) as
	 * the guest is let write the page, taken by GET_DIRTY_LOG.  Present
	 * exactly while logging is on; it changes only with slots_sem held
	 * for writing, so whoever holds it for reading may use it.
	 */
	unsigned long *dirty_bitmap;
};

struct mvx_vm {
	refcount_t refs;		/* the VM fd and every vCPU */
	struct mm_struct *mm;		/* the creator's; only it may use us */

	/*
	 * Readers: every vCPU while it runs (guest entry, exit handling),
	 * GET_DIRTY_LOG.  Writer: slot changes, which unpin pages and so
	 * must first see every vCPU out of the guest.
	 */
	struct rw_semaphore slots_sem;
	struct mvx_slot slots[MVX_MAX_SLOTS];

	struct mutex lock;		/* vCPU creation */
	struct mvx_vcpu *vcpus[MVX_MAX_VCPUS];
	unsigned int nr_vcpus;

	/*
	 * Second-level (EPT/NPT) page table, built on demand by mmu.c.  A
	 * leaf holds a pin of its page, dropped when the MMU notifier says
	 * the VMM's mapping of it changes.  mmu_lock covers the tables, the
	 * pins and, as the notifier reads them, the slots.
	 */
	struct mutex mmu_lock;
	u64 *mmu_root;
	unsigned long mmu_gen;		/* bumped when translations are removed */
	unsigned long pinned_pages;
	cpumask_var_t cpus_in_guest;	/* where vCPUs may be in the guest */
	struct mmu_notifier mmu_notifier;
	bool mmu_notifier_registered;
	/* Invalidations of the VMM's mappings (KVM's mmu_invalidate_*). */
	spinlock_t mmu_invalidate_lock;
	unsigned long mmu_invalidate_seq;	/* bumped as each one ends */
	unsigned long mmu_invalidate_in_progress;
	unsigned long mmu_invalidate_start, mmu_invalidate_end;	/* union */

	u64 tss_addr;
};

/* Guest state the emulator needs, read on demand from the VMCS/VMCB. */
struct mvx_cpu_mode {
	u64 cr0, cr3, cr4, efer;
	u64 seg_base[MVX_NR_SEGS];
	bool cs_db, cs_l;
	u8 cpl;
};

/* What a port I/O exit told the backend, in a vendor-neutral form. */
struct mvx_pio {
	u16 port;
	u8 size;		/* 1, 2 or 4 */
	bool in;
	bool string;
	bool rep;
	u8 addr_size;		/* 2, 4 or 8: for string forms */
	u8 seg;			/* enum mvx_seg, for OUTS (INS always uses ES) */
	u64 next_rip;
};

/* An exit to userspace that must be finished on the next MVX_RUN. */
enum mvx_pending {
	MVX_PENDING_NONE,
	MVX_PENDING_PIO_IN,	/* copy data into RAX */
	MVX_PENDING_PIO_STRING,	/* advance RSI/RDI/RCX, copy INS data */
	MVX_PENDING_MMIO_READ,	/* copy data into a register */
	MVX_PENDING_SKIP,	/* only advance RIP */
};

struct mvx_completion {
	enum mvx_pending what;
	u64 next_rip;
	/* PIO */
	struct mvx_pio pio;
	u32 count;
	u64 gpa;		/* INS destination in guest memory */
	/* MMIO read */
	u8 reg;			/* enum mvx_gpr */
	u8 len;
	u8 dest_size;		/* 1, 2, 4, 8; 4 zero-extends to 64 */
	bool sign_extend;
	bool high_byte;		/* AH, CH, DH, BH */
};

/* An event the CPU delivers through the IDT, in vendor-neutral form. */
enum mvx_event_type {
	MVX_EV_EXTINT,		/* external interrupt: MVX_INTERRUPT */
	MVX_EV_NMI,
	MVX_EV_EXCEPTION,	/* hardware exception */
	MVX_EV_SOFT_INTR,	/* INT n */
	MVX_EV_SOFT_EXCEPTION,	/* INT3, INTO */
	MVX_EV_PRIV_SOFT_EXCEPTION,	/* INT1 (ICEBP) */
};

struct mvx_event {
	u8 type;		/* enum mvx_event_type */
	u8 vector;
	bool has_error;
	bool reinjected;	/* an exit cut its delivery short */
	u32 error_code;
	u8 insn_len;		/* soft events: the instruction's length */
};

/*
 * Events waiting for the guest (events.c).  Each kind has one slot, as
 * the x86 architecture has: an exception or NMI in a slot is delivered at
 * the next entry; an external interrupt waits until the guest can take
 * it; pending NMIs wait until NMIs are unblocked.
 */
struct mvx_event_state {
	bool exception_queued;
	bool nmi_injected;
	bool interrupt_queued;
	bool triple_fault;
	u8 nmi_pending;		/* 0-2: one running, one latched */
	struct mvx_event exception;
	struct mvx_event interrupt;	/* MVX_EV_EXTINT or MVX_EV_SOFT_INTR */
	u32 mp_state;		/* MVX_MP_STATE_RUNNABLE or _HALTED */
};

#define MVX_NR_VAR_MTRR		8	/* variable ranges, as KVM */
#define MVX_NR_FIXED_MTRR	11	/* 64K, 2 x 16K, 8 x 4K */
#define MVX_MAX_MCE_BANKS	32	/* as KVM */

/* The memory-type range registers (mtrr.c): stored only, as on KVM. */
struct mvx_mtrrs {
	u64 def_type;
	u64 fixed[MVX_NR_FIXED_MTRR];
	u64 var[2 * MVX_NR_VAR_MTRR];	/* PHYSBASE0, PHYSMASK0, ... */
};

/* Machine-check registers (mce.c); banks[4 * i] is MCi_CTL. */
struct mvx_mce {
	u64 mcg_cap;
	u64 mcg_ctl;
	u64 mcg_status;
	u64 banks[4 * MVX_MAX_MCE_BANKS];	/* CTL, STATUS, ADDR, MISC */
};

struct mvx_vcpu_msrs {
	u64 star, lstar, cstar, sfmask, kernel_gs_base;
	u64 tsc_aux, misc_enable, apic_base, pat;
	u64 tsc_offset;
	u64 spec_ctrl;		/* the guest's IA32_SPEC_CTRL (spec.c) */
	struct mvx_mtrrs mtrr;
	struct mvx_mce mce;
};

struct mvx_vcpu {
	struct mvx_vm *vm;
	unsigned int id;
	struct mutex mutex;		/* one vCPU ioctl at a time */
	struct mvx_run *run;
	struct page *run_page;		/* mmap page 0: struct mvx_run */
	struct page *pio_page;		/* mmap page MVX_PIO_PAGE_OFFSET */
	void *pio_data;

	/* Authoritative while outside the guest; backends sync RSP/RIP/RFLAGS. */
	u64 gprs[MVX_NR_GPRS];
	u64 rip;
	u64 rflags;

	int cpu;			/* CPU holding our VMCS/VMCB, or -1 */
	int last_cpu;			/* CPU we last entered the guest on */
	unsigned long mmu_gen;		/* vm->mmu_gen at our last flush */
	struct preempt_notifier pn;

	void *xsave;			/* guest FPU/SSE/AVX state, XSAVE format */
	u64 xcr0;
	u32 pkru;			/* the guest's, while outside it */

	struct mvx_cpuid_entry2 *cpuid;
	unsigned int cpuid_nent;
	struct mvx_vcpu_msrs msrs;

	struct mvx_completion pending;
	struct mvx_event_state events;
	bool sigset_active;		/* MVX_SET_SIGNAL_MASK */
	sigset_t sigset;
	u64 exits;
	/*
	 * Set by the backend at every exit: the exit cut short the delivery
	 * of an event (IDT-vectoring info / EXITINTINFO valid), so RIP does
	 * not point at an instruction that made the access.
	 */
	bool exit_in_delivery;
};

/* Why the guest last exited, in the backend's terms: for tracing. */
struct mvx_exit_info {
	u32 reason;		/* basic exit reason / exit code */
	const char *name;	/* e.g. "IO_INSTRUCTION", "IOIO" */
	u64 info1, info2;	/* qualification / exit_info_1, _2 */
};

struct mvx_backend {
	const char *name;		/* "vmx" or "svm": for dmesg and traces */
	size_t vcpu_size;		/* embeds struct mvx_vcpu at offset 0 */

	/* Second-level page-table entry formats. */
	u64 pt_table_bits;		/* non-leaf: present/readable, ... */
	u64 pt_leaf_bits;		/* leaf, read-only */
	u64 pt_write_bit;

	int (*probe)(void);		/* -ENODEV plus one dmesg line if unusable */
	int (*cpu_enable)(void);	/* on the calling CPU, interrupts off */
	void (*cpu_disable)(void);	/* on the calling CPU, interrupts off */
	/*
	 * Reboot, kexec or crash: turn VMX/SVM off on this CPU from any
	 * context (NMI included), taking no lock and sleeping never.
	 */
	void (*emergency_disable)(void);

	int (*vcpu_init)(struct mvx_vcpu *vcpu);	/* architectural reset state */
	void (*vcpu_destroy)(struct mvx_vcpu *vcpu);
	void (*vcpu_load)(struct mvx_vcpu *vcpu, int cpu);	/* preemption off */
	void (*vcpu_put)(struct mvx_vcpu *vcpu);		/* preemption off */

	/*
	 * Called with interrupts off and the guest FPU loaded: enter the guest
	 * once and record why it left.  handle_exit() then runs with
	 * interrupts and preemption on; it returns > 0 to re-enter, 0 with
	 * vcpu->run filled to return to userspace, or a negative errno.
	 */
	void (*vcpu_enter)(struct mvx_vcpu *vcpu);
	int (*handle_exit)(struct mvx_vcpu *vcpu);
	/*
	 * Right after vcpu_enter(), still with interrupts off and the guest
	 * FPU loaded: finish an exit that needs neither sleep nor userspace
	 * (CPUID) and return true to re-enter at once, sparing the FPU
	 * switch; false leaves the exit to handle_exit().
	 */
	bool (*handle_exit_irqoff)(struct mvx_vcpu *vcpu);

	void (*get_sregs)(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs);
	int (*set_sregs)(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs);
	void (*get_mode)(struct mvx_vcpu *vcpu, struct mvx_cpu_mode *mode);

	/*
	 * The MCG_CAP bits the CPU's vendor defines: KVM on AMD keeps only
	 * the bank count and MCG_CTL_P (63:9 are reserved there).
	 */
	u64 mcg_cap_bits;

	/* MSRs living in the VMCS/VMCB; -ENOENT hands the index to the core. */
	int (*get_msr)(struct mvx_vcpu *vcpu, u32 index, u64 *data);
	int (*set_msr)(struct mvx_vcpu *vcpu, u32 index, u64 data);

	/*
	 * Events.  The core decides what to deliver (events.c); right before
	 * an entry, with interrupts off, it hands the backend at most one
	 * event and says which windows to watch: an exit as soon as the
	 * guest can take an interrupt (RFLAGS.IF=1, no STI/MOV SS shadow) or
	 * an NMI.  At the exit, the backend hands back an event whose
	 * delivery the exit cut short with mvx_requeue_event().
	 */
	void (*inject_event)(struct mvx_vcpu *vcpu, const struct mvx_event *ev);
	void (*set_windows)(struct mvx_vcpu *vcpu, bool irq, bool nmi);
	u8 (*get_interrupt_shadow)(struct mvx_vcpu *vcpu);	/* MVX_X86_SHADOW_* */
	void (*set_interrupt_shadow)(struct mvx_vcpu *vcpu, u8 shadow);
	bool (*get_nmi_mask)(struct mvx_vcpu *vcpu);	/* blocked by NMI */
	void (*set_nmi_mask)(struct mvx_vcpu *vcpu, bool masked);
	u8 (*get_cr8)(struct mvx_vcpu *vcpu);
	void (*set_cr8)(struct mvx_vcpu *vcpu, u8 cr8);
	/* What #PF and #DB leave behind besides their vector: CR2, DR6. */
	void (*set_cr2)(struct mvx_vcpu *vcpu, u64 cr2);
	void (*set_dr6)(struct mvx_vcpu *vcpu, u64 dr6);
	void (*flush_tlb)(struct mvx_vcpu *vcpu);	/* this CPU, this VM */

	/* Only called while the exit tracepoint is enabled. */
	void (*exit_info)(struct mvx_vcpu *vcpu, struct mvx_exit_info *info);
};

extern const struct mvx_backend *mvx_ops;

/*
 * Guest features the backend's probe() found it cannot let the guest use
 * (a VMX control the CPU does not allow): cpuid.c hides them.
 */
#define MVX_NO_RDTSCP		BIT(0)	/* RDTSCP and RDPID */
#define MVX_NO_INVPCID		BIT(1)
extern u32 mvx_guest_lacks;
extern const struct mvx_backend mvx_vmx_backend;
extern const struct mvx_backend mvx_svm_backend;

/*
 * Workarounds for emulated CPUs, each a bit of the "quirks" module
 * parameter (main.c).  All are harmless on silicon and on by default:
 * the emulators they are for cannot be told apart from a real CPU.
 */
#define MVX_QUIRK_IRQ_WATCHDOG	BIT(0)	/* VMX: bound each guest stay */
#define MVX_QUIRK_HIDE_LME	BIT(1)	/* SVM: EFER.LME off while PG off */
#define MVX_QUIRK_XCR0_READBACK	BIT(2)	/* XCR0 read back after exits */
#define MVX_QUIRK_SVM_VIRQ	BIT(3)	/* SVM: interrupts sent as V_IRQ */
extern unsigned int mvx_quirks;

static inline bool mvx_quirk(unsigned int quirk)
{
	return mvx_quirks & quirk;
}

/* Architectural reset values and limits, the same for both backends. */
#define MVX_PAT_RESET		0x0007040600070406ULL
#define MVX_DR7_RESET		0x400UL
#define MVX_EFER_GUEST_BITS	(EFER_SCE | EFER_LME | EFER_LMA | EFER_NX)

/* Guest-state rules (regs.c); the backend's probe sets the CR4 bits. */
extern u64 mvx_cr4_allowed;
void mvx_set_cr4_allowed(u64 cpu_bits);
bool mvx_is_canonical(u64 addr);
bool mvx_pat_valid(u64 pat);
bool mvx_cr0_valid(u64 cr0, u64 cr4, u64 efer);
int mvx_check_sregs(const struct mvx_sregs *s);

/* Exit helpers, called by backends from handle_exit(). */
int mvx_handle_pio(struct mvx_vcpu *vcpu, const struct mvx_pio *pio);
int mvx_handle_npf(struct mvx_vcpu *vcpu, u64 gpa, bool write);
int mvx_handle_cpuid(struct mvx_vcpu *vcpu, u64 next_rip);
int mvx_handle_rdmsr(struct mvx_vcpu *vcpu, u64 next_rip);
int mvx_handle_wrmsr(struct mvx_vcpu *vcpu, u64 next_rip);
int mvx_handle_xsetbv(struct mvx_vcpu *vcpu, u64 next_rip);
int mvx_exit_hlt(struct mvx_vcpu *vcpu, u64 next_rip);
/* An interrupt or NMI window opened: the core decides what comes next. */
int mvx_exit_window(struct mvx_vcpu *vcpu);

/* Events (events.c). */
void mvx_queue_exception(struct mvx_vcpu *vcpu, u8 vector, bool has_error,
			 u32 error_code);
void mvx_requeue_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev);
void mvx_return_interrupt(struct mvx_vcpu *vcpu, const struct mvx_event *ev);
/* RIP past an instruction the host completed, with TF's #DB as the CPU. */
void mvx_skip_insn(struct mvx_vcpu *vcpu, u64 next_rip);
int mvx_exit_shutdown(struct mvx_vcpu *vcpu);
int mvx_exit_fail_entry(struct mvx_vcpu *vcpu, u64 reason);
int mvx_exit_internal_error(struct mvx_vcpu *vcpu, u32 suberror,
			    u64 hw_reason, u64 info1, u64 info2);

/* Guest memory access by guest-physical address (through the slots). */
int mvx_read_guest(struct mvx_vcpu *vcpu, u64 gpa, void *buf, unsigned int len);
int mvx_write_guest(struct mvx_vcpu *vcpu, u64 gpa, const void *buf,
		    unsigned int len);
/* Guest-linear to guest-physical, walking the guest's own page tables. */
int mvx_gva_to_gpa(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		   u64 gva, u64 *gpa);

/*
 * Speculation barriers around guest entry (spec.c).  vcpu_load/destroy and
 * the exit hook may run with preemption off; spec_ctrl_guest/host with
 * interrupts off, right around the entry itself.
 */
void mvx_spec_vcpu_load(struct mvx_vcpu *vcpu, int cpu);
void mvx_spec_vcpu_destroy(struct mvx_vcpu *vcpu);
void mvx_spec_ctrl_guest(struct mvx_vcpu *vcpu);
void mvx_spec_ctrl_host(struct mvx_vcpu *vcpu);
void mvx_spec_after_exit(void);
bool mvx_l1d_flush_needed(void);
void mvx_l1d_flush(void);

/*
 * An access the emulator makes for the guest.  The bits that the #PF
 * error code shares have its positions (SDM Vol. 3A, 4.7).
 */
#define MVX_PF_PRESENT		BIT(0)
#define MVX_ACC_WRITE		BIT(1)
#define MVX_ACC_USER		BIT(2)	/* set for CPL 3 by the walker */
#define MVX_PF_RSVD		BIT(3)
#define MVX_ACC_FETCH		BIT(4)
#define MVX_ACC_IMPLICIT	BIT(31)	/* GDT/IDT/TSS: always supervisor */

/*
 * Like mvx_gva_to_gpa(), with the CPU's permission checks for @access and
 * its accessed/dirty updates: 0 with *@gpa, 1 when the guest must get a
 * #PF with *@pf_error, -EFAULT when its page tables are not in RAM.
 */
int mvx_gva_to_gpa_access(struct mvx_vcpu *vcpu,
			  const struct mvx_cpu_mode *mode, u64 gva,
			  u32 access, u64 *gpa, u32 *pf_error);
void mvx_inject_page_fault(struct mvx_vcpu *vcpu, u64 addr, u32 error);

/* Second-level page table: physical address of the root, for EPTP/nCR3. */
phys_addr_t mvx_mmu_root_pa(struct mvx_vm *vm);

/*
 * In an asm goto: a fault at local label 1 continues at the C label
 * @label ("%l[name]").  The extable entry points at a jump placed after
 * the instruction because the entry cannot name a C label directly.
 */
#define MVX_ASM_FIXUP(label)	\
	"jmp 3f\n2: jmp " label "\n3:\n\t" _ASM_EXTABLE(1b, 2b)

/* CPUs enabled for virtualization while any VM exists. */
int mvx_hw_get(void);
void mvx_hw_put(void);
bool mvx_hw_usable(void);
/*
 * A VMX/SVM instruction faulted: virtualization was turned off underneath
 * us (reboot, kexec, an emergency).  Any context.  From then on every vCPU
 * run fails with EIO: mvx_exit_hw_lost() says so and returns -EIO.
 */
void mvx_hw_fault(const char *insn);
int mvx_exit_hw_lost(struct mvx_vcpu *vcpu);

static inline u64 mvx_reg(struct mvx_vcpu *vcpu, enum mvx_gpr reg)
{
	return vcpu->gprs[reg];
}

#endif /* _MINIVMX_H */
