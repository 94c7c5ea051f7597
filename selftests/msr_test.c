// SPDX-License-Identifier: GPL-2.0
/*
 * What a VMM such as QEMU asks of the MSR and machine-check ABI at vCPU
 * setup and on every register sync, checked against KVM's semantics (the
 * same binary runs on KVM with MVX_DEVICE=/dev/kvm):
 *  - KVM_CAP_IRQ_ROUTING (4096) and KVM_SET_GSI_ROUTING, which fails with
 *    EINVAL on a VM without an in-kernel irqchip;
 *  - the kvmclock MSRs QEMU reads and writes back on every vCPU, whatever
 *    CPUID says, and the MSR index list;
 *  - the MTRRs: MTRRcap, reset values, the validity checks;
 *  - machine checks: KVM_CAP_MCE, GET_MCE_CAP_SUPPORTED, SETUP_MCE and the
 *    MCG and bank MSRs' write rules for the host.
 * MVX_SET_MSRS returns how many entries it took; QEMU aborts unless that
 * is all of them, so every sequence QEMU sends is checked as one call.
 * What a guest's RDMSR/WRMSR of these MSRs does is in robust_test.
 */
#include <errno.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define MSR_KVM_WALL_CLOCK	0x11
#define MSR_KVM_SYSTEM_TIME	0x12
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01
#define MSR_MTRR_CAP		0xfe
#define MSR_MCG_CAP		0x179
#define MSR_MCG_STATUS		0x17a
#define MSR_MCG_CTL		0x17b
#define MSR_MTRR_BASE(i)	(0x200 + 2 * (i))
#define MSR_MTRR_MASK(i)	(0x201 + 2 * (i))
#define MSR_MC_CTL2(i)		(0x280 + (i))
#define MSR_MTRR_DEF_TYPE	0x2ff
#define MSR_MC_CTL(i)		(0x400 + 4 * (i))
#define MSR_MC_STATUS(i)	(0x401 + 4 * (i))
#define MSR_MC_ADDR(i)		(0x402 + 4 * (i))
#define MSR_MC_MISC(i)		(0x403 + 4 * (i))

#define MCG_CTL_P		(1ULL << 8)
#define MCG_EXT_P		(1ULL << 9)
#define MCG_SER_P		(1ULL << 24)

#define MAX_ROUTES		4096
#define MAX_MCE_BANKS		32
#define QEMU_MCE_BANKS		10

/* The fixed-range MTRRs, in QEMU's order. */
static const uint32_t fixed_mtrrs[] = {
	0x250, 0x258, 0x259, 0x268, 0x269, 0x26a, 0x26b, 0x26c, 0x26d, 0x26e,
	0x26f,
};

#define NR_FIXED	(sizeof(fixed_mtrrs) / sizeof(fixed_mtrrs[0]))

struct msr_buf {
	struct mvx_msrs hdr;
	struct mvx_msr_entry e[200];
};

static void buf_add(struct msr_buf *b, uint32_t index, uint64_t data)
{
	b->e[b->hdr.nmsrs].index = index;
	b->e[b->hdr.nmsrs].reserved = 0;
	b->e[b->hdr.nmsrs].data = data;
	b->hdr.nmsrs++;
}

/* One MSR: 1 if written (read), 0 if refused, -1 on an ioctl error. */
static int set_msr(struct tvcpu *vcpu, uint32_t index, uint64_t data)
{
	struct msr_buf b = { .hdr.nmsrs = 0 };

	buf_add(&b, index, data);
	return ioctl(vcpu->fd, MVX_SET_MSRS, &b);
}

static int get_msr(struct tvcpu *vcpu, uint32_t index, uint64_t *data)
{
	struct msr_buf b = { .hdr.nmsrs = 0 };
	int ret;

	buf_add(&b, index, 0);
	ret = ioctl(vcpu->fd, MVX_GET_MSRS, &b);
	*data = b.e[0].data;
	return ret;
}

