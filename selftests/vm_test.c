// SPDX-License-Identifier: GPL-2.0
/*
 * VM-level ioctls: memory slots (add, delete, move, overlap, alignment,
 * flags, dirty logging toggled, 32 slots), vCPU creation, CHECK_EXTENSION
 * and SET_TSS_ADDR on the VM fd.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define AREA_SIZE	(1UL << 20)

FIXTURE(vm) {
	struct tvm vm;
	uint8_t *area;		/* 1 MiB of page-aligned host memory */
};

FIXTURE_SETUP(vm)
{
	ASSERT_EQ(0, vm_create_empty(&self->vm))
		TH_LOG("%s: %s", mvx_device(), strerror(errno));
	self->area = mmap(NULL, AREA_SIZE, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->area);
}

FIXTURE_TEARDOWN(vm)
{
	vm_destroy(&self->vm);
	munmap(self->area, AREA_SIZE);
}

#define EXPECT_SLOT(ret_want, err_want, slot, flags, gpa, size, hva) do { \
	int __r = vm_add_slot(&self->vm, slot, flags, gpa, size, hva);	\
									\
	EXPECT_EQ(ret_want, __r)					\
		TH_LOG("slot %u flags %#x gpa %#lx size %#lx: %s",	\
		       (unsigned int)(slot), (unsigned int)(flags),	\
		       (unsigned long)(gpa), (unsigned long)(size),	\
		       __r ? strerror(errno) : "succeeded");		\
	if (__r)							\
		EXPECT_EQ(err_want, errno);				\
} while (0)

TEST_F(vm, slot_add_delete)
{
	EXPECT_SLOT(0, 0, 0, 0, 0, 0x10000, self->area);
	EXPECT_SLOT(0, 0, 1, 0, 0x100000, 0x10000, self->area + 0x10000);
	/* Size 0 deletes; the range is free again afterwards. */
	EXPECT_SLOT(0, 0, 0, 0, 0, 0, self->area);
	EXPECT_SLOT(0, 0, 2, 0, 0, 0x10000, self->area);
	/* Deleting a slot that does not exist is an error (as in KVM). */
	EXPECT_SLOT(-1, EINVAL, 5, 0, 0, 0, NULL);
}

TEST_F(vm, slot_overlap)
{
	EXPECT_SLOT(0, 0, 0, 0, 0x100000, 0x10000, self->area);
	/* Every kind of overlap with slot 0 [0x100000, 0x110000). */
	EXPECT_SLOT(-1, EEXIST, 1, 0, 0x100000, 0x10000, self->area);
	EXPECT_SLOT(-1, EEXIST, 1, 0, 0x0f8000, 0x10000, self->area);
	EXPECT_SLOT(-1, EEXIST, 1, 0, 0x10f000, 0x10000, self->area);
	EXPECT_SLOT(-1, EEXIST, 1, 0, 0x104000, 0x1000, self->area);
	EXPECT_SLOT(-1, EEXIST, 1, 0, 0x0f0000, 0x40000, self->area);
	/* Adjacent on both sides is fine. */
	EXPECT_SLOT(0, 0, 1, 0, 0x0f0000, 0x10000, self->area + 0x10000);
	EXPECT_SLOT(0, 0, 2, 0, 0x110000, 0x10000, self->area + 0x20000);
}

TEST_F(vm, slot_misaligned)
{
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0x1001, 0x10000, self->area);
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0x1000, 0x10001, self->area);
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0x1000, 0x800, self->area);
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0x1000, 0x10000, self->area + 8);
	/* None of them was added. */
	EXPECT_SLOT(0, 0, 0, 0, 0x1000, 0x10000, self->area);
}

TEST_F(vm, slot_bad_ranges)
{
	/* Guest range wrapping around the address space. */
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0xfffffffffffff000UL, 0x2000,
		    self->area);
	/* Host range that is not user memory. */
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0, 0x10000,
		    (void *)0xffff888000000000UL);
	/* Host range wrapping. */
	EXPECT_SLOT(-1, EINVAL, 0, 0, 0, 0x2000,
		    (void *)0xfffffffffffff000UL);
	/* A slot id past the maximum. */
	EXPECT_SLOT(-1, EINVAL,
		    ioctl(self->vm.fd, MVX_CHECK_EXTENSION, MVX_CAP_NR_MEMSLOTS),
		    0, 0, 0x10000, self->area);
	EXPECT_SLOT(-1, EINVAL, 40000, 0, 0, 0x10000, self->area);
}

TEST_F(vm, slot_move)
{
	EXPECT_SLOT(0, 0, 3, 0, 0x100000, 0x10000, self->area);
	/* Same size, new place: a move; the old range becomes free. */
	EXPECT_SLOT(0, 0, 3, 0, 0x400000, 0x10000, self->area);
	EXPECT_SLOT(0, 0, 4, 0, 0x100000, 0x10000, self->area + 0x10000);
	EXPECT_SLOT(-1, EEXIST, 5, 0, 0x400000, 0x1000, self->area + 0x20000);
	/* Moving onto another slot overlaps. */
	EXPECT_SLOT(-1, EEXIST, 3, 0, 0x108000, 0x10000, self->area);
	/* An existing slot cannot be resized. */
	EXPECT_SLOT(-1, EINVAL, 3, 0, 0x400000, 0x20000, self->area);
}

TEST_F(vm, slot_32)
{
	int i;

	for (i = 0; i < 32; i++)
		EXPECT_SLOT(0, 0, i, 0, 0x100000UL * (i + 1), 0x8000,
			    self->area + 0x8000 * i);
	/* Delete them all again, in reverse. */
	for (i = 31; i >= 0; i--)
		EXPECT_SLOT(0, 0, i, 0, 0x100000UL * (i + 1), 0,
			    self->area + 0x8000 * i);
}

