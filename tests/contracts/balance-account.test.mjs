// Balance: deposits, limits, tax, credits, refunds, roles and pause.
// Every transaction goes through the event mirror (helpers.mjs), which checks
// each event's "after" fields and the money invariant against the chain.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { ethers, startChain, balanceFixture, expectRevert, send, increaseTime, USDC, DAY, Status } from './helpers.mjs';

let chain;
before(async () => {
  chain = await startChain();
});
after(async () => {
  if (chain) await chain.stop();
});

const REF = (s) => ethers.id(`session:${s}`);

test('constructor parameters and roles are visible', async () => {
  const f = await balanceFixture(chain);
  assert.equal(await f.balance.token(), f.usdc.target);
  assert.equal(await f.balance.treasury(), f.treasury.address);
  assert.equal(await f.balance.minDeposit(), 10_000_000n);
  assert.equal(await f.balance.maxBalance(), 5_000_000_000n);
  assert.equal(await f.balance.gracePeriod(), DAY);
  assert.equal(await f.balance.owner(), f.owner.address);
  assert.equal(await f.balance.operators(f.operator.address), true);
  assert.equal(await f.balance.operators(f.stranger.address), false);
  assert.equal(await f.balance.DAY(), DAY);
  assert.equal(await f.balance.MAX_PERIODS_PER_CHARGE(), 30n);
});

test('deposit limits: 9.99 USDC refused, exactly 10 accepted, 5000 cap', async () => {
  const f = await balanceFixture(chain);
  const b = f.balance.connect(f.user1);
  const u = f.user1.address;
  await expectRevert(b.deposit(u, 9_990_000n, 0n, REF(1)), 'DepositTooSmall', [9_990_000n, 10_000_000n]);
  await expectRevert(b.deposit(u, 0n, 0n, REF(1)), 'DepositTooSmall');
  const { events } = await f.run(b.deposit(u, 10_000_000n, 0n, REF(2)));
  assert.equal(events.length, 1);
  assert.equal(events[0].args.balanceAfter, 10_000_000n);
  assert.equal(await f.balance.balances(u), USDC(10));

  // Up to the cap exactly: 10 + 4990 = 5000.
  await f.run(b.deposit(u, USDC(4990), 0n, REF(3)));
  assert.equal(await f.balance.balances(u), USDC(5000));
  await expectRevert(b.deposit(u, USDC(10), 0n, REF(4)), 'BalanceCapExceeded', [u, USDC(5010), USDC(5000)]);
  // A single deposit above the cap is refused too.
  await expectRevert(b.deposit(f.user2.address, 5_000_000_001n, 0n, REF(5)), 'BalanceCapExceeded');
  await f.run(b.deposit(f.user2.address, USDC(5000), 0n, REF(6)));
  await expectRevert(b.deposit(ethers.ZeroAddress, USDC(10), 0n, REF(7)), 'ZeroAddress');
});

test('deposit pulls amount + tax from the payer; tax goes to the treasury', async () => {
  const f = await balanceFixture(chain);
  const payer = f.user2;
  const account = f.user1.address;
  const payerBefore = await f.usdc.balanceOf(payer.address);
  const { events } = await f.run(f.balance.connect(payer).deposit(account, USDC(100), USDC(21), REF('tax')));
  const ev = events[0];
  assert.equal(ev.name, 'Deposited');
  assert.equal(ev.args.account, account);
  assert.equal(ev.args.payer, payer.address);
  assert.equal(ev.args.amount, USDC(100));
  assert.equal(ev.args.tax, USDC(21));
  assert.equal(ev.args.ref, REF('tax'));
  assert.equal(ev.args.balanceAfter, USDC(100));
  assert.equal(await f.usdc.balanceOf(payer.address), payerBefore - USDC(121));
  assert.equal(await f.usdc.balanceOf(f.treasury.address), USDC(21));
  assert.equal(await f.usdc.balanceOf(f.balance.target), USDC(100));
  assert.equal(await f.balance.balances(payer.address), 0n, 'the payer is not credited');
  assert.equal(f.mirror.treasuryIn, USDC(21));

  // Not enough allowance for amount + tax: the whole deposit is refused.
  const limited = f.stranger;
  await send(f.usdc.connect(limited).approve(f.balance.target, USDC(100)));
  await expectRevert(f.balance.connect(limited).deposit(limited.address, USDC(100), 1n, REF('x')), 'InsufficientAllowance');
  assert.equal(await f.balance.balances(limited.address), 0n);
  assert.equal(await f.usdc.balanceOf(f.treasury.address), USDC(21));
  await f.mirror.check();
});

