# shellcheck shell=bash disable=SC2016 # jq programs are single-quoted on purpose
# End-to-end tests of the protocol parsers ("request" records): real clients
# drive real servers (Debian's packages, test/integration/fixtures.sh) inside
# the scoped cgroup while the real loader and processor run; the processor's
# JSON lines are checked with jq. Offline modes (--pcap, --record/--replay)
# are checked against the live run.
#
# Sourced by run.sh (uses $LOADER, $PIN, $CG_IN, $CG_OTHER, $WORK, $OUT,
# $ERR, start_loader, wait_ready, stop_loader, run_in_cgroup, check, log).
#
# Secrets (a query-string value, a header value, a SQL literal, a bound
# parameter, a Redis key and value) reach the clients through files, stdin or
# the environment, never their arguments (exec records print arguments): so
# each must be absent from the whole output, exec records included.

PROCESSOR=$ROOT/build/bpfwarden-processor

# jq definitions shared by every condition below
PDEFS='
def a(k): .attributes[k];
def upath(p): .attributes["url.path"] == p;
def meth(m): .attributes["http.request.method"] == m;
def hcode(c): .attributes["http.response.status_code"] == c;
def op(o): .attributes["db.operation.name"] == o;
def dbcode(c): .attributes["db.response.status_code"] == c;
def client: .role == "client";
# the connection whose client end is ep, on either side
def on(ep): (.role == "client" and .local == ep) or (.role == "server" and .remote == ep);
def server: .role == "server";
def ok: .status == "ok";
def err: .status == "error";
# what the default scrub policy never lets out: dropped names, raw query values
def sensitive: ([.attributes // {} | keys[] | select(IN("db.user", "messaging.client.id",
	"http.request.header.authorization", "http.request.header.cookie"))] | length > 0)
	or (.attributes["url.query"] // "" | test("=[^?&]"));
'

PFAIL=0 # set by the checks below; a parse test returns it, so every check runs

# pcheck DESCRIPTION CMD...: check, and go on after a failure
pcheck() { check "$@" || PFAIL=1; }

# nreq JQ-CONDITION [JQ-OPTIONS...]: how many request records of ${PFILE:-$OUT} match
nreq() {
	local c=$1
	shift
	jq -c "$@" "$PDEFS select(.kind == \"request\" and ($c))" "${PFILE:-$OUT}" | wc -l
}

# expect N DESCRIPTION JQ-CONDITION [JQ-OPTIONS...]: exactly N request records
# match (N "+": at least one)
expect() {
	local n=$1 what=$2 cond=$3 got
	shift 3
	got=$(nreq "$cond" "$@")
	if { [ "$n" = + ] && [ "$got" -ge 1 ]; } || [ "$got" = "$n" ]; then
		return 0
	fi
	log "    assertion failed: $what: $got request records match, expected $n"
	log "      where: $cond $*"
	PFAIL=1
	return 1
}

# jreq JQ-EXPRESSION [JQ-OPTIONS...]: EXPRESSION over the array of request records
jreq() {
	local e=$1
	shift
	jq -c -s "$@" "$PDEFS [.[] | select(.kind == \"request\")] | $e" "${PFILE:-$OUT}"
}

# drive CGROUP CMD...: run_in_cgroup; a client that fails is noted for parse_stop
drive() {
	run_in_cgroup "$@"
	local rc=$?
	[ "$rc" = 0 ] || DRIVE_FAILED="${DRIVE_FAILED:+$DRIVE_FAILED; }${*:2:3} ... (rc $rc)"
	return 0
}

# parse_start NAME [PROCESSOR-ARGS...]: the loader scoped to $CG_IN, output in $WORK/NAME.*
parse_start() {
	local name=$1
	shift
	PFAIL=0
	DRIVE_FAILED=""
	T_START=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	start_loader "$name" "$LOADER" --pin-dir "$PIN" --cgroup "$CG_IN" -- --stats-interval 0 "$@"
	wait_ready
}

# parse_stop: let the last records drain, stop the loader, log the parsing counters.
parse_stop() {
	sleep 1
	stop_loader TERM
	T_END=$(date -u +%Y-%m-%dT%H:%M:%S.%NZ)
	keep "$OUT" "$ERR"
	PSTATS=$(jq -c 'select(.kind == "stats") | .processor.parsing' "$OUT" | tail -n 1)
	log "    parsing: $PSTATS"
	pcheck "no parse error" [ "$(jq -c .parse_errors <<<"$PSTATS")" = '{}' ]
	pcheck "every client succeeded${DRIVE_FAILED:+: }$DRIVE_FAILED" [ -z "$DRIVE_FAILED" ]
	pcheck "loader and processor exit 0 (rc $LOADER_RC)" [ "$LOADER_RC" = 0 ]
	pcheck "no seccomp violation" not grep -q 'seccomp denied' "$ERR"
}

# parsing_clean: valid traffic, whole messages: no desync, no unpaired
# response, no unanswered request (the final stats record's counters)
parsing_clean() {
	pcheck "parsing counters clean: desyncs, responses_unpaired, no_response" \
		[ "$(jq -c '[.desyncs, .responses_unpaired, .no_response]' <<<"$PSTATS")" = '[0,{},{}]' ]
}

# keep FILE...: with BPFW_IT_KEEP=DIR, copy FILEs there for a look after the run
keep() { [ -z "${BPFW_IT_KEEP:-}" ] || cp "$@" "$BPFW_IT_KEEP/"; }

# common_checks SECRET...: what holds for every request record of every test,
# and every secret is absent from the whole output and the logs.
common_checks() {
	local s
	pcheck "every line is one JSON object" jq -e . "${PFILE:-$OUT}" >/dev/null
	# (a MySQL COM_QUIT has no response by protocol)
	expect 0 "answered requests have duration_ns > 0" \
		'.status != "no_response" and ((.duration_ns // 0) > 0 | not) and
		 (.protocol == "mysql" and a("db.operation.name") == "QUIT" | not)'
	expect 0 "well-formed records" '(.time | test("^20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:]{8}\\.[0-9]{9}Z$") | not)
		or (.protocol | IN("http", "http2", "postgresql", "mysql", "redis", "kafka") | not)
		or (.status | IN("ok", "error", "no_response") | not)
		or (.role | IN("client", "server", "unknown") | not)
		or (.attributes | type != "object")'
	expect 0 "no attribute the default policy drops or redacts written raw" 'sensitive'
	for s in "$@"; do
		pcheck "secret ${s:0:6}... absent from the output and the logs" \
			not grep -q -- "$s" "${PFILE:-$OUT}" "$ERR"
	done
}

# identity SERVER-COMM: request records carry the identity of the process
# and the cgroup they were captured in (the server started before the agent,
# as a server usually is, so its listening socket has no creator on record).
identity() {
	expect 0 "server records carry the server's pid and comm ($1)" \
		'server and (.comm != $c or (.pid | type) != "number")' --arg c "$1"
	expect 0 "client records carry a pid and comm" 'client and ((.comm | type) != "string" or
		(.pid | type) != "number")'
	expect 0 "records carry the scoped cgroup's id" '.cgroup_id != $cg' --argjson cg "$(stat -c %i "$CG_IN")"
}

