// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 8: hostile guests and leaks.  A guest that writes MSRs, loads
 * garbage into control registers, executes VMX/SVM instructions itself or
 * jumps to unbacked memory gets the one outcome the test names for each
 * attack: a given fault injected, a given exit, or nothing, state intact;
 * a guest scanning its physical address space sees only its own slots;
 * creating and destroying 1,000 VMs leaves memory, slabs and pinned pages
 * where they were.
 */
#include <cpuid.h>
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
#define RESUME_GPA	(DATA_GPA + 0xf08)	/* where the attack resumes */
#define VECTOR_GPA	(DATA_GPA + 0xf10)	/* last vector taken */
#define MSR_TABLE_GPA	0x3800
#define MSR_COUNT_GPA	0x37f8
#define MSR_OUTCOME_GPA	0x3c00			/* one byte per access */

/*
 * Exception handlers shared by the hostile guests: one 32-byte stub per
 * vector records which vector it was (and drops the error code where the
 * CPU pushed one), then the common part counts the fault and resumes at
 * the address the guest put in R15 before the risky instruction.
 */
#define HANDLERS(name)							\
	"jmp 9f\n"							\
	".balign 32\n"							\
	#name "_vectors:\n"						\
	".irp v,0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,"	\
	"21,22,23,24,25,26,27,28,29,30,31\n"				\
	".balign 32\n"							\
	".if (\\v == 8) || ((\\v >= 10) && (\\v <= 14)) || (\\v == 17) || "\
	"(\\v == 21) || (\\v == 29) || (\\v == 30)\n"			\
	"add $8, %rsp\n"						\
	".endif\n"							\
	"movl $\\v, (0x3f10)\n"						\
	"jmp " #name "_common\n"					\
	".endr\n"							\
	#name "_common:\n"						\
	"incq (0x3f00)\n"						\
	"mov %r15, (%rsp)\n"						\
	"iretq\n"							\
	"9:\n"

/*
 * Arms the resume point (in R15 for the handlers, in memory for the host,
 * which survives a vCPU reset), then runs one risky instruction.
 */
#define TRY(insn)							\
	"lea 1f(%rip), %r15\n mov %r15, (0x3f08)\n" insn "\n1:\n"

/* One attack, then a checkpoint for the host. */
#define ATTACK(insn) TRY(insn) "out %al, $0x70\n"

#define VECTOR_STUB_SIZE 32

