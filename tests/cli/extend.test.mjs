// extend.test.mjs: `runway extend` and `runway app status` end to end, on a
// devnet of our own (tools/devnet up on a free port, stopped by its PID) and,
// for the mirror, runwayd indexing into the throwaway PostgreSQL of
// tests/pg/with-pg (RUNWAY_TEST_DATABASE_URL).
//   - the 2w worked example: approval of exactly the cost to the provider,
//     the payee receives exactly the cost, FinancialRunway and runway(app)
//     match max(old until, block time) + seconds; a live runway lengthens; a
//     lapsed one restarts from the block time; an allowance that covers the
//     cost is used without approving;
//   - dry run: nothing sent, nonce unchanged, raw transactions decode to the
//     right calls;
//   - refusals (each message asserted, nothing sent): --max-cost, token
//     balance, gas money, paused provider, wrong chain, fee cap, a revert at
//     estimation, pending transactions, a receipt timeout;
//   - the question on a terminal; usage errors (exit 2, nothing on stdout);
//   - app status from the chain and from the mirror.
// Usage: tests/pg/with-pg node --test tests/cli/extend.test.mjs  (RUNWAY_BIN_DIR = build/src)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { rpc } from '../../tools/lib/anvil.mjs';
import { increaseTime, latestTimestamp } from '../../tools/lib/chain.mjs';
import { waitReceipt, iface } from '../../tools/lib/deploy.mjs';
import {
  actors, bin, createDatabase, devnetDown, devnetUp, ethers, startRunwayd, stopRunwayd, tempDir,
  waitCaughtUp, writeConfig,
} from '../indexer/helpers.mjs';

assert.ok(bin, 'RUNWAY_BIN_DIR must name the directory holding runway');
const state = tempDir('cli-extend');
let dn, a, P, U6, TOKEN, PAYEE, keys;
const vnp = iface('ValidatorNodeProvider');
const erc20 = iface('TestToken');
const WEEK2 = 1209600n;
const PRICE = 33052248677249n;
const COST_2W = 39980000000000390400n;

