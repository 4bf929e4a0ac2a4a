// steer.test.mjs: operators steer the relayer's queue (issue 6) on a real
// anvil and PostgreSQL, through the built `runway` and the relayer_driver:
// a stuck transaction bumped on request (fees by the rule and the market),
// an intent with a nonce cancelled by a no-op at its nonce (its call never
// runs), the original winning the race against the no-op (exactly once),
// every refusal (no such nonce, already mined, the fee cap, a second open
// request, mined meanwhile, nobody carrying it out), and the outputs, --json
// and error paths of `runway intents` and `runway tx list|show|bump|cancel`.
// Mining is by hand (evm_setAutomine false) where timing matters.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import {
  startEnv, Driver, fileIntent, intent, waitStates, waitFor, mintData, sql1, sqlJson, events,
  checkNonces, mine, ethers, quote, loadArtifact, CHAIN_ID,
} from './helpers.mjs';

let env;
before(async () => {
  env = await startEnv('steer');
});
after(async () => {
  await env.stop();
});

const GWEI = 1000000000n;
const hex = (v) => '0x' + v.toString(16);
const bumpMin = (v) => (v * 11n + 9n) / 10n + 1n;

/** Runs the built runway with the test database; resolves {code, out, err}. */
function runway(args, { db = true } = {}) {
  const env2 = { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
    UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '' };
  if (db) env2.RUNWAY_DATABASE_URL = env.url;
  return new Promise((resolve) => {
    const child = spawn(process.env.RUNWAY_BIN, args, { env: env2, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (b) => { out += b; });
    child.stderr.on('data', (b) => { err += b; });
    child.on('close', (code) => resolve({ code, out, err }));
  });
}

/** runway that must succeed; returns standard output. */
async function ok(args) {
  const r = await runway(args);
  assert.equal(r.code, 0, `runway ${args.join(' ')}: ${r.err}`);
  return r.out;
}

/** runway --json that must succeed; returns the parsed output. */
async function okJson(args) {
  return JSON.parse(await ok(['--json', ...args]));
}

/** The attempts at a signer's nonce, oldest first. */
const attempts = (signer, nonce) => sqlJson(env.url, `SELECT nonce, attempt, kind, state, type, gas_price,
  max_fee_per_gas, max_priority_fee_per_gas, gas_limit, hash, intent_key FROM relayer_txs
  WHERE signer = ${quote(signer.address.toLowerCase())} AND nonce = ${nonce} ORDER BY attempt`);

const byKey = (key) => sqlJson(env.url, `SELECT nonce, attempt, kind, state, hash, max_fee_per_gas,
  max_priority_fee_per_gas FROM relayer_txs WHERE intent_key = ${quote(key)} ORDER BY attempt`);

async function automine(on) {
  await env.rpc('evm_setAutomine', [on]);
}

/** Mines one block whose base fee is `fee` wei. */
async function mineAtBaseFee(fee) {
  await env.rpc('anvil_setNextBlockBaseFeePerGas', [hex(fee)]);
  await mine(env);
}

/** The next block's base fee, as the relayer reads it. */
async function nextBaseFee() {
  const h = await env.rpc('eth_feeHistory', ['0x1', 'latest', [50]]);
  return BigInt(h.baseFeePerGas.at(-1));
}

/** Files a mint of `amount` to `to` under key for signer; waits until it is sent. */
async function sentMint(key, signer, to, amount) {
  fileIntent(env, key, { target: env.tokenAddress, data: mintData(to, amount), signer: signer.address });
  await waitFor(() => byKey(key).some((a) => a.state === 'sent'), { what: `${key} sent` });
  return byKey(key)[0];
}

test('a stuck transaction is bumped on request, by the rule and the market, and confirms', async () => {
  const signer = env.wallets[5];
  const to = env.wallets[6].address;
  const key = 'mint:steer:bump';
  await automine(false);
  try {
    await mineAtBaseFee(GWEI);
    const metrics = path.join(env.dir, 'steer-metrics.txt');
    const d = new Driver(env, { key: signer.privateKey,
      args: ['--rebroadcast-ms', '300', '--metrics-file', metrics] }).start();
    const a1 = await sentMint(key, signer, to, 7n);
    // the market moves above what attempt 1 pays: it is stuck (the automatic
    // bump waits stuck_ms, a minute; the operator does not)
    await mineAtBaseFee(BigInt(a1.max_fee_per_gas) * 4n);
    const market = await nextBaseFee();
    const r = await okJson(['tx', 'bump', `${signer.address}:${a1.nonce}`, '--wait', '--timeout', '30s']);
    assert.equal(r.state, 'done', 'carried out by the relayer');
    assert.equal(r.kind, 'bump');
    assert.equal(r.intent, key);
    assert.equal(r.signer, signer.address, 'EIP-55 address');
    assert.equal(r.from_tx, a1.hash);
    const [old, bumped] = byKey(key);
    assert.equal(old.state, 'replaced');
    assert.equal(bumped.attempt, 2);
    assert.equal(bumped.nonce, a1.nonce, 'same nonce');
    assert.equal(r.tx.hash, bumped.hash);
    assert.ok(BigInt(bumped.max_fee_per_gas) >= bumpMin(BigInt(old.max_fee_per_gas)), 'max fee: old + 10% + 1');
    assert.ok(BigInt(bumped.max_priority_fee_per_gas) >= bumpMin(BigInt(old.max_priority_fee_per_gas)), 'tip: old + 10% + 1');
    assert.ok(BigInt(bumped.max_fee_per_gas) >= 2n * market, 'max fee: at least the market (2 x next base fee)');
    const onChain = await env.provider.getTransaction(bumped.hash);
    assert.ok(onChain, 'the replacement is in the node\'s pool');
    assert.equal(onChain.maxFeePerGas, BigInt(bumped.max_fee_per_gas));
    assert.equal(onChain.data, mintData(to, 7n), 'the same call');
    assert.equal(events(env, 'request_done').length, 1);
    await mine(env);
    await waitStates(env, [key], ['confirmed', 'final']);
    assert.equal(intent(env, key).tx_hash, bumped.hash, 'the bump is the mined one');
    assert.equal(await env.token.balanceOf(to), 7n, 'minted once');
    await checkNonces(env, signer.address);
    assert.equal(d.log.match(/operator's bump request #\d+: nonce \d+: bump request #\d+ done/g).length, 1);
    await waitFor(() => fs.existsSync(metrics) && /runway_relayer_requests_total\{chain="local",signer="0x[0-9a-f]{40}",outcome="done"\} 1\n/
      .test(fs.readFileSync(metrics, 'utf8')), { what: 'the request counted in the metrics' });
    assert.match(fs.readFileSync(metrics, 'utf8'), /runway_relayer_requests_total\{[^}]*outcome="refused"\} 0\n/);
    // a mined nonce: refused at once
    const again = await runway(['tx', 'bump', `${signer.address}:${a1.nonce}`]);
    assert.equal(again.code, 1);
    assert.equal(again.out, '');
    assert.match(again.err, new RegExp(`nonce ${a1.nonce} of ${signer.address.toLowerCase()} on chain ${CHAIN_ID} is already mined: ${bumped.hash} \\(${key}, now (confirmed|final)\\) in block \\d+; nothing to bump`));
    // show: both attempts, the request, the history
    const s = await ok(['tx', 'show', a1.hash]);
    assert.match(s, new RegExp(`^nonce ${a1.nonce} of ${signer.address} on chain ${CHAIN_ID} \\(local\\)\\n`));
    assert.match(s, /#1 replaced intent/);
    assert.match(s, /#2 mined {4}intent/);
    assert.match(s, /receipt: block \d+ .*status 1/);
    assert.match(s, /#\d+ bump done by \w+ at .*: attempt #2 0x/);
    assert.match(s, /bump_requested/);
    assert.match(s, /request_done/);
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  } finally {
    await automine(true);
  }
});

test('cancel replaces the call with a no-op at its nonce: the intent ends cancelled, the call never runs', async () => {
  const signer = env.wallets[7];
  const to = env.wallets[8].address;
  const key = 'mint:steer:cancel';
  await automine(false);
  try {
    await mineAtBaseFee(GWEI);
    const d = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '300'] }).start();
    const a1 = await sentMint(key, signer, to, 9n);
    const out = await ok(['tx', 'cancel', a1.hash, '--wait', '--note', 'customer withdrew']);
    assert.match(out, new RegExp(`^cancel request #\\d+ for nonce ${a1.nonce} of ${signer.address} on chain ${CHAIN_ID} \\(local\\): done\\n`));
    assert.match(out, /replaced +0x[0-9a-f]{64} by attempt #2 0x[0-9a-f]{64} \(a no-op, max fee [0-9.]+ gwei, tip [0-9.]+ gwei\)/);
    assert.match(out, new RegExp(`${key} is cancelled when the no-op is mined`));
    const [call, noop] = attempts(signer, a1.nonce);
    assert.equal(call.state, 'replaced');
    assert.equal(noop.kind, 'cancel');
    assert.equal(noop.intent_key, key, 'the no-op belongs to the intent');
    assert.equal(noop.gas_limit, 21000);
    assert.ok(BigInt(noop.max_fee_per_gas) >= bumpMin(BigInt(call.max_fee_per_gas)));
    assert.ok(BigInt(noop.max_priority_fee_per_gas) >= bumpMin(BigInt(call.max_priority_fee_per_gas)));
    const tx = await env.provider.getTransaction(noop.hash);
    assert.ok(tx, 'the no-op is in the pool');
    assert.equal(tx.to, signer.address, 'a self-transfer');
    assert.equal(tx.value, 0n);
    assert.equal(tx.gasLimit, 21000n);
    assert.equal(tx.data, '0x');
    assert.equal(tx.nonce, a1.nonce);
    assert.equal(await env.provider.getTransaction(call.hash), null, 'the call left the pool');
    assert.equal(intent(env, key).state, 'pending', 'pending until a receipt');
    assert.match(await ok(['intents', '--key', key]), /pending \(cancelling\)/);
    await mine(env);
    await waitStates(env, [key], ['cancelled']);
    const it = intent(env, key);
    assert.equal(it.tx_hash, noop.hash, 'cancelled by the no-op at its nonce');
    assert.equal(it.nonce, a1.nonce);
    assert.match(it.reason, /^cancelled by an operator: the no-op 0x[0-9a-f]{64} took nonce \d+ in block \d+; the call never ran$/);
    assert.equal(await env.token.balanceOf(to), 0n, 'the call never executed');
    assert.equal(await env.provider.getTransactionReceipt(call.hash), null, 'no receipt for the call');
    assert.equal((await env.provider.getTransactionReceipt(noop.hash)).status, 1);
    await checkNonces(env, signer.address);
    // show, as JSON: the intent, its attempts, the request with the note, the history
    const s = await okJson(['intents', 'show', key]);
    assert.equal(s.intent.state, 'cancelled');
    assert.equal(s.intent.signer, signer.address);
    assert.equal(s.intent.calldata, mintData(to, 9n));
    assert.deepEqual(s.attempts.map((a) => [a.attempt, a.kind, a.state]), [[1, 'intent', 'replaced'], [2, 'cancel', 'mined']]);
    assert.equal(s.attempts[1].gas_used, 21000);
    assert.equal(s.requests.length, 1);
    assert.equal(s.requests[0].note, 'customer withdrew');
    assert.equal(s.requests[0].state, 'done');
    assert.deepEqual(s.events.map((e) => e.kind).filter((k) => ['signed', 'cancel_requested', 'cancelling', 'request_done', 'cancelled'].includes(k)),
      ['signed', 'cancel_requested', 'cancelling', 'request_done', 'cancelled']);
    // the relayer goes on at the next nonce
    fileIntent(env, 'mint:steer:after-cancel', { target: env.tokenAddress, data: mintData(to, 1n), signer: signer.address });
    await waitFor(() => byKey('mint:steer:after-cancel').some((a) => a.state === 'sent'), { what: 'next intent sent' });
    await mine(env);
    await waitStates(env, ['mint:steer:after-cancel'], ['confirmed', 'final']);
    assert.equal(intent(env, 'mint:steer:after-cancel').nonce, a1.nonce + 1);
    assert.equal(await env.token.balanceOf(to), 1n);
    await checkNonces(env, signer.address);
    // cancelling a cancelled intent's nonce again: refused
    const again = await runway(['tx', 'cancel', `${signer.address}:${a1.nonce}`]);
    assert.equal(again.code, 1);
    assert.match(again.err, /is already mined: 0x[0-9a-f]{64} \(the no-op cancelling mint:steer:cancel\)/);
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  } finally {
    await automine(true);
  }
});

test('the original call mined before the no-op: the intent follows its receipt, exactly once', async () => {
  const signer = env.wallets[9];
  const to = env.wallets[10].address;
  const key = 'mint:steer:race';
  await automine(false);
  try {
    await mineAtBaseFee(GWEI);
    // the relayer dies after storing the no-op, before broadcasting it: the
    // original is still in the pool and wins the nonce
    const d1 = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '300', '--crash-at', 'steered'] }).start();
    const a1 = await sentMint(key, signer, to, 3n);
    const filed = await okJson(['tx', 'cancel', `${signer.address.toLowerCase()}:${a1.nonce}`]);
    assert.equal(filed.state, 'requested');
    const exit = await Promise.race([d1.exited,
      new Promise((_, reject) => setTimeout(() => reject(new Error('the driver did not reach the crash point steered in 30 s')), 30000))]);
    assert.equal(exit.signal, 'SIGKILL', 'killed itself at the crash point');
    assert.match(d1.log, /crashing at steered/);
    const [call, noop] = attempts(signer, a1.nonce);
    assert.deepEqual([call.state, noop.kind, noop.state], ['replaced', 'cancel', 'signed'], 'the no-op stored, never sent');
    assert.equal(sql1(env.url, `SELECT state FROM relayer_request WHERE id = ${filed.id}`), 'done');
    assert.equal(await env.provider.getTransaction(noop.hash), null);
    assert.ok(await env.provider.getTransaction(call.hash), 'the call is still in the pool');
    await mine(env);
    assert.equal((await env.provider.getTransactionReceipt(call.hash)).status, 1, 'the call is mined');
    const d2 = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '300'] }).start();
    await waitStates(env, [key], ['confirmed', 'final']);
    const it = intent(env, key);
    assert.equal(it.tx_hash, call.hash, 'the intent follows the call\'s receipt');
    assert.equal(await env.token.balanceOf(to), 3n, 'executed exactly once');
    const after = attempts(signer, a1.nonce);
    assert.deepEqual(after.map((a) => [a.kind, a.state]), [['intent', 'mined'], ['cancel', 'replaced']]);
    await new Promise((r) => setTimeout(r, 500));
    await mine(env);
    assert.equal(await env.provider.getTransaction(noop.hash), null, 'the no-op was never broadcast');
    await checkNonces(env, signer.address);
    assert.deepEqual(await d2.stop(), { code: 0, signal: null });
  } finally {
    await automine(true);
  }
});

