// SPDX-License-Identifier: GPL-2.0
/*
 * vCPU-level ioctls: reset state, GET/SET of REGS, SREGS, MSRS, FPU,
 * SET_CPUID2, the mmap'd run page, immediate_exit, use from another
 * process, and the lifetimes of device, VM and vCPU fds and mappings.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define MSR_IA32_TSC		0x10
#define MSR_SYSENTER_CS		0x174
#define MSR_SYSENTER_ESP	0x175
#define MSR_SYSENTER_EIP	0x176
#define MSR_STAR		0xc0000081
#define MSR_LSTAR		0xc0000082
#define MSR_CSTAR		0xc0000083
#define MSR_SFMASK		0xc0000084
#define MSR_KERNEL_GS_BASE	0xc0000102

/* Real mode: store a marker, then halt. */
GUEST_CODE(halt_guest,
	".code16\n"
	"movw $0x4d56, (0x3000)\n"
	"hlt\n");

FIXTURE(vcpu) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(vcpu)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(vcpu)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

static uint32_t host_signature(void)
{
	size_t sz = sizeof(struct mvx_cpuid2) +
		    256 * sizeof(struct mvx_cpuid_entry2);
	struct mvx_cpuid2 *c = calloc(1, sz);
	uint32_t sig = 0;
	unsigned int i;
	int fd = mvx_open();

	c->nent = 256;
	if (fd >= 0 && !ioctl(fd, MVX_GET_SUPPORTED_CPUID, c))
		for (i = 0; i < c->nent; i++)
			if (c->entries[i].function == 1)
				sig = c->entries[i].eax;
	close(fd);
	free(c);
	return sig;
}

TEST_F(vcpu, reset_regs)
{
	struct mvx_regs r;

	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(0xfff0, r.rip);
	EXPECT_EQ(2, r.rflags);
	/* EDX holds a processor signature: KVM's 0x600 or the CPU's. */
	EXPECT_TRUE(r.rdx == 0x600 || r.rdx == host_signature())
		TH_LOG("rdx %#llx", (unsigned long long)r.rdx);
	EXPECT_EQ(0, r.rax | r.rbx | r.rcx | r.rsi | r.rdi | r.rsp | r.rbp);
	EXPECT_EQ(0, r.r8 | r.r9 | r.r10 | r.r11 | r.r12 | r.r13 |
		  r.r14 | r.r15);
}

static void check_reset_data_seg(struct __test_metadata *_metadata,
				 const char *name, struct mvx_segment *s)
{
	EXPECT_EQ(0, s->selector) TH_LOG("%s", name);
	EXPECT_EQ(0, s->base) TH_LOG("%s", name);
	EXPECT_EQ(0xffff, s->limit) TH_LOG("%s", name);
	/* Read/write data; whether "accessed" is set differs in KVM too. */
	EXPECT_EQ(2, s->type & 0xe) TH_LOG("%s type %#x", name, s->type);
	EXPECT_EQ(1, s->present) TH_LOG("%s", name);
	EXPECT_EQ(1, s->s) TH_LOG("%s", name);
	EXPECT_EQ(0, s->db | s->l | s->g | s->dpl) TH_LOG("%s", name);
}

TEST_F(vcpu, reset_sregs)
{
	struct mvx_sregs s;

	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &s));
	EXPECT_EQ(0xf000, s.cs.selector);
	EXPECT_EQ(0xffff0000, s.cs.base);
	EXPECT_EQ(0xffff, s.cs.limit);
	EXPECT_EQ(0xa, s.cs.type & 0xe) TH_LOG("cs type %#x", s.cs.type);
	EXPECT_EQ(1, s.cs.present);
	EXPECT_EQ(1, s.cs.s);
	EXPECT_EQ(0, s.cs.db | s.cs.l | s.cs.g | s.cs.dpl);
	check_reset_data_seg(_metadata, "ds", &s.ds);
	check_reset_data_seg(_metadata, "es", &s.es);
	check_reset_data_seg(_metadata, "fs", &s.fs);
	check_reset_data_seg(_metadata, "gs", &s.gs);
	check_reset_data_seg(_metadata, "ss", &s.ss);
	EXPECT_EQ(0, s.gdt.base);
	EXPECT_EQ(0xffff, s.gdt.limit);
	EXPECT_EQ(0, s.idt.base);
	EXPECT_EQ(0xffff, s.idt.limit);
	EXPECT_EQ(0xffff, s.tr.limit);
	EXPECT_EQ(0xffff, s.ldt.limit);
	EXPECT_EQ(0x60000010, s.cr0);
	EXPECT_EQ(0, s.cr2 | s.cr3 | s.cr4 | s.cr8);
	EXPECT_EQ(0, s.efer);
}

