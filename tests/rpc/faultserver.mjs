// faultserver.mjs: a JSON-RPC server that misbehaves on request, for the
// rpc client tests. Listens on 127.0.0.1, on the port given as argv[2]
// (0: any free port), and prints the port on stdout once listening.
// With `--tls KEY CERT` after the port it speaks HTTPS, offering HTTP/2
// (ALPN h2) and HTTP/1.1.
//
// The path picks the behaviour; query parameters tune it; `key` names a
// counter (default: the path) so tests do not see each other's traffic.
//   /ok                 valid answers; batches answered in reverse order
//   /slow?ms=N          valid answers after N ms
//   /status?code=C&n=K&ra=S&body=T
//                       the first K requests (all when K is absent) get
//                       HTTP C with body T and Retry-After S; then /ok
//   /truncated          Content-Length larger than the body, then close
//   /closed             close the connection without an answer
//   /wrongid            valid answers with the id plus one
//   /garbage            HTTP 200 with an HTML body
//   /huge?mb=N&chunked=1
//                       one answer whose result is a string of N MiB (with
//                       chunked=1 sent without Content-Length)
//   /badjson            valid envelopes whose results are not JSON
//                       ([1,,2]): what raw mode must catch
//   /gzip               gzip-encoded answers (400 when not accepted)
//   /rpcerror?msg=M&code=C&data=D&http=H
//                       a JSON-RPC error for every request
// Methods on /ok (and the modes that fall back to it):
//   echo  -> params;  logs [n] -> n log objects;  count [key] -> counters
//   flaky [key] -> a per-item rate-limit error the first time, then "0x1"
//   anything else -> "0x1"
import fs from 'node:fs';
import http from 'node:http';
import http2 from 'node:http2';
import zlib from 'node:zlib';

const counters = new Map(); // key -> { hits, active, maxActive, conns: Set }
let nextConn = 1;

function counter(key) {
	let c = counters.get(key);
	if (!c) {
		c = { hits: 0, active: 0, maxActive: 0, conns: new Set(), h2: 0 };
		counters.set(key, c);
	}
	return c;
}

function fakeLog(i) {
	const h = i.toString(16).padStart(64, '0');
	return {
		address: '0x' + h.slice(24),
		topics: ['0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef', '0x' + h],
		data: '0x' + h + h,
		blockNumber: '0x' + (1000 + (i >> 4)).toString(16),
		blockHash: '0x' + h,
		transactionHash: '0x' + h,
		transactionIndex: '0x0',
		logIndex: '0x' + i.toString(16),
		removed: false,
	};
}

function answer(req) {
	const base = { jsonrpc: '2.0', id: req.id };
	switch (req.method) {
	case 'echo':
		return { ...base, result: req.params };
	case 'logs': {
		const n = Number(req.params?.[0] ?? 0);
		const out = new Array(n);
		for (let i = 0; i < n; i++)
			out[i] = fakeLog(i);
		return { ...base, result: out };
	}
	case 'flaky': {
		const key = String(req.params?.[0]);
		const c = counter(key);
		c.hits++;
		if (c.hits === 1)
			return { ...base, error: { code: 429, message: 'Too many requests' } };
		return { ...base, result: '0x1' };
	}
	case 'count': {
		const c = counter(String(req.params?.[0]));
		return {
			...base,
			result: { hits: c.hits, maxActive: c.maxActive, conns: c.conns.size, h2: c.h2 },
		};
	}
	default:
		return { ...base, result: '0x1' };
	}
}

function answerAll(body, mapOne) {
	if (Array.isArray(body))
		return body.map(mapOne).reverse();
	return mapOne(body);
}

function sendJson(res, status, obj, headers = {}) {
	const text = JSON.stringify(obj);
	res.writeHead(status, { 'content-type': 'application/json', ...headers });
	res.end(text);
}

const hugeCache = new Map();
function hugeBody(mb, id) {
	if (!hugeCache.has(mb))
		hugeCache.set(mb, 'ab'.repeat(mb * 512 * 1024));
	return `{"jsonrpc":"2.0","id":${id},"result":"${hugeCache.get(mb)}"}`;
}

