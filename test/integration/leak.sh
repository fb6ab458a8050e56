# shellcheck shell=bash disable=SC2016 # jq and SQL text is single-quoted on purpose
# The scrubber's leak test (issue 5): fresh random secrets of several shapes
# are planted in every channel the agent parses (URL paths and queries,
# request and response headers, JSON bodies, SQL literals and bound
# parameters, result rows and error messages, Redis commands, process
# arguments), over HTTP/1.1, HTTPS, h2c and h2 over TLS, PostgreSQL, MariaDB
# and Redis, while the whole agent runs with the default policy. Everything
# it writes (the processor's records and the loader's log, which carries the
# processor's) is then searched for each secret in raw, URL-encoded, base64
# (three alignments), hex and JSON-escaped forms, and for pieces of it (a
# value cut by the capture size must not leave its start behind either): 0
# hits. The --record file of the same run (the raw capture, never exported)
# is the oracle that each secret was really captured, so a channel that
# silently carried nothing cannot pass; and the benign facts (methods,
# route templates, statuses, operations, tables, Redis key patterns, the
# scrubbed exec record, scrub counters) must be there: a tool that exports
# nothing fails. A second run with a policy file (--config) hashes a header
# with a keyed HMAC: equal values give equal hashes (checked against an HMAC
# computed here), the value never shows; that run also writes the optional
# segment records and debug log (--data-records --verbose), scanned as well.
#
# Sourced by run.sh after parsing.sh (uses its parse_start, parse_stop,
# drive, expect, jreq, pcheck, parse_end, $PDEFS, $PROCESSOR). Secrets reach
# the clients through files, stdin and the environment, never their
# arguments, except for the exec test, where the arguments are the channel.
# Run alone: test/integration/run.sh test_leak_default_policy test_leak_custom_policy

LEAK_PY=""         # the generator and scanner, written by leak_tools
declare -A LK=()   # channel name -> its secret
LEAK_TRANSPORTS=(h1 h1s h2c h2s)

