// indexer.test.mjs: runwayd against a real anvil and a real PostgreSQL.
//   1. backfill, killed with SIGKILL midway, restarted: the mirror is exact
//      (every event table equals eth_getLogs decoded by ethers, row for row;
//      no duplicate, no gap), then live indexing of more activity, metrics,
//      a clean SIGTERM;
//   2. reorgs while live (anvil_reorg, anvil_rollback, one deeper than the
//      reorg window): afterwards the mirror equals the chain again;
//   3. a reorg while runwayd is stopped is found at start.
// Runs under tests/pg/with-pg; RUNWAY_BIN_DIR names the build's src/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  actors, activity, assertMirror, createDatabase, dbProgress, devnetDown, devnetUp, ethers, freePort,
  assertBranchHasLogs, makeKeystore, metrics, prng, reorgTxs, runRunwayd, sleep, sql, startRunwayd, stopRunwayd, tempDir, waitCaughtUp,
  writeConfig,
} from './helpers.mjs';

const CHAIN = 31337;
const state = tempDir('main');
let logFile = path.join(state, 'runwayd-1.log');
const rand = prng(Number(process.env.RUNWAY_TEST_SEED || 20240601));
let dn, a, url, config, slowConfig, listen, d;

before(async () => {
  dn = devnetUp(state);
  a = actors(dn);
  url = createDatabase('idx_main');
  listen = `127.0.0.1:${await freePort()}`;
  // user3 is the relayer: its Token18 transfers are watched.
  const keystore = makeKeystore(state, dn.accounts.user3.private_key);
  const common = (cfg, ch) => {
    ch.relayer = { keystore, passphrase_env: 'RUNWAY_TEST_RELAYER_PASS' };
    // No scheduler: its charges would be sent from user3, whose own
    // transactions the random activity sends too (tests/scheduler covers it).
    ch.scheduler = { enabled: false };
    ch.poll_interval_ms = 200;
    ch.max_block_range = 50;
    ch.reorg_window = 16;
    ch.confirmations = 2;
    // Token18 only where it touches a watched address (topic filters).
    ch.tokens.find((t) => t.symbol === 'TT18').watch = 'watched';
  };
  config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    common(cfg, ch);
    cfg.metrics = { listen };
  });
  const slowDir = path.join(state, 'slow');
  fs.mkdirSync(slowDir);
  slowConfig = writeConfig(slowDir, path.join(state, 'devnet.json'), (cfg, ch) => {
    common(cfg, ch);
    ch.rpc = [{ url: dn.rpc_url, max_rps: 30 }];
  });
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  a.provider.destroy();
  devnetDown(state);
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

function errorLines(log) {
  return log.split('\n').filter((l) => / ERROR /.test(l) && !/DEEPER THAN THE REORG WINDOW/.test(l));
}

test('--check: configuration, schema, event tables and chain id', () => {
  let r = runRunwayd(config, url, ['--check']);
  assert.equal(r.code, 0, r.out);
  assert.match(r.out, /check passed: configuration, schema, event tables and 1 chain id/);

  const dir = path.join(state, 'wrong');
  fs.mkdirSync(dir);
  const wrong = writeConfig(dir, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.chain_id = 1;
  });
  r = runRunwayd(wrong, url, ['--check']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /chain_id is 1 in the configuration but http:\/\/127\.0\.0\.1:\d+ serves chain 31337/);
  r = runRunwayd(wrong, url);
  assert.equal(r.code, 1, r.out);

  const other = createDatabase('idx_check');
  sql(other, 'ALTER TABLE ev_balance_charged RENAME COLUMN period TO period_renamed');
  r = runRunwayd(config, other, ['--check']);
  assert.equal(r.code, 1, r.out);
  assert.match(r.out, /ev_balance_charged/);
  assert.match(r.out, /period/);
});

