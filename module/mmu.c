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
#include <linux/mmu_notifier.h>
#include <linux/smp.h>
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
 * Guest memory follows the VMM's address space, as KVM's does: an MMU
 * notifier on the creator's mm hears of every change to its page tables
 * (munmap, mremap, MADV_DONTNEED, copy-on-write, migration, swap) before
 * the old page can go, and removes the second-level entries of the range,
 * with their pins.  The guest's next access faults the current page in.
 *
 * Locks: mmu_lock (a mutex: a zap waits for the CPUs running the guest and
 * unpins, which may sleep) covers the tables, the slot array as the
 * notifier reads it, and the pin count.  Nothing allocates with it held:
 * reclaim calls the notifier, so tables come from a cache filled before.
 * mmu_invalidate_lock (a spinlock, never held across anything that
 * sleeps) covers the invalidation sequence count, the count of
 * invalidations in progress and their union range, which a fault
 * checks before it maps what it pinned without mmu_lock.
 *
 * Dirty logging (a slot with MVX_MEM_LOG_DIRTY_PAGES): a page is mapped
 * writable only at the guest's first write to it, which sets its bit in
 * the slot's bitmap under mmu_lock; emulated writes set the bit after
 * they write.  GET_DIRTY_LOG, under mmu_lock too, takes the bits and
 * write-protects their pages before it flushes, so each write is either
 * in what it reports or faults again and sets the bit anew.  The bitmap
 * itself lives under slots_sem (minivmx.h); its bits are set and taken
 * atomically, as vCPUs set them concurrently.
 */

/* Up to one table per level below the root: what one fault can need. */
struct mmu_cache {
	u64 *tables[PT_LEVELS - 1];
	unsigned int n;
};

static int mmu_cache_fill(struct mmu_cache *c, unsigned int want)
{
	while (c->n < want) {
		u64 *t = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);

		if (!t)
			return -ENOMEM;
		c->tables[c->n++] = t;
	}
	return 0;
}

static void mmu_cache_free(struct mmu_cache *c)
{
	while (c->n)
		free_page((unsigned long)c->tables[--c->n]);
}

/*
 * The EPT/NPT tables come from the page allocator and the CPU finds them
 * by physical address only.  Kmemleak neither tracks nor scans such pages
 * (nor the VMCS, VMCB, host-save and VMXON pages, allocated the same way),
 * so none needs a kmemleak annotation, and kmemleak_not_leak() on one
 * would warn about an unknown object.  A table taken from kmalloc() would
 * be reported as a leak by make check-debug and need kmemleak_ignore().
 */
static const struct mmu_notifier_ops mvx_mmu_notifier_ops;

int mvx_mmu_init(struct mvx_vm *vm)
{
	int ret;

	spin_lock_init(&vm->mmu_invalidate_lock);
	if (!zalloc_cpumask_var(&vm->cpus_in_guest, GFP_KERNEL_ACCOUNT))
		return -ENOMEM;
	vm->mmu_root = (u64 *)get_zeroed_page(GFP_KERNEL_ACCOUNT);
	if (!vm->mmu_root) {
		ret = -ENOMEM;
		goto err;
	}
	vm->mmu_notifier.ops = &mvx_mmu_notifier_ops;
	ret = mmu_notifier_register(&vm->mmu_notifier, vm->mm);
	if (ret)
		goto err;
	vm->mmu_notifier_registered = true;
	return 0;
err:
	mvx_mmu_destroy(vm);
	return ret;
}

phys_addr_t mvx_mmu_root_pa(struct mvx_vm *vm)
{
	return __pa(vm->mmu_root);
}

static u64 *pt_next_table(u64 entry)
{
	return __va(entry & PT_ADDR_MASK);
}

static struct page *pt_leaf_page(u64 entry)
{
	return pfn_to_page(PHYS_PFN(entry & PT_ADDR_MASK));
}

/*
 * Drop a leaf's pin; a writable one may have been written by the guest
 * (one that dirty logging write-protected was marked when it lost write
 * access, pt_write_protect()).  The page is marked dirty without its
 * lock, as zap_pte_range() does for a dirty PTE: the notifier is called
 * with page locks held (migration, truncation), so set_page_dirty_lock()
 * here could deadlock, and the VMM still maps the page at that point,
 * which keeps it in its file.
 */
