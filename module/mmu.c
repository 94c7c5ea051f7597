// SPDX-License-Identifier: GPL-2.0
/*
 * Second-level address translation (EPT/NPT), built lazily from the memory
 * slots: a guest access to an unmapped page exits, and we pin the slot's
 * backing page and map it.  Backends supply only the entry bits and the
 * TLB flush.  Also: guest memory access and guest page-table walks for the
 * instruction emulator.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/moduleparam.h>
#include <linux/sysfs.h>
#include <linux/uaccess.h>
#include <asm/io.h>
#include <asm/msr-index.h>
#include <asm/processor-flags.h>
#include <asm/trapnr.h>
#include "core.h"

#define PT_ADDR_MASK	GENMASK_ULL(51, 12)
#define PT_LEVELS	4
#define PT_ENTRIES	512

static atomic_long_t pinned_pages_total = ATOMIC_LONG_INIT(0);

static int pinned_pages_get(char *buf, const struct kernel_param *kp)
{
	return sysfs_emit(buf, "%ld\n", atomic_long_read(&pinned_pages_total));
}

static const struct kernel_param_ops pinned_pages_ops = {
	.get = pinned_pages_get,
};
module_param_cb(pinned_pages, &pinned_pages_ops, NULL, 0444);
MODULE_PARM_DESC(pinned_pages, "Guest pages currently pinned, all VMs");

/*
 * The EPT/NPT tables come from the page allocator and the CPU finds them
 * by physical address only.  Kmemleak neither tracks nor scans such pages
 * (nor the VMCS, VMCB, host-save and VMXON pages, allocated the same way),
 * so none needs a kmemleak annotation, and kmemleak_not_leak() on one
 * would warn about an unknown object.  A table taken from kmalloc() would
 * be reported as a leak by make check-debug and need kmemleak_ignore().
 */
int mvx_mmu_init(struct mvx_vm *vm)
{
	vm->mmu_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	return vm->mmu_root ? 0 : -ENOMEM;
}

phys_addr_t mvx_mmu_root_pa(struct mvx_vm *vm)
{
	return __pa(vm->mmu_root);
}

static u64 *pt_next_table(u64 entry)
{
	return __va(entry & PT_ADDR_MASK);
}

static void pt_free_table(u64 *table, int level)
{
	int i;

	for (i = 0; level > 1 && i < PT_ENTRIES; i++)
		if (table[i])
			pt_free_table(pt_next_table(table[i]), level - 1);
	free_page((unsigned long)table);
}

void mvx_mmu_destroy(struct mvx_vm *vm)
{
	if (vm->mmu_root)
		pt_free_table(vm->mmu_root, PT_LEVELS);
	vm->mmu_root = NULL;
}

