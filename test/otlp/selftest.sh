#!/usr/bin/env bash
# Self-test of the strict OTLP/HTTP test receiver (receiver.js): known-valid traces, logs and
# metrics are accepted (JSON, gzip, protobuf), a table of broken requests is refused with 400
# and the expected reason, and every fault mode behaves (injected status + Retry-After, delay,
# outage by signal and by file, TLS and mTLS, required headers). Loopback only; every receiver
# started here has --max-runtime and is killed on exit.
# Needs: node + test/otlp/node_modules (make deps), curl, jq, gzip, openssl.
set -u

DIR=$(cd "$(dirname "$0")" && pwd)
WORK=$(mktemp -d /tmp/otlp-selftest.XXXXXX)
PASS=0
FAIL=0
FAILED=()
PIDS=()

log() { printf '%s\n' "$*" >&2; }

cleanup() {
	local p
	for p in "${PIDS[@]}"; do
		kill "$p" 2>/dev/null
	done
	wait 2>/dev/null
	rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -d "$DIR/node_modules/protobufjs" ]; then
	log "test/otlp/node_modules is missing: run 'make deps' (or sh test/deps.sh)"
	exit 1
fi

ok() {
	PASS=$((PASS + 1))
	log "  ok   $1"
}

bad() {
	FAIL=$((FAIL + 1))
	FAILED+=("$1")
	log "  FAIL $1: $2"
}

# start NAME ARGS...: a receiver in the background; sets PORT and OUT (its JSON lines).
start() {
	local name=$1 i
	shift
	OUT=$WORK/$name.jsonl
	rm -f "$WORK/$name.port"
	node "$DIR/receiver.js" --port 0 --port-file "$WORK/$name.port" --out "$OUT" \
		--max-runtime 120 "$@" >"$WORK/$name.stdout" 2>"$WORK/$name.stderr" &
	PIDS+=($!)
	LAST_PID=$!
	for i in $(seq 100); do
		[ -s "$WORK/$name.port" ] && break
		sleep 0.05
	done
	PORT=$(cat "$WORK/$name.port" 2>/dev/null)
	if [ -z "$PORT" ]; then
		log "receiver $name did not start:"
		cat "$WORK/$name.stderr" >&2
		exit 1
	fi
}

# post URL CTYPE FILE [curl args...]: prints the HTTP status (000 when no answer).
post() {
	local url=$1 ctype=$2 file=$3
	shift 3
	curl -sS -o "$WORK/resp" -w '%{http_code}' -H "Content-Type: $ctype" \
		--data-binary "@$file" "$@" "$url" 2>"$WORK/curl.err"
}

# expect NAME WANT GOT
expect() {
	if [ "$3" = "$2" ]; then ok "$1"; else bad "$1" "want $2, got $3"; fi
}

last_line() { tail -n 1 "$OUT"; }

# --- valid requests ------------------------------------------------------------------------
start main
BASE=http://127.0.0.1:$PORT
if head -n 1 "$WORK/main.stdout" | grep -qx "listening 127.0.0.1:$PORT"; then
	ok "first stdout line is 'listening 127.0.0.1:$PORT'"
else
	bad "listening line" "$(head -n 1 "$WORK/main.stdout")"
fi

for s in traces logs metrics; do
	expect "valid $s (JSON) accepted" 200 "$(post "$BASE/v1/$s" application/json "$DIR/fixtures/$s.json")"
	if jq -e --slurpfile want "$DIR/fixtures/$s.json" \
		'.result == "accepted" and .signal == "'$s'" and .body == $want[0] and (.received_at | type) == "string"' \
		<<<"$(last_line)" >/dev/null; then
		ok "valid $s recorded with its body"
	else
		bad "valid $s recorded with its body" "$(last_line | cut -c1-300)"
	fi
	gzip -c "$DIR/fixtures/$s.json" >"$WORK/$s.json.gz"
	expect "valid $s (gzip) accepted" 200 \
		"$(post "$BASE/v1/$s" application/json "$WORK/$s.json.gz" -H 'Content-Encoding: gzip')"
	node "$DIR/validate.js" --to-protobuf "$s" "$DIR/fixtures/$s.json" >"$WORK/$s.pb"
	expect "valid $s (protobuf) accepted" 200 \
		"$(post "$BASE/v1/$s" application/x-protobuf "$WORK/$s.pb")"
	if jq -e --slurpfile want "$DIR/fixtures/$s.json" '.body == $want[0]' <<<"$(last_line)" >/dev/null; then
		ok "protobuf $s decoded to the same OTLP/JSON"
	else
		bad "protobuf $s decoded to the same OTLP/JSON" "$(last_line | cut -c1-300)"
	fi
