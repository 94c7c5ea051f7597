// SPDX-License-Identifier: GPL-2.0
/*
 * minivmx-bench: microbenchmarks of one hypervisor device (/dev/minivmx or
 * /dev/kvm: libmvx speaks both), each with a small long-mode guest of its
 * own, written below in assembly and copied into guest RAM:
 *
 *   pio    OUT to a port, each one a round trip to userspace and back;
 *   cpuid  CPUID, handled in the kernel without a userspace exit;
 *   mmio   a 4-byte MOV to an address no memslot backs: MMIO exit;
 *   cpu    an ALU loop in the guest against the very same bytes run as a
 *          function of this process (native);
 *   touch  first write to each 4 KiB page of 64 MiB of fresh guest memory;
 *   irq    interrupt injection round trip: the guest waits in HLT, the
 *          benchmark injects with MVX_INTERRUPT at the HLT exit, the
 *          guest's handler acknowledges with an OUT (an exit), and its
 *          IRET returns to the HLT (the next exit);
 *   thp    touch's guest on memory that transparent huge pages back: a
 *          2 MiB-aligned buffer with MADV_HUGEPAGE at a 2 MiB-aligned gpa;
 *   hugetlb the same on MAP_HUGETLB memory of 2 MiB pages (reserved here
 *          through sysfs when too few are free, given back afterwards);
 *   mem    random 8-byte reads (addresses from an LCG) over 256 MiB of
 *          guest memory already mapped, against the very same bytes run
 *          natively over the same host buffer;
 *   vm     create a VM, give it one 1 GiB slot of untouched
 *          MAP_NORESERVE memory, destroy it (host clock only).
 *
 * Each metric is timed twice: by this process's CLOCK_MONOTONIC around the
 * whole MVX_RUN loop (host clock), and by RDTSC in the guest at the start
 * and end of its loop (guest clock; RDTSC is not intercepted by either
 * hypervisor).  Every repetition gets a fresh VM, warmed up by a short run
 * of the same guest (except touch, whose memory must stay untouched).
 *
 * Output, one line per repetition and one result line per metric (the
 * medians), as key=value pairs that scripts/bench reads:
 *
 *   bench device=/dev/kvm tsc_mhz=2993.1 iters=10000 reps=5 ...
 *   rep pio 0 iters=10000 host_ns=... guest_cycles=... exits=10000
 *   result pio iters=10000 host_ns_per_iter=... guest_ns_per_iter=... ...
 *
 * Exit status 0 only if every guest did exactly what it should (exit
 * counts, ports, addresses, results): a number is never printed for a
 * guest that misbehaved.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "mvx.h"

/*
 * Guest-physical layout: one 2 MiB RAM slot, plus 64 MiB for touch, thp
 * and hugetlb, or 256 MiB for mem (all 2 MiB aligned).
 */
#define RAM_SIZE	(2UL << 20)
#define CODE_GPA	0x1000UL
#define SPIN_GPA	0x2000UL	/* the shared CPU loop, see bench_spin */
#define STACK_TOP	0x80000UL
#define SYS_GPA		0x100000UL	/* libmvx GDT and page tables */
#define TOUCH_GPA	0x10000000UL
#define MEM_GPA		0x40000000UL
#define MMIO_GPA	0xc0000000UL	/* in no slot; mapped by the guest */
#define IDT_GPA		0x3000UL	/* irq: 256 16-byte gates */
#define BENCH_PORT	0xe0
#define IRQ_VECTOR	0x40
#define PAGE_SIZE	4096UL
#define HUGE_SIZE	(2UL << 20)
#define VM_SLOT_SIZE	(1024UL << 20)	/* vm: the slot of each cycle */
#define HUGETLB_DIR	"/sys/kernel/mm/hugepages/hugepages-2048kB/"

#define DEFAULT_ITERS	10000
#define DEFAULT_REPS	5
#define DEFAULT_SPIN	20000000
#define DEFAULT_TOUCH	64
#define DEFAULT_MEM	256
#define DEFAULT_READS	4000000
#define DEFAULT_CYCLES	100
#define WARMUP_ITERS	100

/*
 * Guest code.  Contract of every guest: RSI holds the iteration count
 * (0 must work: it is the warm-up of touch), RSP a valid stack; the guest
 * leaves its start TSC in R8, its end TSC in R9, and halts.  mem also
 * takes RDX, the size of its area to map by reading one qword of each page
 * before the clock starts (0 in the timed run), and RBX, its LCG's offset
 * mask.
 */
#define GUEST(name, text)						\
	extern const unsigned char name##_start[], name##_end[];	\
	asm(".pushsection .rodata.bench_guest, \"a\"\n"		\
	    ".balign 16\n" #name "_start:\n" text #name "_end:\n"	\
	    ".popsection\n")

#define TSC_TO(reg)							\
	"rdtsc\n\tshl $32, %rdx\n\tor %rdx, %rax\n\tmov %rax, %" reg "\n\t"

#define STR_(x) #x
#define STR(x) STR_(x)

GUEST(guest_pio,
	TSC_TO("r8")
	"mov %rsi, %rcx\n\t"
	"test %rcx, %rcx\n\t"
	"jz 2f\n"
	"1:\tout %al, $" STR(BENCH_PORT) "\n\t"
	"dec %rcx\n\t"
	"jnz 1b\n"
	"2:\t" TSC_TO("r9")
	"hlt\n");

