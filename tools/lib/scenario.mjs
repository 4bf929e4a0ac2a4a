// tools/lib/scenario.mjs: the scripted billing scenario that tools/run-local
// drives once runwayd (indexer, relayer, scheduler) follows the devnet.
//
// Chain time moves one day per step (evm_increaseTime + evm_mine). The
// script acts only as the customers and the support desk would: the `runway`
// CLI for top-up sessions, instances, `extend` and `check`, and the
// customers' own wallets (ethers) for approve + deposit. runwayd's scheduler
// files the daily charges and refills; its relayer sends them and the
// instance creations and stops. Every expected outcome is checked as it
// happens (within a bounded wait, money to the base unit); the first one
// that does not happen ends the script with exit status 1 and a message
// saying what was expected and what the mirror shows.
//
//   day 0  A, B and C top up through sessions (100, 16 and 12 USDC); four
//          instances are created with `runway instance create`:
//          A1 (A, 5/day), A2 (A, 3/day), B1 (B, 4/day), C1 (C, 5/day)
//   day 1  every instance charged; C1 SmallBalance (C holds 2, needs 5);
//          the application's runway extended by a week with `runway extend`
//   day 2  charged again; C1's charge fails: grace period (one day) begins
//   day 3  C1 ends InsufficientFunds (its reserve, empty, back to C);
//          B1 SmallBalance; B tops up 20 USDC and B1 is refilled at once
//   day 4  charged; A2 stopped with `runway instance stop` (its 3 USDC
//          reserve back to A)
//   day 5  charged; the provider got exactly what the mirror says was
//          charged; `runway check`: the mirror equals the chain
// Without --once it then keeps moving a day per step: customers top up when
// their balance lasts less than two days, the application's runway is
// extended when less than two days are left, `runway check` every week.
//
// Usage (tools/run-local passes these):
//   node tools/lib/scenario.mjs --devnet FILE --config FILE --database-url URL
//        --bin DIR --state DIR [--runwayd-pid N] [--runwayd-log FILE]
//        [--day-seconds N] [--once]
// Exit status: 0 done (--once), 1 an expectation failed, 2 usage error.

import { spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { ethers, connect, increaseTime } from './chain.mjs';
import { attach, send } from './deploy.mjs';

class UsageError extends Error {}
class ScenarioError extends Error {}

const DAY = 86400;
const U = 1_000_000n; // one USDC in base units
const WAIT_MS = 30000; // bound on each expected outcome
const SETTLE_MS = 60000; // bound on a day's charges being settled

// ---- command line ---------------------------------------------------------

function parseArgs(argv) {
  const o = { daySeconds: 2.5, once: false, runwaydPid: null, runwaydLog: null };
  const value = (i, name) => {
    if (i + 1 >= argv.length) throw new UsageError(`${name} needs a value`);
    return argv[i + 1];
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--devnet') o.devnet = value(i++, a);
    else if (a === '--config') o.config = value(i++, a);
    else if (a === '--database-url') o.db = value(i++, a);
    else if (a === '--bin') o.bin = value(i++, a);
    else if (a === '--state') o.state = value(i++, a);
    else if (a === '--runwayd-pid') o.runwaydPid = Number(value(i++, a));
    else if (a === '--runwayd-log') o.runwaydLog = value(i++, a);
    else if (a === '--day-seconds') o.daySeconds = daySeconds(value(i++, a));
    else if (a === '--once') o.once = true;
    else throw new UsageError(`unknown option '${a}'`);
  }
  for (const k of ['devnet', 'config', 'db', 'bin', 'state']) {
    if (!o[k]) throw new UsageError(`--${k === 'db' ? 'database-url' : k} is required`);
  }
  return o;
}

/**
 * --day-seconds: a number of seconds from 1 to 3600. At least one: a grace
 * period that began with a block of one wall-clock second must be over at the
 * next day's block, and anvil may give blocks of one second increasing times.
 */
function daySeconds(v) {
  if (!/^\d+(\.\d+)?$/.test(v) || Number(v) < 1 || Number(v) > 3600) {
    throw new UsageError(`--day-seconds wants a number of seconds from 1 to 3600, not '${v}'`);
  }
  return Number(v);
}

// ---- the world ------------------------------------------------------------

let opt, dn, provider, balanceC, usdcC;
let day = 0;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Labels: customers A, B, C are the devnet's user1..3. */
const CUSTOMERS = { A: 'user1', B: 'user2', C: 'user3' };
const who = {}; // label -> { address (checksummed), lower, wallet }
const inst = {}; // label (A1...) -> { id, customer, price (base units) }
let app; // the application whose runway is extended
let keyFile; // user1's key file for runway extend

function say(text) {
  console.log(`day ${day}: ${text}`);
}

function fail(text) {
  throw new ScenarioError(`day ${day}: ${text}`);
}

/** USDC base units as a decimal string, exact, at least two decimals. */
function usdc(v) {
  return units(ethers.formatUnits(BigInt(v), 6));
}

/** Trims a decimal string's trailing zeros to at least two decimals. */
function units(s) {
  if (s === null || s === undefined || s === '') return '';
  let [i, f = ''] = String(s).split('.');
  f = f.replace(/0+$/, '');
  while (f.length < 2) f += '0';
  return `${i}.${f}`;
}

const short = (hex) => `${hex.slice(0, 6)}…${hex.slice(-4)}`;

// ---- PostgreSQL (psql) -----------------------------------------------------

/** Runs one query; returns its rows as arrays of text ('' for NULL). */
function sql(query) {
  try {
    const out = execFileSync('psql', [opt.db, '-X', '-q', '-At', '-F', '\x1f', '-v', 'ON_ERROR_STOP=1', '-c', query],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 30000 });
    return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\x1f'));
  } catch (e) {
    throw new ScenarioError(`day ${day}: the database did not answer: ${(e.stderr || e.message).trim()}`);
  }
}

