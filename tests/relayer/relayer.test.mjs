// relayer.test.mjs: the relayer on a real anvil and PostgreSQL: intents
// filed through SQL are estimated, signed, stored, sent and confirmed once;
// filing is idempotent by key; a revert at estimation is reported with its
// decoded reason and nothing is sent; the in-flight cap; a signer that
// cannot pay keeps its intents queued; keys from keystores; two endpoints;
// an indexer commit makes a relayer with a nonce open look at once.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import {
  startEnv, Driver, fileIntent, intent, waitStates, waitFor, waitLog, mintData, sql1, sqlRows,
  sqlJson, events, checkNonces, mine, ethers, CHAIN_ID, quote, waitReceipt,
} from './helpers.mjs';

let env;
before(async () => {
  env = await startEnv('basic');
});
after(async () => {
  await env.stop();
});

const addr = (w) => w.address.toLowerCase();

test('intents are signed, sent and confirmed exactly once; filing is idempotent by key', async () => {
  const signer = env.wallets[5];
  const keys = [];
  for (let i = 0; i < 6; i++) {
    const to = ethers.Wallet.createRandom().address;
    const k = `mint:basic:${i}`;
    keys.push([k, to, 1000n + BigInt(i)]);
    fileIntent(env, k, { target: env.tokenAddress, data: mintData(to, 1000n + BigInt(i)), signer: signer.address });
  }
  const metrics = path.join(env.dir, 'metrics.txt');
  const d = new Driver(env, { key: signer.privateKey, args: ['--metrics-file', metrics] }).start();
  await waitStates(env, keys.map((k) => k[0]), ['confirmed', 'final']);
  for (const [, to, amount] of keys) assert.equal(await env.token.balanceOf(to), amount, `minted once to ${to}`);
  // filing again: the same intent, nothing new happens
  const again = fileIntent(env, keys[0][0], { target: env.tokenAddress, data: mintData(keys[0][1], 1000n), signer: signer.address });
  assert.equal(again.state === 'confirmed' || again.state === 'final', true);
  assert.equal(Number(sql1(env.url, `SELECT count(*) FROM relayer_intent WHERE key = ${quote(keys[0][0])}`)), 1);
  // another payload under the same key is refused with RW001
  assert.throws(() => fileIntent(env, keys[0][0], { target: env.tokenAddress, data: mintData(keys[0][1], 999n), signer: signer.address }),
    /already exists with a different payload/);
  const { count, mined } = await checkNonces(env, signer.address);
  assert.equal(count, 6);
  assert.equal(mined.length, 6);
  assert.deepEqual(mined.map((m) => m.intent_key).sort(), keys.map((k) => k[0]).sort());
  // metrics and the health view
  await waitFor(() => fs.existsSync(metrics) && /state="confirmed"} 6/.test(fs.readFileSync(metrics, 'utf8')),
    { what: 'metrics with 6 confirmed intents' });
  const m = fs.readFileSync(metrics, 'utf8');
  assert.match(m, /runway_relayer_nonce\{chain="local",signer="0x[0-9a-f]{40}",kind="local"\} 6/);
  assert.match(m, /runway_relayer_nonce\{[^}]*kind="chain"\} 6/);
  assert.match(m, /runway_relayer_balance_wei\{[^}]*\} \d+/);
  assert.match(m, /runway_relayer_inflight\{[^}]*\} 0/);
  const h = sqlJson(env.url, `SELECT * FROM relayer_health WHERE signer = ${quote(addr(signer))}`)[0];
  assert.equal(h.local_nonce, 6);
  assert.equal(h.chain_nonce, 6);
  assert.equal(h.inflight, 0);
  assert.ok(BigInt(h.spend_7d) > 0n, 'gas spending is measured');
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('a revert at estimation fails the intent with the decoded reason and sends nothing', async () => {
  const signer = env.wallets[6];
  const owner = env.wallets[0].address;
  const i = new ethers.Interface((await import('./helpers.mjs')).loadArtifact('TestToken').abi);
  const data = i.encodeFunctionData('transferFrom', [owner, signer.address, 5n]);
  fileIntent(env, 'charge:31337:no-allowance:1', { target: env.tokenAddress, data, signer: signer.address });
  const before = await env.provider.getTransactionCount(signer.address);
  const d = new Driver(env, { key: signer.privateKey }).start();
  await waitStates(env, ['charge:31337:no-allowance:1'], ['failed']);
  const it = intent(env, 'charge:31337:no-allowance:1');
  assert.match(it.reason, /^InsufficientAllowance\(owner=0x[0-9a-fA-F]{40}, spender=0x[0-9a-fA-F]{40}, allowance=0, needed=5\)$/);
  assert.equal(it.nonce, null);
  assert.equal(Number(sql1(env.url, `SELECT count(*) FROM relayer_tx WHERE intent_id = ${it.id}`)), 0, 'nothing signed');
  assert.equal(await env.provider.getTransactionCount(signer.address), before, 'nothing sent');
  const ev = events(env, 'estimate_reverted');
  assert.ok(ev.some((e) => e.message.includes('InsufficientAllowance')), 'reported');
  await waitLog(d, /charge:31337:no-allowance:1: failed, not sent: gas estimation reverted: InsufficientAllowance/);
  // after the cause is fixed, retry sends it
  const tok = env.token.connect(env.wallets[0]);
  await waitReceipt(env.provider, (await tok.mint(owner, 5n)).hash);
  await waitReceipt(env.provider, (await tok.approve(signer.address, 5n)).hash);
  sql1(env.url, `SELECT state FROM rw_intent_retry('charge:31337:no-allowance:1')`);
  await waitStates(env, ['charge:31337:no-allowance:1'], ['confirmed', 'final']);
  assert.equal(await env.token.balanceOf(signer.address), 5n);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('a dependent intent waits while the transaction it needs is in flight', async () => {
  const signer = env.wallets[7];
  const i = new ethers.Interface((await import('./helpers.mjs')).loadArtifact('TestToken').abi);
  // mint to the signer, then transfer from it: the transfer reverts at
  // estimation until the mint is mined
  await env.rpc('evm_setAutomine', [false]);
  try {
    fileIntent(env, 'mint:dep:1', { target: env.tokenAddress, data: mintData(signer.address, 50n), signer: signer.address });
    fileIntent(env, 'refund:dep:1', { target: env.tokenAddress,
      data: i.encodeFunctionData('transfer', [env.wallets[8].address, 50n]), signer: signer.address });
    // 200 ms between estimates, 100 of them: the deferral lasts long enough
    // to be seen on a busy machine (5 would end it within a second).
    const d = new Driver(env, { key: signer.privateKey, args: ['--estimate-retry-ms', '200', '--estimate-retries', '100'] }).start();
    await waitFor(() => intent(env, 'mint:dep:1').state === 'pending', { what: 'mint pending' });
    await waitFor(() => /waiting/.test(intent(env, 'refund:dep:1').reason || ''), { what: 'refund deferred' });
    assert.equal(intent(env, 'refund:dep:1').state, 'queued');
    await env.rpc('evm_setAutomine', [true]);
    await mine(env);
    await waitStates(env, ['mint:dep:1', 'refund:dep:1'], ['confirmed', 'final']);
    assert.equal(await env.token.balanceOf(env.wallets[8].address), 50n);
    assert.ok(events(env, 'estimate_deferred').length >= 1);
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  } finally {
    await env.rpc('evm_setAutomine', [true]);
  }
});

test('backpressure: at most max_inflight transactions in flight; the rest waits queued', async () => {
  const signer = env.wallets[9];
  await env.rpc('evm_setAutomine', [false]);
  try {
    const keys = [];
    for (let i = 0; i < 5; i++) {
      keys.push(`mint:cap:${i}`);
      fileIntent(env, keys[i], { target: env.tokenAddress, data: mintData(env.wallets[10].address, 1n), signer: signer.address });
    }
    const d = new Driver(env, { key: signer.privateKey, args: ['--max-inflight', '2'] }).start();
    const inflight = () => Number(sql1(env.url, `SELECT count(*) FROM relayer_tx WHERE signer = rw_unhex(${quote(addr(signer))}) AND state IN ('signed', 'sent')`));
    await waitFor(() => inflight() === 2, { what: '2 in flight' });
    await new Promise((r) => setTimeout(r, 800));
    assert.equal(inflight(), 2, 'the cap holds over several rounds');
    assert.equal(Number(sql1(env.url, `SELECT count(*) FROM relayer_intent WHERE key LIKE 'mint:cap:%' AND state = 'queued'`)), 3);
    for (let i = 0; i < 10 && Number(sql1(env.url, `SELECT count(*) FROM relayer_intent WHERE key LIKE 'mint:cap:%' AND state IN ('confirmed', 'final')`)) < 5; i++) {
      await mine(env);
      await new Promise((r) => setTimeout(r, 500));
    }
    await waitStates(env, keys, ['confirmed', 'final']);
    assert.equal(await env.token.balanceOf(env.wallets[10].address), 5n);
    await checkNonces(env, signer.address);
    assert.deepEqual(await d.stop(), { code: 0, signal: null });
  } finally {
    await env.rpc('evm_setAutomine', [true]);
  }
});

test('a signer that cannot pay keeps its intents queued and says so; funded, it goes on', async () => {
  const signer = env.wallets[11];
  await env.rpc('anvil_setBalance', [signer.address, '0x1000']);
  fileIntent(env, 'mint:poor:1', { target: env.tokenAddress, data: mintData(env.wallets[12].address, 7n), signer: signer.address });
  const d = new Driver(env, { key: signer.privateKey }).start();
  await waitFor(() => sql1(env.url, `SELECT status FROM relayer_signer WHERE address = rw_unhex(${quote(addr(signer))})`) === 'cannot_pay',
    { what: 'status cannot_pay' });
  assert.equal(intent(env, 'mint:poor:1').state, 'queued');
  assert.ok(events(env, 'cannot_pay').length >= 1, 'reported as cannot_pay');
  await env.rpc('anvil_setBalance', [signer.address, '0xde0b6b3a7640000']); // 1 ether
  await waitStates(env, ['mint:poor:1'], ['confirmed', 'final']);
  await waitFor(() => sql1(env.url, `SELECT status FROM relayer_signer WHERE address = rw_unhex(${quote(addr(signer))})`) !== 'cannot_pay',
    { what: 'status back from cannot_pay' });
  assert.ok(events(env, 'funds_ok').length >= 1 || events(env, 'low_balance').length >= 1);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('the key comes from a keystore with its passphrase; a wrong one is refused without leaking it', async () => {
  const signer = env.wallets[13];
  const ks = path.join(env.dir, 'relayer.keystore.json');
  const json = await ethers.encryptKeystoreJson({ address: signer.address, privateKey: signer.privateKey },
    'correct horse battery', { scrypt: { N: 1024 } });
  fs.writeFileSync(ks, json, { mode: 0o600 });
  const pf = path.join(env.dir, 'pass.txt');
  fs.writeFileSync(pf, 'correct horse battery\n', { mode: 0o600 });
  fileIntent(env, 'mint:ks:1', { target: env.tokenAddress, data: mintData(env.wallets[14].address, 3n), signer: signer.address });
  const bad = new Driver(env, { keystore: { keystore: ks, passphrase_env: 'RELAYER_PASS' },
    env: { RELAYER_PASS: 'wrong horse' } }).start();
  const r = await bad.exit();
  assert.equal(r.code, 1);
  assert.match(bad.log, /wrong passphrase/);
  assert.doesNotMatch(bad.log, /wrong horse|correct horse/);
  fs.chmodSync(pf, 0o644);
  const open = new Driver(env, { keystore: { keystore: ks, passphrase_file: pf } }).start();
  assert.equal((await open.exit()).code, 1);
  assert.match(open.log, /chmod 600/);
  fs.chmodSync(pf, 0o600);
  const good = new Driver(env, { keystore: { keystore: ks, passphrase_file: pf } }).start();
  await waitStates(env, ['mint:ks:1'], ['confirmed', 'final']);
  assert.equal(await env.token.balanceOf(env.wallets[14].address), 3n);
  assert.doesNotMatch(good.log, /correct horse/);
  assert.deepEqual(await good.stop(), { code: 0, signal: null });
});

test('every configured endpoint gets the transaction; a dead one does not stop it', async () => {
  const signer = env.wallets[15];
  fileIntent(env, 'mint:ep:1', { target: env.tokenAddress, data: mintData(env.wallets[16].address, 9n), signer: signer.address });
  const d = new Driver(env, { key: signer.privateKey,
    config: { rpc: [env.rpcUrl, { url: 'http://127.0.0.1:9', timeout_ms: 1000 }] } }).start();
  await waitStates(env, ['mint:ep:1'], ['confirmed', 'final']);
  await waitLog(d, /2 broadcast endpoints/);
  const tx = sqlJson(env.url, `SELECT broadcasts, state FROM relayer_txs WHERE intent_key = 'mint:ep:1'`)[0];
  assert.equal(tx.state, 'mined');
  assert.ok(tx.broadcasts >= 1);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('an indexer commit (rw_indexed_<chain>) makes a relayer with a nonce open look at once', async () => {
  const signer = env.wallets[17];
  const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
  const notify = () => sqlRows(env.url, `NOTIFY rw_indexed_${CHAIN_ID}`);
  await env.rpc('evm_setAutomine', [false]);
  // a poll of ten minutes: only a notification makes this relayer look sooner
  const d = new Driver(env, { key: signer.privateKey, args: ['--poll-ms', '600000', '--log-level', 'debug'] }).start();
  try {
    const rounds = () => (d.log.match(/round \d+ (done|ended early)/g) || []).length;
    await waitFor(() => rounds() >= 1, { what: 'the first round' });
    // nothing open: a commit is no reason to look
    const idle = rounds();
    notify();
    await sleep(1000);
    assert.equal(rounds(), idle, 'no round for a commit while no nonce is open');
    // filed: the filing's notification starts the round that sends it
    fileIntent(env, 'mint:head:1', { target: env.tokenAddress, data: mintData(env.wallets[18].address, 4n),
      signer: signer.address });
    await waitFor(() => intent(env, 'mint:head:1').state === 'pending', { what: 'mint:head:1 sent' });
    await mine(env);
    await sleep(1000);
    assert.equal(intent(env, 'mint:head:1').state, 'pending', 'mined, but the relayer has not looked since it sent');
    notify();
    await waitStates(env, ['mint:head:1'], ['confirmed', 'final'], { timeoutMs: 15000 });
    assert.equal(await env.token.balanceOf(env.wallets[18].address), 4n);
  } finally {
    await env.rpc('evm_setAutomine', [true]);
  }
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('relayer_queue and relayer_intents show the life of an intent', async () => {
  const rows = sqlJson(env.url, `SELECT key, state, attempts, block_number FROM relayer_intents WHERE key = 'mint:basic:0'`);
  assert.equal(rows.length, 1);
  assert.equal(rows[0].attempts, 1);
  assert.ok(rows[0].block_number > 0);
  assert.equal(Number(sql1(env.url, `SELECT count(*) FROM relayer_queue WHERE key LIKE 'mint:basic:%'`)), 0);
  assert.ok(sqlRows(env.url, `SELECT kind FROM relayer_event WHERE kind IN ('signed', 'mined')`).length >= 12);
  assert.equal(CHAIN_ID, 31337);
});
