// Values in PostgreSQL's COPY text format, built fast: the generator formats millions of them.

export const NULL = '\\N'

const SPECIAL = /[\\\t\n\r]/
const ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' }

/** A text value for COPY: backslash, tab and line breaks escaped (the rest is taken literally). */
export function copyText(value: string): string {
  return SPECIAL.test(value) ? value.replace(/[\\\t\n\r]/g, (c) => ESCAPES[c]) : value
}

const DAY = 86_400
const TWO_DIGITS = Array.from({ length: 60 }, (_, i) => String(i).padStart(2, '0'))
const dayCache = new Map<number, string>()

/** 'YYYY-MM-DD' of a day counted from 1970-01-01; one Date per distinct day, not per row. */
function dayString(day: number): string {
  let s = dayCache.get(day)
  if (s === undefined) {
    s = new Date(day * DAY * 1000).toISOString().slice(0, 10)
    dayCache.set(day, s)
  }
  return s
}

export interface DateFormat {
  /** A date for a `date` column, `days` after the reference day (negative: before). */
  date(days: number): string
  /** A timestamptz `seconds` after the reference instant, in UTC: independent of the session's TimeZone. */
  timestamp(seconds: number): string
}

/**
 * Every generated date is relative to one instant, the start (00:00 UTC) of the reference day,
 * never to the wall clock: the same seed and day give the same dates.
 */
export function datesFrom(epochSeconds: number): DateFormat {
  const epochDay = Math.floor(epochSeconds / DAY)
  return {
    date: (days) => dayString(epochDay + days),
    timestamp(seconds) {
      const abs = epochSeconds + Math.floor(seconds)
      const day = Math.floor(abs / DAY)
      let rest = abs - day * DAY
      const h = Math.floor(rest / 3600)
      rest -= h * 3600
      const m = Math.floor(rest / 60)
      return `${dayString(day)} ${TWO_DIGITS[h]}:${TWO_DIGITS[m]}:${TWO_DIGITS[rest - m * 60]}+00`
    },
  }
}

export const DAY_SECONDS = DAY