function one(query) {
  const r = sql(query);
  return r.length ? r[0][0] : null;
}

/** An instance as the `instances` view shows it, or null. */
function mirrorInstance(label) {
  const r = sql(`SELECT status, on_chain, live, coalesce(reserve, 0), coalesce(charges, 0), coalesce(charged, 0),
      coalesce(refunded, 0), coalesce(grace_until, 0), coalesce(paid_until, 0)
    FROM instances WHERE instance_id = '${inst[label].id}'`);
  if (!r.length) return null;
  const [status, onChain, live, reserve, charges, charged, refunded, graceUntil, paidUntil] = r[0];
  return {
    status, onChain: onChain === 't', live: live === 't', reserve: BigInt(reserve), charges: Number(charges),
    charged: BigInt(charged), refunded: BigInt(refunded), graceUntil: BigInt(graceUntil), paidUntil: BigInt(paidUntil),
  };
}

/** A customer's balance on the Balance contract as account_balance shows it (base units). */
function mirrorBalance(label) {
  const v = one(`SELECT balance FROM account_balance WHERE account = '${who[label].lower}'`);
  return v === null ? 0n : BigInt(v);
}

// ---- runwayd ---------------------------------------------------------------

/** True while runwayd (by PID) runs and is not a zombie. */
function runwaydAlive() {
  if (!opt.runwaydPid) return true;
  try {
    const st = fs.readFileSync(`/proc/${opt.runwaydPid}/stat`, 'utf8');
    const state = st.slice(st.lastIndexOf(')') + 2, st.lastIndexOf(')') + 3);
    return state !== 'Z' && state !== 'X';
  } catch {
    return false;
  }
}

/** The last lines of runwayd's log, for a failure message. */
function runwaydLogTail(n = 25) {
  if (!opt.runwaydLog) return '';
  try {
    const lines = fs.readFileSync(opt.runwaydLog, 'utf8').trimEnd().split('\n');
    return `last lines of ${opt.runwaydLog}:\n${lines.slice(-n).join('\n')}`;
  } catch {
    return '';
  }
}

/**
 * Polls fn until it returns a truthy value (returned), at most ms; on timeout
 * fails with "what" and what describe() says the system shows instead.
 */
async function waitFor(fn, what, describe = () => '', ms = WAIT_MS) {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (!runwaydAlive()) fail(`runwayd exited while waiting for ${what}`);
    if (Date.now() > deadline) {
      const now = describe();
      fail(`expected ${what} within ${ms / 1000} s; it did not happen${now ? ` (${now})` : ''}`);
    }
    await sleep(150);
  }
}

