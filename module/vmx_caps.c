// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx VMX backend: what the CPU's VMX offers, read once at probe.  The
 * firmware check, IA32_VMX_BASIC, the pin-based, processor-based, exit and
 * entry controls we need or want, EPT and VPID, the CR0/CR4 fixed bits.
 */
#define pr_fmt(fmt) "minivmx: " fmt

#include <linux/kernel.h>
#include <linux/percpu.h>
#include <asm/cpufeature.h>
#include <asm/msr.h>
#include <asm/msr-index.h>
#include <asm/processor.h>
#include "vmx.h"

struct vmx_caps vmx_caps;

u64 vmx_cr0_mask, vmx_cr4_mask;

/*
 * A control word from its capability MSR (SDM A.3): the low half holds the
 * bits that must be 1, the high half the bits that may be 1.
 */
static int vmx_adjust_controls(u32 msr, u32 required, u32 optional,
			       const char *what, u32 *result)
{
	u64 cap;
	u32 must, may;

	rdmsrl(msr, cap);
	must = (u32)cap;
	may = (u32)(cap >> 32);
	if (required & ~may) {
		pr_err("VMX %s controls lack %#x (allowed %#x): unusable\n",
		       what, required & ~may, may);
		return -ENODEV;
	}
	*result = ((required | optional) & may) | must;
	return 0;
}

static int vmx_check_firmware(void)
{
	u64 feat;

	if (!(cpuid_ecx(1) & BIT(X86_FEATURE_VMX & 31))) {
		pr_err("CPU has no VMX (CPUID.1:ECX.VMX = 0)\n");
		return -ENODEV;
	}
	if (rdmsrl_safe(MSR_IA32_FEAT_CTL, &feat) ||
	    !(feat & FEAT_CTL_LOCKED) ||
	    !(feat & FEAT_CTL_VMX_ENABLED_OUTSIDE_SMX)) {
		pr_err("VMX disabled by firmware (IA32_FEATURE_CONTROL = %#llx)\n",
		       feat);
		return -ENODEV;
	}
	return 0;
}

static int vmx_probe_basic(void)
{
	u64 basic;

	rdmsrl(MSR_IA32_VMX_BASIC, basic);
	if (MVX_BASIC_VMCS_SIZE(basic) > PAGE_SIZE ||
	    (basic & MVX_BASIC_32BIT_PA) || MVX_BASIC_MEMTYPE(basic) != 6) {
		pr_err("unsupported IA32_VMX_BASIC %#llx\n", basic);
		return -ENODEV;
	}
	vmx_caps.revision = basic & MVX_BASIC_REVISION_MASK;
	vmx_caps.inout_info = basic & MVX_BASIC_INOUT_INFO;
	return (basic & MVX_BASIC_TRUE_CTLS) ? 1 : 0;
}

