// scheduler.test.mjs: daily billing end to end. runwayd runs the indexer,
// the relayer and the scheduler on a devnet Balance contract (tools/devnet)
// and a throwaway PostgreSQL (tests/pg/with-pg); chain time is moved day by
// day with evm_increaseTime. Four instances:
//   A (user1, 5/day) and B (user1, 3/day): created with `runway instance
//     create` through the relayer; charged every day; A stopped at the end
//     with `runway instance stop` (its reserve back to the balance).
//   C (user2: 2 left after creation): SmallBalance after day 1; a deposit
//     brings a refill at once; SmallBalance again on day 3, the day-4 charge
//     fails, the grace period ends on day 5: InsufficientFunds.
//   D (user3: nothing left): SmallBalance on day 1, fails on day 2, ends on
//     day 3.
// runwayd is killed with SIGKILL twice mid-day (once right after a charge
// was filed, once while its transaction is pending) and the database is
// restarted once; the result must be exactly the uninterrupted one: every
// period charged once, none early, balances and reserves to the unit, the
// mirror equal to the chain (`runway check`).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  actors, bin, createDatabase, devnetDown, devnetUp, ethers, freePort, makeKeystore, metrics, sleep,
  sql, startRunwayd, stopRunwayd, tempDir, waitCaughtUp, writeConfig,
} from '../indexer/helpers.mjs';
import { waitReceipt } from '../../tools/lib/deploy.mjs';

const CHAIN = 31337;
const DAY = 86400;
const U = 1_000_000n; // one USDC in base units
const POLL_MS = 200;
const state = tempDir('sched');
let dn, a, url, config, listen, d, logN = 0;
const ids = {};
const latencies = [];

/** Starts runwayd (a new log file each time). */
function start() {
  logN++;
  d = startRunwayd(config, url, path.join(state, `runwayd-${logN}.log`),
    process.env.RUNWAY_TEST_VERBOSE ? ['--verbose'] : []);
  return d;
}

/** The whole log of every runwayd run so far. */
function allLogs() {
  let s = '';
  for (let i = 1; i <= logN; i++) s += fs.readFileSync(path.join(state, `runwayd-${i}.log`), 'utf8');
  return s;
}