/**
 * Waits until the mirror is at the chain's head and everything due has been
 * charged and seen: nothing due, no unsettled claim, the relayer's queue empty
 * (three polls in a row).
 */
async function settled(what) {
  let stable = 0;
  let last = '';
  await waitFor(async () => {
    const head = await provider.getBlockNumber();
    const [[next, due, open, queued]] = sql(`SELECT
      (SELECT min(next_block) FROM indexer_cursor WHERE chain_id = ${dn.chain_id}),
      (SELECT count(*) FROM scheduler_due WHERE chain_id = ${dn.chain_id}),
      (SELECT count(*) FROM scheduler_claims WHERE NOT settled),
      (SELECT count(*) FROM relayer_intent WHERE state IN ('queued', 'pending', 'mined'))`);
    last = `chain head ${head}, mirror at ${Number(next) - 1}, ${due} due, ${open} claims unsettled, ${queued} intents open`;
    const ok = Number(next) === head + 1 && due === '0' && open === '0' && queued === '0';
    stable = ok ? stable + 1 : 0;
    return stable >= 3;
  }, what, () => last, SETTLE_MS);
}

// ---- the CLI ---------------------------------------------------------------

/** Runs `runway` with the run's configuration and database; fails unless it exits 0. */
function runway(args, what) {
  const r = spawnSync(path.join(opt.bin, 'runway'), ['--config', opt.config, '--database-url', opt.db, ...args],
    { encoding: 'utf8', timeout: 120000 });
  if (r.status !== 0) {
    fail(`${what}: runway ${args.join(' ')} exited ${r.status ?? r.signal}:\n${(r.stderr || '').trim()}`);
  }
  return r.stdout;
}

const runwayJson = (args, what) => JSON.parse(runway(['--json', ...args], what));

// ---- what customers do -----------------------------------------------------

/**
 * A customer tops up through a session: `runway topup create`, then approve
 * and deposit(account, amount, tax, ref) from the customer's own wallet; the
 * session must complete and the balance grow by the amount.
 */
async function topUp(label, amount, why = '') {
  const c = who[label];
  const before = mirrorBalance(label);
  const s = runwayJson(['topup', 'create', '--account', c.address, '--amount', String(amount)],
    `${label}'s top-up session`);
  if (s.status !== 'Pending') fail(`${label}'s new session is ${s.status}, expected Pending`);
  const total = BigInt(s.total);
  await send(usdcC.connect(c.wallet).approve(dn.balance.address, total));
  await send(balanceC.connect(c.wallet).deposit(c.address, BigInt(s.deposit_amount), BigInt(s.tax), s.ref));
  await waitFor(() => one(`SELECT status FROM topup_sessions WHERE ref = '${s.ref}'`) === 'Completed',
    `${label}'s session ${short(s.ref)} Completed`,
    () => `it is ${one(`SELECT status FROM topup_sessions WHERE ref = '${s.ref}'`)}`);
  // The scheduler may refill a short reserve from the new money at once:
  // the balance grew by the deposit less what such refills took (one query,
  // one snapshot).
  const [[bal, ref]] = sql(`SELECT (SELECT coalesce(max(balance), 0) FROM account_balance
      WHERE account = '${c.lower}'),
    (SELECT coalesce(sum(r.amount), 0) FROM ev_balance_reserve_refilled r
      WHERE r.account = rw_unhex('${c.lower}') AND r.block_number >= (SELECT min(d.block_number)
        FROM ev_balance_deposited d WHERE d.ref = rw_unhex('${s.ref}')))`);
  const after = BigInt(bal);
  const refilled = BigInt(ref);
  if (after !== before + BigInt(s.deposit_amount) - refilled) {
    fail(`${label}'s balance after the deposit is ${usdc(after)}, expected ${usdc(before)} + ${usdc(s.deposit_amount)}`
      + (refilled ? ` - ${usdc(refilled)} refilled` : ''));
  }
  say(`${label} tops up ${usdc(s.deposit_amount)} USDC${why}: runway topup create → session ${short(s.ref)}, `
    + `deposit(${short(c.address)}, ${s.deposit_amount}, ${s.tax}, ref) from ${label}'s wallet → Completed; `
    + `balance ${usdc(after)} USDC`);
  return s;
}

