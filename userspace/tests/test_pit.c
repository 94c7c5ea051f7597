// SPDX-License-Identifier: GPL-2.0
/* The 8254 PIT through its ports, on a clock the tests move by hand. */
#include <time.h>

#include "devices.h"
#include "tests.h"

#define CH0	0x40
#define CH2	0x42
#define CTRL	0x43
#define PORT61	0x61
#define BASE_NS	1000000000000ULL	/* the fake clock's start */

static struct bus pio;
static struct pit pit;
static uint64_t fake_now;
static uint64_t epoch;		/* at_tick() counts from here */
static unsigned int edges;	/* rising edges of the IRQ 0 line */
static int line;
static unsigned int reprograms;

static uint64_t fake_clock(void *opaque)
{
	ck_assert_ptr_eq(opaque, &fake_now);
	return fake_now;
}

static void fake_irq0(void *opaque, int level)
{
	ck_assert_ptr_eq(opaque, &line);
	ck_assert_int_ne(level, line);	/* only changes are reported */
	if (level)
		edges++;
	line = level;
}

static void count_reprogram(void *opaque)
{
	ck_assert_ptr_eq(opaque, &reprograms);
	reprograms++;
}

/* The first time at which n input clocks have passed since the epoch. */
static uint64_t tick_time(uint64_t n)
{
	return epoch + (n * 1000000000ULL + PIT_HZ - 1) / PIT_HZ;
}

/*
 * Count from now: the PIT counts whole clocks from each load or gate
 * edge, so the tests measure from there too.
 */
static void new_epoch(void)
{
	epoch = fake_now;
}

static void at_tick(uint64_t n)
{
	fake_now = tick_time(n);
}

static void setup(void)
{
	fake_now = BASE_NS;
	epoch = BASE_NS;
	edges = 0;
	line = 0;
	reprograms = 0;
	bus_init(&pio, "pio");
	pit_init(&pit, fake_clock, &fake_now);
	ck_assert_int_eq(pit_attach(&pit, &pio), 0);
	pit_connect_irq0(&pit, fake_irq0, &line);
	pit_on_reprogram(&pit, count_reprogram, &reprograms);
}

static void outb(uint16_t port, uint8_t val)
{
	bus_write(&pio, port, 1, val);
}

static uint8_t inb(uint16_t port)
{
	return bus_read(&pio, port, 1);
}

/* Control word for LSB-then-MSB access, then the count. */
static void program(unsigned int ch, unsigned int mode, unsigned int count)
{
	outb(CTRL, ch << 6 | 0x30 | mode << 1);
	outb(CH0 + ch, count & 0xff);
	outb(CH0 + ch, count >> 8);
}

static unsigned int read_word(unsigned int ch)
{
	unsigned int lsb = inb(CH0 + ch);

	return lsb | inb(CH0 + ch) << 8;
}

/* Counter latch command, then the latched count. */
static unsigned int latched_count(unsigned int ch)
{
	outb(CTRL, ch << 6);
	return read_word(ch);
}

/* Read-back of one counter's status alone. */
static uint8_t status(unsigned int ch)
{
	outb(CTRL, 0xe0 | 2 << ch);
	return inb(CH0 + ch);
}

static int out(unsigned int ch)
{
	return !!(status(ch) & 0x80);
}

START_TEST(test_mode0_counts_down_out_rises_at_terminal_count)
{
	program(0, 0, 1000);
	ck_assert_uint_eq(latched_count(0), 1000);
	ck_assert_int_eq(out(0), 0);
	at_tick(300);
	ck_assert_uint_eq(latched_count(0), 700);
	at_tick(999);
	ck_assert_uint_eq(latched_count(0), 1);
	ck_assert_int_eq(out(0), 0);
	at_tick(1000);
	ck_assert_uint_eq(latched_count(0), 0);
	ck_assert_int_eq(out(0), 1);
	/* It wraps and goes on counting; OUT stays high. */
	at_tick(1002);
	ck_assert_uint_eq(latched_count(0), 0xfffe);
	ck_assert_int_eq(out(0), 1);
	/* A new control word sets OUT low again. */
	outb(CTRL, 0x30);
	ck_assert_int_eq(out(0), 0);
}
END_TEST

