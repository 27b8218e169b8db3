// Seed options from flags over the config file's `seed` section, validated: bad input is exit 3
// with one line naming the flag.
import { badInput } from '../errors.js'
import { sourceName, type Setting } from '../config.js'
import type { SeedOptions } from './plan.js'

export interface SeedFlags {
  seed?: string
  users?: string
  categories?: string
  todos?: string
  reset?: boolean
  cascade?: boolean
  acceptDataLoss?: boolean
  today?: string
}

/** Limits keep ids inside their bits (categories < CATEGORY_SLOTS in ids.ts) and the per-user plan small. */
export const LIMITS = {
  seed: 2 ** 32 - 1,
  users: 1_000_000,
  categories: 1000,
  todos: 100_000_000,
} as const

type Key = keyof typeof LIMITS
export const SEED_KEYS = Object.keys(LIMITS) as Key[]

/** The counts, each from its flag or the config's seed section, with where it came from. */
export type SeedSettings = Record<Key, Setting<string | number>>

function count(key: Key, setting: Setting<string | number>): number {
  const where = sourceName(setting.source)
  const text = String(setting.value).trim()
  if (!/^\d+$/.test(text)) throw badInput(`${where}: "${text}" is not a non-negative integer`)
  const n = Number(text)
  if (n > LIMITS[key]) throw badInput(`${where}: ${text} is too large (at most ${LIMITS[key]})`)
  return n
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10)

/**
 * The day dates are spread around: --today, or today in UTC. A real calendar day, not after today:
 * seed rows are created before the reference day starts, so a later day would make rows that were
 * created in the future.
 */
function referenceDay(flag: string | undefined, now: number): string {
  const today = isoDay(now)
  if (flag === undefined) return today
  const text = flag.trim()
  const ms = /^\d{4}-\d{2}-\d{2}$/.test(text) ? Date.parse(`${text}T00:00:00Z`) : NaN
  if (Number.isNaN(ms) || isoDay(ms) !== text) throw badInput(`--today: "${text}" is not a day in the form YYYY-MM-DD (e.g. ${today})`)
  if (text > today) throw badInput(`--today: ${text} is after today (${today} UTC); seed rows would be created in the future`)
  if (text < MIN_DAY) throw badInput(`--today: ${text} is before ${MIN_DAY}`)
  return text
}

/** Users sign up to two years before the reference day: keep every date in ordinary years. */
const MIN_DAY = '2000-01-01'

export function resolveSeedOptions(flags: SeedFlags, counts: SeedSettings, now = Date.now()): SeedOptions {
  const o: SeedOptions = {
    seed: count('seed', counts.seed),
    users: count('users', counts.users),
    categories: count('categories', counts.categories),
    todos: count('todos', counts.todos),
    reset: !!flags.reset,
    cascade: !!flags.cascade,
    acceptDataLoss: !!flags.acceptDataLoss,
    today: referenceDay(flags.today, now),
  }
  if (o.cascade && !o.reset) throw badInput('--cascade goes with --reset: it empties the tables that refer to users, categories or todos too')
  if (o.todos > 0 && o.users === 0) throw badInput(`--todos ${o.todos} needs at least one user (--users)`)
  return o
}
