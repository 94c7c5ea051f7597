#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# scripts/exit-stats against minivmx-run --stats (issue 7): for the same
# guest run, the exits that reached userspace, per KVM exit reason, must be
# counted the same by the tracepoints and by the runner.  Prints TAP.
GUESTS=${MINIVMX_GUESTS:-/guests}
TMP=${TMPDIR:-/tmp}/exit_stats_test.$$
n=0
failed=0

. "$(dirname "$0")/tap.sh"

# "REASON COUNT" lines of exit-stats' userspace table.
traced_counts() {
	awk '/^userspace exit/ { on = 1; next }
	     on && /^total/ { exit }
	     on && NF == 2 { print $1, $2 }' "$TMP.out" | sort
}

# "REASON COUNT" lines of the runner's --stats table (last column: total).
runner_counts() {
	awk '/^--- minivmx-run statistics/ { on = 1; next }
	     on && /^exit reason/ { next }
	     on && /^all/ { exit }
	     on { print $1, $NF }' "$TMP.err" | sort
}

echo "TAP version 13"
echo "1..4"
if [ "${MVX_DEVICE:-/dev/minivmx}" != /dev/minivmx ]; then
	for i in 1 2 3 4; do
		echo "ok $i # SKIP the minivmx:* events belong to minivmx, not KVM"
	done
	exit 0
fi

for guest in hello-real.bin devtest.bin; do
	exit-stats --ports -- minivmx-run --stats "$GUESTS/$guest" \
		> "$TMP.out" 2> "$TMP.err" < /dev/null
	tap $? "exit-stats and minivmx-run $guest both succeed"

	traced=$(traced_counts)
	runner=$(runner_counts)
	if [ -n "$runner" ] && [ "$traced" = "$runner" ]; then
		tap 0 "$guest: traced userspace exits match --stats"
	else
		echo "# traced: $(echo "$traced" | tr '\n' ' ')"
		echo "# runner: $(echo "$runner" | tr '\n' ' ')"
		tap 1 "$guest: traced userspace exits match --stats"
	fi
done
rm -f "$TMP.out" "$TMP.err"
echo "# $((n - failed)) passed, $failed failed"
[ "$failed" -eq 0 ]
