// SPDX-License-Identifier: GPL-2.0
/*
 * Two vCPUs on two threads, migrated between host CPUs while they run,
 * and the host's SSE state surviving a guest that clobbers all of it.
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define LOOPS	10000

GUEST_CODE(smp_loop,
	".code32\n"
	"mov $10000, %ecx\n"
	"1: lea (%ecx,%esi), %eax\n"
	"out %eax, (%dx)\n"
	"loop 1b\n"
	"mov %esi, (%edi)\n"
	"hlt\n");

struct vcpu_thread {
	struct tvcpu vcpu;
	pthread_t thread;
	pid_t tid;
	uint32_t tag;		/* added to every value the guest sends */
	uint16_t port;
	unsigned int exits;
	unsigned int cpu_changes;
	char error[256];
};

static volatile int vcpus_done;

static void *vcpu_loop(void *arg)
{
	struct vcpu_thread *t = arg;
	struct mvx_run *run = t->vcpu.run;
	int cpu, last_cpu = sched_getcpu();
	uint32_t i, want;

	t->tid = syscall(SYS_gettid);
	for (i = LOOPS; i > 0; i--) {
		if (vcpu_run(&t->vcpu)) {
			snprintf(t->error, sizeof(t->error), "RUN: %s",
				 strerror(errno));
			return NULL;
		}
		want = i + t->tag;
		if (run->exit_reason != MVX_EXIT_IO ||
		    run->io.direction != MVX_EXIT_IO_OUT ||
		    run->io.port != t->port || run->io.size != 4 ||
		    *(uint32_t *)pio_data(&t->vcpu) != want) {
			snprintf(t->error, sizeof(t->error),
				 "exit %u: want out %#x to port %#x, got %s data %#x",
				 LOOPS - i, want, t->port,
				 describe_exit(&t->vcpu),
				 *(uint32_t *)pio_data(&t->vcpu));
			return NULL;
		}
		t->exits++;
		cpu = sched_getcpu();
		t->cpu_changes += cpu != last_cpu;
		last_cpu = cpu;
	}
	if (vcpu_run(&t->vcpu) || run->exit_reason != MVX_EXIT_HLT)
		snprintf(t->error, sizeof(t->error), "last exit: %s",
			 describe_exit(&t->vcpu));
	return NULL;
}

/* Moves every vCPU thread to another CPU every millisecond. */
static void *mover(void *arg)
{
	struct vcpu_thread *t = arg;
	int ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned int k = 0;
	cpu_set_t set;
	int i;

	while (!vcpus_done) {
		for (i = 0; i < 2; i++) {
			if (!t[i].tid)
				continue;
			CPU_ZERO(&set);
			CPU_SET((k + i) % ncpu, &set);
			sched_setaffinity(t[i].tid, sizeof(set), &set);
		}
		k++;
		usleep(1000);
	}
	return NULL;
}

FIXTURE(smp) {
	int unused;
};

FIXTURE_SETUP(smp)
{
}

FIXTURE_TEARDOWN(smp)
{
}

TEST_F_TIMEOUT(smp, two_vcpus_migrating, 180)
{
	struct vcpu_thread t[2];
	pthread_t mv;
	struct tvm vm;
	struct mvx_regs r;
	int i;

	if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
		SKIP(return, "one host CPU: nothing to migrate between");
	ASSERT_EQ(0, vm_create(&vm)) TH_LOG("%s", strerror(errno));
	guest_load(&vm, CODE_GPA, smp_loop_start, smp_loop_end);
	memset(t, 0, sizeof(t));
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, vcpu_add(&vm, i, &t[i].vcpu))
			TH_LOG("vCPU %d: %s", i, strerror(errno));
		ASSERT_EQ(0, vcpu_set_mode(&t[i].vcpu, MODE_PROT32, CODE_GPA));
		t[i].tag = (i + 1) << 20;
		t[i].port = 0x10 + i;
		ASSERT_EQ(0, vcpu_get_regs(&t[i].vcpu, &r));
		r.rsi = t[i].tag;
		r.rdx = t[i].port;
		r.rdi = DATA_GPA + 4 * i;
		ASSERT_EQ(0, vcpu_set_regs(&t[i].vcpu, &r));
	}
	vcpus_done = 0;
	ASSERT_EQ(0, pthread_create(&mv, NULL, mover, t));
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&t[i].thread, NULL, vcpu_loop, &t[i]));
	for (i = 0; i < 2; i++)
		pthread_join(t[i].thread, NULL);
	vcpus_done = 1;
	pthread_join(mv, NULL);
	for (i = 0; i < 2; i++) {
		EXPECT_STREQ("", t[i].error) TH_LOG("vCPU %d", i);
		EXPECT_EQ(LOOPS, t[i].exits) TH_LOG("vCPU %d", i);
		/* The mover really moved the thread between exits. */
		EXPECT_LT(0, t[i].cpu_changes) TH_LOG("vCPU %d", i);
		EXPECT_EQ(t[i].tag, rd32(&vm, DATA_GPA + 4 * i));
		ASSERT_EQ(0, vcpu_get_regs(&t[i].vcpu, &r));
		EXPECT_EQ(0, r.rcx);
		EXPECT_EQ(t[i].tag, r.rsi);
		vcpu_close(&t[i].vcpu);
	}
	vm_destroy(&vm);
}

