// SPDX-License-Identifier: GPL-2.0
/* vCPU threads: MVX_RUN, exit dispatch, and ending the run. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/ioctl.h>

#include "machine.h"
#include "runctl.h"

#define STOP_GRACE_MS	2000

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Runs only to make MVX_RUN return EINTR. */
static void kick_handler(int sig)
{
	(void)sig;
}

static void report_guest_failure(struct vcpu_ctx *c, const char *what)
{
	struct mvx_regs regs;
	struct mvx_sregs sregs;

	if (mvx_get_regs(&c->vcpu, &regs) || mvx_get_sregs(&c->vcpu, &sregs)) {
		fprintf(stderr, "minivmx-run: vCPU %u: %s (registers unavailable)\n",
			c->vcpu.id, what);
	} else {
		fprintf(stderr,
			"minivmx-run: vCPU %u: %s at RIP 0x%llx (CS 0x%x base 0x%llx, CR0 0x%llx)\n",
			c->vcpu.id, what, (unsigned long long)regs.rip,
			sregs.cs.selector, (unsigned long long)sregs.cs.base,
			(unsigned long long)sregs.cr0);
	}
	runctl_request_stop(RUN_EXIT_GUEST_FAILED, "vCPU %u: %s", c->vcpu.id,
			    what);
}

static void describe_exit(const struct mvx_run *run, char *buf, size_t len)
{
	switch (run->exit_reason) {
	case MVX_EXIT_SHUTDOWN:
		snprintf(buf, len, "exit SHUTDOWN (triple fault)");
		break;
	case MVX_EXIT_FAIL_ENTRY:
		snprintf(buf, len, "exit FAIL_ENTRY, hardware entry failure reason 0x%llx on CPU %u",
			 (unsigned long long)run->fail_entry.hardware_entry_failure_reason,
			 run->fail_entry.cpu);
		break;
	case MVX_EXIT_INTERNAL_ERROR:
		snprintf(buf, len, "exit INTERNAL_ERROR, suberror %u, %u data words, data[0] 0x%llx",
			 run->internal.suberror, run->internal.ndata,
			 (unsigned long long)(run->internal.ndata ?
					      run->internal.data[0] : 0));
		break;
	case MVX_EXIT_UNKNOWN:
		snprintf(buf, len, "exit UNKNOWN, hardware exit reason 0x%llx",
			 (unsigned long long)run->hw.hardware_exit_reason);
		break;
	case MVX_EXIT_EXCEPTION:
		snprintf(buf, len, "exit EXCEPTION, vector %u, error code 0x%x",
			 run->ex.exception, run->ex.error_code);
		break;
	default:
		snprintf(buf, len, "unexpected exit %u (%s)", run->exit_reason,
			 mvx_exit_name(run->exit_reason));
		break;
	}
}

static int handle_io(struct vcpu_ctx *c)
{
	struct mvx_run *run = c->vcpu.run;
	unsigned int size = run->io.size, i;
	uint64_t bytes = (uint64_t)size * run->io.count;
	uint8_t *data;
	uint64_t val;

	if ((size != 1 && size != 2 && size != 4) ||
	    run->io.data_offset > (uint64_t)c->m->vm.run_size ||
	    bytes > c->m->vm.run_size - run->io.data_offset)
		return -1;
	stats_count_port(&c->stats, run->io.port,
			 run->io.direction == MVX_EXIT_IO_OUT);
	data = mvx_pio_data(&c->vcpu);
	for (i = 0; i < run->io.count; i++, data += size) {
		if (run->io.direction == MVX_EXIT_IO_OUT) {
			val = 0;
			memcpy(&val, data, size);
			bus_write(&c->m->pio, run->io.port, size, val);
		} else {
			val = bus_read(&c->m->pio, run->io.port, size);
			memcpy(data, &val, size);
		}
	}
	return 0;
}

static int handle_mmio(struct vcpu_ctx *c)
{
	struct mvx_run *run = c->vcpu.run;
	unsigned int len = run->mmio.len;
	uint64_t val = 0;

	if (!len || len > 8)
		return -1;
	if (run->mmio.is_write) {
		memcpy(&val, run->mmio.data, len);
		bus_write(&c->m->mmio, run->mmio.phys_addr, len, val);
	} else {
		val = bus_read(&c->m->mmio, run->mmio.phys_addr, len);
		memcpy(run->mmio.data, &val, len);
	}
	return 0;
}

/*
 * HLT.  vCPU 0 with IF=1 sleeps until the PIC has an interrupt for it (the
 * injection then resumes the guest after its HLT) or the run ends.  A vCPU
 * that nothing can wake (IF=0, or not wired to the PIC) stays halted: the
 * last one ends the run.  Returns 1 to keep running.
 */