START_TEST(test_mode2_reloads_every_period)
{
	program(0, 2, 100);
	ck_assert_uint_eq(latched_count(0), 100);
	at_tick(98);
	ck_assert_uint_eq(latched_count(0), 2);
	ck_assert_int_eq(out(0), 1);
	at_tick(99);
	ck_assert_uint_eq(latched_count(0), 1);
	ck_assert_int_eq(out(0), 0);	/* low for the clock at count 1 */
	at_tick(100);
	ck_assert_uint_eq(latched_count(0), 100);
	ck_assert_int_eq(out(0), 1);
	at_tick(250);
	ck_assert_uint_eq(latched_count(0), 50);
	at_tick(100 * 1000 + 7);
	ck_assert_uint_eq(latched_count(0), 93);
}
END_TEST

START_TEST(test_mode3_square_wave_levels)
{
	unsigned int k, high = 0;

	program(0, 3, 10);
	for (k = 0; k < 5; k++) {
		at_tick(k);
		ck_assert_int_eq(out(0), 1);
		ck_assert_uint_eq(latched_count(0), 10 - 2 * k);
	}
	for (k = 5; k < 10; k++) {
		at_tick(k);
		ck_assert_int_eq(out(0), 0);
		ck_assert_uint_eq(latched_count(0), 10 - 2 * (k - 5));
	}
	at_tick(10);
	ck_assert_int_eq(out(0), 1);

	/* Odd count: high one clock longer than low. */
	new_epoch();
	program(0, 3, 11);
	for (k = 0; k < 11; k++) {
		at_tick(k);
		high += out(0);
	}
	ck_assert_uint_eq(high, 6);
	/* Control word 0x3e: mode bits 111 are mode 3 too. */
	outb(CTRL, 0x3e);
	ck_assert_uint_eq(status(0) & 0x0e, 3 << 1);
}
END_TEST

START_TEST(test_modes_4_and_5_strobe)
{
	/* Mode 4: OUT low for the one clock at count 0, from the write. */
	program(0, 4, 20);
	at_tick(19);
	ck_assert_int_eq(out(0), 1);
	at_tick(20);
	ck_assert_int_eq(out(0), 0);
	ck_assert_uint_eq(latched_count(0), 0);
	at_tick(21);
	ck_assert_int_eq(out(0), 1);

	/* Mode 5: the same, from a rising gate (counter 2, port 0x61). */
	program(2, 5, 20);
	at_tick(100);
	ck_assert_uint_eq(latched_count(2), 20);	/* not triggered */
	new_epoch();
	outb(PORT61, 0x01);
	at_tick(20);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0);
	at_tick(21);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0x20);
	ck_assert_uint_eq(status(2) & 0x0e, 5 << 1);
}
END_TEST

START_TEST(test_latch_freezes_value_while_counter_runs)
{
	program(0, 2, 1000);
	at_tick(100);
	outb(CTRL, 0x00);		/* latch counter 0 */
	at_tick(300);
	outb(CTRL, 0x00);		/* ignored: the first latch holds */
	ck_assert_uint_eq(inb(CH0), 900 & 0xff);
	at_tick(400);
	ck_assert_uint_eq(inb(CH0), 900 >> 8);
	/* Read out, the latch is gone: reads follow the counter again. */
	ck_assert_uint_eq(read_word(0), 600);
	at_tick(500);
	ck_assert_uint_eq(read_word(0), 500);
}
END_TEST

START_TEST(test_read_back_status_and_count)
{
	program(0, 2, 1000);
	program(2, 0, 500);
	outb(PORT61, 0x01);
	/* Right after the write the count is not in the counter yet. */
	ck_assert_uint_eq(status(0), 0x80 | 0x40 | 0x30 | 2 << 1);
	at_tick(10);
	ck_assert_uint_eq(status(0), 0x80 | 0x30 | 2 << 1);

	/* Count and status of counters 0 and 2: status first, then count. */
	at_tick(100);
	outb(CTRL, 0xc0 | 0x08 | 0x02);
	at_tick(200);
	ck_assert_uint_eq(inb(CH0), 0x80 | 0x30 | 2 << 1);
	ck_assert_uint_eq(read_word(0), 1000 - 100);
	ck_assert_uint_eq(inb(CH2), 0x30 | 0 << 1);	/* OUT low */
	ck_assert_uint_eq(read_word(2), 500 - 100);

	/* Count only (status bit set: not latched). */
	outb(CTRL, 0xd0 | 0x02);
	at_tick(300);
	ck_assert_uint_eq(read_word(0), 1000 - 200);
	ck_assert_uint_eq(read_word(0), 1000 - 300);

	/* The control register reads as nothing. */
	ck_assert_uint_eq(inb(CTRL), 0xff);
}
END_TEST