/* The guest's MAXPHYADDR as KVM derives it from the vCPU's CPUID. */
static unsigned int guest_maxphyaddr(const struct mvx_cpuid2 *c)
{
	bool has_8 = false;
	unsigned int i;

	for (i = 0; i < c->nent; i++)
		if (c->entries[i].function == 0x80000000)
			has_8 = c->entries[i].eax >= 0x80000008;
	for (i = 0; has_8 && i < c->nent; i++)
		if (c->entries[i].function == 0x80000008)
			return c->entries[i].eax & 0xff;
	return 36;
}

FIXTURE(msr) {
	struct tvm vm;
	struct tvcpu vcpu;
	unsigned int maxphyaddr;
};

FIXTURE_SETUP(msr)
{
	struct mvx_cpuid2 *c;

	ASSERT_SETUP(&self->vm, &self->vcpu);
	ASSERT_EQ(0, vcpu_set_supported_cpuid(&self->vcpu))
		TH_LOG("SET_CPUID2: %s", strerror(errno));
	c = supported_cpuid();
	ASSERT_NE(NULL, c);
	self->maxphyaddr = guest_maxphyaddr(c);
	free(c);
}

FIXTURE_TEARDOWN(msr)
{
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
}

TEST_F(msr, capabilities)
{
	EXPECT_EQ(MAX_ROUTES, ioctl(self->vm.sys_fd, MVX_CHECK_EXTENSION,
				    MVX_CAP_IRQ_ROUTING));
	EXPECT_EQ(MAX_ROUTES, ioctl(self->vm.fd, MVX_CHECK_EXTENSION,
				    MVX_CAP_IRQ_ROUTING));
	EXPECT_EQ(MAX_MCE_BANKS, ioctl(self->vm.sys_fd, MVX_CHECK_EXTENSION,
				       MVX_CAP_MCE));
	EXPECT_EQ(MAX_MCE_BANKS, ioctl(self->vm.fd, MVX_CHECK_EXTENSION,
				       MVX_CAP_MCE));
}

/* KVM keeps routes for its in-kernel irqchip only: none here. */
TEST_F(msr, gsi_routing_without_irqchip)
{
	struct {
		struct mvx_irq_routing hdr;
		struct mvx_irq_routing_entry e[1];
	} r = { .hdr.nr = 0 };

	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_SET_GSI_ROUTING, &r));
	EXPECT_EQ(EINVAL, errno);
	r.hdr.nr = 1;
	r.e[0].gsi = 0;
	r.e[0].type = MVX_IRQ_ROUTING_IRQCHIP;
	r.e[0].u.irqchip.irqchip = 0;
	r.e[0].u.irqchip.pin = 0;
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_SET_GSI_ROUTING, &r));
	EXPECT_EQ(EINVAL, errno);
	EXPECT_EQ(-1, ioctl(self->vm.fd, MVX_SET_GSI_ROUTING, NULL));
	EXPECT_EQ(EFAULT, errno);
}

static bool listed(const struct mvx_msr_list *l, uint32_t index)
{
	unsigned int i;

	for (i = 0; i < l->nmsrs; i++)
		if (l->indices[i] == index)
			return true;
	return false;
}

/* KVM lists MCG_STATUS, MCG_CTL and kvmclock; not the MTRRs or banks. */
TEST_F(msr, index_list)
{
	static const uint32_t in[] = {
		MSR_MCG_STATUS, MSR_MCG_CTL, MSR_KVM_WALL_CLOCK,
		MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK_NEW,
		MSR_KVM_SYSTEM_TIME_NEW,
	};
	static const uint32_t out[] = {
		MSR_MTRR_CAP, MSR_MTRR_DEF_TYPE, MSR_MTRR_BASE(0), 0x250,
		MSR_MCG_CAP, MSR_MC_CTL(0), MSR_MC_STATUS(0),
	};
	struct mvx_msr_list *l = calloc(1, sizeof(*l) + 1024 * 4);
	unsigned int i;

	ASSERT_NE(NULL, l);
	l->nmsrs = 1024;
	ASSERT_EQ(0, ioctl(self->vm.sys_fd, MVX_GET_MSR_INDEX_LIST, l))
		TH_LOG("%s", strerror(errno));
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		EXPECT_TRUE(listed(l, in[i])) TH_LOG("%#x not listed", in[i]);
	for (i = 0; i < sizeof(out) / sizeof(out[0]); i++)
		EXPECT_FALSE(listed(l, out[i])) TH_LOG("%#x listed", out[i]);
	free(l);
}