TEST_F(vcpu, regs_roundtrip)
{
	struct mvx_regs in, out;
	uint64_t *p = (uint64_t *)&in;
	unsigned int i;

	for (i = 0; i < sizeof(in) / 8; i++)
		p[i] = 0x0101010101010101ULL * (i + 1);
	in.rflags = 0x246;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &in));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &out));
	EXPECT_EQ(0, memcmp(&in, &out, sizeof(in)));
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_GET_REGS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_REGS, (void *)8));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vcpu, sregs_roundtrip)
{
	struct mvx_sregs out;

	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &out));
	EXPECT_EQ(SEL_CODE64, out.cs.selector);
	EXPECT_EQ(1, out.cs.l);
	EXPECT_EQ(0, out.cs.db);
	EXPECT_EQ(1, out.cs.present);
	EXPECT_EQ(SEL_DATA32, out.ds.selector);
	EXPECT_EQ(SEL_TSS, out.tr.selector);
	EXPECT_EQ(TSS_GPA, out.tr.base);
	EXPECT_EQ(11, out.tr.type);
	EXPECT_EQ(GDT_GPA, out.gdt.base);
	EXPECT_EQ(0x3f, out.gdt.limit);
	EXPECT_EQ(CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG, out.cr0);
	EXPECT_EQ(PML4_GPA, out.cr3);
	EXPECT_EQ(CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT, out.cr4);
	EXPECT_EQ(EFER_LME | EFER_LMA, out.efer);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_SREGS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_GET_SREGS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vcpu, sregs_invalid)
{
	struct mvx_sregs good, bad;

	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &good));
	/* Paging without protection. */
	bad = good;
	bad.cr0 = CR0_PG | CR0_ET;
	EXPECT_EQ(-1, vcpu_set_sregs(&self->vcpu, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* Not-write-through without cache-disable. */
	bad = good;
	bad.cr0 = CR0_NW | CR0_ET;
	EXPECT_EQ(-1, vcpu_set_sregs(&self->vcpu, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* Long mode with paging but without PAE. */
	bad = good;
	bad.cr0 = CR0_PG | CR0_PE | CR0_ET;
	bad.efer = EFER_LME | EFER_LMA;
	bad.cr4 = 0;
	EXPECT_EQ(-1, vcpu_set_sregs(&self->vcpu, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* LMA set without paging. */
	bad = good;
	bad.efer = EFER_LME | EFER_LMA;
	EXPECT_EQ(-1, vcpu_set_sregs(&self->vcpu, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* CR4 reserved bit. */
	bad = good;
	bad.cr4 = 1UL << 63;
	EXPECT_EQ(-1, vcpu_set_sregs(&self->vcpu, &bad));
	EXPECT_EQ(EINVAL, errno);
	/* Nothing of it stuck. */
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &bad));
	EXPECT_EQ(good.cr0, bad.cr0);
	EXPECT_EQ(good.cr4, bad.cr4);
	EXPECT_EQ(good.efer, bad.efer);
}

static int set_msrs(int fd, const uint32_t *idx, const uint64_t *val, int n)
{
	struct {
		struct mvx_msrs h;
		struct mvx_msr_entry e[16];
	} m;
	int i;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = n;
	for (i = 0; i < n; i++) {
		m.e[i].index = idx[i];
		m.e[i].data = val[i];
	}
	return ioctl(fd, MVX_SET_MSRS, &m);
}

static int get_msrs(int fd, const uint32_t *idx, uint64_t *val, int n)
{
	struct {
		struct mvx_msrs h;
		struct mvx_msr_entry e[16];
	} m;
	int i, ret;

	memset(&m, 0, sizeof(m));
	m.h.nmsrs = n;
	for (i = 0; i < n; i++)
		m.e[i].index = idx[i];
	ret = ioctl(fd, MVX_GET_MSRS, &m);
	for (i = 0; i < n; i++)
		val[i] = m.e[i].data;
	return ret;
}

TEST_F(vcpu, msrs_roundtrip)
{
	static const uint32_t idx[] = {
		MSR_STAR, MSR_LSTAR, MSR_CSTAR, MSR_SFMASK, MSR_KERNEL_GS_BASE,
	};
	static const uint64_t val[] = {
		0x0023001000000000ULL, 0xffffffff81000000ULL,
		0xffffffff81000040ULL, 0x47700ULL, 0x00007f0000001000ULL,
	};
	uint64_t got[5];
	int n = 5, i;

	EXPECT_EQ(n, set_msrs(self->vcpu.fd, idx, val, n))
		TH_LOG("%s", strerror(errno));
	memset(got, 0, sizeof(got));
	EXPECT_EQ(n, get_msrs(self->vcpu.fd, idx, got, n));
	for (i = 0; i < n; i++)
		EXPECT_EQ(val[i], got[i]) TH_LOG("MSR %#x", idx[i]);
}

TEST_F(vcpu, msrs_tsc_runs)
{
	uint32_t idx = MSR_IA32_TSC;
	uint64_t a = 0, b = 0;

	ASSERT_EQ(1, get_msrs(self->vcpu.fd, &idx, &a, 1));
	usleep(1000);
	ASSERT_EQ(1, get_msrs(self->vcpu.fd, &idx, &b, 1));
	EXPECT_LT(a, b);
}

TEST_F(vcpu, msrs_bad)
{
	uint32_t idx[2] = { MSR_LSTAR, 0xdeadbeef };
	uint64_t val[2] = { 0xffffffff81000000ULL, 1 };
	uint64_t noncanon = 0x8000000000000000ULL;
	struct mvx_msrs huge = { .nmsrs = 0x10000 };

	/* Processing stops at the first MSR that fails: the count says. */
	EXPECT_EQ(1, set_msrs(self->vcpu.fd, idx, val, 2));
	EXPECT_EQ(1, get_msrs(self->vcpu.fd, idx, val, 2));
	EXPECT_EQ(0, get_msrs(self->vcpu.fd, &idx[1], val, 1));
	/* A non-canonical LSTAR is refused. */
	EXPECT_EQ(0, set_msrs(self->vcpu.fd, idx, &noncanon, 1));
	EXPECT_EQ(1, get_msrs(self->vcpu.fd, idx, val, 1));
	EXPECT_EQ(0xffffffff81000000ULL, val[0]);
	/* Too many at once. */
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_GET_MSRS, &huge));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_MSRS, &huge));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_MSRS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vcpu, fpu_reset_and_roundtrip)
{
	struct mvx_fpu in, out;
	int i;

	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_GET_FPU, &out));
	EXPECT_EQ(0x37f, out.fcw);
	/* KVM's GET_FPU never fills in MXCSR; ours must. */
	if (!mvx_is_kvm())
		EXPECT_EQ(0x1f80, out.mxcsr);

	memset(&in, 0, sizeof(in));
	in.fcw = 0x27f;
	in.mxcsr = 0x1fa0;
	for (i = 0; i < 16; i++)
		memset(in.xmm[i], 0x11 * (i + 1), 16);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_SET_FPU, &in));
	memset(&out, 0, sizeof(out));
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_GET_FPU, &out));
	EXPECT_EQ(0x27f, out.fcw);
	if (!mvx_is_kvm())
		EXPECT_EQ(0x1fa0, out.mxcsr);
	EXPECT_EQ(0, memcmp(in.xmm, out.xmm, sizeof(in.xmm)));
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_FPU, NULL));
	EXPECT_EQ(EFAULT, errno);
}

