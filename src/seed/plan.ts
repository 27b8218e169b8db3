// What a seed will produce, decided up front from the options alone: per-user facts that the
// categories and todos of that user depend on. O(users) memory, never O(todos).
import { createRng } from './prng.js'
import { DAY_SECONDS } from './format.js'

export interface SeedOptions {
  seed: number
  users: number
  /** Per user. */
  categories: number
  /** In all, spread over the users. */
  todos: number
  reset: boolean
  /** With reset: also empty the app's tables that reference users, categories or todos. */
  cascade: boolean
  /** The reference day, YYYY-MM-DD (UTC): dates are spread around it, none after its start. */
  today: string
  /** Delete seed rows even when rows of the app depend on them (they go, or lose the reference). */
  acceptDataLoss: boolean
}

export interface SeedPlan extends SeedOptions {
  /** 00:00 UTC of the reference day, in seconds from 1970: every generated time is relative to it. */
  epochSeconds: number
  /** Seconds from the epoch (negative: before it) at which each user signed up. */
  userCreatedAt: Int32Array
  /** Todos of user u are the indexes todoStart[u] .. todoStart[u + 1] - 1. */
  todoStart: Float64Array
}

/** Numbered PRNG streams: one per purpose, so adding a column to todos never shifts users. */
export const Stream = { signup: 1, share: 2, users: 3, categories: 4, todos: 5 } as const

const YEAR = 365 * DAY_SECONDS

export function planSeed(o: SeedOptions): SeedPlan {
  const signup = createRng(o.seed, Stream.signup)
  const userCreatedAt = new Int32Array(o.users)
  for (let u = 0; u < o.users; u++) userCreatedAt[u] = -signup.int(30 * DAY_SECONDS, 2 * YEAR)

  // Uneven shares, as in real use: some users keep a handful of todos, some hundreds.
  const share = createRng(o.seed, Stream.share)
  const weights = new Float64Array(o.users)
  let total = 0
  for (let u = 0; u < o.users; u++) total += weights[u] = 0.25 + share.float() ** 2 * 2
  const todoStart = new Float64Array(o.users + 1)
  let cumulative = 0
  for (let u = 0; u < o.users; u++) {
    todoStart[u] = Math.round((o.todos * cumulative) / total)
    cumulative += weights[u]
  }
  todoStart[o.users] = o.todos
  return { ...o, epochSeconds: Date.parse(`${o.today}T00:00:00Z`) / 1000, userCreatedAt, todoStart }
}
