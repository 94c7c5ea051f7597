// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt delivery glue: the injection decision, the PIC waking a vCPU
 * halted with IF=1, and the PIT's timer thread driving IRQ 0 on the host
 * clock through a real PIC, as minivmx-run wires them.
 */
#include <pthread.h>
#include <time.h>

#include "irq.h"
#include "tests.h"

#define M_CMD	0x20
#define M_DATA	0x21
#define PIT_CH0	0x40
#define PIT_CW	0x43

static struct bus pio;
static struct pic pic;
static struct pit pit;
static struct irq_glue glue;
static struct pit_timer timer;
static unsigned int kicks;

static void count_kick(void *opaque)
{
	unsigned int *n = opaque;

	__atomic_add_fetch(n, 1, __ATOMIC_RELAXED);
}

static void pit_line0(void *opaque, int level)
{
	pic_set_irq(opaque, 0, level);
}

static void out(uint16_t port, uint8_t val)
{
	bus_write(&pio, port, 1, val);
}

static void sleep_ms(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

/* Master at vector 0x20, slave on IR2, only IRQ 0 and 4 open. */
static void program_pic(void)
{
	out(M_CMD, 0x11);
	out(M_DATA, 0x20);
	out(M_DATA, 0x04);
	out(M_DATA, 0x01);
	out(M_DATA, 0xee);
}

static void setup(void)
{
	bus_init(&pio, "pio");
	pic_init(&pic);
	pit_init(&pit, NULL, NULL);
	ck_assert_int_eq(pic_attach(&pic, &pio), 0);
	ck_assert_int_eq(pit_attach(&pit, &pio), 0);
	pit_connect_irq0(&pit, pit_line0, &pic);
	kicks = 0;
	irq_glue_init(&glue, &pic, count_kick, &kicks);
	pit_timer_init(&timer, &pit);
	program_pic();
}

static void teardown(void)
{
	pit_timer_stop(&timer);
	irq_glue_stop(&glue);
}

START_TEST(test_decide_injects_only_when_ready)
{
	ck_assert_int_eq(irq_decide(0, 0), IRQ_NOTHING);
	ck_assert_int_eq(irq_decide(0, 1), IRQ_NOTHING);
	ck_assert_int_eq(irq_decide(1, 0), IRQ_WANT_WINDOW);
	ck_assert_int_eq(irq_decide(1, 1), IRQ_INJECT);
}
END_TEST

START_TEST(test_rising_intr_kicks_once)
{
	pic_set_irq(&pic, 4, 1);
	ck_assert_uint_eq(kicks, 1);
	ck_assert_uint_eq(glue.raised, 1);
	/* INTR already high: a second line is no new edge of INTR. */
	pic_set_irq(&pic, 0, 1);
	ck_assert_uint_eq(kicks, 1);
	/* A masked line raises nothing. */
	pic_set_irq(&pic, 4, 0);
	pic_set_irq(&pic, 0, 0);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x20);
	out(M_CMD, 0x20);
	ck_assert_uint_eq(pic_acknowledge(&pic), 0x24);
	out(M_CMD, 0x20);
	kicks = 0;
	pic_set_irq(&pic, 5, 1);
	ck_assert_uint_eq(kicks, 0);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
}
END_TEST

static int wait_result;
static int waiter_done;

static void *halted_vcpu(void *arg)
{
	(void)arg;
	wait_result = irq_wait_for_interrupt(&glue);
	__atomic_store_n(&waiter_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static pthread_t start_waiter(void)
{
	pthread_t t;

	waiter_done = 0;
	wait_result = -1;
	ck_assert_int_eq(pthread_create(&t, NULL, halted_vcpu, NULL), 0);
	return t;
}

START_TEST(test_hlt_waits_until_an_interrupt)
{
	pthread_t t = start_waiter();

	sleep_ms(20);
	ck_assert_int_eq(__atomic_load_n(&waiter_done, __ATOMIC_ACQUIRE), 0);
	pic_set_irq(&pic, 4, 1);
	pthread_join(t, NULL);
	ck_assert_int_eq(wait_result, 1);
	/* Woken, not kicked: it was out of the guest. */
	ck_assert_uint_eq(kicks, 0);
	ck_assert_uint_eq(glue.raised, 1);
	/* Pending already: no wait at all. */
	ck_assert_int_eq(irq_wait_for_interrupt(&glue), 1);
}
END_TEST

START_TEST(test_hlt_wait_ends_with_the_run)
{
	pthread_t t = start_waiter();

	sleep_ms(10);
	ck_assert_int_eq(__atomic_load_n(&waiter_done, __ATOMIC_ACQUIRE), 0);
	irq_glue_stop(&glue);
	pthread_join(t, NULL);
	ck_assert_int_eq(wait_result, 0);
	/* The vCPUs may be gone: a late device interrupt kicks nobody. */
	pic_set_irq(&pic, 4, 1);
	ck_assert_int_eq(pic_has_interrupt(&pic), 1);
	ck_assert_uint_eq(kicks, 0);
}
END_TEST

static uint64_t raised_count(void)
{
	uint64_t n;

	pthread_mutex_lock(&glue.lock);
	n = glue.raised;
	pthread_mutex_unlock(&glue.lock);
	return n;
}

static void program_pit_mode2(uint16_t count)
{
	out(PIT_CW, 0x34);
	out(PIT_CH0, count & 0xff);
	out(PIT_CH0, count >> 8);
}

/*
 * What vCPU 0 does with a 1 kHz timer: halt, take the vector, EOI.  The
 * timer thread starts before the PIT is programmed, so the reprogram hook
 * must wake it.
 */
START_TEST(test_timer_thread_drives_irq0_through_the_pic)
{
	unsigned int n;

	ck_assert_int_eq(pit_timer_start(&timer), 0);
	sleep_ms(5);
	ck_assert_int_eq(pic_has_interrupt(&pic), 0);
	program_pit_mode2(1193);
	for (n = 0; n < 10; n++) {
		ck_assert_int_eq(irq_wait_for_interrupt(&glue), 1);
		ck_assert_uint_eq(pic_acknowledge(&pic), 0x20);
		out(M_CMD, 0x20);
	}
	/* Each woke the halted thread; none needed a kick. */
	ck_assert_uint_ge(raised_count(), 10);
	ck_assert_uint_eq(kicks, 0);
	/* Counter 0 stopped (mode 0, never loaded): no more edges. */
	out(PIT_CW, 0x30);
	sleep_ms(5);
	pic_acknowledge(&pic);
	out(M_CMD, 0x20);
	n = raised_count();
	sleep_ms(10);
	ck_assert_uint_eq(raised_count(), n);
	pit_timer_stop(&timer);
	ck_assert_int_eq(timer.started, 0);
}
END_TEST

Suite *irq_suite(void)
{
	Suite *s = suite_create("irq");
	TCase *tc = tcase_create("delivery");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_decide_injects_only_when_ready);
	tcase_add_test(tc, test_rising_intr_kicks_once);
	tcase_add_test(tc, test_hlt_waits_until_an_interrupt);
	tcase_add_test(tc, test_hlt_wait_ends_with_the_run);
	tcase_add_test(tc, test_timer_thread_drives_irq0_through_the_pic);
	suite_add_tcase(s, tc);
	return s;
}
