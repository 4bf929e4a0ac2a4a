// faults.test.mjs: runwayd through a difficult JSON-RPC proxy (eth_getLogs
// ranges refused with real providers' messages, HTTP 500 and 429, dropped
// connections, slow answers) while PostgreSQL restarts under it: the mirror
// still equals the chain, row for row.
// Runs under tests/pg/with-pg; RUNWAY_BIN_DIR names the build's src/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  actors, activity, assertMirror, baseUrl, createDatabase, dbProgress, devnetDown, devnetUp, prng, sleep, sql,
  startRunwayd, stopRunwayd, tempDir, waitCaughtUp, writeConfig,
} from './helpers.mjs';
import { startProxy } from './proxy.mjs';
import { ethers } from './helpers.mjs';

const CHAIN = 31337;
const state = tempDir('faults');
const logFile = path.join(state, 'runwayd.log');
const rand = prng(Number(process.env.RUNWAY_TEST_SEED || 777));
let dn, a, url, config, proxy, d;
// the log the proxy mangles in the first test: rejected, so never mirrored
let victimKey;

before(async () => {
  dn = devnetUp(state);
  a = actors(dn);
  url = createDatabase('idx_faults');
  // 429s are left out: the client's adaptive rate limit then recovers by 1%
  // per success, which on a quiet devnet takes minutes (tested in tests/rpc).
  proxy = await startProxy(dn.rpc_url, { maxRange: 300, rate500: 0.06, rateDrop: 0.04, slowRate: 0.05 });
  config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.rpc = [proxy.url];
    ch.poll_interval_ms = 200;
    ch.max_block_range = 5000;
    ch.reorg_window = 16;
    ch.tokens.find((t) => t.symbol === 'TT18').watch = 'watched';
  });
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  a.provider.destroy();
  await proxy.close();
  devnetDown(state);
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