function runway(args) {
  const r = spawnSync(path.join(bin, 'runway'), ['--config', config, '--database-url', url, ...args],
    { encoding: 'utf8', timeout: 60000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const one = (q) => {
  const rows = sql(url, q);
  return rows.length ? rows[0][0] : null;
};

async function send(p) {
  const t = await p;
  const r = await waitReceipt(a.provider, t.hash);
  assert.equal(r.status, 1, `transaction ${t.hash} reverted`);
  return r;
}

async function deposit(user, amount) {
  const u = a.role[user];
  await send(a.usdc(u).approve(dn.balance.address, amount));
  return send(a.balance(u).deposit(u.address, amount, 0n, ethers.hexlify(ethers.randomBytes(32))));
}

async function waitFor(fn, what, ms = 60000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (d && (await Promise.race([d.exited.then(() => true), sleep(0).then(() => false)]))) {
      throw new Error(`runwayd exited while waiting for ${what}:\n${d.log().slice(-3000)}`);
    }
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${d ? d.log().slice(-3000) : ''}`);
    await sleep(100);
  }
}

/** Everything due has been charged and seen: the mirror is at the head, no
 * claim is unsettled, nothing is due, the relayer's queue is empty. */
async function waitSettled(what) {
  let stable = 0;
  await waitFor(async () => {
    const head = await a.provider.getBlockNumber();
    const [[next, due, open, queued]] = sql(url, `SELECT
      (SELECT min(next_block) FROM indexer_cursor WHERE chain_id = ${CHAIN}),
      (SELECT count(*) FROM scheduler_due),
      (SELECT count(*) FROM scheduler_claims WHERE NOT settled),
      (SELECT count(*) FROM relayer_intent WHERE state IN ('queued', 'pending', 'mined'))`);
    const ok = Number(next) === head + 1 && due === '0' && open === '0' && queued === '0';
    stable = ok ? stable + 1 : 0;
    return stable >= 3;
  }, what);
}

/** One day of chain time; returns the wall time the new block was mined. */
async function nextDay() {
  await a.provider.send('evm_increaseTime', [DAY]);
  await a.provider.send('evm_mine', []);
  return Date.now();
}

/** Status, reserve, period, paid until of an instance on chain. */
async function chainInstance(id) {
  const i = await a.balance(a.provider).getInstance(id);
  return { status: Number(i.status), reserve: i.reserve, period: Number(i.period), paidUntil: i.paidUntil };
}

const STATUS = ['None', 'Active', 'SmallBalance', 'Stopped', 'Terminated', 'InsufficientFunds'];

/** Statuses as the instances view shows them, by name. */
function statuses() {
  const out = {};
  for (const [n, id] of Object.entries(ids)) out[n] = one(`SELECT status FROM instances WHERE instance_id = '${id}'`);
  return out;
}

/** Checks the chain's status of each instance and the view's. */
async function expectStatuses(want, when) {
  for (const [n, s] of Object.entries(want)) {
    const c = await chainInstance(ids[n]);
    assert.equal(STATUS[c.status], s, `${when}: ${n} on chain`);
  }
  assert.deepEqual(statuses(), want, `${when}: the instances view`);
}

/** The wall-clock delay from mineMs to the first claim filed after it. */
function latencyMs(mineMs, reason) {
  const t = one(`SELECT extract(epoch FROM min(filed_at)) * 1000 FROM scheduler_claim
    WHERE reason = '${reason}' AND filed_at >= to_timestamp(${mineMs / 1000})`);
  return t === null ? null : Number(t) - mineMs;
}

before(async () => {
  dn = devnetUp(state);
  a = actors(dn);
  url = createDatabase('sched_main');
  listen = `127.0.0.1:${await freePort()}`;
  // The relayer key: the devnet's "consensus" account (an EOA nobody else
  // uses), made an operator of the Balance contract so it may create and
  // stop instances for accounts.
  await send(a.balance(a.role.deployer).setOperator(a.role.consensus.address, true));
  const keystore = makeKeystore(state, dn.accounts.consensus.private_key);
  config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.relayer = { keystore, passphrase_env: 'RUNWAY_TEST_RELAYER_PASS' };
    ch.poll_interval_ms = POLL_MS;
    ch.confirmations = 0;
    ch.scheduler = { batch_size: 2, refill_every: 3600 };
    cfg.metrics = { listen };
  });
});

after(async () => {
  if (d) await stopRunwayd(d, 'SIGKILL').catch(() => {});
  a.provider.destroy();
  devnetDown(state);
  if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(state, { recursive: true, force: true });
});

test('every due period charged once, refills, grace, crashes and a database restart', async () => {
  const provider = a.role.provider.address;
  const provStart = await a.usdc(a.provider).balanceOf(provider);
  await deposit('user1', 100n * U);
  await deposit('user2', 12n * U);
  await deposit('user3', 10n * U);
  start();
  await waitCaughtUp(url, a.provider, CHAIN, d);
  assert.match(d.log(), /\[local scheduler\] batches of at most 2 instances and 3000000 gas/);

  // A and B through the CLI and the relayer.
  for (const [n, price, req] of [['A', '5', 'req-a'], ['B', '3', 'req-b']]) {
    const r = runway(['instance', 'create', '--account', a.role.user1.address, '--provider', provider,
      '--price-per-day', price, '--request', req, '--json']);
    assert.equal(r.code, 0, r.err);
    const j = JSON.parse(r.out);
    assert.match(j.status, /^(New|Active)$/, 'New, or Active already: the relayer is quick');
    assert.equal(j.create_intent, `instance-create:${req}`);
    ids[n] = j.instance_id;
  }
  await waitFor(() => one(`SELECT count(*) FROM instances WHERE status = 'Active'`) === '2', 'A and B on chain');
  let r = runway(['instance', 'set-status', ids.A, 'Launching']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /is on chain \(Active\): its status follows the chain/);
  // C and D by the devnet's operator, straight to the contract.
  for (const [n, user] of [['C', 'user2'], ['D', 'user3']]) {
    const id = ethers.hexlify(ethers.randomBytes(32));
    await send(a.balance(a.role.operator).createInstance(id, a.role[user].address, provider, 5n * U));
    ids[n] = id;
  }
  await waitSettled('creation');
  await expectStatuses({ A: 'Active', B: 'Active', C: 'Active', D: 'Active' }, 'day 0');
  const created = {};
  for (const [n, id] of Object.entries(ids)) created[n] = (await chainInstance(id)).paidUntil - BigInt(DAY);

  // Day 1: four charges (two batches of two); C and D cannot refill.
  let mined = await nextDay();
  await waitSettled('day 1');
  latencies.push(latencyMs(mined, 'due'));
  await expectStatuses({ A: 'Active', B: 'Active', C: 'SmallBalance', D: 'SmallBalance' }, 'day 1');
  assert.equal(one(`SELECT count(DISTINCT intent_id) FROM scheduler_claim WHERE period = 1 AND action = 'charge'`), '2',
    'day 1: four charges in two batch intents (batch_size 2)');

  // A deposit for user2: C's reserve is refilled at once (chain time does
  // not move, so the hourly cadence cannot be what does it).
  const depMs = Date.now();
  await deposit('user2', 10n * U);
  await waitFor(() => one(`SELECT status FROM instances WHERE instance_id = '${ids.C}'`) === 'Active', 'C refilled');
  await waitSettled('refill');
  const refillLatency = latencyMs(depMs, 'deposit');
  assert.ok(refillLatency !== null && refillLatency < 3000, `refill filed ${refillLatency} ms after the deposit`);
  assert.equal(one(`SELECT count(*) FROM scheduler_claim WHERE action = 'refill' AND reason = 'deposit'
    AND instance_id = rw_unhex('${ids.C}')`), '1');
  assert.equal(one(`SELECT count(*) FROM scheduler_claim WHERE action = 'refill' AND instance_id = rw_unhex('${ids.D}')`), '0',
    'no refill for D: its account got nothing');

  // Day 2: kill -9 right after the first charge is filed, restart.
  mined = await nextDay();
  await waitFor(() => one(`SELECT count(*) FROM scheduler_claim WHERE period = 2 AND action = 'charge'`) !== '0',
    'a day-2 claim');
  await stopRunwayd(d, 'SIGKILL');
  latencies.push(latencyMs(mined, 'due'));
  start();
  await waitSettled('day 2');
  await expectStatuses({ A: 'Active', B: 'Active', C: 'Active', D: 'SmallBalance' }, 'day 2');
  assert.notEqual((await a.balance(a.provider).graceUntil(ids.D)), 0n, 'D: grace pending');
  assert.notEqual(one(`SELECT grace_until FROM instances WHERE instance_id = '${ids.D}'`), '0', 'D: grace in the view');

  // Day 3: the database goes away for a while, the day begins meanwhile.
  const helper = process.env.RUNWAY_TEST_PG_HELPER;
  assert.ok(helper, 'run under tests/pg/with-pg');
  assert.equal(spawnSync(helper, ['ctl', 'stop'], { encoding: 'utf8' }).status, 0);
  mined = await nextDay();
  await sleep(1500);
  assert.equal(spawnSync(helper, ['ctl', 'start'], { encoding: 'utf8' }).status, 0);
  await waitSettled('day 3');
  await expectStatuses({ A: 'Active', B: 'Active', C: 'SmallBalance', D: 'InsufficientFunds' }, 'day 3');

  // Day 4: kill -9 while a charge transaction is pending, restart.
  mined = await nextDay();
  await waitFor(() => one(`SELECT count(*) FROM scheduler_claim c JOIN relayer_intent i ON i.id = c.intent_id
    WHERE c.period = 4 AND i.state IN ('pending', 'mined', 'confirmed')`) !== '0', 'a day-4 charge signed');
  await stopRunwayd(d, 'SIGKILL');
  latencies.push(latencyMs(mined, 'due'));
  start();
  await waitSettled('day 4');
  await expectStatuses({ A: 'Active', B: 'Active', C: 'SmallBalance', D: 'InsufficientFunds' }, 'day 4');
  assert.notEqual((await a.balance(a.provider).graceUntil(ids.C)), 0n, 'C: grace pending');

  // Day 5: C's grace ends.
  mined = await nextDay();
  await waitSettled('day 5');
  latencies.push(latencyMs(mined, 'due'));
  await expectStatuses({ A: 'Active', B: 'Active', C: 'InsufficientFunds', D: 'InsufficientFunds' }, 'day 5');

  // A stopped by the operator.
  r = runway(['instance', 'stop', ids.A]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`^instance-stop:${CHAIN}:${ids.A}$`, 'm'));
  await waitFor(() => one(`SELECT status FROM instances WHERE instance_id = '${ids.A}'`) === 'Stopped', 'A stopped');
  await waitSettled('stop');

  // Every period charged once, none skipped.
  const charged = sql(url, `SELECT rw_hex(instance_id), string_agg(period::text, ',' ORDER BY period)
    FROM ev_balance_charged GROUP BY 1`);
  const periods = Object.fromEntries(charged.map(([id, p]) => [id, p]));
  assert.deepEqual({ A: periods[ids.A], B: periods[ids.B], C: periods[ids.C], D: periods[ids.D] },
    { A: '1,2,3,4,5', B: '1,2,3,4,5', C: '1,2,3', D: '1' }, 'the periods paid');
  assert.deepEqual(sql(url, `SELECT rw_hex(instance_id), period::text FROM ev_balance_charge_failed ORDER BY block_number`),
    [[ids.D, '2'], [ids.C, '4']], 'one failed charge each for D (day 2) and C (day 4)');
  assert.deepEqual(sql(url, `SELECT rw_hex(instance_id), reason::text, refunded::text FROM ev_balance_instance_ended
    ORDER BY block_number`), [[ids.D, '5', '0'], [ids.C, '5', '0'], [ids.A, '3', String(5n * U)]],
  'D and C ended for lack of funds (empty reserves returned), A stopped (5 USDC back)');
  // No claim twice, none early, every intent mined at most once.
  assert.equal(one(`SELECT count(*) FROM (SELECT instance_id, period FROM scheduler_claim WHERE action = 'charge'
    AND attempt = 1 GROUP BY 1, 2 HAVING count(*) > 1) x`), '0');
  const early = sql(url, `SELECT c.key FROM scheduler_claim c JOIN ev_balance_instance_created i
    ON i.instance_id = c.instance_id WHERE c.action = 'charge' AND c.mirror_time < i.paid_until + (c.period - 1) * ${DAY}`);
  assert.deepEqual(early, [], 'no charge claim before its period began');
  assert.equal(one(`SELECT count(*) FROM (SELECT intent_id FROM relayer_tx WHERE state = 'mined' AND intent_id IS NOT NULL
    GROUP BY 1 HAVING count(*) > 1) x`), '0', 'no intent mined twice');
  assert.deepEqual(sql(url, `SELECT DISTINCT i.state NOT IN ('confirmed', 'final') FROM scheduler_claim c
    JOIN relayer_intent i ON i.id = c.intent_id`), [['f']], 'every batch intent confirmed');

  // Money to the unit.
  const bal = async (u) => a.balance(a.provider).balances(a.role[u].address);
  assert.equal(await bal('user1'), 49n * U, 'user1: 100 - 16 at creation - 8 a day for 5 days + 5 back');
  assert.equal(await bal('user2'), 2n * U, 'user2: 22 - 10 at creation - 2 refills');
  assert.equal(await bal('user3'), 0n);
  assert.equal((await chainInstance(ids.B)).reserve, 3n * U);
  assert.equal((await a.usdc(a.provider).balanceOf(provider)) - provStart, 78n * U,
    'the provider got A 6 days, B 6, C 4, D 2');
  assert.equal(one(`SELECT surplus FROM balance_contracts WHERE contract = '${dn.balance.address.toLowerCase()}'`), '0',
    'mirror: balances + reserves = the tokens the contract holds');
  const check = spawnSync(path.join(bin, 'runway'), ['check', '--database-url', url, '--rpc-url', dn.rpc_url],
    { encoding: 'utf8', timeout: 120000 });
  assert.equal(check.status, 0, check.stdout + check.stderr);
  assert.match(check.stdout, /: 0 mismatches$/m);

  // The log and the metrics say what happened.
  const log = allLogs();
  assert.match(log, /\[local scheduler\] filed charge:31337:batch:\d+ on 0x[0-9a-f]{40}: charge 2 instances \(due 2\)/);
  assert.match(log, /\[local scheduler\] filed refill:31337:batch:\d+ on 0x[0-9a-f]{40}: refill 1 instance \(deposit 1\)/);
  // A cycle in flight when the database went away fails and says so; the
  // ones after it wait in the client's queue until it is back.
  if (/\[local scheduler\] cycle failed: /.test(log)) assert.match(log, /\[local scheduler\] cycles work again/);
  const m = await metrics(listen);
  assert.match(m, /runway_scheduler_cycles_total\{chain="local"\} [1-9]/);
  assert.match(m, /runway_scheduler_db_down\{chain="local"\} 0/);
  for (const l of latencies) assert.ok(l !== null && l < 3000, `a due charge filed ${l} ms after its block`);
  console.log(`# latency from the new day's block to the charge claim: ${latencies.map((l) => Math.round(l)).join(', ')} ms;`
    + ` deposit to refill claim: ${Math.round(refillLatency)} ms`);

  const stopped = await stopRunwayd(d, 'SIGTERM');
  d = null;
  assert.deepEqual(stopped, { code: 0, signal: null }, 'SIGTERM stops runwayd cleanly');
});
