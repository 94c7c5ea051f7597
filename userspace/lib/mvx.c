// SPDX-License-Identifier: GPL-2.0
/* libmvx: device, VM, memory and vCPU handling. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "mvx.h"
#include "internal.h"

static __thread char last_error[256];

const char *mvx_last_error(void)
{
	return last_error;
}

int mvx_fail(int err, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	if (n >= 0 && (size_t)n < sizeof(last_error))
		snprintf(last_error + n, sizeof(last_error) - n, ": %s",
			 strerror(err));
	return -err;
}

int mvx_vm_open(struct mvx_vm *vm, const char *dev_path)
{
	int ret;

	memset(vm, 0, sizeof(*vm));
	vm->vm_fd = -1;
	vm->dev_fd = open(dev_path, O_RDWR | O_CLOEXEC);
	if (vm->dev_fd < 0)
		return mvx_fail(errno, "%s", dev_path);

	ret = ioctl(vm->dev_fd, MVX_GET_API_VERSION, 0);
	if (ret < 0) {
		ret = mvx_fail(errno, "%s: MVX_GET_API_VERSION", dev_path);
		goto err;
	}
	if (ret != MVX_API_VERSION) {
		ret = mvx_fail(EPROTO, "%s: API version %d, expected %d",
			   dev_path, ret, MVX_API_VERSION);
		goto err;
	}

	vm->run_size = ioctl(vm->dev_fd, MVX_GET_VCPU_MMAP_SIZE, 0);
	if (vm->run_size < (int)sizeof(struct mvx_run)) {
		ret = mvx_fail(vm->run_size < 0 ? errno : EPROTO,
			   "%s: MVX_GET_VCPU_MMAP_SIZE", dev_path);
		goto err;
	}

	vm->vm_fd = ioctl(vm->dev_fd, MVX_CREATE_VM, 0);
	if (vm->vm_fd < 0) {
		ret = mvx_fail(errno, "%s: MVX_CREATE_VM", dev_path);
		goto err;
	}
	return 0;
err:
	close(vm->dev_fd);
	vm->dev_fd = -1;
	return ret;
}

void mvx_vm_close(struct mvx_vm *vm)
{
	unsigned int i;

	if (vm->vm_fd >= 0)
		close(vm->vm_fd);
	if (vm->dev_fd >= 0)
		close(vm->dev_fd);
	for (i = 0; i < vm->mem.nr; i++) {
		struct mvx_region *r = &vm->mem.r[i];

		if (r->owned)
			munmap(r->host, r->size);
	}
	vm->vm_fd = -1;
	vm->dev_fd = -1;
	vm->mem.nr = 0;
}

int mvx_check_extension(struct mvx_vm *vm, long cap)
{
	int ret = ioctl(vm->dev_fd, MVX_CHECK_EXTENSION, cap);

	return ret < 0 ? mvx_fail(errno, "MVX_CHECK_EXTENSION(%ld)", cap) : ret;
}

int mvx_memmap_add(struct mvx_memmap *map, uint64_t gpa, uint64_t size,
		   void *host)
{
	unsigned int i;

	if (!size || gpa + size < gpa)
		return mvx_fail(EINVAL, "memory at 0x%llx: bad size 0x%llx",
			    (unsigned long long)gpa, (unsigned long long)size);
	if (map->nr >= MVX_LIB_MAX_REGIONS)
		return mvx_fail(ENOSPC, "memory at 0x%llx",
			    (unsigned long long)gpa);
	for (i = 0; i < map->nr; i++) {
		const struct mvx_region *r = &map->r[i];

		if (gpa < r->gpa + r->size && r->gpa < gpa + size)
			return mvx_fail(EEXIST, "memory at 0x%llx overlaps 0x%llx",
				    (unsigned long long)gpa,
				    (unsigned long long)r->gpa);
	}
	memset(&map->r[map->nr], 0, sizeof(map->r[0]));
	map->r[map->nr].gpa = gpa;
	map->r[map->nr].size = size;
	map->r[map->nr].host = host;
	map->nr++;
	return 0;
}

void *mvx_memmap_hva(const struct mvx_memmap *map, uint64_t gpa, uint64_t len)
{
	unsigned int i;

	if (gpa + len < gpa)
		return NULL;
	for (i = 0; i < map->nr; i++) {
		const struct mvx_region *r = &map->r[i];

		if (gpa >= r->gpa && gpa + len <= r->gpa + r->size)
			return (uint8_t *)r->host + (gpa - r->gpa);
	}
	return NULL;
}

void *mvx_gpa_to_hva(struct mvx_vm *vm, uint64_t gpa, uint64_t len)
{
	return mvx_memmap_hva(&vm->mem, gpa, len);
}

int mvx_add_memory_at(struct mvx_vm *vm, uint64_t gpa, uint64_t size,
		      uint32_t flags, void *host)
{
	struct mvx_userspace_memory_region region = {
		.slot = vm->next_slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)host,
	};
	struct mvx_region *r;
	int ret;

	if ((gpa | size) & 0xfff)
		return mvx_fail(EINVAL, "memory at 0x%llx size 0x%llx: not page aligned",
			    (unsigned long long)gpa, (unsigned long long)size);
	ret = mvx_memmap_add(&vm->mem, gpa, size, host);
	if (ret)
		return ret;
	if (ioctl(vm->vm_fd, MVX_SET_USER_MEMORY_REGION, &region) < 0) {
		vm->mem.nr--;
		return mvx_fail(errno, "MVX_SET_USER_MEMORY_REGION(0x%llx, 0x%llx)",
			    (unsigned long long)gpa, (unsigned long long)size);
	}
	r = &vm->mem.r[vm->mem.nr - 1];
	r->slot = vm->next_slot++;
	r->flags = flags;
	return 0;
}

int mvx_add_memory(struct mvx_vm *vm, uint64_t gpa, uint64_t size,
		   uint32_t flags, void **host)
{
	void *mem;
	int ret;

	if (!size || (size & 0xfff))
		return mvx_fail(EINVAL, "memory size 0x%llx: not page aligned",
			    (unsigned long long)size);
	mem = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (mem == MAP_FAILED)
		return mvx_fail(errno, "mmap %llu bytes of guest memory",
			    (unsigned long long)size);
	ret = mvx_add_memory_at(vm, gpa, size, flags, mem);
	if (ret) {
		munmap(mem, size);
		return ret;
	}
	vm->mem.r[vm->mem.nr - 1].owned = 1;
	if (host)
		*host = mem;
	return 0;
}

int mvx_vcpu_create(struct mvx_vm *vm, unsigned int id, struct mvx_vcpu *vcpu)
{
	void *run;
	int fd;

	memset(vcpu, 0, sizeof(*vcpu));
	fd = ioctl(vm->vm_fd, MVX_CREATE_VCPU, (unsigned long)id);
	if (fd < 0)
		return mvx_fail(errno, "MVX_CREATE_VCPU(%u)", id);
	run = mmap(NULL, vm->run_size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   fd, 0);
	if (run == MAP_FAILED) {
		int ret = mvx_fail(errno, "mmap of vCPU %u run area", id);

		close(fd);
		return ret;
	}
	vcpu->vm = vm;
	vcpu->fd = fd;
	vcpu->id = id;
	vcpu->run = run;
	return 0;
}

void mvx_vcpu_destroy(struct mvx_vcpu *vcpu)
{
	if (!vcpu->run)
		return;
	munmap(vcpu->run, vcpu->vm->run_size);
	close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

int mvx_vcpu_run(struct mvx_vcpu *vcpu)
{
	if (ioctl(vcpu->fd, MVX_RUN, 0) < 0)
		return errno == EINTR ? -EINTR :
			mvx_fail(errno, "MVX_RUN on vCPU %u", vcpu->id);
	return 0;
}

static int vcpu_ioctl(struct mvx_vcpu *vcpu, unsigned long req, void *arg,
		      const char *name)
{
	if (ioctl(vcpu->fd, req, arg) < 0)
		return mvx_fail(errno, "%s on vCPU %u", name, vcpu->id);
	return 0;
}

int mvx_get_regs(struct mvx_vcpu *vcpu, struct mvx_regs *regs)
{
	return vcpu_ioctl(vcpu, MVX_GET_REGS, regs, "MVX_GET_REGS");
}

int mvx_set_regs(struct mvx_vcpu *vcpu, const struct mvx_regs *regs)
{
	return vcpu_ioctl(vcpu, MVX_SET_REGS, (void *)regs, "MVX_SET_REGS");
}

int mvx_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs)
{
	return vcpu_ioctl(vcpu, MVX_GET_SREGS, sregs, "MVX_GET_SREGS");
}

int mvx_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs)
{
	return vcpu_ioctl(vcpu, MVX_SET_SREGS, (void *)sregs, "MVX_SET_SREGS");
}

#define CPUID_MAX_ENTRIES 256

/*
 * The supported table says nothing per vCPU; give each its own initial
 * APIC id (leaf 1 EBX[31:24], leaf 0xB EDX) as a PC would, so firmware
 * can tell the boot vCPU (id 0) from the others.
 */
