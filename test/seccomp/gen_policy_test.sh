#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
#
# Tests seccomp/gen-policy.awk: every malformed policy is refused with a
# non-zero exit, "file:line: message" on stderr and nothing on stdout; good
# policies (including the real ones) generate a header that compiles and a
# names list. Runs each case under every awk found (awk, gawk, mawk), or
# only under $AWK if set. Last line: "N passed, M failed"; exit 1 on failure.
set -u

top=$(cd "$(dirname "$0")/../.." && pwd)
gen="$top/seccomp/gen-policy.awk"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/gen_policy_test.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
# Sort order is byte order; keep the locale out of it.
LC_ALL=C
export LC_ALL

passed=0
failed=0

pass() {
	passed=$((passed + 1))
}

fail() {
	failed=$((failed + 1))
	echo "FAIL [$awk] $*"
}

if [ -n "${AWK:-}" ]; then
	awks=$AWK
else
	awks=
	for a in awk gawk mawk; do
		command -v "$a" >/dev/null 2>&1 && awks="$awks $a"
	done
fi

# run NAME FILE [awk args...]: runs the generator, leaving out.txt/err.txt.
run() {
	policy_name=$1
	file=$2
	shift 2
	$awk -v name="$policy_name" "$@" -f "$gen" "$file" >"$tmp/out.txt" 2>"$tmp/err.txt"
}

# bad CASE LINE MESSAGE: the policy on stdin must fail at CASE.policy:LINE.
bad() {
	case_name=$1
	line=$2
	message=$3
	file="$tmp/$case_name.policy"
	cat >"$file"
	if run test "$file"; then
		fail "$case_name: accepted"
	elif [ -s "$tmp/out.txt" ]; then
		fail "$case_name: wrote output despite the error"
	elif ! grep -F -q -- "$file:$line: " "$tmp/err.txt"; then
		fail "$case_name: no '$file:$line:' in: $(cat "$tmp/err.txt")"
	elif ! grep -F -q -- "$message" "$tmp/err.txt"; then
		fail "$case_name: no '$message' in: $(cat "$tmp/err.txt")"
	else
		pass
	fi
}

bad_cases() {
	bad missing_reason 2 "read: missing reason" <<-'EOF'
	# header comment
	allow	read
	EOF
	bad empty_reason 1 "read: missing reason" <<-'EOF'
	allow	read	#   
	EOF
	bad unknown_action 2 "unknown action 'deny'" <<-'EOF'
	allow	close	# fds
	deny	read	# oops
	EOF
	bad missing_syscall 1 "want 'action syscall" <<-'EOF'
	allow	# a rule with no syscall
	EOF
	bad bad_name 1 "bad syscall name 'Read'" <<-'EOF'
	allow	Read	# capitalised
	EOF
	bad unsorted 3 "read: not sorted (comes after 'write'" <<-'EOF'
	allow	close	# fds
	allow	write	# stdout
	allow	read	# stdin
	EOF
	bad duplicate 4 "read: duplicate rule (first at line 1)" <<-'EOF'
	allow	read	# stdin

	# another section
	errno	read	# again
	EOF
	bad bad_condition 1 "malformed condition 'a2&&4==0'" <<-'EOF'
	allow	mmap	a2&&4==0	# doubled ampersand
	EOF
	bad condition_no_value 1 "malformed condition 'a2&0x4=='" <<-'EOF'
	allow	mmap	a2&0x4==	# no value
	EOF
	bad condition_single_eq 1 "malformed condition 'a1=15'" <<-'EOF'
	allow	kill	a1=15	# one '='
	EOF
	bad condition_arg_range 1 "argument a6 out of range" <<-'EOF'
	allow	mmap	a6==0	# there is no a6
	EOF
	bad condition_same_arg 1 "argument a2 is already compared" <<-'EOF'
	allow	mmap	a2&0x4==0 a2&0x1==1	# a2 twice
	EOF
	bad too_many_conditions 1 "4 conditions, at most 3" <<-'EOF'
	allow	mmap	a0==0 a1==0 a2==0 a3==0	# four
	EOF
	bad hex_too_big 1 "does not fit in 64 bits" <<-'EOF'
	allow	mmap	a2&0x10000000000000000==0	# 17 hex digits
	EOF
	bad decimal_too_big 1 "does not fit in 64 bits" <<-'EOF'
	allow	mmap	a2==18446744073709551616	# 2^64
	EOF
	bad first_of_two_errors 1 "unknown action 'permit'" <<-'EOF'
	permit	close	# fds
	allow	read
	EOF
	bad second_of_two_errors 2 "read: missing reason" <<-'EOF'
	permit	close	# fds
	allow	read
	EOF
}