test('refusals: no such nonce, the fee cap, a second open request, nobody to carry it out, mined meanwhile', async () => {
  const signer = env.wallets[11];
  const to = env.wallets[12].address;
  await automine(false);
  try {
    await mineAtBaseFee(GWEI);
    const d1 = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '300'] }).start();
    const a1 = await sentMint('mint:steer:cap', signer, to, 4n);
    // no such nonce
    let r = await runway(['tx', 'bump', `${signer.address}:999`, '--chain', 'local']);
    assert.equal(r.code, 1);
    assert.equal(r.out, '');
    assert.match(r.err, new RegExp(`^runway: nonce 999 of ${signer.address.toLowerCase()} on chain ${CHAIN_ID} has no transaction of the relayer \\(its next nonce is ${a1.nonce + 1}\\)\\n$`));
    r = await runway(['tx', 'bump', `${signer.address}:999`]);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^runway: nonce 999 of ${signer.address.toLowerCase()} has no transaction of the relayer on any chain\\n$`));
    r = await runway(['tx', 'cancel', '0x' + 'ab'.repeat(32)]);
    assert.equal(r.code, 1);
    assert.match(r.err, /no transaction of the relayer has hash 0xabab/);
    // the fee cap: a relayer whose cap is the attempt's max fee cannot bump it
    assert.deepEqual(await d1.stop(), { code: 0, signal: null });
    const capped = new Driver(env, { key: signer.privateKey,
      args: ['--rebroadcast-ms', '300', '--fee-cap', a1.max_fee_per_gas] }).start();
    r = await runway(['tx', 'bump', `${signer.address}:${a1.nonce}`, '--wait']);
    assert.equal(r.code, 1);
    assert.match(r.out, /: refused\n/);
    assert.match(r.err, new RegExp(`bump request #\\d+ refused: the replacement would need max fee ${bumpMin(BigInt(a1.max_fee_per_gas))}, tip \\d+ wei \\(the highest attempt's \\+ 10% \\+ 1\\), above the fee cap of ${a1.max_fee_per_gas} wei: nothing was replaced`));
    assert.equal(byKey('mint:steer:cap').length, 1, 'nothing replaced');
    await waitFor(() => /operator's bump request #\d+ \(nonce \d+\) refused: the replacement would need/.test(capped.log), { what: 'the refusal logged' });
    assert.deepEqual(await capped.stop(), { code: 0, signal: null });
    // nobody carries it out: --wait times out; a second request is refused
    r = await runway(['--json', 'tx', 'cancel', `${signer.address}:${a1.nonce}`, '--wait', '--timeout', '2s']);
    assert.equal(r.code, 1);
    assert.equal(JSON.parse(r.out).state, 'requested');
    assert.match(r.err, new RegExp(`cancel request #\\d+ is still open after 2s: no relayer carried it out; is runwayd running the relayer of ${signer.address} on chain ${CHAIN_ID}\\? \\(its last round was \\d+s ago\\)`));
    r = await runway(['tx', 'bump', `${signer.address}:${a1.nonce}`]);
    assert.equal(r.code, 1);
    assert.match(r.err, /a cancel request \(#\d+, filed \d+ s ago by \w+\) is already open for nonce \d+ of 0x[0-9a-f]{40} on chain \d+: the relayer carries it out in its next round/);
    assert.match(r.err, /hint: One open request per nonce/);
    // the call is mined before the relayer comes back: the request is refused
    await mine(env);
    const d2 = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '300'] }).start();
    await waitStates(env, ['mint:steer:cap'], ['confirmed', 'final']);
    await waitFor(() => sql1(env.url, `SELECT state FROM relayer_request WHERE kind = 'cancel' AND nonce = ${a1.nonce}
      AND signer = rw_unhex(${quote(signer.address.toLowerCase())})`) === 'refused', { what: 'the request refused' });
    const req = sqlJson(env.url, `SELECT * FROM relayer_requests WHERE kind = 'cancel' AND nonce = ${a1.nonce}
      AND signer = ${quote(signer.address.toLowerCase())}`)[0];
    assert.match(req.reason, /is already mined: 0x[0-9a-f]{64} \(mint:steer:cap, now (mined|confirmed|final)\) in block \d+; nothing to cancel/);
    assert.equal(await env.token.balanceOf(to), 4n, 'the call ran once');
    const s = await okJson(['tx', 'show', `${signer.address}:${a1.nonce}`]);
    assert.deepEqual(s.requests.map((q) => [q.kind, q.state]), [['bump', 'refused'], ['cancel', 'refused']]);
    assert.equal(s.intent.key, 'mint:steer:cap');
    await checkNonces(env, signer.address);
    assert.deepEqual(await d2.stop(), { code: 0, signal: null });
  } finally {
    await automine(true);
  }
});

