// helpers.mjs: what the relayer tests share: a private anvil (with extra
// flags when a test needs them), a fresh database on the PostgreSQL that
// tests/pg/with-pg started, the relayer_driver as a child process that can
// be stopped or killed -9, SQL through psql, and polling.
//
// Environment (set by tests/relayer/meson.build):
//   RUNWAY_TEST_DATABASE_URL  the with-pg server's database (with-pg)
//   RELAYER_DRIVER            the built tests/relayer/relayer_driver
//   RUNWAY_BIN                the built runway (for `db migrate`)

import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, CHAIN_ID, rpc, startAnvil as startAnvilProcess } from '../../tools/lib/anvil.mjs';
import { ethers, connect, testWallets } from '../../tools/lib/chain.mjs';
import { deployContract, loadArtifact, waitReceipt } from '../../tools/lib/deploy.mjs';

export { ethers, rpc, CHAIN_ID, loadArtifact, waitReceipt };

const need = (name) => {
  const v = process.env[name];
  assert.ok(v, `${name} must be set (run through meson test)`);
  return v;
};

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Polls fn until it returns a truthy value; fails with what() after timeoutMs. */
export async function waitFor(fn, { timeoutMs = 30000, intervalMs = 100, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  for (;;) {
    last = await fn();
    if (last) return last;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** Starts anvil (tools/lib/anvil.mjs) with 20 accounts and extra flags; { url, stop() }. */
export async function startAnvil(extra = []) {
  const a = await startAnvilProcess({ accounts: 20, extra });
  return { url: a.rpcUrl, stop: a.stop };
}

/** Runs SQL with psql; returns its standard output (-At). */
function psql(url, query) {
  const r = spawnSync('psql', [url, '-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8' });
  if (r.status !== 0) {
    const e = new Error(`psql: ${r.stderr.trim()}`);
    e.stderr = r.stderr;
    throw e;
  }
  return r.stdout;
}

/** Runs SQL; returns the rows as arrays of text (| separated). */
export function sqlRows(url, query) {
  return psql(url, query).split('\n').filter((l) => l.length > 0).map((l) => l.split('|'));
}

/** The first column of the first row, or null. */
export function sql1(url, query) {
  const rows = sqlRows(url, query);
  return rows.length ? rows[0][0] : null;
}

/** Rows as objects: the query is wrapped in json_agg. */
export function sqlJson(url, query) {
  return JSON.parse(psql(url, `SELECT coalesce(json_agg(q), '[]') FROM (${query}) q`));
}

const q = (s) => `'${String(s).replace(/'/g, "''")}'`;
export const quote = q;

/**
 * The test environment of one file: an anvil, a fresh migrated database,
 * a TestToken, wallets, a scratch directory.
 */
export async function startEnv(name, { anvilArgs = [], deploy = true } = {}) {
  const base = need('RUNWAY_TEST_DATABASE_URL');
  const db = `rl_${name.replace(/[^a-z0-9]/g, '_')}`;
  sqlRows(base, `DROP DATABASE IF EXISTS ${db}`);
  sqlRows(base, `CREATE DATABASE ${db}`);
  const url = base.replace(/\/[^/?]*(\?|$)/, `/${db}$1`);
  const mig = spawnSync(need('RUNWAY_BIN'), ['--database-url', url, 'db', 'migrate', '--migrations',
    path.join(repoRoot, 'migrations')], { encoding: 'utf8' });
  assert.equal(mig.status, 0, `migrate: ${mig.stderr}`);
  sqlRows(url, `INSERT INTO chain (chain_id, name) VALUES (${CHAIN_ID}, 'local') ON CONFLICT DO NOTHING`);
  const anvil = await startAnvil(anvilArgs);
  const provider = connect(anvil.url);
  const wallets = testWallets(provider, 20);
  const token = deploy ? await deployContract(wallets[0], 'TestToken', ['Test USD', 'TUSD', 6]) : null;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `runway-relayer-${name}-`));
  const drivers = [];
  return {
    url,
    rpcUrl: anvil.url,
    provider,
    wallets,
    token: token && token.contract,
    tokenAddress: token && token.address,
    dir,
    drivers,
    rpc: (method, params = []) => rpc(anvil.url, method, params),
    async stop() {
      for (const d of drivers) await d.kill();
      provider.destroy();
      await anvil.stop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Calldata of TestToken.mint(to, amount). */
export function mintData(to, amount) {
  const i = new ethers.Interface(loadArtifact('TestToken').abi);
  return i.encodeFunctionData('mint', [to, amount]);
}

/** Files an intent; returns its row (relayer_intents). */
export function fileIntent(env, key, { target, data = '0x', value = 0n, signer = null } = {}) {
  const s = signer ? `rw_unhex(${q(signer.toLowerCase())})` : 'NULL';
  sql1(env.url, `SELECT id FROM rw_intent_file(${q(key)}, ${CHAIN_ID}, rw_unhex(${q(target.toLowerCase())}),
    rw_unhex(${q(data)}), ${value}::numeric, ${s})`);
  return intent(env, key);
}

/** An intent by key from relayer_intents, or null. */
export function intent(env, key) {
  const rows = sqlJson(env.url, `SELECT * FROM relayer_intents WHERE key = ${q(key)}`);
  return rows[0] || null;
}

/** Waits until every key is in one of the states. */
export async function waitStates(env, keys, states, opts = {}) {
  const list = keys.map(q).join(',');
  const want = states.map(q).join(',');
  return waitFor(() => Number(sql1(env.url,
    `SELECT count(*) FROM relayer_intent WHERE key IN (${list}) AND state IN (${want})`)) === keys.length,
  { timeoutMs: 60000, what: `${keys.length} intents in ${states.join('/')}`, ...opts });
}

/** A relayer_driver child process for one signer. */
export class Driver {
  constructor(env, { key, args = [], config = {}, env: extraEnv = {}, keystore = null } = {}) {
    this.env = env;
    this.key = key;
    this.args = args;
    this.extraEnv = extraEnv;
    this.log = '';
    this.child = null;
    this.config = path.join(env.dir, `runway-${Math.random().toString(36).slice(2)}.json`);
    const chain = { name: 'local', chain_id: CHAIN_ID, rpc: [env.rpcUrl], confirmations: 0,
      poll_interval_ms: 150, ...config };
    if (keystore) chain.relayer = keystore;
    fs.writeFileSync(this.config, JSON.stringify({ abi_dir: path.join(repoRoot, 'abi'), chains: [chain] }));
    if (key) {
      this.keyFile = path.join(env.dir, `key-${Math.random().toString(36).slice(2)}.txt`);
      fs.writeFileSync(this.keyFile, `${key}\n`, { mode: 0o600 });
    }
    env.drivers.push(this);
  }

  start(extraArgs = []) {
    assert.equal(this.child, null, 'driver already running');
    const args = ['--config', this.config, '--database-url', this.env.url, ...this.args, ...extraArgs];
    if (this.keyFile) args.push('--key-file', this.keyFile);
    const child = spawn(need('RELAYER_DRIVER'), args, {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { PATH: process.env.PATH, ASAN_OPTIONS: process.env.ASAN_OPTIONS || '',
        UBSAN_OPTIONS: process.env.UBSAN_OPTIONS || '', ...this.extraEnv },
    });
    this.child = child;
    child.stderr.on('data', (b) => {
      this.log += b.toString();
      if (process.env.RELAYER_TEST_VERBOSE) process.stderr.write(b);
    });
    this.exited = new Promise((resolve) => child.once('close', (code, signal) => {
      this.child = null;
      resolve({ code, signal });
    }));
    return this;
  }

  /** SIGTERM and the exit status (0 when it stopped cleanly). */
  async stop() {
    if (!this.child) return null;
    this.child.kill('SIGTERM');
    return this.exited;
  }

  /** kill -9. */
  async kill() {
    if (!this.child) return null;
    this.child.kill('SIGKILL');
    return this.exited;
  }

  /** Waits for the process to end by itself. */
  async exit() {
    return this.child ? this.exited : null;
  }
}

/** The events of kind, as rows of relayer_event. */
export function events(env, kind) {
  return sqlJson(env.url, `SELECT id, kind, level, message, nonce, intent_id FROM relayer_event
    WHERE kind = ${q(kind)} ORDER BY id`);
}

/** Every mined relayer transaction of a signer: nonce -> hash. */
export function minedBySigner(env, signer) {
  return sqlJson(env.url, `SELECT nonce, hash, kind, intent_key, status FROM relayer_txs
    WHERE signer = ${q(signer.toLowerCase())} AND state = 'mined' ORDER BY nonce`);
}

/**
 * Checks that each nonce 0..count-1 of signer was used by exactly one of our
 * mined transactions, that their receipts on chain match, and that nothing
 * of ours beyond them is mined.
 */
export async function checkNonces(env, signer, { allowForeign = [] } = {}) {
  const count = await env.provider.getTransactionCount(signer, 'latest');
  const mined = minedBySigner(env, signer);
  const byNonce = new Map();
  for (const m of mined) {
    assert.ok(!byNonce.has(m.nonce), `nonce ${m.nonce} mined twice in the database`);
    byNonce.set(m.nonce, m);
  }
  for (let n = 0; n < count; n++) {
    if (allowForeign.includes(n)) continue;
    const m = byNonce.get(n);
    assert.ok(m, `nonce ${n} is used on chain but has no mined relayer transaction (burned?)`);
    const r = await env.provider.getTransactionReceipt(m.hash);
    assert.ok(r, `no receipt on chain for ${m.hash} (nonce ${n})`);
  }
  for (const m of mined) assert.ok(m.nonce < count, `nonce ${m.nonce} recorded mined beyond the chain's count ${count}`);
  return { count, mined };
}

/** Mines blocks with evm_mine. */
export async function mine(env, n = 1) {
  for (let i = 0; i < n; i++) await env.rpc('evm_mine');
}

/** Waits until the driver's log matches re. */
export async function waitLog(driver, re, opts = {}) {
  return waitFor(() => re.test(driver.log), { what: `driver log ${re}`, ...opts });
}
