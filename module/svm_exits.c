// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx SVM backend: what to do after each #VMEXIT.
 *
 * One table indexed by EXITCODE (AMD APM Vol. 2, Appendix C).  Handlers
 * return > 0 to re-enter the guest, 0 with vcpu->run filled for userspace,
 * or a negative errno.  Anything not in the table becomes
 * KVM_EXIT_INTERNAL_ERROR.
 */
#define pr_fmt(fmt) "minivmx: svm: " fmt

#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/mm.h>
#include <linux/uaccess.h>
#include <asm/debugreg.h>
#include <asm/msr.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "svm.h"

typedef int (*svm_exit_fn)(struct svm_vcpu *svm);

#define SVM_MAX_INSN_LEN	15

/* Fixed opcode lengths, for CPUs without NRIP save. */
#define SVM_LEN_HLT		1
#define SVM_LEN_0F		2	/* CPUID, RDMSR, WRMSR, INVD, WBINVD */
#define SVM_LEN_0F01		3	/* XSETBV */

/*
 * Fetch up to @len instruction bytes at the exit RIP through the guest's
 * own paging.  Returns how many bytes were readable.
 */
static unsigned int svm_fetch_insn(struct svm_vcpu *svm,
				   const struct mvx_cpu_mode *mode, u8 *buf,
				   unsigned int len)
{
	struct mvx_vcpu *vcpu = &svm->vcpu;
	unsigned int done = 0;
	u64 linear;

	linear = mode->seg_base[MVX_CS] + svm->exit.rip;
	if (!mode->cs_l)
		linear = (u32)linear;
	while (done < len) {
		u64 gva = linear + done, gpa;
		unsigned int chunk = min_t(unsigned int, len - done,
					   PAGE_SIZE - offset_in_page(gva));

		if (mvx_gva_to_gpa(vcpu, mode, gva, &gpa) ||
		    mvx_read_guest(vcpu, gpa, buf + done, chunk))
			break;
		done += chunk;
	}
	return done;
}

/* enum mvx_seg of a segment-override prefix, or -1 if @b is not one. */
static int svm_seg_prefix(u8 b)
{
	switch (b) {
	case 0x26:
		return MVX_ES;
	case 0x2e:
		return MVX_CS;
	case 0x36:
		return MVX_SS;
	case 0x3e:
		return MVX_DS;
	case 0x64:
		return MVX_FS;
	case 0x65:
		return MVX_GS;
	default:
		return -1;
	}
}

static bool svm_other_prefix(u8 b, bool long64)
{
	switch (b) {
	case 0x66: case 0x67: case 0xf0: case 0xf2: case 0xf3:
		return true;
	default:
		return long64 && (b & 0xf0) == 0x40;	/* REX */
	}
}

/* What the prefixes in front of an opcode say. */
struct svm_prefixes {
	unsigned int len;	/* bytes of prefixes */
	int seg;		/* last segment override, or -1 */
	bool addr_override;	/* 0x67 */
	bool lock;		/* 0xf0 */
	u8 rex;			/* the REX prefix right before the opcode, or 0 */
};

/*
 * Walk the prefixes at the start of @insn.  False if all @n bytes are
 * prefixes, no opcode in sight: then *p says "no prefixes".
 */
static bool svm_parse_prefixes(const u8 *insn, unsigned int n, bool long64,
			       struct svm_prefixes *p)
{
	unsigned int i;

	*p = (struct svm_prefixes) { .seg = -1 };
	for (i = 0; i < n; i++) {
		int s = svm_seg_prefix(insn[i]);

		if (s >= 0)
			p->seg = s;
		else if (!svm_other_prefix(insn[i], long64))
			break;
		p->addr_override |= insn[i] == 0x67;
		p->lock |= insn[i] == 0xf0;
		/* A REX prefix counts only right before the opcode. */
		p->rex = long64 && (insn[i] & 0xf0) == 0x40 ? insn[i] : 0;
	}
	if (i == n) {
		*p = (struct svm_prefixes) { .seg = -1 };
		return false;
	}
	p->len = i;
	return true;
}

#define SVM_SHORT_FETCH		4

