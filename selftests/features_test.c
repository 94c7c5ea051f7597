// SPDX-License-Identifier: GPL-2.0
/*
 * What the guest is told it has, it has: a long-mode guest given the
 * device's supported CPUID runs one instruction of every feature CPUID
 * advertises (a #UD or #GP lands in an IDT handler that reports the
 * vector); speculation-control MSRs exist when their bits are shown.
 * Debug registers belong to the guest (values survive exits, breakpoints
 * fire in the guest, the VMM's own watchpoint keeps working).
 * SVM parity with VMX: SET_SREGS takes what GET_SREGS gave after the guest
 * wrote CR4 itself, SHUTDOWN shows the state at the fault, LMSW from
 * memory works with EFER.LME set.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <cpuid.h>
#include <linux/hw_breakpoint.h>
#include <linux/perf_event.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define SNIP_GPA	0x1800		/* the feature's instructions */
#define STUB_GPA	0x2e00		/* one 8-byte handler per vector */
#define IDT_GPA		0x4000
#define XSAVE_GPA	0x9000		/* 64-byte aligned, up to 0xffff */
#define NR_VECTORS	32
#define FAULT_PORT	0x99		/* a handler's OUT: AL = vector */
#define STOP_PORT	0x98		/* the guest wants the host to look */

#define CR4_DE		(1UL << 3)
#define CR4_UMIP	(1UL << 11)
#define CR4_FSGSBASE	(1UL << 16)
#define CR4_PCIDE	(1UL << 17)
#define CR4_OSXSAVE	(1UL << 18)
#define CR4_SMEP	(1UL << 20)
#define CR4_SMAP	(1UL << 21)
#define CR4_PKE		(1UL << 22)
#define CR0_TS		(1UL << 3)

enum { EAX, EBX, ECX, EDX };

/* ------------------------------------------------------ guest plumbing */

/*
 * Sets the CR4 bits in RSI, then XCR0 = RDI unless 0, and jumps to the
 * feature's code at RBX.
 */
GUEST_CODE(feat_prologue,
	".code64\n"
	"mov %cr4, %rax\n"
	"or %rsi, %rax\n"
	"mov %rax, %cr4\n"
	"test %rdi, %rdi\n"
	"jz 1f\n"
	"mov %rdi, %rax\n"
	"mov %rdi, %rdx\n"
	"shr $32, %rdx\n"
	"xor %ecx, %ecx\n"
	"xsetbv\n"
	"1:\n"
	"jmp *%rbx\n");

static const struct mvx_cpuid_entry2 *leaf(const struct mvx_cpuid2 *c,
					   uint32_t fn, uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++) {
		const struct mvx_cpuid_entry2 *e = &c->entries[i];

		if (e->function == fn &&
		    (!(e->flags & MVX_CPUID_FLAG_SIGNIFCANT_INDEX) ||
		     e->index == idx))
			return e;
	}
	return NULL;
}

static bool cpuid_bit(const struct mvx_cpuid2 *c, uint32_t fn, uint32_t idx,
		      int reg, int bit)
{
	const struct mvx_cpuid_entry2 *e = leaf(c, fn, idx);
	uint32_t v;

	if (!e)
		return false;
	v = reg == EAX ? e->eax : reg == EBX ? e->ebx :
	    reg == ECX ? e->ecx : e->edx;
	return v & (1U << bit);
}

static uint64_t supported_xcr0(const struct mvx_cpuid2 *c)
{
	const struct mvx_cpuid_entry2 *e = leaf(c, 0xd, 0);

	return e ? e->eax | (uint64_t)e->edx << 32 : 0;
}

/* Handlers: "mov $vector, %al; out %al, $FAULT_PORT; hlt", and the IDT. */
static void install_idt(struct tvm *vm)
{
	int v;

	for (v = 0; v < NR_VECTORS; v++) {
		uint8_t *stub = vm->mem + STUB_GPA + v * 8;
		uint64_t addr = STUB_GPA + v * 8;
		uint64_t *gate = (uint64_t *)(vm->mem + IDT_GPA + v * 16);

		stub[0] = 0xb0;
		stub[1] = v;
		stub[2] = 0xe6;
		stub[3] = FAULT_PORT;
		stub[4] = 0xf4;
		gate[0] = (addr & 0xffff) | (uint64_t)SEL_CODE64 << 16 |
			  0x8eULL << 40 | ((addr >> 16) & 0xffff) << 48;
		gate[1] = addr >> 32;
	}
}

