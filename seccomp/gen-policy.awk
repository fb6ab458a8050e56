# SPDX-License-Identifier: Apache-2.0
#
# Turns a seccomp policy file (seccomp/<name>.policy) into something a build
# step can use. POSIX awk, no extensions: checked with gawk and mawk.
#
#   awk -v name=processor -f seccomp/gen-policy.awk seccomp/processor.policy
#       C header: static const struct sc_rule sc_processor_rules[] and
#       SC_PROCESSOR_RULES_N, for sc_install() in seccomp/filter.h.
#   awk -v name=processor -v format=names -f seccomp/gen-policy.awk FILE
#       "action syscall" lines (argument conditions dropped), the input for
#       coarser outer layers such as systemd SystemCallFilter= or OCI profiles.
#
# Grammar, one rule per line:
#
#   action  syscall  [cond ...]  # reason
#
#   action   allow | errno (errno fails the call with EPERM)
#   syscall  [a-z_][a-z0-9_]*, resolved by libseccomp at sc_install() time
#   cond     aN&MASK==VALUE (masked equality) or aN==VALUE (full equality);
#            N is 0..5, numbers are decimal or 0x-hex and fit in 64 bits; at
#            most 3 conditions per rule, each on a different argument, all
#            of which must hold
#   reason   mandatory: who needs the syscall, on the same line
#
# '#' at the start of a line (after blanks) makes a comment line. A blank line
# starts a new section; within a section rules are sorted by syscall name in
# byte order (as LC_ALL=C sort). A syscall appears at most once per file.
#
# Errors are reported as "file:line: message" on stderr, all of them, and then
# the exit status is 1 with nothing on stdout (the Makefile should also use
# .DELETE_ON_ERROR so a failed run leaves no half-written header).
#
# Adding an output format: write an emit_<format>() function that walks
# rules 1..nrules (see the arrays filled by parse_rule) and call it from END.

BEGIN {
	CONDS_MAX = 3
	nrules = 0
	nerrors = 0
	prev = ""
	if (format == "")
		format = "c"
	if (format != "c" && format != "names")
		fatal("unknown format '" format "' (want c or names)")
	if (name !~ /^[a-z][a-z0-9_]*$/)
		fatal("-v name=NAME is required ([a-z][a-z0-9_]*), got '" name "'")
}

function fatal(msg) {
	print "gen-policy.awk: " msg > "/dev/stderr"
	failed = 1
	exit 1
}

function error(msg) {
	print FILENAME ":" FNR ": " msg > "/dev/stderr"
	nerrors++
}

function trim(s) {
	sub(/^[ \t]+/, "", s)
	sub(/[ \t]+$/, "", s)
	return s
}

# A number fits in 64 bits: at most 16 hex digits, or a decimal no larger
# than 18446744073709551615 (compared as a string: awk numbers are doubles).
function fits_u64(num, digits) {
	if (num ~ /^0[xX]/) {
		digits = substr(num, 3)
		sub(/^0+/, "", digits)
		return length(digits) <= 16
	}
	digits = num
	sub(/^0+/, "", digits)
	if (length(digits) != 20)
		return length(digits) < 20
	return digits <= "18446744073709551615"
}

# Parses one "aN&MASK==VALUE" or "aN==VALUE" into cond_arg/mask/value[r, c].
function parse_cond(r, c, text, seen, arg, rest, mask, value, eq) {
	if (text !~ /^a[0-9]+(&(0[xX][0-9a-fA-F]+|[0-9]+))?==(0[xX][0-9a-fA-F]+|[0-9]+)$/) {
		error("malformed condition '" text "' (want aN&MASK==VALUE or aN==VALUE)")
		return 0
	}
	eq = index(text, "==")
	value = substr(text, eq + 2)
	rest = substr(text, 2, eq - 2)
	mask = ""
	if (index(rest, "&") > 0) {
		mask = substr(rest, index(rest, "&") + 1)
		rest = substr(rest, 1, index(rest, "&") - 1)
	}
	arg = rest + 0
	if (arg > 5) {
		error("condition '" text "': argument a" rest " out of range (a0..a5)")
		return 0
	}
	if (("a" arg) in seen) {
		error("condition '" text "': argument a" arg " is already compared in this rule")
		return 0
	}
	seen["a" arg] = 1
	if ((mask != "" && !fits_u64(mask)) || !fits_u64(value)) {
		error("condition '" text "': number does not fit in 64 bits")
		return 0
	}
	cond_arg[r, c] = arg
	cond_mask[r, c] = mask
	cond_value[r, c] = value
	return 1
}

