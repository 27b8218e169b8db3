// todo-db seed against a real PostgreSQL, through the built CLI: determinism, idempotency,
// --reset, constraints and spread, refusal of an unmigrated database, atomicity on a lost
// connection and on SIGINT, flag validation.
import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase, observer, psql, urlAtPort } from './helpers/db.js'
import { runCli, runInProcess, secrets, tempDir, type CliResult } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'
import { applySchema } from './helpers/schema.js'
import { pgUrl } from './helpers/cluster.js'
import { waitFor } from './helpers/wait.js'

const TABLES = ['users', 'categories', 'todos'] as const
const created: string[] = []

function migratedDatabase(prefix: string): string {
  const db = createDatabase(prefix)
  created.push(db)
  applySchema(db)
  return db
}

/** Every row of the three tables, as one fingerprint per table. */
function digest(db: string): Record<string, string> {
  return Object.fromEntries(TABLES.map((t) => [t,
    psql(`select count(*) || ':' || md5(coalesce(string_agg(x::text, E'\\n' order by x.id), '')) from ${t} x`, db)]))
}

/** Indexes and constraints of the three tables: seed may rebuild some, never change them. */
function schemaDigest(db: string): string {
  const tables = TABLES.map((t) => `'${t}'::regclass`).join(', ')
  return psql(`select string_agg(x, E'\\n' order by x) from (
    select pg_get_indexdef(indexrelid) || ' ' || coalesce(obj_description(indexrelid, 'pg_class'), '') as x from pg_index where indrelid in (${tables})
    union all
    select conname || ' ' || pg_get_constraintdef(oid) || ' ' || convalidated from pg_constraint where conrelid in (${tables})) s`, db)
}

const count = (db: string, sql: string) => Number(psql(sql, db))

function seed(db: string, args: string[], url = dbUrl(db)) {
  return runCli(['seed', '--database-url', url, ...args])
}

/** An app-made user with a todo (random v4 ids), to prove seed leaves others' rows alone. */
function addAppRows(db: string): void {
  psql(`with u as (insert into users (email, name) values ('real.person@app.test', 'Real Person') returning id)
        insert into todos (user_id, title) select id, 'written in the app' from u`, db)
}

