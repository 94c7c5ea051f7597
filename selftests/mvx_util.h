/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the minivmx selftests.
 *
 * Every test opens the device named by $MVX_DEVICE (default /dev/minivmx),
 * so the same binaries validate against the distro KVM with
 * MVX_DEVICE=/dev/kvm.  Nothing here asserts: the helpers return -1 with
 * errno set and the tests decide.
 */
#ifndef MVX_UTIL_H
#define MVX_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "uapi/minivmx.h"
#include "userspace/lib/mvx.h"	/* mvx_exit_name() */

#define PAGE_SIZE		4096UL

/* Guest physical memory map of every test VM (slot 0, at GPA 0). */
#define GUEST_MEM_SIZE		(2UL << 20)
#define GDT_GPA			0x0500
#define TSS_GPA			0x0700
#define CODE_GPA		0x1000	/* up to 0x2fff */
#define DATA_GPA		0x3000	/* scratch page for results */
#define PAGED32_DATA_GPA	0x5000	/* linear 0x400000 with 32-bit paging */
#define LONG_DATA_GPA		0x6000	/* linear 0x40000000 in long mode */
#define STACK_TOP		0x8000
#define PML4_GPA		0x10000
#define PD32_GPA		0x20000
#define DS16_BASE		0x30000	/* base of the GDT's 0x38 data segment */
#define MMIO_GPA		0xC0000000UL	/* outside every slot */

#define PAGED32_DATA_GVA	0x400000UL
#define LONG_DATA_GVA		0x40000000UL

/* GDT selectors set up by vm_create(). */
#define SEL_CODE32	0x08
#define SEL_DATA32	0x10
#define SEL_CODE16	0x18
#define SEL_DATA16	0x20
#define SEL_CODE64	0x28
#define SEL_TSS		0x30
#define SEL_DS16	0x38

/* Architectural bits the tests use. */
#define CR0_PE		(1UL << 0)
#define CR0_MP		(1UL << 1)
#define CR0_ET		(1UL << 4)
#define CR0_NE		(1UL << 5)
#define CR0_NW		(1UL << 29)
#define CR0_CD		(1UL << 30)
#define CR0_PG		(1UL << 31)
#define CR4_PSE		(1UL << 4)
#define CR4_PAE		(1UL << 5)
#define CR4_OSFXSR	(1UL << 9)
#define CR4_OSXMMEXCPT	(1UL << 10)
#define EFER_LME	(1UL << 8)
#define EFER_LMA	(1UL << 10)

enum guest_mode {
	MODE_REAL,
	MODE_PROT16,
	MODE_PROT32,
	MODE_PAGED32,
	MODE_LONG,
};

/*
 * Guest code lives in the test binaries as top-level asm between
 * NAME_start and NAME_end; guest_load() copies it into guest memory.
 * Only relative jumps and absolute constants may appear in it.
 */
#define GUEST_CODE(name, text)						\
	extern const unsigned char name##_start[], name##_end[];	\
	asm(".pushsection .rodata.guest, \"a\"\n"			\
	    #name "_start:\n" text "\n" #name "_end:\n"			\
	    ".code64\n.popsection\n")

struct tvm {
	int sys_fd;
	int fd;
	uint8_t *mem;
	size_t mem_size;
};

struct tvcpu {
	int fd;
	int id;
	struct mvx_run *run;
	size_t run_size;
};

const char *mvx_device(void);
bool mvx_is_kvm(void);
int mvx_open(void);
int vm_create_empty(struct tvm *vm);
int vm_create(struct tvm *vm);
int vm_add_slot(struct tvm *vm, uint32_t slot, uint32_t flags,
		uint64_t gpa, uint64_t size, void *hva);
void vm_destroy(struct tvm *vm);
int vcpu_add(struct tvm *vm, int id, struct tvcpu *vcpu);
void vcpu_close(struct tvcpu *vcpu);

void guest_load(struct tvm *vm, uint64_t gpa,
		const unsigned char *start, const unsigned char *end);
int vcpu_set_supported_cpuid(struct tvcpu *vcpu);
/* GET_SUPPORTED_CPUID's table (256 entries of room), or NULL; free() it. */
struct mvx_cpuid2 *supported_cpuid(void);

/* The CPU the tests run on, from its CPUID. */
bool host_is_amd(void);
/* QEMU's TCG: it names itself in the hypervisor leaf 0x40000000. */
bool host_is_qemu_tcg(void);
int vcpu_set_mode(struct tvcpu *vcpu, enum guest_mode mode, uint64_t rip);
int vcpu_run(struct tvcpu *vcpu);
/*
 * Interrupt tables for guests in @mode (real: the IVT, 4-byte entries;
 * 16/32-bit protected: 8-byte interrupt gates; long: 16-byte ones): the
 * gate of @vector points at @handler_gpa in the mode's flat code segment
 * (segment 0 in real mode), and the vCPU's IDTR at @table_gpa.
 */
void idt_put_gate(struct tvm *vm, enum guest_mode mode, uint64_t table_gpa,
		  unsigned int vector, uint64_t handler_gpa);
int vcpu_set_idt(struct tvcpu *vcpu, enum guest_mode mode, uint64_t table_gpa);
int vcpu_get_regs(struct tvcpu *vcpu, struct mvx_regs *regs);
int vcpu_set_regs(struct tvcpu *vcpu, struct mvx_regs *regs);
int vcpu_get_sregs(struct tvcpu *vcpu, struct mvx_sregs *sregs);
int vcpu_set_sregs(struct tvcpu *vcpu, struct mvx_sregs *sregs);
void *pio_data(struct tvcpu *vcpu);
const char *describe_exit(struct tvcpu *vcpu);
uint64_t now_ns(void);
long mvx_settled_mem_available_kb(void);
bool mvx_kernel_has_kasan(void);
int mvx_drain_kasan_quarantine(void);
long mvx_pinned_pages(void);

static inline uint32_t rd32(struct tvm *vm, uint64_t gpa)
{
	return *(volatile uint32_t *)(vm->mem + gpa);
}

static inline uint64_t rd64(struct tvm *vm, uint64_t gpa)
{
	return *(volatile uint64_t *)(vm->mem + gpa);
}

static inline void wr32(struct tvm *vm, uint64_t gpa, uint32_t v)
{
	*(volatile uint32_t *)(vm->mem + gpa) = v;
}

static inline void wr64(struct tvm *vm, uint64_t gpa, uint64_t v)
{
	*(volatile uint64_t *)(vm->mem + gpa) = v;
}

#endif /* MVX_UTIL_H */
