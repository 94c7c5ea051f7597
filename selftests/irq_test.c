// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 14: interrupts through the KVM ABI without an in-kernel irqchip.
 * KVM_INTERRUPT, request_interrupt_window and the run page's
 * ready_for_interrupt_injection / if_flag, the STI and MOV SS shadows,
 * injection at HLT and in real, protected and long mode, re-injection of
 * events whose delivery faults on a fresh IDT, stack or handler page,
 * NMI and NMI blocking, VCPU_EVENTS, MP_STATE, SET_SIGNAL_MASK, the
 * capabilities, and a timer loop of 10,000 interrupts.
 *
 * Every expectation here was checked against the distro KVM with
 * MVX_DEVICE=/dev/kvm (kvm_amd nested in QEMU's TCG, kvm_intel in Bochs).
 * Where KVM does something the issue text does not say, KVM wins and the
 * comment at the test says so.
 *
 * The guests' handlers acknowledge with an OUT to PORT_HANDLER, so the
 * test sees each handler run as an exit; every vector the test does not
 * expect leads to a handler that does OUT to PORT_BAD.
 */
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define IDT_GPA		0x9000		/* up to 0x9fff (long mode) */
#define VECTOR		0x41		/* the one the tests inject */

#define PORT_HANDLER	0x10		/* a handler ran */
#define PORT_IDLE	0x11		/* main loop, IF=1 */
#define PORT_CLI	0x12		/* main loop, IF=0 / after an event */
#define PORT_AFTER	0x13
#define PORT_INSIDE	0x15		/* still inside the NMI handler */
#define PORT_BAD	0xee		/* a vector nobody expected */

#define COUNT_GPA	(DATA_GPA + 0x00)	/* handler runs */
#define RET_GPA		(DATA_GPA + 0x04)	/* return address it saw */
#define ERR_GPA		(DATA_GPA + 0x08)	/* error code it saw */
#define FLAG_GPA	(DATA_GPA + 0x20)	/* test -> guest */
#define RUNNING_GPA	(DATA_GPA + 0x24)	/* guest -> test */

#define MMIO_DATA	0x5a5aa5a5

#define OFF(name, label) ((uint64_t)(CODE_GPA + (label - name##_start)))

FIXTURE(irq) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(irq)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(irq)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

static int inject(struct tvcpu *vcpu, unsigned int vector)
{
	struct mvx_interrupt irq = { .irq = vector };

	return ioctl(vcpu->fd, MVX_INTERRUPT, &irq);
}

static int get_events(struct tvcpu *vcpu, struct mvx_vcpu_events *ev)
{
	memset(ev, 0, sizeof(*ev));
	return ioctl(vcpu->fd, MVX_GET_VCPU_EVENTS, ev);
}

static int set_events(struct tvcpu *vcpu, struct mvx_vcpu_events *ev)
{
	return ioctl(vcpu->fd, MVX_SET_VCPU_EVENTS, ev);
}

static uint64_t get_rip(struct tvcpu *vcpu)
{
	struct mvx_regs r;

	return vcpu_get_regs(vcpu, &r) ? ~0ULL : r.rip;
}

static int set_rip_rflags(struct tvcpu *vcpu, uint64_t rip, uint64_t rflags)
{
	struct mvx_regs r;

	if (vcpu_get_regs(vcpu, &r))
		return -1;
	r.rip = rip;
	r.rflags = rflags;
	return vcpu_set_regs(vcpu, &r);
}

/*
 * Loads a guest, puts the vCPU in @mode at its start with the IDT at
 * IDT_GPA (the IVT at 0 in real mode), every vector leading to @bad and
 * VECTOR to @handler.
 */
static int guest_setup(struct tvm *vm, struct tvcpu *vcpu,
		       enum guest_mode mode, const unsigned char *start,
		       const unsigned char *end, uint64_t handler, uint64_t bad)
{
	uint64_t table = mode == MODE_REAL ? 0 : IDT_GPA;
	unsigned int v;

	guest_load(vm, CODE_GPA, start, end);
	for (v = 0; v < 256; v++)
		idt_put_gate(vm, mode, table, v, v == VECTOR ? handler : bad);
	if (vcpu_set_mode(vcpu, mode, CODE_GPA))
		return -1;
	return vcpu_set_idt(vcpu, mode, table);
}

#define SETUP(mode, name) \
	ASSERT_EQ(0, guest_setup(&self->vm, &self->vcpu, mode,		\
				 name##_start, name##_end,		\
				 OFF(name, name##_handler),		\
				 OFF(name, name##_bad)))			\
		TH_LOG("setup: %s", strerror(errno))

/* The next exit is the guest's OUT to @port. */
#define ASSERT_OUT(port) ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, port, 1)

#define EXPECT_READY(ready, iflag) do {					\
	EXPECT_EQ(ready, self->vcpu.run->ready_for_interrupt_injection)	\
		TH_LOG("ready_for_interrupt_injection at %s",		\
		       describe_exit(&self->vcpu));			\
	EXPECT_EQ(iflag, self->vcpu.run->if_flag)			\
		TH_LOG("if_flag at %s", describe_exit(&self->vcpu));	\
} while (0)

/* ------------------------------------------- injection in three modes */

/*
 * The same guest in each mode: STI, then an idle loop of OUT and HLT.
 * The handler saves its return address, counts itself and acknowledges.
 */
GUEST_CODE(inj16,
	".code16\n"
	"sti\n"
	"nop\n"
	"inj16_loop: out %al, $0x11\n"
	"inj16_after_out: hlt\n"
	"inj16_after_hlt: jmp inj16_loop\n"
	"inj16_handler:\n"
	"push %bp\n"
	"mov %sp, %bp\n"
	"push %ax\n"
	"mov 2(%bp), %ax\n"
	"mov %ax, (0x3004)\n"
	"incw (0x3000)\n"
	"out %al, $0x10\n"
	"pop %ax\n"
	"pop %bp\n"
	"iret\n"
	"inj16_bad: out %al, $0xee\n"
	"hlt\n");

GUEST_CODE(inj32,
	".code32\n"
	"sti\n"
	"nop\n"
	"inj32_loop: out %al, $0x11\n"
	"inj32_after_out: hlt\n"
	"inj32_after_hlt: jmp inj32_loop\n"
	"inj32_handler:\n"
	"push %eax\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"pop %eax\n"
	"iret\n"
	"inj32_bad: out %al, $0xee\n"
	"hlt\n");

GUEST_CODE(inj64,
	".code64\n"
	"sti\n"
	"nop\n"
	"inj64_loop: out %al, $0x11\n"
	"inj64_after_out: hlt\n"
	"inj64_after_hlt: jmp inj64_loop\n"
	"inj64_handler:\n"
	"push %rax\n"
	"mov 8(%rsp), %rax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"pop %rax\n"
	"iretq\n"
	"inj64_bad: out %al, $0xee\n"
	"hlt\n");

extern const unsigned char inj16_loop[], inj16_after_out[], inj16_after_hlt[],
	inj16_handler[], inj16_bad[];
extern const unsigned char inj32_loop[], inj32_after_out[], inj32_after_hlt[],
	inj32_handler[], inj32_bad[];
extern const unsigned char inj64_loop[], inj64_after_out[], inj64_after_hlt[],
	inj64_handler[], inj64_bad[];

/*
 * RIP is not checked at OUT (or MMIO) exits: KVM completes those
 * instructions on the next RUN (api.rst: state is consistent only after
 * re-entering), and shows RIP still at the OUT meanwhile.
 *
 * Injected after the idle OUT, the handler returns to the HLT after it;
 * injected after the HLT exit, it returns past the HLT, and the guest goes
 * on from there.  Real mode saves a 16-bit IP.
 */
#define INJECT_TEST(name, mode, mask)					\
TEST_F(irq, inject_##name)						\
{									\
	SETUP(mode, name);						\
	ASSERT_OUT(PORT_IDLE);						\
	EXPECT_READY(1, 1);						\
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR))			\
		TH_LOG("INTERRUPT: %s", strerror(errno));		\
	ASSERT_OUT(PORT_HANDLER);					\
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA) & (mask));		\
	EXPECT_EQ(OFF(name, name##_after_out),				\
		  rd32(&self->vm, RET_GPA) & (mask));			\
	/* No exit in the handler after its OUT is ready: IF is 0. */	\
	EXPECT_READY(0, 0);						\
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);			\
	EXPECT_EQ(OFF(name, name##_after_hlt), get_rip(&self->vcpu));	\
	EXPECT_READY(1, 1);						\
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA) & (mask));		\
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));			\
	ASSERT_OUT(PORT_HANDLER);					\
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA) & (mask));		\
	EXPECT_EQ(OFF(name, name##_after_hlt),				\
		  rd32(&self->vm, RET_GPA) & (mask));			\
	ASSERT_OUT(PORT_IDLE);						\
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);			\
	EXPECT_EQ(OFF(name, name##_after_hlt), get_rip(&self->vcpu));	\
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA) & (mask));		\
}

