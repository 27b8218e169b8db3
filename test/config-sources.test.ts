// A bad setting is named as the user wrote it: the flag, the variable, or the config file and key
// (issue 12: TODO_DB_LOCK_TIMEOUT=banana named timeouts.lock, which the user never wrote).
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runInProcess, tempDir } from './helpers/cli.js'

// Nothing listens here: every setting must be refused before a connection is tried.
const DATABASE_URL = 'postgres://u:p@127.0.0.1:1/db?sslmode=disable'

function project(config?: object): { cwd: string; file: string } {
  const cwd = tempDir()
  const file = join(cwd, '.todo-dbrc.json')
  if (config) writeFileSync(file, JSON.stringify(config))
  return { cwd, file }
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')

async function refused(args: string[], env: Record<string, string>, config: object | undefined, message: (file: string) => string) {
  const { cwd, file } = project(config)
  const r = await runInProcess(args, { cwd, env: { DATABASE_URL, ...env } })
  expect(r.code, r.stderr).toBe(3)
  expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
  expect(r.stderr).toMatch(new RegExp(`^error: ${escape(message(file))}`))
}

describe('messages name where a bad setting came from', () => {
  const durations: [string, string, string[]][] = [
    ['lock', 'TODO_DB_LOCK_TIMEOUT', ['migrate', 'up']],
    ['lock', 'TODO_DB_LOCK_TIMEOUT', ['seed']],
    ['statement', 'TODO_DB_STATEMENT_TIMEOUT', ['migrate', 'status']],
    ['statement', 'TODO_DB_STATEMENT_TIMEOUT', ['seed']],
    ['connect', 'TODO_DB_CONNECT_TIMEOUT', ['seed']],
    ['stall', 'TODO_DB_STALL_TIMEOUT', ['seed']],
  ]
  for (const [key, variable, args] of durations) {
    it(`timeouts.${key} in ${args.join(' ')}: the variable, or the file and key`, async () => {
      await refused(args, { [variable]: 'banana' }, undefined, () => `${variable}: "banana" is not a duration`)
      await refused(args, {}, { timeouts: { [key]: 'banana' } }, (file) => `${file}: timeouts.${key}: "banana" is not a duration`)
    })
  }

  it('the variable wins over the file, and is what the message names', async () => {
    await refused(['migrate', 'up'], { TODO_DB_LOCK_TIMEOUT: 'banana' }, { timeouts: { lock: '5s' } }, () => 'TODO_DB_LOCK_TIMEOUT: "banana" is not a duration')
  })

  it('a variable set in .env says so', async () => {
    const { cwd } = project()
    writeFileSync(join(cwd, '.env'), 'TODO_DB_LOCK_TIMEOUT=banana\n')
    const r = await runInProcess(['migrate', 'up'], { cwd, env: { DATABASE_URL } })
    expect(r.code, r.stderr).toBe(3)
    expect(r.stderr).toMatch(/^error: TODO_DB_LOCK_TIMEOUT \(in \.env\): "banana" is not a duration/)
  })

  it('a flag is named as the flag, over the variable and the file', async () => {
    await refused(['migrate', 'up', '--lock-timeout', 'soon'], { TODO_DB_LOCK_TIMEOUT: '5s' }, { timeouts: { lock: '5s' } }, () => '--lock-timeout: "soon" is not a duration')
    await refused(['migrate', 'status', '--migrations-table', 'a b'], { TODO_DB_MIGRATIONS_TABLE: 'ok' }, undefined, () => '--migrations-table: migrations table "a b"')
    await refused(['seed', '--users', 'x'], {}, { seed: { users: 3 } }, () => '--users: "x" is not a non-negative integer')
  })

  it('migrationsTable: the variable, or the file and key', async () => {
    await refused(['migrate', 'status'], { TODO_DB_MIGRATIONS_TABLE: 'a-b' }, undefined, () => 'TODO_DB_MIGRATIONS_TABLE: migrations table "a-b" is not a plain table name')
    await refused(['migrate', 'status'], {}, { migrationsTable: 'a-b' }, (file) => `${file}: migrationsTable: migrations table "a-b" is not a plain table name`)
  })

  it('seed numbers from the file name the file and key', async () => {
    await refused(['seed'], {}, { seed: { todos: 10.5 } }, (file) => `${file}: seed.todos: "10.5" is not a non-negative integer`)
    await refused(['seed'], {}, { seed: { categories: 5000 } }, (file) => `${file}: seed.categories: 5000 is too large`)
  })

  it('provision.urlFormat: the variable, or the file and key', async () => {
    const args = ['provision', 'local']
    await refused(args, { TODO_DB_URL_FORMAT: 'jdbc' }, undefined, () => 'TODO_DB_URL_FORMAT "jdbc" is not a driver todo-db knows')
    await refused(args, {}, { provision: { urlFormat: 'jdbc' } }, (file) => `${file}: provision.urlFormat "jdbc" is not a driver todo-db knows`)
  })
})
