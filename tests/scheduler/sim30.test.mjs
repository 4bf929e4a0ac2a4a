// sim30.test.mjs: thirty simulated days of daily instance billing (issue #7's
// test). runwayd (indexer, relayer, scheduler) follows a devnet Balance
// contract (tools/devnet) with a throwaway PostgreSQL (tests/pg/with-pg);
// chain time moves a day at a time (evm_increaseTime + a mined block).
//
// A seeded PRNG (printed; RUNWAY_SIM_SEED replays one, RUNWAY_SIM_DAYS
// shortens the run) makes 12-20 customer accounts (steady, sporadic and
// running-dry ones, each its own wallet) and 24-40 instances. Customers do
// only what customers and support do: top up through sessions (`runway
// topup create`, then approve + deposit(account, amount, tax, ref) from
// their wallet), `runway instance create` and `runway instance stop`; the
// provider terminates instances from its own wallet. runwayd files every
// charge and refill.
//
// An independent model (simmodel.mjs: the contract's rules and the keeper's
// promise, in JavaScript) says what must happen. After each day's charges
// and after each day's customer actions the test compares it with the chain
// (eth_call getInstance, graceUntil, balances, the contract's totals, the
// provider's tokens) and with the dashboards' views (instances,
// account_balance, balance_ledger, topup_sessions), and reads every Balance
// event off the chain:
//   - each due period charged exactly once (Charged per instance = periods
//     1..n, paidUntil = first paidUntil + n days), never before it began
//     and always before it ended (block time in [paidUntil - 1 day,
//     paidUntil)); nothing due left unpaid outside a grace period;
//   - refills right after deposits and returned reserves; SmallBalance,
//     ChargeFailed, grace and InsufficientFunds exactly when the model says;
//   - statuses as specified at each step (New before the chain has it);
//   - every refund equal to the reserve the instance held (from the events);
//   - the ledger's sums equal to the contract's balances and reserves,
//     the contract holding exactly balances + reserves, `runway check` exit 0;
//   - no claim twice, none early, no intent mined twice, no intent failed;
//   - session rules: limits 10..5000 USDC (both edges accepted, beyond them
//     refused), one Pending session per account, cancel (and a deposit after
//     it flagged), expiry after 15 minutes of wall clock (the session's times
//     are moved back 16 minutes; runwayd stores Expired; a deposit after it
//     is flagged), completion only once the deposit is confirmed
//     (confirmations 2: Confirming until two more blocks).
// Then the same seed runs again on a fresh chain and database with runwayd
// killed (SIGKILL) at random moments of the day's block and of the
// customers' actions and restarted after a random pause; its final state
// (chain and views) must equal the first run's.
//
// Run: meson test -C build-test --suite scheduler sim30, or
//   RUNWAY_BIN_DIR=build-test/src tests/pg/with-pg node --test tests/scheduler/sim30.test.mjs
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  RELAYER_PASS_ENV, actors, bin, createDatabase, devnetDown, devnetUp, ethers, makeKeystore, sleep, sql,
  startRunwayd, stopRunwayd, tempDir, waitCaughtUp, writeConfig,
} from '../indexer/helpers.mjs';
import { rpcBatch, rpcBatchOne as rpc } from '../../tools/lib/chain.mjs';
import { iface, waitReceipt } from '../../tools/lib/deploy.mjs';
import { DAY, MAX_BALANCE, Model, Planner, U, isLive, prng } from './simmodel.mjs';

const CHAIN = 31337;
const POLL_MS = 100;
const CONFIRMATIONS = 2;
const BATCH_SIZE = 6;
const STATUS = ['None', 'Active', 'SmallBalance', 'Stopped', 'Terminated', 'InsufficientFunds'];

const SEED = process.env.RUNWAY_SIM_SEED !== undefined && process.env.RUNWAY_SIM_SEED !== ''
  ? Number(process.env.RUNWAY_SIM_SEED) >>> 0
  : Math.floor(Math.random() * 2 ** 32) >>> 0;
const DAYS = Number(process.env.RUNWAY_SIM_DAYS || 30);
assert.ok(Number.isInteger(DAYS) && DAYS >= 1 && DAYS <= 60, 'RUNWAY_SIM_DAYS: 1 to 60');
console.log(`# sim30: seed ${SEED} (RUNWAY_SIM_SEED=${SEED} replays it), ${DAYS} days`);

// The days the session rules are exercised on (those within DAYS).
const LIMITS_DAY = 1;
const CANCEL_DAY = 3;
const EXPIRY_DAY = 5;
const LATE_AFTER = 3; // days from a cancel or expiry to a deposit with its ref
const PROBE_DAYS = [2, 13, 24];

const hex = (n) => '0x' + n.toString(16);
const usdc = (v) => ethers.formatUnits(v, 6);
const balanceIface = iface('Balance');
const tokenIface = iface('TestToken');

/** One simulated world: a devnet, a database, runwayd, the model and the plan. */
class World {
  constructor(tag, chaosSeed) {
    this.tag = tag;
    this.state = tempDir(`sim-${tag}`);
    this.log = path.join(this.state, 'runwayd.log');
    this.crand = chaosSeed === null ? null : prng(chaosSeed);
    this.kills = [];
    this.model = new Model();
    this.plan = new Planner(SEED, DAYS);
    this.day = 0;
    this.sessions = []; // { ref, account, amount, want, flags }
    this.late = []; // deposits with a cancelled or expired session's ref: { day, account, s, kind }
    this.logFrom = 0;
    this.chainEv = new Map(); // instance id -> what its events said
    this.onePendingDone = false;
    this.stoppedAgainDone = false;
    this.stats = { topups: 0, stops: 0, terminations: 0, creates: 0, probes: 0 };
    this.ms = { settle: 0, check: 0, cli: 0 }; // where the run's time went
  }

