// SPDX-License-Identifier: GPL-2.0
/*
 * Compile-time proof that uapi/minivmx.h is KVM's ABI under other names:
 * every ioctl number and constant equals KVM's and every structure has
 * KVM's size and field offsets.  `make` builds this file; any mismatch
 * fails the build.  There is nothing to run.
 */
#include <stddef.h>
#include <linux/kvm.h>

#include "uapi/minivmx.h"

#define SAME(ours, kvm) \
	_Static_assert((ours) == (kvm), #ours " != " #kvm)

#define SAME_SIZE(ours, kvm) \
	_Static_assert(sizeof(struct ours) == sizeof(struct kvm), \
		       "sizeof(struct " #ours ") != sizeof(struct " #kvm ")")

#define SAME_FIELD(ours, kvm, field) \
	_Static_assert(offsetof(struct ours, field) == \
		       offsetof(struct kvm, field) && \
		       sizeof(((struct ours *)0)->field) == \
		       sizeof(((struct kvm *)0)->field), \
		       "struct " #ours "." #field " differs from KVM")

/* Flexible array members: offset and element size. */
#define SAME_ARRAY(ours, kvm, field) \
	_Static_assert(offsetof(struct ours, field) == \
		       offsetof(struct kvm, field) && \
		       sizeof(((struct ours *)0)->field[0]) == \
		       sizeof(((struct kvm *)0)->field[0]), \
		       "struct " #ours "." #field "[] differs from KVM")

/* Constants. */
SAME(MVX_API_VERSION, KVM_API_VERSION);
SAME(MVXIO, KVMIO);
SAME(MVX_CAP_USER_MEMORY, KVM_CAP_USER_MEMORY);
SAME(MVX_CAP_SET_TSS_ADDR, KVM_CAP_SET_TSS_ADDR);
SAME(MVX_CAP_EXT_CPUID, KVM_CAP_EXT_CPUID);
SAME(MVX_CAP_NR_VCPUS, KVM_CAP_NR_VCPUS);
SAME(MVX_CAP_NR_MEMSLOTS, KVM_CAP_NR_MEMSLOTS);
SAME(MVX_CAP_MAX_VCPUS, KVM_CAP_MAX_VCPUS);
SAME(MVX_CAP_READONLY_MEM, KVM_CAP_READONLY_MEM);
SAME(MVX_CAP_MAX_VCPU_ID, KVM_CAP_MAX_VCPU_ID);
SAME(MVX_CAP_IMMEDIATE_EXIT, KVM_CAP_IMMEDIATE_EXIT);
SAME(MVX_CAP_MP_STATE, KVM_CAP_MP_STATE);
SAME(MVX_CAP_DESTROY_MEMORY_REGION_WORKS, KVM_CAP_DESTROY_MEMORY_REGION_WORKS);
SAME(MVX_CAP_USER_NMI, KVM_CAP_USER_NMI);
SAME(MVX_CAP_JOIN_MEMORY_REGIONS_WORKS, KVM_CAP_JOIN_MEMORY_REGIONS_WORKS);
SAME(MVX_CAP_IRQ_ROUTING, KVM_CAP_IRQ_ROUTING);
SAME(MVX_CAP_MCE, KVM_CAP_MCE);
SAME(MVX_IRQ_ROUTING_IRQCHIP, KVM_IRQ_ROUTING_IRQCHIP);
SAME(MVX_IRQ_ROUTING_MSI, KVM_IRQ_ROUTING_MSI);
SAME(MVX_CAP_VCPU_EVENTS, KVM_CAP_VCPU_EVENTS);
SAME(MVX_CAP_INTR_SHADOW, KVM_CAP_INTR_SHADOW);
SAME(MVX_MP_STATE_RUNNABLE, KVM_MP_STATE_RUNNABLE);
SAME(MVX_MP_STATE_HALTED, KVM_MP_STATE_HALTED);
SAME(MVX_X86_SHADOW_INT_MOV_SS, KVM_X86_SHADOW_INT_MOV_SS);
SAME(MVX_X86_SHADOW_INT_STI, KVM_X86_SHADOW_INT_STI);
SAME(MVX_VCPUEVENT_VALID_NMI_PENDING, KVM_VCPUEVENT_VALID_NMI_PENDING);
SAME(MVX_VCPUEVENT_VALID_SIPI_VECTOR, KVM_VCPUEVENT_VALID_SIPI_VECTOR);
SAME(MVX_VCPUEVENT_VALID_SHADOW, KVM_VCPUEVENT_VALID_SHADOW);
SAME(MVX_VCPUEVENT_VALID_SMM, KVM_VCPUEVENT_VALID_SMM);
SAME(MVX_VCPUEVENT_VALID_PAYLOAD, KVM_VCPUEVENT_VALID_PAYLOAD);
SAME(MVX_VCPUEVENT_VALID_TRIPLE_FAULT, KVM_VCPUEVENT_VALID_TRIPLE_FAULT);
SAME(MVX_MEM_LOG_DIRTY_PAGES, KVM_MEM_LOG_DIRTY_PAGES);
SAME(MVX_MEM_READONLY, KVM_MEM_READONLY);
SAME(MVX_NR_INTERRUPTS, KVM_NR_INTERRUPTS);
SAME(MVX_CPUID_FLAG_SIGNIFCANT_INDEX, KVM_CPUID_FLAG_SIGNIFCANT_INDEX);
SAME(MVX_PIO_PAGE_OFFSET, KVM_PIO_PAGE_OFFSET);

SAME(MVX_EXIT_UNKNOWN, KVM_EXIT_UNKNOWN);
SAME(MVX_EXIT_EXCEPTION, KVM_EXIT_EXCEPTION);
SAME(MVX_EXIT_IO, KVM_EXIT_IO);
SAME(MVX_EXIT_HYPERCALL, KVM_EXIT_HYPERCALL);
SAME(MVX_EXIT_DEBUG, KVM_EXIT_DEBUG);
SAME(MVX_EXIT_HLT, KVM_EXIT_HLT);
SAME(MVX_EXIT_MMIO, KVM_EXIT_MMIO);
SAME(MVX_EXIT_IRQ_WINDOW_OPEN, KVM_EXIT_IRQ_WINDOW_OPEN);
SAME(MVX_EXIT_SHUTDOWN, KVM_EXIT_SHUTDOWN);
SAME(MVX_EXIT_FAIL_ENTRY, KVM_EXIT_FAIL_ENTRY);
SAME(MVX_EXIT_INTR, KVM_EXIT_INTR);
SAME(MVX_EXIT_INTERNAL_ERROR, KVM_EXIT_INTERNAL_ERROR);
SAME(MVX_EXIT_IO_IN, KVM_EXIT_IO_IN);
SAME(MVX_EXIT_IO_OUT, KVM_EXIT_IO_OUT);
SAME(MVX_INTERNAL_ERROR_EMULATION, KVM_INTERNAL_ERROR_EMULATION);
SAME(MVX_INTERNAL_ERROR_SIMUL_EX, KVM_INTERNAL_ERROR_SIMUL_EX);
SAME(MVX_INTERNAL_ERROR_DELIVERY_EV, KVM_INTERNAL_ERROR_DELIVERY_EV);
SAME(MVX_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON,
	KVM_INTERNAL_ERROR_UNEXPECTED_EXIT_REASON);

/* Ioctl numbers: direction, size and number all included. */
SAME(MVX_GET_API_VERSION, KVM_GET_API_VERSION);
SAME(MVX_CREATE_VM, KVM_CREATE_VM);
SAME(MVX_GET_MSR_INDEX_LIST, KVM_GET_MSR_INDEX_LIST);
SAME(MVX_CHECK_EXTENSION, KVM_CHECK_EXTENSION);
SAME(MVX_GET_VCPU_MMAP_SIZE, KVM_GET_VCPU_MMAP_SIZE);
SAME(MVX_GET_SUPPORTED_CPUID, KVM_GET_SUPPORTED_CPUID);
SAME(MVX_X86_GET_MCE_CAP_SUPPORTED, KVM_X86_GET_MCE_CAP_SUPPORTED);
SAME(MVX_CREATE_VCPU, KVM_CREATE_VCPU);
SAME(MVX_GET_DIRTY_LOG, KVM_GET_DIRTY_LOG);
SAME(MVX_SET_USER_MEMORY_REGION, KVM_SET_USER_MEMORY_REGION);
SAME(MVX_SET_TSS_ADDR, KVM_SET_TSS_ADDR);
SAME(MVX_SET_GSI_ROUTING, KVM_SET_GSI_ROUTING);
SAME(MVX_RUN, KVM_RUN);
SAME(MVX_GET_REGS, KVM_GET_REGS);
SAME(MVX_SET_REGS, KVM_SET_REGS);
SAME(MVX_GET_SREGS, KVM_GET_SREGS);
SAME(MVX_SET_SREGS, KVM_SET_SREGS);
SAME(MVX_INTERRUPT, KVM_INTERRUPT);
SAME(MVX_GET_MSRS, KVM_GET_MSRS);
SAME(MVX_SET_MSRS, KVM_SET_MSRS);
SAME(MVX_GET_FPU, KVM_GET_FPU);
SAME(MVX_SET_FPU, KVM_SET_FPU);
SAME(MVX_SET_CPUID2, KVM_SET_CPUID2);
SAME(MVX_SET_SIGNAL_MASK, KVM_SET_SIGNAL_MASK);
SAME(MVX_GET_MP_STATE, KVM_GET_MP_STATE);
SAME(MVX_SET_MP_STATE, KVM_SET_MP_STATE);
SAME(MVX_NMI, KVM_NMI);
SAME(MVX_X86_SETUP_MCE, KVM_X86_SETUP_MCE);
SAME(MVX_GET_VCPU_EVENTS, KVM_GET_VCPU_EVENTS);
SAME(MVX_SET_VCPU_EVENTS, KVM_SET_VCPU_EVENTS);

/* Structures. */
SAME_SIZE(mvx_userspace_memory_region, kvm_userspace_memory_region);
SAME_FIELD(mvx_userspace_memory_region, kvm_userspace_memory_region, slot);
SAME_FIELD(mvx_userspace_memory_region, kvm_userspace_memory_region, flags);
SAME_FIELD(mvx_userspace_memory_region, kvm_userspace_memory_region,
	   guest_phys_addr);
SAME_FIELD(mvx_userspace_memory_region, kvm_userspace_memory_region,
	   memory_size);
SAME_FIELD(mvx_userspace_memory_region, kvm_userspace_memory_region,
	   userspace_addr);

SAME_SIZE(mvx_dirty_log, kvm_dirty_log);
SAME_FIELD(mvx_dirty_log, kvm_dirty_log, slot);
SAME_FIELD(mvx_dirty_log, kvm_dirty_log, padding1);
SAME_FIELD(mvx_dirty_log, kvm_dirty_log, dirty_bitmap);
SAME_FIELD(mvx_dirty_log, kvm_dirty_log, padding2);

SAME_SIZE(mvx_regs, kvm_regs);
SAME_FIELD(mvx_regs, kvm_regs, rax);
SAME_FIELD(mvx_regs, kvm_regs, rbx);
SAME_FIELD(mvx_regs, kvm_regs, rcx);
SAME_FIELD(mvx_regs, kvm_regs, rdx);
SAME_FIELD(mvx_regs, kvm_regs, rsi);
SAME_FIELD(mvx_regs, kvm_regs, rdi);
SAME_FIELD(mvx_regs, kvm_regs, rsp);
SAME_FIELD(mvx_regs, kvm_regs, rbp);
SAME_FIELD(mvx_regs, kvm_regs, r8);
SAME_FIELD(mvx_regs, kvm_regs, r9);
SAME_FIELD(mvx_regs, kvm_regs, r10);
SAME_FIELD(mvx_regs, kvm_regs, r11);
SAME_FIELD(mvx_regs, kvm_regs, r12);
SAME_FIELD(mvx_regs, kvm_regs, r13);
SAME_FIELD(mvx_regs, kvm_regs, r14);
SAME_FIELD(mvx_regs, kvm_regs, r15);
SAME_FIELD(mvx_regs, kvm_regs, rip);
SAME_FIELD(mvx_regs, kvm_regs, rflags);

SAME_SIZE(mvx_segment, kvm_segment);
SAME_FIELD(mvx_segment, kvm_segment, base);
SAME_FIELD(mvx_segment, kvm_segment, limit);
SAME_FIELD(mvx_segment, kvm_segment, selector);
SAME_FIELD(mvx_segment, kvm_segment, type);
SAME_FIELD(mvx_segment, kvm_segment, present);
SAME_FIELD(mvx_segment, kvm_segment, dpl);
SAME_FIELD(mvx_segment, kvm_segment, db);
SAME_FIELD(mvx_segment, kvm_segment, s);
SAME_FIELD(mvx_segment, kvm_segment, l);
SAME_FIELD(mvx_segment, kvm_segment, g);
SAME_FIELD(mvx_segment, kvm_segment, avl);
SAME_FIELD(mvx_segment, kvm_segment, unusable);
SAME_FIELD(mvx_segment, kvm_segment, padding);

SAME_SIZE(mvx_dtable, kvm_dtable);
SAME_FIELD(mvx_dtable, kvm_dtable, base);
SAME_FIELD(mvx_dtable, kvm_dtable, limit);
SAME_FIELD(mvx_dtable, kvm_dtable, padding);

SAME_SIZE(mvx_sregs, kvm_sregs);
SAME_FIELD(mvx_sregs, kvm_sregs, cs);
SAME_FIELD(mvx_sregs, kvm_sregs, ds);
SAME_FIELD(mvx_sregs, kvm_sregs, es);
SAME_FIELD(mvx_sregs, kvm_sregs, fs);
SAME_FIELD(mvx_sregs, kvm_sregs, gs);
SAME_FIELD(mvx_sregs, kvm_sregs, ss);
SAME_FIELD(mvx_sregs, kvm_sregs, tr);
SAME_FIELD(mvx_sregs, kvm_sregs, ldt);
SAME_FIELD(mvx_sregs, kvm_sregs, gdt);
SAME_FIELD(mvx_sregs, kvm_sregs, idt);
SAME_FIELD(mvx_sregs, kvm_sregs, cr0);
SAME_FIELD(mvx_sregs, kvm_sregs, cr2);
SAME_FIELD(mvx_sregs, kvm_sregs, cr3);
SAME_FIELD(mvx_sregs, kvm_sregs, cr4);
SAME_FIELD(mvx_sregs, kvm_sregs, cr8);
SAME_FIELD(mvx_sregs, kvm_sregs, efer);
SAME_FIELD(mvx_sregs, kvm_sregs, apic_base);
SAME_FIELD(mvx_sregs, kvm_sregs, interrupt_bitmap);

SAME_SIZE(mvx_fpu, kvm_fpu);
SAME_FIELD(mvx_fpu, kvm_fpu, fpr);
SAME_FIELD(mvx_fpu, kvm_fpu, fcw);
SAME_FIELD(mvx_fpu, kvm_fpu, fsw);
SAME_FIELD(mvx_fpu, kvm_fpu, ftwx);
SAME_FIELD(mvx_fpu, kvm_fpu, pad1);
SAME_FIELD(mvx_fpu, kvm_fpu, last_opcode);
SAME_FIELD(mvx_fpu, kvm_fpu, last_ip);
SAME_FIELD(mvx_fpu, kvm_fpu, last_dp);
SAME_FIELD(mvx_fpu, kvm_fpu, xmm);
SAME_FIELD(mvx_fpu, kvm_fpu, mxcsr);
SAME_FIELD(mvx_fpu, kvm_fpu, pad2);

SAME_SIZE(mvx_msr_entry, kvm_msr_entry);
SAME_FIELD(mvx_msr_entry, kvm_msr_entry, index);
SAME_FIELD(mvx_msr_entry, kvm_msr_entry, reserved);
SAME_FIELD(mvx_msr_entry, kvm_msr_entry, data);

SAME_SIZE(mvx_msrs, kvm_msrs);
SAME_FIELD(mvx_msrs, kvm_msrs, nmsrs);
SAME_FIELD(mvx_msrs, kvm_msrs, pad);
SAME_ARRAY(mvx_msrs, kvm_msrs, entries);

SAME_SIZE(mvx_msr_list, kvm_msr_list);
SAME_FIELD(mvx_msr_list, kvm_msr_list, nmsrs);
SAME_ARRAY(mvx_msr_list, kvm_msr_list, indices);

SAME_SIZE(mvx_cpuid_entry2, kvm_cpuid_entry2);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, function);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, index);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, flags);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, eax);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, ebx);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, ecx);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, edx);
SAME_FIELD(mvx_cpuid_entry2, kvm_cpuid_entry2, padding);