START_TEST(test_access_modes_lsb_msb_word)
{
	/* LSB only: the MSB is zero; every read is the LSB. */
	outb(CTRL, 0x10);		/* counter 0, LSB, mode 0 */
	outb(CH0, 0x34);
	ck_assert_uint_eq(inb(CH0), 0x34);
	ck_assert_uint_eq(inb(CH0), 0x34);
	ck_assert_uint_eq(status(0) & 0x30, 0x10);
	at_tick(0x34);
	ck_assert_int_eq(out(0), 1);

	/* MSB only: the LSB is zero. */
	new_epoch();
	outb(CTRL, 0x20);
	outb(CH0, 0x12);
	ck_assert_uint_eq(inb(CH0), 0x12);
	outb(CTRL, 0x00);
	ck_assert_uint_eq(inb(CH0), 0x12);
	at_tick(0x11ff);
	ck_assert_int_eq(out(0), 0);
	at_tick(0x1200);
	ck_assert_int_eq(out(0), 1);

	/* LSB then MSB, both for writes and for reads. */
	outb(CTRL, 0x30);
	outb(CH0, 0x78);
	ck_assert_int_eq(out(0), 0);	/* half a count: stopped */
	outb(CH0, 0x56);
	ck_assert_uint_eq(inb(CH0), 0x78);
	ck_assert_uint_eq(inb(CH0), 0x56);

	/* Count 0 means 65536. */
	new_epoch();
	program(0, 2, 0);
	ck_assert_uint_eq(latched_count(0), 0);
	at_tick(1);
	ck_assert_uint_eq(latched_count(0), 0xffff);
	ck_assert_uint_eq(pit_next_event_ns(&pit), tick_time(0x10000));
}
END_TEST

/* Linux's calibration: gate on, speaker off, mode 0, poll bit 5. */
START_TEST(test_port61_gate_and_out2)
{
	unsigned int polls = 0, latch = 11932;	/* 10 ms */
	uint8_t b;

	ck_assert_uint_eq(inb(PORT61) & 0x03, 0);	/* gate 2 off */
	outb(PORT61, (inb(PORT61) & ~0x02) | 0x01);
	outb(CTRL, 0xb0);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0);	/* mode 0: OUT low */
	outb(CH2, latch & 0xff);
	outb(CH2, latch >> 8);
	while (!(inb(PORT61) & 0x20)) {
		fake_now += 1000;	/* the guest's loop takes 1 us */
		ck_assert_uint_lt(++polls, 100000);
	}
	/* 10 ms of 1 us polls, give or take one. */
	ck_assert_uint_ge(polls, 9999);
	ck_assert_uint_le(polls, 10001);
	b = inb(PORT61);
	ck_assert_uint_eq(b & 0x0f, 0x01);
	ck_assert_uint_eq(b & 0xc0, 0);

	/* Gate low stops counter 2; gate high goes on where it stopped. */
	outb(PORT61, 0x00);
	program(2, 0, 1000);
	ck_assert_uint_eq(latched_count(2), 1000);
	fake_now += 300000;
	new_epoch();
	outb(PORT61, 0x03);		/* gate on, speaker data on */
	at_tick(200);
	ck_assert_uint_eq(latched_count(2), 800);
	outb(PORT61, 0x02);
	at_tick(5000);
	ck_assert_uint_eq(latched_count(2), 800);
	ck_assert_uint_eq(inb(PORT61) & 0x23, 0x02);
	new_epoch();
	outb(PORT61, 0x03);
	at_tick(799);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0);
	at_tick(800);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0x20);

	/* Mode 2 on counter 2 reloads when its gate rises. */
	new_epoch();
	program(2, 2, 100);
	at_tick(30);
	ck_assert_uint_eq(latched_count(2), 70);
	outb(PORT61, 0x00);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0x20);	/* forced high */
	at_tick(99);
	ck_assert_uint_eq(latched_count(2), 70);	/* stopped */
	outb(PORT61, 0x01);
	ck_assert_uint_eq(latched_count(2), 100);

	/* Mode 1 waits for a rising gate, then OUT is low for the count. */
	outb(PORT61, 0x00);
	program(2, 1, 50);
	fake_now += 1000000;
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0x20);
	new_epoch();
	outb(PORT61, 0x01);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0);
	at_tick(49);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0);
	at_tick(50);
	ck_assert_uint_eq(inb(PORT61) & 0x20, 0x20);
}
END_TEST

