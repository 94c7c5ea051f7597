/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * minivmx user ABI.
 *
 * Every ioctl number and structure below is bit-for-bit the one KVM uses on
 * x86-64, so a KVM program works unmodified against /dev/minivmx.  The names
 * are our own; selftests/abi_check.c proves the equivalence at compile time.
 */
#ifndef _UAPI_MINIVMX_H
#define _UAPI_MINIVMX_H

#include <linux/types.h>
#include <linux/ioctl.h>

#define MVX_API_VERSION		12
#define MVXIO			0xAE

/* Extensions we report through MVX_CHECK_EXTENSION (KVM_CAP_* numbers). */
#define MVX_CAP_USER_MEMORY	3
#define MVX_CAP_SET_TSS_ADDR	4
#define MVX_CAP_EXT_CPUID	7
#define MVX_CAP_NR_VCPUS	9
#define MVX_CAP_NR_MEMSLOTS	10
#define MVX_CAP_MP_STATE	14
#define MVX_CAP_DESTROY_MEMORY_REGION_WORKS 21
#define MVX_CAP_USER_NMI	22
#define MVX_CAP_IRQ_ROUTING	25
#define MVX_CAP_JOIN_MEMORY_REGIONS_WORKS 30
#define MVX_CAP_MCE		31
#define MVX_CAP_VCPU_EVENTS	41
#define MVX_CAP_INTR_SHADOW	49
#define MVX_CAP_MAX_VCPUS	66
#define MVX_CAP_READONLY_MEM	81
#define MVX_CAP_MAX_VCPU_ID	128
#define MVX_CAP_IMMEDIATE_EXIT	136

/* Memory slot flags. */
#define MVX_MEM_LOG_DIRTY_PAGES	0x1
#define MVX_MEM_READONLY	0x2

struct mvx_userspace_memory_region {
	__u32 slot;
	__u32 flags;
	__u64 guest_phys_addr;
	__u64 memory_size;	/* bytes; 0 deletes the slot */
	__u64 userspace_addr;	/* start of the backing userspace memory */
};

/*
 * MVX_GET_DIRTY_LOG: one bit per page of a slot with
 * MVX_MEM_LOG_DIRTY_PAGES, bit n of the 64-bit word n / 64 for the slot's
 * page n; the buffer holds the page count rounded up to 64 bits.
 */
struct mvx_dirty_log {
	__u32 slot;
	__u32 padding1;
	union {
		void *dirty_bitmap;	/* userspace */
		__u64 padding2;
	};
};

struct mvx_regs {
	__u64 rax, rbx, rcx, rdx;
	__u64 rsi, rdi, rsp, rbp;
	__u64 r8, r9, r10, r11;
	__u64 r12, r13, r14, r15;
	__u64 rip, rflags;
};

struct mvx_segment {
	__u64 base;
	__u32 limit;
	__u16 selector;
	__u8 type;
	__u8 present, dpl, db, s, l, g, avl;
	__u8 unusable;
	__u8 padding;
};

struct mvx_dtable {
	__u64 base;
	__u16 limit;
	__u16 padding[3];
};

#define MVX_NR_INTERRUPTS	256

struct mvx_sregs {
	struct mvx_segment cs, ds, es, fs, gs, ss;
	struct mvx_segment tr, ldt;
	struct mvx_dtable gdt, idt;
	__u64 cr0, cr2, cr3, cr4, cr8;
	__u64 efer;
	__u64 apic_base;
	__u64 interrupt_bitmap[(MVX_NR_INTERRUPTS + 63) / 64];
};

struct mvx_fpu {
	__u8 fpr[8][16];
	__u16 fcw;
	__u16 fsw;
	__u8 ftwx;	/* abridged tag word, as in FXSAVE */
	__u8 pad1;
	__u16 last_opcode;
	__u64 last_ip;
	__u64 last_dp;
	__u8 xmm[16][16];
	__u32 mxcsr;
	__u32 pad2;
};

struct mvx_msr_entry {
	__u32 index;
	__u32 reserved;
	__u64 data;
};

struct mvx_msrs {
	__u32 nmsrs;
	__u32 pad;
	struct mvx_msr_entry entries[];
};

struct mvx_msr_list {
	__u32 nmsrs;
	__u32 indices[];
};

#define MVX_CPUID_FLAG_SIGNIFCANT_INDEX	0x1

struct mvx_cpuid_entry2 {
	__u32 function;
	__u32 index;
	__u32 flags;
	__u32 eax, ebx, ecx, edx;
	__u32 padding[3];
};

struct mvx_cpuid2 {
	__u32 nent;
	__u32 padding;
	struct mvx_cpuid_entry2 entries[];
};

