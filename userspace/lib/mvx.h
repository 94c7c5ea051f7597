/* SPDX-License-Identifier: GPL-2.0 */
/*
 * libmvx: the small userspace library shared by minivmx-run and the
 * selftests.  It speaks the ABI of uapi/minivmx.h, which is KVM's, so every
 * function works on /dev/minivmx and on /dev/kvm alike.
 *
 * Every function returns 0 (or a non-negative value) on success and a
 * negative errno on failure; mvx_last_error() then names the failed step,
 * e.g. "MVX_CREATE_VM: Permission denied".  Nothing here exits or prints.
 */
#ifndef MVX_LIB_H
#define MVX_LIB_H

#include <stdint.h>
#include <stddef.h>
#include "uapi/minivmx.h"

#define MVX_LIB_MAX_REGIONS	16

/* One guest-physical range backed by host memory. */
struct mvx_region {
	uint64_t gpa;
	uint64_t size;
	void *host;
	uint32_t slot;		/* memslot id, when registered with a VM */
	uint32_t flags;		/* MVX_MEM_* */
	int owned;		/* host memory was mmap'd by the library */
};

/* Guest-physical -> host translation table, usable without any device. */
struct mvx_memmap {
	unsigned int nr;
	struct mvx_region r[MVX_LIB_MAX_REGIONS];
};

struct mvx_vm {
	int dev_fd;
	int vm_fd;
	int run_size;		/* MVX_GET_VCPU_MMAP_SIZE */
	uint32_t next_slot;
	struct mvx_memmap mem;
};

struct mvx_vcpu {
	struct mvx_vm *vm;
	int fd;
	unsigned int id;
	struct mvx_run *run;
};

/* Text of the last failure in this thread ("" if none yet). */
const char *mvx_last_error(void);

/* Device and VM. */
int mvx_vm_open(struct mvx_vm *vm, const char *dev_path);
void mvx_vm_close(struct mvx_vm *vm);
int mvx_check_extension(struct mvx_vm *vm, long cap);

/*
 * Back [gpa, gpa + size) with fresh anonymous memory (zeroed); *host
 * receives its address when not NULL.  size must be page aligned.
 */
int mvx_add_memory(struct mvx_vm *vm, uint64_t gpa, uint64_t size,
		   uint32_t flags, void **host);
/* Back [gpa, gpa + size) with caller memory (e.g. an alias of a region). */
int mvx_add_memory_at(struct mvx_vm *vm, uint64_t gpa, uint64_t size,
		      uint32_t flags, void *host);

/* Translation table helpers, also usable on a standalone mvx_memmap. */
int mvx_memmap_add(struct mvx_memmap *map, uint64_t gpa, uint64_t size,
		   void *host);
/* Host address of [gpa, gpa + len), or NULL unless wholly inside one region. */
void *mvx_memmap_hva(const struct mvx_memmap *map, uint64_t gpa, uint64_t len);
void *mvx_gpa_to_hva(struct mvx_vm *vm, uint64_t gpa, uint64_t len);

/* vCPUs. */
int mvx_vcpu_create(struct mvx_vm *vm, unsigned int id, struct mvx_vcpu *vcpu);
void mvx_vcpu_destroy(struct mvx_vcpu *vcpu);
/* One MVX_RUN; returns 0 or -errno (-EINTR when a signal interrupted it). */
int mvx_vcpu_run(struct mvx_vcpu *vcpu);
int mvx_get_regs(struct mvx_vcpu *vcpu, struct mvx_regs *regs);
int mvx_set_regs(struct mvx_vcpu *vcpu, const struct mvx_regs *regs);
int mvx_get_sregs(struct mvx_vcpu *vcpu, struct mvx_sregs *sregs);
int mvx_set_sregs(struct mvx_vcpu *vcpu, const struct mvx_sregs *sregs);
/*
 * Give the vCPU the CPUID the device reports as supported, with the vCPU
 * id as its initial APIC id.  KVM needs this before a guest may set
 * EFER.LME or CR4.PAE itself.
 */
int mvx_set_supported_cpuid(struct mvx_vcpu *vcpu);
/*
 * The same, with filter(table, arg) applied to the table (which has room
 * for more entries than nent says) before it is set.
 */
int mvx_set_filtered_cpuid(struct mvx_vcpu *vcpu,
			   void (*filter)(struct mvx_cpuid2 *cpuid, void *arg),
			   void *arg);
/* Data of the current port I/O exit (run page + io.data_offset). */
void *mvx_pio_data(struct mvx_vcpu *vcpu);

/*
 * CPU modes.  Each keeps the reset attributes it does not need to change.
 *
 * Real mode: CS = cs (base cs * 16), DS = ES = SS = FS = GS = 0, RIP = ip.
 *
 * Protected and long mode need a "system area" of MVX_SYS_AREA_SIZE bytes
 * of guest RAM at sys_gpa (page aligned), where the GDT and, for long mode,
 * page tables identity-mapping the low 4 GiB with 2 MiB pages are written.
 * Segments are flat; selectors follow the GDT below.
 */
#define MVX_GDT_CODE64		0x08
#define MVX_GDT_DATA		0x10
#define MVX_GDT_CODE32		0x18
#define MVX_SYS_AREA_SIZE	(7 * 4096)

int mvx_setup_real_mode(struct mvx_vcpu *vcpu, uint16_t cs, uint16_t ip);
int mvx_setup_protected_mode(struct mvx_vcpu *vcpu, uint64_t sys_gpa);
int mvx_setup_long_mode(struct mvx_vcpu *vcpu, uint64_t sys_gpa);
/* Write the GDT and page tables the two functions above point at. */
int mvx_write_sys_area(struct mvx_memmap *map, uint64_t sys_gpa, int long_mode);

/* Name of an MVX_EXIT_* reason ("IO", "HLT", ...), "?" when unknown. */
const char *mvx_exit_name(uint32_t reason);

#endif /* MVX_LIB_H */
