// instance.test.mjs: `runway instance create|list|show|stop|set-status`
// against a real PostgreSQL (meson runs it under tests/pg/with-pg, which sets
// RUNWAY_TEST_DATABASE_URL): migrations applied with the built runway, the
// mirror's rows written with psql, then the CLI's output, the intents it
// files, every error and the exit codes (0 ok, 1 refused or failed, 2 usage,
// nothing on standard output for a usage error).
// Usage: tests/pg/with-pg node --test tests/scheduler/instance.test.mjs  (RUNWAY_BIN_DIR = build/src)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = process.env.RUNWAY_BIN_DIR;
const base = process.env.RUNWAY_TEST_DATABASE_URL;
assert.ok(bin, 'RUNWAY_BIN_DIR must name the directory holding runway');
assert.ok(base, 'RUNWAY_TEST_DATABASE_URL must be set: run under tests/pg/with-pg');
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'runway-cli-instance-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const CHAIN = 31337;
const USDC = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const BALANCE = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9';
const ALICE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const BOB = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const PROVIDER = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const ON_CHAIN = '0x' + '11'.repeat(32); // Bob's instance, live
const ENDED = '0x' + '22'.repeat(32); // Bob's instance, stopped
const hex = (a) => '\\x' + a.slice(2).toLowerCase();