test('runway intents: list, filters, --json, show, cancel, retry and their refusals', async () => {
  const signer = env.wallets[13];
  const owner = env.wallets[0].address;
  const abi = new ethers.Interface(loadArtifact('TestToken').abi);
  // a failed intent (reverts at estimation), a queued one (no relayer for its signer), a confirmed one
  fileIntent(env, 'charge:31337:cli:1', { target: env.tokenAddress,
    data: abi.encodeFunctionData('transferFrom', [owner, signer.address, 5n]), signer: signer.address });
  fileIntent(env, 'mint:cli:ok', { target: env.tokenAddress, data: mintData(signer.address, 2n), signer: signer.address });
  const d = new Driver(env, { key: signer.privateKey }).start();
  await waitStates(env, ['charge:31337:cli:1'], ['failed']);
  await waitStates(env, ['mint:cli:ok'], ['confirmed', 'final']);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
  fileIntent(env, 'extend:cli-queued', { target: env.tokenAddress, data: mintData(signer.address, 1n), signer: env.wallets[19].address });

  // list: header, rows, count; newest first
  let out = await ok(['intents']);
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0], /^KEY +STATE +CHAIN +SIGNER +NONCE +ATT +AGE +LAST ERROR$/);
  assert.match(lines[1], new RegExp(`^extend:cli-queued +queued +local +${env.wallets[19].address} +- +0 +\\d+s +-$`));
  assert.match(out, /charge:31337:cli:1 +failed +local +0x[0-9a-fA-F]{40} +- +0 +\d+s +InsufficientAllowance\(owner=/);
  assert.match(lines.at(-1), /^\d+ intents$/);
  // filters
  out = await ok(['intents', 'list', '--state', 'failed', '--chain', 'local']);
  assert.match(out, /charge:31337:cli:1/);
  assert.doesNotMatch(out, /mint:cli:ok/);
  assert.match(out, /\n1 intent\n$/);
  out = await ok(['intents', '--key', 'extend:cli', '--chain', String(CHAIN_ID)]);
  assert.match(out, /\n1 intent\n$/);
  let j = await okJson(['intents', '--state', 'open', '--limit', '1']);
  assert.equal(j.length, 1);
  assert.equal(j[0].key, 'extend:cli-queued');
  assert.equal(j[0].signer, env.wallets[19].address);
  assert.equal(j[0].nonce, null);
  j = await okJson(['intents', '--key', 'mint:cli:ok']);
  assert.equal(j[0].state === 'confirmed' || j[0].state === 'final', true);
  assert.equal(j[0].attempts, 1);
  assert.match(j[0].tx_hash, /^0x[0-9a-f]{64}$/);
  assert.equal(j[0].value, '0');
  assert.deepEqual(await okJson(['intents', '--key', 'nothing:']), []);
  // show
  out = await ok(['intents', 'show', 'mint:cli:ok']);
  assert.match(out, /^mint:cli:ok\nstate +(confirmed|final) at nonce 0 of 0x[0-9a-fA-F]{40}\n/);
  assert.match(out, /attempts +1\n +#1 mined +intent nonce 0, max fee [0-9.]+ gwei, tip [0-9.]+ gwei, gas \d+, 0x[0-9a-f]{64}\n/);
  assert.match(out, /receipt: block \d+ \(0x[0-9a-f]{64}\), status 1, gas used \d+ at [0-9.]+ gwei: [0-9.]+ gwei paid, confirmed/);
  assert.match(out, /history +\d+ events\n.* info +signed +mint:cli:ok: nonce 0/);
  // cancel: a queued intent
  out = await ok(['intents', 'cancel', 'extend:cli-queued', '--reason', 'customer asked']);
  assert.equal(out, 'extend:cli-queued cancelled: customer asked\n');
  j = await okJson(['intents', 'cancel', 'extend:cli-queued']);
  assert.equal(j.state, 'cancelled', 'cancelling twice changes nothing');
  assert.equal(j.reason, 'customer asked');
  // cancel: refused for a mined one, pointed to tx cancel for a pending one
  let r = await runway(['intents', 'cancel', 'mint:cli:ok']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /intent mint:cli:ok is (confirmed|final): its transaction 0x[0-9a-f]{64} is mined at nonce 0 of 0x[0-9a-f]{40}; nothing to cancel/);
  await automine(false);
  try {
    const d2 = new Driver(env, { key: signer.privateKey }).start();
    fileIntent(env, 'extend:cli-pending', { target: env.tokenAddress, data: mintData(signer.address, 1n), signer: signer.address });
    await waitFor(() => intent(env, 'extend:cli-pending').state === 'pending', { what: 'pending' });
    r = await runway(['intents', 'cancel', 'extend:cli-pending']);
    assert.equal(r.code, 1);
    assert.match(r.err, new RegExp(`^runway: intent extend:cli-pending is pending at nonce 1 of ${signer.address.toLowerCase()}: it has a transaction on the chain; use \`runway tx cancel ${signer.address.toLowerCase()}:1\`\\n`));
    assert.match(r.err, /hint: rw_tx_request\('cancel', 31337, 0x[0-9a-f]{40}, 1\) replaces it with a no-op/);
    await automine(true);
    await mine(env);
    await waitStates(env, ['extend:cli-pending'], ['confirmed', 'final']);
    assert.deepEqual(await d2.stop(), { code: 0, signal: null });
  } finally {
    await automine(true);
  }
  // retry: only failed intents
  r = await runway(['intents', 'retry', 'mint:cli:ok']);
  assert.equal(r.code, 1);
  assert.match(r.err, /intent mint:cli:ok is (confirmed|final): only failed intents are retried/);
  out = await ok(['intents', 'retry', 'charge:31337:cli:1']);
  assert.match(out, /^charge:31337:cli:1 queued: retried after: InsufficientAllowance/);
  // unknown keys
  r = await runway(['intents', 'show', 'nope:1']);
  assert.deepEqual([r.code, r.out], [1, '']);
  assert.match(r.err, /^runway: no intent nope:1\n$/);
  r = await runway(['intents', 'cancel', 'nope:1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /no intent nope:1/);
  r = await runway(['intents', 'retry', 'nope:1']);
  assert.equal(r.code, 1);
  assert.match(r.err, /no intent nope:1/);
  r = await runway(['intents', '--chain', 'atlantis']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`--chain atlantis: the database knows no such chain \\(it knows ${CHAIN_ID} \\(local\\)\\)`));
});

test('runway tx list and show: filters, --json, text', async () => {
  const signer = env.wallets[5];
  let out = await ok(['tx', 'list', '--signer', signer.address]);
  const lines = out.trimEnd().split('\n');
  assert.match(lines[0], /^CHAIN +SIGNER +NONCE +ATT +KIND +STATE +FEES +HASH +INTENT +AGE$/);
  assert.match(lines[1], new RegExp(`^local +${signer.address} +\\d+ +2 +intent +mined +max fee [0-9.]+ gwei, tip [0-9.]+ gwei +0x[0-9a-f]{64} +mint:steer:bump +\\d+s$`));
  assert.match(lines[2], /^local +0x[0-9a-fA-F]{40} +\d+ +1 +intent +replaced /);
  assert.equal(lines.at(-1), '2 transactions');
  let j = await okJson(['tx', 'list', '--state', 'mined', '--chain', 'local', '--limit', '3']);
  assert.equal(j.length, 3);
  assert.ok(j.every((t) => t.state === 'mined' && typeof t.max_fee_per_gas === 'string' && t.block_number > 0));
  j = await okJson(['tx', 'list', '--state', 'current']);
  assert.deepEqual(j, [], 'nothing in flight');
  j = await okJson(['tx', 'list', '--signer', env.wallets[7].address.toLowerCase()]);
  assert.ok(j.some((t) => t.kind === 'cancel' && t.state === 'mined' && t.gas_limit === 21000 && t.intent === 'mint:steer:cancel'));
  j = await okJson(['tx', 'show', `${env.wallets[7].address}:0`]);
  assert.equal(j.intent.key, 'mint:steer:cancel');
  assert.equal(j.intent.state, 'cancelled');
  assert.equal(j.signer, env.wallets[7].address);
  assert.equal(j.attempts.length, 2);
  assert.ok(j.events.some((e) => e.kind === 'cancelled'));
  let r = await runway(['tx', 'show', `${signer.address}:77`]);
  assert.deepEqual([r.code, r.out], [1, '']);
  assert.match(r.err, new RegExp(`nonce 77 of ${signer.address} has no transaction of the relayer`));
  r = await runway(['tx', 'show', `${signer.address}:0`, '--chain', '5']);
  assert.equal(r.code, 1);
  assert.match(r.err, /--chain 5: the database knows no such chain/);
  r = await runway(['tx', 'show', '0x' + '00'.repeat(32)]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no transaction of the relayer has hash 0x0000/);
});

test('usage errors exit 2 with nothing on stdout; help exits 0; a dead database exits 1', async () => {
  const addr = env.wallets[5].address;
  for (const args of [['intents', '--help'], ['intents', 'list', '--help'], ['intents', 'show', '--help'],
    ['intents', 'cancel', '-h'], ['intents', 'retry', '--help'], ['tx', '--help'], ['tx', 'list', '--help'],
    ['tx', 'show', '--help'], ['tx', 'bump', '--help'], ['tx', 'cancel', '--help']]) {
    const r = await runway(args, { db: false });
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, /^Usage: runway (intents|tx)/, args.join(' '));
  }
  assert.match((await runway(['--help'], { db: false })).out, /intents \[list\]\|show\|cancel\|retry/);
  assert.match((await runway(['tx', 'bump', '--help'], { db: false })).out, /ceil\(old \* 1\.1\) \+ 1/);
  const cases = [
    [['intents', 'frobnicate'], /intents: unknown subcommand 'frobnicate'/],
    [['intents', '--state', 'stuck'], /--state must be queued, pending, mined, confirmed, final, reverted, failed, cancelled or open, not 'stuck'/],
    [['intents', '--limit', '0'], /--limit needs a whole number from 1 to 10000, not '0'/],
    [['intents', '--limit', 'x'], /--limit needs a whole number/],
    [['intents', '--key', ''], /--key needs a key prefix/],
    [['intents', '--state'], /option --state needs a value/],
    [['intents', 'show'], /intents show needs the intent's KEY/],
    [['intents', 'show', 'a:1', 'b:2'], /intents show: unexpected argument 'b:2'/],
    [['intents', 'cancel', 'a:1', '--reason', ''], /--reason needs a text of 1 to 500 bytes/],
    [['intents', 'retry', 'a:1', '--reason', 'x'], /intents retry: unexpected argument '--reason'/],
    [['intents', 'list', 'a:1'], /intents list: unexpected argument 'a:1'/],
    [['tx', 'list', '--signer', '0x12'], /--signer '0x12' is not a 0x-prefixed 20-byte address/],
    [['tx', 'list', '--state', 'pending'], /--state must be signed, sent, mined, replaced, lost or current, not 'pending'/],
    [['tx', 'list', '--wait'], /tx list: unexpected argument '--wait'/],
    [['tx', 'show'], /tx show needs SIGNER:NONCE or a transaction hash/],
    [['tx', 'show', '0x1234'], /'0x1234' is neither a transaction hash \(0x and 64 hex digits\) nor SIGNER:NONCE/],
    [['tx', 'show', `${addr}:x`], new RegExp(`NONCE 'x' in '${addr}:x' is not a whole number`)],
    [['tx', 'show', `${addr}:-1`], /NONCE '-1' in .* is not a whole number/],
    [['tx', 'show', `${addr.replace(/[a-f]/, (c) => c.toUpperCase())}:1`], /SIGNER 0x[0-9a-fA-F]{40} has a wrong EIP-55 checksum/],
    [['tx', 'show', '0x' + 'ab'.repeat(32), '--chain', 'local'], /tx show: --chain goes with SIGNER:NONCE; a hash names its chain/],
    [['tx', 'bump'], /tx bump needs SIGNER:NONCE or a transaction hash/],
    [['tx', 'bump', `${addr}:1`, '--timeout', '5s'], /--timeout goes with --wait/],
    [['tx', 'bump', `${addr}:1`, '--wait', '--timeout', '0'], /--timeout needs a duration from 1s to 1d \(30s, 5m\), not '0'/],
    [['tx', 'bump', `${addr}:1`, '--wait', '--timeout', '2d'], /--timeout needs a duration from 1s to 1d/],
    [['tx', 'cancel', `${addr}:1`, '--note', ''], /--note needs a text of 1 to 500 bytes/],
    [['tx', 'cancel', `${addr}:1`, `${addr}:2`], /tx cancel: unexpected argument/],
    [['tx', 'sideways'], /tx: unknown subcommand 'sideways' \(sign, decode, list, show, bump or cancel\)/],
  ];
  for (const [args, re] of cases) {
    const r = await runway(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '', `${args.join(' ')}: nothing on stdout`);
    assert.match(r.err, re, args.join(' '));
  }
  // the same nonce on two chains: the chain must be named (a usage error)
  sql1(env.url, `INSERT INTO chain (chain_id, name) VALUES (5, 'other') ON CONFLICT DO NOTHING`);
  sql1(env.url, `INSERT INTO relayer_signer (chain_id, address, next_nonce) VALUES (5, rw_unhex(${quote(addr.toLowerCase())}), 0)`);
  sql1(env.url, `SELECT id FROM rw_intent_file('extend:other-chain', 5, rw_unhex(${quote(env.tokenAddress.toLowerCase())}), '\\x01'::bytea, 0, rw_unhex(${quote(addr.toLowerCase())}))`);
  sql1(env.url, `SELECT rw_relayer_assign(5, rw_unhex(${quote(addr.toLowerCase())}), (SELECT id FROM relayer_intent WHERE key = 'extend:other-chain'),
    0, 8, 2::smallint, NULL, 100, 10, 50000, '\\xaa', sha256('other-chain'::bytea))`);
  let r = await runway(['tx', 'show', `${addr}:0`]);
  assert.deepEqual([r.code, r.out], [2, '']);
  assert.match(r.err, new RegExp(`nonce 0 of ${addr} is on 2 chains: name one with --chain`));
  r = await runway(['tx', 'bump', `${addr}:0`]);
  assert.deepEqual([r.code, r.out], [2, '']);
  assert.match(r.err, /usage error: nonce 0 of 0x[0-9a-f]{40} has transactions on chains 5, 31337: name the chain/);
  const filed = await okJson(['tx', 'bump', `${addr}:0`, '--chain', 'other']);
  assert.equal(filed.chain_id, 5);
  assert.equal(filed.state, 'requested');
  assert.equal((await okJson(['tx', 'show', `${addr}:0`, '--chain', '5'])).intent.key, 'extend:other-chain');
  // a dead database: exit 1 naming the server, never the URL's password
  for (const args of [['intents'], ['tx', 'list'], ['tx', 'bump', `${addr}:0`]]) {
    const dead = await runway(['--database-url', 'postgresql://runway:secret@127.0.0.1:1/x', ...args], { db: false });
    assert.equal(dead.code, 1, args.join(' '));
    assert.equal(dead.out, '');
    assert.match(dead.err, /cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
    assert.doesNotMatch(dead.err, /secret/);
  }
});
