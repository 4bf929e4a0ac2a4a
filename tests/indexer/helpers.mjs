// tests/indexer/helpers.mjs: what the indexer tests share: a devnet of their
// own (tools/devnet on a free port), a database of their own in the
// PostgreSQL that tests/pg/with-pg started, runwayd as a child process
// (started and stopped by PID), random chain activity, and the mirror check:
// every event table equals what eth_getLogs and ethers say, row for row.

import assert from 'node:assert/strict';
import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ethers, connect, testWallets } from '../../tools/lib/chain.mjs';
import { attach, waitReceipt } from '../../tools/lib/deploy.mjs';

export { ethers };
export const root = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..');
export const bin = process.env.RUNWAY_BIN_DIR;
export const baseUrl = process.env.RUNWAY_TEST_DATABASE_URL;

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** A fresh temporary directory. */
export function tempDir(tag) {
  return fs.mkdtempSync(path.join(os.tmpdir(), `runway-idx-${tag}-`));
}

// ---- devnet ---------------------------------------------------------------

/** tools/devnet up on a free port; returns devnet.json, parsed. */
export function devnetUp(state) {
  const r = spawnSync(path.join(root, 'tools/devnet'), ['up', '--state-dir', state, '--port', '0'],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return JSON.parse(fs.readFileSync(r.stdout.trim().split('\n').pop(), 'utf8'));
}

export function devnetDown(state) {
  spawnSync(path.join(root, 'tools/devnet'), ['down', '--state-dir', state]);
}

// ---- database -------------------------------------------------------------

/** Runs one SQL statement with psql; returns the rows as arrays of text. */
export function sql(url, query) {
  const out = execFileSync('psql', [url, '-X', '-q', '-At', '-F', '\x1f', '-v', 'ON_ERROR_STOP=1', '-c', query],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
  return out.split('\n').filter((l) => l.length > 0).map((l) => l.split('\x1f'));
}

/** A copy of migrations/ taken once per test process, so that a migration
 * being written meanwhile does not change the schema under the test. */
let migrationsDir = null;
export function migrations() {
  if (!migrationsDir) {
    migrationsDir = tempDir('migrations');
    for (const f of fs.readdirSync(path.join(root, 'migrations'))) {
      if (f.endsWith('.sql')) fs.copyFileSync(path.join(root, 'migrations', f), path.join(migrationsDir, f));
    }
    process.on('exit', () => fs.rmSync(migrationsDir, { recursive: true, force: true }));
  }
  return migrationsDir;
}

/** A new database in the test server, migrated; returns its URL. */
export function createDatabase(name) {
  assert.ok(baseUrl, 'run under tests/pg/with-pg (RUNWAY_TEST_DATABASE_URL)');
  sql(baseUrl, `DROP DATABASE IF EXISTS ${name}`);
  sql(baseUrl, `CREATE DATABASE ${name}`);
  const u = new URL(baseUrl);
  u.pathname = `/${name}`;
  const url = u.toString();
  const r = spawnSync(path.join(bin, 'runway'), ['--database-url', url, 'db', 'migrate', '--migrations', migrations()], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  return url;
}

// ---- configuration --------------------------------------------------------

/** The passphrase of the test relayer keystore (passphrase_env in the
 * configuration names RELAYER_PASS_ENV), in runwayd's environment for when
 * it loads the relayer key. */
export const RELAYER_PASS_ENV = 'RUNWAY_TEST_RELAYER_PASS';
const relayerPass = { [RELAYER_PASS_ENV]: 'test only' };

/** A keystore (cheap scrypt) holding privateKey, for a relayer entry. */
export function makeKeystore(dir, privateKey) {
  const file = path.join(dir, 'relayer.json');
  const r = spawnSync(path.join(bin, 'runway'), ['keys', 'import', '--keystore', file, '--key-file', '-',
    '--scrypt-n', '1024', '--passphrase-env', 'RUNWAY_TEST_RELAYER_PASS'],
  { input: privateKey + '\n', encoding: 'utf8', env: { ...process.env, ...relayerPass } });
  assert.equal(r.status, 0, r.stderr);
  return file;
}

/** The devnet's configuration (tools/devnet-config), changed by edit(chain). */
export function writeConfig(dir, devnetFile, edit) {
  const file = path.join(dir, 'runway.json');
  const r = spawnSync(path.join(root, 'tools/devnet-config'), ['--devnet', devnetFile, '--out', file],
    { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const cfg = JSON.parse(fs.readFileSync(file, 'utf8'));
  edit(cfg, cfg.chains[0]);
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

// ---- runwayd --------------------------------------------------------------

/** Starts runwayd; its standard error goes to logFile (appended). */
export function startRunwayd(config, url, logFile, args = []) {
  const fd = fs.openSync(logFile, 'a');
  // RUNWAYD_WRAP: a command to run runwayd under ("perf record -g -o FILE --").
  const wrap = process.env.RUNWAYD_WRAP ? process.env.RUNWAYD_WRAP.split(' ') : [];
  const argv = [...wrap.slice(1), path.join(bin, 'runwayd'), '--config', config, '--database-url', url, '--migrations', migrations(), ...args];
  const child = spawn(wrap.length ? wrap[0] : argv.shift(), argv, {
    stdio: ['ignore', fd, fd],
    env: { ...process.env, ...relayerPass, ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=1', UBSAN_OPTIONS: 'print_stacktrace=1:halt_on_error=1' },
  });
  fs.closeSync(fd);
  const exited = new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal })));
  return { pid: child.pid, exited, log: () => fs.readFileSync(logFile, 'utf8') };
}

/** Runs runwayd to its end (--check); returns { code, out }. */
export function runRunwayd(config, url, args = []) {
  const r = spawnSync(path.join(bin, 'runwayd'), ['--config', config, '--database-url', url, '--migrations', migrations(), ...args],
    { encoding: 'utf8', timeout: 60000, env: { ...process.env, ...relayerPass } });
  return { code: r.status, out: r.stdout + r.stderr };
}

/** Sends sig to runwayd by PID and waits for its exit (at most ms). */
export async function stopRunwayd(d, sig = 'SIGTERM', ms = 60000) {
  try {
    process.kill(d.pid, sig);
  } catch {
    /* already gone */
  }
  let timer;
  const timeout = new Promise((_, reject) => {
    timer = setTimeout(() => reject(new Error(`runwayd (pid ${d.pid}) did not exit within ${ms} ms after ${sig}`)), ms);
  });
  try {
    return await Promise.race([d.exited, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** Cursor span and head row of the chain in the database. */
export function dbProgress(url, chainId) {
  const c = sql(url, `SELECT coalesce(min(next_block), -1), coalesce(max(next_block), -1) FROM indexer_cursor WHERE chain_id = ${chainId}`)[0];
  const h = sql(url, `SELECT head_number, encode(head_hash, 'hex') FROM chain_head WHERE chain_id = ${chainId}`)[0];
  return { minNext: Number(c[0]), maxNext: Number(c[1]), head: h ? Number(h[0]) : -1, headHash: h ? h[1] : null };
}

/** Waits until every cursor is past the chain's head and chain_head is that
 * head (number and hash). Returns the head block number. */
export async function waitCaughtUp(url, provider, chainId, d, ms = 90000) {
  const deadline = Date.now() + ms;
  let last;
  for (;;) {
    const b = await provider.getBlock('latest');
    last = dbProgress(url, chainId);
    if (last.minNext === b.number + 1 && last.head === b.number && '0x' + last.headHash === b.hash) {
      const again = await provider.getBlock('latest');
      if (again.hash === b.hash) return b.number;
    }
    if (d && (await Promise.race([d.exited.then(() => true), sleep(0).then(() => false)]))) {
      throw new Error(`runwayd exited while waiting:\n${d.log().slice(-4000)}`);
    }
    if (Date.now() > deadline) {
      throw new Error(`not caught up after ${ms} ms: chain at ${b.number}, db ${JSON.stringify(last)}\n${d ? d.log().slice(-4000) : ''}`);
    }
    await sleep(100);
  }
}

// ---- the mirror check -----------------------------------------------------

const eventMap = JSON.parse(fs.readFileSync(path.join(root, 'abi', 'events.json'), 'utf8'));
const ifaces = {};
function iface(kind) {
  if (!ifaces[kind]) {
    const art = JSON.parse(fs.readFileSync(path.join(root, 'abi', `${kind}.json`), 'utf8'));
    ifaces[kind] = new ethers.Interface(art.abi);
  }
  return ifaces[kind];
}

/** The column name eventmap.c gives a parameter (its snake()). */
export function snake(name) {
  const s = name.replace(/^_+|_+$/g, '');
  let out = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i];
    const up = c >= 'A' && c <= 'Z';
    if (up && i > 0) {
      const p = s[i - 1];
      const nx = s[i + 1] || '';
      const lower = (x) => x >= 'a' && x <= 'z';
      const digit = (x) => x >= '0' && x <= '9';
      const upper = (x) => x >= 'A' && x <= 'Z';
      if ((lower(p) || digit(p) || (upper(p) && lower(nx))) && out.length && !out.endsWith('_')) out += '_';
    }
    out += c.toLowerCase();
  }
  return out;
}

const hex = (s) => s.toLowerCase().replace(/^0x/, '');

function paramText(type, v) {
  if (type === 'address' || type.startsWith('bytes')) return hex(v);
  if (type.startsWith('uint') || type.startsWith('int')) return v.toString();
  if (type === 'bool') return v ? 'true' : 'false';
  return String(v);
}

function columnSql(type, col) {
  if (type === 'address' || type.startsWith('bytes')) return `encode("${col}", 'hex')`;
  if (type === 'string') return `"${col}"`;
  return `"${col}"::text`;
}

/** Per mapped event: table, kind, event fragment, columns. */
function mapEntries() {
  return eventMap.map((e) => {
    const ev = iface(e.kind).getEvent(e.event);
    const cols = ev.inputs.map((p) => ({ name: (e.columns && e.columns[p.name]) || snake(p.name), type: p.type, param: p.name }));
    return { ...e, ev, cols };
  });
}

/**
 * Checks that every event table holds exactly the logs the chain has for the
 * indexed sources up to block `head`, with every decoded value equal to
 * ethers' decoding, and that each such block's header is stored with the
 * chain's hash and time. skip: keys "blockhash:logindex" (no 0x) of logs
 * the indexer must have rejected. Returns { rows, tables } counts.
 */
export async function assertMirror(url, provider, chainId, head, { belowCursors = false, skip = new Set() } = {}) {
  const sources = sql(url, `SELECT s.kind, encode(s.address, 'hex'), s.start_block, coalesce(s.watch, ''), c.next_block FROM indexer_source s JOIN indexer_cursor c ON c.source_id = s.id WHERE s.chain_id = ${chainId}`);
  // With belowCursors, each source is checked below its own cursor only.
  const bound = new Map();
  for (const [kind, addr, , , next] of sources) {
    const b = belowCursors ? Math.min(head, Number(next) - 1) : head;
    bound.set(`${kind}:${addr}`, b);
  }
  const watched = new Set(sql(url, `SELECT DISTINCT encode(address, 'hex') FROM watched_address WHERE chain_id = ${chainId}`).map((r) => r[0]));
  const entries = mapEntries();
  const expected = new Map(entries.map((e) => [e.table, new Map()]));
  const undecodable = new Set();
  const blocks = new Map();
  for (const [kind, addr, start, watch] of sources) {
    const to = bound.get(`${kind}:${addr}`);
    if (to < Number(start)) continue;
    const logs = await provider.getLogs({ address: '0x' + addr, fromBlock: Number(start), toBlock: to });
    for (const log of logs) {
      let parsed, args;
      try {
        parsed = iface(kind).parseLog(log);
        args = parsed && [...parsed.args];
      } catch {
        undecodable.add(`${hex(log.blockHash)}:${log.index}`); // the indexer must reject it too
        continue;
      }
      if (!parsed) continue;
      const e = entries.find((x) => x.kind === kind && x.event === parsed.name);
      if (!e) continue;
      if (watch === 'watched') {
        const t1 = log.topics[1] ? log.topics[1].slice(26) : '';
        const t2 = log.topics[2] ? log.topics[2].slice(26) : '';
        if (!watched.has(t1) && !watched.has(t2)) continue;
      }
      if (skip.has(`${hex(log.blockHash)}:${log.index}`)) continue;
      const row = [hex(log.blockHash), String(log.index), String(log.blockNumber), hex(log.transactionHash),
        String(log.transactionIndex), hex(log.address)];
      e.cols.forEach((c, i) => row.push(paramText(c.type, args[i])));
      expected.get(e.table).set(`${row[0]}:${row[1]}`, row);
      blocks.set(log.blockNumber, hex(log.blockHash));
    }
  }
  let total = 0;
  for (const e of entries) {
    const cols = e.cols.map((c) => columnSql(c.type, c.name)).join(', ');
    const rows = sql(url, `SELECT encode(block_hash, 'hex'), log_index, block_number, encode(tx_hash, 'hex'), tx_index, encode(address, 'hex'), ${cols} FROM "${e.table}" WHERE chain_id = ${chainId} AND block_number <= ${head}`)
      .filter((r) => Number(r[2]) <= (bound.get(`${e.kind}:${r[5]}`) ?? head));
    const want = expected.get(e.table);
    const got = new Map(rows.map((r) => [`${r[0]}:${r[1]}`, r]));
    const missing = [...want.keys()].filter((k) => !got.has(k));
    const extra = [...got.keys()].filter((k) => !want.has(k));
    assert.deepEqual({ table: e.table, missing: missing.slice(0, 5), extra: extra.slice(0, 5) },
      { table: e.table, missing: [], extra: [] }, `${e.table}: ${missing.length} missing, ${extra.length} extra`);
    assert.equal(rows.length, want.size, `${e.table}: ${rows.length} rows, chain has ${want.size}`);
    for (const [k, w] of want) assert.deepEqual(got.get(k), w, `${e.table} ${k}`);
    total += rows.length;
  }
  const stored = new Map(sql(url, `SELECT number, encode(hash, 'hex'), timestamp FROM indexer_block WHERE chain_id = ${chainId}`)
    .map((r) => [Number(r[0]), { hash: r[1], ts: Number(r[2]) }]));
  for (const [n, h] of blocks) {
    const s = stored.get(n);
    assert.ok(s, `no header stored for block ${n}, which holds rows`);
    assert.equal(s.hash, h, `stored header ${n}`);
  }
  // Every stored header near the head is the chain's.
  const nums = [...stored.keys()].filter((n) => n <= head).sort((a, b) => b - a).slice(0, 80);
  for (const n of nums) {
    const b = await provider.getBlock(n);
    assert.equal('0x' + stored.get(n).hash, b.hash, `header ${n} is not the chain's`);
    assert.equal(stored.get(n).ts, b.timestamp, `timestamp of ${n}`);
  }
  return { rows: total, tables: entries.length, blocksWithRows: blocks.size, undecodable: undecodable.size };
}

// ---- chain activity -------------------------------------------------------

/** A small deterministic PRNG (mulberry32). */
export { prng } from '../../tools/lib/prng.mjs';

/** Contracts and wallets of a devnet, for activity(). */
export function actors(dn) {
  const provider = connect(dn.rpc_url);
  const w = testWallets(provider, 10);
  const role = Object.fromEntries(Object.entries(dn.accounts).map(([r, a]) => [r, w[a.index]]));
  return {
    dn,
    provider,
    role,
    usdc: (s) => attach('TestToken', dn.tokens.USDC.address, s),
    tt18: (s) => attach('TestToken', dn.tokens.Token18.address, s),
    market: (s) => attach('Marketplace', dn.contracts.Marketplace, s),
    balance: (s) => attach('Balance', dn.balance.address, s),
    vnp: (addr, s) => attach('ValidatorNodeProvider', addr, s),
    providers: [
      { address: dn.providers.ProviderUSDC.address, token: 'usdc' },
      { address: dn.providers.ProviderToken18.address, token: 'tt18' },
    ],
    instances: [],
    apps: [],
    stats: { ok: 0, failed: 0, factory: 0 },
  };
}

async function tx(a, p) {
  try {
    const t = await p;
    const r = await waitReceipt(a.provider, t.hash);
    if (r.status === 1) a.stats.ok++;
    else a.stats.failed++;
    return r;
  } catch {
    a.stats.failed++;
    return null;
  }
}

const USERS = ['user1', 'user2', 'user3', 'deployer', 'operator'];

/**
 * Random billing activity: transfers and approvals of both tokens, runway
 * extensions and application deploys (on configured providers and on ones
 * the Marketplace creates now), deposits, credits, refunds, instances,
 * time travel and charges, blocks with several transactions, empty blocks.
 */
export async function activity(a, rounds, rand) {
  const pick = (xs) => xs[Math.floor(rand() * xs.length)];
  const user = () => a.role[pick(USERS)];
  const amount = (max) => BigInt(1 + Math.floor(rand() * max));
  const ref = () => ethers.hexlify(ethers.randomBytes(32));
  const ops = [
    [10, async () => {
      const from = user();
      const to = a.role[pick(Object.keys(a.role))];
      const tok = rand() < 0.5 ? a.usdc(from) : a.tt18(from);
      await tx(a, tok.transfer(to.address, amount(1_000_000)));
    }],
    [5, async () => {
      const owner = user();
      const spender = rand() < 0.5 ? pick(a.providers).address : rand() < 0.5 ? a.dn.balance.address : a.role[pick(USERS)].address;
      const tok = rand() < 0.5 ? a.usdc(owner) : a.tt18(owner);
      await tx(a, tok.approve(spender, rand() < 0.2 ? ethers.MaxUint256 : amount(10_000_000)));
    }],
    [6, async () => {
      const payer = user();
      const p = pick(a.providers);
      const vnp = a.vnp(p.address, payer);
      const secs = BigInt(60 + Math.floor(rand() * 86400));
      const cost = await vnp.cost(secs);
      await tx(a, (p.token === 'usdc' ? a.usdc(payer) : a.tt18(payer)).approve(p.address, cost));
      const app = a.apps.length && rand() < 0.5 ? pick(a.apps) : ethers.Wallet.createRandom().address;
      if (!a.apps.includes(app)) a.apps.push(app);
      await tx(a, vnp.extendRunway(app, secs));
    }],
    [2, async () => {
      const owner = user();
      const p = pick(a.providers);
      const vnp = a.vnp(p.address, owner);
      await tx(a, vnp.deploy(owner.address, ref(), `https://machines.example/${Math.floor(rand() * 1e9)}/ü/日本/🚀`, 0n, ref()));
    }],
    [1, async () => {
      // A location that is not UTF-8: PostgreSQL text cannot hold it, so the
      // indexer rejects the log (and ethers cannot decode it either).
      const p = pick(a.providers);
      const coder = ethers.AbiCoder.defaultAbiCoder();
      const sel = ethers.id('register(address,string)').slice(0, 10);
      const data = sel + coder.encode(['address', 'bytes'], [ethers.Wallet.createRandom().address, '0x68c328ff80']).slice(2);
      const r = await tx(a, a.role.deployer.sendTransaction({ to: p.address, data }));
      if (r && r.status === 1) a.stats.badText = (a.stats.badText || 0) + 1;
    }],
    [1, async () => {
      const payee = a.role[pick(['payee_usdc', 'payee_token18'])];
      const tokName = rand() < 0.5 ? 'usdc' : 'tt18';
      const token = tokName === 'usdc' ? a.dn.tokens.USDC.address : a.dn.tokens.Token18.address;
      const r = await tx(a, a.market(a.role.deployer).newValidatorNodeProvider(a.role.consensus.address, token, payee.address, amount(1000)));
      if (!r) return;
      for (const log of r.logs) {
        try {
          const parsed = a.market(a.provider).interface.parseLog(log);
          if (parsed && parsed.name === 'ValidatorNodeProviderCreated') {
            a.providers.push({ address: parsed.args.provider, token: tokName });
            a.stats.factory++;
          }
        } catch {
          /* another contract's log */
        }
      }
    }],
    [5, async () => {
      const payer = user();
      const account = user();
      const amt = BigInt(10_000_000 + Math.floor(rand() * 20_000_000));
      const tax = BigInt(Math.floor(rand() * 2_000_000));
      await tx(a, a.usdc(payer).approve(a.dn.balance.address, amt + tax));
      await tx(a, a.balance(payer).deposit(account.address, amt, tax, ref()));
    }],
    [2, async () => {
      const op = a.role.operator;
      const amt = amount(5_000_000);
      await tx(a, a.usdc(op).approve(a.dn.balance.address, amt));
      await tx(a, a.balance(op).credit(user().address, amt, ref()));
    }],
    [1, async () => {
      const account = user();
      const held = await a.balance(a.provider).balances(account.address);
      if (held > 0n) await tx(a, a.balance(a.role.operator).refund(account.address, user().address, held / 3n + 1n, ref()));
    }],
    [3, async () => {
      const account = user();
      const id = ref();
      const r = await tx(a, a.balance(a.role.operator).createInstance(id, account.address, a.role.provider.address, amount(2_000_000)));
      if (r && r.status === 1) a.instances.push(id);
    }],
    [2, async () => {
      await a.provider.send('evm_increaseTime', [Math.floor(86400 * (0.5 + rand()))]);
      await a.provider.send('evm_mine', []);
      if (a.instances.length) await tx(a, a.balance(user()).charge(a.instances));
    }],
    [1, async () => {
      if (a.instances.length) await tx(a, a.balance(a.role.operator).stopInstance(pick(a.instances)));
    }],
    [2, async () => {
      // Several transactions in one block.
      await a.provider.send('evm_setAutomine', [false]);
      const hashes = [];
      for (const r of ['user1', 'user2', 'user3']) {
        const s = a.role[r];
        const nonce = await a.provider.getTransactionCount(s.address, 'pending');
        for (let k = 0; k < 3; k++) {
          const t = await a.usdc(s).transfer(a.role[pick(USERS)].address, amount(1000), { nonce: nonce + k, gasLimit: 100000 });
          hashes.push(t.hash);
        }
      }
      await a.provider.send('evm_mine', []);
      await a.provider.send('evm_setAutomine', [true]);
      for (const h of hashes) await tx(a, Promise.resolve({ hash: h }));
    }],
    [2, async () => {
      await a.provider.send('anvil_mine', ['0x' + (1 + Math.floor(rand() * 40)).toString(16)]);
    }],
  ];
  const total = ops.reduce((s, [w]) => s + w, 0);
  for (let i = 0; i < rounds; i++) {
    let x = rand() * total;
    for (const [w, f] of ops) {
      x -= w;
      if (x < 0) {
        await f();
        break;
      }
    }
  }
}

/**
 * n USDC transfers for anvil_reorg's new branch, as [tx, block offset]
 * pairs: offsets cycle through 0..spread-1 (counted from the branch's
 * first block), starting at `offset`.
 */
export function reorgTxs(dn, n, offset = 0, spread = 2) {
  const i = new ethers.Interface(['function transfer(address to, uint256 value)']);
  const users = [dn.accounts.user1, dn.accounts.user2, dn.accounts.user3];
  const out = [];
  for (let k = 0; k < n; k++) {
    const from = users[k % 3].address;
    const to = users[(k + 1) % 3].address;
    out.push([{ from, to: dn.tokens.USDC.address, data: i.encodeFunctionData('transfer', [to, 1000 + k]), gas: '0x30000' },
      (k % spread) + offset]);
  }
  return out;
}

/** Asserts that the last n blocks hold at least one USDC Transfer (the
 * reorg's transactions were mined, with their logs). */
export async function assertBranchHasLogs(a, n) {
  const head = await a.provider.getBlockNumber();
  const t = ethers.id('Transfer(address,address,uint256)');
  const logs = await a.provider.getLogs({ address: a.dn.tokens.USDC.address, topics: [t], fromBlock: head - n + 1, toBlock: head });
  assert.ok(logs.length > 0, `the new branch (${n} blocks) has no transfer`);
}

/** Fetches GET /metrics from host:port. */
export async function metrics(listen) {
  const res = await fetch(`http://${listen}/metrics`);
  assert.equal(res.status, 200);
  return res.text();
}

/** A free TCP port on 127.0.0.1. */
export async function freePort() {
  const net = await import('node:net');
  return new Promise((resolve) => {
    const s = net.createServer();
    s.listen(0, '127.0.0.1', () => {
      const p = s.address().port;
      s.close(() => resolve(p));
    });
  });
}
