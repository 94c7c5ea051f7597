// SPDX-License-Identifier: GPL-2.0
/*
 * The minivmx tracepoints (issue 7): a guest doing 100 OUTs and one HLT
 * leaves exactly those exits in the trace, with the right port, size and
 * exit-reason names; with the events off, nothing is recorded.
 *
 * Each test uses its own tracefs instance, so the global trace buffer and
 * whatever else traces on this machine are left alone.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "mvx_test.h"

#define NR_OUTS		100
#define OUT_PORT	0xe9
#define OUT_VALUE	0x5a
#define INSTANCE	"/sys/kernel/tracing/instances/mvx_trace_test"

GUEST_CODE(outs_then_hlt,
	".code16\n"
	"	mov $100, %cx\n"
	"	mov $0x5a, %al\n"
	"1:	out %al, $0xe9\n"
	"	loop 1b\n"
	"	hlt\n");

static int write_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_TRUNC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = write(fd, text, strlen(text));
	close(fd);
	return n == (ssize_t)strlen(text) ? 0 : -1;
}

static int set_event(const char *event, int on)
{
	char path[256];

	snprintf(path, sizeof(path), INSTANCE "/events/minivmx/%s/enable",
		 event);
	return write_file(path, on ? "1" : "0");
}

/* What one guest run left in the instance's trace. */
struct trace_counts {
	int io_exits, hlt_exits, other_exits, unexpected_exits;
	int pio_ok, pio_bad;
	int user_io, user_hlt, user_other;
	int minivmx_lines;
	char unexpected[128];
};

/* Exits the host causes (interrupts, the watchdog, first touches). */
static int exit_is_incidental(const char *name)
{
	static const char * const ok[] = {
		"EXTERNAL_INTERRUPT", "PREEMPTION_TIMER", "EPT_VIOLATION",
		"EXCEPTION_NMI", "INTR", "NMI", "NPF", NULL
	};
	int i;

	for (i = 0; ok[i]; i++)
		if (!strcmp(name, ok[i]))
			return 1;
	return 0;
}

static void count_exit(struct trace_counts *c, const char *line)
{
	char isa[8], name[32];
	const char *p = strstr(line, " isa ");

	if (!p || sscanf(p, " isa %7s reason %31s", isa, name) != 2) {
		c->unexpected_exits++;
		return;
	}
	if (!strcmp(name, "IO_INSTRUCTION") || !strcmp(name, "IOIO"))
		c->io_exits++;
	else if (!strcmp(name, "HLT"))
		c->hlt_exits++;
	else if (exit_is_incidental(name))
		c->other_exits++;
	else {
		c->unexpected_exits++;
		snprintf(c->unexpected, sizeof(c->unexpected), "%s", name);
	}
}

static void count_pio(struct trace_counts *c, const char *line)
{
	unsigned int port, size, count;
	unsigned long long val;
	const char *p = strstr(line, "pio_write at ");

	if (p && sscanf(p, "pio_write at %x size %u count %u val %llx",
			&port, &size, &count, &val) == 4 &&
	    port == OUT_PORT && size == 1 && count == 1 && val == OUT_VALUE)
		c->pio_ok++;
	else
		c->pio_bad++;
}

static void count_userspace_exit(struct trace_counts *c, const char *line)
{
	if (strstr(line, "reason IO (2) errno 0"))
		c->user_io++;
	else if (strstr(line, "reason HLT (5) errno 0"))
		c->user_hlt++;
	else
		c->user_other++;
}

static int read_trace(struct trace_counts *c)
{
	char line[512];
	FILE *f = fopen(INSTANCE "/trace", "r");

	if (!f)
		return -1;
	memset(c, 0, sizeof(*c));
	while (fgets(line, sizeof(line), f)) {
		if (line[0] == '#' || !strstr(line, "minivmx_"))
			continue;
		c->minivmx_lines++;
		if (strstr(line, " minivmx_exit: "))
			count_exit(c, line);
		else if (strstr(line, " minivmx_pio: "))
			count_pio(c, line);
		else if (strstr(line, " minivmx_userspace_exit: "))
			count_userspace_exit(c, line);
	}
	fclose(f);
	return 0;
}

FIXTURE(trace) {
	struct tvm vm;
	struct tvcpu vcpu;
};

FIXTURE_SETUP(trace)
{
	if (mvx_is_kvm())
		SKIP(return, "the minivmx:* events belong to minivmx, not KVM");
	ASSERT_EQ(0, access("/sys/kernel/tracing/events/minivmx", F_OK))
		TH_LOG("no minivmx events in tracefs");
	rmdir(INSTANCE);
	ASSERT_EQ(0, mkdir(INSTANCE, 0755))
		TH_LOG("tracefs instance: %s", strerror(errno));
	ASSERT_SETUP(&self->vm, &self->vcpu);
	guest_load(&self->vm, CODE_GPA, outs_then_hlt_start, outs_then_hlt_end);
	ASSERT_EQ(0, vcpu_set_mode(&self->vcpu, MODE_REAL, CODE_GPA));
}

FIXTURE_TEARDOWN(trace)
{
	if (mvx_is_kvm())
		return;
	vcpu_close(&self->vcpu);
	vm_destroy(&self->vm);
	rmdir(INSTANCE);
}

/* Runs the guest to its HLT, answering the OUT exits. */
static int run_guest(struct __test_metadata *_metadata, struct tvcpu *vcpu)
{
	int outs = 0;

	for (;;) {
		ASSERT_EQ(0, vcpu_run(vcpu))
			TH_LOG("RUN: %s (%s)", strerror(errno),
			       describe_exit(vcpu));
		if (vcpu->run->exit_reason == MVX_EXIT_HLT)
			return outs;
		ASSERT_EQ(MVX_EXIT_IO, vcpu->run->exit_reason)
			TH_LOG("%s", describe_exit(vcpu));
		outs++;
	}
}

TEST_F(trace, outs_and_hlt_are_traced)
{
	struct trace_counts c;

	ASSERT_EQ(0, set_event("minivmx_exit", 1));
	ASSERT_EQ(0, set_event("minivmx_pio", 1));
	ASSERT_EQ(0, set_event("minivmx_userspace_exit", 1));
	ASSERT_EQ(NR_OUTS, run_guest(_metadata, &self->vcpu));
	ASSERT_EQ(0, write_file(INSTANCE "/tracing_on", "0"));
	ASSERT_EQ(0, read_trace(&c));

	EXPECT_EQ(NR_OUTS, c.io_exits);
	EXPECT_EQ(1, c.hlt_exits);
	EXPECT_EQ(0, c.unexpected_exits)
		TH_LOG("unexpected exit reason %s", c.unexpected);
	EXPECT_EQ(NR_OUTS, c.pio_ok);
	EXPECT_EQ(0, c.pio_bad);
	EXPECT_EQ(NR_OUTS, c.user_io);
	EXPECT_EQ(1, c.user_hlt);
	EXPECT_EQ(0, c.user_other);
}

TEST_F(trace, nothing_recorded_when_disabled)
{
	struct trace_counts c;

	ASSERT_EQ(NR_OUTS, run_guest(_metadata, &self->vcpu));
	ASSERT_EQ(0, read_trace(&c));
	EXPECT_EQ(0, c.minivmx_lines);
}

TEST_HARNESS_MAIN
