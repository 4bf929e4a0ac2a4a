// tools/lib/logspam.mjs: a chain dense with ERC-20 Transfer logs, made with
// contracts/LogSpammer (many logs per transaction), for the backfill
// benchmark (tools/bench-backfill) and the indexer's backfill tests.
import http from 'node:http';
import { loadArtifact } from './deploy.mjs';
import { ethers } from './chain.mjs';

const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

/** POSTs body to url; resolves the response body as a Buffer. */
export function post(url, body) {
  return new Promise((resolve, reject) => {
    const u = new URL(url);
    const req = http.request({ host: u.hostname, port: u.port, path: '/', method: 'POST', agent,
      headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, (res) => {
      const parts = [];
      res.on('data', (c) => parts.push(c));
      res.on('end', () => (res.statusCode === 200 ? resolve(Buffer.concat(parts))
        : reject(new Error(`HTTP ${res.statusCode}: ${Buffer.concat(parts).toString().slice(0, 200)}`))));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** One JSON-RPC call; resolves its result, rejects on an error. */
export async function rpc(url, method, params = []) {
  const r = JSON.parse((await post(url, JSON.stringify({ jsonrpc: '2.0', id: 1, method, params }))).toString());
  if (r.error) throw new Error(`${method}: ${r.error.message}`);
  return r.result;
}

async function rpcBatch(url, calls) {
  const body = JSON.stringify(calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params })));
  const out = JSON.parse((await post(url, body)).toString());
  for (const r of out) if (r.error) throw new Error(`${calls[r.id][0]}: ${r.error.message}`);
  return out.sort((a, b) => a.id - b.id).map((r) => r.result);
}

/** Deploys a LogSpammer from the node's first account; resolves
 * { address, block, emitted: 0, seed }: the state spam() carries on. */
export async function deploySpammer(url) {
  const [from] = await rpc(url, 'eth_accounts');
  const art = loadArtifact('LogSpammer');
  const hash = await rpc(url, 'eth_sendTransaction', [{ from, data: art.bytecode, gas: '0x200000' }]);
  let rc = null;
  for (let i = 0; !rc && i < 200; i++) {
    await rpc(url, 'evm_mine');
    rc = await rpc(url, 'eth_getTransactionReceipt', [hash]);
  }
  if (!rc || rc.status !== '0x1') throw new Error('LogSpammer deploy failed');
  return { address: rc.contractAddress, block: Number(rc.blockNumber), from, emitted: 0, seed: 0x1000n };
}

/**
 * Emits n Transfer logs from spammer s: perTx per transaction, txsPerBlock
 * transactions per mined block. Log k overall (from 0) has value k + 1, so
 * the values of all logs sum to emitted * (emitted + 1) / 2. Resolves
 * { first, last }, the blocks that hold them.
 */
export async function spam(url, s, n, { perTx = 2000, txsPerBlock = 1 } = {}) {
  const iface = new ethers.Interface(loadArtifact('LogSpammer').abi);
  await rpc(url, 'evm_setAutomine', [false]);
  const first = Number(await rpc(url, 'eth_blockNumber')) + 1;
  let left = n;
  while (left > 0) {
    const calls = [];
    for (let t = 0; t < txsPerBlock && left > 0; t++) {
      const k = Math.min(perTx, left);
      left -= k;
      calls.push(['eth_sendTransaction', [{ from: s.from, to: s.address, data: iface.encodeFunctionData('spam', [k, s.seed]),
        gas: ethers.toQuantity(100000 + k * 2500) }]]);
      s.seed += BigInt(k) + 7n;
    }
    await rpcBatch(url, calls);
    await rpc(url, 'evm_mine');
  }
  const last = Number(await rpc(url, 'eth_blockNumber'));
  await rpc(url, 'evm_setAutomine', [true]);
  s.emitted += n;
  const got = BigInt(await rpc(url, 'eth_call', [{ to: s.address, data: iface.encodeFunctionData('emitted') }, 'latest']));
  if (got !== BigInt(s.emitted)) throw new Error(`LogSpammer emitted ${got} logs, not ${s.emitted} (a transaction failed)`);
  return { first, last };
}

/** The gas limit a block needs for txsPerBlock transactions of perTx logs. */
export function gasLimit(perTx, txsPerBlock = 1) {
  return Math.max(30000000, 100000 + perTx * txsPerBlock * 2600);
}
