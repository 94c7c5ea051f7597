// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers shared by the minivmx selftests: device, VM with one RAM slot,
 * vCPUs with their run page, and guest CPU modes set up through SET_SREGS.
 *
 * These deliberately do not use the project's libmvx: the tests check the
 * module, so they talk to the raw ioctl ABI themselves.
 */
#include <cpuid.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mvx_util.h"

/*
 * run_tests streams every test's TAP through a pipe: line-buffered, a
 * stuck test shows which case it is stuck in, and how long each one takes.
 */
__attribute__((constructor)) static void stdout_line_buffered(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
}

const char *mvx_device(void)
{
	const char *dev = getenv("MVX_DEVICE");

	return dev && *dev ? dev : "/dev/minivmx";
}

/* Some checks differ where KVM documents a different (but valid) choice. */
bool mvx_is_kvm(void)
{
	return strstr(mvx_device(), "kvm") != NULL;
}

int mvx_open(void)
{
	return open(mvx_device(), O_RDWR | O_CLOEXEC);
}

int vm_create_empty(struct tvm *vm)
{
	memset(vm, 0, sizeof(*vm));
	vm->fd = -1;
	vm->sys_fd = mvx_open();
	if (vm->sys_fd < 0)
		return -1;
	vm->fd = ioctl(vm->sys_fd, MVX_CREATE_VM, 0);
	return vm->fd < 0 ? -1 : 0;
}

int vm_add_slot(struct tvm *vm, uint32_t slot, uint32_t flags,
		uint64_t gpa, uint64_t size, void *hva)
{
	struct mvx_userspace_memory_region r = {
		.slot = slot,
		.flags = flags,
		.guest_phys_addr = gpa,
		.memory_size = size,
		.userspace_addr = (uintptr_t)hva,
	};

	return ioctl(vm->fd, MVX_SET_USER_MEMORY_REGION, &r);
}

static void put_gdt(struct tvm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + GDT_GPA);

	gdt[SEL_CODE32 / 8] = 0x00cf9b000000ffffULL;
	gdt[SEL_DATA32 / 8] = 0x00cf93000000ffffULL;
	gdt[SEL_CODE16 / 8] = 0x00009b000000ffffULL;
	gdt[SEL_DATA16 / 8] = 0x000093000000ffffULL;
	gdt[SEL_CODE64 / 8] = 0x00af9b000000ffffULL;
	/* 64-bit busy TSS at TSS_GPA, limit 0x67: two slots. */
	gdt[SEL_TSS / 8] = 0x00008b0000000067ULL | ((uint64_t)TSS_GPA << 16);
	gdt[SEL_TSS / 8 + 1] = 0;
	gdt[SEL_DS16 / 8] = 0x000093000000ffffULL |
			    ((uint64_t)(DS16_BASE >> 16) << 32);
}

/*
 * 32-bit (non-PAE) tables: the first 2 MiB identity-mapped, linear
 * 0x400000 -> PAGED32_DATA_GPA, linear MMIO_GPA -> MMIO_GPA.
 */
static void put_paging32(struct tvm *vm)
{
	uint32_t *pd = (uint32_t *)(vm->mem + PD32_GPA);
	uint32_t *pt_low = (uint32_t *)(vm->mem + PD32_GPA + 0x1000);
	uint32_t *pt_data = (uint32_t *)(vm->mem + PD32_GPA + 0x2000);
	uint32_t *pt_mmio = (uint32_t *)(vm->mem + PD32_GPA + 0x3000);
	int i;

	for (i = 0; i < 512; i++)
		pt_low[i] = (i << 12) | 3;
	pd[0] = (PD32_GPA + 0x1000) | 3;
	pd[PAGED32_DATA_GVA >> 22] = (PD32_GPA + 0x2000) | 3;
	pt_data[0] = PAGED32_DATA_GPA | 3;
	pd[MMIO_GPA >> 22] = (PD32_GPA + 0x3000) | 3;
	pt_mmio[0] = MMIO_GPA | 3;
}

/*
 * 4-level tables: the first 2 MiB identity-mapped by one large page,
 * linear 0x40000000 -> LONG_DATA_GPA through a 4 KiB page, linear
 * MMIO_GPA -> MMIO_GPA by one large page.
 */
