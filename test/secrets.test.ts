// No password or API key in any output: every runCli() call in the suite already fails on a
// registered secret; here every command is driven through its success, failure and --verbose
// paths with a password full of URL-special characters.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dropDatabase, psql } from './helpers/db.js'
import { leakedSecret, runCli, secrets, tempDir } from './helpers/cli.js'
import { freePort } from './helpers/cluster.js'

const c = cluster()
const password = `P@ss:w/rd#%?&= ${Date.now()}`
const apiKey = `napi_${Date.now()}_secretkey`
const role = `leaky_${process.pid}`
let db: string

const url = (host = '127.0.0.1', port = c.port, params = 'sslmode=disable', database = db) =>
  `postgres://${role}:${encodeURIComponent(password)}@${host}:${port}/${database}${params ? '?' + params : ''}`

beforeAll(() => {
  secrets.add(password)
  secrets.add(apiKey)
  db = createDatabase('secrets')
  psql(`create role ${role} login password '${password.replace(/'/g, "''")}'`)
  psql(`alter database ${db} owner to ${role}`)
})
afterAll(() => {
  dropDatabase(db)
  psql(`drop role if exists ${role}`)
})

describe('secrets never appear in output', () => {
  it('the check itself catches a leak, plain or percent-encoded', () => {
    expect(leakedSecret(`error: ${password}`)).toBe(password)
    expect(leakedSecret(`postgres://u:${encodeURIComponent(password)}@h`)).toBe(password)
    expect(leakedSecret('postgres://u:****@h')).toBeUndefined()
  })

  it('in every command, on success, failure and --verbose', async () => {
    const dead = await freePort()
    const runs: [string[], Record<string, string>?][] = [
      [['health', '--verbose', '--json', '--database-url', url()]],
      [['migrate', 'up', '--verbose', '--database-url', url()]],
      [['migrate', 'status', '--json', '--database-url', url()]],
      [['seed', '--verbose', '--json', '--users', '2', '--todos', '5', '--database-url', url()]],
      [['migrate', 'down', '--all', '--verbose', '--database-url', url()]],
      // wrong password, unreachable, malformed, pooled-only, no such database
      [['health', '--verbose', '--database-url', url().replace(encodeURIComponent(password), encodeURIComponent(password + 'x'))]],
      [['health', '--verbose', '--timeout', '600ms', '--database-url', url('127.0.0.1', dead)]],
      [['migrate', 'up', '--verbose', '--database-url', url('127.0.0.1', 99999)]],
      [['health', '--json', '--database-url', `mysql://${role}:${encodeURIComponent(password)}@h/db`]],
      [['migrate', 'up', '--database-url', url('127.0.0.1', c.port, 'pgbouncer=true&sslmode=disable')]],
      [['seed', '--verbose', '--database-url', url('127.0.0.1', c.port, 'sslmode=disable', 'nope_db')]],
      [['health', '--verbose'], { DATABASE_URL: url('127.0.0.1', c.port, 'sslmode=verify-full') }],
      // the Neon API key, against an API that is not there
      [['provision', '--verbose', '--json', '--branch', 'dev-x', '--timeout', '2s'], { NEON_API_KEY: apiKey, NEON_API_HOST: `http://127.0.0.1:${dead}/api/v2` }],
      [['provision', 'list', '--verbose', '--api-key', apiKey, '--api-host', `http://127.0.0.1:${dead}/api/v2`, '--timeout', '2s']],
    ]
    const codes: number[] = []
    for (const [args, env] of runs) {
      const r = await runCli(args, { cwd: tempDir(), env })
      codes.push(r.code ?? -1)
      const all = r.stdout + r.stderr
      expect(all, args.join(' ')).not.toContain(password)
      expect(all, args.join(' ')).not.toContain(encodeURIComponent(password))
      expect(all, args.join(' ')).not.toContain(apiKey)
      expect(all, args.join(' ')).not.toMatch(/\n\s+at .+:\d+:\d+/) // no stack trace
    }
    // the successes succeeded and the failures failed, so every path above really ran
    expect(codes.slice(0, 5)).toEqual([0, 0, 0, 0, 0])
    expect(codes.slice(5)).toEqual([1, 2, 3, 3, 3, 1, 1, 2, 2])
  })
})