TEST_F(vm, slot_flags)
{
	int ro = ioctl(self->vm.fd, MVX_CHECK_EXTENSION, MVX_CAP_READONLY_MEM);

	/* Flags nobody defines. */
	EXPECT_SLOT(-1, EINVAL, 0, 1U << 5, 0, 0x10000, self->area);
	EXPECT_SLOT(-1, EINVAL, 0, 1U << 31, 0, 0x10000, self->area);
	/* Read-only works exactly when it is claimed. */
	if (ro > 0)
		EXPECT_SLOT(0, 0, 0, MVX_MEM_READONLY, 0, 0x10000, self->area);
	else
		EXPECT_SLOT(-1, EINVAL, 0, MVX_MEM_READONLY, 0, 0x10000,
			    self->area);
	/*
	 * Dirty logging, and as on KVM, flags-only changes that turn it
	 * off and on; READONLY cannot change on an existing slot.
	 */
	EXPECT_SLOT(0, 0, 1, MVX_MEM_LOG_DIRTY_PAGES, 0x100000, 0x10000,
		    self->area);
	EXPECT_SLOT(0, 0, 1, 0, 0x100000, 0x10000, self->area);
	EXPECT_SLOT(0, 0, 1, MVX_MEM_LOG_DIRTY_PAGES, 0x100000, 0x10000,
		    self->area);
	if (ro > 0)
		EXPECT_SLOT(-1, EINVAL, 1, MVX_MEM_LOG_DIRTY_PAGES |
			    MVX_MEM_READONLY, 0x100000, 0x10000, self->area);
}

TEST_F(vm, create_vcpu)
{
	int a, b;

	a = ioctl(self->vm.fd, MVX_CREATE_VCPU, 0);
	ASSERT_LE(0, a) TH_LOG("%s", strerror(errno));
	b = ioctl(self->vm.fd, MVX_CREATE_VCPU, 1);
	ASSERT_LE(0, b) TH_LOG("%s", strerror(errno));
	EXPECT_NE(a, b);
	/* Ids are unique. */
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, 1));
	EXPECT_EQ(EEXIST, errno);
	close(a);
	/* Its fd being closed does not free the id: the vCPU still lives. */
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, 0));
	EXPECT_EQ(EEXIST, errno);
	close(b);
}

TEST_F(vm, create_vcpu_bad_id)
{
	int max_id = ioctl(self->vm.fd, MVX_CHECK_EXTENSION,
			   MVX_CAP_MAX_VCPU_ID);

	ASSERT_LT(0, max_id);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, max_id));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, 0x7fffffff));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, -1));
	EXPECT_EQ(EINVAL, errno);
	/* The highest valid id works. */
	EXPECT_LE(0, ioctl(self->vm.fd, MVX_CREATE_VCPU, max_id - 1))
		TH_LOG("id %d: %s", max_id - 1, strerror(errno));
}

TEST_F(vm, many_vcpus)
{
	int max = ioctl(self->vm.fd, MVX_CHECK_EXTENSION, MVX_CAP_MAX_VCPUS);
	int max_id = ioctl(self->vm.fd, MVX_CHECK_EXTENSION,
			   MVX_CAP_MAX_VCPU_ID);
	int n = max < 64 ? max : 64;
	int i, fd;

	ASSERT_LE(sysconf(_SC_NPROCESSORS_ONLN), n);
	for (i = 0; i < n; i++) {
		fd = ioctl(self->vm.fd, MVX_CREATE_VCPU, i);
		ASSERT_LE(0, fd) TH_LOG("vCPU %d of %d: %s", i, n,
					strerror(errno));
	}
	if (n == max && max < max_id) {
		/* One more than the stated maximum is refused. */
		EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_CREATE_VCPU, n));
		EXPECT_EQ(EINVAL, errno);
	}
}

TEST_F(vm, check_extension_on_vm)
{
	static const int caps[] = {
		MVX_CAP_USER_MEMORY, MVX_CAP_SET_TSS_ADDR, MVX_CAP_EXT_CPUID,
		MVX_CAP_NR_VCPUS, MVX_CAP_NR_MEMSLOTS, MVX_CAP_MAX_VCPUS,
		MVX_CAP_READONLY_MEM, MVX_CAP_MAX_VCPU_ID,
		MVX_CAP_IMMEDIATE_EXIT,
	};
	unsigned int i;

	/* The VM fd answers as the device fd does. */
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++)
		EXPECT_EQ(ioctl(self->vm.sys_fd, MVX_CHECK_EXTENSION, caps[i]),
			  ioctl(self->vm.fd, MVX_CHECK_EXTENSION, caps[i]))
			TH_LOG("cap %d", caps[i]);
	EXPECT_EQ(0, ioctl(self->vm.fd, MVX_CHECK_EXTENSION, 0x7fffffffL));
}

TEST_F(vm, set_tss_addr)
{
	EXPECT_EQ(0, ioctl(self->vm.fd, MVX_SET_TSS_ADDR, 0xfffbd000UL))
		TH_LOG("%s", strerror(errno));
}

TEST_F(vm, unknown_ioctls)
{
	int ret;

	ret = ioctl(self->vm.fd, _IO(MVXIO, 0xff), 0);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	ret = ioctl(self->vm.fd, MVX_RUN, 0);
	EXPECT_EQ(-1, ret);
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_SET_USER_MEMORY_REGION, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_HARNESS_MAIN