# Parses "action syscall cond... # reason" into the rule arrays.
function parse_rule(line, hash, body, reason, f, nf, i, r, seen) {
	hash = index(line, "#")
	body = line
	reason = ""
	if (hash > 0) {
		body = trim(substr(line, 1, hash - 1))
		reason = trim(substr(line, hash + 1))
	}
	nf = split(body, f, /[ \t]+/)
	if (nf < 2) {
		error("want 'action syscall [conditions] # reason'")
		return
	}
	if (f[1] != "allow" && f[1] != "errno") {
		error("unknown action '" f[1] "' (want allow or errno)")
		return
	}
	if (f[2] !~ /^[a-z_][a-z0-9_]*$/) {
		error("bad syscall name '" f[2] "'")
		return
	}
	if (reason == "") {
		error(f[2] ": missing reason (append '# who needs it')")
		return
	}
	if (f[2] in line_of) {
		error(f[2] ": duplicate rule (first at line " line_of[f[2]] ")")
		return
	}
	if (prev != "" && f[2] <= prev) {
		error(f[2] ": not sorted (comes after '" prev "' in this section)")
		prev = f[2]
		return
	}
	if (nf - 2 > CONDS_MAX) {
		error(f[2] ": " (nf - 2) " conditions, at most " CONDS_MAX " allowed")
		return
	}
	r = nrules + 1
	for (i = 3; i <= nf; i++)
		if (!parse_cond(r, i - 2, f[i], seen))
			return
	nrules = r
	rule_action[r] = f[1]
	rule_name[r] = f[2]
	rule_ncond[r] = nf - 2
	rule_reason[r] = reason
	line_of[f[2]] = FNR
	prev = f[2]
}

{
	line = $0
	sub(/\r$/, "", line)
	line = trim(line)
	if (line == "")
		prev = ""
	else if (substr(line, 1, 1) != "#")
		parse_rule(line)
}

# C spelling of a policy number: suffixed so it is a 64-bit constant.
function c_u64(num) {
	return "UINT64_C(" num ")"
}

function emit_c(upper, r, c, reason, mask) {
	upper = toupper(name)
	print "/* Generated by seccomp/gen-policy.awk from " FILENAME "; do not edit. */"
	print "#ifndef BPFWARDEN_SECCOMP_" upper "_H"
	print "#define BPFWARDEN_SECCOMP_" upper "_H"
	print ""
	print "#include <stdint.h>"
	print ""
	print "#include \"seccomp/filter.h\""
	print ""
	print "static const struct sc_rule sc_" name "_rules[] = {"
	for (r = 1; r <= nrules; r++) {
		reason = rule_reason[r]
		gsub(/\*\//, "* /", reason)
		printf "\t/* %s */\n", reason
		printf "\t{.name = \"%s\", .action = %s, .ncond = %d", rule_name[r],
		       (rule_action[r] == "allow" ? "SC_ALLOW" : "SC_ERRNO"), rule_ncond[r]
		if (rule_ncond[r] > 0) {
			printf ", .cond = {"
			for (c = 1; c <= rule_ncond[r]; c++) {
				mask = cond_mask[r, c] == "" ? "UINT64_MAX" : c_u64(cond_mask[r, c])
				printf "%s{.arg = %d, .mask = %s, .value = %s}", (c > 1 ? ", " : ""),
				       cond_arg[r, c], mask, c_u64(cond_value[r, c])
			}
			printf "}"
		}
		print "},"
	}
	print "};"
	print ""
	print "#define SC_" upper "_RULES_N (sizeof(sc_" name "_rules) / sizeof(sc_" name "_rules[0]))"
	print ""
	print "#endif"
}

function emit_names(r) {
	for (r = 1; r <= nrules; r++)
		print rule_action[r], rule_name[r]
}

END {
	if (failed)
		exit 1
	if (nerrors == 0 && nrules == 0) {
		print FILENAME ": no rules" > "/dev/stderr"
		nerrors++
	}
	if (nerrors > 0)
		exit 1
	if (format == "c")
		emit_c()
	else if (format == "names")
		emit_names()
}