/*
 * MVX_SET_GSI_ROUTING: KVM's GSI routing table.  Without an in-kernel
 * irqchip there is nothing to route to, and the ioctl fails (as on KVM).
 */
#define MVX_IRQ_ROUTING_IRQCHIP	1
#define MVX_IRQ_ROUTING_MSI	2

struct mvx_irq_routing_irqchip {
	__u32 irqchip;
	__u32 pin;
};

struct mvx_irq_routing_msi {
	__u32 address_lo;
	__u32 address_hi;
	__u32 data;
	__u32 pad;
};

struct mvx_irq_routing_entry {
	__u32 gsi;
	__u32 type;
	__u32 flags;
	__u32 pad;
	union {
		struct mvx_irq_routing_irqchip irqchip;
		struct mvx_irq_routing_msi msi;
		__u32 pad[8];
	} u;
};

struct mvx_irq_routing {
	__u32 nr;
	__u32 flags;
	struct mvx_irq_routing_entry entries[];
};

struct mvx_interrupt {
	__u32 irq;
};

/* MVX_GET/SET_MP_STATE: without an in-kernel APIC only these two. */
#define MVX_MP_STATE_RUNNABLE	0
#define MVX_MP_STATE_HALTED	3

struct mvx_mp_state {
	__u32 mp_state;
};

/* MVX_SET_SIGNAL_MASK: len is the kernel's sigset size, 8 on x86-64. */
struct mvx_signal_mask {
	__u32 len;
	__u8 sigset[];
};

/* interrupt.shadow in struct mvx_vcpu_events */
#define MVX_X86_SHADOW_INT_MOV_SS	0x01
#define MVX_X86_SHADOW_INT_STI		0x02

/* struct mvx_vcpu_events.flags: which optional fields SET should apply */
#define MVX_VCPUEVENT_VALID_NMI_PENDING	0x00000001
#define MVX_VCPUEVENT_VALID_SIPI_VECTOR	0x00000002
#define MVX_VCPUEVENT_VALID_SHADOW	0x00000004
#define MVX_VCPUEVENT_VALID_SMM		0x00000008
#define MVX_VCPUEVENT_VALID_PAYLOAD	0x00000010
#define MVX_VCPUEVENT_VALID_TRIPLE_FAULT 0x00000020

struct mvx_vcpu_events {
	struct {
		__u8 injected;
		__u8 nr;
		__u8 has_error_code;
		__u8 pending;
		__u32 error_code;
	} exception;
	struct {
		__u8 injected;
		__u8 nr;
		__u8 soft;
		__u8 shadow;
	} interrupt;
	struct {
		__u8 injected;
		__u8 pending;
		__u8 masked;
		__u8 pad;
	} nmi;
	__u32 sipi_vector;
	__u32 flags;
	struct {
		__u8 smm;
		__u8 pending;
		__u8 smm_inside_nmi;
		__u8 latched_init;
	} smi;
	struct {
		__u8 pending;
	} triple_fault;
	__u8 reserved[26];
	__u8 exception_has_payload;
	__u64 exception_payload;
};

/* Exit reasons (KVM_EXIT_*). */
#define MVX_EXIT_UNKNOWN		0
#define MVX_EXIT_EXCEPTION		1
#define MVX_EXIT_IO			2
#define MVX_EXIT_HYPERCALL		3
#define MVX_EXIT_DEBUG			4
#define MVX_EXIT_HLT			5
#define MVX_EXIT_MMIO			6
#define MVX_EXIT_IRQ_WINDOW_OPEN	7
#define MVX_EXIT_SHUTDOWN		8
#define MVX_EXIT_FAIL_ENTRY		9
#define MVX_EXIT_INTR			10
#define MVX_EXIT_INTERNAL_ERROR		17

#define MVX_EXIT_IO_IN			0
#define MVX_EXIT_IO_OUT			1

/* Sub-errors of MVX_EXIT_INTERNAL_ERROR (KVM_INTERNAL_ERROR_*). */
#define MVX_INTERNAL_ERROR_EMULATION		1
#define MVX_INTERNAL_ERROR_SIMUL_EX		2
#define MVX_INTERNAL_ERROR_DELIVERY_EV		3
#define MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON 4

/* Offset, in pages, of the port I/O data page inside the vCPU mapping. */
#define MVX_PIO_PAGE_OFFSET	1

struct mvx_run {
	/* in */
	__u8 request_interrupt_window;
	__u8 immediate_exit;
	__u8 padding1[6];

	/* out */
	__u32 exit_reason;
	__u8 ready_for_interrupt_injection;
	__u8 if_flag;
	__u16 flags;

