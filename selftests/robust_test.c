// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 8: hostile guests and leaks.  A guest that writes MSRs, loads
 * garbage into control registers, executes VMX/SVM instructions itself or
 * jumps to unbacked memory ends in an injected fault or a defined exit;
 * a guest scanning its physical address space sees only its own slots;
 * creating and destroying 1,000 VMs leaves memory, slabs and pinned pages
 * where they were.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define IDT_GPA		0x9000
#define FAULTS_GPA	(DATA_GPA + 0xf00)	/* guest's fault counter */
#define MSR_TABLE_GPA	0x3800
#define MSR_COUNT_GPA	0x37f8

/*
 * Exception handlers shared by the hostile guests: count the fault and
 * resume at the address the guest put in R15 before the risky instruction.
 */
#define HANDLERS(name)						\
	"jmp 9f\n"						\
	#name "_noerr:\n"					\
	"incq (0x3f00)\n"					\
	"mov %r15, (%rsp)\n"					\
	"iretq\n"						\
	#name "_err:\n"						\
	"add $8, %rsp\n"					\
	"incq (0x3f00)\n"					\
	"mov %r15, (%rsp)\n"					\
	"iretq\n"						\
	"9:\n"

/*
 * Arms the resume point (in R15 for the handlers, in memory for the host,
 * which survives a vCPU reset), then runs one risky instruction.
 */
#define TRY(insn)							\
	"lea 1f(%rip), %r15\n mov %r15, (0x3f08)\n" insn "\n1:\n"
#define RESUME_GPA	(DATA_GPA + 0xf08)

/* One attack, then a checkpoint for the host. */
#define ATTACK(insn) TRY(insn) "out %al, $0x70\n"

static void put_idt(struct tvm *vm, uint64_t noerr, uint64_t err)
{
	uint64_t *idt = (uint64_t *)(vm->mem + IDT_GPA);
	int v;

	for (v = 0; v < 32; v++) {
		bool has_error = v == 8 || (v >= 10 && v <= 14) || v == 17 ||
				 v == 21 || v == 29 || v == 30;
		uint64_t h = CODE_GPA + (has_error ? err : noerr);

		idt[2 * v] = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
			     (0x8eULL << 40) | ((h >> 16 & 0xffff) << 48);
		idt[2 * v + 1] = h >> 32;
	}
}

FIXTURE(hostile) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(hostile)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(hostile)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

/* Long mode at @rip with the fault-counting IDT. */
static int hostile_long_mode(struct tvcpu *vcpu, uint64_t rip)
{
	struct mvx_sregs s;

	if (vcpu_set_mode(vcpu, MODE_LONG, rip) || vcpu_get_sregs(vcpu, &s))
		return -1;
	s.idt.base = IDT_GPA;
	s.idt.limit = 32 * 16 - 1;
	return vcpu_set_sregs(vcpu, &s);
}

#define LOAD_HOSTILE(name) do {						\
	guest_load(&self->vm, CODE_GPA, name##_start, name##_end);	\
	put_idt(&self->vm, name##_noerr - name##_start,			\
		name##_err - name##_start);				\
	ASSERT_EQ(0, hostile_long_mode(&self->vcpu, CODE_GPA));		\
} while (0)

static uint64_t faults(struct tvm *vm)
{
	return rd64(vm, FAULTS_GPA);
}

static bool defined_error_exit(uint32_t reason)
{
	return reason == MVX_EXIT_FAIL_ENTRY || reason == MVX_EXIT_SHUTDOWN ||
	       reason == MVX_EXIT_INTERNAL_ERROR;
}

/*
 * Runs to the checkpoint OUT to @port.  Each attack must end in a fault
 * the guest counts or in a defined error exit (issue 8); after such an
 * exit the guest goes on at its next attack (R15) from a clean state.
 * By the checkpoint, @want attacks must have been handled either way.
 */
#define RUN_TO_CHECKPOINT(_port, _want) do {				\
	uint64_t __resume = 0;						\
	int __n;							\
									\
	for (__n = 0; __n < 64; __n++) {				\
		ASSERT_EQ(0, vcpu_run(&self->vcpu))			\
			TH_LOG("RUN: %s", strerror(errno));		\
		if (self->vcpu.run->exit_reason == MVX_EXIT_IO)		\
			break;						\
		ASSERT_TRUE(defined_error_exit(self->vcpu.run->exit_reason)) \
			TH_LOG("%s", describe_exit(&self->vcpu));	\
		TH_LOG("defined exit, not a fault: %s",			\
		       describe_exit(&self->vcpu));			\
		ASSERT_NE(__resume, rd64(&self->vm, RESUME_GPA))	\
			TH_LOG("no progress after the exit");		\
		__resume = rd64(&self->vm, RESUME_GPA);			\
		ASSERT_EQ(0, hostile_long_mode(&self->vcpu, __resume));	\
		defined++;						\
	}								\
	ASSERT_EQ(MVX_EXIT_IO, self->vcpu.run->exit_reason);		\
	ASSERT_EQ(_port, self->vcpu.run->io.port);			\
	EXPECT_EQ(_want, faults(&self->vm) + defined)			\
		TH_LOG("checkpoint %#x: %llu faults, %u exits", _port,	\
		       (unsigned long long)faults(&self->vm), defined);	\
} while (0)