TEST_F(vcpu, fpu_bad_mxcsr)
{
	struct mvx_fpu f, g;

	if (mvx_is_kvm())
		SKIP(return, "KVM stores MXCSR unchecked");
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_GET_FPU, &f));
	f.mxcsr = 0xffff0000;
	f.fcw = 0x27f;
	/* Reserved MXCSR bits would make XRSTOR fault: refused, all of it. */
	ASSERT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_FPU, &f));
	EXPECT_EQ(EINVAL, errno);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_GET_FPU, &g));
	EXPECT_EQ(0x1f80, g.mxcsr);
	EXPECT_EQ(0x37f, g.fcw);
	guest_load(&self->vm, CODE_GPA, halt_guest_start, halt_guest_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_REAL, CODE_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

TEST_F(vcpu, set_cpuid2)
{
	size_t sz = sizeof(struct mvx_cpuid2) +
		    300 * sizeof(struct mvx_cpuid_entry2);
	struct mvx_cpuid2 *c = calloc(1, sz);

	c->nent = 256;
	ASSERT_EQ(0, ioctl(self->vm.sys_fd, MVX_GET_SUPPORTED_CPUID, c));
	EXPECT_EQ(0, ioctl(self->vcpu.fd, MVX_SET_CPUID2, c))
		TH_LOG("%s", strerror(errno));
	c->nent = 0x10000;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_CPUID2, c));
	EXPECT_EQ(E2BIG, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_CPUID2, NULL));
	EXPECT_EQ(EFAULT, errno);
	free(c);
}