INJECT_TEST(inj16, MODE_REAL, 0xffff)
INJECT_TEST(inj32, MODE_PROT32, 0xffffffff)
INJECT_TEST(inj64, MODE_LONG, 0xffffffff)

TEST_F(irq, interrupt_vector_range)
{
	EXPECT_EQ(-1, inject(&self->vcpu, 256));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, inject(&self->vcpu, 0xffffffff));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_INTERRUPT, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(0, inject(&self->vcpu, 255)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, inject(&self->vcpu, 0)) TH_LOG("%s", strerror(errno));
}

/*
 * KVM without an irqchip queues KVM_INTERRUPT as the event to inject at
 * the next entry: a second one before RUN replaces the first (no EEXIST;
 * that is the split-irqchip path), and only the last is delivered.
 */
TEST_F(irq, interrupt_last_wins)
{
	SETUP(MODE_PROT32, inj32);
	ASSERT_OUT(PORT_IDLE);
	ASSERT_EQ(0, inject(&self->vcpu, 0x20));
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	ASSERT_OUT(PORT_HANDLER);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/* ------------------------------------------ windows, STI and MOV SS */

/*
 * IF=0 loop until the test sets FLAG; then STI and an MMIO read in its
 * shadow.  An MMIO read exits before the instruction completes, so the
 * shadow is still there at that exit (after an OUT or HLT exit the
 * instruction has completed and KVM has dropped the shadow).
 */
GUEST_CODE(win,
	".code32\n"
	"cli\n"
	"win_loop: out %al, $0x12\n"
	"cmpl $0, (0x3020)\n"
	"je win_loop\n"
	"sti\n"
	"win_shadow: movl (0xc0000000), %eax\n"
	"win_after_mmio: nop\n"
	"win_idle: out %al, $0x13\n"
	"jmp win_idle\n"
	"win_handler:\n"
	"push %eax\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"pop %eax\n"
	"iret\n"
	"win_bad: out %al, $0xee\n"
	"hlt\n");
extern const unsigned char win_shadow[], win_after_mmio[],
	win_handler[], win_bad[];

static int mmio_read_exit(struct tvcpu *vcpu)
{
	struct mvx_run *run = vcpu->run;

	if (run->exit_reason != MVX_EXIT_MMIO || run->mmio.is_write ||
	    run->mmio.phys_addr != MMIO_GPA || run->mmio.len != 4)
		return 0;
	memcpy(run->mmio.data, &(uint32_t){ MMIO_DATA }, 4);
	return 1;
}

/*
 * QEMU's TCG before 9.1 ignores the VMCB interrupt shadow at VMRUN: when a
 * host interrupt exits the guest right after its STI, the next entry opens
 * the window inside the shadow, under KVM as under minivmx.  Real CPUs and
 * Bochs keep the shadow.  Seen as the window opening at the instruction
 * after STI; such a run is started over (at most twice), so a hypervisor
 * that always opens the window there still fails.
 */
static bool qemu_shadow_quirk(struct tvcpu *vcpu)
{
	return vcpu->run->exit_reason == MVX_EXIT_IRQ_WINDOW_OPEN &&
	       get_rip(vcpu) == OFF(win, win_shadow);
}

TEST_F(irq, window_cli_sti)
{
	struct mvx_vcpu_events ev;
	struct mvx_regs regs;
	int i, attempt;

	for (attempt = 0; attempt < 3; attempt++) {
		if (attempt) {
			TH_LOG("window opened inside STI's shadow (QEMU TCG quirk?): again");
			vcpu_close(&self->vcpu);
			vm_destroy(&self->vm);
			ASSERT_SETUP(&self->vm, &self->vcpu);
		}
		SETUP(MODE_PROT32, win);
		self->vcpu.run->request_interrupt_window = 1;
		/* IF=0: the window never opens. */
		for (i = 0; i < 5; i++) {
			ASSERT_OUT(PORT_CLI);
			EXPECT_READY(0, 0);
		}
		wr32(&self->vm, FLAG_GPA, 1);
		ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_RUN, 0));
		if (!qemu_shadow_quirk(&self->vcpu))
			break;
	}
	/* STI's shadow: IF=1 but not ready, and the shadow says STI. */
	EXPECT_EQ(MVX_EXIT_MMIO, self->vcpu.run->exit_reason)
		TH_LOG("%s", describe_exit(&self->vcpu));
	ASSERT_TRUE(mmio_read_exit(&self->vcpu)) TH_LOG("%s", describe_exit(&self->vcpu));
	EXPECT_READY(0, 1);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	/* SVM has one shadow bit; KVM reports it as both. */
	EXPECT_TRUE(ev.interrupt.shadow & MVX_X86_SHADOW_INT_STI)
		TH_LOG("shadow %#x", ev.interrupt.shadow);
	/* The read completes, the shadow ends, the window opens. */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_IRQ_WINDOW_OPEN);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &regs));
	EXPECT_EQ(OFF(win, win_after_mmio), regs.rip);
	EXPECT_EQ(MMIO_DATA, (uint32_t)regs.rax);
	EXPECT_READY(1, 1);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt.shadow);
	/* Still requested, still open: again at once, the guest did not move. */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(OFF(win, win_after_mmio), get_rip(&self->vcpu));
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	self->vcpu.run->request_interrupt_window = 0;
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(OFF(win, win_after_mmio), rd32(&self->vm, RET_GPA));
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	ASSERT_OUT(PORT_AFTER);
	EXPECT_READY(1, 1);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/*
 * Not tested: MVX_INTERRUPT while the run page says not ready.  KVM then
 * injects at the next entry whatever IF and the shadows say: on SVM the
 * guest takes it (EVENTINJ ignores IF), on VMX the entry fails (exit
 * FAIL_ENTRY, reason 0x80000021: an external interrupt needs IF=1).
 * Waiting for ready_for_interrupt_injection is the VMM's job.
 */

