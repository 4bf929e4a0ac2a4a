// Balance: instance billing (creation, daily charge, refills, SmallBalance,
// failed charges and grace, stop/terminate). Every transaction goes through
// the event mirror (helpers.mjs), which checks each event's "after" fields,
// the getters and sum(balances) + sum(reserves) == token.balanceOf(Balance).

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ethers, startChain, balanceFixture, expectRevert, setNextTimestamp, latestTimestamp, USDC, DAY, Status,
} from './helpers.mjs';

let chain;
before(async () => {
  chain = await startChain();
});
after(async () => {
  if (chain) await chain.stop();
});

const REF = (s) => ethers.id(`session:${s}`);
const ID = (s) => ethers.id(`instance:${s}`);
// Gas is given explicitly for time-dependent calls: an estimate made at another
// block time could plan for fewer periods than the call will pay.
const GAS = { gasLimit: 8_000_000n };

/** Sends `fn()` in a block with exactly timestamp `ts`, through the mirror. */
async function at(f, ts, fn) {
  await setNextTimestamp(chain.rpcUrl, Number(ts));
  return f.run(fn());
}

async function nextTime(gap = 10n) {
  return BigInt(await latestTimestamp(chain.rpcUrl)) + gap;
}

async function providerGot(f, who) {
  assert.equal(await f.usdc.balanceOf(who.address), f.mirror.providerPaid.get(who.address.toLowerCase()) || 0n,
    'provider receipts equal the charges in the events');
  return f.usdc.balanceOf(who.address);
}

test('createInstance deducts two days: one paid to the provider at once, one kept as reserve', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = 1_500_000n;
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(100), 0n, REF(1)));

  const T0 = await nextTime();
  const { events } = await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('a'), u, f.provider.address, price));
  assert.equal(events.length, 1);
  const a = events[0].args;
  assert.equal(events[0].name, 'InstanceCreated');
  assert.deepEqual([...a], [ID('a'), u, f.provider.address, price, price, price, T0 + DAY, USDC(100) - 2n * price]);
  assert.equal(await providerGot(f, f.provider), price, 'period 0 paid at once');
  const it = await f.balance.getInstance(ID('a'));
  assert.equal(it.reserve, price);
  assert.equal(it.paidUntil, T0 + DAY, 'own 24-hour period from activation');
  assert.equal(it.status, Status.Active);
  assert.equal(it.period, 0n);
  assert.equal(await f.balance.isDue(ID('a')), false);

  // The account itself may create; strangers may not create for it.
  await f.run(f.balance.connect(f.user1).createInstance(ID('b'), u, f.provider2.address, price));
  await expectRevert(f.balance.connect(f.stranger).createInstance(ID('c'), u, f.provider.address, price),
    'NotAuthorized', [f.stranger.address, ID('c')]);
  await expectRevert(f.balance.connect(f.user2).createInstance(ID('c'), u, f.provider.address, price), 'NotAuthorized');
  // Bad input.
  await expectRevert(f.balance.connect(f.operator).createInstance(ID('a'), u, f.provider.address, price),
    'InstanceExists', [ID('a')]);
  await expectRevert(f.balance.connect(f.operator).createInstance(ethers.ZeroHash, u, f.provider.address, price),
    'InvalidInstance');
  await expectRevert(f.balance.connect(f.operator).createInstance(ID('c'), u, f.provider.address, 0n), 'ZeroAmount');
  await expectRevert(f.balance.connect(f.operator).createInstance(ID('c'), u, ethers.ZeroAddress, price), 'ZeroAddress');
  await expectRevert(f.balance.connect(f.operator).createInstance(ID('c'), f.user2.address, f.provider.address, price),
    'InsufficientBalance', [f.user2.address, 0n, 2n * price]);
  // Exactly two days of balance is enough and leaves zero.
  await f.run(f.balance.connect(f.user2).deposit(f.user2.address, USDC(10), 0n, REF(2)));
  await f.run(f.balance.connect(f.operator).createInstance(ID('d'), f.user2.address, f.provider.address, USDC(5)));
  assert.equal(await f.balance.balances(f.user2.address), 0n);
});

