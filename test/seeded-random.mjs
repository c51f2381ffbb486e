// mulberry32: a small, fast, well-mixed 32-bit generator; the same sequence
// for a seed on every platform, so a seeded test, fuzz run or benchmark
// replays exactly. Plain JavaScript, so the .mjs tools and benchmarks share
// it with the TypeScript tests (types: seeded-random.d.mts).

/** Numbers in [0, 1), deterministic per seed. */
export function mulberry32(seed) {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
