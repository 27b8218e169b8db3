// The generator on its own: the rows are a function of the options only. The pinned digests fail
// when a change (word lists, PRNG, formatting) would make a seed give other rows than before.
import { createHash } from 'node:crypto'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { planSeed } from '../src/seed/plan.js'
import { categoryLines, todoLines, userLines } from '../src/seed/rows.js'
import { idRange } from '../src/seed/ids.js'

const options = { seed: 42, users: 5, categories: 3, todos: 50, reset: false }

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

  it('are pinned: the default seed gives these rows today and on any later day', () => {
    expect(digest()).toBe(PINNED_DEFAULT)
    expect(digest({ seed: 7, users: 40, categories: 25, todos: 2000, reset: false })).toBe(PINNED_LARGER)
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
    const p = planSeed({ seed: 3, users: 40, categories: 25, todos: 4000, reset: false })
    const todos = [...todoLines(p)]
    expect(todos.every((l) => l.endsWith('\n') && l.slice(0, -1).split('\t').length === 12 && !l.slice(0, -1).includes('\n'))).toBe(true)
    expect(todos.some((l) => l.includes('\\n'))).toBe(true)
  })
})

const PINNED_DEFAULT = 'a4aafd076245fb3d8c99c5e7b97e5a57bdeb463c95df3d7bc9d9a579862f5a82'
const PINNED_LARGER = '1d40d1c73648b19e273e76805f6fa0fb0b94f953fd73995fde9769c5492bcc8a'
