// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 13, items 2 and 4: exceptions the hypervisor intercepts for its own
 * safety (#AC, #DB, #MC: MVX_INTERCEPT_EXCEPTIONS) still reach the guest as
 * the CPU would deliver them, and a guest stuck in an endless #AC or #DB
 * storm is still ended by a signal; the guest's speculation-control MSRs
 * follow its CPUID.
 *
 * The guests run in 32-bit protected mode without paging, with their own
 * GDT (ring 0 and ring 3 flat segments, a TSS for the ring 3 -> 0 stack
 * switch) and IDT.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/time.h>
#include <unistd.h>
#include <cpuid.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define IDT_GPA		0x9000
#define GDT2_GPA	0x9800
#define KSTACK_TOP	0x7f00		/* ring 0 stack (TSS.ESP0) */
#define USTACK_TOP	0x6f00		/* ring 3 stack */

#define SEL_K_CODE	0x08
#define SEL_K_DATA	0x10
#define SEL_U_CODE	0x1b		/* 0x18 | RPL 3 */
#define SEL_U_DATA	0x23		/* 0x20 | RPL 3 */
#define SEL_TSS2	0x28

#define GATE_INTR	0x8e		/* present, DPL 0, 32-bit interrupt gate */
#define GATE_TRAP	0x8f		/* present, DPL 0, 32-bit trap gate */

#define COUNT_GPA	(DATA_GPA + 0x00)
#define ERR_GPA		(DATA_GPA + 0x04)
#define EIP_GPA		(DATA_GPA + 0x08)
#define CS_GPA		(DATA_GPA + 0x0c)
#define LOOPS_GPA	(DATA_GPA + 0x10)
#define DR6_GPA		(DATA_GPA + 0x14)
#define MSR_LO_GPA	(DATA_GPA + 0x18)

#define DR6_BS		0x4000
#define DR6_B0_3	0xf

#define MSR_SPEC_CTRL	0x48
#define SPEC_CTRL_IBRS	1

FIXTURE(exc) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(exc)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(exc)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

static void put_gdt2(struct tvm *vm)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + GDT2_GPA);

	gdt[0] = 0;
	gdt[1] = 0x00cf9b000000ffffULL;	/* ring 0 code, flat, 32-bit */
	gdt[2] = 0x00cf93000000ffffULL;	/* ring 0 data */
	gdt[3] = 0x00cffb000000ffffULL;	/* ring 3 code */
	gdt[4] = 0x00cff3000000ffffULL;	/* ring 3 data */
	/* busy 32-bit TSS at TSS_GPA, limit 0x67 */
	gdt[5] = 0x0000008b00000067ULL | ((uint64_t)TSS_GPA << 16);
	/* TSS: ESP0 and SS0 for the ring 3 -> ring 0 switch. */
	wr32(vm, TSS_GPA + 4, KSTACK_TOP);
	wr32(vm, TSS_GPA + 8, SEL_K_DATA);
}

static void gate(struct tvm *vm, int vector, uint32_t handler_gpa,
		 uint16_t sel, uint8_t type)
{
	uint64_t g = (handler_gpa & 0xffff) | ((uint64_t)sel << 16) |
		     ((uint64_t)type << 40) |
		     ((uint64_t)(handler_gpa >> 16) << 48);

	wr64(vm, IDT_GPA + 8 * vector, g);
}

static struct mvx_segment flat(uint16_t sel, uint8_t type)
{
	struct mvx_segment s = {
		.base = 0, .limit = 0xffffffff, .selector = sel, .type = type,
		.present = 1, .dpl = sel & 3, .db = 1, .s = 1, .g = 1,
	};

	return s;
}

/* Ring 0, 32-bit protected mode at CODE_GPA with our GDT and IDT. */
static int guest_setup32(struct tvm *vm, struct tvcpu *vcpu)
{
	struct mvx_sregs s;

	memset(vm->mem + IDT_GPA, 0, 0x100 * 8);
	put_gdt2(vm);
	if (vcpu_set_mode(vcpu, MODE_PROT32, CODE_GPA) ||
	    vcpu_get_sregs(vcpu, &s))
		return -1;
	s.gdt.base = GDT2_GPA;
	s.gdt.limit = 6 * 8 - 1;
	s.idt.base = IDT_GPA;
	s.idt.limit = 32 * 8 - 1;
	s.cs = flat(SEL_K_CODE, 0xb);
	s.ds = s.es = s.fs = s.gs = s.ss = flat(SEL_K_DATA, 3);
	s.tr.selector = SEL_TSS2;
	if (vcpu_set_sregs(vcpu, &s))
		return -1;
	return 0;
}

