// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx: the /dev/minivmx device, its system-level ioctls, and turning
 * hardware virtualization on and off on every CPU while VMs exist.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/cdev.h>
#include <linux/device.h>
#include <linux/fs.h>
#include <linux/cpu.h>
#include <linux/cpuhotplug.h>
#include <linux/reboot.h>
#include <linux/syscore_ops.h>
#include <linux/uidgid.h>
#include <asm/reboot.h>
#include "core.h"

static unsigned int mode = 0600;
module_param(mode, uint, 0444);
MODULE_PARM_DESC(mode, "Permission bits of /dev/minivmx (default 0600)");

static unsigned int gid;
module_param(gid, uint, 0444);
MODULE_PARM_DESC(gid, "Group owning /dev/minivmx (default 0, root)");

unsigned int mvx_max_vcpus = MVX_MAX_VCPUS;

/*
 * MVX_QUIRK_IRQ_WATCHDOG: Bochs keeps host interrupts masked while a VMX
 * guest runs with RFLAGS.IF = 0, so a spinning guest would never exit; the
 * VMX-preemption timer (preemption_timer_us) bounds each stay instead.  On
 * silicon external-interrupt exiting already does, and the timer costs one
 * exit per period.
 * MVX_QUIRK_HIDE_LME: QEMU's TCG cannot leave an SVM guest that has
 * EFER.LME set with paging off (the host CPU hangs at #VMEXIT), so LME stays
 * out of the VMCB until the guest turns paging on, and its CR0 writes are
 * emulated meanwhile.  On silicon that only costs those CR0 exits.
 * MVX_QUIRK_XCR0_READBACK: QEMU's TCG does not deliver the SVM XSETBV
 * intercept, so a guest's XSETBV changes XCR0 behind our back; without the
 * read-back the next entry would put the stale value back, and the guest's
 * XRSTOR of what it saved meanwhile #GPs (Linux: "bad frame in
 * rt_sigreturn").  So XCR0 is read after every stay in the guest.  On
 * silicon XSETBV always exits and the read gives what we set: one XGETBV
 * per exit to userspace.
 * MVX_QUIRK_SVM_VIRQ: QEMU's TCG (7.2) delivers an external interrupt
 * injected through EVENTINJ at VMRUN but leaves its vector behind as a
 * pending exception, and delivers it a second time, whatever RFLAGS.IF
 * says, if its vCPU thread is kicked before the next #VMEXIT: a Linux
 * guest then re-enters its timer interrupt while holding i8259A_lock and
 * deadlocks.  So fresh external interrupts go in as a virtual interrupt
 * (V_IRQ with its vector, no VINTR intercept), which the CPU delivers
 * through its ordinary interrupt path; one not yet taken at the exit is
 * queued again.  Silicon delivers V_IRQ the same way.
 */
unsigned int mvx_quirks = MVX_QUIRK_IRQ_WATCHDOG | MVX_QUIRK_HIDE_LME |
			  MVX_QUIRK_XCR0_READBACK | MVX_QUIRK_SVM_VIRQ;
module_param_named(quirks, mvx_quirks, uint, 0444);
MODULE_PARM_DESC(quirks,
		 "Emulator workarounds, a bit mask: 1 = VMX preemption-timer watchdog (Bochs), 2 = SVM EFER.LME kept out of the VMCB while paging is off (QEMU TCG), 4 = XCR0 read back after guest stays (QEMU TCG runs XSETBV without the intercept), 8 = SVM external interrupts injected as V_IRQ (QEMU TCG delivers EVENTINJ interrupts twice); default 15");

const struct mvx_backend *mvx_ops;

static DEFINE_MUTEX(hw_lock);
static unsigned int hw_users;
static int hw_cpuhp_state;
static bool hw_rebooting;
/* Set once VMX/SVM went away underneath us; never cleared. */
static bool hw_lost;
static DEFINE_PER_CPU(bool, hw_enabled);

/*
 * Both steps with interrupts off: KVM (6.1) turns VMX/SVM on and off from
 * function-call IPIs, and our reboot notifier does too.  Between the test
 * "is CR4.VMXE / EFER.SVME already set?" in cpu_enable() and the setting,
 * an IPI could make both hypervisors believe they own the CPU, and the
 * loser would clear the bit underneath the winner.
 */
static int hw_enable_this_cpu(void)
{
	unsigned long flags;
	int ret = 0;

	local_irq_save(flags);
	if (READ_ONCE(hw_lost)) {
		ret = -EIO;
	} else if (!this_cpu_read(hw_enabled)) {
		ret = mvx_ops->cpu_enable();
		if (!ret)
			this_cpu_write(hw_enabled, true);
	}
	local_irq_restore(flags);
	return ret;
}

