// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: the VMCS printed to dmesg after a failed VM entry
 * (module parameter dump_invalid_vmcs), the fields the entry checks look at.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/smp.h>
#include "vmx.h"

static void vmx_dump_seg(const char *name, enum vmx_seg seg)
{
	pr_err("  %-4s sel %#06llx base %#018llx limit %#010llx ar %#07llx\n",
	       name, vmcs_read(vmx_seg_field(seg, GUEST_ES_SELECTOR)),
	       vmcs_read(vmx_seg_field(seg, GUEST_ES_BASE)),
	       vmcs_read(vmx_seg_field(seg, GUEST_ES_LIMIT)),
	       vmcs_read(vmx_seg_field(seg, GUEST_ES_AR_BYTES)));
}

void vmx_dump_vmcs(struct vmx_vcpu *vmx)
{
	static const char * const names[VMX_NR_SEGS] = {
		"es", "cs", "ss", "ds", "fs", "gs", "ldtr", "tr"
	};
	int i;

	pr_err("VMCS of vCPU %u (revision %#x) on CPU %d:\n", vmx->vcpu.id,
	       vmx_caps.revision, raw_smp_processor_id());
	pr_err("  controls: pin %#llx proc %#llx proc2 %#llx exit %#llx entry %#llx\n",
	       vmcs_read(PIN_BASED_VM_EXEC_CONTROL),
	       vmcs_read(CPU_BASED_VM_EXEC_CONTROL),
	       vmcs_read(SECONDARY_VM_EXEC_CONTROL),
	       vmcs_read(VM_EXIT_CONTROLS), vmcs_read(VM_ENTRY_CONTROLS));
	pr_err("  eptp %#llx vpid %llu entry-intr %#llx err %#llx len %llu link %#llx\n",
	       vmcs_read(EPT_POINTER), vmcs_read(VIRTUAL_PROCESSOR_ID),
	       vmcs_read(VM_ENTRY_INTR_INFO_FIELD),
	       vmcs_read(VM_ENTRY_EXCEPTION_ERROR_CODE),
	       vmcs_read(VM_ENTRY_INSTRUCTION_LEN),
	       vmcs_read(VMCS_LINK_POINTER));
	pr_err("  cr0 %#llx (shadow %#llx mask %#llx) cr3 %#llx cr4 %#llx (shadow %#llx mask %#llx)\n",
	       vmcs_read(GUEST_CR0), vmcs_read(CR0_READ_SHADOW),
	       vmcs_read(CR0_GUEST_HOST_MASK), vmcs_read(GUEST_CR3),
	       vmcs_read(GUEST_CR4), vmcs_read(CR4_READ_SHADOW),
	       vmcs_read(CR4_GUEST_HOST_MASK));
	pr_err("  rip %#llx rsp %#llx rflags %#llx efer %#llx dr7 %#llx debugctl %#llx\n",
	       vmcs_read(GUEST_RIP), vmcs_read(GUEST_RSP),
	       vmcs_read(GUEST_RFLAGS), vmcs_read(GUEST_IA32_EFER),
	       vmcs_read(GUEST_DR7), vmcs_read(GUEST_IA32_DEBUGCTL));
	for (i = 0; i < VMX_NR_SEGS; i++)
		vmx_dump_seg(names[i], i);
	pr_err("  gdtr %#llx/%#llx idtr %#llx/%#llx\n",
	       vmcs_read(GUEST_GDTR_BASE), vmcs_read(GUEST_GDTR_LIMIT),
	       vmcs_read(GUEST_IDTR_BASE), vmcs_read(GUEST_IDTR_LIMIT));
	pr_err("  interruptibility %#llx activity %#llx pending-dbg %#llx pat %#llx sysenter %#llx:%#llx:%#llx\n",
	       vmcs_read(GUEST_INTERRUPTIBILITY_INFO),
	       vmcs_read(GUEST_ACTIVITY_STATE),
	       vmcs_read(GUEST_PENDING_DBG_EXCEPTIONS),
	       vmx_caps.pat ? vmcs_read(GUEST_IA32_PAT) : 0,
	       vmcs_read(GUEST_SYSENTER_CS), vmcs_read(GUEST_SYSENTER_ESP),
	       vmcs_read(GUEST_SYSENTER_EIP));
	pr_err("  pdptr %#llx %#llx %#llx %#llx\n",
	       vmcs_read(GUEST_PDPTR0), vmcs_read(GUEST_PDPTR1),
	       vmcs_read(GUEST_PDPTR2), vmcs_read(GUEST_PDPTR3));
	pr_err("  host cr0 %#llx cr3 %#llx cr4 %#llx rip %#llx rsp %#llx efer %#llx\n",
	       vmcs_read(HOST_CR0), vmcs_read(HOST_CR3), vmcs_read(HOST_CR4),
	       vmcs_read(HOST_RIP), vmcs_read(HOST_RSP),
	       vmcs_read(HOST_IA32_EFER));
}
