// The generator on its own: the rows are a function of the options only. The pinned digests fail
// when a change (word lists, PRNG, formatting) would make a seed give other rows than before.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { planSeed } from '../src/seed/plan.js'
import { categoryLines, todoLines, userLines } from '../src/seed/rows.js'
import { idRange } from '../src/seed/ids.js'

const DAY = '2026-01-15'
const base = { reset: false, acceptDataLoss: false, today: DAY }
const options = { ...base, seed: 42, users: 5, categories: 3, todos: 50 }

function digest(o = options): string {
  const p = planSeed(o)
  const h = createHash('sha256')
  for (const gen of [userLines(p), categoryLines(p), todoLines(p)]) for (const line of gen) h.update(line)
  return h.digest('hex')
}

afterEach(() => vi.restoreAllMocks())

describe('seed rows', () => {
  it('never read the clock or Math.random', () => {
    const forbidden = () => {
      throw new Error('the generator must not depend on this')
    }
    vi.spyOn(Date, 'now').mockImplementation(forbidden)
    vi.spyOn(Math, 'random').mockImplementation(forbidden)
    vi.spyOn(performance, 'now').mockImplementation(forbidden)
    expect(digest()).toMatch(/^[0-9a-f]{64}$/)
  })

  it('depend on the reference day: the same seed and day give the same rows, another day moves the dates', () => {
    expect(digest({ ...options, today: '2026-01-16' })).not.toBe(digest())
    const rows = (today: string) => [...todoLines(planSeed({ ...options, today }))].map((l) => l.split('\t'))
    const [a, b] = [rows('2026-01-15'), rows('2026-01-16')]
    // the same todos, one day later: the ids, titles and statuses stay
    expect(b.map((r) => r[0] + r[3] + r[5])).toEqual(a.map((r) => r[0] + r[3] + r[5]))
    expect(b[0][9]).not.toBe(a[0][9])
  })

  it('are pinned: the default seed gives these rows for this day, on any day it runs', () => {
    expect(digest()).toBe(PINNED_DEFAULT)
    expect(digest({ ...base, seed: 7, users: 40, categories: 25, todos: 2000 })).toBe(PINNED_LARGER)
  })

  it('differ with the seed, and keep users and categories when only --todos changes', () => {
    expect(digest({ ...options, seed: 43 })).not.toBe(digest())
    const users = (todos: number) => [...userLines(planSeed({ ...options, todos }))].join('')
    const categories = (todos: number) => [...categoryLines(planSeed({ ...options, todos }))].join('')
    expect(users(10)).toBe(users(5000))
    expect(categories(10)).toBe(categories(5000))
  })

  it('use valid version-4 ids inside the seed\'s own range', () => {
    const p = planSeed(options)
    const [first, last] = idRange(42, 'todo')
    const ids = [...todoLines(p)].map((l) => l.split('\t')[0])
    expect(new Set(ids).size).toBe(50)
    for (const id of ids) {
      expect(id >= first && id <= last).toBe(true)
      expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/)
    }
  })

  it('write each row as one COPY line with the table\'s column count, escaping line breaks', () => {
    const p = planSeed({ ...base, seed: 3, users: 40, categories: 25, todos: 4000 })
    const todos = [...todoLines(p)]
    expect(todos.every((l) => l.endsWith('\n') && l.slice(0, -1).split('\t').length === 12 && !l.slice(0, -1).includes('\n'))).toBe(true)
    expect(todos.some((l) => l.includes('\\n'))).toBe(true)
  })
})

const PINNED_DEFAULT = '617bd59e4105ebe06a55605eab571dea56c28456d54608fd8af6eebbc34aa5d2'
const PINNED_LARGER = 'd304cd84d2b0e348fd8adb5da7be26399383fb5f2366ce6b7ea1fa4dba04a821'
