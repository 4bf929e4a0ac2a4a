// runwayd.test.mjs: the relayer inside runwayd. A configuration with a
// relayer keystore (made by `runway keys import`) makes runwayd run the
// relayer next to the indexer: an intent filed through SQL is confirmed
// and its effect is on chain exactly once, the metrics page shows the
// relayer, and SIGTERM stops everything (exit 0). A wrong passphrase or an
// unreadable keystore stops the start with a message naming the chain and
// the file, never the passphrase.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import {
  startEnv, fileIntent, intent, waitStates, waitFor, checkNonces, ethers, loadArtifact,
  waitReceipt,
} from './helpers.mjs';
import { repoRoot } from '../../tools/lib/anvil.mjs';

const PASS = 'runwayd relayer passphrase';

let env;
before(async () => {
  env = await startEnv('runwayd');
});
after(async () => {
  if (env) await env.stop();
});

const need = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} must be set (run through meson test)`);
  return v;
};

/** A free TCP port on 127.0.0.1. */
function freePort() {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}

/** Encrypts a wallet's key into a keystore with `runway keys import`. */
function importKey(wallet, name) {
  const keyFile = path.join(env.dir, `${name}.key`);
  const ks = path.join(env.dir, `${name}.keystore.json`);
  fs.writeFileSync(keyFile, `${wallet.privateKey}\n`, { mode: 0o600 });
  const r = spawnSync(need('RUNWAY_BIN'), ['keys', 'import', '--keystore', ks, '--key-file', keyFile,
    '--scrypt-n', '1024'], { encoding: 'utf8', env: { ...process.env, RUNWAY_PASSPHRASE: PASS } });
  assert.equal(r.status, 0, `keys import: ${r.stderr}`);
  fs.rmSync(keyFile);
  return ks;
}

/** Writes a runwayd configuration for the env's chain. */
function writeConfig(name, relayer, extra = {}) {
  const file = path.join(env.dir, `${name}.json`);
  const chain = { name: 'local', chain_id: 31337, rpc: [env.rpcUrl], confirmations: 0,
    poll_interval_ms: 150 };
  if (relayer) chain.relayer = relayer;
  fs.writeFileSync(file, JSON.stringify({ abi_dir: path.join(repoRoot, 'abi'), chains: [chain], ...extra }));
  return file;
}

/** Starts runwayd; its standard error is collected in .log. */
function startRunwayd(config, extraEnv = {}) {
  const child = spawn(need('RUNWAYD'), ['--config', config, '--database-url', env.url], {
    stdio: ['ignore', 'ignore', 'pipe'],
    env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
      UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '', ...extraEnv },
  });
  const d = { child, log: '' };
  child.stderr.on('data', (b) => {
    d.log += b.toString();
    if (process.env.RELAYER_TEST_VERBOSE) process.stderr.write(b);
  });
  d.exited = new Promise((resolve) => child.once('close', (code, signal) => resolve({ code, signal })));
  const onExit = () => child.kill('SIGKILL');
  process.once('exit', onExit);
  d.exited.then(() => process.off('exit', onExit));
  return d;
}

test('runwayd relays an intent filed through SQL: confirmed, on chain once; SIGTERM exits 0', async () => {
  const owner = env.wallets[0];
  const signer = env.wallets[7];
  const to = ethers.Wallet.createRandom().address;
  const iface = new ethers.Interface(loadArtifact('TestToken').abi);
  const mintTx = await env.token.connect(owner).mint(signer.address, 10000n);
  await waitReceipt(env.provider, mintTx.hash);
  const ks = importKey(signer, 'signer');
  const pf = path.join(env.dir, 'pass.txt');
  fs.writeFileSync(pf, `${PASS}\n`, { mode: 0o600 });
  const port = await freePort();
  const config = writeConfig('rwd', { keystore: ks, passphrase_file: pf },
    { metrics: { listen: `127.0.0.1:${port}` } });
  const key = 'transfer:runwayd:1';
  fileIntent(env, key, { target: env.tokenAddress, data: iface.encodeFunctionData('transfer', [to, 777n]),
    signer: signer.address });
  const d = startRunwayd(config);
  try {
    await waitStates(env, [key], ['confirmed', 'final'], { timeoutMs: 90000 });
    assert.equal(await env.token.balanceOf(to), 777n, 'transferred exactly once');
    assert.equal(await env.token.balanceOf(signer.address), 10000n - 777n);
    const { count, mined } = await checkNonces(env, signer.address);
    assert.equal(count, 1);
    assert.deepEqual(mined.map((m) => m.intent_key), [key]);
    assert.match(intent(env, key).state, /^(confirmed|final)$/);
    await waitFor(async () => {
      const res = await fetch(`http://127.0.0.1:${port}/metrics`);
      const m = await res.text();
      return res.status === 200 && /runway_relayer_nonce\{chain="local",signer="0x[0-9a-f]{40}",kind="local"\} 1/.test(m);
    }, { what: 'relayer metrics on the metrics page' });
    assert.match(d.log, /relayer signer 0x[0-9a-f]{40}/);
    assert.doesNotMatch(d.log, new RegExp(PASS));
  } finally {
    d.child.kill('SIGTERM');
  }
  assert.deepEqual(await d.exited, { code: 0, signal: null }, d.log);
  assert.equal(await env.token.balanceOf(to), 777n, 'still once after the stop');
});

test('a wrong passphrase or an unreadable keystore is a start-up error naming the chain and file', async () => {
  const signer = env.wallets[8];
  const ks = importKey(signer, 'wrong');
  const bad = startRunwayd(writeConfig('bad', { keystore: ks, passphrase_env: 'RWD_PASS' }),
    { RWD_PASS: 'not the passphrase' });
  const r = await bad.exited;
  assert.equal(r.code, 1, bad.log);
  assert.match(bad.log, /chain local: cannot load the relayer key/);
  assert.ok(bad.log.includes(ks), `names the keystore: ${bad.log}`);
  assert.doesNotMatch(bad.log, /not the passphrase|runwayd relayer passphrase/);

  const missing = path.join(env.dir, 'missing.keystore.json');
  const gone = startRunwayd(writeConfig('gone', { keystore: missing, passphrase_env: 'RWD_PASS' }),
    { RWD_PASS: PASS });
  assert.equal((await gone.exited).code, 1, gone.log);
  assert.match(gone.log, /chain local: cannot load the relayer key/);
  assert.ok(gone.log.includes(missing), `names the keystore: ${gone.log}`);
  assert.doesNotMatch(gone.log, new RegExp(PASS));
});