static void set_apic_id(struct mvx_cpuid2 *cpuid, unsigned int id)
{
	unsigned int i;

	for (i = 0; i < cpuid->nent; i++) {
		struct mvx_cpuid_entry2 *e = &cpuid->entries[i];

		if (e->function == 1)
			e->ebx = (e->ebx & 0x00ffffff) | (id & 0xff) << 24;
		else if (e->function == 0xb)
			e->edx = id;
	}
}

int mvx_set_filtered_cpuid(struct mvx_vcpu *vcpu,
			   void (*filter)(struct mvx_cpuid2 *cpuid, void *arg),
			   void *arg)
{
	size_t len = sizeof(struct mvx_cpuid2) +
		     CPUID_MAX_ENTRIES * sizeof(struct mvx_cpuid_entry2);
	struct mvx_cpuid2 *cpuid = calloc(1, len);
	int ret;

	if (!cpuid)
		return mvx_fail(ENOMEM, "CPUID table");
	cpuid->nent = CPUID_MAX_ENTRIES;
	if (ioctl(vcpu->vm->dev_fd, MVX_GET_SUPPORTED_CPUID, cpuid) < 0) {
		ret = mvx_fail(errno, "MVX_GET_SUPPORTED_CPUID");
	} else {
		set_apic_id(cpuid, vcpu->id);
		if (filter)
			filter(cpuid, arg);
		ret = vcpu_ioctl(vcpu, MVX_SET_CPUID2, cpuid, "MVX_SET_CPUID2");
	}
	free(cpuid);
	return ret;
}

