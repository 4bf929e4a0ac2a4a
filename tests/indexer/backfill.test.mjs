// backfill.test.mjs: runwayd backfilling a chain dense with ERC-20 Transfer
// logs (contracts/LogSpammer): ranges start small and grow with the
// answers, an answer over its ceiling (twice what was expected) splits its
// range in proportion to its size, answers in every shape JSON allows are read
// alike, and a malformed answer is fetched again; every time the mirror is
// exactly the chain's logs.
// Runs under tests/pg/with-pg; RUNWAY_BIN_DIR names the build's src/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { startAnvil, repoRoot } from '../../tools/lib/anvil.mjs';
import { connect } from '../../tools/lib/chain.mjs';
import { deploySpammer, gasLimit, rpc, spam } from '../../tools/lib/logspam.mjs';
import { createDatabase, sql, startRunwayd, stopRunwayd, tempDir, waitCaughtUp } from './helpers.mjs';
import { startProxy } from './proxy.mjs';

const CHAIN = 31337;
const TRANSFER = '0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef';
const state = tempDir('backfill');
let anvil, provider, spammer, d;

before(async () => {
  anvil = await startAnvil({ extra: ['--gas-limit', String(gasLimit(14000))] });
  provider = connect(anvil.rpcUrl);
  spammer = await deploySpammer(anvil.rpcUrl);
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  provider.destroy();
  await anvil.stop();
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

function writeConfig(name, rpcUrl) {
  const file = path.join(state, `${name}.json`);
  fs.writeFileSync(file, JSON.stringify({
    abi_dir: path.join(repoRoot, 'abi'),
    chains: [{
      name: 'dense', chain_id: CHAIN, rpc: [rpcUrl], confirmations: 0, poll_interval_ms: 200,
      reorg_window: 8, start_block: spammer.block,
      tokens: [{ symbol: 'SPAM', address: spammer.address, decimals: 0, watch: 'all' }],
    }],
  }));
  return file;
}

/** Every Transfer of the spammer up to head, from the node, as
 * "block:logIndex:from:to:value" lines, sorted. */
async function chainRows(head) {
  const out = [];
  const step = 8;
  for (let b = spammer.block; b <= head; b += step) {
    const logs = await rpc(anvil.rpcUrl, 'eth_getLogs', [{ address: spammer.address, topics: [TRANSFER],
      fromBlock: '0x' + b.toString(16), toBlock: '0x' + Math.min(head, b + step - 1).toString(16) }]);
    for (const l of logs) {
      out.push(`${Number(l.blockNumber)}:${Number(l.logIndex)}:${l.topics[1].slice(26)}:${l.topics[2].slice(26)}:${BigInt(l.data)}`);
    }
  }
  return out.sort();
}

/** The mirror's rows, in the same form. */
function mirrorRows(url) {
  const out = execFileSync('psql', [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c',
    `SELECT block_number || ':' || log_index || ':' || encode(from_address, 'hex') || ':' ||
       encode(to_address, 'hex') || ':' || value FROM ev_erc20_transfer WHERE chain_id = ${CHAIN}`],
  { encoding: 'utf8', maxBuffer: 1 << 28 });
  return out.split('\n').filter((l) => l.length > 0).sort();
}

async function assertExact(url, head) {
  const want = await chainRows(head);
  const got = mirrorRows(url);
  assert.equal(got.length, want.length, `mirror ${got.length} rows, chain ${want.length}`);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`row ${i}: mirror ${got[i]}, chain ${want[i]}`);
  // every block with rows has its header stored, with the chain's hash
  const blocks = sql(url, `SELECT DISTINCT e.block_number, encode(b.hash, 'hex') FROM ev_erc20_transfer e
    LEFT JOIN indexer_block b ON b.chain_id = e.chain_id AND b.number = e.block_number`);
  for (const [n, h] of blocks) {
    const blk = await provider.getBlock(Number(n));
    assert.equal('0x' + h, blk.hash, `header of block ${n}`);
  }
  return want.length;
}

test('dense blocks: slow start, answers over the ceiling split by size, ranges grow again; exact rows', async () => {
  // 4 blocks of 14000 logs (about 9 MB of JSON each), 3000 empty blocks, 3
  // blocks of 500
  await spam(anvil.rpcUrl, spammer, 56000, { perTx: 14000 });
  await provider.send('anvil_mine', ['0xbb8']);
  await spam(anvil.rpcUrl, spammer, 1500, { perTx: 500 });
  const url = createDatabase('idx_dense');
  const log = path.join(state, 'dense.log');
  d = startRunwayd(writeConfig('dense', anvil.rpcUrl), url, log, ['--verbose']);
  let head;
  try {
    head = await waitCaughtUp(url, provider, CHAIN, d, 300000);
  } finally {
    // a runwayd left running would keep this file's process (and the test)
    // alive after the node is gone
    await stopRunwayd(d, head === undefined ? 'SIGKILL' : 'SIGTERM');
    d = null;
  }
  const rows = await assertExact(url, head);
  assert.equal(rows, 57500);
  const text = fs.readFileSync(log, 'utf8');
  // slow start: the first range is 4 blocks
  const first = /committed blocks (\d+)-(\d+)/.exec(text);
  assert.ok(first && Number(first[2]) - Number(first[1]) < 4, `first commit: ${first && first[0]}`);
  // the first answer (4 blocks, 2 of them dense) was over its ceiling
  // (twice the 1 MiB expected) and split in proportion: one block
  assert.match(text, /too large \(response larger than 2097152 bytes\): 1 blocks per request/);
  // over the empty blocks the span grew (x4 per answer) far past 4
  const spans = [...text.matchAll(/committed blocks (\d+)-(\d+)/g)].map((m) => Number(m[2]) - Number(m[1]) + 1);
  assert.ok(Math.max(...spans) >= 256, `largest commit ${Math.max(...spans)} blocks`);
  assert.doesNotMatch(text, /ERROR|rejected log/);
});

test('answers in every shape JSON allows are read alike; a malformed answer is fetched again', async () => {
  await spam(anvil.rpcUrl, spammer, 3000, { perTx: 300 });
  // Shapes: escaped characters in hex strings and keys, members in another
  // order, unknown members of every type, whitespace; then, once, an answer
  // whose logs are not JSON.
  // The first answer with logs breaks twice in a row.
  const shapes = [
    ['"transactionIndex":"0x', '"transactionIndex" : "\\u0030x'],
    ['"logIndex":', '"log\\u0049ndex":\t'],
    ['"removed":false', '"removed":false,"extra":{"a":[1,-2.5e3,true,null,"\\u00e9\\ud83d\\ude00"],"b":{}},"x":[]'],
    ['{"address":', '{ "z" : "\\"]}" , "address" :'],
    ['"data":"0x', '"data":"0\\u0078'],
  ];
  const hits = new Map();
  let broken = 0;
  const rewrite = (text) => {
    if (!text.includes('"logIndex"')) return text;
    // (an answer under 1 MiB: one the client reads, not one over its ceiling)
    if (broken < 2 && text.length < 1 << 20 && text.includes('"removed":false')) {
      broken++;
      return text.replace('"removed":false', '"removed":fals'); // not JSON
    }
    for (const [from, to] of shapes) {
      if (text.includes(from)) hits.set(from, (hits.get(from) || 0) + 1);
      text = text.replaceAll(from, to);
    }
    return text;
  };
  const proxy = await startProxy(anvil.rpcUrl, { maxRange: 1e9, rate500: 0, rateDrop: 0, slowRate: 0, rewrite });
  try {
    const url = createDatabase('idx_shapes');
    const log = path.join(state, 'shapes.log');
    d = startRunwayd(writeConfig('shapes', proxy.url), url, log);
    const head = await waitCaughtUp(url, provider, CHAIN, d, 300000);
    await stopRunwayd(d);
    d = null;
    assert.equal(await assertExact(url, head), spammer.emitted);
    const text = fs.readFileSync(log, 'utf8');
    assert.equal(broken, 2);
    for (const [from] of shapes) assert.ok(hits.get(from) > 0, `no answer held ${from}`);
    // the malformed answer: named with its method, endpoint and where the
    // text broke; fetched again
    assert.match(text, /INFO +\[dense\] blocks \d+-\d+: eth_getLogs from http:\/\/127\.0\.0\.1:\d+: the answer is not JSON \(byte \d+: unexpected character\); fetching them again/);
    assert.doesNotMatch(text, /ERROR|rejected log/);
  } finally {
    if (d) {
      await stopRunwayd(d, 'SIGKILL').catch(() => {});
      d = null;
    }
    await proxy.close();
  }
});
