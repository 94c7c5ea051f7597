# SPDX-License-Identifier: GPL-2.0
#
# Sourced by the shell selftests: one TAP line per check.  The caller
# sets n=0 and failed=0 and ends with [ "$failed" -eq 0 ].
#
#   tap STATUS DESCRIPTION    "ok N - ..." when STATUS is 0, else "not ok"

tap() {	# status, description
	n=$((n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $n - $2"
	else
		echo "not ok $n - $2"
		failed=$((failed + 1))
	fi
}
