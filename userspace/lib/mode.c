// SPDX-License-Identifier: GPL-2.0
/* libmvx: putting a vCPU into real, protected or long mode. */
#include <errno.h>
#include <string.h>

#include "mvx.h"
#include "internal.h"

#define CR0_PE		(1ULL << 0)
#define CR0_ET		(1ULL << 4)
#define CR0_NE		(1ULL << 5)
#define CR0_PG		(1ULL << 31)
#define CR4_PAE		(1ULL << 5)
#define EFER_LME	(1ULL << 8)
#define EFER_LMA	(1ULL << 10)

#define PTE_P		(1ULL << 0)
#define PTE_RW		(1ULL << 1)
#define PTE_PS		(1ULL << 7)

/* Layout of the system area: GDT page, PML4, PDPT, four PDs. */
#define SYS_GDT		0x0000
#define SYS_PML4	0x1000
#define SYS_PDPT	0x2000
#define SYS_PD		0x3000
#define GDT_ENTRIES	4

/*
 * GDT descriptors, same order as MVX_GDT_*: null, 64-bit code, flat data,
 * flat 32-bit code.  Accessed bits are preset so the CPU need not write them.
 */
static const uint64_t gdt[GDT_ENTRIES] = {
	0,
	0x00af9b000000ffffULL,
	0x00cf93000000ffffULL,
	0x00cf9b000000ffffULL,
};

static void set_real_seg(struct mvx_segment *s, uint16_t sel)
{
	s->selector = sel;
	s->base = (uint64_t)sel << 4;
	s->limit = 0xffff;
}

int mvx_setup_real_mode(struct mvx_vcpu *vcpu, uint16_t cs, uint16_t ip)
{
	struct mvx_sregs sregs;
	struct mvx_regs regs;
	int ret;

	ret = mvx_get_sregs(vcpu, &sregs);
	if (ret)
		return ret;
	set_real_seg(&sregs.cs, cs);
	set_real_seg(&sregs.ds, 0);
	set_real_seg(&sregs.es, 0);
	set_real_seg(&sregs.ss, 0);
	set_real_seg(&sregs.fs, 0);
	set_real_seg(&sregs.gs, 0);
	ret = mvx_set_sregs(vcpu, &sregs);
	if (ret)
		return ret;

	ret = mvx_get_regs(vcpu, &regs);
	if (ret)
		return ret;
	regs.rip = ip;
	regs.rflags = 0x2;
	return mvx_set_regs(vcpu, &regs);
}

static void set_flat_seg(struct mvx_segment *s, uint16_t sel, int code,
			 int long_mode)
{
	memset(s, 0, sizeof(*s));
	s->selector = sel;
	s->base = 0;
	s->limit = 0xffffffff;
	s->type = code ? 0xb : 0x3;	/* execute/read or read/write, accessed */
	s->present = 1;
	s->s = 1;
	s->g = 1;
	s->l = code && long_mode;
	s->db = !s->l;
}

static void set_flat_segments(struct mvx_sregs *sregs, uint64_t sys_gpa,
			      int long_mode)
{
	uint16_t cs = long_mode ? MVX_GDT_CODE64 : MVX_GDT_CODE32;

	set_flat_seg(&sregs->cs, cs, 1, long_mode);
	set_flat_seg(&sregs->ds, MVX_GDT_DATA, 0, long_mode);
	sregs->es = sregs->ds;
	sregs->ss = sregs->ds;
	sregs->fs = sregs->ds;
	sregs->gs = sregs->ds;
	sregs->gdt.base = sys_gpa + SYS_GDT;
	sregs->gdt.limit = sizeof(gdt) - 1;
}

static int set_pc_regs(struct mvx_vcpu *vcpu)
{
	struct mvx_regs regs;
	int ret = mvx_get_regs(vcpu, &regs);

	if (ret)
		return ret;
	regs.rflags = 0x2;
	return mvx_set_regs(vcpu, &regs);
}

int mvx_setup_protected_mode(struct mvx_vcpu *vcpu, uint64_t sys_gpa)
{
	struct mvx_sregs sregs;
	int ret;

	ret = mvx_get_sregs(vcpu, &sregs);
	if (ret)
		return ret;
	set_flat_segments(&sregs, sys_gpa, 0);
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE;
	sregs.cr4 = 0;
	sregs.efer = 0;
	ret = mvx_set_sregs(vcpu, &sregs);
	return ret ? ret : set_pc_regs(vcpu);
}

int mvx_setup_long_mode(struct mvx_vcpu *vcpu, uint64_t sys_gpa)
{
	struct mvx_sregs sregs;
	int ret;

	ret = mvx_get_sregs(vcpu, &sregs);
	if (ret)
		return ret;
	set_flat_segments(&sregs, sys_gpa, 1);
	sregs.cr0 = CR0_PE | CR0_ET | CR0_NE | CR0_PG;
	sregs.cr3 = sys_gpa + SYS_PML4;
	sregs.cr4 = CR4_PAE;
	sregs.efer = EFER_LME | EFER_LMA;
	ret = mvx_set_sregs(vcpu, &sregs);
	return ret ? ret : set_pc_regs(vcpu);
}

int mvx_write_sys_area(struct mvx_memmap *map, uint64_t sys_gpa, int long_mode)
{
	uint8_t *area = mvx_memmap_hva(map, sys_gpa, MVX_SYS_AREA_SIZE);
	uint64_t *pml4, *pdpt, *pd;
	unsigned int i;

	if (!area || (sys_gpa & 0xfff))
		return mvx_fail(EFAULT, "system area at 0x%llx: not in guest RAM or not page aligned",
				(unsigned long long)sys_gpa);
	memset(area, 0, MVX_SYS_AREA_SIZE);
	memcpy(area + SYS_GDT, gdt, sizeof(gdt));
	if (!long_mode)
		return 0;

	pml4 = (uint64_t *)(area + SYS_PML4);
	pdpt = (uint64_t *)(area + SYS_PDPT);
	pd = (uint64_t *)(area + SYS_PD);
	pml4[0] = (sys_gpa + SYS_PDPT) | PTE_P | PTE_RW;
	for (i = 0; i < 4; i++)
		pdpt[i] = (sys_gpa + SYS_PD + i * 0x1000ULL) | PTE_P | PTE_RW;
	/* 4 PDs x 512 entries x 2 MiB = the low 4 GiB, identity mapped. */
	for (i = 0; i < 4 * 512; i++)
		pd[i] = ((uint64_t)i << 21) | PTE_P | PTE_RW | PTE_PS;
	return 0;
}
