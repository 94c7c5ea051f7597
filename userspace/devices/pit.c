// SPDX-License-Identifier: GPL-2.0
/*
 * 8254 programmable interval timer, input clock 1193182 Hz.
 *   0x40-0x42  counters 0-2 (0: IRQ 0, 1: unused refresh, 2: speaker)
 *   0x43       control word: mode, access, counter latch, read-back
 *   0x61       system control port B: bit 0 gate of counter 2, bit 1
 *              speaker data enable, bits 2-3 kept; bit 4 refresh toggle
 *              and bit 5 OUT of counter 2 are read-only (Linux's PIT and
 *              TSC calibration polls bit 5)
 *
 * No thread of its own: every value is computed from a monotonic
 * nanosecond clock (CLOCK_MONOTONIC unless pit_init is given another, as
 * the unit tests do).  A counter remembers when its count was loaded and
 * how many input clocks it counted before its gate last stopped it, so its
 * count and OUT at any time are a function of the clocks counted since.
 *
 * How a runner drives IRQ 0: pit_connect_irq0() with a function that sets
 * the PIC's line 0, pit_on_reprogram() with a function that wakes the
 * runner's timer thread, which loops:
 *	t = pit_next_event_ns(pit);	(UINT64_MAX: sleep until woken)
 *	sleep until t on the same clock, or until woken by on_reprogram;
 *	pit_update(pit);
 * pit_update() raises the line for the rising edge of OUT 0 that is due
 * (lowering it first if it is still high, so an edge-triggered PIC sees an
 * edge), and lowers it when OUT 0 is low; it never raises it otherwise, so
 * an early or extra call makes no interrupt.  A timer thread that fell behind
 * gets one edge for all the periods it missed, not one per period.  The
 * IRQ 0 function is called with the PIT's lock held, so it must not call
 * back into the PIT; the reprogram function is called without it.
 *
 * Simplifications, none of which Linux or a PC BIOS notices:
 *  - a count is loaded at the write, not on the next input clock;
 *  - a new count in modes 2 and 3 restarts the period at once instead of
 *    at the end of the current one (Linux writes the control word first,
 *    which restarts it anyway), and one in modes 1 and 5 changes the
 *    current one-shot instead of waiting for the next trigger;
 *  - BCD counting is refused: the counter counts in binary and the status
 *    byte says so (bit 0 clear);
 *  - a control word does not itself pulse IRQ 0 when it sets OUT high;
 *  - nothing counts until a count is written: firmware programs counter 0.
 */
#include <string.h>
#include <time.h>

#include "devices.h"

#define NSEC_PER_SEC	1000000000ULL
#define REFRESH_NS	15085	/* port 0x61 bit 4 toggles this often */

#define CW_SELECT(v)	(((v) >> 6) & 3)
#define CW_ACCESS(v)	(((v) >> 4) & 3)
#define CW_MODE(v)	(((v) >> 1) & 7)
#define SELECT_READBACK	3
#define ACCESS_LATCH	0
#define ACCESS_LSB	1
#define ACCESS_MSB	2
#define ACCESS_WORD	3	/* LSB then MSB */

#define RB_NO_COUNT	0x20	/* read-back: these bits are active low */
#define RB_NO_STATUS	0x10

#define ST_OUT		0x80
#define ST_NULL_COUNT	0x40

#define P61_GATE2	0x01
#define P61_SPEAKER	0x02
#define P61_WRITABLE	0x0f
#define P61_REFRESH	0x10
#define P61_OUT2	0x20

#define NO_EDGE		UINT64_MAX

static uint64_t host_clock_ns(void *opaque)
{
	struct timespec ts;

	(void)opaque;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC_PER_SEC + ts.tv_nsec;
}

void pit_init(struct pit *p, uint64_t (*clock_ns)(void *opaque),
	      void *clock_opaque)
{
	int i;

	memset(p, 0, sizeof(*p));
	pthread_mutex_init(&p->lock, NULL);
	p->clock_ns = clock_ns ? clock_ns : host_clock_ns;
	p->clock_opaque = clock_opaque;
	for (i = 0; i < PIT_CHANNELS; i++) {
		p->ch[i].mode = 3;
		p->ch[i].access = ACCESS_WORD;
		p->ch[i].reload = 0x10000;
		p->ch[i].gate = i != 2;	/* counters 0 and 1: tied high */
	}
}

