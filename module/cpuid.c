// SPDX-License-Identifier: GPL-2.0
/*
 * CPUID: what we offer (the host's leaves minus what we cannot virtualize)
 * and what a guest sees, answered in the kernel without a userspace exit.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include "core.h"
#include "trace.h"

#define CPUID_SIGNATURE_LEAF	0x40000000
#define CPUID_EXT_MAX		0x80000008

/*
 * Bits a guest must not see: features we do not virtualize, whose MSRs
 * #GP in the guest, or whose instructions would reach host state.
 */
#define LEAF1_ECX_HIDE	(BIT(2) /* DTES64 */ | BIT(3) /* MONITOR */ |	\
			 BIT(4) /* DS-CPL */ | BIT(5) /* VMX */ |	\
			 BIT(6) /* SMX */ | BIT(7) /* EIST */ |		\
			 BIT(8) /* TM2 */ | BIT(11) /* SDBG */ |	\
			 BIT(14) /* xTPR */ | BIT(15) /* PDCM */ |	\
			 BIT(18) /* DCA */ | BIT(21) /* x2APIC */ |	\
			 BIT(24) /* TSC deadline */ | BIT(27) /* OSXSAVE */)
#define LEAF1_EDX_HIDE	(BIT(21) /* DS */ | BIT(22) /* ACPI */ |	\
			 BIT(29) /* TM */ | BIT(31) /* PBE */)
#define LEAF1_ECX_HYPERVISOR	BIT(31)
#define LEAF1_ECX_OSXSAVE	BIT(27)
#define LEAF7_EBX_HIDE	(BIT(2) /* SGX */ | BIT(12) /* RDT-M */ |	\
			 BIT(15) /* RDT-A */ | BIT(25) /* Intel PT */)
#define LEAF7_EBX_INVPCID	BIT(10)
#define LEAF7_ECX_HIDE	(BIT(5) /* WAITPKG: TPAUSE/UMWAIT */ |		\
			 BIT(7) /* CET shadow stacks: MSRs, XSS */ |	\
			 BIT(16) /* LA57: our guest page walker has 4 levels */ | \
			 BIT(29) /* ENQCMD: PASID MSR */ |		\
			 BIT(30) /* SGX_LC */)
#define LEAF7_ECX_RDPID	BIT(22)
/*
 * Speculation control: SPEC_CTRL (IBRS, STIBP, SSBD) and PRED_CMD (IBPB)
 * are switched per vCPU (spec.c), so their bits pass where the host has
 * them.  FLUSH_CMD, ARCH_CAPABILITIES and CORE_CAPABILITIES #GP in the
 * guest, TSX_FORCE_ABORT and CET-IBT are MSR-only too, and PCONFIG would
 * #UD on VMX: a guest told it has them would die on first use.
 */
#define LEAF7_EDX_HIDE	(BIT(16) /* TSX_FORCE_ABORT */ |		\
			 BIT(18) /* PCONFIG */ | BIT(20) /* CET-IBT */ |	\
			 BIT(28) /* L1D_FLUSH */ |			\
			 BIT(29) /* ARCH_CAPABILITIES */ |		\
			 BIT(30) /* CORE_CAPABILITIES */)
/* 7.1 EAX: FRED and LAM change how the CPU treats state we do not switch. */
#define LEAF7_1_EAX_HIDE	(BIT(17) /* FRED */ | BIT(26) /* LAM */)
/*
 * 0xD.1 EAX: XSAVES/XRSTORS need IA32_XSS, which the guest cannot write
 * (and, on SVM, the host's value would be used); XFD needs IA32_XFD.
 */
#define XSAVE1_EAX_HIDE	(BIT(3) /* XSAVES */ | BIT(4) /* XFD */)
#define EXT1_ECX_HIDE	(BIT(2) /* SVM */ | BIT(10) /* IBS */ |	\
			 BIT(13) /* WDT */ | BIT(15) /* LWP */ |	\
			 BIT(17) /* TCE */ | BIT(23) /* PERFCTR_CORE */ | \
			 BIT(24) /* PERFCTR_NB */ |			\
			 BIT(28) /* PERFCTR_LLC */ |			\
			 BIT(29) /* MONITORX: MWAITX is not intercepted */)