# parse_end: the test's result; on failure the request records, shortened.
parse_end() {
	if [ "$PFAIL" != 0 ]; then
		log "    request records:"
		jq -c 'select(.kind == "request") | del(.time, .cgroup_id, .local)' "${PFILE:-$OUT}" |
			sed 's/^/      /' >&2
	fi
	return "$PFAIL"
}

# endpoint PID: the local address of the first client request record of process
# PID, as JSON (null when there is none): on($ep) then selects that connection
endpoint() { jreq '[.[] | select(client and .pid == $p)][0].local' --argjson p "$1"; }

# secret: a fresh random token
secret() { printf 'S%s%s%sX' "$RANDOM" "$RANDOM" "$RANDOM"; }

# --- HTTP/1.1 -------------------------------------------------------------------
# http_traffic SCHEME PORT CURL-OPTIONS...: the exchanges test_parse_http and
# test_parse_https check, from curl in $CG_IN; the secrets travel in a curl
# config file (query string, Authorization header) and a body file.
http_traffic() {
	local scheme=$1 port=$2 base cfg
	shift 2
	base=$scheme://127.0.0.1:$port
	cfg=$WORK/curl-$scheme.cfg
	printf 'url = "%s/ok/q?token=%s"\nheader = "Authorization: Bearer %s"\n' \
		"$base" "$QSECRET" "$HSECRET" >"$cfg"
	printf 'field=%s' "$BSECRET" >"$WORK/body"
	drive "$CG_IN" curl -s "$@" -o /dev/null "$base/"
	GET_PID=$(cat "$WORK/last.pid")
	drive "$CG_IN" curl -s "$@" -o /dev/null "$base/missing"
	drive "$CG_IN" curl -s "$@" -I "$base/ok/head" --next -s "$@" -o /dev/null \
		"$base/ok/after-head" >/dev/null
	drive "$CG_IN" curl -s "$@" -o /dev/null -d "@$WORK/body" "$base/ok/post"
	drive "$CG_IN" curl -s "$@" -o /dev/null -o /dev/null "$base/ok/ka1" "$base/ok/ka2"
	drive "$CG_IN" curl -s "$@" -o /dev/null -K "$cfg"
}

