#!/usr/bin/env node
'use strict';
// Strict OTLP/HTTP receiver on loopback for bpfwarden's exporter tests (test-only).
// Every request is checked against the official OTLP protos (otlp_schema.js) and recorded as
// one JSON line; fault modes (errors, Retry-After, delays, outages, TLS) drive the fault tests.
// See README.md in this directory for the options, the output format and the rules.

const fs = require('fs');
const http = require('http');
const https = require('https');
const path = require('path');
const zlib = require('zlib');
const { Schema, countItems, protoInfo } = require('./otlp_schema');

// google.rpc.Code for the Status body of each HTTP error we send (2 = UNKNOWN otherwise)
const RPC_CODES = { 400: 3, 401: 16, 403: 7, 404: 5, 405: 12, 413: 3, 415: 3, 429: 8, 500: 13,
	502: 14, 503: 14, 504: 4 };
const PATHS = { '/v1/traces': 'traces', '/v1/logs': 'logs', '/v1/metrics': 'metrics' };
const USAGE = `usage: node receiver.js [options]
  --host ADDR            listen address (default 127.0.0.1; loopback only is intended)
  --port N               port (default 0 = pick a free one); first stdout line:
                         "listening HOST:PORT"
  --port-file PATH       also write the port number to PATH (atomically)
  --out FILE             append one JSON line per request ("-" = stdout)
  --record full|summary  full: lines carry the request body (default); summary: no body
  --no-validate          accept any well-formed JSON/protobuf (still parsed and counted)
  --discard              accept any body unread (no parsing, items null; for benchmarks)
  --accept-int64-numbers take 64-bit integers as JSON numbers too (exact ones only)
  --max-body BYTES       request body limit after gunzip (default 67108864) -> 413
  --status CODE          answer CODE instead of processing ...
  --fail-count N         ... for the first N requests only (default: all)
  --retry-after SECONDS  Retry-After header on --status and 503-down answers
  --delay MS             hold every response for MS milliseconds
  --down-mode refuse|503 what "down" means: stop listening (connection refused,
                         open connections reset; default) or answer 503
  --start-down           start down (the port is still reserved and printed)
  --down-file PATH       down while PATH exists (polled every 100 ms; acts when it
                         appears or disappears)
                         SIGUSR1 toggles down/up as well
  --expect-header 'NAME: VALUE'  require this header (repeatable) -> else 401
  --tls-cert FILE --tls-key FILE  serve HTTPS
  --tls-client-ca FILE   require a client certificate signed by this CA (mTLS)
  --keep-alive-ms MS     idle keep-alive timeout (default 5000)
  --max-runtime SECONDS  exit by itself after SECONDS (default 0 = never)
GET /-/stats answers the counters as JSON. SIGTERM/SIGINT: exit 0, counters on stderr.`;

function die(msg) {
	process.stderr.write(`receiver: ${msg}\n`);
	process.exit(2);
}

function intArg(name, v, min, max) {
	if (!/^[0-9]+$/.test(v || '') || Number(v) < min || Number(v) > max)
		die(`${name} wants an integer in [${min}, ${max}], got "${v}"`);
	return Number(v);
}

