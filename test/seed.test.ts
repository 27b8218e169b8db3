// todo-db seed against a real PostgreSQL, through the built CLI: determinism, idempotency,
// --reset, constraints and spread, refusal of an unmigrated database, atomicity on a lost
// connection and on SIGINT, flag validation.
import type { ChildProcess } from 'node:child_process'
import { readFileSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase, observer, psql, urlAtPort } from './helpers/db.js'
import { runCli, secrets, tempDir, type CliResult } from './helpers/cli.js'
import { startProxy } from './helpers/proxy.js'
import { applySchema } from './helpers/schema.js'

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

async function whenSeedCopiesTodos(timeoutMs = 30_000): Promise<void> {
  const until = Date.now() + timeoutMs
  while (Date.now() < until) {
    const n = Number(psql(`select count(*) from pg_stat_activity where application_name = 'todo-db seed' and query ilike 'copy todos%' and state = 'active'`))
    if (n > 0) return
    await new Promise((r) => setTimeout(r, 25))
  }
  throw new Error('the seed never reached the COPY of todos')
}

async function seedBackendsGone(timeoutMs = 5000): Promise<number> {
  const until = Date.now() + timeoutMs
  let n = 0
  do {
    n = Number(psql(`select count(*) from pg_stat_activity where application_name = 'todo-db seed'`))
    if (n === 0) return 0
    await new Promise((r) => setTimeout(r, 50))
  } while (Date.now() < until)
  return n
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
    expect(Object.keys(doc).sort()).toEqual(['categories', 'ms', 'ok', 'rowsPerSecond', 'todos', 'users'])
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
    expect(schemaDigest(seeded)).toMatch(/todos_category_same_user_fk FOREIGN KEY/)
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
      const c = cluster()
      const url = `postgres://${role}:${encodeURIComponent(password)}@${c.host}:${c.port}/${db}?sslmode=disable`
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
    expect(again.stdout).toMatch(/^seeded 6 users, 24 categories, 300 todos \(seed 7\)/)
    expect(digest(db)).toEqual(first)
    expect(count(db, `select count(*) from todos where title = 'written in the app'`)).toBe(1)
    expect(count(db, 'select count(*) from users')).toBe(7)
  })

  it('with fewer users or categories, removes that seed\'s surplus rows', async () => {
    const db = migratedDatabase('seed_shrink')
    expect((await seed(db, small)).code).toBe(0)
    expect((await seed(db, ['--seed', '7', '--users', '3', '--categories', '2', '--todos', '40'])).code).toBe(0)
    expect(count(db, 'select count(*) from users')).toBe(3)
    expect(count(db, 'select count(*) from categories')).toBe(6)
    expect(count(db, 'select count(*) from todos')).toBe(40)
  })

  it('--reset removes every user, category and todo first', async () => {
    const db = migratedDatabase('seed_reset')
    expect((await seed(db, ['--seed', '1'])).code).toBe(0)
    addAppRows(db)
    const r = await seed(db, [...small, '--reset'])
    expect(r.code).toBe(0)
    expect(count(db, `select count(*) from users where email = 'real.person@app.test'`)).toBe(0)
    const fresh = migratedDatabase('seed_reset_ref')
    expect((await seed(fresh, small)).code).toBe(0)
    expect(digest(db)).toEqual(digest(fresh))
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
    expect(count(db, `select count(*) from users where created_at > '2025-01-01' or updated_at > '2025-01-01'`)).toBe(0)
    expect(count(db, `select count(distinct priority) from todos`)).toBe(4)
    // the constraints themselves are enforced by the server: a bigger set loads without error
    const big = await seed(db, ['--seed', '3', '--users', '40', '--categories', '25', '--todos', '4000'])
    expect(big.code).toBe(0)
    // line breaks in descriptions survive COPY's escaping
    expect(count(db, `select count(*) from todos where description like E'%\\n%'`)).toBeGreaterThan(0)
    expect(count(db, `select count(*) from categories c1 join categories c2 on c1.user_id = c2.user_id and lower(c1.name) = lower(c2.name) and c1.id < c2.id`)).toBe(0)
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
      const r = await runCli(['seed', '--reset', '--database-url', dbUrl(db)], { cwd })
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
    ] as const) {
      // an unreachable URL: validation must come first
      const r = await runCli(['seed', '--database-url', 'postgres://u:p@127.0.0.1:1/x', ...args])
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
  const big = ['--seed', '99', '--users', '50', '--todos', '250000', '--reset']

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
      await whenSeedCopiesTodos()
      proxy.cut()
      const r = await pending
      expect(r.code).not.toBe(0)
      expect(r.stderr).toMatch(/connection was lost during the seed.*nothing was changed/)
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1) // no crash, no stack trace
      expect(r.code).toBe(2)
      expect(await seedBackendsGone()).toBe(0)
      expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
    } finally {
      await proxy.close()
    }
  })

  it('SIGINT mid-load cancels the statement on the server, rolls back and exits 130', async () => {
    let child: ChildProcess | undefined
    const pending: Promise<CliResult> = runCli(['seed', '--database-url', dbUrl(db), ...big], { onSpawn: (ch) => (child = ch) })
    await whenSeedCopiesTodos()
    child!.kill('SIGINT')
    const r = await pending
    expect(r.code).toBe(130)
    expect(r.stderr).toMatch(/interrupted: the seed was cancelled and rolled back/)
    expect(serverLog()).toMatch(/COPY from stdin failed: Error: todo-db seed: interrupted \(SIGINT\)/)
    // gone as the process exits, not when the server notices a dead socket
    expect(Number(psql(`select count(*) from pg_stat_activity where application_name = 'todo-db seed' and state = 'active'`))).toBe(0)
    expect(await seedBackendsGone()).toBe(0)
    expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
  })

  it('SIGINT while still connecting (a server that does not answer) exits 130 at once', async () => {
    const hole = await startProxy(cluster(), 'blackhole')
    try {
      const url = urlAtPort(hole.port, db)
      let child: ChildProcess | undefined
      const pending = runCli(['seed', '--database-url', url], { onSpawn: (ch) => (child = ch) })
      while (hole.accepted === 0) await new Promise((r) => setTimeout(r, 20))
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
    let child: ChildProcess | undefined
    const pending = runCli(['seed', '--database-url', dbUrl(db), ...big], { onSpawn: (ch) => (child = ch) })
    await whenSeedCopiesTodos()
    child!.kill('SIGTERM')
    const r = await pending
    expect(r.code).toBe(143)
    expect(serverLog()).toMatch(/COPY from stdin failed: Error: todo-db seed: interrupted \(SIGTERM\)/)
    expect(await seedBackendsGone()).toBe(0)
    expect(digest(db)).toEqual(before)
    expect(schemaDigest(db)).toBe(schemaBefore)
  })
})