SAME_SIZE(mvx_cpuid2, kvm_cpuid2);
SAME_FIELD(mvx_cpuid2, kvm_cpuid2, nent);
SAME_FIELD(mvx_cpuid2, kvm_cpuid2, padding);
SAME_ARRAY(mvx_cpuid2, kvm_cpuid2, entries);

SAME_SIZE(mvx_irq_routing_irqchip, kvm_irq_routing_irqchip);
SAME_FIELD(mvx_irq_routing_irqchip, kvm_irq_routing_irqchip, irqchip);
SAME_FIELD(mvx_irq_routing_irqchip, kvm_irq_routing_irqchip, pin);
SAME_SIZE(mvx_irq_routing_msi, kvm_irq_routing_msi);
SAME_FIELD(mvx_irq_routing_msi, kvm_irq_routing_msi, address_lo);
SAME_FIELD(mvx_irq_routing_msi, kvm_irq_routing_msi, address_hi);
SAME_FIELD(mvx_irq_routing_msi, kvm_irq_routing_msi, data);
SAME_SIZE(mvx_irq_routing_entry, kvm_irq_routing_entry);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, gsi);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, type);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, flags);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, pad);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, u);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, u.irqchip);
SAME_FIELD(mvx_irq_routing_entry, kvm_irq_routing_entry, u.msi);
SAME_SIZE(mvx_irq_routing, kvm_irq_routing);
SAME_FIELD(mvx_irq_routing, kvm_irq_routing, nr);
SAME_FIELD(mvx_irq_routing, kvm_irq_routing, flags);
SAME_ARRAY(mvx_irq_routing, kvm_irq_routing, entries);

