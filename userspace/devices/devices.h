/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The emulated devices of minivmx-run, one file each.  Every device is a
 * struct the caller owns, an init function and an attach function that
 * registers its ranges on a bus (returning 0 or -errno from bus_register).
 *
 * Port map:   0x3F8-0x3FF  16550 UART (COM1, IRQ 4)   uart.c
 *             0xE9         debug console               debugcon.c
 *             0xF4         exit device (status N)      exitdev.c
 *             0x70-0x71    CMOS / RTC                  cmos.c
 *             0x20-0x21    8259A PIC master            pic.c
 *             0xA0-0xA1    8259A PIC slave (on IR2)    pic.c
 *             0x4D0-0x4D1  ELCR, edge/level per IRQ    pic.c
 *             0x40-0x43    8254 PIT                    pit.c
 *             0x61         port B: PIT gate 2, OUT 2   pit.c
 *             0x60, 0x64   8042 keyboard controller    i8042.c
 *             0x80         POST code / I/O delay       postcode.c
 *             0x92         fast A20 / reset (bit 0)    reset.c
 *             0xCF9        reset control register      reset.c
 * MMIO map:   0xD0000000   4 KiB scratch device        scratch.c
 */
#ifndef MVX_DEVICES_H
#define MVX_DEVICES_H

#include <pthread.h>
#include <stdint.h>
#include <stdio.h>

#include "bus.h"

/* 16550A UART with FIFO; its interrupt output drives one PIC line. */
#define UART_COM1_BASE	0x3f8
#define UART_COM1_IRQ	4
#define UART_RX_SIZE	256

struct uart {
	pthread_mutex_t lock;
	pthread_cond_t rx_space;
	uint8_t ier, lcr, mcr, scr, dll, dlm, fcr;
	uint8_t thre_pending;	/* THR empty interrupt not yet taken */
	uint8_t msr_delta;	/* MSR bits 3-0: changes since the last read */
	uint8_t rx[UART_RX_SIZE];
	unsigned int rx_head, rx_count;
	FILE *out;
	int in_fd;		/* -1: no input */
	int reader_started;
	pthread_t reader;
	uint64_t tx_bytes;
	int irq_level;
	void (*set_irq)(void *opaque, int level);
	void *irq_opaque;
	void (*tx_watch)(void *opaque, uint8_t c);
	void *tx_watch_opaque;
};

void uart_init(struct uart *u, FILE *out, int in_fd);
int uart_attach(struct uart *u, struct bus *pio, uint16_t base);
/* set_irq is called with the UART's lock held: no calls into the UART. */
void uart_connect_irq(struct uart *u, void (*set_irq)(void *opaque, int level),
		      void *opaque);
/* Queue received bytes; returns how many fit. */
size_t uart_receive(struct uart *u, const uint8_t *buf, size_t len);
void uart_flush(struct uart *u);
/* Read input from fd (-1: none) instead; only before the guest runs. */
void uart_set_input(struct uart *u, int fd);
/*
 * fn sees each byte the guest transmits, after it went to the output
 * (loopback bytes do not leave); called with the UART's lock held.
 */
void uart_watch_output(struct uart *u, void (*fn)(void *opaque, uint8_t c),
		       void *opaque);

/* Port 0xE9: writes go to out, reads return 0xE9 (Bochs convention). */
#define DEBUGCON_PORT	0xe9
struct debugcon {
	pthread_mutex_t lock;
	FILE *out;
};
void debugcon_init(struct debugcon *d, FILE *out);
int debugcon_attach(struct debugcon *d, struct bus *pio);

/* Port 0xF4: a write of N ends the run with exit status N & 0xff. */
#define EXITDEV_PORT	0xf4
int exitdev_attach(struct bus *pio);

/* CMOS/RTC: 128 bytes of NVRAM, clock from the host, memory size bytes. */
#define CMOS_INDEX_PORT	0x70
struct cmos {
	pthread_mutex_t lock;
	uint8_t index;
	uint8_t ram[128];
};
/* ram_below_4g/above_4g: guest RAM in bytes, as firmware should see it. */
void cmos_init(struct cmos *c, uint64_t ram_below_4g, uint64_t ram_above_4g);
int cmos_attach(struct cmos *c, struct bus *pio);

/*
 * 8254 PIT: counters 0-2 at 0x40-0x42, control word at 0x43, counter 2's
 * gate and OUT in port 0x61.  Time comes from clock_ns (NULL: the host's
 * CLOCK_MONOTONIC); counter 0 drives IRQ 0 through pit_connect_irq0 when a
 * timer thread calls pit_update at pit_next_event_ns (see pit.c).
 */
#define PIT_BASE_PORT	0x40
#define PIT_PORT61	0x61
#define PIT_HZ		1193182ULL
#define PIT_CHANNELS	3

struct pit_channel {
	uint8_t mode;		/* 0-5 */
	uint8_t access;		/* 1 LSB, 2 MSB, 3 LSB then MSB */
	uint8_t gate;
	uint8_t loaded;		/* a whole count was written */
	uint8_t triggered;	/* modes 1, 5: the gate rose since */
	uint8_t running;	/* counting since run_start_ns */
	uint8_t null_count;	/* count written, not yet counting */
	uint8_t write_msb;	/* LSB then MSB: the next write is the MSB */
	uint8_t write_lsb;
	uint8_t read_msb;	/* LSB then MSB: the next read is the MSB */
	uint8_t count_latched;
	uint8_t status_latched;
	uint8_t status;
	uint16_t latch;
	uint32_t reload;	/* 1..65536 */
	uint64_t run_start_ns;
	uint64_t counted;	/* input clocks counted before run_start_ns */
};

