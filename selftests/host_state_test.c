// SPDX-License-Identifier: GPL-2.0
/*
 * Issue 13: what a guest may do to the host's state, and how an exit is
 * finished.  XSETBV accepts exactly the XCR0 values the SDM allows within
 * the guest's CPUID leaf 0xD, and #GPs on the rest; the guest's PKRU never
 * reaches the VMM's userspace; time in the guest is the task's guest time;
 * a pending PIO/MMIO completion is finished before immediate_exit is
 * honoured, and dropped when userspace moves the vCPU elsewhere.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/time.h>
#include <unistd.h>
#include <cpuid.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define IDT_GPA		0x9000
#define XS_COUNT_GPA	(DATA_GPA + 0xf8)
#define XS_TABLE_GPA	(DATA_GPA + 0x100)
#define XS_MAX		100
#define CR4_OSXSAVE	(1UL << 18)
#define CR4_PKE		(1UL << 22)

/* XCR0 components (SDM Vol. 1, 13.1). */
#define XF_FP		(1ULL << 0)
#define XF_SSE		(1ULL << 1)
#define XF_YMM		(1ULL << 2)
#define XF_BNDREGS	(1ULL << 3)
#define XF_BNDCSR	(1ULL << 4)
#define XF_AVX512	(7ULL << 5)
#define XF_OPMASK	(1ULL << 5)
#define XF_PKRU		(1ULL << 9)
#define XF_PASID	(1ULL << 10)
#define XF_XTILECFG	(1ULL << 17)
#define XF_XTILE	(3ULL << 17)

FIXTURE(host) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(host)
{
	ASSERT_SETUP(&self->vm, &self->vcpu);
}

FIXTURE_TEARDOWN(host)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

#define LOAD(mode, name) do {						\
	guest_load(&self->vm, CODE_GPA, name##_start, name##_end);	\
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, mode, CODE_GPA))	\
		TH_LOG("set mode: %s", strerror(errno));		\
} while (0)

/* ------------------------------------------------------------- XSETBV */

static struct mvx_cpuid_entry2 *leaf(struct mvx_cpuid2 *c, uint32_t fn,
				     uint32_t idx)
{
	uint32_t i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == fn && c->entries[i].index == idx)
			return &c->entries[i];
	return NULL;
}

/*
 * The SDM's rules for XCR0 (Vol. 1, 13.3), written out once more here
 * independently of the module: @allowed is what leaf 0xD offers the guest.
 */
static bool xcr0_ok(uint64_t v, uint64_t allowed)
{
	if (!(v & XF_FP) || (v & ~(allowed | XF_FP)))
		return false;
	if ((v & XF_YMM) && !(v & XF_SSE))
		return false;
	if (!(v & XF_BNDREGS) != !(v & XF_BNDCSR))
		return false;
	if ((v & XF_AVX512) &&
	    ((v & XF_AVX512) != XF_AVX512 || !(v & XF_YMM)))
		return false;
	if ((v & XF_XTILE) && (v & XF_XTILE) != XF_XTILE)
		return false;
	return true;
}

struct xs_entry {
	uint64_t value;
	uint32_t ecx;
	uint32_t vector;	/* 0: none, 6: #UD, 13: #GP */
	uint64_t xcr0_after;	/* XGETBV right after */
};

