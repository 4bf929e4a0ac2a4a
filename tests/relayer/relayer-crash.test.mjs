// relayer-crash.test.mjs: kill -9 the relayer at every step of a round and
// at random moments under load, restart it, and check on chain that every
// intent executed exactly once (its mint happened once) and that no nonce
// was burned (every nonce used by exactly one of our mined transactions,
// no gap fillers needed) or reused. Also: the database restarting under it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import {
  startEnv, Driver, fileIntent, waitStates, waitFor, mintData, sql1, sqlJson, checkNonces, mine,
  ethers, quote, sleep,
} from './helpers.mjs';

let env;
before(async () => {
  env = await startEnv('crash');
});
after(async () => {
  await env.stop();
});

const GWEI = 1000000000n;
const hex = (v) => '0x' + v.toString(16);
let seq = 0;

/** Files n mint intents to fresh recipients with distinct amounts. */
function fileMints(prefix, signer, n) {
  const out = [];
  for (let i = 0; i < n; i++) {
    const to = ethers.Wallet.createRandom().address;
    const amount = BigInt(1000 + seq++);
    const key = `mint:${prefix}:${i}`;
    fileIntent(env, key, { target: env.tokenAddress, data: mintData(to, amount), signer: signer.address });
    out.push({ key, to, amount });
  }
  return out;
}

/** Each intent minted exactly its amount once; every nonce ours, no fillers. */
async function checkExactlyOnce(signer, mints) {
  await waitStates(env, mints.map((m) => m.key), ['confirmed', 'final'], { timeoutMs: 120000 });
  for (const m of mints) assert.equal(await env.token.balanceOf(m.to), m.amount, `${m.key} executed exactly once`);
  const { count, mined } = await checkNonces(env, signer.address);
  assert.equal(count, mined.length, 'every nonce used by one of our mined transactions');
  assert.equal(mined.filter((t) => t.kind === 'filler').length, 0, 'no nonce burned: no gap fillers');
  const perIntent = sqlJson(env.url, `SELECT intent_key, count(*) AS n FROM relayer_txs
    WHERE signer = ${quote(signer.address.toLowerCase())} AND state = 'mined' GROUP BY intent_key HAVING count(*) > 1`);
  assert.deepEqual(perIntent, [], 'no intent mined twice');
  return count;
}

const STEPS = ['assigned', 'broadcast', 'sent', 'receipts', 'mined', 'round'];

