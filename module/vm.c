// SPDX-License-Identifier: GPL-2.0
/*
 * VM file descriptors: memory slots and vCPU creation.
 *
 * A VM lives as long as its fd or any of its vCPU fds is open; the files
 * pin the module through their fops owner.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
#include <linux/compat.h>
#include <linux/file.h>
#include <linux/mm.h>
#include <linux/sched/mm.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <asm/processor.h>
#include "core.h"

/* KVM's limit: the page count of a slot must fit in 31 bits. */
#define MVX_MAX_SLOT_PAGES	((1ULL << 31) - 1)

void mvx_vm_get(struct mvx_vm *vm)
{
	refcount_inc(&vm->refs);
}

/*
 * Runs in the release of the VM's last file (its fd, a vCPU fd or a vCPU's
 * mapped run page), which a user task does inside close() or munmap(), or
 * while exiting, before its parent can reap it.  Nothing below is left to
 * a worker, so VMX/SVM is off again (mvx_hw_put) when that returns: a
 * kvm_intel/kvm_amd loaded right after our last VM is gone finds it free
 * (run_tests' coexistence check shows any retry it needed).
 */
static void mvx_vm_destroy(struct mvx_vm *vm)
{
	unsigned int i;

	for (i = 0; i < MVX_MAX_VCPUS; i++)
		if (vm->vcpus[i])
			mvx_vcpu_free(vm->vcpus[i]);

	mvx_mmu_destroy(vm);
	for (i = 0; i < MVX_MAX_SLOTS; i++)
		kvfree(vm->slots[i].dirty_bitmap);
	mmdrop(vm->mm);
	mvx_hw_put();
	kfree(vm);
}

void mvx_vm_put(struct mvx_vm *vm)
{
	if (refcount_dec_and_test(&vm->refs))
		mvx_vm_destroy(vm);
}

struct mvx_slot *mvx_find_slot(struct mvx_vm *vm, u64 gfn)
{
	unsigned int i;

	for (i = 0; i < MVX_MAX_SLOTS; i++) {
		struct mvx_slot *s = &vm->slots[i];

		if (s->used && gfn >= s->base_gfn && gfn < s->base_gfn + s->npages)
			return s;
	}
	return NULL;
}

static bool slot_overlaps(struct mvx_vm *vm, u32 id, u64 gfn, u64 npages)
{
	unsigned int i;

	for (i = 0; i < MVX_MAX_SLOTS; i++) {
		struct mvx_slot *s = &vm->slots[i];

		if (!s->used || s->id == id)
			continue;
		if (gfn < s->base_gfn + s->npages && s->base_gfn < gfn + npages)
			return true;
	}
	return false;
}

/*
 * The guest-physical addresses a slot may cover: what the host CPU can
 * address (the guest sees the same CPUID width), and no more than our
 * 4-level EPT/NPT resolves.  A gfn past the tables' reach would index
 * them modulo their size and alias another slot's mapping.
 */
static u64 max_slot_end(void)
{
	unsigned int bits = min_t(unsigned int, boot_cpu_data.x86_phys_bits,
				  MVX_GPA_BITS);

	return 1ULL << bits;
}

static int check_region(const struct mvx_userspace_memory_region *mem)
{
	u64 end = mem->guest_phys_addr + mem->memory_size;

	if (mem->flags & ~(MVX_MEM_LOG_DIRTY_PAGES | MVX_MEM_READONLY)) {
		pr_debug("memory slot %u: unsupported flags %#x\n",
			 mem->slot, mem->flags);
		return -EINVAL;
	}
	if (mem->slot >= MVX_MAX_SLOTS)
		return -EINVAL;
	if (!PAGE_ALIGNED(mem->memory_size) ||
	    !PAGE_ALIGNED(mem->guest_phys_addr) ||
	    !PAGE_ALIGNED(mem->userspace_addr))
		return -EINVAL;
	if (end < mem->guest_phys_addr ||
	    mem->memory_size >> PAGE_SHIFT > MVX_MAX_SLOT_PAGES) {
		pr_info_ratelimited("memory slot %u: %#llx bytes at %#llx is too large\n",
				    mem->slot, mem->memory_size,
				    mem->guest_phys_addr);
		return -EINVAL;
	}
	if (mem->memory_size && end > max_slot_end()) {
		pr_info_ratelimited("memory slot %u: [%#llx, %#llx) reaches past the guest's %u-bit physical address space\n",
				    mem->slot, mem->guest_phys_addr, end,
				    ilog2(max_slot_end()));
		return -EINVAL;
	}
	if (mem->memory_size &&
	    !access_ok((void __user *)(unsigned long)mem->userspace_addr,
		       mem->memory_size))
		return -EINVAL;
	return 0;
}

