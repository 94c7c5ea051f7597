// SPDX-License-Identifier: GPL-2.0
/*
 * fuzz_ioctl: random sequences of every minivmx ioctl at all three levels,
 * with random and boundary arguments, plus mmap/munmap/close/dup/fork,
 * slots deleted and host memory unmapped while vCPUs run, and two threads
 * racing RUN on one vCPU.
 *
 *   fuzz_ioctl [--seed S] [--ops N] [-v]
 *
 * The same seed gives the same sequence of operations (timing of the
 * racing threads aside).  The fuzzer itself judges nothing about the
 * module's answers: run_tests decides by the kernel log afterwards.  It
 * prints TAP ("ok 1") unless it could not run at all.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "mvx_util.h"

#define MAX_FDS		24
#define POOL_SIZE	(4UL << 20)	/* host memory that slots point into */
#define MAX_MAPS	16
/* GET_DIRTY_LOG's buffer: a 2^21-page slot's bits, then a guard page. */
#define DIRTY_BUF_SIZE	(256UL << 10)

enum fd_kind { FD_NONE, FD_SYS, FD_VM, FD_VCPU };

struct obj {
	enum fd_kind kind;
	int fd;
};

static struct obj objs[MAX_FDS];
static struct {
	void *addr;
	size_t len;
} maps[MAX_MAPS];
static uint8_t *pool;
static uint8_t *dirty_buf;
static uint64_t rng_state;
static int verbose;
static unsigned long nr_ok, nr_err, nr_runs, nr_faults;
static sigjmp_buf fault_jmp;
static volatile unsigned long progress;
static volatile unsigned int last_op;
static volatile sig_atomic_t fault_armed;

/* xorshift64*: small, fast and reproducible everywhere. */
static uint64_t rnd(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545f4914f6cdd1dULL;
}

static uint64_t below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

static bool chance(unsigned int percent)
{
	return below(100) < percent;
}

/* A value that is likely to sit on some boundary. */
static uint64_t boundary(void)
{
	static const uint64_t vals[] = {
		0, 1, 2, 0xfff, 0x1000, 0x1001, 0x7fffffff, 0x80000000,
		0xffffffff, 0x100000000ULL, 0x7fffffffffffffffULL,
		0x8000000000000000ULL, ~0ULL, ~0ULL - 0xfff, 0xffff800000000000ULL,
		0x00007ffffffff000ULL, 31, 32, 33, 63, 64, 65, 255, 256, 257,
		32767, 32768, 65535, 65536,
	};

	if (chance(30))
		return rnd();
	return vals[below(sizeof(vals) / sizeof(vals[0]))];
}

/* A pointer that is good, NULL, kernel, unmapped or misaligned. */
static void *bad_ptr(void *good)
{
	switch (below(6)) {
	case 0:
		return NULL;
	case 1:
		return (void *)0xffff888000000000UL;
	case 2:
		return (void *)0x10UL;
	case 3:
		return (uint8_t *)good + 1;
	default:
		return good;
	}
}

static int pick(enum fd_kind kind)
{
	int i, start = below(MAX_FDS);

	for (i = 0; i < MAX_FDS; i++) {
		int k = (start + i) % MAX_FDS;

		if (objs[k].kind == kind)
			return objs[k].fd;
	}
	return -1;
}

static void add_obj(enum fd_kind kind, int fd)
{
	int i = below(MAX_FDS);

	if (fd < 0)
		return;
	if (objs[i].kind != FD_NONE)
		close(objs[i].fd);
	objs[i].kind = kind;
	objs[i].fd = fd;
}

static void count(long ret)
{
	if (ret < 0)
		nr_err++;
	else
		nr_ok++;
}

/* ------------------------------------------------------------ system */

static void op_open(void)
{
	add_obj(FD_SYS, mvx_open());
}

