# Real servers from Debian's packages, on loopback, for the L7 tests.
# Sourced by run.sh: uses $WORK, log, wait_for. Each start_* places the
# server in the given cgroup and records what stop_servers must kill.

SERVER_PIDS=()

# in_cgroup CGROUP CMD...: run CMD in CGROUP, in the background.
in_cgroup_bg() {
	local cg=$1
	shift
	sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@" &
	SERVER_PIDS+=($!)
}

port_open() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# start_nginx CGROUP: HTTP on $NGX_HTTP, HTTPS on $NGX_HTTPS (self-signed),
# HTTP/2 with prior knowledge (h2c) on $NGX_H2C, HTTP/2 over TLS (ALPN h2) on
# $NGX_H2TLS; / answers a short text, /big a 4 MiB file, /ok/... 200 "ok",
# /helloworld.Greeter/SayHello a gRPC-shaped answer: content-type
# application/grpc, trailer grpc-status 12 (UNIMPLEMENTED; nginx sends
# trailers over HTTP/2 only). HTTP/2 has ports of its own: curl negotiates h2
# wherever the server offers it, and the other tests expect HTTP/1.1.
# $NGX_EXTRA_CONF (unset: nothing) is added to the server block: locations
# of one test's own (test/integration/leak.sh).
start_nginx() {
	local d=$WORK/nginx
	mkdir -p "$d/www"
	NGX_HTTP=$((20000 + $$ % 5000))
	NGX_HTTPS=$((NGX_HTTP + 1))
	NGX_H2C=$((NGX_HTTP + 2))
	NGX_H2TLS=$((NGX_HTTP + 3))
	openssl req -x509 -newkey rsa:2048 -nodes -keyout "$d/key.pem" -out "$d/cert.pem" \
		-days 1 -subj /CN=localhost 2>/dev/null || return 1
	head -c $((4 << 20)) /dev/urandom >"$d/www/big"
	cat >"$d/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $d/nginx.pid;
error_log $d/error.log;
events { worker_connections 256; }
http {
	access_log off;
	client_body_temp_path $d/body; proxy_temp_path $d/proxy; fastcgi_temp_path $d/fcgi;
	uwsgi_temp_path $d/uwsgi; scgi_temp_path $d/scgi;
	server {
		listen 127.0.0.1:$NGX_HTTP;
		listen 127.0.0.1:$NGX_HTTPS ssl;
		listen 127.0.0.1:$NGX_H2C http2;
		listen 127.0.0.1:$NGX_H2TLS ssl http2;
		ssl_certificate $d/cert.pem;
		ssl_certificate_key $d/key.pem;
		root $d/www;
		location = / { return 200 "hello\n"; }
		location /ok/ { return 200 "ok\n"; }
		location = /helloworld.Greeter/SayHello {
			default_type application/grpc;
			add_trailer grpc-status 12 always;
			return 200 "x";
		}
		location / { }
		${NGX_EXTRA_CONF:-}
	}
}
EOF
	in_cgroup_bg "$1" /usr/sbin/nginx -c "$d/nginx.conf"
	wait_for 10 port_open "$NGX_H2TLS" || { log "nginx did not start"; cat "$d/error.log" >&2; return 1; }
}

start_redis() {
	REDIS_PORT=$((25000 + $$ % 5000))
	in_cgroup_bg "$1" redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save "" \
		--appendonly no --dir "$WORK"
	wait_for 10 port_open "$REDIS_PORT" || { log "redis did not start"; return 1; }
}

start_postgres() {
	local d=$WORK/pg bin
	bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -n 1)
	# shellcheck disable=SC2034 # pgbench and the other tools of that version, for the tests
	PG_BIN=$bin
	PG_PORT=$((30000 + $$ % 5000))
	rm -rf "$d" # a fresh cluster for every test that starts one
	mkdir -p "$d"
	chown postgres: "$d"
	runuser -u postgres -- "$bin/initdb" -D "$d/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1 ||
		{ log "initdb failed"; cat "$WORK/initdb.log" >&2; return 1; }
	in_cgroup_bg "$1" runuser -u postgres -- "$bin/postgres" -D "$d/data" -p "$PG_PORT" -k "$d" \
		-c listen_addresses=127.0.0.1 -c fsync=off
	wait_for 20 port_open "$PG_PORT" || { log "postgres did not start"; return 1; }
}

# start_mariadb CGROUP: MariaDB on 127.0.0.1:$MARIA_PORT, a fresh data
# directory, root@localhost without a password, no TLS (so that the
# protocol is on the wire), binary log off.
start_mariadb() {
	local d=$WORK/maria
	MARIA_PORT=$((45000 + $$ % 5000))
	rm -rf "$d"
	mkdir -p "$d"
	chown mysql: "$d"
	mariadb-install-db --no-defaults --datadir="$d/data" --user=mysql \
		--auth-root-authentication-method=normal --skip-test-db >"$WORK/maria-install.log" 2>&1 ||
		{ log "mariadb-install-db failed"; cat "$WORK/maria-install.log" >&2; return 1; }
	in_cgroup_bg "$1" /usr/sbin/mariadbd --no-defaults --datadir="$d/data" --user=mysql \
		--port="$MARIA_PORT" --bind-address=127.0.0.1 --socket="$d/sock" --pid-file="$d/pid" \
		--skip-ssl --skip-log-bin --innodb-buffer-pool-size=16M --log-error="$d/error.log"
	wait_for 30 port_open "$MARIA_PORT" || { log "mariadb did not start"; cat "$d/error.log" >&2; return 1; }
}

# start_tcpdump FILE FILTER...: capture loopback traffic into FILE (written as
# each packet arrives) until stop_tcpdump; returns once tcpdump listens.
TCPDUMP_PID=""
start_tcpdump() {
	local f=$1
	shift
	tcpdump -i lo -U -n -Z root -w "$f" "$@" 2>"$f.log" &
	TCPDUMP_PID=$!
	wait_for 10 grep -qs 'listening on' "$f.log" || { log "tcpdump did not start"; cat "$f.log" >&2; return 1; }
}

# stop_tcpdump: stop it (it flushes the file on SIGINT) and wait.
stop_tcpdump() {
	[ -n "$TCPDUMP_PID" ] || return 0
	kill -INT "$TCPDUMP_PID" 2>/dev/null
	wait "$TCPDUMP_PID" 2>/dev/null
	TCPDUMP_PID=""
}

stop_servers() {
	local p
	stop_tcpdump
	for p in "${SERVER_PIDS[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${SERVER_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	SERVER_PIDS=()
}
