// SPDX-License-Identifier: GPL-2.0
/* The end of a run: first request wins. */
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>

#include "runctl.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t stopped_cond = PTHREAD_COND_INITIALIZER;
static int stopping;
static int status;
static char reason[160];

void runctl_reset(void)
{
	pthread_mutex_lock(&lock);
	__atomic_store_n(&stopping, 0, __ATOMIC_RELEASE);
	status = 0;
	reason[0] = '\0';
	pthread_mutex_unlock(&lock);
}

int runctl_request_stop(int st, const char *fmt, ...)
{
	int first;
	va_list ap;

	pthread_mutex_lock(&lock);
	first = !stopping;
	if (first) {
		status = st;
		va_start(ap, fmt);
		vsnprintf(reason, sizeof(reason), fmt, ap);
		va_end(ap);
		__atomic_store_n(&stopping, 1, __ATOMIC_RELEASE);
		pthread_cond_broadcast(&stopped_cond);
	}
	pthread_mutex_unlock(&lock);
	return first;
}

int runctl_stopping(void)
{
	return __atomic_load_n(&stopping, __ATOMIC_ACQUIRE);
}

int runctl_wait(void)
{
	int st;

	pthread_mutex_lock(&lock);
	while (!stopping)
		pthread_cond_wait(&stopped_cond, &lock);
	st = status;
	pthread_mutex_unlock(&lock);
	return st;
}

int runctl_status(void)
{
	return status;
}

const char *runctl_reason(void)
{
	return reason;
}