static void op_sys(void)
{
	int fd = pick(FD_SYS);
	uint8_t buf[8 + 300 * 40];
	long ret = 0;

	if (fd < 0)
		return op_open();
	memset(buf, 0, sizeof(buf));
	switch (below(7)) {
	case 0:
		ret = ioctl(fd, MVX_GET_API_VERSION, chance(80) ? 0 : boundary());
		break;
	case 1:
		ret = ioctl(fd, MVX_CREATE_VM, chance(85) ? 0 : boundary());
		add_obj(FD_VM, ret);
		break;
	case 2:
		ret = ioctl(fd, MVX_CHECK_EXTENSION, chance(50) ? below(200) :
			    boundary());
		break;
	case 3:
		ret = ioctl(fd, MVX_GET_VCPU_MMAP_SIZE, chance(80) ? 0 : boundary());
		break;
	case 4:
		*(uint32_t *)buf = chance(50) ? below(300) : boundary();
		ret = ioctl(fd, MVX_GET_MSR_INDEX_LIST, bad_ptr(buf));
		break;
	case 5:
		*(uint32_t *)buf = chance(50) ? below(300) : boundary();
		ret = ioctl(fd, MVX_GET_SUPPORTED_CPUID, bad_ptr(buf));
		break;
	default:
		ret = ioctl(fd, _IO(MVXIO, below(256)), boundary());
		break;
	}
	count(ret);
}

/* ---------------------------------------------------------------- VM */

static void *pool_addr(void)
{
	switch (below(8)) {
	case 0:
		return (void *)(uintptr_t)boundary();
	case 1:
		return pool + below(POOL_SIZE);	/* likely misaligned */
	default:
		return pool + below(POOL_SIZE / PAGE_SIZE) * PAGE_SIZE;
	}
}

static void op_slot(int vm)
{
	struct mvx_userspace_memory_region r;

	r.slot = chance(80) ? below(36) : boundary();
	if (chance(60))
		r.flags = 0;
	else if (chance(80))
		r.flags = below(4);	/* LOG_DIRTY_PAGES, READONLY, both */
	else
		r.flags = boundary();
	if (chance(80))
		r.guest_phys_addr = below(64) * 0x10000;
	else
		r.guest_phys_addr = boundary();
	switch (below(5)) {
	case 0:
		r.memory_size = 0;
		break;
	case 1:
		r.memory_size = boundary();
		break;
	default:
		r.memory_size = (1 + below(64)) * PAGE_SIZE;
		break;
	}
	r.userspace_addr = (uintptr_t)pool_addr();
	count(ioctl(vm, MVX_SET_USER_MEMORY_REGION, bad_ptr(&r)));
}

static long op_dirty_log(int vm)
{
	struct mvx_dirty_log log = { .padding1 = chance(90) ? 0 : rnd() };

	log.slot = chance(80) ? below(36) : boundary();
	log.dirty_bitmap = bad_ptr(dirty_buf);
	return ioctl(vm, MVX_GET_DIRTY_LOG, bad_ptr(&log));
}

static void op_vm(void)
{
	int vm = pick(FD_VM);
	long ret;

	if (vm < 0)
		return op_sys();
	switch (below(7)) {
	case 0:
	case 1:
		op_slot(vm);
		return;
	case 2:
		ret = ioctl(vm, MVX_CREATE_VCPU, chance(80) ? below(70) :
			    boundary());
		add_obj(FD_VCPU, ret);
		break;
	case 3:
		ret = ioctl(vm, MVX_CHECK_EXTENSION, boundary());
		break;
	case 4:
		ret = ioctl(vm, MVX_SET_TSS_ADDR, boundary());
		break;
	case 5:
		ret = op_dirty_log(vm);
		break;
	default:
		ret = ioctl(vm, _IO(MVXIO, below(256)), boundary());
		break;
	}
	count(ret);
}

/* -------------------------------------------------------------- vCPU */

static const uint32_t msr_list[] = {
	0x10, 0x1b, 0x3a, 0x8b, 0xfe, 0x174, 0x175, 0x176, 0x179, 0x17a,
	0x1a0, 0x200, 0x2ff, 0x277, 0x480, 0x48d, 0x6e0, 0xc0000080,
	0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000100,
	0xc0000101, 0xc0000102, 0xc0000103, 0xc0010114, 0xc0010117,
	0x40000000, 0x4b564d00, 0xdeadbeef, 0xffffffff,
};

