// SPDX-License-Identifier: GPL-2.0
/* Console escape keys: Ctrl-A x, Ctrl-A h, Ctrl-A Ctrl-A (see escape.h). */
#include "escape.h"

const char escape_help[] =
"minivmx-run console keys:\n"
"  Ctrl-A x       quit (exit status 0)\n"
"  Ctrl-A h       this help\n"
"  Ctrl-A Ctrl-A  send Ctrl-A to the guest\n";

void escape_init(struct escape *e)
{
	e->armed = 0;
}

/* The byte after a Ctrl-A: a command, or (Ctrl-A) a byte for the guest. */
static enum escape_cmd escaped_key(uint8_t c, uint8_t *out, size_t *out_len)
{
	switch (c) {
	case 'x':
		return ESCAPE_QUIT;
	case 'h':
	case '?':
		return ESCAPE_HELP;
	case ESCAPE_CHAR:
		out[(*out_len)++] = c;
		return ESCAPE_NONE;
	default:
		return ESCAPE_NONE;	/* dropped */
	}
}

enum escape_cmd escape_filter(struct escape *e, const uint8_t *in, size_t len,
			      size_t *used, uint8_t *out, size_t *out_len)
{
	enum escape_cmd cmd = ESCAPE_NONE;
	size_t i;

	*out_len = 0;
	for (i = 0; i < len && cmd == ESCAPE_NONE; i++) {
		if (e->armed) {
			e->armed = 0;
			cmd = escaped_key(in[i], out, out_len);
		} else if (in[i] == ESCAPE_CHAR) {
			e->armed = 1;
		} else {
			out[(*out_len)++] = in[i];
		}
	}
	*used = i;
	return cmd;
}
