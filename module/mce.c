// SPDX-License-Identifier: GPL-2.0
/*
 * Machine-check registers, as KVM keeps them: MCG_CAP (set once by
 * MVX_X86_SETUP_MCE; 32 banks and no MCG_CTL before that), MCG_STATUS,
 * MCG_CTL and up to 32 banks of MCi_CTL, MCi_STATUS, MCi_ADDR and
 * MCi_MISC per vCPU.  They only hold values: minivmx never raises #MC in a
 * guest (there is no MVX_X86_SET_MCE), and has no CMCI (no local APIC)
 * and no LMCE.
 *
 * KVM's write rules, host (MVX_SET_MSRS) and guest (WRMSR) alike unless
 * said otherwise: MCG_CTL exists with MCG_CTL_P only (the host may still
 * write 0 to it) and holds 0 or all ones; MCi_CTL holds 0 or all ones
 * (bits 10 and 0 may be clear: Linux on K8 and UnixWare clear them);
 * only the host writes a non-zero MCi_STATUS; a bank past MCG_CAP's count
 * does not exist; the MCi_CTL2 of a bank reads 0 and takes 0 from the
 * host only (no CMCI); MCG_CAP is read-only.
 */
#include <linux/nospec.h>
#include <linux/uaccess.h>
#include <asm/mce.h>
#include <asm/msr-index.h>
#include "core.h"

/* What MVX_X86_SETUP_MCE accepts besides the bank and extended counts. */
#define MCE_CAP_SUPPORTED	(MCG_CTL_P | MCG_SER_P)
#define MCG_CAP_COUNTS		(MCG_BANKCNT_MASK | MCG_EXT_CNT_MASK)
#define MCI_CTL_MAY_CLEAR	(BIT_ULL(10) | BIT_ULL(0))
/* Bank i's MSRs, under names checkpatch accepts. */
#define MSR_MCI_CTL(i)		(MSR_IA32_MC0_CTL + 4 * (i))
#define MSR_MCI_CTL2(i)		(MSR_IA32_MC0_CTL2 + (i))

void mvx_mce_reset(struct mvx_vcpu *vcpu)
{
	vcpu->msrs.mce.mcg_cap = MVX_MAX_MCE_BANKS;
}

int mvx_mce_cap_supported(u64 __user *arg)
{
	return put_user((u64)MCE_CAP_SUPPORTED, arg) ? -EFAULT : 0;
}

int mvx_mce_setup(struct mvx_vcpu *vcpu, u64 __user *arg)
{
	struct mvx_mce *m = &vcpu->msrs.mce;
	unsigned int banks, i;
	u64 cap;

	if (get_user(cap, arg))
		return -EFAULT;
	banks = cap & MCG_BANKCNT_MASK;
	if (!banks || banks > MVX_MAX_MCE_BANKS ||
	    (cap & ~(MCE_CAP_SUPPORTED | MCG_CAP_COUNTS)))
		return -EINVAL;
	m->mcg_cap = cap & mvx_ops->mcg_cap_bits;
	if (cap & MCG_CTL_P)
		m->mcg_ctl = ~0ULL;
	for (i = 0; i < banks; i++)
		m->banks[4 * i] = ~0ULL;
	return 0;
}

static unsigned int nr_banks(struct mvx_vcpu *vcpu)
{
	return vcpu->msrs.mce.mcg_cap & MCG_BANKCNT_MASK;
}

/* 0, -EINVAL (#GP / a failed entry), or -ENOENT: not a machine-check MSR. */
int mvx_mce_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data, bool host)
{
	struct mvx_mce *m = &vcpu->msrs.mce;
	u32 i;

	switch (index) {
	case MSR_IA32_P5_MC_ADDR:
	case MSR_IA32_P5_MC_TYPE:
		*data = 0;
		return 0;
	case MSR_IA32_MCG_CAP:
		*data = m->mcg_cap;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(m->mcg_cap & MCG_CTL_P) && !host)
			return -EINVAL;
		*data = m->mcg_ctl;
		return 0;
	case MSR_IA32_MCG_STATUS:
		*data = m->mcg_status;
		return 0;
	case MSR_IA32_MC0_CTL2 ...
	     MSR_MCI_CTL2(MVX_MAX_MCE_BANKS) - 1:
		if (index >= MSR_MCI_CTL2(nr_banks(vcpu)) || !host)
			return -EINVAL;
		*data = 0;
		return 0;
	case MSR_IA32_MC0_CTL ... MSR_MCI_CTL(MVX_MAX_MCE_BANKS) - 1:
		if (index >= MSR_MCI_CTL(nr_banks(vcpu)))
			return -EINVAL;
		i = array_index_nospec(index - MSR_IA32_MC0_CTL,
				       4 * MVX_MAX_MCE_BANKS);
		*data = m->banks[i];
		return 0;
	}
	return -ENOENT;
}

int mvx_mce_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data, bool host)
{
	struct mvx_mce *m = &vcpu->msrs.mce;
	u32 i;

	switch (index) {
	case MSR_IA32_MCG_STATUS:
		m->mcg_status = data;
		return 0;
	case MSR_IA32_MCG_CTL:
		if (!(m->mcg_cap & MCG_CTL_P) && (data || !host))
			return -EINVAL;
		if (data && data != ~0ULL)
			return -EINVAL;
		m->mcg_ctl = data;
		return 0;
	case MSR_IA32_MC0_CTL2 ...
	     MSR_MCI_CTL2(MVX_MAX_MCE_BANKS) - 1:
		if (index >= MSR_MCI_CTL2(nr_banks(vcpu)) ||
		    data || !host)
			return -EINVAL;
		return 0;
	case MSR_IA32_MC0_CTL ... MSR_MCI_CTL(MVX_MAX_MCE_BANKS) - 1:
		if (index >= MSR_MCI_CTL(nr_banks(vcpu)))
			return -EINVAL;
		i = array_index_nospec(index - MSR_IA32_MC0_CTL,
				       4 * MVX_MAX_MCE_BANKS);
		if (i % 4 == 0 && data &&
		    (data | MCI_CTL_MAY_CLEAR) != ~0ULL)
			return -EINVAL;
		if (i % 4 == 1 && data && !host)
			return -EINVAL;
		m->banks[i] = data;
		return 0;
	}
	return -ENOENT;
}