test('charge: nothing before the period ends, one period when it does, idempotent after', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(2);
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(100), 0n, REF(1)));
  const T0 = await nextTime();
  await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('x'), u, f.provider.address, price));
  await at(f, T0 + 100n, () => f.balance.connect(f.operator).createInstance(ID('later'), u, f.provider.address, price));

  // One second before the end of period 0: nothing happens.
  let r = await at(f, T0 + DAY - 1n, () => f.balance.connect(f.stranger).charge([ID('x')], GAS));
  assert.deepEqual(r.names, []);

  // At the end: period 1 is paid from the reserve, the reserve is refilled.
  r = await at(f, T0 + DAY, () => f.balance.connect(f.stranger).charge([ID('x'), ID('later')], GAS));
  assert.deepEqual(r.names, ['Charged', 'ReserveRefilled'], 'only the due instance is charged');
  assert.deepEqual([...r.events[0].args], [ID('x'), u, f.provider.address, 1n, price, 0n, T0 + 2n * DAY]);
  assert.deepEqual([...r.events[1].args], [ID('x'), u, price, price, USDC(100) - 5n * price]);
  assert.equal(await providerGot(f, f.provider), 3n * price);

  // Same period again, from anyone, any number of times: nothing.
  r = await at(f, T0 + DAY + 100n, () => f.balance.connect(f.user2).charge([ID('x')], GAS));
  assert.deepEqual(r.names, []);
  r = await f.run(f.balance.charge([ID('x'), ID('x'), ID('nope'), ethers.ZeroHash], GAS));
  assert.deepEqual(r.names, [], 'unknown ids and repeats are skipped, the batch does not revert');
  assert.equal((await f.balance.getInstance(ID('x'))).period, 1n);

  // An ended instance in a batch is skipped too.
  await f.run(f.balance.connect(f.user1).stopInstance(ID('later')));
  r = await at(f, T0 + 2n * DAY, () => f.balance.charge([ID('later'), ID('x'), ID('later')], GAS));
  assert.deepEqual(r.names, ['Charged', 'ReserveRefilled']);
  assert.equal(r.events[0].args.period, 2n);
  assert.equal(r.events[0].args.paidUntil, T0 + 3n * DAY);
  // The return value counts paid periods (0 now).
  assert.equal(await f.balance.charge.staticCall([ID('x'), ID('later')]), 0n);
});

test('charge catches up on missed periods, at most MAX_PERIODS_PER_CHARGE per call', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(1);
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(100), 0n, REF(1)));
  const T0 = await nextTime();
  await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('m'), u, f.provider.address, price));

  // Three and a half days later: periods 1, 2 and 3 are paid in one call.
  let r = await at(f, T0 + 3n * DAY + DAY / 2n, () => f.balance.charge([ID('m')], GAS));
  assert.deepEqual(r.names, ['Charged', 'ReserveRefilled', 'Charged', 'ReserveRefilled', 'Charged', 'ReserveRefilled']);
  assert.deepEqual(r.events.filter((e) => e.name === 'Charged').map((e) => [e.args.period, e.args.paidUntil]), [
    [1n, T0 + 2n * DAY], [2n, T0 + 3n * DAY], [3n, T0 + 4n * DAY]]);
  assert.equal(await f.balance.balances(u), USDC(100) - 5n * price);

  // Forty missed days: 30 in the first call, the other 10 in the next one.
  const late = T0 + 4n * DAY + 39n * DAY + 1n;
  r = await at(f, late, () => f.balance.charge([ID('m')], GAS));
  const charged1 = r.events.filter((e) => e.name === 'Charged');
  assert.equal(charged1.length, 30);
  assert.equal(charged1.at(-1).args.period, 33n);
  assert.equal(await f.balance.isDue(ID('m')), true);
  r = await at(f, late + 1n, () => f.balance.charge([ID('m')], GAS));
  const charged2 = r.events.filter((e) => e.name === 'Charged');
  assert.equal(charged2.length, 10);
  assert.equal(charged2.at(-1).args.period, 43n);
  assert.equal(charged2.at(-1).args.paidUntil, T0 + 44n * DAY);
  assert.equal(await f.balance.isDue(ID('m')), false);
  r = await at(f, late + 2n, () => f.balance.charge([ID('m')], GAS));
  assert.deepEqual(r.names, []);
  assert.equal(await providerGot(f, f.provider), 44n * price);
  assert.equal(await f.balance.balances(u), USDC(100) - 45n * price);
});