/* IF=1 and a MOV SS: an MMIO read in its shadow exits inside the shadow. */
GUEST_CODE(movss,
	".code32\n"
	"sti\n"
	"nop\n"
	"out %al, $0x11\n"
	"mov %ss, %ax\n"
	"mov %ax, %ss\n"
	"movss_shadow: movl (0xc0000000), %ebx\n"
	"movss_after: out %al, $0x13\n"
	"hlt\n");
extern const unsigned char movss_shadow[], movss_after[];

TEST_F(irq, window_mov_ss)
{
	struct mvx_vcpu_events ev;

	guest_load(&self->vm, CODE_GPA, movss_start, movss_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA));
	ASSERT_OUT(PORT_IDLE);
	EXPECT_READY(1, 1);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_MMIO);
	ASSERT_TRUE(mmio_read_exit(&self->vcpu)) TH_LOG("%s", describe_exit(&self->vcpu));
	EXPECT_READY(0, 1);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_TRUE(ev.interrupt.shadow & MVX_X86_SHADOW_INT_MOV_SS)
		TH_LOG("shadow %#x", ev.interrupt.shadow);
	/* Requested inside the shadow: opens right after the read. */
	self->vcpu.run->request_interrupt_window = 1;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(OFF(movss, movss_after), get_rip(&self->vcpu));
	EXPECT_READY(1, 1);
	self->vcpu.run->request_interrupt_window = 0;
	ASSERT_OUT(PORT_AFTER);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
}

/*
 * "sti; hlt", the idle idiom: HLT sits in STI's shadow, yet at the HLT
 * exit the instruction is done and the guest can take an interrupt; it
 * runs the handler and then goes on after the HLT.
 */
GUEST_CODE(stihlt,
	".code32\n"
	"sti\n"
	"hlt\n"
	"stihlt_after: out %al, $0x13\n"
	"cli\n"
	"hlt\n"
	"stihlt_handler:\n"
	"push %eax\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"pop %eax\n"
	"iret\n"
	"stihlt_bad: out %al, $0xee\n"
	"hlt\n");
extern const unsigned char stihlt_after[], stihlt_handler[], stihlt_bad[];

TEST_F(irq, sti_hlt)
{
	SETUP(MODE_PROT32, stihlt);
	self->vcpu.run->request_interrupt_window = 1;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(OFF(stihlt, stihlt_after), get_rip(&self->vcpu));
	EXPECT_READY(1, 1);
	self->vcpu.run->request_interrupt_window = 0;
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(OFF(stihlt, stihlt_after), rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_AFTER);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_READY(0, 0);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/* ------------------------------------------------------ re-injection */

/*
 * The IDT, the stack and the handlers on pages of a second slot the guest
 * has never touched: the first delivery through them takes an EPT/NPT
 * fault in the middle of the delivery (both KVM and minivmx fill their
 * second-level tables lazily), which the hypervisor handles and then must
 * re-inject the event: the handler runs exactly once.
 */
#define FRESH_GPA	0x200000UL	/* slot 1 */
#define FRESH_SIZE	0x10000UL
#define FRESH_IDT	(FRESH_GPA + 0x0000)
#define FRESH_CODE	(FRESH_GPA + 0x2000)
#define FRESH_STACK_TOP	(FRESH_GPA + 0x5000)	/* page 0x204000 */

enum { FRESH_IDT_PAGE = 1, FRESH_STACK_PAGE = 2, FRESH_CODE_PAGE = 4 };

GUEST_CODE(reinj,
	".code32\n"
	"sti\n"
	"nop\n"
	"reinj_loop: out %al, $0x11\n"
	"reinj_after_out: jmp reinj_loop\n"
	"reinj_int: int $0x41\n"
	"reinj_after_int: out %al, $0x12\n"
	"hlt\n"
	"reinj_gp: mov $0x1238, %ax\n"
	"reinj_gp_insn: mov %ax, %ds\n"
	"hlt\n"
	/* Position independent from here on: may be copied. */
	"reinj_handler:\n"
	"push %eax\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"pop %eax\n"
	"iret\n"
	"reinj_gp_handler:\n"
	"pop %eax\n"
	"mov %eax, (0x3008)\n"
	"mov (%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"hlt\n"
	"reinj_bad: out %al, $0xee\n"
	"hlt\n");
extern const unsigned char reinj_loop[], reinj_after_out[], reinj_int[],
	reinj_after_int[], reinj_gp[], reinj_gp_insn[], reinj_handler[],
	reinj_gp_handler[], reinj_bad[];

/* Where @label ends up: in slot 0 with the rest, or copied to FRESH_CODE. */
static uint64_t reinj_addr(const unsigned char *label, int fresh)
{
	if (fresh & FRESH_CODE_PAGE)
		return FRESH_CODE + (label - reinj_handler);
	return OFF(reinj, label);
}

static int fresh_setup(struct tvm *vm, struct tvcpu *vcpu, int fresh,
		       uint64_t rip, void **mem)
{
	uint64_t idt = fresh & FRESH_IDT_PAGE ? FRESH_IDT : IDT_GPA;
	unsigned int v;
	struct mvx_regs r;
	uint8_t *m;

	m = mmap(NULL, FRESH_SIZE, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (m == MAP_FAILED)
		return -1;
	*mem = m;
	/* One host page per guest page, so that each faults on its own. */
	madvise(m, FRESH_SIZE, MADV_NOHUGEPAGE);
	if (vm_add_slot(vm, 1, 0, FRESH_GPA, FRESH_SIZE, m))
		return -1;
	guest_load(vm, CODE_GPA, reinj_start, reinj_end);
	memcpy(m + (FRESH_CODE - FRESH_GPA), reinj_handler,
	       reinj_end - reinj_handler);
	for (v = 0; v < 256; v++) {
		uint64_t h = reinj_addr(reinj_bad, fresh);

		if (v == VECTOR || v == 2)
			h = reinj_addr(reinj_handler, fresh);
		else if (v == 13)
			h = reinj_addr(reinj_gp_handler, fresh);
		if (fresh & FRESH_IDT_PAGE)
			*(uint64_t *)(m + 8 * v) = (h & 0xffff) |
				(uint64_t)SEL_CODE32 << 16 | 0x8eULL << 40 |
				(h >> 16) << 48;
		else
			idt_put_gate(vm, MODE_PROT32, idt, v, h);
	}
	if (vcpu_set_mode(vcpu, MODE_PROT32, rip) ||
	    vcpu_set_idt(vcpu, MODE_PROT32, idt) || vcpu_get_regs(vcpu, &r))
		return -1;
	if (fresh & FRESH_STACK_PAGE)
		r.rsp = FRESH_STACK_TOP;
	return vcpu_set_regs(vcpu, &r);
}

#define FRESH_SETUP(fresh, rip) do {					\
	void *__m;							\
									\
	ASSERT_EQ(0, fresh_setup(&self->vm, &self->vcpu, fresh, rip, &__m)) \
		TH_LOG("setup: %s", strerror(errno));			\
} while (0)

/* An external interrupt through a fresh IDT, stack and handler page. */
static void reinject_external(struct __test_metadata *_metadata,
			      FIXTURE_DATA(irq) *self, int fresh)
{
	FRESH_SETUP(fresh, CODE_GPA);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_READY(1, 1);
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(reinj, reinj_after_out), rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_IDLE);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	/* A second one, now that everything is mapped. */
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	ASSERT_OUT(PORT_HANDLER);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
}