function handle(req, res, url, body, c) {
	const q = url.searchParams;
	const mode = url.pathname.slice(1);
	switch (mode) {
	case 'ok':
		return sendJson(res, 200, answerAll(body, answer));
	case 'slow':
		return setTimeout(() => {
			if (!res.destroyed)
				sendJson(res, 200, answerAll(body, answer));
		}, Number(q.get('ms') ?? 1000));
	case 'status': {
		const n = q.has('n') ? Number(q.get('n')) : Infinity;
		if (c.hits <= n) {
			const headers = { 'content-type': 'text/plain' };
			if (q.has('ra'))
				headers['retry-after'] = q.get('ra');
			res.writeHead(Number(q.get('code') ?? 500), headers);
			return res.end(q.get('body') ?? 'fault injected');
		}
		return sendJson(res, 200, answerAll(body, answer));
	}
	case 'truncated':
		res.writeHead(200, { 'content-type': 'application/json', 'content-length': '1000' });
		res.write('{"jsonrpc":"2.0","id":');
		return setTimeout(() => res.socket?.destroy(), 20);
	case 'closed':
		return req.socket.destroy();
	case 'wrongid':
		return sendJson(res, 200, answerAll(body, (r) => ({ ...answer(r), id: r.id + 1 })));
	case 'garbage':
		res.writeHead(200, { 'content-type': 'text/html' });
		return res.end('<html><body>upstream error</body></html>');
	case 'huge': {
		const text = hugeBody(Number(q.get('mb') ?? 1), Array.isArray(body) ? 0 : body.id);
		if (q.get('chunked') === '1') {
			res.writeHead(200, { 'content-type': 'application/json' });
			for (let i = 0; i < text.length; i += 65536)
				res.write(text.slice(i, i + 65536));
			return res.end();
		}
		res.writeHead(200, { 'content-type': 'application/json', 'content-length': text.length });
		return res.end(text);
	}
	case 'badjson': {
		const one = (r) => `{"jsonrpc":"2.0","id":${r.id},"result":[1,,2]}`;
		const text = Array.isArray(body) ? `[${body.map(one).join(',')}]` : one(body);
		res.writeHead(200, { 'content-type': 'application/json' });
		return res.end(text);
	}
	case 'gzip': {
		if (!/\bgzip\b/.test(req.headers['accept-encoding'] ?? '')) {
			res.writeHead(400);
			return res.end('gzip not accepted');
		}
		const text = zlib.gzipSync(JSON.stringify(answerAll(body, answer)));
		res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
		return res.end(text);
	}
	case 'rpcerror': {
		const err = (r) => {
			const e = { code: Number(q.get('code') ?? -32000), message: q.get('msg') ?? 'error' };
			if (q.has('data'))
				e.data = q.get('data');
			return { jsonrpc: '2.0', id: r.id, error: e };
		};
		return sendJson(res, Number(q.get('http') ?? 200), answerAll(body, err));
	}
	default:
		res.writeHead(404);
		return res.end('no such mode');
	}
}

function onRequest(req, res) {
	const url = new URL(req.url, 'http://localhost');
	const c = counter(url.searchParams.get('key') ?? url.pathname);
	c.hits++;
	c.active++;
	c.maxActive = Math.max(c.maxActive, c.active);
	c.conns.add(req.stream ? req.stream.session.connId : req.socket.connId);
	if (req.httpVersion === '2.0')
		c.h2++;
	res.on('close', () => c.active--);
	const chunks = [];
	req.on('data', (d) => chunks.push(d));
	req.on('end', () => {
		let body;
		try {
			body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
		} catch {
			res.writeHead(400);
			return res.end('bad json');
		}
		handle(req, res, url, body, c);
	});
}

const tls = process.argv[3] === '--tls';
const server = tls
	? http2.createSecureServer(
			{ key: fs.readFileSync(process.argv[4]), cert: fs.readFileSync(process.argv[5]),
			  allowHTTP1: true },
			onRequest)
	: http.createServer(onRequest);
server.on('connection', (sock) => {
	sock.connId = nextConn++;
});
server.on('secureConnection', (sock) => {
	sock.connId = nextConn++;
});
server.on('session', (session) => {
	session.connId = nextConn++;
});
server.keepAliveTimeout = 30000;
server.listen(Number(process.argv[2] ?? 0), '127.0.0.1', () => {
	process.stdout.write(`${server.address().port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
