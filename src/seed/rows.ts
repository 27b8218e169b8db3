// The rows of a seed, as COPY text lines, generated one at a time in a fixed order: a function of
// the options only (see plan.ts, prng.ts, ids.ts), never of the clock or the database.
// Times are seconds relative to the start of the reference day (plan.epochSeconds): every row is
// created, updated and completed before it (never after now), and due dates fall around it.
import { CATEGORY_NAMES, COLORS, FIRST_NAMES, LAST_NAMES, OBJECTS, QUALIFIERS, SENTENCES, VERBS } from './words.js'
import { NULL, copyText, datesFrom, DAY_SECONDS } from './format.js'
import { categoryIndex, idMaker } from './ids.js'
import { createRng, type Rng } from './prng.js'
import { Stream, type SeedPlan } from './plan.js'

export const USER_COLUMNS = ['id', 'email', 'name', 'created_at', 'updated_at', 'deleted_at'] as const
export const CATEGORY_COLUMNS = ['id', 'user_id', 'name', 'color', 'created_at', 'updated_at'] as const
export const TODO_COLUMNS = [
  'id', 'user_id', 'category_id', 'title', 'description', 'status', 'priority', 'due_date',
  'completed_at', 'created_at', 'updated_at', 'deleted_at',
] as const

export const STATUSES = ['pending', 'in_progress', 'completed', 'archived'] as const

const HOUR = 3600
const slug = (name: string) => name.normalize('NFD').toLowerCase().replace(/[^a-z0-9]/g, '')
const FIRST_SLUGS = FIRST_NAMES.map(slug)
const LAST_SLUGS = LAST_NAMES.map(slug)

const line = (fields: string[]) => fields.join('\t') + '\n'

export function* userLines(p: SeedPlan): Generator<string> {
  const rng = createRng(p.seed, Stream.users)
  const id = idMaker(p.seed, 'user')
  const copyTimestamp = datesFrom(p.epochSeconds).timestamp
  for (let u = 0; u < p.users; u++) {
    const first = rng.int(0, FIRST_NAMES.length - 1)
    const last = rng.int(0, LAST_NAMES.length - 1)
    // seed and index in the address: unique (case-insensitively too) across users and seeds.
    const email = `${FIRST_SLUGS[first]}.${LAST_SLUGS[last]}.${u}@seed${p.seed}.example.com`
    const created = p.userCreatedAt[u]
    const updated = Math.min(0, created + rng.int(0, 30 * DAY_SECONDS))
    yield line([id(u), email, copyText(`${FIRST_NAMES[first]} ${LAST_NAMES[last]}`), copyTimestamp(created), copyTimestamp(updated), NULL])
  }
}

/** A user's category names: distinct whatever the case, in a per-user order. */
function categoryNames(rng: Rng, count: number): string[] {
  const names: string[] = [...CATEGORY_NAMES]
  for (let i = names.length - 1; i > 0; i--) {
    const j = rng.int(0, i)
    ;[names[i], names[j]] = [names[j], names[i]]
  }
  return Array.from({ length: count }, (_, c) =>
    c < names.length ? names[c] : `${names[c % names.length]} ${Math.floor(c / names.length) + 1}`)
}

export function* categoryLines(p: SeedPlan): Generator<string> {
  const rng = createRng(p.seed, Stream.categories)
  const id = idMaker(p.seed, 'category')
  const copyTimestamp = datesFrom(p.epochSeconds).timestamp
  const userId = idMaker(p.seed, 'user')
  for (let u = 0; u < p.users; u++) {
    const names = categoryNames(rng, p.categories)
    for (let c = 0; c < p.categories; c++) {
      const created = p.userCreatedAt[u] + rng.int(0, 7 * DAY_SECONDS)
      const color = rng.chance(0.85) ? rng.pick(COLORS) : NULL
      const ts = copyTimestamp(created)
      yield line([id(categoryIndex(u, c)), userId(u), copyText(names[c]), color, ts, ts])
    }
  }
}