function parseArgs(argv) {
	const o = {
		host: '127.0.0.1', port: 0, portFile: null, out: null, record: 'full', validate: true,
		discard: false, int64Numbers: false, maxBody: 64 << 20, status: 0, failCount: Infinity, retryAfter: null,
		delay: 0, downMode: 'refuse', startDown: false, downFile: null, expectHeaders: [],
		tlsCert: null, tlsKey: null, tlsClientCa: null, keepAliveMs: 5000, maxRuntime: 0,
	};
	const flags = { '--no-validate': () => { o.validate = false; },
		'--discard': () => { o.discard = true; },
		'--accept-int64-numbers': () => { o.int64Numbers = true; },
		'--start-down': () => { o.startDown = true; } };
	const values = {
		'--host': (v) => { o.host = v; },
		'--port': (v) => { o.port = intArg('--port', v, 0, 65535); },
		'--port-file': (v) => { o.portFile = v; },
		'--out': (v) => { o.out = v; },
		'--record': (v) => {
			if (v !== 'full' && v !== 'summary')
				die('--record wants full or summary');
			o.record = v;
		},
		'--max-body': (v) => { o.maxBody = intArg('--max-body', v, 1, 2 ** 31); },
		'--status': (v) => { o.status = intArg('--status', v, 100, 599); },
		'--fail-count': (v) => { o.failCount = intArg('--fail-count', v, 0, 2 ** 31); },
		'--retry-after': (v) => { o.retryAfter = intArg('--retry-after', v, 0, 86400); },
		'--delay': (v) => { o.delay = intArg('--delay', v, 0, 3600000); },
		'--down-mode': (v) => {
			if (v !== 'refuse' && v !== '503')
				die('--down-mode wants refuse or 503');
			o.downMode = v;
		},
		'--down-file': (v) => { o.downFile = v; },
		'--expect-header': (v) => {
			const m = /^([^:\s]+):\s*(.*)$/.exec(v || '');
			if (!m)
				die(`--expect-header wants 'NAME: VALUE', got "${v}"`);
			o.expectHeaders.push([m[1].toLowerCase(), m[2]]);
		},
		'--tls-cert': (v) => { o.tlsCert = v; },
		'--tls-key': (v) => { o.tlsKey = v; },
		'--tls-client-ca': (v) => { o.tlsClientCa = v; },
		'--keep-alive-ms': (v) => { o.keepAliveMs = intArg('--keep-alive-ms', v, 0, 3600000); },
		'--max-runtime': (v) => { o.maxRuntime = intArg('--max-runtime', v, 0, 86400 * 7); },
	};
	for (let i = 0; i < argv.length; i++) {
		const a = argv[i];
		if (a === '-h' || a === '--help') {
			process.stdout.write(`${USAGE}\n`);
			process.exit(0);
		}
		if (flags[a])
			flags[a]();
		else if (values[a] && i + 1 < argv.length)
			values[a](argv[++i]);
		else
			die(`unknown option or missing value: ${a}\n${USAGE}`);
	}
	if (!o.tlsCert !== !o.tlsKey)
		die('--tls-cert and --tls-key go together');
	if (o.tlsClientCa && !o.tlsCert)
		die('--tls-client-ca needs --tls-cert/--tls-key');
	if (o.retryAfter !== null && !o.status && o.downMode !== '503')
		die('--retry-after applies to --status or --down-mode 503 answers');
	return o;
}

class Recorder {
	constructor(file) {
		this.fd = file === '-' ? 1 : file ? fs.openSync(file, 'a') : -1;
		this.seq = 0;
	}

	// One write per line, so readers never see a partial or interleaved line.
	write(rec) {
		rec.seq = ++this.seq;
		if (this.fd >= 0)
			fs.writeSync(this.fd, `${JSON.stringify(rec)}\n`);
	}
}

class Receiver {
	constructor(opts) {
		this.o = opts;
		this.schema = new Schema();
		this.rec = new Recorder(opts.out);
		this.sockets = new Set();
		this.server = null;
		this.port = opts.port;
		this.down = false;
		this.connSeq = 0;
		this.faultsLeft = opts.status ? opts.failCount : 0;
		this.stats = { requests: 0, accepted: 0, rejected: 0, faults: 0, down: 0, tls_errors: 0,
			items: { traces: 0, logs: 0, metrics: 0 }, connections: 0 };
		if (opts.tlsCert) {
			this.tls = { key: fs.readFileSync(opts.tlsKey), cert: fs.readFileSync(opts.tlsCert) };
			if (opts.tlsClientCa)
				Object.assign(this.tls, { ca: fs.readFileSync(opts.tlsClientCa), requestCert: true,
					rejectUnauthorized: true });
		}
	}

	log(msg) {
		process.stderr.write(`receiver: ${msg}\n`);
	}

	newServer() {
		const handler = (req, res) => this.onRequest(req, res);
		const s = this.tls ? https.createServer(this.tls, handler) : http.createServer(handler);
		s.keepAliveTimeout = this.o.keepAliveMs;
		s.on('connection', (sock) => {
			this.sockets.add(sock);
			sock.on('close', () => this.sockets.delete(sock));
		});
		s.on('tlsClientError', (err) => {
			this.stats.tls_errors++;
			this.rec.write({ signal: null, received_at: new Date().toISOString(), result: 'tls_error',
				reason: err.message });
		});
		return s;
	}

	// At most one listen in flight (listenPending); an outage that starts while it is in flight
	// closes the new listener as soon as it is up.
	listen(cb) {
		const s = this.newServer();
		this.listenPending = true;
		s.once('error', (e) => {
			if (e.code === 'EADDRINUSE' && this.everListened) { // coming back from an outage
				if (!this.busyLogged)
					this.log(`port ${this.port} busy, retrying every 100 ms`);
				this.busyLogged = true;
				setTimeout(() => {
					if (this.down && this.o.downMode === 'refuse')
						this.listenPending = false;
					else
						this.listen(cb);
				}, 100);
				return;
			}
			die(`listen on ${this.o.host}:${this.port}: ${e.message}`);
		});
		s.listen(this.port, this.o.host, () => {
			this.listenPending = false;
			this.everListened = true;
			this.port = s.address().port;
			if (this.down && this.o.downMode === 'refuse') { // went down again meanwhile
				s.close();
				return;
			}
			this.server = s;
			this.busyLogged = false;
			cb();
		});
	}

