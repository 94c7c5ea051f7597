/* SPDX-License-Identifier: GPL-2.0 */
/* libmvx internals. */
#ifndef MVX_LIB_INTERNAL_H
#define MVX_LIB_INTERNAL_H

/* Record "what: strerror(err)" for mvx_last_error() and return -err. */
int mvx_fail(int err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#endif /* MVX_LIB_INTERNAL_H */