void pit_connect_irq0(struct pit *p, void (*set_level)(void *opaque, int level),
		      void *opaque)
{
	pthread_mutex_lock(&p->lock);
	p->irq0 = set_level;
	p->irq0_opaque = opaque;
	pthread_mutex_unlock(&p->lock);
}

void pit_on_reprogram(struct pit *p, void (*fn)(void *opaque), void *opaque)
{
	pthread_mutex_lock(&p->lock);
	p->reprogrammed = fn;
	p->reprogrammed_opaque = opaque;
	pthread_mutex_unlock(&p->lock);
}

/* Input clocks in dt ns, rounded down; split so that nothing overflows. */
static uint64_t ns_to_ticks(uint64_t dt)
{
	return dt / NSEC_PER_SEC * PIT_HZ +
	       dt % NSEC_PER_SEC * PIT_HZ / NSEC_PER_SEC;
}

/* The first time by which n input clocks have passed: ns_to_ticks' inverse. */
static uint64_t ticks_to_ns(uint64_t n)
{
	return n / PIT_HZ * NSEC_PER_SEC +
	       (n % PIT_HZ * NSEC_PER_SEC + PIT_HZ - 1) / PIT_HZ;
}

static int is_periodic(const struct pit_channel *c)
{
	return c->mode == 2 || c->mode == 3;
}

static int is_gate_triggered(const struct pit_channel *c)
{
	return c->mode == 1 || c->mode == 5;
}

/* A count of 1 is illegal in modes 2 and 3; count it as 2 there. */
static uint64_t period(const struct pit_channel *c)
{
	return is_periodic(c) && c->reload < 2 ? 2 : c->reload;
}

/* Has the count been transferred to the counting element? */
static int counting_started(const struct pit_channel *c)
{
	return c->loaded && (!is_gate_triggered(c) || c->triggered);
}

/* Input clocks the counter has counted since its count was loaded. */
static uint64_t ticks(const struct pit_channel *c, uint64_t now)
{
	if (!c->running || now < c->run_start_ns)
		return c->counted;
	return c->counted + ns_to_ticks(now - c->run_start_ns);
}

/* Start counting from the loaded count (load, or a retriggering gate). */
static void restart(struct pit *p, struct pit_channel *c, uint64_t now)
{
	c->counted = 0;
	c->run_start_ns = now;
	c->running = is_gate_triggered(c) ? c->triggered : c->gate;
	if (c == &p->ch[0])
		p->irq0_ticks = 0;
}

static int out_at(const struct pit_channel *c, uint64_t k)
{
	uint64_t n = period(c);

	if (!c->loaded)
		return c->mode != 0;	/* the level the control word set */
	if (!counting_started(c) || (is_periodic(c) && !c->gate))
		return 1;
	switch (c->mode) {
	case 0:
	case 1:
		return k >= n;		/* low until terminal count */
	case 2:
		return k % n != n - 1;	/* low for the clock at count 1 */
	case 3:
		return k % n < (n + 1) / 2;	/* high half first */
	default:
		return k != n;		/* 4, 5: one low clock at count 0 */
	}
}

static uint16_t count_at(const struct pit_channel *c, uint64_t k)
{
	uint64_t n = period(c), half, pos;

	if (!counting_started(c))
		return c->reload;
	switch (c->mode) {
	case 2:
		return n - k % n;
	case 3:
		/* Counts down by two through each half of the period. */
		half = (n + 1) / 2;
		pos = k % n;
		if (pos >= half)
			pos -= half;
		return (n & ~1ULL) - 2 * pos;
	default:
		/* One-shots wrap past zero and go on counting. */
		return n - k;
	}
}

/* The first clock count after k at which OUT rises, or NO_EDGE. */
static uint64_t next_rising_edge(const struct pit_channel *c, uint64_t k)
{
	uint64_t n = period(c);

	if (!counting_started(c))
		return NO_EDGE;
	switch (c->mode) {
	case 0:
	case 1:
		return k < n ? n : NO_EDGE;
	case 2:
	case 3:
		return (k / n + 1) * n;
	default:
		return k < n + 1 ? n + 1 : NO_EDGE;
	}
}

static uint8_t status_byte(struct pit_channel *c, uint64_t now)
{
	uint64_t k = ticks(c, now);

	/* The count reaches the counting element on the first clock. */
	if (counting_started(c) && k >= 1)
		c->null_count = 0;
	return (out_at(c, k) ? ST_OUT : 0) |
	       (c->null_count ? ST_NULL_COUNT : 0) |
	       c->access << 4 | c->mode << 1;
}

