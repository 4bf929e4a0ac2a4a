// ValidatorNodeProvider and Marketplace behaviour on a private anvil.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  ethers, startChain, deployContract, attach, send, eventsOf, blockTime, expectRevert,
  increaseTime, setNextTimestamp, latestTimestamp,
} from './helpers.mjs';

const MAX = ethers.MaxUint256;
const PRICE18 = 33052248677249n;
const PRICE_USDC = 10n;

let chain;
let deployer, payer, payee, stranger, appOwner, consensus, payee18;

before(async () => {
  chain = await startChain();
  [deployer, payer, payee, stranger, appOwner, consensus, payee18] = chain.w;
});

after(async () => {
  if (chain) await chain.stop();
});

/** Fresh tokens, a Marketplace and two providers made through it. */
async function fresh() {
  const usdc = (await deployContract(deployer, 'TestToken', ['USD Coin (test)', 'USDC', 6])).contract;
  const tok18 = (await deployContract(deployer, 'TestToken', ['Test Token 18', 'TT18', 18])).contract;
  const market = (await deployContract(deployer, 'Marketplace')).contract;
  const mk = async (token, p, price) => {
    const r = await send(market.newValidatorNodeProvider(consensus.address, token.target, p.address, price));
    const ev = eventsOf(r, market).find((e) => e.name === 'ValidatorNodeProviderCreated');
    return { provider: attach('ValidatorNodeProvider', ev.args.provider, deployer), receipt: r, ev };
  };
  const pu = await mk(usdc, payee, PRICE_USDC);
  const p18 = await mk(tok18, payee18, PRICE18);
  await send(usdc.mint(payer.address, 1_000_000_000n));
  await send(tok18.mint(payer.address, 1000n * 10n ** 18n));
  return { usdc, tok18, market, pu, p18 };
}

test('Marketplace: ValidatorNodeProviderCreated fields, no indexed params, provider state', async () => {
  const { market, usdc, pu } = await fresh();
  const { receipt, ev } = pu;
  const raw = ev.log;
  assert.equal(raw.topics.length, 1, 'only the signature topic: nothing indexed');
  assert.equal(raw.topics[0], ethers.id('ValidatorNodeProviderCreated(address,address,address,address,uint256)'));
  const [prov, cons, token, pay, price] = ethers.AbiCoder.defaultAbiCoder().decode(
    ['address', 'address', 'address', 'address', 'uint256'], raw.data);
  assert.equal(prov, ev.args.provider);
  assert.equal(cons, consensus.address);
  assert.equal(token, usdc.target);
  assert.equal(pay, payee.address);
  assert.equal(price, PRICE_USDC);
  assert.equal(receipt.logs.filter((l) => l.address === market.target).length, 1);

  const p = pu.provider;
  assert.equal(await p.token(), usdc.target);
  assert.equal(await p.payee(), payee.address);
  assert.equal(await p.price(), PRICE_USDC);
  assert.equal(await p.consensus(), consensus.address);
  assert.equal(await p.owner(), deployer.address, 'owner is the caller of newValidatorNodeProvider');
  assert.equal(await p.paused(), false);

  // Another caller owns the provider it creates.
  const r2 = await send(market.connect(stranger).newValidatorNodeProvider(consensus.address, usdc.target, payee.address, 7n));
  const ev2 = eventsOf(r2, market)[0];
  assert.equal(await attach('ValidatorNodeProvider', ev2.args.provider, chain.provider).owner(), stranger.address);
  assert.equal(ev2.args.price, 7n);
});

test('cost is time * price, exact, and overflow reverts', async () => {
  const { pu, p18 } = await fresh();
  assert.equal(await pu.provider.cost(0n), 0n);
  assert.equal(await pu.provider.cost(1n), PRICE_USDC);
  assert.equal(await pu.provider.cost(86400n), 864000n);
  // The published 18-decimal example.
  assert.equal(await p18.provider.cost(604800n), 19990000000000195200n);
  assert.equal(ethers.formatUnits(await p18.provider.cost(604800n), 18), '19.9900000000001952');
  assert.equal(await p18.provider.cost(1209600n), 39980000000000390400n);
  assert.equal(ethers.formatUnits(await p18.provider.cost(1209600n), 18), '39.9800000000003904');
  // Largest time that does not overflow, and the first that does.
  const maxTime = MAX / PRICE18;
  assert.equal(await p18.provider.cost(maxTime), maxTime * PRICE18);
  const args = await expectRevert(p18.provider.cost(maxTime + 1n), 'Panic');
  assert.equal(args[0], 0x11n, 'arithmetic overflow panic');
  await expectRevert(pu.provider.cost(MAX), 'Panic', [0x11n]);
  // extendRunway with an overflowing time reverts as well.
  const t18 = attach('TestToken', await p18.provider.token(), payer);
  await send(t18.approve(p18.provider.target, MAX));
  await expectRevert(p18.provider.connect(payer).extendRunway(stranger.address, maxTime + 1n), 'Panic', [0x11n]);
});

