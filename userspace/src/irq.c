// SPDX-License-Identifier: GPL-2.0
/*
 * Interrupt delivery (issue 15): a device raises a PIC line, the PIC's
 * INTR output rises and calls irq_intr_raised() in the device's thread,
 * which wakes a vCPU waiting in HLT and kicks the vCPU out of MVX_RUN.
 * Back in userspace, the vCPU thread calls irq_decide() before its next
 * MVX_RUN and injects at the window.  Lock order: a device's lock, then
 * the PIC's, then the glue's (the PIC calls us outside its own lock).
 */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "irq.h"

#define NSEC_PER_SEC	1000000000ULL

enum irq_action irq_decide(int pending, int ready_for_injection)
{
	if (!pending)
		return IRQ_NOTHING;
	/* Acknowledge only when the vector is sure to be injected now. */
	return ready_for_injection ? IRQ_INJECT : IRQ_WANT_WINDOW;
}

/* The PIC's INTR callback; runs in whatever thread raised the line. */
static void irq_intr_raised(void *opaque)
{
	struct irq_glue *g = opaque;

	pthread_mutex_lock(&g->lock);
	g->raised++;
	pthread_cond_broadcast(&g->wake);
	/*
	 * Under the lock: once irq_glue_stop() returned, no kick touches a
	 * vCPU (the UART's reader thread outlives the run).  The kick only
	 * stores and signals, it takes no lock.  A vCPU waiting in HLT is
	 * out of the guest and looks at the PIC before it enters again: the
	 * wakeup is enough.
	 */
	if (g->kick && !g->stopping && !g->halted)
		g->kick(g->kick_opaque);
	pthread_mutex_unlock(&g->lock);
}

void irq_glue_init(struct irq_glue *g, struct pic *pic,
		   void (*kick)(void *opaque), void *opaque)
{
	memset(g, 0, sizeof(*g));
	pthread_mutex_init(&g->lock, NULL);
	pthread_cond_init(&g->wake, NULL);
	g->pic = pic;
	g->kick = kick;
	g->kick_opaque = opaque;
	pic_set_intr_callback(pic, irq_intr_raised, g);
}

/*
 * The PIC is asked under our lock, and irq_intr_raised() takes it after
 * the PIC changed, so a rise between the check and the wait still wakes.
 */
int irq_wait_for_interrupt(struct irq_glue *g)
{
	int pending;

	pthread_mutex_lock(&g->lock);
	g->halted = 1;
	while (!(pending = pic_has_interrupt(g->pic)) && !g->stopping)
		pthread_cond_wait(&g->wake, &g->lock);
	g->halted = 0;
	pthread_mutex_unlock(&g->lock);
	return pending;
}

void irq_glue_stop(struct irq_glue *g)
{
	pthread_mutex_lock(&g->lock);
	g->stopping = 1;
	pthread_cond_broadcast(&g->wake);
	pthread_mutex_unlock(&g->lock);
}

/* Called by the PIT, without its lock, when counter 0 changed. */
static void timer_reprogrammed(void *opaque)
{
	struct pit_timer *t = opaque;

	pthread_mutex_lock(&t->lock);
	t->reprogrammed = 1;
	pthread_cond_signal(&t->changed);
	pthread_mutex_unlock(&t->lock);
}

void pit_timer_init(struct pit_timer *t, struct pit *pit)
{
	pthread_condattr_t attr;

	memset(t, 0, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	/* The PIT's own clock, so that deadlines compare. */
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_cond_init(&t->changed, &attr);
	pthread_condattr_destroy(&attr);
	t->pit = pit;
	pit_on_reprogram(pit, timer_reprogrammed, t);
}

/* Caller holds t->lock.  Sleeps until the deadline or a change. */
static void timer_sleep_until(struct pit_timer *t, uint64_t when)
{
	struct timespec ts;

	if (when == UINT64_MAX) {
		pthread_cond_wait(&t->changed, &t->lock);
		return;
	}
	ts.tv_sec = when / NSEC_PER_SEC;
	ts.tv_nsec = when % NSEC_PER_SEC;
	while (!t->stopping && !t->reprogrammed &&
	       pthread_cond_timedwait(&t->changed, &t->lock, &ts) != ETIMEDOUT)
		;
}

static void *timer_thread(void *arg)
{
	struct pit_timer *t = arg;

	pthread_mutex_lock(&t->lock);
	while (!t->stopping) {
		/* A change after this read takes our lock: it is not lost. */
		t->reprogrammed = 0;
		timer_sleep_until(t, pit_next_event_ns(t->pit));
		if (t->stopping)
			break;
		/* An early call raises nothing; the PIT decides. */
		pthread_mutex_unlock(&t->lock);
		pit_update(t->pit);
		pthread_mutex_lock(&t->lock);
	}
	pthread_mutex_unlock(&t->lock);
	return NULL;
}

int pit_timer_start(struct pit_timer *t)
{
	if (pthread_create(&t->thread, NULL, timer_thread, t))
		return -1;
	t->started = 1;
	return 0;
}

void pit_timer_stop(struct pit_timer *t)
{
	if (!t->started)
		return;
	pthread_mutex_lock(&t->lock);
	t->stopping = 1;
	pthread_cond_signal(&t->changed);
	pthread_mutex_unlock(&t->lock);
	pthread_join(t->thread, NULL);
	t->started = 0;
}