/*
 * QEMU 7.2 reads MSR_KVM_SYSTEM_TIME and MSR_KVM_WALL_CLOCK on every
 * vCPU and writes back what it read, whatever CPUID says: both work
 * (reads give 0 on a fresh vCPU).  minivmx has no kvmclock, so it takes
 * only 0 (KVM would turn the clock on).
 */
TEST_F(msr, kvmclock_from_the_host)
{
	static const uint32_t clocks[] = {
		MSR_KVM_SYSTEM_TIME, MSR_KVM_WALL_CLOCK,
		MSR_KVM_SYSTEM_TIME_NEW, MSR_KVM_WALL_CLOCK_NEW,
	};
	struct msr_buf b = { .hdr.nmsrs = 0 };
	unsigned int i;

	for (i = 0; i < 4; i++)
		buf_add(&b, clocks[i], 0x5a5a);
	ASSERT_EQ(4, ioctl(self->vcpu.fd, MVX_GET_MSRS, &b));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(0, b.e[i].data) TH_LOG("MSR %#x", clocks[i]);
	ASSERT_EQ(4, ioctl(self->vcpu.fd, MVX_SET_MSRS, &b));
	if (!mvx_is_kvm())
		EXPECT_EQ(0, set_msr(&self->vcpu, MSR_KVM_SYSTEM_TIME, 0x1001));
}

TEST_F(msr, mtrr_cap_is_read_only)
{
	uint64_t v = 0;

	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MTRR_CAP, &v));
	/* WC, fixed ranges, 8 variable ranges; no SMRR. */
	EXPECT_EQ(0x508, v);
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_CAP, 0x508));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_CAP, 0));
}

/* QEMU's MTRR list: type, 11 fixed, 8 base/mask pairs. */
static void add_qemu_mtrrs(struct msr_buf *b, uint64_t def, uint64_t fixed,
			   uint64_t base, uint64_t mask)
{
	unsigned int i;

	buf_add(b, MSR_MTRR_DEF_TYPE, def);
	for (i = 0; i < NR_FIXED; i++)
		buf_add(b, fixed_mtrrs[i], fixed);
	for (i = 0; i < 8; i++) {
		buf_add(b, MSR_MTRR_BASE(i), base + (i << 12));
		buf_add(b, MSR_MTRR_MASK(i), mask);
	}
}

TEST_F(msr, mtrrs_round_trip)
{
	struct msr_buf b = { .hdr.nmsrs = 0 };
	uint64_t mask = ((1ULL << self->maxphyaddr) - 1) & ~0xfffULL;
	unsigned int i;

	/* All 0 after creation. */
	add_qemu_mtrrs(&b, 1, 1, 1, 1);
	ASSERT_EQ(28, ioctl(self->vcpu.fd, MVX_GET_MSRS, &b));
	for (i = 0; i < 28; i++)
		EXPECT_EQ(0, b.e[i].data) TH_LOG("MSR %#x", b.e[i].index);

	/* What SeaBIOS and Linux write: WB default, WB below 1 MiB. */
	b.hdr.nmsrs = 0;
	add_qemu_mtrrs(&b, 0xc06, 0x0606060606060606ULL, 0x80000000,
		       mask | 0x800);
	ASSERT_EQ(28, ioctl(self->vcpu.fd, MVX_SET_MSRS, &b));
	for (i = 0; i < 28; i++)
		b.e[i].data = 0;
	ASSERT_EQ(28, ioctl(self->vcpu.fd, MVX_GET_MSRS, &b));
	EXPECT_EQ(0xc06, b.e[0].data);
	for (i = 1; i <= NR_FIXED; i++)
		EXPECT_EQ(0x0606060606060606ULL, b.e[i].data);
	for (i = 0; i < 8; i++) {
		EXPECT_EQ(0x80000000 + (i << 12), b.e[12 + 2 * i].data);
		EXPECT_EQ(mask | 0x800, b.e[13 + 2 * i].data);
	}
}

