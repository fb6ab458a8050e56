#!/usr/bin/env bash
# Real-kernel tests: load the real eBPF programs, run the real loader and
# processor, exec real marker binaries inside and outside a scoped cgroup,
# and read the two processes' privileges back from /proc.
#
# Needs root (it loads eBPF, creates cgroups, mounts bpffs if missing).
# A test that cannot load eBPF fails; nothing here skips.
set -u

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
LOADER=$ROOT/build/bpfwarden-loader
WORK=$(mktemp -d /tmp/bpfw-it.XXXXXX)
chmod 755 "$WORK"
PIN=/sys/fs/bpf/bpfw-it-$$
PASS=0
FAIL=0
FAILED_NAMES=()
LOADER_PID=""

log() { printf '%s\n' "$*" >&2; }

# shellcheck source=test/integration/fixtures.sh
. "$ROOT/test/integration/fixtures.sh"
. "$ROOT/test/integration/parsing.sh"
. "$ROOT/test/integration/leak.sh"
READER=$ROOT/build/test/l7_reader
WRITER=$ROOT/build/test/tcp_writer

# --- environment -------------------------------------------------------------
preflight() {
	if [ "$(id -u)" != 0 ]; then
		log "integration tests need root (they load eBPF): run them through 'make test'"
		exit 1
	fi
	grep -qs ' /sys/fs/bpf bpf ' /proc/mounts || mount -t bpf bpf /sys/fs/bpf || exit 1
	CG2=$(awk '$3 == "cgroup2" { print $2; exit }' /proc/mounts)
	if [ -z "$CG2" ]; then
		log "no cgroup2 mount in /proc/mounts"
		exit 1
	fi
	CG_IN=$CG2/bpfw-it-$$-in
	CG_OTHER=$CG2/bpfw-it-$$-other
	mkdir -p "$CG_IN" "$CG_OTHER" || exit 1
	[ -x "$LOADER" ] || { log "$LOADER is not built: run make"; exit 1; }
}

cleanup() {
	stop_loader KILL
	stop_servers
	pkill -KILL -f "bpfw-it-$$" 2>/dev/null
	rm -rf "$PIN" "$PIN-b" "$WORK"
	rmdir "$CG_IN" "$CG_OTHER" 2>/dev/null
}
trap cleanup EXIT

# --- helpers -----------------------------------------------------------------
# wait_for SECONDS CMD...: poll until CMD succeeds.
wait_for() {
	local deadline=$((SECONDS + $1))
	shift
	until "$@"; do
		[ "$SECONDS" -ge "$deadline" ] && return 1
		sleep 0.1
	done
}

# start_loader NAME ARGS...: loader in the background, output in $WORK/NAME.*
start_loader() {
	local name=$1
	shift
	OUT=$WORK/$name.out
	ERR=$WORK/$name.err
	# gone before the start: wait_ready must not read an earlier run's log
	rm -f "$OUT" "$ERR"
	"$@" >"$OUT" 2>"$ERR" &
	LOADER_PID=$!
}

ready() { grep -qs 'ready: sandboxed' "$ERR"; }

wait_ready() {
	if ! wait_for 20 ready; then
		log "processor never became ready; loader stderr:"
		sed 's/^/    /' "$ERR" >&2
		return 1
	fi
	PROC_PID=$(pgrep -P "$LOADER_PID" | head -n 1)
	[ -n "$PROC_PID" ]
}

# stop_loader [SIGNAL]: stop it and wait; LOADER_RC is its exit status.
stop_loader() {
	[ -n "$LOADER_PID" ] || return 0
	kill "-${1:-TERM}" "$LOADER_PID" 2>/dev/null
	wait "$LOADER_PID" 2>/dev/null
	LOADER_RC=$?
	LOADER_PID=""
}

# A copy of /bin/sh under a unique name: its exec shows that name as comm.
make_marker() {
	local m=$WORK/$1
	cp /bin/sh "$m"
	chmod 755 "$m"
	printf '%s' "$m"
}

# run_in_cgroup CGROUP CMD...: exec CMD as a process placed in CGROUP; its
# pid is left in $WORK/last.pid.
run_in_cgroup() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && echo $$ > "$1" && shift && exec "$@"' \
		"$cg" "$WORK/last.pid" "$@"
}

event() { # event KIND COMM: the first such event's JSON, or nothing
	jq -c --arg k "$1" --arg c "$2" 'select(.kind == $k and .comm == $c)' "$OUT" | head -n 1
}