/* The leaf entry for @gpa, allocating intermediate tables if @alloc. */
static u64 *pt_leaf(struct mvx_vm *vm, u64 gpa, bool alloc)
{
	u64 *table = vm->mmu_root;
	int level;

	for (level = PT_LEVELS; level > 1; level--) {
		unsigned int idx = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) &
				   (PT_ENTRIES - 1);

		if (!table[idx]) {
			u64 *next;

			if (!alloc)
				return NULL;
			next = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
			if (!next)
				return NULL;
			WRITE_ONCE(table[idx], __pa(next) | mvx_ops->pt_table_bits);
		}
		table = pt_next_table(table[idx]);
	}
	return &table[(gpa >> PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

static void slot_unpin_page(struct mvx_vm *vm, struct mvx_slot *slot,
			    unsigned long i, struct page *page)
{
	unpin_user_pages_dirty_lock(&page, 1,
				    !(slot->flags & MVX_MEM_READONLY));
	xa_erase(&slot->pages, i);
	vm->pinned_pages--;
	atomic_long_dec(&pinned_pages_total);
}

void mvx_slot_unpin(struct mvx_vm *vm, struct mvx_slot *slot)
{
	struct page *page;
	unsigned long i;

	xa_for_each(&slot->pages, i, page)
		slot_unpin_page(vm, slot, i, page);
}

/* Caller holds slots_sem for writing, so no vCPU is in the guest. */
void mvx_mmu_zap_slot(struct mvx_vm *vm, struct mvx_slot *slot)
{
	struct page *page;
	unsigned long i;

	mutex_lock(&vm->mmu_lock);
	/* Only pinned pages were ever mapped. */
	xa_for_each(&slot->pages, i, page) {
		u64 *pte = pt_leaf(vm, (slot->base_gfn + i) << PAGE_SHIFT,
				   false);

		if (pte)
			WRITE_ONCE(*pte, 0);
	}
	/* Every vCPU flushes before its next entry. */
	WRITE_ONCE(vm->mmu_gen, vm->mmu_gen + 1);
	mutex_unlock(&vm->mmu_lock);
}

static struct page *slot_pin_page(struct mvx_vm *vm, struct mvx_slot *slot,
				  unsigned long i)
{
	unsigned int flags = FOLL_LONGTERM;
	unsigned long hva = slot->hva + i * PAGE_SIZE;
	struct page *page;
	int ret;

	if (!(slot->flags & MVX_MEM_READONLY))
		flags |= FOLL_WRITE;
	/* The fast variant is the one that takes FOLL_LONGTERM on 6.1 too. */
	ret = pin_user_pages_fast(hva, 1, flags, &page);
	if (ret != 1) {
		pr_warn_ratelimited("slot %u: cannot pin %#lx for guest page %#llx (%d)\n",
				    slot->id, hva,
				    (slot->base_gfn + i) << PAGE_SHIFT, ret);
		return ERR_PTR(-EFAULT);
	}
	ret = xa_err(xa_store(&slot->pages, i, page, GFP_KERNEL_ACCOUNT));
	if (ret) {
		unpin_user_page(page);
		return ERR_PTR(ret);
	}
	vm->pinned_pages++;
	atomic_long_inc(&pinned_pages_total);
	return page;
}

static int mmu_map(struct mvx_vm *vm, struct mvx_slot *slot, u64 gfn)
{
	unsigned long i = gfn - slot->base_gfn;
	struct page *page;
	u64 entry, *pte;
	int ret = 0;

	mutex_lock(&vm->mmu_lock);
	page = xa_load(&slot->pages, i);
	if (!page) {
		page = slot_pin_page(vm, slot, i);
		if (IS_ERR(page)) {
			ret = PTR_ERR(page);
			goto out;
		}
	}
	pte = pt_leaf(vm, gfn << PAGE_SHIFT, true);
	if (!pte) {
		ret = -ENOMEM;
		goto out;
	}
	entry = page_to_phys(page) | mvx_ops->pt_leaf_bits;
	if (!(slot->flags & MVX_MEM_READONLY))
		entry |= mvx_ops->pt_write_bit;
	WRITE_ONCE(*pte, entry);
out:
	mutex_unlock(&vm->mmu_lock);
	return ret;
}

/* Second-level page fault: map slot memory, or emulate MMIO. */
int mvx_handle_npf(struct mvx_vcpu *vcpu, u64 gpa, bool write)
{
	struct mvx_slot *slot = mvx_find_slot(vcpu->vm, gpa >> PAGE_SHIFT);
	int ret;

	if (!slot || (write && (slot->flags & MVX_MEM_READONLY)))
		return mvx_emulate_mmio(vcpu, gpa);
	ret = mmu_map(vcpu->vm, slot, gpa >> PAGE_SHIFT);
	return ret ? ret : 1;
}

/*
 * Guest memory through the slots' userspace mappings: vCPU ioctls run in
 * the VM's own mm, so plain user copies work and fault pages in.
 */
static void __user *gpa_to_hva(struct mvx_vcpu *vcpu, u64 gpa, bool write)
{
	struct mvx_slot *slot = mvx_find_slot(vcpu->vm, gpa >> PAGE_SHIFT);

	if (!slot || (write && (slot->flags & MVX_MEM_READONLY)))
		return NULL;
	return (void __user *)(slot->hva +
			       (gpa - (slot->base_gfn << PAGE_SHIFT)));
}

static int guest_copy(struct mvx_vcpu *vcpu, u64 gpa, void *buf,
		      unsigned int len, bool write)
{
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gpa));
		void __user *hva = gpa_to_hva(vcpu, gpa, write);

		if (!hva)
			return -EFAULT;
		if (write ? copy_to_user(hva, buf, n) : copy_from_user(buf, hva, n))
			return -EFAULT;
		gpa += n;
		buf += n;
		len -= n;
	}
	return 0;
}

int mvx_read_guest(struct mvx_vcpu *vcpu, u64 gpa, void *buf, unsigned int len)
{
	return guest_copy(vcpu, gpa, buf, len, false);
}

int mvx_write_guest(struct mvx_vcpu *vcpu, u64 gpa, const void *buf,
		    unsigned int len)
{
	return guest_copy(vcpu, gpa, (void *)buf, len, true);
}

#define GPTE_PRESENT	BIT_ULL(0)
#define GPTE_RW		BIT_ULL(1)
#define GPTE_US		BIT_ULL(2)
#define GPTE_A		BIT_ULL(5)
#define GPTE_D		BIT_ULL(6)
#define GPTE_PS		BIT_ULL(7)
#define GPTE_XD		BIT_ULL(63)