static void put_paging64(struct tvm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(vm->mem + PML4_GPA + 0x1000);
	uint64_t *pd_low = (uint64_t *)(vm->mem + PML4_GPA + 0x2000);
	uint64_t *pt_data = (uint64_t *)(vm->mem + PML4_GPA + 0x3000);
	uint64_t *pd_data = (uint64_t *)(vm->mem + PML4_GPA + 0x4000);
	uint64_t *pd_mmio = (uint64_t *)(vm->mem + PML4_GPA + 0x5000);

	pml4[0] = (PML4_GPA + 0x1000) | 3;
	pdpt[0] = (PML4_GPA + 0x2000) | 3;
	pdpt[LONG_DATA_GVA >> 30] = (PML4_GPA + 0x4000) | 3;
	pdpt[MMIO_GPA >> 30] = (PML4_GPA + 0x5000) | 3;
	pd_low[0] = 0x83;
	pd_data[0] = (PML4_GPA + 0x3000) | 3;
	pt_data[0] = LONG_DATA_GPA | 3;
	pd_mmio[0] = MMIO_GPA | 0x83;
}

int vm_create(struct tvm *vm)
{
	if (vm_create_empty(vm))
		return -1;
	vm->mem_size = GUEST_MEM_SIZE;
	vm->mem = mmap(NULL, vm->mem_size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (vm->mem == MAP_FAILED) {
		vm->mem = NULL;
		return -1;
	}
	put_gdt(vm);
	put_paging32(vm);
	put_paging64(vm);
	return vm_add_slot(vm, 0, 0, 0, vm->mem_size, vm->mem);
}

void vm_destroy(struct tvm *vm)
{
	if (vm->fd >= 0)
		close(vm->fd);
	if (vm->sys_fd >= 0)
		close(vm->sys_fd);
	if (vm->mem)
		munmap(vm->mem, vm->mem_size);
	vm->fd = vm->sys_fd = -1;
	vm->mem = NULL;
}

int vcpu_add(struct tvm *vm, int id, struct tvcpu *vcpu)
{
	int size = ioctl(vm->sys_fd, MVX_GET_VCPU_MMAP_SIZE, 0);
	void *run;

	memset(vcpu, 0, sizeof(*vcpu));
	vcpu->fd = -1;
	if (size <= 0)
		return -1;
	vcpu->fd = ioctl(vm->fd, MVX_CREATE_VCPU, id);
	if (vcpu->fd < 0)
		return -1;
	run = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED,
		   vcpu->fd, 0);
	if (run == MAP_FAILED)
		return -1;
	vcpu->id = id;
	vcpu->run = run;
	vcpu->run_size = size;
	return 0;
}

void vcpu_close(struct tvcpu *vcpu)
{
	if (vcpu->run)
		munmap(vcpu->run, vcpu->run_size);
	if (vcpu->fd >= 0)
		close(vcpu->fd);
	vcpu->run = NULL;
	vcpu->fd = -1;
}

void guest_load(struct tvm *vm, uint64_t gpa,
		const unsigned char *start, const unsigned char *end)
{
	memcpy(vm->mem + gpa, start, end - start);
}

static struct mvx_segment seg(uint16_t sel, uint64_t base, uint32_t limit,
			      uint8_t type, uint8_t db, uint8_t l, uint8_t g)
{
	struct mvx_segment s = {
		.base = base, .limit = limit, .selector = sel, .type = type,
		.present = 1, .dpl = 0, .db = db, .s = 1, .l = l, .g = g,
	};

	return s;
}

static void set_data_segs(struct mvx_sregs *sr, struct mvx_segment data)
{
	sr->ds = data;
	sr->es = data;
	sr->fs = data;
	sr->gs = data;
	sr->ss = data;
}

static void set_tables(struct mvx_sregs *sr)
{
	sr->gdt.base = GDT_GPA;
	sr->gdt.limit = 0x3f;
	sr->idt.base = 0;
	sr->idt.limit = 0;	/* any exception is a triple fault */
	sr->tr.base = TSS_GPA;
	sr->tr.limit = 0x67;
	sr->tr.selector = SEL_TSS;
	sr->tr.type = 11;	/* busy 32/64-bit TSS */
	sr->tr.present = 1;
	sr->tr.s = 0;
	sr->tr.unusable = 0;
	sr->ldt.unusable = 1;
	sr->ldt.present = 0;
	sr->ldt.selector = 0;
}

