// SPDX-License-Identifier: GPL-2.0
/*
 * The architectural rules for guest state that both backends follow: what
 * SET_SREGS may load, which addresses are canonical, which PAT values are
 * valid.  The backends only say which CR4 bits their CPU can run a guest
 * with; everything else here is the SDM's and APM's, the same for both.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kernel.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include <asm/processor-flags.h>
#include "core.h"

u64 mvx_cr4_allowed;

/*
 * Called by the backend's probe with the CR4 bits its CPU accepts in a
 * guest.  LA57 stays off whatever the CPU says: the guest page walker
 * (mmu.c) knows four levels only.  VMXE and SMXE would hand the guest
 * instructions we do not virtualize.
 */
void mvx_set_cr4_allowed(u64 cpu_bits)
{
	mvx_cr4_allowed = cpu_bits &
			  ~(u64)(X86_CR4_LA57 | X86_CR4_VMXE | X86_CR4_SMXE);
}

bool mvx_is_canonical(u64 addr)
{
	return (u64)((s64)(addr << 16) >> 16) == addr;
}

/* Memory types 2, 3 and 8-255 are reserved (SDM Vol. 3A, 12.12.2). */
bool mvx_pat_valid(u64 pat)
{
	int i;

	for (i = 0; i < 8; i++) {
		u8 type = pat >> (i * 8);

		if (type == 2 || type == 3 || type > 7)
			return false;
	}
	return true;
}

/* A CR0 value the CPU would take together with this CR4 and EFER. */
bool mvx_cr0_valid(u64 cr0, u64 cr4, u64 efer)
{
	if (cr0 >> 32)
		return false;
	if ((cr0 & X86_CR0_PG) && !(cr0 & X86_CR0_PE))
		return false;
	if ((cr0 & X86_CR0_NW) && !(cr0 & X86_CR0_CD))
		return false;
	if ((cr0 & X86_CR0_PG) && (efer & EFER_LME) && !(cr4 & X86_CR4_PAE))
		return false;
	return true;
}

static int sregs_bad(const char *why)
{
	pr_warn_ratelimited("SET_SREGS rejected: %s\n", why);
	return -EINVAL;
}

/*
 * What SET_SREGS may load: the combinations a CPU could be in (KVM's
 * rules), and nothing VM entry would refuse later for a reason userspace
 * can see now.
 */
int mvx_check_sregs(const struct mvx_sregs *s)
{
	bool long_mode = (s->efer & EFER_LME) && (s->cr0 & X86_CR0_PG);

	if (!mvx_cr0_valid(s->cr0, s->cr4, s->efer))
		return sregs_bad("CR0 reserved bits or an impossible combination");
	if (s->cr4 & ~mvx_cr4_allowed)
		return sregs_bad("CR4 reserved or unsupported bits set");
	if (s->efer & ~MVX_EFER_GUEST_BITS)
		return sregs_bad("EFER reserved or unsupported bits set");
	if (s->cr8 > 15)
		return sregs_bad("CR8 above 15");
	if (!mvx_is_canonical(s->gdt.base) || !mvx_is_canonical(s->idt.base) ||
	    !mvx_is_canonical(s->fs.base) || !mvx_is_canonical(s->gs.base) ||
	    !mvx_is_canonical(s->tr.base) || !mvx_is_canonical(s->ldt.base))
		return sregs_bad("non-canonical segment or table base");
	if (!long_mode) {
		if (s->efer & EFER_LMA)
			return sregs_bad("EFER.LMA without EFER.LME and CR0.PG");
		return 0;
	}
	if (!(s->efer & EFER_LMA))
		return sregs_bad("EFER.LME and CR0.PG without EFER.LMA");
	if (s->cs.l && s->cs.db)
		return sregs_bad("CS.L and CS.D both set in long mode");
	if (s->cr3 >> boot_cpu_data.x86_phys_bits)
		return sregs_bad("CR3 beyond the physical address width");
	return 0;
}