static void pt_unpin(struct mvx_vm *vm, u64 entry)
{
	struct page *page = pt_leaf_page(entry);

	if (entry & mvx_ops->pt_write_bit)
		folio_mark_dirty(page_folio(page));
	unpin_user_page(page);
	vm->pinned_pages--;
	atomic_long_dec(&pinned_pages_total);
}

/* Every leaf's pin is dropped: no CPU runs the guest any more. */
static void pt_free_table(struct mvx_vm *vm, u64 *table, int level)
{
	int i;

	for (i = 0; i < PT_ENTRIES; i++) {
		if (!table[i])
			continue;
		if (level > 1)
			pt_free_table(vm, pt_next_table(table[i]), level - 1);
		else
			pt_unpin(vm, table[i]);
	}
	free_page((unsigned long)table);
}

/*
 * After the notifier is gone (it may still be running a callback until
 * mmu_notifier_unregister() returns) and every vCPU is freed.
 */
void mvx_mmu_destroy(struct mvx_vm *vm)
{
	if (vm->mmu_notifier_registered)
		mmu_notifier_unregister(&vm->mmu_notifier, vm->mm);
	vm->mmu_notifier_registered = false;
	if (vm->mmu_root)
		pt_free_table(vm, vm->mmu_root, PT_LEVELS);
	vm->mmu_root = NULL;
	free_cpumask_var(vm->cpus_in_guest);
}

/*
 * The leaf entry for @gpa, taking missing tables from @cache (NULL: only
 * look).  NULL when a table is missing.
 */
static u64 *pt_leaf(struct mvx_vm *vm, u64 gpa, struct mmu_cache *cache)
{
	u64 *table = vm->mmu_root;
	int level;

	for (level = PT_LEVELS; level > 1; level--) {
		unsigned int idx = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) &
				   (PT_ENTRIES - 1);

		if (!table[idx]) {
			u64 *next;

			if (!cache || !cache->n)
				return NULL;
			next = cache->tables[--cache->n];
			WRITE_ONCE(table[idx], __pa(next) | mvx_ops->pt_table_bits);
		}
		table = pt_next_table(table[idx]);
	}
	return &table[(gpa >> PAGE_SHIFT) & (PT_ENTRIES - 1)];
}

/*
 * How many tables a mapping of @gpa lacks, looked at without mmu_lock:
 * tables are only added while the VM lives, so the answer can only be
 * too high, and a fault that finds it too low simply runs again.
 */
static unsigned int pt_missing(struct mvx_vm *vm, u64 gpa)
{
	u64 *table = vm->mmu_root;
	int level;

	for (level = PT_LEVELS; level > 1; level--) {
		unsigned int idx = (gpa >> (PAGE_SHIFT + 9 * (level - 1))) &
				   (PT_ENTRIES - 1);
		u64 entry = READ_ONCE(table[idx]);

		if (!entry)
			return level - 1;
		table = pt_next_table(entry);
	}
	return 0;
}

static void mmu_noop(void *info)
{
}

/*
 * Make removed translations unusable everywhere: every vCPU flushes
 * before its next entry (the generation), and the CPUs running this
 * VM's guest right now are made to exit and are waited for, so a vCPU
 * cannot go on using a stale EPT/NPT translation once this returns.
 *
 * A vCPU marks its CPU in cpus_in_guest and then reads mmu_gen (with a
 * full barrier between, vcpu.c); we bump mmu_gen and then read the mask.
 * Either it sees the new generation and flushes, or we see its CPU and
 * send the IPI, which takes it out of the guest (external interrupts
 * exit on both backends) before it is handled.  Translations left in the
 * TLB of a CPU no vCPU is on are flushed at the next entry there: a vCPU
 * entering on a CPU other than its last one always flushes.
 */
static void mmu_flush_remote(struct mvx_vm *vm)
{
	lockdep_assert_held(&vm->mmu_lock);
	WRITE_ONCE(vm->mmu_gen, vm->mmu_gen + 1);
	/* Pairs with the barrier after a vCPU marks cpus_in_guest. */
	smp_mb();
	preempt_disable();
	smp_call_function_many(vm->cpus_in_guest, mmu_noop, NULL, true);
	preempt_enable();
}

