/** Numbers in [0, 1), deterministic per seed (mulberry32). */
export function mulberry32(seed: number): () => number;