/* Issue 14: vectors 0-255 are queued, anything beyond is EINVAL (as KVM). */
TEST_F(vcpu, interrupt_bad_vector)
{
	struct mvx_interrupt irq = { .irq = 0x20 };

	EXPECT_EQ(0, ioctl(self->vcpu.fd, MVX_INTERRUPT, &irq))
		TH_LOG("INTERRUPT 0x20: %s", strerror(errno));
	irq.irq = 255;
	EXPECT_EQ(0, ioctl(self->vcpu.fd, MVX_INTERRUPT, &irq))
		TH_LOG("INTERRUPT 255: %s", strerror(errno));
	irq.irq = 256;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_INTERRUPT, &irq));
	EXPECT_EQ(EINVAL, errno);
	irq.irq = 1000;
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_INTERRUPT, &irq));
	EXPECT_EQ(EINVAL, errno);
}

TEST_F(vcpu, unknown_ioctls)
{
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, _IO(MVXIO, 0xff), 0));
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_CREATE_VM, 0));
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_CREATE_VCPU, 1));
	EXPECT_TRUE(errno == EINVAL || errno == ENOTTY) TH_LOG("%d", errno);
}

TEST_F(vcpu, run_page_mappings)
{
	struct mvx_run *second;
	uint8_t *pio;

	/* Two mappings of one vCPU share the page. */
	second = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		      self->vcpu.fd, 0);
	ASSERT_NE(MAP_FAILED, second);
	self->vcpu.run->cr8 = 0;
	second->padding1[0] = 0x5a;
	EXPECT_EQ(0x5a, self->vcpu.run->padding1[0]);
	second->padding1[0] = 0;
	munmap(second, PAGE_SIZE);

	/* The port I/O page alone, at its documented offset. */
	pio = mmap(NULL, PAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED,
		   self->vcpu.fd, MVX_PIO_PAGE_OFFSET * PAGE_SIZE);
	ASSERT_NE(MAP_FAILED, pio);
	pio[100] = 0xa5;
	EXPECT_EQ(0xa5, ((uint8_t *)self->vcpu.run)[MVX_PIO_PAGE_OFFSET *
						     PAGE_SIZE + 100]);
	munmap(pio, PAGE_SIZE);
}

TEST_F(vcpu, immediate_exit)
{
	guest_load(&self->vm, CODE_GPA, halt_guest_start, halt_guest_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_REAL, CODE_GPA));
	self->vcpu.run->immediate_exit = 1;
	/* KVM returns EINTR without touching exit_reason. */
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINTR, errno);
	/* The guest did not run. */
	EXPECT_EQ(0, rd32(&self->vm, DATA_GPA));
	self->vcpu.run->immediate_exit = 0;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0x4d56, rd32(&self->vm, DATA_GPA));
}

