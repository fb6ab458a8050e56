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
# / answers a short text, /big a 4 MiB file.
start_nginx() {
	local d=$WORK/nginx
	mkdir -p "$d/www"
	NGX_HTTP=$((20000 + $$ % 5000))
	NGX_HTTPS=$((NGX_HTTP + 1))
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
		ssl_certificate $d/cert.pem;
		ssl_certificate_key $d/key.pem;
		root $d/www;
		location = / { return 200 "hello\n"; }
		location / { }
	}
}
EOF
	in_cgroup_bg "$1" /usr/sbin/nginx -c "$d/nginx.conf"
	wait_for 10 port_open "$NGX_HTTPS" || { log "nginx did not start"; cat "$d/error.log" >&2; return 1; }
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
	PG_PORT=$((30000 + $$ % 5000))
	mkdir -p "$d"
	chown postgres: "$d"
	runuser -u postgres -- "$bin/initdb" -D "$d/data" -A trust -U postgres >"$WORK/initdb.log" 2>&1 ||
		{ log "initdb failed"; cat "$WORK/initdb.log" >&2; return 1; }
	in_cgroup_bg "$1" runuser -u postgres -- "$bin/postgres" -D "$d/data" -p "$PG_PORT" -k "$d" \
		-c listen_addresses=127.0.0.1 -c fsync=off
	wait_for 20 port_open "$PG_PORT" || { log "postgres did not start"; return 1; }
}

stop_servers() {
	local p
	for p in "${SERVER_PIDS[@]}"; do
		pkill -TERM -P "$p" 2>/dev/null
		kill -TERM "$p" 2>/dev/null
	done
	for p in "${SERVER_PIDS[@]}"; do
		wait "$p" 2>/dev/null
	done
	SERVER_PIDS=()
}
