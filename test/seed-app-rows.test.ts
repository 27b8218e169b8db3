// Re-seeding a database whose app has rows that refer to seed todos (`migrate create
// add-attachments`, then the app used on the dev branch): the seed keeps the todos those rows
// depend on, updates them in place, and refuses only to delete one of them. Real server, built CLI.
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase, dropDatabase, psql } from './helpers/db.js'
import { dbUrl } from './helpers/db.js'
import { runCli } from './helpers/cli.js'
import { applySchema } from './helpers/schema.js'

const created: string[] = []

function migratedDatabase(prefix: string): string {
  const db = createDatabase(prefix)
  created.push(db)
  applySchema(db)
  return db
}

afterAll(() => {
  for (const db of created) dropDatabase(db)
})

const count = (db: string, sql: string) => Number(psql(sql, db))
const seed = (db: string, args: string[]) => runCli(['seed', '--database-url', dbUrl(db), ...args])
const seedJson = async (db: string, args: string[]) => {
  const r = await seed(db, [...args, '--json'])
  return { ...r, json: JSON.parse(r.stdout) }
}

/** Todo i of seed 7 (ids.ts: seed, kind 3, version 4, index). */
const todo = (i: number) => `'00000007-3000-4000-8000-${i.toString(16).padStart(12, '0')}'::uuid`

/** The app's tables: one whose rows go with their todo, one whose key refuses the delete. */
function addAppTables(db: string): void {
  psql(`create table attachments (id serial primary key, todo_id uuid not null references todos (id) on delete cascade, name text);
        create table notes (id serial primary key, todo_id uuid references todos (id), body text)`, db)
}

function attach(db: string, table: 'attachments' | 'notes', todos: number[]): void {
  for (const i of todos) psql(`insert into ${table} (todo_id) values (${todo(i)})`, db)
}

/** Every app row with the todo it points at, and that todo's title: what must survive a re-seed. */
const links = (db: string) => psql(`
  select string_agg(format('%s %s -> %s %s', r.t, r.id, r.todo_id, coalesce(x.title, 'MISSING')), E'\\n' order by r.t, r.id)
    from (select 'attachments' t, id, todo_id from attachments union all select 'notes', id, todo_id from notes) r
    left join todos x on x.id = r.todo_id`, db)

/** A table's rows as one fingerprint, optionally without some columns. */
const digest = (db: string, table: string, without: string[] = []) => psql(
  `select count(*) || ':' || md5(coalesce(string_agg((to_jsonb(x) ${without.map((c) => `- '${c}'`).join(' ')})::text, E'\\n' order by x.id), '')) from ${table} x`, db)
/** Which todo each app row points at, by the todo's index. */
const targets = (db: string) => psql(`
  select string_agg(format('%s %s', t, ('x' || right(todo_id::text, 12))::bit(48)::bigint), ',' order by t, id)
    from (select 'attachments' t, id, todo_id from attachments union all select 'notes', id, todo_id from notes) r`, db)
const seedRows = (db: string) => ['users', 'categories', 'todos'].map((t) => digest(db, t)).join(' ')

const none = { inserted: 0, updated: 0, deleted: 0 }