has_event() { [ -n "$(event "$1" "$2")" ]; }

status_field() { awk -v f="$2:" '$1 == f { print $2 }' "/proc/$1/status"; }

links_of_ours() { # raw tracepoint links whose program is one of ours
	bpftool -j link show 2>/dev/null |
		jq '[.[] | select(.type == "raw_tracepoint" and
			(.tp_name == "sched_process_exec" or .tp_name == "sched_process_exit"))] | length'
}

check() { # check DESCRIPTION CMD...: one assertion inside a test
	local what=$1
	shift
	if ! "$@"; then
		log "    assertion failed: $what"
		return 1
	fi
}

not() { ! "$@"; }

run_test() {
	local name=$1
	log "--- $name"
	if "$name"; then
		PASS=$((PASS + 1))
		log "ok   $name"
	else
		FAIL=$((FAIL + 1))
		FAILED_NAMES+=("$name")
		log "FAIL $name"
	fi
	stop_loader KILL
	stop_servers
	rm -rf "$PIN" "$PIN-b"
}

# --- tests -------------------------------------------------------------------
test_no_scope_is_refused() {
	"$LOADER" --pin-dir "$PIN" >"$WORK/noscope.out" 2>"$WORK/noscope.err"
	local rc=$?
	check "exit code 2 (got $rc)" [ "$rc" = 2 ] &&
		check "names --cgroup" grep -q -- '--cgroup' "$WORK/noscope.err" &&
		check "names --system-wide" grep -q -- '--system-wide' "$WORK/noscope.err" &&
		check "pins nothing" [ ! -e "$PIN" ]
}

test_bad_scope_is_refused() {
	"$LOADER" --cgroup relative/path >/dev/null 2>"$WORK/rel.err"
	local rc1=$?
	"$LOADER" --pin-dir "$PIN" --cgroup /tmp >/dev/null 2>"$WORK/notcg.err"
	local rc2=$?
	check "relative path: exit 2 (got $rc1)" [ "$rc1" = 2 ] &&
		check "relative path named" grep -q 'not an absolute path' "$WORK/rel.err" &&
		check "non-cgroup dir: exit 1 (got $rc2)" [ "$rc2" = 1 ] &&
		check "non-cgroup named" grep -q 'not a cgroup-v2 directory' "$WORK/notcg.err"
}

# The core contract: in-scope exec/exit appear with correct fields, an
# out-of-scope exec does not, arguments are scrubbed, and both processes
# hold no privilege, as /proc shows.
test_scoped_events_and_privileges() {
	local in out secret=S3cr3t-$RANDOM$RANDOM
	in=$(make_marker "bpfw-in-$RANDOM")
	out=$(make_marker "bpfw-out-$RANDOM")
	start_loader scoped "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --stats-interval 1
	wait_ready || return 1

	(run_in_cgroup "$CG_IN" "$in" -c 'exit 3' marker "--password=$secret")
	local inpid
	inpid=$(cat "$WORK/last.pid")
	"$out" -c 'exit 0'
	(run_in_cgroup "$CG_OTHER" "$out" -c 'exit 0')
	local cgid base_in base_out
	cgid=$(stat -c %i "$CG_IN")
	base_in=$(basename "$in")
	base_out=$(basename "$out")
	wait_for 10 has_event exit "$base_in" || { log "    no exit event for $base_in"; return 1; }

	local exec exit_ev
	exec=$(event exec "$base_in")
	exit_ev=$(event exit "$base_in")
	log "    exec: $exec"
	log "    exit: $exit_ev"
	check "privileges" check_privileges "$LOADER_PID" loader 0000000000000000 &&
		check "processor privileges" check_privileges "$PROC_PID" processor 0000000000000000 &&
		check "exec pid" [ "$(jq .pid <<<"$exec")" = "$inpid" ] &&
		check "exec filename" [ "$(jq -r .filename <<<"$exec")" = "$in" ] &&
		check "exec cgroup id" [ "$(jq .cgroup_id <<<"$exec")" = "$cgid" ] &&
		check "exec uid/gid" [ "$(jq '[.uid, .gid]' -c <<<"$exec")" = "[0,0]" ] &&
		check "exec ppid is a live number" [ "$(jq '.ppid > 1' <<<"$exec")" = true ] &&
		check "exec args scrubbed" [ "$(jq -c .args <<<"$exec")" = \
			"$(jq -cn --arg m "$in" '[$m, "-c", "exit 3", "marker", "--password=[REDACTED]"]')" ] &&
		check "exec time is RFC 3339 UTC" grep -Eq '"time":"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\.[0-9]{9}Z"' <<<"$exec" &&
		check "exit code 3" [ "$(jq '[.exit_code, .exit_signal]' -c <<<"$exit_ev")" = "[3,0]" ] &&
		check "exit pid" [ "$(jq .pid <<<"$exit_ev")" = "$inpid" ] &&
		check "exit duration > 0" [ "$(jq '.duration_ns > 0' <<<"$exit_ev")" = true ] &&
		check "secret never written" not grep -q "$secret" "$OUT" "$ERR" &&
		check "out-of-scope exec absent" not grep -q "$base_out" "$OUT" &&
		check "stats record with kernel counters" wait_for 5 grep -q '"security_events_submitted":[1-9]' "$OUT" &&
		check "processor proved bpf() denied" grep -q 'bpf() denied' "$ERR" &&
		check "loader enforced Landlock" grep -q 'Landlock ABI' "$ERR" &&
		check "scope map frozen: no write" scope_map_frozen &&
		check "pins are private (0700)" [ "$(stat -c %a "$PIN")" = 700 ] &&
		check "every line is one JSON object" jq -e . "$OUT" >/dev/null
}