test('SmallBalance: the instance keeps running on what is paid; refill after a deposit', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(5);
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(10), 0n, REF(1)));
  const T0 = await nextTime();
  await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('s'), u, f.provider.address, price));
  assert.equal(await f.balance.balances(u), 0n);

  let r = await at(f, T0 + DAY, () => f.balance.charge([ID('s')], GAS));
  assert.deepEqual(r.names, ['Charged', 'SmallBalance']);
  assert.deepEqual([...r.events[1].args], [ID('s'), u, 0n, 0n]);
  let it = await f.balance.getInstance(ID('s'));
  assert.equal(it.status, Status.SmallBalance);
  assert.equal(it.paidUntil, T0 + 2n * DAY, 'period 1 was paid: it keeps running');
  assert.equal(await f.balance.isDue(ID('s')), false);

  // Retrying without money: no event, no change (SmallBalance is reported once).
  assert.equal(await f.balance.refill.staticCall([ID('s')]), 0n);
  r = await f.run(f.balance.connect(f.stranger).refill([ID('s')], GAS));
  assert.deepEqual(r.names, []);
  r = await f.run(f.balance.charge([ID('s')], GAS));
  assert.deepEqual(r.names, []);

  // A deposit, then anyone's refill, restores the reserve and the status.
  await f.run(f.balance.connect(f.user2).deposit(u, USDC(12), 0n, REF(2)));
  assert.equal(await f.balance.refill.staticCall([ID('s'), ID('none')]), 1n);
  r = await f.run(f.balance.connect(f.stranger).refill([ID('s'), ID('none')], GAS));
  assert.deepEqual(r.names, ['ReserveRefilled']);
  assert.deepEqual([...r.events[0].args], [ID('s'), u, price, price, USDC(7)]);
  it = await f.balance.getInstance(ID('s'));
  assert.equal(it.status, Status.Active);
  r = await f.run(f.balance.refill([ID('s')], GAS));
  assert.deepEqual(r.names, [], 'refilling a full reserve does nothing');

  // A second instance: a later charge (not due) retries the refill by itself.
  await f.run(f.balance.connect(f.user2).deposit(f.user2.address, USDC(10), 0n, REF(3)));
  const T1 = await nextTime();
  await at(f, T1, () => f.balance.connect(f.operator).createInstance(ID('t'), f.user2.address, f.provider.address, price));
  r = await at(f, T1 + DAY, () => f.balance.charge([ID('t')], GAS));
  assert.deepEqual(r.names, ['Charged', 'SmallBalance']);
  await f.run(f.balance.connect(f.user2).deposit(f.user2.address, USDC(10), 0n, REF(4)));
  r = await at(f, T1 + DAY + 60n, () => f.balance.charge([ID('t')], GAS));
  assert.deepEqual(r.names, ['ReserveRefilled'], 'not due: only the refill');
  assert.equal((await f.balance.getInstance(ID('t'))).status, Status.Active);
  assert.equal((await f.balance.getInstance(ID('t'))).period, 1n);
});