#define EXT1_EDX_RDTSCP	BIT(27)
/*
 * 0x80000008 EBX: AMD's names for the same MSRs; IBPB, IBRS, STIBP and
 * SSBD pass as in leaf 7, the modes and the other controls do not.
 */
#define EXT8_EBX_HIDE	(BIT(16) /* IBRS_ALWAYS */ |			\
			 BIT(17) /* STIBP_ALWAYS */ |			\
			 BIT(18) /* IBRS_PREFERRED */ |			\
			 BIT(19) /* IBRS_SAME_MODE */ |			\
			 BIT(25) /* VIRT_SSBD */ | BIT(28) /* PSFD */)
/*
 * Features that need XSAVE state the host kernel switches: none of them
 * when it runs without XSAVE (as in Bochs, whose leaf 0xD sizes the
 * kernel rejects), for minivmx cannot then load a guest XCR0.
 */
#define LEAF1_ECX_XSAVE	(BIT(12) /* FMA */ | BIT(26) /* XSAVE */ |	\
			 BIT(28) /* AVX */ | BIT(29) /* F16C */)
#define LEAF7_EBX_XSAVE	(BIT(5) /* AVX2 */ | BIT(16) | BIT(17) | BIT(21) | \
			 BIT(26) | BIT(27) | BIT(28) | BIT(30) |	\
			 BIT(31) /* AVX-512 */)
#define LEAF7_ECX_XSAVE	(BIT(1) | BIT(6) | BIT(11) | BIT(12) |		\
			 BIT(14) /* AVX-512 */ | BIT(9) | BIT(10) /* VEX */)
#define LEAF7_EDX_XSAVE	(BIT(2) | BIT(3) | BIT(8) | BIT(23) /* AVX-512 */ | \
			 BIT(22) | BIT(24) | BIT(25) /* AMX */)
/* PKU and OSPKE: PKRU is switched only where the host runs with it. */
#define LEAF7_ECX_PKU	(BIT(3) | BIT(4))
#define LEAF7_ECX_OSPKE	BIT(4)

u32 mvx_guest_lacks;

static struct mvx_cpuid_entry2 *supported;
static unsigned int nr_supported;

static void add_host_leaf(u32 fn, u32 idx, u32 flags)
{
	struct mvx_cpuid_entry2 *e;

	if (nr_supported >= MVX_MAX_CPUID_ENTRIES)
		return;
	e = &supported[nr_supported++];
	memset(e, 0, sizeof(*e));
	e->function = fn;
	e->index = idx;
	e->flags = flags;
	cpuid_count(fn, idx, &e->eax, &e->ebx, &e->ecx, &e->edx);
}

static void zero_leaf(struct mvx_cpuid_entry2 *e)
{
	e->eax = 0;
	e->ebx = 0;
	e->ecx = 0;
	e->edx = 0;
}

static void filter_leaf7(struct mvx_cpuid_entry2 *e)
{
	switch (e->index) {
	case 0:
		e->ebx &= ~LEAF7_EBX_HIDE;
		e->ecx &= ~LEAF7_ECX_HIDE;
		e->edx &= ~LEAF7_EDX_HIDE;
		if (mvx_guest_lacks & MVX_NO_INVPCID)
			e->ebx &= ~LEAF7_EBX_INVPCID;
		if (mvx_guest_lacks & MVX_NO_RDTSCP)
			e->ecx &= ~LEAF7_ECX_RDPID;
		if (!mvx_host_xcr0()) {
			e->ebx &= ~LEAF7_EBX_XSAVE;
			e->ecx &= ~LEAF7_ECX_XSAVE;
			e->edx &= ~LEAF7_EDX_XSAVE;
		}
		if (!boot_cpu_has(X86_FEATURE_OSPKE))
			e->ecx &= ~LEAF7_ECX_PKU;
		break;
	case 1:
		e->eax &= ~LEAF7_1_EAX_HIDE;
		break;
	case 2:
		/* All SPEC_CTRL bits (PSFD, IPRED, RRSBA, BHI_CTRL, ...). */
		e->edx = 0;
		break;
	}
}