done
expect "accepted items counted" '{"traces":6,"logs":6,"metrics":15}' \
	"$(curl -sS "$BASE/-/stats" | jq -c .items)"

# --- invalid requests: NAME | SIGNAL | jq filter on the valid fixture | reason substring -----
S='.resourceSpans[0].scopeSpans[0].spans[0]'
L='.resourceLogs[0].scopeLogs[0].logRecords[0]'
M='.resourceMetrics[0].scopeMetrics[0].metrics'
H="${M}[1].histogram.dataPoints[0]"
CASES=(
	"traceId 31 hex chars|traces|$S.traceId = \"5b8efff798038103d269b633813fc60\"|32 lowercase hex"
	"traceId uppercase|traces|$S.traceId = \"5B8EFFF798038103D269B633813FC60C\"|uppercase hex"
	"traceId all zero|traces|$S.traceId = \"00000000000000000000000000000000\"|all-zero id"
	"traceId base64|traces|$S.traceId = \"W47/95gDgQPSabYzgT/GDA==\"|32 lowercase hex"
	"spanId 18 chars|traces|$S.spanId = \"eee19b7ec3c1b17400\"|16 lowercase hex"
	"parentSpanId not hex|traces|$S.parentSpanId = \"zzzzzzzzzzzzzzzz\"|16 lowercase hex"
	"span missing traceId|traces|del($S.traceId)|traceId: is required"
	"kind out of range|traces|$S.kind = 9|not a value of enum SpanKind"
	"kind as enum name|traces|$S.kind = \"SPAN_KIND_SERVER\"|must be an integer, not a name"
	"kind unspecified|traces|del($S.kind)|SPAN_KIND_UNSPECIFIED"
	"status code out of range|traces|$S.status.code = 3|not a value of enum StatusCode"
	"unknown field|traces|$S.foo = 1|unknown field"
	"snake_case field name|traces|$S.start_time_unix_nano = $S.startTimeUnixNano|use \"startTimeUnixNano\""
	"timestamp as float number|traces|$S.startTimeUnixNano = 1.5|non-integer number"
	"timestamp as float string|traces|$S.startTimeUnixNano = \"1700000000000000000.5\"|not a decimal integer string"
	"timestamp as JSON number|traces|$S.endTimeUnixNano = 1700000000012500000|must be a decimal string"
	"timestamp beyond uint64|traces|$S.endTimeUnixNano = \"18446744073709551616\"|out of range"
	"end before start|traces|$S.endTimeUnixNano = \"1600000000000000000\"|is before"
	"empty span name|traces|$S.name = \"\"|span name is required"
	"null field|traces|$S.name = null|null is not allowed"
	"AnyValue two variants|traces|$S.attributes[0].value = {stringValue: \"a\", intValue: \"1\"}|more than one member of oneof"
	"AnyValue empty|traces|$S.attributes[0].value = {}|exactly one of"
	"KeyValue empty key|traces|$S.attributes[0].key = \"\"|attribute key is required"
	"duplicate attribute key|traces|$S.attributes[1].key = \"http.request.method\"|duplicate attribute key"
	"intValue as number|traces|$S.attributes[2].value.intValue = 200|must be a decimal string"
	"bytesValue not base64|traces|$S.attributes[7].value.bytesValue = \"%%%\"|not valid base64"
	"uint32 as string|traces|$S.droppedAttributesCount = \"1\"|JSON integer number"
	"string as number|traces|$S.name = 5|string expected"
	"traces body to /v1/logs|logs|.|unknown field (not in opentelemetry.proto.collector.logs.v1"
	"severityNumber 25|logs|$L.severityNumber = 25|not a value of enum SeverityNumber"
	"log spanId without traceId|logs|$L.spanId = \"eee19b7ec3c1b174\"|required when spanId is set"
	"bucketCounts length|metrics|$H.bucketCounts = [\"3\",\"6\",\"3\"]|must be explicitBounds (3) + 1"
	"bucketCounts sum != count|metrics|$H.count = \"13\"|bucketCounts add up to 12"
	"explicitBounds not increasing|metrics|$H.explicitBounds = [0.005, 0.005, 0.1]|strictly increasing"
	"temporality unspecified|metrics|${M}[0].sum.aggregationTemporality = 0|MUST not be used"
	"metric without data|metrics|del(${M}[2].gauge)|exactly one of gauge/sum"
	"point with asDouble and asInt|metrics|${M}[2].gauge.dataPoints[0].asInt = \"1\"|more than one member of oneof value"
	"point without timeUnixNano|metrics|del(${M}[2].gauge.dataPoints[0].timeUnixNano)|timeUnixNano: is required"
	"exp histogram count mismatch|metrics|${M}[3].exponentialHistogram.dataPoints[0].count = \"7\"|zeroCount + positive"
	"quantiles not increasing|metrics|${M}[4].summary.dataPoints[0].quantileValues[0].quantile = 1|strictly increasing"
	"quantile above 1|metrics|${M}[4].summary.dataPoints[0].quantileValues[1].quantile = 1.5|must be in [0.0, 1.0]"
)
for c in "${CASES[@]}"; do
	IFS='|' read -r name signal filter reason <<<"$c"
	if [ "$signal" = logs ] && [ "$filter" = . ]; then src=traces; else src=$signal; fi
	if ! jq "$filter" "$DIR/fixtures/$src.json" >"$WORK/bad.json" 2>"$WORK/jq.err"; then
		bad "$name" "jq filter failed: $(cat "$WORK/jq.err")"
		continue
	fi
	got=$(post "$BASE/v1/$signal" application/json "$WORK/bad.json")
	line=$(last_line)
	if [ "$got" = 400 ] && jq -e --arg r "$reason" '.result == "rejected" and (.reason | contains($r))' \
		<<<"$line" >/dev/null && jq -e --arg r "$reason" '.code == 3 and (.message | contains($r))' \
		"$WORK/resp" >/dev/null; then
		ok "rejected: $name"
	else
		bad "rejected: $name" "status $got, reason: $(jq -r .reason <<<"$line")"
	fi