	hostPort() {
		return this.o.host.includes(':') ? `[${this.o.host}]:${this.port}` : `${this.o.host}:${this.port}`;
	}

	setDown(down, why) {
		if (down === this.down)
			return;
		this.down = down;
		this.log(`${down ? 'down' : 'up'} (${why}${this.o.downMode === '503' ? ', 503 mode' : ''})`);
		if (this.o.downMode !== 'refuse')
			return;
		if (down) {
			if (this.server)
				this.server.close();
			this.server = null;
			for (const s of this.sockets)
				s.destroy();
		} else if (!this.server && !this.listenPending) {
			this.listen(() => this.log(`listening again on ${this.hostPort()}`));
		}
	}

	// Acts when the file appears or disappears (and at start if it exists), so --start-down and
	// SIGUSR1 keep their effect until the file changes.
	watchDownFile() {
		let was = fs.existsSync(this.o.downFile);
		if (was)
			this.setDown(true, `${this.o.downFile} exists`);
		setInterval(() => {
			const now = fs.existsSync(this.o.downFile);
			if (now !== was)
				this.setDown(now, `${this.o.downFile} ${now ? 'created' : 'removed'}`);
			was = now;
		}, 100);
	}

	start() {
		this.listen(() => {
			// settle the start state first: once the port is printed, it is what tests get
			if (this.o.startDown)
				this.setDown(true, '--start-down');
			if (this.o.downFile)
				this.watchDownFile();
			process.stdout.write(`listening ${this.hostPort()}${this.tls ? ' tls' : ''}\n`);
			if (this.o.portFile) {
				fs.writeFileSync(`${this.o.portFile}.tmp`, `${this.port}\n`);
				fs.renameSync(`${this.o.portFile}.tmp`, this.o.portFile);
			}
		});
		process.on('SIGUSR1', () => this.setDown(!this.down, 'SIGUSR1'));
		// keeps the process alive while no server is listening (refuse-mode outage)
		setInterval(() => {}, 1 << 30);
		const bye = (sig) => {
			this.log(`${sig}: ${JSON.stringify(this.stats)}`);
			process.exit(0);
		};
		process.on('SIGTERM', () => bye('SIGTERM'));
		process.on('SIGINT', () => bye('SIGINT'));
		if (this.o.maxRuntime)
			setTimeout(() => bye(`--max-runtime ${this.o.maxRuntime}s`), this.o.maxRuntime * 1000);
	}

	onRequest(req, res) {
		const sock = req.socket;
		if (!sock.otlpConn) {
			sock.otlpConn = ++this.connSeq;
			this.stats.connections++;
		}
		const url = req.url.split('?')[0];
		if (req.method === 'GET' && url === '/-/stats')
			return this.reply(res, 200, { 'Content-Type': 'application/json' },
				Buffer.from(JSON.stringify(this.stats)), 0);
		const chunks = [];
		let size = 0;
		let tooBig = false;
		req.on('data', (c) => {
			size += c.length;
			if (size > this.o.maxBody)
				tooBig = true;
			else
				chunks.push(c);
		});
		req.on('end', () => this.handle(req, res, url, tooBig ? null : Buffer.concat(chunks), size));
		req.on('error', () => {});
	}

	reply(res, status, headers, body, delay) {
		const send = () => {
			if (res.destroyed || res.writableEnded)
				return;
			res.writeHead(status, { ...headers, 'Content-Length': body.length });
			res.end(body);
		};
		if (delay)
			setTimeout(send, delay);
		else
			send();
	}

