// settle.mjs: the relayer's settlement rate against the node's own ceiling,
// in one run (run by tools/bench-relayer under tests/pg/with-pg; not a test).
//
// Ours: N intents (TestToken.mint(to_k, 1), one key each) filed at once with
// rw_intent_file while a relayer_driver waits; timed from the filing's commit
// (the filing's own time is printed apart) until every intent is confirmed
// (confirmations 0: a receipt, as for the ceiling; anvil automines, so no
// later block would come). The relayer estimates gas, signs, stores each
// transaction before sending it, sends, reads receipts and settles: its
// whole path.
// Ceiling: the same N calls, pre-signed (not timed) by another account, sent
// with eth_sendRawTransaction in JSON-RPC batches of 100, timed until the
// last receipt is there: what the node itself can take. Measured just before
// and just after ours, each time on a fresh chain like ours (anvil slows down
// as its chain grows); the ratio is against the higher.
//
// Usage: settle.mjs [--intents N] [--max-inflight N]
// Environment: RUNWAY_TEST_DATABASE_URL (with-pg), RELAYER_DRIVER, RUNWAY_BIN;
// BENCH_LOG_LEVEL (the driver's, default warn) and BENCH_LOG (a file for its log);
// BENCH_PG_LOG (a file for the PostgreSQL server's log) and BENCH_PGOPTIONS (the
// driver's PGOPTIONS, e.g. '-c log_min_duration_statement=2').
import fs from 'node:fs';
import { ethers, fileIntent, rpc, sql1, sqlRows, startAnvil, startEnv, Driver, sleep, CHAIN_ID } from '../relayer/helpers.mjs';
import { connect, rpcBatch, testWallets } from '../../tools/lib/chain.mjs';
import { deployContract } from '../../tools/lib/deploy.mjs';
import { Poller } from './poller.mjs';

const arg = (name, def) => {
  const i = process.argv.indexOf(`--${name}`);
  if (i < 0) return def;
  const v = Number(process.argv[i + 1]);
  if (!Number.isInteger(v) || v <= 0) {
    console.error(`settle.mjs: --${name} wants a positive integer`);
    process.exit(2);
  }
  return v;
};
const N = arg('intents', 1000);
const inflight = arg('max-inflight', 64);

const mintIface = new ethers.Interface(['function mint(address to, uint256 amount)']);
// Ours and the ceiling mint to the same fresh addresses, each on its own
// chain: the same storage writes.
const recipient = (k) => ethers.getAddress('0x' + k.toString(16).padStart(40, '0'));
const OURS = 0x1000; // recipient(OURS + g), g = 0 (ours' warm-up) .. N

/** Waits for count rows of sqlText to reach n; returns seconds since t0. */
async function waitCount(poller, sqlText, n, t0, what, driver = null, ms = 600000) {
  const deadline = Date.now() + ms;
  for (;;) {
    const c = Number(await poller.value(sqlText));
    if (c >= n) return (performance.now() - t0) / 1000;
    if (Date.now() > deadline) throw new Error(`${what}: ${c} of ${n} after ${ms / 1000} s${driver ? `\n${driver.log.slice(-3000)}` : ''}`);
    await sleep(20);
  }
}

async function ours(env) {
  const signer = env.wallets[3];
  const d = new Driver(env, { key: signer.privateKey, config: { confirmations: 0, poll_interval_ms: 100 },
    env: process.env.BENCH_PGOPTIONS ? { PGOPTIONS: process.env.BENCH_PGOPTIONS } : {},
    // anvil now and then keeps an accepted transaction in its pool without
    // mining it (foundry-rs/foundry#10122), and every later nonce waits
    // behind it; "already known" answers the same bytes again. A dev chain's
    // policy: a transaction not mined 2 s and a block after its broadcast is
    // stuck and bumped (the default, 60 s and 3 blocks, stalls the run a
    // minute when it happens).
    args: ['--max-inflight', String(inflight), '--stuck-ms', '2000', '--stuck-blocks', '1',
      '--log-level', process.env.BENCH_LOG_LEVEL || 'warn'] }).start();
  // One intent first: the driver is up, registered and has seen the chain.
  fileIntent(env, 'bench:warm', { target: env.tokenAddress, data: mintIface.encodeFunctionData('mint', [recipient(OURS), 1]) });
  const poller = new Poller(env.url);
  await waitCount(poller, `SELECT count(*) FROM relayer_intent WHERE key = 'bench:warm' AND state IN ('confirmed', 'final')`,
    1, performance.now(), 'warm-up intent', d, 60000);
  const token = env.tokenAddress.toLowerCase().slice(2);
  // The clock starts when the filing has committed: the relayer cannot see
  // an intent before (and the ceiling's signing is not timed either); the
  // filing's own time is printed apart.
  const tf = performance.now();
  sqlRows(env.url, `SELECT count(*) FROM generate_series(1, ${N}) g,
    LATERAL rw_intent_file('bench:' || g, ${CHAIN_ID}, decode('${token}', 'hex'),
      decode('40c10f19', 'hex') || decode(lpad(to_hex(${OURS} + g), 64, '0'), 'hex') || decode(lpad('1', 64, '0'), 'hex'),
      0, NULL)`);
  const t0 = performance.now();
  const filed = (t0 - tf) / 1000;
  const secs = await waitCount(poller, `SELECT count(*) FROM relayer_intent WHERE key LIKE 'bench:%' AND key <> 'bench:warm'
    AND state IN ('confirmed', 'final')`, N, t0, 'relayer', d);
  poller.close();
  if (process.env.BENCH_SQL) {
    // A diagnostic statement run at the end of the relayer part, e.g. an
    // EXPLAIN ANALYZE of the relayer's queries ($SIGNER is the signer's bytea).
    const q = process.env.BENCH_SQL.replaceAll('$SIGNER', `'\\x${signer.address.toLowerCase().slice(2)}'::bytea`);
    console.error(sqlRows(env.url, q).map((r) => r.join(' | ')).join('\n'));
  }
  const st = await d.stop();
  if (process.env.BENCH_LOG) fs.writeFileSync(process.env.BENCH_LOG, d.log);
  if (process.env.BENCH_PG_LOG && process.env.RUNWAY_TEST_PG_DIR) {
    // the server's log (with PGOPTIONS='-c log_min_duration_statement=N',
    // the driver's slow statements)
    fs.copyFileSync(`${process.env.RUNWAY_TEST_PG_DIR}/server.log`, process.env.BENCH_PG_LOG);
  }
  if (st.code !== 0) throw new Error(`relayer_driver exit ${JSON.stringify(st)}:\n${d.log.slice(-3000)}`);
  const txs = Number(sql1(env.url, `SELECT count(*) FROM relayer_tx`));
  // more transactions than intents (+ the warm-up): bumps of stuck ones
  return { secs, filed, txs };
}

