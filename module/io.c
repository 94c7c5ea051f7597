// SPDX-License-Identifier: GPL-2.0
/*
 * Exits that end in userspace (port I/O, HLT, shutdown, errors) and their
 * completion on the next MVX_RUN, plus XSETBV.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <asm/fpu/xcr.h>
#include <asm/fpu/xstate.h>
#include <asm/trapnr.h>
#include "core.h"
#include "trace.h"

#define RFLAGS_DF	BIT_ULL(10)
/* The most string I/O elements moved per exit: one data page's worth. */
#define PIO_DATA_SIZE	PAGE_SIZE

static u64 addr_mask(u8 addr_size)
{
	return addr_size == 8 ? ~0ULL : (1ULL << (addr_size * 8)) - 1;
}

static void fill_io_exit(struct mvx_vcpu *vcpu, const struct mvx_pio *pio,
			 u32 count)
{
	struct mvx_run *run = vcpu->run;

	run->exit_reason = MVX_EXIT_IO;
	run->io.direction = pio->in ? MVX_EXIT_IO_IN : MVX_EXIT_IO_OUT;
	run->io.size = pio->size;
	run->io.port = pio->port;
	run->io.count = count;
	run->io.data_offset = MVX_PIO_PAGE_OFFSET * PAGE_SIZE;
}

/* The guest-linear address of string element @i. */
static u64 string_elem_gva(struct mvx_vcpu *vcpu,
			   const struct mvx_cpu_mode *mode,
			   const struct mvx_pio *pio, u32 i)
{
	enum mvx_gpr reg = pio->in ? MVX_RDI : MVX_RSI;
	u8 seg = pio->in ? MVX_ES : pio->seg;
	u64 mask = addr_mask(pio->addr_size);
	s64 step = vcpu->rflags & RFLAGS_DF ? -(s64)pio->size : pio->size;
	u64 off = (vcpu->gprs[reg] + step * i) & mask;
	u64 gva = mode->seg_base[seg] + off;

	return mode->cs_l ? gva : (u32)gva;
}

/* The guest-physical address of string element @i, or -EFAULT. */
static int string_elem_gpa(struct mvx_vcpu *vcpu,
			   const struct mvx_cpu_mode *mode,
			   const struct mvx_pio *pio, u32 i, u64 *gpa)
{
	return mvx_gva_to_gpa(vcpu, mode, string_elem_gva(vcpu, mode, pio, i),
			      gpa);
}

/*
 * Check element @i the way the CPU's own access would: INS writes, OUTS
 * reads, with the guest's paging permissions (a CPL 3 REP INS must not
 * fill a supervisor or read-only page).  0 with *@gpa, 1 when element @i
 * raises #PF (*@fault_addr, *@pf_error), -EFAULT for unbacked tables.
 */
static int string_elem_check(struct mvx_vcpu *vcpu,
			     const struct mvx_cpu_mode *mode,
			     const struct mvx_pio *pio, u32 i, u64 *gpa,
			     u64 *fault_addr, u32 *pf_error)
{
	u32 access = pio->in ? MVX_ACC_WRITE : 0;
	u64 gva = string_elem_gva(vcpu, mode, pio, i);
	u64 last = gva + pio->size - 1, last_gpa;
	int ret;

	ret = mvx_gva_to_gpa_access(vcpu, mode, gva, access, gpa, pf_error);
	if (ret) {
		*fault_addr = gva;
		return ret;
	}
	if (!mode->cs_l)
		last = (u32)last;
	/* An element straddling a page boundary needs both pages. */
	if ((last ^ gva) >> PAGE_SHIFT) {
		ret = mvx_gva_to_gpa_access(vcpu, mode, last & PAGE_MASK,
					    access, &last_gpa, pf_error);
		if (ret)
			*fault_addr = last & PAGE_MASK;
	}
	return ret;
}

static int string_io(struct mvx_vcpu *vcpu, const struct mvx_pio *pio)
{
	struct mvx_completion *c = &vcpu->pending;
	u64 count = 1, gpa, fault_addr;
	struct mvx_cpu_mode mode;
	u32 i, pf_error;
	int ret;

	if (pio->rep) {
		count = vcpu->gprs[MVX_RCX] & addr_mask(pio->addr_size);
		if (!count) {
			mvx_skip_insn(vcpu, pio->next_rip);
			return 1;
		}
	}
	count = min_t(u64, count, PIO_DATA_SIZE / pio->size);

	mvx_ops->get_mode(vcpu, &mode);
	for (i = 0; i < count; i++) {
		ret = string_elem_check(vcpu, &mode, pio, i, &gpa,
					&fault_addr, &pf_error);
		if (ret < 0)
			goto fault;
		/*
		 * The elements before the faulting one are moved first, as
		 * the CPU would; the next run of the instruction faults.
		 */
		if (ret > 0 && !i) {
			mvx_inject_page_fault(vcpu, fault_addr, pf_error);
			return 1;
		}
		if (ret > 0) {
			count = i;
			break;
		}
		if (!pio->in &&
		    mvx_read_guest(vcpu, gpa, vcpu->pio_data + i * pio->size,
				   pio->size))
			goto fault;
	}

	c->what = MVX_PENDING_PIO_STRING;
	c->pio = *pio;
	c->count = count;
	c->next_rip = pio->next_rip;
	fill_io_exit(vcpu, pio, count);
	if (!pio->in)
		trace_minivmx_pio(true, pio->port, pio->size, count,
				  *(u32 *)vcpu->pio_data);
	return 0;

fault:
	pr_warn_ratelimited("vcpu %u: string I/O on port %#x touches unbacked guest memory\n",
			    vcpu->id, pio->port);
	return mvx_exit_internal_error(vcpu, MVX_INTERNAL_ERROR_EMULATION,
				       0, pio->port, vcpu->rip);
}