describe('every spelling of a secret, and anything shaped like user:password@host, is masked', () => {
  // "/" and "?" break a URL unless encoded; " and \ are spelled differently in JSON.
  const pw = `Xy9/Secret?Pw"q\\z-${process.pid}`
  const role2 = `spelled_${process.pid}`
  const good = () => `postgres://${role2}:${encodeURIComponent(pw)}@127.0.0.1:${c.port}/${db}?sslmode=disable`
  // Python's urllib.parse.quote() leaves "/" as it is.
  const pythonQuoted = encodeURIComponent(pw).replace(/%2F/g, '/')
  const unregistered = `Xy9/SecretPw${process.pid}`
  const shaped = `postgres://u:${unregistered}@h/db`
  const slashless = `s3cretpw${process.pid}`

  beforeAll(() => {
    for (const s of [pw, unregistered, slashless]) secrets.add(s)
    psql(`create role ${role2} login password '${pw.replace(/'/g, "''")}'`)
  })
  afterAll(() => psql(`drop role if exists ${role2}`))

  const clean = (r: { stdout: string; stderr: string }, what: string, json: boolean) => {
    const all = r.stdout + r.stderr
    for (const s of [pw, unregistered, slashless]) expect(leakedSecret(all), what).toBeUndefined()
    expect(all, what).not.toMatch(/Secret|s3cret/)
    if (json) expect(() => JSON.parse(r.stdout), `${what}: one JSON document\n${r.stdout}`).not.toThrow()
    expect(all, what).toMatch(/\*\*\*\*/)
  }

  it('the connection works with the encoded password, so the secret is real', async () => {
    const r = await runCli(['health', '--database-url', good()])
    expect(r.code, r.stderr).toBe(0)
  })

  it('a partly percent-encoded password (Python quote()) in DATABASE_URL, on stderr and in --json', async () => {
    const env = { DATABASE_URL: `postgres://${role2}:${pythonQuoted}@127.0.0.1:${c.port}/${db}` }
    for (const json of [false, true]) {
      const r = await runCli(['health', ...(json ? ['--json'] : [])], { env })
      expect(r.code).toBe(3)
      clean(r, `health json=${json}`, json)
    }
  })

  it('a known secret echoed in another argument, raw, partly encoded or JSON-escaped', async () => {
    const env = { DATABASE_URL: good() }
    const runs = [
      ['seed', '--users', pw],
      ['seed', '--users', pythonQuoted],
      ['migrate', 'create', pw],
      ['migrate', 'up', pythonQuoted],
    ]
    for (const args of runs) {
      for (const json of [false, true]) {
        const r = await runCli([...args, ...(json ? ['--json'] : [])], { env })
        expect(r.code, args.join(' ')).toBe(3)
        clean(r, `${args.join(' ')} json=${json}`, json)
      }
    }
  })

  it("a password from .env, echoed by commander's own messages before any command runs", async () => {
    const cwd = tempDir()
    writeFileSync(join(cwd, '.env'), `DATABASE_URL=${good()}\n`)
    for (const args of [[pw], [pythonQuoted, '--json'], ['migrate', 'up', pw]]) {
      const r = await runCli(args, { cwd })
      expect(r.code, args.join(' ')).toBe(3)
      clean(r, args.join(' '), args.includes('--json'))
    }
  })

  it('a URL with an unencoded "/" in its password, in the wrong place or mistyped', async () => {
    const runs = [
      ['migrate', 'up', shaped],
      ['seed', '--users', shaped],
      ['migrate', 'create', shaped],
      [shaped],
      ['health', '--database-url', `postgres:${slashless}@host/db`],
      ['health', '--database-url', `postgres//u:${slashless}@host/db`],
    ]
    const cwd = tempDir()
    for (const args of runs) {
      for (const json of [false, true]) {
        const r = await runCli([...args, ...(json ? ['--json'] : [])], { cwd })
        expect(r.code, args.join(' ')).toBe(3)
        clean(r, `${args.join(' ')} json=${json}`, json)
      }
    }
  })
})
