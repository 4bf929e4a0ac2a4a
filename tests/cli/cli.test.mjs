// cli.test.mjs: the runway and runwayd command lines: exit codes (0 ok,
// 1 failure, 2 usage), --help/--version, keys and tx error paths.
// Usage: node --test tests/cli/cli.test.mjs  (RUNWAY_BIN_DIR = build/src)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync, statSync, rmSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';

const bin = process.env.RUNWAY_BIN_DIR;
assert.ok(bin, 'RUNWAY_BIN_DIR must name the directory holding runway and runwayd');
const dir = mkdtempSync(join(tmpdir(), 'runway-cli-'));
process.on('exit', () => rmSync(dir, { recursive: true, force: true }));

function run(prog, args, { input = '', env = {} } = {}) {
  const r = spawnSync(join(bin, prog), args, {
    input, encoding: 'utf8', env: { PATH: process.env.PATH, ...env },
  });
  return { code: r.status, out: r.stdout, err: r.stderr };
}
const runway = (args, opts) => run('runway', args, opts);

const SK = '0x4646464646464646464646464646464646464646464646464646464646464646';
const ADDR = '0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F';
const keyFile = join(dir, 'key.txt');
writeFileSync(keyFile, SK + '\n', { mode: 0o600 });
const EIP155 = {
  chainId: '1', nonce: '9', gasPrice: '20000000000', gas: '21000',
  to: '0x3535353535353535353535353535353535353535', value: '1000000000000000000',
};
const EIP155_RAW = '0xf86c098504a817c800825208943535353535353535353535353535353535353535880de0b6b3a76400008025a028ef61340bd939bc2195fe537567866003e1a15d3c71ff63e1590620aa636276a067cbe9d8997f761aecb703304b3800ccf555c9f3dc64214b297fb1966a3b6d83';

test('--version and --help on both programs exit 0', () => {
  for (const prog of ['runway', 'runwayd']) {
    const v = run(prog, ['--version']);
    assert.equal(v.code, 0);
    assert.match(v.out, new RegExp(`^${prog} \\d+\\.\\d+\\.\\d+\\n$`));
    const h = run(prog, ['--help']);
    assert.equal(h.code, 0);
    assert.match(h.out, /Usage:/);
    assert.match(h.out, /0 ok, 1 failure, 2 usage error/);
  }
  for (const sub of [['keys', '--help'], ['tx', '--help'], ['tx', 'sign', '--help'], ['tx', 'decode', '--help']]) {
    const r = runway(sub);
    assert.equal(r.code, 0, sub.join(' '));
    assert.match(r.out, /Usage: runway/);
  }
});

test('usage errors exit 2 and say what is wrong on stderr', () => {
  const cases = [
    [[], /no command/],
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['tx'], /subcommand/],
    [['tx', 'sideways'], /unknown subcommand 'sideways'/],
    [['tx', 'sign'], /exactly one of --keystore FILE and --key-file FILE/],
    [['tx', 'sign', '--key-file', keyFile, '--keystore', 'x'], /exactly one/],
    [['tx', 'sign', '--key-file'], /--key-file needs a value/],
    [['tx', 'decode'], /needs a raw transaction/],
    [['keys'], /subcommand/],
    [['keys', 'new'], /--keystore FILE/],
    [['keys', 'new', '--keystore', 'x', '--kdf', 'md5'], /--kdf must be scrypt or pbkdf2/],
    [['--rpc-url'], /--rpc-url needs a value/],
  ];
  for (const [args, re] of cases) {
    const r = runway(args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.equal(r.out, '', 'nothing on stdout for a usage error');
    assert.match(r.err, re, args.join(' '));
  }
  const d = run('runwayd', ['--bogus']);
  assert.equal(d.code, 2);
  assert.match(d.err, /unknown option '--bogus'/);
});

test('tx sign: the EIP-155 example, plain and --json, global options anywhere', () => {
  const r = runway(['tx', 'sign', '--key-file', keyFile], { input: JSON.stringify(EIP155) });
  assert.equal(r.code, 0, r.err);
  const lines = r.out.trim().split('\n');
  assert.equal(lines[0], EIP155_RAW);
  assert.equal(lines[2], `from ${ADDR}`);
  const j = runway(['tx', 'sign', '--key-file', keyFile, '--json'], { input: JSON.stringify(EIP155) });
  const o = JSON.parse(j.out);
  assert.equal(o.raw, EIP155_RAW);
  assert.equal(o.from, ADDR);
  assert.equal(o.hash, '0x33469b22e9f636356c4160a87eb19df52b7412e8eac32a4a55ffe88ea8350788');
  const f = join(dir, 'tx.json');
  writeFileSync(f, JSON.stringify({ ...EIP155, from: ADDR.toLowerCase() }));
  const fromFile = runway(['tx', 'sign', f, '--key-file', keyFile]);
  assert.equal(fromFile.out.split('\n')[0], EIP155_RAW);
});

