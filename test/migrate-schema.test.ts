// Every rule of the todo schema, tried with plain SQL after `migrate up`: the database enforces
// them, whoever writes (the app, psql, a script).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { observer } from './helpers/db.js'
import { freshDb, migrate } from './migrate-fixtures.js'

let sql: ReturnType<typeof observer>
let alice: string
let bob: string

beforeAll(async () => {
  const db = freshDb('schema')
  const r = await migrate(db, ['up'])
  expect(r.code, r.stderr).toBe(0)
  sql = observer(db)
  ;[{ id: alice }] = await sql`insert into users (email, name) values ('Alice@Example.com', 'Alice') returning id`
  ;[{ id: bob }] = await sql`insert into users (email, name) values ('bob@example.com', 'Bob') returning id`
})
afterAll(async () => {
  await sql?.end()
})

/** Runs q in a transaction that is always rolled back; resolves with the SQLSTATE it failed with. */
async function failsWith(q: (tx: typeof sql) => Promise<unknown>): Promise<string | undefined> {
  try {
    await sql.begin(async (tx) => {
      await q(tx as unknown as typeof sql)
      throw Object.assign(new Error('passed'), { code: 'PASSED' })
    })
  } catch (e) {
    const code = (e as { code?: string }).code
    return code === 'PASSED' ? undefined : code
  }
}
const passes = async (q: (tx: typeof sql) => Promise<unknown>) => expect(await failsWith(q)).toBeUndefined()

const todo = (tx: typeof sql, fields: Record<string, unknown>) =>
  tx`insert into todos ${tx({ user_id: alice, title: 'Buy milk', ...fields } as Record<string, never>)}`

describe('users', () => {
  it('email is unique whatever its case', async () => {
    expect(await failsWith((tx) => tx`insert into users (email, name) values ('alice@example.COM', 'Other')`)).toBe('23505')
  })
  it('id defaults to a uuid, timestamps to now, deleted_at to null', async () => {
    const [u] = await sql`select id, created_at, updated_at, deleted_at from users where id = ${alice}`
    expect(u.id).toMatch(/^[0-9a-f-]{36}$/)
    expect(Math.abs(u.created_at.getTime() - Date.now())).toBeLessThan(60_000)
    expect(u.deleted_at).toBeNull()
  })
  it('rejects a malformed email and a blank name', async () => {
    expect(await failsWith((tx) => tx`insert into users (email, name) values ('not-an-email', 'X')`)).toBe('23514')
    expect(await failsWith((tx) => tx`insert into users (email, name) values ('x@y.z', '   ')`)).toBe('23514')
    expect(await failsWith((tx) => tx`insert into users (email, name) values ('x@y.z', ${'\t\n '})`)).toBe('23514')
  })
  it('a soft-deleted user keeps the row', async () => {
    await passes((tx) => tx`update users set deleted_at = now() where id = ${bob}`)
  })
})

describe('categories', () => {
  it('name is unique per user whatever its case; another user may use it', async () => {
    await passes(async (tx) => {
      await tx`insert into categories (user_id, name) values (${alice}, 'Work')`
      await tx`insert into categories (user_id, name) values (${bob}, 'work')`
    })
    expect(await failsWith(async (tx) => {
      await tx`insert into categories (user_id, name) values (${alice}, 'Work')`
      await tx`insert into categories (user_id, name) values (${alice}, 'WORK')`
    })).toBe('23505')
  })
  it('name is not blank; colour is optional and must be #rrggbb', async () => {
    await passes((tx) => tx`insert into categories (user_id, name, color) values (${alice}, 'Home', '#A1b2C3')`)
    await passes((tx) => tx`insert into categories (user_id, name) values (${alice}, 'Home')`)
    expect(await failsWith((tx) => tx`insert into categories (user_id, name) values (${alice}, ${'\t'})`)).toBe('23514')
    expect(await failsWith((tx) => tx`insert into categories (user_id, name, color) values (${alice}, 'Home', 'red')`)).toBe('23514')
  })
  it('needs an existing user and goes when its user is deleted', async () => {
    expect(await failsWith((tx) => tx`insert into categories (user_id, name) values (gen_random_uuid(), 'X')`)).toBe('23503')
    await passes(async (tx) => {
      const [{ id }] = await tx`insert into users (email, name) values ('carol@example.com', 'Carol') returning id`
      await tx`insert into categories (user_id, name) values (${id}, 'Errands')`
      await tx`delete from users where id = ${id}`
      const [{ n }] = await tx`select count(*)::int as n from categories where user_id = ${id}`
      expect(n).toBe(0)
    })
  })
})

