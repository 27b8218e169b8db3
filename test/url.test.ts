// The connection-string rules, checked on the parser itself (no server needed).
import { describe, expect, it } from 'vitest'
import { parseDatabaseUrl, neonDirectUrl } from '../src/db/url.js'
import { resolveTarget } from '../src/db/target.js'
import { redact, TodoDbError } from '../src/errors.js'

// Made up; the hosts below are on reserved (.example) domains.
const FAKE_PASSWORD = 'not-a-real-password'

const bad = (url: string) => {
  try {
    parseDatabaseUrl(url)
  } catch (e) {
    expect(e).toBeInstanceOf(TodoDbError)
    expect((e as TodoDbError).exitCode).toBe(3)
    return (e as TodoDbError).message
  }
  throw new Error(`accepted ${url}`)
}

describe('parseDatabaseUrl', () => {
  it('requires SSL for a non-local host unless the URL says otherwise', () => {
    expect(parseDatabaseUrl('postgres://u:p@db.example.com/app').sslmode).toBe('require')
    expect(parseDatabaseUrl('postgres://u:p@db.example.com/app?sslmode=disable').sslmode).toBe('disable')
    expect(parseDatabaseUrl('postgres://u:p@localhost/app').sslmode).toBe('prefer')
    expect(parseDatabaseUrl('postgres://u:p@127.0.0.2/app').local).toBe(true)
    expect(parseDatabaseUrl('postgres://u:p@[::1]:5433/app').local).toBe(true)
    expect(parseDatabaseUrl('postgres://u:p@10.0.0.5/app').sslmode).toBe('require')
  })

  it('accepts SQLAlchemy driver schemes and asyncpg ssl=, with a note', () => {
    const t = parseDatabaseUrl('postgresql+asyncpg://u:p@db.example.com:6543/app?ssl=require')
    expect(t).toMatchObject({ host: 'db.example.com', port: 6543, database: 'app', sslmode: 'require' })
    expect(t.notes.join()).toMatch(/\+asyncpg/)
    expect(parseDatabaseUrl('postgresql+psycopg://u:p@h.example.com/app').host).toBe('h.example.com')
  })

  it('knows pooled URLs: Neon -pooler hosts and pgbouncer=true', () => {
    const neon = `postgresql://neondb_owner:${FAKE_PASSWORD}@ep-cool-sun-a1b2c3d4-pooler.us-east-2.aws.neon.example/neondb?sslmode=require&channel_binding=require`
    expect(parseDatabaseUrl(neon)).toMatchObject({ pooled: true, neonPooler: true, sslmode: 'verify-full', channelBinding: 'require' })
    expect(parseDatabaseUrl(neon).params).toEqual({})
    expect(neonDirectUrl(neon)).toContain('@ep-cool-sun-a1b2c3d4.us-east-2')
    expect(parseDatabaseUrl('postgres://u:p@localhost:6432/db?pgbouncer=true').pooled).toBe(true)
    expect(parseDatabaseUrl('postgres://u:p@localhost:5432/db').pooled).toBe(false)
  })

  it('uses DATABASE_URL_UNPOOLED (or Neon direct host) when a session is needed', () => {
    const env = { DATABASE_URL: 'postgres://u:p@localhost:6432/db?pgbouncer=true', DATABASE_URL_UNPOOLED: 'postgres://u:p@localhost:5432/db' }
    expect(resolveTarget({ env }, { session: true }).port).toBe(5432)
    expect(resolveTarget({ env }).port).toBe(6432)
    expect(() => resolveTarget({ env: { DATABASE_URL: env.DATABASE_URL } }, { session: true })).toThrow(/DATABASE_URL_UNPOOLED/)
    const neon = 'postgres://u:p@ep-x-1-pooler.eu.aws.neon.tech/db'
    expect(resolveTarget({ env: { DATABASE_URL: neon } }, { session: true }).host).toBe('ep-x-1.eu.aws.neon.tech')
    expect(() => resolveTarget({ env: {} })).toThrow(/DATABASE_URL is not set/)
  })

  it('rejects what it cannot use, naming the problem, with the password masked', () => {
    expect(bad(`mysql://u:${FAKE_PASSWORD}@h/db`)).toMatch(/scheme "mysql"/)
    expect(bad(`postgres://u:${FAKE_PASSWORD}@h:70000/db`)).toMatch(/port "70000"/)
    expect(bad(`postgres://u:${FAKE_PASSWORD}@h/db?sslmode=maybe`)).toMatch(/sslmode "maybe"/)
    expect(bad(`postgres://u:${FAKE_PASSWORD}@h/db?channel_binding=require&sslmode=disable`)).toMatch(/channel_binding=require needs SSL/)
    expect(bad(`postgres://u:${FAKE_PASSWORD}@h/db?channel_binding=always`)).toMatch(/channel_binding "always"/)
    expect(bad(`postgres://u:${FAKE_PASSWORD}@h1,h2/db`)).toMatch(/several hosts/)
    expect(bad(`postgres://:${FAKE_PASSWORD}@h/db`)).toMatch(/no user/)
    for (const u of [`mysql://u:${FAKE_PASSWORD}@h/db`, `postgres://u:${FAKE_PASSWORD}@h:70000/db`]) expect(bad(u)).not.toContain(FAKE_PASSWORD)
  })

  it('never shows the password of a URL too broken to parse, nor a piece of it', () => {
    const pw = 'n0tR3al/fakePW?stillFake#zz9Fake'
    const cases: [string, RegExp][] = [
      [`postgres://u:${pw}@h.example/db`, /cannot be read as user:password.*percent-encode/],
      [`postgres://u:${pw}@more@h.example/db`, /cannot be read as user:password/],
      [`postgres://u?${FAKE_PASSWORD}@h.example/db`, /names no user.*percent-encode/],
      [`postgres//u:${FAKE_PASSWORD}@h.example/db`, /does not start with postgres:\/\//],
      [`postgres:/u:${FAKE_PASSWORD}@h.example/db`, /names no host/],
      [`u:${FAKE_PASSWORD}@h.example/db`, /does not start with postgres:\/\//],
    ]
    for (const [url, message] of cases) {
      const e = (() => {
        try {
          parseDatabaseUrl(url)
        } catch (e) {
          return e as TodoDbError
        }
      })()
      expect(e?.exitCode, url).toBe(3)
      const m = `${e!.message} (${e!.hint ?? ''})`
      expect(m).toMatch(message)
      for (const piece of [...pw.split(/[/?#]/), FAKE_PASSWORD]) expect(m).not.toContain(piece)
    }
  })

  it('keeps unknown parameters as server settings and drops the client-only ones', () => {
    const t = parseDatabaseUrl('postgres://u:p@localhost/db?application_name=app&sslmode=require&options=-c%20search_path%3Dx')
    expect(t.params).toEqual({ application_name: 'app', options: '-c search_path=x' })
  })
})

describe('redact', () => {
  it('masks URL passwords, key=value secrets and bearer tokens', () => {
    expect(redact('postgres://u:s3cr%40t@h/db')).toBe('postgres://u:****@h/db')
    expect(redact('password=abc123 host=x')).toBe('password=**** host=x')
    expect(redact('Authorization: Bearer napi_abcdef123')).toBe('Authorization: Bearer ****')
  })
  it('leaves a regular expression with a POSIX class alone, and still masks user:password@host beside it', () => {
    const check = "check (email ~ '^[^@[:space:]]+@[^@[:space:]]+$')"
    expect(redact(check)).toBe(check)
    expect(redact("'u:s3cret@h' and postgres://u:pa[ss@h/db")).toBe("'u:****@h' and postgres://u:****@h/db")
  })
})
