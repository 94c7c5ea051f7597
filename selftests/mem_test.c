// SPDX-License-Identifier: GPL-2.0
/*
 * Guest memory: huge slots and slots past the physical address width;
 * the emulator's guest page walk (U/S, R/W with CR0.WP, not-present, A/D
 * bits) seen through a CPL 3 REP INSB; MMIO hit while an event is being
 * delivered; single-step traps after instructions the host completes.
 *
 * The guests run in long mode on 4 KiB pages (mvx_util's tables with the
 * first 2 MiB split), with an IDT whose #PF and #DB handlers record what
 * they got at DATA_GPA and halt.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cpuid.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define PT4K_GPA	(PML4_GPA + 0x8000)	/* maps the first 2 MiB */
#define IDT_GPA		0x4000
#define PF_HANDLER_GPA	0x2000
#define DB_HANDLER_GPA	0x2400
#define KSTACK_TOP	0x7000			/* TSS.RSP0 */
#define SUP_PAGE	0x9000			/* supervisor only */
#define RO_PAGE		0xa000			/* user, read-only */
#define RW_PAGE		0xb000			/* user, read-write */
#define NP_PAGE		0xc000			/* not present */

/* What a handler recorded, at DATA_GPA. */
#define REC_ERROR	(DATA_GPA + 0x00)
#define REC_RIP		(DATA_GPA + 0x08)
#define REC_CR2_DR6	(DATA_GPA + 0x10)
#define REC_VECTOR	(DATA_GPA + 0x18)

#define SEL_UCODE64	0x43			/* GDT index 8, RPL 3 */
#define SEL_UDATA	0x4b			/* GDT index 9, RPL 3 */

#define PTE_P		0x1ULL
#define PTE_W		0x2ULL
#define PTE_U		0x4ULL
#define PTE_A		0x20ULL
#define PTE_D		0x40ULL

#define PF_P		0x1
#define PF_W		0x2
#define PF_U		0x4

#define INS_PORT	0x10
#define DONE_PORT	0xf0
#define RFLAGS_IOPL3	0x3000ULL
#define DR6_BS		(1ULL << 14)

/* #PF: error code, faulting RIP and CR2. */
GUEST_CODE(pf_handler,
	".code64\n"
	"pop %rax\n"
	"mov %rax, 0x3000\n"
	"mov (%rsp), %rax\n"
	"mov %rax, 0x3008\n"
	"mov %cr2, %rax\n"
	"mov %rax, 0x3010\n"
	"movq $14, 0x3018\n"
	"hlt\n");

/* #DB: the RIP it trapped at and DR6. */
GUEST_CODE(db_handler,
	".code64\n"
	"mov (%rsp), %rax\n"
	"mov %rax, 0x3008\n"
	"mov %dr6, %rax\n"
	"mov %rax, 0x3010\n"
	"movq $1, 0x3018\n"
	"hlt\n");

/* RDI, RCX and DX set by the test. */
GUEST_CODE(rep_insb,
	".code64\n"
	"rep insb\n"
	"out %al, $0xf0\n");

/*
 * POPF sets TF, so the trap comes after the instruction that follows it
 * (entering a guest with TF already set makes Bochs trap at once).
 */
#define SET_TF "pushfq\n" "orq $0x100, (%rsp)\n" "popfq\n"

GUEST_CODE(step_out,
	".code64\n"
	SET_TF
	"out %al, $0x20\n"
	".globl step_out_after\n"
	"step_out_after:\n"
	"nop\n"
	"nop\n"
	"out %al, $0xf0\n");

/*
 * The first store maps the guest's page tables for RBX: a second-level
 * fault between POPF and the stepped store would re-enter the guest with
 * TF set at the store, where Bochs traps at once.
 */
GUEST_CODE(step_mmio,
	".code64\n"
	"movl $0, (%rbx)\n"
	SET_TF
	"movl $1, (%rbx)\n"
	".globl step_mmio_after\n"
	"step_mmio_after:\n"
	"nop\n"
	"nop\n"
	"out %al, $0xf0\n");

GUEST_CODE(step_cpuid,
	".code64\n"
	SET_TF
	"cpuid\n"
	".globl step_cpuid_after\n"
	"step_cpuid_after:\n"
	"nop\n"
	"nop\n"
	"out %al, $0xf0\n");

extern const unsigned char step_out_after[], step_mmio_after[],
	step_cpuid_after[];

/* RBX: a linear address with nothing mapped; the IDT is in MMIO. */
GUEST_CODE(pf_via_mmio_idt,
	".code64\n"
	"movl $0x11223344, (%rbx)\n"
	"out %al, $0xf0\n");

/* Stores at RAX (a GPA near the end of a 1 TiB slot). */
GUEST_CODE(store_far,
	".code64\n"
	"movq $0x5a5a1234, (%rax)\n"
	"hlt\n");

FIXTURE(mem) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(mem)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(mem)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

static bool is_amd(void)
{
	unsigned int a, b, c, d;

	__cpuid(0, a, b, c, d);
	return b == 0x68747541;	/* "Auth" */
}

static uint64_t *pte_of(struct tvm *vm, uint64_t gpa)
{
	return (uint64_t *)(vm->mem + PT4K_GPA) + (gpa >> 12);
}

/*
 * mvx_util's 4-level tables, with user access on the upper levels and the
 * first 2 MiB on 4 KiB user pages, except the test pages.
 */
static void setup_tables(struct tvm *vm)
{
	uint64_t *pml4 = (uint64_t *)(vm->mem + PML4_GPA);
	uint64_t *pdpt = (uint64_t *)(vm->mem + PML4_GPA + 0x1000);
	uint64_t *pd = (uint64_t *)(vm->mem + PML4_GPA + 0x2000);
	int i;

	pml4[0] |= PTE_U;
	pdpt[0] |= PTE_U;
	pd[0] = PT4K_GPA | PTE_P | PTE_W | PTE_U;
	for (i = 0; i < 512; i++)
		*pte_of(vm, i << 12) = (i << 12) | PTE_P | PTE_W | PTE_U;
	*pte_of(vm, SUP_PAGE) = SUP_PAGE | PTE_P | PTE_W;
	*pte_of(vm, RO_PAGE) = RO_PAGE | PTE_P | PTE_U;
	*pte_of(vm, NP_PAGE) = 0;
	memset(vm->mem + SUP_PAGE, 0x11, 0x4000);
}

