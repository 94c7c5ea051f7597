// SPDX-License-Identifier: GPL-2.0
/* Small helpers shared by the runner's sources. */
#include <stdarg.h>
#include <stdio.h>

#include "util.h"

int set_err(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -1;
}
