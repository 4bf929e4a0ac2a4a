// Shared helpers for the contract behaviour tests (tests/contracts/*.test.mjs).
// Each test file starts its own anvil (startChain) and deploys fresh contracts.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startAnvil, repoRoot } from '../../tools/lib/anvil.mjs';
import { ethers, connect, testWallets, increaseTime, setNextTimestamp, latestTimestamp } from '../../tools/lib/chain.mjs';
import { deployContract, loadArtifact, attach, send, waitReceipt } from '../../tools/lib/deploy.mjs';

export { ethers, connect, deployContract, loadArtifact, attach, send, increaseTime, setNextTimestamp, latestTimestamp };

export const DAY = 86400n;
export const USDC = (n) => ethers.parseUnits(String(n), 6);

/**
 * Starts a private anvil for one test file. Returns
 * { rpcUrl, provider, w: [wallets...], stop() }; call stop() in an after hook.
 */
export async function startChain() {
  const anvil = await startAnvil();
  const provider = connect(anvil.rpcUrl);
  const w = testWallets(provider, 10);
  return {
    rpcUrl: anvil.rpcUrl,
    pid: anvil.pid,
    provider,
    w,
    stop: async () => {
      provider.destroy();
      await anvil.stop();
    },
  };
}

// Every custom error selector of every artifact, plus Error(string) and Panic(uint256).
const errorBySelector = (() => {
  const map = new Map();
  for (const f of fs.readdirSync(path.join(repoRoot, 'abi')).filter((x) => x.endsWith('.json') && x !== 'events.json')) {
    const art = JSON.parse(fs.readFileSync(path.join(repoRoot, 'abi', f), 'utf8'));
    const i = new ethers.Interface(art.abi);
    i.forEachError((e) => map.set(e.selector, { iface: i, fragment: e }));
  }
  return map;
})();

function findRevertData(e) {
  for (const c of [e.data, e.info && e.info.error && e.info.error.data, e.error && e.error.data]) {
    if (typeof c === 'string' && c.startsWith('0x')) return c;
    if (c && typeof c.data === 'string') return c.data;
  }
  return null;
}

/** Decodes revert data into { name, args } ('Panic' with code, 'Error' with message). */
export function decodeRevert(data) {
  if (!data || data === '0x') return { name: '(no data)', args: [] };
  const sel = data.slice(0, 10);
  const coder = ethers.AbiCoder.defaultAbiCoder();
  if (sel === '0x4e487b71') return { name: 'Panic', args: coder.decode(['uint256'], '0x' + data.slice(10)) };
  if (sel === '0x08c379a0') return { name: 'Error', args: coder.decode(['string'], '0x' + data.slice(10)) };
  const hit = errorBySelector.get(sel);
  if (!hit) return { name: `unknown ${sel}`, args: [] };
  return { name: hit.fragment.name, args: hit.iface.decodeErrorResult(hit.fragment, data) };
}

/**
 * Awaits `promise` (a call or a transaction) and asserts it reverts with the
 * custom error `name`; optionally checks its arguments. Returns the args.
 */
export async function expectRevert(promise, name, args) {
  let err = null;
  let outcome = 'it succeeded';
  try {
    const r = await promise;
    if (r && typeof r.hash === 'string' && r.provider) {
      const receipt = await waitReceipt(r.provider, r.hash);
      outcome = `transaction ${r.hash} was mined with status ${receipt.status}`;
    }
  } catch (e) {
    err = e;
  }
  assert.ok(err, `expected revert ${name}, but ${outcome}`);
  const data = findRevertData(err);
  assert.ok(data !== null, `expected revert ${name}, got an error without revert data: ${err.message}`);
  const got = decodeRevert(data);
  assert.equal(got.name, name, `expected revert ${name}, got ${got.name}(${[...got.args].join(', ')})`);
  if (args !== undefined) assert.deepEqual([...got.args], args, `${name} arguments`);
  return got.args;
}

/** Parsed logs of `receipt` emitted by `contract` (ethers LogDescription + raw log). */
export function eventsOf(receipt, contract) {
  const target = (contract.target || '').toLowerCase();
  const out = [];
  for (const log of receipt.logs) {
    if (log.address.toLowerCase() !== target) continue;
    const parsed = contract.interface.parseLog(log);
    if (parsed) out.push(Object.assign(parsed, { log }));
  }
  return out;
}

/** Timestamp of the block a receipt was mined in. */
export async function blockTime(provider, receipt) {
  const b = await provider.getBlock(receipt.blockNumber);
  return BigInt(b.timestamp);
}

export const Status = { None: 0n, Active: 1n, SmallBalance: 2n, Stopped: 3n, Terminated: 4n, InsufficientFunds: 5n };
const statusName = Object.fromEntries(Object.entries(Status).map(([k, v]) => [v, k]));