# check_privileges PID WHO BND: no capability, no_new_privs, seccomp filter.
check_privileges() {
	local pid=$1 who=$2 bnd=$3 f v
	grep -E '^(Uid|Cap[A-Za-z]+|NoNewPrivs|Seccomp):' "/proc/$pid/status" | sed "s/^/    $who: /" >&2
	for f in CapInh CapPrm CapEff CapAmb; do
		v=$(status_field "$pid" $f)
		[ "$v" = 0000000000000000 ] || { log "    $who $f=$v"; return 1; }
	done
	v=$(status_field "$pid" CapBnd)
	[ "$v" = "$bnd" ] || { log "    $who CapBnd=$v, expected $bnd"; return 1; }
	[ "$(status_field "$pid" NoNewPrivs)" = 1 ] || return 1
	[ "$(status_field "$pid" Seccomp)" = 2 ] || return 1
	if [ "$who" = processor ]; then
		[ "$(status_field "$pid" Uid)" != 0 ] || { log "    processor runs as uid 0"; return 1; }
	fi
}

scope_map_frozen() {
	local id
	id=$(bpftool -j map show pinned "$PIN/scope_cgroups" | jq .id) || return 1
	! bpftool map update id "$id" key hex 01 00 00 00 00 00 00 00 value hex 01 2>/dev/null
}

test_processor_death_ends_loader() {
	local before
	before=$(links_of_ours) # other agents on the machine may hold links too
	start_loader death "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	check "links attached" [ "$(links_of_ours)" = $((before + 2)) ] || return 1
	kill -KILL "$PROC_PID"
	local pid=$LOADER_PID
	wait_for 10 sh -c "! kill -0 $pid 2>/dev/null"
	wait "$pid"
	local rc=$?
	LOADER_PID=""
	check "loader exited non-zero (got $rc)" [ "$rc" != 0 ] &&
		check "says the processor was killed" grep -q 'killed by signal 9' "$ERR" &&
		check "pins removed" [ ! -e "$PIN" ] &&
		check "programs detached" [ "$(links_of_ours)" = "$before" ]
}

test_sigterm_stops_both_cleanly() {
	start_loader term "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	local ppid=$PROC_PID
	stop_loader TERM
	check "loader exit 0 (got $LOADER_RC)" [ "$LOADER_RC" = 0 ] &&
		check "processor gone" not kill -0 "$ppid" 2>/dev/null &&
		check "processor drained on IPC_STOP" grep -q 'asked us to stop' "$ERR" &&
		check "final stats record" grep -q '"kind":"stats"' "$OUT" &&
		check "pins removed" [ ! -e "$PIN" ]
}