static void sregs_for_mode(struct mvx_sregs *sr, enum guest_mode mode)
{
	sr->cr3 = 0;
	sr->cr4 = 0;
	sr->efer = 0;
	switch (mode) {
	case MODE_REAL:
		sr->cs = seg(0, 0, 0xffff, 0xb, 0, 0, 0);
		set_data_segs(sr, seg(0, 0, 0xffff, 3, 0, 0, 0));
		sr->cr0 = CR0_ET | CR0_NE;
		break;
	case MODE_PROT16:
		set_tables(sr);
		sr->cs = seg(SEL_CODE16, 0, 0xffff, 0xb, 0, 0, 0);
		set_data_segs(sr, seg(SEL_DATA16, 0, 0xffff, 3, 0, 0, 0));
		sr->ds = seg(SEL_DS16, DS16_BASE, 0xffff, 3, 0, 0, 0);
		sr->cr0 = CR0_PE | CR0_ET | CR0_NE;
		break;
	case MODE_PROT32:
	case MODE_PAGED32:
		set_tables(sr);
		sr->cs = seg(SEL_CODE32, 0, 0xffffffff, 0xb, 1, 0, 1);
		set_data_segs(sr, seg(SEL_DATA32, 0, 0xffffffff, 3, 1, 0, 1));
		sr->cr0 = CR0_PE | CR0_ET | CR0_NE;
		if (mode == MODE_PAGED32) {
			sr->cr0 |= CR0_PG;
			sr->cr3 = PD32_GPA;
		}
		break;
	case MODE_LONG:
		set_tables(sr);
		sr->cs = seg(SEL_CODE64, 0, 0xffffffff, 0xb, 0, 1, 1);
		set_data_segs(sr, seg(SEL_DATA32, 0, 0xffffffff, 3, 1, 0, 1));
		sr->cr0 = CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG;
		sr->cr3 = PML4_GPA;
		sr->cr4 = CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT;
		sr->efer = EFER_LME | EFER_LMA;
		break;
	}
}

struct mvx_cpuid2 *supported_cpuid(void)
{
	struct mvx_cpuid2 *c = calloc(1, sizeof(*c) +
				      256 * sizeof(struct mvx_cpuid_entry2));
	int fd = mvx_open();

	if (!c)
		return NULL;
	c->nent = 256;
	if (fd < 0 || ioctl(fd, MVX_GET_SUPPORTED_CPUID, c)) {
		free(c);
		c = NULL;
	}
	if (fd >= 0)
		close(fd);
	return c;
}

/* Gives the vCPU everything GET_SUPPORTED_CPUID reports. */
int vcpu_set_supported_cpuid(struct tvcpu *vcpu)
{
	struct mvx_cpuid2 *c = supported_cpuid();
	int ret = -1;

	if (c)
		ret = ioctl(vcpu->fd, MVX_SET_CPUID2, c);
	free(c);
	return ret;
}

bool host_is_amd(void)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x68747541;		/* "Auth"enticAMD */
}

bool host_is_qemu_tcg(void)
{
	unsigned int a, b, c, d;
	char sig[13] = "";

	__cpuid(1, a, b, c, d);
	if (!(c & (1U << 31)))		/* no hypervisor */
		return false;
	__cpuid(0x40000000, a, b, c, d);
	memcpy(sig, &b, 4);
	memcpy(sig + 4, &c, 4);
	memcpy(sig + 8, &d, 4);
	return !strcmp(sig, "TCGTCGTCGTCG");
}

