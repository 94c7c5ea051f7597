// SPDX-License-Identifier: GPL-2.0
/*
 * 16550A UART.  Transmission is instant: THR is always empty again right
 * after a write.  Input is read from in_fd by a thread started on the
 * guest's first look at the receive side (RBR or LSR read, or enabling the
 * receive interrupt), so a guest that never reads never consumes stdin.
 *
 * Interrupts (IER bits, IIR in priority order):
 *   receiver line status (IIR 0x06): never, no line errors are emulated;
 *   received data (0x04): the FIFO holds at least its trigger level (FCR
 *     bits 7-6: 1, 4, 8, 14 bytes; 1 without FIFO); below the level the
 *     character timeout (0x0C) is reported at once instead of after four
 *     character times; both end when the data is read;
 *   THR empty (0x02): set when the transmitter empties (after each THR
 *     write) and when IER's bit 1 goes from 0 to 1 (Linux's 8250 driver
 *     probes this), cleared by a THR write or by an IIR read that reports
 *     it;
 *   modem status (0x00): MSR delta bits, which only loopback can change.
 * The output reaches the PIC as on a PC board: only with MCR OUT2 set and
 * not in loopback mode.  A FIFO of UART_RX_SIZE bytes never overruns: the
 * reader thread waits for room.
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
#define IER_RDI		0x01	/* received data available */
#define IER_THRI	0x02	/* THR empty */
#define IER_RLSI	0x04	/* receiver line status */
#define IER_MSI		0x08	/* modem status */
#define IIR_NO_INT	0x01
#define IIR_MSI		0x00
#define IIR_THRI	0x02
#define IIR_RDI		0x04
#define IIR_RX_TIMEOUT	0x0c
#define IIR_FIFO	0xc0
#define FCR_FIFO_EN	0x01
#define FCR_CLEAR_RX	0x02
#define FCR_TRIGGER(v)	((v) >> 6)
#define MCR_OUT2	0x08
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

void uart_connect_irq(struct uart *u, void (*set_irq)(void *opaque, int level),
		      void *opaque)
{
	pthread_mutex_lock(&u->lock);
	u->set_irq = set_irq;
	u->irq_opaque = opaque;
	pthread_mutex_unlock(&u->lock);
}

void uart_set_input(struct uart *u, int fd)
{
	pthread_mutex_lock(&u->lock);
	if (!u->reader_started)
		u->in_fd = fd;
	pthread_mutex_unlock(&u->lock);
}

void uart_watch_output(struct uart *u, void (*fn)(void *opaque, uint8_t c),
		       void *opaque)
{
	pthread_mutex_lock(&u->lock);
	u->tx_watch = fn;
	u->tx_watch_opaque = opaque;
	pthread_mutex_unlock(&u->lock);
}

static unsigned int rx_trigger_level(const struct uart *u)
{
	static const unsigned int level[4] = { 1, 4, 8, 14 };

	return (u->fcr & FCR_FIFO_EN) ? level[FCR_TRIGGER(u->fcr)] : 1;
}

/* Caller holds u->lock.  The highest-priority pending source, as IIR. */
static uint8_t pending_source(const struct uart *u)
{
	if ((u->ier & IER_RDI) && u->rx_count)
		return u->rx_count >= rx_trigger_level(u) ? IIR_RDI :
							    IIR_RX_TIMEOUT;
	if ((u->ier & IER_THRI) && u->thre_pending)
		return IIR_THRI;
	if ((u->ier & IER_MSI) && u->msr_delta)
		return IIR_MSI;
	return IIR_NO_INT;
}

