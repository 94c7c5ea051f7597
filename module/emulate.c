// SPDX-License-Identifier: GPL-2.0
/*
 * MMIO instruction decoding, shared by both backends.
 *
 * Neither EPT violations nor nested page faults say what the guest tried
 * to do, so the faulting instruction is fetched and decoded.  Only the
 * data-moving forms a device driver uses are understood: MOV to and from
 * memory (88, 89, 8A, 8B, C6, C7, A0-A3) and MOVZX/MOVSX (0F B6/B7/BE/BF).
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <asm/debugreg.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "core.h"
#include "trace.h"

#define MAX_INSN_LEN	15

struct insn {
	const u8 *p, *end;
	bool short_fetch;	/* the decode needed bytes past @end */
	u8 op_size;		/* 2, 4 or 8 */
	u8 addr_size;		/* 2, 4 or 8 */
	bool rex;
	u8 rex_w, rex_r;
	u8 modrm;
};

static bool insn_byte(struct insn *in, u8 *b)
{
	if (in->p >= in->end) {
		in->short_fetch = true;
		return false;
	}
	*b = *in->p++;
	return true;
}

static bool insn_skip(struct insn *in, unsigned int n)
{
	if (in->end - in->p < n) {
		in->short_fetch = true;
		return false;
	}
	in->p += n;
	return true;
}

/* Segment overrides, LOCK and REP: they do not change the data moved. */
static bool is_ignored_prefix(u8 b)
{
	return b == 0x26 || b == 0x2e || b == 0x36 || b == 0x3e ||
	       b == 0x64 || b == 0x65 || b == 0xf0 || b == 0xf2 || b == 0xf3;
}

static void insn_prefixes(struct insn *in, const struct mvx_cpu_mode *mode)
{
	bool long_mode = mode->cs_l;
	u8 b;

	in->op_size = long_mode || mode->cs_db ? 4 : 2;
	in->addr_size = long_mode ? 8 : mode->cs_db ? 4 : 2;

	for (; in->p < in->end; in->p++) {
		b = *in->p;
		if (b == 0x66)
			in->op_size = in->op_size == 2 ? 4 : 2;
		else if (b == 0x67)
			in->addr_size = long_mode ? 4 : in->addr_size == 2 ? 4 : 2;
		else if (!is_ignored_prefix(b))
			break;
	}

	/* REX, in 64-bit mode, comes right before the opcode. */
	if (long_mode && in->p < in->end && (*in->p & 0xf0) == 0x40) {
		b = *in->p++;
		in->rex = true;
		in->rex_w = (b >> 3) & 1;
		in->rex_r = (b >> 2) & 1;
		if (in->rex_w)
			in->op_size = 8;
	}
}

/* Skip ModRM's SIB and displacement; false for register operands. */
static bool insn_modrm_memory(struct insn *in)
{
	u8 mod, rm, sib;

	if (!insn_byte(in, &in->modrm))
		return false;
	mod = in->modrm >> 6;
	rm = in->modrm & 7;
	if (mod == 3)
		return false;

	if (in->addr_size == 2) {
		if (mod == 1)
			return insn_skip(in, 1);
		if (mod == 2 || (mod == 0 && rm == 6))
			return insn_skip(in, 2);
		return true;
	}
	if (rm == 4) {
		if (!insn_byte(in, &sib))
			return false;
		if (mod == 0 && (sib & 7) == 5)
			return insn_skip(in, 4);
	}
	if (mod == 1)
		return insn_skip(in, 1);
	if (mod == 2 || (mod == 0 && rm == 5))
		return insn_skip(in, 4);
	return true;
}

static unsigned int insn_reg(const struct insn *in)
{
	return ((in->modrm >> 3) & 7) | (in->rex_r << 3);
}

/* Where a register operand of @size bytes lives: AH..BH without REX. */
static void set_dest(struct mvx_completion *c, const struct insn *in,
		     unsigned int reg, u8 size)
{
	c->high_byte = size == 1 && !in->rex && reg >= 4 && reg < 8;
	c->reg = c->high_byte ? reg - 4 : reg;
	c->dest_size = size;
}

static u64 reg_value(struct mvx_vcpu *vcpu, const struct mvx_completion *c)
{
	u64 v = vcpu->gprs[c->reg];

	return c->high_byte ? v >> 8 : v;
}

static bool insn_imm(struct insn *in, unsigned int size, u64 *imm)
{
	const u8 *p = in->p;
	u64 v = 0;

	if (size == 8)
		size = 4;	/* imm32, sign-extended */
	if (!insn_skip(in, size))
		return false;
	memcpy(&v, p, size);
	if (size == 4 && in->op_size == 8)
		v = (u64)(s64)(s32)v;
	*imm = v;
	return true;
}

