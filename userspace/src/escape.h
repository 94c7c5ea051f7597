/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The console's escape keys, as in QEMU's -nographic: Ctrl-A then a key.
 *   Ctrl-A x        quit
 *   Ctrl-A h or ?   help
 *   Ctrl-A Ctrl-A   one Ctrl-A for the guest
 * Any other key after Ctrl-A is dropped, as QEMU does.  A pure state
 * machine on a byte stream, so a key may be split across reads.
 */
#ifndef MVX_ESCAPE_H
#define MVX_ESCAPE_H

#include <stddef.h>
#include <stdint.h>

#define ESCAPE_CHAR	0x01	/* Ctrl-A */

enum escape_cmd {
	ESCAPE_NONE,		/* only guest bytes */
	ESCAPE_QUIT,
	ESCAPE_HELP,
};

struct escape {
	int armed;		/* the last byte was a lone Ctrl-A */
};

void escape_init(struct escape *e);
/*
 * Take bytes from in[0..len) until the first command: the guest's bytes
 * among them go to out (room for len bytes), their number to *out_len, the
 * number of input bytes taken to *used.  Returns the command that stopped
 * the scan, or ESCAPE_NONE when all of in was taken.
 */
enum escape_cmd escape_filter(struct escape *e, const uint8_t *in, size_t len,
			      size_t *used, uint8_t *out, size_t *out_len);
/* The help text, one line per key. */
extern const char escape_help[];

#endif /* MVX_ESCAPE_H */