static void set_gate(struct tvm *vm, int vector, uint64_t handler)
{
	uint64_t *gate = (uint64_t *)(vm->mem + IDT_GPA) + 2 * vector;

	gate[0] = (handler & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
		  (0x8eULL << 40) | ((handler >> 16) & 0xffff) << 48;
	gate[1] = handler >> 32;
}

/* Long mode with handlers and tables; CPL 3 if @user. */
static int setup_guest(struct tvm *vm, struct tvcpu *vcpu,
		       const unsigned char *start, const unsigned char *end,
		       bool user, uint64_t idt_base)
{
	uint64_t *gdt = (uint64_t *)(vm->mem + GDT_GPA);
	struct mvx_sregs sr;

	setup_tables(vm);
	guest_load(vm, CODE_GPA, start, end);
	guest_load(vm, PF_HANDLER_GPA, pf_handler_start, pf_handler_end);
	guest_load(vm, DB_HANDLER_GPA, db_handler_start, db_handler_end);
	set_gate(vm, 14, PF_HANDLER_GPA);
	set_gate(vm, 1, DB_HANDLER_GPA);
	gdt[SEL_UCODE64 / 8] = 0x00affa000000ffffULL;
	gdt[SEL_UDATA / 8] = 0x00cff2000000ffffULL;
	/* 64-bit TSS: RSP0 at offset 4. */
	*(uint64_t *)(vm->mem + TSS_GPA + 4) = KSTACK_TOP;
	memset(vm->mem + DATA_GPA, 0, 0x20);

	if (vcpu_set_mode(vcpu, MODE_LONG, CODE_GPA) ||
	    vcpu_get_sregs(vcpu, &sr))
		return -1;
	sr.gdt.limit = 0x4f;
	sr.idt.base = idt_base;
	sr.idt.limit = 0xfff;
	if (user) {
		sr.cs.selector = SEL_UCODE64;
		sr.cs.dpl = 3;
		sr.ss.selector = SEL_UDATA;
		sr.ss.dpl = 3;
	}
	return vcpu_set_sregs(vcpu, &sr);
}

enum guest_end { END_HLT, END_DONE, END_OTHER };

/*
 * Run until the guest halts (a handler ran) or reports DONE_PORT; INS on
 * INS_PORT gets 0xab bytes, any other port I/O and MMIO just continue.
 */
static enum guest_end run_guest(struct tvcpu *vcpu, int *ins_exits)
{
	struct mvx_run *run = vcpu->run;
	int i;

	for (i = 0; i < 100; i++) {
		if (vcpu_run(vcpu))
			return END_OTHER;
		switch (run->exit_reason) {
		case MVX_EXIT_HLT:
			return END_HLT;
		case MVX_EXIT_IO:
			if (run->io.port == DONE_PORT)
				return END_DONE;
			if (run->io.port == INS_PORT &&
			    run->io.direction == MVX_EXIT_IO_IN) {
				memset((char *)run + run->io.data_offset, 0xab,
				       run->io.size * run->io.count);
				if (ins_exits)
					++*ins_exits;
			}
			continue;
		case MVX_EXIT_MMIO:
			continue;
		default:
			return END_OTHER;
		}
	}
	return END_OTHER;
}

static int set_ins_regs(struct tvcpu *vcpu, uint64_t rdi, uint64_t rflags)
{
	struct mvx_regs r;

	if (vcpu_get_regs(vcpu, &r))
		return -1;
	r.rdi = rdi;
	r.rcx = 4;
	r.rdx = INS_PORT;
	r.rflags = rflags;
	return vcpu_set_regs(vcpu, &r);
}

/* A CPL 3 REP INSB into @page must raise #PF @error at @page. */
static void user_ins_faults(struct __test_metadata *_metadata,
			    struct tvm *vm, struct tvcpu *vcpu,
			    uint64_t page, uint32_t error)
{
	int ins_exits = 0;
	enum guest_end end;

	ASSERT_EQ(0, setup_guest(vm, vcpu, rep_insb_start, rep_insb_end,
				 true, IDT_GPA));
	ASSERT_EQ(0, set_ins_regs(vcpu, page, 2 | RFLAGS_IOPL3));
	end = run_guest(vcpu, &ins_exits);
	ASSERT_EQ(END_HLT, end)
		TH_LOG("guest did not fault (%s); %d INS exits, page now %02x",
		       describe_exit(vcpu), ins_exits, vm->mem[page]);
	EXPECT_EQ(14, rd64(vm, REC_VECTOR));
	EXPECT_EQ(error, rd64(vm, REC_ERROR));
	EXPECT_EQ(page, rd64(vm, REC_CR2_DR6));
	EXPECT_EQ(CODE_GPA, rd64(vm, REC_RIP));
	/*
	 * minivmx checks the destination before it asks userspace for the
	 * data; KVM reads the port first and faults on the write.
	 */
	if (!mvx_is_kvm())
		EXPECT_EQ(0, ins_exits);
	EXPECT_EQ(0x11, vm->mem[SUP_PAGE]);
	EXPECT_EQ(0x11, vm->mem[RO_PAGE]);
}

TEST_F(mem, user_rep_insb_supervisor_page)
{
	user_ins_faults(_metadata, &self->vm, &self->vcpu, SUP_PAGE,
			PF_P | PF_W | PF_U);
}

TEST_F(mem, user_rep_insb_read_only_page)
{
	user_ins_faults(_metadata, &self->vm, &self->vcpu, RO_PAGE,
			PF_P | PF_W | PF_U);
}

TEST_F(mem, user_rep_insb_not_present_page)
{
	user_ins_faults(_metadata, &self->vm, &self->vcpu, NP_PAGE,
			PF_W | PF_U);
}

/* CR0.WP decides whether the kernel may write a read-only page. */
TEST_F(mem, kernel_rep_insb_read_only_page_wp)
{
	struct mvx_sregs sr;
	int ins_exits = 0;

	ASSERT_EQ(0, setup_guest(&self->vm, &self->vcpu, rep_insb_start,
				 rep_insb_end, false, IDT_GPA));
	ASSERT_EQ(0, set_ins_regs(&self->vcpu, RO_PAGE, 2));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sr));
	sr.cr0 |= 1UL << 16;	/* WP */
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sr));
	ASSERT_EQ(END_HLT, run_guest(&self->vcpu, &ins_exits))
		TH_LOG("no #PF with CR0.WP: %s", describe_exit(&self->vcpu));
	EXPECT_EQ(PF_P | PF_W, rd64(&self->vm, REC_ERROR));
	EXPECT_EQ(RO_PAGE, rd64(&self->vm, REC_CR2_DR6));
	EXPECT_EQ(0x11, self->vm.mem[RO_PAGE]);

	/* Without WP the same write goes through. */
	ASSERT_EQ(0, set_ins_regs(&self->vcpu, RO_PAGE, 2));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sr));
	sr.cr0 &= ~(1UL << 16);
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &sr));
	memset(self->vm.mem + DATA_GPA, 0, 0x20);
	{
		struct mvx_regs r;

		ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
		r.rip = CODE_GPA;
		r.rsp = STACK_TOP;
		ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	}
	ASSERT_EQ(END_DONE, run_guest(&self->vcpu, &ins_exits))
		TH_LOG("%s, #PF error %#llx", describe_exit(&self->vcpu),
		       (unsigned long long)rd64(&self->vm, REC_ERROR));
	EXPECT_EQ(0xab, self->vm.mem[RO_PAGE]);
	EXPECT_EQ(0xab, self->vm.mem[RO_PAGE + 3]);
}