extern const unsigned char xs_guest_gp[], xs_guest_ud[], xs_guest_other[];
GUEST_CODE(xs_guest,
	".code64\n"
	"jmp 9f\n"
	"xs_guest_gp:\n"
	"add $8, %rsp\n"
	"mov $13, %r14d\n"
	"mov %r15, (%rsp)\n"
	"iretq\n"
	"xs_guest_ud:\n"
	"mov $6, %r14d\n"
	"mov %r15, (%rsp)\n"
	"iretq\n"
	"xs_guest_other:\n"
	"hlt\n"
	"9: mov $0x3100, %rbx\n"
	"mov (0x30f8), %r12d\n"
	"2: test %r12d, %r12d\n"
	"jz 3f\n"
	"xor %r14d, %r14d\n"
	"mov (%rbx), %eax\n"
	"mov 4(%rbx), %edx\n"
	"mov 8(%rbx), %ecx\n"
	"lea 1f(%rip), %r15\n"
	"xsetbv\n"
	"1: mov %r14d, 12(%rbx)\n"
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"mov %eax, 16(%rbx)\n"
	"mov %edx, 20(%rbx)\n"
	"add $24, %rbx\n"
	"dec %r12d\n"
	"jmp 2b\n"
	"3: out %al, $0x70\n"
	"hlt\n");

static void put_gate(struct tvm *vm, int v, uint64_t h)
{
	uint64_t *idt = (uint64_t *)(vm->mem + IDT_GPA);

	idt[2 * v] = (h & 0xffff) | ((uint64_t)SEL_CODE64 << 16) |
		     (0x8eULL << 40) | ((h >> 16 & 0xffff) << 48);
	idt[2 * v + 1] = h >> 32;
}

/*
 * Long mode with CPUID @c (after vcpu_set_mode(), which gives KVM the
 * full table), CR4 bits @cr4 added and #UD/#GP handlers.
 */
static int long_mode_with(struct tvm *vm, struct tvcpu *vcpu,
			  struct mvx_cpuid2 *c, uint64_t cr4, bool idt)
{
	struct mvx_sregs s;
	int v;

	if (vcpu_set_mode(vcpu, MODE_LONG, CODE_GPA) ||
	    (c && ioctl(vcpu->fd, MVX_SET_CPUID2, c)) ||
	    vcpu_get_sregs(vcpu, &s))
		return -1;
	if (idt) {
		for (v = 0; v < 32; v++)
			put_gate(vm, v, CODE_GPA + (xs_guest_other - xs_guest_start));
		put_gate(vm, 6, CODE_GPA + (xs_guest_ud - xs_guest_start));
		put_gate(vm, 13, CODE_GPA + (xs_guest_gp - xs_guest_start));
		s.idt.base = IDT_GPA;
		s.idt.limit = 32 * 16 - 1;
	}
	s.cr4 |= cr4;
	return vcpu_set_sregs(vcpu, &s);
}

/* Values that probe each rule; the host's own XCR0 is added by the test. */
static const struct { uint64_t v; uint32_t ecx; } xs_probes[] = {
	{ XF_FP, 0 },
	{ XF_FP | XF_SSE, 0 },
	{ XF_SSE, 0 },
	{ 0, 0 },
	{ XF_FP | XF_YMM, 0 },
	{ XF_FP | XF_SSE | XF_YMM, 0 },
	{ XF_FP | XF_SSE | XF_YMM | XF_OPMASK, 0 },
	{ XF_FP | XF_SSE | XF_AVX512, 0 },
	{ XF_FP | XF_SSE | XF_YMM | XF_AVX512, 0 },
	{ XF_FP | XF_BNDREGS, 0 },
	{ XF_FP | XF_BNDCSR, 0 },
	{ XF_FP | XF_BNDREGS | XF_BNDCSR, 0 },
	{ XF_FP | XF_SSE | XF_PKRU, 0 },
	{ XF_FP | XF_PASID, 0 },
	{ XF_FP | XF_SSE | XF_XTILECFG, 0 },
	{ XF_FP | XF_SSE | XF_YMM | XF_XTILE, 0 },
	{ XF_FP | (1ULL << 63), 0 },
	{ ~0ULL, 0 },
	{ XF_FP | XF_SSE, 1 },
	{ XF_FP, 0xffffffff },
	{ XF_FP | XF_SSE, 0 },
};