TEST_F(irq, reinject_irq_fresh_idt)
{
	reinject_external(_metadata, self, FRESH_IDT_PAGE);
}

TEST_F(irq, reinject_irq_fresh_stack)
{
	reinject_external(_metadata, self, FRESH_STACK_PAGE);
}

TEST_F(irq, reinject_irq_fresh_all)
{
	reinject_external(_metadata, self,
			  FRESH_IDT_PAGE | FRESH_STACK_PAGE | FRESH_CODE_PAGE);
}

/* An NMI through fresh pages: once, and NMIs are unblocked after it. */
TEST_F(irq, reinject_nmi)
{
	struct mvx_vcpu_events ev;

	FRESH_SETUP(FRESH_IDT_PAGE | FRESH_STACK_PAGE | FRESH_CODE_PAGE,
		    CODE_GPA);
	ASSERT_OUT(PORT_IDLE);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(reinj, reinj_after_out), rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_IDLE);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.masked);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
}

/* INT n: re-injected with its instruction length, so it returns past INT. */
TEST_F(irq, reinject_soft_int)
{
	FRESH_SETUP(FRESH_IDT_PAGE | FRESH_STACK_PAGE | FRESH_CODE_PAGE,
		    OFF(reinj, reinj_int));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(reinj, reinj_after_int), rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_CLI);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/* #GP(selector) from a bad MOV DS: re-injected with its error code. */
TEST_F(irq, reinject_gp_error_code)
{
	FRESH_SETUP(FRESH_IDT_PAGE | FRESH_STACK_PAGE | FRESH_CODE_PAGE,
		    OFF(reinj, reinj_gp));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(0x1238, rd32(&self->vm, ERR_GPA));
	EXPECT_EQ(OFF(reinj, reinj_gp_insn), rd32(&self->vm, RET_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/* ------------------------------------------------- run page fields */

/*
 * Without an in-kernel APIC the run page's cr8 is the guest's TPR both
 * ways: KVM loads CR8 from it at every RUN (EINVAL beyond 15) and stores
 * CR8 into it at every exit; apic_base is the APIC base MSR
 * (SREGS.apic_base; vCPU 0 is the BSP, the APIC enabled at 0xfee00000).
 * flags stays 0 (no SMM, no bus-lock exits, not in guest mode).
 * (A guest that lowers CR8 would get KVM_EXIT_SET_TPR on KVM; not done.)
 */
GUEST_CODE(tpr,
	".code64\n"
	"mov %cr8, %rax\n"
	"out %al, $0x11\n"
	"mov $9, %eax\n"
	"mov %rax, %cr8\n"
	"out %al, $0x12\n"
	"mov %cr8, %rax\n"
	"out %al, $0x13\n"
	"hlt\n");

TEST_F(irq, run_page_cr8_apic_base)
{
	struct mvx_run *run = self->vcpu.run;
	struct mvx_sregs sr;
	struct mvx_regs r;

	guest_load(&self->vm, CODE_GPA, tpr_start, tpr_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	run->cr8 = 5;
	ASSERT_OUT(PORT_IDLE);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(5, r.rax);
	EXPECT_EQ(5, run->cr8);
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sr));
	EXPECT_EQ(5, sr.cr8);
	EXPECT_EQ(sr.apic_base, run->apic_base);
	EXPECT_EQ(0xfee00900, run->apic_base);
	EXPECT_EQ(0, run->flags);
	ASSERT_OUT(PORT_CLI);
	EXPECT_EQ(9, run->cr8);
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sr));
	EXPECT_EQ(9, sr.cr8);
	/* The VMM's value goes in at the next RUN. */
	run->cr8 = 2;
	ASSERT_OUT(PORT_AFTER);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(2, r.rax);
	EXPECT_EQ(2, run->cr8);
	run->cr8 = 16;
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINVAL, errno);
	run->cr8 = 2;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0xfee00900, run->apic_base);
}

/* --------------------------------------------------------------- NMI */

GUEST_CODE(nmi,
	".code32\n"
	"sti\n"
	"nop\n"
	"nmi_loop: out %al, $0x11\n"
	"nmi_after_out: jmp nmi_loop\n"
	"nmi_handler:\n"
	"push %eax\n"
	"mov 4(%esp), %eax\n"
	"mov %eax, (0x3004)\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"out %al, $0x15\n"
	"pop %eax\n"
	"iret\n"
	"nmi_bad: out %al, $0xee\n"
	"hlt\n");
extern const unsigned char nmi_loop[], nmi_after_out[], nmi_handler[],
	nmi_bad[];

static int nmi_setup(struct tvm *vm, struct tvcpu *vcpu)
{
	unsigned int v;

	guest_load(vm, CODE_GPA, nmi_start, nmi_end);
	for (v = 0; v < 256; v++)
		idt_put_gate(vm, MODE_PROT32, IDT_GPA, v,
			     v == 2 ? OFF(nmi, nmi_handler) : OFF(nmi, nmi_bad));
	if (vcpu_set_mode(vcpu, MODE_PROT32, CODE_GPA))
		return -1;
	return vcpu_set_idt(vcpu, MODE_PROT32, IDT_GPA);
}

/*
 * A second NMI while the handler runs waits for its IRET (NMI blocking,
 * then the NMI window), and is delivered exactly once.
 */