GUEST(guest_cpuid,
	TSC_TO("r8")
	"mov %rsi, %r10\n\t"
	"test %r10, %r10\n\t"
	"jz 2f\n"
	"1:\txor %eax, %eax\n\t"
	"xor %ecx, %ecx\n\t"
	"cpuid\n\t"
	"dec %r10\n\t"
	"jnz 1b\n"
	"2:\t" TSC_TO("r9")
	"hlt\n");

GUEST(guest_mmio,
	TSC_TO("r8")
	"mov $" STR(MMIO_GPA) ", %edi\n\t"
	"mov %rsi, %rcx\n\t"
	"test %rcx, %rcx\n\t"
	"jz 2f\n"
	"1:\tmov %ecx, (%rdi)\n\t"
	"dec %rcx\n\t"
	"jnz 1b\n"
	"2:\t" TSC_TO("r9")
	"hlt\n");

/* Page i of the touch area gets the value (count - i): checked afterwards. */
GUEST(guest_touch,
	TSC_TO("r8")
	"mov $" STR(TOUCH_GPA) ", %edi\n\t"
	"mov %rsi, %rcx\n\t"
	"test %rcx, %rcx\n\t"
	"jz 2f\n"
	"1:\tmov %rcx, (%rdi)\n\t"
	"add $4096, %rdi\n\t"
	"dec %rcx\n\t"
	"jnz 1b\n"
	"2:\t" TSC_TO("r9")
	"hlt\n");

/*
 * Halts until RSI interrupts have come; the handler (IDT_GPA's gate for
 * IRQ_VECTOR points at it) counts one down and acknowledges with an OUT.
 * Done, it halts with IF=0, which tells the benchmark it is over.
 */
GUEST(guest_irq,
	TSC_TO("r8")
	"sti\n"
	"1:\ttest %rsi, %rsi\n\t"
	"jz 2f\n\t"
	"hlt\n\t"
	"jmp 1b\n"
	"2:\t" TSC_TO("r9")
	"cli\n\t"
	"hlt\n"
	"guest_irq_handler:\n\t"
	"dec %rsi\n\t"
	"out %al, $" STR(BENCH_PORT) "\n\t"
	"iretq\n");
extern const unsigned char guest_irq_handler[];

/*
 * mem: in the warm-up run (RDX = size) one read per page maps all of the
 * area; then the copy of bench_mem at SPIN_GPA reads RSI random qwords,
 * their sum goes to R10.
 */
GUEST(guest_mem,
	"mov $" STR(MEM_GPA) ", %edi\n\t"
	"mov %rdx, %rcx\n\t"
	"test %rcx, %rcx\n\t"
	"jz 2f\n"
	"1:\tmov -8(%rdi,%rcx), %rax\n\t"
	"sub $4096, %rcx\n\t"
	"jnz 1b\n"
	"2:\t" TSC_TO("r8")
	"mov %rbx, %rdx\n\t"
	"mov $" STR(SPIN_GPA) ", %eax\n\t"
	"call *%rax\n\t"
	"mov %rax, %r10\n\t"
	TSC_TO("r9")
	"hlt\n");

/* Calls the copy of bench_spin at SPIN_GPA; its result goes to R10. */
GUEST(guest_cpu,
	TSC_TO("r8")
	"mov %rsi, %rdi\n\t"
	"mov $" STR(SPIN_GPA) ", %eax\n\t"
	"call *%rax\n\t"
	"mov %rax, %r10\n\t"
	TSC_TO("r9")
	"hlt\n");

/*
 * The CPU-bound loop: a dependent ALU chain without memory accesses, so
 * that only the execution mode can make a difference.  The same bytes run
 * natively (called from C) and in the guest (copied to SPIN_GPA), where it
 * must return the same value.  Position independent.
 */
asm(".pushsection .text\n"
    ".globl bench_spin\n"
    ".type bench_spin, @function\n"
    ".balign 64\n"
    "bench_spin:\n\t"
    "mov %rdi, %rcx\n\t"
    "mov $1, %eax\n\t"
    "test %rcx, %rcx\n\t"
    "jz 2f\n"
    "1:\tadd %rcx, %rax\n\t"
    "rol $7, %rax\n\t"
    "xor $0x5a5a, %rax\n\t"
    "dec %rcx\n\t"
    "jnz 1b\n"
    "2:\tret\n"
    "bench_spin_end:\n"
    ".size bench_spin, . - bench_spin\n"
    ".popsection\n");
uint64_t bench_spin(uint64_t n);
extern const unsigned char bench_spin_end[];

/*
 * The memory-bound loop: n reads of the qword at base + ((x >> 32) & mask),
 * x stepping through a 64-bit LCG (Knuth's multiplier, any odd increment
 * has the full period); returns the sum of what it read.  The addresses do
 * not depend on the data, so the CPU may overlap the reads: this is
 * throughput over a working set far larger than any TLB covers.  Runs
 * natively and, copied to SPIN_GPA, in the guest; uses only registers
 * that the System V ABI lets a function clobber, and not R8/R9.
 */