/* Runs every probe in the guest and checks each outcome. */
static void run_xsetbv_probes(struct __test_metadata *_metadata,
			      struct tvm *vm, struct tvcpu *vcpu,
			      uint64_t allowed)
{
	struct xs_entry *t = (struct xs_entry *)(vm->mem + XS_TABLE_GPA);
	unsigned int n = 0, i;
	uint64_t cur = XF_FP;	/* XCR0 after RESET */
	bool ok;

	for (i = 0; i < sizeof(xs_probes) / sizeof(xs_probes[0]); i++) {
		t[n].value = xs_probes[i].v;
		t[n++].ecx = xs_probes[i].ecx;
	}
	t[n++].value = allowed;
	t[n++].value = allowed & (XF_FP | XF_SSE | XF_YMM | XF_AVX512);
	wr32(vm, XS_COUNT_GPA, n);

	ASSERT_IO(vcpu, MVX_EXIT_IO_OUT, 0x70, 1);
	for (i = 0; i < n; i++) {
		ok = t[i].ecx == 0 && xcr0_ok(t[i].value, allowed);
		if (ok)
			cur = t[i].value;
		EXPECT_EQ(ok ? 0 : 13, t[i].vector)
			TH_LOG("XSETBV(ecx %#x, %#llx) with leaf 0xD %#llx: %s",
			       t[i].ecx, (unsigned long long)t[i].value,
			       (unsigned long long)allowed,
			       ok ? "valid, faulted" : "invalid, no #GP");
		EXPECT_EQ(cur, t[i].xcr0_after)
			TH_LOG("after XSETBV(%#llx): XCR0 %#llx",
			       (unsigned long long)t[i].value,
			       (unsigned long long)t[i].xcr0_after);
	}
}

static uint64_t leaf_d_xcr0(struct mvx_cpuid2 *c)
{
	struct mvx_cpuid_entry2 *d = leaf(c, 0xd, 0);

	return d ? d->eax | (uint64_t)d->edx << 32 : 0;
}

/* XCR0 = x87|SSE and every other valid value loads; the invalid ones #GP. */
TEST_F(host, xsetbv_follows_sdm_rules)
{
	struct mvx_cpuid2 *c;
	uint64_t allowed;

	if (host_is_qemu_tcg())
		SKIP(return, "QEMU TCG does not deliver the XSETBV intercept");
	c = supported_cpuid();
	ASSERT_NE(NULL, c);
	allowed = leaf_d_xcr0(c);
	if (!(allowed & XF_FP))
		SKIP(free(c); return, "no XSAVE on this CPU");
	guest_load(&self->vm, CODE_GPA, xs_guest_start, xs_guest_end);
	ASSERT_EQ(0, long_mode_with(&self->vm, &self->vcpu, c, CR4_OSXSAVE,
				    true));
	free(c);
	TH_LOG("leaf 0xD XCR0 bits: %#llx", (unsigned long long)allowed);
	run_xsetbv_probes(_metadata, &self->vm, &self->vcpu, allowed);
}

/* What the guest's CPUID leaf 0xD leaves out is refused, host support or not. */
TEST_F(host, xsetbv_limited_by_guest_cpuid)
{
	struct mvx_cpuid2 *c;
	struct mvx_cpuid_entry2 *d;

	if (host_is_qemu_tcg())
		SKIP(return, "QEMU TCG does not deliver the XSETBV intercept");
	c = supported_cpuid();
	ASSERT_NE(NULL, c);
	d = leaf(c, 0xd, 0);
	if (!d || !(d->eax & XF_SSE))
		SKIP(free(c); return, "no XSAVE on this CPU");
	d->eax = XF_FP | XF_SSE;
	d->edx = 0;
	guest_load(&self->vm, CODE_GPA, xs_guest_start, xs_guest_end);
	ASSERT_EQ(0, long_mode_with(&self->vm, &self->vcpu, c, CR4_OSXSAVE,
				    true));
	free(c);
	run_xsetbv_probes(_metadata, &self->vm, &self->vcpu, XF_FP | XF_SSE);
}

static bool host_has_ospke(void);

