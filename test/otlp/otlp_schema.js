'use strict';
// Strict OTLP checks for bpfwarden's exporter tests (test-only; the product never runs node).
//
// The schema is not written down here: every message, field, type, enum value and oneof comes
// from the official opentelemetry-proto .proto files (v1.4.0) shipped in the npm package
// @elastic/mockotlpserver, loaded with protobufjs reflection. This file adds only the OTLP/JSON
// mapping (https://opentelemetry.io/docs/specs/otlp/#json-protobuf-encoding), the "MUST"s the
// .proto comments state, and a few deliberate strictness choices, each marked STRICT below.

const fs = require('fs');
const path = require('path');
const pb = require('protobufjs');

const PROTO_PKG = '@elastic/mockotlpserver';
const PROTO_VERSION = 'v1.4.0';
const SERVICE_PROTOS = {
	traces: 'opentelemetry/proto/collector/trace/v1/trace_service.proto',
	logs: 'opentelemetry/proto/collector/logs/v1/logs_service.proto',
	metrics: 'opentelemetry/proto/collector/metrics/v1/metrics_service.proto',
};
const REQUEST_TYPES = {
	traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceRequest',
	logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceRequest',
	metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest',
};
const RESPONSE_TYPES = {
	traces: 'opentelemetry.proto.collector.trace.v1.ExportTraceServiceResponse',
	logs: 'opentelemetry.proto.collector.logs.v1.ExportLogsServiceResponse',
	metrics: 'opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse',
};
// OTLP/JSON: these bytes fields are hex, not base64; value = length in bytes.
const HEX_ID_BYTES = { trace_id: 16, span_id: 8, parent_span_id: 8 };
const MAX_ERRORS = 50;
const MAX_DEPTH = 64; // AnyValue nesting (arrays in kvlists in arrays...)

const U32_MAX = 0xffffffff;
const I32_MIN = -0x80000000;
const I32_MAX = 0x7fffffff;
const U64_MAX = (1n << 64n) - 1n;
const I64_MIN = -(1n << 63n);
const I64_MAX = (1n << 63n) - 1n;
const DECIMAL = /^-?(0|[1-9][0-9]*)$/;
const BASE64 = /^(?:[A-Za-z0-9+/]*={0,2}|[A-Za-z0-9_-]*={0,2})$/;

// A field's location, materialised as text ("resourceSpans[0].scopeSpans[0].spans[2].traceId")
// only when an error is reported: building strings for every field made the walk 3x slower.
class Where {
	constructor(parent, key) {
		this.parent = parent;
		this.key = key;
	}

	toString() {
		const keys = [];
		for (let p = this; p && p.key !== undefined; p = p.parent)
			keys.push(p.key);
		let s = '';
		for (let i = keys.length - 1; i >= 0; i--)
			s += typeof keys[i] === 'number' ? `[${keys[i]}]` : s ? `.${keys[i]}` : keys[i];
		return s;
	}
}
const ROOT = new Where(null, undefined);

function join(where, key) {
	const s = String(where);
	return s ? `${s}.${key}` : key;
}

function protoDir() {
	return path.dirname(require.resolve(`${PROTO_PKG}/package.json`));
}

// protoc's json_name: drop '_' and upper-case the letter after it.
function jsonName(name) {
	return name.replace(/_([a-z0-9])/g, (_, c) => c.toUpperCase());
}

function loadRoot() {
	const dir = protoDir();
	const root = new pb.Root();
	root.resolvePath = (_origin, target) => path.join(dir, target);
	root.loadSync(Object.values(SERVICE_PROTOS), { keepCase: true });
	root.resolveAll();
	return root;
}