asm(".pushsection .text\n"
    ".globl bench_mem\n"
    ".type bench_mem, @function\n"
    ".balign 64\n"
    "bench_mem:\n\t"
    "xor %eax, %eax\n\t"
    "mov $1, %ecx\n\t"
    "movabs $6364136223846793005, %r11\n\t"
    "test %rsi, %rsi\n\t"
    "jz 2f\n"
    "1:\timul %r11, %rcx\n\t"
    "add $0x3c6ef35f, %rcx\n\t"
    "mov %rcx, %r10\n\t"
    "shr $32, %r10\n\t"
    "and %rdx, %r10\n\t"
    "add (%rdi,%r10), %rax\n\t"
    "dec %rsi\n\t"
    "jnz 1b\n"
    "2:\tret\n"
    "bench_mem_end:\n"
    ".size bench_mem, . - bench_mem\n"
    ".popsection\n");
uint64_t bench_mem(const void *base, uint64_t n, uint64_t mask);
extern const unsigned char bench_mem_end[];

enum metric_id {
	M_PIO, M_CPUID, M_MMIO, M_CPU, M_TOUCH, M_IRQ, M_THP, M_HUGETLB,
	M_MEM, M_VM, NR_METRICS
};

struct metric {
	const char *name;
	const unsigned char *start, *end;
	uint32_t exit_reason;		/* expected userspace exit, or 0 */
};

static const struct metric metrics[NR_METRICS] = {
	[M_PIO] = { "pio", guest_pio_start, guest_pio_end, MVX_EXIT_IO },
	[M_CPUID] = { "cpuid", guest_cpuid_start, guest_cpuid_end, 0 },
	[M_MMIO] = { "mmio", guest_mmio_start, guest_mmio_end, MVX_EXIT_MMIO },
	[M_CPU] = { "cpu", guest_cpu_start, guest_cpu_end, 0 },
	[M_TOUCH] = { "touch", guest_touch_start, guest_touch_end, 0 },
	[M_IRQ] = { "irq", guest_irq_start, guest_irq_end, MVX_EXIT_IO },
	[M_THP] = { "thp", guest_touch_start, guest_touch_end, 0 },
	[M_HUGETLB] = { "hugetlb", guest_touch_start, guest_touch_end, 0 },
	[M_MEM] = { "mem", guest_mem_start, guest_mem_end, 0 },
	[M_VM] = { "vm", NULL, NULL, 0 },	/* runs no guest */
};

struct options {
	const char *device;
	uint64_t iters;
	unsigned int reps;
	uint64_t spin;
	uint64_t touch_mib;
	uint64_t mem_mib;
	uint64_t reads;
	uint64_t cycles;
	int no_huge;
	unsigned int only;		/* bit mask of metrics, 0 = all */
};

struct sample {
	uint64_t host_ns;
	uint64_t guest_cycles;
	uint64_t native_ns;		/* cpu and mem only */
	uint64_t native_cycles;
};

struct bench_vm {
	struct mvx_vm vm;
	struct mvx_vcpu vcpu;
	uint8_t *ram;
	uint8_t *touch;		/* touch, thp, hugetlb: the touched area */
	uint8_t *mem;		/* mem: its area */
	void *own;		/* memory mapped here, not by libmvx */
	size_t own_len;
};

static double tsc_mhz;
static char last_failure[256];	/* why the last metric failed */

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static uint64_t rdtsc(void)
{
	uint32_t lo, hi;

	asm volatile("rdtsc" : "=a" (lo), "=d" (hi));
	return (uint64_t)hi << 32 | lo;
}

/* Both clocks over ~20 ms of busy waiting: guest cycles -> ns. */
static void calibrate_tsc(void)
{
	uint64_t t0 = now_ns(), c0 = rdtsc(), t1, c1;

	do {
		t1 = now_ns();
	} while (t1 - t0 < 20000000);
	c1 = rdtsc();
	tsc_mhz = (double)(c1 - c0) * 1000.0 / (double)(t1 - t0);
}

static int fail(const char *what, const char *detail)
{
	fprintf(stderr, "minivmx-bench: %s: %s\n", what, detail);
	snprintf(last_failure, sizeof(last_failure), "%s: %s", what, detail);
	return -1;
}

static void vm_teardown(struct bench_vm *b)
{
	mvx_vcpu_destroy(&b->vcpu);
	mvx_vm_close(&b->vm);
	if (b->own)
		munmap(b->own, b->own_len);
	b->own = NULL;
}

/* irq: one 64-bit interrupt gate, IRQ_VECTOR -> guest_irq_handler. */
static int idt_setup(struct bench_vm *b)
{
	uint64_t h = CODE_GPA + (guest_irq_handler - guest_irq_start);
	uint64_t *gate = (uint64_t *)(b->ram + IDT_GPA + 16 * IRQ_VECTOR);
	struct mvx_sregs sr;

	memset(b->ram + IDT_GPA, 0, 256 * 16);
	gate[0] = (h & 0xffff) | (uint64_t)MVX_GDT_CODE64 << 16 |
		  0x8eULL << 40 | (h >> 16 & 0xffff) << 48;
	gate[1] = h >> 32;
	if (mvx_get_sregs(&b->vcpu, &sr))
		return -1;
	sr.idt.base = IDT_GPA;
	sr.idt.limit = 256 * 16 - 1;
	return mvx_set_sregs(&b->vcpu, &sr);
}

