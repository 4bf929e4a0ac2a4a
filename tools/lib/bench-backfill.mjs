// tools/lib/bench-backfill.mjs: the indexer's backfill benchmark (issue #5),
// run by tools/bench-backfill under tests/pg/with-pg. Not a test: it prints
// figures. See tools/bench-backfill --help for what it measures.
//
// Environment: RUNWAY_BIN_DIR (runway and runwayd, a release build),
// RUNWAY_TEST_DATABASE_URL (the throwaway server of tests/pg/with-pg).

import { spawn, spawnSync, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { repoRoot, startAnvil } from './anvil.mjs';
import { deploySpammer, gasLimit, post, spam } from './logspam.mjs';
import { ethers } from './chain.mjs';

const TRANSFER = ethers.id('Transfer(address,address,uint256)');
const APPROVAL = ethers.id('Approval(address,address,uint256)');

function usage() {
  return `usage: tools/bench-backfill [--events N] [--per-tx N] [--txs-per-block N] [--runs N]
                           [--fetch-concurrency LIST] [--fetch-logs N] [--keep DIR] [--phases abc]`;
}

function parseArgs(argv) {
  const o = { events: 1000000, perTx: 2000, txsPerBlock: 1, runs: 3, conc: [2, 4, 8], fetchLogs: 10000, keep: null, phases: 'abc' };
  const num = (name, v, min) => {
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) {
      console.error(`bench-backfill: ${name} needs an integer >= ${min}, got '${v ?? ''}'`);
      process.exit(2);
    }
    return n;
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const v = argv[i + 1];
    if (a === '--events') o.events = num(a, v, 1), i++;
    else if (a === '--per-tx') o.perTx = num(a, v, 1), i++;
    else if (a === '--txs-per-block') o.txsPerBlock = num(a, v, 1), i++;
    else if (a === '--runs') o.runs = num(a, v, 1), i++;
    else if (a === '--fetch-logs') o.fetchLogs = num(a, v, 1), i++;
    else if (a === '--fetch-concurrency') {
      o.conc = String(v ?? '').split(',').map((x) => num(a, x, 1));
      i++;
    } else if (a === '--keep') o.keep = v, i++;
    else if (a === '--phases') {
      o.phases = String(v ?? '');
      if (!/^[abc]+$/.test(o.phases)) {
        console.error(`bench-backfill: --phases takes letters of abc, got '${o.phases}'`);
        process.exit(2);
      }
      i++;
    }
    else {
      console.error(`bench-backfill: unknown argument '${a}'\n${usage()}`);
      process.exit(2);
    }
  }
  if (o.perTx > 14000) {
    console.error('bench-backfill: --per-tx is at most 14000');
    process.exit(2);
  }
  return o;
}

const loadavg = () => os.loadavg().map((x) => x.toFixed(2)).join(' ');
const fmt = (x) => Math.round(x).toLocaleString('en-US');

// ---- the chain --------------------------------------------------------------

/** Deploys LogSpammer and emits o.events Transfer logs, o.perTx per
 * transaction, o.txsPerBlock transactions per block. Returns
 * { address, first, last } (the blocks that hold them). */
async function fillChain(url, o) {
  const s = await deploySpammer(url);
  const { first, last } = await spam(url, s, o.events, { perTx: o.perTx, txsPerBlock: o.txsPerBlock });
  return { address: s.address, deployBlock: s.block, first, last };
}

// ---- (a) the node's ceiling: plain eth_getLogs ------------------------------

/** Fetches every log of the chain's LogSpammer in ranges of `span` blocks,
 * `conc` requests in flight; bodies are counted, not parsed. Returns
 * { secs, logs, bytes }. */
async function fetchAll(url, chain, span, conc) {
  const ranges = [];
  for (let b = chain.first; b <= chain.last; b += span) ranges.push([b, Math.min(b + span - 1, chain.last)]);
  let next = 0, logs = 0, bytes = 0;
  const needle = Buffer.from('"logIndex"');
  const worker = async () => {
    while (next < ranges.length) {
      const [f, t] = ranges[next++];
      const body = JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'eth_getLogs', params: [{
        address: chain.address, topics: [[TRANSFER, APPROVAL]],
        fromBlock: ethers.toQuantity(f), toBlock: ethers.toQuantity(t) }] });
      const buf = await post(url, body);
      bytes += buf.length;
      for (let i = buf.indexOf(needle); i >= 0; i = buf.indexOf(needle, i + needle.length)) logs++;
    }
  };
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: conc }, worker));
  const secs = Number(process.hrtime.bigint() - t0) / 1e9;
  return { secs, logs, bytes };
}