/* Leaves cleared but not yet flushed: their pins go after the flush. */
#define ZAP_BATCH	64

struct zap_batch {
	u64 entries[ZAP_BATCH];
	unsigned int n;
};

static void zap_batch_finish(struct mvx_vm *vm, struct zap_batch *b)
{
	unsigned int i;

	if (!b->n)
		return;
	mmu_flush_remote(vm);
	for (i = 0; i < b->n; i++)
		pt_unpin(vm, b->entries[i]);
	b->n = 0;
}

/* Clear the leaves for gfns [@start, @end) below @table at @level. */
static void zap_range(struct mvx_vm *vm, struct zap_batch *b, u64 *table,
		      int level, u64 base, u64 start, u64 end)
{
	unsigned int shift = 9 * (level - 1);
	u64 gfn = max(start, base);

	while (gfn < end) {
		unsigned int idx = (gfn >> shift) & (PT_ENTRIES - 1);
		u64 next = ((gfn >> shift) + 1) << shift;
		u64 entry = table[idx];

		if (entry && level > 1) {
			zap_range(vm, b, pt_next_table(entry), level - 1,
				  gfn & ~((1ULL << shift) - 1), start, end);
		} else if (entry) {
			WRITE_ONCE(table[idx], 0);
			b->entries[b->n++] = entry;
			if (b->n == ZAP_BATCH)
				zap_batch_finish(vm, b);
		}
		if (idx == PT_ENTRIES - 1)
			break;
		gfn = next;
	}
}

static void mmu_zap_gfns(struct mvx_vm *vm, u64 start, u64 end)
{
	struct zap_batch b;

	b.n = 0;
	zap_range(vm, &b, vm->mmu_root, PT_LEVELS, 0, start, end);
	zap_batch_finish(vm, &b);
}

/* Caller holds slots_sem for writing and mmu_lock. */
void mvx_mmu_zap_slot(struct mvx_vm *vm, struct mvx_slot *slot)
{
	lockdep_assert_held(&vm->mmu_lock);
	mmu_zap_gfns(vm, slot->base_gfn, slot->base_gfn + slot->npages);
}

/*
 * Take write access from the leaf for @gfn.  The guest may have written
 * the page while it was writable: the page is marked dirty now, as
 * pt_unpin() will not see the write bit any more.  True if it changed.
 */
static bool pt_write_protect(struct mvx_vm *vm, u64 gfn)
{
	u64 *pte = pt_leaf(vm, gfn << PAGE_SHIFT, NULL);
	u64 entry;

	if (!pte || !(*pte & mvx_ops->pt_write_bit))
		return false;
	entry = *pte;
	WRITE_ONCE(*pte, entry & ~mvx_ops->pt_write_bit);
	folio_mark_dirty(page_folio(pt_leaf_page(entry)));
	return true;
}

/* Write-protect the leaves for gfns [@start, @end) below @table. */
static bool protect_range(struct mvx_vm *vm, u64 *table, int level, u64 base,
			  u64 start, u64 end)
{
	unsigned int shift = 9 * (level - 1);
	u64 gfn = max(start, base);
	bool changed = false;

	while (gfn < end) {
		unsigned int idx = (gfn >> shift) & (PT_ENTRIES - 1);
		u64 entry = table[idx];

		if (entry && level > 1)
			changed |= protect_range(vm, pt_next_table(entry),
						 level - 1,
						 gfn & ~((1ULL << shift) - 1),
						 start, end);
		else if (entry)
			changed |= pt_write_protect(vm, gfn);
		if (idx == PT_ENTRIES - 1)
			break;
		gfn = ((gfn >> shift) + 1) << shift;
	}
	return changed;
}

/*
 * Dirty logging starts on @slot: its pages must fault at the guest's next
 * write.  Caller holds slots_sem for writing and mmu_lock.
 */
void mvx_mmu_protect_slot(struct mvx_vm *vm, struct mvx_slot *slot)
{
	lockdep_assert_held(&vm->mmu_lock);
	if (protect_range(vm, vm->mmu_root, PT_LEVELS, 0, slot->base_gfn,
			  slot->base_gfn + slot->npages))
		mmu_flush_remote(vm);
}

