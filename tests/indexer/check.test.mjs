// check.test.mjs: `runway check` reconciles the mirror against the chain.
//   1. after random billing activity indexed by runwayd, and more activity
//      the mirror has not seen (the check reads at the mirror's block),
//      check finds no mismatch (text and --json);
//   2. one mirrored value corrupted in the database: exit 1, named;
//   3. a dead node, a node of another chain: exit 1 with a clear message.
// Runs under tests/pg/with-pg; RUNWAY_BIN_DIR names the build's src/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  actors, activity, bin, createDatabase, devnetDown, devnetUp, freePort, prng, sql, startRunwayd,
  stopRunwayd, tempDir, waitCaughtUp, writeConfig,
} from './helpers.mjs';

const CHAIN = 31337;
const state = tempDir('check');
const rand = prng(Number(process.env.RUNWAY_TEST_SEED || 20240605));
let dn, a, url, config, d;

/** Runs `runway check` with args; returns { code, out, err }. */
function check(args) {
  const r = spawnSync(path.join(bin, 'runway'), ['check', '--database-url', url, ...args],
    { encoding: 'utf8', timeout: 120000, env: { ...process.env, RUNWAY_RPC_URL: '' } });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

before(async () => {
  dn = devnetUp(state);
  a = actors(dn);
  url = createDatabase('idx_check_cmd');
  config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.poll_interval_ms = 200;
    ch.confirmations = 2;
  });
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  a.provider.destroy();
  devnetDown(state);
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

test('the mirror of random activity matches the chain at its block', async () => {
  await activity(a, 80, rand);
  d = startRunwayd(config, url, path.join(state, 'runwayd.log'));
  const head = await waitCaughtUp(url, a.provider, CHAIN, d);
  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.equal(stopped.code, 0);
  // The chain moves on; the mirror does not see it.
  await activity(a, 20, rand);
  assert.ok((await a.provider.getBlockNumber()) > head);

  let r = check(['--rpc-url', dn.rpc_url]);
  assert.equal(r.code, 0, r.out + r.err);
  const m = r.out.match(/^checked (\d+) values at block (\d+): 0 mismatches$/m);
  assert.ok(m, r.out);
  assert.equal(Number(m[2]), head);
  assert.ok(Number(m[1]) > 20, `too few values checked: ${r.out}`);

  // --config: the chain's first rpc URL; --json.
  r = check(['--config', config, '--chain-id', String(CHAIN), '--json']);
  assert.equal(r.code, 0, r.out + r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.block, head);
  assert.equal(j.chain_id, CHAIN);
  assert.equal(j.checked, Number(m[1]));
  assert.deepEqual(j.mismatches, []);
  console.log(`# ${j.checked} values checked at block ${head}`);
});

test('a corrupted mirror value is named, exit 1', () => {
  const [[app, provider]] = sql(url, `SELECT rw_hex(application), rw_hex(address) FROM ev_vnp_financial_runway
    ORDER BY block_number DESC, log_index DESC LIMIT 1`);
  sql(url, `UPDATE ev_vnp_financial_runway SET until = until + 7 WHERE (block_hash, log_index) =
    (SELECT block_hash, log_index FROM ev_vnp_financial_runway ORDER BY block_number DESC, log_index DESC LIMIT 1)`);
  let r = check(['--rpc-url', dn.rpc_url]);
  assert.equal(r.code, 1, r.out + r.err);
  const line = r.out.split('\n').filter((l) => l.includes(': mirror '));
  assert.equal(line.length, 1, r.out);
  assert.match(line[0], new RegExp(`^runway provider ${provider} app ${app}: mirror (\\d+) chain (\\d+)$`));
  const [, mv, cv] = line[0].match(/mirror (\d+) chain (\d+)/);
  assert.equal(BigInt(mv) - BigInt(cv), 7n);
  assert.match(r.out, /: 1 mismatch$/m);

  r = check(['--rpc-url', dn.rpc_url, '--json']);
  assert.equal(r.code, 1, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.mismatches.length, 1);
  assert.equal(j.mismatches[0].kind, 'runway');
  sql(url, `UPDATE ev_vnp_financial_runway SET until = until - 7 WHERE (block_hash, log_index) =
    (SELECT block_hash, log_index FROM ev_vnp_financial_runway ORDER BY block_number DESC, log_index DESC LIMIT 1)`);

  // A Balance account's balance.
  sql(url, `UPDATE ev_balance_deposited SET balance_after = balance_after + 1 WHERE (block_hash, log_index) =
    (SELECT block_hash, log_index FROM ev_balance_deposited ORDER BY block_number DESC, log_index DESC LIMIT 1)`);
  r = check(['--rpc-url', dn.rpc_url]);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.out, /^account balance 0x[0-9a-f]{40} \(Balance 0x[0-9a-f]{40}\): mirror \d+ chain \d+$/m);
  sql(url, `UPDATE ev_balance_deposited SET balance_after = balance_after - 1 WHERE (block_hash, log_index) =
    (SELECT block_hash, log_index FROM ev_balance_deposited ORDER BY block_number DESC, log_index DESC LIMIT 1)`);
});

test('a dead node, another chain, bad usage', async () => {
  const dead = `http://127.0.0.1:${await freePort()}`;
  let r = check(['--rpc-url', dead]);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /cannot read the chain id from the node http:\/\/127\.0\.0\.1:\d+/);
  assert.equal(r.out, '');

  r = check(['--rpc-url', dn.rpc_url, '--chain-id', '5']);
  assert.equal(r.code, 1, r.out + r.err);
  assert.match(r.err, /the mirror has no indexed block for chain 5/);

  r = check(['--bogus']);
  assert.equal(r.code, 2, r.err);
  r = check([]);
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /check needs a node/);
});