static int vmx_probe_controls(bool true_ctls)
{
	u32 pin_msr = true_ctls ? MSR_IA32_VMX_TRUE_PINBASED_CTLS :
				  MSR_IA32_VMX_PINBASED_CTLS;
	u32 proc_msr = true_ctls ? MSR_IA32_VMX_TRUE_PROCBASED_CTLS :
				   MSR_IA32_VMX_PROCBASED_CTLS;
	u32 exit_msr = true_ctls ? MSR_IA32_VMX_TRUE_EXIT_CTLS :
				   MSR_IA32_VMX_EXIT_CTLS;
	u32 entry_msr = true_ctls ? MSR_IA32_VMX_TRUE_ENTRY_CTLS :
				    MSR_IA32_VMX_ENTRY_CTLS;
	int r;

	/* Virtual NMIs: NMI blocking the guest can see, and NMI windows. */
	r = vmx_adjust_controls(pin_msr,
				PIN_BASED_EXT_INTR_MASK | PIN_BASED_NMI_EXITING |
				PIN_BASED_VIRTUAL_NMIS,
				PIN_BASED_VMX_PREEMPTION_TIMER,
				"pin-based", &vmx_caps.pin);
	if (r)
		return r;
	/*
	 * All port I/O, MSR accesses, CR8 accesses (else the guest would
	 * write the host's TPR), HLT, MOV DR, MWAIT/MONITOR/RDPMC exit.
	 */
	r = vmx_adjust_controls(proc_msr,
				CPU_BASED_HLT_EXITING |
				CPU_BASED_UNCOND_IO_EXITING |
				CPU_BASED_CR8_LOAD_EXITING |
				CPU_BASED_CR8_STORE_EXITING |
				CPU_BASED_MOV_DR_EXITING |
				MVX_VMX_WINDOWS |
				CPU_BASED_ACTIVATE_SECONDARY_CONTROLS,
				CPU_BASED_MWAIT_EXITING |
				CPU_BASED_MONITOR_EXITING |
				CPU_BASED_RDPMC_EXITING |
				CPU_BASED_USE_TSC_OFFSETTING,
				"processor-based", &vmx_caps.proc);
	if (r)
		return r;
	/* The windows must exist, but each vCPU turns them on when needed. */
	vmx_caps.proc &= ~MVX_VMX_WINDOWS;
	r = vmx_adjust_controls(MSR_IA32_VMX_PROCBASED_CTLS2,
				SECONDARY_EXEC_ENABLE_EPT |
				SECONDARY_EXEC_UNRESTRICTED_GUEST,
				SECONDARY_EXEC_ENABLE_VPID |
				SECONDARY_EXEC_WBINVD_EXITING |
				SECONDARY_EXEC_ENABLE_RDTSCP |
				SECONDARY_EXEC_ENABLE_INVPCID,
				"secondary", &vmx_caps.proc2);
	if (r)
		return r;
	/*
	 * Without these controls RDTSCP, RDPID and INVPCID raise #UD in the
	 * guest; CPUID must not offer them then.  With INVLPG exiting forced
	 * on, INVPCID would exit instead, and we do not emulate it.
	 */
	if (vmx_caps.proc & CPU_BASED_INVLPG_EXITING)
		vmx_caps.proc2 &= ~SECONDARY_EXEC_ENABLE_INVPCID;
	if (!(vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_RDTSCP))
		mvx_guest_lacks |= MVX_NO_RDTSCP;
	if (!(vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_INVPCID))
		mvx_guest_lacks |= MVX_NO_INVPCID;
	r = vmx_adjust_controls(exit_msr,
				VM_EXIT_HOST_ADDR_SPACE_SIZE |
				VM_EXIT_SAVE_IA32_EFER | VM_EXIT_LOAD_IA32_EFER,
				VM_EXIT_SAVE_DEBUG_CONTROLS |
				VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT,
				"VM-exit", &vmx_caps.exit);
	if (r)
		return r;
	/* Interrupts stay pending in the LAPIC until we enable them. */
	vmx_caps.exit &= ~VM_EXIT_ACK_INTR_ON_EXIT;
	r = vmx_adjust_controls(entry_msr, VM_ENTRY_LOAD_IA32_EFER,
				VM_ENTRY_LOAD_DEBUG_CONTROLS |
				VM_ENTRY_LOAD_IA32_PAT,
				"VM-entry", &vmx_caps.entry);
	if (r)
		return r;
	vmx_caps.entry &= ~VM_ENTRY_IA32E_MODE;	/* set per guest */
	vmx_caps.pat = (vmx_caps.entry & VM_ENTRY_LOAD_IA32_PAT) &&
		       (vmx_caps.exit & VM_EXIT_SAVE_IA32_PAT) &&
		       (vmx_caps.exit & VM_EXIT_LOAD_IA32_PAT);
	if (!vmx_caps.pat) {
		vmx_caps.entry &= ~VM_ENTRY_LOAD_IA32_PAT;
		vmx_caps.exit &= ~(VM_EXIT_SAVE_IA32_PAT | VM_EXIT_LOAD_IA32_PAT);
	}
	return 0;
}