static int slot_create(struct mvx_vm *vm, struct mvx_slot *slot,
		       const struct mvx_userspace_memory_region *mem,
		       unsigned long **bitmap)
{
	u64 npages = mem->memory_size >> PAGE_SHIFT;

	slot->id = mem->slot;
	slot->flags = mem->flags;
	slot->base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	slot->npages = npages;
	slot->hva = mem->userspace_addr;
	if (mem->flags & MVX_MEM_LOG_DIRTY_PAGES)
		swap(slot->dirty_bitmap, *bitmap);
	slot->used = true;
	return 0;
}

/*
 * Dirty logging turns on (the bitmap @bitmap brings goes to the slot,
 * and what is mapped writable is made to fault at the next write) or
 * off (the slot's bitmap goes to *@bitmap, to be freed); as on KVM, the
 * bits stay when a logging slot only moves.
 */
static void slot_set_flags(struct mvx_vm *vm, struct mvx_slot *slot,
			   u32 flags, unsigned long **bitmap)
{
	bool logging = flags & MVX_MEM_LOG_DIRTY_PAGES;

	slot->flags = flags;
	if (logging == !!slot->dirty_bitmap)
		return;
	swap(slot->dirty_bitmap, *bitmap);
	if (logging)
		mvx_mmu_protect_slot(vm, slot);
}

/*
 * Caller holds slots_sem for writing (no vCPU is inside the guest) and
 * mmu_lock (the MMU notifier reads the slots under it).  *@bitmap is a
 * zeroed dirty bitmap for the slot if it is to log and has none; on
 * return, whatever the caller must free.
 */
static int set_memory_region(struct mvx_vm *vm,
			     const struct mvx_userspace_memory_region *mem,
			     unsigned long **bitmap)
{
	struct mvx_slot *slot = &vm->slots[mem->slot];
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	u64 gfn = mem->guest_phys_addr >> PAGE_SHIFT;

	if (!mem->memory_size) {
		if (!slot->used)
			return -EINVAL;
		mvx_mmu_zap_slot(vm, slot);
		swap(slot->dirty_bitmap, *bitmap);
		memset(slot, 0, sizeof(*slot));
		return 0;
	}

	if (slot->used) {
		/*
		 * As KVM: a slot may move and turn dirty logging on or off,
		 * but keeps its memory and whether it is read-only.
		 */
		if (mem->userspace_addr != slot->hva || npages != slot->npages ||
		    ((mem->flags ^ slot->flags) & MVX_MEM_READONLY))
			return -EINVAL;
		if (gfn == slot->base_gfn && mem->flags == slot->flags)
			return 0;
		if (gfn != slot->base_gfn) {
			if (slot_overlaps(vm, mem->slot, gfn, npages))
				return -EEXIST;
			mvx_mmu_zap_slot(vm, slot);
			slot->base_gfn = gfn;
		}
		slot_set_flags(vm, slot, mem->flags, bitmap);
		return 0;
	}

	if (slot_overlaps(vm, mem->slot, gfn, npages))
		return -EEXIST;
	return slot_create(vm, slot, mem, bitmap);
}

/*
 * The bitmap a slot that is to log dirty pages still lacks, allocated
 * before mmu_lock is taken (reclaim calls the MMU notifier, which takes
 * it): NULL when none is needed.  Caller holds slots_sem for writing.
 */
static int alloc_dirty_bitmap(struct mvx_vm *vm,
			      const struct mvx_userspace_memory_region *mem,
			      unsigned long **bitmap)
{
	const struct mvx_slot *slot = &vm->slots[mem->slot];

	*bitmap = NULL;
	if (!(mem->flags & MVX_MEM_LOG_DIRTY_PAGES) || !mem->memory_size ||
	    (slot->used && slot->dirty_bitmap))
		return 0;
	*bitmap = kvzalloc(mvx_dirty_bitmap_bytes(mem->memory_size >>
						  PAGE_SHIFT),
			   GFP_KERNEL_ACCOUNT);
	return *bitmap ? 0 : -ENOMEM;
}

static int vm_set_memory_region(struct mvx_vm *vm, void __user *argp)
{
	struct mvx_userspace_memory_region mem;
	unsigned long *bitmap;
	int ret;

	if (copy_from_user(&mem, argp, sizeof(mem)))
		return -EFAULT;
	ret = check_region(&mem);
	if (ret)
		return ret;

	down_write(&vm->slots_sem);
	ret = alloc_dirty_bitmap(vm, &mem, &bitmap);
	if (!ret) {
		mutex_lock(&vm->mmu_lock);
		ret = set_memory_region(vm, &mem, &bitmap);
		mutex_unlock(&vm->mmu_lock);
	}
	up_write(&vm->slots_sem);
	kvfree(bitmap);
	return ret;
}

/* KVM's slot ids: 16 bits of slot, then the address space (SMM's is 1). */
#define MVX_KVM_ADDRESS_SPACES	2
#define MVX_KVM_USER_MEM_SLOTS	32764

/*
 * The slot GET_DIRTY_LOG names, with KVM's errors: EINVAL for an id KVM
 * could never have, ENOENT for a slot that does not exist (minivmx has
 * no SMM address space) or does not log.  Caller holds slots_sem.
 */
