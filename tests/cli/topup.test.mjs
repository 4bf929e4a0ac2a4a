// topup.test.mjs: `runway topup quote|create|cancel|list` against a real
// PostgreSQL (meson runs this file under tests/pg/with-pg, which sets
// RUNWAY_TEST_DATABASE_URL): migrations applied with the built runway, the
// mirror's rows written with psql, then the CLI's output, errors and exit
// codes (0 ok, 1 refused or failed, 2 usage).
// Usage: tests/pg/with-pg node --test tests/cli/topup.test.mjs  (RUNWAY_BIN_DIR = build/src)
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = process.env.RUNWAY_BIN_DIR;
const url = process.env.RUNWAY_TEST_DATABASE_URL;
assert.ok(bin, 'RUNWAY_BIN_DIR must name the directory holding runway');
assert.ok(url, 'RUNWAY_TEST_DATABASE_URL must be set: run under tests/pg/with-pg');
const root = new URL('../..', import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), 'runway-cli-topup-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

const CHAIN = 31337;
const USDC = '0x5fbdb2315678afecb367f032d93f642f64180aa3';
const BALANCE = '0xCf7Ed3AccA5a467e9e704C703E8D87F634fB0Fc9';
const BALANCE2 = '0x0000000000000000000000000000000000000b22';
const ALICE = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
const BOB = '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC';
const CAROL = '0x90F79bf6EB2c4f870365E785982E1f101E93b906';
const DAVE = '0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65';
const hex = (a) => '\\x' + a.slice(2).toLowerCase();

// Sanitizer settings pass through (a sanitized build reports leaks).
const san = Object.fromEntries(['ASAN_OPTIONS', 'UBSAN_OPTIONS']
  .filter((k) => process.env[k]).map((k) => [k, process.env[k]]));
