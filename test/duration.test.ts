import { describe, expect, it } from 'vitest'
import { parseDeadline, parseDuration } from '../src/duration.js'

describe('durations', () => {
  it.each([
    ['5s', 5000], ['500ms', 500], ['1m', 60_000], ['2h', 7_200_000], ['7d', 604_800_000], ['5', 5000], ['0.5', 500],
    ['1m30s', 90_000], ['1h 15m', 4_500_000], ['1h30m10s250ms', 5_410_250], ['1.5m', 90_000], ['2M', 120_000],
  ])('reads %s', (text, ms) => {
    expect(parseDuration(text, '--timeout')).toBe(ms)
  })

  it.each(['', 'soon', '5 s x', '1m30', 'm30s', '-5s', '5s,', '1m 30'])('refuses %j, naming the flag', (text) => {
    expect(() => parseDuration(text, '--timeout')).toThrow(/^--timeout: ".*" is not a duration$/)
  })

  it('refuses what Node timers cannot hold, and a deadline of 0', () => {
    expect(() => parseDuration('25d', '--timeout')).toThrow(/too long/)
    expect(() => parseDeadline('0s', '--timeout')).toThrow(/leaves no time/)
  })
})
