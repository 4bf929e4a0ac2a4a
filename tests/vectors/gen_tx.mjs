// gen_tx.mjs: writes tests/vectors/tx_random.txt with an independent
// implementation (ethers v6): random legacy (EIP-155 and pre-EIP-155),
// EIP-2930 and EIP-1559 transactions, signed with RFC 6979 so that the raw
// bytes are reproducible, plus cases whose r or s starts with a zero byte.
//
// Usage (from the repository root): node tests/vectors/gen_tx.mjs
// Deterministic: the same ethers version writes the same file.
import { writeFileSync } from 'node:fs';
import { Wallet, Transaction, hexlify, getAddress } from 'ethers';

const OUT = new URL('./tx_random.txt', import.meta.url);
const RANDOM_CASES = 400;

// splitmix64: a small deterministic generator.
let state = 0x72756e776179n; // "runway"
const M64 = (1n << 64n) - 1n;
function next64() {
  state = (state + 0x9e3779b97f4a7c15n) & M64;
  let z = state;
  z = ((z ^ (z >> 30n)) * 0xbf58476d1ce4e5b9n) & M64;
  z = ((z ^ (z >> 27n)) * 0x94d049bb133111ebn) & M64;
  return z ^ (z >> 31n);
}
const rnd = (n) => Number(next64() % BigInt(n));
function bytes(n) {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = rnd(256);
  return b;
}
// A value of a random bit length up to maxBits (edges included).
function big(maxBits) {
  const pick = rnd(8);
  if (pick === 0) return 0n;
  if (pick === 1) return (1n << BigInt(maxBits)) - 1n;
  const bits = 1 + rnd(maxBits);
  let v = 0n;
  for (let i = 0; i < bits; i += 64) v = (v << 64n) | next64();
  return v & ((1n << BigInt(bits)) - 1n);
}
const q = (v) => '0x' + BigInt(v).toString(16);

function randomTx() {
  const type = [0, 0, 1, 2, 2, 2][rnd(6)];
  const chainPick = rnd(10);
  let chainId = BigInt([1, 137, 31337, 11155111, 42161][rnd(5)]);
  if (chainPick === 0) chainId = big(64);
  if (chainPick === 1 && type === 0) chainId = 0n; // pre-EIP-155
  const dataLens = [0, 0, 1, 4, 36, 55, 56, 68, 100, 300, 1000, 2000];
  const tx = {
    type,
    chainId,
    nonce: rnd(3) === 0 ? big(53) : BigInt(rnd(1000)), // ethers: nonce < 2^53
    gasLimit: rnd(3) === 0 ? big(64) : 21000n + BigInt(rnd(1000000)),
    to: rnd(6) === 0 ? null : getAddress(hexlify(bytes(20))),
    value: rnd(3) === 0 ? 0n : big(256),
    data: hexlify(bytes(rnd(100) === 0 ? 20000 : dataLens[rnd(dataLens.length)])),
  };
  if (type === 2) {
    tx.maxPriorityFeePerGas = big(rnd(4) === 0 ? 256 : 40);
    tx.maxFeePerGas = big(rnd(4) === 0 ? 256 : 48);
    if (tx.maxFeePerGas < tx.maxPriorityFeePerGas) // ethers refuses these
      [tx.maxFeePerGas, tx.maxPriorityFeePerGas] = [tx.maxPriorityFeePerGas, tx.maxFeePerGas];
  } else {
    tx.gasPrice = big(rnd(4) === 0 ? 256 : 48);
  }
  if (type !== 0) {
    tx.accessList = [];
    for (let i = rnd(3) === 0 ? 0 : rnd(5); i > 0; i--) {
      const keys = [];
      for (let k = rnd(4); k > 0; k--) keys.push(hexlify(bytes(32)));
      tx.accessList.push({ address: getAddress(hexlify(bytes(20))), storageKeys: keys });
    }
  }
  return tx;
}

function sign(tx, wallet) {
  const etx = Transaction.from({ ...tx });
  etx.signature = wallet.signingKey.sign(etx.unsignedHash);
  return etx;
}

