// SPDX-License-Identifier: GPL-2.0
/*
 * Model-specific registers a guest reads and writes.  Those that live in
 * the VMCS/VMCB (EFER, SYSENTER_*, FS/GS bases, ...) belong to the backend;
 * the rest are plain values kept here.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/msr-index.h>
#include <asm/msr.h>
#include <asm/trapnr.h>
#include "core.h"
#include "trace.h"

/* KVM's paravirtual clock MSRs (old and new numbers). */
#define MSR_KVM_WALL_CLOCK	0x11
#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MAX_IO_MSRS		256
#define APIC_BASE_DEFAULT	0xfee00000ULL
#define APIC_BASE_BSP		BIT_ULL(8)
#define APIC_BASE_ENABLE	BIT_ULL(11)
#define FEATURE_CONTROL_LOCKED	BIT_ULL(0)

/*
 * As on KVM, the MTRRs and MCi banks are not listed (a VMM saves them
 * when CPUID shows MTRR, MCE and MCA), MCG_STATUS and MCG_CTL are, and so
 * are the kvmclock MSRs (see core_get_msr()).
 */
static const u32 msr_index_list[] = {
	MSR_EFER, MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SYSCALL_MASK,
	MSR_KERNEL_GS_BASE, MSR_FS_BASE, MSR_GS_BASE,
	MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP, MSR_IA32_SYSENTER_EIP,
	MSR_IA32_TSC, MSR_TSC_AUX, MSR_IA32_CR_PAT, MSR_IA32_MISC_ENABLE,
	MSR_IA32_APICBASE, MSR_IA32_FEAT_CTL, MSR_IA32_UCODE_REV,
	MSR_IA32_MCG_STATUS, MSR_IA32_MCG_CTL,
	MSR_KVM_WALL_CLOCK, MSR_KVM_SYSTEM_TIME,
	MSR_KVM_WALL_CLOCK_NEW, MSR_KVM_SYSTEM_TIME_NEW,
};

void mvx_msrs_reset(struct mvx_vcpu *vcpu)
{
	struct mvx_vcpu_msrs *m = &vcpu->msrs;

	memset(m, 0, sizeof(*m));
	m->apic_base = APIC_BASE_DEFAULT | APIC_BASE_ENABLE;
	if (vcpu->id == 0)
		m->apic_base |= APIC_BASE_BSP;
	m->pat = MVX_PAT_RESET;
	m->misc_enable = MSR_IA32_MISC_ENABLE_BTS_UNAVAIL |
			 MSR_IA32_MISC_ENABLE_PEBS_UNAVAIL;
	mvx_mce_reset(vcpu);
}

int mvx_get_msr_index_list(struct mvx_msr_list __user *ulist)
{
	u32 n, count = ARRAY_SIZE(msr_index_list);

	if (get_user(n, &ulist->nmsrs))
		return -EFAULT;
	if (put_user(count, &ulist->nmsrs))
		return -EFAULT;
	if (n < count)
		return -E2BIG;
	if (copy_to_user(ulist->indices, msr_index_list, sizeof(msr_index_list)))
		return -EFAULT;
	return 0;
}

/*
 * Model-specific MSRs that kernels read at boot, unguarded, on the CPU
 * models they apply to (Linux reads INT_PENDING_MSG on K8 models with
 * erratum 400, as QEMU's default CPU is).  Reads give 0, as on KVM; writes
 * still #GP.
 */
static bool reads_as_zero(u32 index)
{
	switch (index) {
	case MSR_IA32_PLATFORM_ID:
	case MSR_IA32_EBL_CR_POWERON:
	case MSR_K8_INT_PENDING_MSG:
	case MSR_AMD64_NB_CFG:
	case MSR_AMD64_BU_CFG2:
	case MSR_AMD64_DC_CFG:
	case MSR_IA32_PERF_CTL:
		return true;
	}
	return false;
}

/*
 * kvmclock: KVM lists its MSRs, so a VMM saves and restores them whatever
 * CPUID says (QEMU 7.2 always does).  minivmx offers no kvmclock (no
 * KVM_FEATURE_CLOCKSOURCE in CPUID): the guest gets #GP, and the host is
 * treated as KVM treats an MSR it lists but does not support: reads give
 * 0 and writing 0 works, so what was read can be written back; a
 * non-zero write, which would turn the clock on, fails.
 */
static bool is_kvmclock(u32 index)
{
	return index == MSR_KVM_WALL_CLOCK || index == MSR_KVM_SYSTEM_TIME ||
	       index == MSR_KVM_WALL_CLOCK_NEW ||
	       index == MSR_KVM_SYSTEM_TIME_NEW;
}

/*
 * The core's MSRs.  0, or -EINVAL (#GP for the guest, a failed entry for
 * MVX_SET_MSRS), -ENOENT (no such MSR), or -EOPNOTSUPP: listed but not
 * supported, which the host may read as 0 and write 0 to.
 */
