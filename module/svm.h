/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minivmx SVM backend: VMCB layout and the state shared by svm.c (set-up,
 * guest state, entry) and svm_exits.c (the exit-handler table).
 *
 * The VMCB layout follows AMD APM Vol. 2, Appendix B.  It is declared here
 * rather than taken from <asm/svm.h> so that both supported kernels see the
 * same, minimal definition; the offsets are checked at build time in svm.c.
 */
#ifndef _MINIVMX_SVM_H
#define _MINIVMX_SVM_H

#include <linux/types.h>
#include <linux/build_bug.h>
#include "minivmx.h"

/* One VMCB segment register: selector, packed attributes, limit, base. */
struct svm_seg {
	u16 sel;
	u16 attrib;
	u32 limit;
	u64 base;
} __packed;

/* VMCB segment attribute bits (APM B.2: the descriptor's bits 8..15, 20..23). */
#define SVM_ATTR_TYPE		0x000f
#define SVM_ATTR_S		0x0010
#define SVM_ATTR_DPL_SHIFT	5
#define SVM_ATTR_P		0x0080
#define SVM_ATTR_AVL		0x0100
#define SVM_ATTR_L		0x0200
#define SVM_ATTR_DB		0x0400
#define SVM_ATTR_G		0x0800

struct svm_vmcb_control {
	u16 cr_read;			/* 0x000: intercept MOV from CRn */
	u16 cr_write;			/* 0x002: intercept MOV to CRn */
	u16 dr_read;			/* 0x004 */
	u16 dr_write;			/* 0x006 */
	u32 exceptions;			/* 0x008: one bit per vector */
	u32 intercept1;			/* 0x00c: SVM_I1_* */
	u32 intercept2;			/* 0x010: SVM_I2_* */
	u32 intercept3;			/* 0x014 */
	u8 rsvd1[0x03c - 0x018];
	u16 pause_filter_thresh;	/* 0x03c */
	u16 pause_filter_count;		/* 0x03e */
	u64 iopm_pa;			/* 0x040 */
	u64 msrpm_pa;			/* 0x048 */
	u64 tsc_offset;			/* 0x050 */
	u32 asid;			/* 0x058 */
	u8 tlb_control;			/* 0x05c */
	u8 rsvd2[3];
	u64 int_ctl;			/* 0x060: V_TPR, V_IRQ, V_INTR_MASKING */
	u64 int_state;			/* 0x068: interrupt shadow */
	u64 exit_code;			/* 0x070 */
	u64 exit_info1;			/* 0x078 */
	u64 exit_info2;			/* 0x080 */
	u64 exit_int_info;		/* 0x088: event being delivered, + error */
	u64 np_ctl;			/* 0x090: bit 0 enables nested paging */
	u64 avic_bar;			/* 0x098 */
	u64 ghcb_pa;			/* 0x0a0 */
	u64 event_inj;			/* 0x0a8: event to inject, + error */
	u64 ncr3;			/* 0x0b0: nested page table root */
	u64 virt_ext;			/* 0x0b8 */
	u32 clean;			/* 0x0c0: VMCB clean bits */
	u32 rsvd3;
	u64 next_rip;			/* 0x0c8: with NRIP save */
	u8 insn_len;			/* 0x0d0: with decode assists */
	u8 insn_bytes[15];		/* 0x0d1 */
	u8 rsvd4[0x400 - 0x0e0];
} __packed;

struct svm_vmcb_save {
	struct svm_seg es, cs, ss, ds, fs, gs;	/* 0x400 */
	struct svm_seg gdtr, ldtr, idtr, tr;	/* 0x460 */
	u8 rsvd1[0x4cb - 0x4a0];
	u8 cpl;				/* 0x4cb */
	u32 rsvd2;
	u64 efer;			/* 0x4d0 */
	u8 rsvd3[0x548 - 0x4d8];
	u64 cr4;			/* 0x548 */
	u64 cr3;			/* 0x550 */
	u64 cr0;			/* 0x558 */
	u64 dr7;			/* 0x560 */
	u64 dr6;			/* 0x568 */
	u64 rflags;			/* 0x570 */
	u64 rip;			/* 0x578 */
	u8 rsvd4[0x5d8 - 0x580];
	u64 rsp;			/* 0x5d8 */
	u64 s_cet, ssp, isst_addr;	/* 0x5e0 */
	u64 rax;			/* 0x5f8 */
	u64 star;			/* 0x600 */
	u64 lstar;			/* 0x608 */
	u64 cstar;			/* 0x610 */
	u64 sfmask;			/* 0x618 */
	u64 kernel_gs_base;		/* 0x620 */
	u64 sysenter_cs;		/* 0x628 */
	u64 sysenter_esp;		/* 0x630 */
	u64 sysenter_eip;		/* 0x638 */
	u64 cr2;			/* 0x640 */
	u8 rsvd5[0x668 - 0x648];
	u64 g_pat;			/* 0x668 */
	u64 dbgctl;			/* 0x670 */
	u64 br_from, br_to;		/* 0x678 */
	u64 last_excp_from, last_excp_to; /* 0x688 */
} __packed;

