// tools/lib/prng.mjs: a small seeded PRNG for tests, generators and fault
// injection that must replay exactly from a seed.

/**
 * mulberry32 seeded with `seed` (taken as an unsigned 32-bit integer).
 * Returns a function giving the next number in [0, 1) at each call; the
 * same seed always gives the same sequence.
 */
export function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