// Sessions of this database only: other test files seed other databases of the same server at the same time.
async function whenSeedCopiesTodos(db: string): Promise<void> {
  await waitFor(() => Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = 'todo-db seed' and query ilike 'copy todos%' and state = 'active'`)) > 0,
    { what: 'the seed to reach the COPY of todos', timeoutMs: 30_000 })
}

/** 0 once every seed session on db has ended; the count left if some outlive 5 s. */
async function seedBackendsGone(db: string): Promise<number> {
  const left = () => Number(psql(`select count(*) from pg_stat_activity where datname = '${db}' and application_name = 'todo-db seed'`))
  await waitFor(() => left() === 0, { what: 'the seed sessions to end', timeoutMs: 5000 }).catch(() => {})
  return left()
}

/** The server's log: proof that the COPY was stopped on the server, and why. */
const serverLog = () => readFileSync(join(cluster().dir, 'log'), 'utf8')

afterAll(() => {
  for (const db of created) dropDatabase(db)
})

describe('todo-db seed', () => {
  const small = ['--seed', '7', '--users', '6', '--categories', '4', '--todos', '300']

  it('gives identical rows for the same seed on two databases, and --json reports them', async () => {
    const [a, b] = [migratedDatabase('seed_same_a'), migratedDatabase('seed_same_b')]
    const ra = await seed(a, [...small, '--json'])
    expect(ra.stderr).toBe('')
    expect(ra.code).toBe(0)
    const doc = JSON.parse(ra.stdout)
    expect(doc).toMatchObject({ users: 6, categories: 24, todos: 300 })
    expect(Object.keys(doc).sort()).toEqual(['categories', 'changes', 'ms', 'ok', 'rowsPerSecond', 'today', 'todos', 'users'])
    expect(doc.changes).toEqual({
      users: { inserted: 6, updated: 0, deleted: 0, unchanged: 0 },
      categories: { inserted: 24, updated: 0, deleted: 0, unchanged: 0 },
      todos: { inserted: 300, updated: 0, deleted: 0, unchanged: 0 },
    })
    expect(doc.today).toBe(new Date().toISOString().slice(0, 10))
    expect(doc.rowsPerSecond).toBeGreaterThan(0)
    expect((await seed(b, small)).code).toBe(0)
    expect(digest(a)).toEqual(digest(b))
    expect(digest(a).todos).toMatch(/^300:/)
  })

  it('leaves indexes and constraints exactly as migrated, and enforced', async () => {
    const [seeded, bare] = [migratedDatabase('seed_schema'), migratedDatabase('seed_schema_ref')]
    psql(`comment on index todos_user_status_idx is 'a comment survives'`, seeded)
    psql(`comment on index todos_user_status_idx is 'a comment survives'`, bare)
    expect((await seed(seeded, ['--verbose', ...small])).stderr).toMatch(/todos is empty: its indexes and foreign keys are built and checked after the load/)
    expect(schemaDigest(seeded)).toBe(schemaDigest(bare))
    expect(schemaDigest(seeded)).toMatch(/todos_category_id_fkey FOREIGN KEY \(category_id\) REFERENCES categories\(id\) ON DELETE SET NULL/)
    expect(() => psql(`insert into todos (user_id, title) values (gen_random_uuid(), 'orphan')`, seeded)).toThrow(/todos_user_id_fkey/)
  })

  it('works for a role that does not own the tables (no deferred checks then)', async () => {
    const db = migratedDatabase('seed_not_owner')
    const role = `seeder_${process.pid}`
    const password = `Seeder-${Date.now()}`
    secrets.add(password)
    psql(`drop role if exists ${role}; create role ${role} login password '${password}'`)
    psql(`grant temp on database ${db} to ${role}; grant usage on schema public to ${role};
          grant select, insert, update, delete, truncate on users, categories, todos to ${role}`, db)
    try {
      const url = pgUrl({ ...cluster(), user: role, password, database: db })
      const r = await runCli(['seed', '--verbose', '--database-url', url, ...small])
      expect(r.stderr).not.toMatch(/todos is empty/)
      expect(r.code).toBe(0)
      const owner = migratedDatabase('seed_not_owner_ref')
      expect((await seed(owner, small)).code).toBe(0)
      expect(digest(db)).toEqual(digest(owner))
      expect(schemaDigest(db)).toBe(schemaDigest(owner))
    } finally {
      psql(`drop owned by ${role}`, db)
      psql(`drop role ${role}`)
    }
  })

  it('is idempotent: a second run leaves the very same rows and never touches the app\'s', async () => {
    const db = migratedDatabase('seed_twice')
    addAppRows(db)
    expect((await seed(db, small)).code).toBe(0)
    const first = digest(db)
    // a seed row edited by hand is put back; the app's rows stay
    psql(`update todos set title = 'edited' where id = (select id from todos where title <> 'written in the app' order by id limit 1)`, db)
    const again = await seed(db, small)
    expect(again.code).toBe(0)
    expect(again.stdout).toMatch(/^seeded 6 users, 24 categories, 300 todos \(seed 7, day \d{4}-\d\d-\d\d\)/)
    // it says what it did: one todo put back, everything else as it was
    expect(again.stdout).toMatch(/; users: 6 unchanged; categories: 24 unchanged; todos: 1 updated, 299 unchanged$/m)
    expect(digest(db)).toEqual(first)
    const third = JSON.parse((await seed(db, [...small, '--json'])).stdout)
    expect(third.changes).toEqual({
      users: { inserted: 0, updated: 0, deleted: 0, unchanged: 6 },
      categories: { inserted: 0, updated: 0, deleted: 0, unchanged: 24 },
      todos: { inserted: 0, updated: 0, deleted: 0, unchanged: 300 },
    })
    expect(count(db, `select count(*) from todos where title = 'written in the app'`)).toBe(1)
    expect(count(db, 'select count(*) from users')).toBe(7)
  })

  it('makes version-4 ids (version and variant bits), as pydantic\'s UUID4 requires', async () => {
    const db = migratedDatabase('seed_v4')
    expect((await seed(db, small)).code).toBe(0)
    for (const [t, cols] of [['users', ['id']], ['categories', ['id', 'user_id']], ['todos', ['id', 'user_id', 'category_id']]] as const) {
      for (const c of cols) {
        expect(count(db, `select count(*) from ${t} where ${c} is not null and ${c}::text !~ '^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$'`), `${t}.${c}`).toBe(0)
      }
    }
  })

  it('replaces the version-8 rows an earlier release seeded with the same seed, leaving one copy', async () => {
    const db = migratedDatabase('seed_legacy')
    const fresh = migratedDatabase('seed_legacy_ref')
    expect((await seed(fresh, small)).code).toBe(0)
    expect((await seed(db, small)).code).toBe(0)
    // what an earlier release left: the same rows under ids with version nibble 8
    const v8 = (c: string) => `${c} = overlay(${c}::text placing '8' from 15 for 1)::uuid`
    psql(`begin; set local session_replication_role = replica;
          update users set ${v8('id')}; update categories set ${v8('id')}, ${v8('user_id')};
          update todos set ${v8('id')}, ${v8('user_id')}, ${v8('category_id')}; commit`, db)
    expect(count(db, `select count(*) from users where id::text like '%-8000-8000-%'`)).toBe(6)
    // an app todo under a version-8 seed user: replacing that user would delete it
    psql(`insert into todos (user_id, title) select id, 'app todo' from users order by id limit 1`, db)
    const refused = await seed(db, small)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/seed 7 would delete 6 users and 24 categories of its own that 1 row of the app depends on \(todos: 1 would be deleted\)/)
    expect(refused.stderr).toMatch(/30 rows of them were seeded by an earlier todo-db \(version-8 ids\), which a re-seed replaces/)
    psql(`delete from todos where title = 'app todo'`, db)
    const r = await seed(db, small)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    expect(digest(db)).toEqual(digest(fresh))
  })

  it('with fewer users or categories, removes that seed\'s surplus rows', async () => {
    const db = migratedDatabase('seed_shrink')
    expect((await seed(db, small)).code).toBe(0)
    const r = await seed(db, ['--seed', '7', '--users', '3', '--categories', '2', '--todos', '40', '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).changes).toEqual({
      users: { inserted: 0, updated: 0, deleted: 3, unchanged: 3 },
      // the surviving rows may differ too: the generator's stream depends on the counts
      categories: { inserted: 0, updated: expect.any(Number), deleted: 18, unchanged: expect.any(Number) },
      todos: { inserted: 0, updated: expect.any(Number), deleted: 260, unchanged: expect.any(Number) },
    })
    const { categories, todos } = JSON.parse(r.stdout).changes
    expect(categories.updated + categories.unchanged).toBe(6)
    expect(todos.updated + todos.unchanged).toBe(40)
    expect(count(db, 'select count(*) from users')).toBe(3)
    expect(count(db, 'select count(*) from categories')).toBe(6)
    expect(count(db, 'select count(*) from todos')).toBe(40)
  })

  it('refuses to delete surplus seed rows that app rows depend on, unless --accept-data-loss', async () => {
    const db = migratedDatabase('seed_shrink_app')
    const five = ['--seed', '7', '--users', '5', '--categories', '4', '--todos', '100']
    expect((await seed(db, five)).code).toBe(0)
    // the app adds a category and a todo under seed user #5, and files a todo of its own under
    // seed user #1 in that user's 4th category
    const user = (i: number) => `(select id from users where email like '%.${i}@seed7.example.com')`
    psql(`with c as (insert into categories (user_id, name) values (${user(4)}, 'From the app') returning id, user_id)
          insert into todos (user_id, category_id, title) select user_id, id, 'app todo under seed user 5' from c;
          insert into todos (user_id, category_id, title)
            select user_id, id, 'app todo in a seed category' from categories where user_id = ${user(0)} order by id desc limit 1`, db)
    const before = digest(db)
    const fewer = ['--seed', '7', '--users', '3', '--categories', '2', '--todos', '40']
    const refused = await seed(db, fewer)
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/seed 7 would delete 2 users and 14 categories of its own that 3 rows of the app depend on/)
    expect(refused.stderr).toMatch(/categories: 1 would be deleted; todos: 1 would lose the reference \(set null\); todos: 1 would be deleted\); nothing was changed/)
    expect(refused.stderr).toMatch(/--accept-data-loss/)
    expect(digest(db)).toEqual(before)
    const json = await seed(db, [...fewer, '--json'])
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'SEED_DATA_LOSS' })
    // the same options as before delete nothing: no refusal
    expect((await seed(db, five)).code).toBe(0)
    expect(digest(db)).toEqual(before)
    // told to: the app rows under user 5 go, the other loses its category
    const accepted = await seed(db, [...fewer, '--accept-data-loss'])
    expect(accepted.code).toBe(0)
    expect(count(db, `select count(*) from categories where name = 'From the app'`)).toBe(0)
    expect(count(db, `select count(*) from todos where title = 'app todo under seed user 5'`)).toBe(0)
    expect(psql(`select coalesce(category_id::text, 'none') from todos where title = 'app todo in a seed category'`, db)).toBe('none')
    expect(count(db, 'select count(*) from users')).toBe(3)
  })

  it('--reset removes every user, category and todo first', async () => {
    const db = migratedDatabase('seed_reset')
    expect((await seed(db, ['--seed', '1'])).code).toBe(0)
    addAppRows(db)
    const r = await seed(db, [...small, '--reset', '--yes'])
    expect(r.code).toBe(0)
    // seed 1's 5 users, 15 categories and 50 todos and the app's user and todo went
    expect(r.stdout).toMatch(/users: 6 inserted, 6 deleted; categories: 24 inserted, 15 deleted; todos: 300 inserted, 51 deleted$/m)
    expect(count(db, `select count(*) from users where email = 'real.person@app.test'`)).toBe(0)
    const fresh = migratedDatabase('seed_reset_ref')
    expect((await seed(fresh, small)).code).toBe(0)
    expect(digest(db)).toEqual(digest(fresh))
  })

  it('--reset names the app\'s tables that refer to users and empties them only with --cascade', async () => {
    const db = migratedDatabase('seed_reset_tags')
    // what `migrate create add-tags` would add, and a table that refers to tags in turn
    psql(`create table tags (id serial primary key, user_id uuid not null references users (id), name text);
          create table todo_tags (tag_id int references tags (id), note text)`, db)
    expect((await seed(db, small)).code).toBe(0)
    psql(`insert into tags (user_id, name) select id, 'home' from users limit 2; insert into todo_tags select id, 'x' from tags`, db)
    const before = digest(db)
    const refused = await seed(db, [...small, '--reset'])
    expect(refused.code).toBe(1)
    expect(refused.stderr).toMatch(/--reset would also have to empty tags \(2 rows\), todo_tags \(2 rows\), which refer to users, categories or todos; nothing was changed \(pass --reset --cascade/)
    expect(refused.stderr.trim().split('\n')).toHaveLength(1)
    expect(digest(db)).toEqual(before)
    expect(count(db, 'select count(*) from tags')).toBe(2)
    const json = JSON.parse((await seed(db, [...small, '--reset', '--json'])).stdout)
    expect(json.error).toMatchObject({ code: 'RESET_NEEDS_CASCADE', referencing: [{ table: 'tags', rows: 2 }, { table: 'todo_tags', rows: 2 }] })
    const cascaded = await seed(db, [...small, '--reset', '--cascade', '--json', '--yes'])
    expect(cascaded.code).toBe(0)
    expect(JSON.parse(cascaded.stdout).cascaded).toEqual([{ table: 'tags', rows: 2 }, { table: 'todo_tags', rows: 2 }])
    expect(count(db, 'select count(*) from tags') + count(db, 'select count(*) from todo_tags')).toBe(0)
    expect(count(db, 'select count(*) from todos')).toBe(300)
    const alone = await seed(db, [...small, '--cascade'])
    expect(alone.code).toBe(3)
    expect(alone.stderr).toMatch(/--cascade goes with --reset/)
  })

  it('a different seed gives different rows, next to the first seed\'s', async () => {
    const [a, b] = [migratedDatabase('seed_diff_a'), migratedDatabase('seed_diff_b')]
    expect((await seed(a, small)).code).toBe(0)
    expect((await seed(b, ['--seed', '8', ...small.slice(2)])).code).toBe(0)
    const [da, db] = [digest(a), digest(b)]
    for (const t of TABLES) expect(da[t]).not.toEqual(db[t])
    // both seeds in one database: no clash, no overwrite
    expect((await seed(a, ['--seed', '8', ...small.slice(2)])).code).toBe(0)
    expect(count(a, 'select count(*) from todos')).toBe(600)
    expect(count(a, `select count(distinct lower(email)) from users`)).toBe(12)
  })

  it('makes realistic rows: every status, categories of the todo\'s own user, dates consistent', async () => {
    const db = migratedDatabase('seed_shape')
    // the defaults: a handful of users with todos in every status
    const r = await seed(db, ['--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ users: 5, categories: 15, todos: 50 })
    expect(psql(`select string_agg(distinct status, ',' order by status) from todos`, db)).toBe('archived,completed,in_progress,pending')
    // every user with four todos or more has all four statuses
    expect(count(db, `select count(*) from (select user_id from todos group by user_id having count(*) >= 4 and count(distinct status) < 4) x`)).toBe(0)
    expect(count(db, `select count(distinct user_id) from todos`)).toBe(5)
    expect(count(db, `select count(*) from todos t join categories c on c.id = t.category_id where c.user_id <> t.user_id`)).toBe(0)
    expect(count(db, `select count(*) from todos where category_id is not null`)).toBeGreaterThan(25)
    expect(count(db, `select count(*) from todos where completed_at < created_at or updated_at < created_at`)).toBe(0)
    expect(count(db, `select count(*) from todos t join users u on u.id = t.user_id where t.created_at < u.created_at`)).toBe(0)
    // nothing after the start of today (UTC), the day used
    expect(count(db, `select count(*) from users where created_at > current_date or updated_at > current_date`)).toBe(0)
    expect(count(db, `select count(*) from todos where created_at > current_date or updated_at > current_date or completed_at > current_date or deleted_at > current_date`)).toBe(0)
    expect(count(db, `select count(*) from categories where created_at > current_date or updated_at > current_date`)).toBe(0)
    expect(count(db, `select count(*) from todos where deleted_at < updated_at`)).toBe(0)
    // open todos overdue, due today and due soon, for every user
    const open = `from todos where status in ('pending', 'in_progress') and deleted_at is null`
    expect(count(db, `select count(distinct user_id) ${open} and due_date = current_date`)).toBe(5)
    expect(count(db, `select count(distinct user_id) ${open} and due_date < current_date`)).toBe(5)
    expect(count(db, `select count(*) ${open} and due_date between current_date + 1 and current_date + 30`)).toBeGreaterThan(3)
    expect(count(db, `select count(distinct priority) from todos`)).toBe(4)
    // the constraints themselves are enforced by the server: a bigger set loads without error
    const big = await seed(db, ['--seed', '3', '--users', '40', '--categories', '25', '--todos', '4000'])
    expect(big.code).toBe(0)
    // line breaks in descriptions survive COPY's escaping
    expect(count(db, `select count(*) from todos where description like E'%\\n%'`)).toBeGreaterThan(0)
    expect(count(db, `select count(*) from categories c1 join categories c2 on c1.user_id = c2.user_id and lower(c1.name) = lower(c2.name) and c1.id < c2.id`)).toBe(0)
  })

  it('--today pins the reference day: one seed and one day give identical rows, on any day it runs', async () => {
    const [a, b] = [migratedDatabase('seed_day_a'), migratedDatabase('seed_day_b')]
    const pinned = [...small, '--today', '2024-02-29']
    const r = await seed(a, [...pinned, '--json'])
    expect(r.code).toBe(0)
    expect(JSON.parse(r.stdout).today).toBe('2024-02-29')
    expect((await seed(b, pinned)).stdout).toMatch(/\(seed 7, day 2024-02-29\)/)
    expect(digest(a)).toEqual(digest(b))
    expect(count(a, `select count(*) from todos where greatest(created_at, updated_at, completed_at, deleted_at) > '2024-02-29'`)).toBe(0)
    expect(count(a, `select count(*) from todos where due_date = '2024-02-29' and status = 'pending'`)).toBeGreaterThan(0)
    expect(count(a, `select count(*) from todos where due_date > '2024-02-29'`)).toBeGreaterThan(0)
    // idempotent for the same seed and day; another day moves the dates of the same rows
    expect((await seed(a, pinned)).code).toBe(0)
    expect(digest(a)).toEqual(digest(b))
    expect((await seed(a, [...small, '--today', '2024-03-01'])).code).toBe(0)
    expect(digest(a).todos).not.toEqual(digest(b).todos)
    expect(count(a, 'select count(*) from todos')).toBe(300)
    // the users and categories it moved carry the trigger's stamp in updated_at: not a change to undo again
    const moved = digest(a)
    const again = JSON.parse((await seed(a, [...small, '--today', '2024-03-01', '--json'])).stdout)
    expect(again.changes).toEqual({
      users: { inserted: 0, updated: 0, deleted: 0, unchanged: 6 },
      categories: { inserted: 0, updated: 0, deleted: 0, unchanged: 24 },
      todos: { inserted: 0, updated: 0, deleted: 0, unchanged: 300 },
    })
    expect(digest(a)).toEqual(moved)
  })

  it('refuses a database that is not migrated, says to run migrate up, and creates nothing', async () => {
    const db = createDatabase('seed_unmigrated')
    created.push(db)
    const r = await seed(db, [])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/not migrated: missing table users, table categories, table todos.*todo-db migrate up/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(psql(`select count(*) from pg_class where relname in ('users', 'categories', 'todos')`, db)).toBe('0')
    // a partly migrated one too
    psql(`create table users (id uuid primary key, email text)`, db)
    const partly = await seed(db, ['--json'])
    expect(partly.code).toBe(1)
    expect(JSON.parse(partly.stdout).error).toMatchObject({ code: 'NOT_MIGRATED' })
    expect(JSON.parse(partly.stdout).error.missing).toContain('column users.name')
  })

  it('takes its defaults from the config file, and flags win', async () => {
    const db = migratedDatabase('seed_config')
    const cwd = tempDir()
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ seed: { seed: 9, users: 2, categories: 1, todos: 10 } }))
    const fromFile = await runCli(['seed', '--json', '--database-url', dbUrl(db)], { cwd })
    expect(fromFile.code).toBe(0)
    expect(JSON.parse(fromFile.stdout)).toMatchObject({ users: 2, categories: 2, todos: 10 })
    expect(count(db, `select count(*) from users where email like '%@seed9.example.com'`)).toBe(2)
    const flagsWin = await runCli(['seed', '--json', '--todos', '12', '--database-url', dbUrl(db)], { cwd })
    expect(JSON.parse(flagsWin.stdout)).toMatchObject({ users: 2, todos: 12 })
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ seed: { users: 'many' } }))
    const bad = await runCli(['seed', '--database-url', dbUrl(db)], { cwd })
    expect(bad.code).toBe(3)
    expect(bad.stderr).toMatch(/seed\.users must be a number, not "many"/)
  })

  it('gives up after timeouts.lock when the app holds a lock, and changes nothing', async () => {
    const db = migratedDatabase('seed_lock')
    expect((await seed(db, ['--seed', '2'])).code).toBe(0)
    const was = digest(db)
    const cwd = tempDir()
    writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify({ timeouts: { lock: '300ms' } }))
    const app = observer(db)
    const session = await app.reserve()
    try {
      await session`begin`
      await session`select count(*) from todos` // the app reading: TRUNCATE must wait for it
      const r = await runCli(['seed', '--reset', '--yes', '--database-url', dbUrl(db)], { cwd })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/lock timeout.*timeouts\.lock/)
    } finally {
      await session`rollback`
      session.release()
      await app.end()
    }
    expect(digest(db)).toEqual(was)
  })

  it('exits 3 with one clear line for bad flags, before connecting', async () => {
    for (const [args, message] of [
      [['--users', 'abc'], /--users: "abc" is not a non-negative integer/],
      [['--todos', '-5'], /--todos: "-5" is not a non-negative integer/],
      [['--seed', '1.5'], /--seed: "1.5" is not a non-negative integer/],
      [['--categories', '100000'], /--categories: 100000 is too large \(at most 1000\)/],
      [['--users', '0', '--todos', '5'], /needs at least one user/],
      [['--today', '2024-02-30'], /--today: "2024-02-30" is not a day in the form YYYY-MM-DD/],
      [['--today', 'yesterday'], /--today: "yesterday" is not a day in the form YYYY-MM-DD/],
      [['--today', '2999-01-01'], /--today: 2999-01-01 is after today \(.* UTC\); seed rows would be created in the future/],
    ] as const) {
      // an unreachable URL: validation must come first
      const r = await runInProcess(['seed', '--database-url', 'postgres://u:p@127.0.0.1:1/x', ...args])
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr).toMatch(message)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
    }
  })
})

describe('todo-db seed is atomic', () => {
  let db: string
  let before: Record<string, string>
  let schemaBefore: string
  // big enough that the COPY of todos runs for a few seconds; --reset empties the tables first,
  // so the truncate and the deferred indexes and foreign keys must be rolled back too
  const big = ['--seed', '99', '--users', '50', '--todos', '250000', '--reset', '--yes']

  beforeAll(async () => {
    db = migratedDatabase('seed_atomic')
    expect((await seed(db, ['--seed', '5'])).code).toBe(0)
    addAppRows(db)
    before = digest(db)
    schemaBefore = schemaDigest(db)
  })

  it('a connection cut mid-load leaves the database as it was and no seed query on the server', async () => {
    const c = cluster()
    const proxy = await startProxy(c)
    try {
      const url = urlAtPort(proxy.port, db)
      const pending = seed(db, big, url)
      await whenSeedCopiesTodos(db)
      proxy.cut()
      const r = await pending
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(/connection was lost during the seed.*nothing was changed/)
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1) // no crash, no stack trace
      expect(r.code).toBe(2)
      expect(await seedBackendsGone(db)).toBe(0)
      expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
    } finally {
      await proxy.close()
    }
  })

  it('SIGINT mid-load cancels the statement on the server, rolls back and exits 130', async () => {
    // The COPY seen below must be this run's, not a backend of the test before still rolling back.
    expect(await seedBackendsGone(db)).toBe(0)
    let child: ChildProcess | undefined
    const pending: Promise<CliResult> = runCli(['seed', '--database-url', dbUrl(db), ...big], { onSpawn: (ch) => (child = ch) })
    await whenSeedCopiesTodos(db)
    child!.kill('SIGINT')
    const r = await pending
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/interrupted: the seed was cancelled and rolled back/)
    // The backend logs the CopyFail as it reads it, which may be just after our process has gone.
    await waitFor(() => /COPY from stdin failed: Error: todo-db seed: interrupted \(SIGINT\)/.test(serverLog()), { what: 'the server to log the COPY stopped by SIGINT' })
    // gone as the process exits (the server may still be rolling back, so wait for it, briefly),
    // not when the server notices a dead socket
    expect(await seedBackendsGone(db)).toBe(0)
    expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
  })

  it('SIGINT while still connecting (a server that does not answer) exits 130 at once', async () => {
    const hole = await startProxy(cluster(), 'blackhole')
    try {
      const url = urlAtPort(hole.port, db)
      let child: ChildProcess | undefined
      const pending = runCli(['seed', '--database-url', url], { onSpawn: (ch) => (child = ch) })
      await waitFor(() => hole.accepted > 0, { what: 'the seed to open a connection' })
      const signalled = Date.now()
      child!.kill('SIGINT')
      const r = await pending
      expect(r.code).toBe(130)
      expect(Date.now() - signalled).toBeLessThan(3000) // not the 10 s backstop, not the 30 s connect timeout
      expect(digest(db)).toEqual(before)
    } finally {
      await hole.close()
    }
  })

  it('SIGTERM mid-load does the same and exits 143', async () => {
    expect(await seedBackendsGone(db)).toBe(0)
    let child: ChildProcess | undefined
    const pending = runCli(['seed', '--database-url', dbUrl(db), ...big], { onSpawn: (ch) => (child = ch) })
    await whenSeedCopiesTodos(db)
    child!.kill('SIGTERM')
    const r = await pending
    expect(r.code).toBe(143)
    // The backend logs the CopyFail as it reads it, which may be just after our process has gone.
    await waitFor(() => /COPY from stdin failed: Error: todo-db seed: interrupted \(SIGTERM\)/.test(serverLog()), { what: 'the server to log the COPY stopped by SIGTERM' })
    expect(await seedBackendsGone(db)).toBe(0)
    expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
  })
})