test('extendRunway: from a lapsed runway, from a live one, and after it lapsed again', async () => {
  const { usdc, pu } = await fresh();
  const p = pu.provider.connect(payer);
  const app = appOwner.address; // any address can have a runway
  await send(usdc.connect(payer).approve(p.target, MAX));
  assert.equal(await p.runway(app), 0n);

  const payerBefore = await usdc.balanceOf(payer.address);
  const payeeBefore = await usdc.balanceOf(payee.address);
  const r1 = await send(p.extendRunway(app, 3600n));
  const t1 = await blockTime(chain.provider, r1);
  const until1 = t1 + 3600n;
  assert.equal(await p.runway(app), until1, 'lapsed (never paid): starts from block time');
  const ev1 = eventsOf(r1, p);
  assert.equal(ev1.length, 1);
  assert.equal(ev1[0].name, 'FinancialRunway');
  assert.equal(ev1[0].args.application, app);
  assert.equal(ev1[0].args.until, until1);
  assert.equal(ev1[0].log.topics[1], ethers.zeroPadValue(app.toLowerCase(), 32), 'application is indexed');
  assert.equal(await usdc.balanceOf(payer.address), payerBefore - 36000n);
  assert.equal(await usdc.balanceOf(payee.address), payeeBefore + 36000n, 'payment goes straight to the payee');
  assert.equal(await usdc.balanceOf(p.target), 0n, 'the provider keeps nothing');

  // Live runway: extension adds to the end, not to now.
  await increaseTime(chain.rpcUrl, 600);
  assert.equal(await p.extendRunway.staticCall(app, 1800n), until1 + 1800n, 'returns the new until');
  const r2 = await send(p.extendRunway(app, 1800n));
  assert.equal(await p.runway(app), until1 + 1800n);
  assert.equal(eventsOf(r2, p)[0].args.until, until1 + 1800n);

  // Lapse: the gap is free, the new runway starts at the block time.
  const lapsedAt = BigInt(await latestTimestamp(chain.rpcUrl));
  const target = Number(until1 + 1800n + 5000n);
  assert.ok(BigInt(target) > lapsedAt);
  await setNextTimestamp(chain.rpcUrl, target);
  const r3 = await send(p.extendRunway(app, 100n));
  assert.equal(await blockTime(chain.provider, r3), BigInt(target));
  assert.equal(await p.runway(app), BigInt(target) + 100n);
  assert.equal(await usdc.balanceOf(payee.address), payeeBefore + 36000n + 18000n + 1000n);

  // Exactly at the end of a runway it counts as lapsed (max(until, now) + t).
  const r4t = Number(BigInt(target) + 100n);
  await setNextTimestamp(chain.rpcUrl, r4t);
  await send(p.extendRunway(app, 10n));
  assert.equal(await p.runway(app), BigInt(r4t) + 10n);

  await expectRevert(p.extendRunway(ethers.ZeroAddress, 10n), 'ZeroAddress');
});

test('the provider contract, not the payee, is the spender to approve', async () => {
  const { usdc, pu } = await fresh();
  const p = pu.provider.connect(payer);
  const cost = await p.cost(86400n);
  // Approving the payee does not let the provider pull the payment.
  await send(usdc.connect(payer).approve(payee.address, cost));
  await expectRevert(p.extendRunway(appOwner.address, 86400n), 'InsufficientAllowance',
    [payer.address, p.target, 0n, cost]);
  assert.equal(await p.runway(appOwner.address), 0n);
  // An allowance one unit short fails too; the exact cost works and is used up.
  await send(usdc.connect(payer).approve(p.target, cost - 1n));
  await expectRevert(p.extendRunway(appOwner.address, 86400n), 'InsufficientAllowance');
  await send(usdc.connect(payer).approve(p.target, cost));
  await send(p.extendRunway(appOwner.address, 86400n));
  assert.equal(await usdc.allowance(payer.address, p.target), 0n);
  // A payer without tokens is refused by the token.
  await send(usdc.connect(stranger).approve(p.target, MAX));
  await expectRevert(p.connect(stranger).extendRunway(appOwner.address, 1n), 'InsufficientBalance');
});

test('18-decimal example: 604800 s and 1209600 s move exactly the published amounts', async () => {
  const { tok18, p18 } = await fresh();
  const p = p18.provider.connect(payer);
  await send(tok18.connect(payer).approve(p.target, MAX));
  const before = await tok18.balanceOf(payee18.address);
  await send(p.extendRunway(appOwner.address, 604800n));
  assert.equal(await tok18.balanceOf(payee18.address) - before, 19990000000000195200n);
  await send(p.extendRunway(appOwner.address, 1209600n));
  assert.equal(await tok18.balanceOf(payee18.address) - before, 19990000000000195200n + 39980000000000390400n);
  assert.equal(await tok18.allowance(payer.address, p.target), MAX, 'infinite allowance is not decremented');
});

