// SPDX-License-Identifier: GPL-2.0
/*
 * Memory-type range registers, as KVM offers them: MTRRcap says 8
 * variable ranges, fixed ranges and write-combining; MTRRdefType, the 11
 * fixed-range MSRs and the 8 PHYSBASE/PHYSMASK pairs hold what the guest
 * (or its VMM) writes, checked as a CPU checks them.  Nothing else reads
 * them: guest memory is write-back in EPT/NPT, and the guest's PAT and
 * CR0.CD decide the rest (KVM too ignores the guest's MTRRs unless a
 * device does non-coherent DMA).
 *
 * A write the CPU would refuse (#GP for the guest) fails MVX_SET_MSRS
 * too: KVM makes no exception for the host here.
 */
#include <linux/bits.h>
#include <linux/nospec.h>
#include "core.h"

/* The MTRR MSRs, under names checkpatch accepts. */
#define MSR_MTRR_CAP		0xfe
#define MSR_MTRR_PHYS_BASE0	0x200
#define MSR_MTRR_FIX64K_00000	0x250
#define MSR_MTRR_FIX16K_80000	0x258
#define MSR_MTRR_FIX16K_A0000	0x259
#define MSR_MTRR_FIX4K_C0000	0x268
#define MSR_MTRR_FIX4K_F8000	0x26f
#define MSR_MTRR_DEF_TYPE	0x2ff

#define MTRR_CAP_FIX		BIT_ULL(8)
#define MTRR_CAP_WC		BIT_ULL(10)
#define MTRR_DEF_TYPE_VALID	0xcffULL	/* type, FE (10), E (11) */
#define MTRR_BASE_RSVD		0xf00ULL	/* 7:0 are the type */
#define MTRR_MASK_RSVD		0x7ffULL	/* 11 is V */

/* UC, WC, WT, WP, WB: 2, 3 and 7 are reserved. */
static bool mtrr_type_valid(u8 type)
{
	return type < 8 && (BIT(type) & 0x73);
}

/* The u64 behind an MTRR MSR, or NULL for an index that is none. */
static u64 *mtrr_slot(struct mvx_vcpu *vcpu, u32 index)
{
	struct mvx_mtrrs *m = &vcpu->msrs.mtrr;
	u32 i;

	switch (index) {
	case MSR_MTRR_DEF_TYPE:
		return &m->def_type;
	case MSR_MTRR_FIX64K_00000:
		return &m->fixed[0];
	case MSR_MTRR_FIX16K_80000:
	case MSR_MTRR_FIX16K_A0000:
		return &m->fixed[1 + index - MSR_MTRR_FIX16K_80000];
	case MSR_MTRR_FIX4K_C0000 ... MSR_MTRR_FIX4K_F8000:
		return &m->fixed[3 + index - MSR_MTRR_FIX4K_C0000];
	case MSR_MTRR_PHYS_BASE0 ... MSR_MTRR_PHYS_BASE0 + 2 * MVX_NR_VAR_MTRR - 1:
		i = array_index_nospec(index - MSR_MTRR_PHYS_BASE0,
				       2 * MVX_NR_VAR_MTRR);
		return &m->var[i];
	}
	return NULL;
}

/* Physical-address bits above the guest's MAXPHYADDR: reserved. */
static u64 gpa_rsvd_bits(struct mvx_vcpu *vcpu)
{
	unsigned int bits = mvx_guest_maxphyaddr(vcpu);

	return bits >= 64 ? 0 : GENMASK_ULL(63, bits);
}

static bool mtrr_valid(struct mvx_vcpu *vcpu, u32 index, u64 data)
{
	unsigned int i;

	if (index == MSR_MTRR_DEF_TYPE)
		return !(data & ~MTRR_DEF_TYPE_VALID) &&
		       mtrr_type_valid(data & 0xff);
	if (index < MSR_MTRR_FIX64K_00000) {
		if (index & 1)	/* PHYSMASK */
			return !(data & (gpa_rsvd_bits(vcpu) | MTRR_MASK_RSVD));
		return mtrr_type_valid(data & 0xff) &&
		       !(data & (gpa_rsvd_bits(vcpu) | MTRR_BASE_RSVD));
	}
	/* A fixed range: one type per byte. */
	for (i = 0; i < 8; i++)
		if (!mtrr_type_valid(data >> (8 * i)))
			return false;
	return true;
}

/* 0, -EINVAL (#GP), or -ENOENT: not an MTRR. */
int mvx_mtrr_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data)
{
	u64 *slot;

	if (index == MSR_MTRR_CAP) {
		*data = MTRR_CAP_WC | MTRR_CAP_FIX | MVX_NR_VAR_MTRR;
		return 0;
	}
	if (index < MSR_MTRR_PHYS_BASE0 || index > MSR_MTRR_DEF_TYPE)
		return -ENOENT;
	slot = mtrr_slot(vcpu, index);
	if (!slot)
		return -ENOENT;
	*data = *slot;
	return 0;
}

int mvx_mtrr_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data)
{
	u64 *slot;

	if (index < MSR_MTRR_PHYS_BASE0 || index > MSR_MTRR_DEF_TYPE)
		return -ENOENT;
	slot = mtrr_slot(vcpu, index);
	if (!slot)
		return -ENOENT;
	if (!mtrr_valid(vcpu, index, data))
		return -EINVAL;
	*slot = data;
	return 0;
}