TEST_F(irq, nmi_blocking_and_window)
{
	struct mvx_vcpu_events ev;

	ASSERT_EQ(0, nmi_setup(&self->vm, &self->vcpu));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.masked) TH_LOG("NMIs masked before the first run");
	ASSERT_OUT(PORT_IDLE);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.masked) TH_LOG("NMIs masked after the first exit");
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0))
		TH_LOG("NMI: %s", strerror(errno));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(nmi, nmi_after_out), rd32(&self->vm, RET_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.masked);
	EXPECT_EQ(0, ev.nmi.pending);
	/* The second one, inside the handler. */
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.pending);
	ASSERT_OUT(PORT_INSIDE);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	/* IRET unblocks NMIs: the second runs before the loop's next OUT. */
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(OFF(nmi, nmi_after_out), rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_INSIDE);
	ASSERT_OUT(PORT_IDLE);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.masked);
	EXPECT_EQ(0, ev.nmi.pending);
}

/* NMIs ignore IF: one reaches a guest in its CLI loop. */
TEST_F(irq, nmi_ignores_if)
{
	unsigned int v;

	guest_load(&self->vm, CODE_GPA, win_start, win_end);
	for (v = 0; v < 256; v++)
		idt_put_gate(&self->vm, MODE_PROT32, IDT_GPA, v,
			     v == 2 ? OFF(win, win_handler) : OFF(win, win_bad));
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA));
	ASSERT_EQ(0, vcpu_set_idt(&self->vcpu, MODE_PROT32, IDT_GPA));
	ASSERT_OUT(PORT_CLI);
	EXPECT_READY(0, 0);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	ASSERT_OUT(PORT_CLI);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/* ------------------------------------------------------- VCPU_EVENTS */

TEST_F(irq, events_after_reset)
{
	struct mvx_vcpu_events ev, zero;

	ASSERT_EQ(0, get_events(&self->vcpu, &ev))
		TH_LOG("GET_VCPU_EVENTS: %s", strerror(errno));
	/* KVM reports these fields valid on GET. */
	EXPECT_EQ(MVX_VCPUEVENT_VALID_NMI_PENDING | MVX_VCPUEVENT_VALID_SHADOW,
		  ev.flags & (MVX_VCPUEVENT_VALID_NMI_PENDING |
			      MVX_VCPUEVENT_VALID_SHADOW));
	memset(&zero, 0, sizeof(zero));
	ev.flags = 0;
	EXPECT_EQ(0, memcmp(&zero, &ev, sizeof(ev)));
	/* What a VMM does to save and restore: GET, SET it back as it is. */
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
}

TEST_F(irq, events_bad_input)
{
	struct mvx_vcpu_events ev;

	memset(&ev, 0, sizeof(ev));
	ev.flags = 0x80000000;
	EXPECT_EQ(-1, set_events(&self->vcpu, &ev));
	EXPECT_EQ(EINVAL, errno);
	memset(&ev, 0, sizeof(ev));
	ev.exception.injected = 1;
	ev.exception.nr = 32;
	EXPECT_EQ(-1, set_events(&self->vcpu, &ev));
	EXPECT_EQ(EINVAL, errno);
	ev.exception.nr = 2;		/* NMI is not an exception */
	EXPECT_EQ(-1, set_events(&self->vcpu, &ev));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_SET_VCPU_EVENTS, NULL));
	EXPECT_EQ(EFAULT, errno);
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_GET_VCPU_EVENTS, NULL));
	EXPECT_EQ(EFAULT, errno);
}

/* An injected interrupt set through SET comes back on GET and is delivered. */
TEST_F(irq, events_injected_interrupt)
{
	struct mvx_vcpu_events ev;

	SETUP(MODE_PROT32, inj32);
	/* IF=1: VMX refuses to enter with an external interrupt and IF=0. */
	ASSERT_EQ(0, set_rip_rflags(&self->vcpu, CODE_GPA, 0x202));
	memset(&ev, 0, sizeof(ev));
	ev.interrupt.injected = 1;
	ev.interrupt.nr = VECTOR;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.interrupt.injected);
	EXPECT_EQ(VECTOR, ev.interrupt.nr);
	EXPECT_EQ(0, ev.interrupt.soft);
	/* Already injected: delivered at entry, before the first instruction. */
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(CODE_GPA, rd32(&self->vm, RET_GPA));
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt.injected);
}

/* An injected #GP with an error code reaches the handler with it. */
TEST_F(irq, events_injected_exception)
{
	struct mvx_vcpu_events ev;
	unsigned int v;

	guest_load(&self->vm, CODE_GPA, reinj_start, reinj_end);
	for (v = 0; v < 256; v++)
		idt_put_gate(&self->vm, MODE_PROT32, IDT_GPA, v,
			     v == 13 ? OFF(reinj, reinj_gp_handler) :
				       OFF(reinj, reinj_bad));
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32,
				   OFF(reinj, reinj_after_int)));
	ASSERT_EQ(0, vcpu_set_idt(&self->vcpu, MODE_PROT32, IDT_GPA));
	memset(&ev, 0, sizeof(ev));
	ev.exception.injected = 1;
	ev.exception.nr = 13;
	ev.exception.has_error_code = 1;
	ev.exception.error_code = 0x4242;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.exception.injected);
	EXPECT_EQ(13, ev.exception.nr);
	EXPECT_EQ(1, ev.exception.has_error_code);
	EXPECT_EQ(0x4242, ev.exception.error_code);
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(0x4242, rd32(&self->vm, ERR_GPA));
	EXPECT_EQ(OFF(reinj, reinj_after_int), rd32(&self->vm, RET_GPA));
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

TEST_F(irq, events_nmi_pending)
{
	struct mvx_vcpu_events ev;

	ASSERT_EQ(0, nmi_setup(&self->vm, &self->vcpu));
	memset(&ev, 0, sizeof(ev));
	ev.flags = MVX_VCPUEVENT_VALID_NMI_PENDING;
	ev.nmi.pending = 1;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.pending);
	EXPECT_EQ(0, ev.nmi.masked);
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(CODE_GPA, rd32(&self->vm, RET_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.nmi.pending);
	EXPECT_EQ(1, ev.nmi.masked);
}

/* nmi.masked set through SET holds an NMI back until SET clears it. */
TEST_F(irq, events_nmi_masked)
{
	struct mvx_vcpu_events ev;

	ASSERT_EQ(0, nmi_setup(&self->vm, &self->vcpu));
	memset(&ev, 0, sizeof(ev));
	ev.nmi.masked = 1;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.masked);
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_OUT(PORT_IDLE);
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(0, rd32(&self->vm, COUNT_GPA));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(1, ev.nmi.pending);
	ev.nmi.masked = 0;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
}

/*
 * interrupt.shadow set through SET (VALID_SHADOW) keeps the window shut
 * for one instruction: started at the NOP with IF=1, the window opens
 * after it; without the shadow, at the NOP itself.  (A KVM_INTERRUPT
 * would not show it: KVM injects that at entry, shadow or not.)
 */