int mvx_handle_pio(struct mvx_vcpu *vcpu, const struct mvx_pio *pio)
{
	struct mvx_completion *c = &vcpu->pending;

	if (pio->string)
		return string_io(vcpu, pio);

	memset(c, 0, sizeof(*c));
	c->next_rip = pio->next_rip;
	if (pio->in) {
		c->what = MVX_PENDING_PIO_IN;
		c->pio = *pio;
	} else {
		c->what = MVX_PENDING_SKIP;
		memcpy(vcpu->pio_data, &vcpu->gprs[MVX_RAX], pio->size);
		trace_minivmx_pio(true, pio->port, pio->size, 1,
				  vcpu->gprs[MVX_RAX] &
				  GENMASK_ULL(pio->size * 8 - 1, 0));
	}
	fill_io_exit(vcpu, pio, 1);
	return 0;
}

static void complete_pio_in(struct mvx_vcpu *vcpu)
{
	u64 *rax = &vcpu->gprs[MVX_RAX];
	u32 v = 0;

	memcpy(&v, vcpu->pio_data, vcpu->pending.pio.size);
	trace_minivmx_pio(false, vcpu->pending.pio.port,
			  vcpu->pending.pio.size, 1, v);
	switch (vcpu->pending.pio.size) {
	case 1:
		*rax = (*rax & ~0xffULL) | v;
		break;
	case 2:
		*rax = (*rax & ~0xffffULL) | v;
		break;
	default:
		*rax = v;	/* 32-bit writes zero-extend */
	}
}

static int complete_string_io(struct mvx_vcpu *vcpu)
{
	struct mvx_completion *c = &vcpu->pending;
	const struct mvx_pio *pio = &c->pio;
	enum mvx_gpr reg = pio->in ? MVX_RDI : MVX_RSI;
	u64 mask = addr_mask(pio->addr_size);
	s64 step = vcpu->rflags & RFLAGS_DF ? -(s64)pio->size : pio->size;
	struct mvx_cpu_mode mode;
	u64 gpa;
	u32 i;

	if (pio->in) {
		trace_minivmx_pio(false, pio->port, pio->size, c->count,
				  *(u32 *)vcpu->pio_data);
		mvx_ops->get_mode(vcpu, &mode);
		for (i = 0; i < c->count; i++) {
			if (string_elem_gpa(vcpu, &mode, pio, i, &gpa) ||
			    mvx_write_guest(vcpu, gpa,
					    vcpu->pio_data + i * pio->size,
					    pio->size))
				return mvx_exit_internal_error(vcpu,
						MVX_INTERNAL_ERROR_EMULATION,
						0, pio->port, vcpu->rip);
		}
	}

	/* Only the bits of the address size change; the rest is kept. */
	vcpu->gprs[reg] = (vcpu->gprs[reg] & ~mask) |
			  ((vcpu->gprs[reg] + step * c->count) & mask);
	if (pio->rep) {
		u64 rcx = (vcpu->gprs[MVX_RCX] & mask) - c->count;

		vcpu->gprs[MVX_RCX] = (vcpu->gprs[MVX_RCX] & ~mask) |
				      (rcx & mask);
		if (rcx & mask)
			return 1;	/* re-execute for the rest */
	}
	mvx_skip_insn(vcpu, c->next_rip);
	return 1;
}

/* Finish the exit userspace has just handled; > 0 to enter the guest. */
int mvx_complete_pending(struct mvx_vcpu *vcpu)
{
	struct mvx_completion *c = &vcpu->pending;
	enum mvx_pending what = c->what;

	c->what = MVX_PENDING_NONE;
	switch (what) {
	case MVX_PENDING_NONE:
		return 1;
	case MVX_PENDING_PIO_IN:
		complete_pio_in(vcpu);
		break;
	case MVX_PENDING_PIO_STRING:
		return complete_string_io(vcpu);
	case MVX_PENDING_MMIO_READ:
		mvx_complete_mmio_read(vcpu);
		break;
	case MVX_PENDING_SKIP:
		break;
	}
	mvx_skip_insn(vcpu, c->next_rip);
	return 1;
}