static void hw_disable_this_cpu(void *unused)
{
	unsigned long flags;

	local_irq_save(flags);
	if (this_cpu_read(hw_enabled)) {
		mvx_ops->cpu_disable();
		this_cpu_write(hw_enabled, false);
	}
	local_irq_restore(flags);
}

static int hw_cpu_online(unsigned int cpu)
{
	int ret = hw_enable_this_cpu();

	/* Our VMs are dead after a loss: do not keep the CPU from coming up. */
	return ret == -EIO ? 0 : ret;
}

static int hw_cpu_offline(unsigned int cpu)
{
	hw_disable_this_cpu(NULL);
	return 0;
}

/* Called when a VM is created: the first one turns VMX/SVM on everywhere. */
int mvx_hw_get(void)
{
	int ret = 0;

	mutex_lock(&hw_lock);
	if (hw_rebooting || READ_ONCE(hw_lost)) {
		ret = -EBUSY;
		goto out;
	}
	if (hw_users == 0) {
		ret = cpuhp_setup_state(CPUHP_AP_ONLINE_DYN, "minivmx:online",
					hw_cpu_online, hw_cpu_offline);
		if (ret < 0) {
			pr_err("cannot enable %s on every CPU (%d)\n",
			       mvx_ops->name, ret);
			goto out;
		}
		hw_cpuhp_state = ret;
		ret = 0;
	}
	hw_users++;
out:
	mutex_unlock(&hw_lock);
	return ret;
}

/* Called when a VM is destroyed: the last one turns VMX/SVM off again. */
void mvx_hw_put(void)
{
	mutex_lock(&hw_lock);
	if (!WARN_ON(hw_users == 0) && --hw_users == 0)
		cpuhp_remove_state(hw_cpuhp_state);
	mutex_unlock(&hw_lock);
}

bool mvx_hw_usable(void)
{
	return !READ_ONCE(hw_rebooting) && !READ_ONCE(hw_lost);
}

void mvx_hw_fault(const char *insn)
{
	bool expected = READ_ONCE(hw_rebooting) || READ_ONCE(hw_lost);

	WRITE_ONCE(hw_lost, true);
	if (!expected)
		pr_err("%s faulted on CPU %d: %s was turned off underneath minivmx, its VMs stop (EIO)\n",
		       insn, raw_smp_processor_id(), mvx_ops->name);
}

int mvx_exit_hw_lost(struct mvx_vcpu *vcpu)
{
	pr_err_ratelimited("vCPU %u: %s is off (reboot, kexec or an emergency): run fails with EIO\n",
			   vcpu->id, mvx_ops->name);
	return -EIO;
}

static int hw_reboot(struct notifier_block *nb, unsigned long code, void *p)
{
	/* VMXON blocks INIT; a kexec'd kernel would also find VMX on. */
	mutex_lock(&hw_lock);
	WRITE_ONCE(hw_rebooting, true);
	if (hw_users)
		on_each_cpu(hw_disable_this_cpu, NULL, 1);
	mutex_unlock(&hw_lock);
	return NOTIFY_OK;
}

static struct notifier_block hw_reboot_nb = {
	.notifier_call = hw_reboot,
};

/*
 * Emergency restart (sysrq b, panic) and kdump do not call reboot
 * notifiers: the kernel calls one registered callback on every CPU instead,
 * from NMI on all but its own.  It has a single slot, and kvm_intel (and
 * 6.12's kvm_amd) takes it too, warning if it is taken: so we hold it only
 * while kvm.ko is not loaded.  KVM's own callback turns VMX/SVM off on any
 * CPU that has it on, ours included, and a kvm.ko without a vendor module
 * runs no guest; that leaves only kvm.ko loaded alone uncovered.
 */
static void hw_emergency_disable(void)
{
	WRITE_ONCE(hw_lost, true);
	mvx_ops->emergency_disable();
}

static bool hw_kvm_loaded;
static bool hw_emergency_held;

/* Under hw_lock. */
static void hw_emergency_update(bool want)
{
	if (want == hw_emergency_held)
		return;
	if (want)
		cpu_emergency_register_virt_callback(hw_emergency_disable);
	else
		cpu_emergency_unregister_virt_callback(hw_emergency_disable);
	hw_emergency_held = want;
}

static int hw_module_event(struct notifier_block *nb, unsigned long state,
			   void *data)
{
	struct module *mod = data;

	if (strcmp(mod->name, "kvm"))
		return NOTIFY_DONE;
	mutex_lock(&hw_lock);
	/* COMING is sent before kvm's init, GOING after its exit. */
	if (state == MODULE_STATE_COMING)
		hw_kvm_loaded = true;
	else if (state == MODULE_STATE_GOING)
		hw_kvm_loaded = false;
	hw_emergency_update(!hw_kvm_loaded);
	mutex_unlock(&hw_lock);
	return NOTIFY_OK;
}