test('tx sign refuses incomplete or inconsistent input, naming the field', () => {
  const bad = [
    [{ ...EIP155, nonce: undefined }, /field 'nonce': missing/],
    [{ ...EIP155, chainId: undefined }, /field 'chainId': missing/],
    [{ ...EIP155, chainId: '0' }, /field 'chainId': must be at least 1/],
    [{ ...EIP155, gasPrice: undefined }, /field 'gasPrice': missing/],
    [{ ...EIP155, gasPrice: '12.5' }, /field 'gasPrice'.*not a quantity/],
    [{ ...EIP155, gas: '0x10000000000000000' }, /field 'gas': must be below 2\^64/],
    [{ ...EIP155, value: '0x1' + '0'.repeat(64) }, /field 'value'.*256 bits/],
    [{ ...EIP155, value: -1 }, /field 'value': must not be negative/],
    [{ ...EIP155, to: '0x35353535' }, /field 'to'/],
    [{ ...EIP155, to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAeD' }, /field 'to'.*EIP-55 checksum/],
    [{ ...EIP155, maxFeePerGas: '1' }, /field 'gasPrice': not used by a type 2/],
    [{ ...EIP155, type: '0x2', gasPrice: undefined, maxFeePerGas: '2' }, /maxPriorityFeePerGas': missing/],
    [{ ...EIP155, type: '0x2', gasPrice: undefined, maxFeePerGas: '1', maxPriorityFeePerGas: '2' }, /larger than maxFeePerGas/],
    [{ ...EIP155, type: '0x3' }, /field 'type'.*not supported/],
    [{ ...EIP155, accessList: [] , type: '0x0'}, /field 'accessList': legacy/],
    [{ ...EIP155, data: '0x01', input: '0x02' }, /'data' and 'input' differ/],
    [{ ...EIP155, data: '0x123' }, /field 'data'/],
    [{ ...EIP155, gasprice: '1' }, /field 'gasprice': unknown field/],
    [{ ...EIP155, from: '0x0000000000000000000000000000000000000001' }, /field 'from'.*not the signing key's address/],
  ];
  for (const [tx, re] of bad) {
    const r = runway(['tx', 'sign', '--key-file', keyFile], { input: JSON.stringify(tx) });
    assert.equal(r.code, 1, `${JSON.stringify(tx)}: ${r.err}`);
    assert.equal(r.out, '');
    assert.match(r.err, re);
  }
  const notJson = runway(['tx', 'sign', '--key-file', keyFile], { input: '{"nonce": ' });
  assert.equal(notJson.code, 1);
  assert.match(notJson.err, /not valid JSON at line 1/);
  const dup = runway(['tx', 'sign', '--key-file', keyFile], { input: '{"nonce":"1","nonce":"2"}' });
  assert.equal(dup.code, 1);
});

test('key files: mode 0600 enforced, bad keys refused', () => {
  const loose = join(dir, 'loose.txt');
  writeFileSync(loose, SK, { mode: 0o644 });
  chmodSync(loose, 0o644);
  let r = runway(['tx', 'sign', '--key-file', loose], { input: JSON.stringify(EIP155) });
  assert.equal(r.code, 1);
  assert.match(r.err, /accessible by group or others; run: chmod 600/);
  for (const [content, re] of [['0x00', /64 hex digits/], ['0x' + '0'.repeat(64), /not a valid secp256k1 private key/],
    ['0x' + 'f'.repeat(64), /not a valid secp256k1 private key/]]) {
    const f = join(dir, `bad${content.length}${content[3]}`);
    writeFileSync(f, content, { mode: 0o600 });
    r = runway(['tx', 'sign', '--key-file', f], { input: JSON.stringify(EIP155) });
    assert.equal(r.code, 1);
    assert.match(r.err, re);
  }
  r = runway(['tx', 'sign', '--key-file', join(dir, 'missing')], { input: JSON.stringify(EIP155) });
  assert.equal(r.code, 1);
  assert.match(r.err, /cannot read key file .*missing/);
});

test('tx decode: fields and sender; malformed input refused', () => {
  const r = runway(['--json', 'tx', 'decode', EIP155_RAW]);
  assert.equal(r.code, 0, r.err);
  const o = JSON.parse(r.out);
  assert.equal(o.from, ADDR);
  assert.equal(o.nonce, '0x9');
  assert.equal(o.v, '0x25');
  const stdin = runway(['tx', 'decode', '-'], { input: EIP155_RAW + '\n' });
  assert.equal(stdin.code, 0);
  assert.match(stdin.out, /from\s+0x9d8A62f656a8d1615C1294fd71e9CFb3E4855A4F/);
  for (const [raw, re] of [[EIP155_RAW.slice(0, -2), /end before/], [EIP155_RAW + '00', /bytes follow/],
    ['f86c', /hex/], ['0x04c0', /unsupported transaction type/], ['0xzz', /hex/]]) {
    const b = runway(['tx', 'decode', raw]);
    assert.equal(b.code, 1, raw);
    assert.match(b.err, re, raw);
  }
});

test('keys new/import/address: round trip, passphrase sources, refusals', () => {
  const env = { RUNWAY_PASSPHRASE: 'correct horse' };
  const ks = join(dir, 'new.json');
  let r = runway(['keys', 'new', '--keystore', ks, '--scrypt-n', '1024'], { env });
  assert.equal(r.code, 0, r.err);
  const addr = r.out.trim();
  assert.match(addr, /^0x[0-9a-fA-F]{40}$/);
  assert.equal(statSync(ks).mode & 0o777, 0o600);
  const doc = JSON.parse(readFileSync(ks, 'utf8'));
  assert.equal(doc.version, 3);
  assert.ok(!readFileSync(ks, 'utf8').includes('correct horse'));
  // ethers agrees on what is inside.
  assert.equal(Wallet.fromEncryptedJsonSync(readFileSync(ks, 'utf8'), 'correct horse').address, addr);

  r = runway(['keys', 'address', '--keystore', ks], { env });
  assert.equal(r.out.trim(), addr);
  r = runway(['keys', 'address', '--keystore', ks, '--unverified']);
  assert.equal(r.out.trim(), addr);
  r = runway(['keys', 'new', '--keystore', ks, '--scrypt-n', '1024'], { env });
  assert.equal(r.code, 1);
  assert.match(r.err, /never overwrites/);
  r = runway(['keys', 'address', '--keystore', ks], { env: { RUNWAY_PASSPHRASE: 'wrong' } });
  assert.equal(r.code, 1);
  assert.match(r.err, /wrong passphrase/);
  r = runway(['keys', 'address', '--keystore', ks]);
  assert.equal(r.code, 1);
  assert.match(r.err, /no passphrase/);
  const pf = join(dir, 'pass.txt');
  writeFileSync(pf, 'correct horse\n', { mode: 0o600 });
  r = runway(['keys', 'address', '--keystore', ks, '--passphrase-file', pf]);
  assert.equal(r.out.trim(), addr);
  r = runway(['keys', 'address', '--keystore', ks, '--passphrase-env', 'MY_PASS'], { env: { MY_PASS: 'correct horse' } });
  assert.equal(r.out.trim(), addr);
  r = runway(['keys', 'address', '--keystore', ks, '--passphrase-env', 'UNSET_VAR']);
  assert.equal(r.code, 1);
  assert.match(r.err, /UNSET_VAR.*not set/);
  chmodSync(ks, 0o640);
  r = runway(['keys', 'address', '--keystore', ks], { env });
  assert.equal(r.code, 1);
  assert.match(r.err, /accessible by group or others/);

  const imported = join(dir, 'imported.json');
  r = runway(['--json', 'keys', 'import', '--keystore', imported, '--key-file', keyFile, '--kdf', 'pbkdf2', '--pbkdf2-c', '1000'], { env });
  assert.equal(r.code, 0, r.err);
  assert.equal(JSON.parse(r.out).address, ADDR);
  assert.equal(JSON.parse(readFileSync(imported, 'utf8')).crypto.kdf, 'pbkdf2');
  // Signing with the keystore gives the same bytes as with the raw key.
  r = runway(['tx', 'sign', '--keystore', imported], { input: JSON.stringify(EIP155), env });
  assert.equal(r.out.split('\n')[0], EIP155_RAW);
  r = runway(['keys', 'new', '--keystore', join(dir, 'empty.json'), '--scrypt-n', '1024'], { env: { RUNWAY_PASSPHRASE: '' } });
  assert.equal(r.code, 1);
  assert.match(r.err, /empty passphrase/);
  const damaged = join(dir, 'damaged.json');
  writeFileSync(damaged, JSON.stringify({ ...doc, crypto: { ...doc.crypto, cipher: 'aes-256-cbc' } }), { mode: 0o600 });
  r = runway(['keys', 'address', '--keystore', damaged], { env });
  assert.equal(r.code, 1);
  assert.match(r.err, /crypto\.cipher/);
});