/*
 * A CPU's checks, which KVM applies to the host too: memory types 2, 3
 * and 7 are reserved; MTRRdefType has only type, FE and E; a base has
 * bits 11:8 reserved, a mask 10:0; both end below MAXPHYADDR.
 */
TEST_F(msr, mtrr_validity)
{
	uint64_t top = 1ULL << self->maxphyaddr;
	uint64_t v = 0;
	unsigned int t;

	for (t = 0; t < 8; t++) {
		int ok = t != 2 && t != 3 && t != 7;

		EXPECT_EQ(ok, set_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, t))
			TH_LOG("type %u", t);
		EXPECT_EQ(ok, set_msr(&self->vcpu, 0x26f, t << 24))
			TH_LOG("type %u in byte 3", t);
		EXPECT_EQ(ok, set_msr(&self->vcpu, MSR_MTRR_BASE(3), t))
			TH_LOG("type %u", t);
	}
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, 0xc00));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, 0x1000));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, 0x300));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, 0xff));
	/* A failed write leaves the old value. */
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MTRR_DEF_TYPE, &v));
	EXPECT_EQ(0xc00, v);

	EXPECT_EQ(1, set_msr(&self->vcpu, 0x250, 0x0504010006050401ULL));
	EXPECT_EQ(0, set_msr(&self->vcpu, 0x250, 0x0704010006050401ULL));

	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MTRR_BASE(7), (top >> 1) | 6));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_BASE(7), top | 6));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_BASE(7), 0x106));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_BASE(7), 0x800 | 6));
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MTRR_MASK(7), (top >> 1) | 0x800));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_MASK(7), top | 0x800));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_MASK(7), 0x400));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MTRR_MASK(7), 1));

	/* Indexes between the MTRRs are none. */
	EXPECT_EQ(0, set_msr(&self->vcpu, 0x210, 0));
	EXPECT_EQ(0, get_msr(&self->vcpu, 0x210, &v));
	EXPECT_EQ(0, set_msr(&self->vcpu, 0x251, 0));
	EXPECT_EQ(0, get_msr(&self->vcpu, 0x251, &v));
	EXPECT_EQ(0, get_msr(&self->vcpu, 0x2fe, &v));
}

TEST_F(msr, mce_defaults)
{
	uint64_t v = 1, caps = 0;

	ASSERT_EQ(0, ioctl(self->vm.sys_fd, MVX_X86_GET_MCE_CAP_SUPPORTED,
			   &caps)) TH_LOG("%s", strerror(errno));
	EXPECT_TRUE(caps & MCG_CTL_P);
	EXPECT_TRUE(caps & MCG_SER_P);
	EXPECT_FALSE(caps & 0xff);
	EXPECT_EQ(-1, ioctl(self->vm.sys_fd, MVX_X86_GET_MCE_CAP_SUPPORTED,
			    NULL));
	EXPECT_EQ(EFAULT, errno);

	/* Before SETUP_MCE: 32 banks, no MCG_CTL, everything 0. */
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MCG_CAP, &v));
	EXPECT_EQ(MAX_MCE_BANKS, v);
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_CTL(31), &v));
	EXPECT_EQ(0, v);
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_MISC(31), &v));
	EXPECT_EQ(0, v);
	/* (0x480, past bank 31, is IA32_VMX_BASIC: KVM on Intel has it.) */
	/* The host may read MCG_CTL and write 0 to it, nothing else. */
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MCG_CTL, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MCG_CTL, 0));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MCG_CTL, ~0ULL));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MCG_CAP, MAX_MCE_BANKS));
}