/* The prefixes at the exit RIP; false if the code was unreadable. */
static bool svm_scan_prefixes(struct svm_vcpu *svm, struct svm_prefixes *p)
{
	u8 insn[SVM_MAX_INSN_LEN];
	struct mvx_cpu_mode mode;
	unsigned int n;
	bool long64;

	svm_get_mode(&svm->vcpu, &mode);
	long64 = (mode.efer & EFER_LMA) && mode.cs_l;
	/* Most instructions have at most one prefix: read a few bytes first. */
	n = svm_fetch_insn(svm, &mode, insn, SVM_SHORT_FETCH);
	if (svm_parse_prefixes(insn, n, long64, p))
		return true;
	if (n < SVM_SHORT_FETCH)
		return false;
	n = svm_fetch_insn(svm, &mode, insn, sizeof(insn));
	return svm_parse_prefixes(insn, n, long64, p);
}

/*
 * RIP after the intercepted instruction, whose opcode is @opcode_len long.
 * False if its prefixes were unreadable (then it is taken to have none).
 */
static bool svm_find_next_rip(struct svm_vcpu *svm, unsigned int opcode_len,
			      u64 *rip)
{
	struct svm_prefixes p;
	bool found;

	if (svm_caps.nrips) {
		*rip = svm->vmcb->control.next_rip;
		return true;
	}
	found = svm_scan_prefixes(svm, &p);
	*rip = svm->exit.rip + p.len + opcode_len;
	return found;
}

static u64 svm_next_rip(struct svm_vcpu *svm, unsigned int opcode_len)
{
	u64 rip;

	svm_find_next_rip(svm, opcode_len, &rip);
	return rip;
}

static int svm_exit_inject_ud(struct svm_vcpu *svm)
{
	mvx_queue_exception(&svm->vcpu, X86_TRAP_UD, false, 0);
	return 1;
}

static int svm_exit_inject_gp(struct svm_vcpu *svm)
{
	mvx_queue_exception(&svm->vcpu, X86_TRAP_GP, true, 0);
	return 1;
}

/* Interrupts, NMIs and SMIs are the host's: taken once GIF and IF are set. */
static int svm_exit_host_event(struct svm_vcpu *svm)
{
	return 1;
}

/*
 * #DB and #AC are intercepted only so that a guest whose handler raises
 * them again cannot keep the CPU in microcode forever: hand them back.
 */
/* svm_vcpu_enter already ran the host's machine-check handler. */
static int svm_exit_host_mc(struct svm_vcpu *svm)
{
	return 1;
}

/*
 * #DB and #AC, intercepted only so the host keeps the CPU: the CPU already
 * set the guest's DR6 in the VMCB for a #DB, so re-injecting is all there is;
 * #AC's error code is always 0.
 */
static int svm_exit_reflect_exception(struct svm_vcpu *svm)
{
	u8 vector = svm->exit.code - SVM_EXIT_EXCP_BASE;

	/* Our own step over an NMI handler's IRET (svm_events.c). */
	if (vector == X86_TRAP_DB && svm_nmi_singlestep_db(svm)) {
		svm->vmcb->save.dr6 &= ~DR_STEP;
		return 1;
	}

	mvx_queue_exception(&svm->vcpu, vector, vector == X86_TRAP_AC, 0);
	return 1;
}

/* The ModRM memory operand's address size, from the mode and a 0x67. */
static unsigned int svm_addr_size(struct svm_vcpu *svm,
				  const struct mvx_cpu_mode *mode,
				  const struct svm_prefixes *p)
{
	if ((mode->efer & EFER_LMA) && mode->cs_l)
		return p->addr_override ? 4 : 8;
	if (mode->cs_db && (mode->cr0 & X86_CR0_PE) &&
	    !(svm->vcpu.rflags & X86_EFLAGS_VM))
		return p->addr_override ? 2 : 4;
	return p->addr_override ? 4 : 2;
}

static s64 svm_disp(const u8 *insn, unsigned int at, unsigned int size)
{
	u32 v = 0;
	unsigned int i;

	for (i = 0; i < size; i++)
		v |= (u32)insn[at + i] << (8 * i);
	if (size == 1)
		return (s8)v;
	if (size == 2)
		return (s16)v;
	return (s32)v;
}