# Exactly the capabilities the issue grants: no CAP_SETPCAP, so the bounding
# set cannot be cleared and keeps exactly these five (no_new_privs makes
# them unreachable; the loader says so).
test_runs_with_exact_capabilities() {
	local m five base
	m=$(make_marker "bpfw-cap-$RANDOM")
	base=$(basename "$m")
	# cap_setgid(6) cap_setuid(7) cap_net_admin(12) cap_perfmon(38) cap_bpf(39)
	five=$(printf '%016x' $(((1 << 6) | (1 << 7) | (1 << 12) | (1 << 38) | (1 << 39))))
	start_loader setpriv setpriv --bounding-set=-all,+bpf,+perfmon,+net_admin,+setuid,+setgid \
		--inh-caps=-all "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	(run_in_cgroup "$CG_IN" "$m" -c 'exit 0')
	check "event captured" wait_for 10 has_event exec "$base" &&
		check "loader privileges" check_privileges "$LOADER_PID" loader "$five" &&
		check "processor privileges" check_privileges "$PROC_PID" processor "$five" &&
		check "says what the bounding set keeps" grep -q 'bounding set keeps' "$ERR"
}

test_missing_cap_bpf_is_named() {
	setpriv --bounding-set=-all,+perfmon,+net_admin,+setuid,+setgid --inh-caps=-all \
		"$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" >/dev/null 2>"$WORK/nobpf.err"
	local rc=$?
	check "exit non-zero (got $rc)" [ "$rc" != 0 ] &&
		check "names CAP_BPF" grep -q 'missing capability CAP_BPF' "$WORK/nobpf.err" &&
		check "pins nothing" [ ! -e "$PIN" ]
}

test_missing_cap_setuid_is_named() {
	setpriv --bounding-set=-all,+bpf,+perfmon,+net_admin,+setgid --inh-caps=-all \
		"$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" >/dev/null 2>"$WORK/nosetuid.err"
	local rc=$?
	check "exit non-zero (got $rc)" [ "$rc" != 0 ] &&
		check "names CAP_SETUID" grep -q 'missing capability CAP_SETUID' "$WORK/nosetuid.err"
}

# --keep-pins leaves the programs attached; the next loader with the same
# scope reuses them without attaching a second time.
test_rerun_reuses_pins_without_double_attach() {
	local before m base
	before=$(links_of_ours)
	start_loader keep1 "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --keep-pins
	wait_ready || return 1
	stop_loader TERM
	check "pins kept" [ -e "$PIN/link_sched_process_exec" ] &&
		check "two links attached" [ "$(links_of_ours)" = $((before + 2)) ] || return 1
	m=$(make_marker "bpfw-re-$RANDOM")
	base=$(basename "$m")
	start_loader keep2 "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	(run_in_cgroup "$CG_IN" "$m" -c 'exit 0')
	check "reuse logged" grep -q 'reusing the [0-9]* programs and maps pinned' "$ERR" &&
		check "still two links" [ "$(links_of_ours)" = $((before + 2)) ] &&
		check "events flow through reused pins" wait_for 10 has_event exec "$base" || return 1
	stop_loader TERM
	check "unpinned at the end" [ ! -e "$PIN" ] &&
		check "detached at the end" [ "$(links_of_ours)" = "$before" ]
}

test_rerun_with_other_scope_is_refused() {
	start_loader keep "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --keep-pins
	wait_ready || return 1
	stop_loader TERM
	"$LOADER" --pin-dir "$PIN" --cgroup "$CG_OTHER" >/dev/null 2>"$WORK/other.err"
	local rc1=$?
	"$LOADER" --pin-dir "$PIN" --system-wide >/dev/null 2>"$WORK/sw.err"
	local rc2=$?
	check "other cgroup refused (rc $rc1)" [ "$rc1" = 1 ] &&
		check "says the configuration differs" grep -q 'another configuration' "$WORK/other.err" &&
		check "system-wide refused (rc $rc2)" [ "$rc2" = 1 ] &&
		check "says system-wide differs" grep -q 'another configuration' "$WORK/sw.err" &&
		check "pins left intact" [ -e "$PIN/link_sched_process_exec" ]
}

test_second_loader_on_same_pins_is_refused() {
	start_loader first "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	"$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" >/dev/null 2>"$WORK/second.err"
	local rc=$?
	check "second refused (rc $rc)" [ "$rc" = 1 ] &&
		check "says another loader holds it" grep -q 'another bpfwarden-loader' "$WORK/second.err" &&
		check "first still serving" kill -0 "$LOADER_PID"
}

test_exit_by_signal_is_reported() {
	local m base ev
	m=$(make_marker "bpfw-sig-$RANDOM")
	base=$(basename "$m")
	start_loader sig "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN"
	wait_ready || return 1
	(run_in_cgroup "$CG_IN" "$m" -c 'kill -KILL $$')
	wait_for 10 has_event exit "$base" || return 1
	ev=$(event exit "$base")
	check "exit_signal 9" [ "$(jq .exit_signal <<<"$ev")" = 9 ]
}