static struct notifier_block hw_module_nb = {
	.notifier_call = hw_module_event,
};

static void hw_emergency_setup(void)
{
	void *kvm_sym;

	register_module_notifier(&hw_module_nb);
	/* kvm.ko loaded before us: ask for one of its symbols. */
	kvm_sym = __symbol_get("kvm_vcpu_kick");
	if (kvm_sym)
		__symbol_put("kvm_vcpu_kick");
	mutex_lock(&hw_lock);
	if (kvm_sym)
		hw_kvm_loaded = true;
	hw_emergency_update(!hw_kvm_loaded);
	mutex_unlock(&hw_lock);
}

static void hw_emergency_cleanup(void)
{
	unregister_module_notifier(&hw_module_nb);
	mutex_lock(&hw_lock);
	hw_emergency_update(false);
	mutex_unlock(&hw_lock);
}

/* Other CPUs are offline (cpuhp) by now; only the boot CPU is left. */
static int hw_suspend_cpu(void)
{
	if (hw_users)
		hw_disable_this_cpu(NULL);
	return 0;
}

static void hw_resume_cpu(void)
{
	if (hw_users && hw_enable_this_cpu())
		pr_err("cannot re-enable %s after resume\n", mvx_ops->name);
}

#ifdef MVX_SYSCORE_DATA
static int hw_suspend(void *data)
{
	return hw_suspend_cpu();
}

static void hw_resume(void *data)
{
	hw_resume_cpu();
}

static const struct syscore_ops hw_syscore_ops = {
	.suspend = hw_suspend,
	.resume = hw_resume,
};

static struct syscore hw_syscore = {
	.ops = &hw_syscore_ops,
};

static void hw_syscore_register(void)
{
	register_syscore(&hw_syscore);
}

static void hw_syscore_unregister(void)
{
	unregister_syscore(&hw_syscore);
}
#else
static struct syscore_ops hw_syscore_ops = {
	.suspend = hw_suspend_cpu,
	.resume = hw_resume_cpu,
};

static void hw_syscore_register(void)
{
	register_syscore_ops(&hw_syscore_ops);
}

static void hw_syscore_unregister(void)
{
	unregister_syscore_ops(&hw_syscore_ops);
}
#endif

long mvx_check_extension(unsigned long ext)
{
	switch (ext) {
	case MVX_CAP_USER_MEMORY:
	case MVX_CAP_SET_TSS_ADDR:
	case MVX_CAP_EXT_CPUID:
	case MVX_CAP_READONLY_MEM:
	case MVX_CAP_IMMEDIATE_EXIT:
	case MVX_CAP_MP_STATE:
	case MVX_CAP_VCPU_EVENTS:
	case MVX_CAP_USER_NMI:
	case MVX_CAP_DESTROY_MEMORY_REGION_WORKS:
	case MVX_CAP_JOIN_MEMORY_REGIONS_WORKS:
		return 1;
	case MVX_CAP_NR_VCPUS:
		return min_t(unsigned int, num_online_cpus(), mvx_max_vcpus);
	case MVX_CAP_MAX_VCPUS:
	case MVX_CAP_MAX_VCPU_ID:
		return mvx_max_vcpus;
	case MVX_CAP_NR_MEMSLOTS:
		return MVX_MAX_SLOTS;
	case MVX_CAP_IRQ_ROUTING:
		/*
		 * KVM's table size: QEMU requires the capability, and uses
		 * MVX_SET_GSI_ROUTING only with an in-kernel irqchip.
		 */
		return MVX_MAX_IRQ_ROUTES;
	case MVX_CAP_MCE:
		return MVX_MAX_MCE_BANKS;
	default:
		return 0;
	}
}

static long mvx_dev_ioctl(struct file *filp, unsigned int cmd,
			  unsigned long arg)
{
	void __user *argp = (void __user *)arg;

	switch (cmd) {
	case MVX_GET_API_VERSION:
		return arg ? -EINVAL : MVX_API_VERSION;
	case MVX_CREATE_VM:
		/* Only the default machine type exists. */
		return arg ? -EINVAL : mvx_vm_create();
	case MVX_CHECK_EXTENSION:
		return mvx_check_extension(arg);
	case MVX_GET_VCPU_MMAP_SIZE:
		return arg ? -EINVAL : MVX_RUN_PAGES * PAGE_SIZE;
	case MVX_GET_MSR_INDEX_LIST:
		return mvx_get_msr_index_list(argp);
	case MVX_GET_SUPPORTED_CPUID:
		return mvx_get_supported_cpuid(argp);
	case MVX_X86_GET_MCE_CAP_SUPPORTED:
		return mvx_mce_cap_supported(argp);
	default:
		return -EINVAL;
	}
}