#define OFF(name, label) ((uint32_t)(CODE_GPA + (label - name##_start)))

#define LOAD(name) do {							\
	guest_load(&self->vm, CODE_GPA, name##_start, name##_end);	\
	ASSERT_EQ(0, guest_setup32(&self->vm, &self->vcpu))			\
		TH_LOG("setup: %s", strerror(errno));			\
} while (0)

static void on_alarm(int sig)
{
}

/*
 * The guest never stops by itself: a 100 ms SIGALRM must end its RUN.
 * KVM ends an exception storm itself, with an INTERNAL_ERROR exit (an
 * intercepted exception during the delivery of another); minivmx delivers
 * as the CPU would, and the guest's own loop goes on until the signal.
 */
#define EXPECT_SIGNAL_ENDS_RUN() do {					\
	struct sigaction __sa = { .sa_handler = on_alarm };		\
	struct itimerval __it = { .it_value = { .tv_usec = 100000 } };	\
	struct itimerval __off = { 0 };					\
	int __r;							\
									\
	ASSERT_EQ(0, sigaction(SIGALRM, &__sa, NULL));			\
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &__it, NULL));		\
	__r = vcpu_run(&self->vcpu);					\
	setitimer(ITIMER_REAL, &__off, NULL);				\
	if (mvx_is_kvm() && !__r &&					\
	    self->vcpu.run->exit_reason == MVX_EXIT_INTERNAL_ERROR) {	\
		TH_LOG("KVM: %s", describe_exit(&self->vcpu));		\
		return;							\
	}								\
	EXPECT_EQ(-1, __r)						\
		TH_LOG("the guest stopped: %s",				\
		       describe_exit(&self->vcpu));			\
	EXPECT_EQ(EINTR, errno);					\
	EXPECT_EQ(MVX_EXIT_INTR, self->vcpu.run->exit_reason);		\
} while (0)

/*
 * Whether this CPU (an emulator, maybe) raises #AC at all: QEMU's TCG does
 * not implement alignment checking.  Linux runs with CR0.AM set, so a
 * process that sets RFLAGS.AC gets SIGBUS for an unaligned load.
 */
static sigjmp_buf ac_probe_jmp;

static void on_sigbus(int sig)
{
	siglongjmp(ac_probe_jmp, 1);
}

static bool cpu_raises_ac(void)
{
	struct sigaction sa = { .sa_handler = on_sigbus }, old;
	static volatile uint32_t buf[2];
	volatile bool raised = false;

	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(ac_probe_jmp, 1) == 0) {
		uint32_t v;

		asm volatile("pushf\n orl $0x40000, (%%rsp)\n popf\n"
			     "movl (%1), %0\n"
			     "pushf\n andl $~0x40000, (%%rsp)\n popf\n"
			     : "=r" (v) : "r" ((char *)buf + 1) : "memory", "cc");
	} else {
		raised = true;
	}
	/* siglongjmp restored the signal mask; RFLAGS.AC came back clear. */
	asm volatile("pushf\n andl $~0x40000, (%%rsp)\n popf\n" ::: "memory", "cc");
	sigaction(SIGBUS, &old, NULL);
	return raised;
}

/* ------------------------------------------------------------------ #AC */

/*
 * Ring 0 sets CR0.AM and IRETs to ring 3 with RFLAGS.AC; an unaligned load
 * there must reach the guest's own #AC handler (ring 0, through the TSS
 * stack) with error code 0 and the faulting EIP.
 */
GUEST_CODE(ac_user,
	".code32\n"
	"mov %cr0, %eax\n"
	"or $0x40000, %eax\n"
	"mov %eax, %cr0\n"
	"push $0x23\n"
	"push $0x6f00\n"
	"push $0x40202\n"
	"push $0x1b\n"
	"push $(0x1000 + ac_user_cpl3 - ac_user_start)\n"
	"iret\n"
	"ac_user_cpl3:\n"
	"ac_user_fault: movl 1(%esp), %eax\n"
	"hlt\n"				/* ring 3: #GP, no handler: shutdown */
	"ac_user_handler:\n"
	"mov $0x10, %ax\n"
	"mov %ax, %ds\n"
	"pop %eax\n"
	"mov %eax, (0x3004)\n"
	"mov (%esp), %eax\n"
	"mov %eax, (0x3008)\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x300c)\n"
	"incl (0x3000)\n"
	"hlt\n");