test('deploy registers an application (CREATE2), emits its location and pre-funds it', async () => {
  const { usdc, pu } = await fresh();
  const p = pu.provider.connect(payer);
  await send(usdc.connect(payer).approve(p.target, MAX));
  const tmpl = ethers.id('template-1');
  const salt = ethers.id('salt-1');
  const predicted = await p.calculateApplicationAddress(appOwner.address, tmpl, salt);
  const payeeBefore = await usdc.balanceOf(payee.address);
  assert.equal(await p.deploy.staticCall(appOwner.address, tmpl, 'https://machines.example/app1', 7200n, salt), predicted);
  const r = await send(p.deploy(appOwner.address, tmpl, 'https://machines.example/app1', 7200n, salt));
  const evs = eventsOf(r, p);
  assert.deepEqual(evs.map((e) => e.name), ['ApplicationDeployed', 'MachineLocation', 'FinancialRunway']);
  assert.equal(evs[0].args.application, predicted);
  assert.equal(evs[0].args.owner, appOwner.address);
  assert.equal(evs[0].args.templateHash, tmpl);
  assert.equal(evs[1].args.application, predicted);
  assert.equal(evs[1].args.location, 'https://machines.example/app1');
  const t = await blockTime(chain.provider, r);
  assert.equal(evs[2].args.until, t + 7200n);
  assert.equal(await p.runway(predicted), t + 7200n);
  assert.equal(await usdc.balanceOf(payee.address), payeeBefore + 72000n, 'the caller paid the initial runway');
  assert.equal(await p.applicationOwner(predicted), appOwner.address);
  const app = attach('Application', predicted, chain.provider);
  assert.equal(await app.owner(), appOwner.address);
  assert.equal(await app.templateHash(), tmpl);
  assert.equal(await app.consensus(), consensus.address);
  assert.equal(await app.provider(), p.target);

  // Same parameters again: refused.
  await expectRevert(p.deploy(appOwner.address, tmpl, 'x', 0n, salt), 'ApplicationExists', [predicted]);
  // Initial runway 0 registers without paying and without FinancialRunway.
  const salt2 = ethers.id('salt-2');
  const r2 = await send(p.deploy(appOwner.address, tmpl, 'loc2', 0n, salt2));
  assert.deepEqual(eventsOf(r2, p).map((e) => e.name), ['ApplicationDeployed', 'MachineLocation']);
  const app2 = eventsOf(r2, p)[0].args.application;
  assert.equal(await p.runway(app2), 0n);
  assert.equal(await usdc.balanceOf(payee.address), payeeBefore + 72000n);
  await expectRevert(p.deploy(ethers.ZeroAddress, tmpl, 'x', 0n, salt2), 'ZeroAddress');

  // register: the application's owner and the provider's owner may; others may not.
  const r3 = await send(p.connect(appOwner).register(predicted, 'https://machines.example/app1-v2'));
  assert.equal(eventsOf(r3, p)[0].name, 'MachineLocation');
  assert.equal(eventsOf(r3, p)[0].args.location, 'https://machines.example/app1-v2');
  await send(p.connect(deployer).register(predicted, 'by-provider-owner'));
  await expectRevert(p.connect(stranger).register(predicted, 'nope'), 'NotAuthorized', [stranger.address, predicted]);
  // An application not deployed here: only the provider's owner.
  await expectRevert(p.connect(appOwner).register(stranger.address, 'nope'), 'NotAuthorized');
  await send(p.connect(deployer).register(stranger.address, 'external-app'));
});

test('pause: owner only; extendRunway and deploy refused while paused', async () => {
  const { usdc, pu } = await fresh();
  const p = pu.provider;
  await send(usdc.connect(payer).approve(p.target, MAX));
  await expectRevert(p.connect(stranger).pause(), 'NotOwner', [stranger.address]);
  await expectRevert(p.connect(deployer).unpause(), 'ExpectedPause');
  const r = await send(p.connect(deployer).pause());
  const ev = eventsOf(r, p);
  assert.equal(ev[0].name, 'Paused');
  assert.equal(ev[0].args.account, deployer.address);
  assert.equal(await p.paused(), true);
  await expectRevert(p.connect(deployer).pause(), 'EnforcedPause');
  await expectRevert(p.connect(payer).extendRunway(appOwner.address, 10n), 'EnforcedPause');
  await expectRevert(p.connect(payer).deploy(appOwner.address, ethers.ZeroHash, 'l', 0n, ethers.ZeroHash), 'EnforcedPause');
  assert.equal(await p.cost(10n), 100n, 'views still work');
  await expectRevert(p.connect(stranger).unpause(), 'NotOwner');
  const r2 = await send(p.connect(deployer).unpause());
  assert.equal(eventsOf(r2, p)[0].name, 'Unpaused');
  assert.equal(eventsOf(r2, p)[0].args.account, deployer.address);
  await send(p.connect(payer).extendRunway(appOwner.address, 10n));

  // Ownership moves; the old owner loses pause rights.
  await expectRevert(p.connect(stranger).transferOwnership(stranger.address), 'NotOwner');
  await send(p.connect(deployer).transferOwnership(stranger.address));
  assert.equal(await p.owner(), stranger.address);
  await expectRevert(p.connect(deployer).pause(), 'NotOwner');
  await send(p.connect(stranger).pause());
});