/* SMAP: the kernel's INS into a user page faults unless RFLAGS.AC is set. */
TEST_F(mem, kernel_rep_insb_user_page_smap)
{
	struct mvx_sregs sr;
	struct mvx_regs r;
	int i;

	ASSERT_EQ(0, setup_guest(&self->vm, &self->vcpu, rep_insb_start,
				 rep_insb_end, false, IDT_GPA));
	/* Everything but RW_PAGE is the kernel's: its own stores must pass. */
	for (i = 0; i < 512; i++)
		if (i != RW_PAGE >> 12)
			*pte_of(&self->vm, i << 12) &= ~PTE_U;
	ASSERT_EQ(0, set_ins_regs(&self->vcpu, RW_PAGE, 2));
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &sr));
	sr.cr4 |= 1UL << 21;	/* SMAP */
	if (vcpu_set_sregs(&self->vcpu, &sr))
		SKIP(return, "CR4.SMAP refused (%s): no SMAP here",
		     strerror(errno));
	ASSERT_EQ(END_HLT, run_guest(&self->vcpu, NULL))
		TH_LOG("no #PF with SMAP: %s", describe_exit(&self->vcpu));
	EXPECT_EQ(PF_P | PF_W, rd64(&self->vm, REC_ERROR));
	EXPECT_EQ(RW_PAGE, rd64(&self->vm, REC_CR2_DR6));
	EXPECT_EQ(0x11, self->vm.mem[RW_PAGE]);

	ASSERT_EQ(0, set_ins_regs(&self->vcpu, RW_PAGE, 2 | (1UL << 18)));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rip = CODE_GPA;
	r.rsp = STACK_TOP;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_EQ(END_DONE, run_guest(&self->vcpu, NULL))
		TH_LOG("%s, #PF error %#llx", describe_exit(&self->vcpu),
		       (unsigned long long)rd64(&self->vm, REC_ERROR));
	EXPECT_EQ(0xab, self->vm.mem[RW_PAGE]);
}

/* An emulated write sets the accessed and dirty bits of its page. */
TEST_F(mem, emulated_write_sets_accessed_dirty)
{
	int ins_exits = 0;

	ASSERT_EQ(0, setup_guest(&self->vm, &self->vcpu, rep_insb_start,
				 rep_insb_end, true, IDT_GPA));
	ASSERT_EQ(0, set_ins_regs(&self->vcpu, RW_PAGE, 2 | RFLAGS_IOPL3));
	ASSERT_EQ(0, *pte_of(&self->vm, RW_PAGE) & (PTE_A | PTE_D));
	ASSERT_EQ(END_DONE, run_guest(&self->vcpu, &ins_exits))
		TH_LOG("%s, #PF error %#llx", describe_exit(&self->vcpu),
		       (unsigned long long)rd64(&self->vm, REC_ERROR));
	EXPECT_LT(0, ins_exits);
	EXPECT_EQ(0xab, self->vm.mem[RW_PAGE]);
	EXPECT_EQ(0xab, self->vm.mem[RW_PAGE + 3]);
	EXPECT_EQ(PTE_A | PTE_D, *pte_of(&self->vm, RW_PAGE) & (PTE_A | PTE_D))
		TH_LOG("pte %#llx",
		       (unsigned long long)*pte_of(&self->vm, RW_PAGE));
}

GUEST_CODE(rep_insb32,
	".code32\n"
	"rep insb\n"
	"out %al, $0xf0\n");

GUEST_CODE(pf_handler32,
	".code32\n"
	"pop %eax\n"
	"mov %eax, 0x3000\n"
	"mov (%esp), %eax\n"
	"mov %eax, 0x3008\n"
	"mov %cr2, %eax\n"
	"mov %eax, 0x3010\n"
	"movl $14, 0x3018\n"
	"hlt\n");

#define PD32_TEST	0x44000		/* 2-level: PD, then PT at +0x1000 */
#define PDPT_PAE	0x46000		/* PAE: PDPT, PD at +0x1000, PT at +0x2000 */

/* Identity-maps the first 2 MiB on 4 KiB kernel pages. */
static void tables32(struct tvm *vm, bool pae)
{
	int i;

	if (pae) {
		uint64_t *pdpt = (uint64_t *)(vm->mem + PDPT_PAE);
		uint64_t *pd = (uint64_t *)(vm->mem + PDPT_PAE + 0x1000);
		uint64_t *pt = (uint64_t *)(vm->mem + PDPT_PAE + 0x2000);

		pdpt[0] = (PDPT_PAE + 0x1000) | PTE_P;
		pd[0] = (PDPT_PAE + 0x2000) | PTE_P | PTE_W;
		for (i = 0; i < 512; i++)
			pt[i] = (i << 12) | PTE_P | PTE_W;
		pt[RO_PAGE >> 12] = RO_PAGE | PTE_P;
		pt[NP_PAGE >> 12] = 0;
	} else {
		uint32_t *pd = (uint32_t *)(vm->mem + PD32_TEST);
		uint32_t *pt = (uint32_t *)(vm->mem + PD32_TEST + 0x1000);

		pd[0] = (PD32_TEST + 0x1000) | PTE_P | PTE_W;
		for (i = 0; i < 512; i++)
			pt[i] = (i << 12) | PTE_P | PTE_W;
		pt[RO_PAGE >> 12] = RO_PAGE | PTE_P;
		pt[NP_PAGE >> 12] = 0;
	}
}

/* REP INSB to @page at CPL 0 in 32-bit paging, CR0.WP set. */
static enum guest_end ins32(struct tvm *vm, struct tvcpu *vcpu, bool pae,
			    uint64_t page)
{
	uint32_t *gate = (uint32_t *)(vm->mem + IDT_GPA) + 2 * 14;
	struct mvx_sregs sr;
	struct mvx_regs r;

	tables32(vm, pae);
	memset(vm->mem + SUP_PAGE, 0x11, 0x4000);
	memset(vm->mem + DATA_GPA, 0, 0x20);
	guest_load(vm, CODE_GPA, rep_insb32_start, rep_insb32_end);
	guest_load(vm, PF_HANDLER_GPA, pf_handler32_start, pf_handler32_end);
	gate[0] = (PF_HANDLER_GPA & 0xffff) | (SEL_CODE32 << 16);
	gate[1] = (PF_HANDLER_GPA & 0xffff0000) | 0x8e00;
	if (vcpu_set_mode(vcpu, MODE_PROT32, CODE_GPA) ||
	    vcpu_get_sregs(vcpu, &sr))
		return END_OTHER;
	sr.cr0 |= CR0_PG | (1UL << 16);
	sr.cr3 = pae ? PDPT_PAE : PD32_TEST;
	sr.cr4 = pae ? CR4_PAE : 0;
	sr.idt.base = IDT_GPA;
	sr.idt.limit = 0x7ff;
	if (vcpu_set_sregs(vcpu, &sr) || vcpu_get_regs(vcpu, &r))
		return END_OTHER;
	r.rdi = page;
	r.rcx = 4;
	r.rdx = INS_PORT;
	if (vcpu_set_regs(vcpu, &r))
		return END_OTHER;
	return run_guest(vcpu, NULL);
}