// Per message type: JSON name -> field, proto name -> JSON name (for hints), real oneofs.
function describe(type, cache) {
	let d = cache.get(type);
	if (d)
		return d;
	d = { type, byJson: new Map(), snakeHint: new Map(), oneofs: [], rule: RULES[type.fullName.slice(1)],
		enumValues: new Map() };
	cache.set(type, d);
	for (const f of type.fieldsArray) {
		const jn = jsonName(f.name);
		d.byJson.set(jn, f);
		if (jn !== f.name)
			d.snakeHint.set(f.name, jn);
	}
	for (const o of type.oneofsArray) {
		// proto3 `optional` makes a synthetic one-member oneof named _x: not a real choice
		const synthetic = o.fieldsArray.length === 1 && o.fieldsArray[0].options &&
			o.fieldsArray[0].options.proto3_optional;
		if (!synthetic)
			d.oneofs.push({ name: o.name, members: o.fieldsArray.map((f) => jsonName(f.name)) });
	}
	for (const f of type.fieldsArray) {
		if (f.resolvedType instanceof pb.Enum)
			d.enumValues.set(f.name, new Set(Object.values(f.resolvedType.values)));
	}
	return d;
}

class Checker {
	constructor(schema, opts) {
		this.schema = schema;
		this.opts = opts;
		this.errors = [];
	}

	err(where, msg) {
		if (this.errors.length < MAX_ERRORS)
			this.errors.push(`${String(where) || '(root)'}: ${msg}`);
	}

	message(type, obj, where, depth) {
		if (depth > MAX_DEPTH)
			return this.err(where, `nesting deeper than ${MAX_DEPTH}`);
		if (obj === null || typeof obj !== 'object' || Array.isArray(obj))
			return this.err(where, `${type.name} must be a JSON object, got ${kind(obj)}`);
		const d = describe(type, this.schema.cache);
		for (const key of Object.keys(obj)) {
			const at = new Where(where, key);
			const f = d.byJson.get(key);
			if (!f) {
				const hint = d.snakeHint.get(key);
				// STRICT: the spec says receivers ignore unknown fields; a test receiver must not
				this.err(at, hint ? `field names are lowerCamelCase: use "${hint}"` :
					`unknown field (not in ${type.fullName.slice(1)})`);
				continue;
			}
			if (f.options && f.options.deprecated)
				this.err(at, 'deprecated field');
			this.field(f, obj[key], at, depth, d);
		}
		for (const o of d.oneofs) {
			let n = 0;
			for (const m of o.members)
				n += obj[m] !== undefined;
			if (n > 1)
				this.err(where, `more than one member of oneof ${o.name}: ${o.members.filter((m) => obj[m] !== undefined).join(', ')}`);
		}
		if (d.rule)
			d.rule(this, obj, where);
	}

	field(f, v, at, depth, d) {
		if (v === null) // STRICT: proto3 JSON reads null as "default"; an exporter should omit
			return this.err(at, 'null is not allowed: omit the field instead');
		if (f.repeated) {
			if (!Array.isArray(v))
				return this.err(at, `repeated field must be a JSON array, got ${kind(v)}`);
			for (let i = 0; i < v.length; i++) {
				if (v[i] === null)
					this.err(new Where(at, i), 'null array element');
				else
					this.value(f, v[i], new Where(at, i), depth + 1, d);
			}
			if (f.resolvedType && f.resolvedType.fullName === '.opentelemetry.proto.common.v1.KeyValue')
				uniqueKeys(this, v, at);
			return;
		}
		this.value(f, v, at, depth + 1, d);
	}