	/* in (before RUN), out (after RUN) */
	__u64 cr8;
	__u64 apic_base;

	union {
		/* MVX_EXIT_UNKNOWN */
		struct {
			__u64 hardware_exit_reason;
		} hw;
		/* MVX_EXIT_FAIL_ENTRY */
		struct {
			__u64 hardware_entry_failure_reason;
			__u32 cpu;
		} fail_entry;
		/* MVX_EXIT_EXCEPTION */
		struct {
			__u32 exception;
			__u32 error_code;
		} ex;
		/* MVX_EXIT_IO */
		struct {
			__u8 direction;
			__u8 size;	/* bytes per element */
			__u16 port;
			__u32 count;
			__u64 data_offset;	/* from the start of the run page */
		} io;
		/* MVX_EXIT_MMIO */
		struct {
			__u64 phys_addr;
			__u8 data[8];
			__u32 len;
			__u8 is_write;
		} mmio;
		/* MVX_EXIT_INTERNAL_ERROR */
		struct {
			__u32 suberror;
			__u32 ndata;
			__u64 data[16];
		} internal;
		char padding[256];
	};

	__u64 kvm_valid_regs;
	__u64 kvm_dirty_regs;
	union {
		char padding[2048];
	} s;
};

/* System ioctls, on the /dev/minivmx fd. */
#define MVX_GET_API_VERSION	_IO(MVXIO, 0x00)
#define MVX_CREATE_VM		_IO(MVXIO, 0x01)
#define MVX_GET_MSR_INDEX_LIST	_IOWR(MVXIO, 0x02, struct mvx_msr_list)
#define MVX_CHECK_EXTENSION	_IO(MVXIO, 0x03)
#define MVX_GET_VCPU_MMAP_SIZE	_IO(MVXIO, 0x04)
#define MVX_GET_SUPPORTED_CPUID	_IOWR(MVXIO, 0x05, struct mvx_cpuid2)
#define MVX_X86_GET_MCE_CAP_SUPPORTED _IOR(MVXIO, 0x9d, __u64)

/* VM ioctls, on the fd MVX_CREATE_VM returns. */
#define MVX_CREATE_VCPU		_IO(MVXIO, 0x41)
#define MVX_GET_DIRTY_LOG	_IOW(MVXIO, 0x42, struct mvx_dirty_log)
#define MVX_SET_USER_MEMORY_REGION \
	_IOW(MVXIO, 0x46, struct mvx_userspace_memory_region)
#define MVX_SET_TSS_ADDR	_IO(MVXIO, 0x47)
#define MVX_SET_GSI_ROUTING	_IOW(MVXIO, 0x6a, struct mvx_irq_routing)

/* vCPU ioctls, on the fd MVX_CREATE_VCPU returns. */
#define MVX_RUN			_IO(MVXIO, 0x80)
#define MVX_GET_REGS		_IOR(MVXIO, 0x81, struct mvx_regs)
#define MVX_SET_REGS		_IOW(MVXIO, 0x82, struct mvx_regs)
#define MVX_GET_SREGS		_IOR(MVXIO, 0x83, struct mvx_sregs)
#define MVX_SET_SREGS		_IOW(MVXIO, 0x84, struct mvx_sregs)
#define MVX_INTERRUPT		_IOW(MVXIO, 0x86, struct mvx_interrupt)
#define MVX_GET_MSRS		_IOWR(MVXIO, 0x88, struct mvx_msrs)
#define MVX_SET_MSRS		_IOW(MVXIO, 0x89, struct mvx_msrs)
#define MVX_SET_SIGNAL_MASK	_IOW(MVXIO, 0x8b, struct mvx_signal_mask)
#define MVX_GET_FPU		_IOR(MVXIO, 0x8c, struct mvx_fpu)
#define MVX_SET_FPU		_IOW(MVXIO, 0x8d, struct mvx_fpu)
#define MVX_SET_CPUID2		_IOW(MVXIO, 0x90, struct mvx_cpuid2)
#define MVX_GET_MP_STATE	_IOR(MVXIO, 0x98, struct mvx_mp_state)
#define MVX_SET_MP_STATE	_IOW(MVXIO, 0x99, struct mvx_mp_state)
#define MVX_NMI			_IO(MVXIO, 0x9a)
#define MVX_X86_SETUP_MCE	_IOW(MVXIO, 0x9c, __u64)
#define MVX_GET_VCPU_EVENTS	_IOR(MVXIO, 0x9f, struct mvx_vcpu_events)
#define MVX_SET_VCPU_EVENTS	_IOW(MVXIO, 0xa0, struct mvx_vcpu_events)

#endif /* _UAPI_MINIVMX_H */