test('a failed charge ends the instance as InsufficientFunds after the grace period, not before', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(5);
  const grace = await f.balance.gracePeriod();
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(10), 0n, REF(1)));
  const T0 = await nextTime();
  await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('f'), u, f.provider.address, price));
  await at(f, T0 + DAY, () => f.balance.charge([ID('f')], GAS)); // period 1 paid, SmallBalance
  // Some money arrives, but less than a day: it stays in the balance.
  await f.run(f.balance.connect(f.operator).credit(u, USDC(3), REF('promo')));

  const Tf = T0 + 2n * DAY + 30n;
  let r = await at(f, Tf, () => f.balance.charge([ID('f')], GAS));
  assert.deepEqual(r.names, ['ChargeFailed']);
  assert.deepEqual([...r.events[0].args], [ID('f'), u, 2n, 0n, Tf + grace]);
  assert.equal(await f.balance.graceUntil(ID('f')), Tf + grace);
  let it = await f.balance.getInstance(ID('f'));
  assert.equal(it.status, Status.SmallBalance, 'still running during the grace period');
  assert.equal(it.failedAt, Tf);
  assert.equal(await f.balance.isDue(ID('f')), true);

  // During grace: repeated charges and refills change nothing.
  r = await at(f, Tf + 3600n, () => f.balance.charge([ID('f')], GAS));
  assert.deepEqual(r.names, []);
  r = await f.run(f.balance.refill([ID('f')], GAS));
  assert.deepEqual(r.names, []);
  r = await at(f, Tf + grace - 1n, () => f.balance.charge([ID('f')], GAS));
  assert.deepEqual(r.names, [], 'one second before the grace period ends: still alive');
  assert.equal((await f.balance.getInstance(ID('f'))).status, Status.SmallBalance);

  // At the end of grace: ended, the (empty) reserve returned, the balance kept.
  r = await at(f, Tf + grace, () => f.balance.connect(f.stranger).charge([ID('f')], GAS));
  assert.deepEqual(r.names, ['InstanceEnded']);
  assert.deepEqual([...r.events[0].args], [ID('f'), u, Status.InsufficientFunds, 0n, USDC(3)]);
  it = await f.balance.getInstance(ID('f'));
  assert.equal(it.status, Status.InsufficientFunds);
  assert.equal(await f.balance.graceUntil(ID('f')), 0n);
  assert.equal(await f.balance.isDue(ID('f')), false);
  assert.equal(await f.balance.balances(u), USDC(3));
  r = await f.run(f.balance.charge([ID('f')], GAS));
  assert.deepEqual(r.names, []);
  await expectRevert(f.balance.connect(f.user1).stopInstance(ID('f')), 'InstanceNotLive', [ID('f'), Status.InsufficientFunds]);
  await expectRevert(f.balance.connect(f.provider).terminateInstance(ID('f')), 'InstanceNotLive');
  assert.equal(await providerGot(f, f.provider), 2n * price);
});

test('a deposit during grace rescues the instance: the late period is paid', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(5);
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(10), 0n, REF(1)));
  const T0 = await nextTime();
  await at(f, T0, () => f.balance.connect(f.operator).createInstance(ID('g'), u, f.provider.address, price));
  await at(f, T0 + DAY, () => f.balance.charge([ID('g')], GAS));
  let r = await at(f, T0 + 2n * DAY + 10n, () => f.balance.charge([ID('g')], GAS));
  assert.deepEqual(r.names, ['ChargeFailed']);
  await at(f, T0 + 2n * DAY + 100n, () => f.balance.connect(f.user1).deposit(u, USDC(20), 0n, REF(2)));
  r = await at(f, T0 + 2n * DAY + 200n, () => f.balance.charge([ID('g')], GAS));
  assert.deepEqual(r.names, ['ReserveRefilled', 'Charged', 'ReserveRefilled']);
  const charged = r.events[1].args;
  assert.equal(charged.period, 2n);
  assert.equal(charged.paidUntil, T0 + 3n * DAY, 'periods stay aligned to activation');
  const it = await f.balance.getInstance(ID('g'));
  assert.equal(it.status, Status.Active);
  assert.equal(it.failedAt, 0n);
  assert.equal(await f.balance.graceUntil(ID('g')), 0n);
  assert.equal(await f.balance.balances(u), USDC(10));
  // A later failure starts a new grace period from its own time.
  await f.run(f.balance.connect(f.operator).refund(u, u, USDC(10), REF('out')));
  r = await at(f, T0 + 3n * DAY, () => f.balance.charge([ID('g')], GAS));
  assert.deepEqual(r.names, ['Charged', 'SmallBalance']);
  r = await at(f, T0 + 4n * DAY + 5n, () => f.balance.charge([ID('g')], GAS));
  assert.deepEqual(r.names, ['ChargeFailed']);
  assert.equal(r.events[0].args.graceUntil, T0 + 5n * DAY + 5n);
});