static int vmx_probe_ept(void)
{
	u64 cap, need = MVX_EPT_CAP_WALK4 | MVX_EPT_CAP_WB | MVX_EPT_CAP_INVEPT;

	rdmsrl(MSR_IA32_VMX_EPT_VPID_CAP, cap);
	vmx_caps.ept_vpid = cap;
	if ((cap & need) != need ||
	    !(cap & (MVX_EPT_CAP_INVEPT_SINGLE | MVX_EPT_CAP_INVEPT_GLOBAL))) {
		pr_err("EPT lacks 4-level/write-back/INVEPT (cap %#llx)\n", cap);
		return -ENODEV;
	}
	vmx_caps.vpid = (vmx_caps.proc2 & SECONDARY_EXEC_ENABLE_VPID) &&
			(cap & MVX_VPID_CAP_INVVPID) &&
			(cap & (MVX_VPID_CAP_SINGLE | MVX_VPID_CAP_ALL));
	if (!vmx_caps.vpid)
		vmx_caps.proc2 &= ~SECONDARY_EXEC_ENABLE_VPID;
	return 0;
}

static void vmx_probe_fixed_bits(void)
{
	u64 misc;

	rdmsrl(MSR_IA32_VMX_CR0_FIXED0, vmx_caps.cr0_fixed0);
	rdmsrl(MSR_IA32_VMX_CR0_FIXED1, vmx_caps.cr0_fixed1);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED0, vmx_caps.cr4_fixed0);
	rdmsrl(MSR_IA32_VMX_CR4_FIXED1, vmx_caps.cr4_fixed1);
	rdmsrl(MSR_IA32_VMX_MISC, misc);
	vmx_caps.timer_rate = MVX_MISC_TIMER_RATE(misc);

	/* Unrestricted guest: PE and PG are the guest's (SDM 27.3.1.1). */
	vmx_caps.cr0_fixed0 &= ~(u64)(X86_CR0_PE | X86_CR0_PG);
	vmx_cr0_mask = X86_CR0_PE | X86_CR0_PG | MVX_CR0_ALWAYS_OFF |
		       vmx_caps.cr0_fixed0 | ~vmx_caps.cr0_fixed1;
	/*
	 * XCR0 and PKRU are switched only where the host kernel runs with
	 * XSAVE and protection keys on: elsewhere (Bochs) the guest gets
	 * neither, like the CPUID it is offered.
	 */
	if (!boot_cpu_has(X86_FEATURE_OSXSAVE))
		vmx_caps.cr4_fixed1 &= ~(u64)X86_CR4_OSXSAVE;
	if (!boot_cpu_has(X86_FEATURE_OSPKE))
		vmx_caps.cr4_fixed1 &= ~(u64)X86_CR4_PKE;
	mvx_set_cr4_allowed(vmx_caps.cr4_fixed1);
	/* Writes to any bit the guest may not own exit (vmx_set_cr4). */
	vmx_cr4_mask = vmx_caps.cr4_fixed0 | ~mvx_cr4_allowed;
}

int vmx_probe(void)
{
	int r;

	r = vmx_check_firmware();
	if (r)
		return r;
	r = vmx_probe_basic();
	if (r < 0)
		return r;
	r = vmx_probe_controls(r);
	if (r)
		return r;
	r = vmx_probe_ept();
	if (r)
		return r;
	vmx_probe_fixed_bits();
	/* Once, not per VMXON: after a loss VMCSs may stay listed (below). */
	for_each_possible_cpu(r)
		INIT_LIST_HEAD(&per_cpu(vmx_cpu, r).loaded);
	pr_info("VMX: revision %#x, pin %#x proc %#x proc2 %#x exit %#x entry %#x, ept/vpid cap %#llx, preemption timer %s\n",
		vmx_caps.revision, vmx_caps.pin, vmx_caps.proc, vmx_caps.proc2,
		vmx_caps.exit, vmx_caps.entry, vmx_caps.ept_vpid,
		(vmx_caps.pin & PIN_BASED_VMX_PREEMPTION_TIMER) ? "on" : "absent");
	return 0;
}
