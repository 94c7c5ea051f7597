// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: the VMX instructions VMXON, VMXOFF, VMCLEAR, VMPTRLD,
 * INVEPT and INVVPID with their exception fixups and error reports, and the
 * TLB flushes made of them.  VMREAD and VMWRITE are inline in vmx.h.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include "vmx.h"

/*
 * Every VMX instruction has an exception-table entry: outside VMX operation
 * it raises #UD, and VMX can be turned off underneath a vCPU (our reboot
 * notifier, the kernel's emergency callback, kexec).  The fault is then an
 * error that stops our VMs (mvx_hw_fault()), never an oops.
 */
void vmx_vmwrite_error(unsigned long field, u64 val)
{
	pr_err_ratelimited("vmwrite %#lx = %#llx failed, error %llu\n",
			   field, val, vmcs_read(VM_INSTRUCTION_ERROR));
}

int vmx_vmxon(u64 pa)
{
	asm goto("1: vmxon %[pa]\n\t"
		 "jbe %l[fail]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [pa] "m" (pa) : "memory", "cc" : fail, fault);
	return 0;
fail:
	return -EIO;
fault:
	return -EFAULT;
}

void vmx_vmxoff(void)
{
	asm goto("1: vmxoff\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : : "memory", "cc" : fault);
	return;
fault:
	mvx_hw_fault("vmxoff");
}

void vmx_vmclear(u64 pa)
{
	asm goto("1: vmclear %[pa]\n\t"
		 "jbe %l[fail]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [pa] "m" (pa) : "memory", "cc" : fail, fault);
	return;
fail:
	pr_err_ratelimited("vmclear %#llx failed\n", pa);
	return;
fault:
	mvx_hw_fault("vmclear");
}

void vmx_vmptrld(u64 pa)
{
	asm goto("1: vmptrld %[pa]\n\t"
		 "jbe %l[fail]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [pa] "m" (pa) : "memory", "cc" : fail, fault);
	return;
fail:
	pr_err_ratelimited("vmptrld %#llx failed\n", pa);
	return;
fault:
	mvx_hw_fault("vmptrld");
}

static void vmx_invept(unsigned long type, u64 eptp)
{
	struct { u64 eptp, zero; } desc = { eptp, 0 };

	asm goto("1: invept %[desc], %[type]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [desc] "m" (desc), [type] "r" (type)
		 : "memory", "cc" : fault);
	return;
fault:
	mvx_hw_fault("invept");
}

static void vmx_invvpid(unsigned long type, u16 vpid)
{
	struct { u64 vpid, gva; } desc = { vpid, 0 };

	asm goto("1: invvpid %[desc], %[type]\n\t"
		 MVX_ASM_FIXUP("%l[fault]")
		 : : [desc] "m" (desc), [type] "r" (type)
		 : "memory", "cc" : fault);
	return;
fault:
	mvx_hw_fault("invvpid");
}

void vmx_flush_vpid(struct vmx_vcpu *vmx)
{
	if (!vmx->vpid)
		return;	/* VPID 0: every entry and exit flushes (SDM 29.4.3.3) */
	if (vmx_caps.ept_vpid & MVX_VPID_CAP_SINGLE)
		vmx_invvpid(MVX_INVVPID_SINGLE, vmx->vpid);
	else
		vmx_invvpid(MVX_INVVPID_ALL, 0);
}

void vmx_flush_tlb(struct mvx_vcpu *vcpu)
{
	struct vmx_vcpu *vmx = to_vmx(vcpu);
	u64 eptp = mvx_mmu_root_pa(vcpu->vm) | MVX_EPTP_WALK4 | MVX_EPTP_WB;

	if (vmx_caps.ept_vpid & MVX_EPT_CAP_INVEPT_SINGLE)
		vmx_invept(MVX_INVEPT_SINGLE, eptp);
	else
		vmx_invept(MVX_INVEPT_GLOBAL, 0);
	vmx_flush_vpid(vmx);
	vmx->need_vpid_flush = false;
}