SAME_SIZE(mvx_interrupt, kvm_interrupt);
SAME_FIELD(mvx_interrupt, kvm_interrupt, irq);

SAME_SIZE(mvx_run, kvm_run);
SAME_FIELD(mvx_run, kvm_run, request_interrupt_window);
SAME_FIELD(mvx_run, kvm_run, immediate_exit);
SAME_FIELD(mvx_run, kvm_run, padding1);
SAME_FIELD(mvx_run, kvm_run, exit_reason);
SAME_FIELD(mvx_run, kvm_run, ready_for_interrupt_injection);
SAME_FIELD(mvx_run, kvm_run, if_flag);
SAME_FIELD(mvx_run, kvm_run, flags);
SAME_FIELD(mvx_run, kvm_run, cr8);
SAME_FIELD(mvx_run, kvm_run, apic_base);
SAME_FIELD(mvx_run, kvm_run, hw.hardware_exit_reason);
SAME_FIELD(mvx_run, kvm_run, fail_entry.hardware_entry_failure_reason);
SAME_FIELD(mvx_run, kvm_run, fail_entry.cpu);
SAME_FIELD(mvx_run, kvm_run, ex.exception);
SAME_FIELD(mvx_run, kvm_run, ex.error_code);
SAME_FIELD(mvx_run, kvm_run, io.direction);
SAME_FIELD(mvx_run, kvm_run, io.size);
SAME_FIELD(mvx_run, kvm_run, io.port);
SAME_FIELD(mvx_run, kvm_run, io.count);
SAME_FIELD(mvx_run, kvm_run, io.data_offset);
SAME_FIELD(mvx_run, kvm_run, mmio.phys_addr);
SAME_FIELD(mvx_run, kvm_run, mmio.data);
SAME_FIELD(mvx_run, kvm_run, mmio.len);
SAME_FIELD(mvx_run, kvm_run, mmio.is_write);
SAME_FIELD(mvx_run, kvm_run, internal.suberror);
SAME_FIELD(mvx_run, kvm_run, internal.ndata);
SAME_FIELD(mvx_run, kvm_run, internal.data);
SAME_FIELD(mvx_run, kvm_run, padding);
SAME_FIELD(mvx_run, kvm_run, kvm_valid_regs);
SAME_FIELD(mvx_run, kvm_run, kvm_dirty_regs);
SAME_FIELD(mvx_run, kvm_run, s);

SAME_SIZE(mvx_mp_state, kvm_mp_state);
SAME_SIZE(mvx_signal_mask, kvm_signal_mask);
SAME_FIELD(mvx_signal_mask, kvm_signal_mask, len);
SAME_ARRAY(mvx_signal_mask, kvm_signal_mask, sigset);
SAME_SIZE(mvx_vcpu_events, kvm_vcpu_events);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, exception);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, exception.error_code);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, interrupt);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, interrupt.shadow);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, nmi);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, sipi_vector);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, flags);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, smi);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, triple_fault);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, exception_has_payload);
SAME_FIELD(mvx_vcpu_events, kvm_vcpu_events, exception_payload);