/*
 * Effective address of the 16-bit-addressing ModRM at insn[*at] (mod != 3):
 * *at moves past the displacement.  False if the bytes run out.
 */
static bool svm_ea16(struct svm_vcpu *svm, const u8 *insn, unsigned int n,
		     unsigned int *at, u64 *ea, int *seg)
{
	static const s8 base16[8] = { MVX_RBX, MVX_RBX, MVX_RBP, MVX_RBP,
				      -1, -1, MVX_RBP, MVX_RBX };
	static const s8 index16[8] = { MVX_RSI, MVX_RDI, MVX_RSI, MVX_RDI,
				       MVX_RSI, MVX_RDI, -1, -1 };
	const u64 *gprs = svm->vcpu.gprs;
	u8 modrm = insn[*at], mod = modrm >> 6, rm = modrm & 7;
	unsigned int dsize = mod == 1 ? 1 : mod == 2 ? 2 : 0;
	u64 v = 0;

	if (mod == 0 && rm == 6) {
		dsize = 2;
	} else {
		if (base16[rm] >= 0)
			v += gprs[base16[rm]];
		if (index16[rm] >= 0)
			v += gprs[index16[rm]];
		if (base16[rm] == MVX_RBP)
			*seg = MVX_SS;
	}
	*at += 1;
	if (*at + dsize > n)
		return false;
	if (dsize)
		v += svm_disp(insn, *at, dsize);
	*at += dsize;
	*ea = v & 0xffff;
	return true;
}

/* The same for 32- and 64-bit addressing, SIB and RIP-relative included. */
static bool svm_ea32(struct svm_vcpu *svm, const u8 *insn, unsigned int n,
		     unsigned int *at, u8 rex, unsigned int asize, u64 *ea,
		     int *seg, bool *rip_rel)
{
	const u64 *gprs = svm->vcpu.gprs;
	u8 modrm = insn[*at], mod = modrm >> 6, rm = modrm & 7;
	unsigned int dsize = mod == 1 ? 1 : mod == 2 ? 4 : 0;
	u64 v = 0;

	*at += 1;
	if (rm == 4) {
		u8 sib, base, index;

		if (*at >= n)
			return false;
		sib = insn[(*at)++];
		base = (sib & 7) | (rex & 1) << 3;
		index = ((sib >> 3) & 7) | (rex & 2) << 2;
		if (index != 4)
			v += gprs[index] << (sib >> 6);
		if ((sib & 7) == 5 && mod == 0) {
			dsize = 4;
		} else {
			v += gprs[base];
			if ((base & 7) == 4 || (base & 7) == 5)
				*seg = MVX_SS;
		}
	} else if (rm == 5 && mod == 0) {
		dsize = 4;
		*rip_rel = true;	/* only in 64-bit mode */
	} else {
		v += gprs[rm | (rex & 1) << 3];
		if (rm == 5)
			*seg = MVX_SS;
	}
	if (*at + dsize > n)
		return false;
	if (dsize)
		v += svm_disp(insn, *at, dsize);
	*at += dsize;
	*ea = v;
	return true;
}

/*
 * LMSW from memory (0F 01 /6, mod != 3): read the 16-bit source operand
 * at the ModRM in insn[at].  *len becomes the instruction's length.
 */
static bool svm_lmsw_mem_operand(struct svm_vcpu *svm,
				 const struct mvx_cpu_mode *mode,
				 const u8 *insn, unsigned int n,
				 unsigned int at, const struct svm_prefixes *p,
				 u16 *val, unsigned int *len)
{
	unsigned int asize = svm_addr_size(svm, mode, p), i;
	bool long64 = (mode->efer & EFER_LMA) && mode->cs_l;
	bool rip_rel = false;
	int seg = MVX_DS;
	u64 ea, linear;
	u8 bytes[2];

	if (!(asize == 2 ? svm_ea16(svm, insn, n, &at, &ea, &seg) :
			   svm_ea32(svm, insn, n, &at, p->rex, asize, &ea,
				    &seg, &rip_rel)))
		return false;
	if (rip_rel && long64)
		ea += svm->exit.rip + at;
	if (asize == 4)
		ea = (u32)ea;
	if (p->seg >= 0)
		seg = p->seg;
	/* In 64-bit mode only FS and GS have a base. */
	linear = ea;
	if (!long64 || seg == MVX_FS || seg == MVX_GS)
		linear += mode->seg_base[seg];
	if (!long64)
		linear = (u32)linear;
	for (i = 0; i < 2; i++) {
		u64 gpa;

		if (mvx_gva_to_gpa(&svm->vcpu, mode, linear + i, &gpa) ||
		    mvx_read_guest(&svm->vcpu, gpa, &bytes[i], 1))
			return false;
	}
	*val = bytes[0] | bytes[1] << 8;
	*len = at;
	return true;
}