static int set_idt(struct tvcpu *vcpu)
{
	struct mvx_sregs s;

	if (vcpu_get_sregs(vcpu, &s))
		return -1;
	s.idt.base = IDT_GPA;
	s.idt.limit = NR_VECTORS * 16 - 1;
	return vcpu_set_sregs(vcpu, &s);
}

/* "#UD at ...", "HLT", or the exit; for messages. */
static const char *outcome(struct tvcpu *vcpu, char *buf, size_t len)
{
	struct mvx_run *run = vcpu->run;

	if (run->exit_reason == MVX_EXIT_IO && run->io.port == FAULT_PORT) {
		snprintf(buf, len, "exception vector %u in the guest",
			 *(uint8_t *)pio_data(vcpu));
		return buf;
	}
	return describe_exit(vcpu);
}

/* ------------------------------------------------- one test per feature */

struct feature {
	uint32_t leaf, index;
	int reg, bit;
	uint64_t cr4;			/* set by the guest before the code */
	uint64_t xcr0;			/* XSETBV by the guest, if not 0 */
	uint64_t r8;			/* a parameter for the code */
	const unsigned char *start, *end;
};

FIXTURE(features) {
	struct tvm vm;
	struct tvcpu vcpu;
	struct mvx_cpuid2 *cpuid;
};

FIXTURE_VARIANT(features) {
	struct feature f;
};

FIXTURE_SETUP(features)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
	self->cpuid = supported_cpuid();
	ASSERT_NE(NULL, self->cpuid) TH_LOG("GET_SUPPORTED_CPUID: %s",
					     strerror(errno));
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu))
		TH_LOG("SET_CPUID2: %s", strerror(errno));
}