/* ------------------------------------------------------- XMM integrity */

GUEST_CODE(xmm_clobber,
	".code64\n"
	"pcmpeqd %xmm0, %xmm0\n"
	"pcmpeqd %xmm1, %xmm1\n"
	"pcmpeqd %xmm2, %xmm2\n"
	"pcmpeqd %xmm3, %xmm3\n"
	"pcmpeqd %xmm4, %xmm4\n"
	"pcmpeqd %xmm5, %xmm5\n"
	"pcmpeqd %xmm6, %xmm6\n"
	"pcmpeqd %xmm7, %xmm7\n"
	"pcmpeqd %xmm8, %xmm8\n"
	"pcmpeqd %xmm9, %xmm9\n"
	"pcmpeqd %xmm10, %xmm10\n"
	"pcmpeqd %xmm11, %xmm11\n"
	"pcmpeqd %xmm12, %xmm12\n"
	"pcmpeqd %xmm13, %xmm13\n"
	"pcmpeqd %xmm14, %xmm14\n"
	"pcmpeqd %xmm15, %xmm15\n"
	"ldmxcsr (0x3010)\n"
	"movdqu %xmm5, (0x3020)\n"
	"out %al, $0x60\n"
	/* After a trip to userspace the guest's own values are back. */
	"movdqu %xmm0, (0x3030)\n"
	"movdqu %xmm15, (0x3040)\n"
	"stmxcsr (0x3050)\n"
	"hlt\n");

#define HOST_MXCSR	0x9f80	/* flush-to-zero, all masked */
#define GUEST_MXCSR	0x7f80	/* round toward zero, all masked */

/*
 * KVM_RUN with known values in every XMM register and MXCSR, read back
 * right after the syscall: no compiler-generated code can touch them.
 */
