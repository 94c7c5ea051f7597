// SPDX-License-Identifier: GPL-2.0
/* Building the guest machine: memory layout, images, devices, vCPUs. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>

#include "cpuid.h"
#include "linuxboot.h"
#include "loader.h"
#include "util.h"
#include "machine.h"

static void *map_anon(uint64_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

static int add_region(struct machine *m, uint64_t gpa, uint64_t size,
		      void *host, char *err, size_t errlen)
{
	if (mvx_memmap_add(&m->layout, gpa, size, host))
		return set_err(err, errlen, "%s", mvx_last_error());
	return 0;
}

/*
 * Without firmware, RAM is one block from 0.  With firmware, it is split
 * around the legacy hole 0xA0000-0xFFFFF, whose top 128 KiB shows the end
 * of the firmware image, as on a PC.
 */
static int layout_ram(struct machine *m, char *err, size_t errlen)
{
	uint64_t mem = m->mem;

	m->ram = map_anon(mem);
	if (!m->ram)
		return set_err(err, errlen, "cannot allocate %llu MiB of guest RAM",
			       (unsigned long long)(mem >> 20));
	if (!m->opt->firmware)
		return add_region(m, 0, mem, m->ram, err, errlen);

	if (add_region(m, 0, mem < LOW_RAM_END ? mem : LOW_RAM_END, m->ram,
		       err, errlen))
		return -1;
	if (mem > HIGH_RAM_BASE &&
	    add_region(m, HIGH_RAM_BASE, mem - HIGH_RAM_BASE,
		       (uint8_t *)m->ram + HIGH_RAM_BASE, err, errlen))
		return -1;
	return 0;
}

static int load_firmware(struct machine *m, char *err, size_t errlen)
{
	struct image img;
	int ret = -1;

	if (image_read(m->opt->firmware, &img, err, errlen))
		return -1;
	if (firmware_window_size(img.size, &m->fw_window, err, errlen))
		goto out;
	m->fw = map_anon(m->fw_window);
	if (!m->fw) {
		set_err(err, errlen, "cannot allocate the firmware window");
		goto out;
	}
	firmware_place(m->fw, m->fw_window, &img);
	if (add_region(m, FW_WINDOW_END - m->fw_window, m->fw_window, m->fw,
		       err, errlen) ||
	    add_region(m, FW_LOW_ALIAS_BASE, FW_LOW_ALIAS_SIZE,
		       (uint8_t *)m->fw + m->fw_window - FW_LOW_ALIAS_SIZE,
		       err, errlen))
		goto out;
	ret = 0;
out:
	image_free(&img);
	return ret;
}

static uint64_t default_load(enum boot_mode mode)
{
	return mode == MODE_REAL ? REAL_LOAD_DEFAULT : PM_LOAD_DEFAULT;
}

static int check_entry(struct machine *m, char *err, size_t errlen)
{
	if (m->mode == MODE_REAL && m->entry >= HIGH_RAM_BASE)
		return set_err(err, errlen,
			       "entry 0x%llx: real mode can only start below 1 MiB",
			       (unsigned long long)m->entry);
	if (m->mode != MODE_REAL && m->entry >> 32)
		return set_err(err, errlen, "entry 0x%llx: above 4 GiB",
			       (unsigned long long)m->entry);
	return 0;
}

/* Protected and long mode need the GDT/page-table area free. */
static int check_sys_area(struct machine *m, const struct load_info *li,
			  char *err, size_t errlen)
{
	if (m->mode == MODE_REAL)
		return 0;
	if (li->low < SYS_AREA_GPA + MVX_SYS_AREA_SIZE && SYS_AREA_GPA < li->high)
		return set_err(err, errlen,
			       "image 0x%llx-0x%llx overlaps the runner's GDT/page tables at 0x%llx-0x%llx",
			       (unsigned long long)li->low,
			       (unsigned long long)li->high - 1,
			       SYS_AREA_GPA, SYS_AREA_GPA + MVX_SYS_AREA_SIZE - 1);
	if (mvx_write_sys_area(&m->layout, SYS_AREA_GPA, m->mode == MODE_LONG))
		return set_err(err, errlen, "%s", mvx_last_error());
	return 0;
}

/* Name the file in a loader's message: the loaders only know the bytes. */
static int name_file(const char *path, char *err, size_t errlen)
{
	char tmp[256];

	snprintf(tmp, sizeof(tmp), "%s", err);
	return set_err(err, errlen, "%s: %s", path, tmp);
}

