// SPDX-License-Identifier: GPL-2.0
/* The 16550 UART, driven through the port bus like a guest would. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "devices.h"
#include "tests.h"

#define COM1	UART_COM1_BASE
#define THR	(COM1 + 0)
#define IER	(COM1 + 1)
#define IIR	(COM1 + 2)
#define LCR	(COM1 + 3)
#define MCR	(COM1 + 4)
#define LSR	(COM1 + 5)
#define MSR	(COM1 + 6)
#define SCR	(COM1 + 7)

#define FCR	IIR

static struct bus bus;
static struct uart uart;
static int irq_level, irq_rises;
static char *out_buf;
static size_t out_len;
static FILE *out;

static void follow_irq(void *opaque, int level)
{
	(void)opaque;
	if (level && !irq_level)
		irq_rises++;
	irq_level = level;
}

static void setup(void)
{
	out = open_memstream(&out_buf, &out_len);
	bus_init(&bus, "pio");
	uart_init(&uart, out, -1);
	ck_assert_int_eq(uart_attach(&uart, &bus, COM1), 0);
	irq_level = 0;
	irq_rises = 0;
	uart_connect_irq(&uart, follow_irq, NULL);
}

static void teardown(void)
{
	fclose(out);
	free(out_buf);
}

static void put_str(const char *s)
{
	while (*s)
		bus_write(&bus, THR, 1, (uint8_t)*s++);
}

START_TEST(test_transmit_goes_to_output)
{
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x60, 0x60);
	put_str("Hi\n");
	fflush(out);
	ck_assert_uint_eq(out_len, 3);
	ck_assert_mem_eq(out_buf, "Hi\n", 3);
	ck_assert_uint_eq(uart.tx_bytes, 3);
}
END_TEST

/*
 * A prompt (no newline) reaches the output before the guest touches
 * another register: Linux's interrupt-driven 8250 driver goes quiet after
 * the last byte of a burst, and the user must see "/ # " to type.
 */
START_TEST(test_prompt_without_newline_is_not_held)
{
	put_str("/ # ");
	ck_assert_uint_eq(out_len, 4);
	ck_assert_mem_eq(out_buf, "/ # ", 4);
}
END_TEST

START_TEST(test_receive_sets_data_ready_in_order)
{
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 0);
	ck_assert_uint_eq(uart_receive(&uart, (const uint8_t *)"ab", 2), 2);
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 1);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 'a');
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 1);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 'b');
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 0);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 0);
}
END_TEST

START_TEST(test_receive_buffer_bounded)
{
	uint8_t big[UART_RX_SIZE + 10];

	memset(big, 'x', sizeof(big));
	ck_assert_uint_eq(uart_receive(&uart, big, sizeof(big)), UART_RX_SIZE);
	bus_write(&bus, IIR, 1, 0x03);	/* FIFO on, clear receive FIFO */
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 0);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xc1);
}
END_TEST

START_TEST(test_divisor_latch_does_not_transmit)
{
	bus_write(&bus, LCR, 1, 0x83);
	bus_write(&bus, THR, 1, 0x01);	/* DLL */
	bus_write(&bus, IER, 1, 0x02);	/* DLM */
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 0x01);
	ck_assert_uint_eq(bus_read(&bus, IER, 1), 0x02);
	bus_write(&bus, LCR, 1, 0x03);
	ck_assert_uint_eq(bus_read(&bus, IER, 1), 0x00);
	ck_assert_uint_eq(bus_read(&bus, LCR, 1), 0x03);
	fflush(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
}
END_TEST

START_TEST(test_loopback_and_scratch)
{
	bus_write(&bus, MCR, 1, 0x10 | 0x0b);	/* loop, DTR, RTS, OUT2 */
	bus_write(&bus, THR, 1, 'Z');
	fflush(out);
	ck_assert_uint_eq(out_len, 0);
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 1);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 'Z');
	ck_assert_uint_eq(bus_read(&bus, MSR, 1), 0x20 | 0x10 | 0x80);
	bus_write(&bus, MCR, 1, 0);
	ck_assert_uint_eq(bus_read(&bus, MSR, 1), 0xb0);
	bus_write(&bus, SCR, 1, 0x5a);
	ck_assert_uint_eq(bus_read(&bus, SCR, 1), 0x5a);
}
END_TEST

START_TEST(test_input_from_fd)
{
	struct timespec ms = { 0, 1000000 };
	int fds[2], i;
	char got[4] = { 0 };

	ck_assert_int_eq(pipe(fds), 0);
	uart_init(&uart, out, fds[0]);
	ck_assert_int_eq(write(fds[1], "xyz", 3), 3);
	close(fds[1]);
	for (i = 0; i < 3; i++) {
		int tries = 0;

		while (!(bus_read(&bus, LSR, 1) & 0x01) && tries++ < 2000)
			nanosleep(&ms, NULL);
		got[i] = bus_read(&bus, THR, 1);
	}
	ck_assert_str_eq(got, "xyz");
}
END_TEST