/* Caller holds u->lock.  OUT2 gates the output on a PC; loopback cuts it. */
static void update_irq(struct uart *u)
{
	int level = pending_source(u) != IIR_NO_INT &&
		    (u->mcr & (MCR_OUT2 | MCR_LOOP)) == MCR_OUT2;

	if (level == u->irq_level)
		return;
	u->irq_level = level;
	if (u->set_irq)
		u->set_irq(u->irq_opaque, level);
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
	update_irq(u);
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
			update_irq(u);
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

void uart_flush(struct uart *u)
{
	pthread_mutex_lock(&u->lock);
	fflush(u->out);
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

/* MSR bits 7-4, the modem inputs: MCR's outputs in loopback. */
static uint8_t modem_inputs(uint8_t mcr)
{
	if (!(mcr & MCR_LOOP))
		return MSR_DCD | MSR_DSR | MSR_CTS;
	return ((mcr & 0x01) ? MSR_DSR : 0) | ((mcr & 0x02) ? MSR_CTS : 0) |
	       ((mcr & 0x04) ? MSR_RI : 0) | ((mcr & 0x08) ? MSR_DCD : 0);
}

/* MSR bits 3-0: CTS, DSR, DCD changed; RI went from on to off. */
static uint8_t modem_deltas(uint8_t before, uint8_t after)
{
	uint8_t changed = before ^ after;

	return ((changed & MSR_CTS) ? 0x01 : 0) |
	       ((changed & MSR_DSR) ? 0x02 : 0) |
	       ((before & MSR_RI) && !(after & MSR_RI) ? 0x04 : 0) |
	       ((changed & MSR_DCD) ? 0x08 : 0);
}

/* Caller holds u->lock.  Reading IIR takes the THR empty interrupt. */
static uint8_t read_iir(struct uart *u)
{
	uint8_t src = pending_source(u);

	if (src == IIR_THRI)
		u->thre_pending = 0;
	return src | ((u->fcr & FCR_FIFO_EN) ? IIR_FIFO : 0);
}

/* Caller holds u->lock.  Reading MSR clears its delta bits. */
static uint8_t read_msr(struct uart *u)
{
	uint8_t val = modem_inputs(u->mcr) | u->msr_delta;

	u->msr_delta = 0;
	return val;
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
		return read_iir(u);
	case REG_LCR:
		return u->lcr;
	case REG_MCR:
		return u->mcr;
	case REG_LSR:
		start_reader(u);
		return LSR_THRE | LSR_TEMT | (u->rx_count ? LSR_DR : 0);
	case REG_MSR:
		return read_msr(u);
	default:
		return u->scr;
	}
}

/* Caller holds u->lock. */
static void send_byte(struct uart *u, uint8_t c)
{
	if (u->mcr & MCR_LOOP) {
		rx_push(u, &c, 1);
		return;
	}
	u->tx_bytes++;
	/*
	 * Out at once, not at the newline: a shell's prompt has none, and
	 * Linux's 8250 driver ends a burst without touching a register that
	 * would tell us the line went quiet.
	 */
	fputc(c, u->out);
	fflush(u->out);
	if (u->tx_watch)
		u->tx_watch(u->tx_watch_opaque, c);
}

/*
 * Caller holds u->lock.  The write takes the THR empty interrupt, the
 * instant transmission gives it back: the line drops and rises again, an
 * edge for the PIC per byte.
 */
static void uart_transmit(struct uart *u, uint8_t c)
{
	u->thre_pending = 0;
	update_irq(u);
	send_byte(u, c);
	u->thre_pending = 1;
}

/* Caller holds u->lock.  THR is always empty: enabling THRI interrupts. */
static void write_ier(struct uart *u, uint8_t val)
{
	val &= 0x0f;
	if ((val & IER_THRI) && !(u->ier & IER_THRI))
		u->thre_pending = 1;
	if (val & IER_RDI)
		start_reader(u);
	u->ier = val;
}

/* Caller holds u->lock.  Turning the FIFO on or off empties it. */
static void write_fcr(struct uart *u, uint8_t val)
{
	if ((val ^ u->fcr) & FCR_FIFO_EN)
		val |= FCR_CLEAR_RX;
	u->fcr = val & 0xc9;
	if (val & FCR_CLEAR_RX) {
		u->rx_count = 0;
		pthread_cond_signal(&u->rx_space);
	}
}

/* Caller holds u->lock. */
static void write_mcr(struct uart *u, uint8_t val)
{
	uint8_t before = modem_inputs(u->mcr);

	u->mcr = val & 0x1f;
	u->msr_delta |= modem_deltas(before, modem_inputs(u->mcr));
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
			write_ier(u, val);
		break;
	case REG_IIR_FCR:
		write_fcr(u, val);
		break;
	case REG_LCR:
		u->lcr = val;
		break;
	case REG_MCR:
		write_mcr(u, val);
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
	update_irq(u);
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
	update_irq(u);
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
