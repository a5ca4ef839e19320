#!/bin/sh
# SPDX-License-Identifier: MIT
# hit_path_atomics.sh OBJDUMP LIBRARY - the cache lanes' machine code keeps
# the promise of cache/hit.h: a hit takes no lock and no atomic
# read-modify-write on what its thread slot owns (magazines, counters, the
# busy word). Allowed, and nothing else:
#   - in the free lanes, compare-and-swaps on one byte: the block's state
#     byte, whose live -> cached claim tells a double free exactly, racing
#     ones included (it is shared: another thread may free the same handle);
#   - the fence the owner makes on a machine without membarrier
#     (cache/quiesce.h), "lock or $0,(%rsp)" or "mfence".
# The allocation lanes must have no compare-and-swap at all. x86-64 only,
# optimised builds only (at -O0 the lanes call their helpers instead).
set -u
objdump=$1 lib=$2
fail() {
	echo "hit_path_atomics: $*" >&2
	exit 1
}
dis=$("$objdump" -d --no-show-raw-insn "$lib") || fail "$objdump could not disassemble $lib"

# body FUNCTION: the function's instructions, one per line, addresses cut,
# blanks squeezed, a lock prefix on its instruction's line.
body() {
	printf '%s\n' "$dis" | awk -v f="<$1>:" '$2 == f { p = 1; next } p && /^$/ { exit } p' |
		sed 's/^ *[0-9a-f]*:[[:space:]]*//; s/[[:space:]][[:space:]]*/ /g; s/, /,/g; s/ $//' |
		awk '$0 == "lock" { prefix = "lock "; next } { print prefix $0; prefix = "" }' # llvm-objdump's own line
}

fence='^(lock +or[bwlq]? +\$0x0,\(%rsp\)|mfence)'
byte_cas='^lock +cmpxchg[b]? +%([abcd]l|[sd]il|[sb]pl|r[0-9]+b),'
lanes="alloc_cache_lane_by_address alloc_cache_lane_permuted free_cache_lane_by_address free_cache_lane_permuted"
for lane in $lanes; do
	code=$(body "$lane")
	[ -n "$code" ] || fail "$lane not found in $lib: was the lane renamed? (core/src/dispatch.c)"
	# xchg with memory is locked without the prefix; between registers
	# ("xchg %ax,%ax" is a 2-byte nop) it touches no memory.
	rmw=$(printf '%s\n' "$code" | grep -E '^lock |^xchg[bwlq]? .*\(|mfence')
	bad=$(printf '%s\n' "$rmw" | grep -Ev "$fence" | grep -Ev "$byte_cas" | grep -v '^$')
	[ -z "$bad" ] || fail "$lane has atomic read-modify-writes a hit must not make: $(echo $bad)"
	cas=$(printf '%s\n' "$rmw" | grep -Ec "$byte_cas")
	case $lane in
	alloc_*) [ "$cas" -eq 0 ] || fail "$lane makes a compare-and-swap: an allocation hit needs none" ;;
	free_*) [ "$cas" -ge 1 ] || fail "$lane has no compare-and-swap on the state byte: double frees go unseen" ;;
	esac
	n=$(printf '%s\n' "$code" | wc -l)
	echo "$lane: $n instructions, $cas state-byte compare-and-swap(s), no other atomic read-modify-write"
done