TEST_F(msr, setup_mce)
{
	uint64_t cap = MCG_CTL_P | MCG_SER_P | QEMU_MCE_BANKS;
	uint64_t bad[] = {
		MCG_CTL_P,				/* no banks */
		MCG_CTL_P | (MAX_MCE_BANKS + 1),	/* too many */
		MCG_EXT_P | 1,				/* not offered */
		(1ULL << 40) | 1,
	};
	uint64_t v = 0;
	unsigned int i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, &bad[i]))
			TH_LOG("MCG_CAP %#llx", (unsigned long long)bad[i]);
		EXPECT_EQ(EINVAL, errno);
	}
	EXPECT_EQ(-1, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, NULL));
	EXPECT_EQ(EFAULT, errno);
	/* The extended-register count passes, as on KVM. */
	v = MAX_MCE_BANKS | (2ULL << 16);
	EXPECT_EQ(0, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, &v));

	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, &cap))
		TH_LOG("%s", strerror(errno));
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MCG_CAP, &v));
	/* KVM on AMD keeps bits 8:0 of MCG_CAP (63:9 are reserved). */
	EXPECT_EQ(host_is_amd() ? cap & 0x1ff : cap, v);
	/* MCG_CTL and every MCi_CTL start all ones. */
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MCG_CTL, &v));
	EXPECT_EQ(~0ULL, v);
	for (i = 0; i < QEMU_MCE_BANKS; i++) {
		ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_CTL(i), &v));
		EXPECT_EQ(~0ULL, v) TH_LOG("bank %u", i);
	}
	/* Banks past the count are gone, for reads and writes. */
	EXPECT_EQ(0, get_msr(&self->vcpu, MSR_MC_CTL(QEMU_MCE_BANKS), &v));
	EXPECT_EQ(0, get_msr(&self->vcpu, MSR_MC_MISC(31), &v));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MC_STATUS(QEMU_MCE_BANKS), 0));
}

/* What QEMU writes after SETUP_MCE, and KVM's rules for each register. */
TEST_F(msr, mce_host_writes)
{
	uint64_t cap = MCG_CTL_P | MCG_SER_P | QEMU_MCE_BANKS;
	struct msr_buf b = { .hdr.nmsrs = 0 };
	uint64_t v = 0;
	unsigned int i;

	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, &cap));
	buf_add(&b, MSR_MCG_STATUS, 0);
	buf_add(&b, MSR_MCG_CTL, ~0ULL);
	for (i = 0; i < 4 * QEMU_MCE_BANKS; i++)
		buf_add(&b, MSR_MC_CTL(0) + i, i % 4 ? 0 : ~0ULL);
	ASSERT_EQ(42, ioctl(self->vcpu.fd, MVX_SET_MSRS, &b));
	ASSERT_EQ(42, ioctl(self->vcpu.fd, MVX_GET_MSRS, &b));

	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MCG_STATUS, 0x7));
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MCG_CTL, 0));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MCG_CTL, 1));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MCG_CAP, cap));

	/* MCi_CTL: 0 or all ones, bits 10 and 0 may be clear. */
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_CTL(4), ~(1ULL << 10)));
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_CTL(1), ~1ULL));
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_CTL(1), 0));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MC_CTL(1), 0x1234));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MC_CTL(1), ~2ULL));
	/* The host may write any MCi_STATUS, ADDR and MISC. */
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_STATUS(2), 0xb000000000000135ULL));
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_STATUS(2), &v));
	EXPECT_EQ(0xb000000000000135ULL, v);
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_ADDR(2), 0x1234000));
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_MISC(9), ~0ULL));

	/* No CMCI: a bank's MCi_CTL2 reads 0 and takes the host's 0 only. */
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_CTL2(0), &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MC_CTL2(9), 0));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MC_CTL2(9), 1ULL << 30));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MC_CTL2(QEMU_MCE_BANKS), 0));
}

/* Without MCG_CTL_P, MCG_CTL takes the host's 0 and nothing else. */
TEST_F(msr, mce_without_mcg_ctl)
{
	uint64_t cap = QEMU_MCE_BANKS, v = 1;

	ASSERT_EQ(0, ioctl(self->vcpu.fd, MVX_X86_SETUP_MCE, &cap));
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MCG_CTL, &v));
	EXPECT_EQ(0, v);
	EXPECT_EQ(1, set_msr(&self->vcpu, MSR_MCG_CTL, 0));
	EXPECT_EQ(0, set_msr(&self->vcpu, MSR_MCG_CTL, ~0ULL));
	ASSERT_EQ(1, get_msr(&self->vcpu, MSR_MC_CTL(9), &v));
	EXPECT_EQ(~0ULL, v);
}

TEST_HARNESS_MAIN
