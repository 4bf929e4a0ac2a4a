// chain.test.mjs: CLI commands that read the chain (`runway cost`), on a
// devnet of our own (tools/devnet up on a free port, stopped by its PID).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const bin = process.env.RUNWAY_BIN_DIR;
assert.ok(bin, 'RUNWAY_BIN_DIR must name the directory holding runway');
const root = new URL('../..', import.meta.url).pathname;
const state = mkdtempSync(join(tmpdir(), 'runway-cli-chain-'));
let dn;

before(() => {
  const r = spawnSync(join(root, 'tools/devnet'), ['up', '--state-dir', state, '--port', '0'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  dn = JSON.parse(readFileSync(r.stdout.trim().split('\n').pop(), 'utf8'));
});
after(() => {
  spawnSync(join(root, 'tools/devnet'), ['down', '--state-dir', state]);
  rmSync(state, { recursive: true, force: true });
});

const runway = (args, env = {}) => {
  const r = spawnSync(join(bin, 'runway'), args, { encoding: 'utf8', env: { PATH: process.env.PATH, ...env } });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

test('cost: the 18-decimal worked example, to the last base unit', () => {
  const p = dn.contracts.ProviderToken18;
  let r = runway(['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '1w']);
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out.split('\n')[0], '19.990000000000195200 TT18');
  assert.match(r.out, /cost\s+19990000000000195200 base units/);
  r = runway(['--json', 'cost', '--provider', p, '--duration', '2w'], { RUNWAY_RPC_URL: dn.rpc_url });
  const j = JSON.parse(r.out);
  assert.equal(j.cost, '39980000000000390400');
  assert.equal(j.cost_units, '39.980000000000390400');
  assert.equal(j.seconds, 1209600);
  assert.equal(j.price, '33052248677249');
  assert.equal(j.decimals, 18);
  for (const d of ['1209600', '14d', '1w7d', '2w', '336h', '20160m']) {
    r = runway(['--json', 'cost', '--rpc-url', dn.rpc_url, '--provider', p, /^\d+$/.test(d) ? '--seconds' : '--duration', d]);
    assert.equal(JSON.parse(r.out).cost, '39980000000000390400', d);
  }
});

test('cost: USDC provider, 6 decimals', () => {
  const r = runway(['--json', 'cost', '--rpc-url', dn.rpc_url, '--provider', dn.contracts.ProviderUSDC, '--duration', '1d']);
  assert.equal(r.code, 0, r.err);
  const j = JSON.parse(r.out);
  assert.equal(j.cost, String(BigInt(dn.providers.ProviderUSDC.price) * 86400n));
  assert.equal(j.symbol, 'USDC');
  assert.match(j.cost_units, /^\d+\.\d{6}$/);
});

test('cost: errors are plain and exit 1 or 2', () => {
  const p = dn.contracts.ProviderToken18;
  const cases = [
    [['cost', '--provider', p, '--duration', '1w'], 2, /needs a node/],
    [['cost', '--rpc-url', dn.rpc_url, '--duration', '1w'], 2, /needs --provider/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p], 2, /exactly one of --duration/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '1w', '--seconds', '5'], 2, /exactly one/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '0d'], 2, /not a duration/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '-1d'], 2, /not a duration/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--seconds', '1.5'], 2, /whole number/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--seconds', '99999999999999999999999'], 2, /64 bits/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', '0x1234', '--duration', '1d'], 2, /not a 0x-prefixed 20-byte address/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', dn.accounts.user1.address, '--duration', '1d'], 1, /returned no data/],
    [['cost', '--rpc-url', 'http://127.0.0.1:1', '--provider', p, '--duration', '1d'], 1, /Couldn't connect|transport/i],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '1w5'], 2, /not a duration/],
    [['cost', '--rpc-url', dn.rpc_url, '--provider', p, '--duration', '1y'], 2, /not a duration/],
  ];
  for (const [args, code, re] of cases) {
    const r = runway(args);
    assert.equal(r.code, code, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, re, args.join(' '));
    assert.equal(r.out, '');
  }
});
