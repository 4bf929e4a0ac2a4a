// gen_abi.mjs: random ABI round-trip vectors from an independent
// implementation (ethers v6 AbiCoder), for tests/unit/test_abi.c.
//
// Usage (from the repository root): node tests/vectors/gen_abi.mjs
// Writes tests/vectors/abi_random.txt. The generator is seeded, so running
// it again gives the same file (check staleness with git diff).
//
// Line format: TYPE <tab> VALUE <tab> HEX
//   TYPE   a canonical tuple type "(T1,...,Tn)" (the parameters)
//   VALUE  uint: 0x<hex>; int: 0x<hex> or -0x<hex>; address, bytesN,
//          bytes: 0x<hex>; string: 0x<hex of its UTF-8>; bool: true/false;
//          arrays and tuples: [v,v,...]
//   HEX    ethers' encoding of the parameters, 0x-prefixed
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AbiCoder, getAddress, hexlify, toUtf8Bytes } from 'ethers';
import { prng } from '../../tools/lib/prng.mjs';

const CASES = 300;
const SEED = 0x5eed_ab1;

const rnd = prng(SEED);
const randInt = (n) => Math.floor(rnd() * n);
const pick = (a) => a[randInt(a.length)];

function randBytes(n) {
	const b = new Uint8Array(n);
	for (let i = 0; i < n; i++) b[i] = randInt(256);
	return b;
}

function randBigBits(bits) {
	let v = 0n;
	for (let i = 0; i < bits; i += 8) v = (v << 8n) | BigInt(randInt(256));
	return v & ((1n << BigInt(bits)) - 1n);
}

// ---- types as trees ----

function randLeaf() {
	const bits = 8 * (1 + randInt(32));
	switch (randInt(8)) {
	case 0: return { kind: 'uint', bits: pick([8, 16, 32, 64, 128, 256, bits]) };
	case 1: return { kind: 'int', bits: pick([8, 16, 32, 64, 128, 256, bits]) };
	case 2: return { kind: 'address' };
	case 3: return { kind: 'bool' };
	case 4: return { kind: 'fixedbytes', n: pick([1, 4, 20, 32, 1 + randInt(32)]) };
	case 5: return { kind: 'bytes' };
	case 6: return { kind: 'string' };
	default: return { kind: 'uint', bits: 256 };
	}
}

function randType(depth) {
	const r = rnd();
	if (depth >= 3 || r < 0.5) return randLeaf();
	if (r < 0.68) return { kind: 'array', elem: randType(depth + 1) };
	if (r < 0.82) return { kind: 'fixedarray', elem: randType(depth + 1), k: 1 + randInt(3) };
	const n = 1 + randInt(3);
	return { kind: 'tuple', comps: Array.from({ length: n }, () => randType(depth + 1)) };
}

function typeString(t) {
	switch (t.kind) {
	case 'uint': return `uint${t.bits}`;
	case 'int': return `int${t.bits}`;
	case 'fixedbytes': return `bytes${t.n}`;
	case 'array': return `${typeString(t.elem)}[]`;
	case 'fixedarray': return `${typeString(t.elem)}[${t.k}]`;
	case 'tuple': return `(${t.comps.map(typeString).join(',')})`;
	default: return t.kind;
	}
}

// ---- values: [ethers value, text notation] ----

function randUint(bits) {
	const max = (1n << BigInt(bits)) - 1n;
	switch (randInt(5)) {
	case 0: return 0n;
	case 1: return max;
	case 2: return BigInt(randInt(1000)) & max;
	default: return randBigBits(1 + randInt(bits));
	}
}

function randIntN(bits) {
	const half = 1n << BigInt(bits - 1);
	switch (randInt(6)) {
	case 0: return -half;
	case 1: return half - 1n;
	case 2: return -1n;
	case 3: return BigInt(randInt(200)) - 100n;
	default: {
		const v = randBigBits(1 + randInt(bits - 1));
		return rnd() < 0.5 ? -v : v;
	}
	}
}

const hexOf = (b) => hexlify(b);
const bigText = (v) => (v < 0n ? `-0x${(-v).toString(16)}` : `0x${v.toString(16)}`);

