// cross.mjs: runway's signer, decoder and key commands against an
// independent Ethereum implementation (ethers v6), byte for byte.
//
// Usage: node tests/cross/cross.mjs PATH/TO/runway [CASES] [SEED]
// For each case it makes a random key and a random transaction (legacy with
// EIP-155 or EIP-1559 with an access list; calls and contract creations;
// empty to large data; quantities up to 2^256-1), then checks that:
//   - `runway --json tx sign --key-file K` gives the raw bytes, hash and
//     sender that ethers gives (RFC 6979 makes signatures deterministic);
//   - `runway --json tx decode RAW` gives back every field and the sender;
//   - `runway keys address --keystore F` on a keystore written by ethers
//     gives ethers' EIP-55 address.
// Prints "cross: N cases ok" or the first mismatches; exit 1 on any mismatch.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, Transaction, getAddress, hexlify, encryptKeystoreJsonSync } from 'ethers';

const [runway, casesArg, seedArg] = process.argv.slice(2);
if (!runway) {
  console.error('usage: node cross.mjs PATH/TO/runway [CASES] [SEED]');
  process.exit(2);
}
const CASES = Number(casesArg || 300);
let seed = BigInt(seedArg || 20261123);

// xorshift64*: deterministic, so a failure can be replayed with its seed.
function next64() {
  seed ^= seed >> 12n; seed ^= (seed << 25n) & 0xffffffffffffffffn; seed ^= seed >> 27n;
  return (seed * 0x2545f4914f6cdd1dn) & 0xffffffffffffffffn;
}
const rnd = (n) => Number(next64() % BigInt(n));
function bytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rnd(256);
  return b;
}
function bigOfBits(maxBits) {
  const bits = rnd(maxBits + 1);
  if (bits === 0) return 0n;
  let v = 0n;
  for (let i = 0; i < bits; i += 64) v = (v << 64n) | next64();
  return v & ((1n << BigInt(bits)) - 1n);
}
const hexq = (v) => '0x' + v.toString(16);
const asText = (v) => (rnd(2) ? hexq(v) : v.toString(10));

function randomTx() {
  const type = rnd(2) ? 2 : 0;
  const tx = {
    type,
    chainId: BigInt([1, 137, 31337, 11155111, 42161][rnd(5)] + (rnd(10) === 0 ? rnd(1 << 30) : 0)),
    nonce: bigOfBits(rnd(4) === 0 ? 52 : 16), // ethers keeps nonces below 2^53
    gasLimit: 21000n + bigOfBits(rnd(4) === 0 ? 63 : 24),
    to: rnd(8) === 0 ? null : getAddress(hexlify(bytes(20))),
    value: rnd(3) === 0 ? 0n : bigOfBits(256),
    data: hexlify(bytes([0, 0, 4, 36, 68, 100, 1000, 5000][rnd(8)])),
  };
  if (type === 2) {
    tx.maxPriorityFeePerGas = bigOfBits(rnd(4) === 0 ? 256 : 40);
    tx.maxFeePerGas = tx.maxPriorityFeePerGas + bigOfBits(40);
    if (tx.maxFeePerGas >= 1n << 256n) tx.maxFeePerGas = tx.maxPriorityFeePerGas;
    const n = rnd(3) === 0 ? 0 : rnd(4);
    tx.accessList = [];
    for (let i = 0; i < n; i++) {
      const keys = [];
      for (let k = rnd(4); k > 0; k--) keys.push(hexlify(bytes(32)));
      tx.accessList.push({ address: getAddress(hexlify(bytes(20))), storageKeys: keys });
    }
  } else {
    tx.gasPrice = bigOfBits(rnd(4) === 0 ? 256 : 40);
  }
  return tx;
}

// The JSON-RPC-style object runway reads, with a random mix of hex and
// decimal quantity strings and both "data" and "input" spellings.
function toRunwayJson(tx) {
  const o = {
    chainId: asText(tx.chainId),
    nonce: asText(tx.nonce),
    gas: asText(tx.gasLimit),
    value: asText(tx.value),
  };
  if (rnd(2)) o.type = hexq(BigInt(tx.type));
  if (tx.to !== null) o.to = rnd(2) ? tx.to : tx.to.toLowerCase();
  else if (rnd(2)) o.to = null;
  o[rnd(2) ? 'data' : 'input'] = tx.data;
  if (tx.type === 2) {
    o.maxFeePerGas = asText(tx.maxFeePerGas);
    o.maxPriorityFeePerGas = asText(tx.maxPriorityFeePerGas);
    if (tx.accessList.length || rnd(2)) o.accessList = tx.accessList;
  } else {
    o.gasPrice = asText(tx.gasPrice);
  }
  return o;
}