function runway(args, { env = {} } = {}) {
  const r = spawnSync(join(bin, 'runway'), args, {
    encoding: 'utf8', env: { PATH: process.env.PATH, ...san, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const db = (args, opts) => runway(['--database-url', url, ...args], opts);
function psql(sql) {
  const r = spawnSync('psql', [url, '-X', '-q', '-At', '-v', 'ON_ERROR_STOP=1', '-c', sql], {
    encoding: 'utf8', env: { PATH: process.env.PATH, PGTZ: 'UTC' },
  });
  assert.equal(r.status, 0, r.stderr);
  return r.stdout.trim();
}

before(() => {
  const m = db(['db', 'migrate', '--migrations', join(root, 'migrations')]);
  assert.equal(m.code, 0, m.err);
  psql(`INSERT INTO chain VALUES (${CHAIN}, 'local');
        INSERT INTO token (chain_id, address, symbol, decimals) VALUES (${CHAIN}, '${hex(USDC)}', 'USDC', 6);
        INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance, grace_period)
        VALUES (${CHAIN}, '${hex(BALANCE)}', '${hex(USDC)}', 10000000, 5000000000, 86400);
        INSERT INTO tax_rate (region, rate_bp) VALUES ('DE', 1900);
        INSERT INTO promo_code (code, kind, rate_bp) VALUES ('TENOFF', 'discount', 1000), ('BONUS5', 'bonus', 500);
        INSERT INTO promo_code (code, kind, rate_bp, expires_at) VALUES ('OLD', 'bonus', 1000, now() - interval '1 day');
        -- Carol holds 4990 USDC (an operator credit in the mirror)
        INSERT INTO indexer_block VALUES (${CHAIN}, 5, '\\x${'05'.repeat(32)}', '\\x${'04'.repeat(32)}', 1700000000);
        INSERT INTO ev_balance_credited VALUES (${CHAIN}, 5, '\\x${'05'.repeat(32)}', '\\x${'a5'.repeat(32)}', 0, 0,
          '${hex(BALANCE)}', '${hex(CAROL)}', '\\x${'0e'.repeat(20)}', 4990000000, '\\x${'01'.repeat(32)}', 4990000000);`);
});

test('help and usage errors', () => {
  for (const args of [['topup', '--help'], ['topup', 'quote', '--help'], ['topup', 'create', '-h'],
    ['topup', 'cancel', '--help'], ['topup', 'list', '--help']]) {
    const r = runway(args);
    assert.equal(r.code, 0, args.join(' '));
    assert.match(r.out, /Usage: runway topup/);
  }
  assert.match(runway(['--help']).out, /topup quote\|create\|cancel\|list/);
  const cases = [
    [['topup'], /a subcommand is needed/],
    [['topup', 'refill'], /unknown subcommand 'refill'/],
    [['topup', 'quote', '--amount', '10'], /needs --account ADDR/],
    [['topup', 'quote', '--account', ALICE], /needs --amount DEC/],
    [['topup', 'quote', '--account', '0x1234', '--amount', '10'], /--account '0x1234' is not a 0x-prefixed 20-byte address/],
    [['topup', 'quote', '--account', ALICE.replace('C8', 'c8'), '--amount', '10'], /wrong EIP-55 checksum/],
    [['topup', 'quote', '--account', ALICE, '--amount', '10', '--chain-id', 'x'], /--chain-id needs a chain id/],
    [['topup', 'cancel'], /needs the session's REF/],
    [['topup', 'cancel', '0x12'], /REF '0x12' is not a 0x-prefixed 32-byte hex value/],
    [['topup', 'list', '--status', 'Done'], /--status must be Pending, Confirming/],
    [['topup', 'list', '--limit', '0'], /--limit needs a whole number from 1 to 1000/],
    [['topup', 'list', '--amount', '5'], /unexpected argument '--amount'/],
  ];
  for (const [args, re] of cases) {
    const r = db(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '', 'nothing on stdout for a usage error');
    assert.match(r.err, re, args.join(' '));
  }
});

test('quote: amounts, tax by region, promotional adjustment, total', () => {
  let r = db(['topup', 'quote', '--account', ALICE, '--amount', '100', '--region', 'de', '--code', 'tenoff']);
  assert.equal(r.code, 0, r.err);
  const lines = r.out.split('\n');
  assert.equal(lines[0], '107.100000 USDC');
  assert.match(r.out, /amount {6}100\.000000 USDC/);
  assert.match(r.out, /discount {4}-10\.000000 USDC \(promo TENOFF\)/);
  assert.match(r.out, /tax {9}17\.100000 USDC \(DE, 19\.00%\)/);
  assert.match(r.out, /total {7}107\.100000 USDC to pay/);
  assert.match(r.out, new RegExp(`deposit\\(${ALICE}, 90000000, 17100000, <session ref>\\)`));
  r = db(['--json', 'topup', 'quote', '--account', ALICE.toLowerCase(), '--amount', '99.5', '--code', 'BONUS5']);
  assert.equal(r.code, 0, r.err);
  const q = JSON.parse(r.out);
  assert.equal(q.amount, '99500000');
  assert.equal(q.amount_units, '99.500000');
  assert.equal(q.bonus, '4975000');
  assert.equal(q.total, '99500000');
  assert.equal(q.tax, '0');
  assert.equal(q.balance_after, '104475000');
  assert.equal(q.account, ALICE, 'addresses in EIP-55 form');
  assert.equal(q.balance, BALANCE);
  assert.equal(q.chain_id, CHAIN);
  assert.equal(q.decimals, 6);
  assert.equal(q.headroom, '5000000000');
});

test('quote: the minimum, exact decimals, the cap with its headroom, live promo checks', () => {
  let r = db(['topup', 'quote', '--account', ALICE, '--amount', '9.99']);
  assert.equal(r.code, 1);
  assert.equal(r.out, '');
  assert.match(r.err, /a top-up of 9\.990000 USDC is below the minimum of 10\.000000 USDC/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10']);
  assert.equal(r.code, 0, r.err);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10.0000001']);
  assert.equal(r.code, 2);
  assert.match(r.err, /more decimals than USDC's 6: amounts are never rounded/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '1e3']);
  assert.equal(r.code, 2);
  assert.match(r.err, /not a decimal amount/);
  r = db(['topup', 'quote', '--account', CAROL, '--amount', '10.000001']);
  assert.equal(r.code, 1);
  assert.match(r.err, /above the cap of 5000\.000000 USDC: at most 10\.000000 USDC can be added/);
  r = db(['topup', 'quote', '--account', CAROL, '--amount', '10']);
  assert.equal(r.code, 0, r.err);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--code', 'OLD']);
  assert.equal(r.code, 1);
  assert.match(r.err, /promo code OLD expired at \d{4}-\d\d-\d\dT/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--region', 'Germany']);
  assert.equal(r.code, 2);
  assert.match(r.err, /region Germany is not an ISO 3166/);
});

test('create, one Pending session per account, cancel, list', () => {
  let r = db(['topup', 'create', '--account', BOB, '--amount', '25', '--region', 'DE']);
  assert.equal(r.code, 0, r.err);
  const ref = r.out.split('\n')[0];
  assert.match(ref, /^0x[0-9a-f]{64}$/);
  assert.match(r.out, /status {6}Pending until \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(sessions last 15 minutes\)/);
  assert.match(r.out, new RegExp(`deposit\\(${BOB}, 25000000, 4750000, ${ref}\\) on ${BALANCE}`));
  assert.match(r.out, new RegExp(`approve\\(${BALANCE}, 29750000\\) on token 0x5FbDB2315678afecb367f032d93F642f64180aa3`));
  assert.equal(psql(`SELECT round(extract(epoch FROM expires_at - created_at)) FROM topup_session WHERE ref = '\\x${ref.slice(2)}'`), '900');

  r = db(['topup', 'create', '--account', BOB, '--amount', '10']);
  assert.equal(r.code, 1);
  assert.match(r.err, new RegExp(`already has a pending top-up session ${ref} \\(expires at \\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\dZ\\): pay it or cancel it first`));

  r = db(['topup', 'list', '--account', BOB]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`${ref}\\s+Pending\\s+25\\.000000 USDC\\s+29\\.750000 USDC`));
  assert.match(r.out, /1 session\n$/);

  r = db(['topup', 'cancel', ref, '--account', ALICE]);
  assert.equal(r.code, 1, 'another account cannot cancel it');
  assert.match(r.err, /no top-up session/);
  r = db(['--json', 'topup', 'cancel', ref, '--account', BOB]);
  assert.equal(r.code, 0, r.err);
  const s = JSON.parse(r.out);
  assert.equal(s.status, 'Cancelled');
  assert.equal(s.ref, ref);
  assert.match(s.cancelled_at, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
  r = db(['topup', 'cancel', ref]);
  assert.equal(r.code, 0, 'cancelling twice is fine');
  assert.match(r.out, /status {6}Cancelled at /);
  r = db(['topup', 'cancel', '0x' + '77'.repeat(32)]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no top-up session 0x7777/);

  r = db(['--json', 'topup', 'create', '--account', BOB, '--amount', '10']);
  assert.equal(r.code, 0, 'a new session once the first is cancelled: ' + r.err);
  const s2 = JSON.parse(r.out);
  assert.equal(s2.status, 'Pending');
  assert.equal(s2.total, '10000000');
  r = db(['--json', 'topup', 'list', '--account', BOB]);
  const all = JSON.parse(r.out);
  assert.deepEqual(all.map((x) => x.status).sort(), ['Cancelled', 'Pending']);
  r = db(['--json', 'topup', 'list', '--account', BOB, '--status', 'cancelled']);
  assert.deepEqual(JSON.parse(r.out).map((x) => x.ref), [ref]);
});

test('a confirmed deposit completes the session; one not yet confirmed shows Confirming', () => {
  let r = db(['--json', 'topup', 'create', '--account', DAVE, '--amount', '50']);
  assert.equal(r.code, 0, r.err);
  const ref = JSON.parse(r.out).ref;
  psql(`INSERT INTO indexer_block VALUES (${CHAIN}, 20, '\\x${'20'.repeat(32)}', '\\x${'19'.repeat(32)}', extract(epoch FROM now())::bigint);
        INSERT INTO ev_balance_deposited VALUES (${CHAIN}, 20, '\\x${'20'.repeat(32)}', '\\x${'d0'.repeat(32)}', 0, 0,
          '${hex(BALANCE)}', '${hex(DAVE)}', '${hex(DAVE)}', 50000000, 0, '\\x${ref.slice(2)}', 50000000);
        INSERT INTO chain_head (chain_id, head_number, head_hash, head_timestamp, confirmations)
        VALUES (${CHAIN}, 21, '\\x${'21'.repeat(32)}', extract(epoch FROM now())::bigint, 2);`);
  assert.equal(psql(`SELECT completed || ' ' || waiting FROM rw_topup_reconcile(${CHAIN})`), '0 1');
  r = db(['--json', 'topup', 'list', '--account', DAVE]);
  assert.equal(JSON.parse(r.out)[0].status, 'Confirming');
  r = db(['topup', 'cancel', ref]);
  assert.equal(r.code, 1);
  assert.match(r.err, /is on chain .*waiting for confirmation; it cannot be cancelled/);
  psql(`UPDATE chain_head SET head_number = 22 WHERE chain_id = ${CHAIN}`);
  assert.equal(psql(`SELECT completed || ' ' || waiting FROM rw_topup_reconcile(${CHAIN})`), '1 0');
  r = db(['topup', 'list', '--account', DAVE]);
  assert.match(r.out, new RegExp(`${ref}\\s+Completed`));
  r = db(['--json', 'topup', 'list', '--account', DAVE, '--status', 'Completed']);
  const s = JSON.parse(r.out)[0];
  assert.equal(s.deposit_tx, '0x' + 'd0'.repeat(32));
  assert.equal(s.deposit_confirmed, true);
});

test('the Balance contract: the only one, --balance, --chain-id, --config', () => {
  psql(`INSERT INTO chain VALUES (1, 'mainnet');
        INSERT INTO balance_info (chain_id, address, token, min_deposit, max_balance)
        VALUES (1, '${hex(BALANCE)}', '${hex(USDC)}', 10000000, 5000000000),
               (1, '${hex(BALANCE2)}', '${hex(USDC)}', 10000000, 5000000000);`);
  let r = db(['topup', 'quote', '--account', ALICE, '--amount', '10']);
  assert.equal(r.code, 2);
  assert.match(r.err, /the database knows 3 Balance contracts: choose one with --balance ADDR/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--balance', BALANCE]);
  assert.equal(r.code, 2);
  assert.match(r.err, /is known on 2 chains: choose one with --chain-id N/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--balance', BALANCE, '--chain-id', String(CHAIN)]);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, new RegExp(`balance {5}${BALANCE} \\(chain ${CHAIN}\\)`));
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--balance', BALANCE2]);
  assert.equal(r.code, 1, 'a token on chain 1 the database does not know');
  assert.match(r.err, /decimals are unknown/);
  r = db(['topup', 'quote', '--account', ALICE, '--amount', '10', '--balance', '0x' + '99'.repeat(20)]);
  assert.equal(r.code, 1);
  assert.match(r.err, /is not known to the database/);

  const cfg = join(dir, 'runway.json');
  writeFileSync(cfg, JSON.stringify({
    database_url: url,
    chains: [{ name: 'local', chain_id: CHAIN, rpc: ['http://127.0.0.1:8545'], balances: [{ address: BALANCE }] }],
  }));
  r = runway(['--config', cfg, '--json', 'topup', 'quote', '--account', ALICE, '--amount', '12']);
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).chain_id, CHAIN, 'the configuration\'s only Balance, and its database_url');
});

test('connection errors name host:port, never the password', () => {
  const r = runway(['--database-url', 'postgresql://runway:s3cretpw@127.0.0.1:1/runway', 'topup', 'list']);
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot connect to PostgreSQL at 127\.0\.0\.1:1/);
  assert.doesNotMatch(r.err, /s3cretpw/);
});