# leak_tools: write the Python helper (standard library only) into $WORK.
#   gen REGISTRY < "channel shape [nowire|cut]" lines: fresh secrets, one per
#     channel, as "channel<TAB>value" on stdout and JSON lines in REGISTRY
#   scan REGISTRY FILE...: every form of every secret in every FILE; one line
#     per hit (channel, form, where; the secret masked), a summary on stderr;
#     exit 1 on any hit
#   captured REGISTRY FILE: the wire secrets found in FILE in no form; exit 1 if any
#   hmac KEYFILE LEN VALUE: HMAC-SHA-256 of VALUE, LEN hex digits
leak_tools() {
	LEAK_PY=$WORK/leak.py
	cat >"$LEAK_PY" <<'EOF'
import base64, json, secrets, string, sys, urllib.parse, uuid

R = secrets.SystemRandom()
LOW, UP, DIG = string.ascii_lowercase, string.ascii_uppercase, string.digits


def rnd(n, alphabet=LOW + UP + DIG):
    return "".join(R.choice(alphabet) for _ in range(n))


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def luhn_complete(digits):
    total = 0
    for i, d in enumerate(reversed(digits)):
        d = int(d)
        if i % 2 == 0:  # doubled: the check digit will be appended to the right
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return digits + str((10 - total % 10) % 10)


# shape -> (value, [random core pieces]): the pieces are what no other
# text could contain by chance; each is also searched for on its own.
def shape(kind):
    if kind == "tok":  # 28 bytes of upper, lower and digits: an API token
        while True:
            v = rnd(28)
            if sum(c in UP for c in v) >= 3 and sum(c in LOW for c in v) >= 3 and sum(c in DIG for c in v) >= 3:
                return v, [v]
    if kind == "hex":  # 32 lowercase hex digits: a session id
        while True:
            v = rnd(32, "0123456789abcdef")
            if sum(c in DIG for c in v) >= 4 and sum(c in "abcdef" for c in v) >= 4:
                return v, [v]
    if kind == "uuid":
        v = str(uuid.uuid4())
        return v, [v]
    if kind == "email":
        local = rnd(10, LOW + DIG)
        return "%s.%s@%s.com" % (local, rnd(5, LOW), rnd(8, LOW)), [local]
    if kind == "card":  # Visa, 16 digits, Luhn-valid
        v = luhn_complete("4" + rnd(14, DIG))
        return v, [v]
    if kind == "jwt":
        c = (",", ":")
        head = b64url(json.dumps({"alg": "HS256", "typ": "JWT", "kid": rnd(8)}, separators=c).encode())
        body = b64url(json.dumps({"sub": rnd(24), "iat": R.randrange(1 << 30, 1 << 31)}, separators=c).encode())
        sig = b64url(secrets.token_bytes(32))
        return "%s.%s.%s" % (head, body, sig), [body[12:], sig]  # (body[:12] is '{"sub":"')
    if kind == "aws":
        core = rnd(16, UP + DIG)
        return "AKIA" + core, [core]
    if kind == "pw":  # punctuation, a space, a quote and a backslash
        core = rnd(12)
        return 'P@ss w/"\\rd-' + core, [core]
    raise SystemExit("unknown shape " + kind)


def forms(v, pieces):
    """form name -> text: the ways an exporter could spell v."""
    out = {}

    def add(name, text):
        if len(text) >= 8 and text not in out.values():
            out[name] = text

    add("raw", v)
    add("url %XX", urllib.parse.quote(v, safe=""))
    add("url %xx", urllib.parse.quote(v, safe="").replace("%2F", "%2f").replace("%5C", "%5c"))
    add("url + form", urllib.parse.quote_plus(v, safe=""))
    add("url path-safe", urllib.parse.quote(v, safe="/@:=&+$,;"))
    j = json.dumps(v, ensure_ascii=False)[1:-1]
    add("json", j)
    add("json \\/", j.replace("/", "\\/"))
    add("json \\u", "".join("\\u%04x" % ord(c) for c in v))
    add("json \\U", "".join("\\u%04X" % ord(c) for c in v))
    b = v.encode()
    for k in range(3):  # the secret at offset k of a base64 group
        e = base64.b64encode(b"\0" * k + b).decode()
        part = e[-(-8 * k // 6):(8 * (k + len(b))) // 6]  # chars only the secret decides
        add("base64 +%d" % k, part)
        add("base64url +%d" % k, part.replace("+", "-").replace("/", "_"))
    add("hex", b.hex())
    add("HEX", b.hex().upper())
    if v.lower() != v or v.upper() != v:
        add("upper case", v.upper())
        add("lower case", v.lower())
    for p in pieces:  # a cut or truncated secret is a leak too
        if len(p) >= 24:
            add("first 12", p[:12])
            add("last 12", p[-12:])
        else:
            add("piece", p)
    return out


def load(reg):
    with open(reg) as f:
        return [json.loads(l) for l in f if l.strip()]


def strings(x, path=""):
    """(key path, string) of every key and string value in a JSON value."""
    if isinstance(x, dict):
        for k, v in x.items():
            yield path + "." + k, k
            yield from strings(v, path + "." + k)
    elif isinstance(x, list):
        for i, v in enumerate(x):
            yield from strings(v, "%s[%d]" % (path, i))
    elif isinstance(x, str):
        yield path, x


def where(line, text):
    """Where in a line a text was found: the record and the key, never the value."""
    try:
        o = json.loads(line)
    except ValueError:  # a log line: what precedes the secret
        return "log line: %r..." % line[:line.find(text)][-60:]
    keys = [p for p, s in strings(o) if any(text in x for x in (
        s, json.dumps(s, ensure_ascii=False), urllib.parse.unquote(s), urllib.parse.unquote_plus(s)))]
    who = ",".join(str(o.get(k)) for k in ("kind", "protocol", "role", "comm") if k in o)
    return "record %s at %s" % (who, " ".join(keys[:3]) or "(escaped across keys)")


def gen(reg):
    with open(reg, "w") as out:
        for line in sys.stdin:
            f = line.split()
            if not f:
                continue
            v, pieces = shape(f[1])
            wire = "yes" if len(f) < 3 else f[2]  # yes, nowire or cut
            out.write(json.dumps({"channel": f[0], "shape": f[1], "value": v, "pieces": pieces, "wire": wire}) + "\n")
            print("%s\t%s" % (f[0], v))


def decoded(line):
    """A JSON line's keys and strings with JSON escapes, then URL escapes, undone."""
    try:
        o = json.loads(line)
    except ValueError:
        return ""
    out = []
    for p, s in strings(o):
        out += [s, urllib.parse.unquote(s), urllib.parse.unquote_plus(s)]
    return "\0".join(out)


def scan(reg, files):
    sec, hits, nbytes, leaked = load(reg), 0, 0, set()
    nforms = sum(len(forms(s["value"], s["pieces"])) for s in sec)
    for path in files:
        data = open(path, "rb").read().decode("utf-8", "replace")
        lines = data.split("\n")
        nbytes += len(data)
        dec = [decoded(l) for l in lines]
        dec_all = "\n".join(dec)
        for s in sec:
            found = []
            for name, text in forms(s["value"], s["pieces"]).items():
                if text in data:
                    ns = [i for i, l in enumerate(lines) if text in l]
                    found.append((name, ns, where(lines[ns[0]], text)))
            for text in [s["value"]] + s["pieces"]:
                if not found and text in dec_all:
                    ns = [i for i, l in enumerate(dec) if text in l]
                    found.append(("raw, once JSON and URL escapes are undone", ns, where(lines[ns[0]], text)))
            for name, ns, w in found:
                hits += 1
                leaked.add(s["channel"])
                print("    LEAK %-22s (%s) as %s: %s, %d lines, first line %d: %s" % (
                    s["channel"], s["shape"], name, path.rsplit("/", 1)[-1], len(ns), ns[0] + 1, w))
    sys.stderr.write("    scanned %d bytes in %d files for %d secrets in %d forms: %d hits (%d secrets)\n" %
                     (nbytes, len(files), len(sec), nforms, hits, len(leaked)))
    return 1 if hits else 0


def captured(reg, path):
    data = open(path, "rb").read()
    sec = [s for s in load(reg) if s["wire"] != "nowire"]
    # (a secret cut by the capture size: its first 12 bytes at least)
    missing = [s["channel"] for s in sec
               if not any(t.encode() in data for t in ([s["value"][:12]] if s["wire"] == "cut" else
                                                       forms(s["value"], []).values()))]
    sys.stderr.write("    captured: %d of %d wire secrets in %s (%d bytes)\n" %
                     (len(sec) - len(missing), len(sec), path.rsplit("/", 1)[-1], len(data)))
    for m in missing:
        print("    not captured: " + m)
    return 1 if missing else 0


if __name__ == "__main__":
    cmd = sys.argv[1]
    if cmd == "gen":
        gen(sys.argv[2])
    elif cmd == "scan":
        sys.exit(scan(sys.argv[2], sys.argv[3:]))
    elif cmd == "captured":
        sys.exit(captured(sys.argv[2], sys.argv[3]))
    elif cmd == "hmac":  # hmac KEYFILE LEN VALUE: what a "hash" action must give
        import hashlib, hmac
        print(hmac.new(open(sys.argv[2], "rb").read(), sys.argv[4].encode(), hashlib.sha256).hexdigest()[:int(sys.argv[3])])
EOF
}

# leak_secrets SPEC: one fresh secret per "channel shape [nowire|cut]" line
# of SPEC into LK and $WORK/leak.secrets ("nowire": not on the wire as such,
# e.g. HPACK-compressed, so not looked for in the recording; "cut": cut by
# the capture size, only its first 12 bytes are looked for there).
leak_secrets() {
	local ch val
	LK=()
	python3 "$LEAK_PY" gen "$WORK/leak.secrets" <<<"$1" >"$WORK/leak.values" || return 1
	while IFS=$'\t' read -r ch val; do
		LK[$ch]=$val
	done <"$WORK/leak.values"
	[ "${#LK[@]}" -gt 0 ]
}

# leak_scan FILE...: pcheck that no secret is in FILEs, in any form.
leak_scan() {
	local hits
	hits=$(python3 "$LEAK_PY" scan "$WORK/leak.secrets" "$@")
	pcheck "no secret in any form in $(basename -a "$@" | tr '\n' ' ')($(grep -c LEAK <<<"$hits") hits)" \
		[ -z "$hits" ]
	[ -z "$hits" ] || printf '%s\n' "$hits" >&2
}

# leak_captured FILE: pcheck that every wire secret is in FILE (the recording).
leak_captured() {
	local miss
	miss=$(python3 "$LEAK_PY" captured "$WORK/leak.secrets" "$1")
	pcheck "every planted secret was captured (the recording holds it)" [ -z "$miss" ]
	[ -z "$miss" ] || printf '%s\n' "$miss" >&2
}

# cfgq STRING: STRING as a double-quoted curl config value
cfgq() {
	local s=${1//\\/\\\\}
	printf '"%s"' "${s//\"/\\\"}"
}

# urlq STRING: every byte but [A-Za-z0-9._~-] percent-encoded
urlq() {
	local LC_ALL=C s=$1 i c out=""
	for ((i = 0; i < ${#s}; i++)); do
		c=${s:i:1}
		case $c in
		[A-Za-z0-9._~-]) out+=$c ;;
		*) out+=$(printf '%%%02X' "'$c") ;;
		esac
	done
	printf '%s' "$out"
}

# --- HTTP ----------------------------------------------------------------------
# Channels of one transport T: path segments, query values, request headers,
# a JSON body, response headers, a response body and a redirect's Location.
# Over HTTP/2 headers (the path too) are HPACK-coded on the wire: "nowire".
leak_http_spec() {
	local t=$1 w=""
	case $t in h2*) w=nowire ;; esac
	[ "$t" != h1 ] || echo "h1.cut.path tok cut"
	cat <<EOF
$t.path.tok tok $w
$t.path.hex hex $w
$t.path.uuid uuid $w
$t.path.email email $w
$t.path.card card $w
$t.path.jwt jwt $w
$t.path.aws aws $w
$t.path.pw pw $w
$t.query.token tok $w
$t.query.email email $w
$t.query.card card $w
$t.query.pw pw $w
$t.query.bare hex $w
$t.hdr.bearer jwt $w
$t.hdr.cookie tok $w
$t.hdr.apikey aws $w
$t.hdr.trace pw $w
$t.hdr.basic tok $w
$t.hdr.ua email $w
EOF
	[ "$t" = h2c ] || cat <<EOF
$t.body.pw pw
$t.body.card card
$t.body.email email
$t.body.token tok
EOF
	cat <<EOF
$t.resp.hdr tok $w
$t.resp.cookie hex $w
$t.resp.body tok
$t.resp.location jwt $w
EOF
}

# leak_nginx_conf: the locations answering with secrets, one set per transport
leak_nginx_conf() {
	local t
	printf 'location /users/ { return 200 "ok\\n"; }\n'
	for t in "${LEAK_TRANSPORTS[@]}"; do
		printf 'location = /leak/%s/resp { add_header X-Resp-Token "%s" always; add_header Set-Cookie "sid=%s; HttpOnly" always; return 200 "%s\\n"; }\n' \
			"$t" "${LK[$t.resp.hdr]}" "${LK[$t.resp.cookie]}" "${LK[$t.resp.body]}"
		printf 'location = /leak/%s/redir { return 302 "/login?next=%s"; }\n' "$t" "${LK[$t.resp.location]}"
	done
}

# leak_http T SCHEME PORT CURL-CONFIG-LINE...: curl in $CG_IN, every channel
# of T, from config files (headers, URLs) and a body file: one curl and one
# connection for all requests, but one per request for h2c (curl 7.88 fails
# on a prior-knowledge connection it reuses: "Error in the HTTP2 framing
# layer").
leak_http() {
	local t=$1 base=$2://127.0.0.1:$3 body=$WORK/leak-$1.json p opts hdrs i=0 blocks=()
	shift 3
	opts=$(printf '%s\n' show-error "$@")
	jq -cn --arg pw "${LK[$t.body.pw]:-}" --arg card "${LK[$t.body.card]:-}" --arg email "${LK[$t.body.email]:-}" \
		--arg tok "${LK[$t.body.token]:-}" \
		'{user: {email: $email, password: $pw}, payment: {card: $card, currency: "EUR"}, token: $tok, page: 2}' >"$body"
	hdrs=$(printf 'header = %s\n' "$(cfgq "Authorization: Bearer ${LK[$t.hdr.bearer]}")" \
		"$(cfgq "Cookie: sid=${LK[$t.hdr.cookie]}; theme=dark")" \
		"$(cfgq "X-Api-Key: ${LK[$t.hdr.apikey]}")" \
		"$(cfgq "X-Trace-Secret: ${LK[$t.hdr.trace]}")" \
		"$(cfgq "Proxy-Authorization: Basic $(printf 'svc:%s' "${LK[$t.hdr.basic]}" | base64 -w0)")"
		printf 'user-agent = %s\n' "$(cfgq "bpfw-leak/1.0 (+mailto:${LK[$t.hdr.ua]})")")
	for p in tok hex uuid email card jwt aws pw; do
		blocks+=("$hdrs"$'\n'"url = \"$base/users/$(urlq "${LK[$t.path.$p]}")/orders\"")
	done
	blocks+=("$hdrs"$'\n'"url = \"$base/ok/q?token=$(urlq "${LK[$t.query.token]}")&page=2&email=$(urlq \
		"${LK[$t.query.email]}")&card=$(urlq "${LK[$t.query.card]}")&pw=$(urlq "${LK[$t.query.pw]}")&${LK[$t.query.bare]}\"")
	blocks+=("url = \"$base/missing\"")
	# (not over h2c: nginx 1.22 resets or drops a POST stream of curl 7.88
	# there, with or without Expect; h2 over TLS carries the body instead)
	[ "$t" = h2c ] || blocks+=("header = \"Content-Type: application/json\""$'\n'"data-binary = \"@$body\""$'\n'"url = \"$base/users/42/orders\"")
	blocks+=("url = \"$base/leak/$t/resp\""$'\n'"output = \"$WORK/leak-$t-resp.out\"")
	blocks+=("url = \"$base/leak/$t/redir\"")
	# the request cut by the capture size 17 bytes into the secret (at 1024:
	# "GET " + 7 + 996 bytes before it); its first bytes must not show
	[ "$t" != h1 ] || blocks+=("url = \"$base/users/$(printf 'x/%.0s' $(seq 498))${LK[h1.cut.path]}/orders\"")
	for p in "${blocks[@]}"; do
		i=$((i + 1))
		if [ "$t" = h2c ]; then
			printf '%s\n%s\noutput = "/dev/null"\n' "$opts" "$p" >"$WORK/leak-$t-$i.curl"
		else
			[ "$i" = 1 ] || printf 'next\n'
			printf '%s\n%s\noutput = "/dev/null"\n' "$opts" "$p"
		fi
	done >"$WORK/leak-$t.curl"
	chmod 644 "$WORK"/leak-"$t"*.curl "$body"
	if [ "$t" = h2c ]; then
		for ((p = 1; p <= i; p++)); do
			drive "$CG_IN" curl -s -K "$WORK/leak-$t-$p.curl"
		done
	else
		drive "$CG_IN" curl -s -K "$WORK/leak-$t.curl"
	fi
}

# leak_http_checks T PROTOCOL TLS: the benign facts of leak_http, both sides.
leak_http_checks() {
	local t=$1 h side
	h=".protocol == \"$2\" and .tls == $3"
	pcheck "$t: nginx answered with the secret body" grep -qx -- "${LK[$t.resp.body]}" "$WORK/leak-$t-resp.out"
	for side in client server; do
		expect 8 "$t: GET /users/{id}/orders for each path secret ($side)" "$h and $side and meth(\"GET\") and
			a(\"http.route\") == \"/users/{id}/orders\" and upath(\"/users/{id}/orders\") and hcode(200)"
		[ "$t" = h2c ] || expect 1 "$t: POST /users/{id}/orders 200 ($side)" "$h and $side and meth(\"POST\") and
			a(\"http.route\") == \"/users/{id}/orders\" and hcode(200)"
		expect 1 "$t: the query's names kept, its values redacted ($side)" "$h and $side and upath(\"/ok/q\") and
			a(\"url.query\") == \"token=?&page=?&email=?&card=?&pw=?&{id}\""
		expect 1 "$t: GET /missing 404 ($side)" "$h and $side and upath(\"/missing\") and hcode(404)"
		expect 1 "$t: the response with secrets, 200 ($side)" "$h and $side and upath(\"/leak/$t/resp\") and hcode(200)"
		expect 1 "$t: the redirect, 302 ($side)" "$h and $side and upath(\"/leak/$t/redir\") and hcode(302)"
		[ "$t" != h1 ] || expect 1 "$t: the path cut by the capture ends in ... ($side)" "$h and $side and
			(a(\"url.path\") // \"\" | startswith(\"/users/x/x/\") and endswith(\"/...\"))"
		[ "$t" = h2c ] || expect 1 "$t: an allowlisted header kept (content-type of the POST) ($side)" "$h and
			$side and meth(\"POST\") and a(\"http.request.header.content-type\") == \"application/json\""
	done
}

# --- PostgreSQL ------------------------------------------------------------------
leak_pg_spec() {
	cat <<'EOF'
pg.insert.tok tok
pg.insert.email email
pg.insert.card card
pg.insert.pw pw
pg.where.hex hex
pg.where.email email
pg.update.aws aws
pg.backslash.tok tok
pg.estring.tok tok
pg.dollar.jwt jwt
pg.dollartag.aws aws
pg.comment.tok tok
pg.error.tok tok
pg.role.pw pw
pg.inlist.card card
pg.copy.tok tok
pg.cut.tok tok cut
pg.row.tok tok
pg.row.email email
pg.bound-ext.tok tok
pg.bound-ext.card card
pg.bound-prep.hex hex
pg.bound-prep.email email
EOF
}

# leak_pg_setup: tables and the rows that come back as results and bound
# parameters, written before the agent starts (not captured).
leak_pg_setup() {
	cat >"$WORK/leak-pg-setup.sql" <<EOF
create table leak_users (id int primary key, token text, email text, card text, note text);
create table leak_audit (token text, card text);
insert into leak_users values (1, '${LK[pg.row.tok]}', '${LK[pg.row.email]}', '4000', 'setup');
insert into leak_users values (2, '${LK[pg.bound-ext.tok]}', 'x', '${LK[pg.bound-ext.card]}', 'setup');
insert into leak_users values (3, '${LK[pg.bound-prep.hex]}', 'x', '${LK[pg.bound-prep.email]}', 'setup');
EOF
	psql -X -q -v ON_ERROR_STOP=1 -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres \
		-f "$WORK/leak-pg-setup.sql" >"$WORK/leak-pg-setup.out" 2>&1 ||
		{ cat "$WORK/leak-pg-setup.out" >&2; return 1; }
}

# leak_pg: psql (simple query protocol: literals of every quoting form,
# comments, an error message quoting a literal, COPY data, result rows),
# then pgbench -M extended and -M prepared (results bound as parameters).
leak_pg() {
	cat >"$WORK/leak-pg.sql" <<EOF
insert into leak_users (id, token, email, card, note) values (10, '${LK[pg.insert.tok]}', '${LK[pg.insert.email]}', '${LK[pg.insert.card]}', '${LK[pg.insert.pw]}');
select id, email from leak_users where token = '${LK[pg.where.hex]}' or email = '${LK[pg.where.email]}';
update leak_users set token = '${LK[pg.update.aws]}' where id = 10;
select id from leak_users where note = 'C:\\' or token = '${LK[pg.backslash.tok]}';
select E'it\\'s ${LK[pg.estring.tok]}' as s;
select \$\$${LK[pg.dollar.jwt]}\$\$ as s;
select \$q\$${LK[pg.dollartag.aws]}\$q\$ as s;
select 1 /* ${LK[pg.comment.tok]} */ as one;
select '${LK[pg.error.tok]}'::int;
alter role postgres password '${LK[pg.role.pw]}';
select count(*) from leak_users where card in ('${LK[pg.inlist.card]}', '1', '2');
copy leak_users (id, token) from stdin;
11	${LK[pg.copy.tok]}
\\.
select token, email from leak_users where id = 1;
select length('$(printf 'x%.0s' $(seq 975))') + length('${LK[pg.cut.tok]}') as cut;
EOF
	cat >"$WORK/leak-pgbench.sql" <<'EOF'
select token as tok, card as crd from leak_users where id = :row \gset
select count(*) from leak_users where token = :tok and card = :crd;
insert into leak_audit (token, card) values (:tok, :crd);
EOF
	chmod 644 "$WORK/leak-pg.sql" "$WORK/leak-pgbench.sql"
	drive "$CG_IN" psql -X -h 127.0.0.1 -p "$PG_PORT" -U postgres -d postgres -At \
		-f "$WORK/leak-pg.sql" >"$WORK/leak-psql.out" 2>&1
	drive "$CG_IN" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -t 1 -M extended \
		-D row=2 -f "$WORK/leak-pgbench.sql" postgres >"$WORK/leak-pgbench-ext.out" 2>&1
	drive "$CG_IN" "$PG_BIN/pgbench" -h 127.0.0.1 -p "$PG_PORT" -U postgres -n -t 1 -M prepared \
		-D row=3 -f "$WORK/leak-pgbench.sql" postgres >"$WORK/leak-pgbench-prep.out" 2>&1
}

leak_pg_checks() {
	local side pg='.protocol == "postgresql"'
	pcheck "psql: the literal came back as a row" grep -q -- "${LK[pg.dollar.jwt]}" "$WORK/leak-psql.out"
	pcheck "psql: the cast failed" grep -q 'invalid input syntax for type integer' "$WORK/leak-psql.out"
	pcheck "pgbench -M extended ran" grep -q 'actually processed: 1/1' "$WORK/leak-pgbench-ext.out"
	pcheck "pgbench -M prepared ran" grep -q 'actually processed: 1/1' "$WORK/leak-pgbench-prep.out"
	for side in client server; do
		expect + "PostgreSQL: INSERT into leak_users ($side)" "$pg and $side and op(\"INSERT\") and
			a(\"db.collection.name\") == \"leak_users\""
		expect + "PostgreSQL: SELECT from leak_users, with a summary ($side)" "$pg and $side and op(\"SELECT\") and
			a(\"db.collection.name\") == \"leak_users\" and a(\"db.query.summary\") == \"SELECT leak_users\""
		expect + "PostgreSQL: normalized text with placeholders ($side)" "$pg and $side and
			(a(\"db.query.text\") // \"\" | test(\"^select id, email from leak_users where token = \\\\? or email = \\\\?;?\$\"; \"i\"))"
		expect 2 "pgbench: INSERT into leak_audit, bound parameters ($side)" "$pg and $side and op(\"INSERT\") and
			a(\"db.collection.name\") == \"leak_audit\""
		expect + "PostgreSQL: the failed cast is an error 22P02 ($side)" "$pg and $side and err and dbcode(\"22P02\")"
		expect 1 "PostgreSQL: the statement cut by the capture inside a literal ($side)" "$pg and $side and
			(a(\"db.query.text\") // \"\" | startswith(\"select length(?)\"))"
	done
}

# --- MariaDB ---------------------------------------------------------------------
leak_my_spec() {
	cat <<'EOF'
my.insert.tok tok
my.insert.email email
my.insert.card card
my.insert.pw pw
my.where.hex hex
my.backslash.tok tok
my.hexlit.tok tok
my.error.tok tok
my.user.pw pw
my.update.card card
my.comment.tok tok
my.row.tok tok
my.row.email email
my.row.card card
my.bound.tok tok
my.bound.email email
my.bound.pw pw
EOF
}

leak_my_setup() {
	cat >"$WORK/leak-my-setup.sql" <<EOF
create database leakdb;
create table leakdb.leak_orders (id int auto_increment primary key, ref varchar(200), email varchar(200),
	card varchar(32), note varchar(200));
insert into leakdb.leak_orders (ref, email, card, note) values ('${LK[my.row.tok]}', '${LK[my.row.email]}', '${LK[my.row.card]}', 'setup');
EOF
	mariadb --no-defaults --skip-ssl -h 127.0.0.1 -P "$MARIA_PORT" -u root <"$WORK/leak-my-setup.sql" \
		>"$WORK/leak-my-setup.out" 2>&1 || { cat "$WORK/leak-my-setup.out" >&2; return 1; }
}

# leak_my: the mariadb client (text protocol, NO_BACKSLASH_ESCAPES so that a
# lexer assuming backslash escapes would misread), then DBD::MariaDB with
# server-side prepare (binary protocol: bound parameters and result rows).
leak_my() {
	cat >"$WORK/leak-my.sql" <<EOF
set sql_mode = concat(@@sql_mode, ',NO_BACKSLASH_ESCAPES');
use leakdb;
insert into leak_orders (ref, email, card, note) values ('${LK[my.insert.tok]}', '${LK[my.insert.email]}', '${LK[my.insert.card]}', '${LK[my.insert.pw]}');
select id from leak_orders where ref = '${LK[my.where.hex]}';
select id from leak_orders where note = 'C:\\' or ref = '${LK[my.backslash.tok]}';
select x'$(printf '%s' "${LK[my.hexlit.tok]}" | od -An -tx1 | tr -d ' \n')' as s;
select * from leak_orders wher ref = '${LK[my.error.tok]}';
create user 'leak'@'localhost' identified by '${LK[my.user.pw]}';
update leak_orders set card = '${LK[my.update.card]}' where id = 2;
select 1 /* ${LK[my.comment.tok]} */ as one;
select ref, email, card from leak_orders where id = 1;
EOF
	cat >"$WORK/leak-my.pl" <<'EOF'
use strict;
use DBI;
my $d = DBI->connect("DBI:MariaDB:database=leakdb;host=127.0.0.1;port=$ENV{BPFW_PORT};mariadb_server_prepare=1",
	"root", "", { RaiseError => 1, PrintError => 0 });
my $i = $d->prepare("insert into leak_orders (ref, email, note) values (?, ?, ?)");
$i->execute($ENV{BPFW_TOK}, $ENV{BPFW_EMAIL}, $ENV{BPFW_PW});
my $s = $d->prepare("select ref, email, card from leak_orders where id = ?");
$s->execute(1);
my @r = $s->fetchrow_array;
$s->finish;
$d->disconnect;
print "rows: @r\n";
EOF
	chmod 644 "$WORK/leak-my.sql" "$WORK/leak-my.pl"
	# (--force: go on after the error; --comments: send them, as an application would)
	run_in_cgroup "$CG_IN" mariadb --no-defaults --skip-ssl --comments --force -h 127.0.0.1 -P "$MARIA_PORT" \
		-u root <"$WORK/leak-my.sql" >"$WORK/leak-my.out" 2>&1
	BPFW_PORT=$MARIA_PORT BPFW_TOK=${LK[my.bound.tok]} BPFW_EMAIL=${LK[my.bound.email]} \
		BPFW_PW=${LK[my.bound.pw]} drive "$CG_IN" perl "$WORK/leak-my.pl" >"$WORK/leak-my-perl.out" 2>&1
	LEAK_PERL_PID=$(cat "$WORK/last.pid")
}

leak_my_checks() {
	local side ep my='.protocol == "mysql"'
	ep=$(endpoint "$LEAK_PERL_PID")
	pcheck "mariadb: the hex literal came back" grep -q -- "${LK[my.hexlit.tok]}" "$WORK/leak-my.out"
	pcheck "mariadb: the syntax error" grep -q 'ERROR 1064' "$WORK/leak-my.out"
	pcheck "perl: the row came back" grep -q -- "${LK[my.row.tok]}" "$WORK/leak-my-perl.out"
	for side in client server; do
		expect + "MariaDB: INSERT into leak_orders ($side)" "$my and $side and op(\"INSERT\") and
			a(\"db.collection.name\") == \"leak_orders\""
		expect + "MariaDB: SELECT from leak_orders ($side)" "$my and $side and op(\"SELECT\") and
			a(\"db.collection.name\") == \"leak_orders\""
		expect 2 "DBD::MariaDB: the prepared INSERT and SELECT, executed ($side)" "on(\$ep) and $my and $side and ok and
			a(\"db.collection.name\") == \"leak_orders\" and (op(\"INSERT\") or op(\"SELECT\")) and
			(a(\"db.query.text\") // \"\" | test(\"values \\\\(\\\\?(, \\\\?)*\\\\)|where id = \\\\?\$\"))" \
			--argjson ep "$ep"
		expect + "MariaDB: the syntax error is error 1064 ($side)" "$my and $side and err and dbcode(\"1064\")"
	done
}

# --- Redis -----------------------------------------------------------------------
leak_rd_spec() {
	cat <<'EOF'
rd.key.tok tok
rd.value.hex hex
rd.hkey.uuid uuid
rd.hvalue.email email
rd.hvalue.card card
rd.echo.jwt jwt
rd.auth.pw pw
rd.auth2.pw pw
rd.hello.pw pw
rd.command.tok tok
rd.setex.hex hex
rd.setex.aws aws
rd.list.card card
rd.eval.tok tok
rd.requirepass.pw pw
rd.cut.tok tok cut
EOF
}

# resp ARG...: one command in RESP
resp() {
	local LC_ALL=C a
	printf '*%d\r\n' "$#"
	for a in "$@"; do
		printf '$%d\r\n%s\r\n' "${#a}" "$a"
	done
}

# leak_rd: redis-cli --pipe (it adds an ECHO of its own), one connection per
# group of commands, so that each write stays within the capture size;
# requirepass is set last, and that connection authenticated with it.
leak_rd() {
	local i
	{
		resp SET "session:${LK[rd.key.tok]}" "${LK[rd.value.hex]}"
		resp GET "session:${LK[rd.key.tok]}"
	} >"$WORK/leak-redis-1.pipe"
	{
		resp HSET "user:${LK[rd.hkey.uuid]}" email "${LK[rd.hvalue.email]}" card "${LK[rd.hvalue.card]}"
		resp HGETALL "user:${LK[rd.hkey.uuid]}"
	} >"$WORK/leak-redis-2.pipe"
	resp ECHO "${LK[rd.echo.jwt]}" >"$WORK/leak-redis-3.pipe"
	{
		resp AUTH "${LK[rd.auth.pw]}" # (an error: no password set yet)
		resp AUTH default "${LK[rd.auth2.pw]}"
		resp HELLO 2 AUTH default "${LK[rd.hello.pw]}"
	} >"$WORK/leak-redis-4.pipe"
	{
		resp "${LK[rd.command.tok]}" # a password typed as a command (an error)
		resp SETEX "token:${LK[rd.setex.hex]}" 60 "${LK[rd.setex.aws]}"
		resp RPUSH cards "${LK[rd.list.card]}"
	} >"$WORK/leak-redis-5.pipe"
	resp EVAL 'return ARGV[1]' 0 "${LK[rd.eval.tok]}" >"$WORK/leak-redis-6.pipe"
	{
		resp CONFIG SET requirepass "${LK[rd.requirepass.pw]}"
		resp AUTH "${LK[rd.requirepass.pw]}"
	} >"$WORK/leak-redis-7.pipe"
	# a key cut by the capture size 16 bytes into the secret: 20 bytes of
	# RESP, "k:", 493 "x:" before it
	resp SET "k:$(printf 'x:%.0s' $(seq 493))${LK[rd.cut.tok]}" 1 >"$WORK/leak-redis-0.pipe"
	for i in 0 1 2 3 4 5 6 7; do
		run_in_cgroup "$CG_IN" redis-cli -p "$REDIS_PORT" --pipe <"$WORK/leak-redis-$i.pipe" \
			>"$WORK/leak-redis-$i.out" 2>&1
	done
}

leak_rd_checks() {
	local side rd='.protocol == "redis"' n
	n=$(sed -n 's/^errors: \([0-9]*\), replies: \([0-9]*\)$/\1 \2/p' "$WORK"/leak-redis-[0-7].out | tr '\n' ' ')
	pcheck "redis-cli: errors and replies per connection ($n)" [ "$n" = "0 1 0 2 0 2 0 1 1 3 1 3 0 1 0 2 " ]
	for side in client server; do
		expect 1 "Redis: SET session:{id}, the value gone ($side)" "$rd and $side and op(\"SET\") and
			a(\"db.query.text\") == \"SET session:{id}\""
		expect 1 "Redis: HSET user:{id} ($side)" "$rd and $side and op(\"HSET\") and
			a(\"db.query.text\") == \"HSET user:{id}\""
		expect 1 "Redis: SETEX token:{id} ($side)" "$rd and $side and op(\"SETEX\") and
			(a(\"db.query.text\") // \"\" | startswith(\"SETEX token:{id}\"))"
		expect 4 "Redis: AUTH and HELLO ($side)" "$rd and $side and (op(\"AUTH\") or op(\"HELLO\"))"
		expect 1 "Redis: the key cut by the capture ends in ... ($side)" "$rd and $side and op(\"SET\") and
			(a(\"db.query.text\") // \"\" | startswith(\"SET k:x:x:\") and endswith(\":...\"))"
	done
}

# --- process arguments ---------------------------------------------------------------
leak_exec_spec() {
	cat <<'EOF'
exec.password pw
exec.attached-p tok
exec.token hex
exec.api-key aws
exec.url tok
exec.bearer jwt
exec.email email
exec.card card
EOF
}

# leak_exec: the exec record is the channel; its argv holds the secrets.
leak_exec() {
	drive "$CG_IN" /bin/true "--password=${LK[exec.password]}" "-p${LK[exec.attached-p]}" \
		"token=${LK[exec.token]}" --api-key "${LK[exec.api-key]}" \
		"postgres://app:${LK[exec.url]}@db.internal/app" --header "Authorization: Bearer ${LK[exec.bearer]}" \
		--notify "${LK[exec.email]}" --card "${LK[exec.card]}"
	LEAK_EXEC_PID=$(cat "$WORK/last.pid")
}

leak_exec_checks() {
	local ev
	ev=$(jq -c --argjson p "$LEAK_EXEC_PID" 'select(.kind == "exec" and .pid == $p)' "$OUT")
	pcheck "the exec record of /bin/true" [ "$(jq -r .filename <<<"$ev")" = /bin/true ]
	pcheck "its flag, -p, key=value, next-argument and URL secrets redacted by rule" \
		[ "$(jq -c '.args[:8]' <<<"$ev")" = '["/bin/true","--password=[REDACTED]","-p[REDACTED]","token=[REDACTED]","--api-key","[REDACTED]","postgres://app:[REDACTED]@db.internal/app","--header"]' ]
	pcheck "its bearer token, e-mail and card number redacted by the detectors" \
		[ "$(jq -c '.args[8:]' <<<"$ev")" = '["Authorization: Bearer [REDACTED:bearer]","--notify","[REDACTED:email]","--card","[REDACTED:card_number]"]' ]
}

# --- the tests -----------------------------------------------------------------------
# scrub_counters NAME...: those counters of the last stats record's
# processor.scrub.rules and .detectors that are 0 or missing (nothing: all > 0)
scrub_counters() {
	jq -rs '[.[] | select(.kind == "stats")] | last | .processor.scrub as $s | $ARGS.positional[]
		| select((($s.rules[.] // $s.detectors[.] // 0) > 0) | not)' "$OUT" --args "$@" | tr '\n' ' '
}

test_leak_default_policy() {
	local t rec=$WORK/leakrec
	leak_tools
	leak_secrets "$(for t in "${LEAK_TRANSPORTS[@]}"; do leak_http_spec "$t"; done
		leak_pg_spec; leak_my_spec; leak_rd_spec; leak_exec_spec)" || return 1
	NGX_EXTRA_CONF=$(leak_nginx_conf) start_nginx "$CG_IN" || return 1
	start_redis "$CG_IN" || return 1
	start_postgres "$CG_IN" || return 1
	start_mariadb "$CG_IN" || return 1
	leak_pg_setup || return 1
	leak_my_setup || return 1
	mkdir -p "$rec" && chmod 1777 "$rec"
	parse_start leak --record "$rec/rec" || return 1
	leak_http h1 http "$NGX_HTTP" 'http1.1'
	leak_http h1s https "$NGX_HTTPS" 'insecure' 'http1.1'
	leak_http h2c http "$NGX_H2C" 'http2-prior-knowledge'
	leak_http h2s https "$NGX_H2TLS" 'insecure' 'http2'
	leak_pg
	leak_my
	leak_rd
	leak_exec
	parse_stop
	log "    scrub counters: $(jq -c 'select(.kind == "stats") | .processor.scrub' "$OUT" | tail -n 1)"
	leak_scan "$OUT" "$ERR"
	leak_captured "$rec/rec"
	leak_http_checks h1 http false
	leak_http_checks h1s http true
	leak_http_checks h2c http2 false
	leak_http_checks h2s http2 true
	leak_pg_checks
	leak_my_checks
	leak_rd_checks
	leak_exec_checks
	pcheck "stats: every rule and detector this traffic needs counted (zero: $(scrub_counters url_path_templated \
		url_query_redacted sql_normalized redis_key_templated redis_argument_dropped arg_flag_value \
		arg_after_secret_flag arg_attached_p arg_key_value arg_url_userinfo attribute_dropped email card_number \
		bearer))" [ -z "$(scrub_counters url_path_templated url_query_redacted sql_normalized redis_key_templated \
		redis_argument_dropped arg_flag_value arg_after_secret_flag arg_attached_p arg_key_value arg_url_userinfo \
		attribute_dropped email card_number bearer)" ]
	parse_end
}

# --- a policy file: hashed, redacted and kept headers, a kept query name, a user route ---
leak_custom_spec() {
	cat <<'EOF2'
c.trace.a tok
c.trace.b pw
c.auth jwt
c.cookie tok
c.path tok
c.query.token tok
c.query.page card
EOF2
}

# leak_custom_policy FILE KEY: the built-in policy, plus: x-trace-secret and
# authorization hashed with KEY, cookie redacted, x-request-id kept, the
# query name "page" kept, one user route.
leak_custom_policy() {
	"$PROCESSOR" --print-default-config >"$WORK/leak-default-policy.json" || return 1
	jq --arg key "$2" '.headers += [{name: "x-trace-secret", action: "hash"}, {name: "authorization", action: "hash"},
		{name: "cookie", action: "redact"}, {name: "x-request-id", action: "keep"}]
		| .url.query_keep = ["page"] | .routes = ["/api/v1/accounts/{account}/orders"]
		| .hash_key_file = $key' "$WORK/leak-default-policy.json" >"$1" || return 1
	chmod 644 "$1"
}

# leak_custom_traffic T SCHEME PORT CURL-CONFIG-LINE...: four requests on one
# connection; x-trace-secret A, A, B and none.
leak_custom_traffic() {
	local t=$1 base=$2://127.0.0.1:$3 cfg=$WORK/leak-custom-$1.curl opts common
	shift 3
	opts=$(printf '%s\n' show-error "$@")
	common=$(printf 'header = %s\n' "$(cfgq "Authorization: Bearer ${LK[c.auth]}")" \
		"$(cfgq "Cookie: sid=${LK[c.cookie]}")" '"X-Request-Id: req-42"')
	{
		printf '%s\n%s\nheader = %s\nurl = "%s/api/v1/accounts/%s/orders?page=2&token=%s"\noutput = "/dev/null"\n' \
			"$opts" "$common" "$(cfgq "X-Trace-Secret: ${LK[c.trace.a]}")" "$base" "${LK[c.path]}" \
			"${LK[c.query.token]}"
		printf 'next\n%s\n%s\nheader = %s\nurl = "%s/ok/two"\noutput = "/dev/null"\n' \
			"$opts" "$common" "$(cfgq "X-Trace-Secret: ${LK[c.trace.a]}")" "$base"
		printf 'next\n%s\nheader = %s\nurl = "%s/ok/three"\noutput = "/dev/null"\n' \
			"$opts" "$(cfgq "X-Trace-Secret: ${LK[c.trace.b]}")" "$base"
		printf 'next\n%s\nurl = "%s/ok/four?page=%s"\noutput = "/dev/null"\n' "$opts" "$base" "${LK[c.query.page]}"
	} >"$cfg"
	chmod 644 "$cfg"
	drive "$CG_IN" curl -s -K "$cfg"
}

# leak_custom_checks PROTOCOL TLS: what the policy file asks for, both sides.
leak_custom_checks() {
	local h=".protocol == \"$1\" and .tls == $2" side ha hb
	ha=$(python3 "$LEAK_PY" hmac "$WORK/leak-hash.key" 16 "${LK[c.trace.a]}")
	hb=$(python3 "$LEAK_PY" hmac "$WORK/leak-hash.key" 16 "${LK[c.trace.b]}")
	for side in client server; do
		expect 1 "$1: the user route matched, the kept query value kept ($side)" "$h and $side and
			a(\"http.route\") == \"/api/v1/accounts/{account}/orders\" and a(\"url.query\") == \"page=2&token=?\""
		expect 2 "$1: x-trace-secret A: HMAC-SHA-256 with the key, 16 hex digits ($side)" "$h and $side and
			a(\"http.request.header.x-trace-secret\") == \$ha" --arg ha "$ha"
		expect 1 "$1: x-trace-secret B: another hash ($side)" "$h and $side and
			a(\"http.request.header.x-trace-secret\") == \$hb" --arg hb "$hb"
		pcheck "$1: authorization hashed, the same hash for the same value ($side)" [ "$(jreq "[.[] | select($h and
			$side) | a(\"http.request.header.authorization\") | select(.)] | (length == 2 and unique == [.[0]] and
			(.[0] | test(\"^[0-9a-f]{16}\$\")))")" = true ]
		expect 2 "$1: cookie redacted, present ($side)" "$h and $side and
			(a(\"http.request.header.cookie\") | type) == \"string\""
		expect 2 "$1: x-request-id kept ($side)" "$h and $side and a(\"http.request.header.x-request-id\") == \"req-42\""
		expect 1 "$1: a kept query name with a card number: the detector still redacts ($side)" "$h and $side and
			upath(\"/ok/four\") and (a(\"url.query\") // \"\" | startswith(\"page=\"))"
	done
}

# The same traffic over HTTP/1.1 and HTTP/2 over TLS, with a policy file
# (--config) whose hash key file belongs to the processor's user, mode 0400.
test_leak_custom_policy() {
	local rec=$WORK/leakrec2 pol=$WORK/leak-policy.json
	leak_tools
	leak_secrets "$(leak_custom_spec)" || return 1
	head -c 32 /dev/urandom >"$WORK/leak-hash.key"
	chown nobody: "$WORK/leak-hash.key" && chmod 400 "$WORK/leak-hash.key" || return 1
	leak_custom_policy "$pol" "$WORK/leak-hash.key" || return 1
	start_nginx "$CG_IN" || return 1
	mkdir -p "$rec" && chmod 1777 "$rec"
	parse_start leakpol --record "$rec/rec" --config "$pol" --data-records --verbose || return 1
	leak_custom_traffic h1 http "$NGX_HTTP" 'http1.1'
	leak_custom_traffic h2s https "$NGX_H2TLS" 'insecure' 'http2'
	parse_stop
	log "    scrub counters: $(jq -c 'select(.kind == "stats") | .processor.scrub' "$OUT" | tail -n 1)"
	pcheck "the processor says it loaded the policy and its key" \
		grep -q "scrub policy: $pol (.*hash key loaded)" "$ERR"
	leak_scan "$OUT" "$ERR"
	leak_captured "$rec/rec"
	pcheck "stats: hashed and redacted headers, the route, the card in a kept query value counted (zero: $(
		scrub_counters header_hashed header_redacted route_matched card_number))" \
		[ -z "$(scrub_counters header_hashed header_redacted route_matched card_number)" ]
	leak_custom_checks http false
	leak_custom_checks http2 true
	parse_end
}