# Usage errors: no line to point at, but still a non-zero exit and a reason.
usage_cases() {
	printf 'allow\tread\t# stdin\n' >"$tmp/one.policy"
	if run "" "$tmp/one.policy" || ! grep -q -- "-v name=NAME is required" "$tmp/err.txt"; then
		fail "missing name: not refused"
	else
		pass
	fi
	if run test "$tmp/one.policy" -v format=xml ||
		! grep -q "unknown format 'xml'" "$tmp/err.txt"; then
		fail "unknown format: not refused"
	else
		pass
	fi
	printf '# only comments\n\n' >"$tmp/empty.policy"
	if run test "$tmp/empty.policy" || ! grep -q "$tmp/empty.policy: no rules" "$tmp/err.txt"; then
		fail "empty policy: not refused"
	else
		pass
	fi
}

# compiles HEADER NAME: the generated header builds against seccomp/filter.h.
compiles() {
	cc=${CC:-cc}
	command -v "$cc" >/dev/null 2>&1 || return 0
	printf '#include "%s"\nconst struct sc_rule *p(void);\nconst struct sc_rule *p(void) { return sc_%s_rules; }\nunsigned long n = %s;\n' \
		"$1" "$2" "SC_$(echo "$2" | tr 'a-z' 'A-Z')_RULES_N" >"$tmp/use.c"
	$cc -std=gnu11 -Wall -Wextra -Werror -I"$top" -c "$tmp/use.c" -o "$tmp/use.o"
}

good_cases() {
	file="$tmp/good.policy"
	# Tabs and spaces, a CRLF line, comments between rules, two sections,
	# every condition form, hex and decimal up to 2^64-1.
	printf '%s\n' \
		'# A good policy.' \
		'allow   close                         # fds' \
		'  # an indented comment does not end the section' \
		'allow	mmap	a2&0x4==0	# never PROT_EXEC' \
		'allow	mremap	a0&0xFFFFffffFFFFffff==0 a1==18446744073709551615	# max values' \
		"allow	read	# stdin$(printf '\r')" \
		'' \
		'errno	bpf	a0==0 a1&1==1 a5==0x10	# three conditions; a new section may restart' >"$file"
	if ! run good "$file"; then
		fail "good policy refused: $(cat "$tmp/err.txt")"
	elif [ -s "$tmp/err.txt" ]; then
		fail "good policy: stderr not empty: $(cat "$tmp/err.txt")"
	elif ! grep -F -q '{.name = "mmap", .action = SC_ALLOW, .ncond = 1, .cond = {{.arg = 2, .mask = UINT64_C(0x4), .value = UINT64_C(0)}}},' "$tmp/out.txt"; then
		fail "good policy: mmap rule not generated as expected"
	elif ! grep -F -q '{.arg = 1, .mask = UINT64_MAX, .value = UINT64_C(18446744073709551615)}' "$tmp/out.txt"; then
		fail "good policy: aN==VALUE not generated with a full mask"
	elif ! grep -F -q '.ncond = 3' "$tmp/out.txt"; then
		fail "good policy: three conditions not generated"
	elif ! cp "$tmp/out.txt" "$tmp/good.h" || ! compiles "$tmp/good.h" good; then
		fail "good policy: generated header does not compile"
	else
		pass
	fi

	if run good "$file" -v format=names &&
		printf 'allow close\nallow mmap\nallow mremap\nallow read\nerrno bpf\n' |
		cmp -s - "$tmp/out.txt"; then
		pass
	else
		fail "good policy: names format: $(cat "$tmp/out.txt" "$tmp/err.txt")"
	fi

	for p in processor loader; do
		if run "$p" "$top/seccomp/$p.policy" && cp "$tmp/out.txt" "$tmp/$p.h" &&
			compiles "$tmp/$p.h" "$p"; then
			pass
		else
			fail "seccomp/$p.policy: $(cat "$tmp/err.txt")"
		fi
	done
}

for awk in $awks; do
	bad_cases
	usage_cases
	good_cases
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ] && [ "$passed" -gt 0 ]