static int is_touch(enum metric_id id)
{
	return id == M_TOUCH || id == M_THP || id == M_HUGETLB;
}

/*
 * thp and mem: size bytes at a 2 MiB-aligned address with MADV_HUGEPAGE,
 * so that with the slot's gpa 2 MiB aligned too every 2 MiB block can be
 * one huge page on both sides.  NULL with errno set on failure.
 */
static void *map_thp(size_t size)
{
	size_t len = size + HUGE_SIZE;
	uint8_t *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
			  MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint8_t *a;
	int err;

	if (p == MAP_FAILED)
		return NULL;
	a = (uint8_t *)(((uintptr_t)p + HUGE_SIZE - 1) & ~(HUGE_SIZE - 1));
	if (a != p)
		munmap(p, a - p);
	if (a + size != p + len)
		munmap(a + size, p + len - (a + size));
	if (madvise(a, size, MADV_HUGEPAGE)) {
		err = errno;
		munmap(a, size);
		errno = err;
		return NULL;
	}
	return a;
}

/* hugetlb: size bytes of 2 MiB hugetlbfs pages (2 MiB aligned). */
static void *map_hugetlb(size_t size)
{
	void *p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB |
		       21 << MAP_HUGE_SHIFT, -1, 0);

	return p == MAP_FAILED ? NULL : p;
}

/* mem: qword i holds i * 2^64/phi, so a read of the wrong qword shows. */
static void fill_mem(uint64_t *w, uint64_t n)
{
	uint64_t i;

	for (i = 0; i < n; i++)
		w[i] = i * 0x9e3779b97f4a7c15ULL;
}

/* The touched or read area of touch, thp, hugetlb and mem. */
static int add_area(struct bench_vm *b, const struct options *o,
		    enum metric_id id)
{
	uint64_t gpa = id == M_MEM ? MEM_GPA : TOUCH_GPA;
	size_t size = (id == M_MEM ? o->mem_mib : o->touch_mib) << 20;
	void *host;
	char msg[96];

	if (id == M_TOUCH) {
		if (mvx_add_memory(&b->vm, gpa, size, 0, &host))
			return fail("VM setup", mvx_last_error());
		if (o->no_huge)
			madvise(host, size, MADV_NOHUGEPAGE);
		b->touch = host;
		return 0;
	}
	host = id == M_HUGETLB ? map_hugetlb(size) : map_thp(size);
	if (!host) {
		snprintf(msg, sizeof(msg), "mmap of %zu MiB: %s", size >> 20,
			 strerror(errno));
		return fail(metrics[id].name, msg);
	}
	b->own = host;
	b->own_len = size;
	if (mvx_add_memory_at(&b->vm, gpa, size, 0, host))
		return fail("VM setup", mvx_last_error());
	if (id == M_MEM) {
		fill_mem(host, size / 8);
		b->mem = host;
	} else {
		b->touch = host;
	}
	return 0;
}

static int vm_setup(struct bench_vm *b, const struct options *o,
		    enum metric_id id)
{
	const struct metric *m = &metrics[id];
	const unsigned char *fn = (const unsigned char *)bench_spin;
	const unsigned char *fn_end = bench_spin_end;
	void *ram;

	if (id == M_MEM) {
		fn = (const unsigned char *)bench_mem;
		fn_end = bench_mem_end;
	}
	memset(b, 0, sizeof(*b));
	if (mvx_vm_open(&b->vm, o->device))
		return fail("open", mvx_last_error());
	if (mvx_add_memory(&b->vm, 0, RAM_SIZE, 0, &ram))
		goto err;
	b->ram = ram;
	if ((is_touch(id) || id == M_MEM) && add_area(b, o, id))
		goto out;
	memcpy(b->ram + CODE_GPA, m->start, m->end - m->start);
	memcpy(b->ram + SPIN_GPA, fn, fn_end - fn);
	if (mvx_write_sys_area(&b->vm.mem, SYS_GPA, 1) ||
	    mvx_vcpu_create(&b->vm, 0, &b->vcpu) ||
	    mvx_set_supported_cpuid(&b->vcpu) ||
	    mvx_setup_long_mode(&b->vcpu, SYS_GPA) ||
	    (id == M_IRQ && idt_setup(b)))
		goto err;
	return 0;
err:
	fail("VM setup", mvx_last_error());
out:
	vm_teardown(b);
	return -1;
}

/* prefault and mask: see guest_mem; the other guests ignore them. */
static int vcpu_start(struct bench_vm *b, const struct options *o,
		      uint64_t iters, uint64_t prefault)
{
	struct mvx_regs r;

	memset(&r, 0, sizeof(r));
	r.rip = CODE_GPA;
	r.rsp = STACK_TOP;
	r.rsi = iters;
	r.rdx = prefault;
	r.rbx = (o->mem_mib << 20) - 8;
	r.rflags = 0x2;
	if (mvx_set_regs(&b->vcpu, &r))
		return fail("set regs", mvx_last_error());
	return 0;
}