static void fill_msrs(struct mvx_msrs *m, unsigned int max)
{
	unsigned int i;

	m->nmsrs = chance(90) ? below(max + 1) : boundary();
	for (i = 0; i < max; i++) {
		m->entries[i].index = chance(80) ?
			msr_list[below(sizeof(msr_list) / 4)] : rnd();
		m->entries[i].reserved = chance(90) ? 0 : rnd();
		m->entries[i].data = chance(50) ? boundary() : rnd();
	}
}

static void mutate(void *p, size_t len, unsigned int flips)
{
	while (flips--)
		((uint8_t *)p)[below(len)] ^= 1 << below(8);
}

static void fill_guest_memory(void)
{
	size_t off = below(POOL_SIZE / PAGE_SIZE) * PAGE_SIZE;
	size_t i;

	/* Random code, halts, jumps, port and MMIO accesses, CPUID. */
	for (i = 0; i < PAGE_SIZE; i++)
		pool[off + i] = chance(30) ? 0xf4 : rnd();
}

static void on_signal(int sig)
{
}

static void on_fault(int sig)
{
	if (fault_armed)
		siglongjmp(fault_jmp, 1);
	signal(sig, SIG_DFL);
	raise(sig);
}

/*
 * SIGALRM every @usec at the calling thread while it may be in RUN (0
 * stops it).  Aimed at this thread because a process-wide timer could pick
 * another one; periodic because a single shot can land just before the
 * ioctl and leave RUN spinning.  One per thread (and so per process:
 * POSIX timers do not survive fork).
 */
static __thread timer_t timer;
static __thread pid_t timer_owner;

static void arm_timer(long usec)
{
	struct itimerspec its = {
		.it_value = { .tv_nsec = usec * 1000 },
		.it_interval = { .tv_nsec = usec * 1000 },
	};

	if (timer_owner != gettid()) {
		struct sigevent sev = {
			.sigev_notify = SIGEV_THREAD_ID,
			.sigev_signo = SIGALRM,
		};

		sev._sigev_un._tid = gettid();
		if (timer_create(CLOCK_MONOTONIC, &sev, &timer)) {
			perror("timer_create");
			exit(1);
		}
		timer_owner = gettid();
	}
	timer_settime(timer, 0, &its, NULL);
}

static void drop_timer(void)
{
	if (timer_owner == gettid())
		timer_delete(timer);
	timer_owner = 0;
}

static void op_run(int vcpu)
{
	long ret;

	if (chance(20))
		fill_guest_memory();
	arm_timer(2000);
	ret = ioctl(vcpu, MVX_RUN, chance(95) ? 0 : boundary());
	arm_timer(0);
	nr_runs++;
	count(ret);
}