int mvx_exit_hlt(struct mvx_vcpu *vcpu, u64 next_rip)
{
	mvx_skip_insn(vcpu, next_rip);
	if (mvx_hlt_wakes_at_once(vcpu))
		return 1;
	vcpu->run->exit_reason = MVX_EXIT_HLT;
	return 0;
}

int mvx_exit_shutdown(struct mvx_vcpu *vcpu)
{
	vcpu->run->exit_reason = MVX_EXIT_SHUTDOWN;
	return 0;
}

int mvx_exit_fail_entry(struct mvx_vcpu *vcpu, u64 reason)
{
	struct mvx_run *run = vcpu->run;

	pr_warn_ratelimited("vcpu %u: VM entry failed, reason %#llx\n",
			    vcpu->id, reason);
	run->exit_reason = MVX_EXIT_FAIL_ENTRY;
	run->fail_entry.hardware_entry_failure_reason = reason;
	run->fail_entry.cpu = vcpu->last_cpu;
	return 0;
}

int mvx_exit_internal_error(struct mvx_vcpu *vcpu, u32 suberror,
			    u64 hw_reason, u64 info1, u64 info2)
{
	struct mvx_run *run = vcpu->run;

	if (suberror == MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON)
		pr_warn_ratelimited("vcpu %u: unhandled %s exit %#llx at rip %#llx (info %#llx %#llx)\n",
				    vcpu->id, mvx_ops->name, hw_reason,
				    vcpu->rip, info1, info2);
	run->exit_reason = MVX_EXIT_INTERNAL_ERROR;
	run->internal.suberror = suberror;
	run->internal.ndata = 4;
	run->internal.data[0] = hw_reason;
	run->internal.data[1] = info1;
	run->internal.data[2] = info2;
	run->internal.data[3] = vcpu->last_cpu;
	return 0;
}

/*
 * The XCR0 bits the guest may set: those its CPUID leaf 0xD offers (x87
 * always) that the host has enabled too, so that loading the value on
 * this CPU can never fault.  AMX tile data is left out where the kernel
 * arms XFD for it: our XSAVE of the guest's state would then take #NM in
 * the host.  Only AMX silicon can show that case.
 */
static u64 guest_xcr0_allowed(struct mvx_vcpu *vcpu)
{
	u64 offered = XFEATURE_MASK_FP, host = mvx_host_xcr0();
	unsigned int i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct mvx_cpuid_entry2 *e = &vcpu->cpuid[i];

		if (e->function == 0xd &&
		    (e->index == 0 ||
		     !(e->flags & MVX_CPUID_FLAG_SIGNIFCANT_INDEX))) {
			offered |= e->eax | (u64)e->edx << 32;
			break;
		}
	}
	if (boot_cpu_has(X86_FEATURE_XFD))
		host &= ~XFEATURE_MASK_XTILE_DATA;
	return offered & host;
}

/*
 * A value XSETBV may load (SDM Vol. 1, 13.3): x87 on; AVX with SSE; MPX's
 * two components together; AVX-512's three together and with AVX; AMX's
 * two together; nothing the guest was not offered.
 */
static bool xcr0_valid(struct mvx_vcpu *vcpu, u64 v)
{
	u64 avx512 = XFEATURE_MASK_OPMASK | XFEATURE_MASK_ZMM_Hi256 |
		     XFEATURE_MASK_Hi16_ZMM;
	u64 mpx = XFEATURE_MASK_BNDREGS | XFEATURE_MASK_BNDCSR;
	u64 amx = XFEATURE_MASK_XTILE_CFG | XFEATURE_MASK_XTILE_DATA;

	if (!(v & XFEATURE_MASK_FP) || (v & ~guest_xcr0_allowed(vcpu)))
		return false;
	if ((v & XFEATURE_MASK_YMM) && !(v & XFEATURE_MASK_SSE))
		return false;
	if ((v & mpx) && (v & mpx) != mpx)
		return false;
	if ((v & avx512) && ((v & avx512) != avx512 || !(v & XFEATURE_MASK_YMM)))
		return false;
	if ((v & amx) && (v & amx) != amx)
		return false;
	return true;
}

int mvx_handle_xsetbv(struct mvx_vcpu *vcpu, u64 next_rip)
{
	u64 v = (vcpu->gprs[MVX_RDX] << 32) | (u32)vcpu->gprs[MVX_RAX];
	struct mvx_cpu_mode mode;

	mvx_ops->get_mode(vcpu, &mode);
	if (!(mode.cr4 & X86_CR4_OSXSAVE)) {
		mvx_queue_exception(vcpu, X86_TRAP_UD, false, 0);
		return 1;
	}
	if (mode.cpl || (u32)vcpu->gprs[MVX_RCX] != 0 || !xcr0_valid(vcpu, v)) {
		mvx_queue_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	vcpu->xcr0 = v;
	mvx_skip_insn(vcpu, next_rip);
	return 1;
}