#define RFLAGS_AC	BIT_ULL(18)
/* How often a walk starts over when the guest changes an entry under it. */
#define GPT_RETRIES	4

/* One guest paging structure, as the walk met it. */
struct gpt_step {
	u64 gpa;		/* of the entry */
	u64 entry;
	bool leaf;
};

/* A guest page-table walk: the mode's format and what the access found. */
struct gpt_walk {
	unsigned int levels;
	unsigned int entry_size;	/* 4 (32-bit paging) or 8 */
	bool pse;			/* large pages below the top level */
	bool nx;			/* EFER.NXE with 8-byte entries */
	struct gpt_step steps[5];
	unsigned int nsteps;
	u64 user, write, xd;		/* accumulated over the levels */
};

/*
 * Set the accessed (and dirty) bit in a guest paging entry as the CPU
 * does: atomically, and only if the entry still holds what we walked.
 * 1 when the guest changed it meanwhile, so the walk starts over.
 */
static int gpte_set_bits(struct mvx_vcpu *vcpu, const struct gpt_step *st,
			 unsigned int size, u64 bits)
{
	void __user *hva;
	int ret;

	if ((st->entry & bits) == bits)
		return 0;
	hva = gpa_to_hva(vcpu, st->gpa, true);
	/* Tables in ROM: the CPU's write would go nowhere either. */
	if (!hva)
		return 0;
	if (size == 8) {
		u64 old = st->entry;

		ret = __try_cmpxchg_user((u64 __user *)hva, &old,
					 st->entry | bits, efault8);
	} else {
		u32 old = st->entry;

		ret = __try_cmpxchg_user((u32 __user *)hva, &old,
					 (u32)(st->entry | bits), efault4);
	}
	return ret < 0 ? 0 : ret;
}

/*
 * Walk the tables from @table for @gva: fills @w and the translation.
 * 0 on success, -ENOENT when an entry is not present, -EINVAL for a
 * reserved bit, -EFAULT when a table is not guest RAM.
 */
static int gpt_walk(struct mvx_vcpu *vcpu, struct gpt_walk *w, u64 table,
		    u64 gva, u64 *gpa)
{
	unsigned int bits = w->entry_size == 8 ? 9 : 10;
	u64 addr_mask = w->entry_size == 8 ? PT_ADDR_MASK : GENMASK_ULL(31, 12);
	int level;

	w->nsteps = 0;
	w->user = GPTE_US;
	w->write = GPTE_RW;
	w->xd = 0;
	for (level = w->levels; level >= 1; level--) {
		unsigned int shift = PAGE_SHIFT + bits * (level - 1);
		u64 idx = (gva >> shift) & ((1ULL << bits) - 1);
		struct gpt_step *st = &w->steps[w->nsteps++];
		u64 entry = 0;

		st->gpa = (table & addr_mask) + idx * w->entry_size;
		st->leaf = level == 1;
		if (mvx_read_guest(vcpu, st->gpa, &entry, w->entry_size))
			return -EFAULT;
		st->entry = entry;
		if (!(entry & GPTE_PRESENT))
			return -ENOENT;
		if (w->entry_size == 8 && (entry & GPTE_XD) && !w->nx)
			return -EINVAL;
		w->user &= entry;
		w->write &= entry;
		w->xd |= entry & GPTE_XD;
		if (level > 1 && level < 4 && w->pse && (entry & GPTE_PS)) {
			u64 size = 1ULL << shift;
			u64 base = entry & addr_mask & ~(size - 1);

			/* 4 MiB pages keep address bits 39:32 in bits 20:13. */
			if (w->entry_size == 4)
				base = (entry & GENMASK_ULL(31, 22)) |
				       ((entry >> 13) & 0xff) << 32;
			st->leaf = true;
			*gpa = base | (gva & (size - 1));
			return 0;
		}
		table = entry;
	}
	*gpa = (table & addr_mask) | offset_in_page(gva);
	return 0;
}

/* Whether the translation @w found allows @access; the CPU's rules. */
static bool gpt_allows(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		       const struct gpt_walk *w, u32 access)
{
	bool write = access & MVX_ACC_WRITE;
	bool fetch = access & MVX_ACC_FETCH;

	if (fetch && w->xd)
		return false;
	if (access & MVX_ACC_USER)
		return w->user && (!write || w->write);

	if (write && !w->write && (mode->cr0 & X86_CR0_WP))
		return false;
	if (!w->user)
		return true;
	if (fetch)
		return !(mode->cr4 & X86_CR4_SMEP);
	/* SMAP: RFLAGS.AC opens user pages to explicit accesses below CPL 3. */
	if (!(mode->cr4 & X86_CR4_SMAP))
		return true;
	return !(access & MVX_ACC_IMPLICIT) && mode->cpl < 3 &&
	       (vcpu->rflags & RFLAGS_AC);
}