function randString() {
	const pieces = ['a', 'Z', ' ', '0', 'é', 'ß', '€', '漢', '😀', '\n', '"', ',', '[', ']'];
	const n = pick([0, 1, 3, 31, 32, 33, randInt(80)]);
	let s = '';
	while (toUtf8Bytes(s).length < n) s += rnd() < 0.6 ? String.fromCharCode(97 + randInt(26)) : pick(pieces);
	return s;
}

function randValue(t) {
	switch (t.kind) {
	case 'uint': { const v = randUint(t.bits); return [v, bigText(v)]; }
	case 'int': { const v = randIntN(t.bits); return [v, bigText(v)]; }
	case 'address': { const h = hexOf(randBytes(20)); return [getAddress(h), h]; }
	case 'bool': { const v = rnd() < 0.5; return [v, v ? 'true' : 'false']; }
	case 'fixedbytes': { const h = hexOf(randBytes(t.n)); return [h, h]; }
	case 'bytes': {
		const h = hexOf(randBytes(pick([0, 1, 31, 32, 33, 64, 65, randInt(100)])));
		return [h, h];
	}
	case 'string': { const s = randString(); return [s, hexOf(toUtf8Bytes(s))]; }
	case 'array':
	case 'fixedarray': {
		const n = t.kind === 'array' ? randInt(4) : t.k;
		const items = Array.from({ length: n }, () => randValue(t.elem));
		return [items.map((i) => i[0]), `[${items.map((i) => i[1]).join(',')}]`];
	}
	case 'tuple': {
		const items = t.comps.map(randValue);
		return [items.map((i) => i[0]), `[${items.map((i) => i[1]).join(',')}]`];
	}
	}
	throw new Error(`unknown kind ${t.kind}`);
}

// ---- cases ----

// Shapes that must be covered whatever the seed gives.
const FIXED = [
	'(uint256,bytes)[2][]', 'string[][]', 'uint256[][]', '(address,uint256[])[]',
	'bytes3[2]', 'int8', 'int256', 'bytes32[]', '((uint8,string)[],bool)', 'string[2][2]',
];

function parseFixed(s) {
	// A tiny parser for the FIXED shapes, into the same trees.
	let i = 0;
	function base() {
		if (s[i] === '(') {
			i++;
			const comps = [];
			while (s[i] !== ')') {
				comps.push(type());
				if (s[i] === ',') i++;
			}
			i++;
			return { kind: 'tuple', comps };
		}
		const m = /^(uint|int|bytes|address|bool|string)(\d*)/.exec(s.slice(i));
		i += m[0].length;
		if (m[1] === 'uint' || m[1] === 'int') return { kind: m[1], bits: Number(m[2] || 256) };
		if (m[1] === 'bytes' && m[2]) return { kind: 'fixedbytes', n: Number(m[2]) };
		return { kind: m[1] };
	}
	function type() {
		let t = base();
		while (s[i] === '[') {
			const j = s.indexOf(']', i);
			const k = s.slice(i + 1, j);
			t = k ? { kind: 'fixedarray', elem: t, k: Number(k) } : { kind: 'array', elem: t };
			i = j + 1;
		}
		return t;
	}
	return type();
}

const coder = AbiCoder.defaultAbiCoder();
const lines = [
	'# Generated by tests/vectors/gen_abi.mjs with ethers v6 AbiCoder; do not edit.',
	'# TYPE<tab>VALUE<tab>HEX (see the generator for the notation)',
];
for (let c = 0; c < CASES; c++) {
	let params;
	if (c < FIXED.length) params = [parseFixed(FIXED[c])];
	else params = Array.from({ length: 1 + randInt(4) }, () => randType(0));
	const vals = params.map(randValue);
	const types = params.map(typeString);
	const hex = coder.encode(types, vals.map((v) => v[0]));
	// Sanity: ethers decodes its own output to the same encoding.
	const again = coder.encode(types, coder.decode(types, hex));
	if (again !== hex) throw new Error(`ethers round trip failed for ${types}`);
	lines.push(`(${types.join(',')})\t[${vals.map((v) => v[1]).join(',')}]\t${hex}`);
}

const out = join(dirname(fileURLToPath(import.meta.url)), 'abi_random.txt');
writeFileSync(out, `${lines.join('\n')}\n`);
console.log(`wrote ${CASES} cases to ${out}`);
