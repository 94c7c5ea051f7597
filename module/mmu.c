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

static void slot_unpin_page(struct mvx_vm *vm, struct mvx_slot *slot, u64 i)
{
	struct page *page = slot->pages[i];

	unpin_user_pages_dirty_lock(&page, 1,
				    !(slot->flags & MVX_MEM_READONLY));
	slot->pages[i] = NULL;
	vm->pinned_pages--;
	atomic_long_dec(&pinned_pages_total);
}

void mvx_slot_unpin(struct mvx_vm *vm, struct mvx_slot *slot)
{
	u64 i;

	for (i = 0; i < slot->npages; i++)
		if (slot->pages[i])
			slot_unpin_page(vm, slot, i);
}

/* Caller holds slots_sem for writing, so no vCPU is in the guest. */
void mvx_mmu_zap_slot(struct mvx_vm *vm, struct mvx_slot *slot)
{
	u64 i;

	mutex_lock(&vm->mmu_lock);
	for (i = 0; i < slot->npages; i++) {
		u64 *pte;

		if (!slot->pages[i])
			continue;
		pte = pt_leaf(vm, (slot->base_gfn + i) << PAGE_SHIFT, false);
		if (pte)
			WRITE_ONCE(*pte, 0);
	}
	/* Every vCPU flushes before its next entry. */
	WRITE_ONCE(vm->mmu_gen, vm->mmu_gen + 1);
	mutex_unlock(&vm->mmu_lock);
}

static int slot_pin_page(struct mvx_vm *vm, struct mvx_slot *slot, u64 i)
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
		return -EFAULT;
	}
	slot->pages[i] = page;
	vm->pinned_pages++;
	atomic_long_inc(&pinned_pages_total);
	return 0;
}

static int mmu_map(struct mvx_vm *vm, struct mvx_slot *slot, u64 gfn)
{
	u64 i = gfn - slot->base_gfn;
	u64 entry, *pte;
	int ret = 0;

	mutex_lock(&vm->mmu_lock);
	if (!slot->pages[i]) {
		ret = slot_pin_page(vm, slot, i);
		if (ret)
			goto out;
	}
	pte = pt_leaf(vm, gfn << PAGE_SHIFT, true);
	if (!pte) {
		ret = -ENOMEM;
		goto out;
	}
	entry = page_to_phys(slot->pages[i]) | mvx_ops->pt_leaf_bits;
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
static int guest_copy(struct mvx_vcpu *vcpu, u64 gpa, void *buf,
		      unsigned int len, bool write)
{
	while (len) {
		struct mvx_slot *slot = mvx_find_slot(vcpu->vm, gpa >> PAGE_SHIFT);
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gpa));
		void __user *hva;

		if (!slot || (write && (slot->flags & MVX_MEM_READONLY)))
			return -EFAULT;
		hva = (void __user *)(slot->hva +
				      (gpa - (slot->base_gfn << PAGE_SHIFT)));
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
#define GPTE_PS		BIT_ULL(7)

/*
 * Walk the guest's page tables: @levels of @entry_size-byte entries, each
 * level indexing @bits of the address; large pages end the walk early.
 */
static int gpt_walk(struct mvx_vcpu *vcpu, u64 table, u64 gva, int levels,
		    unsigned int entry_size, bool pse, u64 *gpa)
{
	unsigned int bits = entry_size == 8 ? 9 : 10;
	u64 addr_mask = entry_size == 8 ? PT_ADDR_MASK : GENMASK_ULL(31, 12);
	int level;

	for (level = levels; level >= 1; level--) {
		unsigned int shift = PAGE_SHIFT + bits * (level - 1);
		u64 idx = (gva >> shift) & ((1ULL << bits) - 1);
		u64 entry = 0;

		if (mvx_read_guest(vcpu, (table & addr_mask) + idx * entry_size,
				   &entry, entry_size))
			return -EFAULT;
		if (!(entry & GPTE_PRESENT))
			return -EFAULT;
		if (level > 1 && level < 4 && pse && (entry & GPTE_PS)) {
			u64 size = 1ULL << shift;
			u64 base = entry & addr_mask & ~(size - 1);

			/* 4 MiB pages of 32-bit paging keep bits 39:32 elsewhere. */
			if (entry_size == 4)
				base = entry & GENMASK_ULL(31, 22);
			*gpa = base | (gva & (size - 1));
			return 0;
		}
		table = entry;
	}
	*gpa = (table & addr_mask) | offset_in_page(gva);
	return 0;
}

int mvx_gva_to_gpa(struct mvx_vcpu *vcpu, const struct mvx_cpu_mode *mode,
		   u64 gva, u64 *gpa)
{
	u64 pdpte;

	if (!(mode->cr0 & X86_CR0_PG)) {
		*gpa = mode->efer & EFER_LMA ? gva : (u32)gva;
		return 0;
	}
	if (mode->efer & EFER_LMA)
		return gpt_walk(vcpu, mode->cr3, gva, 4, 8, true, gpa);
	if (!(mode->cr4 & X86_CR4_PAE))
		return gpt_walk(vcpu, mode->cr3, (u32)gva, 2, 4,
				mode->cr4 & X86_CR4_PSE, gpa);

	/* PAE: four PDPTEs at CR3[31:5], then a 2-level walk. */
	if (mvx_read_guest(vcpu, (mode->cr3 & GENMASK_ULL(31, 5)) +
			   (((u32)gva >> 30) & 3) * 8, &pdpte, 8))
		return -EFAULT;
	if (!(pdpte & GPTE_PRESENT))
		return -EFAULT;
	return gpt_walk(vcpu, pdpte, (u32)gva, 2, 8, true, gpa);
}
