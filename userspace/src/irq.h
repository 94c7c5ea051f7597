/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Interrupt delivery glue between the devices and the vCPU threads: the
 * PIC's INTR output wakes and kicks the vCPU that takes external
 * interrupts (vCPU 0: there is no local APIC), the decision made before
 * each MVX_RUN, and the timer thread that drives the PIT's IRQ 0.
 */
#ifndef MVX_IRQ_H
#define MVX_IRQ_H

#include <pthread.h>
#include <stdint.h>

#include "devices.h"

/* What a vCPU thread does about interrupts right before MVX_RUN. */
enum irq_action {
	IRQ_NOTHING,		/* nothing pending: no window wanted */
	IRQ_INJECT,		/* acknowledge the PIC, MVX_INTERRUPT */
	IRQ_WANT_WINDOW,	/* pending, guest not ready: ask for a window */
};

enum irq_action irq_decide(int pending, int ready_for_injection);

struct irq_glue {
	pthread_mutex_t lock;
	pthread_cond_t wake;	/* INTR rose, or the run is ending */
	struct pic *pic;
	void (*kick)(void *opaque);	/* get the vCPU out of MVX_RUN */
	void *kick_opaque;
	int stopping;
	int halted;		/* the vCPU waits in irq_wait_for_interrupt */
	uint64_t raised;	/* INTR rising edges seen */
};

/* Connects itself as the PIC's INTR callback. */
void irq_glue_init(struct irq_glue *g, struct pic *pic,
		   void (*kick)(void *opaque), void *opaque);
/*
 * HLT with IF=1: block until the PIC has an interrupt for the CPU or
 * irq_glue_stop() was called.  Returns 1 if an interrupt is pending.
 */
int irq_wait_for_interrupt(struct irq_glue *g);
/* The run ends: wakes waiters for good; no kick after it returns. */
void irq_glue_stop(struct irq_glue *g);

/* The PIT's timer thread: pit_update() at pit_next_event_ns(). */
struct pit_timer {
	pthread_mutex_t lock;
	pthread_cond_t changed;	/* reprogrammed or stopping */
	struct pit *pit;
	pthread_t thread;
	int started;
	int stopping;
	int reprogrammed;
};

/* Connects itself to the PIT's reprogram hook; the PIT uses CLOCK_MONOTONIC. */
void pit_timer_init(struct pit_timer *t, struct pit *pit);
int pit_timer_start(struct pit_timer *t);
void pit_timer_stop(struct pit_timer *t);

#endif /* MVX_IRQ_H */
