#!/usr/bin/env node
'use strict';
// Offline companion of receiver.js (test-only): run the same strict checks on a file, or
// convert between OTLP/JSON and protobuf for fixtures.
//   node validate.js SIGNAL FILE              errors on stderr, exit 1 if any
//   node validate.js --to-protobuf SIGNAL FILE    JSON fixture -> protobuf on stdout
//   node validate.js --from-protobuf SIGNAL FILE  protobuf -> OTLP/JSON on stdout (validated)
// SIGNAL is traces, logs or metrics; FILE "-" is stdin.

const fs = require('fs');
const { Schema, SIGNALS } = require('./otlp_schema');

function usage() {
	process.stderr.write('usage: node validate.js [--to-protobuf|--from-protobuf] SIGNAL FILE\n');
	process.exit(2);
}

function main(argv) {
	let mode = 'check';
	if (argv[0] === '--to-protobuf' || argv[0] === '--from-protobuf')
		mode = argv.shift().slice(2);
	const [signal, file] = argv;
	if (argv.length !== 2 || !SIGNALS.includes(signal))
		usage();
	const data = fs.readFileSync(file === '-' ? 0 : file);
	const schema = new Schema();
	let res;
	if (mode === 'from-protobuf')
		res = schema.validateProtobuf(signal, data);
	else
		res = schema.validateJsonText(signal, data.toString('utf8'));
	for (const e of res.errors)
		process.stderr.write(`${file}: ${e}\n`);
	if (res.errors.length)
		process.exit(1);
	if (mode === 'to-protobuf')
		process.stdout.write(schema.encodeProtobuf(signal, res.body));
	else if (mode === 'from-protobuf')
		process.stdout.write(`${JSON.stringify(res.body)}\n`);
}

main(process.argv.slice(2));
