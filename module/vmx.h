/* SPDX-License-Identifier: GPL-2.0 */
/*
 * minivmx VMX backend: state shared by its files (vmx*.c; vmx.c says which
 * holds what).  Field encodings and control bits come from the kernel's
 * <asm/vmx.h>; capability-MSR bit positions (which moved between kernel
 * versions) are defined here from the Intel SDM, Vol. 3D, Appendix A.
 */
#ifndef _MVX_VMX_H
#define _MVX_VMX_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/percpu.h>
#include <asm/vmx.h>
#include <asm/asm.h>
#include "minivmx.h"

/* IA32_VMX_BASIC (SDM A.1). */
#define MVX_BASIC_REVISION_MASK		0x7fffffffULL
#define MVX_BASIC_VMCS_SIZE(b)		(((b) >> 32) & 0x1fff)
#define MVX_BASIC_32BIT_PA		BIT_ULL(48)
#define MVX_BASIC_MEMTYPE(b)		(((b) >> 50) & 0xf)
#define MVX_BASIC_INOUT_INFO		BIT_ULL(54)
#define MVX_BASIC_TRUE_CTLS		BIT_ULL(55)

/* IA32_VMX_MISC (SDM A.6). */
#define MVX_MISC_TIMER_RATE(m)		((m) & 0x1f)

/* IA32_VMX_EPT_VPID_CAP (SDM A.10). */
#define MVX_EPT_CAP_WALK4		BIT_ULL(6)
#define MVX_EPT_CAP_WB			BIT_ULL(14)
#define MVX_EPT_CAP_INVEPT		BIT_ULL(20)
#define MVX_EPT_CAP_INVEPT_SINGLE	BIT_ULL(25)
#define MVX_EPT_CAP_INVEPT_GLOBAL	BIT_ULL(26)
#define MVX_VPID_CAP_INVVPID		BIT_ULL(32)
#define MVX_VPID_CAP_SINGLE		BIT_ULL(41)
#define MVX_VPID_CAP_ALL		BIT_ULL(42)

/* INVEPT / INVVPID types (SDM 30.3). */
#define MVX_INVEPT_SINGLE		1
#define MVX_INVEPT_GLOBAL		2
#define MVX_INVVPID_SINGLE		1
#define MVX_INVVPID_ALL			2

/* EPTP (SDM 25.6.11): write-back, 4-level walk. */
#define MVX_EPTP_WB			6ULL
#define MVX_EPTP_WALK4			(3ULL << 3)

/* Second-level entries (SDM 29.3.2): R/W/X permission bits, memtype WB. */
#define MVX_EPT_READ			BIT_ULL(0)
#define MVX_EPT_WRITE			BIT_ULL(1)
#define MVX_EPT_EXEC			BIT_ULL(2)
#define MVX_EPT_MEMTYPE_WB		(6ULL << 3)

/* VM-exit qualification fields (SDM 28.2.1). */
#define MVX_QUAL_IO_SIZE(q)		(((q) & 7) + 1)
#define MVX_QUAL_IO_IN			BIT_ULL(3)
#define MVX_QUAL_IO_STRING		BIT_ULL(4)
#define MVX_QUAL_IO_REP			BIT_ULL(5)
#define MVX_QUAL_IO_PORT(q)		(((q) >> 16) & 0xffff)
#define MVX_QUAL_CR_NUM(q)		((q) & 0xf)
#define MVX_QUAL_CR_TYPE(q)		(((q) >> 4) & 3)
#define MVX_QUAL_CR_GPR(q)		(((q) >> 8) & 0xf)
#define MVX_QUAL_CR_LMSW_SRC(q)		(((q) >> 16) & 0xffff)
#define MVX_QUAL_DR_NUM(q)		((q) & 7)
#define MVX_QUAL_DR_FROM		BIT_ULL(4)
#define MVX_QUAL_DR_GPR(q)		(((q) >> 8) & 0xf)
#define MVX_QUAL_EPT_WRITE		BIT_ULL(1)

/* CR-access types. */
#define MVX_CR_MOV_TO			0
#define MVX_CR_MOV_FROM			1
#define MVX_CR_CLTS			2
#define MVX_CR_LMSW			3

/* VM-exit instruction-information for INS/OUTS (SDM 28.2.5). */
#define MVX_INSN_INFO_ADDR_SIZE(i)	(((i) >> 7) & 7)
#define MVX_INSN_INFO_SEG(i)		(((i) >> 15) & 7)