/* Puts the vCPU in @mode at @rip with a stack below STACK_TOP. */
int vcpu_set_mode(struct tvcpu *vcpu, enum guest_mode mode, uint64_t rip)
{
	struct mvx_sregs sr;
	struct mvx_regs regs;

	/*
	 * KVM refuses EFER.LME unless the guest's CPUID has LM; minivmx
	 * must not need it (issue 4), so only KVM gets a CPUID table here.
	 */
	if (mode == MODE_LONG && mvx_is_kvm() && vcpu_set_supported_cpuid(vcpu))
		return -1;
	if (vcpu_get_sregs(vcpu, &sr))
		return -1;
	sregs_for_mode(&sr, mode);
	if (vcpu_set_sregs(vcpu, &sr))
		return -1;
	memset(&regs, 0, sizeof(regs));
	regs.rip = rip;
	regs.rsp = STACK_TOP;
	regs.rflags = 2;
	return vcpu_set_regs(vcpu, &regs);
}

void idt_put_gate(struct tvm *vm, enum guest_mode mode, uint64_t table_gpa,
		  unsigned int vector, uint64_t handler_gpa)
{
	uint64_t lo = (handler_gpa & 0xffff) | (handler_gpa >> 16 & 0xffff) << 48;

	switch (mode) {
	case MODE_REAL:		/* offset:segment, segment 0 */
		wr32(vm, table_gpa + 4 * vector, handler_gpa & 0xffff);
		break;
	case MODE_PROT16:	/* 16-bit interrupt gate */
		wr64(vm, table_gpa + 8 * vector,
		     lo | (uint64_t)SEL_CODE16 << 16 | 0x86ULL << 40);
		break;
	case MODE_PROT32:
	case MODE_PAGED32:	/* 32-bit interrupt gate */
		wr64(vm, table_gpa + 8 * vector,
		     lo | (uint64_t)SEL_CODE32 << 16 | 0x8eULL << 40);
		break;
	case MODE_LONG:		/* 64-bit interrupt gate, IST 0 */
		wr64(vm, table_gpa + 16 * vector,
		     lo | (uint64_t)SEL_CODE64 << 16 | 0x8eULL << 40);
		wr64(vm, table_gpa + 16 * vector + 8, handler_gpa >> 32);
		break;
	}
}

int vcpu_set_idt(struct tvcpu *vcpu, enum guest_mode mode, uint64_t table_gpa)
{
	static const uint16_t limit[] = {
		[MODE_REAL] = 256 * 4 - 1, [MODE_PROT16] = 256 * 8 - 1,
		[MODE_PROT32] = 256 * 8 - 1, [MODE_PAGED32] = 256 * 8 - 1,
		[MODE_LONG] = 256 * 16 - 1,
	};
	struct mvx_sregs sr;

	if (vcpu_get_sregs(vcpu, &sr))
		return -1;
	sr.idt.base = table_gpa;
	sr.idt.limit = limit[mode];
	return vcpu_set_sregs(vcpu, &sr);
}

int vcpu_run(struct tvcpu *vcpu)
{
	return ioctl(vcpu->fd, MVX_RUN, 0);
}

int vcpu_get_regs(struct tvcpu *vcpu, struct mvx_regs *regs)
{
	return ioctl(vcpu->fd, MVX_GET_REGS, regs);
}

int vcpu_set_regs(struct tvcpu *vcpu, struct mvx_regs *regs)
{
	return ioctl(vcpu->fd, MVX_SET_REGS, regs);
}

int vcpu_get_sregs(struct tvcpu *vcpu, struct mvx_sregs *sregs)
{
	return ioctl(vcpu->fd, MVX_GET_SREGS, sregs);
}

int vcpu_set_sregs(struct tvcpu *vcpu, struct mvx_sregs *sregs)
{
	return ioctl(vcpu->fd, MVX_SET_SREGS, sregs);
}

void *pio_data(struct tvcpu *vcpu)
{
	return (uint8_t *)vcpu->run + vcpu->run->io.data_offset;
}

uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* One line saying why the vCPU left, for test failure messages. */
const char *describe_exit(struct tvcpu *vcpu)
{
	static char buf[256];
	struct mvx_run *run = vcpu->run;
	struct mvx_regs regs;
	unsigned long long rip = ~0ULL;
	int n;

	if (!vcpu_get_regs(vcpu, &regs))
		rip = regs.rip;
	n = snprintf(buf, sizeof(buf), "exit %u (%s) rip %#llx",
		     run->exit_reason, mvx_exit_name(run->exit_reason), rip);
	switch (run->exit_reason) {
	case MVX_EXIT_IO:
		snprintf(buf + n, sizeof(buf) - n,
			 ": %s port %#x size %u count %u",
			 run->io.direction == MVX_EXIT_IO_OUT ? "out" : "in",
			 run->io.port, run->io.size, run->io.count);
		break;
	case MVX_EXIT_MMIO:
		snprintf(buf + n, sizeof(buf) - n,
			 ": %s gpa %#llx len %u",
			 run->mmio.is_write ? "write" : "read",
			 (unsigned long long)run->mmio.phys_addr, run->mmio.len);
		break;
	case MVX_EXIT_FAIL_ENTRY:
		snprintf(buf + n, sizeof(buf) - n, ": hw reason %#llx",
			 (unsigned long long)
			 run->fail_entry.hardware_entry_failure_reason);
		break;
	case MVX_EXIT_INTERNAL_ERROR:
		snprintf(buf + n, sizeof(buf) - n,
			 ": suberror %u ndata %u data %#llx %#llx",
			 run->internal.suberror, run->internal.ndata,
			 (unsigned long long)run->internal.data[0],
			 (unsigned long long)run->internal.data[1]);
		break;
	case MVX_EXIT_UNKNOWN:
		snprintf(buf + n, sizeof(buf) - n, ": hw reason %#llx",
			 (unsigned long long)run->hw.hardware_exit_reason);
		break;
	}
	return buf;
}

/* ---------------------------------------------- host memory, for leak checks */

static long meminfo_kb(const char *key)
{
	char line[256];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)))
			v = strtol(line + strlen(key), NULL, 10);
	fclose(f);
	return v;
}

/*
 * MemAvailable once the kernel has settled: caches dropped, then the best
 * of a few readings, since per-CPU page lists and deferred frees make a
 * single reading wander by a few MiB while nothing leaks.  A leak of
 * guest pages stays visible: it never comes back.
 */
long mvx_settled_mem_available_kb(void)
{
	long best = -1, v;
	int fd, i;

	/* Without the right to drop caches the readings alone must do. */
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		v = write(fd, "3", 1);
		close(fd);
	}
	for (i = 0; i < 5; i++) {
		usleep(100000);
		v = meminfo_kb("MemAvailable:");
		if (v > best)
			best = v;
	}
	return best;
}

/* Whether the kernel was built with KASAN (the debug kernel). */
bool mvx_kernel_has_kasan(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/kallsyms", "r");

	if (!f)
		return false;
	while (!found && fgets(line, sizeof(line), f))
		found = !!strstr(line, " kasan_quarantine_remove_cache\n");
	fclose(f);
	return found;
}

/*
 * KASAN keeps freed slab objects in a quarantine (up to 1/32 of RAM) so
 * that a use after free hits poisoned memory; they still count as active
 * in /proc/slabinfo and are missing from MemAvailable.  1,000 VMs' freed
 * objects then look like a leak (1.4 MB of slab; 18 MB of MemAvailable
 * in mem_test's churn).  Shrinking a cache gives its quarantined objects
 * back first, so shrinking every cache before each reading leaves only
 * what is really still allocated (and kmemleak, in make check-debug,
 * names any of it).  Returns how many caches were shrunk.
 */
int mvx_drain_kasan_quarantine(void)
{
	char path[512];
	struct dirent *d;
	DIR *dir = opendir("/sys/kernel/slab");
	int fd, drained = 0;

	if (!dir)
		return 0;
	while ((d = readdir(dir))) {
		/* Links are merged caches' aliases: one shrink each is enough. */
		if (d->d_name[0] == '.' || d->d_type == DT_LNK)
			continue;
		snprintf(path, sizeof(path), "/sys/kernel/slab/%s/shrink",
			 d->d_name);
		fd = open(path, O_WRONLY);
		if (fd < 0)
			continue;
		drained += write(fd, "1", 1) == 1;
		close(fd);
	}
	closedir(dir);
	return drained;
}

/* minivmx's count of pinned guest pages, -1 on KVM (or unreadable). */
long mvx_pinned_pages(void)
{
	FILE *f;
	long v = -1;

	if (mvx_is_kvm())
		return -1;
	f = fopen("/sys/module/minivmx/parameters/pinned_pages", "r");
	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}
