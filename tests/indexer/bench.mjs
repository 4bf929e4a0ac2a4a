// bench.mjs: how fast runwayd backfills a devnet (not a test; run by hand):
//   RUNWAY_BIN_DIR=build/src tests/pg/with-pg node tests/indexer/bench.mjs \
//     [--empty N] [--blocks N] [--txs N] [--range N]
// makes a chain of --blocks blocks holding --txs USDC transfers each (one log
// per transfer, several senders), then --empty empty blocks, starts runwayd
// on a fresh database and reports blocks/s and logs/s until caught up.
import path from 'node:path';
import fs from 'node:fs';
import { createDatabase, devnetDown, devnetUp, ethers, sql, startRunwayd, stopRunwayd, tempDir, waitCaughtUp, writeConfig } from './helpers.mjs';
import { connect } from '../../tools/lib/chain.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};
const blocks = arg('blocks', 1000), txs = arg('txs', 50), empty = arg('empty', 100000), range = arg('range', 2000);

const state = tempDir('bench');
const dn = devnetUp(state);
const provider = connect(dn.rpc_url);
const rpc = async (body) => {
  const r = await fetch(dn.rpc_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return r.json();
};
try {
  const t0 = Date.now();
  const i = new ethers.Interface(['function transfer(address to, uint256 value)']);
  const senders = ['user1', 'user2', 'user3', 'deployer', 'operator'].map((r) => dn.accounts[r].address);
  await rpc({ jsonrpc: '2.0', id: 1, method: 'evm_setAutomine', params: [false] });
  for (let b = 0; b < blocks; b++) {
    const batch = [];
    for (let k = 0; k < txs; k++) {
      const from = senders[k % senders.length];
      const to = senders[(k + 1 + b) % senders.length];
      batch.push({ jsonrpc: '2.0', id: k, method: 'eth_sendTransaction',
        params: [{ from, to: dn.tokens.USDC.address, data: i.encodeFunctionData('transfer', [to, 1 + k]), gas: '0x20000' }] });
    }
    if (batch.length) await rpc(batch);
    await rpc({ jsonrpc: '2.0', id: 1, method: 'evm_mine', params: [] });
  }
  await rpc({ jsonrpc: '2.0', id: 1, method: 'evm_setAutomine', params: [true] });
  if (empty) await rpc({ jsonrpc: '2.0', id: 1, method: 'anvil_mine', params: ['0x' + empty.toString(16)] });
  const head = await provider.getBlockNumber();
  console.log(`chain: ${head} blocks, ${blocks * txs} transfers, made in ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  const url = createDatabase('idx_bench');
  const config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.poll_interval_ms = 200;
    ch.max_block_range = range;
  });
  const log = path.join(state, 'runwayd.log');
  const t1 = Date.now();
  const d = startRunwayd(config, url, log, process.env.BENCH_VERBOSE ? ['--verbose'] : []);
  const h = await waitCaughtUp(url, provider, 31337, d, 600000);
  const secs = (Date.now() - t1) / 1000;
  const rows = Number(sql(url, 'SELECT count(*) FROM ev_erc20_transfer')[0][0]);
  console.log(`runwayd: ${h} blocks and ${rows} transfer rows in ${secs.toFixed(2)} s: ` +
    `${(h / secs).toFixed(0)} blocks/s, ${(rows / secs).toFixed(0)} logs/s`);
  await stopRunwayd(d);
  console.log(fs.readFileSync(log, 'utf8').split('\n').filter((l) => /progress|caught up|committed/.test(l)).join('\n'));
} finally {
  provider.destroy();
  devnetDown(state);
  fs.rmSync(state, { recursive: true, force: true });
}