/* Interruption-information fields (SDM 25.8.3, 25.9.2). */
#define MVX_INTR_VECTOR(i)		((i) & 0xff)
#define MVX_INTR_TYPE(i)		((i) & INTR_INFO_INTR_TYPE_MASK)
#define MVX_INTR_INJECT_MASK		0x80000fffU
#define MVX_INTR_SHADOW			(GUEST_INTR_STATE_STI | \
					 GUEST_INTR_STATE_MOV_SS)

/* Exits as soon as the guest can take an interrupt / an NMI. */
#define MVX_VMX_WINDOWS			(CPU_BASED_INTR_WINDOW_EXITING | \
					 CPU_BASED_NMI_WINDOW_EXITING)

/* Guest segment registers in VMCS encoding order. */
enum vmx_seg {
	VMX_ES, VMX_CS, VMX_SS, VMX_DS, VMX_FS, VMX_GS, VMX_LDTR, VMX_TR,
	VMX_NR_SEGS
};

/* Return values of mvx_vmx_run(). */
#define MVX_VMX_EXITED			0
#define MVX_VMX_FAIL_INVALID		1
#define MVX_VMX_FAIL_VALID		2
#define MVX_VMX_LOST			3	/* VMX is off: faulted, or not entered */

/* What the last VM exit (or failed entry) told us: one place for traces. */
struct vmx_exit_info {
	u32 reason;		/* full exit reason, bit 31 = entry failure */
	u32 vmfail;		/* MVX_VMX_FAIL_* or 0 */
	u32 insn_error;		/* VM-instruction error after VMfailValid */
	u64 qual;
	u64 gpa;
	u64 rip;
	u32 insn_len;
	u32 insn_info;
	u32 intr_info;
	u32 intr_error;
	u32 idt_info;
	u32 idt_error;
};

/* Host state saved at vcpu_load and put back at vcpu_put. */
struct vmx_host_state {
	u16 ds, es, fs, gs;
	u64 fs_base, kernel_gs_base;
	u64 star, lstar, cstar, sfmask;
	struct desc_ptr gdt, idt;
	u64 debugctl;
	u64 tsc_aux;			/* Linux keeps its CPU number here */
};

struct vmx_vcpu {
	struct mvx_vcpu vcpu;		/* must be first: the core allocates us */

	void *vmcs;
	u64 vmcs_pa;
	int vmcs_cpu;			/* CPU the VMCS is active on, or -1 */
	struct list_head loaded_link;	/* on that CPU's list of active VMCSs */
	bool launched;			/* VMRESUME instead of VMLAUNCH */
	u16 vpid;			/* 0: VPID not used */

	/* Guest-visible values of the CR bits the guest cannot write itself. */
	u64 cr0, cr4, cr2, cr8;
	bool need_vpid_flush;

	/* Cached VMCS fields that only change rarely. */
	u64 eptp, host_cr3, host_cr4, tsc_offset;
	bool timer_on;			/* pin-based control currently set */

	/* Event to inject on the next entry. */
	u32 inject_info, inject_error, inject_len;
	u32 windows;			/* MVX_VMX_WINDOWS bits now set */

	struct vmx_exit_info exit;

	struct vmx_host_state host;
	bool guest_msrs_loaded;

	/*
	 * Debug registers: the guest owns the hardware ones after its first
	 * MOV DR.  dr6 is the guest's DR6 while it is outside the guest; the
	 * CPU leaves DR6 alone on a #DB that exits, so the #DB exit handler
	 * sets the bits here.
	 */
	bool guest_owns_dr;
	unsigned long dr[4], dr6;
};

static inline struct vmx_vcpu *to_vmx(struct mvx_vcpu *vcpu)
{
	return container_of(vcpu, struct vmx_vcpu, vcpu);
}

/* Per-CPU VMX state. */
struct vmx_cpu {
	bool on;
	void *vmxon_region;
	void *current_vmcs;		/* the VMCS last VMPTRLDed here */
	struct list_head loaded;	/* every VMCS active on this CPU */
};

DECLARE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* Capabilities computed once by probe(). */
struct vmx_caps {
	u32 revision;
	u32 pin, proc, proc2, exit, entry;
	u64 cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	u64 ept_vpid;
	u8 timer_rate;
	bool inout_info, pat, vpid;
};

extern struct vmx_caps vmx_caps;

/* CR bits the guest may not own: their guest view lives in vmx->cr0/cr4. */
extern u64 vmx_cr0_mask, vmx_cr4_mask;

#define MVX_CR0_ALWAYS_OFF	(X86_CR0_CD | X86_CR0_NW)

void vmx_vmwrite_error(unsigned long field, u64 val);