struct mmio_access {
	bool write;
	u8 len;
	u64 data;
};

/* Decode one instruction; fills @c (for reads) and @acc. */
static int decode(struct mvx_vcpu *vcpu, struct insn *in,
		  struct mvx_completion *c, struct mmio_access *acc)
{
	u8 op, op2;
	unsigned int reg;

	if (!insn_byte(in, &op))
		return -EINVAL;

	switch (op) {
	case 0x88:	/* MOV r/m8, r8 */
	case 0x89:	/* MOV r/m, r */
		if (!insn_modrm_memory(in))
			return -EINVAL;
		acc->write = true;
		acc->len = op == 0x88 ? 1 : in->op_size;
		set_dest(c, in, insn_reg(in), acc->len);
		acc->data = reg_value(vcpu, c);
		return 0;
	case 0x8a:	/* MOV r8, r/m8 */
	case 0x8b:	/* MOV r, r/m */
		if (!insn_modrm_memory(in))
			return -EINVAL;
		acc->len = op == 0x8a ? 1 : in->op_size;
		set_dest(c, in, insn_reg(in), acc->len);
		return 0;
	case 0xc6:	/* MOV r/m8, imm8 */
	case 0xc7:	/* MOV r/m, imm */
		if (!insn_modrm_memory(in) || ((in->modrm >> 3) & 7))
			return -EINVAL;
		acc->write = true;
		acc->len = op == 0xc6 ? 1 : in->op_size;
		return insn_imm(in, acc->len, &acc->data) ? 0 : -EINVAL;
	case 0xa0:	/* MOV AL, moffs8 */
	case 0xa1:	/* MOV eAX, moffs */
	case 0xa2:	/* MOV moffs8, AL */
	case 0xa3:	/* MOV moffs, eAX */
		if (!insn_skip(in, in->addr_size))
			return -EINVAL;
		acc->len = op & 1 ? in->op_size : 1;
		acc->write = op >= 0xa2;
		c->reg = MVX_RAX;
		c->dest_size = acc->len;
		c->high_byte = false;
		acc->data = vcpu->gprs[MVX_RAX];
		return 0;
	case 0x0f:
		if (!insn_byte(in, &op2))
			return -EINVAL;
		if (op2 != 0xb6 && op2 != 0xb7 && op2 != 0xbe && op2 != 0xbf)
			return -EINVAL;
		if (!insn_modrm_memory(in))
			return -EINVAL;
		/* MOVZX/MOVSX: read 1 or 2 bytes, widen to the operand size. */
		acc->len = op2 & 1 ? 2 : 1;
		reg = insn_reg(in);
		c->reg = reg;
		c->high_byte = false;
		c->dest_size = in->op_size;
		c->sign_extend = op2 >= 0xbe;
		return 0;
	default:
		return -EINVAL;
	}
}

/* What the instruction fetch for a decode got, and where it stopped. */
struct insn_fetch {
	u8 bytes[MAX_INSN_LEN];
	unsigned int len;
	bool fault;		/* stopped at a #PF the guest must get */
	u64 fault_addr;
	u32 fault_error;
};

/*
 * Fetch up to MAX_INSN_LEN bytes at CS:RIP with the permission checks of
 * an instruction fetch.  The instruction may straddle two guest pages;
 * the fetch stops where the second one cannot be read, and only a decode
 * that needs bytes from there fails.
 */
static void fetch_insn(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		       struct insn_fetch *f)
{
	u64 lin = mode->seg_base[MVX_CS] + vcpu->rip;

	if (!mode->cs_l)
		lin = (u32)lin;
	while (f->len < MAX_INSN_LEN) {
		u64 at = lin + f->len;
		unsigned int n = min_t(unsigned int, MAX_INSN_LEN - f->len,
				       PAGE_SIZE - offset_in_page(at));
		u64 gpa;
		int ret;

		if (!mode->cs_l)
			at = (u32)at;
		ret = mvx_gva_to_gpa_access(vcpu, mode, at, MVX_ACC_FETCH,
					    &gpa, &f->fault_error);
		if (ret < 0)
			break;
		if (ret > 0) {
			f->fault = true;
			f->fault_addr = at;
			break;
		}
		if (mvx_read_guest(vcpu, gpa, f->bytes + f->len, n))
			break;
		f->len += n;
	}
}

/*
 * The host completed an instruction for the guest.  With RFLAGS.TF set
 * the CPU would have trapped right after it, so do the same: #DB with
 * DR6.BS (SDM Vol. 3B, 18.3.1.4), at the next instruction.
 */