/** `runway instance create`, then wait until the relayer has it on chain and the mirror shows it Active. */
async function createInstance(label, customer, priceUsdc) {
  const c = who[customer];
  const before = mirrorBalance(customer);
  const j = runwayJson(['instance', 'create', '--account', c.address, '--provider', dn.accounts.provider.address,
    '--price-per-day', String(priceUsdc), '--request', `run-local-${label}`], `creating ${label}`);
  const price = BigInt(priceUsdc) * U;
  inst[label] = { id: j.instance_id, customer, price };
  const got = await waitFor(() => {
    const m = mirrorInstance(label);
    return m && m.onChain && m.status === 'Active' ? m : null;
  }, `${label} on chain and Active`, () => {
    const m = mirrorInstance(label);
    return m ? `status ${m.status}, on chain ${m.onChain}, intent ${j.create_intent}` : 'not in the instances view';
  });
  if (got.reserve !== price || got.charges !== 1) {
    fail(`${label}: reserve ${usdc(got.reserve)} and ${got.charges} charges, expected ${usdc(price)} and 1 (day 0)`);
  }
  const after = mirrorBalance(customer);
  if (before - after !== 2n * price) {
    fail(`${label}: ${customer}'s balance went from ${usdc(before)} to ${usdc(after)}, expected two days (${usdc(2n * price)}) less`);
  }
  say(`${label} created for ${customer} at ${priceUsdc} USDC/day: runway instance create → ${j.create_intent} → `
    + `on chain, Active (day 0 paid, one day in reserve); ${customer}'s balance ${usdc(after)} USDC`);
}

/** A extends the application's runway with `runway extend` (user1's key file); the mirror must show the new end. */
async function extend(duration, why = '') {
  const before = one(`SELECT until FROM app_runway WHERE application = '${app.toLowerCase()}'`);
  const j = runwayJson(['extend', '--provider', dn.contracts.ProviderToken18, '--app', app, '--duration', duration,
    '--key-file', keyFile, '--yes'], 'extending the application\'s runway');
  const until = String(j.until);
  await waitFor(() => one(`SELECT until FROM app_runway WHERE application = '${app.toLowerCase()}'`) === until,
    `app_runway to show the new end ${j.until_iso}`,
    () => `it shows ${one(`SELECT until FROM app_runway WHERE application = '${app.toLowerCase()}'`)}`);
  const [[status, payer]] = sql(`SELECT status, funded_by FROM app_runway WHERE application = '${app.toLowerCase()}'`);
  if (status !== 'active' || payer !== who.A.lower) {
    fail(`app_runway after the extension: status ${status}, funded by ${payer}; expected active, funded by A`);
  }
  say(`A extends application ${short(app)} by ${duration}${why}: runway extend --key-file … --yes paid `
    + `${units(j.cost_units)} ${j.symbol} → runway until ${j.until_iso}`
    + (before ? '' : ' (its first funding)'));
}

// ---- checks ----------------------------------------------------------------

/** Statuses as the instances view shows them must become `want` within the bound. */
async function expectStatuses(want) {
  await waitFor(() => Object.entries(want).every(([l, s]) => mirrorInstance(l)?.status === s),
    `statuses ${fmtMap(want)}`,
    () => `the instances view shows ${fmtMap(Object.fromEntries(Object.keys(want).map((l) => [l, mirrorInstance(l)?.status])))}`);
}

/** Periods paid per instance (day 0 included) must be exactly `want`. */
function expectCharges(want) {
  const got = Object.fromEntries(Object.keys(want).map((l) => [l, mirrorInstance(l).charges]));
  if (Object.keys(want).some((l) => got[l] !== want[l])) {
    fail(`periods paid ${fmtMap(got)}, expected ${fmtMap(want)}`);
  }
}

/** Balances (whole USDC) must be exactly `want`. */
function expectBalances(want) {
  for (const [l, v] of Object.entries(want)) {
    const got = mirrorBalance(l);
    if (got !== BigInt(v) * U) fail(`${l}'s balance is ${usdc(got)} USDC, expected ${v}`);
  }
}

const fmtMap = (m) => Object.entries(m).map(([k, v]) => `${k} ${v}`).join(', ');

