// proxy.mjs: a JSON-RPC proxy in front of anvil that behaves like a
// difficult provider: eth_getLogs over more than maxRange blocks is refused
// with the messages real providers send (a span limit, or a suggested
// range), and a share of HTTP requests fails (HTTP 500, HTTP 429, a dropped
// connection) or is slow; opts.mangle(log) may rewrite the logs of
// eth_getLogs answers; opts.rewrite(text) may rewrite the text of each
// answer as it goes out; opts.onItem(item) sees every JSON-RPC request
// item that reaches the proxy. Counts what it did. Rates are per HTTP
// request.
import http from 'node:http';
import { prng } from '../../tools/lib/prng.mjs';

export async function startProxy(target, opts = {}) {
  const o = { maxRange: 500, rate500: 0.05, rate429: 0, rateDrop: 0.03, slowRate: 0.05, slowMs: 300, seed: 7, ...opts };
  const rand = prng(o.seed);
  const stats = { requests: 0, refusedRange: 0, http500: 0, http429: 0, dropped: 0, slow: 0 };
  let rangeMsg = 0;

  // A refusal for one eth_getLogs item, or null when it may go through.
  const refuse = (req) => {
    if (req.method !== 'eth_getLogs' || !Array.isArray(req.params) || !req.params[0]) return null;
    const f = req.params[0];
    if (typeof f.fromBlock !== 'string' || typeof f.toBlock !== 'string' || !f.fromBlock.startsWith('0x')) return null;
    const from = BigInt(f.fromBlock), to = BigInt(f.toBlock);
    if (to - from + 1n <= BigInt(o.maxRange)) return null;
    stats.refusedRange++;
    const which = rangeMsg++ % 3;
    let message;
    if (which === 0) message = `query exceeds max block range ${o.maxRange}`;
    else if (which === 1) {
      const end = from + BigInt(Math.floor(o.maxRange / 2)) - 1n;
      message = 'Log response size exceeded. You can make eth_getLogs requests with up to a 2K block range and no limit on the response size, ' +
        `or you can request any block range with a cap of 10K logs in the response. Based on your parameters, this block range should work: [0x${from.toString(16)}, 0x${end.toString(16)}]`;
    } else message = 'query returned more than 10000 results';
    return { jsonrpc: '2.0', id: req.id, error: { code: -32005, message } };
  };

  const forward = async (body) => {
    const r = await fetch(target, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    return r.text();
  };

  const server = http.createServer((req, res) => {
    let chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', async () => {
      stats.requests++;
      const body = Buffer.concat(chunks).toString();
      const x = rand();
      if (x < o.rate500) {
        stats.http500++;
        res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('upstream failure');
        return;
      }
      if (x < o.rate500 + o.rate429) {
        stats.http429++;
        res.writeHead(429, { 'content-type': 'text/plain', 'retry-after': '0' });
        res.end('too many requests');
        return;
      }
      if (x < o.rate500 + o.rate429 + o.rateDrop) {
        stats.dropped++;
        req.socket.destroy();
        return;
      }
      if (rand() < o.slowRate) {
        stats.slow++;
        await new Promise((r) => setTimeout(r, o.slowMs));
      }
      let parsed;
      try {
        parsed = JSON.parse(body);
      } catch {
        res.writeHead(400);
        res.end();
        return;
      }
      const list = Array.isArray(parsed) ? parsed : [parsed];
      const answers = new Map();
      const pass = [];
      for (const item of list) {
        if (o.onItem) o.onItem(item);
        const no = refuse(item);
        if (no) answers.set(item.id, no);
        else pass.push(item);
      }
      try {
        if (pass.length) {
          const up = JSON.parse(await forward(JSON.stringify(pass)));
          for (const r of Array.isArray(up) ? up : [up]) {
            if (o.mangle && Array.isArray(r.result)) r.result = r.result.map((l) => (l && l.topics ? o.mangle(l) : l));
            answers.set(r.id, r);
          }
        }
        const out = list.map((i) => answers.get(i.id));
        let text = JSON.stringify(Array.isArray(parsed) ? out : out[0]);
        if (o.rewrite) text = o.rewrite(text);
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(text);
      } catch {
        res.writeHead(502);
        res.end('bad gateway');
      }
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    stats,
    set(opts2) {
      Object.assign(o, opts2);
    },
    close: () => new Promise((r) => {
      server.closeAllConnections();
      server.close(() => r());
    }),
  };
}
