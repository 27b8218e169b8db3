// Seed options from flags over the config file's `seed` section, validated: bad input is exit 3
// with one line naming the flag.
import { badInput } from '../errors.js'
import type { Config } from '../config.js'
import type { SeedOptions } from './plan.js'

export interface SeedFlags {
  seed?: string
  users?: string
  categories?: string
  todos?: string
  reset?: boolean
  acceptDataLoss?: boolean
}

/** Limits keep ids inside their bits (categories < CATEGORY_SLOTS in ids.ts) and the per-user plan small. */
export const LIMITS = {
  seed: 2 ** 32 - 1,
  users: 1_000_000,
  categories: 1000,
  todos: 100_000_000,
} as const

type Key = keyof typeof LIMITS

function count(key: Key, flag: string | undefined, fallback: unknown): number {
  const fromFlag = flag !== undefined
  const raw = fromFlag ? flag : fallback
  const where = fromFlag ? `--${key}` : `config seed.${key}`
  const text = String(raw).trim()
  if (!/^\d+$/.test(text)) throw badInput(`${where}: "${text}" is not a non-negative integer`)
  const n = Number(text)
  if (n > LIMITS[key]) throw badInput(`${where}: ${text} is too large (at most ${LIMITS[key]})`)
  return n
}

export function resolveSeedOptions(flags: SeedFlags, defaults: Config['seed']): SeedOptions {
  const o: SeedOptions = {
    seed: count('seed', flags.seed, defaults.seed),
    users: count('users', flags.users, defaults.users),
    categories: count('categories', flags.categories, defaults.categories),
    todos: count('todos', flags.todos, defaults.todos),
    reset: !!flags.reset,
    acceptDataLoss: !!flags.acceptDataLoss,
  }
  if (o.todos > 0 && o.users === 0) throw badInput(`--todos ${o.todos} needs at least one user (--users)`)
  return o
}
