// SPDX-License-Identifier: GPL-2.0
/*
 * VM file descriptors: memory slots and vCPU creation.
 *
 * A VM lives as long as its fd or any of its vCPU fds is open; the files
 * pin the module through their fops owner.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/anon_inodes.h>
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

	if (mem->flags & ~MVX_MEM_READONLY) {
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
		       const struct mvx_userspace_memory_region *mem)
{
	u64 npages = mem->memory_size >> PAGE_SHIFT;

	slot->id = mem->slot;
	slot->flags = mem->flags;
	slot->base_gfn = mem->guest_phys_addr >> PAGE_SHIFT;
	slot->npages = npages;
	slot->hva = mem->userspace_addr;
	slot->used = true;
	return 0;
}

/*
 * Caller holds slots_sem for writing (no vCPU is inside the guest) and
 * mmu_lock (the MMU notifier reads the slots under it).
 */
static int set_memory_region(struct mvx_vm *vm,
			     const struct mvx_userspace_memory_region *mem)
{
	struct mvx_slot *slot = &vm->slots[mem->slot];
	u64 npages = mem->memory_size >> PAGE_SHIFT;
	u64 gfn = mem->guest_phys_addr >> PAGE_SHIFT;

	if (!mem->memory_size) {
		if (!slot->used)
			return -EINVAL;
		mvx_mmu_zap_slot(vm, slot);
		memset(slot, 0, sizeof(*slot));
		return 0;
	}

	if (slot->used) {
		/* Only moving a slot or changing nothing is allowed. */
		if (mem->userspace_addr != slot->hva || npages != slot->npages ||
		    mem->flags != slot->flags)
			return -EINVAL;
		if (gfn == slot->base_gfn)
			return 0;
		if (slot_overlaps(vm, mem->slot, gfn, npages))
			return -EEXIST;
		mvx_mmu_zap_slot(vm, slot);
		slot->base_gfn = gfn;
		return 0;
	}

	if (slot_overlaps(vm, mem->slot, gfn, npages))
		return -EEXIST;
	return slot_create(vm, slot, mem);
}

static int vm_set_memory_region(struct mvx_vm *vm, void __user *argp)
{
	struct mvx_userspace_memory_region mem;
	int ret;

	if (copy_from_user(&mem, argp, sizeof(mem)))
		return -EFAULT;
	ret = check_region(&mem);
	if (ret)
		return ret;

	down_write(&vm->slots_sem);
	mutex_lock(&vm->mmu_lock);
	ret = set_memory_region(vm, &mem);
	mutex_unlock(&vm->mmu_lock);
	up_write(&vm->slots_sem);
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