# Many events, stdout a character device: stdio must not need a syscall the
# sandbox forbids (glibc probes a char device with ioctl on first write).
test_system_wide_survives_load_and_devnull() {
	ERR=$WORK/sw.err
	"$LOADER" --pin-dir "$PIN" --system-wide -- --stats-interval 1 >/dev/null 2>"$ERR" &
	LOADER_PID=$!
	wait_ready || return 1
	for _ in $(seq 200); do /bin/true; done
	sleep 1.5
	stop_loader TERM
	check "loud system-wide warning" grep -q 'SYSTEM-WIDE capture' "$ERR" &&
		check "no seccomp violation" not grep -q 'seccomp denied' "$ERR" &&
		check "clean exit (rc $LOADER_RC)" [ "$LOADER_RC" = 0 ]
}

test_processor_refuses_root() {
	"$ROOT/build/bpfwarden-processor" --fd 3 3</dev/null >/dev/null 2>"$WORK/root.err"
	local rc=$?
	check "exit non-zero (rc $rc)" [ "$rc" != 0 ] &&
		check "says uid 0" grep -q 'refusing to run as uid 0' "$WORK/root.err"
}

# --- L7 capture ----------------------------------------------------------------
# jq over the processor's output
q() { jq -c "$@" "$OUT"; }

last_stats() { jq -c 'select(.kind == "stats")' "$OUT" | tail -n 1; }

# Plain HTTP and HTTPS from a scoped curl to a scoped nginx: connections,
# segments in both directions with matching sizes, TLS records tied to the
# connection; the same request from outside the scope leaves no trace.
test_l7_http_and_https_are_captured() {
	local path=/p-$RANDOM$RANDOM in_pid out_port cli srv
	start_nginx "$CG_IN" || return 1
	start_loader l7 "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --stats-interval 1 --data-records
	wait_ready || return 1
	run_in_cgroup "$CG_IN" curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP$path"
	in_pid=$(cat "$WORK/last.pid")
	run_in_cgroup "$CG_IN" curl -sk -o /dev/null "https://127.0.0.1:$NGX_HTTPS$path"
	curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP/outside"
	sleep 1
	stop_loader TERM
	cli=$(q --argjson p "$in_pid" 'select(.kind == "conn_open" and .pid == $p and .role == "client")' | head -n 1)
	log "    client conn: $cli"
	local cid sid eg in
	cid=$(jq '.conn_id' <<<"$cli")
	srv=$(q --arg r "$(jq -r .local <<<"$cli")" 'select(.kind == "conn_open" and .role == "server" and .remote == $r)' | head -n 1)
	sid=$(jq '.conn_id' <<<"$srv")
	eg=$(jq -s --argjson c "$cid" '[.[] | select(.kind == "data" and .conn_id == $c and .direction == "egress") | .length] | add' "$OUT")
	in=$(jq -s --argjson c "$sid" '[.[] | select(.kind == "data" and .conn_id == $c and .direction == "ingress") | .length] | add' "$OUT")
	out_port=$(q 'select(.kind == "conn_open" and .role == "client" and (.remote | endswith(":'"$NGX_HTTP"'")))' | wc -l)
	check "client connection to nginx" [ "$(jq -r .remote <<<"$cli")" = "127.0.0.1:$NGX_HTTP" ] &&
		check "server side seen" [ -n "$sid" ] && [ "$sid" != null ] &&
		check "request bytes > 0 and equal on both sockets ($eg / $in)" [ "${eg:-0}" -gt 0 ] && [ "$eg" = "$in" ] &&
		check "responses captured" [ "$(q --argjson c "$cid" 'select(.kind == "data" and .conn_id == $c and .direction == "ingress")' | wc -l)" -ge 1 ] &&
		check "close record with byte counts" [ "$(q --argjson c "$cid" 'select(.kind == "conn_close" and .conn_id == $c and .bytes_sent >= '"$eg"')' | wc -l)" = 1 ] &&
		check "processor reassembled the request stream without loss" [ "$(q --argjson c "$cid" 'select(.kind == "conn_close" and .conn_id == $c and .stream.egress.bytes_captured == '"$eg"' and .stream.egress.gap_bytes_lost == 0)' | wc -l)" = 1 ] &&
		check "TLS records from curl, tied to its connection" [ "$(q 'select(.kind == "tls_data" and .comm == "curl" and .direction == "egress" and .conn_id != null)' | wc -l)" -ge 1 ] &&
		check "TLS records from nginx" [ "$(q 'select(.kind == "tls_data" and .comm == "nginx")' | wc -l)" -ge 1 ] &&
		check "only the scoped HTTP client was seen ($out_port)" [ "$out_port" = 1 ] &&
		check "no payload in connection or segment records (the path is absent)" \
			not grep -q -- "$path" <(q 'select(.kind != "exec" and .kind != "request")') &&
		check "the path is parsed into request records (templated when its digits look like an id)" \
			[ "$(q --arg p "$path" 'select(.kind == "request" and (.attributes["url.path"] | IN($p, "/{id}")))' | wc -l)" -ge 2 ] &&
		check "nothing dropped" [ "$(last_stats | jq .kernel.l7_records_dropped_ringbuf_full)" = 0 ]
}