static int set_cr4_bits(struct tvcpu *vcpu, uint64_t bits)
{
	struct mvx_sregs s;

	if (vcpu_get_sregs(vcpu, &s))
		return -1;
	s.cr4 |= bits;
	return vcpu_set_sregs(vcpu, &s);
}

/*
 * XSAVE (and with it CR4.OSXSAVE) is offered exactly when leaf 0xD has
 * components for XSETBV to enable, and PKU (CR4.PKE) when the host runs
 * with protection keys.  Under Bochs the kernel turns XSAVE off (its leaf
 * 0xD sizes do not add up): XSAVE used to be offered with nothing to set.
 */
TEST_F(host, xsave_and_pku_offered_only_when_usable)
{
	struct mvx_cpuid2 *c = supported_cpuid();
	struct mvx_cpuid_entry2 *l1, *l7;
	bool xsave, pku;

	ASSERT_NE(NULL, c);
	l1 = leaf(c, 1, 0);
	l7 = leaf(c, 7, 0);
	ASSERT_NE(NULL, l1);
	xsave = l1->ecx & (1U << 26);
	pku = l7 && (l7->ecx & (1U << 3));
	TH_LOG("XSAVE %d, leaf 0xD %#llx, PKU %d, host OSPKE %d", xsave,
	       (unsigned long long)leaf_d_xcr0(c), pku, host_has_ospke());
	EXPECT_EQ(xsave, !!(leaf_d_xcr0(c) & XF_FP));
	EXPECT_EQ(pku, host_has_ospke());
	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_SET_CPUID2, c));
	free(c);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_LONG, CODE_GPA));
	EXPECT_EQ(xsave ? 0 : -1, set_cr4_bits(&self->vcpu, CR4_OSXSAVE));
	EXPECT_EQ(pku ? 0 : -1, set_cr4_bits(&self->vcpu, CR4_PKE));
}

/* --------------------------------------------------------------- PKRU */

static bool host_has_ospke(void)
{
	unsigned int a, b, c, d;

	if (!__get_cpuid_count(7, 0, &a, &b, &c, &d))
		return false;
	return c & (1U << 4);
}

static uint32_t rdpkru(void)
{
	uint32_t eax, edx;

	asm volatile(".byte 0x0f, 0x01, 0xee"
		     : "=a" (eax), "=d" (edx) : "c" (0));
	return eax;
}

GUEST_CODE(pkru_guest,
	".code64\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"mov $0x0000000c, %eax\n"
	"wrpkru\n"
	"out %al, $0x80\n"
	"rdpkru\n"
	"mov %eax, (0x3000)\n"
	"mov $0xfffffffc, %eax\n"
	"wrpkru\n"
	"out %al, $0x80\n"
	"rdpkru\n"
	"mov %eax, (0x3004)\n"
	"hlt\n");

/*
 * The VMM's own PKRU (here with a key that denies writes) is what its
 * userspace sees after every RUN, whatever the guest wrote; the guest
 * keeps its own value across exits.
 */
TEST_F(host, pkru_stays_with_its_owner)
{
	uint32_t host_pkru;
	int pkey, i;

	if (!host_has_ospke())
		SKIP(return, "no protection keys on this CPU");
	pkey = pkey_alloc(0, PKEY_DISABLE_WRITE);
	ASSERT_LE(0, pkey) TH_LOG("pkey_alloc: %s", strerror(errno));
	host_pkru = rdpkru();
	TH_LOG("key %d, host PKRU %#x", pkey, host_pkru);
	guest_load(&self->vm, CODE_GPA, pkru_guest_start, pkru_guest_end);
	ASSERT_EQ(0, long_mode_with(&self->vm, &self->vcpu, NULL, CR4_PKE,
				    false))
		TH_LOG("CR4.PKE: %s", strerror(errno));
	for (i = 0; i < 2; i++) {
		ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, 0x80, 1);
		ASSERT_EQ(host_pkru, rdpkru()) TH_LOG("after RUN %d", i);
	}
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(host_pkru, rdpkru());
	EXPECT_EQ(0x0000000c, rd32(&self->vm, DATA_GPA));
	EXPECT_EQ(0xfffffffc, rd32(&self->vm, DATA_GPA + 4));
	pkey_free(pkey);
}