const PRIORITY_WEIGHTS = [0.35, 0.3, 0.25, 0.1]

function weighted(rng: Rng, weights: readonly number[]): number {
  let x = rng.float()
  for (let i = 0; i < weights.length - 1; i++) if ((x -= weights[i]) < 0) return i
  return weights.length - 1
}

function title(rng: Rng): string {
  const q = rng.pick(QUALIFIERS)
  return `${rng.pick(VERBS)} ${rng.pick(OBJECTS)}${q ? ' ' + q : ''}`
}

function description(rng: Rng): string {
  const n = rng.int(1, 3)
  const parts: string[] = []
  for (let i = 0; i < n; i++) parts.push(rng.pick(SENTENCES))
  // Now and then a line break, as people type them: it must survive COPY's escaping.
  return parts.join(rng.chance(0.1) ? '\n' : ' ')
}

/**
 * A todo's due day, relative to the reference day, or none. Open todos fall around it, so that
 * "overdue", "due today" and "due soon" views have rows: each user's first (pending) todo is due
 * today and second (in progress) one is overdue; the others are overdue (from their creation on),
 * today or within a month. Done todos were due around the time they were made.
 */
function dueDay(rng: Rng, k: number, status: string, createdDay: number): number | undefined {
  if (k === 0) return 0
  if (k === 1) return Math.max(createdDay, -rng.int(1, 7))
  if (!rng.chance(0.65)) return undefined
  if (status !== 'pending' && status !== 'in_progress') return createdDay + rng.int(-3, 45)
  const x = rng.float()
  if (x < 0.25) return Math.max(createdDay, -rng.int(1, 14))
  if (x < 0.35) return 0
  return rng.int(1, 30)
}

export function* todoLines(p: SeedPlan): Generator<string> {
  const rng = createRng(p.seed, Stream.todos)
  const id = idMaker(p.seed, 'todo')
  const { date: copyDate, timestamp: copyTimestamp } = datesFrom(p.epochSeconds)
  const userId = idMaker(p.seed, 'user')
  const categoryId = idMaker(p.seed, 'category')
  for (let u = 0; u < p.users; u++) {
    const owner = userId(u)
    const signup = p.userCreatedAt[u]
    const end = p.todoStart[u + 1]
    for (let i = p.todoStart[u], k = 0; i < end; i++, k++) {
      // Each user's first four todos take the four statuses in turn, so every user with at least
      // four todos shows every status; the rest follow realistic weights.
      const status = k < 4 ? STATUSES[k] : STATUSES[weighted(rng, [0.4, 0.2, 0.3, 0.1])]
      const created = signup + rng.int(0, -signup)
      const done = status === 'completed' || (status === 'archived' && rng.chance(0.5))
      // min(0, ...): nothing happens after the reference instant, and each stays >= the one before
      const completed = done ? Math.min(0, created + rng.int(HOUR, 60 * DAY_SECONDS)) : undefined
      const updated = Math.min(0, (completed ?? created) + rng.int(0, 3 * DAY_SECONDS))
      const category = p.categories > 0 && rng.chance(0.8) ? categoryId(categoryIndex(u, rng.int(0, p.categories - 1))) : NULL
      const due = dueDay(rng, k, status, Math.floor(created / DAY_SECONDS))
      yield line([
        id(i),
        owner,
        category,
        copyText(title(rng)),
        rng.chance(0.55) ? copyText(description(rng)) : NULL,
        status,
        String(weighted(rng, PRIORITY_WEIGHTS)),
        due === undefined ? NULL : copyDate(due),
        completed === undefined ? NULL : copyTimestamp(completed),
        copyTimestamp(created),
        copyTimestamp(updated),
        rng.chance(0.03) ? copyTimestamp(updated) : NULL,
      ])
    }
  }
}