test('credit: operator only, operator supplies the tokens, cap applies', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  await expectRevert(f.balance.connect(f.stranger).credit(u, USDC(5), REF('c')), 'NotOperator', [f.stranger.address]);
  await expectRevert(f.balance.connect(f.user1).credit(u, USDC(5), REF('c')), 'NotOperator');
  const opBefore = await f.usdc.balanceOf(f.operator.address);
  const { events } = await f.run(f.balance.connect(f.operator).credit(u, USDC(5), REF('promo')));
  assert.equal(events[0].name, 'Credited');
  assert.deepEqual([...events[0].args], [u, f.operator.address, USDC(5), REF('promo'), USDC(5)]);
  assert.equal(await f.usdc.balanceOf(f.operator.address), opBefore - USDC(5), 'credit is backed by operator tokens');
  // Below the deposit minimum is fine for credits; zero is not.
  await f.run(f.balance.connect(f.operator).credit(u, 1n, REF('tiny')));
  await expectRevert(f.balance.connect(f.operator).credit(u, 0n, REF('zero')), 'ZeroAmount');
  await expectRevert(f.balance.connect(f.operator).credit(u, USDC(4995), REF('big')), 'BalanceCapExceeded');
  await f.run(f.balance.connect(f.operator).credit(u, USDC(4995) - 1n, REF('fill')));
  assert.equal(await f.balance.balances(u), USDC(5000));
});

test('refund: operator only, money leaves the balance to the given address', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(50), 0n, REF('d')));
  await expectRevert(f.balance.connect(f.user1).refund(u, u, USDC(1), REF('r')), 'NotOperator');
  await expectRevert(f.balance.connect(f.stranger).refund(u, f.stranger.address, USDC(1), REF('r')), 'NotOperator');
  await expectRevert(f.balance.connect(f.operator).refund(u, u, USDC(51), REF('r')), 'InsufficientBalance', [u, USDC(50), USDC(51)]);
  await expectRevert(f.balance.connect(f.operator).refund(u, ethers.ZeroAddress, USDC(1), REF('r')), 'ZeroAddress');
  await expectRevert(f.balance.connect(f.operator).refund(u, u, 0n, REF('r')), 'ZeroAmount');
  const toBefore = await f.usdc.balanceOf(f.user2.address);
  const { events } = await f.run(f.balance.connect(f.operator).refund(u, f.user2.address, USDC(20), REF('refund-1')));
  assert.equal(events[0].name, 'Refunded');
  assert.deepEqual([...events[0].args], [u, f.user2.address, USDC(20), REF('refund-1'), USDC(30)]);
  assert.equal(await f.usdc.balanceOf(f.user2.address), toBefore + USDC(20));
  await f.run(f.balance.connect(f.operator).refund(u, u, USDC(30), REF('refund-2')));
  assert.equal(await f.balance.balances(u), 0n);
  // The ledger the mirror rebuilt: deposit, refund, refund with balances after.
  assert.deepEqual(f.mirror.ledger.map((l) => [l.kind, l.amount, l.balanceAfter]), [
    ['deposit', USDC(50), USDC(50)], ['refund', -USDC(20), USDC(30)], ['refund', -USDC(30), 0n]]);
});

