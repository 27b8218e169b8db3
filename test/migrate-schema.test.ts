// Every rule of the todo schema, tried with plain SQL after `migrate up`: the database enforces
// them, whoever writes (the app, psql, a script).
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { observer, psql } from './helpers/db.js'
import { schemaDump } from './helpers/schema.js'
import { freshDb, journal, migrate } from './helpers/migrate.js'

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
/** Like failsWith, with the constraint the server named: what the app maps to a field. */
async function violates(q: (tx: typeof sql) => Promise<unknown>): Promise<string | undefined> {
  try {
    await sql.begin(async (tx) => {
      await q(tx as unknown as typeof sql)
      throw Object.assign(new Error('passed'), { code: 'PASSED' })
    })
  } catch (e) {
    const { code, constraint_name } = e as { code?: string; constraint_name?: string }
    return code === 'PASSED' ? undefined : `${code} ${constraint_name}`
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
  it('signs up with an e-mail alone: the name is optional, but not blank when given', async () => {
    await passes(async (tx) => {
      const [u] = await tx`insert into users (email) values ('carol@example.com') returning name`
      expect(u.name).toBeNull()
    })
    expect(await violates((tx) => tx`insert into users (email, name) values ('x@y.z', '')`)).toBe('23514 users_name_not_blank')
  })
  it('reports each broken rule under its own name', async () => {
    expect(await violates((tx) => tx`insert into users (email, name) values ('not-an-email', 'X')`)).toBe('23514 users_email_format')
    expect(await violates((tx) => tx`insert into users (email, name) values (${'a@' + 'x'.repeat(319)}, 'X')`)).toBe('23514 users_email_length')
    expect(await violates((tx) => tx`insert into users (email, name) values ('x@y.z', ${'x'.repeat(201)})`)).toBe('23514 users_name_length')
    await passes((tx) => tx`insert into users (email, name) values (${'a@' + 'x'.repeat(318)}, ${'x'.repeat(200)})`)
  })
  it('finds a user by e-mail with the index when the query says lower(email) = lower($1)', async () => {
    // As the app's driver runs it: a prepared statement with a generic plan, on a table big
    // enough that a scan would cost more than the index.
    const plans = await sql.begin(async (tx) => {
      await tx`insert into users (email, name) select 'user' || i || '@example.com', 'U' from generate_series(1, 5000) i`
      await tx`analyze users`
      await tx`set local plan_cache_mode = force_generic_plan`
      await tx`prepare login(text) as select id from users where lower(email) = lower($1)`
      await tx`prepare plain(text) as select id from users where email = $1`
      const plan = async (q: string) => (await tx.unsafe(`explain ${q}`)).map((r) => r['QUERY PLAN']).join('\n')
      const result = { login: await plan(`execute login('User42@Example.com')`), plain: await plan(`execute plain('user42@example.com')`) }
      await tx`deallocate all`
      throw Object.assign(new Error('rollback'), { plans: result })
    }).catch((e) => (e as { plans?: Record<string, string> }).plans ?? Promise.reject(e))
    expect(plans.login).toMatch(/Index Scan using users_email_lower_key on users/)
    expect(plans.plain).toMatch(/Seq Scan on users/)
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
  it('reports a too long name as a length rule, a blank one as not blank', async () => {
    expect(await violates((tx) => tx`insert into categories (user_id, name) values (${alice}, ${'x'.repeat(101)})`)).toBe('23514 categories_name_length')
    expect(await violates((tx) => tx`insert into categories (user_id, name) values (${alice}, ' ')`)).toBe('23514 categories_name_not_blank')
    expect(await violates((tx) => tx`insert into categories (user_id, name, color) values (${alice}, 'X', 'red')`)).toBe('23514 categories_color_hex')
  })
  it('never changes owner: the owner a todo was checked against stays true', async () => {
    expect(await violates(async (tx) => {
      const [{ id }] = await tx`insert into categories (user_id, name) values (${alice}, 'Mine') returning id`
      await tx`update categories set user_id = ${bob} where id = ${id}`
    })).toBe('23514 categories_user_id_fixed')
    await passes(async (tx) => {
      const [{ id }] = await tx`insert into categories (user_id, name) values (${alice}, 'Mine') returning id`
      await tx`update categories set user_id = ${alice}, name = 'Still mine' where id = ${id}`
    })
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
  it("rejects another user's category, on insert and when a todo is moved", async () => {
    const refused = '23503 todos_category_same_user'
    expect(await violates(async (tx) => {
      const [{ id: bobs }] = await tx`insert into categories (user_id, name) values (${bob}, 'Bob only') returning id`
      await todo(tx, { category_id: bobs })
    })).toBe(refused)
    // What an ORM writes for `todo.category = bobs_category`: only category_id, refused.
    expect(await violates(async (tx) => {
      const [{ id: bobs }] = await tx`insert into categories (user_id, name) values (${bob}, 'Bob only') returning id`
      const [{ id }] = await tx`insert into todos (user_id, title) values (${alice}, 'Mine') returning id`
      await tx`update todos set category_id = ${bobs} where id = ${id}`
    })).toBe(refused)
    // The todo handed to Bob with Alice's category still on it.
    expect(await violates(async (tx) => {
      const [{ id: cat }] = await tx`insert into categories (user_id, name) values (${alice}, 'Alice only') returning id`
      const [{ id }] = await tx`insert into todos (user_id, category_id, title) values (${alice}, ${cat}, 'Mine') returning id`
      await tx`update todos set user_id = ${bob} where id = ${id}`
    })).toBe(refused)
    // One bad row among many refuses the statement, as a foreign key would.
    expect(await violates(async (tx) => {
      const [{ id: mine }] = await tx`insert into categories (user_id, name) values (${alice}, 'Alice only') returning id`
      const [{ id: bobs }] = await tx`insert into categories (user_id, name) values (${bob}, 'Bob only') returning id`
      await tx`insert into todos (user_id, category_id, title) values (${alice}, ${mine}, 'a'), (${alice}, ${bobs}, 'b'), (${alice}, ${mine}, 'c')`
    })).toBe(refused)
    await passes(async (tx) => {
      const [{ id: bobs }] = await tx`insert into categories (user_id, name) values (${bob}, 'Bob only') returning id`
      await tx`insert into todos (user_id, category_id, title) values (${bob}, ${bobs}, 'His')`
    })
  })
  it('every foreign key of todos is on one column: a reflecting ORM maps category to category_id alone', async () => {
    // A composite key (user_id, category_id) is what let SQLAlchemy automap sync user_id from the
    // category: the todo moved to the category's owner, and deleting the category nulled user_id.
    const keys = await sql`select conname, array_length(conkey, 1) as columns, pg_get_constraintdef(oid) as def
      from pg_constraint where conrelid = 'todos'::regclass and contype = 'f' order by conname`
    expect(keys.map((k) => [k.conname, k.columns])).toEqual([['todos_category_id_fkey', 1], ['todos_user_id_fkey', 1]])
    expect(keys[0].def).toBe('FOREIGN KEY (category_id) REFERENCES categories(id) ON DELETE SET NULL')
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
  it('reports a too long title as title length, a blank one as not blank, a bad status as status', async () => {
    expect(await violates((tx) => todo(tx, { title: 'x'.repeat(201) }))).toBe('23514 todos_title_length')
    expect(await violates((tx) => todo(tx, { title: ' ' }))).toBe('23514 todos_title_not_blank')
    expect(await violates((tx) => todo(tx, { description: 'x'.repeat(5001) }))).toBe('23514 todos_description_length')
    expect(await violates((tx) => todo(tx, { status: 'done' }))).toBe('23514 todos_status_valid')
    expect(await violates((tx) => todo(tx, { status: 'done', completed_at: new Date() }))).toBe('23514 todos_status_valid')
    expect(await violates((tx) => todo(tx, { priority: 9 }))).toBe('23514 todos_priority_range')
    expect(await violates((tx) => todo(tx, { status: 'pending', completed_at: new Date() }))).toBe('23514 todos_completed_at_matches_status')
  })
  it('the CHECKs, one rule each, named <table>_<column>_<rule>', async () => {
    const checks = await sql`select conname, pg_get_constraintdef(oid) as def from pg_constraint
      where contype = 'c' and conrelid in ('users'::regclass, 'categories'::regclass, 'todos'::regclass) order by 1`
    expect(checks.map((c) => c.conname)).toEqual([
      'categories_color_hex', 'categories_name_length', 'categories_name_not_blank',
      'todos_completed_at_matches_status', 'todos_description_length', 'todos_priority_range', 'todos_status_valid',
      'todos_title_length', 'todos_title_not_blank',
      'users_email_format', 'users_email_length', 'users_name_length', 'users_name_not_blank',
    ])
  })
  it('completed_at agrees with status: a contradiction the app writes is refused', async () => {
    await passes((tx) => todo(tx, { status: 'completed', completed_at: new Date() }))
    expect(await failsWith((tx) => todo(tx, { status: 'pending', completed_at: new Date() }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { status: 'in_progress', completed_at: new Date() }))).toBe('23514')
    // Clearing it on a todo that stays completed.
    expect(await violates(async (tx) => {
      const [{ id }] = await tx`insert into todos (user_id, title, status) values (${alice}, 'Done', 'completed') returning id`
      await tx`update todos set completed_at = null where id = ${id}`
    })).toBe('23514 todos_completed_at_matches_status')
  })
  it('the database keeps completed_at as the status changes; the app writes the status alone', async () => {
    await passes(async (tx) => {
      const [t] = await tx`insert into todos (user_id, title, status) values (${alice}, 'Done at once', 'completed')
        returning id, completed_at, now() as now`
      expect(t.completed_at).toEqual(t.now)
      const [{ id }] = await tx`insert into todos (user_id, title) values (${alice}, 'Later') returning id`
      const step = async (status: string) =>
        (await tx`update todos set status = ${status} where id = ${id} returning completed_at`)[0].completed_at as Date | null
      expect(await step('in_progress')).toBeNull()
      const done = await step('completed')
      expect(done).toBeInstanceOf(Date)
      expect(await step('archived')).toEqual(done) // archived keeps it
      expect(await step('completed')).toEqual(done) // and completed again keeps that time
      await tx`update todos set title = 'Renamed' where id = ${id}` // other changes leave it alone
      expect((await tx`select completed_at from todos where id = ${id}`)[0].completed_at).toEqual(done)
      expect(await step('pending')).toBeNull() // reopened: cleared
      expect(await step('archived')).toBeNull() // archived without ever completing: stays null
      // A time the app gives is kept, on insert and on update.
      const when = new Date('2025-06-01T12:00:00Z')
      const [given] = await tx`insert into todos (user_id, title, status, completed_at) values (${alice}, 'Given', 'completed', ${when}) returning completed_at`
      expect(given.completed_at).toEqual(when)
      const [set] = await tx`update todos set status = 'completed', completed_at = ${when} where id = ${id} returning completed_at`
      expect(set.completed_at).toEqual(when)
    })
  })
  it('priority is 0 to 3', async () => {
    expect(await failsWith((tx) => todo(tx, { priority: 4 }))).toBe('23514')
    expect(await failsWith((tx) => todo(tx, { priority: -1 }))).toBe('23514')
    await passes((tx) => todo(tx, { priority: 3 }))
  })
  it('deleting a category leaves its todos uncategorised; deleting the user removes them', async () => {
    await passes(async (tx) => {
      const [{ id: cat }] = await tx`insert into categories (user_id, name) values (${alice}, 'Temp') returning id`
      const [{ id }] = await tx`insert into todos (user_id, category_id, title, status) values (${alice}, ${cat}, 'Keep me', 'completed') returning id`
      const [before] = await tx`select * from todos where id = ${id}`
      await tx`delete from categories where id = ${cat}`
      // Only category_id changes (updated_at too, as on every update): the owner stays, and so does
      // completed_at.
      const [after] = await tx`select * from todos where id = ${id}`
      expect({ ...after, updated_at: before.updated_at }).toEqual({ ...before, category_id: null })
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
  it('deleting a category finds its todos by index (the key on category_id)', async () => {
    const plan = await sql.begin(async (tx) => {
      await tx`set local enable_seqscan = off` // an empty table: ask whether an index CAN serve it
      const rows = await tx`explain update todos set category_id = null where category_id = gen_random_uuid()`
      throw Object.assign(new Error('rollback'), { plan: rows.map((r) => r['QUERY PLAN']).join('\n') })
    }).catch((e) => (e as { plan?: string }).plan ?? Promise.reject(e))
    expect(plan).toMatch(/Index Scan using todos_category_idx on todos|Bitmap Index Scan on todos_category_idx/)
  })
  it('has an index over every todo led by user_id, for the cascade when a user is deleted', async () => {
    const [{ n }] = await sql`
      select count(*)::int as n from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = i.indkey[0]
      where i.indrelid = 'todos'::regclass and i.indpred is null and a.attname = 'user_id'`
    expect(n).toBeGreaterThan(0)
  })
})

// 1764000000003 changes a schema that databases already have: it must apply over their rows, and
// `down` must give back exactly the schema of 1764000000002, rows included.
describe('1764000000003_app-schema-fixes from the schema before it, and back', () => {
  const BEFORE = '1764000000002_create-todos'
  const rows = (db: string) => psql(`select string_agg(t::text, E'\\n' order by t::text) from (
      select u::text as t from users u union all select c::text from categories c union all select d::text from todos d) s`, db)

  it('applies over existing rows and reverts to the same schema and rows', async () => {
    const db = freshDb('schema_updown')
    expect((await migrate(db, ['up', '--to', BEFORE])).code).toBe(0)
    psql(`insert into users (id, email, name) values ('00000000-0000-4000-8000-000000000001', 'a@x.io', 'A'), ('00000000-0000-4000-8000-000000000002', 'b@x.io', 'B');
      insert into categories (id, user_id, name) values ('00000000-0000-4000-8000-0000000000c1', '00000000-0000-4000-8000-000000000001', 'Work');
      insert into todos (user_id, category_id, title, status, completed_at) values
        ('00000000-0000-4000-8000-000000000001', '00000000-0000-4000-8000-0000000000c1', 'done', 'completed', '2025-01-01'),
        ('00000000-0000-4000-8000-000000000001', null, 'open', 'pending', null),
        ('00000000-0000-4000-8000-000000000002', null, 'old', 'archived', '2024-01-01')`, db)
    const [schemaBefore, rowsBefore] = [schemaDump(db), rows(db)]

    const up = await migrate(db, ['up'])
    expect(up.code, up.stderr).toBe(0)
    expect(up.stdout).toMatch(/applied 1764000000003_app-schema-fixes/)
    expect(rows(db)).toBe(rowsBefore)
    expect(schemaDump(db)).not.toBe(schemaBefore)
    // the new rules hold on the migrated database
    psql(`insert into users (email) values ('c@x.io')`, db)
    expect(psql(`update todos set status = 'pending' where title = 'done' returning completed_at is null`, db)).toBe('t')
    psql(`update todos set status = 'completed' where title = 'done'; delete from users where email = 'c@x.io'`, db)

    const down = await migrate(db, ['down'])
    expect(down.code, down.stderr).toBe(0)
    expect(schemaDump(db)).toBe(schemaBefore)
    expect(journal(db).map((j) => j.name).at(-1)).toBe(BEFORE)
    // the todo completed again kept its rows' shape; its completed_at is the trigger's, not the old one
    expect(psql(`select count(*) from todos where status = 'completed' and completed_at is not null`, db)).toBe('1')
    expect(psql(`select count(*) from users`, db)).toBe('2')
    expect((await migrate(db, ['up'])).code).toBe(0)
  })

  it('refuses to revert while a user has no name, and says what to do; nothing changes', async () => {
    const db = freshDb('schema_down_nameless')
    expect((await migrate(db, ['up'])).code).toBe(0)
    psql(`insert into users (email) values ('nameless@x.io')`, db)
    const schema = schemaDump(db)
    const down = await migrate(db, ['down'])
    expect(down.code).toBe(1)
    expect(down.stderr).toMatch(/cannot revert: users.name was NOT NULL before this migration \(users without a name: 1\)/)
    expect(down.stderr).toMatch(/update users set name = split_part\(email, '@', 1\) where name is null/)
    expect(schemaDump(db)).toBe(schema)
    expect(journal(db).map((j) => j.name).at(-1)).toBe('1764000000003_app-schema-fixes')
    psql(`update users set name = split_part(email, '@', 1) where name is null`, db)
    expect((await migrate(db, ['down'])).code).toBe(0)
  })
})