# http_checks TLS PORT: the records of http_traffic, on both sides.
http_checks() {
	local tls=$1 port=$2 side
	local h='.protocol == "http" and .tls == '"$tls"
	expect 8 "8 client requests (curl)" "$h and client and .comm == \"curl\""
	expect 8 "8 server requests" "$h and server"
	identity nginx
	expect 0 "no other request record" "($h | not)"
	expect 8 "client records name the connection to nginx" \
		"client and .remote == \"127.0.0.1:$port\" and (.conn_id | type) == \"number\""
	expect 8 "server records name the connection from curl" \
		"server and .local == \"127.0.0.1:$port\" and (.conn_id | type) == \"number\""
	expect 1 "GET / 200 ok, client, with curl's pid" \
		'client and upath("/") and meth("GET") and hcode(200) and ok and .pid == $p and
		 a("network.protocol.version") == "1.1" and a("server.address") == "127.0.0.1"' \
		--argjson p "$GET_PID"
	expect 1 "GET / 200 ok, server" 'server and upath("/") and meth("GET") and hcode(200) and ok and
		a("network.protocol.version") == "1.1"'
	expect 1 "GET /missing 404: error for the client" 'client and upath("/missing") and hcode(404) and err'
	expect 1 "GET /missing 404: ok for the server" 'server and upath("/missing") and hcode(404) and ok'
	for side in client server; do
		expect 1 "HEAD ($side)" "$side"' and upath("/ok/head") and meth("HEAD") and hcode(200) and ok'
		expect 1 "GET after HEAD on the same connection ($side)" "$side"' and upath("/ok/after-head") and
			meth("GET") and hcode(200) and ok'
		expect 1 "POST with a body ($side)" "$side"' and upath("/ok/post") and meth("POST") and hcode(200) and ok'
		expect 1 "query string split off the path ($side)" "$side"' and upath("/ok/q") and meth("GET") and
			hcode(200) and ok'
		pcheck "HEAD then GET: one connection ($side)" [ "$(jreq "[.[] | select($side and (upath(\"/ok/head\") or
			upath(\"/ok/after-head\")))] | map(.conn_id) | unique | length")" = 1 ]
		pcheck "keep-alive: two requests on one connection, in order ($side)" [ "$(jreq "[.[] | select($side and
			(upath(\"/ok/ka1\") or upath(\"/ok/ka2\")))] | length == 2 and .[0].conn_id == .[1].conn_id and
			(.[0] | upath(\"/ok/ka1\")) and (.[1] | upath(\"/ok/ka2\")) and .[0].time < .[1].time")" = true ]
	done
	parsing_clean
	common_checks "$QSECRET" "$HSECRET" "$BSECRET"
}

test_parse_http() {
	QSECRET=$(secret) HSECRET=$(secret) BSECRET=$(secret)
	start_nginx "$CG_IN" || return 1
	parse_start phttp || return 1
	http_traffic http "$NGX_HTTP"
	parse_stop
	http_checks false "$NGX_HTTP"
	parse_end
}

test_parse_https() {
	QSECRET=$(secret) HSECRET=$(secret) BSECRET=$(secret)
	start_nginx "$CG_IN" || return 1
	parse_start phttps || return 1
	http_traffic https "$NGX_HTTPS" -k
	parse_stop
	http_checks true "$NGX_HTTPS"
	parse_end
}

# --- HTTP/2 and gRPC --------------------------------------------------------------
test_parse_http2() {
	local qsecret hsecret cfg h2c h2tls side rc
	qsecret=$(secret) hsecret=$(secret)
	start_nginx "$CG_IN" || return 1
	h2c=http://127.0.0.1:$NGX_H2C
	h2tls=https://127.0.0.1:$NGX_H2TLS
	cfg=$WORK/curl-h2.cfg
	printf 'url = "%s/ok/h2q?token=%s"\nheader = "Authorization: Bearer %s"\n' \
		"$h2c" "$qsecret" "$hsecret" >"$cfg"
	# a gRPC request message: uncompressed, 2 bytes (field 1 = 0)
	printf '\000\000\000\000\002\010\000' >"$WORK/grpc.req"
	parse_start ph2 || return 1
	# (a) h2c with prior knowledge: a 200, a 404, a query (one request per
	# connection: curl 7.88 fails a second request on a reused prior-knowledge
	# connection, rc 16, with or without the agent)
	drive "$CG_IN" curl -s --http2-prior-knowledge -o /dev/null "$h2c/ok/h2c-a"
	drive "$CG_IN" curl -s --http2-prior-knowledge -o /dev/null "$h2c/missing"
	drive "$CG_IN" curl -s --http2-prior-knowledge -o /dev/null -K "$cfg"
	# (b) HTTP/2 over TLS (ALPN h2): two requests, one connection (streams 1 and 3)
	drive "$CG_IN" curl -sk --http2 -o /dev/null -o /dev/null "$h2tls/ok/h2tls" "$h2tls/ok/h2tls-b"
	# (c) gRPC-shaped: nginx answers 200, application/grpc, trailer grpc-status 12
	# nginx answers before it reads the request body, then resets the stream
	# (NO_ERROR), which curl sometimes reports as rc 92 after the whole response
	run_in_cgroup "$CG_IN" curl -s --http2-prior-knowledge -o /dev/null \
		-H 'content-type: application/grpc' -H 'te: trailers' \
		--data-binary "@$WORK/grpc.req" "$h2c/helloworld.Greeter/SayHello"
	rc=$?
	[ "$rc" = 0 ] || [ "$rc" = 92 ] || DRIVE_FAILED="${DRIVE_FAILED:+$DRIVE_FAILED; }gRPC curl (rc $rc)"
	parse_stop
	local h2='.protocol == "http2" and a("network.protocol.version") == "2"'
	expect 0 "only HTTP/2 request records" '.protocol != "http2"'
	for side in client server; do
		expect 1 "h2c GET /ok/h2c-a 200 ($side)" "$h2 and $side and .tls == false and upath(\"/ok/h2c-a\") and
			meth(\"GET\") and hcode(200) and ok"
		expect 1 "h2c query split off the path ($side)" "$h2 and $side and upath(\"/ok/h2q\") and hcode(200) and ok"
		expect 1 "h2 over TLS GET /ok/h2tls 200 ($side)" "$h2 and $side and .tls == true and upath(\"/ok/h2tls\")
			and meth(\"GET\") and hcode(200) and ok"
		pcheck "h2 over TLS: the second request, stream 3, on the same connection ($side)" [ "$(jreq "[.[] |
			select($side and .tls and meth(\"GET\") and (upath(\"/ok/h2tls\") or upath(\"/ok/h2tls-b\")) and
			hcode(200) and ok)] | [length, (map(.conn_id) | unique | length)]")" = "[2,1]" ]
		expect 1 "gRPC call, grpc-status 12 from the trailers ($side)" "$h2 and $side and
			upath(\"/helloworld.Greeter/SayHello\") and meth(\"POST\") and a(\"rpc.system\") == \"grpc\" and
			a(\"rpc.service\") == \"helloworld.Greeter\" and a(\"rpc.method\") == \"SayHello\" and
			a(\"rpc.grpc.status_code\") == 12 and err"
	done
	expect 1 "h2c GET /missing 404: error for the client" "$h2 and client and upath(\"/missing\") and hcode(404) and err"
	expect 1 "h2c GET /missing 404: ok for the server" "$h2 and server and upath(\"/missing\") and hcode(404) and ok"
	expect 6 "client records are curl's" 'client and .comm == "curl"'
	expect 6 "server records" 'server'
	identity nginx
	parsing_clean
	common_checks "$qsecret" "$hsecret"
	parse_end
}

# --- PostgreSQL --------------------------------------------------------------------
# psql (simple query protocol; it asks for SSL first, the server says 'N'),
# SQL-level PREPARE/EXECUTE, and pgbench for the extended protocol (psql 15
# has no \bind): -M extended (unnamed statements), -M prepared (named ones).
test_parse_postgres() {
	local s1 s2 pid1 pid2 pid3 ep1 ep2 ep3 side pg
	s1=$(secret) s2=$(secret)
	start_postgres "$CG_IN" || return 1
	cat >"$WORK/pg.sql" <<EOF
select 1;
select * from bpfw_missing_table;
prepare bpfw_st(int) as select \$1 + 1;
execute bpfw_st(41);
select '$s1' as s;
EOF
	printf '\\set v 42\nselect :v::int as x;\nselect '\''%s'\''::text as s;\n' "$s2" >"$WORK/pgbench.sql"
	chmod 644 "$WORK/pg.sql" "$WORK/pgbench.sql"
	parse_start ppg || return 1
	drive "$CG_IN" psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -At \
		-f "$WORK/pg.sql" >"$WORK/psql.out" 2>&1
	pid1=$(cat "$WORK/last.pid")
	drive "$CG_IN" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -t 1 \
		-M extended -f "$WORK/pgbench.sql" postgres >"$WORK/pgbench-ext.out" 2>&1
	pid2=$(cat "$WORK/last.pid")
	drive "$CG_IN" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -t 1 \
		-M prepared -f "$WORK/pgbench.sql" postgres >"$WORK/pgbench-prep.out" 2>&1
	pid3=$(cat "$WORK/last.pid")
	parse_stop
	ep1=$(endpoint "$pid1") ep2=$(endpoint "$pid2") ep3=$(endpoint "$pid3")
	pg='.protocol == "postgresql" and a("db.system.name") == "postgresql" and a("db.namespace") == "postgres"'
	pcheck "psql ran the script" grep -q "^$s1\$" "$WORK/psql.out"
	pcheck "pgbench ran (extended)" grep -q 'number of transactions actually processed: 1/1' "$WORK/pgbench-ext.out"
	pcheck "pgbench ran (prepared)" grep -q 'number of transactions actually processed: 1/1' "$WORK/pgbench-prep.out"
	expect 0 "only PostgreSQL request records" '.protocol != "postgresql"'
	identity postgres
	expect 5 "psql: one record per statement" 'client and .comm == "psql" and .pid == $p' --argjson p "$pid1"
	for side in client server; do
		expect 2 "psql, simple query: SELECT ok, 1 row ($side)" "on(\$ep) and $side and $pg and op(\"SELECT\") and
			ok and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep1"
		expect 1 "psql: missing table, SQLSTATE 42P01 ($side)" "on(\$ep) and $side and $pg and op(\"SELECT\") and
			err and dbcode(\"42P01\")" --argjson ep "$ep1"
		expect 1 "psql: PREPARE ($side)" "on(\$ep) and $side and $pg and op(\"PREPARE\") and ok" --argjson ep "$ep1"
		expect 1 "psql: EXECUTE ($side)" "on(\$ep) and $side and $pg and op(\"EXECUTE\") and ok and
			a(\"db.response.returned_rows\") == 1" --argjson ep "$ep1"
		expect 2 "pgbench -M extended: SELECT ok, 1 row each ($side)" "on(\$ep) and $side and $pg and
			op(\"SELECT\") and ok and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep2"
		expect 2 "pgbench -M prepared: SELECT ok, 1 row each ($side)" "on(\$ep) and $side and $pg and
			op(\"SELECT\") and ok and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep3"
	done
	expect 18 "nothing else: 5 + 2 + 2 requests, both sides" 'true'
	parsing_clean
	common_checks "$s1" "$s2"
	parse_end
}

# --- MySQL protocol (MariaDB) --------------------------------------------------------
test_parse_mysql() {
	local s1 s2 pid1 pid2 pid3 ep1 ep2 ep3 my side
	s1=$(secret) s2=$(secret)
	start_mariadb "$CG_IN" || return 1
	cat >"$WORK/my.sql" <<EOF
select 1;
use mysql;
select count(*) from user;
select * from bpfw_missing_table;
select '$s1' as s;
EOF
	cat >"$WORK/my.pl" <<'EOF'
use strict;
use DBI;
my $d = DBI->connect("DBI:MariaDB:database=mysql;host=127.0.0.1;port=$ENV{BPFW_PORT};mariadb_server_prepare=1",
	"root", "", { RaiseError => 1, PrintError => 0 });
my $s = $d->prepare("select ? as s, 1 + 1 as two");
$s->execute($ENV{BPFW_SECRET});
my @r = $s->fetchrow_array;
$s->finish;
$d->disconnect;
print $r[0] eq $ENV{BPFW_SECRET} ? "two=$r[1]\n" : "wrong value\n";
EOF
	chmod 644 "$WORK/my.pl"
	parse_start pmy || return 1
	run_in_cgroup "$CG_IN" mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MARIA_PORT" -u root \
		--force <"$WORK/my.sql" >"$WORK/my.out" 2>&1
	pid1=$(cat "$WORK/last.pid")
	drive "$CG_IN" mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MARIA_PORT" -u root \
		-D mysql -e 'select 2 as two' >>"$WORK/my.out" 2>&1
	pid2=$(cat "$WORK/last.pid")
	BPFW_PORT=$MARIA_PORT BPFW_SECRET=$s2 drive "$CG_IN" perl "$WORK/my.pl" >"$WORK/my-perl.out" 2>&1
	pid3=$(cat "$WORK/last.pid")
	parse_stop
	ep1=$(endpoint "$pid1") ep2=$(endpoint "$pid2") ep3=$(endpoint "$pid3")
	my='.protocol == "mysql" and a("db.system.name") == "mariadb"'
	pcheck "the client ran the script" grep -q "$s1" "$WORK/my.out"
	pcheck "the missing table was an error" grep -q 'ERROR 1146' "$WORK/my.out"
	pcheck "perl ran the prepared statement" grep -q '^two=2$' "$WORK/my-perl.out"
	expect 0 "only MySQL-protocol request records" '.protocol != "mysql"'
	identity mariadbd
	for side in client server; do
		# (+: the client sends its own select @@version_comment first)
		expect + "select 1, no database yet ($side)" "on(\$ep) and $side and $my and op(\"SELECT\") and ok
			and a(\"db.namespace\") == null and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep1"
		expect 2 "after use mysql: SELECTs in database mysql ($side)" "on(\$ep) and $side and $my and
			op(\"SELECT\") and ok and a(\"db.namespace\") == \"mysql\" and a(\"db.response.returned_rows\") == 1" \
			--argjson ep "$ep1"
		expect 1 "missing table: error 1146 ($side)" "on(\$ep) and $side and $my and op(\"SELECT\") and err and
			dbcode(\"1146\") and a(\"db.namespace\") == \"mysql\"" --argjson ep "$ep1"
		expect 1 "database from the handshake (-D mysql) ($side)" "on(\$ep) and $side and $my and op(\"SELECT\")
			and ok and a(\"db.namespace\") == \"mysql\" and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep2"
		expect 1 "COM_STMT_EXECUTE: SELECT, 1 row ($side)" "on(\$ep) and $side and $my and op(\"SELECT\") and ok
			and a(\"db.namespace\") == \"mysql\" and a(\"db.response.returned_rows\") == 1" --argjson ep "$ep3"
	done
	parsing_clean
	common_checks "$s1" "$s2"
	parse_end
}

# --- Redis ---------------------------------------------------------------------------
test_parse_redis() {
	local key val pid1 pid2 ep1 ep2 side rd
	key=bpfw:$(secret) val=$(secret)
	start_redis "$CG_IN" || return 1
	# one connection, one command at a time, read from stdin
	printf 'SET %s %s\nGET %s\nLPUSH %s x\nINCR %s\n' "$key" "$val" "$key" "$key" "$key" >"$WORK/redis.cmds"
	# a pipeline in RESP (redis-cli --pipe adds an ECHO of its own at the end)
	printf '*1\r\n$4\r\nPING\r\n*3\r\n$3\r\nSET\r\n$6\r\nbpfw:p\r\n$1\r\n1\r\n*2\r\n$4\r\nINCR\r\n$6\r\nbpfw:p\r\n' \
		>"$WORK/redis.pipe"
	parse_start predis || return 1
	drive "$CG_IN" redis-cli -p "$REDIS_PORT" <"$WORK/redis.cmds" >"$WORK/redis.out" 2>&1
	pid1=$(cat "$WORK/last.pid")
	drive "$CG_IN" redis-cli -p "$REDIS_PORT" --pipe <"$WORK/redis.pipe" >"$WORK/redis-pipe.out" 2>&1
	pid2=$(cat "$WORK/last.pid")
	parse_stop
	ep1=$(endpoint "$pid1") ep2=$(endpoint "$pid2")
	rd='.protocol == "redis" and a("db.system.name") == "redis"'
	pcheck "redis answered GET with the value" grep -q "^$val\$" "$WORK/redis.out"
	pcheck "LPUSH on a string: WRONGTYPE" grep -q '^WRONGTYPE' "$WORK/redis.out"
	pcheck "the pipeline went through" grep -q 'errors: 0, replies: 3' "$WORK/redis-pipe.out"
	expect 0 "only Redis request records" '.protocol != "redis"'
	# redis-cli reading commands from stdin first asks COMMAND DOCS (its reply,
	# hundreds of KiB cut at the capture size, costs a resync: not checked)
	expect 9 "client records are redis-cli's: 1 + 4 commands, 4 pipelined" "$rd and client and .comm == \"redis-cli\""
	expect 9 "server records: the same" "$rd and server"
	identity redis-server
	for side in client server; do
		pcheck "SET, GET, LPUSH (WRONGTYPE), INCR (ERR), in order, one connection ($side)" \
			[ "$(jreq "map(select(on(\$ep) and $side and $rd and (op(\"COMMAND DOCS\") | not)) |
			[a(\"db.operation.name\"), .status,
			a(\"db.response.status_code\")] | map(. // \"-\") | join(\" \")) | join(\", \")" --argjson ep "$ep1")" = \
			'"SET ok -, GET ok -, LPUSH error WRONGTYPE, INCR error ERR"' ]
		pcheck "pipeline: PING, SET, INCR and redis-cli's ECHO, in order, one connection ($side)" \
			[ "$(jreq "map(select(on(\$ep) and $side and $rd) | [a(\"db.operation.name\"), .status] | join(\" \"))
			| join(\", \")" --argjson ep "$ep2")" = '"PING ok, SET ok, INCR ok, ECHO ok"' ]
	done
	common_checks "$key" "$val"
	parse_end
}

# --- offline: a tcpdump capture gives the same requests --------------------------------
# key of a request: protocol, method or operation, path, status code, status
PKEY='[.protocol, (a("http.request.method") // a("db.operation.name")), a("url.path"),
	(a("http.response.status_code") // a("db.response.status_code")), .status] | tojson'

test_parse_pcap_matches_live() {
	local secret_q live pcap rc
	secret_q=$(secret)
	start_nginx "$CG_IN" || return 1
	start_postgres "$CG_IN" || return 1
	start_redis "$CG_IN" || return 1
	start_mariadb "$CG_IN" || return 1
	printf 'url = "http://127.0.0.1:%s/ok/pq?token=%s"\n' "$NGX_HTTP" "$secret_q" >"$WORK/curl-pcap.cfg"
	printf 'select 1;\nselect * from bpfw_missing_table;\n' >"$WORK/pcap-pg.sql"
	printf 'select 1;\nuse mysql;\nselect * from bpfw_missing_table;\n' >"$WORK/pcap-my.sql"
	printf 'SET bpfw:pc 1\nGET bpfw:pc\nLPUSH bpfw:pc x\n' >"$WORK/pcap-redis.cmds"
	chmod 644 "$WORK/pcap-pg.sql"
	start_tcpdump "$WORK/cap.pcap" "tcp port $NGX_HTTP or tcp port $PG_PORT or tcp port $REDIS_PORT or tcp port $MARIA_PORT" || return 1
	parse_start ppcap || return 1
	drive "$CG_IN" curl -s -o /dev/null -o /dev/null -o /dev/null \
		"http://127.0.0.1:$NGX_HTTP/ok/p1" "http://127.0.0.1:$NGX_HTTP/missing" "http://127.0.0.1:$NGX_HTTP/"
	drive "$CG_IN" curl -s -o /dev/null -d x "http://127.0.0.1:$NGX_HTTP/ok/post"
	drive "$CG_IN" curl -s -o /dev/null -K "$WORK/curl-pcap.cfg"
	drive "$CG_IN" psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -At \
		-f "$WORK/pcap-pg.sql" >/dev/null 2>&1
	drive "$CG_IN" redis-cli -p "$REDIS_PORT" <"$WORK/pcap-redis.cmds" >/dev/null 2>&1
	run_in_cgroup "$CG_IN" mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MARIA_PORT" -u root \
		--force <"$WORK/pcap-my.sql" >/dev/null 2>&1
	parse_stop
	stop_tcpdump
	chmod 644 "$WORK/cap.pcap"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PROCESSOR" --pcap "$WORK/cap.pcap" \
		--stats-interval 0 >"$WORK/pcap.out" 2>"$WORK/pcap.err"
	rc=$?
	keep "$WORK/cap.pcap" "$WORK/pcap.out" "$WORK/pcap.err"
	log "    pcap parsing: $(jq -c 'select(.kind == "stats") | .processor.parsing' "$WORK/pcap.out" | tail -n 1)"
	live=$(jq -r "$PDEFS"' select(.kind == "request" and client) | '"$PKEY" "$OUT" | sort)
	pcap=$(jq -r "$PDEFS"' select(.kind == "request") | '"$PKEY" "$WORK/pcap.out" | sort)
	pcheck "processor --pcap exit 0 (rc $rc)" [ "$rc" = 0 ]
	pcheck "the live run has requests of the four protocols" [ "$(jreq '[.[].protocol] | unique | join(",")')" = \
		'"http,mysql,postgresql,redis"' ]
	pcheck "the capture has the same set of requests as the live run's clients" \
		diff <(sort -u <<<"$live") <(sort -u <<<"$pcap")
	pcheck "each request once in the capture ($(wc -l <<<"$pcap") records, live $(wc -l <<<"$live"))" \
		diff <(echo "$live") <(echo "$pcap")
	pcheck "each live client request has its twin in the capture, 5 ms apart at most" [ "$(jq -n \
		--slurpfile l "$OUT" --slurpfile p "$WORK/pcap.out" "$PDEFS"'
		def key: '"$PKEY"';
		def ns: .time | capture("T(?<h>..):(?<m>..):(?<s>..)[.](?<f>.{9})")
			| ((.h | tonumber) * 3600 + (.m | tonumber) * 60 + (.s | tonumber)) * 1e9 + (.f | tonumber);
		[$p[] | select(.kind == "request")] as $P
		| [$l[] | select(.kind == "request" and client) | . as $x
		   | select(any($P[]; key == ($x | key) and (ns - ($x | ns) | fabs) < 5e6) | not)] | length')" = 0 ]
	common_checks "$secret_q"
	PFILE=$WORK/pcap.out
	expect 0 "pcap: records are the client's, without process" '.role != "client" or has("pid") or has("comm")'
	expect 0 "pcap: times are wall-clock times of this test" '.time < $s or .time > $e' \
		--arg s "$T_START" --arg e "$T_END"
	common_checks "$secret_q"
	pcheck "pcap: secret absent from the processor's log" not grep -q -- "$secret_q" "$WORK/pcap.err"
	parse_end
	local r=$?
	PFILE=""
	if [ "$r" != 0 ]; then
		log "    live client keys:"
		printf '%s\n' "$live" | sed 's/^/      /' >&2
		log "    pcap keys:"
		printf '%s\n' "$pcap" | sed 's/^/      /' >&2
		sed 's/^/    pcap stderr: /' "$WORK/pcap.err" >&2
	fi
	return "$r"
}

# --- offline: --record, then --replay gives the same requests ---------------------------
test_parse_record_replay() {
	local dir=$WORK/rec val rc
	val=$(secret)
	mkdir -p "$dir"
	chmod 1777 "$dir"
	start_nginx "$CG_IN" || return 1
	start_redis "$CG_IN" || return 1
	printf 'SET bpfw:rr %s\nGET bpfw:rr\nLPUSH bpfw:rr x\n' "$val" >"$WORK/rr.cmds"
	parse_start prec --record "$dir/rec" || return 1
	drive "$CG_IN" curl -s -o /dev/null -o /dev/null \
		"http://127.0.0.1:$NGX_HTTP/ok/r1" "http://127.0.0.1:$NGX_HTTP/missing"
	drive "$CG_IN" curl -sk -o /dev/null "https://127.0.0.1:$NGX_HTTPS/ok/r2"
	drive "$CG_IN" redis-cli -p "$REDIS_PORT" <"$WORK/rr.cmds" >/dev/null 2>&1
	parse_stop
	setpriv --reuid=65534 --regid=65534 --clear-groups "$PROCESSOR" --replay "$dir/rec" \
		--stats-interval 0 >"$WORK/replay.out" 2>"$WORK/replay.err"
	rc=$?
	keep "$WORK/replay.out" "$WORK/replay.err"
	log "    replay parsing: $(jq -c 'select(.kind == "stats") | .processor.parsing' "$WORK/replay.out" | tail -n 1)"
	pcheck "processor --replay exit 0 (rc $rc)" [ "$rc" = 0 ]
	pcheck "the recording is private to the processor's user" [ "$(stat -c '%U %a' "$dir/rec")" = "nobody 600" ]
	pcheck "the live run has HTTP, HTTPS and Redis requests" [ "$(jreq '[.[] | [.protocol, .tls]
		| tostring] | unique | join(" ")')" = '"[\"http\",false] [\"http\",true] [\"redis\",false]"' ]
	pcheck "replay: the same request records (times, conn_ids, attributes ...)" \
		diff <(jq -cS 'select(.kind == "request")' "$OUT" | sort) \
		<(jq -cS 'select(.kind == "request")' "$WORK/replay.out" | sort)
	pcheck "replay: the same records of every other kind but stats" \
		diff <(jq -cS 'select(.kind != "request" and .kind != "stats")' "$OUT" | sort) \
		<(jq -cS 'select(.kind != "request" and .kind != "stats")' "$WORK/replay.out" | sort)
	pcheck "secret absent from the replay" not grep -q -- "$val" "$WORK/replay.out" "$WORK/replay.err"
	common_checks "$val"
	parse_end
}

# --- scope ---------------------------------------------------------------------------
# curl and nginx both outside the scope: nothing. A scoped curl to the same
# nginx (its client side only) shows that parsing works meanwhile.
test_parse_out_of_scope_produces_nothing() {
	local in=/ok/in-$RANDOM base
	start_nginx "$CG_OTHER" || return 1
	base=http://127.0.0.1:$NGX_HTTP
	parse_start poos || return 1
	drive "$CG_OTHER" curl -s -o /dev/null -o /dev/null "$base/ok/out-1" "$base/missing"
	curl -s -o /dev/null "$base/ok/out-2"
	curl -sk -o /dev/null "https://127.0.0.1:$NGX_HTTPS/ok/out-3"
	drive "$CG_IN" curl -s -o /dev/null "$base$in"
	parse_stop
	expect 0 "no record of out-of-scope requests" '(a("url.path") // "") | test("^/ok/out|^/missing")'
	expect 1 "the scoped client's request" 'client and upath($p) and hcode(200) and .comm == "curl"' --arg p "$in"
	expect 1 "nothing else" 'true'
	parsing_clean
	common_checks
	parse_end
}