/** After a settled day no live instance may be due: every period begun is paid or failing. */
function expectNothingDue() {
  const late = sql(`SELECT instance_id FROM instances WHERE live AND due AND coalesce(grace_until, 0) = 0`);
  if (late.length) fail(`instances due and not charged: ${late.map((r) => r[0]).join(', ')}`);
}

/** `runway check`: the mirror equals the chain. */
function check() {
  const out = runway(['check'], 'runway check');
  const m = /: (\d+) mismatches$/m.exec(out);
  if (!m || m[1] !== '0') fail(`runway check found differences between the mirror and the chain:\n${out.trim()}`);
  say(`runway check: the mirror equals the chain (${out.trim().split('\n').pop()})`);
}

// ---- the dashboard ---------------------------------------------------------

const pad = (s, n) => String(s).padEnd(n);
const lpad = (s, n) => String(s).padStart(n);

function labelOf(id) {
  return Object.keys(inst).find((l) => inst[l].id === id) || short(id);
}
function customerOf(addr) {
  return Object.keys(who).find((l) => who[l].lower === addr) || short(addr);
}

/** Prints what the dashboards show now: instances, accounts, the app, top-ups, the relayer. */
async function dashboard() {
  const block = await provider.getBlock('latest');
  const time = new Date(Number(block.timestamp) * 1000).toISOString().slice(0, 16).replace('T', ' ');
  console.log(`\n---- day ${day} · chain time ${time} UTC · block ${block.number} `.padEnd(100, '-'));
  const rows = sql(`SELECT instance_id, account, status, price_per_day_units, coalesce(reserve_units, ''),
      CASE WHEN live THEN coalesce(to_char(paid_until_time AT TIME ZONE 'UTC', 'MM-DD HH24:MI'), '') ELSE 'ended' END,
      coalesce(charges, 0), coalesce(charged_units, ''), CASE WHEN live THEN '' ELSE coalesce(refunded_units, '') END,
      CASE WHEN grace_until > 0 THEN to_char(grace_until_time AT TIME ZONE 'UTC', 'MM-DD HH24:MI') ELSE '' END
    FROM instances ORDER BY created_time NULLS LAST, instance_id`)
    .sort((x, y) => labelOf(x[0]).localeCompare(labelOf(y[0])));
  console.log(`${pad('instance', 12)}${pad('status', 19)}${lpad('USDC/day', 9)}${lpad('reserve', 9)}  `
    + `${pad('paid until', 12)}${lpad('charges', 8)}${lpad('charged', 9)}${lpad('refunded', 9)}  grace until`);
  for (const [id, acct, status, price, reserve, paid, charges, charged, refunded, grace] of rows) {
    const line = `${pad(`${labelOf(id)} (${customerOf(acct)})`, 12)}${pad(status, 19)}${lpad(units(price), 9)}`
      + `${lpad(units(reserve), 9)}  ${pad(paid, 12)}${lpad(charges, 8)}${lpad(units(charged), 9)}`
      + `${lpad(units(refunded), 9)}  ${grace}`;
    console.log(line.trimEnd());
  }
  const accts = sql(`SELECT account, balance_units, reserved_units, pending_topups_units, burn_per_day_units,
      coalesce(days_of_runway::text, '-'), live_instances FROM account_balance ORDER BY account`)
    .sort((x, y) => customerOf(x[0]).localeCompare(customerOf(y[0])));
  console.log(`${pad('account', 20)}${lpad('balance', 9)}${lpad('reserved', 10)}${lpad('pending', 9)}`
    + `${lpad('burn/day', 10)}${lpad('days left', 11)}${lpad('live', 6)}`);
  for (const [acct, bal, res, pend, burn, days, live] of accts) {
    console.log(`${pad(`${customerOf(acct)} ${short(acct)}`, 20)}${lpad(units(bal), 9)}${lpad(units(res), 10)}`
      + `${lpad(units(pend), 9)}${lpad(units(burn), 10)}${lpad(days, 11)}${lpad(live, 6)}`);
  }
  const a = sql(`SELECT status, days_left, to_char(until_time AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI'),
      cost_per_day_units, symbol, coalesce(funded_by, '-'), extensions, funded_total_units
    FROM app_runway WHERE application = '${app.toLowerCase()}'`);
  if (a.length) {
    const [status, days, until, cost, sym, by, n, total] = a[0];
    console.log(`app ${short(app)}  ${status}, ${days} days left (until ${until} UTC), ${units(cost)} ${sym}/day; `
      + `funded by ${customerOf(by)}: ${n} extension${n === '1' ? '' : 's'}, ${units(total)} ${sym}`);
  } else {
    console.log(`app ${short(app)}  not funded yet`);
  }
  const ts = sql(`SELECT status, count(*) FROM topup_sessions GROUP BY 1 ORDER BY 1`);
  const n = ts.reduce((s, r) => s + Number(r[1]), 0);
  console.log(`top-ups  ${n} session${n === 1 ? '' : 's'}${n ? ': ' : ''}${ts.map(([s, c]) => `${c} ${s}`).join(', ')}`);
  for (const [signer, status, nonce, chainNonce, inflight, queued, oldest, bal, intents] of sql(`SELECT signer, status,
      local_nonce, coalesce(chain_nonce::text, '?'), inflight, queued, coalesce(oldest_unconfirmed_seconds::text, '-'),
      coalesce(balance::text, ''), coalesce(intents_by_state::text, '{}') FROM relayer_health ORDER BY signer`)) {
    const eth = bal === '' ? '?' : ethers.formatEther(BigInt(bal)).replace(/(\.\d{0,4})\d*$/, '$1');
    const byState = Object.entries(JSON.parse(intents)).map(([s, c]) => `${c} ${s}`).join(', ');
    console.log(`relayer  ${short(signer)} ${status}, nonce ${nonce} (chain ${chainNonce}), in flight ${inflight}, `
      + `queued ${queued}, oldest unconfirmed ${oldest === '-' ? '-' : `${oldest} s`}, gas ${eth} ETH; `
      + `intents: ${byState || 'none'}`);
  }
}

