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
# Reported: data records per CPU second of the mixed run (median, min, max),
# also above the baseline, and the peak RSS of the processor with
# REPLAY_CONNS connections open.
#
#   BENCH_ROUNDS       rounds (default 5)
#   REPLAY_CONNS       connections held open (default 10000)
#   REPLAY_EXCHANGES   exchanges, two data records each (default 500000)
set -u
export LC_ALL=C

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PROC=$ROOT/build/bpfwarden-processor
GEN=$ROOT/build/test/gen_stream
ROUNDS=${BENCH_ROUNDS:-5}
CONNS=${REPLAY_CONNS:-10000}
EXCH=${REPLAY_EXCHANGES:-500000}
WORK=$(mktemp -d /tmp/bpfw-replay.XXXXXX)
trap 'rm -rf "$WORK"' EXIT
chmod 755 "$WORK"

for f in "$PROC" "$GEN"; do
	[ -x "$f" ] || { echo "replay bench: $f is not built (make all build/test/gen_stream)" >&2; exit 1; }
done
CPU=$(taskset -pc $$ | awk -F': ' '{ print $2 }' | tr ',' '\n' | awk -F- '{ print $NF }' | tail -n 1)

"$GEN" "$WORK/conns.rec" "$CONNS" 0 || exit 1
"$GEN" "$WORK/mixed.rec" "$CONNS" "$EXCH" || exit 1
chmod 644 "$WORK"/*.rec

# run FILE: "cpu_seconds peak_rss_kib wall_seconds" of one
# replay as nobody on one CPU. CPU time (user + system), not wall time, is the
# figure: on a shared 2-CPU VM the wall time also counts waiting for the CPU.
run() {
	python3 - "$1" "$PROC" "$CPU" <<'EOF'
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

declare -a base mixed rss
for ((i = 0; i < ROUNDS; i++)); do
	if ((i % 2)); then order=(mixed conns); else order=(conns mixed); fi
	for w in "${order[@]}"; do
		r=$(run "$WORK/$w.rec") || exit 1
		if [ "$w" = conns ]; then
			base+=("$(cut -d' ' -f1 <<<"$r")")
		else
			mixed+=("$r")
		fi
	done
done

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
b=$(printf '%s\n' "${base[@]}" | median)
printf '%s\n' "${mixed[@]}" | awk -v b="$b" -v conns="$CONNS" -v cpu="$CPU" -v data="$DATA" -v req="$REQS" '
	{ t[NR] = $1; rss[NR] = $2; wall[NR] = $3 }
	END {
		n = asort(t); m = (n % 2) ? t[(n + 1) / 2] : (t[n / 2] + t[n / 2 + 1]) / 2
		asort(wall); wm = (n % 2) ? wall[(n + 1) / 2] : (wall[n / 2] + wall[n / 2 + 1]) / 2
		asort(rss); peak = rss[n]
		printf "replay: %d connections open, %d data records, %d request records per run, CPU %s\n", conns, data, req, cpu
		printf "replay: CPU time: baseline (connections only) median %.3f s; mixed median %.3f s (min %.3f, max %.3f); wall median %.3f s\n", b, m, t[1], t[n], wm
		printf "replay: data records/s per CPU second:       %.0f (min %.0f, max %.0f)\n", data / m, data / t[n], data / t[1]
		printf "replay: data records/s above the baseline:   %.0f\n", data / (m - b)
		printf "replay: peak RSS of the processor:           %.1f MiB (largest of %d runs)\n", peak / 1024, n
	}'
