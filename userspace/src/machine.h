/* SPDX-License-Identifier: GPL-2.0 */
/*
 * A guest machine: RAM and firmware layout, devices on the two buses and
 * one thread per vCPU.  Building it has two steps so that every image
 * problem is reported before the hypervisor device is even opened.
 */
#ifndef MVX_MACHINE_H
#define MVX_MACHINE_H

#include <pthread.h>
#include <signal.h>

#include "mvx.h"
#include "bus.h"
#include "bzimage.h"
#include "devices.h"
#include "irq.h"
#include "options.h"
#include "stats.h"

/* Guest-physical addresses the runner uses for flat and ELF images. */
#define SYS_AREA_GPA		0x8000ULL	/* GDT + page tables */
#define REAL_LOAD_DEFAULT	0x7c00ULL
#define PM_LOAD_DEFAULT		0x100000ULL
#define STACK_TOP		0x80000ULL	/* minus 0x1000 per vCPU id */
#define REAL_STACK_TOP		0x7c00ULL	/* minus 0x200 per vCPU id */
#define LOW_RAM_END		0xa0000ULL	/* with firmware: VGA hole above */
#define HIGH_RAM_BASE		0x100000ULL
#define KVM_TSS_GPA		0xfeffd000ULL	/* 3 pages, below the firmware */

struct machine;

struct vcpu_ctx {
	struct machine *m;
	struct mvx_vcpu vcpu;
	pthread_t thread;
	int started;
	int done;		/* thread left its loop (atomic) */
	pthread_t self;		/* the thread, as it knows itself */
	int kickable;		/* self is set: may get the kick signal (atomic) */
	struct vcpu_stats stats;
};

struct machine {
	const struct options *opt;
	struct mvx_vm vm;
	struct mvx_memmap layout;	/* guest memory, before the device */
	uint64_t mem;			/* guest RAM size */
	void *ram;
	void *fw;
	uint64_t fw_window;
	enum boot_mode mode;		/* resolved; unused with firmware */
	uint64_t entry;
	uint32_t tsc_khz;		/* host TSC rate, the guest's too */
	int linux_boot;			/* the kernel is a bzImage */
	struct bz_boot boot;		/* where bzimage_load put things */

	struct bus pio, mmio;
	struct uart uart;
	struct debugcon debugcon;
	struct cmos cmos;
	struct resetdev reset;
	struct i8042 i8042;
	struct scratch scratch;
	struct pic pic;
	struct pit pit;
	struct irq_glue irq;		/* PIC INTR -> vCPU 0 */
	struct pit_timer timer;		/* PIT counter 0 -> IRQ 0 */

	unsigned int nr_vcpus;
	struct vcpu_ctx *cpus;
	unsigned int halted;		/* vCPUs that executed HLT (atomic) */
};

/* Guest RAM, firmware window, images, devices.  No device needed. */
int machine_prepare(struct machine *m, const struct options *opt,
		    char *err, size_t errlen);
/* Open the hypervisor device, register memory, create vCPUs. */
int machine_create(struct machine *m, char *err, size_t errlen);
/* Run until a stop request; returns the exit status. */
int machine_run(struct machine *m);
/* The PIC's INTR is wired to vCPU 0 (no local APIC): wake and kick it. */
#define IRQ_VCPU	0
void machine_kick_irq_vcpu(void *opaque);
/* A kick: the signal that gets a vCPU thread out of MVX_RUN. */
#define MACHINE_KICK_SIGNAL	SIGUSR1
int machine_install_kick_handler(void);
void machine_print_stats(struct machine *m, FILE *f);
void machine_destroy(struct machine *m);

#endif /* MVX_MACHINE_H */