# By default segments are counted, not written: connection records only.
test_l7_default_writes_connections_not_segments() {
	start_nginx "$CG_IN" || return 1
	start_loader l7d "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --stats-interval 0
	wait_ready || return 1
	run_in_cgroup "$CG_IN" curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP/"
	sleep 0.5
	stop_loader TERM
	check "connection records written" [ "$(q 'select(.kind == "conn_close")' | wc -l)" -ge 2 ] &&
		check "no segment records written" [ "$(q 'select(.kind == "data" or .kind == "tls_data")' | wc -l)" = 0 ] &&
		check "segments counted" [ "$(last_stats | jq .processor.l7.data)" -ge 2 ]
}

# The plaintext itself, checked inside the test (l7_reader) and never printed.
test_l7_tls_plaintext_is_the_request() {
	local path=/tls-$RANDOM$RANDOM rpid
	start_nginx "$CG_IN" || return 1
	start_loader keep "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --keep-pins
	wait_ready || return 1
	stop_loader TERM
	"$READER" "$PIN" 10 tls-prefix "GET $path HTTP/1.1" >"$WORK/reader.out" 2>&1 &
	rpid=$!
	wait_for 5 grep -q ready "$WORK/reader.out"
	run_in_cgroup "$CG_IN" curl -sk -o /dev/null "https://127.0.0.1:$NGX_HTTPS$path"
	wait "$rpid"
	local rc=$?
	cat "$WORK/reader.out" >&2
	check "plaintext starts with the request line" [ "$rc" = 0 ]
}

test_l7_redis_and_postgres_are_captured() {
	start_redis "$CG_IN" || return 1
	start_postgres "$CG_IN" || return 1
	start_loader db "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --data-records
	wait_ready || return 1
	run_in_cgroup "$CG_IN" redis-cli -p "$REDIS_PORT" SET bpfw-key value >/dev/null
	run_in_cgroup "$CG_IN" psql -h 127.0.0.1 -p "$PG_PORT" -U postgres -Atc 'select 1' >/dev/null
	sleep 1
	stop_loader TERM
	local r p
	r=$(q 'select(.kind == "data" and .comm == "redis-cli" and (.remote | endswith(":'"$REDIS_PORT"'")))' | jq -s 'map(.direction) | unique | join(",")')
	p=$(q 'select(.kind == "data" and .comm == "psql" and (.remote | endswith(":'"$PG_PORT"'")))' | jq -s 'map(.direction) | unique | join(",")')
	check "redis both directions ($r)" [ "$r" = '"egress,ingress"' ] &&
		check "postgres both directions ($p)" [ "$p" = '"egress,ingress"' ]
}

test_l7_tls_with_exact_capabilities() {
	start_nginx "$CG_IN" || return 1
	start_loader setpriv setpriv --bounding-set=-all,+bpf,+perfmon,+net_admin,+setuid,+setgid \
		--inh-caps=-all "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --data-records
	wait_ready || return 1
	run_in_cgroup "$CG_IN" curl -sk -o /dev/null "https://127.0.0.1:$NGX_HTTPS/"
	sleep 1
	stop_loader TERM
	check "uprobe_multi attached without CAP_SYS_ADMIN" grep -q 'TLS: probing' "$ERR" &&
		check "TLS records captured" [ "$(q 'select(.kind == "tls_data")' | wc -l)" -ge 2 ]
}

