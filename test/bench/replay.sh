#!/usr/bin/env bash
# Parsing throughput and memory of the processor, without a kernel: a
# recorded mixed stream (build/test/gen_stream: a third each HTTP/1.1,
# PostgreSQL simple queries and Redis, every message one TCP segment record,
# all connections open at once) replayed through the whole L7 path
# (validation, connection table, reassembly, detection, parsers, request
# records) with the output discarded, on one CPU.
#
# Two inputs, interleaved over BENCH_ROUNDS rounds:
#   conns-only   the same connections opened and held, no data: the cost of
#                reading the file and holding the table (baseline)
#   mixed        the same plus REPLAY_EXCHANGES request/response exchanges
#   mixed-noscrub  the mixed input through the same processor built with the
#                scrubber replaced by a raw copy (build/bench/, Makefile)
# Reported: data records per CPU second of the mixed run (median, min, max),
# also above the baseline, scrubbed request records per CPU second, what the
# scrubber adds to the parse cost ((mixed - baseline) / (mixed-noscrub -
# baseline) - 1, medians), and the peak RSS of the processor with
# REPLAY_CONNS connections open.
#
#   BENCH_ROUNDS       rounds (default 5)
#   REPLAY_CONNS       connections held open (default 10000)
#   REPLAY_EXCHANGES   exchanges, two data records each (default 500000)
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROC=$ROOT/build/bpfwarden-processor
NOSCRUB=$ROOT/build/bench/bpfwarden-processor-noscrub
GEN=$ROOT/build/test/gen_stream
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${REPLAY_CONNS:-10000}
EXCH=${REPLAY_EXCHANGES:-500000}
WORK=$(mktemp -d /tmp/bpfw-replay.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"

for f in "$PROC" "$GEN" "$NOSCRUB"; do
	[ -x "$f" ] || { echo "replay bench: $f is not built (make all build/test/gen_stream $NOSCRUB)" >&2; exit 1; }
done
CPU=$(taskset -pc $$ | awk -F': ' '{ print $2 }' | tr ',' '\n' | awk -F- '{ print $NF }' | tail -n 1)

"$GEN" "$WORK/conns.rec" "$CONNS" 0 || exit 1
"$GEN" "$WORK/mixed.rec" "$CONNS" "$EXCH" || exit 1
chmod 644 "$WORK"/*.rec

# run FILE [PROCESSOR]: "cpu_seconds peak_rss_kib wall_seconds" of one
# replay as nobody on one CPU. CPU time (user + system), not wall time, is the
# figure: on a shared 2-CPU VM the wall time also counts waiting for the CPU.
run() {
	python3 - "$1" "${2:-$PROC}" "$CPU" <<'EOF'
import resource, subprocess, sys, time, json
rec, proc, cpu = sys.argv[1:4]
t = time.monotonic()
r0 = resource.getrusage(resource.RUSAGE_CHILDREN)
p = subprocess.run(["taskset", "-c", cpu, "setpriv", "--reuid=65534", "--regid=65534",
                    "--clear-groups", proc, "--replay", rec, "--stats-interval", "0"],
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
dt = time.monotonic() - t
r1 = resource.getrusage(resource.RUSAGE_CHILDREN)
cpu = (r1.ru_utime + r1.ru_stime) - (r0.ru_utime + r0.ru_stime)
rss = r1.ru_maxrss
if p.returncode != 0:
    sys.exit("replay of %s failed: exit %d" % (rec, p.returncode))
print("%.6f %d %.6f" % (cpu, rss, dt))
EOF
}

# Once, untimed: the output is what the benchmark claims (every exchange a
# request record, every data record counted), so a broken parser cannot
# look fast.
setpriv --reuid=65534 --regid=65534 --clear-groups "$PROC" --replay "$WORK/mixed.rec" \
	--stats-interval 0 >"$WORK/check.out" 2>/dev/null || { echo "replay bench: check run failed" >&2; exit 1; }
REQS=$(grep -c '^{"kind":"request"' "$WORK/check.out")
DATA=$(grep '^{"kind":"stats"' "$WORK/check.out" | tail -n 1 | jq .processor.l7.data)
OKS=$(grep -c '^{"kind":"request".*"status":"ok"' "$WORK/check.out")
rm -f "$WORK/check.out"
if [ "$REQS" != "$EXCH" ] || [ "$OKS" != "$EXCH" ]; then
	echo "replay bench: $REQS request records ($OKS ok) for $EXCH exchanges" >&2
	exit 1
fi

declare -a base mixed noscrub rss
for ((i = 0; i < ROUNDS; i++)); do
	if ((i % 2)); then order=(noscrub mixed conns); else order=(conns mixed noscrub); fi
	for w in "${order[@]}"; do
		case $w in
		conns) r=$(run "$WORK/conns.rec") || exit 1; base+=("$(cut -d' ' -f1 <<<"$r")") ;;
		mixed) r=$(run "$WORK/mixed.rec") || exit 1; mixed+=("$r") ;;
		noscrub) r=$(run "$WORK/mixed.rec" "$NOSCRUB") || exit 1; noscrub+=("$(cut -d' ' -f1 <<<"$r")") ;;
		esac
	done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
b=$(printf '%s\n' "${base[@]}" | median)
ns=$(printf '%s\n' "${noscrub[@]}" | median)
printf '%s\n' "${mixed[@]}" | awk -v b="$b" -v ns="$ns" -v conns="$CONNS" -v cpu="$CPU" -v data="$DATA" -v req="$REQS" '
	{ t[NR] = $1; rss[NR] = $2; wall[NR] = $3 }
	END {
		n = asort(t); m = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
		asort(wall); wm = (n % 2) ? wall[(n + 1) / 2] : (wall[n / 2] + wall[n / 2 + 1]) / 2
		asort(rss); peak = rss[n]
		printf "replay: %d connections open, %d data records, %d request records per run, CPU %s\n", conns, data, req, cpu
		printf "replay: CPU time: baseline (connections only) median %.3f s; mixed median %.3f s (min %.3f, max %.3f); wall median %.3f s\n", b, m, t[1], t[n], wm
		printf "replay: data records/s per CPU second:       %.0f (min %.0f, max %.0f)\n", data / m, data / t[n], data / t[1]
		printf "replay: data records/s above the baseline:   %.0f\n", data / (m - b)
		printf "replay: scrubbed request records/s per CPU second: %.0f\n", req / m
		printf "replay: without the scrubber (mixed-noscrub) median %.3f s: the scrubber adds %.1f%% to the parse cost\n", ns, 100 * ((m - b) / (ns - b) - 1)
		printf "replay: peak RSS of the processor:           %.1f MiB (largest of %d runs)\n", peak / 1024, n
	}'