static int load_program(struct machine *m, const struct image *img,
			char *err, size_t errlen)
{
	const struct options *opt = m->opt;
	struct load_info li;
	int ret;

	if (image_kind(img) == IMAGE_FLAT) {
		m->mode = opt->mode == MODE_AUTO ? MODE_REAL : opt->mode;
		ret = load_flat(&m->layout, img,
				opt->load_set ? opt->load : default_load(m->mode),
				&li, err, errlen);
	} else {
		ret = load_elf(&m->layout, img, &li, err, errlen);
		m->mode = opt->mode == MODE_AUTO ? li.mode : opt->mode;
	}
	if (ret)
		return name_file(opt->kernel, err, errlen);
	m->entry = opt->entry_set ? opt->entry : li.entry;
	if (check_entry(m, err, errlen))
		return -1;
	/* With firmware, the firmware decides the mode: no GDT of ours. */
	if (opt->firmware)
		return 0;
	return check_sys_area(m, &li, err, errlen);
}

/* Options that only make sense for one kind of image. */
static int check_kernel_options(struct machine *m, const struct image *img,
				char *err, size_t errlen)
{
	const struct options *opt = m->opt;

	if (!m->linux_boot) {
		if (opt->initrd || opt->append)
			return set_err(err, errlen,
				       "%s is not a Linux bzImage (no HdrS setup header: %s); --initrd and --append need one",
				       opt->kernel, bzimage_describe(img));
		return 0;
	}
	if (opt->firmware)
		return set_err(err, errlen,
			       "%s is a Linux bzImage: the runner boots it itself, without --firmware",
			       opt->kernel);
	if (opt->mode != MODE_AUTO || opt->load_set || opt->entry_set)
		return set_err(err, errlen,
			       "%s is a Linux bzImage: --mode, --load and --entry do not apply",
			       opt->kernel);
	if (m->nr_vcpus > 1)
		return set_err(err, errlen,
			       "%s is a Linux bzImage: one vCPU only (no local APIC to start others)",
			       opt->kernel);
	return 0;
}

static int load_linux(struct machine *m, const struct image *img,
		      char *err, size_t errlen)
{
	struct linux_machine lm = {
		.mem = m->mem,
		.gdt_gpa = SYS_AREA_GPA,
		.tsc_khz = m->tsc_khz,
	};

	if (linux_load(&m->layout, img, m->opt, &lm, &m->boot, err, errlen))
		return name_file(m->opt->kernel, err, errlen);
	return 0;
}

static int load_kernel(struct machine *m, const struct image *img,
		       char *err, size_t errlen)
{
	if (m->linux_boot)
		return load_linux(m, img, err, errlen);
	return load_program(m, img, err, errlen);
}

/* PC wiring: PIT counter 0 on IRQ 0, COM1 on IRQ 4, the i8042 on 1 and 12. */
static void pit_irq0_line(void *opaque, int level)
{
	pic_set_irq(opaque, 0, level);
}

static void com1_irq4_line(void *opaque, int level)
{
	pic_set_irq(opaque, UART_COM1_IRQ, level);
}

static void i8042_irq_line(void *opaque, unsigned int irq, int level)
{
	pic_set_irq(opaque, irq, level);
}

static void init_interrupts(struct machine *m)
{
	pic_init(&m->pic);
	pit_init(&m->pit, NULL, NULL);
	pit_connect_irq0(&m->pit, pit_irq0_line, &m->pic);
	uart_connect_irq(&m->uart, com1_irq4_line, &m->pic);
	i8042_connect_irq(&m->i8042, i8042_irq_line, &m->pic);
	irq_glue_init(&m->irq, &m->pic, machine_kick_irq_vcpu, m);
	pit_timer_init(&m->timer, &m->pit);
}

static int attach_devices(struct machine *m, char *err, size_t errlen)
{
	uint64_t mem = m->mem;
	/* The UART reads stdin only once the guest looks for input. */
	int in_fd = fcntl(0, F_GETFD) < 0 ? -1 : 0;

	bus_init(&m->pio, "pio");
	bus_init(&m->mmio, "mmio");
	uart_init(&m->uart, stdout, in_fd);
	debugcon_init(&m->debugcon, stdout);
	cmos_init(&m->cmos, mem, 0);
	resetdev_init(&m->reset);
	i8042_init(&m->i8042);
	scratch_init(&m->scratch);
	init_interrupts(m);
	if (uart_attach(&m->uart, &m->pio, UART_COM1_BASE) ||
	    debugcon_attach(&m->debugcon, &m->pio) ||
	    exitdev_attach(&m->pio) ||
	    cmos_attach(&m->cmos, &m->pio) ||
	    resetdev_attach(&m->reset, &m->pio) ||
	    i8042_attach(&m->i8042, &m->pio) ||
	    postcode_attach(&m->pio) ||
	    pic_attach(&m->pic, &m->pio) ||
	    pit_attach(&m->pit, &m->pio) ||
	    scratch_attach(&m->scratch, &m->mmio))
		return set_err(err, errlen, "device ranges overlap");
	return 0;
}

/* A bzImage gets a default memory size that fits a distro kernel. */
static void choose_memory(struct machine *m)
{
	const struct options *opt = m->opt;

	m->mem = opt->mem;
	if (m->linux_boot && !opt->mem_set)
		m->mem = BZ_DEFAULT_MEM;
}