// ---- the days ----------------------------------------------------------------

let lastClaim = 0; // scheduler_claim.id already reported

/** Says what runwayd's scheduler filed since the last report, by intent. */
function reportClaims() {
  const rows = sql(`SELECT i.key, i.state, c.action,
      string_agg(rw_hex(c.instance_id) || ' ' || c.reason, ',' ORDER BY c.id), max(c.id)
    FROM scheduler_claim c JOIN relayer_intent i ON i.id = c.intent_id
    WHERE c.id > ${lastClaim} GROUP BY i.id, i.key, i.state, c.action ORDER BY min(c.id)`);
  for (const [key, state, action, ids, max] of rows) {
    const what = ids.split(',').map((x) => {
      const [id, reason] = x.split(' ');
      return reason === 'due' ? labelOf(id) : `${labelOf(id)} (${reason.replace('_', ' ')})`;
    });
    say(`runwayd's scheduler filed ${key}: ${action} ${what.join(', ')}; its relayer sent it: ${state}`);
    lastClaim = Math.max(lastClaim, Number(max));
  }
}

/** Moves chain time one day, waits until runwayd has charged what is due. */
async function nextDay() {
  day++;
  await increaseTime(dn.rpc_url, DAY);
  await settled(`day ${day}'s charges settled`);
  reportClaims();
  expectNothingDue();
}

