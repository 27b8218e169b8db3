// The seed's COPY streaming and cancellation, called directly against the real server: the
// postgres.js #1173 guard, CopyFail on abort, a CancelRequest long after the connect deadline.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase } from './helpers/db.js'
import { startProxy } from './helpers/proxy.js'
import { connect, type Sql } from '../src/db/connection.js'
import { parseDatabaseUrl } from '../src/db/url.js'
import { Deadline } from '../src/duration.js'
import { cancellation } from '../src/seed/cancel.js'
import { CANCELLED, copyLines } from '../src/seed/copy.js'

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