static void filter_leaf(struct mvx_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~LEAF1_ECX_HIDE;
		e->ecx |= LEAF1_ECX_HYPERVISOR;
		e->edx &= ~LEAF1_EDX_HIDE;
		e->ebx &= 0x00ffffff;	/* APIC id: set per vCPU */
		if (!mvx_host_xcr0())
			e->ecx &= ~LEAF1_ECX_XSAVE;
		break;
	case 7:
		filter_leaf7(e);
		break;
	case 6:		/* no thermal or power management */
	case 0xa:	/* no PMU */
	case 0xb:	/* no topology */
	case 0x1f:
		zero_leaf(e);
		break;
	case 0xd:
		if (!mvx_host_xcr0()) {
			zero_leaf(e);
		} else if (e->index == 0) {
			e->eax = (u32)mvx_host_xcr0();
			e->edx = mvx_host_xcr0() >> 32;
		} else if (e->index == 1) {
			e->eax &= ~XSAVE1_EAX_HIDE;
			e->ecx = 0;	/* no IA32_XSS components */
			e->edx = 0;
		} else if (e->index >= 32 ||
			   !(mvx_host_xcr0() & BIT_ULL(e->index))) {
			zero_leaf(e);
		}
		break;
	case 0x80000001:
		e->ecx &= ~EXT1_ECX_HIDE;
		if (mvx_guest_lacks & MVX_NO_RDTSCP)
			e->edx &= ~EXT1_EDX_RDTSCP;
		break;
	case 0x80000008:
		e->ebx &= ~EXT8_EBX_HIDE;
		break;
	}
}

static bool leaf_has_subleaves(u32 fn)
{
	return fn == 4 || fn == 7 || fn == 0xb || fn == 0xd || fn == 0xf ||
	       fn == 0x10 || fn == 0x14 || fn == 0x1f;
}

static void add_leaf_range(u32 first, u32 last)
{
	u32 fn, idx;

	for (fn = first; fn <= last; fn++) {
		if (!leaf_has_subleaves(fn)) {
			add_host_leaf(fn, 0, 0);
			continue;
		}
		/* Enough sub-leaves for caches, XSAVE components and more. */
		for (idx = 0; idx < (fn == 0xd ? 19 : 4); idx++)
			add_host_leaf(fn, idx, MVX_CPUID_FLAG_SIGNIFCANT_INDEX);
	}
}

static void add_signature(void)
{
	struct mvx_cpuid_entry2 *e = &supported[nr_supported++];

	memset(e, 0, sizeof(*e));
	e->function = CPUID_SIGNATURE_LEAF;
	e->eax = CPUID_SIGNATURE_LEAF;
	memcpy(&e->ebx, "mini", 4);
	memcpy(&e->ecx, "vmxm", 4);
	memcpy(&e->edx, "vmx\0", 4);
}

int mvx_cpuid_setup(void)
{
	u32 max_basic = min_t(u32, cpuid_eax(0), 0x1f);
	u32 max_ext = min_t(u32, cpuid_eax(0x80000000), CPUID_EXT_MAX);
	unsigned int i;

	supported = kcalloc(MVX_MAX_CPUID_ENTRIES, sizeof(*supported),
			    GFP_KERNEL);
	if (!supported)
		return -ENOMEM;
	add_leaf_range(0, max_basic);
	add_signature();
	add_leaf_range(0x80000000, max_ext);
	for (i = 0; i < nr_supported; i++)
		filter_leaf(&supported[i]);
	return 0;
}

void mvx_cpuid_cleanup(void)
{
	kfree(supported);
}