static const struct file_operations mvx_dev_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = mvx_dev_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

#ifdef MVX_DEVNODE_CONST
static char *mvx_devnode(const struct device *dev, umode_t *m,
			 kuid_t *uid, kgid_t *g)
#else
static char *mvx_devnode(struct device *dev, umode_t *m,
			 kuid_t *uid, kgid_t *g)
#endif
{
	if (m)
		*m = mode & 0777;
	if (g)
		*g = KGIDT_INIT(gid);
	return NULL;
}

static const struct device_type mvx_dev_type = {
	.name = "minivmx",
	.devnode = mvx_devnode,
};

/*
 * Only a device with a class (or bus) sends uevents, so without one udev
 * never hears of /dev/minivmx and its rule (group kvm, 0660) cannot apply;
 * devtmpfs creates the node either way.
 */
static struct class mvx_class = {
	.name = "minivmx",
};

static dev_t mvx_devt;
static struct cdev mvx_cdev;
static struct device mvx_device;

static void mvx_device_release(struct device *dev)
{
}

static int mvx_device_register(void)
{
	int ret;

	ret = class_register(&mvx_class);
	if (ret)
		return ret;
	ret = alloc_chrdev_region(&mvx_devt, 0, 1, "minivmx");
	if (ret)
		goto err_class;

	cdev_init(&mvx_cdev, &mvx_dev_fops);
	mvx_cdev.owner = THIS_MODULE;

	device_initialize(&mvx_device);
	mvx_device.devt = mvx_devt;
	mvx_device.type = &mvx_dev_type;
	mvx_device.class = &mvx_class;
	mvx_device.release = mvx_device_release;
	ret = dev_set_name(&mvx_device, "minivmx");
	if (ret)
		goto err_put;

	ret = cdev_device_add(&mvx_cdev, &mvx_device);
	if (ret)
		goto err_put;
	return 0;

err_put:
	put_device(&mvx_device);
	unregister_chrdev_region(mvx_devt, 1);
err_class:
	class_unregister(&mvx_class);
	return ret;
}

static void mvx_device_unregister(void)
{
	cdev_device_del(&mvx_cdev, &mvx_device);
	put_device(&mvx_device);
	unregister_chrdev_region(mvx_devt, 1);
	class_unregister(&mvx_class);
}

static const struct mvx_backend *mvx_pick_backend(void)
{
	if (boot_cpu_data.x86_vendor == X86_VENDOR_INTEL ||
	    boot_cpu_data.x86_vendor == X86_VENDOR_CENTAUR ||
	    boot_cpu_data.x86_vendor == X86_VENDOR_ZHAOXIN)
		return &mvx_vmx_backend;
	if (boot_cpu_data.x86_vendor == X86_VENDOR_AMD ||
	    boot_cpu_data.x86_vendor == X86_VENDOR_HYGON)
		return &mvx_svm_backend;
	return NULL;
}

static int __init mvx_init(void)
{
	int ret;

	mvx_ops = mvx_pick_backend();
	if (!mvx_ops) {
		pr_err("CPU vendor has neither VMX nor SVM\n");
		return -ENODEV;
	}
	ret = mvx_ops->probe();
	if (ret)
		return ret;

	mvx_fpu_setup();
	ret = mvx_cpuid_setup();
	if (ret)
		return ret;

	ret = mvx_device_register();
	if (ret) {
		pr_err("cannot create /dev/minivmx (%d)\n", ret);
		mvx_cpuid_cleanup();
		return ret;
	}
	preempt_notifier_inc();
	register_reboot_notifier(&hw_reboot_nb);
	hw_emergency_setup();
	hw_syscore_register();
	pr_info("loaded, %s backend\n", mvx_ops->name);
	return 0;
}

static void __exit mvx_exit(void)
{
	hw_syscore_unregister();
	hw_emergency_cleanup();
	unregister_reboot_notifier(&hw_reboot_nb);
	mvx_device_unregister();
	preempt_notifier_dec();
	mvx_cpuid_cleanup();
}

module_init(mvx_init);
module_exit(mvx_exit);

MODULE_LICENSE("GPL");
MODULE_AUTHOR("The minivmx developers");
MODULE_VERSION(MVX_VERSION);
MODULE_DESCRIPTION("A small hypervisor with a subset of the KVM ABI (VMX and SVM)");
