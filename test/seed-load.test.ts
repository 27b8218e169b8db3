// The seed's loading parts, called directly against the real server: COPY streaming, the
// postgres.js #1173 guard, CopyFail on abort, a CancelRequest long after the connect deadline,
// foreign keys and indexes deferred and restored around a bulk load.
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase } from './helpers/db.js'
import { startProxy } from './helpers/proxy.js'
import { connect, type Sql } from '../src/db/connection.js'
import { parseDatabaseUrl } from '../src/db/url.js'
import { Deadline } from '../src/duration.js'
import { cancellation } from '../src/seed/cancel.js'
import { CANCELLED, copyLines } from '../src/seed/copy.js'
import { deferChecks } from '../src/seed/bulkload.js'

let db: string
let sql: Sql
const target = () => parseDatabaseUrl(dbUrl(db), 'test')
const interrupted = () => new Error('interrupted')
const noAbort = () => cancellation(new AbortController().signal, interrupted)

beforeAll(async () => {
  db = createDatabase('seed_copy')
  sql = await connect(target(), { deadline: new Deadline(10_000) })
  await sql`create table t (n int not null check (n >= 0), pad text)`
})
afterAll(async () => {
  await sql?.end({ timeout: 1 })
  dropDatabase(db)
})

function* numbers(count: number, last = count - 1): Generator<string> {
  for (let i = 0; i < count; i++) yield `${i === count - 1 ? last : i}\t${'x'.repeat(100)}\n`
}

describe('copyLines', () => {
  it('loads every line, in chunks, and reports progress', async () => {
    const seen: number[] = []
    const rows = await sql.begin((tx) => copyLines(tx, { table: 't', columns: ['n', 'pad'] }, numbers(5000), noAbort(), { rows: (n) => seen.push(n) }))
    expect(rows).toBe(5000)
    expect(seen.length).toBeGreaterThan(1) // ~64 KB chunks, not one write
    expect(seen.reduce((a, b) => a + b, 0)).toBe(5000)
    expect((await sql`select count(*)::int as n from t`)[0].n).toBe(5000)
    await sql`truncate t`
  })

  it('rejects with the server error when the data is refused after end() instead of hanging (postgres.js #1173)', async () => {
    // the bad row is the very last one: the server sees it only after end()
    const load = sql.begin((tx) => copyLines(tx, { table: 't', columns: ['n', 'pad'] }, numbers(10, -1), noAbort()))
    const timeout = new Promise((_, reject) => setTimeout(() => reject(new Error('hung')), 5000))
    await expect(Promise.race([load, timeout])).rejects.toMatchObject({ code: '23514' })
    expect((await sql`select count(*)::int as n from t`)[0].n).toBe(0)
  })

  it('aborting mid-COPY sends CopyFail: the server stops the COPY at once', async () => {
    const controller = new AbortController()
    const guard = cancellation(controller.signal, interrupted)
    let rows = 0
    const load = sql.begin((tx) => copyLines(tx, { table: 't', columns: ['n', 'pad'] }, numbers(50_000_000), guard, { rows: (n) => {
      if ((rows += n) > 20_000 && !controller.signal.aborted) controller.abort('SIGINT')
    } }))
    await expect(load).rejects.toThrow(CANCELLED)
    expect(rows).toBeLessThan(1_000_000)
    expect((await sql`select count(*)::int as n from t`)[0].n).toBe(0)
  })

  it('aborting after end(), while the server runs the rows\' triggers, cancels on the server', async () => {
    await sql`create table slow (n int)`
    await sql`create function slow_check() returns trigger language plpgsql as $$ begin perform pg_sleep(0.02); return null; end $$`
    // after-row triggers run when the COPY's data is all in, as foreign-key checks do
    await sql`create constraint trigger slow_check after insert on slow for each row execute function slow_check()`
    const controller = new AbortController()
    const guard = cancellation(controller.signal, interrupted)
    let abortedAt = 0
    const load = sql.begin((tx) => copyLines(tx, { table: 'slow', columns: ['n'] }, Array.from({ length: 1000 }, (_, i) => `${i}\n`), guard, {
      sent: () => void setTimeout(() => ((abortedAt = Date.now()), controller.abort('SIGINT')), 300),
    }))
    await expect(load).rejects.toMatchObject({ code: '57014' })
    expect(Date.now() - abortedAt).toBeLessThan(3000) // not the 20 s the triggers would take
    expect((await sql`select count(*)::int as n from slow`)[0].n).toBe(0)
  })

  it('a connection dropped while the server runs the rows\' triggers is cancelled on the server', async () => {
    const proxy = await startProxy(cluster())
    const url = dbUrl(db).replace(`:${cluster().port}/`, `:${proxy.port}/`)
    const own = await connect(parseDatabaseUrl(url, 'test'), { deadline: new Deadline(5000), applicationName: 'seed-load cut' })
    const guard = noAbort()
    try {
      await own`begin`
      const load = copyLines(own, { table: 'slow', columns: ['n'] }, Array.from({ length: 1000 }, (_, i) => `${i}\n`), guard, {
        sent: () => void setTimeout(() => proxy.cut(), 300),
      })
      await expect(load).rejects.toMatchObject({ code: expect.stringMatching(/CONNECTION_CLOSED|ECONNRESET/) })
      const stillRunning = () => sql`select count(*)::int as n from pg_stat_activity where application_name = 'seed-load cut' and state = 'active'`
      expect((await stillRunning())[0].n).toBe(1) // the server does not notice a dead client on its own
      await guard.cancelOnServer(3000)
      // The backend ends a moment after the cancel: wait for that, not a timer (300 ms ran out under load).
      await vi.waitFor(async () => expect((await stillRunning())[0].n).toBe(0), { timeout: 10_000, interval: 50 })
    } finally {
      await own.end({ timeout: 0 })
      await proxy.close()
    }
  })
})