/* The exit is exactly the one the guest's loop makes. */
static int exit_is_expected(const struct mvx_run *run, uint32_t reason)
{
	if (run->exit_reason != reason)
		return 0;
	if (reason == MVX_EXIT_IO)
		return run->io.direction == MVX_EXIT_IO_OUT &&
		       run->io.port == BENCH_PORT && run->io.size == 1 &&
		       run->io.count == 1;
	if (reason == MVX_EXIT_MMIO)
		return run->mmio.phys_addr == MMIO_GPA && run->mmio.is_write &&
		       run->mmio.len == 4;
	return 0;
}

static int unexpected_exit(const struct mvx_run *run)
{
	char msg[128];

	snprintf(msg, sizeof(msg), "exit %s (%u)",
		 mvx_exit_name(run->exit_reason), run->exit_reason);
	return fail("unexpected exit", msg);
}

/*
 * Run until HLT, re-entering after each expected exit.  The host clock
 * covers every MVX_RUN of the loop; R8/R9/R10 come back in *regs.
 */
static int run_to_hlt(struct bench_vm *b, uint32_t reason, uint64_t *exits,
		      uint64_t *host_ns, struct mvx_regs *regs)
{
	struct mvx_run *run = b->vcpu.run;
	uint64_t n = 0, t0, t1;
	int ret;

	t0 = now_ns();
	for (;;) {
		ret = mvx_vcpu_run(&b->vcpu);
		if (ret == -EINTR)
			continue;
		if (ret)
			return fail("run", mvx_last_error());
		if (run->exit_reason == MVX_EXIT_HLT)
			break;
		if (!exit_is_expected(run, reason))
			return unexpected_exit(run);
		n++;
	}
	t1 = now_ns();
	*exits = n;
	*host_ns = t1 - t0;
	if (mvx_get_regs(&b->vcpu, regs))
		return fail("get regs", mvx_last_error());
	return 0;
}

/*
 * irq: at each HLT exit with IF=1 inject IRQ_VECTOR (the run page must
 * say ready); the handler's OUT is the counted exit; the HLT with IF=0
 * ends the loop.  Every injection must have been acknowledged.
 */
static int run_irq(struct bench_vm *b, uint64_t *exits, uint64_t *host_ns,
		   struct mvx_regs *regs)
{
	struct mvx_interrupt irq = { .irq = IRQ_VECTOR };
	struct mvx_run *run = b->vcpu.run;
	uint64_t n = 0, injected = 0, t0, t1;
	int ret;

	t0 = now_ns();
	for (;;) {
		ret = mvx_vcpu_run(&b->vcpu);
		if (ret == -EINTR)
			continue;
		if (ret)
			return fail("run", mvx_last_error());
		if (run->exit_reason == MVX_EXIT_HLT) {
			if (!run->if_flag)
				break;
			if (!run->ready_for_interrupt_injection)
				return fail("irq", "HLT exit with IF=1 not ready");
			if (ioctl(b->vcpu.fd, MVX_INTERRUPT, &irq))
				return fail("MVX_INTERRUPT", strerror(errno));
			injected++;
			continue;
		}
		if (!exit_is_expected(run, MVX_EXIT_IO))
			return unexpected_exit(run);
		n++;
	}
	t1 = now_ns();
	if (injected != n)
		return fail("irq", "an injection was not acknowledged");
	*exits = n;
	*host_ns = t1 - t0;
	if (mvx_get_regs(&b->vcpu, regs))
		return fail("get regs", mvx_last_error());
	return 0;
}

static int run_metric_guest(struct bench_vm *b, enum metric_id id,
			    uint64_t *exits, uint64_t *host_ns,
			    struct mvx_regs *regs)
{
	if (id == M_IRQ)
		return run_irq(b, exits, host_ns, regs);
	return run_to_hlt(b, metrics[id].exit_reason, exits, host_ns, regs);
}

static uint64_t metric_iters(const struct options *o, enum metric_id id)
{
	if (id == M_CPU)
		return o->spin;
	if (is_touch(id))
		return (o->touch_mib << 20) / PAGE_SIZE;
	if (id == M_MEM)
		return o->reads;
	if (id == M_VM)
		return o->cycles;
	return o->iters;
}

/* Each page of the touch area holds the value its guest write stored. */
static int check_touch(const struct bench_vm *b, enum metric_id id,
		       uint64_t pages)
{
	uint64_t i;

	for (i = 0; i < pages; i++) {
		uint64_t v = *(const uint64_t *)(b->touch + i * PAGE_SIZE);

		if (v != pages - i) {
			char msg[96];

			snprintf(msg, sizeof(msg), "page %llu holds %llu",
				 (unsigned long long)i, (unsigned long long)v);
			return fail(metrics[id].name, msg);
		}
	}
	return 0;
}

static int check_run(enum metric_id id, uint64_t iters, uint64_t exits,
		     const struct mvx_regs *r, uint64_t want_spin)
{
	uint64_t want_exits = metrics[id].exit_reason ? iters : 0;
	char msg[96];

	if (exits != want_exits) {
		snprintf(msg, sizeof(msg), "%llu userspace exits, expected %llu",
			 (unsigned long long)exits,
			 (unsigned long long)want_exits);
		return fail(metrics[id].name, msg);
	}
	if (r->r9 < r->r8)
		return fail(metrics[id].name, "guest TSC went backwards");
	if (id == M_CPU && r->r10 != want_spin)
		return fail("cpu", "guest loop result differs from native");
	return 0;
}