test('killed at every step of a round, restarted: each intent once, no nonce burned or reused', async () => {
  const signer = env.wallets[5];
  const mints = [];
  const crashed = new Set();
  for (const step of STEPS) {
    const batch = fileMints(`step-${step}`, signer, 3);
    mints.push(...batch);
    for (const n of [1, 2]) {
      const d = new Driver(env, { key: signer.privateKey, args: ['--crash-at', `${step}:${n}`] }).start();
      const r = await Promise.race([d.exit(), waitStates(env, batch.map((m) => m.key), ['confirmed', 'final'])
        .then(() => null)]);
      if (r === null) {
        await d.kill();
        continue;
      }
      assert.equal(r.signal, 'SIGKILL', `killed itself at ${step}:${n}\n${d.log}`);
      assert.match(d.log, new RegExp(`crashing at ${step}`));
      crashed.add(step);
    }
  }
  assert.deepEqual([...crashed].sort(), [...STEPS].sort(), 'a crash at every step');
  const d = new Driver(env, { key: signer.privateKey }).start();
  const count = await checkExactlyOnce(signer, mints);
  assert.equal(count, mints.length);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('killed between a fee bump\'s commit and its broadcast: the bump is sent after the restart', async () => {
  const signer = env.wallets[6];
  await env.rpc('evm_setAutomine', [false]);
  try {
    await env.rpc('anvil_setNextBlockBaseFeePerGas', [hex(GWEI)]);
    await mine(env);
    const [m] = fileMints('bump-crash', signer, 1);
    const args = ['--stuck-blocks', '1', '--stuck-ms', '200', '--rebroadcast-ms', '200'];
    const d1 = new Driver(env, { key: signer.privateKey, args: [...args, '--crash-at', 'replaced'] }).start();
    await waitFor(() => sql1(env.url, `SELECT state FROM relayer_txs WHERE intent_key = ${quote(m.key)}`) === 'sent', { what: 'sent' });
    await env.rpc('anvil_setNextBlockBaseFeePerGas', [hex(500n * GWEI)]);
    await mine(env);
    await env.rpc('anvil_setNextBlockBaseFeePerGas', [hex(500n * GWEI)]);
    await mine(env);
    assert.equal((await d1.exit()).signal, 'SIGKILL');
    const rows = sqlJson(env.url, `SELECT attempt, state, hash FROM relayer_txs WHERE intent_key = ${quote(m.key)} ORDER BY attempt`);
    assert.equal(rows.length, 2, 'the bump was stored before the crash');
    assert.deepEqual(rows.map((r) => r.state), ['replaced', 'signed'], 'and never sent');
    assert.equal(await env.provider.getTransaction(rows[1].hash), null);
    const d2 = new Driver(env, { key: signer.privateKey, args }).start();
    await waitFor(async () => (await env.provider.getTransaction(rows[1].hash)) !== null, { what: 'the bump sent after the restart' });
    await mine(env);
    await env.rpc('evm_setAutomine', [true]);
    await checkExactlyOnce(signer, [m]);
    assert.deepEqual(await d2.stop(), { code: 0, signal: null });
  } finally {
    await env.rpc('evm_setAutomine', [true]);
  }
});

test('kill -9 at random moments under load, with transactions in flight: each intent once', async () => {
  const signer = env.wallets[7];
  const mints = fileMints('random', signer, 30);
  let rnd = 12345;
  const random = (n) => {
    rnd = (rnd * 1103515245 + 12345) % 2147483648;
    return rnd % n;
  };
  let inflightKills = 0;
  for (let round = 0; round < 14; round++) {
    const manual = random(3) === 0;
    if (manual) {
      await env.rpc('evm_setAutomine', [false]);
      // work for this round: with automine off its transactions stay in
      // flight until a block is mined (the relayer takes a batch of intents
      // in a few ms; without new work a kill would only find settled ones)
      mints.push(...fileMints(`random-${round}`, signer, 4));
    }
    const d = new Driver(env, { key: signer.privateKey, args: ['--rebroadcast-ms', '200'] }).start();
    await sleep(40 + random(400));
    if (manual && random(2)) await mine(env);
    await d.kill();
    if (Number(sql1(env.url, `SELECT count(*) FROM relayer_tx WHERE signer = rw_unhex(${quote(signer.address.toLowerCase())})
      AND state IN ('signed', 'sent')`)) > 0) inflightKills++;
    if (manual) {
      await env.rpc('evm_setAutomine', [true]);
      if (random(2)) await mine(env);
    }
    if (round === 5) mints.push(...fileMints('random-late', signer, 10));
  }
  assert.ok(inflightKills >= 1, 'some kills found transactions in flight');
  const d = new Driver(env, { key: signer.privateKey }).start();
  const count = await checkExactlyOnce(signer, mints);
  assert.equal(count, mints.length);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});

test('the database restarts under the relayer: it reconnects and finishes the work once', async (t) => {
  const helper = process.env.RUNWAY_TEST_PG_HELPER;
  if (!helper) {
    t.skip('not under tests/pg/with-pg');
    return;
  }
  const signer = env.wallets[8];
  const mints = fileMints('pg-restart', signer, 12);
  const d = new Driver(env, { key: signer.privateKey }).start();
  await waitFor(() => Number(sql1(env.url, `SELECT count(*) FROM relayer_intent WHERE key LIKE 'mint:pg-restart:%' AND state <> 'queued'`)) >= 1,
    { what: 'work started' });
  const r = spawnSync(helper, ['ctl', 'restart'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const count = await checkExactlyOnce(signer, mints);
  assert.equal(count, mints.length);
  assert.deepEqual(await d.stop(), { code: 0, signal: null });
});