/*
 * XCR0 = x87|SSE, an exit to userspace, XGETBV: the value the guest set
 * survives the exit.  (QEMU's TCG runs the guest's XSETBV without the
 * intercept: quirk 4 reads XCR0 back so that the next entry keeps it.)
 */
GUEST_CODE(xcr0_exit_guest,
	".code64\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"mov $3, %eax\n"
	"xsetbv\n"
	"out %al, $0x80\n"
	"xor %ecx, %ecx\n"
	"xgetbv\n"
	"mov %eax, (0x3000)\n"
	"mov %edx, (0x3004)\n"
	"hlt\n");

TEST_F(host, xcr0_survives_exits)
{
	struct mvx_cpuid2 *c;

	c = supported_cpuid();
	ASSERT_NE(NULL, c);
	if (!(leaf_d_xcr0(c) & XF_SSE))
		SKIP(free(c); return, "no XSAVE on this CPU");
	guest_load(&self->vm, CODE_GPA, xcr0_exit_guest_start,
		   xcr0_exit_guest_end);
	ASSERT_EQ(0, long_mode_with(&self->vm, &self->vcpu, c, CR4_OSXSAVE,
				    false));
	free(c);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, 0x80, 1);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(3, rd32(&self->vm, DATA_GPA));
	EXPECT_EQ(0, rd32(&self->vm, DATA_GPA + 4));
}

/*
 * What a Linux guest does for a signal: with CR4.PKE, XCR0 = x87|SSE|PKRU
 * and a PKRU value, XSAVE, an exit to userspace, a new PKRU value written
 * into the save area, XRSTOR, RDPKRU.  OSPKE in CPUID follows CR4.PKE.
 */
GUEST_CODE(pkru_xrstor_guest,
	".code64\n"
	"mov $7, %eax\n"
	"xor %ecx, %ecx\n"
	"cpuid\n"
	"mov %ecx, (0x3008)\n"
	"xor %ecx, %ecx\n"
	"xor %edx, %edx\n"
	"mov $0x203, %eax\n"
	"xsetbv\n"
	"mov $0x55555554, %eax\n"
	"xor %ecx, %ecx\n"
	"wrpkru\n"
	"mov $0x4000, %rdi\n"
	"mov $0x203, %eax\n"
	"xor %edx, %edx\n"
	"xsave (%rdi)\n"
	"out %al, $0x80\n"
	"mov $0xd, %eax\n"
	"mov $9, %ecx\n"
	"cpuid\n"
	"movl $0x0000000c, (%rdi,%rbx)\n"
	"orq $0x200, 512(%rdi)\n"
	"mov $0x203, %eax\n"
	"xor %edx, %edx\n"
	"xrstor (%rdi)\n"
	"xor %ecx, %ecx\n"
	"rdpkru\n"
	"mov %eax, (0x3000)\n"
	"hlt\n");

TEST_F(host, pkru_restored_by_guest_xrstor)
{
	struct mvx_cpuid2 *c;

	c = supported_cpuid();
	ASSERT_NE(NULL, c);
	if (!host_has_ospke() || !(leaf_d_xcr0(c) & XF_PKRU))
		SKIP(free(c); return, "no protection keys on this CPU");
	guest_load(&self->vm, CODE_GPA, pkru_xrstor_guest_start,
		   pkru_xrstor_guest_end);
	ASSERT_EQ(0, long_mode_with(&self->vm, &self->vcpu, c,
				    CR4_OSXSAVE | CR4_PKE, false));
	free(c);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, 0x80, 1);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(0x0000000c, rd32(&self->vm, DATA_GPA));
	EXPECT_TRUE(rd32(&self->vm, DATA_GPA + 8) & (1U << 4))
		TH_LOG("CPUID.7.0:ECX %#x: OSPKE clear with CR4.PKE set",
		       rd32(&self->vm, DATA_GPA + 8));
}