struct svm_vmcb {
	struct svm_vmcb_control control;
	struct svm_vmcb_save save;
} __packed;

/* Intercept vector 3 (VMCB 0x00c). */
#define SVM_I1_INTR		BIT(0)
#define SVM_I1_NMI		BIT(1)
#define SVM_I1_SMI		BIT(2)
#define SVM_I1_VINTR		BIT(4)
#define SVM_I1_RDPMC		BIT(15)
#define SVM_I1_CPUID		BIT(18)
#define SVM_I1_IRET		BIT(20)
#define SVM_I1_INVD		BIT(22)
#define SVM_I1_HLT		BIT(24)
#define SVM_I1_INVLPGA		BIT(26)
#define SVM_I1_IOIO		BIT(27)
#define SVM_I1_MSR		BIT(28)
#define SVM_I1_SHUTDOWN		BIT(31)
/* Intercept vector 4 (VMCB 0x010). */
#define SVM_I2_VMRUN		BIT(0)
#define SVM_I2_VMMCALL		BIT(1)
#define SVM_I2_VMLOAD		BIT(2)
#define SVM_I2_VMSAVE		BIT(3)
#define SVM_I2_STGI		BIT(4)
#define SVM_I2_CLGI		BIT(5)
#define SVM_I2_SKINIT		BIT(6)
#define SVM_I2_WBINVD		BIT(9)
#define SVM_I2_MONITOR		BIT(10)
#define SVM_I2_MWAIT		BIT(11)
#define SVM_I2_MWAIT_COND	BIT(12)
#define SVM_I2_XSETBV		BIT(13)

#define SVM_INT_CTL_TPR_MASK	0xfULL
#define SVM_INT_CTL_V_IRQ	BIT_ULL(8)
#define SVM_INT_CTL_V_PRIO_MAX	(0xfULL << 16)
#define SVM_INT_CTL_V_IGN_TPR	BIT_ULL(20)
#define SVM_INT_CTL_V_VECTOR_SHIFT 32
#define SVM_INT_CTL_V_VECTOR	(0xffULL << SVM_INT_CTL_V_VECTOR_SHIFT)
#define SVM_INT_CTL_INTR_MASKING BIT_ULL(24)
#define SVM_INT_STATE_SHADOW	BIT_ULL(0)

#define SVM_TLB_FLUSH_ALL	1	/* every ASID: always available */
#define SVM_NP_ENABLE		BIT_ULL(0)

/* EVENTINJ / EXITINTINFO (APM 15.20). */
#define SVM_EVT_VECTOR		0xffULL
#define SVM_EVT_TYPE_SHIFT	8
#define SVM_EVT_TYPE_MASK	(7ULL << SVM_EVT_TYPE_SHIFT)
#define SVM_EVT_TYPE_INTR	(0ULL << SVM_EVT_TYPE_SHIFT)
#define SVM_EVT_TYPE_NMI	(2ULL << SVM_EVT_TYPE_SHIFT)
#define SVM_EVT_TYPE_EXCEPTION	(3ULL << SVM_EVT_TYPE_SHIFT)
#define SVM_EVT_TYPE_SOFT	(4ULL << SVM_EVT_TYPE_SHIFT)
#define SVM_EVT_HAS_ERROR	BIT_ULL(11)
#define SVM_EVT_VALID		BIT_ULL(31)

/* EXITCODE values (APM Appendix C). */
#define SVM_EXIT_READ_CR0	0x000
#define SVM_EXIT_WRITE_CR0	0x010
#define SVM_EXIT_WRITE_CR4	0x014
#define SVM_EXIT_READ_DR0	0x020
#define SVM_EXIT_WRITE_DR7	0x037
#define SVM_EXIT_EXCP_BASE	0x040
#define SVM_EXIT_INTR		0x060
#define SVM_EXIT_NMI		0x061
#define SVM_EXIT_SMI		0x062
#define SVM_EXIT_VINTR		0x064
#define SVM_EXIT_RDPMC		0x06f
#define SVM_EXIT_CPUID		0x072
#define SVM_EXIT_IRET		0x074
#define SVM_EXIT_INVD		0x076
#define SVM_EXIT_HLT		0x078
#define SVM_EXIT_INVLPGA	0x07a
#define SVM_EXIT_IOIO		0x07b
#define SVM_EXIT_MSR		0x07c
#define SVM_EXIT_SHUTDOWN	0x07f
#define SVM_EXIT_VMRUN		0x080
#define SVM_EXIT_SKINIT		0x086
#define SVM_EXIT_WBINVD		0x089
#define SVM_EXIT_MONITOR	0x08a
#define SVM_EXIT_MWAIT_COND	0x08c
#define SVM_EXIT_XSETBV		0x08d
#define SVM_EXIT_NPF		0x400
#define SVM_EXIT_MAX		SVM_EXIT_NPF
#define SVM_EXIT_INVALID	0xffffffffULL	/* -1: VMRUN refused the state */

/* Exceptions intercepted only to keep a guest from looping in microcode. */
#define SVM_DB_VECTOR		1
#define SVM_AC_VECTOR		17