# Overfill a small L7 ring buffer that is drained slowly: drops are counted
# per reason, and every security event in the other ring buffer arrives.
test_l7_flood_keeps_security_events() {
	local m base n=40 i st
	start_nginx "$CG_IN" || return 1
	m=$(make_marker "bpfw-fl-$RANDOM")
	base=$(basename "$m")
	start_loader flood "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --ringbuf-l7 16384 \
		--capture-bytes 16384 -- --drain-interval-ms 1000 --stats-interval 0
	wait_ready || return 1
	local curls=()
	for i in $(seq 5); do
		run_in_cgroup "$CG_IN" curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP/big" &
		curls+=($!)
	done
	for i in $(seq "$n"); do
		(run_in_cgroup "$CG_IN" "$m" -c 'exit 0')
	done
	wait "${curls[@]}"
	sleep 1.5
	stop_loader TERM
	st=$(last_stats)
	log "    $(jq -c '{l7_sub: .kernel.l7_records_submitted, l7_drop: .kernel.l7_records_dropped_ringbuf_full, sec_drop: .kernel.security_events_dropped_ringbuf_full}' <<<"$st")"
	check "L7 drops counted" [ "$(jq .kernel.l7_records_dropped_ringbuf_full <<<"$st")" -gt 0 ] &&
		check "no security event dropped" [ "$(jq .kernel.security_events_dropped_ringbuf_full <<<"$st")" = 0 ] &&
		check "all $n exec events delivered" [ "$(q --arg c "$base" 'select(.kind == "exec" and .comm == $c)' | wc -l)" = "$n" ] &&
		check "all $n exit events delivered" [ "$(q --arg c "$base" 'select(.kind == "exit" and .comm == $c)' | wc -l)" = "$n" ]
}

# Small writes, a writev and segments larger than the capture size come back
# in order; bytes beyond the capture size are truncation gaps, never data.
test_l7_reassembly_in_order() {
	local port=$((35000 + $$ % 5000)) rpid out
	head -c 300000 /dev/urandom >"$WORK/stream"
	start_loader keep "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --keep-pins --capture-bytes 16384
	wait_ready || return 1
	stop_loader TERM
	"$READER" "$PIN" 15 reassemble "$port" "$WORK/stream" >"$WORK/reasm.out" 2>&1 &
	rpid=$!
	wait_for 5 grep -q ready "$WORK/reasm.out"
	run_in_cgroup "$CG_IN" "$WRITER" "$port" "$WORK/stream"
	wait "$rpid"
	local rc=$?
	out=$(grep reassemble: "$WORK/reasm.out")
	log "    $out"
	check "stream rebuilt: every byte at its offset, gaps exact" [ "$rc" = 0 ] &&
		check "no segment lost" grep -q ' lost=0 ' <<<"$out" &&
		check "large segments cut at the capture size" not grep -q ' truncated=0 ' <<<"$out"
}

# A full ring buffer loses segments: the stream shows a counted gap there and
# the bytes after it at their true offsets, never spliced.
test_l7_lost_segments_are_gaps() {
	local port=$((40000 + $$ % 5000)) rpid out
	head -c 2000000 /dev/urandom >"$WORK/stream"
	start_loader keep "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --keep-pins \
		--ringbuf-l7 65536 --capture-bytes 4096
	wait_ready || return 1
	stop_loader TERM
	"$READER" "$PIN" 15 reassemble "$port" "$WORK/stream" --delay-ms 1500 >"$WORK/lost.out" 2>&1 &
	rpid=$!
	wait_for 5 grep -q ready "$WORK/lost.out"
	TCP_WRITER_PAUSE_AT=1000000 TCP_WRITER_PAUSE_MS=3000 run_in_cgroup "$CG_IN" "$WRITER" "$port" "$WORK/stream"
	wait "$rpid"
	out=$(grep reassemble: "$WORK/lost.out")
	log "    $out"
	check "nothing spliced" grep -q ' mismatched=0 overrun=0 ' <<<"$out" &&
		check "the loss is a counted gap" not grep -q ' lost=0 ' <<<"$out" &&
		check "bytes after the gap delivered" [ "$(sed -n 's/.* delivered=\([0-9]*\) .*/\1/p' <<<"$out")" -gt 0 ]
}