function restartPg() {
  const helper = process.env.RUNWAY_TEST_PG_HELPER;
  assert.ok(helper, 'run under tests/pg/with-pg');
  const r = spawnSync(helper, ['ctl', 'restart'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
}

test('a difficult node and a restarting database: still exactly the chain', async () => {
  await activity(a, 60, rand);
  // One USDC Transfer comes back malformed (its topic 2 dropped): it is
  // rejected and logged, the rest of its range is stored.
  const t = ethers.id('Transfer(address,address,uint256)');
  const victims = await a.provider.getLogs({ address: dn.tokens.USDC.address, topics: [t], fromBlock: 0, toBlock: 'latest' });
  const victim = victims[Math.floor(victims.length / 2)];
  victimKey = `${victim.blockHash.slice(2)}:${victim.index}`;
  proxy.set({
    mangle: (l) => (l.blockHash === victim.blockHash && Number(l.logIndex) === victim.index ? { ...l, topics: l.topics.slice(0, 2) } : l),
  });
  await a.provider.send('anvil_mine', ['0xbb8']); // 3000 empty blocks
  await activity(a, 20, rand);

  // Slow answers and slow commits (a test-only trigger sleeps in every
  // cursor update) during the backfill, so that connections die mid-commit.
  sql(url, `CREATE FUNCTION test_slow() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM pg_sleep(0.04); RETURN NULL; END $$;
    CREATE TRIGGER test_slow AFTER UPDATE ON indexer_cursor FOR EACH STATEMENT EXECUTE FUNCTION test_slow()`);
  proxy.set({ slowRate: 1, slowMs: 15 });
  d = startRunwayd(config, url, logFile);
  for (let i = 0; i < 200 && !/ indexing /.test(d.log()); i++) await sleep(50);
  let kills = 0;
  for (let i = 0; i < 60; i++) {
    const p = dbProgress(url, CHAIN);
    if (p.minNext > 3000) break;
    kills += sql(baseUrl, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = 'idx_faults' AND pid <> pg_backend_pid()`).length;
    await sleep(40 + Math.floor(rand() * 80));
  }
  proxy.set({ slowRate: 0.05, slowMs: 300 });
  sql(url, 'DROP TRIGGER test_slow ON indexer_cursor');
  for (let i = 0; i < 2; i++) {
    await activity(a, 8, rand);
    restartPg();
    await sleep(300);
  }
  let head = await waitCaughtUp(url, a.provider, CHAIN, d, 150000);
  const m = await assertMirror(url, a.provider, CHAIN, head, { skip: new Set([victimKey]) });
  assert.match(d.log(), new RegExp(`WARN \\[local\\] rejected log: block ${victim.blockNumber} tx ${victim.transactionHash} log index ${victim.index} \\(TestToken Transfer at `));
  const lostCommits = (d.log().match(/connection lost while committing/g) || []).length;
  console.log(`# mirror ${m.rows} rows; ${kills} backends terminated, ${lostCommits} commits lost; proxy ${JSON.stringify(proxy.stats)}`);
  assert.ok(proxy.stats.refusedRange > 0, 'no range was refused');
  assert.ok(proxy.stats.http500 + proxy.stats.dropped > 0, 'no request failed');
  const log = d.log();
  assert.match(log, /database connection lost/);

  // Live, through the same faults.
  await activity(a, 20, rand);
  head = await waitCaughtUp(url, a.provider, CHAIN, d, 150000);
  await assertMirror(url, a.provider, CHAIN, head, { skip: new Set([victimKey]) });

  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0, fs.readFileSync(logFile, 'utf8').slice(-3000));
});

test('a second signal while a commit hangs: runwayd closes its connections and exits at once; a restart loses nothing', async () => {
  // A quiet node from here on; a commit of blocks (its cursor update moves a
  // cursor; the start-up's reconciling update moves none) now takes 6 s.
  proxy.set({ rate500: 0, rateDrop: 0, slowRate: 0, mangle: null });
  const holding = () => Number(sql(baseUrl, `SELECT count(*) FROM pg_stat_activity
    WHERE datname = 'idx_faults' AND wait_event = 'PgSleep'`)[0][0]);
  sql(url, `CREATE FUNCTION test_hold() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF EXISTS (SELECT 1 FROM moved) THEN PERFORM pg_sleep(6); END IF; RETURN NULL; END $$;
    CREATE TRIGGER test_hold AFTER UPDATE ON indexer_cursor REFERENCING NEW TABLE AS moved
      FOR EACH STATEMENT EXECUTE FUNCTION test_hold()`);
  const before = fs.readFileSync(logFile, 'utf8').length;
  const log = () => fs.readFileSync(logFile, 'utf8').slice(before);
  const waitLog = async (re) => {
    for (let i = 0; i < 200 && !re.test(log()); i++) await sleep(10);
    assert.match(log(), re);
  };
  d = startRunwayd(config, url, logFile);
  await activity(a, 6, rand);
  for (let i = 0; i < 400 && holding() === 0; i++) await sleep(25);
  assert.ok(holding() > 0, `no commit reached the held cursor update:\n${log().slice(-2000)}`);

  // The first signal waits for the commit in flight (it commits whole or
  // not at all)...
  process.kill(d.pid, 'SIGTERM');
  await waitLog(/SIGTERM: stopping/);
  await waitLog(/stopping: waiting for the commit of blocks \d+-\d+/);
  const still = await Promise.race([d.exited, sleep(700).then(() => 'running')]);
  assert.equal(still, 'running', 'the first signal waits for the commit in flight');
  assert.ok(holding() > 0, 'the commit is still held');
  // ...the second does not: the connections close, runwayd exits well before
  // the held commit could end, and says why.
  const t = performance.now();
  const stopped = await stopRunwayd(d, 'SIGTERM', 2500);
  const ms = performance.now() - t;
  d = null;
  assert.match(log(), /second signal: closing the database connections now/);
  assert.equal(stopped.signal, null, `exited by itself, not killed: ${JSON.stringify(stopped)}\n${log().slice(-2000)}`);
  assert.ok(stopped.code !== null, 'an exit code');
  assert.doesNotMatch(log(), /AddressSanitizer|runtime error/);
  console.log(`# second signal: exit ${stopped.code} after ${ms.toFixed(0)} ms`);

  // The server ends the orphaned transaction on its own (committed whole or
  // rolled back); a new runwayd then finds the mirror exactly the chain.
  for (let i = 0; i < 400 && holding() > 0; i++) await sleep(25);
  assert.equal(holding(), 0, 'the held transaction ended');
  sql(url, 'DROP TRIGGER test_hold ON indexer_cursor; DROP FUNCTION test_hold()');
  d = startRunwayd(config, url, logFile);
  await activity(a, 4, rand);
  const head = await waitCaughtUp(url, a.provider, CHAIN, d, 90000);
  await assertMirror(url, a.provider, CHAIN, head, { skip: new Set([victimKey]) });
  const again = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(again.code, 0, log().slice(-3000));
});