/*
 * Decode the guest's write to CR0 at RIP: MOV from a register (0F 22 /0),
 * CLTS (0F 06) or LMSW (0F 01 /6) from a register or memory: the new CR0
 * in *cr0 and the length in *len.  False for unreadable code or operand.
 */
static bool svm_decode_cr0_write(struct svm_vcpu *svm,
				 const struct mvx_cpu_mode *mode,
				 u64 *cr0, unsigned int *len)
{
	struct mvx_vcpu *vcpu = &svm->vcpu;
	bool long64 = (mode->efer & EFER_LMA) && mode->cs_l;
	u8 insn[SVM_MAX_INSN_LEN], rex, modrm;
	struct svm_prefixes p;
	unsigned int n, i, reg;

	n = svm_fetch_insn(svm, mode, insn, sizeof(insn));
	/* LOCK MOV CR0 is AMD's MOV CR8: never a CR0 write. */
	if (!svm_parse_prefixes(insn, n, long64, &p) || p.lock)
		return false;
	i = p.len;
	rex = p.rex;
	if (i + 2 > n || insn[i] != 0x0f)
		return false;
	if (insn[i + 1] == 0x06) {
		*cr0 = mode->cr0 & ~X86_CR0_TS;
		*len = i + 2;
		return true;
	}
	if (i + 3 > n)
		return false;
	modrm = insn[i + 2];
	reg = (modrm & 7) | (rex & 1) << 3;
	*len = i + 3;
	/* MOV CR0: ModRM.mod is ignored, the operand is always a register. */
	if (insn[i + 1] == 0x22 && !(modrm & 0x38) && !(rex & 0x4)) {
		*cr0 = long64 ? vcpu->gprs[reg] : (u32)vcpu->gprs[reg];
		return true;
	}
	/* LMSW loads CR0 bits 3:0 but cannot clear PE. */
	if (insn[i + 1] == 0x01 && (modrm & 0xf8) == 0xf0) {
		*cr0 = (mode->cr0 & ~0xeULL) | (vcpu->gprs[reg] & 0xf);
		return true;
	}
	if (insn[i + 1] == 0x01 && (modrm & 0x38) == 0x30) {
		u16 msw;

		if (!svm_lmsw_mem_operand(svm, mode, insn, n, i + 2, &p, &msw,
					  len))
			return false;
		*cr0 = (mode->cr0 & ~0xeULL) | (msw & 0xf);
		return true;
	}
	return false;
}

/*
 * The CPU's own checks for a CR0 write, then the write, entering or
 * leaving long mode here when paging is switched with EFER.LME set: the
 * VMCB must never hold LME without paging (see svm_write_efer()).
 */