static void op_vcpu_state(int vcpu)
{
	union {
		struct mvx_regs regs;
		struct mvx_sregs sregs;
		struct mvx_fpu fpu;
		struct mvx_interrupt irq;
		struct {
			struct mvx_msrs h;
			struct mvx_msr_entry e[40];
		} msrs;
		struct {
			struct mvx_cpuid2 h;
			struct mvx_cpuid_entry2 e[300];
		} cpuid;
	} u;
	long ret;
	unsigned int i;

	memset(&u, 0, sizeof(u));
	switch (below(10)) {
	case 0:
		ret = ioctl(vcpu, MVX_GET_REGS, bad_ptr(&u));
		break;
	case 1:
		ioctl(vcpu, MVX_GET_REGS, &u.regs);
		mutate(&u.regs, sizeof(u.regs), 1 + below(8));
		ret = ioctl(vcpu, MVX_SET_REGS, bad_ptr(&u));
		break;
	case 2:
		ret = ioctl(vcpu, MVX_GET_SREGS, bad_ptr(&u));
		break;
	case 3:
		/* Small changes to a valid state reach the deep checks. */
		ioctl(vcpu, MVX_GET_SREGS, &u.sregs);
		mutate(&u.sregs, sizeof(u.sregs), 1 + below(4));
		ret = ioctl(vcpu, MVX_SET_SREGS, bad_ptr(&u));
		break;
	case 4:
		fill_msrs(&u.msrs.h, 40);
		ret = ioctl(vcpu, MVX_GET_MSRS, bad_ptr(&u));
		break;
	case 5:
		fill_msrs(&u.msrs.h, 40);
		ret = ioctl(vcpu, MVX_SET_MSRS, bad_ptr(&u));
		break;
	case 6:
		ret = ioctl(vcpu, MVX_GET_FPU, bad_ptr(&u));
		break;
	case 7:
		ioctl(vcpu, MVX_GET_FPU, &u.fpu);
		mutate(&u.fpu, sizeof(u.fpu), 1 + below(8));
		ret = ioctl(vcpu, MVX_SET_FPU, bad_ptr(&u));
		break;
	case 8:
		u.cpuid.h.nent = chance(90) ? below(300) : boundary();
		for (i = 0; i < 300; i++) {
			u.cpuid.e[i].function = chance(50) ? below(0x20) : rnd();
			u.cpuid.e[i].index = below(4);
			u.cpuid.e[i].flags = below(8);
			u.cpuid.e[i].eax = rnd();
			u.cpuid.e[i].ebx = rnd();
			u.cpuid.e[i].ecx = rnd();
			u.cpuid.e[i].edx = rnd();
		}
		ret = ioctl(vcpu, MVX_SET_CPUID2, bad_ptr(&u));
		break;
	default:
		u.irq.irq = chance(50) ? below(256) : boundary();
		ret = ioctl(vcpu, MVX_INTERRUPT, bad_ptr(&u));
		break;
	}
	count(ret);
}

static void op_mode(int vcpu)
{
	struct tvcpu v = { .fd = vcpu };

	count(vcpu_set_mode(&v, below(MODE_LONG + 1),
			    below(POOL_SIZE / PAGE_SIZE) * PAGE_SIZE));
}

static void op_mmap(int vcpu)
{
	int i = below(MAX_MAPS);
	size_t len = (1 + below(4)) * PAGE_SIZE;
	off_t offset = below(4) * PAGE_SIZE;
	void *p;

	if (maps[i].addr) {
		munmap(maps[i].addr, maps[i].len);
		maps[i].addr = NULL;
	}
	p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, vcpu, offset);
	if (p == MAP_FAILED) {
		nr_err++;
		return;
	}
	nr_ok++;
	maps[i].addr = p;
	maps[i].len = len;
}

static void op_touch_map(void)
{
	volatile uint8_t *p;
	int i = below(MAX_MAPS);

	if (!maps[i].addr)
		return;
	p = (uint8_t *)maps[i].addr + below(maps[i].len);
	/* Pages past the run and PIO pages may fault: that is allowed. */
	if (sigsetjmp(fault_jmp, 1)) {
		fault_armed = 0;
		nr_faults++;
		return;
	}
	fault_armed = 1;
	if (chance(50))
		(void)*p;
	else
		*p = rnd();
	fault_armed = 0;
}

/* ----------------------------------------------------- concurrent ops */

struct racer {
	int vcpu;
	volatile int done;
	pthread_t thread;
};

static void *race_run(void *arg)
{
	struct racer *r = arg;

	/*
	 * Its own timer: the other thread may wait for the vCPU's lock in
	 * RUN, which only a fatal signal interrupts, until this RUN ends.
	 */
	arm_timer(2000);
	ioctl(r->vcpu, MVX_RUN, 0);
	drop_timer();
	r->done = 1;
	return NULL;
}

/*
 * A second thread runs the vCPU while this one runs it too, or changes
 * the slots under it, or unmaps and remaps the host memory behind them.
 */