test('setOperator, setTreasury and transferOwnership are owner only', async () => {
  const f = await balanceFixture(chain);
  for (const who of [f.operator, f.stranger, f.user1]) {
    await expectRevert(f.balance.connect(who).setOperator(who.address, true), 'NotOwner', [who.address]);
    await expectRevert(f.balance.connect(who).setTreasury(who.address), 'NotOwner');
    await expectRevert(f.balance.connect(who).transferOwnership(who.address), 'NotOwner');
    await expectRevert(f.balance.connect(who).pause(), 'NotOwner');
  }
  const { events } = await f.run(f.balance.connect(f.owner).setOperator(f.stranger.address, true));
  assert.equal(events[0].name, 'OperatorSet');
  assert.deepEqual([...events[0].args], [f.stranger.address, true]);
  await f.run(f.balance.connect(f.stranger).credit(f.user1.address, USDC(1), REF('s')));
  await f.run(f.balance.connect(f.owner).setOperator(f.stranger.address, false));
  await expectRevert(f.balance.connect(f.stranger).credit(f.user1.address, USDC(1), REF('s')), 'NotOperator');
  await expectRevert(f.balance.connect(f.owner).setOperator(ethers.ZeroAddress, true), 'ZeroAddress');
  // The owner is not an operator by being the owner.
  await expectRevert(f.balance.connect(f.owner).credit(f.user1.address, USDC(1), REF('o')), 'NotOperator');

  // Treasury change redirects tax.
  const r = await f.run(f.balance.connect(f.owner).setTreasury(f.user2.address));
  assert.equal(r.events[0].name, 'TreasurySet');
  const before = await f.usdc.balanceOf(f.user2.address);
  await f.run(f.balance.connect(f.user1).deposit(f.user1.address, USDC(10), 7n, REF('t')));
  assert.equal(await f.usdc.balanceOf(f.user2.address), before + 7n);

  await f.run(f.balance.connect(f.owner).transferOwnership(f.user2.address));
  assert.equal(await f.balance.owner(), f.user2.address);
  await expectRevert(f.balance.connect(f.owner).setOperator(f.owner.address, true), 'NotOwner');
  await f.run(f.balance.connect(f.user2).setOperator(f.owner.address, true));
});

test('pause refuses deposits, credits and new instances; refunds and charging go on', async () => {
  const f = await balanceFixture(chain);
  const u = f.user1.address;
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(100), 0n, REF('before')));
  const id = ethers.id('paused-instance');
  await f.run(f.balance.connect(f.operator).createInstance(id, u, f.provider.address, USDC(1)));

  const { events } = await f.run(f.balance.connect(f.owner).pause());
  assert.equal(events[0].name, 'Paused');
  assert.equal(events[0].args.account, f.owner.address);
  assert.equal(await f.balance.paused(), true);
  await expectRevert(f.balance.connect(f.owner).pause(), 'EnforcedPause');
  await expectRevert(f.balance.connect(f.user1).deposit(u, USDC(10), 0n, REF('p')), 'EnforcedPause');
  await expectRevert(f.balance.connect(f.operator).credit(u, USDC(1), REF('p')), 'EnforcedPause');
  await expectRevert(f.balance.connect(f.operator).createInstance(ethers.id('new'), u, f.provider.address, USDC(1)),
    'EnforcedPause');
  await expectRevert(f.balance.connect(f.user1).createInstance(ethers.id('new'), u, f.provider.address, USDC(1)),
    'EnforcedPause');

  // Money can still leave, and running instances are still billed.
  await f.run(f.balance.connect(f.operator).refund(u, u, USDC(1), REF('p-refund')));
  await increaseTime(chain.rpcUrl, Number(DAY));
  const c = await f.run(f.balance.charge([id]));
  assert.deepEqual(c.names, ['Charged', 'ReserveRefilled']);
  await f.run(f.balance.connect(f.user1).refill([id]));
  const s = await f.run(f.balance.connect(f.user1).stopInstance(id));
  assert.deepEqual(s.names, ['InstanceEnded']);
  assert.equal(s.events[0].args.reason, Status.Stopped);

  await expectRevert(f.balance.connect(f.stranger).unpause(), 'NotOwner');
  const un = await f.run(f.balance.connect(f.owner).unpause());
  assert.equal(un.events[0].name, 'Unpaused');
  await expectRevert(f.balance.connect(f.owner).unpause(), 'ExpectedPause');
  await f.run(f.balance.connect(f.user1).deposit(u, USDC(10), 0n, REF('after')));
});