static int svm_emulate_cr0_write(struct svm_vcpu *svm,
				 const struct mvx_cpu_mode *mode,
				 u64 cr0, unsigned int len)
{
	bool long64 = (mode->efer & EFER_LMA) && mode->cs_l;
	bool pg = cr0 & X86_CR0_PG;
	bool pg_switch = (cr0 ^ mode->cr0) & X86_CR0_PG;
	u64 rip = svm->vcpu.rip + len;

	if (!mvx_cr0_valid(cr0, mode->cr4, 0) ||
	    (pg_switch && pg && (!(mode->cr4 & X86_CR4_PAE) || mode->cs_l)) ||
	    (pg_switch && !pg && long64)) {
		mvx_queue_exception(&svm->vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	svm_set_cr0(svm, cr0 | X86_CR0_ET);
	if (pg_switch)
		svm_write_efer(svm, pg ? mode->efer | EFER_LMA :
					 mode->efer & ~EFER_LMA);
	mvx_skip_insn(&svm->vcpu, long64 ? rip : (u32)rip);
	svm_flush_tlb(&svm->vcpu);
	return 1;
}

/*
 * Guest CR0 writes are intercepted while CD/NW are kept out of the
 * hardware and while EFER.LME is set.  With LME every write is ours to do:
 * paging switches must not reach the CPU (svm_write_efer()), and clearing
 * PG from 64-bit code must raise #GP, which QEMU's TCG does not do.
 * Without LME the hiding of CD/NW ends and the CPU runs the write again.
 */
static int svm_exit_cr0_write(struct svm_vcpu *svm)
{
	struct mvx_cpu_mode mode;
	unsigned int len;
	u64 cr0;

	mvx_ops->get_mode(&svm->vcpu, &mode);
	if (mode.efer & EFER_LME) {
		if (!svm_decode_cr0_write(svm, &mode, &cr0, &len))
			return mvx_exit_internal_error(&svm->vcpu,
						       MVX_INTERNAL_ERROR_EMULATION,
						       svm->exit.code, mode.cr0,
						       mode.efer);
		return svm_emulate_cr0_write(svm, &mode, cr0, len);
	}
	svm->cr0_hidden = 0;
	return 1;
}

/*
 * MOV to CR4 (0F 22 /4): *cr4 gets the source register, *len the length.
 * False for code we cannot read.
 */
static bool svm_decode_cr4_write(struct svm_vcpu *svm,
				 const struct mvx_cpu_mode *mode,
				 u64 *cr4, unsigned int *len)
{
	bool long64 = (mode->efer & EFER_LMA) && mode->cs_l;
	u8 insn[SVM_MAX_INSN_LEN], modrm;
	struct svm_prefixes p;
	unsigned int n, i, reg;

	n = svm_fetch_insn(svm, mode, insn, sizeof(insn));
	if (!svm_parse_prefixes(insn, n, long64, &p))
		return false;
	i = p.len;
	if (i + 3 > n || insn[i] != 0x0f || insn[i + 1] != 0x22)
		return false;
	modrm = insn[i + 2];
	if (((modrm >> 3) & 7) != 4 || (p.rex & 0x4))
		return false;
	reg = (modrm & 7) | (p.rex & 1) << 3;
	*cr4 = long64 ? svm->vcpu.gprs[reg] : (u32)svm->vcpu.gprs[reg];
	*len = i + 3;
	return true;
}

/*
 * Guest CR4 writes are ours, as KVM does it: only bits the CPU and our
 * CPUID offer reach the VMCB, so SET_SREGS accepts whatever GET_SREGS
 * shows.  (QEMU's TCG also left a VMCB that its next VMRUN refused after
 * a guest's own MOV to CR4.)
 */
static int svm_exit_cr4_write(struct svm_vcpu *svm)
{
	struct svm_vmcb_save *save = &svm->vmcb->save;
	bool long64, lma;
	struct mvx_cpu_mode mode;
	unsigned int len;
	u64 cr4, rip;

	svm_get_mode(&svm->vcpu, &mode);
	if (!svm_decode_cr4_write(svm, &mode, &cr4, &len))
		return mvx_exit_internal_error(&svm->vcpu,
					       MVX_INTERNAL_ERROR_EMULATION,
					       svm->exit.code, mode.cr4,
					       mode.efer);
	lma = mode.efer & EFER_LMA;
	long64 = lma && mode.cs_l;
	if (mode.cpl || (cr4 & ~mvx_cr4_allowed) ||
	    (lma && !(cr4 & X86_CR4_PAE)) ||
	    ((cr4 & X86_CR4_PCIDE) && !(mode.cr4 & X86_CR4_PCIDE) &&
	     (!lma || (mode.cr3 & 0xfff))))
		return svm_exit_inject_gp(svm);
	save->cr4 = cr4;
	svm_flush_tlb(&svm->vcpu);
	rip = svm->vcpu.rip + len;
	mvx_skip_insn(&svm->vcpu, long64 ? rip : (u32)rip);
	return 1;
}

/*
 * First guest access to a debug register: from now on DR0-3 are switched
 * around every entry, and the guest's MOV DR runs again natively.
 */
static int svm_exit_dr_access(struct svm_vcpu *svm)
{
	svm->guest_owns_dr = true;
	svm->vmcb->control.dr_read = 0;
	svm->vmcb->control.dr_write = 0;
	return 1;
}

static int svm_exit_cpuid(struct svm_vcpu *svm)
{
	return mvx_handle_cpuid(&svm->vcpu, svm_next_rip(svm, SVM_LEN_0F));
}

static int svm_exit_hlt(struct svm_vcpu *svm)
{
	return mvx_exit_hlt(&svm->vcpu, svm_next_rip(svm, SVM_LEN_HLT));
}

/* INVD and WBINVD: guest memory is ordinary write-back host memory. */
static int svm_exit_skip_cache_op(struct svm_vcpu *svm)
{
	mvx_skip_insn(&svm->vcpu, svm_next_rip(svm, SVM_LEN_0F));
	return 1;
}

static int svm_exit_msr(struct svm_vcpu *svm)
{
	u64 next_rip = svm_next_rip(svm, SVM_LEN_0F);

	if (svm->exit.info1)
		return mvx_handle_wrmsr(&svm->vcpu, next_rip);
	return mvx_handle_rdmsr(&svm->vcpu, next_rip);
}

static int svm_exit_xsetbv(struct svm_vcpu *svm)
{
	return mvx_handle_xsetbv(&svm->vcpu, svm_next_rip(svm, SVM_LEN_0F01));
}

/*
 * Address size and OUTS segment of a string I/O instruction.  EXITINFO1
 * has the segment only with decode assists, and QEMU's emulated SVM leaves
 * the address-size bits clear: then decode them from the mode and prefixes.
 */
static void svm_string_io_decode(struct svm_vcpu *svm, struct mvx_pio *pio)
{
	u64 info = svm->exit.info1;
	struct mvx_cpu_mode mode;
	struct svm_prefixes p;

	pio->addr_size = 2 * ((info >> SVM_IO_ADDR_SHIFT) & 7);
	if (svm_caps.decode_assists && !pio->in) {
		pio->seg = (info >> SVM_IO_SEG_SHIFT) & 7;
		if (pio->seg > MVX_GS)
			pio->seg = MVX_DS;
	}
	if (pio->addr_size && svm_caps.decode_assists)
		return;

	svm_scan_prefixes(svm, &p);
	if (!svm_caps.decode_assists && !pio->in)
		pio->seg = p.seg >= 0 ? p.seg : MVX_DS;
	if (pio->addr_size)
		return;
	svm_get_mode(&svm->vcpu, &mode);
	if ((mode.efer & EFER_LMA) && mode.cs_l)
		pio->addr_size = p.addr_override ? 4 : 8;
	else if (mode.cs_db && (mode.cr0 & X86_CR0_PE) &&
		 !(svm->vcpu.rflags & X86_EFLAGS_VM))
		pio->addr_size = p.addr_override ? 2 : 4;
	else
		pio->addr_size = p.addr_override ? 4 : 2;
}

static int svm_exit_io(struct svm_vcpu *svm)
{
	u64 info = svm->exit.info1;
	struct mvx_pio pio = {
		.port = info >> SVM_IO_PORT_SHIFT,
		.size = (info >> SVM_IO_SIZE_SHIFT) & 7,
		.in = info & SVM_IO_IN,
		.string = info & SVM_IO_STRING,
		.rep = info & SVM_IO_REP,
		.seg = MVX_ES,
		.next_rip = svm->exit.info2,
	};

	if (pio.size != 1 && pio.size != 2 && pio.size != 4)
		return mvx_exit_internal_error(&svm->vcpu,
					       MVX_INTERNAL_ERROR_EMULATION,
					       svm->exit.code, info,
					       svm->exit.info2);
	if (pio.string)
		svm_string_io_decode(svm, &pio);
	return mvx_handle_pio(&svm->vcpu, &pio);
}

static int svm_exit_npf(struct svm_vcpu *svm)
{
	u64 error = svm->exit.info1, gpa = svm->exit.info2;

	/* A reserved bit in our own table: nothing the guest can fix. */
	if (error & SVM_NPF_RSVD) {
		pr_err_ratelimited("nested page table entry for GPA %#llx has reserved bits set\n",
				   gpa);
		return mvx_exit_internal_error(&svm->vcpu,
					       MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
					       svm->exit.code, error, gpa);
	}
	return mvx_handle_npf(&svm->vcpu, gpa, error & SVM_NPF_WRITE);
}

/*
 * Triple fault.  Userspace sees the state at the fault, as on VMX, and
 * decides whether to reset the vCPU.  The APM does not promise that the
 * saved state is meaningful after SHUTDOWN (KVM re-initializes the VMCB),
 * but whatever the CPU left there belongs to the guest alone: a later
 * VMRUN still runs its consistency checks (VMEXIT_INVALID), so running it
 * again cannot hurt the host.
 */
/* The guest can take the virtual interrupt, so a real one: the core decides. */
static int svm_exit_vintr(struct svm_vcpu *svm)
{
	return mvx_exit_window(&svm->vcpu);
}

static int svm_exit_shutdown(struct svm_vcpu *svm)
{
	return mvx_exit_shutdown(&svm->vcpu);
}

static const svm_exit_fn svm_exit_handlers[SVM_EXIT_MAX + 1] = {
	[SVM_EXIT_WRITE_CR0] = svm_exit_cr0_write,
	[SVM_EXIT_WRITE_CR4] = svm_exit_cr4_write,
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR7] = svm_exit_dr_access,
	[SVM_EXIT_EXCP_BASE + SVM_DB_VECTOR] = svm_exit_reflect_exception,
	[SVM_EXIT_EXCP_BASE + SVM_AC_VECTOR] = svm_exit_reflect_exception,
	[SVM_EXIT_EXCP_BASE + X86_TRAP_MC] = svm_exit_host_mc,
	[SVM_EXIT_INTR] = svm_exit_host_event,
	[SVM_EXIT_NMI] = svm_exit_host_event,
	[SVM_EXIT_SMI] = svm_exit_host_event,
	[SVM_EXIT_VINTR] = svm_exit_vintr,
	[SVM_EXIT_IRET] = svm_exit_iret,
	[SVM_EXIT_RDPMC] = svm_exit_inject_gp,
	[SVM_EXIT_CPUID] = svm_exit_cpuid,
	[SVM_EXIT_INVD] = svm_exit_skip_cache_op,
	[SVM_EXIT_HLT] = svm_exit_hlt,
	[SVM_EXIT_INVLPGA] = svm_exit_inject_ud,
	[SVM_EXIT_IOIO] = svm_exit_io,
	[SVM_EXIT_MSR] = svm_exit_msr,
	[SVM_EXIT_SHUTDOWN] = svm_exit_shutdown,
	/* VMRUN, VMMCALL, VMLOAD, VMSAVE, STGI, CLGI, SKINIT: no nested SVM. */
	[SVM_EXIT_VMRUN ... SVM_EXIT_SKINIT] = svm_exit_inject_ud,
	[SVM_EXIT_WBINVD] = svm_exit_skip_cache_op,
	[SVM_EXIT_MONITOR ... SVM_EXIT_MWAIT_COND] = svm_exit_inject_ud,
	[SVM_EXIT_XSETBV] = svm_exit_xsetbv,
	[SVM_EXIT_NPF] = svm_exit_npf,
};

static int svm_exit_invalid(struct svm_vcpu *svm)
{
	struct svm_vmcb_save *s = &svm->vmcb->save;

	pr_warn_ratelimited("VMRUN refused the state of vCPU %u (VMEXIT_INVALID): cr0=%#llx cr3=%#llx cr4=%#llx efer=%#llx cs=%04x/%03x\n",
			    svm->vcpu.id, s->cr0, s->cr3, s->cr4, s->efer,
			    s->cs.sel, s->cs.attrib);
	svm_dump_vmcb(svm);
	/* KVM reports the raw 32-bit EXITCODE. */
	return mvx_exit_fail_entry(&svm->vcpu, (u32)svm->exit.code);
}

static int svm_exit_unexpected(struct svm_vcpu *svm)
{
	pr_warn_ratelimited("unexpected exit %#llx (info1 %#llx info2 %#llx) at RIP %#llx\n",
			    svm->exit.code, svm->exit.info1, svm->exit.info2,
			    svm->exit.rip);
	return mvx_exit_internal_error(&svm->vcpu,
				       MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
				       svm->exit.code, svm->exit.info1,
				       svm->exit.info2);
}

static const char *const svm_exit_names[SVM_EXIT_MAX + 1] = {
	[SVM_EXIT_WRITE_CR0] = "WRITE_CR0",
	[SVM_EXIT_WRITE_CR4] = "WRITE_CR4",
	[SVM_EXIT_READ_DR0 ... SVM_EXIT_WRITE_DR7] = "DR_ACCESS",
	[SVM_EXIT_EXCP_BASE + SVM_DB_VECTOR] = "EXCP_DB",
	[SVM_EXIT_EXCP_BASE + SVM_AC_VECTOR] = "EXCP_AC",
	[SVM_EXIT_EXCP_BASE + X86_TRAP_MC] = "EXCP_MC",
	[SVM_EXIT_INTR] = "INTR",
	[SVM_EXIT_NMI] = "NMI",
	[SVM_EXIT_SMI] = "SMI",
	[SVM_EXIT_VINTR] = "VINTR",
	[SVM_EXIT_IRET] = "IRET",
	[SVM_EXIT_RDPMC] = "RDPMC",
	[SVM_EXIT_CPUID] = "CPUID",
	[SVM_EXIT_INVD] = "INVD",
	[SVM_EXIT_HLT] = "HLT",
	[SVM_EXIT_INVLPGA] = "INVLPGA",
	[SVM_EXIT_IOIO] = "IOIO",
	[SVM_EXIT_MSR] = "MSR",
	[SVM_EXIT_SHUTDOWN] = "SHUTDOWN",
	[SVM_EXIT_VMRUN ... SVM_EXIT_SKINIT] = "SVM_INSN",
	[SVM_EXIT_WBINVD] = "WBINVD",
	[SVM_EXIT_MONITOR ... SVM_EXIT_MWAIT_COND] = "MONITOR_MWAIT",
	[SVM_EXIT_XSETBV] = "XSETBV",
	[SVM_EXIT_NPF] = "NPF",
};

/* For the exit tracepoint: everything the dispatcher decides on. */
void svm_exit_info(struct mvx_vcpu *vcpu, struct mvx_exit_info *info)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 code = svm->exit.code;

	info->reason = code;
	info->info1 = svm->exit.info1;
	info->info2 = svm->exit.info2;
	if (code == SVM_EXIT_INVALID)
		info->name = "INVALID";
	else if (code <= SVM_EXIT_MAX && svm_exit_names[code])
		info->name = svm_exit_names[code];
	else
		info->name = "?";
}

/*
 * CPUID with interrupts off.  Without NRIP save the code is read only if
 * that takes no host page fault; otherwise handle_exit() does it.
 */
bool svm_handle_exit_irqoff(struct mvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 next_rip;
	bool found;

	if (svm->exit.code != SVM_EXIT_CPUID)
		return false;
	pagefault_disable();
	found = svm_find_next_rip(svm, SVM_LEN_0F, &next_rip);
	pagefault_enable();
	return found && mvx_handle_cpuid(vcpu, next_rip) > 0;
}

int svm_handle_exit(struct mvx_vcpu *vcpu)
{
	struct svm_vcpu *svm = to_svm(vcpu);
	u64 code = svm->exit.code;

	if (code == MVX_SVM_EXIT_LOST)
		return mvx_exit_hw_lost(vcpu);
	if (code == SVM_EXIT_INVALID)
		return svm_exit_invalid(svm);
	if (code <= SVM_EXIT_MAX && svm_exit_handlers[code])
		return svm_exit_handlers[code](svm);
	return svm_exit_unexpected(svm);
}