static void shadow_run(struct __test_metadata *_metadata,
		       FIXTURE_DATA(irq) *self, bool shadow)
{
	struct mvx_vcpu_events ev;

	SETUP(MODE_PROT32, inj32);
	ASSERT_EQ(0, set_rip_rflags(&self->vcpu, CODE_GPA + 1, 0x202));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	ev.flags = MVX_VCPUEVENT_VALID_SHADOW;
	ev.interrupt.shadow = shadow ? MVX_X86_SHADOW_INT_STI : 0;
	ASSERT_EQ(0, set_events(&self->vcpu, &ev)) TH_LOG("%s", strerror(errno));
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	if (shadow) {
		EXPECT_TRUE(ev.interrupt.shadow & MVX_X86_SHADOW_INT_STI)
			TH_LOG("shadow %#x", ev.interrupt.shadow);
	} else {
		EXPECT_EQ(0, ev.interrupt.shadow);
	}
	/*
	 * QEMU's TCG before 9.1 ignores the VMCB's interrupt shadow at VMRUN
	 * (its commit "target/i386: fix INHIBIT_IRQ/TF/RF handling for
	 * VMRUN"), so on its SVM the window opens at the NOP, under KVM too.
	 */
	if (shadow && host_is_qemu_tcg() && host_is_amd())
		SKIP(return, "QEMU TCG's SVM drops the VMCB interrupt shadow");
	self->vcpu.run->request_interrupt_window = 1;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_IRQ_WINDOW_OPEN);
	EXPECT_EQ(shadow ? OFF(inj32, inj32_loop) : CODE_GPA + 1,
		  get_rip(&self->vcpu));
	EXPECT_READY(1, 1);
	ASSERT_EQ(0, get_events(&self->vcpu, &ev));
	EXPECT_EQ(0, ev.interrupt.shadow);
}

TEST_F(irq, events_shadow)
{
	shadow_run(_metadata, self, true);
}

TEST_F(irq, events_no_shadow)
{
	shadow_run(_metadata, self, false);
}

/* ----------------------------------------------------------- MP_STATE */

static int get_mp(struct tvcpu *vcpu)
{
	struct mvx_mp_state mp = { .mp_state = 0xdead };

	if (ioctl(vcpu->fd, MVX_GET_MP_STATE, &mp))
		return -1;
	return mp.mp_state;
}

static int set_mp(struct tvcpu *vcpu, uint32_t state)
{
	struct mvx_mp_state mp = { .mp_state = state };

	return ioctl(vcpu->fd, MVX_SET_MP_STATE, &mp);
}

TEST_F(irq, mp_state_basics)
{
	EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu))
		TH_LOG("GET_MP_STATE: %s", strerror(errno));
	EXPECT_EQ(0, set_mp(&self->vcpu, MVX_MP_STATE_RUNNABLE));
	EXPECT_EQ(-1, set_mp(&self->vcpu, 42));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu));
	/*
	 * Without an in-kernel APIC, KVM's HLT exit leaves the vCPU RUNNABLE:
	 * userspace does the halting.
	 */
	guest_load(&self->vm, CODE_GPA, stihlt_start, stihlt_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu));
}

/*
 * HALTED: KVM accepts it only with an in-kernel irqchip (EINVAL here).
 * minivmx accepts it (its documented extension): RUN returns HLT at once
 * without entering the guest while nothing can wake it, and delivers an
 * interrupt (IF=1) or an NMI (any IF) as the wake-up, leaving the vCPU
 * RUNNABLE.
 */
TEST_F(irq, mp_state_halted)
{
	int r;

	SETUP(MODE_PROT32, inj32);
	r = set_mp(&self->vcpu, MVX_MP_STATE_HALTED);
	if (mvx_is_kvm()) {
		TH_LOG("KVM (no in-kernel irqchip): SET HALTED -> %s",
		       r ? strerror(errno) : "accepted");
		EXPECT_EQ(-1, r);
		EXPECT_EQ(EINVAL, errno);
		EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu));
		return;
	}
	TH_LOG("minivmx: HALTED accepted -> %s", r ? strerror(errno) : "yes");
	ASSERT_EQ(0, r);
	EXPECT_EQ(MVX_MP_STATE_HALTED, get_mp(&self->vcpu));
	/* IF=0 at the start: nothing wakes it, the guest does not run. */
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(CODE_GPA, get_rip(&self->vcpu));
	ASSERT_EQ(0, inject(&self->vcpu, VECTOR));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(CODE_GPA, get_rip(&self->vcpu));
	EXPECT_EQ(0, rd32(&self->vm, COUNT_GPA));
	EXPECT_EQ(MVX_MP_STATE_HALTED, get_mp(&self->vcpu));
	/* IF=1: the pending interrupt wakes it. */
	ASSERT_EQ(0, set_rip_rflags(&self->vcpu, OFF(inj32, inj32_loop), 0x202));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(OFF(inj32, inj32_loop), rd32(&self->vm, RET_GPA));
	EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu));
	ASSERT_OUT(PORT_IDLE);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	/* An NMI wakes it whatever IF says. */
	idt_put_gate(&self->vm, MODE_PROT32, IDT_GPA, 2,
		     OFF(inj32, inj32_handler));
	ASSERT_EQ(0, set_rip_rflags(&self->vcpu, OFF(inj32, inj32_loop), 0x2));
	ASSERT_EQ(0, set_mp(&self->vcpu, MVX_MP_STATE_HALTED));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(1, rd32(&self->vm, COUNT_GPA));
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_NMI, 0));
	ASSERT_OUT(PORT_HANDLER);
	EXPECT_EQ(2, rd32(&self->vm, COUNT_GPA));
	/*
	 * The OUT to PORT_IDLE before it exited at inj32_loop; setting the
	 * same RIP keeps its completion (as on KVM), so RUN finishes the OUT
	 * first and the NMI comes right after it.
	 */
	EXPECT_EQ(OFF(inj32, inj32_after_out), rd32(&self->vm, RET_GPA));
	EXPECT_EQ(MVX_MP_STATE_RUNNABLE, get_mp(&self->vcpu));
}

/* ------------------------------------------------------ SIGNAL_MASK */

/*
 * IF=1: Bochs holds host interrupts back while a guest spins with IF=0,
 * and kvm_intel has no timer of its own to leave it (selftests/README.md).
 */
GUEST_CODE(spin,
	".code32\n"
	"sti\n"
	"movl $1, (0x3024)\n"
	"spin_loop: jmp spin_loop\n");

static int set_sigmask(struct tvcpu *vcpu, uint32_t len, uint64_t set)
{
	uint8_t buf[sizeof(struct mvx_signal_mask) + 8];
	struct mvx_signal_mask *m = (struct mvx_signal_mask *)buf;

	m->len = len;
	memcpy(m->sigset, &set, 8);
	return ioctl(vcpu->fd, MVX_SET_SIGNAL_MASK, m);
}

#define SIGBIT(s) (1ULL << ((s) - 1))

static volatile sig_atomic_t usr1_seen, usr2_seen;

static void on_usr1(int sig)
{
	usr1_seen++;
}

static void on_usr2(int sig)
{
	usr2_seen++;
}