	value(f, v, at, depth, d) {
		const rt = f.resolvedType;
		if (rt instanceof pb.Type)
			return this.message(rt, v, at, depth);
		if (rt instanceof pb.Enum)
			return this.enumValue(rt, d.enumValues.get(f.name), v, at);
		switch (f.type) {
		case 'int32': case 'sint32': case 'sfixed32':
			return this.int32(v, at, I32_MIN, I32_MAX);
		case 'uint32': case 'fixed32':
			return this.int32(v, at, 0, U32_MAX);
		case 'int64': case 'sint64': case 'sfixed64':
			return this.int64(v, at, I64_MIN, I64_MAX);
		case 'uint64': case 'fixed64':
			return this.int64(v, at, 0n, U64_MAX);
		case 'double': case 'float':
			if (typeof v === 'number' || v === 'NaN' || v === 'Infinity' || v === '-Infinity')
				return;
			return this.err(at, `${f.type} must be a JSON number (or "NaN"/"Infinity"/"-Infinity"), got ${kind(v)}`);
		case 'bool':
			if (typeof v !== 'boolean')
				this.err(at, `bool must be true or false, got ${kind(v)}`);
			return;
		case 'string':
			if (typeof v !== 'string')
				return this.err(at, `string expected, got ${kind(v)}`);
			if (!wellFormed(v))
				this.err(at, 'string has a lone UTF-16 surrogate (not valid UTF-8)');
			return;
		case 'bytes':
			return HEX_ID_BYTES[f.name] ? this.hexId(v, at, HEX_ID_BYTES[f.name]) : this.base64(v, at);
		default:
			return this.err(at, `unhandled proto type ${f.type}`);
		}
	}

	// OTLP/JSON: "Values of enum fields MUST be encoded as integer values."
	enumValue(en, values, v, at) {
		if (typeof v === 'string')
			return this.err(at, `enum ${en.name} must be an integer, not a name ("${v}")`);
		if (!Number.isInteger(v))
			return this.err(at, `enum ${en.name} must be an integer, got ${kind(v)}`);
		if (!values.has(v))
			this.err(at, `${v} is not a value of enum ${en.name} (${Object.values(en.values).join(', ')})`);
	}

	int32(v, at, min, max) {
		// STRICT: proto3 JSON also reads 32-bit ints from strings; encoders emit numbers
		if (typeof v !== 'number' || !Number.isInteger(v))
			return this.err(at, `32-bit integer must be a JSON integer number, got ${kind(v)}`);
		if (v < min || v > max)
			this.err(at, `${v} out of range [${min}, ${max}]`);
	}

	// proto3 JSON: 64-bit integers are decimal strings. Decoders may also take numbers; STRICT:
	// we take numbers only with --accept-int64-numbers, and then only exact (safe) integers.
	int64(v, at, min, max) {
		if (typeof v === 'number') {
			if (!Number.isInteger(v))
				return this.err(at, `64-bit integer must be a decimal string, got non-integer number ${v}`);
			if (!this.opts.int64Numbers)
				return this.err(at, `64-bit integer must be a decimal string ("${bigText(v)}"), got a JSON number`);
			if (!Number.isSafeInteger(v))
				return this.err(at, `64-bit integer number ${v} is beyond 2^53 and lost precision: use a string`);
			v = String(v);
		}
		if (typeof v !== 'string')
			return this.err(at, `64-bit integer must be a decimal string, got ${kind(v)}`);
		if (!DECIMAL.test(v) || v === '-0')
			return this.err(at, `"${short(v)}" is not a decimal integer string`);
		const b = BigInt(v);
		if (b < min || b > max)
			this.err(at, `${v} out of range [${min}, ${max}]`);
	}

	// "traceId and spanId byte arrays are represented as case-insensitive hex-encoded strings".
	// STRICT: lowercase only (what W3C trace context and every mainstream SDK emit). Empty
	// means "not set"; all-zero ids are invalid everywhere.
	hexId(v, at, nbytes) {
		if (typeof v !== 'string')
			return this.err(at, `id must be a hex string, got ${kind(v)}`);
		if (v === '')
			return;
		if (v.length !== nbytes * 2 || !/^[0-9a-f]*$/.test(v)) {
			const why = /^[0-9a-fA-F]*$/.test(v) && v.length === nbytes * 2 ? 'uppercase hex' :
				`${v.length} characters`;
			return this.err(at, `must be ${nbytes * 2} lowercase hex characters (${nbytes} bytes) or empty, got ${why} ("${short(v)}")`);
		}
		if (/^0+$/.test(v))
			this.err(at, 'all-zero id is invalid (omit the field or use "" for "no id")');
	}

