// stress.test.mjs: the indexer under repeated trouble, on a real anvil and a
// real PostgreSQL.
//   1. Reorgs at every depth from 1 to 64, in a seeded random order, while
//      runwayd indexes live: the replaced blocks hold indexed events, the
//      new branch holds other transfers spread over its blocks; after each
//      reorg the mirror equals the chain (every event table against
//      eth_getLogs, row for row) and no error is logged.
//   2. kill -9 of runwayd at random moments, many times, first during a
//      throttled backfill, then live with activity going on; below the
//      committed cursors the mirror is exact after every kill, and after the
//      last restart it equals the chain: no gap, no duplicate.
// Environment: RUNWAY_TEST_SEED (default 20261123), RUNWAY_TEST_REORG_DEPTHS
// ("1-64" or "3,17,64"), RUNWAY_TEST_KILLS (default 12).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  actors, activity, assertBranchHasLogs, assertMirror, createDatabase, dbProgress, devnetDown, devnetUp,
  prng, reorgTxs, sleep, startRunwayd, stopRunwayd, tempDir, waitCaughtUp, writeConfig,
} from './helpers.mjs';

const CHAIN = 31337;
const MAX_DEPTH = 64;
const state = tempDir('stress');
const rand = prng(Number(process.env.RUNWAY_TEST_SEED || 20261123));
let dn, a, config, slowConfig, d;

/** Depths to test: RUNWAY_TEST_REORG_DEPTHS, else 1..64, shuffled by the seed. */
function depths() {
  const spec = process.env.RUNWAY_TEST_REORG_DEPTHS || `1-${MAX_DEPTH}`;
  const out = [];
  for (const part of spec.split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    assert.ok(m, `RUNWAY_TEST_REORG_DEPTHS: bad part "${part}" (want N or N-M)`);
    for (let x = Number(m[1]); x <= Number(m[2] || m[1]); x++) out.push(x);
  }
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(rand() * (i + 1));
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Lines of the log that report errors. */
const errorLines = (log) => log.split('\n').filter((l) => / ERROR /.test(l));

before(async () => {
  dn = devnetUp(state);
  a = actors(dn);
  // No relayer (nor its scheduler): the random activity sends from every
  // test account, and a relayer sharing a key with it would fill the nonce
  // gaps that the reorgs leave behind (tests/relayer covers that).
  const common = (cfg, ch) => {
    delete ch.relayer;
    ch.poll_interval_ms = 100;
    ch.max_block_range = 40;
    ch.reorg_window = MAX_DEPTH + 16;
    ch.confirmations = 2;
  };
  config = writeConfig(state, path.join(state, 'devnet.json'), common);
  const slowDir = path.join(state, 'slow');
  fs.mkdirSync(slowDir);
  slowConfig = writeConfig(slowDir, path.join(state, 'devnet.json'), (cfg, ch) => {
    common(cfg, ch);
    ch.rpc = [{ url: dn.rpc_url, max_rps: 40 }];
  });
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  a.provider.destroy();
  devnetDown(state);
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

test('reorgs at every depth from 1 to 64 while live: the mirror follows the chain', async () => {
  const url = createDatabase('idx_stress_reorg');
  const logFile = path.join(state, 'runwayd-reorg.log');
  // A chain taller than the deepest reorg, with events in it.
  await activity(a, 10, rand);
  await a.provider.send('anvil_mine', ['0x' + (MAX_DEPTH + 8).toString(16)]);
  d = startRunwayd(config, url, logFile);
  let rows = 0;
  const list = depths();
  for (const depth of list) {
    // Events near the top, then indexed, so the reorg has rows to remove.
    await activity(a, 2 + Math.floor(rand() * 3), rand);
    await waitCaughtUp(url, a.provider, CHAIN, d);
    const before = dbProgress(url, CHAIN);
    const n = Math.min(depth, 6);
    const txs = reorgTxs(dn, n).map(([t], k) => [t, Math.floor((k * depth) / n)]);
    await a.provider.send('anvil_reorg', [depth, txs]);
    await assertBranchHasLogs(a, depth);
    const head = await waitCaughtUp(url, a.provider, CHAIN, d);
    const m = await assertMirror(url, a.provider, CHAIN, head);
    rows = m.rows;
    assert.equal(head, before.head, `anvil_reorg ${depth} kept the height`);
  }
  const log = d.log();
  const seen = [...log.matchAll(/reorg: depth (\d+)/g)].map((x) => Number(x[1]));
  // Each reorg is found once, at its own depth (a reorg found while a
  // round was already past its first block may be reported shallower, never
  // deeper and never missed).
  assert.equal(seen.length, list.length, `reorgs logged: ${seen.join(',')}`);
  for (let i = 0; i < list.length; i++) assert.ok(seen[i] >= 1 && seen[i] <= list[i], `reorg ${i}: depth ${seen[i]} logged for ${list[i]}`);
  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0);
  assert.deepEqual(errorLines(fs.readFileSync(logFile, 'utf8')), []);
  console.log(`# ${list.length} reorgs (depths ${Math.min(...list)}-${Math.max(...list)}); mirror ${rows} rows exact after each`);
});

test('kill -9 at random moments during backfill and live indexing: no gap, no duplicate', async () => {
  const url = createDatabase('idx_stress_kill');
  const logFile = path.join(state, 'runwayd-kill.log');
  const kills = Number(process.env.RUNWAY_TEST_KILLS || 12);
  // A long backlog so that the first kills land inside the backfill.
  await a.provider.send('anvil_mine', ['0x7d0']);
  await activity(a, 10, rand);
  const head0 = await a.provider.getBlockNumber();
  let inBackfill = 0;
  let live = null;
  for (let k = 0; k < kills; k++) {
    const backfill = k < kills / 2;
    if (!backfill && !live) live = activity(a, 40, rand); // runs across the later kills
    d = startRunwayd(backfill ? slowConfig : config, url, logFile);
    await sleep(150 + Math.floor(rand() * 1500));
    const st = await stopRunwayd(d, 'SIGKILL');
    d = null;
    assert.equal(st.signal, 'SIGKILL', `runwayd ended by itself before kill ${k}`);
    const p = dbProgress(url, CHAIN);
    if (p.minNext >= 0 && p.minNext <= head0) inBackfill++;
    // Whatever was committed is exact below every source's cursor.
    const head = await a.provider.getBlockNumber();
    await assertMirror(url, a.provider, CHAIN, head, { belowCursors: true });
  }
  assert.ok(inBackfill >= 2, `only ${inBackfill} kills landed inside the backfill`);
  if (live) await live;
  d = startRunwayd(config, url, logFile);
  const head = await waitCaughtUp(url, a.provider, CHAIN, d);
  const m = await assertMirror(url, a.provider, CHAIN, head);
  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0);
  const log = fs.readFileSync(logFile, 'utf8');
  assert.deepEqual(errorLines(log), []);
  console.log(`# ${kills} kills (${inBackfill} inside the backfill of ${head0} blocks); mirror ${m.rows} rows exact at ${head}`);
});
