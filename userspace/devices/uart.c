// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART, polled.  There is no interrupt controller in minivmx-run, so
 * IER is stored but never raises anything; IIR always says "no interrupt".
 * Input is read from in_fd by a thread started on the guest's first look at
 * the receive side, so a guest that never reads never consumes stdin.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "devices.h"

#define REG_DATA	0	/* RBR/THR, DLL when DLAB */
#define REG_IER		1	/* DLM when DLAB */
#define REG_IIR_FCR	2
#define REG_LCR		3
#define REG_MCR		4
#define REG_LSR		5
#define REG_MSR		6
#define REG_SCR		7

#define LCR_DLAB	0x80
#define MCR_LOOP	0x10
#define LSR_DR		0x01
#define LSR_THRE	0x20
#define LSR_TEMT	0x40
#define IIR_NO_INT	0x01
#define IIR_FIFO	0xc0
#define FCR_FIFO_EN	0x01
#define MSR_CTS		0x10
#define MSR_DSR		0x20
#define MSR_RI		0x40
#define MSR_DCD		0x80

void uart_init(struct uart *u, FILE *out, int in_fd)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
	pthread_cond_init(&u->rx_space, NULL);
	u->out = out;
	u->in_fd = in_fd;
	u->lcr = 0x03;		/* 8N1, as firmware would leave it */
}

/* Caller holds u->lock. */
static size_t rx_push(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n = 0;

	while (n < len && u->rx_count < UART_RX_SIZE) {
		u->rx[(u->rx_head + u->rx_count) % UART_RX_SIZE] = buf[n++];
		u->rx_count++;
	}
	return n;
}

size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len)
{
	size_t n;

	pthread_mutex_lock(&u->lock);
	n = rx_push(u, buf, len);
	pthread_mutex_unlock(&u->lock);
	return n;
}

static void *uart_reader(void *arg)
{
	struct uart *u = arg;
	uint8_t buf[64];
	ssize_t len, done;

	for (;;) {
		len = read(u->in_fd, buf, sizeof(buf));
		if (len < 0 && errno == EINTR)
			continue;
		if (len <= 0)
			return NULL;
		pthread_mutex_lock(&u->lock);
		for (done = 0; done < len;) {
			done += rx_push(u, buf + done, len - done);
			if (done < len)
				pthread_cond_wait(&u->rx_space, &u->lock);
		}
		pthread_mutex_unlock(&u->lock);
	}
}

/* Caller holds u->lock. */
static void start_reader(struct uart *u)
{
	if (u->reader_started || u->in_fd < 0)
		return;
	u->reader_started = 1;
	if (pthread_create(&u->reader, NULL, uart_reader, u) == 0)
		pthread_detach(u->reader);
}

/* Caller holds u->lock. */
static void flush_locked(struct uart *u)
{
	if (u->out_pending) {
		fflush(u->out);
		u->out_pending = 0;
	}
}

void uart_flush(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	flush_locked(u);
	pthread_mutex_unlock(&u->lock);
}

/* Caller holds u->lock. */
static uint8_t rx_pop(struct uart *u)
{
	uint8_t c;

	if (!u->rx_count)
		return 0;
	c = u->rx[u->rx_head];
	u->rx_head = (u->rx_head + 1) % UART_RX_SIZE;
	u->rx_count--;
	pthread_cond_signal(&u->rx_space);
	return c;
}

static uint8_t loopback_msr(uint8_t mcr)
{
	return ((mcr & 0x01) ? MSR_DSR : 0) | ((mcr & 0x02) ? MSR_CTS : 0) |
	       ((mcr & 0x04) ? MSR_RI : 0) | ((mcr & 0x08) ? MSR_DCD : 0);
}

/* Caller holds u->lock. */
static uint8_t uart_read_reg(struct uart *u, unsigned int reg)
{
	int dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			return u->dll;
		start_reader(u);
		return rx_pop(u);
	case REG_IER:
		return dlab ? u->dlm : u->ier;
	case REG_IIR_FCR:
		return IIR_NO_INT | ((u->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		/* A guest polling for input must see its prompt first. */
		flush_locked(u);
		start_reader(u);
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case REG_MSR:
		if (u->mcr & MCR_LOOP)
			return loopback_msr(u->mcr);
		return MSR_DCD | MSR_DSR | MSR_CTS;
	default:
		return u->scr;
	}
}

/* Caller holds u->lock. */
static void uart_transmit(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, &c, 1);
		return;
	}
	u->tx_bytes++;
	fputc(c, u->out);
	u->out_pending = 1;
	if (c == '\n')
		flush_locked(u);
}

/* Caller holds u->lock. */
static void uart_write_reg(struct uart *u, unsigned int reg, uint8_t val)
{
	int dlab = u->lcr & LCR_DLAB;

	switch (reg) {
	case REG_DATA:
		if (dlab)
			u->dll = val;
		else
			uart_transmit(u, val);
		break;
	case REG_IER:
		if (dlab)
			u->dlm = val;
		else
			u->ier = val & 0x0f;
		break;
	case REG_IIR_FCR:
		u->fcr = val & 0xc9;
		if (val & 0x02) {	/* clear receive FIFO */
			u->rx_count = 0;
			pthread_cond_signal(&u->rx_space);
		}
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		u->mcr = val & 0x1f;
		break;
	case REG_SCR:
		u->scr = val;
		break;
	default:		/* LSR and MSR are read-only */
		break;
	}
}

/* Wider accesses touch consecutive registers, lowest byte first. */
static uint64_t uart_read(void *opaque, uint64_t off, unsigned int size)
{
	struct uart *u = opaque;
	uint64_t val = 0;
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < size && off + i < 8; i++)
		val |= (uint64_t)uart_read_reg(u, off + i) << (8 * i);
	pthread_mutex_unlock(&u->lock);
	return val;
}

static void uart_write(void *opaque, uint64_t off, unsigned int size,
		       uint64_t val)
{
	struct uart *u = opaque;
	unsigned int i;

	pthread_mutex_lock(&u->lock);
	for (i = 0; i < size && off + i < 8; i++)
		uart_write_reg(u, off + i, val >> (8 * i));
	pthread_mutex_unlock(&u->lock);
}

static const struct bus_ops uart_ops = {
	.read = uart_read,
	.write = uart_write,
};

int uart_attach(struct uart *u, struct bus *pio, uint16_t base)
{
	return bus_register(pio, base, 8, "uart", &uart_ops, u);
}