describe('cancellation', () => {
  it('cancels a running statement on the server, also long after the connect deadline', async () => {
    // every new socket takes 100 ms and SSL a round trip more: a CancelRequest that only had what
    // is left of the connect deadline (nothing) would time out, and pg_sleep would run on
    const slow = await startProxy(cluster(), 'delay')
    slow.delayMs = 100
    const url = dbUrl(db, 'sslmode=require').replace(`:${cluster().port}/`, `:${slow.port}/`)
    const own = await connect(parseDatabaseUrl(url, 'test'), { deadline: new Deadline(2000) })
    try {
      await new Promise((r) => setTimeout(r, 2100)) // the connect deadline has passed
      const controller = new AbortController()
      const guard = cancellation(controller.signal, interrupted)
      const started = Date.now()
      const sleeping = guard.track(own`select pg_sleep(30)`)
      setTimeout(() => controller.abort('SIGINT'), 300)
      await expect(sleeping).rejects.toMatchObject({ code: '57014' })
      expect(Date.now() - started).toBeLessThan(5000)
    } finally {
      await own.end({ timeout: 1 })
      await slow.close()
    }
  })
})

describe('deferChecks', () => {
  const catalog = (tx: Sql) => tx`
    select pg_get_indexdef(indexrelid) as def, obj_description(indexrelid, 'pg_class') as comment from pg_index where indrelid = 'child'::regclass
    union all
    select pg_get_constraintdef(oid), obj_description(oid, 'pg_constraint') from pg_constraint where conrelid = 'child'::regclass
    order by 1`

  beforeAll(async () => {
    await sql`create table parent (id int primary key)`
    await sql`create table child (id int primary key, parent_id int references parent on delete cascade, note text)`
    await sql`create index child_note_idx on child (parent_id, note) where note is not null`
    await sql`comment on index child_note_idx is 'for the app'`
    await sql`insert into parent values (1), (2)`
  })

  const load = (tx: Sql, lines: string[]) => copyLines(tx, { table: 'child', columns: ['id', 'parent_id', 'note'] }, lines, noAbort())
  const run = (tx: Sql) => (text: string) => tx.unsafe(text)

  it('on an empty table: drops foreign keys and plain indexes, restores the same definitions and comments', async () => {
    const before = await catalog(sql)
    await sql.begin(async (tx) => {
      const restore = await deferChecks(run(tx as unknown as Sql), 'child')
      expect(restore).toBeTypeOf('function')
      // only the primary key is left while loading
      expect((await catalog(tx as unknown as Sql)).map((r) => r.def)).toEqual(['CREATE UNIQUE INDEX child_pkey ON public.child USING btree (id)', 'PRIMARY KEY (id)'])
      await load(tx as unknown as Sql, ['1\t1\ta\n', '2\t2\t\\N\n'])
      await restore!()
    })
    expect(await catalog(sql)).toEqual(before)
    await expect(sql`insert into child values (9, 99, null)`).rejects.toMatchObject({ code: '23503' })
    await sql`truncate child`
  })

  it('checks every loaded row when it restores a foreign key', async () => {
    const before = await catalog(sql)
    await expect(sql.begin(async (tx) => {
      const restore = await deferChecks(run(tx as unknown as Sql), 'child')
      await load(tx as unknown as Sql, ['1\t1\ta\n', '2\t42\tb\n'])
      await restore!()
    })).rejects.toMatchObject({ code: '23503' })
    expect(await catalog(sql)).toEqual(before)
    expect((await sql`select count(*)::int as n from child`)[0].n).toBe(0)
  })

  it('leaves a table with rows alone', async () => {
    await sql`insert into child values (1, 1, 'kept')`
    await sql.begin(async (tx) => {
      expect(await deferChecks(run(tx as unknown as Sql), 'child')).toBeUndefined()
    })
    await sql`truncate child`
  })
})