done

# raw-text cases the jq filters cannot express
sed 's/"name": "SELECT",/"name": "SELECT", "name": "again",/' "$DIR/fixtures/traces.json" >"$WORK/dup.json"
printf '{"resourceSpans": [' >"$WORK/trunc.json"
printf '\xef\xbb\xbf{}' >"$WORK/bom.json"
printf '{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"body":{"stringValue":"\xff\xfe"}}]}]}]}' >"$WORK/utf8.json"
head -c 40 "$WORK/traces.pb" >"$WORK/trunc.pb"
printf '\xa8\x1f\x01' >"$WORK/unknown.pb" # field 501, varint
for c in "duplicate JSON key|application/json|dup.json|duplicate JSON object key \"name\"" \
	"truncated JSON|application/json|trunc.json|not valid JSON" \
	"byte order mark|application/json|bom.json|byte order mark" \
	"invalid UTF-8|application/json|utf8.json|not valid UTF-8" \
	"truncated protobuf|application/x-protobuf|trunc.pb|protobuf decode failed" \
	"protobuf unknown field|application/x-protobuf|unknown.pb|unknown field number 501"; do
	IFS='|' read -r name ctype file reason <<<"$c"
	sig=traces
	[ "$file" = utf8.json ] && sig=logs
	got=$(post "$BASE/v1/$sig" "$ctype" "$WORK/$file")
	if [ "$got" = 400 ] && jq -e --arg r "$reason" '.reason | contains($r)' <<<"$(last_line)" >/dev/null; then
		ok "rejected: $name"
	else
		bad "rejected: $name" "status $got, reason: $(last_line | jq -r .reason)"
	fi
done

expect "int64 as JSON number refused by default" 400 \
	"$(post "$BASE/v1/traces" application/json <(jq "$S.startTimeUnixNano = 1700000000000000000" "$DIR/fixtures/traces.json"))"
expect "unknown path -> 404" 404 "$(post "$BASE/v1/profiles" application/json "$DIR/fixtures/traces.json")"
expect "GET -> 405" 405 "$(curl -sS -o /dev/null -w '%{http_code}' "$BASE/v1/traces")"
expect "text/plain -> 415" 415 "$(post "$BASE/v1/traces" text/plain "$DIR/fixtures/traces.json")"
expect "Content-Encoding br -> 415" 415 \
	"$(post "$BASE/v1/traces" application/json "$DIR/fixtures/traces.json" -H 'Content-Encoding: br')"