GUEST_CODE(ospke_guest,
	".code64\n"
	"mov $7, %eax\n"
	"xor %ecx, %ecx\n"
	"cpuid\n"
	"mov %ecx, (0x3000)\n"
	"hlt\n");

/* Without CR4.PKE, OSPKE is clear (Linux booted with nopku relies on it). */
TEST_F(host, ospke_clear_without_cr4_pke)
{
	if (!host_has_ospke())
		SKIP(return, "no protection keys on this CPU");
	LOAD(MODE_LONG, ospke_guest);
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_FALSE(rd32(&self->vm, DATA_GPA) & (1U << 4))
		TH_LOG("CPUID.7.0:ECX %#x", rd32(&self->vm, DATA_GPA));
	EXPECT_TRUE(rd32(&self->vm, DATA_GPA) & (1U << 3));	/* PKU itself */
}

/* ---------------------------------------------------------- guest time */

GUEST_CODE(spin,
	".code32\n"
	"1: jmp 1b\n");

static void on_alarm(int sig)
{
}

/* Field @n (1-based, as in proc(5)) of /proc/self/stat. */
static long long self_stat(int n)
{
	char buf[1024], *p;
	long long v = -1;
	FILE *f = fopen("/proc/self/stat", "r");
	int i;

	if (!f)
		return -1;
	p = fgets(buf, sizeof(buf), f);
	fclose(f);
	if (!p || !(p = strrchr(buf, ')')))
		return -1;
	p += 2;		/* field 3 */
	for (i = 3; i < n && p; i++) {
		p = strchr(p, ' ');
		if (p)
			p++;
	}
	if (p)
		v = strtoll(p, NULL, 10);
	return v;
}

/* A spinning guest's time shows as guest time in /proc/<pid>/stat. */
TEST_F(host, guest_time_is_accounted)
{
	struct sigaction sa = { .sa_handler = on_alarm };	/* no SA_RESTART */
	struct itimerval it = { .it_value = { .tv_sec = 1, .tv_usec = 500000 } };
	long long gt0, gt1, ut0, ut1;

	LOAD(MODE_PROT32, spin);
	ASSERT_EQ(0, sigaction(SIGALRM, &sa, NULL));
	gt0 = self_stat(43);
	ut0 = self_stat(14);
	ASSERT_LE(0, gt0);
	ASSERT_EQ(0, setitimer(ITIMER_REAL, &it, NULL));
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINTR, errno);
	gt1 = self_stat(43);
	ut1 = self_stat(14);
	TH_LOG("guest_time %lld -> %lld, utime %lld -> %lld (ticks of 1/%ld s)",
	       gt0, gt1, ut0, ut1, sysconf(_SC_CLK_TCK));
	EXPECT_LT(gt0, gt1);
}

/* -------------------------------------------- completions and exiting */

GUEST_CODE(in_hlt,
	".code32\n"
	"in $0x60, %al\n"
	"hlt\n");

/* KVM's flush idiom: immediate_exit still finishes the IN userspace served. */
TEST_F(host, immediate_exit_finishes_pio_in)
{
	struct mvx_regs r;

	LOAD(MODE_PROT32, in_hlt);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_IN, 0x60, 1);
	*(uint8_t *)pio_data(&self->vcpu) = 0x5a;
	self->vcpu.run->immediate_exit = 1;
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(0x5a, r.rax & 0xff);
	EXPECT_EQ(CODE_GPA + 2, r.rip);
	self->vcpu.run->immediate_exit = 0;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(0x5a, r.rax & 0xff);
	EXPECT_EQ(END_RIP(in_hlt), r.rip);
}

