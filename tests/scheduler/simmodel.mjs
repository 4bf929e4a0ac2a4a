// simmodel.mjs: the independent model the thirty-day simulation
// (sim30.test.mjs) checks runway against, and the plan of what customers do.
//
// The model is written from the Balance contract's rules (abi/README.md,
// shared/DESIGN.md 1.2) and the scheduler's promise (README, Daily charges),
// not from runway's SQL:
//   - a new day's block makes one more period of every live instance begin;
//     the keeper charges every live instance once, oldest paidUntil first
//     (then instance id), in one pass;
//   - charge(id): refill a short reserve, then pay each begun period from the
//     reserve and refill after it; a period the reserve cannot pay fails: the
//     first failure starts the grace period (one day), a failure after a later
//     day's block ends the instance InsufficientFunds, its reserve returned;
//   - money reaching an account (a deposit, a returned reserve) makes the
//     keeper charge its failed periods and then refill its short reserves, in
//     the same order, at once;
//   - stop and terminate pay what has begun, then return the reserve.
// It counts the events the chain must show (Charged periods, ChargeFailed,
// ReserveRefilled, SmallBalance, InstanceEnded) per instance.
//
// Times: the plan keeps every day's work well inside one day of chain time,
// so "a period has begun" is "a day's block came since it was paid"; the
// absolute paidUntil (read from the chain at creation) only orders instances.
//
// The plan is a function of the seed and the model alone, so two runs of one
// seed do the same things in the same order whatever the timing.

import { prng } from '../../tools/lib/prng.mjs';

export const DAY = 86400n;
export const U = 1_000_000n; // one USDC
export const MIN_DEPOSIT = 10n * U;
export const MAX_BALANCE = 5000n * U;

/** A small deterministic PRNG (mulberry32): numbers in [0, 1). */
export { prng };

export const isLive = (s) => s === 'Active' || s === 'SmallBalance';

/** An amount of whole cents from lo to hi USDC (base units). */
function cents(rand, lo, hi) {
  return BigInt(Math.round((lo + rand() * (hi - lo)) * 100)) * 10_000n;
}

export class Model {
  constructor() {
    this.accounts = []; // { label, address, kind, balance }
    this.instances = []; // see create()
    this.provider = 0n; // paid to the provider so far
  }

  account(label) {
    return this.accounts.find((a) => a.label === label);
  }

  instance(label) {
    return this.instances.find((i) => i.label === label);
  }

  paidUntil(i) {
    return i.paidUntil0 + BigInt(i.period) * DAY;
  }

  /** Instances in the keeper's order: oldest paidUntil first, then id. */
  order(list) {
    return [...list].sort((x, y) => {
      const px = this.paidUntil(x);
      const py = this.paidUntil(y);
      if (px !== py) return px < py ? -1 : 1;
      return x.id < y.id ? -1 : x.id > y.id ? 1 : 0;
    });
  }

  addAccount(label, address, kind) {
    const a = { label, address, kind, balance: 0n };
    this.accounts.push(a);
    return a;
  }

  /** Recorded (New); on chain once created() is called. */
  addInstance(label, id, account, price) {
    const i = {
      label, id, account, price, status: 'New', reserve: 0n, period: 0, due: 0, failedDay: null,
      refunded: 0n, paidUntil0: null, ev: { charged: [], failed: 0, refilled: 0, small: 0, ended: null },
    };
    this.instances.push(i);
    return i;
  }

  /** createInstance mined: two days from the balance, day 0 paid, one in reserve. */
  created(i, paidUntil0) {
    const a = i.account;
    if (a.balance < 2n * i.price) throw new Error(`model: ${i.label} cannot be created (${a.label} holds ${a.balance})`);
    a.balance -= 2n * i.price;
    this.provider += i.price;
    i.reserve = i.price;
    i.status = 'Active';
    i.paidUntil0 = paidUntil0;
  }

  tryRefill(i) {
    if (i.reserve >= i.price) return true;
    const need = i.price - i.reserve;
    const a = i.account;
    if (a.balance >= need) {
      a.balance -= need;
      i.reserve = i.price;
      i.status = 'Active';
      i.ev.refilled++;
      return true;
    }
    if (i.status !== 'SmallBalance') {
      i.status = 'SmallBalance';
      i.ev.small++;
    }
    return false;
  }

  /** charge([id]) on `day`. */
  settle(i, day) {
    if (!isLive(i.status)) return;
    if (i.reserve < i.price) this.tryRefill(i);
    while (i.due > 0) {
      if (i.reserve < i.price) {
        this.fail(i, day);
        break;
      }
      i.reserve -= i.price;
      i.due--;
      i.period++;
      i.failedDay = null;
      this.provider += i.price;
      i.ev.charged.push(i.period);
      this.tryRefill(i);
    }
  }

  fail(i, day) {
    if (i.failedDay === null) {
      i.failedDay = day;
      i.ev.failed++;
    }
    if (day > i.failedDay) this.end(i, 'InsufficientFunds');
  }

  end(i, reason) {
    const back = i.reserve;
    i.account.balance += back;
    i.reserve = 0n;
    i.status = reason;
    i.failedDay = null;
    i.due = 0;
    i.refunded = back;
    i.ev.ended = { reason, refunded: back };
  }

  /** A new day's block: a period begins for every live instance; all are charged. */
  dayBlock(day) {
    const live = this.instances.filter((i) => isLive(i.status));
    for (const i of live) i.due++;
    for (const i of this.order(live)) this.settle(i, day);
  }