/* AnonHugePages (KiB) of the mapping that starts at addr; -1: unknown. */
static long anon_huge_kib(const void *addr)
{
	FILE *f = fopen("/proc/self/smaps", "r");
	unsigned long start, end;
	char line[256], perms[8];
	long kib = -1;
	int in = 0;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) == 3) {
			in = start == (uintptr_t)addr;
			continue;
		}
		if (in && sscanf(line, "AnonHugePages: %ld kB", &kib) == 1)
			break;
	}
	fclose(f);
	return kib;
}

/*
 * The same loop natively, on the same bytes (bench_spin) or the same host
 * memory (bench_mem); its result must be the guest's (R10).
 */
static int run_native(const struct options *o, enum metric_id id,
		      const struct bench_vm *b, uint64_t want,
		      struct sample *s)
{
	uint64_t n = metric_iters(o, id), t0, c0, c1, got;

	t0 = now_ns();
	c0 = rdtsc();
	if (id == M_CPU)
		got = bench_spin(n);
	else
		got = bench_mem(b->mem, n, (o->mem_mib << 20) - 8);
	c1 = rdtsc();
	s->native_ns = now_ns() - t0;
	s->native_cycles = c1 - c0;
	if (got != want)
		return fail(metrics[id].name,
			    "native loop result differs from the guest's");
	return 0;
}

static int measure_once(const struct options *o, enum metric_id id,
			uint64_t want_spin, struct sample *s)
{
	uint64_t iters = metric_iters(o, id);
	uint64_t warmup = is_touch(id) ? 0 : WARMUP_ITERS;
	uint64_t prefault = id == M_MEM ? o->mem_mib << 20 : 0;
	int native = id == M_CPU || id == M_MEM;
	long huge_kib = -1;
	struct bench_vm b;
	struct mvx_regs r;
	uint64_t exits, ns;
	int ret;

	if (vm_setup(&b, o, id))
		return -1;
	/* Warm-up: fault in code, stack, page tables (and mem's area). */
	ret = vcpu_start(&b, o, warmup, prefault);
	if (!ret)
		ret = run_metric_guest(&b, id, &exits, &ns, &r);
	if (!ret)
		ret = vcpu_start(&b, o, iters, 0);
	if (!ret)
		ret = run_metric_guest(&b, id, &exits, &ns, &r);
	if (!ret)
		ret = check_run(id, iters, exits, &r, want_spin);
	if (!ret && is_touch(id))
		ret = check_touch(&b, id, iters);
	if (!ret && (id == M_THP || id == M_MEM))
		huge_kib = anon_huge_kib(b.own);
	/* thp without a single huge page would only repeat touch. */
	if (!ret && id == M_THP && huge_kib == 0)
		ret = fail("thp", "no transparent huge page (THP disabled?)");
	if (!ret && native)
		ret = run_native(o, id, &b, id == M_CPU ? want_spin : r.r10, s);
	vm_teardown(&b);
	if (ret)
		return ret;

	s->host_ns = ns;
	s->guest_cycles = r.r9 - r.r8;
	printf("rep %s host_ns=%llu guest_cycles=%llu exits=%llu",
	       metrics[id].name, (unsigned long long)s->host_ns,
	       (unsigned long long)s->guest_cycles, (unsigned long long)exits);
	if (native)
		printf(" native_ns=%llu native_cycles=%llu",
		       (unsigned long long)s->native_ns,
		       (unsigned long long)s->native_cycles);
	if (huge_kib >= 0)
		printf(" huge_kib=%ld", huge_kib);
	printf("\n");
	fflush(stdout);
	return 0;
}

/* vm: one cycle: a VM, one 1 GiB slot of untouched memory, destroyed. */
static int vm_cycle(int dev, void *slot_mem)
{
	struct mvx_userspace_memory_region r = {
		.memory_size = VM_SLOT_SIZE,
		.userspace_addr = (uintptr_t)slot_mem,
	};
	int fd = ioctl(dev, MVX_CREATE_VM, 0), err = 0;

	if (fd < 0)
		return fail("vm: MVX_CREATE_VM", strerror(errno));
	if (ioctl(fd, MVX_SET_USER_MEMORY_REGION, &r))
		err = errno;
	close(fd);
	if (err)
		return fail("vm: MVX_SET_USER_MEMORY_REGION", strerror(err));
	return 0;
}

/*
 * The host memory is mapped once: what is timed is the hypervisor's
 * work, not mmap's.  Only the host clock: no guest runs.
 */