TEST_F(vcpu, other_process)
{
	struct mvx_regs r;
	pid_t pid;
	int status;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int bad = 0;

		/* The creator's mm owns the VM: everyone else gets EIO. */
		if (ioctl(self->vcpu.fd, MVX_GET_REGS, &r) != -1 ||
		    errno != EIO)
			bad |= 1;
		if (ioctl(self->vcpu.fd, MVX_RUN, 0) != -1 || errno != EIO)
			bad |= 2;
		if (ioctl(self->vm.fd, MVX_CREATE_VCPU, 5) != -1 ||
		    errno != EIO)
			bad |= 4;
		if (vm_add_slot(&self->vm, 9, 0, 0x800000, 0x1000,
				self->vm.mem) != -1 || errno != EIO)
			bad |= 8;
		/* The device itself serves every process. */
		if (ioctl(self->vm.sys_fd, MVX_GET_API_VERSION, 0) != 12)
			bad |= 16;
		close(self->vcpu.fd);
		close(self->vm.fd);
		_exit(bad);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	ASSERT_TRUE(WIFEXITED(status));
	EXPECT_EQ(0, WEXITSTATUS(status))
		TH_LOG("child: failed checks mask %#x", WEXITSTATUS(status));
	/* The child's exit closed nothing of ours. */
	guest_load(&self->vm, CODE_GPA, halt_guest_start, halt_guest_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_REAL, CODE_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

TEST(vcpu_keeps_vm_alive)
{
	struct tvm vm;
	struct tvcpu vcpu;

	ASSERT_SETUP(&vm, &vcpu);
	guest_load(&vm, CODE_GPA, halt_guest_start, halt_guest_end);
	ASSERT_EQ(0, vcpu_set_mode(&vcpu, MODE_REAL, CODE_GPA));
	/* Only the vCPU fd and its mapping remain. */
	close(vm.fd);
	close(vm.sys_fd);
	vm.fd = vm.sys_fd = -1;
	ASSERT_RUN_EXIT(&vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0x4d56, rd32(&vm, DATA_GPA));
	vcpu_close(&vcpu);
	vm_destroy(&vm);
}

/* Closes device, VM and vCPU fds in every order; the run page outlives them. */
TEST(close_orders)
{
	static const int orders[6][3] = {
		{ 0, 1, 2 }, { 0, 2, 1 }, { 1, 0, 2 },
		{ 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 },
	};
	int o, i;

	for (o = 0; o < 6; o++) {
		struct tvm vm;
		struct tvcpu vcpu;
		int *fds[3];

		ASSERT_SETUP(&vm, &vcpu);
		guest_load(&vm, CODE_GPA, halt_guest_start, halt_guest_end);
		ASSERT_EQ(0, vcpu_set_mode(&vcpu, MODE_REAL, CODE_GPA));
		ASSERT_RUN_EXIT(&vcpu, MVX_EXIT_HLT);
		fds[0] = &vm.sys_fd;
		fds[1] = &vm.fd;
		fds[2] = &vcpu.fd;
		for (i = 0; i < 3; i++) {
			EXPECT_EQ(0, close(*fds[orders[o][i]]));
			*fds[orders[o][i]] = -1;
		}
		/* Still mapped, still readable and writable. */
		EXPECT_EQ(MVX_EXIT_HLT, vcpu.run->exit_reason);
		vcpu.run->immediate_exit = 1;
		EXPECT_EQ(1, vcpu.run->immediate_exit);
		vcpu_close(&vcpu);
		vm_destroy(&vm);
	}
}

/* The mapping, not the fd, keeps the run page: unmap last, then first. */
TEST(run_page_after_close)
{
	struct tvm vm;
	struct tvcpu vcpu;
	struct mvx_run *run;
	size_t size;

	ASSERT_SETUP(&vm, &vcpu);
	run = vcpu.run;
	size = vcpu.run_size;
	vcpu.run = NULL;
	vcpu_close(&vcpu);
	vm_destroy(&vm);
	run->exit_reason = 0x1234;
	EXPECT_EQ(0x1234, run->exit_reason);
	EXPECT_EQ(0, munmap(run, size));
}

TEST_HARNESS_MAIN