extern const unsigned char msr_attack_noerr[], msr_attack_err[];
GUEST_CODE(msr_attack,
	".code64\n"
	HANDLERS(msr_attack)
	"mov $0x3800, %rbx\n"
	"mov (0x37f8), %r12d\n"
	"2: test %r12d, %r12d\n"
	"jz 3f\n"
	"mov (%rbx), %ecx\n"
	TRY("rdmsr")
	"mov (%rbx), %ecx\n"
	"mov $-1, %eax\n"
	"mov $-1, %edx\n"
	TRY("wrmsr")
	"mov (%rbx), %ecx\n"
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	TRY("wrmsr")
	"add $4, %rbx\n"
	"dec %r12d\n"
	"jmp 2b\n"
	"3: out %al, $0x70\n"
	"hlt\n");

/* Architectural, SYSCALL, PAT/MTRR, debug, VMX capability, SVM and PV MSRs. */
static const uint32_t attack_msrs[] = {
	0x0, 0x1, 0x6, 0x10, 0x17, 0x1b, 0x2a, 0x34, 0x3a, 0x3b, 0x48, 0x49,
	0x79, 0x8b, 0x9b, 0xc1, 0xe7, 0xe8, 0xfe, 0x10a, 0x122, 0x140,
	0x174, 0x175, 0x176, 0x179, 0x17a, 0x17b, 0x186, 0x187, 0x198,
	0x199, 0x1a0, 0x1a2, 0x1b0, 0x1d9, 0x1db, 0x1dc, 0x1dd, 0x1de,
	0x200, 0x201, 0x202, 0x203, 0x20e, 0x20f, 0x250, 0x258, 0x259,
	0x268, 0x26f, 0x277, 0x2ff, 0x345, 0x38d, 0x38f, 0x390, 0x3f1,
	0x400, 0x401, 0x402, 0x480, 0x481, 0x482, 0x483, 0x484, 0x485,
	0x486, 0x487, 0x488, 0x489, 0x48a, 0x48b, 0x48c, 0x48d, 0x48e,
	0x48f, 0x490, 0x491, 0x4d0, 0x560, 0x570, 0x600, 0x6a0, 0x6a2,
	0x6e0, 0x802, 0x808, 0x80b, 0x830, 0x838, 0xda0, 0x1200,
	0xc0000080, 0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084,
	0xc0000100, 0xc0000101, 0xc0000102, 0xc0000103, 0xc0000104,
	0xc0010000, 0xc0010004, 0xc0010010, 0xc0010015, 0xc0010055,
	0xc0010114, 0xc0010115, 0xc0010117, 0xc0010130, 0xc0010131,
	0xc0010140, 0xc0010141, 0xc001011f, 0x40000000, 0x40000001,
	0x4b564d00, 0x4b564d01, 0x4b564d02, 0x4b564d03, 0x4b564d04,
	0x11, 0x12, 0x4b564df0, 0xdeadbeef, 0xffffffff,
};