static int measure_vm(const struct options *o, struct sample *s)
{
	void *mem = mmap(NULL, VM_SLOT_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	uint64_t i, t0;
	int dev, ret;

	if (mem == MAP_FAILED)
		return fail("vm: mmap of 1 GiB", strerror(errno));
	dev = open(o->device, O_RDWR | O_CLOEXEC);
	if (dev < 0) {
		munmap(mem, VM_SLOT_SIZE);
		return fail(o->device, strerror(errno));
	}
	ret = vm_cycle(dev, mem);	/* warm-up */
	t0 = now_ns();
	for (i = 0; !ret && i < o->cycles; i++)
		ret = vm_cycle(dev, mem);
	s->host_ns = now_ns() - t0;
	s->guest_cycles = 0;
	close(dev);
	munmap(mem, VM_SLOT_SIZE);
	if (ret)
		return ret;
	printf("rep vm host_ns=%llu cycles=%llu\n",
	       (unsigned long long)s->host_ns, (unsigned long long)o->cycles);
	fflush(stdout);
	return 0;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Median of one field of the samples (mean of the two middle ones). */
static double median(const struct sample *s, unsigned int n, size_t off)
{
	uint64_t v[n];
	unsigned int i;

	for (i = 0; i < n; i++)
		v[i] = *(const uint64_t *)((const char *)&s[i] + off);
	qsort(v, n, sizeof(v[0]), cmp_u64);
	return n % 2 ? (double)v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2.0;
}

#define MEDIAN(s, n, field) median(s, n, offsetof(struct sample, field))

static void print_result(const struct options *o, enum metric_id id,
			 const struct sample *s)
{
	double it = (double)metric_iters(o, id);
	double host = MEDIAN(s, o->reps, host_ns);
	double cyc = MEDIAN(s, o->reps, guest_cycles);

	printf("result %s iters=%.0f host_ns=%.0f host_ns_per_iter=%.2f",
	       metrics[id].name, it, host, host / it);
	if (id != M_VM)
		printf(" guest_cycles_per_iter=%.2f guest_ns_per_iter=%.2f",
		       cyc / it, cyc / it * 1000.0 / tsc_mhz);
	if (id == M_CPU || id == M_MEM) {
		double nat = MEDIAN(s, o->reps, native_ns);
		double ncyc = MEDIAN(s, o->reps, native_cycles);

		/* Speed relative to native: 1.0 = as fast, < 1 = slower. */
		printf(" native_ns_per_iter=%.3f native_cycles_per_iter=%.3f "
		       "guest_vs_native=%.4f guest_vs_native_tsc=%.4f",
		       nat / it, ncyc / it, nat / host, ncyc / cyc);
	}
	printf("\n");
	fflush(stdout);
}

static long read_num(const char *path)
{
	FILE *f = fopen(path, "r");
	long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

static int write_num(const char *path, long v)
{
	FILE *f = fopen(path, "w");
	int bad;

	if (!f)
		return -1;
	bad = fprintf(f, "%ld\n", v) < 0;
	return fclose(f) || bad ? -1 : 0;
}

/* 2 MiB hugetlbfs pages that a new mapping can have: free, not reserved. */
static long hugetlb_avail(void)
{
	long free_pages = read_num(HUGETLB_DIR "free_hugepages");
	long resv = read_num(HUGETLB_DIR "resv_hugepages");

	return free_pages < 0 || resv < 0 ? -1 : free_pages - resv;
}

/*
 * hugetlb needs pages 2 MiB pages: grow the pool by what is missing (the
 * PC reserves none at boot).  *old_nr gets the pool size to restore, or
 * -1 when it was left alone.
 */
static int hugetlb_reserve(long pages, long *old_nr)
{
	long nr = read_num(HUGETLB_DIR "nr_hugepages");
	long avail = hugetlb_avail();
	char msg[160];

	*old_nr = -1;
	if (nr < 0 || avail < 0)
		return fail("hugetlb", "no 2 MiB hugetlbfs pages in this kernel");
	if (avail >= pages)
		return 0;
	*old_nr = nr;
	write_num(HUGETLB_DIR "nr_hugepages", nr + pages - avail);
	avail = hugetlb_avail();
	printf("# hugetlb: nr_hugepages %ld -> %ld, %ld available\n", nr,
	       read_num(HUGETLB_DIR "nr_hugepages"), avail);
	if (avail >= pages)
		return 0;
	write_num(HUGETLB_DIR "nr_hugepages", nr);
	*old_nr = -1;
	snprintf(msg, sizeof(msg),
		 "only %ld of %ld 2 MiB pages after writing %snr_hugepages (not root? memory fragmented?)",
		 avail, pages, HUGETLB_DIR);
	return fail("hugetlb", msg);
}

static int run_metric(const struct options *o, enum metric_id id,
		      uint64_t want_spin)
{
	struct sample s[o->reps];
	long old_nr = -1;
	unsigned int i;
	int ret = 0;

	if (id == M_HUGETLB &&
	    hugetlb_reserve(((o->touch_mib << 20) + HUGE_SIZE - 1) / HUGE_SIZE,
			    &old_nr))
		return -1;
	for (i = 0; !ret && i < o->reps; i++)
		ret = id == M_VM ? measure_vm(o, &s[i]) :
				   measure_once(o, id, want_spin, &s[i]);
	if (old_nr >= 0)
		write_num(HUGETLB_DIR "nr_hugepages", old_nr);
	if (!ret)
		print_result(o, id, s);
	return ret;
}

static unsigned int parse_only(const char *list)
{
	char *copy = strdup(list), *save = NULL, *tok;
	unsigned int mask = 0, i;

	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		for (i = 0; i < NR_METRICS; i++)
			if (!strcmp(tok, metrics[i].name))
				break;
		if (i == NR_METRICS) {
			fprintf(stderr, "minivmx-bench: unknown metric %s\n", tok);
			exit(2);
		}
		mask |= 1U << i;
	}
	free(copy);
	return mask;
}

static void usage(int status)
{
	fprintf(status ? stderr : stdout,
		"usage: minivmx-bench [--device PATH] [--iters N] [--reps N]\n"
		"                     [--spin N] [--touch-mib N] [--no-huge]\n"
		"                     [--mem-mib N] [--reads N] [--cycles N]\n"
		"                     [--only pio,cpuid,mmio,cpu,touch,irq,thp,hugetlb,mem,vm]\n"
		"  --device PATH   /dev/minivmx (default) or /dev/kvm\n"
		"  --iters N       exits per run of pio, cpuid, mmio, irq (%d)\n"
		"  --reps N        fresh-VM repetitions per metric; medians (%d)\n"
		"  --spin N        iterations of the cpu loop (%d)\n"
		"  --touch-mib N   guest memory touched by touch, thp, hugetlb (%d)\n"
		"  --no-huge       MADV_NOHUGEPAGE on the touch memory\n"
		"  --mem-mib N     guest memory mem reads from, a power of 2 (%d)\n"
		"  --reads N       random reads per run of mem (%d)\n"
		"  --cycles N      VM create/slot/destroy cycles per run of vm (%d)\n",
		DEFAULT_ITERS, DEFAULT_REPS, DEFAULT_SPIN, DEFAULT_TOUCH,
		DEFAULT_MEM, DEFAULT_READS, DEFAULT_CYCLES);
	exit(status);
}

static uint64_t parse_count(const char *s, uint64_t min)
{
	char *end;
	unsigned long long v = strtoull(s, &end, 0);

	if (*s == '\0' || *end != '\0' || v < min) {
		fprintf(stderr, "minivmx-bench: bad number %s\n", s);
		exit(2);
	}
	return v;
}

static void parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "device", required_argument, NULL, 'd' },
		{ "iters", required_argument, NULL, 'i' },
		{ "reps", required_argument, NULL, 'r' },
		{ "spin", required_argument, NULL, 's' },
		{ "touch-mib", required_argument, NULL, 't' },
		{ "no-huge", no_argument, NULL, 'H' },
		{ "mem-mib", required_argument, NULL, 'm' },
		{ "reads", required_argument, NULL, 'R' },
		{ "cycles", required_argument, NULL, 'c' },
		{ "only", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options) {
		.device = "/dev/minivmx", .iters = DEFAULT_ITERS,
		.reps = DEFAULT_REPS, .spin = DEFAULT_SPIN,
		.touch_mib = DEFAULT_TOUCH, .mem_mib = DEFAULT_MEM,
		.reads = DEFAULT_READS, .cycles = DEFAULT_CYCLES,
	};
	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'd': o->device = optarg; break;
		case 'i': o->iters = parse_count(optarg, 1); break;
		case 'r': o->reps = parse_count(optarg, 1); break;
		case 's': o->spin = parse_count(optarg, 1); break;
		case 't': o->touch_mib = parse_count(optarg, 1); break;
		case 'H': o->no_huge = 1; break;
		case 'm': o->mem_mib = parse_count(optarg, 1); break;
		case 'R': o->reads = parse_count(optarg, 1); break;
		case 'c': o->cycles = parse_count(optarg, 1); break;
		case 'o': o->only = parse_only(optarg); break;
		case 'h': usage(0); break;
		default: usage(2);
		}
	}
	if (optind != argc)
		usage(2);
	/* The touch area must fit below the MMIO hole the guest maps. */
	if (TOUCH_GPA + (o->touch_mib << 20) > MMIO_GPA) {
		fprintf(stderr, "minivmx-bench: --touch-mib too large\n");
		exit(2);
	}
	/* mem's offset mask needs a power of 2, below the MMIO hole too. */
	if (o->mem_mib & (o->mem_mib - 1) ||
	    MEM_GPA + (o->mem_mib << 20) > MMIO_GPA) {
		fprintf(stderr, "minivmx-bench: bad --mem-mib\n");
		exit(2);
	}
}

int main(int argc, char **argv)
{
	struct options o;
	uint64_t want_spin;
	unsigned int i;
	int failed = 0;

	parse_options(argc, argv, &o);
	calibrate_tsc();
	want_spin = bench_spin(o.spin);
	printf("bench device=%s tsc_mhz=%.1f iters=%llu reps=%u spin=%llu "
	       "touch_mib=%llu huge=%s mem_mib=%llu reads=%llu cycles=%llu\n",
	       o.device, tsc_mhz, (unsigned long long)o.iters, o.reps,
	       (unsigned long long)o.spin, (unsigned long long)o.touch_mib,
	       o.no_huge ? "no" : "default", (unsigned long long)o.mem_mib,
	       (unsigned long long)o.reads, (unsigned long long)o.cycles);
	fflush(stdout);
	for (i = 0; i < NR_METRICS; i++) {
		if (o.only && !(o.only & 1U << i))
			continue;
		if (run_metric(&o, i, want_spin)) {
			printf("failed %s %s\n", metrics[i].name, last_failure);
			failed = 1;
		}
	}
	return failed;
}