/* The 2-level and PAE walks: WP, not present, A/D in 4- and 8-byte PTEs. */
static void paging32(struct __test_metadata *_metadata, struct tvm *vm,
		     struct tvcpu *vcpu, bool pae)
{
	uint64_t pte;

	ASSERT_EQ(END_HLT, ins32(vm, vcpu, pae, RO_PAGE))
		TH_LOG("no #PF: %s", describe_exit(vcpu));
	EXPECT_EQ(PF_P | PF_W, rd64(vm, REC_ERROR));
	EXPECT_EQ(RO_PAGE, rd64(vm, REC_CR2_DR6));
	EXPECT_EQ(CODE_GPA, rd64(vm, REC_RIP));
	EXPECT_EQ(0x11, vm->mem[RO_PAGE]);

	ASSERT_EQ(END_HLT, ins32(vm, vcpu, pae, NP_PAGE))
		TH_LOG("no #PF: %s", describe_exit(vcpu));
	EXPECT_EQ(PF_W, rd64(vm, REC_ERROR));
	EXPECT_EQ(NP_PAGE, rd64(vm, REC_CR2_DR6));

	ASSERT_EQ(END_DONE, ins32(vm, vcpu, pae, RW_PAGE))
		TH_LOG("%s, #PF error %#llx", describe_exit(vcpu),
		       (unsigned long long)rd64(vm, REC_ERROR));
	EXPECT_EQ(0xab, vm->mem[RW_PAGE + 3]);
	pte = pae ? rd64(vm, PDPT_PAE + 0x2000 + (RW_PAGE >> 12) * 8) :
		    rd32(vm, PD32_TEST + 0x1000 + (RW_PAGE >> 12) * 4);
	EXPECT_EQ(PTE_A | PTE_D, pte & (PTE_A | PTE_D))
		TH_LOG("pte %#llx", (unsigned long long)pte);
}

TEST_F(mem, paging32_two_level)
{
	paging32(_metadata, &self->vm, &self->vcpu, false);
}

TEST_F(mem, paging32_pae)
{
	paging32(_metadata, &self->vm, &self->vcpu, true);
}

/*
 * A #PF whose delivery reads an IDT in MMIO: the access is the CPU's, not
 * the MOV's at RIP, so it cannot be emulated (KVM: DELIVERY_EV).
 */
TEST_F(mem, mmio_during_event_delivery)
{
	struct mvx_run *run = self->vcpu.run;
	struct mvx_regs r;

	/* Seen on kvm_amd 6.12 (QEMU): the vCPU retries the fault forever. */
	if (mvx_is_kvm() && is_amd())
		SKIP(return, "kvm_amd loops on this fault");
	ASSERT_EQ(0, setup_guest(&self->vm, &self->vcpu, pf_via_mmio_idt_start,
				 pf_via_mmio_idt_end, false, MMIO_GPA));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rbx = 0x80000000;	/* PDPT entry 2: not present */
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	ASSERT_EQ(MVX_EXIT_INTERNAL_ERROR, run->exit_reason)
		TH_LOG("%s", describe_exit(&self->vcpu));
	EXPECT_EQ(MVX_INTERNAL_ERROR_DELIVERY_EV, run->internal.suberror);
}

/*
 * An MMIO store whose immediate lies in the next page, which is not RAM:
 * the CPU's fetch of it is what exits.  The emulator must not decode the
 * cut-short instruction (it used to store 0 to the code's own address).
 */
TEST_F(mem, truncated_instruction)
{
	static const unsigned char movl_imm[] = { 0xc7, 0x03 };	/* (%rbx) */
	struct mvx_run *run = self->vcpu.run;
	uint64_t *pd = (uint64_t *)(self->vm.mem + PML4_GPA + 0x2000);
	uint64_t end = self->vm.mem_size;
	struct mvx_regs r;

	ASSERT_EQ(0, setup_guest(&self->vm, &self->vcpu, rep_insb_start,
				 rep_insb_end, false, IDT_GPA));
	pd[1] = end | PTE_P | PTE_W | 0x80;	/* 2 MiB page past the slot */
	memcpy(self->vm.mem + end - sizeof(movl_imm), movl_imm,
	       sizeof(movl_imm));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rip = end - sizeof(movl_imm);
	r.rbx = MMIO_GPA;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_run(&self->vcpu));
	ASSERT_EQ(MVX_EXIT_INTERNAL_ERROR, run->exit_reason)
		TH_LOG("%s", describe_exit(&self->vcpu));
	EXPECT_EQ(MVX_INTERNAL_ERROR_EMULATION, run->internal.suberror);
}

/* With RFLAGS.TF, #DB with DR6.BS right after the stepped instruction. */
static void single_step(struct __test_metadata *_metadata, struct tvm *vm,
			struct tvcpu *vcpu, const unsigned char *start,
			const unsigned char *end, const unsigned char *after)
{
	struct mvx_regs r;
	enum guest_end e;

	ASSERT_EQ(0, setup_guest(vm, vcpu, start, end, false, IDT_GPA));
	ASSERT_EQ(0, vcpu_get_regs(vcpu, &r));
	r.rbx = MMIO_GPA;
	r.rax = 0;
	ASSERT_EQ(0, vcpu_set_regs(vcpu, &r));
	e = run_guest(vcpu, NULL);
	ASSERT_EQ(END_HLT, e)
		TH_LOG("no #DB: %s", describe_exit(vcpu));
	EXPECT_EQ(1, rd64(vm, REC_VECTOR));
	/* kvm_amd 6.12 (QEMU) loses the trap after an MMIO write exit. */
	if (mvx_is_kvm() && rd64(vm, REC_RIP) != CODE_GPA + (after - start)) {
		TH_LOG("KVM: #DB at %#llx, not after the instruction",
		       (unsigned long long)rd64(vm, REC_RIP));
		return;
	}
	EXPECT_EQ(CODE_GPA + (after - start), rd64(vm, REC_RIP))
		TH_LOG("#DB after the wrong instruction");
	EXPECT_TRUE(rd64(vm, REC_CR2_DR6) & DR6_BS)
		TH_LOG("DR6 %#llx", (unsigned long long)rd64(vm, REC_CR2_DR6));
}

TEST_F(mem, single_step_out)
{
	single_step(_metadata, &self->vm, &self->vcpu, step_out_start,
		    step_out_end, step_out_after);
}

TEST_F(mem, single_step_mmio)
{
	single_step(_metadata, &self->vm, &self->vcpu, step_mmio_start,
		    step_mmio_end, step_mmio_after);
}

TEST_F(mem, single_step_cpuid)
{
	single_step(_metadata, &self->vm, &self->vcpu, step_cpuid_start,
		    step_cpuid_end, step_cpuid_after);
}

static unsigned int host_phys_bits(void)
{
	unsigned int bits = 36;
	char line[256];
	FILE *f = fopen("/proc/cpuinfo", "r");

	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "address sizes : %u bits physical", &bits) == 1)
			break;
	if (f)
		fclose(f);
	return bits;
}