test('stop (account) and terminate (provider) return the unused reserve', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  const price = USDC(2);
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(100), 0n, REF(1)));
  const T0 = await nextTime();
  for (const n of ['s1', 's2', 't1', 't2']) {
    await at(f, T0 + BigInt(['s1', 's2', 't1', 't2'].indexOf(n)), () =>
      f.balance.connect(f.operator).createInstance(ID(n), u, f.provider.address, price));
  }
  assert.equal(await f.balance.balances(u), USDC(100) - 8n * price);

  // Stop: the account, or an operator for it; not the provider, not strangers.
  await expectRevert(f.balance.connect(f.stranger).stopInstance(ID('s1')), 'NotAuthorized', [f.stranger.address, ID('s1')]);
  await expectRevert(f.balance.connect(f.provider).stopInstance(ID('s1')), 'NotAuthorized');
  let r = await at(f, T0 + 3n * 3600n, () => f.balance.connect(f.user1).stopInstance(ID('s1')));
  assert.deepEqual(r.names, ['InstanceEnded']);
  assert.deepEqual([...r.events[0].args], [ID('s1'), u, Status.Stopped, price, USDC(100) - 7n * price]);
  assert.equal((await f.balance.getInstance(ID('s1'))).reserve, 0n);
  r = await f.run(f.balance.connect(f.operator).stopInstance(ID('s2')));
  assert.equal(r.events[0].args.reason, Status.Stopped);
  assert.equal(r.events[0].args.refunded, price);
  await expectRevert(f.balance.connect(f.user1).stopInstance(ID('s1')), 'InstanceNotLive', [ID('s1'), Status.Stopped]);

  // Terminate: the instance's provider, or an operator; not the account.
  await expectRevert(f.balance.connect(f.user1).terminateInstance(ID('t1')), 'NotAuthorized');
  await expectRevert(f.balance.connect(f.provider2).terminateInstance(ID('t1')), 'NotAuthorized');
  r = await f.run(f.balance.connect(f.provider).terminateInstance(ID('t1')));
  assert.deepEqual([...r.events[0].args].slice(2, 4), [Status.Terminated, price]);
  r = await f.run(f.balance.connect(f.operator).terminateInstance(ID('t2')));
  assert.equal(r.events[0].args.reason, Status.Terminated);
  assert.equal(await f.balance.balances(u), USDC(100) - 4n * price, 'all four reserves came back');
  assert.equal(await providerGot(f, f.provider), 4n * price, 'only the four day-0 payments left');
  await expectRevert(f.balance.connect(f.user1).stopInstance(ID('never')), 'NotAuthorized');
  await expectRevert(f.balance.connect(f.operator).stopInstance(ID('never')), 'InstanceNotLive', [ID('never'), Status.None]);

  // Stopping an overdue instance pays the periods that have begun first.
  const T1 = await nextTime();
  await at(f, T1, () => f.balance.connect(f.operator).createInstance(ID('o'), u, f.provider.address, price));
  r = await at(f, T1 + DAY + 5n, () => f.balance.connect(f.user1).stopInstance(ID('o'), GAS));
  assert.deepEqual(r.names, ['Charged', 'ReserveRefilled', 'InstanceEnded']);
  assert.equal(r.events[2].args.refunded, price);

  // Stopping a SmallBalance instance returns its (empty) reserve.
  await f.run(f.balance.connect(f.user2).deposit(f.user2.address, USDC(10), 0n, REF(5)));
  const T2 = await nextTime();
  await at(f, T2, () => f.balance.connect(f.user2).createInstance(ID('sb'), f.user2.address, f.provider.address, USDC(5)));
  await at(f, T2 + DAY, () => f.balance.charge([ID('sb')], GAS));
  r = await f.run(f.balance.connect(f.user2).stopInstance(ID('sb'), GAS));
  assert.deepEqual([...r.events[0].args].slice(2), [Status.Stopped, 0n, 0n]);
});