static int handle_hlt(struct vcpu_ctx *c)
{
	struct machine *m = c->m;

	if (c->vcpu.run->if_flag && c->vcpu.id == IRQ_VCPU) {
		irq_wait_for_interrupt(&m->irq);
		return 1;
	}
	if (__atomic_add_fetch(&m->halted, 1, __ATOMIC_ACQ_REL) == m->nr_vcpus)
		runctl_request_stop(RUN_EXIT_OK, "all vCPUs halted");
	return 0;
}

/* Returns 1 to keep running, 0 to leave the loop. */
static int handle_exit(struct vcpu_ctx *c)
{
	struct mvx_run *run = c->vcpu.run;
	char what[192];

	switch (run->exit_reason) {
	case MVX_EXIT_IO:
		if (!handle_io(c))
			return 1;
		snprintf(what, sizeof(what), "malformed IO exit (port 0x%x size %u count %u)",
			 run->io.port, run->io.size, run->io.count);
		break;
	case MVX_EXIT_MMIO:
		if (!handle_mmio(c))
			return 1;
		snprintf(what, sizeof(what), "malformed MMIO exit (len %u)",
			 run->mmio.len);
		break;
	case MVX_EXIT_HLT:
		return handle_hlt(c);
	case MVX_EXIT_INTR:
	case MVX_EXIT_IRQ_WINDOW_OPEN:
		return 1;
	case MVX_EXIT_SHUTDOWN:
		/*
		 * On a PC a triple fault resets the machine, and Linux uses
		 * one to reboot (reboot=t): for a bzImage it is the end of
		 * the run like any other reset.  For the other images it
		 * says the guest crashed.
		 */
		if (c->m->linux_boot) {
			runctl_request_stop(RUN_EXIT_OK,
					    "guest reset by a triple fault");
			return 0;
		}
		describe_exit(run, what, sizeof(what));
		break;
	default:
		describe_exit(run, what, sizeof(what));
		break;
	}
	report_guest_failure(c, what);
	return 0;
}

/* MVX_RUN, timed when --stats asked for it (two clock reads per exit). */
static int run_once(struct vcpu_ctx *c, int timed, uint64_t *t_out)
{
	struct vcpu_stats *st = &c->stats;
	uint64_t t_in;
	int ret;

	if (!timed)
		return mvx_vcpu_run(&c->vcpu);
	t_in = now_ns();
	st->ns_outside += t_in - *t_out;
	ret = mvx_vcpu_run(&c->vcpu);
	*t_out = now_ns();
	st->ns_in_guest += *t_out - t_in;
	return ret;
}

static int inject_interrupt(struct vcpu_ctx *c, uint8_t vector)
{
	struct mvx_interrupt irq = { .irq = vector };

	if (ioctl(c->vcpu.fd, MVX_INTERRUPT, &irq) < 0) {
		fprintf(stderr, "minivmx-run: vCPU %u: MVX_INTERRUPT vector 0x%x: %s\n",
			c->vcpu.id, vector, strerror(errno));
		runctl_request_stop(RUN_EXIT_GUEST_FAILED,
				    "vCPU %u: MVX_INTERRUPT failed", c->vcpu.id);
		return -1;
	}
	c->stats.injected++;
	return 0;
}

/*
 * Before each MVX_RUN of the vCPU wired to the PIC: inject what it has
 * if the guest can take it now, else ask for the interrupt window (the
 * IRQ_WINDOW_OPEN exit brings us back here).  Returns -1 on failure.
 */
static int deliver_interrupts(struct vcpu_ctx *c)
{
	struct mvx_run *run = c->vcpu.run;
	struct pic *pic = &c->m->pic;

	switch (irq_decide(pic_has_interrupt(pic),
			   run->ready_for_interrupt_injection)) {
	case IRQ_INJECT:
		if (inject_interrupt(c, pic_acknowledge(pic)))
			return -1;
		/* INTR may stay high (a second request): window for it. */
		run->request_interrupt_window = pic_has_interrupt(pic);
		break;
	case IRQ_WANT_WINDOW:
		run->request_interrupt_window = 1;
		break;
	default:
		run->request_interrupt_window = 0;
		break;
	}
	return 0;
}

/* The PIC's INTR rose: get vCPU 0 out of the guest to inject. */
void machine_kick_irq_vcpu(void *opaque)
{
	struct machine *m = opaque;
	struct vcpu_ctx *c;

	if (!m->cpus)
		return;
	c = &m->cpus[IRQ_VCPU];
	/* Covers a thread about to enter; the signal one already inside. */
	__atomic_store_n(&c->vcpu.run->immediate_exit, 1, __ATOMIC_RELEASE);
	if (__atomic_load_n(&c->kickable, __ATOMIC_ACQUIRE))
		pthread_kill(c->self, MACHINE_KICK_SIGNAL);
}