/**
 * The ceiling on a chain of its own, started like ours (anvil, TestToken
 * deployed by the same account): anvil slows down as its chain grows (at
 * 1000 transactions a run, a fourth run takes its transactions at a third
 * of the first's rate), so the ceiling and ours each start from the same
 * fresh chain instead of one running on the other's history.
 */
async function ceiling() {
  const anvil = await startAnvil();
  const provider = connect(anvil.url);
  try {
    const wallets = testWallets(provider, 6);
    const token = await deployContract(wallets[0], 'TestToken', ['Test USD', 'TUSD', 6]);
    return await ceilingOn({ rpcUrl: anvil.url, provider, tokenAddress: token.address, w: wallets[5] });
  } finally {
    provider.destroy();
    await anvil.stop();
  }
}

async function ceilingOn({ rpcUrl, provider, tokenAddress, w }) {
  const nonce0 = await provider.getTransactionCount(w.address, 'latest');
  const block = await provider.getBlock('latest');
  const maxFee = block.baseFeePerGas * 3n + 1000000000n;
  const raws = [];
  for (let k = 1; k <= N; k++) {
    raws.push(await w.signTransaction({
      type: 2, chainId: CHAIN_ID, nonce: nonce0 + k - 1, to: tokenAddress, value: 0n, gasLimit: 100000n,
      maxFeePerGas: maxFee, maxPriorityFeePerGas: 1000000000n,
      data: mintIface.encodeFunctionData('mint', [recipient(OURS + k), 1]),
    }));
  }
  const t0 = performance.now();
  for (let i = 0; i < raws.length; i += 100) {
    await rpcBatch(rpcUrl, raws.slice(i, i + 100).map((raw) => ['eth_sendRawTransaction', [raw]]));
  }
  const lastHash = ethers.keccak256(raws[raws.length - 1]);
  for (;;) {
    const r = await rpc(rpcUrl, 'eth_getTransactionReceipt', [lastHash]);
    if (r) break;
    await sleep(5);
  }
  const secs = (performance.now() - t0) / 1000;
  const count = await provider.getTransactionCount(w.address, 'latest');
  if (count !== nonce0 + N) throw new Error(`ceiling: ${count - nonce0} of ${N} mined`);
  return { secs };
}

// The node's ceiling just before and just after ours: on a shared machine
// its rate moves from minute to minute; the ratio is against the higher.
const c1 = await ceiling();
console.error(`settle: ceiling measured (${c1.secs.toFixed(2)} s)`);
const env = await startEnv('bench_settle');
let o;
try {
  o = await ours(env);
} finally {
  await env.stop();
}
const c2 = await ceiling();
const rc1 = N / c1.secs, rc2 = N / c2.secs, rc = Math.max(rc1, rc2), ro = N / o.secs;
console.log(`node ceiling: ${N} pre-signed transactions in ${c1.secs.toFixed(2)} s before, ` +
  `${c2.secs.toFixed(2)} s after: ${rc1.toFixed(0)} and ${rc2.toFixed(0)} tx/s`);
console.log(`relayer: ${N} intents filed in ${o.filed.toFixed(2)} s, all confirmed ${o.secs.toFixed(2)} s later: ` +
  `${ro.toFixed(0)} intents/s (${(N / (o.secs + o.filed)).toFixed(0)}/s with the filing; ` +
  `${o.txs - 1} transactions for ${N} intents, max_inflight ${inflight})`);
console.log(`settlement: ours ${ro.toFixed(0)}/s ceiling ${rc.toFixed(0)}/s ratio ${(100 * ro / rc).toFixed(1)}%`);