START_TEST(test_port61_refresh_toggles_with_time)
{
	uint8_t first = inb(PORT61) & 0x10;

	fake_now += 15085;
	ck_assert_uint_ne(inb(PORT61) & 0x10, first);
	fake_now += 15085;
	ck_assert_uint_eq(inb(PORT61) & 0x10, first);
}
END_TEST

START_TEST(test_irq0_periodic_one_edge_per_period)
{
	uint64_t next;

	ck_assert_uint_eq(pit_next_event_ns(&pit), UINT64_MAX);
	pit_update(&pit);		/* nothing programmed: no edge */
	outb(CTRL, 0x34);
	pit_update(&pit);		/* OUT high, but no count yet */
	ck_assert_uint_eq(edges, 0);
	ck_assert_int_eq(line, 0);
	ck_assert_uint_eq(reprograms, 1);
	program(0, 2, 1193);		/* about 1 ms */
	ck_assert_uint_eq(reprograms, 4);	/* control words and bytes */
	next = pit_next_event_ns(&pit);
	ck_assert_uint_eq(next, tick_time(1193));
	fake_now = next - 1;
	pit_update(&pit);
	ck_assert_uint_eq(edges, 0);
	fake_now = next;
	pit_update(&pit);
	ck_assert_uint_eq(edges, 1);
	pit_update(&pit);		/* early or repeated calls: nothing */
	ck_assert_uint_eq(edges, 1);
	ck_assert_uint_eq(pit_next_event_ns(&pit), tick_time(2 * 1193));
	at_tick(2 * 1193);
	pit_update(&pit);
	ck_assert_uint_eq(edges, 2);
	ck_assert_int_eq(line, 1);

	/* Ten periods late: one edge, and the next event is in the future. */
	at_tick(12 * 1193 + 5);
	pit_update(&pit);
	ck_assert_uint_eq(edges, 3);
	ck_assert_uint_eq(pit_next_event_ns(&pit), tick_time(13 * 1193));

	/* Counter 2 and latches do not concern the timer thread. */
	program(2, 3, 100);
	outb(CTRL, 0x00);
	ck_assert_uint_eq(reprograms, 4);
}
END_TEST

START_TEST(test_irq0_square_wave_follows_out)
{
	unsigned int i;

	program(0, 3, 1000);
	for (i = 1; i <= 5; i++) {
		at_tick(i * 1000 - 250);	/* in the low half */
		pit_update(&pit);
		ck_assert_int_eq(line, 0);
		fake_now = pit_next_event_ns(&pit);
		ck_assert_uint_eq(fake_now, tick_time(i * 1000));
		pit_update(&pit);
		ck_assert_int_eq(line, 1);
		ck_assert_uint_eq(edges, i);
	}
}
END_TEST

START_TEST(test_irq0_oneshot_fires_once)
{
	program(0, 0, 500);
	ck_assert_uint_eq(pit_next_event_ns(&pit), tick_time(500));
	at_tick(100000);
	pit_update(&pit);
	ck_assert_uint_eq(edges, 1);
	ck_assert_uint_eq(pit_next_event_ns(&pit), UINT64_MAX);
	pit_update(&pit);
	ck_assert_uint_eq(edges, 1);

	/* Reprogrammed: a second edge, although OUT never went low between. */
	new_epoch();
	program(0, 0, 500);
	ck_assert_uint_eq(pit_next_event_ns(&pit), tick_time(500));
	at_tick(500);
	pit_update(&pit);
	ck_assert_uint_eq(edges, 2);
	ck_assert_int_eq(line, 1);
}
END_TEST