/* Linux's 8250 probe: enabling THRI with THR empty must show in IIR. */
START_TEST(test_thre_interrupt_on_enable_and_iir_read_takes_it)
{
	bus_write(&bus, IER, 1, 0x00);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
	bus_write(&bus, IER, 1, 0x02);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x02);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
	/* Written again with THRI already set: no new interrupt. */
	bus_write(&bus, IER, 1, 0x02);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
	bus_write(&bus, IER, 1, 0x00);
	bus_write(&bus, IER, 1, 0x02);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x02);
	/* The transmitter empties after every byte. */
	put_str("x");
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x02);
	ck_assert_uint_eq(bus_read(&bus, IER, 1), 0x02);
	bus_write(&bus, IER, 1, 0xff);
	ck_assert_uint_eq(bus_read(&bus, IER, 1), 0x0f);
}
END_TEST

START_TEST(test_iir_priorities_and_fifo_trigger)
{
	bus_write(&bus, FCR, 1, 0x47);	/* FIFO, cleared, trigger 4 */
	bus_write(&bus, IER, 1, 0x03);	/* received data, THR empty */
	ck_assert_uint_eq(uart_receive(&uart, (const uint8_t *)"abcd", 2), 2);
	/* Below the trigger level: character timeout, above THRE. */
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xcc);
	ck_assert_uint_eq(uart_receive(&uart, (const uint8_t *)"cd", 2), 2);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xc4);
	/* Reading IIR does not take the receive interrupt: reading data does. */
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xc4);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 'a');
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xcc);
	bus_read(&bus, THR, 1);
	bus_read(&bus, THR, 1);
	bus_read(&bus, THR, 1);
	/* Then THRE, still pending since IER was written. */
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xc2);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0xc1);
	/* FIFO off: 16450 mode, one byte is enough, no FIFO bits in IIR. */
	uart_receive(&uart, (const uint8_t *)"e", 1);
	bus_write(&bus, FCR, 1, 0x00);
	ck_assert_uint_eq(bus_read(&bus, LSR, 1) & 0x01, 0);
	uart_receive(&uart, (const uint8_t *)"f", 1);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x04);
}
END_TEST

/* The line reaches the PIC only through OUT2, and not in loopback. */
START_TEST(test_irq_line_follows_receive_data_and_out2)
{
	bus_write(&bus, IER, 1, 0x01);
	uart_receive(&uart, (const uint8_t *)"z", 1);
	ck_assert_int_eq(irq_level, 0);
	bus_write(&bus, MCR, 1, 0x0b);	/* DTR, RTS, OUT2 */
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(bus_read(&bus, THR, 1), 'z');
	ck_assert_int_eq(irq_level, 0);
	uart_receive(&uart, (const uint8_t *)"y", 1);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_int_eq(irq_rises, 2);
	bus_write(&bus, IER, 1, 0x00);
	ck_assert_int_eq(irq_level, 0);
	bus_write(&bus, IER, 1, 0x01);
	bus_write(&bus, MCR, 1, 0x1b);	/* loopback */
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

/* Each byte written takes THRE and gives it back: an edge per byte. */
START_TEST(test_thre_edge_per_transmitted_byte)
{
	bus_write(&bus, MCR, 1, 0x08);
	bus_write(&bus, IER, 1, 0x02);
	ck_assert_int_eq(irq_rises, 1);
	put_str("ab");
	ck_assert_int_eq(irq_rises, 3);
	ck_assert_int_eq(irq_level, 1);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x02);
	ck_assert_int_eq(irq_level, 0);
}
END_TEST

START_TEST(test_modem_status_deltas_in_loopback)
{
	bus_write(&bus, IER, 1, 0x08);
	bus_write(&bus, MCR, 1, 0x10);	/* loopback, all outputs off */
	bus_read(&bus, MSR, 1);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
	bus_write(&bus, MCR, 1, 0x11);	/* DTR -> DSR */
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x00);
	ck_assert_uint_eq(bus_read(&bus, MSR, 1), 0x20 | 0x02);
	ck_assert_uint_eq(bus_read(&bus, MSR, 1), 0x20);
	ck_assert_uint_eq(bus_read(&bus, IIR, 1), 0x01);
	bus_write(&bus, MCR, 1, 0x14);	/* OUT1 -> RI on */
	bus_write(&bus, MCR, 1, 0x10);	/* RI off: trailing edge */
	ck_assert_uint_eq(bus_read(&bus, MSR, 1) & 0x0f, 0x02 | 0x04);
}
END_TEST

Suite *uart_suite(void)
{
	Suite *s = suite_create("uart");
	TCase *tc = tcase_create("16550");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_transmit_goes_to_output);
	tcase_add_test(tc, test_prompt_without_newline_is_not_held);
	tcase_add_test(tc, test_receive_sets_data_ready_in_order);
	tcase_add_test(tc, test_receive_buffer_bounded);
	tcase_add_test(tc, test_divisor_latch_does_not_transmit);
	tcase_add_test(tc, test_loopback_and_scratch);
	tcase_add_test(tc, test_input_from_fd);
	tcase_add_test(tc, test_thre_interrupt_on_enable_and_iir_read_takes_it);
	tcase_add_test(tc, test_iir_priorities_and_fifo_trigger);
	tcase_add_test(tc, test_irq_line_follows_receive_data_and_out2);
	tcase_add_test(tc, test_thre_edge_per_transmitted_byte);
	tcase_add_test(tc, test_modem_status_deltas_in_loopback);
	suite_add_tcase(s, tc);
	return s;
}
