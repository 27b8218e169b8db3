// The whole dev flow through a real transaction-mode PgBouncer, as the app runs on Neon's pooler:
// migrations over the direct URL, seed and health over the pooled one.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { startPgBouncer, type PgBouncer } from './helpers/pgbouncer.js'
import { runCli, tempDir } from './helpers/cli.js'

let bouncer: PgBouncer
let db: string
beforeAll(async () => {
  bouncer = await startPgBouncer(cluster())
  db = createDatabase('pooled_flow')
})
afterAll(async () => {
  await bouncer?.stop()
  dropDatabase(db)
})

describe('through a transaction-mode pooler', () => {
  it('migrate up (direct), then seed twice and health through PgBouncer', async () => {
    const env = { DATABASE_URL: bouncer.url(db), DATABASE_URL_UNPOOLED: dbUrl(db) }
    const cwd = tempDir()
    const run = (args: string[]) => runCli(args, { cwd, env })

    const up = await run(['migrate', 'up'])
    expect(up.code, up.stderr).toBe(0)

    const seeded = await run(['seed', '--json', '--users', '20', '--todos', '500'])
    expect(seeded.code, seeded.stderr).toBe(0)
    expect(JSON.parse(seeded.stdout)).toMatchObject({ users: 20, todos: 500 })
    const digest = () => psql(`select md5(string_agg(t::text, ',' order by id)) from todos t`, db)
    const first = digest()
    const again = await run(['seed', '--users', '20', '--todos', '500'])
    expect(again.code, again.stderr).toBe(0)
    expect(digest()).toBe(first)
    expect(psql('select count(*) from todos', db)).toBe('500')

    const health = await run(['health', '--json'])
    expect(health.code, health.stderr).toBe(0)
    expect(JSON.parse(health.stdout)).toMatchObject({ ok: true, pooled: true })

    // status reads through the pooler too
    const status = await runCli(['migrate', 'status', '--json'], { cwd, env: { DATABASE_URL: bouncer.url(db) } })
    expect(status.code, status.stderr).toBe(0)
    expect(JSON.parse(status.stdout).pending).toBe(0)
  })
})