struct kicker {
	pthread_t target;
	struct tvm *vm;
	volatile int run_done;
	volatile int usr2_sent;
};

/*
 * Once the guest runs, SIGUSR1; then, unless RUN has ended within
 * 300 ms, SIGUSR2, which no mask here blocks.
 */
static void *kick_usr1_then_usr2(void *p)
{
	struct kicker *k = p;
	int i;

	while (!rd32(k->vm, RUNNING_GPA))
		usleep(1000);
	pthread_kill(k->target, SIGUSR1);
	for (i = 0; i < 300 && !k->run_done; i++)
		usleep(1000);
	if (!k->run_done) {
		k->usr2_sent = 1;
		pthread_kill(k->target, SIGUSR2);
	}
	return NULL;
}

/*
 * Runs the spin guest with SIGUSR1 blocked in the thread or not, and
 * returns whether SIGUSR1 ended the RUN (1), or SIGUSR2 (0); -1 if neither.
 */
static int usr1_ends_run(struct __test_metadata *_metadata,
			 FIXTURE_DATA(irq) *self, bool thread_blocks)
{
	struct sigaction sa1 = { .sa_handler = on_usr1 };
	struct sigaction sa2 = { .sa_handler = on_usr2 };
	struct kicker k = { .target = pthread_self(), .vm = &self->vm };
	struct timespec zero = { 0 };
	sigset_t s1, old;
	pthread_t t;
	int r, e;

	guest_load(&self->vm, CODE_GPA, spin_start, spin_end);
	if (vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA))
		return -1;
	sigaction(SIGUSR1, &sa1, NULL);
	sigaction(SIGUSR2, &sa2, NULL);
	sigemptyset(&s1);
	sigaddset(&s1, SIGUSR1);
	pthread_sigmask(thread_blocks ? SIG_BLOCK : SIG_UNBLOCK, &s1, &old);
	usr1_seen = usr2_seen = 0;
	pthread_create(&t, NULL, kick_usr1_then_usr2, &k);
	r = vcpu_run(&self->vcpu);
	e = errno;
	k.run_done = 1;
	pthread_join(t, NULL);
	/* A SIGUSR1 still pending in the thread: take it now. */
	if (thread_blocks && sigtimedwait(&s1, NULL, &zero) == SIGUSR1)
		usr1_seen++;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r != -1 || e != EINTR) {
		TH_LOG("RUN: %d (%s), %s", r, strerror(e),
		       describe_exit(&self->vcpu));
		return -1;
	}
	if (self->vcpu.run->exit_reason != MVX_EXIT_INTR)
		TH_LOG("exit reason %u after EINTR", self->vcpu.run->exit_reason);
	if (!usr1_seen)
		TH_LOG("SIGUSR1 never arrived");
	return usr1_seen ? !k.usr2_sent : -1;
}

TEST_F(irq, signal_mask_bad_len)
{
	EXPECT_EQ(-1, set_sigmask(&self->vcpu, 4, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, set_sigmask(&self->vcpu, 128, 0));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, set_sigmask(&self->vcpu, 8, 0)) TH_LOG("%s", strerror(errno));
	EXPECT_EQ(0, ioctl(self->vcpu.fd, MVX_SET_SIGNAL_MASK, NULL));
}

/* The run mask replaces the thread's: blocked outside, open during RUN. */
TEST_F(irq, signal_mask_opens)
{
	ASSERT_EQ(0, set_sigmask(&self->vcpu, 8, 0));
	EXPECT_EQ(1, usr1_ends_run(_metadata, self, true));
}

/* Open outside, blocked by the run mask: RUN goes on until SIGUSR2. */
TEST_F(irq, signal_mask_blocks)
{
	ASSERT_EQ(0, set_sigmask(&self->vcpu, 8, SIGBIT(SIGUSR1)));
	EXPECT_EQ(0, usr1_ends_run(_metadata, self, false));
	EXPECT_EQ(1, usr2_seen);
}

/* A NULL argument drops the run mask: the thread's own applies again. */
TEST_F(irq, signal_mask_cleared)
{
	ASSERT_EQ(0, set_sigmask(&self->vcpu, 8, SIGBIT(SIGUSR1)));
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_SET_SIGNAL_MASK, NULL));
	EXPECT_EQ(1, usr1_ends_run(_metadata, self, false));
}

/* ------------------------------------------------------ capabilities */

TEST_F(irq, capabilities)
{
	static const struct { long cap; const char *name; } caps[] = {
		{ MVX_CAP_IMMEDIATE_EXIT, "IMMEDIATE_EXIT" },
		{ MVX_CAP_MP_STATE, "MP_STATE" },
		{ MVX_CAP_VCPU_EVENTS, "VCPU_EVENTS" },
		{ MVX_CAP_USER_NMI, "USER_NMI" },
		{ MVX_CAP_EXT_CPUID, "EXT_CPUID" },
		{ MVX_CAP_SET_TSS_ADDR, "SET_TSS_ADDR" },
		{ MVX_CAP_DESTROY_MEMORY_REGION_WORKS,
		  "DESTROY_MEMORY_REGION_WORKS" },
		{ MVX_CAP_JOIN_MEMORY_REGIONS_WORKS,
		  "JOIN_MEMORY_REGIONS_WORKS" },
	};
	unsigned int i;

	/* KVM (6.1, 6.12) says 0 to this one: shadows come with VCPU_EVENTS. */
	TH_LOG("CAP_INTR_SHADOW: %d",
	       ioctl(self->vm.sys_fd, MVX_CHECK_EXTENSION, MVX_CAP_INTR_SHADOW));
	for (i = 0; i < sizeof(caps) / sizeof(caps[0]); i++) {
		EXPECT_LT(0, ioctl(self->vm.sys_fd, MVX_CHECK_EXTENSION,
				   caps[i].cap))
			TH_LOG("CAP_%s (%ld)", caps[i].name, caps[i].cap);
		EXPECT_LT(0, ioctl(self->vm.fd, MVX_CHECK_EXTENSION,
				   caps[i].cap))
			TH_LOG("CAP_%s (%ld) on the VM fd", caps[i].name,
			       caps[i].cap);
	}
}

/*
 * immediate_exit: RUN returns EINTR at once, without entering the guest.
 * KVM leaves exit_reason alone then (MVX_EXIT_INTR only when a signal
 * ends a RUN), so it is not checked.
 */
TEST_F(irq, immediate_exit)
{
	guest_load(&self->vm, CODE_GPA, spin_start, spin_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_PROT32, CODE_GPA));
	self->vcpu.run->immediate_exit = 1;
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINTR, errno);
	EXPECT_EQ(CODE_GPA, get_rip(&self->vcpu));
	EXPECT_EQ(0, rd32(&self->vm, RUNNING_GPA));
}

/* -------------------------------------------------------- timer loop */