static void op_race(int vcpu)
{
	struct racer r = { .vcpu = vcpu };
	int vm = pick(FD_VM);

	if (pthread_create(&r.thread, NULL, race_run, &r))
		return;
	switch (below(3)) {
	case 0:
		op_run(vcpu);
		break;
	case 1:
		if (vm >= 0)
			op_slot(vm);
		break;
	default: {
		size_t off = below(POOL_SIZE / PAGE_SIZE - 16) * PAGE_SIZE;

		/* Fresh zero pages where the guest's memory was. */
		mmap(pool + off, 16 * PAGE_SIZE, PROT_READ | PROT_WRITE,
		     MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
		break;
	}
	}
	/* Kick the racer out of the guest until it is gone. */
	while (!r.done) {
		pthread_kill(r.thread, SIGALRM);
		usleep(500);
	}
	pthread_join(r.thread, NULL);
}

static void op_fork(void)
{
	pid_t pid = fork();
	int status, i;

	if (pid < 0)
		return;
	if (pid == 0) {
		/* Another mm: every VM and vCPU ioctl must fail cleanly. */
		for (i = 0; i < 8; i++) {
			switch (below(3)) {
			case 0:
				op_vm();
				break;
			case 1: {
				int v = pick(FD_VCPU);

				if (v >= 0)
					op_vcpu_state(v);
				break;
			}
			default: {
				int v = pick(FD_VCPU);

				if (v >= 0)
					op_run(v);
				break;
			}
			}
		}
		_exit(0);
	}
	waitpid(pid, &status, 0);
}

static void op_close_or_dup(void)
{
	int i = below(MAX_FDS);
	int j = below(MAX_FDS);

	if (objs[i].kind == FD_NONE)
		return;
	if (chance(30) && objs[j].kind == FD_NONE) {
		objs[j].fd = dup(objs[i].fd);
		objs[j].kind = objs[j].fd < 0 ? FD_NONE : objs[i].kind;
		return;
	}
	close(objs[i].fd);
	objs[i].kind = FD_NONE;
}

enum op_kind {
	K_OPEN, K_CLOSE_DUP, K_SYS, K_VM, K_VCPU_STATE, K_MODE, K_RUN, K_MMAP,
	K_TOUCH, K_RACE, K_FORK, K_FILL, NR_KINDS
};

/* Out of 100; a vCPU operation without a vCPU becomes a VM operation. */
static const struct {
	const char *name;
	unsigned int weight;
} kinds[NR_KINDS] = {
	[K_OPEN] = { "open", 3 },
	[K_CLOSE_DUP] = { "close/dup", 3 },
	[K_SYS] = { "system", 10 },
	[K_VM] = { "vm", 20 },
	[K_VCPU_STATE] = { "vcpu-state", 20 },
	[K_MODE] = { "mode", 6 },
	[K_RUN] = { "run", 18 },
	[K_MMAP] = { "mmap", 5 },
	[K_TOUCH] = { "touch", 7 },
	[K_RACE] = { "race", 5 },
	[K_FORK] = { "fork", 1 },
	[K_FILL] = { "fill", 2 },
};

static struct {
	unsigned long n;
	uint64_t ns;
} spent[NR_KINDS];

static enum op_kind choose_kind(bool have_vcpu)
{
	unsigned int n = below(100);
	enum op_kind k;

	for (k = 0; k < NR_KINDS - 1 && n >= kinds[k].weight; k++)
		n -= kinds[k].weight;
	if (!have_vcpu && k > K_VM)
		k = K_VM;
	return k;
}

static void do_op(enum op_kind k, int vcpu)
{
	switch (k) {
	case K_OPEN:
		return op_open();
	case K_CLOSE_DUP:
		return op_close_or_dup();
	case K_SYS:
		return op_sys();
	case K_VM:
		return op_vm();
	case K_VCPU_STATE:
		return op_vcpu_state(vcpu);
	case K_MODE:
		return op_mode(vcpu);
	case K_RUN:
		return op_run(vcpu);
	case K_MMAP:
		return op_mmap(vcpu);
	case K_TOUCH:
		return op_touch_map();
	case K_RACE:
		return op_race(vcpu);
	case K_FORK:
		return op_fork();
	default:
		return fill_guest_memory();
	}
}

static void one_op(void)
{
	int vcpu = pick(FD_VCPU);
	enum op_kind k = choose_kind(vcpu >= 0);
	uint64_t t0 = now_ns();

	last_op = k;
	if (verbose > 1)
		fprintf(stderr, "op %s vcpu %d\n", kinds[k].name, vcpu);
	do_op(k, vcpu);
	spent[k].n++;
	spent[k].ns += now_ns() - t0;
}

/* Where the time went, to keep the op mix affordable in slow emulators. */
static void print_spent(void)
{
	enum op_kind k;

	for (k = 0; k < NR_KINDS; k++)
		printf("# %-10s %7lu ops %8.2f s\n", kinds[k].name, spent[k].n,
		       spent[k].ns / 1e9);
}

/*
 * A RUN or other ioctl that never returns is a finding, not a reason to
 * hang the test PC: report where it stuck and end the process.
 */
static void *watchdog(void *arg)
{
	unsigned long seen = ~0UL;

	for (;;) {
		sleep(30);
		if (progress == seen) {
			printf("not ok 1 fuzz_ioctl # stuck for 30 s in op %lu (%s)\n",
			       progress, kinds[last_op].name);
			fflush(stdout);
			_exit(1);
		}
		seen = progress;
	}
	return NULL;
}

static void usage(void)
{
	fprintf(stderr, "usage: fuzz_ioctl [--seed S] [--ops N] [-v [-v]]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_signal };
	struct sigaction fa = { .sa_handler = on_fault };
	uint64_t seed = 0, start;
	unsigned long ops = 10000, i;
	pthread_t wd;
	int a, fd;

	for (a = 1; a < argc; a++) {
		if (!strcmp(argv[a], "--seed") && a + 1 < argc)
			seed = strtoull(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "--ops") && a + 1 < argc)
			ops = strtoul(argv[++a], NULL, 0);
		else if (!strcmp(argv[a], "-v"))
			verbose++;
		else
			usage();
	}
	if (!seed)
		seed = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32);
	rng_state = seed | 1;

	printf("TAP version 13\n1..1\n");
	printf("# fuzz_ioctl --seed %llu --ops %lu on %s\n",
	       (unsigned long long)seed, ops, mvx_device());
	fflush(stdout);

	fd = mvx_open();
	if (fd < 0) {
		printf("not ok 1 fuzz_ioctl # cannot open %s: %s\n",
		       mvx_device(), strerror(errno));
		return 1;
	}
	close(fd);
	sigaction(SIGALRM, &sa, NULL);	/* no SA_RESTART: RUN sees EINTR */
	sigaction(SIGSEGV, &fa, NULL);
	sigaction(SIGBUS, &fa, NULL);
	pool = mmap(NULL, POOL_SIZE, PROT_READ | PROT_WRITE,
		    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (pool == MAP_FAILED)
		return 1;
	dirty_buf = mmap(NULL, DIRTY_BUF_SIZE + PAGE_SIZE, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (dirty_buf == MAP_FAILED ||
	    mprotect(dirty_buf + DIRTY_BUF_SIZE, PAGE_SIZE, PROT_NONE))
		return 1;
	for (i = 0; i < 16; i++)
		fill_guest_memory();

	start = now_ns();
	pthread_create(&wd, NULL, watchdog, NULL);
	for (i = 0; i < ops; i++) {
		progress = i;
		one_op();
		if (verbose && i % 1000 == 0) {
			printf("# %lu ops, %.1f s\n", i, (now_ns() - start) / 1e9);
			fflush(stdout);
		}
	}
	for (i = 0; i < MAX_FDS; i++)
		if (objs[i].kind != FD_NONE)
			close(objs[i].fd);
	for (i = 0; i < MAX_MAPS; i++)
		if (maps[i].addr)
			munmap(maps[i].addr, maps[i].len);

	printf("# %lu ops in %.1f s: %lu ioctls succeeded, %lu failed, "
	       "%lu RUNs, %lu faults on mappings\n",
	       ops, (now_ns() - start) / 1e9, nr_ok, nr_err, nr_runs,
	       nr_faults);
	print_spent();
	printf("ok 1 fuzz_ioctl seed=%llu ops=%lu\n",
	       (unsigned long long)seed, ops);
	return 0;
}