/*
 * Slots end at the guest's physical address width (the host's, here); one
 * reaching past it would alias lower addresses in a 4-level EPT/NPT.
 */
TEST_F(mem, slot_beyond_phys_width)
{
	unsigned int bits = host_phys_bits();
	uint64_t top = 1ULL << (bits < 48 ? bits : 48);
	void *page = mmap(NULL, 0x2000, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	ASSERT_NE(MAP_FAILED, page);
	TH_LOG("host: %u physical address bits", bits);
	errno = 0;
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, 0, 1ULL << 52, 0x1000, page));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, 0, top, 0x1000, page));
	EXPECT_EQ(EINVAL, errno);
	errno = 0;
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, 0, top - 0x1000, 0x2000, page));
	EXPECT_EQ(EINVAL, errno);
	/* What aliases GPA 0x1000 modulo 2^48 in a 4-level table. */
	errno = 0;
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, 0, (1ULL << 48) + 0x1000,
				  0x1000, page));
	EXPECT_EQ(EINVAL, errno);

	/* The last page below the width is fine, and cannot move past it. */
	EXPECT_EQ(0, vm_add_slot(&self->vm, 1, 0, top - 0x1000, 0x1000, page))
		TH_LOG("%s", strerror(errno));
	errno = 0;
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, 0, top, 0x1000, page));
	EXPECT_EQ(EINVAL, errno);
	munmap(page, 0x2000);
}

/* Kernel warnings in the log so far, or -1 when we may not read it. */
static int kernel_warnings(void)
{
	int size = klogctl(10, NULL, 0);	/* SYSLOG_ACTION_SIZE_BUFFER */
	char *buf, *p;
	int n = 0, len;

	if (size <= 0)
		return -1;
	buf = malloc(size + 1);
	len = buf ? klogctl(3, buf, size) : -1;	/* SYSLOG_ACTION_READ_ALL */
	if (len < 0) {
		free(buf);
		return -1;
	}
	buf[len] = 0;
	for (p = buf; (p = strstr(p, "WARNING:")); p++)
		n++;
	free(buf);
	return n;
}

/*
 * A 1 TiB slot: served (sparsely: nothing is allocated per page until the
 * guest touches it) or refused with a clean errno, never a kernel warning
 * (run_tests checks dmesg).  Served, a guest store near its end must land.
 */
TEST_F(mem, slot_1tib)
{
	const uint64_t size = 1ULL << 40;
	const uint64_t far = size - 8;
	uint8_t *big;
	uint64_t *pml4, *pdpt, *pd;
	struct mvx_regs r;
	int ret, warnings;

	big = mmap(NULL, size, PROT_READ | PROT_WRITE,
		   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (big == MAP_FAILED)
		SKIP(return, "cannot map 1 TiB of address space: %s",
		     strerror(errno));

	/* Slot 0 becomes the 1 TiB one, with the standard first 2 MiB. */
	memcpy(big, self->vm.mem, self->vm.mem_size);
	ASSERT_EQ(0, vm_add_slot(&self->vm, 0, 0, 0, 0, NULL));
	warnings = kernel_warnings();
	errno = 0;
	ret = vm_add_slot(&self->vm, 0, 0, 0, size, big);
	if (warnings >= 0)
		EXPECT_EQ(warnings, kernel_warnings())
			TH_LOG("the kernel warned (dmesg)");
	if (ret) {
		TH_LOG("1 TiB slot refused: %s", strerror(errno));
		EXPECT_TRUE(errno == EINVAL || errno == ENOMEM ||
			    errno == E2BIG);
		munmap(big, size);
		return;
	}

	/* Linear = physical 1 TiB - 2 MiB through a 2 MiB page. */
	pml4 = (uint64_t *)(big + PML4_GPA);
	pdpt = (uint64_t *)(big + PML4_GPA + 0x6000);
	pd = (uint64_t *)(big + PML4_GPA + 0x7000);
	pml4[1] = (PML4_GPA + 0x6000) | PTE_P | PTE_W;
	pdpt[511] = (PML4_GPA + 0x7000) | PTE_P | PTE_W;
	pd[511] = (size - (2 << 20)) | PTE_P | PTE_W | 0x80;
	memcpy(big + CODE_GPA, store_far_start, store_far_end - store_far_start);

	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rax = far;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0x5a5a1234, *(volatile uint64_t *)(big + far));

	ASSERT_EQ(0, vm_add_slot(&self->vm, 0, 0, 0, 0, NULL));
	munmap(big, size);
}

/*
 * Coherence with the VMM's address space.  Slot 1 is a private anonymous
 * mapping of COH_PAGES pages at GPA COH_GPA; the guest (32-bit, flat, no
 * paging) loads or stores one dword at RBX, or stores EAX in COH_PAGES
 * consecutive pages from RBX.
 */
#define COH_GPA		0x200000UL
#define COH_PAGES	16
#define COH_SIZE	(COH_PAGES * PAGE_SIZE)
#define COH_LOAD_GPA	CODE_GPA
#define COH_STORE_GPA	(CODE_GPA + 0x100)
#define COH_TOUCH_GPA	(CODE_GPA + 0x200)

GUEST_CODE(coh_load,
	".code32\n"
	"movl (%ebx), %eax\n"
	"hlt\n");

GUEST_CODE(coh_store,
	".code32\n"
	"movl %eax, (%ebx)\n"
	"hlt\n");

GUEST_CODE(coh_touch,
	".code32\n"
	"movl $16, %ecx\n"
	"1: movl %eax, (%ebx)\n"
	"addl $0x1000, %ebx\n"
	"loop 1b\n"
	"hlt\n");