/*
 * A spinning guest whose handler counts and acknowledges; a "timer"
 * thread ticks IRQ_TIMER_COUNT (default 10,000) times, at most
 * TICKS_AHEAD ahead of the injections, each tick a kick (immediate_exit,
 * then a signal) of the vCPU thread, which injects when the run page says
 * ready and asks for the window when not.  Both sides count; nothing may
 * be lost or doubled.  (With one tick at a time, each kick waits for the
 * emulated PC's scheduler tick: 80 s in the QEMU cell.)
 *
 * QEMU's TCG (7.2 at least, as its svm_helper.c reads) delivers an
 * EVENTINJ interrupt at VMRUN but leaves its vector in exception_index; a
 * kick of its vCPU thread before the next #VMEXIT delivers that vector a
 * second time, inside the handler.  The trace then shows the second handler run with no injection
 * before it.  Such an acknowledgement, one that no injection is waiting
 * for, is tolerated (and counted) on TCG only, and not on minivmx with
 * quirk 8, which injects through V_IRQ instead; anywhere else it fails.
 */
/* minivmx injects through V_IRQ (quirk 8): no EVENTINJ, no TCG double. */
static bool virq_quirk_on(void)
{
	const char *dev = getenv("MVX_DEVICE");
	unsigned int q = 0;
	FILE *f;

	if (dev && strcmp(dev, "/dev/minivmx"))
		return false;
	f = fopen("/sys/module/minivmx/parameters/quirks", "r");
	if (!f)
		return false;
	if (fscanf(f, "%u", &q) != 1)
		q = 0;
	fclose(f);
	return q & 8;
}

GUEST_CODE(timer,
	".code32\n"
	"sti\n"
	"timer_loop: cmpl $0, (0x3020)\n"
	"je timer_loop\n"
	"cli\n"
	"hlt\n"
	"timer_handler:\n"
	"incl (0x3000)\n"
	"out %al, $0x10\n"
	"iret\n"
	"timer_bad: out %al, $0xee\n"
	"hlt\n");
extern const unsigned char timer_handler[], timer_bad[];

#define TICKS_AHEAD	8	/* ticks the timer may be ahead of injection */

struct ticker {
	pthread_t vcpu_thread;
	struct mvx_run *run;
	uint32_t count;
	uint32_t ticks;		/* atomic: ticks sent */
	uint32_t injected;	/* written by the vCPU thread only */
	sem_t room;		/* TICKS_AHEAD - (ticks - injected) */
	int done;		/* atomic: the vCPU thread has all acks */
};

static void kick(struct ticker *t)
{
	__atomic_store_n(&t->run->immediate_exit, 1, __ATOMIC_RELEASE);
	pthread_kill(t->vcpu_thread, SIGUSR1);
}

static void on_kick(int sig)
{
}

static void *tick(void *p)
{
	struct ticker *t = p;
	uint32_t i;

	for (i = 1; i <= t->count; i++) {
		while (sem_wait(&t->room))
			;
		__atomic_store_n(&t->ticks, i, __ATOMIC_RELEASE);
		kick(t);
	}
	/* Watchdog: a lost interrupt must not leave the guest spinning. */
	while (!__atomic_load_n(&t->done, __ATOMIC_ACQUIRE)) {
		usleep(100000);
		kick(t);
	}
	return NULL;
}

TEST_F_TIMEOUT(irq, timer_loop, 300)
{
	struct sigaction sa = { .sa_handler = on_kick };
	struct ticker t = { .vcpu_thread = pthread_self(),
			    .run = self->vcpu.run, .count = 10000 };
	struct mvx_run *run = self->vcpu.run;
	const char *env = getenv("IRQ_TIMER_COUNT");
	uint32_t acks = 0, kicks = 0, windows = 0, idle = 0, doubled = 0;
	bool tcg = host_is_qemu_tcg() && !virq_quirk_on();
	uint64_t t0;
	pthread_t th;

	if (env && *env && strtoul(env, NULL, 0) > 0)
		t.count = strtoul(env, NULL, 0);
	SETUP(MODE_PROT32, timer);
	ASSERT_EQ(0, sigaction(SIGUSR1, &sa, NULL));
	ASSERT_EQ(0, sem_init(&t.room, 0, TICKS_AHEAD));
	t0 = now_ns();
	ASSERT_EQ(0, pthread_create(&th, NULL, tick, &t));
	while (acks - doubled < t.count) {
		uint32_t pending = __atomic_load_n(&t.ticks, __ATOMIC_ACQUIRE) -
				   t.injected;

		if (pending && run->ready_for_interrupt_injection) {
			ASSERT_EQ(0, inject(&self->vcpu, VECTOR))
				TH_LOG("INTERRUPT %u: %s", t.injected,
				       strerror(errno));
			t.injected++;
			sem_post(&t.room);
			pending--;
		}
		run->request_interrupt_window = pending != 0;
		if (vcpu_run(&self->vcpu)) {
			ASSERT_EQ(EINTR, errno) TH_LOG("RUN: %s", strerror(errno));
			__atomic_store_n(&run->immediate_exit, 0, __ATOMIC_RELEASE);
			kicks++;
			/* All injected, no ack for 3 s of watchdog kicks: lost. */
			if (t.injected == t.count && ++idle > 30)
				break;
			continue;
		}
		if (run->exit_reason == MVX_EXIT_IRQ_WINDOW_OPEN) {
			windows++;
			continue;
		}
		ASSERT_EQ(MVX_EXIT_IO, run->exit_reason)
			TH_LOG("%s", describe_exit(&self->vcpu));
		ASSERT_EQ(PORT_HANDLER, run->io.port)
			TH_LOG("%s", describe_exit(&self->vcpu));
		/* Nothing injected is unacknowledged: a second delivery. */
		if (acks - doubled == t.injected) {
			ASSERT_TRUE(tcg)
				TH_LOG("handler ran again: %u acks for %u injections",
				       acks + 1 - doubled, t.injected);
			doubled++;
		}
		acks++;
		idle = 0;
		ASSERT_EQ(acks, rd32(&self->vm, COUNT_GPA));
	}
	__atomic_store_n(&t.done, 1, __ATOMIC_RELEASE);
	pthread_join(th, NULL);
	/* Let the guest stop; a last kick may still be on its way. */
	wr32(&self->vm, FLAG_GPA, 1);
	run->request_interrupt_window = 0;
	while (vcpu_run(&self->vcpu) && errno == EINTR)
		run->immediate_exit = 0;
	EXPECT_EQ(MVX_EXIT_HLT, run->exit_reason)
		TH_LOG("%s", describe_exit(&self->vcpu));
	TH_LOG("%u interrupts in %.2f s: %u kicks, %u window exits",
	       t.count, (now_ns() - t0) / 1e9, kicks, windows);
	if (doubled)
		TH_LOG("QEMU TCG delivered %u of them twice (its EVENTINJ quirk)",
		       doubled);
	EXPECT_EQ(t.count, t.ticks);
	EXPECT_EQ(t.count, t.injected);
	EXPECT_EQ(t.count, acks - doubled);
	EXPECT_EQ(t.count + doubled, rd32(&self->vm, COUNT_GPA));
}

TEST_HARNESS_MAIN