static void *vcpu_thread(void *arg)
{
	struct vcpu_ctx *c = arg;
	struct vcpu_stats *st = &c->stats;
	int timed = c->m->opt->stats;
	uint64_t t_out = now_ns();
	int wired = c->vcpu.id == IRQ_VCPU;
	int ret;

	c->self = pthread_self();
	__atomic_store_n(&c->kickable, 1, __ATOMIC_RELEASE);
	while (!runctl_stopping()) {
		if (wired && deliver_interrupts(c))
			break;
		ret = run_once(c, timed, &t_out);
		if (ret == -EINTR) {
			/* Kicked: look at the PIC (or the stop) again. */
			__atomic_store_n(&c->vcpu.run->immediate_exit, 0,
					 __ATOMIC_RELEASE);
			st->interrupted++;
			continue;
		}
		if (ret) {
			fprintf(stderr, "minivmx-run: %s\n", mvx_last_error());
			runctl_request_stop(RUN_EXIT_GUEST_FAILED, "%s",
					    mvx_last_error());
			break;
		}
		stats_count_exit(st, c->vcpu.run->exit_reason);
		if (!handle_exit(c))
			break;
	}
	__atomic_store_n(&c->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

int machine_install_kick_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = kick_handler;
	/*
	 * MVX_RUN returns EINTR all the same (it is never restarted), but a
	 * kick that lands in a device's write to the terminal must not fail
	 * it: n_tty_write gives up at once when a signal is pending, and the
	 * guest's output or our own exit message would be lost.
	 */
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	return sigaction(MACHINE_KICK_SIGNAL, &sa, NULL);
}

/*
 * Get every vCPU out of the guest: immediate_exit covers a thread about to
 * enter, the signal one already inside.  A vCPU that stays inside anyway
 * (a device ignoring both) is left behind after STOP_GRACE_MS.
 */
static void stop_vcpus(struct machine *m)
{
	struct timespec pause = { 0, 10 * 1000 * 1000 };
	unsigned int i, waited, running;

	for (waited = 0; waited < STOP_GRACE_MS; waited += 10) {
		running = 0;
		for (i = 0; i < m->nr_vcpus; i++) {
			struct vcpu_ctx *c = &m->cpus[i];

			if (!c->started || __atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
				continue;
			running++;
			c->vcpu.run->immediate_exit = 1;
			pthread_kill(c->thread, MACHINE_KICK_SIGNAL);
		}
		if (!running)
			break;
		nanosleep(&pause, NULL);
	}
	for (i = 0; i < m->nr_vcpus; i++) {
		struct vcpu_ctx *c = &m->cpus[i];

		if (c->started && __atomic_load_n(&c->done, __ATOMIC_ACQUIRE))
			pthread_join(c->thread, NULL);
		else if (c->started)
			fprintf(stderr, "minivmx-run: vCPU %u did not leave the guest\n", i);
	}
}

/* Ctrl-C or kill: end the run like the guest would, with 128 + signal. */
static void *signal_thread(void *arg)
{
	sigset_t *set = arg;
	int sig;

	if (sigwait(set, &sig) == 0)
		runctl_request_stop(128 + sig, "interrupted by signal %d", sig);
	return NULL;
}

static int catch_termination(void)
{
	static sigset_t set;
	pthread_t t;

	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	/* Threads created from now on inherit the mask. */
	if (pthread_sigmask(SIG_BLOCK, &set, NULL) ||
	    pthread_create(&t, NULL, signal_thread, &set))
		return -1;
	pthread_detach(t);
	return 0;
}

int machine_run(struct machine *m)
{
	unsigned int i;
	int status;

	/*
	 * No runctl_reset() here: a stop asked for before the run (Ctrl-A x
	 * as soon as the console is up) must stand.
	 */
	if (machine_install_kick_handler() || catch_termination()) {
		fprintf(stderr, "minivmx-run: cannot set up signal handling\n");
		return RUN_EXIT_USAGE;
	}
	for (i = 0; i < m->nr_vcpus; i++) {
		struct vcpu_ctx *c = &m->cpus[i];

		if (pthread_create(&c->thread, NULL, vcpu_thread, c)) {
			fprintf(stderr, "minivmx-run: cannot start vCPU %u thread\n", i);
			runctl_request_stop(RUN_EXIT_USAGE, "thread creation failed");
			break;
		}
		c->started = 1;
	}
	if (pit_timer_start(&m->timer)) {
		fprintf(stderr, "minivmx-run: cannot start the timer thread\n");
		runctl_request_stop(RUN_EXIT_USAGE, "thread creation failed");
	}
	status = runctl_wait();
	irq_glue_stop(&m->irq);
	stop_vcpus(m);
	pit_timer_stop(&m->timer);
	uart_flush(&m->uart);
	fflush(stdout);
	return status;
}

void machine_print_stats(struct machine *m, FILE *f)
{
	struct vcpu_stats *s = calloc(m->nr_vcpus, sizeof(*s));
	unsigned int i;

	if (!s)
		return;
	for (i = 0; i < m->nr_vcpus; i++)
		s[i] = m->cpus[i].stats;
	stats_print(f, s, m->nr_vcpus, &m->pio, &m->mmio);
	fprintf(f, "run ended: %s (status %d)\n", runctl_reason(),
		runctl_status());
	free(s);
}
