/* SPDX-License-Identifier: GPL-2.0 */
/* Small helpers shared by the runner's sources. */
#ifndef MVX_UTIL_H
#define MVX_UTIL_H

#include <stddef.h>

/* Format a one-line error message into err; always returns -1. */
int set_err(char *err, size_t errlen, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* MVX_UTIL_H */