describe('todos', () => {
  it('a valid todo with its own category passes, with defaults', async () => {
    await passes(async (tx) => {
      const [{ id: cat }] = await tx`insert into categories (user_id, name) values (${alice}, 'Shopping') returning id`
      const [t] = await tx`insert into todos (user_id, category_id, title, description, due_date)
        values (${alice}, ${cat}, 'Buy milk', 'semi-skimmed', current_date + 1) returning status, priority, completed_at`
      expect(t).toEqual({ status: 'pending', priority: 0, completed_at: null })
    })
  })
  it("rejects another user's category (composite foreign key)", async () => {
    expect(await failsWith(async (tx) => {
      const [{ id: bobs }] = await tx`insert into categories (user_id, name) values (${bob}, 'Bob only') returning id`
      await todo(tx, { category_id: bobs })
    })).toBe('23503')
  })
  it('rejects a missing user', async () => {
    expect(await failsWith((tx) => todo(tx, { user_id: '00000000-0000-0000-0000-000000000000' }))).toBe('23503')
  })
  it('rejects a blank or too long title, and a too long description', async () => {
    expect(await failsWith((tx) => todo(tx, { title: '  \t ' }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { title: '' }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { title: 'x'.repeat(201) }))).toBe('23514')
    await passes((tx) => todo(tx, { title: 'x'.repeat(200) }))
    expect(await failsWith((tx) => todo(tx, { description: 'x'.repeat(5001) }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { title: null }))).toBe('23502')
  })
  it('status is one of pending, in_progress, completed, archived', async () => {
    expect(await failsWith((tx) => todo(tx, { status: 'done' }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { status: 'PENDING' }))).toBe('23514')
    for (const status of ['pending', 'in_progress']) await passes((tx) => todo(tx, { status }))
    await passes((tx) => todo(tx, { status: 'archived' }))
  })
  it('completed_at agrees with status', async () => {
    expect(await failsWith((tx) => todo(tx, { status: 'completed' }))).toBe('23514')
    await passes((tx) => todo(tx, { status: 'completed', completed_at: new Date() }))
    expect(await failsWith((tx) => todo(tx, { status: 'pending', completed_at: new Date() }))).toBe('23514')
  })
  it('priority is 0 to 3', async () => {
    expect(await failsWith((tx) => todo(tx, { priority: 4 }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { priority: -1 }))).toBe('23514')
    await passes((tx) => todo(tx, { priority: 3 }))
  })
  it('deleting a category leaves its todos uncategorised; deleting the user removes them', async () => {
    await passes(async (tx) => {
      const [{ id: cat }] = await tx`insert into categories (user_id, name) values (${alice}, 'Temp') returning id`
      const [{ id }] = await tx`insert into todos (user_id, category_id, title) values (${alice}, ${cat}, 'Keep me') returning id`
      await tx`delete from categories where id = ${cat}`
      const [t] = await tx`select user_id, category_id from todos where id = ${id}`
      expect(t).toEqual({ user_id: alice, category_id: null })
      await tx`delete from users where id = ${alice}`
      const [{ n }] = await tx`select count(*)::int as n from todos where id = ${id}`
      expect(n).toBe(0)
    })
  })
  it('updated_at is set by the database on every update, created_at stays', async () => {
    await passes(async (tx) => {
      const [t] = await tx`insert into todos (user_id, title, created_at, updated_at)
        values (${alice}, 'Old', now() - interval '1 day', now() - interval '1 day') returning id, created_at, updated_at`
      // now() is the transaction's start: an explicit later value shows the trigger overriding it.
      await tx`update todos set title = 'New', updated_at = '2000-01-01' where id = ${t.id}`
      const [after] = await tx`select created_at, updated_at, now() as now from todos where id = ${t.id}`
      expect(after.created_at).toEqual(t.created_at)
      expect(after.updated_at).toEqual(after.now)
      for (const table of ['users', 'categories']) {
        const [{ n }] = await tx`select count(*)::int as n from pg_trigger where tgrelid = ${table}::regclass and tgname = ${table + '_set_updated_at'}`
        expect(n).toBe(1)
      }
    })
  })
  it("has indexes for a user's todos by status, by due date and by creation", async () => {
    const defs = (await sql`select indexdef from pg_indexes where tablename = 'todos'`).map((r) => r.indexdef)
    expect(defs.some((d) => /\(user_id, status\)/.test(d))).toBe(true)
    expect(defs.some((d) => /\(user_id, due_date\)/.test(d))).toBe(true)
    expect(defs.some((d) => /\(user_id, created_at DESC\)/.test(d))).toBe(true)
  })
  it('has an index over every todo led by user_id, for the cascade when a user is deleted', async () => {
    const [{ n }] = await sql`
      select count(*)::int as n from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = 'todos'::regclass and i.indpred is null and a.attname = 'user_id'`
    expect(n).toBeGreaterThan(0)
  })
})