const SCRIPT = {
  async 0() {
    await topUp('A', 100);
    await topUp('B', 16);
    await topUp('C', 12);
    await createInstance('A1', 'A', 5);
    await createInstance('A2', 'A', 3);
    await createInstance('B1', 'B', 4);
    await createInstance('C1', 'C', 5);
    await settled('creations settled');
    expectBalances({ A: 84, B: 8, C: 2 });
  },
  async 1() {
    await expectStatuses({ A1: 'Active', A2: 'Active', B1: 'Active', C1: 'SmallBalance' });
    expectCharges({ A1: 2, A2: 2, B1: 2, C1: 2 });
    expectBalances({ A: 76, B: 4, C: 2 });
    say('runwayd charged all four instances; C1\'s reserve could not be refilled (C holds 2 USDC, a day costs 5): '
      + 'C1 SmallBalance, running on what is paid');
    await extend('1w');
  },
  async 2() {
    await expectStatuses({ A1: 'Active', A2: 'Active', B1: 'Active', C1: 'SmallBalance' });
    expectCharges({ A1: 3, A2: 3, B1: 3, C1: 2 });
    expectBalances({ A: 68, B: 0, C: 2 });
    const c1 = mirrorInstance('C1');
    if (c1.graceUntil === 0n) fail('C1\'s day-2 charge should have failed and started a grace period; none shown');
    const failed = one(`SELECT count(*) FROM charge_history WHERE instance_id = '${inst.C1.id}'
      AND outcome = 'failed' AND period = 2`);
    if (failed !== '1') fail(`charge_history shows ${failed} failed day-2 charges of C1, expected 1`);
    say('charged A1, A2, B1 (B\'s balance is now 0: the reserve is B\'s last day); C1\'s charge failed '
      + '(ChargeFailed, nothing in reserve): grace period until '
      + `${new Date(Number(c1.graceUntil) * 1000).toISOString().slice(0, 16).replace('T', ' ')} UTC`);
    inst.C1.lastReserve = c1.reserve; // what it must get back when it ends
  },
  async 3() {
    const c1Reserve = inst.C1.lastReserve;
    await expectStatuses({ A1: 'Active', A2: 'Active', B1: 'SmallBalance', C1: 'InsufficientFunds' });
    expectCharges({ A1: 4, A2: 4, B1: 4, C1: 2 });
    expectBalances({ A: 60, B: 0, C: 2 });
    const c1 = mirrorInstance('C1');
    if (c1.live || c1.refunded !== c1Reserve || c1.reserve !== 0n) {
      fail(`C1 ended with ${usdc(c1.refunded)} returned and ${usdc(c1.reserve)} left in reserve; `
        + `expected its whole reserve (${usdc(c1Reserve)}) returned`);
    }
    say(`C's grace period is over: C1 ended InsufficientFunds; its reserve (${usdc(c1Reserve)} USDC: the last `
      + `paid day used it) went back to C, whose balance stays ${usdc(mirrorBalance('C'))} USDC`);
    say('B1 charged from its reserve, which B\'s empty balance cannot refill: B1 SmallBalance');
    await topUp('B', 20, ' (B1 runs low)');
    await expectStatuses({ B1: 'Active' });
    await settled('B1\'s refill settled');
    const b1 = mirrorInstance('B1');
    if (b1.reserve !== inst.B1.price) fail(`B1's reserve is ${usdc(b1.reserve)} after the top-up, expected ${usdc(inst.B1.price)}`);
    expectBalances({ B: 16 });
    say(`runwayd refilled B1's reserve at once from the new money: B1 Active again, reserve ${usdc(b1.reserve)} USDC`);
  },
  async 4() {
    await expectStatuses({ A1: 'Active', A2: 'Active', B1: 'Active', C1: 'InsufficientFunds' });
    expectCharges({ A1: 5, A2: 5, B1: 5, C1: 2 });
    expectBalances({ A: 52, B: 12, C: 2 });
    const before = mirrorInstance('A2');
    const balBefore = mirrorBalance('A');
    const j = runwayJson(['instance', 'stop', inst.A2.id], 'stopping A2');
    await expectStatuses({ A2: 'Stopped' });
    await settled('A2\'s stop settled');
    const after = mirrorInstance('A2');
    const balAfter = mirrorBalance('A');
    if (after.refunded !== before.reserve || balAfter - balBefore !== before.reserve || after.reserve !== 0n) {
      fail(`A2 stopped: refunded ${usdc(after.refunded)}, A's balance ${usdc(balBefore)} → ${usdc(balAfter)}; `
        + `expected the unused reserve ${usdc(before.reserve)} back`);
    }
    say(`A stops A2: runway instance stop → ${j.key ? j.key.replace(/0x[0-9a-f]{64}/, short) : 'instance-stop'} → Stopped; its unused reserve `
      + `${usdc(after.refunded)} USDC went back: A's balance ${usdc(balBefore)} → ${usdc(balAfter)} USDC`);
  },
  async 5() {
    await expectStatuses({ A1: 'Active', A2: 'Stopped', B1: 'Active', C1: 'InsufficientFunds' });
    expectCharges({ A1: 6, A2: 5, B1: 6, C1: 2 });
    expectBalances({ A: 50, B: 8, C: 2 });
    const paid = (await usdcC.balanceOf(dn.accounts.provider.address)) - providerStart;
    const charged = BigInt(one(`SELECT coalesce(sum(charged), 0) FROM instance_billing`));
    const expected = 6n * 5n * U + 5n * 3n * U + 6n * 4n * U + 2n * 5n * U;
    if (paid !== charged || paid !== expected) {
      fail(`the provider received ${usdc(paid)} USDC, the mirror says ${usdc(charged)} was charged; expected ${usdc(expected)}`);
    }
    say(`the provider received ${usdc(paid)} USDC over five days: exactly what instance_billing says was charged`);
    check();
  },
};
const LAST_DAY = 5;
let providerStart;