TEST_F_TIMEOUT(hostile, guest_writes_msrs, 120)
{
	unsigned int n = sizeof(attack_msrs) / sizeof(attack_msrs[0]);
	unsigned int defined = 0;

	memcpy(self->vm.mem + MSR_TABLE_GPA, attack_msrs, sizeof(attack_msrs));
	wr32(&self->vm, MSR_COUNT_GPA, n);
	LOAD_HOSTILE(msr_attack);
	/* Every access worked, was a #GP the guest survived, or a defined exit. */
	RUN_TO_CHECKPOINT(0x70, faults(&self->vm) + defined);
	TH_LOG("%llu of %u MSR accesses faulted, %u defined exits",
	       (unsigned long long)faults(&self->vm), 3 * n, defined);
	/* All-ones is invalid for EFER, LSTAR, APIC base and the unknown ones. */
	EXPECT_LE(4, faults(&self->vm) + defined);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

extern const unsigned char cr_attack_noerr[], cr_attack_err[];
GUEST_CODE(cr_attack,
	".code64\n"
	HANDLERS(cr_attack)
	ATTACK("mov $-1, %rax\n mov %rax, %cr4")	/* reserved bits */
	ATTACK("mov %cr0, %rax\n bts $32, %rax\n mov %rax, %cr0")
	ATTACK("mov %cr0, %rax\n btr $31, %rax\n mov %rax, %cr0") /* PG off */
	ATTACK("mov $-1, %rax\n mov %rax, %cr3")	/* past MAXPHYADDR */
	ATTACK("mov $0x100, %rax\n mov %rax, %cr8")	/* reserved bits */
	ATTACK("mov $0xc0000080, %ecx\n mov $-1, %eax\n mov $-1, %edx\n wrmsr")
	ATTACK("mov $0xc0000080, %ecx\n rdmsr\n btr $8, %eax\n wrmsr")
	ATTACK("xor %ecx, %ecx\n xor %eax, %eax\n xor %edx, %edx\n xsetbv")
	ATTACK("mov $1, %ecx\n mov $-1, %eax\n mov $-1, %edx\n xsetbv")
	ATTACK("invd")
	ATTACK("wbinvd")
	ATTACK("vmxon (0x3000)")
	ATTACK("vmxoff")
	ATTACK("vmptrld (0x3000)")
	ATTACK("vmclear (0x3000)")
	ATTACK("vmread %rax, %rbx")
	ATTACK("vmwrite %rbx, %rax")
	ATTACK("vmlaunch")
	ATTACK("vmresume")
	ATTACK("invept (0x3000), %rax")
	ATTACK("invvpid (0x3000), %rax")
	ATTACK("vmfunc")
	ATTACK("mov $0x3000, %eax\n vmrun %rax")
	ATTACK("mov $0x3000, %eax\n vmload %rax")
	ATTACK("mov $0x3000, %eax\n vmsave %rax")
	ATTACK("stgi")
	ATTACK("clgi")
	ATTACK("skinit %eax")
	ATTACK("invlpga %rax, %ecx")
	ATTACK("xor %eax, %eax\n vmcall")
	ATTACK("xor %eax, %eax\n vmmcall")
	"hlt\n");

static const char * const cr_attacks[] = {
	"CR4 <- ~0", "CR0 bit 32", "CR0.PG off in 64-bit mode", "CR3 <- ~0",
	"CR8 <- 0x100", "EFER <- ~0", "EFER.LME off while paging",
	"XCR0 <- 0", "XCR1 <- ~0", "INVD", "WBINVD",
	"VMXON", "VMXOFF", "VMPTRLD", "VMCLEAR", "VMREAD", "VMWRITE",
	"VMLAUNCH", "VMRESUME", "INVEPT", "INVVPID", "VMFUNC",
	"VMRUN", "VMLOAD", "VMSAVE", "STGI", "CLGI", "SKINIT", "INVLPGA",
	"VMCALL", "VMMCALL",
};

static bool sregs_intact(struct tvcpu *vcpu)
{
	struct mvx_sregs s;

	return !vcpu_get_sregs(vcpu, &s) &&
	       s.cr0 == (CR0_PE | CR0_MP | CR0_ET | CR0_NE | CR0_PG) &&
	       s.cr3 == PML4_GPA && s.cr8 == 0 &&
	       s.cr4 == (CR4_PAE | CR4_OSFXSR | CR4_OSXMMEXCPT) &&
	       s.efer == (EFER_LME | EFER_LMA);
}

/*
 * Each attack must end in a fault the guest survives, in a defined exit,
 * or (INVD, WBINVD, hypercalls, and where the emulated CPU under the test
 * PC is lax) in nothing at all, with the control registers unchanged.
 */
TEST_F_TIMEOUT(hostile, guest_control_registers_and_vmx_svm, 120)
{
	unsigned int n = sizeof(cr_attacks) / sizeof(cr_attacks[0]);
	unsigned int i, defined, nfaults = 0, nexits = 0, nothing = 0;
	uint64_t before;

	LOAD_HOSTILE(cr_attack);
	for (i = 0; i < n; i++) {
		before = faults(&self->vm);
		defined = 0;
		RUN_TO_CHECKPOINT(0x70, before + defined +
				  (faults(&self->vm) - before));
		if (defined) {
			TH_LOG("%s: defined exit", cr_attacks[i]);
			nexits++;
		} else if (faults(&self->vm) > before) {
			nfaults++;
		} else {
			/* What follows would only be its consequences. */
			ASSERT_TRUE(sregs_intact(&self->vcpu))
				TH_LOG("%s took effect", cr_attacks[i]);
			TH_LOG("%s: no fault, no exit", cr_attacks[i]);
			nothing++;
		}
		EXPECT_GE(1, faults(&self->vm) - before + defined)
			TH_LOG("%s: more than one outcome", cr_attacks[i]);
	}
	TH_LOG("%u attacks: %u faults, %u defined exits, %u without effect",
	       n, nfaults, nexits, nothing);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_TRUE(sregs_intact(&self->vcpu));
}

GUEST_CODE(bad_cr3,
	".code64\n"
	"mov $0x5000, %eax\n"		/* zeroed page: nothing is mapped */
	"mov %rax, %cr3\n"
	"nop\n"
	"hlt\n");

TEST_F(hostile, guest_unmaps_itself)
{
	guest_load(&self->vm, CODE_GPA, bad_cr3_start, bad_cr3_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	/* #PF with nothing mapped to deliver it through: triple fault. */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_SHUTDOWN);
}

GUEST_CODE(jump_unbacked,
	".code64\n"
	"mov $0xc0000000, %eax\n"
	"jmp *%rax\n");

TEST_F(hostile, guest_executes_unbacked_memory)
{
	struct mvx_run *run = self->vcpu.run;
	int ret;

	guest_load(&self->vm, CODE_GPA, jump_unbacked_start, jump_unbacked_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	/* Code cannot be fetched from MMIO: an error exit, or a read of it. */
	ret = vcpu_run(&self->vcpu);
	ASSERT_EQ(0, ret) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(run->exit_reason == MVX_EXIT_INTERNAL_ERROR ||
		    (run->exit_reason == MVX_EXIT_MMIO && !run->mmio.is_write &&
		     run->mmio.phys_addr == MMIO_GPA))
		TH_LOG("%s", describe_exit(&self->vcpu));
}

/* -------------------------------------------------------- isolation */

GUEST_CODE(scan,
	".code32\n"
	"xor %esi, %esi\n"		/* address */
	"xor %edi, %edi\n"		/* sum of what was read */
	"1: mov (%esi), %eax\n"
	"add %eax, %edi\n"
	"add $0x40000, %esi\n"		/* every 256 KiB */
	"cmp $0x4000000, %esi\n"	/* up to 64 MiB */
	"jb 1b\n"
	"mov $0xfffff000, %esi\n"
	"mov (%esi), %eax\n"
	"add %eax, %edi\n"
	"hlt\n");

TEST(guest_sees_only_its_slots)
{
	struct tvm a, b;
	struct tvcpu vcpu;
	struct mvx_regs r;
	uint8_t *extra;
	uint32_t sum = 0, gpa, mmio = 0, want_mmio = 0;
	uint64_t off;

	/* VM b exists with a recognisable pattern that a must never see. */
	ASSERT_EQ(0, vm_create(&b));
	for (off = 0; off < b.mem_size; off += 4)
		wr32(&b, off, 0x0bad0bad);
	ASSERT_SETUP(&a, &vcpu);
	/* a: RAM at 0-2 MiB plus a 256 KiB slot at 16 MiB. */
	extra = mmap(NULL, 0x40000, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, extra);
	ASSERT_EQ(0, vm_add_slot(&a, 1, 0, 16 << 20, 0x40000, extra));
	*(uint32_t *)extra = 0x1600;
	for (gpa = 0x40000; gpa < GUEST_MEM_SIZE; gpa += 0x40000)
		wr32(&a, gpa, gpa >> 12);
	guest_load(&a, CODE_GPA, scan_start, scan_end);
	ASSERT_EQ(0, vcpu_set_mode(&vcpu, MODE_PROT32, CODE_GPA));
	for (gpa = 0; gpa < 0x4000000; gpa += 0x40000) {
		bool hole = gpa >= GUEST_MEM_SIZE && gpa != 16 << 20;

		want_mmio += hole;
		if (gpa < GUEST_MEM_SIZE)
			sum += rd32(&a, gpa);
		else if (!hole)
			sum += 0x1600;
		else
			sum += 0x11;	/* what we answer for holes */
	}
	want_mmio++;			/* 0xfffff000 */
	sum += 0x11;
	for (;;) {
		ASSERT_EQ(0, vcpu_run(&vcpu)) TH_LOG("%s", strerror(errno));
		if (vcpu.run->exit_reason != MVX_EXIT_MMIO)
			break;
		ASSERT_EQ(0, vcpu.run->mmio.is_write);
		gpa = vcpu.run->mmio.phys_addr;
		EXPECT_TRUE(gpa >= GUEST_MEM_SIZE && gpa != 16 << 20)
			TH_LOG("MMIO exit for backed gpa %#x", gpa);
		memset(vcpu.run->mmio.data, 0, 8);
		vcpu.run->mmio.data[0] = 0x11;
		mmio++;
	}
	ASSERT_EQ(MVX_EXIT_HLT, vcpu.run->exit_reason)
		TH_LOG("%s", describe_exit(&vcpu));
	EXPECT_EQ(want_mmio, mmio);
	ASSERT_EQ(0, vcpu_get_regs(&vcpu, &r));
	EXPECT_EQ(sum, (uint32_t)r.rdi);
	vcpu_close(&vcpu);
	vm_destroy(&a);
	vm_destroy(&b);
}

/* ------------------------------------------------------------- leaks */

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
 * single reading wander by a few MiB while nothing leaks.  A leak of the
 * pages this test pins stays visible: it is 8 MiB and never comes back.
 */
static long settled_mem_available_kb(void)
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

/* Bytes in active slab objects, over all caches (-1 without slabinfo). */
static long long slab_bytes(void)
{
	char line[512], name[64];
	long long total = 0;
	unsigned long active, num, size;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "%63s %lu %lu %lu", name, &active, &num,
			   &size) == 4)
			total += (long long)active * size;
	fclose(f);
	return total;
}