const url = base.replace(/\/[^/?]*(\?|$)/, '/cli_instance$1');
const san = Object.fromEntries(['ASAN_OPTIONS', 'UBSAN_OPTIONS']
  .filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
function runway(args, { env = {} } = {}) {
  const r = spawnSync(join(bin, 'runway'), args, {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...san, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const db = (args) => runway(['--database-url', url, ...args]);
function psql(sql, on = url) {
  const r = spawnSync('psql', [on, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8', env: { PATH: process.env.PATH, PGTZ: 'UTC' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}
/** A usage error: exit 2, the message on standard error, nothing on standard output. */
function usage(args, re) {
  const r = db(args);
  assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
  assert.equal(r.out, '', args.join(' '));
  assert.match(r.err, re, args.join(' '));
}
/** A refusal or failure: exit 1, the message on standard error. */
function fails(args, re) {
  const r = db(args);
  assert.equal(r.code, 1, `${args.join(' ')}: ${r.out}${r.err}`);
  assert.match(r.err, re, args.join(' '));
  return r;
}
function ok(args) {
  const r = db(args);
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.err}`);
  return r;
}

before(() => {
  psql('DROP DATABASE IF EXISTS cli_instance', base);
  psql('CREATE DATABASE cli_instance', base);
  const m = db(['db', 'migrate', '--migrations', join(root, 'migrations')]);
  assert.equal(m.code, 0, m.err);
  const b = (n) => `'\\x${n.repeat(32)}'`;
  // Alice has 100 USDC; Bob's instance ON_CHAIN is live (5/day), ENDED was stopped.
  psql(`INSERT INTO chain VALUES (${CHAIN}, 'local');
    INSERT INTO token (chain_id, address, symbol, decimals) VALUES (${CHAIN}, '${hex(USDC)}', 'USDC', 6);
    INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
    VALUES (${CHAIN}, '${hex(BALANCE)}', '${hex(USDC)}', 10000000, 5000000000, 86400);
    INSERT INTO indexer_block VALUES (${CHAIN}, 5, ${b('05')}, ${b('04')}, 1700000000),
      (${CHAIN}, 6, ${b('06')}, ${b('05')}, 1700000012);
    INSERT INTO ev_balance_deposited VALUES (${CHAIN}, 5, ${b('05')}, ${b('a5')}, 0, 0, '${hex(BALANCE)}',
      '${hex(ALICE)}', '${hex(ALICE)}', 100000000, 0, ${b('01')}, 100000000);
    INSERT INTO ev_balance_deposited VALUES (${CHAIN}, 5, ${b('05')}, ${b('a5')}, 0, 1, '${hex(BALANCE)}',
      '${hex(BOB)}', '${hex(BOB)}', 20000000, 0, ${b('02')}, 20000000);
    INSERT INTO ev_balance_instance_created VALUES (${CHAIN}, 6, ${b('06')}, ${b('a6')}, 0, 0, '${hex(BALANCE)}',
      '${hex(ON_CHAIN)}', '${hex(BOB)}', '${hex(PROVIDER)}', 5000000, 5000000, 5000000, 1700086412, 10000000);
    INSERT INTO ev_balance_instance_created VALUES (${CHAIN}, 6, ${b('06')}, ${b('a6')}, 0, 1, '${hex(BALANCE)}',
      '${hex(ENDED)}', '${hex(BOB)}', '${hex(PROVIDER)}', 1000000, 1000000, 1000000, 1700086412, 8000000);
    INSERT INTO ev_balance_instance_ended VALUES (${CHAIN}, 6, ${b('06')}, ${b('a6')}, 0, 2, '${hex(BALANCE)}',
      '${hex(ENDED)}', '${hex(BOB)}', 3, 1000000, 9000000);`);
});

test('help', () => {
  for (const args of [['instance', '--help'], ['instance', 'help'], ['instance', 'create', '--help'],
    ['instance', 'list', '-h'], ['instance', 'show', '--help'], ['instance', 'stop', '--help'],
    ['instance', 'set-status', '--help']]) {
    const r = runway(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, /Usage: runway instance/);
  }
  assert.match(runway(['--help']).out, /instance create\|list\|show\|stop\|set-status/);
});

test('usage errors: exit 2, nothing on standard output', () => {
  const create = ['instance', 'create', '--account', ALICE, '--provider', PROVIDER, '--price-per-day', '5'];
  usage(['instance'], /instance: a subcommand is needed/);
  usage(['instance', 'launch'], /instance: unknown subcommand 'launch'/);
  usage(['instance', 'create', '--provider', PROVIDER, '--price-per-day', '5'], /needs --account ADDR/);
  usage(['instance', 'create', '--account', ALICE, '--price-per-day', '5'], /needs --provider ADDR/);
  usage(['instance', 'create', '--account', ALICE, '--provider', PROVIDER], /needs --price-per-day DEC/);
  usage([...create.slice(0, 2), '--account', '0x1234', ...create.slice(4)],
    /--account '0x1234' is not a 0x-prefixed 20-byte address/);
  usage(['instance', 'create', '--account', ALICE.replace('C8', 'c8'), '--provider', PROVIDER, '--price-per-day', '5'],
    /--account 0x70997970C51812dc3A010C7d01b50e0d17dc79c8 has a wrong EIP-55 checksum/);
  usage([...create, '--provider', 'nope'], /--provider 'nope' is not a 0x-prefixed 20-byte address/);
  usage([...create, '--balance', '0xzz'], /--balance '0xzz' is not a 0x-prefixed 20-byte address/);
  usage([...create.slice(0, 6), '--price-per-day', 'five'], /--price-per-day 'five' is not a decimal amount/);
  usage([...create.slice(0, 6), '--price-per-day', '1.1234567'],
    /--price-per-day 1.1234567 has more decimals than USDC's 6: amounts are never rounded/);
  usage([...create.slice(0, 6), '--price-per-day', '0'], /--price-per-day must be above 0/);
  usage([...create, '--id', '0x12'], /--id '0x12' is not an instance id \(0x and 64 hex digits\)/);
  usage([...create, '--request', 'has space'], /--request 'has space' is not 1 to 120 printable characters/);
  usage([...create, '--request', 'x'.repeat(121)], /--request 'x+' is not 1 to 120 printable characters/);
  usage([...create, 'extra'], /instance create: unexpected argument 'extra'/);
  usage([...create, '--chain-id', '0'], /--chain-id needs a chain id \(a whole number above 0\), not '0'/);
  usage([...create, '--chain-id'], /--chain-id/);
  usage(['instance', 'list', '--status', 'Running'], /--status must be New, Launching, Active, SmallBalance, InsufficientFunds, Terminated or Stopped, not 'Running'/);
  usage(['instance', 'list', '--limit', '0'], /--limit needs a whole number from 1 to 1000, not '0'/);
  usage(['instance', 'list', '--price-per-day', '5'], /instance list: unexpected argument '--price-per-day'/);
  usage(['instance', 'show'], /instance show needs the instance's ID/);
  usage(['instance', 'show', '0x12'], /ID '0x12' is not an instance id/);
  usage(['instance', 'show', ON_CHAIN, ENDED], /instance show: unexpected argument/);
  usage(['instance', 'stop'], /instance stop needs the instance's ID/);
  usage(['instance', 'stop', ON_CHAIN, '--account', ALICE], /instance stop: unexpected argument '--account'/);
  usage(['instance', 'set-status', ON_CHAIN], /instance set-status needs a status: New or Launching/);
  usage(['instance', 'set-status', ON_CHAIN, 'Active'], /status 'Active': only New and Launching are set by hand/);
  usage(['instance', 'set-status', ON_CHAIN, 'Gone'], /status 'Gone': only New and Launching/);
});

test('create: files createInstance, once per request; list, show, set-status', () => {
  let r = ok(['instance', 'create', '--account', ALICE, '--provider', PROVIDER, '--price-per-day', '5.5',
    '--request', 'order-17']);
  const lines = r.out.split('\n');
  assert.match(lines[0], /^0x[0-9a-f]{64}$/);
  const id = lines[0];
  assert.match(r.out, /^status\s+New \(not on chain yet\)$/m);
  assert.match(r.out, new RegExp(`^account\\s+${ALICE}$`, 'm'));
  assert.match(r.out, /^price\s+5.500000 USDC per day$/m);
  assert.match(r.out, /^create\s+instance-create:order-17 \(queued\)$/m);
  assert.match(r.out, /^request\s+order-17 \(New since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\)$/m);
  // the intent: createInstance(id, account, provider, 5500000) on the contract, signer the chain's relayer
  assert.equal(psql(`SELECT rw_hex(target) || ' ' || coalesce(rw_hex(signer), '-') || ' ' || rw_hex(calldata)
    FROM relayer_intent WHERE key = 'instance-create:order-17'`),
  `${BALANCE.toLowerCase()} - 0x2394e526${id.slice(2)}${'0'.repeat(24)}${ALICE.slice(2).toLowerCase()}`
    + `${'0'.repeat(24)}${PROVIDER.slice(2).toLowerCase()}${(5500000).toString(16).padStart(64, '0')}`);
  // the same request again: the same instance, nothing new
  r = ok(['instance', 'create', '--account', ALICE, '--provider', PROVIDER, '--price-per-day', '5.5',
    '--request', 'order-17', '--json']);
  const j = JSON.parse(r.out);
  assert.equal(j.instance_id, id);
  assert.equal(j.balance, BALANCE);
  assert.equal(j.account, ALICE, 'EIP-55 addresses in --json');
  assert.equal(j.price_per_day, '5500000');
  assert.equal(j.price_per_day_units, '5.500000');
  assert.equal(j.on_chain, false);
  assert.equal(psql(`SELECT count(*) FROM relayer_intent WHERE key LIKE 'instance-create:%'`), '1');
  // an explicit id
  const mine = '0x' + 'ab'.repeat(32);
  r = ok(['instance', 'create', '--account', ALICE, '--provider', PROVIDER, '--price-per-day', '1', '--id', mine]);
  assert.equal(r.out.split('\n')[0], mine);

  r = ok(['instance', 'set-status', id, 'launching']);
  assert.match(r.out, /^status\s+Launching \(not on chain yet\)$/m);

  r = ok(['instance', 'list']);
  assert.match(r.out, /^INSTANCE\s+STATUS\s+PRICE\/DAY\s+PAID UNTIL\s+ACCOUNT$/m);
  assert.match(r.out, new RegExp(`^${id}\\s+Launching\\s+5.500000 USDC\\s+-\\s+${ALICE}$`, 'm'));
  assert.match(r.out, new RegExp(`^${ON_CHAIN}\\s+Active\\s+5.000000 USDC\\s+2023-11-15T22:13:32Z\\s+${BOB}$`, 'm'));
  assert.match(r.out, /^4 instances$/m);
  r = ok(['instance', 'list', '--status', 'launching', '--json']);
  assert.deepEqual(JSON.parse(r.out).map((x) => x.instance_id), [id]);
  r = ok(['instance', 'list', '--account', BOB, '--json']);
  assert.deepEqual(JSON.parse(r.out).map((x) => x.status).sort(), ['Active', 'Stopped']);
  r = ok(['instance', 'list', '--limit', '1', '--json']);
  assert.equal(JSON.parse(r.out).length, 1);
  r = ok(['instance', 'list', '--chain-id', '5']);
  assert.match(r.out, /^0 instances$/m);

  r = ok(['instance', 'show', ON_CHAIN]);
  assert.match(r.out, /^status\s+Active$/m);
  assert.match(r.out, /^reserve\s+5.000000 USDC$/m);
  assert.match(r.out, /^next charge 2023-11-15T22:13:32Z, 5.000000 USDC$/m);
  assert.match(r.out, /^charged\s+5.000000 USDC in 1 period$/m);
  r = ok(['instance', 'show', ENDED, '--json']);
  const e = JSON.parse(r.out);
  assert.equal(e.status, 'Stopped');
  assert.equal(e.refunded_units, '1.000000');
  r = ok(['instance', 'show', ENDED]);
  assert.match(r.out, /^ended\s+Stopped, reserve returned 1.000000 USDC$/m);
});

test('stop: files stopInstance once', () => {
  let r = ok(['instance', 'stop', ON_CHAIN]);
  assert.equal(r.out.split('\n')[0], `instance-stop:${CHAIN}:${ON_CHAIN}`);
  assert.match(r.out, /^state\s+queued$/m);
  assert.match(r.out, new RegExp(`^calls\\s+stopInstance\\(${ON_CHAIN}\\) on ${BALANCE} \\(chain ${CHAIN}\\)$`, 'm'));
  assert.equal(psql(`SELECT rw_hex(calldata) FROM relayer_intent WHERE key = 'instance-stop:${CHAIN}:${ON_CHAIN}'`),
    `0xc257a3cf${ON_CHAIN.slice(2)}`);
  r = ok(['instance', 'stop', ON_CHAIN, '--chain-id', String(CHAIN), '--balance', BALANCE, '--json']);
  assert.equal(JSON.parse(r.out).key, `instance-stop:${CHAIN}:${ON_CHAIN}`);
  assert.equal(psql(`SELECT count(*) FROM relayer_intent WHERE key LIKE 'instance-stop:%'`), '1', 'filed once');
  r = ok(['instance', 'show', ON_CHAIN]);
  assert.match(r.out, new RegExp(`^stop\\s+instance-stop:${CHAIN}:${ON_CHAIN} \\(queued\\)$`, 'm'));
});

test('refusals and failures: exit 1, named', () => {
  const create = ['instance', 'create', '--provider', PROVIDER, '--price-per-day', '5'];
  fails([...create, '--account', BOB, '--request', 'bob-1'],
    /account 0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc has 9000000 on Balance contract .*: createInstance takes two days \(10000000\)/);
  fails([...create, '--account', ALICE, '--request', 'order-17'], /request id order-17 was used for instance 0x[0-9a-f]{64}/);
  fails([...create, '--account', ALICE, '--id', ON_CHAIN], /instance 0x1{64} exists already on Balance contract/);
  let r = fails([...create, '--account', ALICE, '--balance', PROVIDER],
    /Balance contract 0x90f79bf6eb2c4f870365e785982e1f101e93b906 is not known to the database/);
  assert.equal(r.out, '');
  fails([...create, '--account', ALICE, '--chain-id', '5'], /the database knows no Balance contract on chain 5/);
  fails(['instance', 'show', '0x' + '99'.repeat(32)], /no instance 0x9{64}$/m);
  fails(['instance', 'show', ON_CHAIN, '--chain-id', '5'], /no instance 0x1{64} on chain 5/);
  fails(['instance', 'set-status', ON_CHAIN, 'New'], /instance 0x1{64} is on chain \(Active\): its status follows the chain/);
  r = fails(['instance', 'stop', '0x' + 'ab'.repeat(32)], /instance 0x(ab){32} is not on chain yet \(New\)/);
  assert.match(r.err, /hint: Cancel its creation instead: SELECT rw_intent_cancel\('instance-create:/);
  fails(['instance', 'stop', ENDED], /instance 0x2{64} has ended \(Stopped\): nothing to stop/);
  // a second Balance contract: the contract must be named
  psql(`INSERT INTO balance_info (chain_id, address, token) VALUES (${CHAIN}, '\\x${'0b'.repeat(20)}', '${hex(USDC)}')`);
  usage([...create, '--account', ALICE], /the database knows 2 Balance contracts: choose one with --balance ADDR/);
  psql(`DELETE FROM balance_info WHERE address = '\\x${'0b'.repeat(20)}'`);
  // a configuration without a Balance contract
  const cfg = join(dir, 'none.json');
  writeFileSync(cfg, JSON.stringify({ chains: [{ name: 'local', chain_id: CHAIN, rpc: ['http://127.0.0.1:1'] }] }));
  r = runway(['--config', cfg, '--database-url', url, ...create, '--account', ALICE]);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /none\.json names no Balance contract: give --balance ADDR/);
  // a database that is not there
  r = runway(['--database-url', 'postgresql://postgres@127.0.0.1:1/x', 'instance', 'list']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /127\.0\.0\.1:1/);
  assert.equal(r.out, '');
  // a database without the migrations
  psql('DROP DATABASE IF EXISTS cli_instance_empty', base);
  psql('CREATE DATABASE cli_instance_empty', base);
  r = runway(['--database-url', base.replace(/\/[^/?]*(\?|$)/, '/cli_instance_empty$1'), 'instance', 'list']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /relation "instances" does not exist/);
});