describe('todo-db seed with app rows that refer to seed todos', () => {
  const small = ['--seed', '7', '--users', '6', '--categories', '4', '--todos', '300']

  it('re-seeds with the same flags: exit 0, the app rows stay on the same todos, nothing changes', async () => {
    const db = migratedDatabase('seed_app_same')
    expect((await seed(db, small)).code).toBe(0)
    addAppTables(db)
    attach(db, 'attachments', [0, 10, 299])
    attach(db, 'notes', [5, 150])
    const rows = seedRows(db)
    const app = links(db)
    expect(app).not.toMatch(/MISSING/)

    const again = await seedJson(db, small)
    expect(again.stderr).toBe('')
    expect(again.code).toBe(0)
    expect(again.json.changes).toEqual({
      users: { ...none, unchanged: 6 },
      categories: { ...none, unchanged: 24 },
      todos: { ...none, unchanged: 300 },
    })
    expect(again.json.todos).toBe(300)
    expect(links(db)).toBe(app)
    expect(seedRows(db)).toBe(rows)
  })

  it('puts back a seed todo edited in the app in place, its dependents with it, and then leaves it alone', async () => {
    const db = migratedDatabase('seed_app_edit')
    expect((await seed(db, small)).code).toBe(0)
    addAppTables(db)
    attach(db, 'attachments', [10])
    attach(db, 'notes', [10])
    const title = psql(`select title from todos where id = ${todo(10)}`, db)
    const app = links(db)
    psql(`update todos set title = 'edited in the app', priority = 3 - priority where id = ${todo(10)}`, db)

    const put = await seed(db, small)
    expect(put.code).toBe(0)
    expect(put.stdout).toMatch(/; users: 6 unchanged; categories: 24 unchanged; todos: 1 updated, 299 unchanged$/m)
    expect(psql(`select title from todos where id = ${todo(10)}`, db)).toBe(title)
    expect(links(db)).toBe(app)
    // the table's trigger stamped the put-back row's updated_at: not a change the next run undoes
    const after = seedRows(db)
    const third = await seedJson(db, small)
    expect(third.json.changes.todos).toEqual({ ...none, unchanged: 300 })
    expect(seedRows(db)).toBe(after)
  })

  it('with fewer --todos, refuses to delete a surplus todo that app rows depend on, naming the table; --accept-data-loss deletes it', async () => {
    const db = migratedDatabase('seed_app_fewer')
    const hundred = ['--seed', '7', '--users', '5', '--categories', '4', '--todos', '100']
    expect((await seed(db, hundred)).code).toBe(0)
    addAppTables(db)
    attach(db, 'attachments', [0, 50, 99])
    attach(db, 'notes', [1, 80])
    const fewer = ['--seed', '7', '--users', '5', '--categories', '4', '--todos', '60']
    const rows = seedRows(db)
    const app = links(db)

    // the note's key has no ON DELETE action: no flag lets its todo go
    for (const extra of [[], ['--accept-data-loss']]) {
      const r = await seed(db, [...fewer, ...extra])
      expect(r.code, extra.join(' ')).toBe(1)
      expect(r.stderr).toMatch(/^error: seed 7 would delete 40 todos of its own that 2 rows of the app depend on \(attachments: 1 would be deleted; notes: 1 refuse the delete \(no ON DELETE action\)\); nothing was changed \(seed with as many --todos as before to keep them; or delete those app rows first, or --reset --cascade\)$/m)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
    psql(`delete from notes where todo_id = ${todo(80)}`, db)
    const refused = await seedJson(db, fewer)
    expect(refused.code).toBe(1)
    expect(refused.json.error).toMatchObject({
      code: 'SEED_DATA_LOSS',
      dependents: [{ table: 'attachments', rows: 1, of: 'todos', effect: 'would be deleted', blocks: false }],
    })
    expect(refused.stderr).toMatch(/seed 7 would delete 40 todos of its own that 1 row of the app depends on \(attachments: 1 would be deleted\); nothing was changed \(seed with as many --todos as before to keep them; or pass --accept-data-loss/)
    expect(seedRows(db)).toBe(rows)

    const accepted = await seedJson(db, [...fewer, '--accept-data-loss'])
    expect(accepted.code).toBe(0)
    const { todos } = accepted.json.changes
    expect(todos).toMatchObject({ inserted: 0, deleted: 40 })
    expect(todos.updated + todos.unchanged).toBe(60)
    expect(count(db, 'select count(*) from todos')).toBe(60)
    // the attachment of todo 99 went with it; the others are where they were
    expect(app).toMatch(/-> 00000007-3000-4000-8000-000000000063 /)
    expect(targets(db)).toBe('attachments 0,attachments 50,notes 1')
    expect(links(db)).not.toMatch(/MISSING/)
  })

  it('with fewer --users, the todos it keeps move to their new owners with their dependents (never deleted with the old owner)', async () => {
    const db = migratedDatabase('seed_app_owners')
    const five = ['--seed', '7', '--users', '5', '--categories', '4', '--todos', '100']
    expect((await seed(db, five)).code).toBe(0)
    addAppTables(db)
    attach(db, 'attachments', [95, 96, 97, 98, 99])
    attach(db, 'notes', [99])
    // those todos belong to the last seed user, whom --users 3 no longer makes
    expect(psql(`select string_agg(distinct u.email, ',') from todos t join users u on u.id = t.user_id where t.id in (${[95, 99].map(todo).join(', ')})`, db))
      .toMatch(/^[^,]*\.4@seed7\.example\.com$/)

    const three = await seedJson(db, ['--seed', '7', '--users', '3', '--categories', '4', '--todos', '100'])
    expect(three.stderr).toBe('')
    expect(three.code).toBe(0)
    expect(three.json.changes.users).toEqual({ inserted: 0, updated: 0, deleted: 2, unchanged: 3 })
    expect(three.json.changes.todos).toMatchObject({ inserted: 0, deleted: 0 })
    expect(count(db, 'select count(*) from attachments') + count(db, 'select count(*) from notes')).toBe(6)
    expect(links(db)).not.toMatch(/MISSING/)
    expect(count(db, `select count(*) from todos t join users u on u.id = t.user_id where t.id = ${todo(99)} and u.email ~ '\\.[012]@seed7\\.'`)).toBe(1)
    // the same rows as a fresh seed with those flags (updated_at aside: the trigger stamps updated rows)
    const fresh = migratedDatabase('seed_app_owners_ref')
    expect((await seed(fresh, ['--seed', '7', '--users', '3', '--categories', '4', '--todos', '100'])).code).toBe(0)
    for (const t of ['users', 'categories', 'todos']) expect(digest(db, t, ['updated_at']), t).toBe(digest(fresh, t, ['updated_at']))
  })

  it('on another --today, updates every todo in place, keeping its id and dependents; the next run changes nothing', async () => {
    const db = migratedDatabase('seed_app_today')
    expect((await seed(db, [...small, '--today', '2024-02-29'])).code).toBe(0)
    addAppTables(db)
    attach(db, 'attachments', [0, 1, 2, 299])
    attach(db, 'notes', [3, 298])

    const moved = await seedJson(db, [...small, '--today', '2024-03-01'])
    expect(moved.stderr).toBe('')
    expect(moved.code).toBe(0)
    expect(moved.json.changes.todos).toEqual({ inserted: 0, updated: 300, deleted: 0, unchanged: 0 })
    expect(targets(db)).toBe('attachments 0,attachments 1,attachments 2,attachments 299,notes 3,notes 298')
    expect(links(db)).not.toMatch(/MISSING/)
    const fresh = migratedDatabase('seed_app_today_ref')
    expect((await seed(fresh, [...small, '--today', '2024-03-01'])).code).toBe(0)
    expect(digest(db, 'todos', ['updated_at'])).toBe(digest(fresh, 'todos', ['updated_at']))

    const rows = seedRows(db)
    const again = await seedJson(db, [...small, '--today', '2024-03-01'])
    expect(again.json.changes).toEqual({
      users: { ...none, unchanged: 6 },
      categories: { ...none, unchanged: 24 },
      todos: { ...none, unchanged: 300 },
    })
    expect(seedRows(db)).toBe(rows)
  })
})
