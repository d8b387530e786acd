// Deterministic randomness: input i of a kind under seed s is always the same bytes, whatever ran
// before it, so a finding is reproduced from (seed, kind, index) alone.

/** 32-bit FNV-1a of a string: turns (seed, kind, index) into one PRNG seed. */
export function hash32(text) {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: small, fast, good enough to pick mutations. */
export function makeRng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return {
    next,
    /** integer in [0, n) */
    int: (n) => Math.floor(next() * n),
    chance: (p) => next() < p,
    pick: (arr) => arr[Math.floor(next() * arr.length)],
    /** a number biased towards the edges that break parsers */
    interesting() {
      return this.pick([0, 1, -1, 2, 7, 8, 16, 255, 256, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, 0x80000000, 0xffffffff, 4096, 65535, 50_000_000]);
    },
  };
}

export function rngFor(seed, kind, index) {
  return makeRng(hash32(`${seed}/${kind}/${index}`));
}
