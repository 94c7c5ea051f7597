// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: VMX operation per CPU.  VMXON and VMXOFF, the list of
 * the VMCSs active on each CPU, VMCLEAR on the CPU a VMCS is active on, and
 * leaving VMX in an emergency.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/smp.h>
#include <linux/percpu.h>
#include <asm/special_insns.h>
#include <asm/tlbflush.h>
#include "vmx.h"

DEFINE_PER_CPU(struct vmx_cpu, vmx_cpu);

/* Interrupts off (hw_enable_this_cpu()): see there why. */
int vmx_cpu_enable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	int cpu = smp_processor_id();
	void *region;
	int r;

	if (vc->on)
		return 0;
	/* Another hypervisor may not keep the kernel's CR4 shadow. */
	if ((cr4_read_shadow() | __read_cr4()) & X86_CR4_VMXE) {
		pr_err("CPU %d: CR4.VMXE already set, another hypervisor (kvm_intel?) owns VMX\n",
		       cpu);
		return -EBUSY;
	}
	region = (void *)__get_free_page(GFP_ATOMIC | __GFP_ZERO);
	if (!region)
		return -ENOMEM;
	*(u32 *)region = vmx_caps.revision;

	cr4_set_bits(X86_CR4_VMXE);
	r = vmx_vmxon(__pa(region));
	if (r) {
		cr4_clear_bits(X86_CR4_VMXE);
		free_page((unsigned long)region);
		pr_err("CPU %d: VMXON failed (%d)\n", cpu, r);
		return -EIO;
	}
	vc->vmxon_region = region;
	vc->current_vmcs = NULL;
	vc->on = true;
	return 0;
}

/* Runs on the CPU the VMCS is active on, interrupts off. */
void vmx_vmcs_clear_local(void *arg)
{
	struct vmx_vcpu *vmx = arg;
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);

	if (vmx->vmcs_cpu != smp_processor_id())
		return;	/* already cleared by cpu_disable */
	vmx_vmclear(vmx->vmcs_pa);
	if (vc->current_vmcs == vmx->vmcs)
		vc->current_vmcs = NULL;
	list_del_init(&vmx->loaded_link);
	vmx->launched = false;
	/* The list is consistent before another CPU may take the VMCS. */
	smp_wmb();
	WRITE_ONCE(vmx->vmcs_cpu, -1);
}

/* Interrupts off (hw_disable_this_cpu()). */
void vmx_cpu_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct vmx_vcpu *vmx, *tmp;

	if (!vc->on)
		return;
	list_for_each_entry_safe(vmx, tmp, &vc->loaded, loaded_link)
		vmx_vmcs_clear_local(vmx);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	vc->on = false;
	free_page((unsigned long)vc->vmxon_region);
	vc->vmxon_region = NULL;
}

/*
 * From the kernel's emergency callback, possibly in NMI: the CPU is about
 * to halt or jump into a new kernel.  VMCLEAR writes the active VMCSs back
 * to memory (a kdump kernel sees them), VMXOFF lets INIT in again.  The
 * list may be caught mid-update by the NMI; a VMCLEAR that faults is
 * harmless.  The VMXON region is left allocated: no freeing in NMI.
 */
void vmx_emergency_disable(void)
{
	struct vmx_cpu *vc = this_cpu_ptr(&vmx_cpu);
	struct vmx_vcpu *vmx;

	if (!READ_ONCE(vc->on) || !(__read_cr4() & X86_CR4_VMXE))
		return;
	list_for_each_entry(vmx, &vc->loaded, loaded_link)
		vmx_vmclear(vmx->vmcs_pa);
	vmx_vmxoff();
	cr4_clear_bits(X86_CR4_VMXE);
	WRITE_ONCE(vc->on, false);
}
