import { badInput } from './errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }
// One part of a duration: a number and its unit, as Go's time.ParseDuration reads `1h30m`.
const PART = /(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)/giy

/**
 * Parses `5s`, `500ms`, `1m`, `1h`, `7d`, compounds such as `1m30s` or `1h 15m`, or a bare number
 * of seconds (`5`, `0.5`) into milliseconds. `what` names the flag or setting in the error message.
 */
export function parseDuration(value: string | number, what: string): number {
  const text = String(value).trim()
  const ms = /^\d+(?:\.\d+)?$/.test(text) ? Number(text) * 1000 : sumOfParts(text)
  if (ms === undefined) {
    throw badInput(`${what}: "${text}" is not a duration`, 'use e.g. 5s, 500ms, 1m30s or a number of seconds')
  }
  // Node's timers take no more: a longer one would fire at once instead.
  if (!(Math.round(ms) <= MAX_TIMER_MS)) throw badInput(`${what}: "${text}" is too long`, 'at most 596h, about 24 days')
  return Math.round(ms)
}

/** The sum of `1h30m`'s parts, or undefined unless the whole text is such parts. */
function sumOfParts(text: string): number | undefined {
  let total = 0
  PART.lastIndex = 0
  for (let m; (m = PART.exec(text)); ) {
    total += Number(m[1]) * UNITS[m[2].toLowerCase()]
    // Parts are written as the user wrote them; spaces between them are fine.
    while (text[PART.lastIndex] === ' ') PART.lastIndex++
    if (PART.lastIndex === text.length) return total
  }
  return undefined
}

const MAX_TIMER_MS = 2 ** 31 - 1

/** A deadline for a whole command (--timeout, timeouts.connect): a duration of more than 0. */
export function parseDeadline(value: string | number, what: string): Deadline {
  const ms = parseDuration(value, what)
  if (ms === 0) throw badInput(`${what}: 0 leaves no time to try`, 'give a time such as 5s or 1h')
  return new Deadline(ms)
}

/** A point in time every step of a command must finish by. */
export class Deadline {
  readonly at: number
  constructor(readonly ms: number) {
    this.at = Date.now() + ms
  }
  remaining(): number {
    return Math.max(0, this.at - Date.now())
  }
  expired(): boolean {
    return this.remaining() === 0
  }
}

/**
 * Exponential backoff with jitter, in ms: base * 2^attempt up to cap, times 0.5 to 1, so that
 * many clients turned away at once (a waking server, a busy API, a held lock) do not return together.
 */
export const backoff = (attempt: number, baseMs: number, capMs: number) =>
  Math.min(capMs, baseMs * 2 ** Math.min(attempt, 30)) * (0.5 + Math.random() * 0.5)

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