if jq -e -s 'all(.[]; (.result == "accepted") == (.status == 200)) and ([.[].seq] == [range(1; length + 1)])' \
	"$OUT" >/dev/null; then
	ok "every request recorded once, in order, one JSON object per line"
else
	bad "record file" "$(wc -l <"$OUT") lines"
fi

# keep-alive: two requests on one curl connection share the connection id
curl -sS -o /dev/null -o /dev/null -H 'Content-Type: application/json' \
	--data-binary "@$DIR/fixtures/logs.json" "$BASE/v1/logs" "$BASE/v1/logs"
expect "keep-alive: one connection for two requests" 1 "$(tail -n 2 "$OUT" | jq -s '[.[].conn] | unique | length')"

# --- options -------------------------------------------------------------------------------
start lenient --accept-int64-numbers
expect "--accept-int64-numbers takes an exact integer" 200 \
	"$(post "http://127.0.0.1:$PORT/v1/traces" application/json <(jq "$S.startTimeUnixNano = 1700000000" "$DIR/fixtures/traces.json"))"
expect "--accept-int64-numbers still refuses an inexact one" 400 \
	"$(post "http://127.0.0.1:$PORT/v1/traces" application/json <(jq "$S.endTimeUnixNano = 1700000000012500000" "$DIR/fixtures/traces.json"))"

start bench --discard --record summary
expect "--discard: anything JSON-typed is accepted unread" 200 \
	"$(post "http://127.0.0.1:$PORT/v1/traces" application/json "$WORK/trunc.json")"
expect "--record summary: no body in the line" "accepted false" "$(last_line | jq -r '"\(.result) \(has("body"))"')"

start small --max-body 1000
expect "--max-body -> 413" 413 "$(post "http://127.0.0.1:$PORT/v1/traces" application/json "$DIR/fixtures/traces.json")"
expect "--max-body applies after gunzip" 413 \
	"$(post "http://127.0.0.1:$PORT/v1/traces" application/json "$WORK/traces.json.gz" -H 'Content-Encoding: gzip')"

start auth --expect-header 'Authorization: Bearer s3cret'
expect "--expect-header missing -> 401" 401 "$(post "http://127.0.0.1:$PORT/v1/logs" application/json "$DIR/fixtures/logs.json")"
expect "--expect-header present -> 200" 200 \
	"$(post "http://127.0.0.1:$PORT/v1/logs" application/json "$DIR/fixtures/logs.json" -H 'Authorization: Bearer s3cret')"