int mvx_get_supported_cpuid(struct mvx_cpuid2 __user *ucpuid)
{
	struct mvx_cpuid2 hdr;

	if (copy_from_user(&hdr, ucpuid, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent < nr_supported)
		return -E2BIG;
	hdr.nent = nr_supported;
	if (copy_to_user(ucpuid, &hdr, sizeof(hdr)) ||
	    copy_to_user(ucpuid->entries, supported,
			 nr_supported * sizeof(*supported)))
		return -EFAULT;
	return 0;
}

/* Until SET_CPUID2, a vCPU sees everything we support. */
int mvx_cpuid_init(struct mvx_vcpu *vcpu)
{
	vcpu->cpuid = kmemdup(supported, nr_supported * sizeof(*supported),
			      GFP_KERNEL_ACCOUNT);
	if (!vcpu->cpuid)
		return -ENOMEM;
	vcpu->cpuid_nent = nr_supported;
	return 0;
}

int mvx_set_cpuid2(struct mvx_vcpu *vcpu, struct mvx_cpuid2 __user *ucpuid)
{
	struct mvx_cpuid_entry2 *entries;
	struct mvx_cpuid2 hdr;

	if (copy_from_user(&hdr, ucpuid, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nent > MVX_MAX_CPUID_ENTRIES)
		return -E2BIG;
	entries = memdup_user(ucpuid->entries, hdr.nent * sizeof(*entries));
	if (IS_ERR(entries))
		return PTR_ERR(entries);
	kfree(vcpu->cpuid);
	vcpu->cpuid = entries;
	vcpu->cpuid_nent = hdr.nent;
	return 0;
}

static const struct mvx_cpuid_entry2 *find_leaf(struct mvx_vcpu *vcpu,
						u32 fn, u32 idx)
{
	unsigned int i;

	for (i = 0; i < vcpu->cpuid_nent; i++) {
		const struct mvx_cpuid_entry2 *e = &vcpu->cpuid[i];

		if (e->function == fn &&
		    (!(e->flags & MVX_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == idx))
			return e;
	}
	return NULL;
}

/*
 * The guest's physical-address width, as KVM reads it from the vCPU's
 * CPUID: leaf 0x80000008 EAX[7:0], or 36 without that leaf.
 */
unsigned int mvx_guest_maxphyaddr(struct mvx_vcpu *vcpu)
{
	const struct mvx_cpuid_entry2 *e = find_leaf(vcpu, 0x80000000, 0);

	if (e && e->eax >= 0x80000008) {
		e = find_leaf(vcpu, 0x80000008, 0);
		if (e)
			return e->eax & 0xff;
	}
	return 36;
}

/*
 * Values that depend on the vCPU and its current state, not the table:
 * the APIC id, and the OS-enabled bits OSXSAVE and OSPKE, which mirror
 * the guest's own CR4 (a kernel booted with "nopku" checks OSPKE before
 * each RDPKRU).
 */
static void cpuid_dynamic(struct mvx_vcpu *vcpu, u32 fn, u32 idx, u32 *ebx,
			  u32 *ecx)
{
	struct mvx_cpu_mode mode;

	if (fn != 1 && !(fn == 7 && idx == 0))
		return;
	mvx_ops->get_mode(vcpu, &mode);
	if (fn == 7) {
		if (!(mode.cr4 & X86_CR4_PKE))
			*ecx &= ~LEAF7_ECX_OSPKE;
		return;
	}
	*ebx = (*ebx & 0x00ffffff) | (vcpu->id << 24);
	if (mode.cr4 & X86_CR4_OSXSAVE)
		*ecx |= LEAF1_ECX_OSXSAVE;
	else
		*ecx &= ~LEAF1_ECX_OSXSAVE;
}

int mvx_handle_cpuid(struct mvx_vcpu *vcpu, u64 next_rip)
{
	u32 fn = vcpu->gprs[MVX_RAX], idx = vcpu->gprs[MVX_RCX];
	const struct mvx_cpuid_entry2 *e = find_leaf(vcpu, fn, idx);
	u32 eax = 0, ebx = 0, ecx = 0, edx = 0;

	if (e) {
		eax = e->eax;
		ebx = e->ebx;
		ecx = e->ecx;
		edx = e->edx;
		cpuid_dynamic(vcpu, fn, idx, &ebx, &ecx);
	}
	/* CPUID writes 32-bit registers: the upper halves are cleared. */
	vcpu->gprs[MVX_RAX] = eax;
	vcpu->gprs[MVX_RBX] = ebx;
	vcpu->gprs[MVX_RCX] = ecx;
	vcpu->gprs[MVX_RDX] = edx;
	trace_minivmx_cpuid(fn, idx, eax, ebx, ecx, edx);
	mvx_skip_insn(vcpu, next_rip);
	return 1;
}