extern const unsigned char ac_user_fault[], ac_user_handler[];

TEST_F(exc, ac_reaches_guest_handler)
{
	if (!cpu_raises_ac())
		SKIP(return, "this CPU (emulator) raises no #AC for user code");
	LOAD(ac_user);
	gate(&self->vm, 17, OFF(ac_user, ac_user_handler), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(0, rd32(&self->vm, ERR_GPA));
	EXPECT_EQ(OFF(ac_user, ac_user_fault), rd32(&self->vm, EIP_GPA));
	EXPECT_EQ(SEL_U_CODE, rd32(&self->vm, CS_GPA) & 0xffff);
}

/*
 * CVE-2015-5307: the #AC handler is a ring 3 one and the ring 3 stack is
 * unaligned, so delivering #AC raises #AC again, forever, without an
 * instruction ever completing.  Without the intercept a real CPU never
 * leaves the guest; with it, every round trips through the host and the
 * signal ends the RUN.  The handler must never run.
 */
GUEST_CODE(ac_loop,
	".code32\n"
	"mov %cr0, %eax\n"
	"or $0x40000, %eax\n"
	"mov %eax, %cr0\n"
	"push $0x23\n"
	"push $0x6f01\n"		/* unaligned ring 3 stack */
	"push $0x40202\n"
	"push $0x1b\n"
	"push $(0x1000 + ac_loop_cpl3 - ac_loop_start)\n"
	"iret\n"
	"ac_loop_cpl3:\n"
	"movl 1(%esp), %eax\n"
	"hlt\n"
	"ac_loop_handler:\n"
	"incl %ss:(0x3000)\n"
	"hlt\n");
extern const unsigned char ac_loop_handler[];

TEST_F(exc, ac_storm_ends_by_signal)
{
	if (!cpu_raises_ac())
		SKIP(return, "this CPU (emulator) raises no #AC for user code");
	LOAD(ac_loop);
	gate(&self->vm, 17, OFF(ac_loop, ac_loop_handler), SEL_U_CODE,
	     GATE_INTR);
	EXPECT_SIGNAL_ENDS_RUN();
	EXPECT_EQ(0, rd32(&self->vm, COUNT_GPA));
}

/* ------------------------------------------------------------------ #DB */

/*
 * POPF sets TF: the instruction after it runs, then a single-step #DB
 * reaches the guest's handler with DR6.BS set (and no breakpoint bits),
 * pointing after that instruction.
 */
GUEST_CODE(db_step,
	".code32\n"
	"pushf\n"
	"orl $0x100, (%esp)\n"
	"popf\n"
	"nop\n"
	"db_step_after: hlt\n"
	"db_step_handler:\n"
	"mov %dr6, %eax\n"
	"mov %eax, (0x3014)\n"
	"mov (%esp), %eax\n"
	"mov %eax, (0x3008)\n"
	"incl (0x3000)\n"
	"hlt\n");
extern const unsigned char db_step_after[], db_step_handler[];

TEST_F(exc, db_single_step_sets_dr6)
{
	uint32_t dr6;

	LOAD(db_step);
	gate(&self->vm, 1, OFF(db_step, db_step_handler), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(db_step, db_step_after), rd32(&self->vm, EIP_GPA));
	dr6 = rd32(&self->vm, DR6_GPA);
	EXPECT_EQ(DR6_BS, dr6 & (DR6_BS | DR6_B0_3))
		TH_LOG("guest DR6 %#x", dr6);
}

/* ICEBP (INT1): #DB after the instruction, with no DR6 status bits. */
GUEST_CODE(db_icebp,
	".code32\n"
	".byte 0xf1\n"
	"db_icebp_after: hlt\n"
	"db_icebp_handler:\n"
	"mov %dr6, %eax\n"
	"mov %eax, (0x3014)\n"
	"mov (%esp), %eax\n"
	"mov %eax, (0x3008)\n"
	"incl (0x3000)\n"
	"hlt\n");
extern const unsigned char db_icebp_after[], db_icebp_handler[];

TEST_F(exc, db_icebp)
{
	/*
	 * QEMU's TCG (the SVM cells) takes ICEBP as a stop for its own
	 * debugger and pauses the whole PC; on VMX, ICEBP's #DB exits before
	 * the instruction and minivmx must step over it.
	 */
	if (host_is_amd())
		SKIP(return, "SVM host: QEMU stops the PC on ICEBP");
	LOAD(db_icebp);
	gate(&self->vm, 1, OFF(db_icebp, db_icebp_handler), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(db_icebp, db_icebp_after), rd32(&self->vm, EIP_GPA));
	EXPECT_EQ(0, rd32(&self->vm, DR6_GPA) & (DR6_BS | DR6_B0_3));
}

/*
 * A #DB storm: TF stays set across the handler's IRET, so every
 * instruction of the loop traps.  The signal still ends the RUN, and both
 * the loop and the handler made progress.
 */
GUEST_CODE(db_storm,
	".code32\n"
	"pushf\n"
	"orl $0x100, (%esp)\n"
	"popf\n"
	"1: incl (0x3010)\n"
	"jmp 1b\n"
	"db_storm_handler:\n"
	"incl (0x3000)\n"
	"iret\n");
extern const unsigned char db_storm_handler[];

TEST_F(exc, db_storm_ends_by_signal)
{
	LOAD(db_storm);
	gate(&self->vm, 1, OFF(db_storm, db_storm_handler), SEL_K_CODE,
	     GATE_INTR);
	EXPECT_SIGNAL_ENDS_RUN();
	EXPECT_LT(2, rd32(&self->vm, COUNT_GPA));
	EXPECT_LT(2, rd32(&self->vm, LOOPS_GPA));
}

/*
 * CVE-2015-8104: a data breakpoint on the IDT's own #DB gate makes every
 * #DB delivery raise #DB again, with no instruction in between.  Where the
 * guest may arm DR7 (SVM), only the #DB intercept lets the host back in;
 * where MOV DR7 is dropped (minivmx VMX), this is one ordinary #DB and a
 * spin.  Either way the signal ends the RUN.
 */
GUEST_CODE(db_idt_bp,
	".code32\n"
	"mov $0x9008, %eax\n"		/* IDT_GPA + 8: the #DB gate */
	"mov %eax, %dr0\n"
	"mov $0xf0202, %eax\n"		/* G0, GE, R/W 4 bytes */
	"mov %eax, %dr7\n"
	"pushf\n"			/* TF: the first #DB */
	"orl $0x100, (%esp)\n"
	"popf\n"
	"nop\n"
	"1: incl (0x3010)\n"
	"jmp 1b\n"
	"db_idt_bp_handler:\n"
	"incl (0x3000)\n"
	"iret\n");
extern const unsigned char db_idt_bp_handler[];

/*
 * Each #DB delivery reads the gate and so arms the next #DB before the
 * handler's first instruction: deliveries nest, each pushing a frame,
 * until the stack leaves guest RAM.  That delivery exits on an address
 * with no memory behind it, which minivmx refuses as INTERNAL_ERROR /
 * DELIVERY_EV (KVM ends it with an INTERNAL_ERROR as well).  A timer
 * turns a storm that never ends into a failure, not a hang.
 */
TEST_F(exc, db_breakpoint_on_idt_ends_cleanly)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval it = { .it_value = { .tv_sec = 5 } }, off = { 0 };
	struct mvx_run *run = self->vcpu.run;
	int r;

	/* QEMU 7.2 aborts (iothread lock assertion) on this watchpoint hit. */
	if (host_is_amd())
		SKIP(return, "SVM host: QEMU aborts on a watchpoint in event delivery");
	LOAD(db_idt_bp);
	gate(&self->vm, 1, OFF(db_idt_bp, db_idt_bp_handler), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	r = vcpu_run(&self->vcpu);
	setitimer(ITIMER_REAL, &off, NULL);
	ASSERT_EQ(0, r) TH_LOG("RUN: %s", strerror(errno));
	ASSERT_EQ(MVX_EXIT_INTERNAL_ERROR, run->exit_reason)
		TH_LOG("%s", describe_exit(&self->vcpu));
	if (!mvx_is_kvm())
		EXPECT_EQ(MVX_INTERNAL_ERROR_DELIVERY_EV,
			  run->internal.suberror);
}

/* ------------------------------------------------------------ SPEC_CTRL */

static bool host_has_spec_ctrl(void)
{
	unsigned int a, b, c, d;

	if (__get_cpuid_count(7, 0, &a, &b, &c, &d) && (d & (1u << 26)))
		return true;
	return __get_cpuid(0x80000008, &a, &b, &c, &d) && (b & (1u << 14));
}

/*
 * WRMSR IBRS, RDMSR it back; a #GP handler counts faults and steps over
 * the 2-byte instruction.
 */
GUEST_CODE(spec_ctrl,
	".code32\n"
	"mov $0x48, %ecx\n"
	"mov $1, %eax\n"
	"xor %edx, %edx\n"
	"wrmsr\n"
	"xor %eax, %eax\n"
	"mov $0x5a5a, %eax\n"
	"rdmsr\n"
	"mov %eax, (0x3018)\n"
	"hlt\n"
	"spec_ctrl_gp:\n"
	"add $4, %esp\n"
	"addl $2, (%esp)\n"
	"incl (0x3000)\n"
	"iret\n");
extern const unsigned char spec_ctrl_gp[];

static int set_cpuid_spec_ctrl(struct tvcpu *vcpu)
{
	size_t sz = sizeof(struct mvx_cpuid2) +
		    256 * sizeof(struct mvx_cpuid_entry2);
	struct mvx_cpuid2 *c = calloc(1, sz);
	int fd = mvx_open(), ret = -1;
	unsigned int i;

	c->nent = 256;
	if (fd >= 0 && !ioctl(fd, MVX_GET_SUPPORTED_CPUID, c)) {
		for (i = 0; i < c->nent; i++)
			if (c->entries[i].function == 7 && !c->entries[i].index)
				c->entries[i].edx |= 1u << 26;
		ret = ioctl(vcpu->fd, MVX_SET_CPUID2, c);
	}
	if (fd >= 0)
		close(fd);
	free(c);
	return ret;
}

static int spec_ctrl_msr(struct tvcpu *vcpu, bool write, uint64_t *val)
{
	struct {
		struct mvx_msrs hdr;
		struct mvx_msr_entry e;
	} m = { .hdr.nmsrs = 1, .e.index = MSR_SPEC_CTRL, .e.data = *val };
	int r = ioctl(vcpu->fd, write ? MVX_SET_MSRS : MVX_GET_MSRS, &m);

	*val = m.e.data;
	return r;
}

/* Without SPEC_CTRL in the guest's CPUID, the MSR does not exist. */
TEST_F(exc, spec_ctrl_needs_cpuid)
{
	LOAD(spec_ctrl);
	gate(&self->vm, 13, OFF(spec_ctrl, spec_ctrl_gp), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
}

/*
 * With it (and the host CPU having it), the guest writes IBRS and reads it
 * back, and so does userspace; on a host without SPEC_CTRL the guest's
 * CPUID cannot conjure it up.  That the host's own SPEC_CTRL is back after
 * each exit can only be seen on silicon that has the MSR (none of the
 * emulated PCs): module/spec.c switches it.
 */
TEST_F(exc, spec_ctrl_with_cpuid)
{
	uint64_t v = 0;

	LOAD(spec_ctrl);
	gate(&self->vm, 13, OFF(spec_ctrl, spec_ctrl_gp), SEL_K_CODE,
	     GATE_INTR);
	ASSERT_EQ(0, set_cpuid_spec_ctrl(&self->vcpu));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	if (!host_has_spec_ctrl()) {
		/*
		 * KVM probes the MSR with a real WRMSR instead of the host's
		 * CPUID, and QEMU's TCG accepts SPEC_CTRL writes though its
		 * CPUID has no such MSR: only minivmx's answer is pinned.
		 */
		if (!mvx_is_kvm())
			EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
		TH_LOG("host CPU without SPEC_CTRL: minivmx gives the guest #GP");
		return;
	}
	EXPECT_EQ(0, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(SPEC_CTRL_IBRS, rd32(&self->vm, MSR_LO_GPA));
	EXPECT_EQ(1, spec_ctrl_msr(&self->vcpu, false, &v));
	EXPECT_EQ(SPEC_CTRL_IBRS, v);
	v = 0;
	EXPECT_EQ(1, spec_ctrl_msr(&self->vcpu, true, &v));
	EXPECT_EQ(1, spec_ctrl_msr(&self->vcpu, false, &v));
	EXPECT_EQ(0, v);
}

TEST_HARNESS_MAIN