void mvx_skip_insn(struct mvx_vcpu *vcpu, u64 next_rip)
{
	vcpu->rip = next_rip;
	if (vcpu->rflags & X86_EFLAGS_TF) {
		mvx_ops->set_dr6(vcpu, DR6_RESERVED | DR_STEP);
		mvx_queue_exception(vcpu, X86_TRAP_DB, false, 0);
	}
}

int mvx_emulate_mmio(struct mvx_vcpu *vcpu, u64 gpa)
{
	struct mvx_completion *c = &vcpu->pending;
	struct mvx_run *run = vcpu->run;
	struct mmio_access acc = { };
	struct mvx_cpu_mode mode;
	struct insn_fetch f = { };
	struct insn in = { };

	/*
	 * The access belongs to the delivery of an event (the IDT, the
	 * stack, the TSS in MMIO), not to the instruction at RIP: decoding
	 * that would emulate the wrong thing.
	 */
	if (vcpu->exit_in_delivery) {
		pr_warn_ratelimited("vcpu %u: MMIO at gpa %#llx while delivering an event, rip %#llx\n",
				    vcpu->id, gpa, vcpu->rip);
		return mvx_exit_internal_error(vcpu,
					       MVX_INTERNAL_ERROR_DELIVERY_EV,
					       0, gpa, vcpu->rip);
	}

	mvx_ops->get_mode(vcpu, &mode);
	fetch_insn(vcpu, &mode, &f);
	in.p = f.bytes;
	in.end = f.bytes + f.len;
	memset(c, 0, sizeof(*c));
	insn_prefixes(&in, &mode);
	if (decode(vcpu, &in, c, &acc)) {
		/* The CPU could not fetch it either: its #PF, not ours. */
		if (in.short_fetch && f.fault) {
			mvx_inject_page_fault(vcpu, f.fault_addr, f.fault_error);
			return 1;
		}
		if (in.short_fetch) {
			pr_warn_ratelimited("vcpu %u: MMIO at gpa %#llx: instruction at rip %#llx cut short after %u bytes (%*ph)\n",
					    vcpu->id, gpa, vcpu->rip, f.len,
					    f.len, f.bytes);
			return mvx_exit_internal_error(vcpu,
						MVX_INTERNAL_ERROR_EMULATION,
						0, gpa, vcpu->rip);
		}
		goto fail;
	}

	c->what = acc.write ? MVX_PENDING_SKIP : MVX_PENDING_MMIO_READ;
	c->len = acc.len;
	c->next_rip = vcpu->rip + (in.p - f.bytes);

	run->exit_reason = MVX_EXIT_MMIO;
	run->mmio.phys_addr = gpa;
	run->mmio.len = acc.len;
	run->mmio.is_write = acc.write;
	memset(run->mmio.data, 0, sizeof(run->mmio.data));
	if (acc.write) {
		memcpy(run->mmio.data, &acc.data, acc.len);
		trace_minivmx_mmio(true, gpa, acc.len, acc.data &
				   GENMASK_ULL(acc.len * 8 - 1, 0));
	}
	return 0;

fail:
	pr_warn_ratelimited("vcpu %u: cannot emulate MMIO at gpa %#llx, rip %#llx (%*ph)\n",
			    vcpu->id, gpa, vcpu->rip, 8, f.bytes);
	return mvx_exit_internal_error(vcpu, MVX_INTERNAL_ERROR_EMULATION,
				       0, gpa, vcpu->rip);
}

/* Write an MMIO read's result into its destination register. */
void mvx_complete_mmio_read(struct mvx_vcpu *vcpu)
{
	struct mvx_completion *c = &vcpu->pending;
	u64 *reg = &vcpu->gprs[c->reg];
	u64 v = 0;

	memcpy(&v, vcpu->run->mmio.data, c->len);
	trace_minivmx_mmio(false, vcpu->run->mmio.phys_addr, c->len, v);
	if (c->sign_extend)
		v = c->len == 1 ? (u64)(s64)(s8)v : (u64)(s64)(s16)v;

	switch (c->dest_size) {
	case 1:
		if (c->high_byte)
			*reg = (*reg & ~0xff00ULL) | ((v & 0xff) << 8);
		else
			*reg = (*reg & ~0xffULL) | (v & 0xff);
		break;
	case 2:
		*reg = (*reg & ~0xffffULL) | (v & 0xffff);
		break;
	case 4:
		*reg = (u32)v;	/* 32-bit writes zero-extend */
		break;
	default:
		*reg = v;
	}
}
