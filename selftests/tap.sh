# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shell selftests: one TAP line per check.  The caller
# sets n=0 and failed=0 and ends with [ "$failed" -eq 0 ].  Also the PC's
# clock, for the boot times make bench reads.
#
#   tap STATUS DESCRIPTION    "ok N - ..." when STATUS is 0, else "not ok"
#   uptime_cs                 the PC's uptime in hundredths of a second
#   seconds_since T0          uptime_cs - T0, in seconds (two decimals)

tap() {	# status, description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}

uptime_cs() {
	read -r up _ < /proc/uptime
	echo "${up%.*}${up#*.}"
}

seconds_since() {	# an earlier uptime_cs
	d=$(($(uptime_cs) - $1))
	printf '%d.%02d\n' $((d / 100)) $((d % 100))
}