static void *coh_map(void)
{
	void *p = mmap(NULL, COH_SIZE, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int coh_setup(struct tvm *vm, uint8_t **mem)
{
	*mem = coh_map();
	if (!*mem)
		return -1;
	guest_load(vm, COH_LOAD_GPA, coh_load_start, coh_load_end);
	guest_load(vm, COH_STORE_GPA, coh_store_start, coh_store_end);
	guest_load(vm, COH_TOUCH_GPA, coh_touch_start, coh_touch_end);
	return vm_add_slot(vm, 1, 0, COH_GPA, COH_SIZE, *mem);
}

/* Run the guest code at @rip with EAX = *@val, EBX = @gpa; EAX back. */
static int coh_run(struct tvcpu *vcpu, uint64_t rip, uint64_t gpa,
		   uint32_t *val)
{
	struct mvx_regs r;

	if (vcpu_set_mode(vcpu, MODE_PROT32, rip) || vcpu_get_regs(vcpu, &r))
		return -1;
	r.rax = *val;
	r.rbx = gpa;
	if (vcpu_set_regs(vcpu, &r) || vcpu_run(vcpu))
		return -1;
	if (vcpu->run->exit_reason != MVX_EXIT_HLT) {
		errno = EPROTO;
		return -1;
	}
	if (vcpu_get_regs(vcpu, &r))
		return -1;
	*val = r.rax;
	return 0;
}

static int guest_store(struct tvcpu *vcpu, uint64_t gpa, uint32_t val)
{
	return coh_run(vcpu, COH_STORE_GPA, gpa, &val);
}

/* The dword the guest reads at @gpa, or 0xdeadbeef when it cannot. */
static uint32_t guest_load32(struct tvcpu *vcpu, uint64_t gpa)
{
	uint32_t val = 0;

	return coh_run(vcpu, COH_LOAD_GPA, gpa, &val) ? 0xdeadbeef : val;
}

static uint32_t *coh_word(uint8_t *mem, unsigned int page)
{
	return (uint32_t *)(mem + page * PAGE_SIZE);
}

/* The VMM discards a page the guest has used, then writes it. */
TEST_F(mem, dontneed_then_vmm_write_reaches_guest)
{
	uint8_t *mem;

	ASSERT_EQ(0, coh_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA, 0x11111111));
	EXPECT_EQ(0x11111111, *(volatile uint32_t *)coh_word(mem, 0));
	ASSERT_EQ(0, madvise(mem, PAGE_SIZE, MADV_DONTNEED));
	EXPECT_EQ(0, *(volatile uint32_t *)coh_word(mem, 0));
	*(volatile uint32_t *)coh_word(mem, 0) = 0x22222222;
	EXPECT_EQ(0x22222222, guest_load32(&self->vcpu, COH_GPA))
		TH_LOG("the guest still sees the discarded page");
	munmap(mem, COH_SIZE);
}

/* ... and the other way round: the guest writes, the VMM reads it. */
TEST_F(mem, dontneed_then_guest_write_reaches_vmm)
{
	uint8_t *mem;

	ASSERT_EQ(0, coh_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + PAGE_SIZE, 0x11111111));
	ASSERT_EQ(0, madvise(mem, COH_SIZE, MADV_DONTNEED));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + PAGE_SIZE, 0x33333333));
	EXPECT_EQ(0x33333333, *(volatile uint32_t *)coh_word(mem, 1))
		TH_LOG("the guest wrote to the discarded page");
	EXPECT_EQ(0x33333333, guest_load32(&self->vcpu, COH_GPA + PAGE_SIZE));
	munmap(mem, COH_SIZE);
}

/*
 * With the slot's backing unmapped, the guest's next access is an error
 * from RUN (EFAULT, as on KVM), never a read of the page that was there.
 */
TEST_F(mem, munmap_backing_fails_run)
{
	uint8_t *mem;
	uint32_t val = 0;

	ASSERT_EQ(0, coh_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA, 0x11111111));
	ASSERT_EQ(0, munmap(mem, COH_SIZE));
	errno = 0;
	EXPECT_EQ(-1, coh_run(&self->vcpu, COH_LOAD_GPA, COH_GPA, &val))
		TH_LOG("the guest read %#x from unmapped memory (%s)", val,
		       describe_exit(&self->vcpu));
	EXPECT_EQ(EFAULT, errno);
}

/* A page moved onto the slot's address by mremap is what the guest sees. */
TEST_F(mem, mremap_onto_slot)
{
	uint8_t *mem, *other;

	ASSERT_EQ(0, coh_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + 2 * PAGE_SIZE,
				 0x11111111));
	other = coh_map();
	ASSERT_NE(NULL, other);
	*(volatile uint32_t *)other = 0x44444444;
	ASSERT_EQ(coh_word(mem, 2),
		  mremap(other, PAGE_SIZE, PAGE_SIZE,
			 MREMAP_MAYMOVE | MREMAP_FIXED, coh_word(mem, 2)));
	EXPECT_EQ(0x44444444, guest_load32(&self->vcpu,
					   COH_GPA + 2 * PAGE_SIZE))
		TH_LOG("the guest still sees the page mremap replaced");
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + 2 * PAGE_SIZE,
				 0x55555555));
	EXPECT_EQ(0x55555555, *(volatile uint32_t *)coh_word(mem, 2));
	munmap(other, COH_SIZE);
	munmap(mem, COH_SIZE);
}

/*
 * fork(): copy-on-write must leave the guest on the parent's pages, the
 * ones it had and the ones it touches later; the child's writes stay
 * the child's.
 */
TEST_F(mem, fork_keeps_guest_on_parent_pages)
{
	uint8_t *mem;
	int status;
	pid_t pid;

	ASSERT_EQ(0, coh_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA, 0x11111111));
	*(volatile uint32_t *)coh_word(mem, 3) = 0x12121212;
	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		*(volatile uint32_t *)coh_word(mem, 0) = 0x66666666;
		*(volatile uint32_t *)coh_word(mem, 3) = 0x66666666;
		_exit(0);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_EQ(0x11111111, guest_load32(&self->vcpu, COH_GPA));
	EXPECT_EQ(0x12121212, guest_load32(&self->vcpu, COH_GPA + 3 * PAGE_SIZE));
	/* The parent's writes after the fork reach the guest... */
	*(volatile uint32_t *)coh_word(mem, 0) = 0x77777777;
	*(volatile uint32_t *)coh_word(mem, 3) = 0x78787878;
	EXPECT_EQ(0x77777777, guest_load32(&self->vcpu, COH_GPA));
	EXPECT_EQ(0x78787878, guest_load32(&self->vcpu, COH_GPA + 3 * PAGE_SIZE));
	/* ... and the guest's reach the parent. */
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA, 0x88888888));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + 3 * PAGE_SIZE,
				 0x89898989));
	EXPECT_EQ(0x88888888, *(volatile uint32_t *)coh_word(mem, 0));
	EXPECT_EQ(0x89898989, *(volatile uint32_t *)coh_word(mem, 3));
	munmap(mem, COH_SIZE);
}

/*
 * Dirty logging (KVM_MEM_LOG_DIRTY_PAGES, KVM_GET_DIRTY_LOG) on the
 * coherence slot: the guest's stores and a string IN it leaves to the
 * host, each page's bit set exactly when something wrote it.
 */
#define DIRTY_INS_GPA	(CODE_GPA + 0x300)

/* EDI: destination; four bytes from INS_PORT. */
GUEST_CODE(dirty_ins,
	".code32\n"
	"movl $4, %ecx\n"
	"movw $0x10, %dx\n"
	"rep insb\n"
	"hlt\n");

static int dirty_setup(struct tvm *vm, uint8_t **mem)
{
	*mem = coh_map();
	if (!*mem)
		return -1;
	guest_load(vm, COH_LOAD_GPA, coh_load_start, coh_load_end);
	guest_load(vm, COH_STORE_GPA, coh_store_start, coh_store_end);
	guest_load(vm, DIRTY_INS_GPA, dirty_ins_start, dirty_ins_end);
	return vm_add_slot(vm, 1, MVX_MEM_LOG_DIRTY_PAGES, COH_GPA, COH_SIZE,
			   *mem);
}