static void latch_count(struct pit_channel *c, uint64_t now)
{
	if (c->count_latched)
		return;		/* the first latch holds until read */
	c->latch = count_at(c, ticks(c, now));
	c->count_latched = 1;
}

static void latch_status(struct pit_channel *c, uint64_t now)
{
	if (c->status_latched)
		return;
	c->status = status_byte(c, now);
	c->status_latched = 1;
}

static void read_back(struct pit *p, uint8_t cmd, uint64_t now)
{
	int i;

	for (i = 0; i < PIT_CHANNELS; i++) {
		if (!(cmd & (2 << i)))
			continue;
		if (!(cmd & RB_NO_STATUS))
			latch_status(&p->ch[i], now);
		if (!(cmd & RB_NO_COUNT))
			latch_count(&p->ch[i], now);
	}
}

static void control_word(struct pit *p, uint8_t val, uint64_t now)
{
	struct pit_channel *c;

	if (CW_SELECT(val) == SELECT_READBACK) {
		read_back(p, val, now);
		return;
	}
	c = &p->ch[CW_SELECT(val)];
	if (CW_ACCESS(val) == ACCESS_LATCH) {
		latch_count(c, now);
		return;
	}
	c->access = CW_ACCESS(val);
	c->mode = CW_MODE(val) > 5 ? CW_MODE(val) - 4 : CW_MODE(val);
	c->loaded = 0;
	c->triggered = 0;
	c->running = 0;
	c->counted = 0;
	c->null_count = 1;
	c->count_latched = 0;
	c->status_latched = 0;
	c->read_msb = 0;
	c->write_msb = 0;
	if (c == &p->ch[0])
		p->irq0_ticks = 0;
}

static void load_count(struct pit *p, struct pit_channel *c, uint16_t val,
		       uint64_t now)
{
	c->reload = val ? val : 0x10000;
	c->loaded = 1;
	c->null_count = 1;
	if (is_gate_triggered(c) && !c->triggered)
		return;		/* waits for a rising gate */
	restart(p, c, now);
}

static void write_counter(struct pit *p, struct pit_channel *c, uint8_t val,
			  uint64_t now)
{
	switch (c->access) {
	case ACCESS_LSB:
		load_count(p, c, val, now);
		break;
	case ACCESS_MSB:
		load_count(p, c, val << 8, now);
		break;
	default:
		if (!c->write_msb) {
			c->write_lsb = val;
			c->write_msb = 1;
			/* Mode 0 stops, OUT low, until the MSB arrives. */
			if (c->mode == 0)
				c->loaded = 0;
			break;
		}
		c->write_msb = 0;
		load_count(p, c, c->write_lsb | val << 8, now);
		break;
	}
}

/* One byte of a 16-bit value, in the counter's access order. */
static uint8_t next_byte(struct pit_channel *c, uint16_t v, int *done)
{
	*done = 1;
	if (c->access == ACCESS_LSB)
		return v & 0xff;
	if (c->access == ACCESS_MSB)
		return v >> 8;
	c->read_msb = !c->read_msb;
	if (c->read_msb) {
		*done = 0;
		return v & 0xff;
	}
	return v >> 8;
}

static uint8_t read_counter(struct pit_channel *c, uint64_t now)
{
	uint8_t val;
	int done;

	if (c->status_latched) {
		c->status_latched = 0;
		return c->status;
	}
	if (c->count_latched) {
		val = next_byte(c, c->latch, &done);
		if (done)
			c->count_latched = 0;
		return val;
	}
	return next_byte(c, count_at(c, ticks(c, now)), &done);
}

static void set_gate(struct pit *p, struct pit_channel *c, int level,
		     uint64_t now)
{
	if (level == c->gate)
		return;
	c->gate = level;
	if (!level) {
		/* Modes 0, 2, 3 and 4 stop counting while the gate is low. */
		if (!is_gate_triggered(c) && c->running) {
			c->counted = ticks(c, now);
			c->running = 0;
		}
		return;
	}
	if (!c->loaded)
		return;
	if (c->mode == 0 || c->mode == 4) {
		c->run_start_ns = now;	/* goes on where it stopped */
		c->running = 1;
		return;
	}
	/* Modes 1, 5 (trigger) and 2, 3 (reload) start over. */
	if (is_gate_triggered(c)) {
		c->triggered = 1;
		c->null_count = 0;
	}
	restart(p, c, now);
}