struct pit {
	pthread_mutex_t lock;
	struct pit_channel ch[PIT_CHANNELS];
	uint8_t port61;
	uint64_t (*clock_ns)(void *opaque);
	void *clock_opaque;
	void (*irq0)(void *opaque, int level);
	void *irq0_opaque;
	int irq0_level;
	uint64_t irq0_ticks;	/* counter 0's edges up to here delivered */
	void (*reprogrammed)(void *opaque);
	void *reprogrammed_opaque;
};

void pit_init(struct pit *p, uint64_t (*clock_ns)(void *opaque),
	      void *clock_opaque);
int pit_attach(struct pit *p, struct bus *pio);
/* set_level is called with the PIT's lock held: no calls into the PIT. */
void pit_connect_irq0(struct pit *p, void (*set_level)(void *opaque, int level),
		      void *opaque);
/* fn runs (without the lock) when the guest reprograms counter 0. */
void pit_on_reprogram(struct pit *p, void (*fn)(void *opaque), void *opaque);
/* Absolute clock_ns time of counter 0's next rising OUT, or UINT64_MAX. */
uint64_t pit_next_event_ns(struct pit *p);
/* Deliver the IRQ 0 edge that is due (one, however late). */
void pit_update(struct pit *p);

/*
 * 8042 keyboard controller with no keyboard and no mouse plugged in:
 * data 0x60, status/command 0x64; IRQ 1 and 12 through i8042_connect_irq.
 * Why this is enough for Linux, and what it answers: i8042.c.
 */
#define I8042_DATA_PORT		0x60
#define I8042_COMMAND_PORT	0x64
#define I8042_KBD_IRQ		1
#define I8042_AUX_IRQ		12
#define I8042_RAM_SIZE		32

struct i8042 {
	pthread_mutex_t lock;
	uint8_t ram[I8042_RAM_SIZE];	/* byte 0: command byte (CTR) */
	uint8_t status;		/* OBF, CMD, AUXDATA, TIMEOUT bits */
	uint8_t out;		/* output buffer */
	uint8_t pending;	/* command waiting for a data byte, 0: none */
	int kbd_irq, aux_irq;	/* levels of the IRQ 1 and 12 lines */
	void (*set_irq)(void *opaque, unsigned int irq, int level);
	void *irq_opaque;
};

void i8042_init(struct i8042 *k);
int i8042_attach(struct i8042 *k, struct bus *pio);
/* set_irq is called with the i8042's lock held: no calls into the i8042. */
void i8042_connect_irq(struct i8042 *k,
		       void (*set_irq)(void *opaque, unsigned int irq,
				       int level),
		       void *opaque);

/* Port 0x80: writes dropped, reads 0xFF (the I/O delay port of Linux). */
#define POSTCODE_PORT	0x80
int postcode_attach(struct bus *pio);

/* Reset sources: 0xCF9 bit 2, 0x92 bit 0 (the i8042 has its own). */
struct resetdev {
	pthread_mutex_t lock;
	uint8_t cf9;
	uint8_t port92;
};
void resetdev_init(struct resetdev *r);
int resetdev_attach(struct resetdev *r, struct bus *pio);

/*
 * MMIO scratch page: reads return what was last written at the same
 * offset.  Used by guests that measure or test MMIO exits.
 */
#define SCRATCH_MMIO_BASE	0xd0000000ULL
#define SCRATCH_MMIO_SIZE	0x1000
struct scratch {
	pthread_mutex_t lock;
	uint8_t mem[SCRATCH_MMIO_SIZE];
};
void scratch_init(struct scratch *s);
int scratch_attach(struct scratch *s, struct bus *mmio);

/*
 * 8259A PIC pair: master at 0x20, slave at 0xA0 cascaded on master IR2,
 * ELCR at 0x4D0.  Lines are IRQ 0-15; how a runner delivers is in pic.c.
 */
#define PIC_MASTER_PORT	0x20
#define PIC_SLAVE_PORT	0xa0
#define PIC_ELCR_PORT	0x4d0
#define PIC_CASCADE_IR	2

struct pic_chip {
	uint8_t irr, isr, imr;
	uint8_t input;		/* current level of each IR input */
	uint8_t elcr;		/* 1 = level-triggered */
	uint8_t elcr_writable;
	uint8_t vector_base;	/* ICW2 & 0xf8 */
	uint8_t icw3;
	uint8_t icw_next;	/* ICW expected on the data port, 0: none */
	uint8_t icw4_wanted, single, ltim;
	uint8_t aeoi, rotate_on_aeoi, sfnm;
	uint8_t special_mask, read_isr, poll;
	uint8_t lowest;		/* lowest-priority IR; 7: IR0 highest */
};

struct pic {
	pthread_mutex_t lock;
	struct pic_chip master, slave;
	int intr;		/* INTR output to the CPU */
	void (*intr_raised)(void *opaque);
	void *intr_opaque;
};

void pic_init(struct pic *pic);
int pic_attach(struct pic *pic, struct bus *pio);
/* fn(opaque) runs, outside the lock, each time INTR goes from 0 to 1. */
void pic_set_intr_callback(struct pic *pic, void (*fn)(void *opaque),
			   void *opaque);
/* line 0-15 except 2 (the cascade); others are ignored. */
void pic_set_irq(struct pic *pic, unsigned int line, int level);
int pic_has_interrupt(struct pic *pic);
/* The INTA cycle: the vector to inject (a spurious one if nothing). */
uint8_t pic_acknowledge(struct pic *pic);

#endif /* MVX_DEVICES_H */
