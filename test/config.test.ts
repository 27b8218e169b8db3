// Where settings come from: flag > environment (and .env) > config file > default.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { runCli, runInProcess, tempDir } from './helpers/cli.js'

const dbs: string[] = []
afterAll(() => dbs.forEach(dropDatabase))

function project(config: object): string {
  const cwd = tempDir()
  writeFileSync(join(cwd, '.todo-dbrc.json'), JSON.stringify(config))
  return cwd
}

const tables = (db: string) => psql(`select string_agg(tablename, ',' order by tablename) from pg_tables where tablename like '%journal'`, db)

describe('settings precedence', () => {
  const migrations = join(__dirname, '../migrations')
  const cases: [string, Record<string, string>, string[], string][] = [
    ['the config file', {}, [], 'cfg_journal'],
    ['the environment over the config file', { TODO_DB_MIGRATIONS_TABLE: 'env_journal' }, [], 'env_journal'],
    ['a flag over the environment', { TODO_DB_MIGRATIONS_TABLE: 'env_journal' }, ['--migrations-table', 'flag_journal'], 'flag_journal'],
  ]
  for (const [what, env, flags, expected] of cases) {
    it(`migrations table from ${what}`, async () => {
      const db = createDatabase('precedence')
      dbs.push(db)
      const cwd = project({ migrationsTable: 'cfg_journal', migrationsDir: migrations })
      const r = await runCli(['migrate', 'up', ...flags], { cwd, env: { DATABASE_URL: dbUrl(db), ...env } })
      expect(r.code, r.stderr).toBe(0)
      expect(tables(db)).toBe(expected)
    })
  }

  it('reads TODO_DB_* from .env too, under the real environment', async () => {
    const db = createDatabase('precedence_dotenv')
    dbs.push(db)
    const cwd = project({ migrationsDir: migrations })
    writeFileSync(join(cwd, '.env'), `DATABASE_URL=${dbUrl(db)}\nTODO_DB_MIGRATIONS_TABLE=dotenv_journal\n`)
    expect((await runCli(['migrate', 'up'], { cwd })).code).toBe(0)
    expect(tables(db)).toBe('dotenv_journal')
  })

  it('a bad config file is one clear line and exit 3', async () => {
    const unknown = await runInProcess(['migrate', 'status'], { cwd: project({ migrationDir: 'x' }), env: { DATABASE_URL: dbUrl('postgres') } })
    expect(unknown.code).toBe(3)
    expect(unknown.stderr.trim().split('\n')).toHaveLength(1)
    expect(unknown.stderr).toMatch(/unknown config key "migrationDir"/)

    const cwd = tempDir()
    writeFileSync(join(cwd, '.todo-dbrc.json'), '{ "migrationsDir": ')
    const broken = await runInProcess(['seed'], { cwd, env: { DATABASE_URL: dbUrl('postgres') } })
    expect(broken.code).toBe(3)
    expect(broken.stderr).toMatch(/cannot read the todo-db config file: JSON Error in .*\.todo-dbrc\.json: Unexpected end of JSON input/)
    expect(broken.stderr.trim().split('\n')).toHaveLength(1)
  })

  it('a config key of the wrong kind is one line naming it, exit 3, before anything runs', async () => {
    const cases: [object, RegExp][] = [
      [{ migrationsDir: 5 }, /migrationsDir must be a string, not 5/],
      [{ seed: { users: '10' } }, /seed\.users must be a number, not "10"/],
      [{ timeouts: { lok: '1s' } }, /unknown config key "timeouts\.lok" \(known keys: connect, lock, statement, stall\)/],
      [{ seed: 3 }, /seed must be an object/],
    ]
    for (const [config, message] of cases) {
      const r = await runInProcess(['migrate', 'status'], { cwd: project(config), env: { DATABASE_URL: dbUrl('postgres') } })
      expect(r.code, JSON.stringify(config)).toBe(3)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(message)
    }
  })

  it('a bad duration in the environment is exit 3 naming the setting', async () => {
    const r = await runInProcess(['migrate', 'up'], { cwd: tempDir(), env: { DATABASE_URL: dbUrl('postgres'), TODO_DB_LOCK_TIMEOUT: 'forever' } })
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/"forever" is not a duration/)
  })
})
