// tools/lib/chain.mjs: ethers connection, time travel and batched JSON-RPC
// for anvil.

import path from 'node:path';
import { createRequire } from 'node:module';
import { repoRoot, TEST_MNEMONIC, CHAIN_ID, rpc } from './anvil.mjs';

const require = createRequire(path.join(repoRoot, 'package.json'));
/** The pinned ethers (node_modules at the repository root). */
export const ethers = require('ethers');

/**
 * A JsonRpcProvider tuned for a local anvil: fixed network, fast polling, no
 * response caching (time travel must be seen at once).
 */
export function connect(rpcUrl) {
  const network = new ethers.Network('anvil', CHAIN_ID);
  const provider = new ethers.JsonRpcProvider(rpcUrl, network, {
    staticNetwork: network,
    batchMaxCount: 1,
    cacheTimeout: -1,
    pollingInterval: 20,
  });
  provider.pollingInterval = 20;
  return provider;
}

/**
 * The first `n` anvil accounts of the test mnemonic as ethers Wallets
 * (path m/44'/60'/0'/0/i, as anvil derives them). TEST-ONLY keys.
 */
export function testWallets(provider, n = 10) {
  const base = ethers.HDNodeWallet.fromPhrase(TEST_MNEMONIC, undefined, "m/44'/60'/0'/0");
  const out = [];
  for (let i = 0; i < n; i++) {
    const w = base.deriveChild(i);
    out.push(new ethers.Wallet(w.privateKey, provider));
  }
  return out;
}

/** Timestamp of the latest block. */
export async function latestTimestamp(rpcUrl) {
  const block = await rpc(rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  return Number(block.timestamp);
}

/**
 * Moves chain time forward by `seconds` and mines one block so the new time
 * is visible. Returns { number, timestamp } of the mined block.
 */
export async function increaseTime(rpcUrl, seconds) {
  if (!Number.isInteger(seconds) || seconds < 0) throw new Error(`bad number of seconds: ${seconds}`);
  await rpc(rpcUrl, 'evm_increaseTime', [seconds]);
  await rpc(rpcUrl, 'evm_mine', []);
  const block = await rpc(rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
  return { number: Number(block.number), timestamp: Number(block.timestamp) };
}

/** The next mined block (e.g. the next transaction's) gets exactly `timestamp`. */
export async function setNextTimestamp(rpcUrl, timestamp) {
  await rpc(rpcUrl, 'evm_setNextBlockTimestamp', [timestamp]);
}

/** Mines one block, optionally at an exact timestamp. */
export async function mine(rpcUrl, timestamp) {
  if (timestamp !== undefined) await setNextTimestamp(rpcUrl, timestamp);
  await rpc(rpcUrl, 'evm_mine', []);
}

/**
 * Sends calls, an array of [method, params], to url as one JSON-RPC batch
 * (one HTTP request, ids 0..n-1; no request at all for an empty array).
 * Resolves their results in the order of calls, whatever order the node
 * answered in. Rejects with "METHOD: MESSAGE" naming the first call that
 * got an error or no answer. No timeout (large batches may take long).
 */
export async function rpcBatch(url, calls) {
  if (!calls.length) return [];
  const body = calls.map(([method, params], id) => ({ jsonrpc: '2.0', id, method, params }));
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const out = await res.json();
  const byId = new Map(out.map((r) => [r.id, r]));
  return calls.map((c, id) => {
    const r = byId.get(id);
    if (!r || r.error) throw new Error(`${c[0]}: ${r ? r.error.message : 'no answer'}`);
    return r.result;
  });
}

/** One call through rpcBatch (a batch of one): its result; no timeout. */
export async function rpcBatchOne(url, method, params = []) {
  return (await rpcBatch(url, [[method, params]]))[0];
}