# --port narrows capture to connections with that local or remote port: the
# nginx traffic is written, the redis traffic of the same cgroup is not even
# opened, and the segments left out are counted.
# shellcheck disable=SC2016 # $p and $0 are jq's and the inner bash's
test_l7_port_filter_narrows_capture() {
	local ngx redis redis_open filtered
	start_nginx "$CG_IN" || return 1
	start_redis "$CG_IN" || return 1
	start_loader l7port "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --port "$NGX_HTTP" \
		-- --data-records --stats-interval 0
	wait_ready || return 1
	run_in_cgroup "$CG_IN" curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP/"
	run_in_cgroup "$CG_IN" redis-cli -p "$REDIS_PORT" PING >"$WORK/redis.resp"
	sleep 0.5
	stop_loader TERM
	ngx=$(q --arg p ":$NGX_HTTP" 'select(.kind == "data" and (.remote | endswith($p)))' | wc -l)
	redis=$(q --arg p ":$REDIS_PORT" \
		'select(.kind == "data" and ((.remote | endswith($p)) or (.local | endswith($p))))' | wc -l)
	redis_open=$(q --arg p ":$REDIS_PORT" \
		'select(.kind == "conn_open" and ((.remote | endswith($p)) or (.local | endswith($p))))' | wc -l)
	filtered=$(last_stats | jq .kernel.l7_filtered_port_comm)
	log "    nginx data=$ngx redis data=$redis redis conn_open=$redis_open filtered=$filtered"
	check "redis answered PING" grep -q PONG "$WORK/redis.resp" &&
		check "nginx segments written ($ngx)" [ "$ngx" -ge 1 ] &&
		check "no redis segment ($redis)" [ "$redis" = 0 ] &&
		check "no redis connection opened ($redis_open)" [ "$redis_open" = 0 ] &&
		check "filtered segments counted ($filtered)" [ "${filtered:-0}" -gt 0 ]
}

# --comm narrows capture to sockets their creator's comm allows: curl's client
# sockets are written; a bash client of the same server and nginx's own
# (accepted) sockets are not, and the segments left out are counted.
# shellcheck disable=SC2016 # $p and $0 are jq's and the inner bash's
test_l7_comm_filter_narrows_capture() {
	local curl_n bash_n nginx_n filtered
	start_nginx "$CG_IN" || return 1
	start_loader l7comm "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" --comm curl \
		-- --data-records --stats-interval 0
	wait_ready || return 1
	run_in_cgroup "$CG_IN" curl -s -o /dev/null "http://127.0.0.1:$NGX_HTTP/"
	run_in_cgroup "$CG_IN" bash -c 'exec 3<>"/dev/tcp/127.0.0.1/$0"; printf "GET / HTTP/1.0\r\n\r\n" >&3; cat <&3' "$NGX_HTTP" >"$WORK/bash.resp"
	sleep 0.5
	stop_loader TERM
	curl_n=$(q 'select(.kind == "data" and .comm == "curl")' | wc -l)
	bash_n=$(q 'select(.kind == "data" and .comm == "bash")' | wc -l)
	nginx_n=$(q 'select(.kind == "data" and .comm == "nginx")' | wc -l)
	filtered=$(last_stats | jq .kernel.l7_filtered_port_comm)
	log "    curl data=$curl_n bash data=$bash_n nginx data=$nginx_n filtered=$filtered"
	check "nginx answered the bash client" grep -q hello "$WORK/bash.resp" &&
		check "curl segments written ($curl_n)" [ "$curl_n" -ge 1 ] &&
		check "curl segments are its client side" [ "$(q --arg p ":$NGX_HTTP" \
			'select(.kind == "data" and .comm == "curl" and (.remote | endswith($p) | not))' | wc -l)" = 0 ] &&
		check "no bash segment ($bash_n)" [ "$bash_n" = 0 ] &&
		check "no nginx segment ($nginx_n)" [ "$nginx_n" = 0 ] &&
		check "only curl's segments written" [ "$(q 'select(.kind == "data" and .comm != "curl")' | wc -l)" = 0 ] &&
		check "filtered segments counted ($filtered)" [ "${filtered:-0}" -gt 0 ]
}

# --- main --------------------------------------------------------------------
preflight
# run.sh [TEST...]: all tests, or the named ones.
tests=("$@")
[ "${#tests[@]}" -gt 0 ] || mapfile -t tests < <(declare -F | awk '$3 ~ /^test_/ { print $3 }')
for t in "${tests[@]}"; do
	run_test "$t"
done
if [ "$FAIL" -gt 0 ]; then
	log "failed: ${FAILED_NAMES[*]}"
fi
echo "integration: $PASS passed, $FAIL failed"
[ "$FAIL" = 0 ]