/** Day after day without a script: customers top up when low, the app is extended when short. */
async function idleDay() {
  for (const l of Object.keys(who)) {
    const r = sql(`SELECT coalesce(days_of_runway, 1000), burn_per_day FROM account_balance WHERE account = '${who[l].lower}'`);
    if (!r.length || Number(r[0][0]) >= 2) continue;
    const burn = BigInt(r[0][1]);
    const amount = burn * 7n > 10n * U ? (burn * 7n + U - 1n) / U : 10n; // a week, at least the minimum
    await topUp(l, amount, ` (its balance lasts ${r[0][0]} days)`);
  }
  const left = one(`SELECT days_left FROM app_runway WHERE application = '${app.toLowerCase()}'`);
  if (left !== null && Number(left) < 2) await extend('1w', ` (${left} days were left)`);
  if (day % 7 === 0) check();
}

// ---- main ----------------------------------------------------------------------

async function main() {
  try {
    opt = parseArgs(process.argv.slice(2));
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    process.stderr.write(`scenario: ${e.message}\n`);
    return 2;
  }
  dn = JSON.parse(fs.readFileSync(opt.devnet, 'utf8'));
  provider = connect(dn.rpc_url);
  balanceC = attach('Balance', dn.balance.address, provider);
  usdcC = attach('TestToken', dn.contracts.USDC, provider);
  for (const [l, role] of Object.entries(CUSTOMERS)) {
    const acc = dn.accounts[role];
    who[l] = { address: acc.address, lower: acc.address.toLowerCase(), wallet: new ethers.Wallet(acc.private_key, provider) };
  }
  app = ethers.getAddress(ethers.dataSlice(ethers.id('run-local application'), 12));
  keyFile = path.join(opt.state, 'user1.key');
  fs.rmSync(keyFile, { force: true });
  fs.writeFileSync(keyFile, `${dn.accounts.user1.private_key}\n`, { mode: 0o600 });
  try {
    console.log(`scenario: customers A, B, C are the devnet's user1..3 (${Object.values(who).map((c) => short(c.address)).join(', ')}); `
      + `a day of chain time every ${opt.daySeconds} s`);
    providerStart = await usdcC.balanceOf(dn.accounts.provider.address);
    await waitFor(() => one(`SELECT count(*) FROM relayer_health`) !== '0', 'runwayd\'s relayer to start');
    await settled('runwayd to catch up with the chain');
    for (;;) {
      const started = Date.now();
      if (day <= LAST_DAY) await SCRIPT[day]();
      else await idleDay();
      reportClaims();
      await dashboard();
      if (day === LAST_DAY) {
        console.log(`\nscenario: done in ${day} days: top-ups, daily charges, SmallBalance and refill, `
          + 'InsufficientFunds, a stop with its refund, a runway extension, mirror = chain');
        if (opt.once) return 0;
        console.log('scenario: days go on (customers top up when low); Ctrl-C stops everything');
      }
      await sleep(Math.max(0, opt.daySeconds * 1000 - (Date.now() - started)));
      await nextDay();
    }
  } catch (e) {
    // A customer's transaction that reverts, a node that stops answering:
    // failures too, said the same way.
    const what = e instanceof ScenarioError ? e.message : `day ${day}: ${e.stack || e.message}`;
    console.error(`\nrun-local: FAILED on ${what}`);
    const tail = runwaydLogTail();
    if (tail) console.error(tail);
    return 1;
  } finally {
    provider.destroy();
  }
}

process.exitCode = await main();