int machine_prepare(struct machine *m, const struct options *opt,
		    char *err, size_t errlen)
{
	struct image kernel = { 0 };
	int ret = -1;

	memset(m, 0, sizeof(*m));
	m->opt = opt;
	m->vm.dev_fd = -1;
	m->vm.vm_fd = -1;
	m->nr_vcpus = opt->cpus;
	m->mode = MODE_REAL;
	m->tsc_khz = measure_tsc_khz();

	if (opt->kernel) {
		if (image_read(opt->kernel, &kernel, err, errlen))
			return -1;
		m->linux_boot = bzimage_detect(&kernel);
		if (check_kernel_options(m, &kernel, err, errlen))
			goto out;
	}
	choose_memory(m);
	if (layout_ram(m, err, errlen))
		goto out;
	if (opt->firmware && load_firmware(m, err, errlen))
		goto out;
	if (opt->kernel && load_kernel(m, &kernel, err, errlen))
		goto out;
	ret = attach_devices(m, err, errlen);
out:
	image_free(&kernel);
	return ret;
}

static int vm_fail(char *err, size_t errlen)
{
	return set_err(err, errlen, "%s", mvx_last_error());
}

/* Per-vCPU register conventions documented in options_usage(). */
static int setup_vcpu_state(struct machine *m, struct mvx_vcpu *v)
{
	struct mvx_regs regs;
	int ret;

	if (m->linux_boot)
		return linux_setup_boot_vcpu(v, SYS_AREA_GPA, &m->boot);
	switch (m->mode) {
	case MODE_LONG:
		ret = mvx_setup_long_mode(v, SYS_AREA_GPA);
		break;
	case MODE_PROTECTED:
		ret = mvx_setup_protected_mode(v, SYS_AREA_GPA);
		break;
	default:
		if (m->entry < 0x10000)
			ret = mvx_setup_real_mode(v, 0, m->entry);
		else
			ret = mvx_setup_real_mode(v, m->entry >> 4,
						  m->entry & 0xf);
		break;
	}
	if (!ret)
		ret = mvx_get_regs(v, &regs);
	if (ret)
		return ret;
	regs.rsi = v->id;
	if (m->mode == MODE_REAL) {
		regs.rsp = REAL_STACK_TOP - 0x200ULL * v->id;
	} else {
		regs.rsp = STACK_TOP - 0x1000ULL * v->id;
		regs.rip = m->entry;
	}
	return mvx_set_regs(v, &regs);
}

static int create_vcpus(struct machine *m, char *err, size_t errlen)
{
	struct machine_cpuid mc = { .tsc_khz = m->tsc_khz };
	unsigned int i;

	m->cpus = calloc(m->nr_vcpus, sizeof(*m->cpus));
	if (!m->cpus)
		return set_err(err, errlen, "out of memory");
	for (i = 0; i < m->nr_vcpus; i++) {
		struct vcpu_ctx *c = &m->cpus[i];

		c->m = m;
		if (mvx_vcpu_create(&m->vm, i, &c->vcpu))
			return vm_fail(err, errlen);
		/*
		 * KVM refuses EFER.LME and CR4.PAE from a guest whose CPUID
		 * lacks LM/PAE.  A device without these ioctls keeps its own.
		 */
		mvx_set_filtered_cpuid(&c->vcpu, machine_cpuid_filter, &mc);
		/* Firmware starts from the architectural reset state. */
		if (!m->opt->firmware && setup_vcpu_state(m, &c->vcpu))
			return vm_fail(err, errlen);
	}
	return 0;
}

int machine_create(struct machine *m, char *err, size_t errlen)
{
	unsigned int i;

	if (mvx_vm_open(&m->vm, m->opt->device))
		return vm_fail(err, errlen);
	/*
	 * kvm_intel wants a TSS for real mode without unrestricted guest;
	 * others ignore or refuse it, which is fine.
	 */
	ioctl(m->vm.vm_fd, MVX_SET_TSS_ADDR, (unsigned long)KVM_TSS_GPA);

	for (i = 0; i < m->layout.nr; i++) {
		const struct mvx_region *r = &m->layout.r[i];

		if (mvx_add_memory_at(&m->vm, r->gpa, r->size, 0, r->host))
			return vm_fail(err, errlen);
	}
	return create_vcpus(m, err, errlen);
}

void machine_destroy(struct machine *m)
{
	unsigned int i;

	if (!m->opt)
		return;		/* never prepared */
	if (m->cpus) {
		for (i = 0; i < m->nr_vcpus; i++)
			mvx_vcpu_destroy(&m->cpus[i].vcpu);
		free(m->cpus);
		m->cpus = NULL;
	}
	mvx_vm_close(&m->vm);
	if (m->ram)
		munmap(m->ram, m->mem);
	if (m->fw)
		munmap(m->fw, m->fw_window);
	m->ram = NULL;
	m->fw = NULL;
}