  // ---- set-up -------------------------------------------------------------

  async up() {
    this.dn = devnetUp(this.state);
    this.a = actors(this.dn);
    this.url = createDatabase(`sim_${this.tag}`);
    this.rpcUrl = this.dn.rpc_url;
    this.balance = this.dn.balance.address;
    this.usdc = this.dn.tokens.USDC.address;
    this.providerAddr = this.a.role.provider.address;
    await this.sendOk(this.a.balance(this.a.role.deployer).setOperator(this.a.role.consensus.address, true));
    const keystore = makeKeystore(this.state, this.dn.accounts.consensus.private_key);
    this.config = writeConfig(this.state, path.join(this.state, 'devnet.json'), (cfg, ch) => {
      ch.relayer = { keystore, passphrase_env: RELAYER_PASS_ENV };
      ch.poll_interval_ms = POLL_MS;
      ch.confirmations = CONFIRMATIONS;
      ch.scheduler = { batch_size: BATCH_SIZE, refill_every: 3600 };
    });
    // Customers: wallets from the seed, with gas and tokens of their own.
    const usdcC = this.a.usdc(this.a.role.deployer);
    for (let k = 0; k < this.plan.nAccounts; k++) {
      const w = new ethers.Wallet(ethers.id(`runway-sim30|${SEED}|${k}`), this.a.provider);
      await rpc(this.rpcUrl, 'anvil_setBalance', [w.address, hex(100n * 10n ** 18n)]);
      await this.sendOk(usdcC.mint(w.address, 100_000n * U));
      const acct = this.model.addAccount(String.fromCharCode(65 + k), w.address, this.plan.kinds[k]);
      acct.wallet = w;
    }
    this.providerStart = await this.a.usdc(this.a.provider).balanceOf(this.providerAddr);
    this.start();
    await waitCaughtUp(this.url, this.a.provider, CHAIN, this.d);
  }

  async down() {
    if (this.d) {
      const st = await stopRunwayd(this.d, 'SIGTERM').catch(() => null);
      this.d = null;
      return st;
    }
    return null;
  }