FIXTURE_TEARDOWN(features)
{
	free(self->cpuid);
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

#define FEATURE(nm, fn, idx, r, b, c4, x0, p8, code)			\
	GUEST_CODE(feat_##nm, ".code64\n" code "\nhlt\n");		\
	FIXTURE_VARIANT_ADD(features, nm) {				\
		.f = { .leaf = fn, .index = idx, .reg = r, .bit = b,	\
		       .cr4 = c4, .xcr0 = x0, .r8 = p8,			\
		       .start = feat_##nm##_start,			\
		       .end = feat_##nm##_end },			\
	}

#define X87_SSE_AVX	0x7ULL
#define AVX512_STATE	0xe7ULL

FEATURE(rdtscp, 0x80000001, 0, EDX, 27, 0, 0, 0, "rdtscp");
FEATURE(rdpid, 7, 0, ECX, 22, 0, 0, 0, "rdpid %rax");
FEATURE(invpcid, 7, 0, EBX, 10, 0, 0, 0,
	"mov $2, %eax\n"		/* all contexts, globals included */
	"invpcid (0x3000), %rax");
FEATURE(pcid, 1, 0, ECX, 17, CR4_PCIDE, 0, 0,
	"mov %cr3, %rax\n"
	"or $1, %rax\n"
	"mov %rax, %cr3");
FEATURE(fsgsbase, 7, 0, EBX, 0, CR4_FSGSBASE, 0, 0,
	"rdfsbase %rax\n"
	"wrfsbase %rax\n"
	"rdgsbase %rax\n"
	"wrgsbase %rax");
FEATURE(smep, 7, 0, EBX, 7, CR4_SMEP, 0, 0, "mov %cr4, %rax");
FEATURE(smap, 7, 0, EBX, 20, CR4_SMAP, 0, 0, "stac\nclac");
FEATURE(umip, 7, 0, ECX, 2, CR4_UMIP, 0, 0, "sgdt (0x3000)");
FEATURE(pku, 7, 0, ECX, 3, CR4_PKE, 0, 0, "xor %ecx, %ecx\nrdpkru");
FEATURE(xsave, 1, 0, ECX, 26, CR4_OSXSAVE, 0, 0,
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"mov $1, %eax\n"
	"xor %edx, %edx\n"
	"xsave (0x9000)\n"
	"xrstor (0x9000)");
FEATURE(xsaveopt, 0xd, 1, EAX, 0, CR4_OSXSAVE, 0, 0,
	"mov $1, %eax\nxor %edx, %edx\nxsaveopt (0x9000)");
FEATURE(xsavec, 0xd, 1, EAX, 1, CR4_OSXSAVE, 0, 0,
	"mov $1, %eax\nxor %edx, %edx\nxsavec (0x9000)");
FEATURE(xgetbv1, 0xd, 1, EAX, 2, CR4_OSXSAVE, 0, 0,
	"mov $1, %ecx\nxgetbv");
FEATURE(xsaves, 0xd, 1, EAX, 3, CR4_OSXSAVE, 0, 0,
	"mov $1, %eax\nxor %edx, %edx\nxsaves (0x9000)");
FEATURE(avx, 1, 0, ECX, 28, CR4_OSXSAVE, X87_SSE_AVX, 0,
	"vaddps %ymm0, %ymm1, %ymm2");
FEATURE(avx2, 7, 0, EBX, 5, CR4_OSXSAVE, X87_SSE_AVX, 0,
	"vpaddd %ymm0, %ymm1, %ymm2");
FEATURE(fma, 1, 0, ECX, 12, CR4_OSXSAVE, X87_SSE_AVX, 0,
	"vfmadd231ps %ymm0, %ymm1, %ymm2");
FEATURE(f16c, 1, 0, ECX, 29, CR4_OSXSAVE, X87_SSE_AVX, 0,
	"vcvtph2ps %xmm0, %ymm1");
FEATURE(avx512f, 7, 0, EBX, 16, CR4_OSXSAVE, AVX512_STATE, 0,
	"vpaddd %zmm0, %zmm1, %zmm2");
FEATURE(rdrand, 1, 0, ECX, 30, 0, 0, 0, "rdrand %rax");
FEATURE(rdseed, 7, 0, EBX, 18, 0, 0, 0, "rdseed %rax");
FEATURE(popcnt, 1, 0, ECX, 23, 0, 0, 0, "popcnt %rax, %rbx");
FEATURE(movbe, 1, 0, ECX, 22, 0, 0, 0, "movbe (0x3000), %eax");
FEATURE(cx16, 1, 0, ECX, 13, 0, 0, 0, "cmpxchg16b (0x3000)");
FEATURE(sse3, 1, 0, ECX, 0, 0, 0, 0, "addsubps %xmm0, %xmm1");
FEATURE(ssse3, 1, 0, ECX, 9, 0, 0, 0, "pshufb %xmm0, %xmm1");
FEATURE(sse4_1, 1, 0, ECX, 19, 0, 0, 0, "ptest %xmm0, %xmm1");
FEATURE(sse4_2, 1, 0, ECX, 20, 0, 0, 0, "crc32b %al, %ebx");
FEATURE(aes, 1, 0, ECX, 25, 0, 0, 0, "aesenc %xmm0, %xmm1");
FEATURE(pclmulqdq, 1, 0, ECX, 1, 0, 0, 0, "pclmulqdq $0, %xmm0, %xmm1");
FEATURE(bmi1, 7, 0, EBX, 3, 0, 0, 0, "andn %rax, %rbx, %rcx");
FEATURE(bmi2, 7, 0, EBX, 8, 0, 0, 0, "pdep %rax, %rbx, %rcx");
FEATURE(adx, 7, 0, EBX, 19, 0, 0, 0, "adcx %rax, %rbx");
FEATURE(sha, 7, 0, EBX, 29, 0, 0, 0, "sha1nexte %xmm0, %xmm1");
FEATURE(clflushopt, 7, 0, EBX, 23, 0, 0, 0, "clflushopt (0x3000)");
FEATURE(clwb, 7, 0, EBX, 24, 0, 0, 0, "clwb (0x3000)");
FEATURE(movdiri, 7, 0, ECX, 27, 0, 0, 0, "movdiri %eax, (0x3000)");
FEATURE(serialize, 7, 0, EDX, 14, 0, 0, 0, "serialize");
FEATURE(lzcnt, 0x80000001, 0, ECX, 5, 0, 0, 0, "lzcnt %rax, %rbx");
FEATURE(prefetchw, 0x80000001, 0, ECX, 8, 0, 0, 0, "prefetchw (0x3000)");
FEATURE(clzero, 0x80000008, 0, EBX, 0, 0, 0, 0,
	"mov $0x3000, %eax\nclzero");
FEATURE(wbnoinvd, 0x80000008, 0, EBX, 9, 0, 0, 0, "wbnoinvd");
FEATURE(rdtsc, 1, 0, EDX, 4, 0, 0, 0, "rdtsc");
FEATURE(fxsr, 1, 0, EDX, 24, 0, 0, 0, "fxsave (0x9000)\nfxrstor (0x9000)");
/*
 * Speculation-control MSRs: a guest told it has them must be able to use
 * them (R8 = the MSR: WRMSR 0 to SPEC_CTRL-like ones, 1 to command MSRs).
 */
#define MSR_SPEC_CTRL		0x48
#define MSR_PRED_CMD		0x49
#define MSR_ARCH_CAPS		0x10a
#define MSR_FLUSH_CMD		0x10b
#define MSR_VIRT_SPEC_CTRL	0xc001011f
#define RDMSR_R8	"mov %r8d, %ecx\nrdmsr"
#define WRMSR1_R8	"mov %r8d, %ecx\nmov $1, %eax\nxor %edx, %edx\nwrmsr"
FEATURE(ibrs_spec_ctrl, 7, 0, EDX, 26, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(ibpb_pred_cmd, 7, 0, EDX, 26, 0, 0, MSR_PRED_CMD, WRMSR1_R8);
FEATURE(stibp, 7, 0, EDX, 27, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(l1d_flush, 7, 0, EDX, 28, 0, 0, MSR_FLUSH_CMD, WRMSR1_R8);
FEATURE(arch_capabilities, 7, 0, EDX, 29, 0, 0, MSR_ARCH_CAPS, RDMSR_R8);
FEATURE(ssbd, 7, 0, EDX, 31, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(amd_ibpb, 0x80000008, 0, EBX, 12, 0, 0, MSR_PRED_CMD, WRMSR1_R8);
FEATURE(amd_ibrs, 0x80000008, 0, EBX, 14, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(amd_stibp, 0x80000008, 0, EBX, 15, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(amd_ssbd, 0x80000008, 0, EBX, 24, 0, 0, MSR_SPEC_CTRL, RDMSR_R8);
FEATURE(amd_virt_ssbd, 0x80000008, 0, EBX, 25, 0, 0, MSR_VIRT_SPEC_CTRL,
	RDMSR_R8);

TEST_F(features, runs_when_advertised)
{
	const struct feature *f = &variant->f;
	uint64_t xcr0 = supported_xcr0(self->cpuid);
	struct mvx_regs r;
	char buf[64];

	if (!cpuid_bit(self->cpuid, f->leaf, f->index, f->reg, f->bit))
		SKIP(return, "not in %s's supported CPUID", mvx_device());
	if ((f->xcr0 & xcr0) != f->xcr0)
		SKIP(return, "XCR0 %#llx not allowed (supported %#llx)",
		     (unsigned long long)f->xcr0, (unsigned long long)xcr0);
	install_idt(&self->vm);
	guest_load(&self->vm, CODE_GPA, feat_prologue_start,
		   feat_prologue_end);
	guest_load(&self->vm, SNIP_GPA, f->start, f->end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, set_idt(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rbx = SNIP_GPA;
	r.rsi = f->cr4;
	r.rdi = f->xcr0;
	r.r8 = f->r8;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_run(&self->vcpu))
		TH_LOG("RUN: %s", strerror(errno));
	ASSERT_EQ(MVX_EXIT_HLT, self->vcpu.run->exit_reason)
		TH_LOG("advertised, but: %s",
		       outcome(&self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(SNIP_GPA + (f->end - f->start), r.rip);
}

/* ------------------------------------------------------ debug registers */

FIXTURE(dr) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(dr)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
	install_idt(&self->vm);
}

FIXTURE_TEARDOWN(dr)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

/*
 * Breakpoints at addresses the guest never reaches; an exit to userspace
 * in between; then every value read back.
 */
GUEST_CODE(dr_roundtrip,
	".code64\n"
	"mov $0x11110000, %eax\n"
	"mov %rax, %dr0\n"
	"mov $0x22220000, %eax\n"
	"mov %rax, %dr1\n"
	"mov $0x33330000, %eax\n"
	"mov %rax, %dr2\n"
	"mov $0x44440000, %eax\n"
	"mov %rax, %dr3\n"
	"mov $0x00000455, %eax\n"	/* L0 L1 L2 L3... G0 off, bit 10 */
	"mov %rax, %dr7\n"
	"out %al, $0x98\n"
	"mov %dr0, %rax\n"
	"mov %rax, (0x3000)\n"
	"mov %dr1, %rax\n"
	"mov %rax, (0x3008)\n"
	"mov %dr2, %rax\n"
	"mov %rax, (0x3010)\n"
	"mov %dr3, %rax\n"
	"mov %rax, (0x3018)\n"
	"mov %dr7, %rax\n"
	"mov %rax, (0x3020)\n"
	"mov %dr6, %rax\n"
	"mov %rax, (0x3028)\n"
	"hlt\n");

static volatile uint32_t watched;

/* A write watchpoint of this process on @watched, counted by perf. */
static int watch(void)
{
	struct perf_event_attr a = {
		.type = PERF_TYPE_BREAKPOINT,
		.size = sizeof(a),
		.bp_type = HW_BREAKPOINT_W,
		.bp_addr = (unsigned long)&watched,
		.bp_len = HW_BREAKPOINT_LEN_4,
		.exclude_kernel = 1,
		.exclude_hv = 1,
	};

	return syscall(SYS_perf_event_open, &a, 0, -1, -1, 0);
}

static long long watch_count(int fd)
{
	long long n = -1;

	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return -1;
	return n;
}

TEST_F(dr, guest_values_survive_exits)
{
	int wfd = watch();
	long long before = 0;

	if (wfd < 0)
		TH_LOG("no perf watchpoint (%s): guest side only",
		       strerror(errno));
	guest_load(&self->vm, CODE_GPA, dr_roundtrip_start, dr_roundtrip_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, set_idt(&self->vcpu));
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, STOP_PORT, 1);
	if (wfd >= 0) {
		/* The host's debug registers are the host's again. */
		before = watch_count(wfd);
		watched++;
		EXPECT_EQ(before + 1, watch_count(wfd))
			TH_LOG("the VMM's watchpoint stopped firing after RUN");
	}
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0x11110000, rd64(&self->vm, DATA_GPA));
	EXPECT_EQ(0x22220000, rd64(&self->vm, DATA_GPA + 8));
	EXPECT_EQ(0x33330000, rd64(&self->vm, DATA_GPA + 0x10));
	EXPECT_EQ(0x44440000, rd64(&self->vm, DATA_GPA + 0x18));
	EXPECT_EQ(0x455, rd64(&self->vm, DATA_GPA + 0x20) & 0xffff2fff);
	EXPECT_EQ(0xffff0ff0, rd64(&self->vm, DATA_GPA + 0x28) & 0xffff0ff0);
	if (wfd >= 0) {
		watched++;
		EXPECT_EQ(before + 2, watch_count(wfd));
		close(wfd);
	}
}

/*
 * An execution breakpoint on the guest's own code: #DB in the guest.
 * Then the guest disarms it: QEMU's TCG keeps the breakpoints an SVM guest
 * armed in DR7 after #VMEXIT (its list follows DR7 writes, not VMRUN and
 * #VMEXIT), and later guests in the same PC, KVM's too, would take this
 * one's address as a #DB of their own.
 */
GUEST_CODE(dr_exec_bp,
	".code64\n"
	"lea 1f(%rip), %rax\n"
	"mov %rax, %dr0\n"
	"mov $0x401, %eax\n"		/* L0, execute, length 1 */
	"mov %rax, %dr7\n"
	"nop\n"
	"1: nop\n"
	"hlt\n"
	"dr_exec_bp_disarm: mov $0x400, %eax\n"
	"mov %rax, %dr7\n"
	"hlt\n");
extern const unsigned char dr_exec_bp_disarm[];

TEST_F(dr, breakpoint_fires_in_guest)
{
	struct mvx_regs regs;
	char buf[64];

	guest_load(&self->vm, CODE_GPA, dr_exec_bp_start, dr_exec_bp_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, set_idt(&self->vcpu));
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	ASSERT_EQ(MVX_EXIT_IO, self->vcpu.run->exit_reason)
		TH_LOG("want #DB in the guest, got %s",
		       outcome(&self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(FAULT_PORT, self->vcpu.run->io.port);
	EXPECT_EQ(1, *(uint8_t *)pio_data(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	regs.rip = CODE_GPA + (dr_exec_bp_disarm - dr_exec_bp_start);
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &regs));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

/* ---------------------------------------------------------- SVM parity */

FIXTURE(parity) {
	struct tvm vm;
	struct tvcpu vcpu;
	struct mvx_cpuid2 *cpuid;
};

FIXTURE_SETUP(parity)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
	install_idt(&self->vm);
	self->cpuid = supported_cpuid();
	ASSERT_NE(NULL, self->cpuid);
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
}

FIXTURE_TEARDOWN(parity)
{
	free(self->cpuid);
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

/* R8: CR4 bits to set; then an all-ones CR4, which must be #GP. */
GUEST_CODE(cr4_write,
	".code64\n"
	"mov %cr4, %rax\n"
	"or %r8, %rax\n"
	"mov %rax, %cr4\n"
	"out %al, $0x98\n"
	"mov $-1, %rax\n"
	"mov %rax, %cr4\n"
	"hlt\n");

/* The CR4 bits a long-mode guest may set, given the supported CPUID. */
static uint64_t settable_cr4(const struct mvx_cpuid2 *c)
{
	uint64_t cr4 = CR4_DE | (1UL << 2) /* TSD */ | (1UL << 7) /* PGE */ |
		       (1UL << 8) /* PCE */;

	if (cpuid_bit(c, 1, 0, ECX, 26))
		cr4 |= CR4_OSXSAVE;
	if (cpuid_bit(c, 1, 0, ECX, 17))
		cr4 |= CR4_PCIDE;
	if (cpuid_bit(c, 7, 0, EBX, 0))
		cr4 |= CR4_FSGSBASE;
	if (cpuid_bit(c, 7, 0, EBX, 7))
		cr4 |= CR4_SMEP;
	if (cpuid_bit(c, 7, 0, EBX, 20))
		cr4 |= CR4_SMAP;
	if (cpuid_bit(c, 7, 0, ECX, 2))
		cr4 |= CR4_UMIP;
	if (cpuid_bit(c, 7, 0, ECX, 3))
		cr4 |= CR4_PKE;
	return cr4;
}

TEST_F(parity, set_sregs_takes_guest_cr4)
{
	uint64_t want = settable_cr4(self->cpuid);
	struct mvx_sregs s;
	struct mvx_regs r;
	char buf[64];

	guest_load(&self->vm, CODE_GPA, cr4_write_start, cr4_write_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, set_idt(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.r8 = want;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	ASSERT_EQ(MVX_EXIT_IO, self->vcpu.run->exit_reason)
		TH_LOG("%s", outcome(&self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(STOP_PORT, self->vcpu.run->io.port)
		TH_LOG("%s", outcome(&self->vcpu, buf, sizeof(buf)));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &s));
	EXPECT_EQ(want, s.cr4 & want);
	EXPECT_EQ(0, vcpu_set_sregs(&self->vcpu, &s))
		TH_LOG("SET_SREGS refused cr4 %#llx from GET_SREGS: %s",
		       (unsigned long long)s.cr4, strerror(errno));

	/* All ones: #GP in the guest, the old CR4 stays. */
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	ASSERT_EQ(MVX_EXIT_IO, self->vcpu.run->exit_reason)
		TH_LOG("want #GP, got %s",
		       outcome(&self->vcpu, buf, sizeof(buf)));
	EXPECT_EQ(FAULT_PORT, self->vcpu.run->io.port);
	EXPECT_EQ(13, *(uint8_t *)pio_data(&self->vcpu));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &s));
	EXPECT_EQ(want, s.cr4 & want);
	EXPECT_EQ(0, vcpu_set_sregs(&self->vcpu, &s));
}

GUEST_CODE(shutdown_long,
	".code64\n"
	"movabs $0x1234567887654321, %r15\n"
	"ud2\n");

TEST_F(parity, shutdown_reports_fault_state)
{
	struct mvx_sregs s;
	struct mvx_regs r;

	guest_load(&self->vm, CODE_GPA, shutdown_long_start,
		   shutdown_long_end);
	/* The IDT limit stays 0: #UD -> #GP -> #DF -> shutdown. */
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_SHUTDOWN);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &s));
	if (mvx_is_kvm() && r.rip == 0xfff0) {
		/* kvm_amd re-initializes the vCPU on SHUTDOWN. */
		TH_LOG("KVM reset the vCPU on SHUTDOWN (kvm_amd does)");
		return;
	}
	EXPECT_EQ(CODE_GPA + 10, r.rip);
	EXPECT_EQ(0x1234567887654321ULL, r.r15);
	EXPECT_EQ(EFER_LMA, s.efer & EFER_LMA);
	EXPECT_EQ(PML4_GPA, s.cr3);
}

/*
 * 32-bit protected mode with EFER.LME set (paging off): LMSW from memory,
 * absolute and base+displacement.
 */
GUEST_CODE(lmsw_lme,
	".code32\n"
	"mov $0xc0000080, %ecx\n"
	"rdmsr\n"
	"or $0x100, %eax\n"
	"wrmsr\n"
	"movw $0x000b, (0x3000)\n"	/* PE MP TS */
	"lmsw (0x3000)\n"
	"mov %cr0, %eax\n"
	"mov %eax, (0x3010)\n"
	"movw $0x0003, (0x3002)\n"	/* PE MP: TS off again */
	"mov $0x2ff0, %ebx\n"
	"lmsw 0x12(%ebx)\n"
	"mov %cr0, %eax\n"
	"mov %eax, (0x3014)\n"
	"hlt\n");

TEST_F(parity, lmsw_memory_with_lme)
{
	if (mvx_is_kvm() && host_is_amd())
		SKIP(return, "kvm_amd keeps EFER.LME in the VMCB with paging off, which hangs QEMU's emulated host CPU");
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA));
	guest_load(&self->vm, CODE_GPA, lmsw_lme_start, lmsw_lme_end);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(CR0_TS, rd32(&self->vm, DATA_GPA + 0x10) & CR0_TS);
	EXPECT_EQ(CR0_PE, rd32(&self->vm, DATA_GPA + 0x10) & CR0_PE);
	EXPECT_EQ(0, rd32(&self->vm, DATA_GPA + 0x14) & CR0_TS);
	EXPECT_EQ(CR0_PE, rd32(&self->vm, DATA_GPA + 0x14) & CR0_PE);
}

/* The same in 64-bit mode, with a RIP-relative operand. */
GUEST_CODE(lmsw_long,
	".code64\n"
	"lmsw msw_ts(%rip)\n"
	"mov %cr0, %rax\n"
	"mov %rax, (0x3010)\n"
	"clts\n"
	"mov %cr0, %rax\n"
	"mov %rax, (0x3018)\n"
	"hlt\n"
	"msw_ts: .word 0x000b\n");

TEST_F(parity, lmsw_memory_long_mode)
{
	guest_load(&self->vm, CODE_GPA, lmsw_long_start, lmsw_long_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(CR0_TS, rd64(&self->vm, DATA_GPA + 0x10) & CR0_TS);
	EXPECT_EQ(CR0_PG, rd64(&self->vm, DATA_GPA + 0x10) & CR0_PG);
	EXPECT_EQ(0, rd64(&self->vm, DATA_GPA + 0x18) & CR0_TS);
}

TEST_HARNESS_MAIN