/* Words of the bitmap between two chances for the scheduler. */
#define DIRTY_WORDS_PER_RESCHED	1024

/*
 * GET_DIRTY_LOG: move @slot's dirty bits to @bits (zeroed, the bitmap's
 * size) and write-protect the pages they name, so that the guest's next
 * write to each is logged again.  The flush comes before mmu_lock is
 * released, so once this returns no CPU writes through a translation
 * taken away here.  A guest write between taking a bit and the flush
 * reaches a page reported dirty, which the VMM reads after we return.
 * Caller holds slots_sem for reading.
 */
void mvx_mmu_take_dirty(struct mvx_vm *vm, struct mvx_slot *slot,
			unsigned long *bits)
{
	unsigned long i, n = BITS_TO_LONGS(slot->npages);
	bool flush = false;

	mutex_lock(&vm->mmu_lock);
	for (i = 0; i < n; i++) {
		unsigned long mask;
		unsigned int b;

		if (i % DIRTY_WORDS_PER_RESCHED == DIRTY_WORDS_PER_RESCHED - 1)
			cond_resched();
		if (!READ_ONCE(slot->dirty_bitmap[i]))
			continue;
		mask = xchg(&slot->dirty_bitmap[i], 0);
		bits[i] = mask;
		for_each_set_bit(b, &mask, BITS_PER_LONG)
			flush |= pt_write_protect(vm, slot->base_gfn +
						  i * BITS_PER_LONG + b);
	}
	if (flush)
		mmu_flush_remote(vm);
	mutex_unlock(&vm->mmu_lock);
}

/* Zap what slots map of host virtual range [@start, @end). */
static void mmu_zap_hva(struct mvx_vm *vm, unsigned long start,
			unsigned long end)
{
	unsigned int i;

	for (i = 0; i < MVX_MAX_SLOTS; i++) {
		struct mvx_slot *s = &vm->slots[i];
		unsigned long s_end = s->hva + (s->npages << PAGE_SHIFT);
		unsigned long from, to;

		if (!s->used || start >= s_end || end <= s->hva)
			continue;
		from = max(start, s->hva);
		to = min(end, s_end);
		mmu_zap_gfns(vm, s->base_gfn + ((from - s->hva) >> PAGE_SHIFT),
			     s->base_gfn + ((to - s->hva + PAGE_SIZE - 1) >>
					    PAGE_SHIFT));
	}
}

static struct mvx_vm *notifier_vm(struct mmu_notifier *mn)
{
	return container_of(mn, struct mvx_vm, mmu_notifier);
}

static void invalidate_begin(struct mvx_vm *vm, unsigned long start,
			     unsigned long end)
{
	spin_lock(&vm->mmu_invalidate_lock);
	if (!vm->mmu_invalidate_in_progress++) {
		vm->mmu_invalidate_start = start;
		vm->mmu_invalidate_end = end;
	} else {
		vm->mmu_invalidate_start = min(vm->mmu_invalidate_start, start);
		vm->mmu_invalidate_end = max(vm->mmu_invalidate_end, end);
	}
	spin_unlock(&vm->mmu_invalidate_lock);
}

static void invalidate_done(struct mvx_vm *vm)
{
	spin_lock(&vm->mmu_invalidate_lock);
	vm->mmu_invalidate_seq++;
	vm->mmu_invalidate_in_progress--;
	spin_unlock(&vm->mmu_invalidate_lock);
}

/*
 * The range's pages are about to leave the VMM's page tables: from now
 * until the matching end, a fault in the range must not map what it
 * pinned (the in-progress count), and what is mapped goes now.
 */
static int mvx_invalidate_range_start(struct mmu_notifier *mn,
				      const struct mmu_notifier_range *range)
{
	struct mvx_vm *vm = notifier_vm(mn);

	invalidate_begin(vm, range->start, range->end);
	/*
	 * Only the OOM reaper and process_mrelease(), both on a dying mm,
	 * may not block, and the zap sleeps (mmu_lock).  Failing is no way
	 * out: the kernel WARNs when a notifier that has an end fails its
	 * start, and calls that end anyway.  So the guest's mappings stay:
	 * their pages stay pinned, never freed under it, until release()
	 * unpins them as the mm is torn down; the reaper frees less.
	 */
	if (!mmu_notifier_range_blockable(range))
		return 0;
	mutex_lock(&vm->mmu_lock);
	mmu_zap_hva(vm, range->start, range->end);
	mutex_unlock(&vm->mmu_lock);
	return 0;
}