	handle(req, res, url, raw, size) {
		const signal = PATHS[url] || null;
		const ctype = (req.headers['content-type'] || '').split(';')[0].trim().toLowerCase();
		const protobuf = ctype === 'application/x-protobuf';
		const encoding = (req.headers['content-encoding'] || 'identity').trim().toLowerCase();
		const rec = { signal, received_at: new Date().toISOString(), result: null, status: 0,
			conn: req.socket.otlpConn, method: req.method, path: req.url, content_type: ctype,
			content_encoding: encoding, bytes: size, headers: req.headers };
		this.stats.requests++;
		const answer = (status, extra = {}) => {
			rec.status = status;
			Object.assign(rec, extra);
			const headers = { 'Content-Type': protobuf ? 'application/x-protobuf' : 'application/json' };
			let body;
			if (status === 200) {
				rec.result = 'accepted';
				body = this.schema.encodeResponse(signal, protobuf);
			} else {
				rec.result = rec.result || 'rejected';
				// OTLP/HTTP: 4xx/5xx bodies are a google.rpc.Status in the request's encoding
				body = this.schema.encodeStatus(RPC_CODES[status] || 2, rec.reason || '', protobuf);
				if (rec.retry_after !== undefined)
					headers['Retry-After'] = String(rec.retry_after);
				if (status === 405)
					headers.Allow = 'POST';
			}
			if (rec.result === 'rejected')
				this.stats.rejected++;
			this.rec.write(rec);
			this.reply(res, status, headers, body, this.o.delay);
		};

		if (this.down) { // 503 mode (refuse mode never gets here)
			this.stats.down++;
			rec.result = 'down';
			return answer(503, { reason: 'receiver is down', ...this.retryAfter() });
		}
		if (this.faultsLeft > 0) {
			this.faultsLeft--;
			this.stats.faults++;
			rec.result = 'fault';
			return answer(this.o.status, { reason: `injected fault (--status ${this.o.status})`,
				...this.retryAfter() });
		}
		if (!signal)
			return answer(404, { reason: `unknown path ${url}: use /v1/traces, /v1/logs or /v1/metrics` });
		if (req.method !== 'POST')
			return answer(405, { reason: `method ${req.method} not allowed: OTLP/HTTP uses POST` });
		for (const [name, value] of this.o.expectHeaders) {
			if (req.headers[name] !== value)
				return answer(401, { reason: `header ${name} missing or not the expected value` });
		}
		if (raw === null)
			return answer(413, { reason: `body larger than --max-body ${this.o.maxBody}` });
		if (ctype !== 'application/json' && !protobuf)
			return answer(415, { reason: `Content-Type "${ctype}": use application/json or application/x-protobuf` });
		let buf = raw;
		if (encoding === 'gzip') {
			try {
				buf = zlib.gunzipSync(raw, { maxOutputLength: this.o.maxBody });
			} catch (e) {
				const big = e.code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError;
				return answer(big ? 413 : 400, { reason: `gzip body: ${e.message}` });
			}
		} else if (encoding !== 'identity') {
			return answer(415, { reason: `Content-Encoding "${encoding}": only gzip is supported` });
		}
		rec.decoded_bytes = buf.length;
		if (this.o.discard) {
			this.stats.accepted++;
			rec.items = null;
			return answer(200);
		}
		const result = this.decode(signal, buf, protobuf);
		rec.items = countItems(signal, result.body);
		if (result.errors.length)
			return answer(400, { reason: result.errors[0] + (result.errors.length > 1 ?
				` (and ${result.errors.length - 1} more)` : ''), errors: result.errors,
			...this.bodyFields(result, buf, protobuf) });
		this.stats.accepted++;
		this.stats.items[signal] += rec.items;
		return answer(200, this.bodyFields(result, buf, protobuf));
	}

	retryAfter() {
		return this.o.retryAfter === null ? {} : { retry_after: this.o.retryAfter };
	}

	decode(signal, buf, protobuf) {
		const opts = { int64Numbers: this.o.int64Numbers, noValidate: !this.o.validate };
		if (protobuf)
			return this.schema.validateProtobuf(signal, buf, opts);
		if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf)
			return { body: null, errors: ['body starts with a UTF-8 byte order mark (not allowed in JSON)'] };
		let text;
		try {
			text = new TextDecoder('utf-8', { fatal: true }).decode(buf);
		} catch (e) {
			return { body: null, errors: ['body is not valid UTF-8'] };
		}
		return this.schema.validateJsonText(signal, text, opts);
	}

	bodyFields(result, buf, protobuf) {
		if (this.o.record !== 'full')
			return {};
		if (result.body !== null)
			return { body: result.body };
		return protobuf ? { body_base64: buf.subarray(0, 65536).toString('base64') } :
			{ body_text: buf.subarray(0, 65536).toString('utf8') };
	}
}

function main() {
	const opts = parseArgs(process.argv.slice(2));
	let r;
	try {
		r = new Receiver(opts);
	} catch (e) {
		die(e.message);
	}
	process.stderr.write(`receiver: schema ${protoInfo()}\n`);
	r.start();
}

if (require.main === module)
	main();

module.exports = { Receiver, parseArgs, PATHS, dir: path.dirname(__filename) };