static long run_with_xmm(int fd, uint8_t in[16][16], uint8_t out[16][16],
			 uint32_t *mxcsr)
{
	uint32_t mx_in = HOST_MXCSR, mx_out = 0, saved;
	long ret;

	asm volatile("stmxcsr %0" : "=m"(saved));
	asm volatile(
		"ldmxcsr %[mi]\n\t"
		"movdqu 0x00(%[in]), %%xmm0\n\t"
		"movdqu 0x10(%[in]), %%xmm1\n\t"
		"movdqu 0x20(%[in]), %%xmm2\n\t"
		"movdqu 0x30(%[in]), %%xmm3\n\t"
		"movdqu 0x40(%[in]), %%xmm4\n\t"
		"movdqu 0x50(%[in]), %%xmm5\n\t"
		"movdqu 0x60(%[in]), %%xmm6\n\t"
		"movdqu 0x70(%[in]), %%xmm7\n\t"
		"movdqu 0x80(%[in]), %%xmm8\n\t"
		"movdqu 0x90(%[in]), %%xmm9\n\t"
		"movdqu 0xa0(%[in]), %%xmm10\n\t"
		"movdqu 0xb0(%[in]), %%xmm11\n\t"
		"movdqu 0xc0(%[in]), %%xmm12\n\t"
		"movdqu 0xd0(%[in]), %%xmm13\n\t"
		"movdqu 0xe0(%[in]), %%xmm14\n\t"
		"movdqu 0xf0(%[in]), %%xmm15\n\t"
		"syscall\n\t"
		"movdqu %%xmm0, 0x00(%[out])\n\t"
		"movdqu %%xmm1, 0x10(%[out])\n\t"
		"movdqu %%xmm2, 0x20(%[out])\n\t"
		"movdqu %%xmm3, 0x30(%[out])\n\t"
		"movdqu %%xmm4, 0x40(%[out])\n\t"
		"movdqu %%xmm5, 0x50(%[out])\n\t"
		"movdqu %%xmm6, 0x60(%[out])\n\t"
		"movdqu %%xmm7, 0x70(%[out])\n\t"
		"movdqu %%xmm8, 0x80(%[out])\n\t"
		"movdqu %%xmm9, 0x90(%[out])\n\t"
		"movdqu %%xmm10, 0xa0(%[out])\n\t"
		"movdqu %%xmm11, 0xb0(%[out])\n\t"
		"movdqu %%xmm12, 0xc0(%[out])\n\t"
		"movdqu %%xmm13, 0xd0(%[out])\n\t"
		"movdqu %%xmm14, 0xe0(%[out])\n\t"
		"movdqu %%xmm15, 0xf0(%[out])\n\t"
		"stmxcsr %[mo]\n\t"
		: "=a"(ret), [mo] "=m"(mx_out)
		: "a"((long)SYS_ioctl), "D"((long)fd), "S"((long)MVX_RUN),
		  "d"(0L), [in] "r"(in), [out] "r"(out), [mi] "m"(mx_in)
		: "rcx", "r11", "memory",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15");
	asm volatile("ldmxcsr %0" : : "m"(saved));
	*mxcsr = mx_out;
	return ret;
}

TEST(xmm_integrity)
{
	uint8_t in[16][16], out[16][16], ones[16];
	struct tvm vm;
	struct tvcpu vcpu;
	struct mvx_fpu fpu;
	uint32_t mxcsr;
	int i, j;

	ASSERT_SETUP(&vm, &vcpu);
	guest_load(&vm, CODE_GPA, xmm_clobber_start, xmm_clobber_end);
	ASSERT_EQ(0, vcpu_set_mode(&vcpu, MODE_LONG, CODE_GPA));
	wr32(&vm, DATA_GPA + 0x10, GUEST_MXCSR);
	memset(ones, 0xff, sizeof(ones));
	for (i = 0; i < 16; i++)
		for (j = 0; j < 16; j++)
			in[i][j] = i * 16 + j;

	/* First RUN ends at the OUT, second at the HLT. */
	for (i = 0; i < 2; i++) {
		memset(out, 0, sizeof(out));
		ASSERT_EQ(0, run_with_xmm(vcpu.fd, in, out, &mxcsr))
			TH_LOG("RUN %d failed", i);
		ASSERT_EQ(i ? MVX_EXIT_HLT : MVX_EXIT_IO, vcpu.run->exit_reason)
			TH_LOG("%s", describe_exit(&vcpu));
		for (j = 0; j < 16; j++)
			EXPECT_EQ(0, memcmp(in[j], out[j], 16))
				TH_LOG("RUN %d: host xmm%d changed", i, j);
		EXPECT_EQ(HOST_MXCSR, mxcsr) TH_LOG("RUN %d", i);
	}
	/* The guest really clobbered, and kept its own values meanwhile. */
	EXPECT_EQ(0, memcmp(vm.mem + DATA_GPA + 0x20, ones, 16));
	EXPECT_EQ(0, memcmp(vm.mem + DATA_GPA + 0x30, ones, 16));
	EXPECT_EQ(0, memcmp(vm.mem + DATA_GPA + 0x40, ones, 16));
	EXPECT_EQ(GUEST_MXCSR, rd32(&vm, DATA_GPA + 0x50));
	ASSERT_EQ(0, ioctl(vcpu.fd, MVX_GET_FPU, &fpu));
	for (j = 0; j < 16; j++)
		EXPECT_EQ(0, memcmp(fpu.xmm[j], ones, 16))
			TH_LOG("GET_FPU xmm%d", j);
	/* KVM's GET_FPU never fills in MXCSR. */
	if (!mvx_is_kvm())
		EXPECT_EQ(GUEST_MXCSR, fpu.mxcsr);
	vcpu_close(&vcpu);
	vm_destroy(&vm);
}

TEST_HARNESS_MAIN
