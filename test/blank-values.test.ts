// A value given explicitly but empty ("$UNSET_VAR", "   ") is bad input: exit 3 naming it,
// before anything connects. It must never fall back on DATABASE_URL or a default, which could
// be another database (seed --reset would empty it) or the current folder (every migration drift).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { runCli, tempDir } from './helpers/cli.js'

let db: string
const todos = () => Number(psql('select count(*) from todos', db))
const journals = () => psql(`select count(*) from pg_tables where schemaname = 'public' and tablename not in ('users', 'categories', 'todos', 'pgmigrations')`, db)

beforeAll(async () => {
  db = createDatabase('blank')
  expect((await runCli(['migrate', 'up'], { env: { DATABASE_URL: dbUrl(db) } })).code).toBe(0)
  expect((await runCli(['seed', '--todos', '20'], { env: { DATABASE_URL: dbUrl(db) } })).code).toBe(0)
})
afterAll(() => dropDatabase(db))

const oneLine = (stderr: string) => expect(stderr.trim().split('\n')).toHaveLength(1)

describe('an explicitly empty value is bad input, never a fallback', () => {
  it('seed --reset --database-url "" leaves the DATABASE_URL database alone', async () => {
    for (const empty of ['', '   ']) {
      const r = await runCli(['seed', '--reset', '--database-url', empty], { env: { DATABASE_URL: dbUrl(db) } })
      expect(r.code, r.stderr).toBe(3)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(/--database-url is empty/)
      expect(todos()).toBe(20)
    }
    const eq = await runCli(['seed', '--reset', '--database-url='], { env: { DATABASE_URL: dbUrl(db) } })
    expect(eq.code).toBe(3)
    expect(todos()).toBe(20)
  })

  it('health --database-url "   " names the flag, not an unset DATABASE_URL, also in --json', async () => {
    const r = await runCli(['health', '--database-url', '   '], { env: { DATABASE_URL: dbUrl(db) } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/--database-url is empty/)
    expect(r.stderr).not.toMatch(/not set/)
    const j = await runCli(['health', '--json', '--database-url', ''], { env: { DATABASE_URL: dbUrl(db) } })
    expect(j.code).toBe(3)
    expect(JSON.parse(j.stdout)).toMatchObject({ ok: false, status: 'no_attempt', error: { code: 'EMPTY_VALUE' } })
  })

  it('an empty DATABASE_URL says it is empty', async () => {
    const r = await runCli(['migrate', 'status'], { env: { DATABASE_URL: ' ' } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/DATABASE_URL is empty/)
  })

  it('a TODO_DB_* variable set but blank names the variable, before connecting', async () => {
    for (const name of ['TODO_DB_MIGRATIONS_TABLE', 'TODO_DB_MIGRATIONS_DIR', 'TODO_DB_LOCK_TIMEOUT']) {
      const r = await runCli(['migrate', 'up'], { env: { DATABASE_URL: dbUrl(db), [name]: ' ' } })
      expect(r.code, name).toBe(3)
      oneLine(r.stderr)
      expect(r.stderr).toContain(`${name} is set but empty`)
    }
    expect(journals()).toBe('0')
  })

  it('a blank config value names the key; migrationsDir "" is not the current folder', async () => {
    for (const config of [{ migrationsDir: '' }, { migrationsTable: '  ' }, { timeouts: { connect: '' } }]) {
      const cwd = tempDir()
      writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify(config))
      const r = await runCli(['migrate', 'status'], { cwd, env: { DATABASE_URL: dbUrl(db) } })
      expect(r.code, JSON.stringify(config)).toBe(3)
      oneLine(r.stderr)
      expect(r.stderr).toMatch(new RegExp(`\\.todo-dbrc\\.json: ${Object.keys(config)[0]}(\\.connect)? is empty`))
    }
  })

  it('--lock-timeout "" names the flag, not the config key it would override', async () => {
    const r = await runCli(['migrate', 'up', '--lock-timeout', ''], { env: { DATABASE_URL: dbUrl(db) } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/^error: --lock-timeout: "" is not a duration/)
  })

  it('--migrations-dir "" is bad input, for migrate and init', async () => {
    const r = await runCli(['migrate', 'status', '--migrations-dir', ''], { env: { DATABASE_URL: dbUrl(db) } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/--migrations-dir is empty/)
    const cwd = tempDir()
    const i = await runCli(['init', '--migrations-dir', ' '], { cwd })
    expect(i.code).toBe(3)
    expect(i.stderr).toMatch(/--migrations-dir is empty/)
  })
})
