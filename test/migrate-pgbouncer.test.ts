import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, dbUrl, psql } from './helpers/db.js'
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js'
import { runCli } from './helpers/cli.js'
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { SCHEMA_NAMES, freshDb, journal, migrate, migrationsDir, sqlFile } from './helpers/migrate.js'
import { connect } from '../src/db/connection.js'
import { parseDatabaseUrl } from '../src/db/url.js'
import { Deadline } from '../src/duration.js'

let bouncer: PgBouncer
beforeAll(async () => {
  bouncer = await startPgBouncer(cluster())
})
afterAll(async () => {
  await bouncer?.stop()
})

describe('migrate through a transaction-mode PgBouncer', () => {
  it('the helper gives a real transaction pooler: two open clients share one server backend', async () => {
    const db = freshDb('bouncer_probe')
    const { default: postgres } = await import('postgres')
    const open = () => postgres(bouncer.url(db, 'sslmode=disable'), { max: 1, prepare: false, onnotice: () => {} })
    const [a, b] = [open(), open()]
    try {
      const [{ pid: pidA }] = await a`select pg_backend_pid() as pid`
      const [{ pid: pidB }] = await b`select pg_backend_pid() as pid`
      // In session mode client b would hold a server connection of its own while a is connected.
      expect(pidB).toBe(pidA)
    } finally {
      await Promise.all([a.end(), b.end()])
    }
  })

  it('up with a pgbouncer=true DATABASE_URL and DATABASE_URL_UNPOOLED applies every migration through the direct URL', async () => {
    const db = freshDb('bouncer_up')
    const r = await migrate(db, ['up', '--verbose'], { env: { DATABASE_URL: bouncer.url(db), DATABASE_URL_UNPOOLED: dbUrl(db) } })
    expect(r.stderr).toMatch(/using DATABASE_URL_UNPOOLED/)
    expect(r.code).toBe(0)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    expect(psql(`select to_regclass('todos') is not null`, db)).toBe('t')
  })

  it('up with only the pooled URL and pending migrations exits 3 and says to set DATABASE_URL_UNPOOLED', async () => {
    const db = freshDb('bouncer_only')
    const r = await migrate(db, ['up'], { env: { DATABASE_URL: bouncer.url(db) } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/DATABASE_URL_UNPOOLED/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(journal(db)).toEqual([])
  })

  it('with only the pooled URL, status and an up with nothing to apply work (read-only through the pooler)', async () => {
    const db = freshDb('bouncer_ro')
    expect((await migrate(db, ['up'])).code).toBe(0)
    const env = { DATABASE_URL: bouncer.url(db) }
    const status = await migrate(db, ['status', '--json'], { env })
    expect(status.code).toBe(0)
    expect(JSON.parse(status.stdout)).toMatchObject({ pending: 0, drift: [] })
    const up = await migrate(db, ['up'], { env })
    expect(up.code).toBe(0)
    expect(up.stdout).toMatch(/up to date/)
  })

  it('with only the pooled URL, status shows what an edited migration changed (the applied text is read through the pooler)', async () => {
    const dir = migrationsDir({ '1764000000010_note.sql': sqlFile('create table note (id int);', 'drop table note;') })
    const db = freshDb('bouncer_drift')
    expect((await migrate(db, ['up'], { dir })).code).toBe(0)
    writeFileSync(join(dir, '1764000000010_note.sql'), sqlFile('create table note (id bigint);', 'drop table note;'))
    const status = await migrate(db, ['status', '--json'], { dir, env: { DATABASE_URL: bouncer.url(db) } })
    expect(status.code, status.stderr).toBe(4)
    expect(JSON.parse(status.stdout).drift[0].difference).toEqual({ line: 2, applied: 'create table note (id int);', now: 'create table note (id bigint);' })
  })

  it('the helper runs PgBouncer stock: it refuses a startup parameter it does not know', async () => {
    const db = freshDb('bouncer_stock')
    const { default: postgres } = await import('postgres')
    const sql = postgres(bouncer.url(db, 'sslmode=disable'), { max: 1, prepare: false, onnotice: () => {}, connection: { lock_timeout: 1000 } })
    try {
      await expect(sql`select 1`).rejects.toThrow(/unsupported startup parameter: lock_timeout/)
    } finally {
      await sql.end({ timeout: 0 })
    }
  })

  it('todo-db sends its timeouts with SET after connecting, so a stock PgBouncer accepts the login', async () => {
    const db = freshDb('bouncer_set')
    // The URL does not say it is a pooler (no pgbouncer=true): todo-db takes it for a direct session.
    const target = parseDatabaseUrl(bouncer.url(db, 'sslmode=disable'), 'test')
    expect(target.pooled).toBe(false)
    const sql = await connect(target, { deadline: new Deadline(10_000), lockTimeoutMs: 1234, statementTimeoutMs: 56789 })
    try {
      const [row] = await sql.begin((tx) => tx`select current_setting('lock_timeout') as lock, current_setting('statement_timeout') as stmt`)
      expect(row).toEqual({ lock: '1234ms', stmt: '56789ms' })
    } finally {
      await sql.end({ timeout: 1 })
    }
  })

  it('a pooler URL that does not say so (no -pooler, no pgbouncer=true) with DATABASE_URL_UNPOOLED: up and seed use the direct URL', async () => {
    const db = freshDb('bouncer_plain')
    const env = { DATABASE_URL: bouncer.url(db, 'sslmode=disable'), DATABASE_URL_UNPOOLED: dbUrl(db) }
    const up = await migrate(db, ['up', '--verbose'], { env })
    expect(up.code, up.stderr).toBe(0)
    expect(up.stderr).toMatch(/using DATABASE_URL_UNPOOLED for a direct session/)
    expect(journal(db).map((j) => j.name)).toEqual(SCHEMA_NAMES)
    const seeded = await runCli(['seed', '--verbose', '--users', '3', '--todos', '20'], { env })
    expect(seeded.code, seeded.stderr).toBe(0)
    expect(seeded.stderr).toMatch(/using DATABASE_URL_UNPOOLED for a direct session/)
    expect(psql('select count(*) from todos', db)).toBe('20')
  })
})