int mvx_set_supported_cpuid(struct mvx_vcpu *vcpu)
{
	return mvx_set_filtered_cpuid(vcpu, NULL, NULL);
}

void *mvx_pio_data(struct mvx_vcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

const char *mvx_exit_name(uint32_t reason)
{
	static const char *const names[] = {
		[MVX_EXIT_UNKNOWN] = "UNKNOWN",
		[MVX_EXIT_EXCEPTION] = "EXCEPTION",
		[MVX_EXIT_IO] = "IO",
		[MVX_EXIT_HYPERCALL] = "HYPERCALL",
		[MVX_EXIT_DEBUG] = "DEBUG",
		[MVX_EXIT_HLT] = "HLT",
		[MVX_EXIT_MMIO] = "MMIO",
		[MVX_EXIT_IRQ_WINDOW_OPEN] = "IRQ_WINDOW_OPEN",
		[MVX_EXIT_SHUTDOWN] = "SHUTDOWN",
		[MVX_EXIT_FAIL_ENTRY] = "FAIL_ENTRY",
		[MVX_EXIT_INTR] = "INTR",
		[MVX_EXIT_INTERNAL_ERROR] = "INTERNAL_ERROR",
	};

	if (reason < sizeof(names) / sizeof(names[0]) && names[reason])
		return names[reason];
	return "?";
}