/**
 * A mirror of one Balance contract rebuilt from its events alone, the way an
 * indexer would. apply() checks each event's "after" fields against the state
 * derived so far; check() compares the whole mirror with the contract's
 * getters and asserts sum(balances) + sum(reserves) == token.balanceOf(Balance).
 */
export class BalanceMirror {
  constructor(balance, token) {
    this.balance = balance;
    this.token = token;
    this.balances = new Map(); // account (lowercase) -> bigint
    this.instances = new Map(); // id -> { account, provider, price, reserve, paidUntil, period, status, graceUntil }
    this.ledger = []; // { account, kind, amount, balanceAfter, id?, reserveAfter? }
    this.treasuryIn = 0n;
    this.providerPaid = new Map();
  }

  bal(a) {
    return this.balances.get(a.toLowerCase()) || 0n;
  }

  setBal(a, v) {
    this.balances.set(a.toLowerCase(), v);
  }

  inst(id) {
    const it = this.instances.get(id);
    assert.ok(it, `event for an instance the mirror never saw created: ${id}`);
    return it;
  }

  line(account, kind, amount, balanceAfter, extra = {}) {
    this.ledger.push({ account: account.toLowerCase(), kind, amount, balanceAfter, ...extra });
  }

  /** Applies every Balance event of a receipt, in log order. */
  applyReceipt(receipt) {
    const evs = eventsOf(receipt, this.balance);
    for (const ev of evs) this.apply(ev);
    return evs;
  }

  apply(ev) {
    const a = ev.args;
    switch (ev.name) {
      case 'Deposited': {
        assert.equal(a.balanceAfter, this.bal(a.account) + a.amount, 'Deposited.balanceAfter');
        this.setBal(a.account, a.balanceAfter);
        this.treasuryIn += a.tax;
        this.line(a.account, 'deposit', a.amount, a.balanceAfter, { tax: a.tax, ref: a.ref });
        break;
      }
      case 'Credited': {
        assert.equal(a.balanceAfter, this.bal(a.account) + a.amount, 'Credited.balanceAfter');
        this.setBal(a.account, a.balanceAfter);
        this.line(a.account, 'credit', a.amount, a.balanceAfter, { ref: a.ref });
        break;
      }
      case 'Refunded': {
        assert.equal(a.balanceAfter, this.bal(a.account) - a.amount, 'Refunded.balanceAfter');
        this.setBal(a.account, a.balanceAfter);
        this.line(a.account, 'refund', -a.amount, a.balanceAfter, { ref: a.ref, to: a.to });
        break;
      }
      case 'InstanceCreated': {
        assert.ok(!this.instances.has(a.id), 'InstanceCreated for a known id');
        assert.equal(a.paid, a.pricePerDay, 'InstanceCreated.paid is one day');
        assert.equal(a.reserve, a.pricePerDay, 'InstanceCreated.reserve is one day');
        assert.equal(a.balanceAfter, this.bal(a.account) - a.paid - a.reserve, 'InstanceCreated.balanceAfter');
        this.setBal(a.account, a.balanceAfter);
        this.instances.set(a.id, {
          account: a.account.toLowerCase(),
          provider: a.provider.toLowerCase(),
          price: a.pricePerDay,
          reserve: a.reserve,
          paidUntil: a.paidUntil,
          period: 0n,
          status: Status.Active,
          graceUntil: 0n,
        });
        this.paid(a.provider, a.paid);
        this.line(a.account, 'charge', -a.paid, a.balanceAfter + a.reserve, { id: a.id, period: 0n });
        this.line(a.account, 'reserve', -a.reserve, a.balanceAfter, { id: a.id, reserveAfter: a.reserve });
        break;
      }
      case 'Charged': {
        const it = this.inst(a.id);
        assert.ok(it.status === Status.Active, `Charged while ${statusName[it.status]}`);
        assert.equal(a.period, it.period + 1n, 'Charged.period');
        assert.equal(a.amount, it.price, 'Charged.amount');
        assert.equal(a.reserveAfter, it.reserve - a.amount, 'Charged.reserveAfter');
        assert.equal(a.paidUntil, it.paidUntil + DAY, 'Charged.paidUntil');
        Object.assign(it, { reserve: a.reserveAfter, paidUntil: a.paidUntil, period: a.period, graceUntil: 0n });
        this.paid(a.provider, a.amount);
        this.line(a.account, 'charge', -a.amount, this.bal(a.account), { id: a.id, period: a.period, reserveAfter: a.reserveAfter });
        break;
      }
      case 'ReserveRefilled': {
        const it = this.inst(a.id);
        assert.equal(a.reserveAfter, it.reserve + a.amount, 'ReserveRefilled.reserveAfter');
        assert.equal(a.reserveAfter, it.price, 'ReserveRefilled fills to one day');
        assert.equal(a.balanceAfter, this.bal(a.account) - a.amount, 'ReserveRefilled.balanceAfter');
        it.reserve = a.reserveAfter;
        it.status = Status.Active;
        this.setBal(a.account, a.balanceAfter);
        this.line(a.account, 'reserve', -a.amount, a.balanceAfter, { id: a.id, reserveAfter: a.reserveAfter });
        break;
      }
      case 'SmallBalance': {
        const it = this.inst(a.id);
        assert.equal(a.reserve, it.reserve, 'SmallBalance.reserve');
        assert.equal(a.balanceAfter, this.bal(a.account), 'SmallBalance.balanceAfter');
        assert.ok(a.balanceAfter < it.price - it.reserve, 'SmallBalance only when the balance cannot refill');
        it.status = Status.SmallBalance;
        break;
      }
      case 'ChargeFailed': {
        const it = this.inst(a.id);
        assert.equal(a.period, it.period + 1n, 'ChargeFailed.period');
        assert.equal(a.reserve, it.reserve, 'ChargeFailed.reserve');
        assert.equal(it.graceUntil, 0n, 'ChargeFailed twice for one failure');
        it.graceUntil = a.graceUntil;
        break;
      }
      case 'InstanceEnded': {
        const it = this.inst(a.id);
        assert.equal(a.refunded, it.reserve, 'InstanceEnded.refunded is the unused reserve');
        assert.equal(a.balanceAfter, this.bal(a.account) + a.refunded, 'InstanceEnded.balanceAfter');
        Object.assign(it, { reserve: 0n, status: a.reason, graceUntil: 0n });
        this.setBal(a.account, a.balanceAfter);
        this.line(a.account, 'release', a.refunded, a.balanceAfter, { id: a.id, reason: a.reason });
        break;
      }
      default:
        break; // administration events carry no money
    }
  }