/* IOIO EXITINFO1 (APM 15.10.2). */
#define SVM_IO_IN		BIT(0)
#define SVM_IO_STRING		BIT(2)
#define SVM_IO_REP		BIT(3)
#define SVM_IO_SIZE_SHIFT	4	/* bits 4..6: 1, 2, 4 bytes */
#define SVM_IO_ADDR_SHIFT	7	/* bits 7..9: 16, 32, 64-bit address */
#define SVM_IO_SEG_SHIFT	10	/* bits 10..12, with decode assists */
#define SVM_IO_PORT_SHIFT	16

/* NPF EXITINFO1: a #PF-style error code. */
#define SVM_NPF_WRITE		BIT_ULL(1)
#define SVM_NPF_RSVD		BIT_ULL(3)

/* Capabilities found by probe(). */
struct svm_caps {
	u32 max_asid;
	bool nrips;		/* VMCB next_rip is filled on instruction exits */
	bool decode_assists;	/* IOIO segment field, instruction bytes */
};

extern struct svm_caps svm_caps;

/* Why the guest last left, in one place for the dispatcher (and traces). */
/*
 * Our own exit code, which the CPU never writes: SVM was off (a fault
 * skipped VMRUN, or it was already off at entry).  The run fails with EIO.
 */
#define MVX_SVM_EXIT_LOST	0xfffffff0ULL

struct svm_exit {
	u64 code;
	u64 info1;
	u64 info2;
	u64 int_info;		/* EXITINTINFO: event cut short by the exit */
	u64 rip;
};

struct svm_vcpu {
	struct mvx_vcpu vcpu;		/* must stay first: the core allocates us */
	struct svm_vmcb *vmcb;
	phys_addr_t vmcb_pa;
	u64 *npt_pml5;			/* top level when the host runs LA57 */

	/* ASID handed out by the CPU we last ran on (per-CPU generations). */
	u32 asid;
	int asid_cpu;
	u64 asid_gen;

	/* CR0.CD/NW the guest was given but the hardware does not run with. */
	u64 cr0_hidden;
	/* Guest EFER.LME is set, but kept out of the VMCB while CR0.PG = 0. */
	bool lme_hidden;

	/* Debug registers: the guest owns the hardware ones after first use. */
	bool guest_owns_dr;
	unsigned long dr[4];

	/*
	 * NMI blocking, which the VMCB does not hold: set when an NMI is
	 * injected, cleared once RIP has left the handler's IRET.
	 */
	bool nmi_masked;
	bool awaiting_iret;		/* the IRET exited; it runs next */
	bool nmi_singlestep;		/* TF set by us to step over it */
	bool virq_injected;		/* an interrupt sent as V_IRQ */
	u8 virq_vector;
	u64 iret_rip;
	u64 singlestep_guest_flags;	/* the guest's own TF and RF */

	struct svm_exit exit;
};

static inline struct svm_vcpu *to_svm(struct mvx_vcpu *vcpu)
{
	return container_of(vcpu, struct svm_vcpu, vcpu);
}

u64 svm_get_efer(struct svm_vcpu *svm);
void svm_write_efer(struct svm_vcpu *svm, u64 efer);
void svm_set_cr0(struct svm_vcpu *svm, u64 cr0);
void svm_flush_tlb(struct mvx_vcpu *vcpu);

/* svm_enter.S: VMSAVE host, VMLOAD guest, VMRUN, VMSAVE guest, VMLOAD host. */
void mvx_svm_vmrun(u64 *gprs, u64 vmcb_pa, u64 host_vmcb_pa);

/* svm.c, used by the exit handlers. */
void svm_reset_guest_state(struct svm_vcpu *svm);
void svm_get_mode(struct mvx_vcpu *vcpu, struct mvx_cpu_mode *mode);
void svm_dump_vmcb(struct svm_vcpu *svm);

/* svm_events.c */
void svm_inject_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev);
void svm_set_windows(struct mvx_vcpu *vcpu, bool irq, bool nmi);
u8 svm_get_interrupt_shadow(struct mvx_vcpu *vcpu);
void svm_set_interrupt_shadow(struct mvx_vcpu *vcpu, u8 shadow);
bool svm_get_nmi_mask(struct mvx_vcpu *vcpu);
void svm_set_nmi_mask(struct mvx_vcpu *vcpu, bool masked);
u8 svm_get_cr8(struct mvx_vcpu *vcpu);
void svm_set_cr8(struct mvx_vcpu *vcpu, u8 cr8);
int svm_exit_iret(struct svm_vcpu *svm);
void svm_nmi_singlestep_begin(struct svm_vcpu *svm);
bool svm_nmi_singlestep_db(struct svm_vcpu *svm);
void svm_complete_events(struct svm_vcpu *svm);

/* svm_exits.c */
int svm_handle_exit(struct mvx_vcpu *vcpu);
bool svm_handle_exit_irqoff(struct mvx_vcpu *vcpu);
void svm_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info);

#endif /* _MINIVMX_SVM_H */