static int gva_walk(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		    struct gpt_walk *w, u64 gva, u64 *gpa)
{
	u64 pdpte;

	memset(w, 0, sizeof(*w));
	if (mode->efer & EFER_LMA) {
		w->levels = mode->cr4 & X86_CR4_LA57 ? 5 : 4;
		w->entry_size = 8;
		w->pse = true;
		w->nx = mode->efer & EFER_NX;
		return gpt_walk(vcpu, w, mode->cr3, gva, gpa);
	}
	if (!(mode->cr4 & X86_CR4_PAE)) {
		w->levels = 2;
		w->entry_size = 4;
		w->pse = mode->cr4 & X86_CR4_PSE;
		return gpt_walk(vcpu, w, mode->cr3, (u32)gva, gpa);
	}

	/*
	 * PAE: four PDPTEs at CR3[31:5], then a 2-level walk.  PDPTEs carry
	 * no permission or accessed bits.
	 */
	if (mvx_read_guest(vcpu, (mode->cr3 & GENMASK_ULL(31, 5)) +
			   (((u32)gva >> 30) & 3) * 8, &pdpte, 8))
		return -EFAULT;
	if (!(pdpte & GPTE_PRESENT))
		return -ENOENT;
	w->levels = 2;
	w->entry_size = 8;
	w->pse = true;
	w->nx = mode->efer & EFER_NX;
	return gpt_walk(vcpu, w, pdpte, (u32)gva, gpa);
}

/* The #PF error code for @access, as the CPU builds it. */
static u32 pf_error_code(const struct mvx_cpu_mode *mode,
			 const struct gpt_walk *w, u32 access, int walk)
{
	u32 err = access & (MVX_ACC_WRITE | MVX_ACC_USER);

	if (walk != -ENOENT)
		err |= MVX_PF_PRESENT;
	if (walk == -EINVAL)
		err |= MVX_PF_RSVD;
	/* I/D is only reported where fetches can fault by themselves. */
	if ((access & MVX_ACC_FETCH) &&
	    (w->nx || (mode->cr4 & X86_CR4_SMEP)))
		err |= MVX_ACC_FETCH;
	return err;
}

int mvx_gva_to_gpa_access(struct mvx_vcpu *vcpu,
			  const struct mvx_cpu_mode *mode, u64 gva,
			  u32 access, u64 *gpa, u32 *pf_error)
{
	struct gpt_walk w;
	int tries, ret = 0;
	unsigned int i;

	if (!(mode->cr0 & X86_CR0_PG)) {
		*gpa = mode->efer & EFER_LMA ? gva : (u32)gva;
		return 0;
	}
	if (mode->cpl == 3 && !(access & MVX_ACC_IMPLICIT))
		access |= MVX_ACC_USER;

	for (tries = 0; tries < GPT_RETRIES; tries++) {
		ret = gva_walk(vcpu, mode, &w, gva, gpa);
		if (ret == -EFAULT)
			return ret;
		if (ret || !gpt_allows(vcpu, mode, &w, access)) {
			*pf_error = pf_error_code(mode, &w, access, ret);
			return 1;
		}
		/* The access is allowed: the CPU marks the path it took. */
		for (i = 0; i < w.nsteps; i++) {
			const struct gpt_step *st = &w.steps[i];
			u64 bits = GPTE_A;

			if (st->leaf && (access & MVX_ACC_WRITE))
				bits |= GPTE_D;
			ret = gpte_set_bits(vcpu, st, w.entry_size, bits);
			if (ret)
				break;
		}
		if (!ret)
			return 0;
	}
	return 0;
}

int mvx_gva_to_gpa(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		   u64 gva, u64 *gpa)
{
	struct gpt_walk w;

	if (!(mode->cr0 & X86_CR0_PG)) {
		*gpa = mode->efer & EFER_LMA ? gva : (u32)gva;
		return 0;
	}
	return gva_walk(vcpu, mode, &w, gva, gpa) ? -EFAULT : 0;
}

void mvx_inject_page_fault(struct mvx_vcpu *vcpu, u64 addr, u32 error)
{
	mvx_ops->set_cr2(vcpu, addr);
	mvx_queue_exception(vcpu, X86_TRAP_PF, true, error);
}
