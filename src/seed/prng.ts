// A small seeded PRNG of our own (sfc32), so that the same seed gives the same numbers on every
// Node version and machine: Math.random cannot be seeded and libraries change their algorithms.

export interface Rng {
  /** Uniform in [0, 2^32). */
  u32(): number
  /** Uniform in [0, 1). */
  float(): number
  /** Uniform integer in [min, max]. */
  int(min: number, max: number): number
  /** True with probability p. */
  chance(p: number): boolean
  pick<T>(items: readonly T[]): T
}

/** splitmix32: spreads a few small integers (seed, stream) into well-mixed state words. */
function splitmix32(state: number): () => number {
  return () => {
    state = (state + 0x9e3779b9) | 0
    let z = state
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b)
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35)
    return (z ^ (z >>> 16)) >>> 0
  }
}

/** One independent stream per (seed, stream): users, categories and todos never share numbers. */
export function createRng(seed: number, stream: number): Rng {
  const mix = splitmix32((seed ^ Math.imul(stream + 1, 0x27d4eb2f)) | 0)
  let a = mix() | 0
  let b = mix() | 0
  let c = mix() | 0
  let d = 1
  const u32 = () => {
    const t = (((a + b) | 0) + d) | 0
    d = (d + 1) | 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) | 0
    c = (c << 21) | (c >>> 11)
    c = (c + t) | 0
    return t >>> 0
  }
  for (let i = 0; i < 12; i++) u32()
  const float = () => u32() / 4294967296
  return {
    u32,
    float,
    int: (min, max) => min + Math.floor(float() * (max - min + 1)),
    chance: (p) => float() < p,
    pick: (items) => items[Math.floor(float() * items.length)],
  }
}
