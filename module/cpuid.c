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

/* Bits a guest must not see because we do not virtualize them. */
#define LEAF1_ECX_HIDE	(BIT(3) /* MONITOR */ | BIT(5) /* VMX */ |	\
			 BIT(6) /* SMX */ | BIT(21) /* x2APIC */ |	\
			 BIT(24) /* TSC deadline */ | BIT(27) /* OSXSAVE */)
#define LEAF1_ECX_HYPERVISOR	BIT(31)
#define LEAF1_ECX_OSXSAVE	BIT(27)
#define LEAF7_EBX_HIDE	(BIT(2) /* SGX */ | BIT(25) /* Intel PT */)
#define LEAF7_ECX_HIDE	(BIT(5) /* WAITPKG */ | BIT(30) /* SGX_LC */)
#define LEAF7_EDX_HIDE	(BIT(26) | BIT(27) | BIT(29) | BIT(31)) /* SPEC_CTRL & co */
#define EXT1_ECX_HIDE	(BIT(2) /* SVM */ | BIT(13) /* WDT */)

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

static void filter_leaf(struct mvx_cpuid_entry2 *e)
{
	switch (e->function) {
	case 1:
		e->ecx &= ~LEAF1_ECX_HIDE;
		e->ecx |= LEAF1_ECX_HYPERVISOR;
		e->ebx &= 0x00ffffff;	/* APIC id: set per vCPU */
		break;
	case 7:
		if (e->index == 0) {
			e->ebx &= ~LEAF7_EBX_HIDE;
			e->ecx &= ~LEAF7_ECX_HIDE;
			e->edx &= ~LEAF7_EDX_HIDE;
		}
		break;
	case 0xa:	/* no PMU */
	case 0xb:	/* no topology */
	case 0x1f:
		e->eax = 0;
		e->ebx = 0;
		e->ecx = 0;
		e->edx = 0;
		break;
	case 0xd:
		if (e->index == 0) {
			e->eax = (u32)mvx_host_xcr0();
			e->edx = mvx_host_xcr0() >> 32;
		}
		break;
	case 0x80000001:
		e->ecx &= ~EXT1_ECX_HIDE;
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

/* Values that depend on the vCPU and its current state, not the table. */
static void cpuid_dynamic(struct mvx_vcpu *vcpu, u32 fn, u32 *ebx, u32 *ecx)
{
	struct mvx_cpu_mode mode;

	if (fn != 1)
		return;
	mvx_ops->get_mode(vcpu, &mode);
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
		cpuid_dynamic(vcpu, fn, &ebx, &ecx);
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