static uint64_t pit_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pit *p = opaque;
	uint8_t val = 0xff;	/* the control register is write-only */

	(void)size;
	pthread_mutex_lock(&p->lock);
	if (off < PIT_CHANNELS)
		val = read_counter(&p->ch[off], p->clock_ns(p->clock_opaque));
	pthread_mutex_unlock(&p->lock);
	return val;
}

static void notify_reprogram(struct pit *p)
{
	void (*fn)(void *opaque);
	void *opaque;

	pthread_mutex_lock(&p->lock);
	fn = p->reprogrammed;
	opaque = p->reprogrammed_opaque;
	pthread_mutex_unlock(&p->lock);
	if (fn)
		fn(opaque);
}

static void pit_write(void *opaque, uint64_t off, unsigned int size,
		      uint64_t val)
{
	struct pit *p = opaque;
	int counter0 = off == 0;
	uint64_t now;

	(void)size;
	pthread_mutex_lock(&p->lock);
	now = p->clock_ns(p->clock_opaque);
	if (off < PIT_CHANNELS) {
		write_counter(p, &p->ch[off], val, now);
	} else {
		control_word(p, val, now);
		counter0 = CW_SELECT(val) == 0 && CW_ACCESS(val) != ACCESS_LATCH;
	}
	pthread_mutex_unlock(&p->lock);
	/* Counter 0's next edge may have moved: the timer thread re-reads. */
	if (counter0)
		notify_reprogram(p);
}

static uint64_t port61_read(void *opaque, uint64_t off, unsigned int size)
{
	struct pit *p = opaque;
	struct pit_channel *c = &p->ch[2];
	uint64_t now;
	uint8_t val;

	(void)off;
	(void)size;
	pthread_mutex_lock(&p->lock);
	now = p->clock_ns(p->clock_opaque);
	val = p->port61 & P61_WRITABLE;
	if ((now / REFRESH_NS) & 1)
		val |= P61_REFRESH;
	if (out_at(c, ticks(c, now)))
		val |= P61_OUT2;
	pthread_mutex_unlock(&p->lock);
	return val;
}

static void port61_write(void *opaque, uint64_t off, unsigned int size,
			 uint64_t val)
{
	struct pit *p = opaque;

	(void)off;
	(void)size;
	pthread_mutex_lock(&p->lock);
	p->port61 = val & P61_WRITABLE;
	set_gate(p, &p->ch[2], !!(val & P61_GATE2),
		 p->clock_ns(p->clock_opaque));
	pthread_mutex_unlock(&p->lock);
}

static const struct bus_ops pit_ops = {
	.read = pit_read,
	.write = pit_write,
};

static const struct bus_ops port61_ops = {
	.read = port61_read,
	.write = port61_write,
};

int pit_attach(struct pit *p, struct bus *pio)
{
	int ret;

	ret = bus_register(pio, PIT_BASE_PORT, 4, "pit", &pit_ops, p);
	if (!ret)
		ret = bus_register(pio, PIT_PORT61, 1, "port61", &port61_ops, p);
	return ret;
}

uint64_t pit_next_event_ns(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t edge, when = UINT64_MAX;

	pthread_mutex_lock(&p->lock);
	edge = next_rising_edge(c, p->irq0_ticks);
	if (c->running && edge != NO_EDGE) {
		/* An edge counted before the gate stopped it is due now. */
		when = c->run_start_ns;
		if (edge > c->counted)
			when += ticks_to_ns(edge - c->counted);
	}
	pthread_mutex_unlock(&p->lock);
	return when;
}

/* Caller holds p->lock. */
static void set_irq0(struct pit *p, int level)
{
	if (p->irq0_level == level)
		return;
	p->irq0_level = level;
	if (p->irq0)
		p->irq0(p->irq0_opaque, level);
}

void pit_update(struct pit *p)
{
	struct pit_channel *c = &p->ch[0];
	uint64_t k;

	pthread_mutex_lock(&p->lock);
	k = ticks(c, p->clock_ns(p->clock_opaque));
	if (next_rising_edge(c, p->irq0_ticks) <= k) {
		/* However many edges were missed, the PIC gets one. */
		set_irq0(p, 0);
		set_irq0(p, 1);
	}
	if (k > p->irq0_ticks)
		p->irq0_ticks = k;
	/* Follow OUT down, never up: the line rises only for an edge. */
	if (!out_at(c, k))
		set_irq0(p, 0);
	pthread_mutex_unlock(&p->lock);
}