# --- faults --------------------------------------------------------------------------------
start fault --status 503 --fail-count 2 --retry-after 7
U=http://127.0.0.1:$PORT/v1/traces
for i in 1 2; do
	got=$(post "$U" application/json "$DIR/fixtures/traces.json" -D "$WORK/hdr")
	ra=$(tr -d '\r' <"$WORK/hdr" | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')
	expect "--status 503 #$i with Retry-After: 7" "503 7" "$got $ra"
done
expect "after --fail-count 2: accepted" 200 "$(post "$U" application/json "$DIR/fixtures/traces.json")"
expect "faults recorded" "fault fault accepted" "$(jq -r .result "$OUT" | xargs)"

start f400 --status 400
expect "--status 400 without --fail-count: every request" "400 400" \
	"$(post "http://127.0.0.1:$PORT/v1/logs" application/json "$DIR/fixtures/logs.json") $(post "http://127.0.0.1:$PORT/v1/logs" application/json "$DIR/fixtures/logs.json")"

start slow --delay 700
t0=$(date +%s%N)
got=$(post "http://127.0.0.1:$PORT/v1/metrics" application/json "$DIR/fixtures/metrics.json")
ms=$((($(date +%s%N) - t0) / 1000000))
if [ "$got" = 200 ] && [ "$ms" -ge 700 ]; then ok "--delay 700: answered after ${ms} ms"; else bad "--delay" "status $got after $ms ms"; fi
expect "--delay: a client that gives up gets nothing" 000 \
	"$(post "http://127.0.0.1:$PORT/v1/metrics" application/json "$DIR/fixtures/metrics.json" --max-time 0.3)"

# outage by signal: refuse connections, then come back on the same port
start outage
U=http://127.0.0.1:$PORT/v1/logs
expect "outage: up at start" 200 "$(post "$U" application/json "$DIR/fixtures/logs.json")"
kill -USR1 "$LAST_PID"
sleep 0.3
got=$(post "$U" application/json "$DIR/fixtures/logs.json")
# curl exit 7: "Failed to connect ... Couldn't connect to server" (ECONNREFUSED)
grep -q "Couldn't connect" "$WORK/curl.err" && got="$got refused"
expect "SIGUSR1: down, connection refused" "000 refused" "$got"
kill -USR1 "$LAST_PID"
sleep 0.3
expect "SIGUSR1 again: up on the same port" 200 "$(post "$U" application/json "$DIR/fixtures/logs.json")"

start atstart --start-down --down-mode 503 --retry-after 3 --down-file "$WORK/down"
U=http://127.0.0.1:$PORT/v1/logs
sleep 0.3 # --start-down must hold although the --down-file is absent
got=$(post "$U" application/json "$DIR/fixtures/logs.json" -D "$WORK/hdr")
expect "--start-down --down-mode 503: 503 + Retry-After" "503 3" \
	"$got $(tr -d '\r' <"$WORK/hdr" | awk -F': ' 'tolower($1) == "retry-after" { print $2 }')"
kill -USR1 "$LAST_PID"
sleep 0.2
expect "SIGUSR1: up" 200 "$(post "$U" application/json "$DIR/fixtures/logs.json")"
touch "$WORK/down"
sleep 0.3
expect "--down-file present: down" 503 "$(post "$U" application/json "$DIR/fixtures/logs.json")"
rm -f "$WORK/down"
sleep 0.3
expect "--down-file removed: up" 200 "$(post "$U" application/json "$DIR/fixtures/logs.json")"

touch "$WORK/down2"
start refusefile --down-file "$WORK/down2"
U=http://127.0.0.1:$PORT/v1/logs
expect "--down-file present at start (refuse): connection refused" 000 "$(post "$U" application/json "$DIR/fixtures/logs.json")"
rm -f "$WORK/down2"
sleep 0.4
expect "--down-file removed (refuse): up on the same port" 200 "$(post "$U" application/json "$DIR/fixtures/logs.json")"

# --- TLS -----------------------------------------------------------------------------------
(
	cd "$WORK" || exit 1
	openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 -subj /CN=otlp-test-ca \
		-keyout ca.key -out ca.pem
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=127.0.0.1 \
		-keyout srv.key -out srv.csr
	printf 'subjectAltName=IP:127.0.0.1,DNS:localhost\n' >srv.ext
	openssl x509 -req -in srv.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -extfile srv.ext -out srv.pem
	openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj /CN=exporter \
		-keyout cli.key -out cli.csr
	openssl x509 -req -in cli.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 2 -out cli.pem
) >"$WORK/openssl.log" 2>&1 || { bad "openssl test CA" "$(tail -3 "$WORK/openssl.log")"; }

start tls --tls-cert "$WORK/srv.pem" --tls-key "$WORK/srv.key"
U=https://127.0.0.1:$PORT/v1/traces
if grep -qx "listening 127.0.0.1:$PORT tls" "$WORK/tls.stdout"; then
	ok "TLS: listening line says tls"
else
	bad "TLS listening line" "$(cat "$WORK/tls.stdout")"
fi
expect "TLS with the CA: accepted" 200 "$(post "$U" application/json "$DIR/fixtures/traces.json" --cacert "$WORK/ca.pem")"
expect "TLS without the CA: refused by the client" 000 "$(post "$U" application/json "$DIR/fixtures/traces.json")"
sleep 0.1
expect "TLS handshake failure recorded" tls_error "$(jq -r .result "$OUT" | tail -n 1)"

start mtls --tls-cert "$WORK/srv.pem" --tls-key "$WORK/srv.key" --tls-client-ca "$WORK/ca.pem"
U=https://127.0.0.1:$PORT/v1/traces
expect "mTLS without a client cert: refused" 000 "$(post "$U" application/json "$DIR/fixtures/traces.json" --cacert "$WORK/ca.pem")"
expect "mTLS with a client cert: accepted" 200 "$(post "$U" application/json "$DIR/fixtures/traces.json" \
	--cacert "$WORK/ca.pem" --cert "$WORK/cli.pem" --key "$WORK/cli.key")"

kill -TERM "$LAST_PID"
wait "$LAST_PID" 2>/dev/null
expect "SIGTERM: exit 0" 0 "$?"

if [ "$FAIL" -ne 0 ]; then
	log "failed: ${FAILED[*]}"
fi
echo "otlp selftest: $PASS passed, $FAIL failed"
[ "$FAIL" -eq 0 ]
