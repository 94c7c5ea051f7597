/* SPDX-License-Identifier: GPL-2.0 */
/* Declarations shared by the core files only; backends use minivmx.h. */
#ifndef _MVX_CORE_H
#define _MVX_CORE_H

#include <linux/bitops.h>
#include <linux/fs.h>
#include "minivmx.h"

extern unsigned int mvx_max_vcpus;

/* main.c */
long mvx_check_extension(unsigned long ext);

/* Guest-physical address bits our 4-level EPT/NPT tables resolve. */
#define MVX_GPA_BITS	48

/* vm.c */
int mvx_vm_create(void);
void mvx_vm_get(struct mvx_vm *vm);
void mvx_vm_put(struct mvx_vm *vm);
struct mvx_slot *mvx_find_slot(struct mvx_vm *vm, u64 gfn);

/* A slot's dirty bitmap, in bytes: KVM's size, whole 64-bit words. */
static inline unsigned long mvx_dirty_bitmap_bytes(u64 npages)
{
	return BITS_TO_LONGS(npages) * sizeof(long);
}

/* vcpu.c */
int mvx_vcpu_create(struct mvx_vm *vm, unsigned long id);
void mvx_vcpu_free(struct mvx_vcpu *vcpu);
void mvx_vcpu_free_core(struct mvx_vcpu *vcpu);
void mvx_fpu_setup(void);
u64 mvx_host_xcr0(void);

/* mmu.c */
int mvx_mmu_init(struct mvx_vm *vm);
void mvx_mmu_destroy(struct mvx_vm *vm);
void mvx_mmu_zap_slot(struct mvx_vm *vm, struct mvx_slot *slot);
void mvx_mmu_protect_slot(struct mvx_vm *vm, struct mvx_slot *slot);
void mvx_mmu_take_dirty(struct mvx_vm *vm, struct mvx_slot *slot,
			unsigned long *bits);

/* emulate.c */
int mvx_emulate_mmio(struct mvx_vcpu *vcpu, u64 gpa);
int mvx_complete_pending(struct mvx_vcpu *vcpu);
void mvx_complete_mmio_read(struct mvx_vcpu *vcpu);

/* cpuid.c */
int mvx_get_supported_cpuid(struct mvx_cpuid2 __user *ucpuid);
int mvx_set_cpuid2(struct mvx_vcpu *vcpu, struct mvx_cpuid2 __user *ucpuid);
int mvx_cpuid_init(struct mvx_vcpu *vcpu);
int mvx_cpuid_setup(void);
void mvx_cpuid_cleanup(void);
unsigned int mvx_guest_maxphyaddr(struct mvx_vcpu *vcpu);

/* msr.c */
int mvx_get_msr_index_list(struct mvx_msr_list __user *ulist);
int mvx_vcpu_get_msrs(struct mvx_vcpu *vcpu, struct mvx_msrs __user *umsrs);
int mvx_vcpu_set_msrs(struct mvx_vcpu *vcpu, struct mvx_msrs __user *umsrs);
void mvx_msrs_reset(struct mvx_vcpu *vcpu);

/* mtrr.c */
int mvx_mtrr_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data);
int mvx_mtrr_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data);

/* mce.c */
void mvx_mce_reset(struct mvx_vcpu *vcpu);
int mvx_mce_cap_supported(u64 __user *arg);
int mvx_mce_setup(struct mvx_vcpu *vcpu, u64 __user *arg);
int mvx_mce_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data, bool host);
int mvx_mce_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data, bool host);

/* events.c */
void mvx_inject_events(struct mvx_vcpu *vcpu);
bool mvx_hlt_wakes_at_once(struct mvx_vcpu *vcpu);
bool mvx_events_before_run(struct mvx_vcpu *vcpu);
bool mvx_triple_fault(struct mvx_vcpu *vcpu);
bool mvx_irq_window_open(struct mvx_vcpu *vcpu);
void mvx_events_after_run(struct mvx_vcpu *vcpu);
int mvx_events_load_cr8(struct mvx_vcpu *vcpu);
void mvx_events_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *s);
void mvx_events_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *s);
void mvx_events_reset(struct mvx_vcpu *vcpu);
int mvx_vcpu_interrupt(struct mvx_vcpu *vcpu, void __user *argp);
int mvx_vcpu_nmi(struct mvx_vcpu *vcpu);
int mvx_vcpu_get_events(struct mvx_vcpu *vcpu, void __user *argp);
int mvx_vcpu_set_events(struct mvx_vcpu *vcpu, void __user *argp);
int mvx_vcpu_get_mp_state(struct mvx_vcpu *vcpu, void __user *argp);
int mvx_vcpu_set_mp_state(struct mvx_vcpu *vcpu, void __user *argp);
int mvx_vcpu_set_signal_mask(struct mvx_vcpu *vcpu, void __user *argp);

/* spec.c */
int mvx_spec_get_msr(struct mvx_vcpu *vcpu, u32 index, u64 *data);
int mvx_spec_set_msr(struct mvx_vcpu *vcpu, u32 index, u64 data);

#endif /* _MVX_CORE_H */