function run(args, input, env) {
  const r = spawnSync(runway, args, { input, encoding: 'utf8', env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return r;
}

const dir = mkdtempSync(join(tmpdir(), 'runway-cross-'));
const failures = [];
function check(i, what, got, want) {
  if (String(got) !== String(want)) failures.push(`case ${i}: ${what}: runway ${got} != ethers ${want}`);
}

try {
  for (let i = 0; i < CASES && failures.length < 10; i++) {
    const wallet = new Wallet(hexlify(bytes(32)));
    const tx = randomTx();
    const keyFile = join(dir, `key${i}`);
    writeFileSync(keyFile, wallet.privateKey + '\n', { mode: 0o600 });

    // ethers: the reference.
    const etx = Transaction.from({ ...tx });
    const raw = wallet.signingKey.sign(etx.unsignedHash);
    etx.signature = raw;
    const want = { raw: etx.serialized, hash: etx.hash, from: wallet.address };

    const s = run(['--json', 'tx', 'sign', '--key-file', keyFile], JSON.stringify(toRunwayJson(tx)));
    if (s.status !== 0) { failures.push(`case ${i}: tx sign exit ${s.status}: ${s.stderr.trim()}`); continue; }
    const got = JSON.parse(s.stdout);
    check(i, 'raw', got.raw, want.raw);
    check(i, 'hash', got.hash, want.hash);
    check(i, 'from', got.from, want.from);

    const plain = run(['tx', 'sign', '--key-file', keyFile], JSON.stringify(toRunwayJson(tx)));
    check(i, 'raw (plain output, first line)', plain.stdout.split('\n')[0], want.raw);

    const d = run(['--json', 'tx', 'decode', want.raw]);
    if (d.status !== 0) { failures.push(`case ${i}: tx decode exit ${d.status}: ${d.stderr.trim()}`); continue; }
    const dec = JSON.parse(d.stdout);
    check(i, 'decode type', dec.type, hexq(BigInt(tx.type)));
    check(i, 'decode chainId', dec.chainId, hexq(tx.chainId));
    check(i, 'decode nonce', dec.nonce, hexq(tx.nonce));
    check(i, 'decode gas', dec.gas, hexq(tx.gasLimit));
    check(i, 'decode to', dec.to, tx.to);
    check(i, 'decode value', dec.value, hexq(tx.value));
    check(i, 'decode input', dec.input, tx.data);
    check(i, 'decode from', dec.from, want.from);
    check(i, 'decode hash', dec.hash, want.hash);
    check(i, 'decode r', dec.r, hexq(BigInt(etx.signature.r)));
    check(i, 'decode s', dec.s, hexq(BigInt(etx.signature.s)));
    if (tx.type === 2) {
      check(i, 'decode maxFeePerGas', dec.maxFeePerGas, hexq(tx.maxFeePerGas));
      check(i, 'decode maxPriorityFeePerGas', dec.maxPriorityFeePerGas, hexq(tx.maxPriorityFeePerGas));
      check(i, 'decode accessList', JSON.stringify(dec.accessList),
        JSON.stringify(tx.accessList.map((e) => ({ address: e.address, storageKeys: e.storageKeys }))));
      check(i, 'decode yParity', dec.yParity, hexq(BigInt(etx.signature.yParity)));
    } else {
      check(i, 'decode gasPrice', dec.gasPrice, hexq(tx.gasPrice));
      check(i, 'decode v', dec.v, hexq(tx.chainId * 2n + 35n + BigInt(etx.signature.yParity)));
    }

    // Keystores written by ethers, light scrypt so the run stays short.
    if (i % 10 === 0) {
      const pass = `pass-${i}-${hexlify(bytes(4))}`;
      const ks = encryptKeystoreJsonSync({ address: wallet.address, privateKey: wallet.privateKey }, pass,
        { scrypt: { N: 1 << 10 } });
      const ksFile = join(dir, `ks${i}.json`);
      writeFileSync(ksFile, ks, { mode: 0o600 });
      const a = run(['keys', 'address', '--keystore', ksFile], '', { RUNWAY_PASSPHRASE: pass });
      if (a.status !== 0) { failures.push(`case ${i}: keys address exit ${a.status}: ${a.stderr.trim()}`); continue; }
      check(i, 'keys address', a.stdout.trim(), wallet.address);
    }
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
}

if (failures.length) {
  for (const f of failures) console.error(f);
  console.error(`cross: FAILED (seed ${seedArg || 20261123})`);
  process.exit(1);
}
console.log(`cross: ${CASES} cases ok (sign, decode; ${Math.ceil(CASES / 10)} keystores)`);