GUEST_CODE(mmio_hlt,
	".code32\n"
	"mov (0xc0000000), %eax\n"
	"hlt\n");

TEST_F(host, immediate_exit_finishes_mmio_read)
{
	struct mvx_regs r;
	uint32_t v = 0x12345678;

	LOAD(MODE_PROT32, mmio_hlt);
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_MMIO);
	ASSERT_EQ(MMIO_GPA, self->vcpu.run->mmio.phys_addr);
	ASSERT_EQ(0, self->vcpu.run->mmio.is_write);
	ASSERT_EQ(4, self->vcpu.run->mmio.len);
	memcpy(self->vcpu.run->mmio.data, &v, 4);
	self->vcpu.run->immediate_exit = 1;
	EXPECT_EQ(-1, vcpu_run(&self->vcpu));
	EXPECT_EQ(EINTR, errno);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(v, r.rax);
	EXPECT_EQ(END_RIP(mmio_hlt) - 1, r.rip);
	self->vcpu.run->immediate_exit = 0;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(END_RIP(mmio_hlt), r.rip);
}

GUEST_CODE(out_then_one,
	".code32\n"
	"out %al, $0x50\n"
	"movl $1, (0x3000)\n"
	"hlt\n");

GUEST_CODE(other_two,
	".code32\n"
	"movl $2, (0x3000)\n"
	"hlt\n");

#define OTHER_GPA	(CODE_GPA + 0x400)

/* A VMM that moves the vCPU after an OUT must not land after the OUT. */
TEST_F(host, set_regs_new_rip_drops_completion)
{
	struct mvx_regs r;

	LOAD(MODE_PROT32, out_then_one);
	guest_load(&self->vm, OTHER_GPA, other_two_start, other_two_end);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, 0x50, 1);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	r.rip = OTHER_GPA;
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(2, rd32(&self->vm, DATA_GPA));
	EXPECT_EQ(OTHER_GPA + (other_two_end - other_two_start), r.rip);
}

/* Userspace that rewrites the same registers (as QEMU does) loses nothing. */
TEST_F(host, set_regs_same_rip_keeps_completion)
{
	struct mvx_regs r;

	LOAD(MODE_PROT32, in_hlt);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_IN, 0x60, 1);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	ASSERT_EQ(0, vcpu_set_regs(&self->vcpu, &r));
	*(uint8_t *)pio_data(&self->vcpu) = 0xa5;
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	ASSERT_EQ(0, vcpu_get_regs(&self->vcpu, &r));
	EXPECT_EQ(0xa5, r.rax & 0xff);
	EXPECT_EQ(END_RIP(in_hlt), r.rip);
}

GUEST_CODE(out_hlt,
	".code32\n"
	"out %al, $0x50\n"
	"hlt\n");

/*
 * Seen through a CS based 0x100 higher, the code at the OUT's RIP jumps
 * to "2"; the OUT's completion would land on "3" instead.
 */
GUEST_CODE(moved_cs,
	".code32\n"
	"jmp 1f\n"
	"movl $3, (0x3000)\n"
	"hlt\n"
	"1: movl $2, (0x3000)\n"
	"hlt\n");

TEST_F(host, set_sregs_new_cs_base_drops_completion)
{
	struct mvx_sregs s;

	LOAD(MODE_PROT32, out_hlt);
	guest_load(&self->vm, CODE_GPA + 0x100, moved_cs_start, moved_cs_end);
	ASSERT_IO(&self->vcpu, MVX_EXIT_IO_OUT, 0x50, 1);
	ASSERT_EQ(0, vcpu_get_sregs(&self->vcpu, &s));
	s.cs.base += 0x100;
	ASSERT_EQ(0, vcpu_set_sregs(&self->vcpu, &s));
	ASSERT_RUN_EXIT(&self->vcpu, MVX_EXIT_HLT);
	EXPECT_EQ(2, rd32(&self->vm, DATA_GPA));
}

TEST_HARNESS_MAIN