  /** Money reached account a: its failed periods charged, then its short reserves refilled. */
  money(a, day) {
    const mine = this.instances.filter((i) => i.account === a && isLive(i.status));
    const charges = this.order(mine.filter((i) => i.due > 0));
    const refills = this.order(mine.filter((i) => i.due === 0 && i.reserve < i.price));
    for (const i of charges) this.settle(i, day);
    for (const i of refills) if (isLive(i.status) && i.reserve < i.price) this.tryRefill(i);
  }

  deposit(a, amount, day) {
    a.balance += amount;
    this.money(a, day);
  }

  /** stopInstance / terminateInstance. */
  stop(i, reason, day) {
    this.settle(i, day);
    if (isLive(i.status)) this.end(i, reason);
    if (i.refunded > 0n) this.money(i.account, day);
  }

  /** Sum of the prices of an account's live instances. */
  burn(a) {
    return this.instances.filter((i) => i.account === a && isLive(i.status)).reduce((s, i) => s + i.price, 0n);
  }

  inGrace(a) {
    return this.instances.some((i) => i.account === a && isLive(i.status) && i.due > 0);
  }

  short(a) {
    return this.instances.some((i) => i.account === a && isLive(i.status) && (i.due > 0 || i.reserve < i.price));
  }
}

/**
 * What the customers of a world do: account kinds, first top-ups and
 * instances on day 0, then day by day top-ups, stops, terminations and new
 * instances. Each account gets at most one money event a day (a top-up, a
 * late deposit, a stop that returns a reserve) and no new instance on such a
 * day, so the order in which the keeper sees the day's events cannot change
 * what the chain ends with.
 */
export class Planner {
  constructor(seed, days) {
    this.rand = prng(seed);
    this.days = days;
    const r = this.rand;
    this.nAccounts = 12 + Math.floor(r() * 9); // 12..20
    this.maxInstances = Math.min(40, Math.max(24, Math.round(this.nAccounts * (1.6 + r() * 0.6))));
    this.kinds = [];
    for (let k = 0; k < this.nAccounts; k++) {
      // at least two accounts of each kind; the rest mostly steady
      const kind = k < 2 ? 'dry' : k < 4 ? 'sporadic' : r() < 0.7 ? 'steady' : r() < 0.5 ? 'sporadic' : 'dry';
      this.kinds.push(kind);
    }
    this.nextInstance = 0;
  }

  pick(list) {
    return list[Math.floor(this.rand() * list.length)];
  }

  price() {
    return cents(this.rand, 1, 12);
  }

  /** First top-up of each account (base units). */
  firstTopUp(kind) {
    const r = this.rand;
    if (kind === 'steady') return cents(r, 60, 250);
    if (kind === 'sporadic') return cents(r, 30, 120);
    return cents(r, 15, 45);
  }

  /**
   * Day 0's instances, in rounds of at most one per account: [[{ account,
   * price }]]; the model's balances say who can pay two days.
   */
  initialRounds(model) {
    const rounds = [];
    const share = [1, 0.6, 0.35];
    const balance = new Map(model.accounts.map((a) => [a, a.balance]));
    let n = 0;
    for (const p of share) {
      const round = [];
      for (const a of model.accounts) {
        if (n >= this.maxInstances - 4) break;
        if (this.rand() >= p) continue;
        const price = this.price();
        if (balance.get(a) < 2n * price) continue;
        balance.set(a, balance.get(a) - 2n * price);
        round.push({ account: a, price });
        n++;
      }
      rounds.push(round);
    }
    return rounds;
  }

  /**
   * Day d's actions from the model after the day's charges:
   * { topups: [{ account, amount }], stops: [{ instance, reason }],
   *   creates: [{ account, price }] }.
   */
  day(model, d) {
    const r = this.rand;
    const touched = new Set();
    const topups = [];
    for (const a of model.accounts) {
      const burn = model.burn(a);
      const grace = model.inGrace(a);
      const x = r();
      let amount = 0n;
      if (a.kind === 'steady') {
        if (burn > 0n && (a.balance < (burn * 5n) / 2n || grace)) {
          amount = (burn * BigInt(300 + Math.floor(x * 500))) / 100n;
        }
      } else if (a.kind === 'sporadic') {
        if (x < 0.2 || (grace && x < 0.5)) amount = cents(r, 10, 80);
      } else if (grace && x < 0.3) {
        amount = cents(r, 10, 20); // a late rescue, perhaps too small
      }
      if (amount === 0n) continue;
      if (amount < MIN_DEPOSIT) amount = MIN_DEPOSIT;
      amount = (amount / 10_000n) * 10_000n; // whole cents
      if (a.balance + amount > MAX_BALANCE) continue;
      topups.push({ account: a, amount });
      touched.add(a);
    }
    const stops = [];
    for (const i of model.instances) {
      if (!isLive(i.status) || touched.has(i.account)) continue;
      if (r() < 0.012) {
        stops.push({ instance: i, reason: r() < 0.35 ? 'Terminated' : 'Stopped' });
        touched.add(i.account);
      }
    }
    const creates = [];
    if (d <= Math.floor((this.days * 3) / 4)) {
      for (const a of model.accounts) {
        if (touched.has(a) || model.instances.length + creates.length >= this.maxInstances) continue;
        if (r() >= 0.08) continue;
        const price = this.price();
        if (a.balance < 2n * price + price) continue; // two days and something left
        creates.push({ account: a, price });
        touched.add(a);
      }
    }
    return { topups, stops, creates, touched };
  }

  /** An account not in `touched` (by label order), or null; `ok` filters. */
  untouched(model, touched, ok = () => true) {
    const free = model.accounts.filter((a) => !touched.has(a) && ok(a));
    return free.length ? this.pick(free) : null;
  }
}