// Sanitizer settings pass through (a sanitized build reports leaks).
const san = Object.fromEntries(['ASAN_OPTIONS', 'UBSAN_OPTIONS']
  .filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
function runway(args, { env = {}, input } = {}) {
  const r = spawnSync(path.join(bin, 'runway'), args, {
    encoding: 'utf8', input, timeout: 120000, env: { PATH: process.env.PATH, ...san, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const extend = (args, opts) => runway(['extend', '--rpc-url', dn.rpc_url, ...args], opts);
const status = (args, opts) => runway(['app', 'status', '--rpc-url', dn.rpc_url, ...args], opts);
const newApp = () => ethers.Wallet.createRandom().address;

/** A key file (mode 0600) holding privateKey. */
function keyFile(name, privateKey) {
  const f = path.join(state, `${name}.key`);
  fs.writeFileSync(f, privateKey + '\n', { mode: 0o600 });
  return f;
}

const tt18 = () => a.tt18(a.role.deployer);
const balanceOf = async (who) => BigInt(await tt18().balanceOf(who));
const allowance = async (owner) => BigInt(await tt18().allowance(owner, P));
const runwayOf = async (app, provider = P) => BigInt(await a.vnp(provider, a.provider).runway(app));
const nonceOf = (who) => a.provider.getTransactionCount(who, 'latest');
async function send(p) {
  const t = await p;
  const r = await waitReceipt(a.provider, t.hash);
  assert.equal(r.status, 1);
  return r;
}

before(() => {
  dn = devnetUp(state);
  a = actors(dn);
  P = dn.contracts.ProviderToken18;
  U6 = dn.contracts.ProviderUSDC;
  TOKEN = dn.tokens.Token18.address;
  PAYEE = dn.providers.ProviderToken18.payee;
  keys = {
    user1: keyFile('user1', dn.accounts.user1.private_key),
    user2: keyFile('user2', dn.accounts.user2.private_key),
    user3: keyFile('user3', dn.accounts.user3.private_key),
    poor: keyFile('poor', dn.accounts.provider.private_key), // ETH, no tokens
  };
});

after(() => {
  a.provider.destroy();
  devnetDown(state);
  fs.rmSync(state, { recursive: true, force: true });
});

test('extend 2w: approve exactly the cost to the provider, the payee gets exactly the cost', async () => {
  const app = newApp();
  const payer = dn.accounts.user1.address;
  const [payee0, payer0, allow0] = [await balanceOf(PAYEE), await balanceOf(payer), await allowance(payer)];
  assert.equal(allow0, 0n);
  const n0 = await nonceOf(payer);
  const r = extend(['--provider', P, '--app', app, '--duration', '2w', '--key-file', keys.user1, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(Object.keys(j), ['dry_run', 'chain_id', 'provider', 'application', 'payer', 'token', 'symbol',
    'decimals', 'payee', 'seconds', 'duration', 'price', 'cost', 'cost_units', 'balance', 'balance_units', 'allowance',
    'allowance_units', 'previous_until', 'transactions', 'restarted', 'block_time', 'until', 'until_iso', 'seconds_left',
    'runway_now']);
  assert.equal(j.cost, COST_2W.toString());
  assert.equal(j.cost_units, '39.980000000000390400');
  assert.equal(j.symbol, 'TT18');
  assert.equal(j.seconds, 1209600);
  assert.equal(j.payer, payer);
  assert.equal(j.payee, PAYEE);
  assert.equal(j.balance, payer0.toString());
  assert.equal(j.allowance, '0');
  assert.equal(j.dry_run, false);

  // The money: exactly the cost, from the payer to the payee; the allowance is used up.
  assert.equal((await balanceOf(PAYEE)) - payee0, COST_2W);
  assert.equal(payer0 - (await balanceOf(payer)), COST_2W);
  assert.equal(await allowance(payer), 0n);

  // Two transactions, consecutive nonces: approve(provider, cost) on the token, then extendRunway.
  assert.deepEqual(j.transactions.map((t) => [t.action, t.nonce]), [['approve', n0], ['extendRunway', n0 + 1]]);
  const ta = await a.provider.getTransaction(j.transactions[0].hash);
  assert.equal(ta.to, TOKEN);
  assert.equal(ta.data, erc20.encodeFunctionData('approve', [P, COST_2W]));
  const ra = await a.provider.getTransactionReceipt(ta.hash);
  const approval = ra.logs.map((l) => erc20.parseLog(l)).find((e) => e && e.name === 'Approval');
  assert.equal(approval.args.spender, P, 'the spender is the provider contract');
  assert.equal(approval.args.value, COST_2W);
  const te = await a.provider.getTransaction(j.transactions[1].hash);
  assert.equal(te.to, P);
  assert.equal(te.data, vnp.encodeFunctionData('extendRunway', [app, WEEK2]));

  // FinancialRunway: the application, until = max(0, block time) + seconds.
  const re = await a.provider.getTransactionReceipt(te.hash);
  const block = await a.provider.getBlock(re.blockNumber);
  const ev = re.logs.filter((l) => l.address === P).map((l) => vnp.parseLog(l)).find((e) => e.name === 'FinancialRunway');
  assert.equal(ev.args.application, app);
  assert.equal(ev.args.until, BigInt(block.timestamp) + WEEK2);
  assert.equal(BigInt(j.until), ev.args.until);
  assert.equal(await runwayOf(app), ev.args.until);
  assert.equal(j.block_time, block.timestamp);
  assert.equal(j.seconds_left, 1209600);
  assert.equal(j.restarted, true);
  assert.equal(j.previous_until, 0);
  assert.equal(j.until_iso, new Date(j.until * 1000).toISOString().replace('.000Z', 'Z'));
  assert.equal(j.transactions[1].block, re.blockNumber);
  assert.equal(j.transactions[1].gas_used, Number(re.gasUsed));
  assert.match(r.err, /approve: sent 0x[0-9a-f]{64}, waiting for the receipt/);
});

test('text output; a live runway lengthens; an allowance that covers the cost is used without approving', async () => {
  const app = newApp();
  const payer = dn.accounts.user2.address;
  let r = extend(['--provider', P, '--app', app, '--seconds', '3600', '--key-file', keys.user2, '--yes']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^extend runway of 0x[0-9a-fA-F]{40}$/m);
  assert.match(r.out, /^cost\s+0\.118988095238096400 TT18 \(118988095238096400 base units\)$/m);
  assert.match(r.out, /^allowance\s+0\.000000000000000000 TT18 to the provider: approve exactly the cost first$/m);
  assert.match(r.out, /^runway now\s+never funded$/m);
  assert.match(r.out, /^approve\s+0x[0-9a-f]{64} \(block \d+\)$/m);
  assert.match(r.out, /^paid\s+0\.118988095238096400 TT18 to 0x[0-9a-fA-F]{40}$/m);
  assert.match(r.out, /^until\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+\) \(first funding: from the block's time\)$/m);
  assert.match(r.out, /^time left\s+1 hour 0 minutes \(3600 s\)$/m);
  const until1 = await runwayOf(app);

  // A standing allowance of two days' cost: no approval, the allowance goes down by the cost.
  const day = PRICE * 86400n;
  await send(a.tt18(a.role.user2).approve(P, 2n * day));
  const payee0 = await balanceOf(PAYEE);
  r = extend(['--provider', P, '--app', app, '--duration', '1d', '--key-file', keys.user2, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.deepEqual(j.transactions.map((t) => t.action), ['extendRunway']);
  assert.equal(j.allowance, (2n * day).toString());
  assert.equal(await allowance(payer), day);
  assert.equal((await balanceOf(PAYEE)) - payee0, day);
  assert.equal(j.restarted, false);
  assert.equal(BigInt(j.previous_until), until1);
  assert.equal(BigInt(j.until), until1 + 86400n, 'a live runway is lengthened from its end');
  assert.equal(await runwayOf(app), until1 + 86400n);
  assert.equal(j.seconds_left, j.until - j.block_time);
});

test('a lapsed runway restarts from the block time', async () => {
  const app = newApp();
  let r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user1, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const first = BigInt(JSON.parse(r.out).until);
  await increaseTime(dn.rpc_url, 7200); // lapsed an hour ago
  r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user1, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^runway now\s+lapsed at \d{4}-.*Z \(\d+\): restarts from the block's time$/m);
  r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user1, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(BigInt(j.previous_until), first);
  assert.equal(j.restarted, true);
  assert.ok(BigInt(j.block_time) > first);
  assert.equal(BigInt(j.until), BigInt(j.block_time) + 3600n, 'the gap is free: restart from the block time');
  assert.equal(await runwayOf(app), BigInt(j.until));
  r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user1, '--yes']);
  assert.match(r.out, /^until .*\d\)$/m, 'no restart note on a live runway');
});

test('dry run: nothing sent, the nonce unchanged, the raw transactions decode to the right calls', async () => {
  const app = newApp();
  const payer = dn.accounts.user3.address;
  const n0 = await nonceOf(payer);
  const r = extend(['--provider', P, '--app', app, '--duration', '2w', '--key-file', keys.user3, '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^dry run: nothing sent; the signed transactions, in order:$/m);
  const m = [...r.out.matchAll(/^(approve|extendRunway) nonce (\d+) gas (\d+)(?: \(not estimated: needs the approval\))? hash (0x[0-9a-f]{64})\n(0x[0-9a-f]+)$/gm)];
  assert.deepEqual(m.map((x) => [x[1], Number(x[2])]), [['approve', n0], ['extendRunway', n0 + 1]]);
  for (const x of m) {
    const d = runway(['--json', 'tx', 'decode', x[5]]);
    assert.equal(d.code, 0, d.err);
    const t = JSON.parse(d.out);
    assert.equal(t.hash, x[4]);
    assert.equal(t.from, payer);
    assert.equal(Number(t.chainId), 31337);
    assert.equal(Number(t.nonce), Number(x[2]));
    assert.equal(Number(t.gas), Number(x[3]));
    if (x[1] === 'approve') {
      assert.equal(t.to, TOKEN);
      assert.equal(t.input, erc20.encodeFunctionData('approve', [P, COST_2W]));
    } else {
      assert.equal(t.to, P);
      assert.equal(t.input, vnp.encodeFunctionData('extendRunway', [app, WEEK2]));
    }
    assert.equal(await a.provider.getTransaction(x[4]), null, 'not sent');
  }
  assert.equal(await nonceOf(payer), n0);
  assert.equal(await runwayOf(app), 0n);
  assert.equal(await allowance(payer), 0n);

  // --json: the same, with raw bytes.
  const j = JSON.parse(extend(['--provider', P, '--app', app, '--duration', '2w', '--key-file', keys.user3, '--dry-run', '--json']).out);
  assert.equal(j.dry_run, true);
  assert.deepEqual(j.transactions.map((t) => t.action), ['approve', 'extendRunway']);
  assert.equal(j.transactions[1].raw, m[1][5]);
  assert.equal(j.until, undefined);
  assert.equal(await nonceOf(payer), n0);

  // A keystore works as the key file does (passphrase from the environment).
  const ks = path.join(state, 'user3.json');
  const imp = runway(['keys', 'import', '--keystore', ks, '--key-file', '-', '--scrypt-n', '1024', '--passphrase-env', 'KS_PASS'],
    { input: dn.accounts.user3.private_key + '\n', env: { KS_PASS: 'test only' } });
  assert.equal(imp.code, 0, imp.err);
  const k = extend(['--provider', P, '--app', app, '--duration', '2w', '--keystore', ks, '--passphrase-env', 'KS_PASS',
    '--dry-run', '--json'], { env: { KS_PASS: 'test only' } });
  assert.equal(k.code, 0, k.err);
  assert.deepEqual(JSON.parse(k.out).transactions.map((t) => t.hash), j.transactions.map((t) => t.hash),
    'the same key signs the same bytes');
  const bad = extend(['--provider', P, '--app', app, '--duration', '2w', '--keystore', ks, '--passphrase-env', 'KS_PASS',
    '--dry-run'], { env: { KS_PASS: 'wrong' } });
  assert.equal(bad.code, 1);
  assert.match(bad.err, /user3\.json/);
  assert.equal(bad.out, '');

  // The configuration's relayer settings apply: legacy gas-price transactions.
  const config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.relayer.legacy = true;
  });
  const l = runway(['--config', config, '--json', 'extend', '--provider', P, '--app', app, '--duration', '2w',
    '--key-file', keys.user3, '--dry-run']);
  assert.equal(l.code, 0, l.err);
  for (const t of JSON.parse(l.out).transactions) {
    const d = JSON.parse(runway(['--json', 'tx', 'decode', t.raw]).out);
    assert.equal(d.type, '0x0');
    assert.ok(BigInt(d.gasPrice) > 0n);
    assert.equal(Number(d.chainId), 31337);
  }
});

test('--max-cost: a token amount or base units; a cost above it is refused', async () => {
  const app = newApp();
  const n0 = await nonceOf(dn.accounts.user1.address);
  const base = ['--provider', P, '--app', app, '--duration', '2w', '--key-file', keys.user1];
  let r = extend([...base, '--max-cost', '39.98', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.err, /the cost 39\.980000000000390400 TT18 is above --max-cost 39\.980000000000000000 TT18; nothing sent/);
  assert.equal(r.out, '');
  r = extend([...base, '--max-cost', '39980000000000390399units', '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.err, /is above --max-cost 39\.980000000000390399 TT18/);
  r = extend([...base, '--max-cost', '39980000000000390400units', '--dry-run']);
  assert.equal(r.code, 0, r.err);
  r = extend([...base, '--max-cost', '40', '--dry-run']);
  assert.equal(r.code, 0, r.err);
  r = extend([...base, '--max-cost', '1.0000000000000000001', '--yes']);
  assert.equal(r.code, 2);
  assert.match(r.err, /--max-cost 1\.0000000000000000001 has more decimals than the token's 18/);
  assert.equal(r.out, '');
  assert.equal(await nonceOf(dn.accounts.user1.address), n0);
  assert.equal(await runwayOf(app), 0n);
});

test('refusals before anything is sent: token balance, gas money, wrong chain, fee cap', async () => {
  const app = newApp();
  const base = ['--provider', P, '--app', app, '--duration', '2w', '--yes'];
  const poor = dn.accounts.provider.address;
  let r = extend([...base, '--key-file', keys.poor]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`insufficient token balance: the payer ${poor} holds 0\\.000000000000000000 TT18 but the extension costs 39\\.980000000000390400 TT18; nothing sent`));
  assert.equal(r.out, '');

  // Tokens but no gas money.
  const w = ethers.Wallet.createRandom();
  await send(tt18().mint(w.address, COST_2W));
  r = extend([...base, '--key-file', keyFile('nogas', w.privateKey)]);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`insufficient funds for gas: the payer ${w.address} holds 0\\.000000000000000000 of the chain's native token but the transactions may need up to 0\\.\\d+ \\(gas x max fee\\); nothing sent`));
  assert.equal(await balanceOf(w.address), COST_2W);

  r = extend([...base, '--key-file', keys.user1, '--chain-id', '1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /wrong chain: expected chain 1 \(--chain-id\) but the node http:\/\/127\.0\.0\.1:\d+ serves chain 31337; nothing sent/);

  r = extend([...base, '--key-file', keys.user1, '--fee-cap', '1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /the chain's base fee \d+ wei \(0\.\d+ gwei\) is above the fee cap 1 wei \(0\.000000001 gwei\): nothing sent; wait for fees to fall or raise the cap \(--fee-cap\)/);
  r = extend([...base, '--key-file', keys.user1, '--fee-cap', '500gwei', '--dry-run']);
  assert.equal(r.code, 0, r.err);
  assert.equal(await runwayOf(app), 0n);
  assert.equal(await allowance(dn.accounts.user1.address), 0n);
});

test('a paused provider is refused in plain words; app status shows it', async () => {
  const app = newApp();
  const owner = a.vnp(P, a.role.deployer);
  await send(owner.pause());
  try {
    const n0 = await nonceOf(dn.accounts.user1.address);
    const r = extend(['--provider', P, '--app', app, '--duration', '1d', '--key-file', keys.user1, '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`provider ${P} is paused: extendRunway would revert \\(EnforcedPause\\); nothing sent`));
    assert.equal(await nonceOf(dn.accounts.user1.address), n0);
    const s = status(['--provider', P, '--app', app]);
    assert.equal(s.code, 0, s.err);
    assert.match(s.out, /^provider\s+0x[0-9a-fA-F]{40} \(chain 31337\) PAUSED$/m);
    assert.equal(JSON.parse(status(['--provider', P, '--app', app, '--json']).out).provider_paused, true);
  } finally {
    await send(owner.unpause());
  }
});

test('a revert at estimation is shown with its decoded reason; nothing is sent', async () => {
  // runway(app) near 2^256: until = runway + seconds overflows (Panic 0x11).
  const app = newApp();
  const slot = ethers.keccak256(ethers.AbiCoder.defaultAbiCoder().encode(['address', 'uint256'], [app, 1]));
  const huge = (1n << 256n) - 10n;
  await rpc(dn.rpc_url, 'anvil_setStorageAt', [P, slot, ethers.toBeHex(huge, 32)]);
  assert.equal(await runwayOf(app), huge, 'runway is mapping slot 1');
  await send(a.tt18(a.role.user3).approve(P, PRICE * 3600n)); // no approval needed: extend is estimated up front
  const n0 = await nonceOf(dn.accounts.user3.address);
  const r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user3, '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`extendRunway\\(${app}, 3600\\) would fail: execution reverted: panic 0x11 \\(arithmetic overflow\\) \\(eth_estimateGas at http:[^)]*\\); nothing sent`));
  assert.equal(await nonceOf(dn.accounts.user3.address), n0);
  await send(a.tt18(a.role.user3).approve(P, 0));
});

test('a receipt timeout names the transaction; the next run refuses while it is pending; it is mined once', async () => {
  const app = newApp();
  const payer = dn.accounts.user2.address;
  await send(a.tt18(a.role.user2).approve(P, PRICE * 7200n));
  const n0 = await nonceOf(payer);
  await rpc(dn.rpc_url, 'evm_setAutomine', [false]);
  try {
    let r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user2, '--yes', '--timeout', '2s']);
    assert.equal(r.code, 1);
    const m = r.err.match(new RegExp(`extendRunway: no receipt for (0x[0-9a-f]{64}) \\(nonce ${n0}\\) after 2 s: it may still be mined; nothing else was sent`));
    assert.ok(m, r.err);
    r = extend(['--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user2, '--yes']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`${payer} has transactions pending \\(nonce ${n0}\\): an earlier run may still be waiting to be mined; nothing sent`));
    await rpc(dn.rpc_url, 'evm_mine', []);
    const rc = await a.provider.getTransactionReceipt(m[1]);
    assert.equal(rc.status, 1);
    const block = await a.provider.getBlock(rc.blockNumber);
    assert.equal(await runwayOf(app), BigInt(block.timestamp) + 3600n, 'extended once');
    assert.equal(await nonceOf(payer), n0 + 1);
    assert.equal(await allowance(payer), PRICE * 3600n);
  } finally {
    await rpc(dn.rpc_url, 'evm_setAutomine', [true]);
  }
  await send(a.tt18(a.role.user2).approve(P, 0));
});

test('--config: its chain and node; another transaction taking the nonce stops the run, nothing more sent', async () => {
  const config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.relayer.rebroadcast_ms = 1000;
  });
  const app = newApp();
  const payer = dn.accounts.user2.address;
  await send(a.tt18(a.role.user2).approve(P, PRICE * 3600n));
  const n0 = await nonceOf(payer);
  await rpc(dn.rpc_url, 'evm_setAutomine', [false]);
  try {
    const child = spawn(path.join(bin, 'runway'), ['--config', config, 'extend', '--provider', P, '--app', app,
      '--duration', '1h', '--key-file', keys.user2, '--yes', '--timeout', '60s'],
    { env: { PATH: process.env.PATH, ...san }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => { err += b; });
    const done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    while (!/extendRunway: sent/.test(err)) {
      assert.ok(Date.now() < deadline, `the run did not send: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // A self-transfer with the same nonce and far higher fees replaces it and is mined.
    const w = a.role.user2;
    const t = await w.sendTransaction({ to: payer, value: 0n, nonce: n0, maxFeePerGas: 100n * 10n ** 9n,
      maxPriorityFeePerGas: 50n * 10n ** 9n, gasLimit: 21000n });
    await rpc(dn.rpc_url, 'evm_mine', []);
    assert.equal((await waitReceipt(a.provider, t.hash)).status, 1);
    const code = await done;
    assert.equal(code, 1, err);
    assert.match(err, new RegExp(`extendRunway: nonce ${n0} is used by another transaction of the sender, not 0x[0-9a-f]{64}: nothing more sent`));
    assert.equal(await runwayOf(app), 0n);
    assert.equal(await nonceOf(payer), n0 + 1);
  } finally {
    await rpc(dn.rpc_url, 'evm_setAutomine', [true]);
  }
  // --config gives the node and the chain id the node must serve.
  let r = runway(['--config', config, 'extend', '--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user2,
    '--yes', '--chain-id', '5']);
  assert.equal(r.code, 2);
  assert.match(r.err, /runway\.json has no chain 5: pass --rpc-url URL/);
  const other = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.chain_id = 5;
  });
  r = runway(['--config', other, 'extend', '--provider', P, '--app', app, '--duration', '1h', '--key-file', keys.user2, '--yes']);
  assert.equal(r.code, 1);
  assert.match(r.err, /wrong chain: expected chain 5 \(--config\) but the node http:\/\/127\.0\.0\.1:\d+ serves chain 31337; nothing sent/);
  assert.equal(r.out, '');
  await send(a.tt18(a.role.user2).approve(P, 0));
});

test('paused between the checks and the block: the revert on chain is reported, exit 1', async () => {
  const app = newApp();
  const payer = dn.accounts.user1.address;
  await send(a.tt18(a.role.user1).approve(P, PRICE * 3600n));
  const n0 = await nonceOf(payer);
  await rpc(dn.rpc_url, 'evm_setAutomine', [false]);
  const owner = a.vnp(P, a.role.deployer);
  try {
    const child = spawn(path.join(bin, 'runway'), ['extend', '--rpc-url', dn.rpc_url, '--provider', P, '--app', app,
      '--duration', '1h', '--key-file', keys.user1, '--yes', '--timeout', '60s'],
    { env: { PATH: process.env.PATH, ...san }, stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    child.stderr.on('data', (b) => { err += b; });
    const done = new Promise((resolve) => child.on('exit', (code) => resolve(code)));
    const deadline = Date.now() + 30000;
    while (!/extendRunway: sent/.test(err)) {
      assert.ok(Date.now() < deadline, `the run did not send: ${err}`);
      await new Promise((r) => setTimeout(r, 50));
    }
    // The owner's pause pays a higher tip: it goes first in the block.
    const t = await owner.pause({ maxFeePerGas: 100n * 10n ** 9n, maxPriorityFeePerGas: 50n * 10n ** 9n });
    await rpc(dn.rpc_url, 'evm_mine', []);
    assert.equal((await waitReceipt(a.provider, t.hash)).status, 1);
    assert.equal(await done, 1, err);
    assert.match(err, /extendRunway 0x[0-9a-f]{64} reverted on chain in block \d+ \(gas used \d+ of \d+\)/);
    assert.equal(await nonceOf(payer), n0 + 1);
    assert.equal(await runwayOf(app), 0n);
  } finally {
    await rpc(dn.rpc_url, 'evm_setAutomine', [true]);
    if (await a.vnp(P, a.provider).paused()) await send(owner.unpause());
  }
  await send(a.tt18(a.role.user1).approve(P, 0));
});

test('without --yes: asks on the terminal; no cancels, yes sends', { skip: !fs.existsSync('/usr/bin/script') && 'no script(1)' }, async () => {
  const app = newApp();
  const cmd = [path.join(bin, 'runway'), 'extend', '--rpc-url', dn.rpc_url, '--provider', P, '--app', app, '--duration', '1h',
    '--key-file', keys.user1].join(' ');
  const tty = (answer) => spawnSync('script', ['-qec', cmd, '/dev/null'], {
    input: answer, encoding: 'utf8', timeout: 120000, env: { PATH: process.env.PATH, ...san },
  });
  let r = tty('n\n');
  assert.equal(r.status, 1, r.stdout);
  assert.match(r.stdout, /send approve and extendRunway\? \[y\/N\] /);
  assert.match(r.stdout, /cancelled: nothing sent/);
  assert.equal(await runwayOf(app), 0n);
  r = tty('y\n');
  assert.equal(r.status, 0, r.stdout);
  assert.match(r.stdout, /^time left\s+1 hour 0 minutes \(3600 s\)/m);
  assert.ok((await runwayOf(app)) > 0n);
});

test('the USDC provider: 6 decimals, the payee gets exactly the cost', async () => {
  const app = newApp();
  const payee = dn.providers.ProviderUSDC.payee;
  const usdc = a.usdc(a.role.deployer);
  const before0 = BigInt(await usdc.balanceOf(payee));
  const r = extend(['--provider', U6, '--app', app, '--duration', '1d', '--key-file', keys.user1, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  const cost = BigInt(dn.providers.ProviderUSDC.price) * 86400n;
  assert.equal(j.cost, cost.toString());
  assert.equal(j.cost_units, '0.864000');
  assert.equal(BigInt(await usdc.balanceOf(payee)) - before0, cost);
});

test('usage errors: exit 2, a message, nothing on standard output', () => {
  const app = newApp();
  const k = ['--key-file', keys.user1];
  const base = ['--provider', P, '--app', app];
  const cases = [
    [['extend', ...base, '--duration', '1d', ...k, '--yes'], /extend needs a node: --rpc-url URL, RUNWAY_RPC_URL or --config FILE/],
    [['extend', '--rpc-url', dn.rpc_url, '--app', app, '--duration', '1d', ...k], /extend needs --provider ADDR/],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', P, '--duration', '1d', ...k], /extend needs --app ADDR/],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', '0x1234', '--app', app, '--duration', '1d', ...k], /--provider '0x1234' is not a 0x-prefixed 20-byte address/],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', P.toLowerCase().replace('0x', '0X'), '--app', app, '--duration', '1d', ...k], /not a 0x-prefixed/],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', P, '--app', app.slice(0, 2) + app.slice(2).split('').map((c) => (/[a-f]/.test(c) ? c.toUpperCase() : /[A-F]/.test(c) ? c.toLowerCase() : c)).join(''), '--duration', '1d', ...k], /--app 0x[0-9a-fA-F]{40} has a wrong EIP-55 checksum/],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', P, '--app', ethers.ZeroAddress, '--duration', '1d', ...k], /--app must not be the zero address/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, ...k, '--yes'], /extend needs exactly one of --duration D and --seconds N/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--seconds', '5', ...k, '--yes'], /exactly one of/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '0d', ...k, '--yes'], /--duration '0d' is not a duration/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--seconds', '1.5', ...k, '--yes'], /--seconds needs a whole number, not '1\.5'/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--yes'], /extend needs the payer's key: exactly one of --keystore FILE and --key-file FILE/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', ...k, '--keystore', 'x.json', '--yes'], /exactly one of --keystore FILE and --key-file FILE/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', ...k], /extend asks before sending and standard input is not a terminal: pass --yes to send without asking \(or --dry-run\)/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--max-cost', 'abc', ...k, '--yes'], /--max-cost 'abc' is not a token amount \(40, 39\.98\) or base units/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--max-cost', '-1', ...k, '--yes'], /--max-cost '-1' is not a token amount/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--fee-cap', '0', ...k, '--yes'], /--fee-cap '0' is not a fee per gas above zero/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--fee-cap', '1.5', ...k, '--yes'], /--fee-cap '1\.5' is not a fee per gas/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--timeout', 'soon', ...k, '--yes'], /--timeout 'soon' is not a duration/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--chain-id', 'x1', ...k, '--yes'], /--chain-id needs a number above zero, not 'x1'/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', ...k, '--yes', '--frobnicate'], /extend: unknown argument '--frobnicate'/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--key-file', '-'], /extend asks before sending/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--duration', '1d', '--provider'], /--provider needs a value|needs a value/],
    [['app'], /app: a subcommand is needed \(status\)/],
    [['app', 'show'], /app: unknown subcommand 'show' \(status\)/],
    [['app', 'status', '--rpc-url', dn.rpc_url, '--app', app], /app status needs --provider ADDR/],
    [['app', 'status', '--rpc-url', dn.rpc_url, '--provider', P], /app status needs --app ADDR/],
    [['app', 'status', ...base], /app status needs a node \(--rpc-url URL, RUNWAY_RPC_URL or --config FILE\) or a database/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--source', 'disk'], /--source is mirror or chain, not 'disk'/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--history', '1001'], /--history is at most 1000/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--history', 'all'], /--history needs a whole number, not 'all'/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--source', 'mirror', '--from-block', '5'], /--from-block is for --source chain/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--chain-id', '0'], /--chain-id needs a number above zero/],
    [['app', 'status', '--rpc-url', dn.rpc_url, ...base, '--verbose'], /app status: unknown argument '--verbose'/],
  ];
  for (const [args, re] of cases) {
    const r = runway(args, { env: { RUNWAY_DATABASE_URL: '' } });
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
  }
});

test('failures: exit 1 with the reason (dead node, not a provider, unreadable key)', () => {
  const base = ['--provider', P, '--app', newApp(), '--duration', '1d', '--yes'];
  const cases = [
    [['extend', '--rpc-url', 'http://127.0.0.1:1', ...base, '--key-file', keys.user1], /cannot read the chain id of the node http:\/\/127\.0\.0\.1:1: .*(Couldn't connect|transport)/i],
    [['extend', '--rpc-url', dn.rpc_url, '--provider', dn.accounts.user1.address, '--app', newApp(), '--duration', '1d', '--yes', '--key-file', keys.user1], /cannot read provider 0x[0-9a-fA-F]{40}: token\(\) returned no data/],
    [['extend', '--rpc-url', dn.rpc_url, ...base, '--key-file', path.join(state, 'missing.key')], /missing\.key/],
    [['app', 'status', '--rpc-url', 'http://127.0.0.1:1', '--provider', P, '--app', newApp()], /cannot read the chain id of the node/],
    [['app', 'status', '--rpc-url', dn.rpc_url, '--provider', P, '--app', newApp(), '--chain-id', '5'], /wrong chain: expected chain 5 \(--chain-id\) but the node http:\/\/127\.0\.0\.1:\d+ serves chain 31337/],
  ];
  for (const [args, re] of cases) {
    const r = runway(args, { env: { RUNWAY_DATABASE_URL: '' } });
    assert.equal(r.code, 1, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.out, '', args.join(' '));
  }
});

test('--help', () => {
  let r = runway(['extend', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: runway extend --provider ADDR --app ADDR/);
  assert.match(r.out, /--max-cost AMOUNT/);
  assert.match(r.out, /--keystore FILE/);
  assert.match(r.out, /Exit status: 0 extended/);
  r = runway(['app', 'status', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /^Usage: runway app status --provider ADDR --app ADDR/);
  r = runway(['app', '--help']);
  assert.equal(r.code, 0);
  assert.match(r.out, /status  an application's runway/);
  r = runway(['--help']);
  assert.match(r.out, /^ {2}extend {2,}buy runway/m);
  assert.match(r.out, /^ {2}app status {2,}/m);
});

// Two payers extend one application; returns { app, until, ... }.
let funded;
async function fundTwice() {
  if (funded) return funded;
  const app = newApp();
  let r = extend(['--provider', P, '--app', app, '--duration', '2w', '--key-file', keys.user1, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j1 = JSON.parse(r.out);
  r = extend(['--provider', P, '--app', app, '--duration', '1d', '--key-file', keys.user3, '--yes', '--json']);
  assert.equal(r.code, 0, r.err);
  const j2 = JSON.parse(r.out);
  funded = { app, j1, j2 };
  return funded;
}

test('app status from the chain: active, funded by, history, lapsed, never funded', async () => {
  const { app, j1, j2 } = await fundTwice();
  let r = status(['--provider', P, '--app', app, '--json']);
  assert.equal(r.code, 0, r.err);
  let j = JSON.parse(r.out);
  const now = await latestTimestamp(dn.rpc_url);
  assert.equal(j.source, 'chain');
  assert.equal(j.status, 'active');
  assert.equal(j.until, j2.until);
  assert.equal(BigInt(j.until), await runwayOf(app));
  assert.equal(j.block_time, now);
  assert.equal(j.seconds_left, j.until - now);
  assert.equal(j.funded_by, dn.accounts.user3.address);
  assert.equal(j.extensions, 2);
  assert.equal(j.cost_per_day, (PRICE * 86400n).toString());
  assert.deepEqual(j.history.map((h) => [h.payer, h.amount, h.until, h.tx_hash]), [
    [dn.accounts.user3.address, (PRICE * 86400n).toString(), j2.until, j2.transactions.at(-1).hash],
    [dn.accounts.user1.address, COST_2W.toString(), j1.until, j1.transactions.at(-1).hash],
  ]);
  r = status(['--provider', P, '--app', app, '--history', '1']);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /^status\s+active$/m);
  assert.match(r.out, /^time left\s+1[45] days \d+ hours \(\d+ s\)$/m);
  assert.match(r.out, /^extensions\s+2$/m);
  assert.match(r.out, new RegExp(`^funded by\\s+${dn.accounts.user3.address}$`, 'm'));
  assert.equal((r.out.match(/^ {2}block \d+ /gm) || []).length, 1);
  assert.match(r.out, /paid 2\.855714285714313600 TT18/);

  // Lapsed: an hour bought, two hours passed.
  const short = newApp();
  assert.equal(extend(['--provider', P, '--app', short, '--duration', '1h', '--key-file', keys.user1, '--yes']).code, 0);
  await increaseTime(dn.rpc_url, 7200);
  j = JSON.parse(status(['--provider', P, '--app', short, '--json']).out);
  assert.equal(j.status, 'lapsed');
  assert.equal(j.seconds_left, 0);
  assert.equal(BigInt(j.until), await runwayOf(short));
  assert.ok(j.block_time >= j.until + 3600);
  r = status(['--provider', P, '--app', short]);
  assert.match(r.out, /^status\s+lapsed$/m);
  assert.match(r.out, /^time left\s+none \(0 s\)$/m);

  r = status(['--provider', P, '--app', newApp(), '--json']);
  j = JSON.parse(r.out);
  assert.equal(j.status, 'never funded');
  assert.equal(j.until, 0);
  assert.equal(j.until_iso, null);
  assert.equal(j.funded_by, null);
  assert.deepEqual(j.history, []);
  r = status(['--provider', P, '--app', newApp()]);
  assert.match(r.out, /^status\s+never funded$/m);
  assert.match(r.out, /^until\s+-$/m);
});

test('app status from the mirror (runwayd indexed the devnet) agrees with the chain', async () => {
  assert.ok(process.env.RUNWAY_TEST_DATABASE_URL, 'run under tests/pg/with-pg');
  const { app } = await fundTwice();
  const url = createDatabase('cli_extend');
  const config = writeConfig(state, path.join(state, 'devnet.json'), (cfg, ch) => {
    ch.poll_interval_ms = 200;
    ch.confirmations = 2;
  });
  const d = startRunwayd(config, url, path.join(state, 'runwayd.log'));
  try {
    await waitCaughtUp(url, a.provider, 31337, d);
  } finally {
    const s = await stopRunwayd(d, 'SIGTERM');
    assert.equal(s.code, 0, d.log().slice(-3000));
  }
  const env = { RUNWAY_DATABASE_URL: url };
  let r = runway(['app', 'status', '--provider', P, '--app', app, '--json'], { env });
  assert.equal(r.code, 0, r.err);
  const m = JSON.parse(r.out);
  const c = JSON.parse(status(['--provider', P, '--app', app, '--json', '--source', 'chain'], { env }).out);
  assert.equal(m.source, 'mirror');
  for (const k of ['chain_id', 'block', 'block_time', 'provider', 'application', 'status', 'until', 'until_iso',
    'seconds_left', 'token', 'symbol', 'decimals', 'payee', 'price', 'price_units', 'cost_per_day', 'provider_paused',
    'funded_by', 'extensions']) {
    assert.deepEqual(m[k], c[k], k);
  }
  assert.deepEqual(m.history.map((h) => [h.block, h.block_time, h.tx_hash, h.payer, h.amount, h.amount_units, h.until, h.until_iso]),
    c.history.map((h) => [h.block, h.block_time, h.tx_hash, h.payer, h.amount, h.amount_units, h.until, h.until_iso]));
  assert.equal(m.funded_total, (COST_2W + PRICE * 86400n).toString());
  assert.deepEqual([...m.funders].sort(), [dn.accounts.user1.address, dn.accounts.user3.address].sort());
  assert.deepEqual(m.history.map((h) => h.restarted), [false, true]);
  assert.deepEqual(m.history.map((h) => h.seconds), [86400, 1209600]);

  r = runway(['app', 'status', '--provider', P, '--app', app], { env });
  assert.match(r.out, /^source\s+mirror at block \d+$/m);
  assert.match(r.out, /^extensions\s+2 \(total 42\.835714285714704000 TT18\)$/m);
  // An application the mirror has not seen, on a provider it indexes.
  r = runway(['app', 'status', '--provider', P, '--app', newApp(), '--json'], { env });
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).status, 'never funded');
  // A provider it does not index; a dead database.
  r = runway(['app', 'status', '--provider', dn.accounts.user1.address, '--app', app], { env });
  assert.equal(r.code, 1);
  assert.match(r.err, /the mirror does not index provider 0x[0-9a-fA-F]{40}: add it to the configuration, or read the chain with --source chain/);
  r = runway(['app', 'status', '--provider', P, '--app', app, '--database-url', 'postgresql://127.0.0.1:1/x']);
  assert.equal(r.code, 1);
  assert.match(r.err, /127\.0\.0\.1:1/);
  assert.equal(r.out, '');
});