/* KVM_GET_DIRTY_LOG of @slot into *@bits (the slot has up to 64 pages). */
static int get_dirty(struct tvm *vm, uint32_t slot, uint64_t *bits)
{
	struct mvx_dirty_log log = { .slot = slot };

	*bits = 0xdeadbeefdeadbeefULL;
	log.dirty_bitmap = bits;
	return ioctl(vm->fd, MVX_GET_DIRTY_LOG, &log);
}

/* Turn logging of the coherence slot on or off, nothing else. */
static int dirty_set_logging(struct tvm *vm, uint8_t *mem, bool on)
{
	return vm_add_slot(vm, 1, on ? MVX_MEM_LOG_DIRTY_PAGES : 0, COH_GPA,
			   COH_SIZE, mem);
}

#define PAGE_BIT(n)	(1ULL << (n))

#define EXPECT_DIRTY(vm, want) do {					\
	uint64_t __bits;						\
									\
	ASSERT_EQ(0, get_dirty(vm, 1, &__bits))				\
		TH_LOG("GET_DIRTY_LOG: %s", strerror(errno));		\
	EXPECT_EQ((uint64_t)(want), __bits)				\
		TH_LOG("dirty pages %#llx, want %#llx",			\
		       (unsigned long long)__bits,			\
		       (unsigned long long)(want));			\
} while (0)

/*
 * Stores set their page's bit, loads do not; a GET clears the bits and
 * the next store to a page sets its bit again, also on a page the guest
 * has only read so far (mapped, but without write access).  The pages
 * read are ones the VMM has not written: KVM maps a page writable, and
 * logs it, at a read already when the VMM's own mapping of it is.
 */
TEST_F(mem, dirty_log_guest_writes)
{
	struct tvcpu *vcpu = &self->vcpu;
	uint8_t *mem;

	ASSERT_EQ(0, dirty_setup(&self->vm, &mem))
		TH_LOG("slot with LOG_DIRTY_PAGES: %s", strerror(errno));
	EXPECT_DIRTY(&self->vm, 0);

	EXPECT_EQ(0, guest_load32(vcpu, COH_GPA + 2 * PAGE_SIZE));
	EXPECT_EQ(0, guest_load32(vcpu, COH_GPA + 7 * PAGE_SIZE));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 1 * PAGE_SIZE, 0x1111));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 5 * PAGE_SIZE, 0x5555));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 15 * PAGE_SIZE + 0xffc,
				 0xffff));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(1) | PAGE_BIT(5) | PAGE_BIT(15));
	/* Nothing written since. */
	EXPECT_DIRTY(&self->vm, 0);

	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 5 * PAGE_SIZE, 0x5556));
	EXPECT_EQ(0x1111, guest_load32(vcpu, COH_GPA + 1 * PAGE_SIZE));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 2 * PAGE_SIZE, 0x2223));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(2) | PAGE_BIT(5));
	EXPECT_DIRTY(&self->vm, 0);

	EXPECT_EQ(0x1111, *(volatile uint32_t *)coh_word(mem, 1));
	EXPECT_EQ(0x2223, *(volatile uint32_t *)coh_word(mem, 2));
	EXPECT_EQ(0x5556, *(volatile uint32_t *)coh_word(mem, 5));
	EXPECT_EQ(0xffff, *(volatile uint32_t *)(mem + 16 * PAGE_SIZE - 4));
	munmap(mem, COH_SIZE);
}

/*
 * The host writes guest memory for a string IN: that page is dirty too,
 * though the guest never touched it itself.
 */
TEST_F(mem, dirty_log_emulated_write)
{
	struct tvcpu *vcpu = &self->vcpu;
	struct mvx_regs r;
	uint8_t *mem;
	int i;

	ASSERT_EQ(0, dirty_setup(&self->vm, &mem));
	ASSERT_EQ(0, vcpu_set_mode(vcpu, MODE_PROT32, DIRTY_INS_GPA));
	ASSERT_EQ(0, vcpu_get_regs(vcpu, &r));
	r.rdi = COH_GPA + 9 * PAGE_SIZE + 0x10;
	ASSERT_EQ(0, vcpu_set_regs(vcpu, &r));
	for (i = 0; i < 8; i++) {
		ASSERT_EQ(0, vcpu_run(vcpu)) TH_LOG("%s", strerror(errno));
		if (vcpu->run->exit_reason != MVX_EXIT_IO)
			break;
		ASSERT_EQ(INS_PORT, vcpu->run->io.port);
		memset((char *)vcpu->run + vcpu->run->io.data_offset, 0xab,
		       vcpu->run->io.size * vcpu->run->io.count);
	}
	ASSERT_EQ(MVX_EXIT_HLT, vcpu->run->exit_reason)
		TH_LOG("%s", describe_exit(vcpu));
	EXPECT_EQ(0xabababab, *(volatile uint32_t *)(mem + 9 * PAGE_SIZE +
						     0x10));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(9));
	EXPECT_DIRTY(&self->vm, 0);
	munmap(mem, COH_SIZE);
}

/*
 * Logging turned off and on again by a flags-only change: GET fails
 * while it is off; turned on, it starts empty and catches the next write
 * to a page the guest wrote while it was off.
 */
TEST_F(mem, dirty_log_toggle)
{
	struct tvcpu *vcpu = &self->vcpu;
	uint64_t bits;
	uint8_t *mem;

	ASSERT_EQ(0, dirty_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA, 0x1));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(0));

	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 3 * PAGE_SIZE, 0x3));
	ASSERT_EQ(0, dirty_set_logging(&self->vm, mem, false))
		TH_LOG("logging off: %s", strerror(errno));
	EXPECT_EQ(-1, get_dirty(&self->vm, 1, &bits));
	EXPECT_EQ(ENOENT, errno);
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 4 * PAGE_SIZE, 0x4));
	/* Page 0 was left without write access by the GET above. */
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA, 0x5));

	ASSERT_EQ(0, dirty_set_logging(&self->vm, mem, true))
		TH_LOG("logging on: %s", strerror(errno));
	EXPECT_DIRTY(&self->vm, 0);
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 4 * PAGE_SIZE, 0x6));
	ASSERT_EQ(0, guest_store(vcpu, COH_GPA + 3 * PAGE_SIZE, 0x7));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(3) | PAGE_BIT(4));
	EXPECT_EQ(0x5, *(volatile uint32_t *)coh_word(mem, 0));
	EXPECT_EQ(0x7, *(volatile uint32_t *)coh_word(mem, 3));
	EXPECT_EQ(0x6, *(volatile uint32_t *)coh_word(mem, 4));
	munmap(mem, COH_SIZE);
}