  cleanup() {
    if (this.d) {
      try {
        process.kill(this.d.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    if (this.a) this.a.provider.destroy();
    devnetDown(this.state);
    if (!process.env.RUNWAY_TEST_KEEP) fs.rmSync(this.state, { recursive: true, force: true });
  }

  logTail(n = 4000) {
    try {
      return fs.readFileSync(this.log, 'utf8').slice(-n);
    } catch {
      return '';
    }
  }

  // ---- runwayd and chaos ----------------------------------------------------

  start() {
    this.d = startRunwayd(this.config, this.url, this.log, process.env.RUNWAY_TEST_VERBOSE ? ['--verbose'] : []);
  }

  /** Throws when runwayd ended by itself. */
  async alive() {
    const d = this.d;
    if (!d || d.killed) return;
    const gone = await Promise.race([d.exited.then((x) => x), sleep(0).then(() => null)]);
    if (gone) throw new Error(`runwayd exited by itself (${JSON.stringify(gone)})`);
  }

  /**
   * Runs fn; in the chaos run, sometimes kills runwayd (SIGKILL) at a random
   * moment meanwhile and starts it again after a random pause.
   */
  async chaos(what, fn) {
    if (!this.crand || this.crand() >= 0.5) return fn();
    const delay = Math.floor(this.crand() * 900);
    const pause = Math.floor(this.crand() * 700);
    let finished = false;
    let late = false;
    const kill = (async () => {
      await sleep(delay);
      late = finished;
      const d = this.d;
      d.killed = true;
      await stopRunwayd(d, 'SIGKILL');
      this.kills.push(`day ${this.day} ${what} +${delay} ms (down ${pause} ms)`);
      await sleep(pause);
      this.start();
    })();
    try {
      await fn();
    } finally {
      finished = true;
      await kill;
    }
    if (late) await this.settle(`${what}, after a restart`);
  }

  // ---- chain and database ---------------------------------------------------

  async sendOk(p) {
    const t = await p;
    const r = await waitReceipt(this.a.provider, t.hash);
    assert.equal(r.status, 1, `transaction ${t.hash} reverted`);
    return r;
  }

  q(text) {
    return sql(this.url, text);
  }

  one(text) {
    const r = this.q(text);
    return r.length ? r[0][0] : null;
  }

  runway(args) {
    const t0 = Date.now();
    const r = spawnSync(path.join(bin, 'runway'), ['--config', this.config, '--database-url', this.url, ...args],
      { encoding: 'utf8', timeout: 120000 });
    this.ms.cli += Date.now() - t0;
    return { code: r.status, out: r.stdout, err: r.stderr };
  }

  runwayOk(args) {
    const r = this.runway(args);
    assert.equal(r.code, 0, `runway ${args.join(' ')}: ${r.err}`);
    return r.out;
  }

  async blockTime() {
    const b = await rpc(this.rpcUrl, 'eth_getBlockByNumber', ['latest', false]);
    return { number: Number(b.number), time: BigInt(b.timestamp) };
  }

  /**
   * Waits until the mirror is at the head and everything is done with: nothing
   * due, every claim settled, no intent queued, pending or awaiting
   * confirmation, no deposit awaiting reconciliation, no session Confirming
   * (two polls in a row). Mines empty blocks now and then while
   * something waits for confirmations (the chain moves on; anvil mines only
   * on transactions). An intent that failed, reverted or was cancelled fails
   * the test.
   */
  async settle(what, ms = 120000) {
    const t0 = Date.now();
    try {
      await this.settleOnce(what, ms);
    } finally {
      this.ms.settle += Date.now() - t0;
    }
  }

  async settleOnce(what, ms) {
    const deadline = Date.now() + ms;
    let stable = 0;
    let minedAt = 0;
    let last = '';
    for (;;) {
      const head = Number(await rpc(this.rpcUrl, 'eth_blockNumber'));
      const [[next, due, open, busy, waiting, queue, confirming, bad]] = this.q(`SELECT
        (SELECT min(next_block) FROM indexer_cursor WHERE chain_id = ${CHAIN}),
        (SELECT count(*) FROM scheduler_due),
        (SELECT count(*) FROM scheduler_claims WHERE NOT settled),
        (SELECT count(*) FROM relayer_intent WHERE state IN ('queued', 'pending')),
        (SELECT count(*) FROM relayer_intent WHERE state = 'mined'),
        (SELECT count(*) FROM topup_deposit_queue),
        (SELECT count(*) FROM topup_sessions WHERE status = 'Confirming'),
        (SELECT string_agg(key || ' ' || state || ': ' || coalesce(reason, ''), '; ') FROM relayer_intent
         WHERE state IN ('failed', 'reverted', 'cancelled'))`);
      if (bad) throw new Error(`${what}: intents that did not succeed: ${bad}\n${this.logTail()}`);
      const atHead = Number(next) === head + 1;
      last = `head ${head}, mirror ${Number(next) - 1}, due ${due}, claims open ${open}, intents queued/pending ${busy}, `
        + `mined ${waiting}, deposits to reconcile ${queue}, sessions confirming ${confirming}`;
      const ok = atHead && due === '0' && open === '0' && busy === '0' && waiting === '0' && queue === '0'
        && confirming === '0';
      stable = ok ? stable + 1 : 0;
      if (stable >= 2) return;
      if (atHead && busy === '0' && (waiting !== '0' || queue !== '0' || confirming !== '0')
          && Date.now() - minedAt >= 150) {
        await rpc(this.rpcUrl, 'anvil_mine', [hex(CONFIRMATIONS)]);
        minedAt = Date.now();
      }
      await this.alive();
      if (Date.now() > deadline) throw new Error(`${what}: not settled after ${ms / 1000} s (${last})\n${this.logTail()}`);
      await sleep(POLL_MS);
    }
  }

  async waitFor(fn, what, ms = 30000) {
    const deadline = Date.now() + ms;
    for (;;) {
      const v = await fn();
      if (v) return v;
      await this.alive();
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}\n${this.logTail()}`);
      await sleep(50);
    }
  }

  // ---- what customers do ----------------------------------------------------

  /** `runway topup create`: a Pending session. */
  session(a, amount) {
    const s = JSON.parse(this.runwayOk(['--json', 'topup', 'create', '--account', a.address, '--amount', usdc(amount)]));
    assert.equal(s.status, 'Pending', `day ${this.day}: ${a.label}'s new session`);
    assert.equal(BigInt(s.deposit_amount), amount);
    assert.equal(s.tax, '0');
    assert.equal(BigInt(s.total), amount);
    const rec = { ref: s.ref, account: a, amount, want: 'Pending', flags: [], s };
    this.sessions.push(rec);
    return rec;
  }

  /** The customer's approve + deposit(account, amount, tax, ref). */
  async pay(a, s) {
    const w = a.wallet;
    await this.sendOk(this.a.usdc(w).approve(this.balance, BigInt(s.total)));
    return this.sendOk(this.a.balance(w).deposit(a.address, BigInt(s.deposit_amount), BigInt(s.tax), s.ref));
  }

  /** The day's top-ups: every session first, then every payment at once. */
  async topUps(list) {
    const recs = list.map(({ account, amount }) => this.session(account, amount));
    if (!this.onePendingDone && this.day >= 2 && recs.length) {
      // One Pending session per account: a second one is refused, naming the first.
      const r0 = recs[0];
      const r = this.runway(['topup', 'create', '--account', r0.account.address, '--amount', '25']);
      assert.equal(r.code, 1, `a second session for ${r0.account.label} must be refused`);
      assert.match(r.err, /already has a pending top-up session/);
      assert.ok(r.err.toLowerCase().includes(r0.ref.toLowerCase()), r.err);
      this.onePendingDone = true;
    }
    await Promise.all(recs.map((rec) => this.pay(rec.account, rec.s)));
    for (const rec of recs) rec.want = 'Completed';
    this.stats.topups += recs.length;
  }

  /** Session rules on an account nothing else touches today: limits, both edges, cancel. */
  limits(a) {
    const free = MAX_BALANCE - a.balance;
    let r = this.runway(['topup', 'create', '--account', a.address, '--amount', '9.999999']);
    assert.equal(r.code, 1, 'below the 10 USDC minimum: refused');
    assert.match(r.err, /minimum/);
    r = this.runway(['topup', 'create', '--account', a.address, '--amount', usdc(free + 1n)]);
    assert.equal(r.code, 1, 'one base unit over the 5000 USDC cap: refused');
    assert.match(r.err, /cap/);
    for (const amount of [free, 10n * U]) {
      const rec = this.session(a, amount); // both edges accepted
      const listed = JSON.parse(this.runwayOk(['--json', 'topup', 'list', '--account', a.address, '--status', 'Pending']));
      assert.deepEqual(listed.map((x) => x.ref), [rec.ref]);
      this.runwayOk(['topup', 'cancel', rec.ref]);
      rec.want = 'Cancelled';
      const again = JSON.parse(this.runwayOk(['--json', 'topup', 'cancel', rec.ref]));
      assert.equal(again.status, 'Cancelled', 'cancelling a cancelled session returns it unchanged');
    }
    // An instance the balance cannot pay two days of: refused before anything is filed.
    const price = a.balance / 2n + U;
    r = this.runway(['instance', 'create', '--account', a.address, '--provider', this.providerAddr,
      '--price-per-day', usdc(price), '--request', `sim-${SEED}-refused-${this.tag}`]);
    assert.equal(r.code, 1, 'createInstance would take two days the balance lacks: refused');
    assert.match(r.err, /two days/);
  }

  /** A session cancelled; a deposit with its ref comes LATE_AFTER days later. */
  cancelled(a) {
    const rec = this.session(a, 10n * U + BigInt(Math.floor(this.plan.rand() * 20)) * U);
    this.runwayOk(['topup', 'cancel', rec.ref]);
    rec.want = 'Cancelled';
    this.late.push({ day: this.day + LATE_AFTER, rec, kind: 'deposit_after_cancel' });
  }

  /**
   * A session left unpaid for 15 minutes of wall clock (its times moved back
   * 16 minutes): runwayd stores it Expired; the account can open a new one,
   * which it pays now. A deposit with the old ref comes LATE_AFTER days later.
   */
  async expired(a) {
    const rec = this.session(a, 10n * U + BigInt(Math.floor(this.plan.rand() * 20)) * U);
    this.q(`UPDATE topup_session SET created_at = created_at - interval '16 minutes',
      expires_at = expires_at - interval '16 minutes' WHERE ref = rw_unhex('${rec.ref}')`);
    await this.waitFor(() => this.one(`SELECT stored_status FROM topup_sessions WHERE ref = '${rec.ref}'`) === 'Expired',
      'runwayd to store the session Expired');
    rec.want = 'Expired';
    const r = this.runway(['topup', 'cancel', rec.ref]);
    assert.equal(r.code, 1, 'an expired session cannot be cancelled');
    assert.match(r.err, /expired at/);
    this.late.push({ day: this.day + LATE_AFTER, rec, kind: 'deposit_after_expiry' });
    const amount = 10n * U + BigInt(Math.floor(this.plan.rand() * 30)) * U;
    return { account: a, amount };
  }

  /**
   * Completion only once confirmed: a deposit for an account nothing else
   * touches shows Confirming while fewer than two blocks follow it, then
   * Completed.
   */
  async probe(a, amount) {
    const rec = this.session(a, amount);
    const receipt = await this.pay(a, rec.s);
    const b = receipt.blockNumber;
    await this.waitFor(() => Number(this.one(`SELECT min(next_block) FROM indexer_cursor WHERE chain_id = ${CHAIN}`)) > b,
      'the deposit indexed');
    const status = () => this.one(`SELECT status || ' ' || stored_status FROM topup_sessions WHERE ref = '${rec.ref}'`);
    for (let k = 0; k < CONFIRMATIONS; k++) {
      await sleep(4 * POLL_MS);
      assert.equal(Number(await rpc(this.rpcUrl, 'eth_blockNumber')), b + k, 'nothing else was mined meanwhile');
      assert.equal(status(), 'Confirming Pending', `${k} block(s) after the deposit: not confirmed, not completed`);
      await rpc(this.rpcUrl, 'evm_mine');
    }
    await this.waitFor(() => status() === 'Completed Completed', 'the session Completed once confirmed');
    rec.want = 'Completed';
    const r = this.runway(['topup', 'cancel', rec.ref]);
    assert.equal(r.code, 1, 'a completed session cannot be cancelled');
    assert.match(r.err, /is completed/);
    this.stats.probes++;
  }

  /** `runway instance create`; the instance is New until the chain has it. */
  create(a, price) {
    const label = `${a.label}${this.model.instances.filter((i) => i.account === a).length + 1}`;
    const j = JSON.parse(this.runwayOk(['--json', 'instance', 'create', '--account', a.address, '--provider',
      this.providerAddr, '--price-per-day', usdc(price), '--request', `sim-${SEED}-${label}`]));
    assert.match(j.status, /^(New|Active)$/, `${label} just recorded: New (or Active already)`);
    this.model.addInstance(label, j.instance_id, a, price);
    this.stats.creates++;
  }

  /** The model learns the creations the chain has now. */
  async created() {
    const fresh = this.model.instances.filter((i) => i.status === 'New');
    const res = await rpcBatch(this.rpcUrl, fresh.map((i) => ['eth_call', [{ to: this.balance,
      data: balanceIface.encodeFunctionData('getInstance', [i.id]) }, 'latest']]));
    fresh.forEach((i, k) => {
      const it = balanceIface.decodeFunctionResult('getInstance', res[k])[0];
      assert.equal(Number(it.status), 1, `${i.label} created on chain`);
      this.model.created(i, it.paidUntil);
    });
  }

  async stop(i, reason) {
    if (reason === 'Stopped') {
      const out = this.runwayOk(['instance', 'stop', i.id]);
      assert.match(out, new RegExp(`^instance-stop:${CHAIN}:${i.id}$`, 'm'));
      this.stats.stops++;
    } else {
      await this.sendOk(this.a.balance(this.a.role.provider).terminateInstance(i.id));
      this.stats.terminations++;
    }
  }

  // ---- the days -------------------------------------------------------------

  async dayZero() {
    const list = this.model.accounts.map((a) => ({ account: a, amount: this.plan.firstTopUp(a.kind) }));
    await this.topUps(list);
    await this.settle('day 0 top-ups');
    for (const { account, amount } of list) this.model.deposit(account, amount, 0);
    for (const round of this.plan.initialRounds(this.model)) {
      for (const { account, price } of round) this.create(account, price);
      await this.settle('day 0 instances');
      await this.created();
      await this.check('day 0 instances', false);
    }
    await this.check('day 0', true);
  }

  async nextDay() {
    this.day++;
    await this.chaos('day block', async () => {
      await rpc(this.rpcUrl, 'evm_increaseTime', [Number(DAY)]);
      await rpc(this.rpcUrl, 'evm_mine');
      await this.settle(`day ${this.day}'s charges`);
    });
    this.model.dayBlock(this.day);
    await this.check(`day ${this.day} charges`, false);
  }

  async actions() {
    const d = this.day;
    const m = this.model;
    const plan = this.plan.day(m, d);
    const { topups, stops, creates, touched } = plan;
    const late = this.late.filter((l) => l.day <= d && !touched.has(l.rec.account));
    for (const l of late) touched.add(l.rec.account);
    this.late = this.late.filter((l) => !late.includes(l));
    let limits = null;
    let cancel = null;
    let expire = null;
    if (d === LIMITS_DAY) limits = this.plan.untouched(m, touched);
    if (d === CANCEL_DAY) cancel = this.plan.untouched(m, touched, (a) => a !== limits);
    if (d === EXPIRY_DAY) expire = this.plan.untouched(m, touched, (a) => a.balance + 60n * U <= MAX_BALANCE);
    for (const a of [limits, cancel, expire]) if (a) touched.add(a);
    const probe = PROBE_DAYS.includes(d) ? this.plan.untouched(m, touched, (a) => !m.short(a)) : null;
    const probeAmount = probe ? 10n * U + BigInt(Math.floor(this.plan.rand() * 40)) * U : 0n;

    await this.chaos('customers', async () => {
      if (limits) this.limits(limits);
      if (cancel) this.cancelled(cancel);
      if (expire) topups.push(await this.expired(expire));
      const payLate = late.map((l) => this.pay(l.rec.account, l.rec.s));
      await this.topUps(topups);
      await Promise.all(payLate);
      for (const { instance, reason } of stops) await this.stop(instance, reason);
      for (const { account, price } of creates) this.create(account, price);
      await this.settle(`day ${d}'s customers`);
    });
    for (const { account, amount } of topups) m.deposit(account, amount, d);
    for (const l of late) {
      l.rec.flags.push(l.kind);
      m.deposit(l.rec.account, l.rec.amount, d);
    }
    for (const { instance, reason } of stops) m.stop(instance, reason, d);
    if (creates.length) await this.created();
    if (probe) {
      await this.probe(probe, probeAmount);
      m.deposit(probe, probeAmount, d);
      await this.settle(`day ${d}'s probe`);
    }
    if (!this.stoppedAgainDone) {
      const ended = m.instances.find((i) => !isLive(i.status) && i.status !== 'New');
      if (ended) {
        const r = this.runway(['instance', 'stop', ended.id]);
        assert.equal(r.code, 1, `${ended.label} has ended: nothing to stop`);
        assert.match(r.err, /has ended/);
        this.stoppedAgainDone = true;
      }
    }
    await this.check(`day ${d}`, true);
  }

  // ---- checks -----------------------------------------------------------------

  /** The chain's view of every instance and account, in one batch. */
  async readChain() {
    const on = this.model.instances.filter((i) => i.status !== 'New');
    const call = (to, data) => ['eth_call', [{ to, data }, 'latest']];
    const calls = [];
    for (const i of on) {
      calls.push(call(this.balance, balanceIface.encodeFunctionData('getInstance', [i.id])));
      calls.push(call(this.balance, balanceIface.encodeFunctionData('graceUntil', [i.id])));
    }
    for (const a of this.model.accounts) calls.push(call(this.balance, balanceIface.encodeFunctionData('balances', [a.address])));
    calls.push(call(this.usdc, tokenIface.encodeFunctionData('balanceOf', [this.providerAddr])));
    calls.push(call(this.usdc, tokenIface.encodeFunctionData('balanceOf', [this.balance])));
    calls.push(call(this.balance, balanceIface.encodeFunctionData('totalBalances')));
    calls.push(call(this.balance, balanceIface.encodeFunctionData('totalReserves')));
    calls.push(['eth_getBlockByNumber', ['latest', false]]);
    const res = await rpcBatch(this.rpcUrl, calls);
    let k = 0;
    const inst = new Map();
    for (const i of on) {
      const it = balanceIface.decodeFunctionResult('getInstance', res[k++])[0];
      const grace = BigInt(res[k++]);
      inst.set(i.label, { status: STATUS[Number(it.status)], reserve: it.reserve, period: Number(it.period),
        paidUntil: it.paidUntil, grace });
    }
    const bal = new Map();
    for (const a of this.model.accounts) bal.set(a.label, BigInt(res[k++]));
    const provider = BigInt(res[k++]) - this.providerStart;
    const held = BigInt(res[k++]);
    const totalBalances = BigInt(res[k++]);
    const totalReserves = BigInt(res[k++]);
    const time = BigInt(res[k++].timestamp);
    return { inst, bal, provider, held, totalBalances, totalReserves, time };
  }

  /** What the dashboards show, in one query. */
  readDb() {
    const j = JSON.parse(this.one(`SELECT json_build_object(
      'instances', (SELECT coalesce(json_agg(json_build_object('id', instance_id, 'status', status,
          'on_chain', on_chain, 'reserve', reserve::text, 'paid_until', paid_until::text, 'charges', charges::text,
          'charged', charged::text, 'refunded', refunded::text, 'grace', grace_until::text)), '[]') FROM instances),
      'accounts', (SELECT coalesce(json_agg(json_build_object('account', account, 'balance', balance::text,
          'reserved', reserved::text, 'pending', pending_topups::text, 'live', live_instances::text)), '[]')
        FROM account_balance),
      'ledger', (SELECT coalesce(json_agg(json_build_object('account', account, 'sum', s::text, 'last', l::text)), '[]')
        FROM (SELECT account, sum(balance_delta) AS s, (array_agg(balance_after ORDER BY line_no DESC))[1] AS l
              FROM balance_ledger GROUP BY account) x),
      'reserves', (SELECT coalesce(json_agg(json_build_object('id', instance_id, 'sum', s::text)), '[]')
        FROM (SELECT instance_id, sum(reserve_delta) AS s FROM balance_ledger WHERE instance_id IS NOT NULL
              GROUP BY instance_id) x),
      'sessions', (SELECT coalesce(json_agg(json_build_object('ref', ref, 'status', status, 'stored', stored_status,
          'flags', flags)), '[]') FROM topup_sessions),
      'surplus', (SELECT json_agg(surplus::text) FROM balance_contracts),
      'twice', (SELECT count(*) FROM (SELECT instance_id, period FROM scheduler_claim WHERE action = 'charge'
          AND attempt = 1 GROUP BY 1, 2 HAVING count(*) > 1) x),
      'early', (SELECT coalesce(json_agg(c.key), '[]') FROM scheduler_claim c JOIN ev_balance_instance_created i
          ON i.chain_id = c.chain_id AND i.address = c.contract AND i.instance_id = c.instance_id
          WHERE c.action = 'charge' AND c.mirror_time < i.paid_until + (c.period - 1) * 86400),
      'minedTwice', (SELECT count(*) FROM (SELECT intent_id FROM relayer_tx WHERE state = 'mined'
          AND intent_id IS NOT NULL GROUP BY 1 HAVING count(*) > 1) x))::text`));
    j.instances = new Map(j.instances.map((x) => [x.id, x]));
    j.accounts = new Map(j.accounts.map((x) => [x.account, x]));
    j.ledger = new Map(j.ledger.map((x) => [x.account, x]));
    j.reserves = new Map(j.reserves.map((x) => [x.id, x.sum]));
    j.sessions = new Map(j.sessions.map((x) => [x.ref, x]));
    return j;
  }

  /**
   * Reads the Balance contract's new events off the chain and checks each
   * on its own: a period charged once, within [its start, its end); a
   * refund equal to the reserve the events last showed.
   */
  async scanLogs() {
    const head = Number(await rpc(this.rpcUrl, 'eth_blockNumber'));
    if (head < this.logFrom) return;
    const logs = await rpc(this.rpcUrl, 'eth_getLogs', [{ address: this.balance, fromBlock: hex(this.logFrom), toBlock: hex(head) }]);
    const nums = [...new Set(logs.map((l) => l.blockNumber))];
    const blocks = await rpcBatch(this.rpcUrl, nums.map((n) => ['eth_getBlockByNumber', [n, false]]));
    const time = new Map(nums.map((n, k) => [n, BigInt(blocks[k].timestamp)]));
    for (const log of logs) {
      const p = balanceIface.parseLog(log);
      if (!p || p.fragment.inputs[0].name !== 'id') continue;
      const id = p.args.id.toLowerCase();
      if (!this.chainEv.has(id)) this.chainEv.set(id, { charged: [], failed: 0, refilled: 0, small: 0, ended: null, reserve: 0n, paidUntil0: 0n });
      const e = this.chainEv.get(id);
      const ts = time.get(log.blockNumber);
      const where = `${p.name} of ${id.slice(0, 10)} in block ${Number(log.blockNumber)}`;
      switch (p.name) {
        case 'InstanceCreated':
          e.reserve = p.args.reserve;
          e.paidUntil0 = p.args.paidUntil;
          break;
        case 'Charged': {
          const period = Number(p.args.period);
          assert.ok(!e.charged.includes(period), `${where}: period ${period} charged twice`);
          assert.equal(p.args.paidUntil, e.paidUntil0 + BigInt(period) * DAY, `${where}: paidUntil arithmetic`);
          assert.ok(ts >= p.args.paidUntil - DAY, `${where}: charged at ${ts}, before period ${period} began`);
          assert.ok(ts < p.args.paidUntil, `${where}: charged at ${ts}, after period ${period} ended`);
          e.charged.push(period);
          e.reserve = p.args.reserveAfter;
          break;
        }
        case 'ReserveRefilled':
          e.refilled++;
          e.reserve = p.args.reserveAfter;
          break;
        case 'SmallBalance':
          e.small++;
          assert.equal(p.args.reserve, e.reserve, where);
          break;
        case 'ChargeFailed':
          e.failed++;
          assert.equal(p.args.reserve, e.reserve, where);
          break;
        case 'InstanceEnded':
          assert.equal(p.args.refunded, e.reserve, `${where}: the refund is the unused reserve`);
          e.ended = { reason: STATUS[Number(p.args.reason)], refunded: p.args.refunded };
          e.reserve = 0n;
          break;
        default:
      }
    }
    this.logFrom = head + 1;
  }

  /** Model vs chain vs views; with full, events, ledger, sessions, claims and `runway check` too. */
  async check(when, full) {
    const t0 = Date.now();
    try {
      await this.checkOnce(when, full);
    } finally {
      this.ms.check += Date.now() - t0;
    }
  }

  async checkOnce(when, full) {
    const m = this.model;
    const c = await this.readChain();
    const db = this.readDb();
    for (const i of m.instances) {
      const v = db.instances.get(i.id);
      assert.ok(v, `${when}: ${i.label} is not in the instances view`);
      if (i.status === 'New') continue;
      const got = c.inst.get(i.label);
      const w = `${when}: ${i.label} (${i.account.label}, ${usdc(i.price)}/day)`;
      assert.deepEqual({ status: got.status, reserve: got.reserve, period: got.period, grace: got.grace > 0n },
        { status: i.status, reserve: i.reserve, period: i.period, grace: i.failedDay !== null }, `${w} on chain`);
      assert.equal(got.paidUntil, m.paidUntil(i), `${w}: paidUntil = first paidUntil + periods paid`);
      if (isLive(i.status) && i.failedDay === null) assert.ok(got.paidUntil > c.time, `${w}: a begun period left unpaid`);
      assert.deepEqual({ status: v.status, on_chain: v.on_chain, reserve: v.reserve, paid_until: v.paid_until,
        charges: v.charges, charged: v.charged, refunded: v.refunded, grace: v.grace !== null && v.grace !== '0' },
      { status: i.status, on_chain: true, reserve: String(i.reserve), paid_until: String(m.paidUntil(i)),
        charges: String(i.period + 1), charged: String(i.price * BigInt(i.period + 1)), refunded: String(i.refunded),
        grace: i.failedDay !== null }, `${w} in the instances view`);
    }
    let sumBal = 0n;
    let sumRes = 0n;
    for (const a of m.accounts) {
      assert.equal(c.bal.get(a.label), a.balance, `${when}: ${a.label}'s balance on chain`);
      const v = db.accounts.get(a.address.toLowerCase());
      const mine = m.instances.filter((i) => i.account === a);
      const reserved = mine.reduce((s, i) => s + i.reserve, 0n);
      assert.ok(v, `${when}: ${a.label} not in account_balance`);
      assert.deepEqual({ balance: v.balance, reserved: v.reserved, live: v.live },
        { balance: String(a.balance), reserved: String(reserved), live: String(mine.filter((i) => isLive(i.status)).length) },
        `${when}: ${a.label} in account_balance`);
      sumBal += a.balance;
      sumRes += reserved;
    }
    assert.equal(c.provider, m.provider, `${when}: what the provider received`);
    assert.deepEqual([c.totalBalances, c.totalReserves, c.held], [sumBal, sumRes, sumBal + sumRes],
      `${when}: the contract's totals and the tokens it holds`);
    if (!full) return;

    await this.scanLogs();
    for (const i of m.instances) {
      if (i.status === 'New') continue;
      const e = this.chainEv.get(i.id.toLowerCase());
      assert.deepEqual({ charged: e.charged, failed: e.failed, refilled: e.refilled, small: e.small, ended: e.ended },
        i.ev, `${when}: ${i.label}'s events (Charged periods, ChargeFailed, ReserveRefilled, SmallBalance, InstanceEnded)`);
    }
    for (const a of m.accounts) {
      const l = db.ledger.get(a.address.toLowerCase());
      assert.deepEqual([l.sum, l.last], [String(a.balance), String(a.balance)], `${when}: ${a.label}'s ledger sums to its balance`);
      assert.equal(db.accounts.get(a.address.toLowerCase()).pending, '0', `${when}: ${a.label}: no top-up pending`);
    }
    for (const i of m.instances) {
      if (i.status !== 'New') assert.equal(db.reserves.get(i.id), String(i.reserve), `${when}: ${i.label}'s reserve lines`);
    }
    assert.deepEqual(db.surplus, ['0'], `${when}: balances + reserves = the tokens the contract holds (mirror)`);
    for (const s of this.sessions) {
      const v = db.sessions.get(s.ref);
      assert.deepEqual({ status: v.status, stored: v.stored, flags: v.flags },
        { status: s.want, stored: s.want, flags: s.flags }, `${when}: ${s.account.label}'s session ${s.ref.slice(0, 10)}`);
    }
    assert.equal(db.sessions.size, this.sessions.length, `${when}: every session is one the customers opened`);
    assert.deepEqual([db.twice, db.early, db.minedTwice], [0, [], 0],
      `${when}: no period claimed twice, no claim early, no intent mined twice`);
    if (!this.crand || this.day % 5 === 0 || this.day === DAYS) {
      const r = this.runway(['check']);
      assert.equal(r.code, 0, `${when}: runway check\n${r.out}${r.err}`);
      assert.match(r.out, /: 0 mismatches$/m);
    }
  }

  /** The final state, by label, from the chain and the views (not the model). */
  async snapshot() {
    const c = await this.readChain();
    const db = this.readDb();
    const inst = {};
    for (const i of this.model.instances) {
      const g = c.inst.get(i.label);
      const v = db.instances.get(i.id);
      const e = this.chainEv.get(i.id.toLowerCase());
      inst[i.label] = {
        id: i.id, status: g.status, reserve: String(g.reserve), period: g.period, grace: g.grace > 0n,
        paidDays: String((g.paidUntil - e.paidUntil0) / DAY), view: [v.status, v.reserve, v.charges, v.charged, v.refunded],
        events: { charged: e.charged.join(','), failed: e.failed, refilled: e.refilled, small: e.small,
          ended: e.ended && `${e.ended.reason} ${e.ended.refunded}` },
      };
    }
    const acct = {};
    for (const a of this.model.accounts) {
      const v = db.accounts.get(a.address.toLowerCase());
      const sessions = this.q(`SELECT status, amount::text, array_to_string(flags, ',') FROM topup_sessions
        WHERE account = '${a.address.toLowerCase()}' ORDER BY created_at, ref`).map((r) => r.join(' '));
      acct[a.label] = { balance: String(c.bal.get(a.label)), view: [v.balance, v.reserved, v.live], sessions };
    }
    return { instances: inst, accounts: acct, provider: String(c.provider),
      contract: [String(c.totalBalances), String(c.totalReserves), String(c.held)] };
  }

  async run() {
    const t0 = Date.now();
    await this.up();
    await this.dayZero();
    for (let d = 1; d <= DAYS; d++) {
      await this.nextDay();
      await this.actions();
    }
    const snap = await this.snapshot();
    const st = await this.down();
    assert.deepEqual(st, { code: 0, signal: null }, 'SIGTERM stops runwayd cleanly');
    const m = this.model;
    const count = (s) => m.instances.filter((i) => i.status === s).length;
    console.log(`# sim30 ${this.tag}: ${m.accounts.length} accounts, ${m.instances.length} instances, ${DAYS} days in `
      + `${((Date.now() - t0) / 1000).toFixed(0)} s; periods charged ${m.instances.reduce((s, i) => s + i.period, 0)}, `
      + `charges failed ${m.instances.reduce((s, i) => s + i.ev.failed, 0)}, refills ${m.instances.reduce((s, i) => s + i.ev.refilled, 0)}; `
      + `${this.stats.topups} top-ups, ${this.stats.stops} stops, ${this.stats.terminations} terminations, `
      + `${this.stats.probes} confirmation probes; final: ${count('Active')} Active, ${count('SmallBalance')} SmallBalance, `
      + `${count('Stopped')} Stopped, ${count('Terminated')} Terminated, ${count('InsufficientFunds')} InsufficientFunds`
      + (this.crand ? `; runwayd killed ${this.kills.length} times` : '')
      + `; waiting for runwayd ${(this.ms.settle / 1000).toFixed(0)} s, checks ${(this.ms.check / 1000).toFixed(0)} s `
      + `(the runway CLI ${(this.ms.cli / 1000).toFixed(0)} s in all)`);
    if (this.crand) for (const k of this.kills) console.log(`#   kill: ${k}`);
    return snap;
  }
}

const worlds = [];
after(() => {
  for (const w of worlds) w.cleanup();
});

/** Runs a world; a failure carries the seed, the day and runwayd's log. */
async function simulate(tag, chaosSeed) {
  const w = new World(tag, chaosSeed);
  worlds.push(w);
  try {
    return await w.run();
  } catch (e) {
    e.message = `seed ${SEED}, ${tag} run, day ${w.day}: ${e.message}\n--- runwayd log (end) ---\n${w.logTail(6000)}`;
    throw e;
  }
}

let first = null;

test(`thirty days of billing against the model (seed ${SEED})`, { timeout: 900000 }, async () => {
  first = await simulate('calm', null);
  const m = worlds[0].model;
  // The run exercised what it is for.
  const all = m.instances;
  assert.ok(all.length >= 24 && all.length <= 40, `${all.length} instances`);
  assert.ok(all.some((i) => i.ev.small > 0), 'some instance went SmallBalance');
  if (DAYS >= 10) {
    assert.ok(all.some((i) => i.ev.refilled > 0), 'some reserve was refilled after a SmallBalance');
    assert.ok(all.some((i) => i.status === 'InsufficientFunds'), 'some account ran dry');
  }
});

test('the same seed with runwayd killed at random moments ends in the same state', { timeout: 900000 }, async () => {
  assert.ok(first, 'the first run did not finish');
  const second = await simulate('chaos', (SEED ^ 0x5bd1e995) >>> 0);
  assert.ok(worlds[1].kills.length > 0, 'runwayd was killed at least once');
  assert.deepEqual(second, first, 'the final state (chain and views) of the run with kills equals the calm run\'s');
});