// ---- the database -----------------------------------------------------------

function psql(url, args, input) {
  return execFileSync('psql', [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', ...args],
    { encoding: 'utf8', input, stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
}
const sql = (url, q) => psql(url, ['-c', q]).trim();

function dbUrl(base, name) {
  const u = new URL(base);
  u.pathname = `/${name}`;
  return u.toString();
}

function createDatabase(base, name, bin, migrations) {
  sql(base, `DROP DATABASE IF EXISTS ${name}`);
  sql(base, `CREATE DATABASE ${name}`);
  const url = dbUrl(base, name);
  const r = spawnSync(path.join(bin, 'runway'), ['--database-url', url, 'db', 'migrate', '--migrations', migrations], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`runway db migrate: ${r.stderr}`);
  return url;
}

// ---- (c) runwayd ------------------------------------------------------------

function writeConfig(dir, rpcUrl, chain, deployBlock) {
  const cfg = {
    abi_dir: path.join(repoRoot, 'abi'),
    event_map: path.join(repoRoot, 'abi', 'events.json'),
    chains: [{
      name: 'bench', chain_id: 31337, rpc: [rpcUrl], confirmations: 0, poll_interval_ms: 500,
      start_block: deployBlock,
      tokens: [{ symbol: 'SPAM', name: 'LogSpammer', address: chain.address, decimals: 0, watch: 'all' }],
    }],
  };
  const file = path.join(dir, 'runway.json');
  fs.writeFileSync(file, JSON.stringify(cfg, null, 2));
  return file;
}

/** CPU seconds (user + system, every thread) of process pid so far. */
function cpuSecs(pid, children = false) {
  try {
    const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const v = f.slice(f.lastIndexOf(')') + 2).split(' ').map(Number);
    // utime, stime (and cutime, cstime: children waited for) in clock ticks (USER_HZ 100)
    return (v[11] + v[12] + (children ? v[13] + v[14] : 0)) / 100;
  } catch {
    return 0;
  }
}

/** CPU seconds of the PostgreSQL server: the postmaster and the backends
 * it has reaped (a backend counts once its connection has ended). */
function pgCpu() {
  const dir = process.env.RUNWAY_TEST_PG_DIR;
  if (!dir) return 0;
  const pid = Number(fs.readFileSync(path.join(dir, 'data', 'postmaster.pid'), 'utf8').split('\n')[0]);
  return cpuSecs(pid, true);
}

const status = (pid, key) => {
  const m = new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
};

/** Starts runwayd on an empty database and waits for its "caught up" line.
 * Returns { secs, rss, log }. */
async function backfill(o, ctx, url, run) {
  const logFile = path.join(ctx.dir, `runwayd-${run}.log`);
  const fd = fs.openSync(logFile, 'w');
  // BENCH_RUNWAYD_ARGS: more arguments ("--verbose"); BENCH_RUNWAYD_WRAP: a
  // command to run runwayd under ("perf record -g -o FILE --"; the RSS and
  // CPU figures are then the wrapper's).
  const extra = (process.env.BENCH_RUNWAYD_ARGS || '').split(' ').filter(Boolean);
  const wrap = (process.env.BENCH_RUNWAYD_WRAP || '').split(' ').filter(Boolean);
  const argv = [...wrap.slice(1), path.join(ctx.bin, 'runwayd'), '--config', ctx.config, '--database-url', url,
    '--migrations', ctx.migrations, ...extra];
  const t0 = Date.now();
  const child = spawn(wrap.length ? wrap[0] : argv.shift(), argv, { stdio: ['ignore', fd, fd] });
  fs.closeSync(fd);
  let exited = null;
  child.on('exit', (code, sig) => { exited = { code, sig }; });
  let peakRss = 0;
  const anvil0 = cpuSecs(ctx.anvilPid);
  try {
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (exited) throw new Error(`runwayd exited (${JSON.stringify(exited)}):\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
      peakRss = Math.max(peakRss, status(child.pid, 'VmHWM'));
      const log = fs.readFileSync(logFile, 'utf8');
      const m = /^(\S+) INFO +\[bench\] caught up at block (\d+)/m.exec(log);
      if (m && Number(m[2]) >= ctx.chain.last) {
        peakRss = Math.max(peakRss, status(child.pid, 'VmHWM'));
        const secs = (Date.parse(m[1]) - t0) / 1000;
        return { secs, rss: peakRss, cpu: cpuSecs(child.pid), anvilCpu: cpuSecs(ctx.anvilPid) - anvil0 };
      }
      if (Date.now() - t0 > 1800 * 1000) throw new Error('runwayd did not catch up within 30 minutes');
    }
  } finally {
    if (!exited) {
      child.kill('SIGTERM');
      await new Promise((r) => (exited ? r() : child.once('exit', r)));
    }
  }
}

// ---- main -------------------------------------------------------------------

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const bin = process.env.RUNWAY_BIN_DIR;
  const base = process.env.RUNWAY_TEST_DATABASE_URL;
  if (!bin || !base) throw new Error('run through tools/bench-backfill (RUNWAY_BIN_DIR, RUNWAY_TEST_DATABASE_URL)');
  const dir = o.keep || fs.mkdtempSync(path.join(os.tmpdir(), 'runway-bench-backfill-'));
  fs.mkdirSync(dir, { recursive: true });
  const migrations = path.join(dir, 'migrations');
  fs.mkdirSync(migrations, { recursive: true });
  for (const f of fs.readdirSync(path.join(repoRoot, 'migrations'))) {
    if (f.endsWith('.sql')) fs.copyFileSync(path.join(repoRoot, 'migrations', f), path.join(migrations, f));
  }
  console.log(`bench-backfill: ${new Date().toISOString().slice(0, 16)}Z, ${os.cpus().length} cores, load ${loadavg()}`);
  // New WAL files are not zero-filled: (c) runs first and would otherwise
  // pay for creating the WAL files that (b) then recycles.
  sql(base, 'ALTER SYSTEM SET wal_init_zero = off');
  if (process.env.BENCH_NO_AUTOVACUUM) sql(base, 'ALTER SYSTEM SET autovacuum = off');
  sql(base, 'SELECT pg_reload_conf()');
  const anvil = await startAnvil({ extra: ['--gas-limit', String(gasLimit(o.perTx, o.txsPerBlock))] });
  try {
    let t = Date.now();
    const chain = await fillChain(anvil.rpcUrl, o);
    const nBlocks = chain.last - chain.first + 1;
    console.log(`chain: ${fmt(o.events)} Transfer logs in ${fmt(nBlocks)} blocks (${o.perTx} per transaction, ` +
      `${o.txsPerBlock} transaction${o.txsPerBlock > 1 ? 's' : ''} per block), made in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    const ctx = { dir, bin, migrations, chain, anvilPid: anvil.pid, config: writeConfig(dir, anvil.rpcUrl, chain, chain.deployBlock) };
    const logsPerBlock = o.perTx * o.txsPerBlock;
    const span = Math.max(1, Math.floor(o.fetchLogs / logsPerBlock));
    const copyFile = path.join(dir, 'rows.bin');
    const best = { a: null, b: null, c: null };
    let rssMax = 0;
    for (let run = 1; run <= o.runs; run++) {
      // (a) eth_getLogs, bodies read and counted
      for (const conc of o.phases.includes('a') ? o.conc : []) {
        const cpu0 = cpuSecs(anvil.pid);
      const f = await fetchAll(anvil.rpcUrl, chain, span, conc);
      const anvilCpu = cpuSecs(anvil.pid) - cpu0;
        if (f.logs !== o.events) throw new Error(`eth_getLogs gave ${f.logs} logs, not ${o.events}`);
        const rate = f.logs / f.secs;
        console.log(`run ${run} (a) eth_getLogs, ${span} block${span > 1 ? 's' : ''} per request, ${conc} in flight: ` +
          `${fmt(rate)} logs/s (${f.secs.toFixed(2)} s, ${(f.bytes / 1e6).toFixed(0)} MB, anvil CPU ${anvilCpu.toFixed(1)} s; load ${loadavg()})`);
        if (!best.a || rate > best.a.rate) best.a = { rate, conc, secs: f.secs };
      }
      // (c) runwayd from an empty database to caught up
      const url = createDatabase(base, `bench_${run}`, bin, migrations);
      sql(url, 'CHECKPOINT');
      await new Promise((r) => setTimeout(r, 300)); // the migration's backend ends
      const pg0 = pgCpu();
      const c = await backfill(o, ctx, url, run);
      await new Promise((r) => setTimeout(r, 300)); // runwayd's backend ends
      const pgC = pgCpu() - pg0;
      const [cnt, sum] = sql(url, 'SELECT count(*), coalesce(sum(value), 0) FROM ev_erc20_transfer').split('|');
      const wantSum = (BigInt(o.events) * BigInt(o.events + 1)) / 2n;
      if (Number(cnt) !== o.events || BigInt(sum) !== wantSum) {
        throw new Error(`runwayd stored ${cnt} rows summing to ${sum}; the chain has ${o.events} summing to ${wantSum}`);
      }
      const rate = o.events / c.secs;
      rssMax = Math.max(rssMax, c.rss);
      const av = sql(url, `SELECT autovacuum_count, autoanalyze_count FROM pg_stat_user_tables WHERE relname = 'ev_erc20_transfer'`);
      console.log(`run ${run} (c) runwayd backfill: ${fmt(rate)} rows/s (${c.secs.toFixed(2)} s), ` +
        `peak RSS ${(c.rss / 1048576).toFixed(1)} MB, CPU runwayd ${c.cpu.toFixed(1)} s, anvil ${c.anvilCpu.toFixed(1)} s, PostgreSQL ${pgC.toFixed(1)} s ` +
        `(autovacuum|autoanalyze ${av}); load ${loadavg()}`);
      if (!best.c || rate > best.c.rate) best.c = { rate, secs: c.secs, rss: c.rss };
      // (b) psql \copy of the same rows into an identical table
      if (!o.phases.includes('b')) {
        sql(base, `DROP DATABASE bench_${run}`);
        continue;
      }
      if (!fs.existsSync(copyFile)) {
        psql(url, ['-c', `\\copy (SELECT * FROM ev_erc20_transfer ORDER BY block_number, log_index) TO '${copyFile}' WITH (FORMAT binary)`]);
      }
      sql(url, 'DROP TABLE IF EXISTS bench_copy');
      sql(url, 'CREATE TABLE bench_copy (LIKE ev_erc20_transfer INCLUDING ALL)');
      sql(url, 'CHECKPOINT');
      await new Promise((r) => setTimeout(r, 300));
      const pg1 = pgCpu();
      t = process.hrtime.bigint();
      psql(url, ['-c', `\\copy bench_copy FROM '${copyFile}' WITH (FORMAT binary)`]);
      const secs = Number(process.hrtime.bigint() - t) / 1e9;
      await new Promise((r) => setTimeout(r, 300));
      const pgB = pgCpu() - pg1;
      const n = Number(sql(url, 'SELECT count(*) FROM bench_copy'));
      if (n !== o.events) throw new Error(`psql copied ${n} rows, not ${o.events}`);
      const rateB = n / secs;
      console.log(`run ${run} (b) psql \\copy (binary) into a copy of ev_erc20_transfer: ${fmt(rateB)} rows/s (${secs.toFixed(2)} s, PostgreSQL CPU ${pgB.toFixed(1)} s); load ${loadavg()}`);
      if (!best.b || rateB > best.b.rate) best.b = { rate: rateB, secs };
      sql(base, `DROP DATABASE bench_${run}`);
    }
    if (!best.a || !best.b) return; // a phase was left out: no ratio
    const ceiling = Math.min(best.a.rate, best.b.rate);
    const ratio = best.c.rate / ceiling;
    console.log(`\nbench-backfill: ${fmt(o.events)} ERC-20 Transfer logs, ${fmt(nBlocks)} blocks, best of ${o.runs} run${o.runs > 1 ? 's' : ''}`);
    console.log(`  (a) eth_getLogs (node ceiling)       ${fmt(best.a.rate).padStart(10)} logs/s  (${best.a.secs.toFixed(2)} s, ${best.a.conc} in flight)`);
    console.log(`  (b) psql \\copy (database ceiling)    ${fmt(best.b.rate).padStart(10)} rows/s  (${best.b.secs.toFixed(2)} s)`);
    console.log(`  (c) runwayd backfill                 ${fmt(best.c.rate).padStart(10)} rows/s  (${best.c.secs.toFixed(2)} s)`);
    console.log(`  ratio (c) / min((a), (b))            ${ratio.toFixed(2).padStart(10)}         (target >= 0.80)`);
    console.log(`  runwayd peak RSS (VmHWM)             ${(rssMax / 1048576).toFixed(1).padStart(10)} MB      (highest of the runs; target < 100 MB)`);
    console.log(`  load at the end: ${loadavg()}`);
    process.exitCode = ratio >= 0.8 && rssMax < 100 * 1048576 ? 0 : 1;
  } finally {
    await anvil.stop();
    if (!o.keep) fs.rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((e) => {
  console.error(`bench-backfill: ${e.stack || e.message}`);
  process.exit(1);
});