static void mvx_invalidate_range_end(struct mmu_notifier *mn,
				     const struct mmu_notifier_range *range)
{
	invalidate_done(notifier_vm(mn));
}

/*
 * The mm is going away (its last user exited) or the notifier is being
 * unregistered: nothing of it may stay mapped or pinned.  No vCPU can
 * fault again: vCPU ioctls come only from tasks of this mm.
 */
static void mvx_mmu_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct mvx_vm *vm = notifier_vm(mn);

	mutex_lock(&vm->mmu_lock);
	mmu_zap_gfns(vm, 0, 1ULL << (MVX_GPA_BITS - PAGE_SHIFT));
	mutex_unlock(&vm->mmu_lock);
}

/*
 * Only the three callbacks both kernels have with the same prototype.
 * We need neither invalidate_range (6.1) nor its successor
 * arch_invalidate_secondary_tlbs (6.6): they serve tables shared with
 * the CPU's, flushed after the PTEs change, while our entries are all
 * gone at invalidate_range_start.  change_pte (6.1 only) is always
 * bracketed by start and end, so the entry it would update is gone too.
 */
static const struct mmu_notifier_ops mvx_mmu_notifier_ops = {
	.invalidate_range_start = mvx_invalidate_range_start,
	.invalidate_range_end = mvx_invalidate_range_end,
	.release = mvx_mmu_release,
};

/*
 * Whether a fault that read mmu_invalidate_seq as @seq before pinning
 * @hva must not map it: an invalidation of @hva is under way, or one
 * finished since.
 */
static bool mmu_invalidate_retry(struct mvx_vm *vm, unsigned long seq,
				 unsigned long hva)
{
	bool retry;

	spin_lock(&vm->mmu_invalidate_lock);
	retry = vm->mmu_invalidate_seq != seq ||
		(vm->mmu_invalidate_in_progress &&
		 hva >= vm->mmu_invalidate_start &&
		 hva < vm->mmu_invalidate_end);
	spin_unlock(&vm->mmu_invalidate_lock);
	return retry;
}

/* Log a guest write to @gfn of @slot, if the slot logs them. */
static void mark_page_dirty(struct mvx_slot *slot, u64 gfn)
{
	if (slot->dirty_bitmap)
		set_bit(gfn - slot->base_gfn, slot->dirty_bitmap);
}

/*
 * A leaf is there already (another vCPU mapped it meanwhile, or dirty
 * logging left it read-only): a write only needs the write bit, as the
 * page was pinned for writing.  The entry maps the page the VMM has
 * there now: an invalidation since would have removed it.
 */
static void pt_allow_write(struct mvx_vm *vm, struct mvx_slot *slot, u64 gfn,
			   u64 *pte)
{
	mark_page_dirty(slot, gfn);
	if (!(*pte & mvx_ops->pt_write_bit))
		WRITE_ONCE(*pte, *pte | mvx_ops->pt_write_bit);
}

/*
 * Map @gfn to the page the VMM has at its slot address now.  The page is
 * pinned without mmu_lock (pinning may fault, COW or split, which calls
 * the notifier), then mapped under it unless an invalidation met the
 * address meanwhile: the guest then faults again.  The pin lasts as long
 * as the mapping.  A writable slot's page is always pinned for writing,
 * but while the slot logs dirty pages it is mapped writable only for a
 * @write fault, which logs it.
 */
