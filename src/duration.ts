import { badInput } from './errors.js'

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }

/**
 * Parses `5s`, `500ms`, `1m`, `1h` or a bare number of seconds (`5`, `0.5`) into milliseconds.
 * `what` names the flag or setting in the error message.
 */
export function parseDuration(value: string | number, what: string): number {
  const text = String(value).trim()
  const m = /^(\d+(?:\.\d+)?)\s*(ms|s|m|h)?$/i.exec(text)
  if (!m) {
    throw badInput(`${what}: "${text}" is not a duration`, 'use e.g. 5s, 500ms, 1m or a number of seconds')
  }
  const ms = Math.round(Number(m[1]) * UNITS[(m[2] ?? 's').toLowerCase()])
  // Node's timers take no more: a longer one would fire at once instead.
  if (!(ms <= MAX_TIMER_MS)) throw badInput(`${what}: "${text}" is too long`, 'at most 596h, about 24 days')
  return ms
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