/* A logging slot keeps its bits when it moves, as on KVM. */
TEST_F(mem, dirty_log_move_keeps_bits)
{
	uint8_t *mem;

	ASSERT_EQ(0, dirty_setup(&self->vm, &mem));
	ASSERT_EQ(0, guest_store(&self->vcpu, COH_GPA + 6 * PAGE_SIZE, 0x6));
	ASSERT_EQ(0, vm_add_slot(&self->vm, 1, MVX_MEM_LOG_DIRTY_PAGES,
				 2 * COH_GPA, COH_SIZE, mem))
		TH_LOG("move: %s", strerror(errno));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(6));
	ASSERT_EQ(0, guest_store(&self->vcpu, 2 * COH_GPA + 8 * PAGE_SIZE,
				 0x8));
	EXPECT_DIRTY(&self->vm, PAGE_BIT(8));
	EXPECT_EQ(0x8, *(volatile uint32_t *)coh_word(mem, 8));
	munmap(mem, COH_SIZE);
}

/* KVM's errors: which slots GET refuses, and which flag changes. */
TEST_F(mem, dirty_log_errors)
{
	static const struct {
		uint32_t slot;
		int err;
	} cases[] = {
		{ 0, ENOENT },			/* exists, does not log */
		{ 7, ENOENT },			/* no such slot */
		{ 100, ENOENT },		/* beyond ours, within KVM's ids */
		{ 32763, ENOENT },
		{ 32764, EINVAL },		/* not a user slot id */
		{ 0xffff, EINVAL },
		{ (1U << 16) | 1, ENOENT },	/* SMM address space */
		{ 2U << 16, EINVAL },		/* no such address space */
		{ ~0U, EINVAL },
	};
	struct mvx_dirty_log log = { .slot = 1 };
	uint64_t bits;
	uint8_t *mem;
	unsigned int i;

	ASSERT_EQ(0, dirty_setup(&self->vm, &mem));
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		errno = 0;
		EXPECT_EQ(-1, get_dirty(&self->vm, cases[i].slot, &bits))
			TH_LOG("slot %#x", cases[i].slot);
		EXPECT_EQ(cases[i].err, errno)
			TH_LOG("slot %#x: %s", cases[i].slot, strerror(errno));
	}
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_GET_DIRTY_LOG, NULL));
	EXPECT_EQ(EFAULT, errno);
	log.dirty_bitmap = (void *)0x10;
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_GET_DIRTY_LOG, &log));
	EXPECT_EQ(EFAULT, errno);

	/* READONLY cannot change on an existing slot, logging or not. */
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, MVX_MEM_LOG_DIRTY_PAGES |
				  MVX_MEM_READONLY, COH_GPA, COH_SIZE, mem));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 1, MVX_MEM_READONLY, COH_GPA,
				  COH_SIZE, mem));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_DIRTY(&self->vm, 0);

	/* A read-only slot may log (nothing), and stays read-only. */
	ASSERT_EQ(0, vm_add_slot(&self->vm, 2, MVX_MEM_READONLY |
				 MVX_MEM_LOG_DIRTY_PAGES, 2 * COH_GPA,
				 PAGE_SIZE, mem))
		TH_LOG("read-only and logging: %s", strerror(errno));
	EXPECT_EQ(0, get_dirty(&self->vm, 2, &bits));
	EXPECT_EQ(0, bits);
	EXPECT_EQ(-1, vm_add_slot(&self->vm, 2, MVX_MEM_LOG_DIRTY_PAGES,
				  2 * COH_GPA, PAGE_SIZE, mem));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(0, vm_add_slot(&self->vm, 2, MVX_MEM_READONLY, 2 * COH_GPA,
				 PAGE_SIZE, mem));
	EXPECT_EQ(-1, get_dirty(&self->vm, 2, &bits));
	EXPECT_EQ(ENOENT, errno);

	/* Deleted, the slot has no log. */
	ASSERT_EQ(0, vm_add_slot(&self->vm, 1, 0, COH_GPA, 0, mem));
	EXPECT_EQ(-1, get_dirty(&self->vm, 1, &bits));
	EXPECT_EQ(ENOENT, errno);
	munmap(mem, COH_SIZE);
}

/*
 * One VM: the guest touches every page of slot 1, the VMM discards them
 * (on minivmx the pins must go with them) and the guest touches them
 * again.  0 or a line number.
 */
static int coh_cycle(void)
{
	struct tvcpu vcpu;
	struct tvm vm;
	uint8_t *mem = NULL;
	uint32_t val = 0x5a5a5a5a;
	long touched, after;
	int ret = __LINE__;

	if (vm_create(&vm))
		goto out_vm;
	if (vcpu_add(&vm, 0, &vcpu))
		goto out_vm;
	if (coh_setup(&vm, &mem))
		goto out;
	ret = __LINE__;
	if (coh_run(&vcpu, COH_TOUCH_GPA, COH_GPA, &val))
		goto out;
	touched = mvx_pinned_pages();
	ret = __LINE__;
	if (*(volatile uint32_t *)coh_word(mem, COH_PAGES - 1) != val ||
	    madvise(mem, COH_SIZE, MADV_DONTNEED))
		goto out;
	after = mvx_pinned_pages();
	ret = __LINE__;
	if (touched >= 0 && touched - after != COH_PAGES)
		goto out;
	ret = __LINE__;
	val = 0x6b6b6b6b;
	if (coh_run(&vcpu, COH_TOUCH_GPA, COH_GPA, &val) ||
	    *(volatile uint32_t *)coh_word(mem, COH_PAGES - 1) != val)
		goto out;
	ret = 0;
out:
	vcpu_close(&vcpu);
out_vm:
	vm_destroy(&vm);
	if (mem)
		munmap(mem, COH_SIZE);
	return ret;
}

/*
 * 1,000 VMs, each touching, discarding and touching again 16 pages: the
 * pins go as the VMM discards (minivmx), nothing stays behind.  KVM in
 * QEMU's TCG takes minutes for these.
 */
FIXTURE(churn) {
};

FIXTURE_SETUP(churn)
{
}

FIXTURE_TEARDOWN(churn)
{
}

TEST_F_TIMEOUT(churn, create_touch_discard_destroy_1000, 600)
{
	long mem0, mem1, pin0, pin1;
	bool kasan = mvx_kernel_has_kasan();
	int i;

	for (i = 0; i < 20; i++) {
		int line = coh_cycle();

		ASSERT_EQ(0, line) TH_LOG("warm-up cycle %d: failed at line %d: %s",
					  i, line, strerror(errno));
	}
	if (kasan)
		mvx_drain_kasan_quarantine();
	mem0 = mvx_settled_mem_available_kb();
	pin0 = mvx_pinned_pages();
	for (i = 0; i < 1000; i++) {
		int line = coh_cycle();

		ASSERT_EQ(0, line) TH_LOG("cycle %d: failed at line %d: %s",
					  i, line, strerror(errno));
	}
	if (kasan)
		mvx_drain_kasan_quarantine();
	mem1 = mvx_settled_mem_available_kb();
	pin1 = mvx_pinned_pages();
	TH_LOG("MemAvailable %ld -> %ld kB, pinned %ld -> %ld",
	       mem0, mem1, pin0, pin1);
	/* 32 pages touched per VM: a leak of them would be 125 MiB. */
	EXPECT_GT(8192, mem0 - mem1);
	EXPECT_EQ(pin0, pin1);
}

TEST_HARNESS_MAIN