static void put_idt(struct tvm *vm, uint64_t vectors)
{
	uint64_t *idt = (uint64_t *)(vm->mem + IDT_GPA);
	int v;

	for (v = 0; v < 32; v++) {
		uint64_t h = CODE_GPA + vectors + v * VECTOR_STUB_SIZE;

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

/* Long mode at @rip with the fault-recording IDT. */
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
	put_idt(&self->vm, name##_vectors - name##_start);		\
	ASSERT_EQ(0, hostile_long_mode(&self->vcpu, CODE_GPA));		\
} while (0)

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
 * What one attack did: NOTHING (no fault, no exit, control registers
 * unchanged), the vector of the one fault the guest took, or EXIT() of the
 * exit reason it ended in.
 */
#define NOTHING		(-1)
#define EXIT(reason)	(0x100 + (reason))
#define MANY		(-2)		/* more than one fault: never right */
#define FAIL		EXIT(MVX_EXIT_FAIL_ENTRY)
#define GP		13
#define UD		6

static const char *outcome_name(int o)
{
	static char bufs[2][32];	/* two in one message */
	static int k;
	char *buf = bufs[k ^= 1];

	if (o == NOTHING)
		return "nothing";
	if (o == MANY)
		return "several faults";
	if (o >= 0x100)
		snprintf(buf, sizeof(bufs[0]), "exit %s", mvx_exit_name(o - 0x100));
	else
		snprintf(buf, sizeof(bufs[0]), "vector %d", o);
	return buf;
}

/*
 * Runs the guest to its next checkpoint, OUT to port 0x70, and says how
 * the attack before it ended.  After an error exit the guest goes on at
 * the attack's resume point from a clean long-mode state.
 */
static int run_attack(struct __test_metadata *_metadata, struct tvm *vm,
		      struct tvcpu *vcpu)
{
	struct mvx_run *run = vcpu->run;
	int outcome = NOTHING;
	uint64_t n;

	wr64(vm, FAULTS_GPA, 0);
	wr32(vm, VECTOR_GPA, ~0u);
	ASSERT_EQ(0, vcpu_run(vcpu)) TH_LOG("RUN: %s", strerror(errno));
	if (run->exit_reason != MVX_EXIT_IO) {
		outcome = EXIT(run->exit_reason);
		TH_LOG("%s", describe_exit(vcpu));
		ASSERT_EQ(0, hostile_long_mode(vcpu, rd64(vm, RESUME_GPA)));
		ASSERT_EQ(0, vcpu_run(vcpu)) TH_LOG("RUN: %s", strerror(errno));
	}
	ASSERT_EQ(MVX_EXIT_IO, run->exit_reason)
		TH_LOG("%s", describe_exit(vcpu));
	ASSERT_EQ(0x70, run->io.port);
	n = rd64(vm, FAULTS_GPA);
	if (n > 1 || (n && outcome != NOTHING))
		return MANY;
	if (n)
		return rd32(vm, VECTOR_GPA);
	return outcome;
}

extern const unsigned char msr_attack_vectors[];
GUEST_CODE(msr_attack,
	".code64\n"
	HANDLERS(msr_attack)
	"mov $0x3800, %rbx\n"
	"mov $0x3c00, %rsi\n"
	"mov (0x37f8), %r12d\n"
	"2: test %r12d, %r12d\n"
	"jz 3f\n"
	"movl $0xff, (0x3f10)\n"
	"mov (%rbx), %ecx\n"
	TRY("rdmsr")
	"mov (0x3f10), %al\n mov %al, (%rsi)\n inc %rsi\n"
	"movl $0xff, (0x3f10)\n"
	"mov (%rbx), %ecx\n"
	"mov $-1, %eax\n"
	"mov $-1, %edx\n"
	TRY("wrmsr")
	"mov (0x3f10), %al\n mov %al, (%rsi)\n inc %rsi\n"
	"movl $0xff, (0x3f10)\n"
	"mov (%rbx), %ecx\n"
	"xor %eax, %eax\n"
	"xor %edx, %edx\n"
	TRY("wrmsr")
	"mov (0x3f10), %al\n mov %al, (%rsi)\n inc %rsi\n"
	"add $4, %rbx\n"
	"dec %r12d\n"
	"jmp 2b\n"
	"3: out %al, $0x70\n"
	"hlt\n");

/*
 * Architectural, SYSCALL, PAT/MTRR, debug, VMX capability, SVM and PV
 * MSRs, each with minivmx's outcome (the same on both backends: MSRs are
 * emulated in the kernel) for RDMSR, WRMSR ~0 and WRMSR 0: 'G' #GP, '-'
 * no fault, '?' either (what issue 13 item 4 decides).
 */
static const struct {
	uint32_t msr;
	const char *want;
} attack_msrs[] = {
	/* P5_MC_ADDR, P5_MC_TYPE: read 0, as on KVM */
	{ 0x0, "-GG" }, { 0x1, "-GG" }, { 0x6, "GGG" },
	/* TSC: writes set the offset; PLATFORM_ID reads 0 (KVM's list) */
	{ 0x10, "---" }, { 0x17, "-GG" },
	/* APIC base: stored unchecked (KVM: #GP on reserved bits) */
	{ 0x1b, "---" },
	/* EBL_CR_POWERON: reads 0, as on KVM */
	{ 0x2a, "-GG" }, { 0x34, "GGG" },
	/* FEATURE_CONTROL: locked, VMX off */
	{ 0x3a, "-GG" }, { 0x3b, "GGG" },
	/* SPEC_CTRL, PRED_CMD, ARCH_CAPABILITIES: issue 13 item 4 */
	{ 0x48, "???" }, { 0x49, "???" }, { 0x79, "GGG" },
	/* UCODE_REV: reads 0, writes ignored */
	{ 0x8b, "---" }, { 0x9b, "GGG" }, { 0xc1, "GGG" },
	{ 0xe7, "GGG" }, { 0xe8, "GGG" },
	/* MTRRcap: read-only */
	{ 0xfe, "-GG" }, { 0x10a, "???" }, { 0x122, "GGG" },
	{ 0x140, "GGG" },
	/* SYSENTER CS/ESP/EIP: ~0 is canonical */
	{ 0x174, "---" }, { 0x175, "---" }, { 0x176, "---" },
	/* MCG_CAP read-only, MCG_STATUS any value, no MCG_CTL (no SETUP_MCE) */
	{ 0x179, "-GG" }, { 0x17a, "---" }, { 0x17b, "GGG" },
	{ 0x186, "GGG" }, { 0x187, "GGG" }, { 0x198, "GGG" },
	/* PERF_CTL: reads 0, as on KVM */
	{ 0x199, "-GG" },
	/* MISC_ENABLE: stored */
	{ 0x1a0, "---" }, { 0x1a2, "GGG" }, { 0x1b0, "GGG" },
	/* DEBUGCTL: only 0 */
	{ 0x1d9, "-G-" }, { 0x1db, "GGG" }, { 0x1dc, "GGG" },
	{ 0x1dd, "GGG" }, { 0x1de, "GGG" },
	/* MTRRs: ~0 has reserved types and bits, 0 is valid */
	{ 0x200, "-G-" },
	{ 0x201, "-G-" }, { 0x202, "-G-" }, { 0x203, "-G-" },
	{ 0x20e, "-G-" }, { 0x20f, "-G-" }, { 0x210, "GGG" },
	{ 0x250, "-G-" }, { 0x251, "GGG" },
	{ 0x258, "-G-" }, { 0x259, "-G-" }, { 0x268, "-G-" },
	{ 0x26f, "-G-" },
	/* MC0_CTL2: no CMCI */
	{ 0x280, "GGG" },
	/* PAT: 0 is valid (all UC), ~0 is not */
	{ 0x277, "-G-" },
	/* MTRRdefType: 0 is valid */
	{ 0x2ff, "-G-" }, { 0x345, "GGG" }, { 0x38d, "GGG" },
	{ 0x38f, "GGG" }, { 0x390, "GGG" }, { 0x3f1, "GGG" },
	/* MC0_CTL, _STATUS (only 0 from the guest), _ADDR: 32 banks */
	{ 0x400, "---" }, { 0x401, "-G-" }, { 0x402, "---" },
	{ 0x47f, "---" },
	/* VMX capabilities: VMX is not offered */
	{ 0x480, "GGG" }, { 0x481, "GGG" }, { 0x482, "GGG" },
	{ 0x483, "GGG" }, { 0x484, "GGG" }, { 0x485, "GGG" },
	{ 0x486, "GGG" }, { 0x487, "GGG" }, { 0x488, "GGG" },
	{ 0x489, "GGG" }, { 0x48a, "GGG" }, { 0x48b, "GGG" },
	{ 0x48c, "GGG" }, { 0x48d, "GGG" }, { 0x48e, "GGG" },
	{ 0x48f, "GGG" }, { 0x490, "GGG" }, { 0x491, "GGG" },
	{ 0x4d0, "GGG" }, { 0x560, "GGG" }, { 0x570, "GGG" },
	{ 0x600, "GGG" }, { 0x6a0, "GGG" }, { 0x6a2, "GGG" },
	{ 0x6e0, "GGG" }, { 0x802, "GGG" }, { 0x808, "GGG" },
	{ 0x80b, "GGG" }, { 0x830, "GGG" }, { 0x838, "GGG" },
	{ 0xda0, "GGG" }, { 0x1200, "GGG" },
	/* EFER: ~0 reserved, 0 clears LME while paging */
	{ 0xc0000080, "-GG" },
	/* STAR, LSTAR, CSTAR: ~0 is canonical */
	{ 0xc0000081, "---" }, { 0xc0000082, "---" }, { 0xc0000083, "---" },
	/* SFMASK: bits 63:32 reserved */
	{ 0xc0000084, "-G-" },
	/* FS/GS/KERNEL_GS base: ~0 is canonical */
	{ 0xc0000100, "---" }, { 0xc0000101, "---" }, { 0xc0000102, "---" },
	/* TSC_AUX: bits 63:32 reserved */
	{ 0xc0000103, "-G-" }, { 0xc0000104, "GGG" }, { 0xc0010000, "GGG" },
	{ 0xc0010004, "GGG" }, { 0xc0010010, "GGG" }, { 0xc0010015, "GGG" },
	/* INT_PENDING_MSG: reads 0, as on KVM (Linux reads it on K8) */
	{ 0xc0010055, "-GG" },
	/* VM_CR, VM_HSAVE_PA (0xc0010117): SVM is not offered */
	{ 0xc0010114, "GGG" }, { 0xc0010115, "GGG" }, { 0xc0010117, "GGG" },
	{ 0xc0010130, "GGG" }, { 0xc0010131, "GGG" }, { 0xc0010140, "GGG" },
	{ 0xc0010141, "GGG" }, { 0xc001011f, "GGG" },
	/* hypervisor and KVM PV MSRs (kvmclock too): not offered */
	{ 0x40000000, "GGG" }, { 0x40000001, "GGG" }, { 0x4b564d00, "GGG" },
	{ 0x4b564d01, "GGG" }, { 0x4b564d02, "GGG" }, { 0x4b564d03, "GGG" },
	{ 0x4b564d04, "GGG" }, { 0x11, "GGG" }, { 0x12, "GGG" },
	{ 0x4b564df0, "GGG" }, { 0xdeadbeef, "GGG" }, { 0xffffffff, "GGG" },
};

TEST_F_TIMEOUT(hostile, guest_writes_msrs, 120)
{
	unsigned int n = sizeof(attack_msrs) / sizeof(attack_msrs[0]);
	unsigned int i, j;
	char got[4];

	for (i = 0; i < n; i++)
		wr32(&self->vm, MSR_TABLE_GPA + 4 * i, attack_msrs[i].msr);
	wr32(&self->vm, MSR_COUNT_GPA, n);
	LOAD_HOSTILE(msr_attack);
	/* MSR accesses are the kernel's business: never an exit to us. */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_IO);
	ASSERT_EQ(0x70, self->vcpu.run->io.port);
	for (i = 0; i < n; i++) {
		const char *want = attack_msrs[i].want;
		bool ok = true;

		for (j = 0; j < 3; j++) {
			uint8_t o = self->vm.mem[MSR_OUTCOME_GPA + 3 * i + j];

			got[j] = o == 0xff ? '-' : o == GP ? 'G' : '!';
			/* KVM's choices are its own; only the vector is ours. */
			if (mvx_is_kvm())
				ok &= got[j] != '!';
			else
				ok &= want[j] == '?' ? got[j] != '!' :
				      got[j] == want[j];
		}
		got[3] = 0;
		EXPECT_TRUE(ok) TH_LOG("MSR %#x: want %s, got %s ('!': not #GP)",
				       attack_msrs[i].msr, want, got);
	}
	EXPECT_TRUE(sregs_intact(&self->vcpu));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

extern const unsigned char cr_attack_vectors[];
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

/*
 * The one outcome each attack has, on minivmx and on KVM, on a CPU that
 * checks what the SDM and APM say it checks (silicon, Bochs) and under
 * QEMU's TCG, whose SVM guest mode does not check the reserved bits of a
 * MOV to CR3 or CR8 that the hypervisor lets through: the bad CR3 reaches
 * the VMCB and the next VMRUN refuses it (VMEXIT_INVALID: FAIL_ENTRY), the
 * bad CR8 is cut to its low bits.  Silicon raises #GP on the MOV itself.
 * minivmx intercepts CR4 writes on SVM and checks them itself, so the bad
 * CR4 is #GP there too.  KVM on TCG also lets the CR0 write and, with vGIF,
 * STGI/CLGI through unchecked.  The KVM column is KVM on Bochs (VMX).
 *
 * The guest's CPUID offers neither VMX nor SVM and it cannot set
 * CR4.VMXE or EFER.SVME, so every VMX and SVM instruction is #UD, as on
 * a CPU without them; "nothing happened" is never right for them.
 * CR4.OSXSAVE is clear here, so XSETBV is #UD before its operands count.
 */
static const struct cr_attack {
	const char *name;
	int want, tcg;			/* minivmx */
	int kvm, kvm_tcg;		/* KVM */
} cr_attacks[] = {
	/*					   minivmx	 KVM */
	/*					   TCG		 TCG */
	{ "CR4 <- ~0",				GP, GP,		GP, GP },
	{ "CR0 bit 32",				GP, GP,		GP, NOTHING },
	{ "CR0.PG off in 64-bit mode",		GP, GP,		GP, GP },
	{ "CR3 <- ~0",				GP, FAIL,	GP, FAIL },
	/*
	 * KVM on VMX lets the write through to the TPR shadow, where Bochs
	 * (the only VMX CPU here) does not check the reserved bits either;
	 * on silicon it is #GP.
	 */
	{ "CR8 <- 0x100",			GP, NOTHING,	NOTHING, GP },
	{ "EFER <- ~0",				GP, GP,		GP, GP },
	{ "EFER.LME off while paging",		GP, GP,		GP, GP },
	{ "XCR0 <- 0",				UD, UD,		UD, UD },
	{ "XCR1 <- ~0",				UD, UD,		UD, UD },
	{ "INVD",				NOTHING, NOTHING, NOTHING, NOTHING },
	{ "WBINVD",				NOTHING, NOTHING, NOTHING, NOTHING },
	{ "VMXON",				UD, UD,		UD, UD },
	{ "VMXOFF",				UD, UD,		UD, UD },
	{ "VMPTRLD",				UD, UD,		UD, UD },
	{ "VMCLEAR",				UD, UD,		UD, UD },
	{ "VMREAD",				UD, UD,		UD, UD },
	{ "VMWRITE",				UD, UD,		UD, UD },
	{ "VMLAUNCH",				UD, UD,		UD, UD },
	{ "VMRESUME",				UD, UD,		UD, UD },
	{ "INVEPT",				UD, UD,		UD, UD },
	{ "INVVPID",				UD, UD,		UD, UD },
	{ "VMFUNC",				UD, UD,		UD, UD },
	{ "VMRUN",				UD, UD,		UD, UD },
	{ "VMLOAD",				UD, UD,		UD, UD },
	{ "VMSAVE",				UD, UD,		UD, UD },
	{ "STGI",				UD, UD,		UD, NOTHING },
	{ "CLGI",				UD, UD,		UD, NOTHING },
	{ "SKINIT",				UD, UD,		UD, UD },
	{ "INVLPGA",				UD, UD,		UD, UD },
	/* KVM takes both as hypercalls: -KVM_ENOSYS in RAX, no fault. */
	{ "VMCALL",				UD, UD,		NOTHING, NOTHING },
	{ "VMMCALL",				UD, UD,		NOTHING, NOTHING },
};

TEST_F_TIMEOUT(hostile, guest_control_registers_and_vmx_svm, 120)
{
	unsigned int n = sizeof(cr_attacks) / sizeof(cr_attacks[0]);
	bool tcg = host_is_qemu_tcg();
	unsigned int i;

	if (tcg)
		TH_LOG("QEMU TCG: its SVM does not check CR3/CR8 reserved bits");
	LOAD_HOSTILE(cr_attack);
	for (i = 0; i < n; i++) {
		const struct cr_attack *a = &cr_attacks[i];
		int want = mvx_is_kvm() ? (tcg ? a->kvm_tcg : a->kvm) :
					  (tcg ? a->tcg : a->want);
		int got = run_attack(_metadata, &self->vm, &self->vcpu);

		EXPECT_EQ(want, got)
			TH_LOG("%s: want %s, got %s", a->name,
			       outcome_name(want), outcome_name(got));
		/* A fault or an exit must leave nothing behind either. */
		EXPECT_TRUE(sregs_intact(&self->vcpu))
			TH_LOG("%s took effect", a->name);
	}
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
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

	guest_load(&self->vm, CODE_GPA, jump_unbacked_start, jump_unbacked_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	/*
	 * Code cannot be fetched from MMIO: the emulator has no instruction
	 * bytes to decode and says so (KVM too), naming the address.
	 */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_INTERNAL_ERROR);
	EXPECT_EQ(MVX_INTERNAL_ERROR_EMULATION, run->internal.suberror);
	if (!mvx_is_kvm()) {
		ASSERT_EQ(4, run->internal.ndata);
		EXPECT_EQ(MMIO_GPA, run->internal.data[1]);
	}
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
	int i, kasan = mvx_kernel_has_kasan();

	if (kasan)
		TH_LOG("KASAN kernel: its quarantine is drained before each reading");
	/* Warm up caches so that only real leaks grow. */
	for (i = 0; i < 20; i++)
		ASSERT_EQ(0, one_vm_lifetime()) TH_LOG("VM %d", i);
	if (kasan)
		TH_LOG("%d slab caches shrunk", mvx_drain_kasan_quarantine());
	mem0 = mvx_settled_mem_available_kb();
	slab0 = slab_bytes();
	pin0 = mvx_pinned_pages();
	for (i = 0; i < 1000; i++)
		ASSERT_EQ(0, one_vm_lifetime()) TH_LOG("VM %d: %s", i,
						       strerror(errno));
	if (kasan)
		TH_LOG("%d slab caches shrunk", mvx_drain_kasan_quarantine());
	mem1 = mvx_settled_mem_available_kb();
	slab1 = slab_bytes();
	pin1 = mvx_pinned_pages();
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