static int mmu_map(struct mvx_vm *vm, struct mvx_slot *slot, u64 gfn,
		   bool write)
{
	unsigned long hva = slot->hva + ((gfn - slot->base_gfn) << PAGE_SHIFT);
	bool writable = !(slot->flags & MVX_MEM_READONLY);
	bool map_write = writable && (write || !slot->dirty_bitmap);
	unsigned int flags = FOLL_LONGTERM;
	struct mmu_cache cache = { .n = 0 };
	struct page *page;
	unsigned long seq;
	u64 entry, *pte;
	int ret;

	seq = READ_ONCE(vm->mmu_invalidate_seq);
	/* The count before the VMM's page table, as KVM reads them. */
	smp_rmb();
	if (writable)
		flags |= FOLL_WRITE;
	/* The fast variant is the one that takes FOLL_LONGTERM on 6.1 too. */
	ret = pin_user_pages_fast(hva, 1, flags, &page);
	if (ret != 1) {
		pr_warn_ratelimited("slot %u: cannot pin %#lx for guest page %#llx (%d)\n",
				    slot->id, hva, gfn << PAGE_SHIFT, ret);
		return -EFAULT;
	}
	ret = mmu_cache_fill(&cache, pt_missing(vm, gfn << PAGE_SHIFT));
	if (ret)
		goto out;

	mutex_lock(&vm->mmu_lock);
	if (mmu_invalidate_retry(vm, seq, hva))
		goto unlock;
	pte = pt_leaf(vm, gfn << PAGE_SHIFT, &cache);
	if (!pte)
		goto unlock;
	if (*pte) {
		if (map_write)
			pt_allow_write(vm, slot, gfn, pte);
		goto unlock;
	}
	entry = page_to_phys(page) | mvx_ops->pt_leaf_bits;
	if (map_write) {
		entry |= mvx_ops->pt_write_bit;
		mark_page_dirty(slot, gfn);
	}
	WRITE_ONCE(*pte, entry);
	page = NULL;
	vm->pinned_pages++;
	atomic_long_inc(&pinned_pages_total);
unlock:
	mutex_unlock(&vm->mmu_lock);
out:
	mmu_cache_free(&cache);
	if (page)
		unpin_user_page(page);
	return ret;
}

/* Second-level page fault: map slot memory, or emulate MMIO. */
int mvx_handle_npf(struct mvx_vcpu *vcpu, u64 gpa, bool write)
{
	struct mvx_slot *slot = mvx_find_slot(vcpu->vm, gpa >> PAGE_SHIFT);
	int ret;

	if (!slot || (write && (slot->flags & MVX_MEM_READONLY)))
		return mvx_emulate_mmio(vcpu, gpa);
	ret = mmu_map(vcpu->vm, slot, gpa >> PAGE_SHIFT, write);
	return ret ? ret : 1;
}

/*
 * Guest memory through the slots' userspace mappings: vCPU ioctls run in
 * the VM's own mm, so plain user copies work and fault pages in.  Every
 * emulated access (string PIO, MMIO decode, instruction fetch, guest
 * page walks) comes here, so it sees the page the VMM has there now, the
 * one the guest will fault in: no kernel mapping of guest memory is kept.
 */
static void __user *gpa_to_hva(struct mvx_vcpu *vcpu, u64 gpa,
			       bool write, struct mvx_slot **slotp)
{
	struct mvx_slot *slot = mvx_find_slot(vcpu->vm, gpa >> PAGE_SHIFT);

	if (!slot || (write && (slot->flags & MVX_MEM_READONLY)))
		return NULL;
	*slotp = slot;
	return (void __user *)(slot->hva +
			       (gpa - (slot->base_gfn << PAGE_SHIFT)));
}

/*
 * An emulated write is logged after it is done, even when it failed
 * part way: a page reported dirty that is not costs the VMM one copy.
 */
static int guest_copy(struct mvx_vcpu *vcpu, u64 gpa, void *buf,
		      unsigned int len, bool write)
{
	while (len) {
		unsigned int n = min_t(unsigned int, len,
				       PAGE_SIZE - offset_in_page(gpa));
		struct mvx_slot *slot;
		void __user *hva = gpa_to_hva(vcpu, gpa, write, &slot);
		unsigned long left;

		if (!hva)
			return -EFAULT;
		if (write) {
			left = copy_to_user(hva, buf, n);
			mark_page_dirty(slot, gpa >> PAGE_SHIFT);
		} else {
			left = copy_from_user(buf, hva, n);
		}
		if (left)
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
	struct mvx_slot *slot;
	void __user *hva;
	int ret;

	if ((st->entry & bits) == bits)
		return 0;
	hva = gpa_to_hva(vcpu, st->gpa, true, &slot);
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
	/* The CPU's own A/D writes dirty the table's page, so do ours. */
	if (!ret)
		mark_page_dirty(slot, st->gpa >> PAGE_SHIFT);
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