static struct mvx_slot *dirty_log_slot(struct mvx_vm *vm, u32 id, int *err)
{
	u32 as_id = id >> 16, index = (u16)id;
	struct mvx_slot *slot;

	*err = -EINVAL;
	if (as_id >= MVX_KVM_ADDRESS_SPACES || index >= MVX_KVM_USER_MEM_SLOTS)
		return NULL;
	*err = -ENOENT;
	if (as_id || index >= MVX_MAX_SLOTS)
		return NULL;
	slot = &vm->slots[index];
	if (!slot->used || !slot->dirty_bitmap)
		return NULL;
	return slot;
}

/*
 * KVM_GET_DIRTY_LOG: the slot's pages written since the last call, which
 * are write-protected again (mvx_mmu_take_dirty).  The bits are copied
 * out with no lock held: the user buffer may fault, and the MMU notifier
 * then needs mmu_lock.  As on KVM, bits that fail to reach the buffer
 * (EFAULT) are lost.
 */
static int vm_get_dirty_log(struct mvx_vm *vm, void __user *argp)
{
	struct mvx_dirty_log log;
	void __user *ubits;
	unsigned long *bits = NULL, bytes = 0;
	struct mvx_slot *slot;
	int ret;

	if (copy_from_user(&log, argp, sizeof(log)))
		return -EFAULT;
	/* A 32-bit VMM's pointer fills only the low half of the union. */
	ubits = in_compat_syscall() ? compat_ptr((u32)log.padding2) :
				      u64_to_user_ptr(log.padding2);

	down_read(&vm->slots_sem);
	slot = dirty_log_slot(vm, log.slot, &ret);
	if (slot) {
		bytes = mvx_dirty_bitmap_bytes(slot->npages);
		bits = kvzalloc(bytes, GFP_KERNEL_ACCOUNT);
		ret = bits ? 0 : -ENOMEM;
	}
	if (bits)
		mvx_mmu_take_dirty(vm, slot, bits);
	up_read(&vm->slots_sem);

	if (bits && copy_to_user(ubits, bits, bytes))
		ret = -EFAULT;
	kvfree(bits);
	return ret;
}

/*
 * KVM routes GSIs only to its in-kernel irqchip; on a VM without one (all
 * of minivmx's) the ioctl reads the header and fails with EINVAL.  QEMU
 * calls it only with an in-kernel irqchip.
 */
static int vm_set_gsi_routing(void __user *argp)
{
	struct mvx_irq_routing hdr;

	if (copy_from_user(&hdr, argp, sizeof(hdr)))
		return -EFAULT;
	return -EINVAL;
}

static long mvx_vm_ioctl(struct file *filp, unsigned int cmd,
			 unsigned long arg)
{
	struct mvx_vm *vm = filp->private_data;

	if (vm->mm != current->mm)
		return -EIO;

	switch (cmd) {
	case MVX_CREATE_VCPU:
		return mvx_vcpu_create(vm, arg);
	case MVX_SET_USER_MEMORY_REGION:
		return vm_set_memory_region(vm, (void __user *)arg);
	case MVX_GET_DIRTY_LOG:
		return vm_get_dirty_log(vm, (void __user *)arg);
	case MVX_SET_TSS_ADDR:
		/* Unrestricted guest needs no TSS of ours; remember it only. */
		vm->tss_addr = arg;
		return 0;
	case MVX_CHECK_EXTENSION:
		return mvx_check_extension(arg);
	case MVX_SET_GSI_ROUTING:
		return vm_set_gsi_routing((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static int mvx_vm_release(struct inode *inode, struct file *filp)
{
	mvx_vm_put(filp->private_data);
	return 0;
}

static const struct file_operations mvx_vm_fops = {
	.owner = THIS_MODULE,
	.release = mvx_vm_release,
	.unlocked_ioctl = mvx_vm_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

int mvx_vm_create(void)
{
	struct mvx_vm *vm;
	int ret;

	vm = kzalloc(sizeof(*vm), GFP_KERNEL_ACCOUNT);
	if (!vm)
		return -ENOMEM;
	refcount_set(&vm->refs, 1);
	init_rwsem(&vm->slots_sem);
	mutex_init(&vm->lock);
	mutex_init(&vm->mmu_lock);

	mmgrab(current->mm);
	vm->mm = current->mm;

	ret = mvx_hw_get();
	if (ret)
		goto err_free;
	ret = mvx_mmu_init(vm);
	if (ret)
		goto err_hw;

	ret = anon_inode_getfd("minivmx-vm", &mvx_vm_fops, vm,
			       O_RDWR | O_CLOEXEC);
	if (ret < 0)
		mvx_vm_put(vm);
	return ret;

err_hw:
	mvx_hw_put();
err_free:
	mmdrop(vm->mm);
	kfree(vm);
	return ret;
}