/*
 * VMREAD has an output, which the kernel does not trust GCC 12's asm goto
 * with: the fixup sets a flag instead.  A fault reads as 0.
 */
static __always_inline u64 vmcs_read(unsigned long field)
{
	unsigned long fault = 0;
	u64 val;

	asm volatile("1: vmread %[field], %[val]\n\t"
		     "jmp 3f\n"
		     "2: mov $1, %[fault]\n"
		     "3:\n\t"
		     _ASM_EXTABLE(1b, 2b)
		     : [val] "=r" (val), [fault] "+r" (fault)
		     : [field] "r" (field) : "cc");
	if (unlikely(fault)) {
		mvx_hw_fault("vmread");
		return 0;
	}
	return val;
}

static __always_inline void vmcs_write(unsigned long field, u64 val)
{
	asm goto("1: vmwrite %[val], %[field]\n\t"
		 "jbe %l[fail]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [val] "rm" (val), [field] "r" (field) : "cc"
		 : fail, fault);
	return;
fail:
	vmx_vmwrite_error(field, val);
	return;
fault:
	mvx_hw_fault("vmwrite");
}

static inline void vmcs_set_bits(unsigned long field, u64 bits)
{
	vmcs_write(field, vmcs_read(field) | bits);
}

static inline void vmcs_clear_bits(unsigned long field, u64 bits)
{
	vmcs_write(field, vmcs_read(field) & ~bits);
}

/* The VMLAUNCH/VMRESUME trampoline (vmx_enter.S). */
asmlinkage int mvx_vmx_run(u64 *gprs, u32 launched);

/* vmx_insn.c */
int vmx_vmxon(u64 pa);
void vmx_vmxoff(void);
void vmx_vmclear(u64 pa);
void vmx_vmptrld(u64 pa);
void vmx_flush_vpid(struct vmx_vcpu *vmx);
void vmx_flush_tlb(struct mvx_vcpu *vcpu);

/* vmx_caps.c */
int vmx_probe(void);

/* vmx_cpu.c */
int vmx_cpu_enable(void);
void vmx_vmcs_clear_local(void *arg);
void vmx_cpu_disable(void);
void vmx_emergency_disable(void);

/* vmx_state.c */
u32 vmx_seg_field(enum vmx_seg seg, u32 first_es_field);
void vmx_set_segment(enum vmx_seg seg, const struct mvx_segment *s);
u64 vmx_hw_cr0(u64 cr0);
u64 vmx_hw_cr4(u64 cr4);
u64 vmx_guest_cr0(struct vmx_vcpu *vmx);
u64 vmx_guest_cr4(struct vmx_vcpu *vmx);
int vmx_set_cr0(struct vmx_vcpu *vmx, u64 cr0);
int vmx_set_cr4(struct vmx_vcpu *vmx, u64 cr4);
void vmx_guest_takes_dr(struct vmx_vcpu *vmx);
void vmx_load_guest_dr(struct vmx_vcpu *vmx);
void vmx_save_guest_dr(struct vmx_vcpu *vmx);
void vmx_set_cr2(struct mvx_vcpu *vcpu, u64 cr2);
void vmx_set_dr6(struct mvx_vcpu *vcpu, u64 dr6);
void vmx_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs);
int vmx_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs);
void vmx_get_mode(struct mvx_vcpu *vcpu, struct mvx_cpu_mode *mode);
int vmx_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data);
int vmx_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data);

/* vmx_events.c */
void vmx_inject_event(struct mvx_vcpu *vcpu, const struct mvx_event *ev);
void vmx_set_windows(struct mvx_vcpu *vcpu, bool irq, bool nmi);
u8 vmx_get_interrupt_shadow(struct mvx_vcpu *vcpu);
void vmx_set_interrupt_shadow(struct mvx_vcpu *vcpu, u8 shadow);
bool vmx_get_nmi_mask(struct mvx_vcpu *vcpu);
void vmx_set_nmi_mask(struct mvx_vcpu *vcpu, bool masked);
u8 vmx_get_cr8(struct mvx_vcpu *vcpu);
void vmx_set_cr8(struct mvx_vcpu *vcpu, u8 cr8);
void vmx_complete_events(struct vmx_vcpu *vmx);

/* vmx_dump.c */
void vmx_dump_vmcs(struct vmx_vcpu *vmx);

/* vmx_exits.c */
int vmx_handle_exit(struct mvx_vcpu *vcpu);
bool vmx_handle_exit_irqoff(struct mvx_vcpu *vcpu);
void vmx_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info);

#endif /* _MVX_VMX_H */