static int core_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data,
			bool host)
{
	struct mvx_vcpu_msrs *m = &vcpu->msrs;
	int ret;

	if (reads_as_zero(index)) {
		*data = 0;
		return 0;
	}
	if (is_kvmclock(index))
		return -EOPNOTSUPP;
	ret = mvx_mtrr_get_msr(vcpu, index, data);
	if (ret != -ENOENT)
		return ret;
	ret = mvx_mce_get_msr(vcpu, index, data, host);
	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_TSC:
		*data = rdtsc() + m->tsc_offset;
		return 0;
	case MSR_TSC_AUX:
		*data = m->tsc_aux;
		return 0;
	case MSR_IA32_CR_PAT:
		*data = m->pat;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		*data = m->misc_enable;
		return 0;
	case MSR_IA32_APICBASE:
		*data = m->apic_base;
		return 0;
	case MSR_IA32_FEAT_CTL:
		/* Locked, with VMX off: the guest cannot turn it on. */
		*data = FEATURE_CONTROL_LOCKED;
		return 0;
	case MSR_IA32_UCODE_REV:
		*data = 0;
		return 0;
	default:
		return mvx_spec_get_msr(vcpu, index, data);
	}
}

static int core_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data,
			bool host)
{
	struct mvx_vcpu_msrs *m = &vcpu->msrs;
	int ret;

	if (is_kvmclock(index))
		return -EOPNOTSUPP;
	ret = mvx_mtrr_set_msr(vcpu, index, data);
	if (ret != -ENOENT)
		return ret;
	ret = mvx_mce_set_msr(vcpu, index, data, host);
	if (ret != -ENOENT)
		return ret;
	switch (index) {
	case MSR_IA32_TSC:
		m->tsc_offset = data - rdtsc();
		return 0;
	case MSR_TSC_AUX:
		if (data >> 32)
			return -EINVAL;
		m->tsc_aux = data;
		return 0;
	case MSR_IA32_CR_PAT:
		m->pat = data;
		return 0;
	case MSR_IA32_MISC_ENABLE:
		m->misc_enable = data;
		return 0;
	case MSR_IA32_APICBASE:
		m->apic_base = data;
		return 0;
	case MSR_IA32_UCODE_REV:
		return 0;	/* microcode loaders write 0 here first */
	default:
		return mvx_spec_set_msr(vcpu, index, data);
	}
}

/*
 * @host: MVX_GET_MSRS / MVX_SET_MSRS rather than the guest's RDMSR and
 * WRMSR (KVM's "host initiated"): some MSRs take values from the VMM that
 * the guest may not write.
 */
static int get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	int ret = mvx_ops->get_msr(vcpu, index, data);

	if (ret == -ENOENT)
		ret = core_get_msr(vcpu, index, data, host);
	if (ret == -EOPNOTSUPP && host) {
		*data = 0;
		ret = 0;
	}
	return ret;
}

static int set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	int ret = mvx_ops->set_msr(vcpu, index, data);

	if (ret == -ENOENT)
		ret = core_set_msr(vcpu, index, data, host);
	if (ret == -EOPNOTSUPP && host && !data)
		ret = 0;
	return ret;
}

int mvx_handle_rdmsr(struct mvx_vcpu *vcpu, u64 next_rip)
{
	u32 index = vcpu->gprs[MVX_RCX];
	u64 data = 0;
	bool fault = get_msr(vcpu, index, &data, false);

	trace_minivmx_msr(false, index, data, fault);
	if (fault) {
		pr_debug("vcpu %u: rdmsr %#x -> #GP\n", vcpu->id, index);
		mvx_queue_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	vcpu->gprs[MVX_RAX] = (u32)data;
	vcpu->gprs[MVX_RDX] = data >> 32;
	mvx_skip_insn(vcpu, next_rip);
	return 1;
}

int mvx_handle_wrmsr(struct mvx_vcpu *vcpu, u64 next_rip)
{
	u32 index = vcpu->gprs[MVX_RCX];
	u64 data = (vcpu->gprs[MVX_RDX] << 32) | (u32)vcpu->gprs[MVX_RAX];
	bool fault = set_msr(vcpu, index, data, false);

	trace_minivmx_msr(true, index, data, fault);
	if (fault) {
		pr_debug("vcpu %u: wrmsr %#x = %#llx -> #GP\n",
			 vcpu->id, index, data);
		mvx_queue_exception(vcpu, X86_TRAP_GP, true, 0);
		return 1;
	}
	mvx_skip_insn(vcpu, next_rip);
	return 1;
}

/*
 * MVX_GET_MSRS / MVX_SET_MSRS: like KVM, process entries in order, stop at
 * the first one that fails, and return how many succeeded.
 */
static int msrs_do(struct mvx_vcpu *vcpu, struct mvx_msrs __user *umsrs,
		   bool write)
{
	struct mvx_msr_entry *e;
	struct mvx_msrs hdr;
	u32 i;
	int ret = 0;

	if (copy_from_user(&hdr, umsrs, sizeof(hdr)))
		return -EFAULT;
	if (hdr.nmsrs >= MAX_IO_MSRS)
		return -E2BIG;
	e = memdup_user(umsrs->entries, hdr.nmsrs * sizeof(*e));
	if (IS_ERR(e))
		return PTR_ERR(e);

	for (i = 0; i < hdr.nmsrs; i++) {
		int r = write ? set_msr(vcpu, e[i].index, e[i].data, true) :
				get_msr(vcpu, e[i].index, &e[i].data, true);
		if (r)
			break;
	}
	ret = i;
	if (!write && copy_to_user(umsrs->entries, e, i * sizeof(*e)))
		ret = -EFAULT;
	kfree(e);
	return ret;
}

int mvx_vcpu_get_msrs(struct mvx_vcpu *vcpu, struct mvx_msrs __user *umsrs)
{
	return msrs_do(vcpu, umsrs, false);
}

int mvx_vcpu_set_msrs(struct mvx_vcpu *vcpu, struct mvx_msrs __user *umsrs)
{
	return msrs_do(vcpu, umsrs, true);
}