  paid(provider, amount) {
    const k = provider.toLowerCase();
    this.providerPaid.set(k, (this.providerPaid.get(k) || 0n) + amount);
  }

  /** Compares the mirror with the chain (latest block) and checks the invariant. */
  async check() {
    let sumBal = 0n;
    for (const [acct, v] of this.balances) {
      assert.equal(await this.balance.balances(acct), v, `balance of ${acct}`);
      sumBal += v;
    }
    let sumRes = 0n;
    for (const [id, it] of this.instances) {
      const c = await this.balance.getInstance(id);
      assert.equal(c.account.toLowerCase(), it.account, `account of ${id}`);
      assert.equal(c.provider.toLowerCase(), it.provider, `provider of ${id}`);
      assert.equal(c.pricePerDay, it.price, `price of ${id}`);
      assert.equal(c.reserve, it.reserve, `reserve of ${id}`);
      assert.equal(c.paidUntil, it.paidUntil, `paidUntil of ${id}`);
      assert.equal(c.period, it.period, `period of ${id}`);
      assert.equal(BigInt(c.status), it.status, `status of ${id}: chain ${statusName[BigInt(c.status)]}, mirror ${statusName[it.status]}`);
      assert.equal(await this.balance.graceUntil(id), it.graceUntil, `graceUntil of ${id}`);
      sumRes += it.reserve;
    }
    const held = await this.token.balanceOf(this.balance.target);
    assert.equal(sumBal + sumRes, held, 'sum(balances) + sum(reserves) == token.balanceOf(Balance)');
    assert.equal(await this.balance.totalBalances(), sumBal, 'totalBalances');
    assert.equal(await this.balance.totalReserves(), sumRes, 'totalReserves');
  }
}

/**
 * Fresh USDC + Balance (min 10 USDC, cap 5000 USDC, grace `grace` s) with an
 * operator, users funded and approved. Roles by wallet index:
 * 0 owner, 1 operator, 2 treasury, 3 provider, 4 user1, 5 user2, 6 stranger, 7 provider2.
 * `run(tx)` sends a transaction, feeds its events to the mirror and checks the
 * mirror against the chain (and the money invariant) after every transaction.
 */
export async function balanceFixture(chain, { grace = DAY } = {}) {
  const [owner, operator, treasury, provider, user1, user2, stranger, provider2] = chain.w;
  const usdc = (await deployContract(owner, 'TestToken', ['USD Coin (test)', 'USDC', 6])).contract;
  const balance = (await deployContract(owner, 'Balance',
    [usdc.target, treasury.address, USDC(10), USDC(5000), grace])).contract;
  await send(balance.setOperator(operator.address, true));
  for (const u of [user1, user2, operator, stranger]) {
    await send(usdc.mint(u.address, USDC(20000)));
    await send(usdc.connect(u).approve(balance.target, ethers.MaxUint256));
  }
  const mirror = new BalanceMirror(balance, usdc);
  const run = async (txPromise) => {
    const receipt = await send(txPromise);
    const events = mirror.applyReceipt(receipt);
    await mirror.check();
    return { receipt, events, names: events.map((e) => e.name) };
  };
  return { usdc, balance, mirror, run, owner, operator, treasury, provider, user1, user2, stranger, provider2 };
}