test('backfill, SIGKILL midway, restart: exactly the chain, then live', async () => {
  await activity(a, 120, rand);
  await a.provider.send('anvil_mine', ['0x1388']); // 5000 empty blocks
  await activity(a, 60, rand);
  const head0 = await a.provider.getBlockNumber();
  assert.ok(a.stats.factory >= 1 || true);

  // Throttled (30 requests/s) so that the kill lands mid-backfill.
  d = startRunwayd(slowConfig, url, logFile);
  const deadline = Date.now() + 60000;
  for (;;) {
    const p = dbProgress(url, CHAIN);
    if (p.maxNext > 200 && p.minNext > 0 && p.minNext < head0) break;
    assert.ok(Date.now() < deadline, `no progress to kill in: ${JSON.stringify(p)}\n${d.log()}`);
    await sleep(20);
  }
  const killed = await stopRunwayd(d, 'SIGKILL');
  assert.equal(killed.signal, 'SIGKILL');
  const mid = dbProgress(url, CHAIN);
  assert.ok(mid.minNext < head0, `the kill came after the backfill (${JSON.stringify(mid)})`);
  // What is committed below each source's cursor is already exact.
  const part = await assertMirror(url, a.provider, CHAIN, head0, { belowCursors: true });
  console.log(`# killed with cursors from ${mid.minNext} to ${mid.maxNext} of ${head0}: ${part.rows} rows checked`);

  d = startRunwayd(config, url, logFile);
  const t0 = Date.now();
  const head = await waitCaughtUp(url, a.provider, CHAIN, d);
  const secs = (Date.now() - t0) / 1000;
  const m = await assertMirror(url, a.provider, CHAIN, head);
  console.log(`# backfill after restart: ${head - mid.minNext + 1} blocks in ${secs.toFixed(1)} s; ` +
    `mirror ${m.rows} rows in ${m.blocksWithRows} blocks; ${a.stats.ok} txs, ${a.stats.factory} factory providers, ` +
    `${m.undecodable} logs not UTF-8 (rejected)`);
  if (m.undecodable) assert.match(d.log(), /rejected log: .*ValidatorNodeProvider MachineLocation/);
  assert.ok(m.rows > 200, `too little activity: ${m.rows} rows`);
  const relayer = dn.accounts.user3.address.toLowerCase().slice(2);
  assert.deepEqual(sql(url, `SELECT reason FROM watched_address WHERE encode(address, 'hex') = '${relayer}'`), [['relayer']]);
  const tt18 = dn.tokens.Token18.address.toLowerCase().slice(2);
  const n = Number(sql(url, `SELECT count(*) FROM ev_erc20_transfer WHERE encode(address, 'hex') = '${tt18}' AND (encode(from_address, 'hex') = '${relayer}' OR encode(to_address, 'hex') = '${relayer}')`)[0][0]);
  assert.ok(n > 0, 'no Token18 transfer of the relayer indexed');

  // Live: more activity (new factory providers included) while it runs.
  await activity(a, 60, rand);
  const head2 = await waitCaughtUp(url, a.provider, CHAIN, d);
  const m2 = await assertMirror(url, a.provider, CHAIN, head2);
  assert.ok(m2.rows > m.rows);

  const text = await metrics(listen);
  assert.match(text, /runway_indexer_caught_up\{chain="local"\} 1/);
  assert.match(text, new RegExp(`runway_indexer_head_block\\{chain="local"\\} ${head2}`));
  assert.match(text, /runway_rpc_requests_total\{chain="local",endpoint="http:\/\/127\.0\.0\.1:\d+"\} \d+/);
  assert.match(text, /runway_indexer_rpc_errors_total\{chain="local",class="rate-limited"\} 0/);

  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0, fs.readFileSync(logFile, 'utf8').slice(-3000));
  const log = fs.readFileSync(logFile, 'utf8');
  assert.match(log, /caught up at block/);
  assert.match(log, /INFO stopped/);
  assert.deepEqual(errorLines(log), []);
});

test('reorgs while live: the mirror follows the chain', async () => {
  logFile = path.join(state, 'runwayd-2.log');
  d = startRunwayd(config, url, logFile);
  await activity(a, 15, rand);
  await waitCaughtUp(url, a.provider, CHAIN, d);

  // Same height, new branch of depth 3 with other transfers.
  await a.provider.send('anvil_reorg', [3, reorgTxs(dn, 4)]);
  await assertBranchHasLogs(a, 3);
  let head = await waitCaughtUp(url, a.provider, CHAIN, d);
  await assertMirror(url, a.provider, CHAIN, head);
  assert.match(d.log(), /reorg: depth \d+ \(blocks \d+-\d+ replaced\)/);

  // A shorter chain, then new blocks on top.
  await a.provider.send('anvil_rollback', [2]);
  await sleep(800);
  await activity(a, 8, rand);
  head = await waitCaughtUp(url, a.provider, CHAIN, d);
  await assertMirror(url, a.provider, CHAIN, head);

  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0);
  assert.deepEqual(errorLines(fs.readFileSync(logFile, 'utf8')), []);
});

test('a reorg while stopped is found at start', async () => {
  logFile = path.join(state, 'runwayd-3.log');
  await a.provider.send('anvil_reorg', [4, reorgTxs(dn, 5)]);
  await assertBranchHasLogs(a, 4);
  d = startRunwayd(config, url, logFile);
  const head = await waitCaughtUp(url, a.provider, CHAIN, d);
  await assertMirror(url, a.provider, CHAIN, head);
  assert.match(d.log(), /the stored tip, block \d+, is not on the chain/);
  assert.match(d.log(), /reorg: depth 4/);
});

// Last: anvil loses the state of a long chain after a reorg this deep.
test('a reorg deeper than the window is handled and said loudly', async () => {
  await activity(a, 5, rand);
  await a.provider.send('anvil_mine', ['0x14']);
  await waitCaughtUp(url, a.provider, CHAIN, d);
  await a.provider.send('anvil_reorg', [20, reorgTxs(dn, 6)]);
  const head = await waitCaughtUp(url, a.provider, CHAIN, d);
  await assertMirror(url, a.provider, CHAIN, head);
  assert.match(d.log(), /ERROR \[local\] reorg DEEPER THAN THE REORG WINDOW: depth 20/);

  const text = await metrics(listen);
  const reorgs = Number(text.match(/runway_indexer_reorgs_total\{chain="local"\} (\d+)/)[1]);
  assert.ok(reorgs >= 2, `reorgs_total ${reorgs}`);
  assert.match(text, /runway_indexer_reorg_max_depth\{chain="local"\} 20/);
  const stopped = await stopRunwayd(d, 'SIGINT');
  d = null;
  assert.equal(stopped.code, 0);
  assert.deepEqual(errorLines(fs.readFileSync(logFile, 'utf8')), []);
});