	base64(v, at) {
		if (typeof v !== 'string')
			return this.err(at, `bytes must be a base64 string, got ${kind(v)}`);
		const body = v.replace(/=+$/, '');
		if (!BASE64.test(v) || body.length % 4 === 1 || (v.length !== body.length && v.length % 4 !== 0))
			this.err(at, `"${short(v)}" is not valid base64`);
	}
}

// ---- semantic rules: the .proto files' MUSTs, plus STRICT choices -------------------------

function present(o, k) {
	return o[k] !== undefined;
}

// Value of a validated 64-bit field as BigInt (absent = 0n); null if malformed (already reported).
function big(o, k) {
	const v = o[k];
	if (v === undefined)
		return 0n;
	if ((typeof v === 'string' && DECIMAL.test(v)) || Number.isSafeInteger(v))
		return BigInt(v);
	return null;
}

function nonEmptyString(c, o, k, where, what) {
	if (typeof o[k] !== 'string' || o[k] === '')
		c.err(join(where, k), `${what} is required (non-empty)`);
}

function requiredId(c, o, k, where) {
	if (!o[k])
		c.err(join(where, k), 'is required');
}

function requiredTime(c, o, k, where) {
	if (big(o, k) === 0n)
		c.err(join(where, k), 'is required (non-zero nanoseconds since the epoch)');
}

function startBeforeEnd(c, o, start, end, where) {
	const s = big(o, start);
	const e = big(o, end);
	if (s !== null && e !== null && s !== 0n && e !== 0n && e < s)
		c.err(where, `${end} (${e}) is before ${start} (${s})`);
}

function exactlyOne(c, o, members, where, what) {
	let n = 0;
	for (const m of members)
		n += present(o, m);
	if (n === 1)
		return;
	const set = members.filter((m) => present(o, m));
	c.err(where, `${what}: exactly one of ${members.join('/')} must be set, got ${set.length ? set.join(', ') : 'none'}`);
}

function uniqueKeys(c, list, at) {
	const seen = new Set();
	list.forEach((kv, i) => {
		if (kv && typeof kv.key === 'string') {
			if (seen.has(kv.key))
				c.err(new Where(new Where(at, i), 'key'), `duplicate attribute key "${kv.key}" (keys MUST be unique)`);
			seen.add(kv.key);
		}
	});
}

function temporality(c, o, where) {
	if (!o.aggregationTemporality)
		c.err(`${where}.aggregationTemporality`,
			'AGGREGATION_TEMPORALITY_UNSPECIFIED (0 or absent) MUST not be used');
}

function sumCounts(list) {
	let s = 0n;
	for (const v of list || []) {
		if (!((typeof v === 'string' && DECIMAL.test(v)) || Number.isSafeInteger(v)))
			return null;
		s += BigInt(v);
	}
	return s;
}

function pointTimes(c, o, where) {
	requiredTime(c, o, 'timeUnixNano', where);
	startBeforeEnd(c, o, 'startTimeUnixNano', 'timeUnixNano', where);
}

function minMax(c, o, where) {
	if (typeof o.min === 'number' && typeof o.max === 'number' && o.min > o.max)
		c.err(where, `min (${o.min}) is greater than max (${o.max})`);
	const count = big(o, 'count');
	if (count === 0n && typeof o.sum === 'number' && o.sum !== 0)
		c.err(`${where}.sum`, 'must be zero when count is zero');
}