/* Without a clock of its own, the PIT counts CLOCK_MONOTONIC time. */
START_TEST(test_default_clock_is_host_time)
{
	static struct pit host;
	struct timespec t0, t1;
	uint64_t ns;
	int out2;

	bus_init(&pio, "pio");
	pit_init(&host, NULL, NULL);
	ck_assert_int_eq(pit_attach(&host, &pio), 0);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	outb(PORT61, 0x01);
	program(2, 0, 1193);		/* 1 ms */
	do {
		out2 = inb(PORT61) & 0x20;
		clock_gettime(CLOCK_MONOTONIC, &t1);
		ns = (t1.tv_sec - t0.tv_sec) * 1000000000ULL +
		     t1.tv_nsec - t0.tv_nsec;
		ck_assert_uint_lt(ns, 10000000000ULL);
	} while (!out2);
	ck_assert_uint_ge(ns, 999000);
}
END_TEST

static unsigned int host_edges;
static int timer_done;

static void count_host_edges(void *opaque, int level)
{
	(void)opaque;
	if (level)
		__atomic_add_fetch(&host_edges, 1, __ATOMIC_RELAXED);
}

/* A runner's timer thread: sleep until the next event, update, again. */
static void *timer_thread(void *arg)
{
	struct pit *p = arg;
	uint64_t t = pit_next_event_ns(p), end = t + 20000000;
	struct timespec ts;

	while (t <= end) {
		ts.tv_sec = t / 1000000000ULL;
		ts.tv_nsec = t % 1000000000ULL;
		clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL);
		pit_update(p);
		t = pit_next_event_ns(p);
	}
	__atomic_store_n(&timer_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

START_TEST(test_timer_thread_on_host_clock)
{
	static struct pit host;
	pthread_t thread;
	unsigned int n;

	bus_init(&pio, "pio");
	pit_init(&host, NULL, NULL);
	ck_assert_int_eq(pit_attach(&host, &pio), 0);
	pit_connect_irq0(&host, count_host_edges, NULL);
	host_edges = 0;
	timer_done = 0;
	program(0, 2, 1193);		/* 1 ms: about 20 edges in 20 ms */
	ck_assert_int_eq(pthread_create(&thread, NULL, timer_thread, &host), 0);
	while (!__atomic_load_n(&timer_done, __ATOMIC_ACQUIRE))
		ck_assert_uint_le(latched_count(0), 1193);	/* guest reads */
	pthread_join(thread, NULL);
	/* At most one per period, and some even on a busy host. */
	n = __atomic_load_n(&host_edges, __ATOMIC_RELAXED);
	ck_assert_uint_ge(n, 1);
	ck_assert_uint_le(n, 21);
}
END_TEST

START_TEST(test_shares_ports_with_i8042)
{
	struct i8042 k;

	i8042_init(&k);
	ck_assert_int_eq(i8042_attach(&k, &pio), 0);
	ck_assert_uint_eq(inb(I8042_COMMAND_PORT) & 0x03, 0);
	outb(I8042_COMMAND_PORT, 0xaa);
	ck_assert_uint_eq(inb(I8042_DATA_PORT), 0x55);
	outb(PORT61, 0x01);
	ck_assert_uint_eq(inb(PORT61) & 0x0f, 0x01);
}
END_TEST

Suite *pit_suite(void)
{
	Suite *s = suite_create("pit");
	TCase *tc = tcase_create("ports");

	tcase_add_checked_fixture(tc, setup, NULL);
	tcase_add_test(tc, test_mode0_counts_down_out_rises_at_terminal_count);
	tcase_add_test(tc, test_mode2_reloads_every_period);
	tcase_add_test(tc, test_mode3_square_wave_levels);
	tcase_add_test(tc, test_modes_4_and_5_strobe);
	tcase_add_test(tc, test_latch_freezes_value_while_counter_runs);
	tcase_add_test(tc, test_read_back_status_and_count);
	tcase_add_test(tc, test_access_modes_lsb_msb_word);
	tcase_add_test(tc, test_port61_gate_and_out2);
	tcase_add_test(tc, test_port61_refresh_toggles_with_time);
	tcase_add_test(tc, test_irq0_periodic_one_edge_per_period);
	tcase_add_test(tc, test_irq0_square_wave_follows_out);
	tcase_add_test(tc, test_irq0_oneshot_fires_once);
	tcase_add_test(tc, test_default_clock_is_host_time);
	tcase_add_test(tc, test_timer_thread_on_host_clock);
	tcase_add_test(tc, test_shares_ports_with_i8042);
	suite_add_tcase(s, tc);
	return s;
}