test('mixed scenario: several accounts and instances over a week keep every invariant', async () => {
  const f = await balanceFixture(chain);
  const [a, b] = [f.user1, f.user2];
  await f.run(f.balance.connect(a).deposit(a.address, USDC(40), USDC(4), REF('a1')));
  await f.run(f.balance.connect(b).deposit(b.address, USDC(15), 0n, REF('b1')));
  await f.run(f.balance.connect(f.operator).credit(b.address, USDC(2), REF('promo-b')));
  const T0 = await nextTime();
  const plan = [
    ['a-cheap', a, f.provider, 1_000_000n],
    ['a-big', a, f.provider2, 4_500_000n],
    ['b-one', b, f.provider, 3_000_000n],
  ];
  for (const [i, [n, acct, prov, price]] of plan.entries()) {
    await at(f, T0 + BigInt(i) * 600n, () => f.balance.connect(f.operator).createInstance(ID(n), acct.address, prov.address, price));
  }
  const ids = plan.map(([n]) => ID(n));
  for (let d = 1n; d <= 7n; d++) {
    await at(f, T0 + d * DAY + 1800n, () => f.balance.charge(ids, GAS));
    if (d === 2n) await f.run(f.balance.connect(a).deposit(a.address, USDC(10), 0n, REF('a2')));
    if (d === 3n) await f.run(f.balance.connect(f.operator).refund(b.address, b.address, 1n, REF('b-r')));
    if (d === 4n) await f.run(f.balance.connect(f.provider2).terminateInstance(ID('a-big'), GAS));
    if (d === 5n) await f.run(f.balance.refill(ids, GAS));
  }
  // Statuses as the mirror derived them equal the chain's (checked by run), and
  // every unit is accounted for: held by Balance, paid to providers, refunded.
  const held = await f.usdc.balanceOf(f.balance.target);
  const paid = [...f.mirror.providerPaid.values()].reduce((x, y) => x + y, 0n);
  const deposited = USDC(40) + USDC(15) + USDC(2) + USDC(10);
  assert.equal(held + paid + 1n, deposited, 'deposits + credits == held + paid to providers + refunds');
  assert.equal(await f.usdc.balanceOf(f.treasury.address), USDC(4));
  const statuses = {};
  for (const [n] of plan) statuses[n] = Number((await f.balance.getInstance(ID(n))).status);
  assert.equal(statuses['a-big'], Number(Status.Terminated));
  assert.ok(f.mirror.ledger.length > 10);
  // Every ledger line's balanceAfter is the previous line's plus its amount,
  // except charges, which come out of reserves rather than the balance.
  const last = new Map();
  for (const l of f.mirror.ledger) {
    const prev = last.get(l.account) || 0n;
    if (l.kind !== 'charge' || l.period === 0n) assert.equal(l.balanceAfter, prev + l.amount, `${l.kind} line`);
    else assert.equal(l.balanceAfter, prev, 'a periodic charge leaves the balance alone');
    last.set(l.account, l.balanceAfter);
  }
});