const RULES = {
	'opentelemetry.proto.common.v1.KeyValue'(c, o, w) {
		nonEmptyString(c, o, 'key', w, 'attribute key');
		if (!present(o, 'value'))
			c.err(`${w}.value`, 'is required (STRICT: an attribute needs a value)');
	},
	// STRICT: the proto allows an "empty" AnyValue; we require exactly one variant
	'opentelemetry.proto.common.v1.AnyValue'(c, o, w) {
		exactlyOne(c, o, ['stringValue', 'boolValue', 'intValue', 'doubleValue', 'arrayValue',
			'kvlistValue', 'bytesValue'], w, 'AnyValue');
	},
	'opentelemetry.proto.trace.v1.Span'(c, o, w) {
		requiredId(c, o, 'traceId', w);
		requiredId(c, o, 'spanId', w);
		nonEmptyString(c, o, 'name', w, 'span name');
		// STRICT: "SPAN_KIND_UNSPECIFIED ... Do NOT use as default"
		if (!o.kind)
			c.err(`${w}.kind`, 'SPAN_KIND_UNSPECIFIED (0 or absent): set the kind');
		requiredTime(c, o, 'startTimeUnixNano', w);
		requiredTime(c, o, 'endTimeUnixNano', w);
		startBeforeEnd(c, o, 'startTimeUnixNano', 'endTimeUnixNano', w);
	},
	'opentelemetry.proto.trace.v1.Span.Event'(c, o, w) {
		requiredTime(c, o, 'timeUnixNano', w);
		nonEmptyString(c, o, 'name', w, 'event name');
	},
	'opentelemetry.proto.trace.v1.Span.Link'(c, o, w) {
		requiredId(c, o, 'traceId', w);
		requiredId(c, o, 'spanId', w);
	},
	'opentelemetry.proto.logs.v1.LogRecord'(c, o, w) {
		if (o.spanId && !o.traceId)
			c.err(`${w}.traceId`, 'is required when spanId is set');
	},
	'opentelemetry.proto.metrics.v1.Metric'(c, o, w) {
		nonEmptyString(c, o, 'name', w, 'metric name');
		exactlyOne(c, o, ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'], w, 'Metric data');
	},
	'opentelemetry.proto.metrics.v1.Sum': (c, o, w) => temporality(c, o, w),
	'opentelemetry.proto.metrics.v1.Histogram': (c, o, w) => temporality(c, o, w),
	'opentelemetry.proto.metrics.v1.ExponentialHistogram': (c, o, w) => temporality(c, o, w),
	'opentelemetry.proto.metrics.v1.NumberDataPoint'(c, o, w) {
		// "A point is considered invalid when one of the recognized value fields is not present"
		exactlyOne(c, o, ['asDouble', 'asInt'], w, 'NumberDataPoint value');
		pointTimes(c, o, w);
	},
	'opentelemetry.proto.metrics.v1.HistogramDataPoint'(c, o, w) {
		pointTimes(c, o, w);
		const counts = o.bucketCounts || [];
		const bounds = o.explicitBounds || [];
		if (Array.isArray(counts) && Array.isArray(bounds)) {
			if (counts.length !== 0 && counts.length !== bounds.length + 1)
				c.err(w, `bucketCounts has ${counts.length} elements: must be explicitBounds (${bounds.length}) + 1`);
			if (counts.length === 0 && bounds.length !== 0)
				c.err(w, `explicitBounds has ${bounds.length} elements but bucketCounts is empty`);
			for (let i = 0; i < bounds.length; i++) {
				if (typeof bounds[i] !== 'number')
					c.err(`${w}.explicitBounds[${i}]`, 'bounds must be finite numbers');
				else if (i > 0 && typeof bounds[i - 1] === 'number' && !(bounds[i] > bounds[i - 1]))
					c.err(`${w}.explicitBounds[${i}]`, 'bounds must be strictly increasing');
			}
			const s = sumCounts(counts);
			const count = big(o, 'count');
			if (counts.length && s !== null && count !== null && s !== count)
				c.err(`${w}.count`, `is ${count} but bucketCounts add up to ${s}`);
		}
		minMax(c, o, w);
	},
	'opentelemetry.proto.metrics.v1.ExponentialHistogramDataPoint'(c, o, w) {
		pointTimes(c, o, w);
		const pos = sumCounts(o.positive && o.positive.bucketCounts);
		const neg = sumCounts(o.negative && o.negative.bucketCounts);
		const zero = big(o, 'zeroCount');
		const count = big(o, 'count');
		if (pos !== null && neg !== null && zero !== null && count !== null && pos + neg + zero !== count)
			c.err(`${w}.count`, `is ${count} but zeroCount + positive + negative buckets = ${pos + neg + zero}`);
		if (typeof o.zeroThreshold === 'number' && o.zeroThreshold < 0)
			c.err(`${w}.zeroThreshold`, 'must not be negative');
		minMax(c, o, w);
	},
	'opentelemetry.proto.metrics.v1.SummaryDataPoint'(c, o, w) {
		pointTimes(c, o, w);
		let prev = null;
		(Array.isArray(o.quantileValues) ? o.quantileValues : []).forEach((q, i) => {
			const qv = q && typeof q.quantile === 'number' ? q.quantile : 0; // absent = 0
			if (qv < 0 || qv > 1)
				c.err(`${w}.quantileValues[${i}].quantile`, 'must be in [0.0, 1.0]');
			if (prev !== null && !(qv > prev))
				c.err(`${w}.quantileValues[${i}].quantile`, 'quantiles must be strictly increasing');
			prev = qv;
			if (q && typeof q.value === 'number' && q.value < 0)
				c.err(`${w}.quantileValues[${i}].value`, 'must not be negative');
		});
	},
	'opentelemetry.proto.metrics.v1.Exemplar'(c, o, w) {
		exactlyOne(c, o, ['asDouble', 'asInt'], w, 'Exemplar value');
		requiredTime(c, o, 'timeUnixNano', w);
		if (o.spanId && !o.traceId)
			c.err(`${w}.traceId`, 'is required when spanId is set');
	},
};

// ---- helpers ----------------------------------------------------------------------------

function kind(v) {
	if (v === null)
		return 'null';
	if (Array.isArray(v))
		return 'an array';
	if (typeof v === 'string')
		return `string "${short(v)}"`;
	if (typeof v === 'number')
		return `number ${v}`;
	return typeof v;
}

function short(s) {
	return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}

function bigText(n) {
	return Number.isSafeInteger(n) ? String(n) : BigInt(Math.trunc(n)).toString();
}

function wellFormed(s) {
	if (typeof s.isWellFormed === 'function')
		return s.isWellFormed();
	return !/[\ud800-\udbff](?![\udc00-\udfff])|(?:^|[^\ud800-\udbff])[\udc00-\udfff]/.test(s);
}

// JSON.parse keeps the last of duplicate keys silently; an encoder that writes a key twice is
// broken, so find the first duplicate in (already syntax-checked) JSON text.
function findDuplicateKey(text) {
	const stack = []; // Set of keys for an object, null for an array
	let expectKey = false;
	for (let i = 0; i < text.length; i++) {
		const ch = text.charCodeAt(i);
		if (ch === 0x22) { // "
			let j = i + 1;
			let escaped = false;
			for (; j < text.length; j++) {
				const d = text.charCodeAt(j);
				if (d === 0x5c) {
					escaped = true;
					j++;
				} else if (d === 0x22) {
					break;
				}
			}
			const top = stack[stack.length - 1];
			if (expectKey && top) {
				const key = escaped ? JSON.parse(text.slice(i, j + 1)) : text.slice(i + 1, j);
				if (top.has(key))
					return { key, offset: i };
				top.add(key);
			}
			expectKey = false;
			i = j;
		} else if (ch === 0x7b) { // {
			stack.push(new Set());
			expectKey = true;
		} else if (ch === 0x5b) { // [
			stack.push(null);
			expectKey = false;
		} else if (ch === 0x7d || ch === 0x5d) { // } ]
			stack.pop();
			expectKey = false;
		} else if (ch === 0x2c) { // ,
			expectKey = stack.length > 0 && stack[stack.length - 1] !== null;
		}
	}
	return null;
}

// Items a request carries (spans, log records, metric data points), tolerant of bad shapes.
function countItems(signal, body) {
	const arr = (v) => (Array.isArray(v) ? v : []);
	let n = 0;
	const top = { traces: 'resourceSpans', logs: 'resourceLogs', metrics: 'resourceMetrics' }[signal];
	const scope = { traces: 'scopeSpans', logs: 'scopeLogs', metrics: 'scopeMetrics' }[signal];
	const leaf = { traces: 'spans', logs: 'logRecords', metrics: 'metrics' }[signal];
	for (const r of arr(body && body[top])) {
		for (const s of arr(r && r[scope])) {
			for (const it of arr(s && s[leaf])) {
				if (signal !== 'metrics') {
					n++;
					continue;
				}
				for (const k of ['gauge', 'sum', 'histogram', 'exponentialHistogram', 'summary'])
					n += arr(it && it[k] && it[k].dataPoints).length;
			}
		}
	}
	return n;
}

// ---- protobuf: strict wire walk, then conversion to the OTLP/JSON form -----------------------

const WIRE = { varint: 0, fixed64: 1, len: 2, fixed32: 5 };
function wireTypeOf(f) {
	if (f.resolvedType instanceof pb.Enum)
		return WIRE.varint;
	if (f.resolvedType instanceof pb.Type)
		return WIRE.len;
	switch (f.type) {
	case 'fixed64': case 'sfixed64': case 'double': return WIRE.fixed64;
	case 'fixed32': case 'sfixed32': case 'float': return WIRE.fixed32;
	case 'string': case 'bytes': return WIRE.len;
	default: return WIRE.varint;
	}
}

// protobufjs skips unknown fields silently; STRICT: report them and wire-type mismatches.
function checkWire(c, type, buf, where, depth) {
	if (depth > MAX_DEPTH)
		return c.err(where, `nesting deeper than ${MAX_DEPTH}`);
	const r = pb.Reader.create(buf);
	while (r.pos < r.len) {
		const tag = r.uint32();
		const id = tag >>> 3;
		const wt = tag & 7;
		const f = type.fieldsById[id];
		const at = f ? new Where(where, jsonName(f.name)) : where;
		if (!f) {
			c.err(at, `unknown field number ${id} in ${type.name}`);
			r.skipType(wt);
			continue;
		}
		const want = wireTypeOf(f);
		const packed = f.repeated && want !== WIRE.len && wt === WIRE.len;
		if (wt !== want && !packed) {
			c.err(at, `wire type ${wt}, expected ${want}`);
			r.skipType(wt);
			continue;
		}
		if (f.resolvedType instanceof pb.Type) {
			const len = r.uint32();
			checkWire(c, f.resolvedType, buf.subarray(r.pos, r.pos + len), at, depth + 1);
			r.pos += len;
		} else {
			r.skipType(wt);
		}
	}
}

function longText(v, unsigned) {
	if (typeof v === 'number')
		return String(v);
	if (pb.util.Long && v instanceof pb.util.Long)
		return (unsigned ? v.toUnsigned() : v.toSigned()).toString();
	return pb.util.Long.fromBits(v.low, v.high, unsigned).toString();
}

function scalarToJson(f, v) {
	switch (f.type) {
	case 'int64': case 'sint64': case 'sfixed64': return longText(v, false);
	case 'uint64': case 'fixed64': return longText(v, true);
	case 'double': case 'float':
		if (Number.isNaN(v))
			return 'NaN';
		if (!Number.isFinite(v))
			return v > 0 ? 'Infinity' : '-Infinity';
		return v;
	case 'bytes':
		return HEX_ID_BYTES[f.name] ? Buffer.from(v).toString('hex') : Buffer.from(v).toString('base64');
	default: return v;
	}
}

function messageToJson(type, msg) {
	const out = {};
	for (const f of type.fieldsArray) {
		if (!Object.prototype.hasOwnProperty.call(msg, f.name))
			continue;
		const v = msg[f.name];
		if (v === null || v === undefined || (f.repeated && v.length === 0))
			continue;
		const conv = (x) => (f.resolvedType instanceof pb.Type ? messageToJson(f.resolvedType, x) :
			f.resolvedType instanceof pb.Enum ? x : scalarToJson(f, x));
		out[jsonName(f.name)] = f.repeated ? v.map(conv) : conv(v);
	}
	return out;
}

// OTLP/JSON object -> protobufjs plain object (proto names, id bytes as Buffers).
function jsonToPlain(type, obj) {
	const d = describe(type, cacheFor(type));
	const out = {};
	for (const [k, v] of Object.entries(obj)) {
		const f = d.byJson.get(k);
		if (!f)
			throw new Error(`unknown field ${k} in ${type.name}`);
		const conv = (x) => {
			if (f.resolvedType instanceof pb.Type)
				return jsonToPlain(f.resolvedType, x);
			if (f.type === 'bytes' && HEX_ID_BYTES[f.name])
				return Buffer.from(x, 'hex');
			return x;
		};
		out[f.name] = f.repeated ? v.map(conv) : conv(v);
	}
	return out;
}

const caches = new WeakMap();
function cacheFor(type) {
	const root = type.root;
	if (!caches.has(root))
		caches.set(root, new Map());
	return caches.get(root);
}

// ---- public API -------------------------------------------------------------------------

class Schema {
	constructor() {
		this.root = loadRoot();
		this.cache = cacheFor(this.root.lookupType(REQUEST_TYPES.traces));
		this.requests = {};
		this.responses = {};
		for (const s of Object.keys(REQUEST_TYPES)) {
			this.requests[s] = this.root.lookupType(REQUEST_TYPES[s]);
			this.responses[s] = this.root.lookupType(RESPONSE_TYPES[s]);
		}
		this.status = pb.Root.fromJSON({ nested: { google: { nested: { rpc: { nested: { Status: {
			fields: { code: { type: 'int32', id: 1 }, message: { type: 'string', id: 2 } },
		} } } } } } }).lookupType('google.rpc.Status');
	}

	// Validate an already-parsed OTLP/JSON request object. Returns a list of errors.
	validateObject(signal, obj, opts = {}) {
		const c = new Checker(this, opts);
		c.message(this.requests[signal], obj, ROOT, 0);
		return c.errors;
	}

	// JSON text -> { body, errors }. body is null when the text is not JSON.
	validateJsonText(signal, text, opts = {}) {
		let body;
		try {
			body = JSON.parse(text);
		} catch (e) {
			return { body: null, errors: [`body is not valid JSON: ${e.message}`] };
		}
		const errors = opts.noValidate ? [] : this.validateObject(signal, body, opts);
		const dup = opts.noValidate ? null : findDuplicateKey(text);
		if (dup)
			errors.unshift(`duplicate JSON object key "${dup.key}" at character ${dup.offset}`);
		return { body, errors };
	}

	// protobuf bytes -> { body (OTLP/JSON form), errors }.
	validateProtobuf(signal, buf, opts = {}) {
		const type = this.requests[signal];
		const c = new Checker(this, opts);
		let msg;
		try {
			checkWire(c, type, buf, ROOT, 0);
			msg = type.decode(buf);
		} catch (e) {
			return { body: null, errors: [...c.errors, `protobuf decode failed: ${e.message}`] };
		}
		const body = messageToJson(type, msg);
		if (!opts.noValidate)
			c.message(type, body, ROOT, 0);
		return { body, errors: c.errors };
	}

	encodeProtobuf(signal, obj) {
		const type = this.requests[signal];
		return Buffer.from(type.encode(type.fromObject(jsonToPlain(type, obj))).finish());
	}

	encodeResponse(signal, protobuf) {
		if (!protobuf)
			return Buffer.from('{}');
		const t = this.responses[signal];
		return Buffer.from(t.encode(t.create({})).finish());
	}

	encodeStatus(code, message, protobuf) {
		if (!protobuf)
			return Buffer.from(JSON.stringify({ code, message }));
		return Buffer.from(this.status.encode(this.status.create({ code, message })).finish());
	}
}

function protoInfo() {
	const pkg = JSON.parse(fs.readFileSync(path.join(protoDir(), 'package.json'), 'utf8'));
	const pbpkg = require('protobufjs/package.json');
	return `opentelemetry-proto ${PROTO_VERSION} from ${PROTO_PKG}@${pkg.version}, protobufjs@${pbpkg.version}`;
}

module.exports = { Schema, countItems, findDuplicateKey, protoInfo, SIGNALS: Object.keys(REQUEST_TYPES) };