static long pinned_pages(void)
{
	FILE *f = fopen("/sys/module/minivmx/parameters/pinned_pages", "r");
	long v = -1;

	if (f) {
		if (fscanf(f, "%ld", &v) != 1)
			v = -1;
		fclose(f);
	}
	return v;
}

GUEST_CODE(touch,
	".code32\n"
	"movl $1, (0x3000)\n"
	"movl $1, (0x100000)\n"
	"hlt\n");

static int one_vm_lifetime(void)
{
	struct tvm vm;
	struct tvcpu v[2];
	int ret = -1;

	if (vm_create(&vm))
		goto out_vm;
	if (vcpu_add(&vm, 0, &v[0]))
		goto out_vm;
	if (vcpu_add(&vm, 1, &v[1]))
		goto out_v0;
	guest_load(&vm, CODE_GPA, touch_start, touch_end);
	if (vcpu_set_mode(&v[0], MODE_PROT32, CODE_GPA) || vcpu_run(&v[0]) ||
	    v[0].run->exit_reason != MVX_EXIT_HLT)
		goto out_v1;
	ret = 0;
out_v1:
	vcpu_close(&v[1]);
out_v0:
	vcpu_close(&v[0]);
out_vm:
	vm_destroy(&vm);
	return ret;
}

TEST_F_TIMEOUT(hostile, no_leaks_after_1000_vms, 300)
{
	long mem0, mem1, pin0, pin1;
	long long slab0, slab1;
	int i;

	/* Warm up caches so that only real leaks grow. */
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, one_vm_lifetime()) TH_LOG("VM %d", i);
	mem0 = settled_mem_available_kb();
	slab0 = slab_bytes();
	pin0 = pinned_pages();
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, one_vm_lifetime()) TH_LOG("VM %d: %s", i,
						       strerror(errno));
	mem1 = settled_mem_available_kb();
	slab1 = slab_bytes();
	pin1 = pinned_pages();
	TH_LOG("MemAvailable %ld -> %ld kB, slab %lld -> %lld bytes, pinned %ld -> %ld",
	       mem0, mem1, slab0, slab1, pin0, pin1);
	/* Two pages touched per VM: a leak of them would be ~8 MiB. */
	EXPECT_GT(2048, mem0 - mem1);
	if (slab0 >= 0)
		EXPECT_GT(1024 * 1024, slab1 - slab0);
	EXPECT_EQ(pin0, pin1);
	if (!mvx_is_kvm())
		EXPECT_EQ(0, pin1);
}

TEST_HARNESS_MAIN