function line(tx, wallet, etx) {
  const al = !tx.accessList || tx.accessList.length === 0 ? '-'
    : tx.accessList.map((e) => e.address.toLowerCase() + ':' + e.storageKeys.join(',')).join(';');
  return [
    tx.type, q(tx.chainId), q(tx.nonce), q(tx.gasPrice ?? 0n), q(tx.maxPriorityFeePerGas ?? 0n),
    q(tx.maxFeePerGas ?? 0n), q(tx.gasLimit), tx.to ? tx.to.toLowerCase() : '-', q(tx.value),
    tx.data, al, wallet.privateKey, etx.unsignedHash, etx.serialized, etx.hash,
    wallet.address.toLowerCase(),
  ].join(' ');
}

// Signs tx with successive nonces until the signature's r (which = 'r')
// or s starts with a zero byte.
function withLeadingZero(tx, wallet, which) {
  for (let nonce = 0n; ; nonce++) {
    const t = { ...tx, nonce };
    const etx = sign(t, wallet);
    if (etx.signature[which].startsWith('0x00')) return [t, etx];
  }
}

const lines = [
  '# tx_random.txt: written by gen_tx.mjs (ethers ' + (await import('ethers')).version + '); do not edit.',
  '# type chainId nonce gasPrice maxPriorityFeePerGas maxFeePerGas gas to value data accessList' +
    ' secretKey signingHash raw txHash sender',
  '# to "-": contract creation; accessList "-": empty, else address:key,key;address:...',
];

// The EIP-155 example.
{
  const wallet = new Wallet('0x' + '46'.repeat(32));
  const tx = { type: 0, chainId: 1n, nonce: 9n, gasPrice: 20000000000n, gasLimit: 21000n,
    to: '0x' + '35'.repeat(20), value: 10n ** 18n, data: '0x' };
  lines.push(line(tx, wallet, sign(tx, wallet)));
}

// Leading zero bytes in r and in s, for each type.
{
  const wallet = new Wallet('0x' + '01'.repeat(32));
  for (const type of [0, 1, 2]) {
    for (const which of ['r', 's']) {
      const base = { type, chainId: type === 0 && which === 's' ? 0n : 5n, gasLimit: 21000n,
        to: '0x' + '77'.repeat(20), value: 1n, data: '0x' };
      if (type === 2) { base.maxPriorityFeePerGas = 1n; base.maxFeePerGas = 2n; }
      else base.gasPrice = 1n;
      if (type !== 0) base.accessList = [];
      const [tx, etx] = withLeadingZero(base, wallet, which);
      lines.push(line(tx, wallet, etx));
    }
  }
}

// Every quantity at its maximum: chain id, gas, value, fees (nonce: ethers
// stops at 2^53 - 1).
{
  const wallet = new Wallet('0x' + '02'.repeat(32));
  const max64 = (1n << 64n) - 1n, max256 = (1n << 256n) - 1n;
  for (const type of [0, 1, 2]) {
    const tx = { type, chainId: max64, nonce: (1n << 53n) - 1n, gasLimit: max64, to: null,
      value: max256, data: '0x00' };
    if (type === 2) { tx.maxPriorityFeePerGas = max256; tx.maxFeePerGas = max256; }
    else tx.gasPrice = max256;
    if (type !== 0) tx.accessList = [{ address: '0x' + '00'.repeat(20), storageKeys: ['0x' + '00'.repeat(32)] }];
    lines.push(line(tx, wallet, sign(tx, wallet)));
  }
}

for (let i = 0; i < RANDOM_CASES; i++) {
  let sk;
  do sk = hexlify(bytes(32)); while (BigInt(sk) === 0n || BigInt(sk) >= 0xfffffffffffffffffffffffffffffffebaaedce6af48a03bbfd25e8cd0364141n);
  const wallet = new Wallet(sk);
  const tx = randomTx();
  lines.push(line(tx, wallet, sign(tx, wallet)));
}

writeFileSync(OUT, lines.join('\n') + '\n');
console.log(`gen_tx: ${lines.length - 3} cases`);
