// provision --url-format: each driver's form of DATABASE_URL connects with that driver, unchanged,
// against the suite's real server (SSL on, a test CA), and todo-db reads every form back.
import { spawnSync } from 'node:child_process'
import { describe, expect, inject, it } from 'vitest'
import { formatDatabaseUrl, URL_FORMATS, type UrlFormat } from '../src/provision/url-format.js'
import { runCli } from './helpers/cli.js'

const cluster = inject('cluster')
const pw = encodeURIComponent(cluster.password)
// What provision writes: the local form, and Neon's form (here on a host the test CA vouches for).
const SOURCES = {
  local: `postgres://postgres:${pw}@127.0.0.1:${cluster.port}/postgres?sslmode=disable`,
  neon: `postgresql://postgres:${pw}@localhost:${cluster.port}/postgres?sslmode=require&channel_binding=require`,
}
// The test CA, for every driver that verifies the server (verify-full): Node's and libpq's ways.
const CA_ENV = { NODE_EXTRA_CA_CERTS: cluster.caFile, PGSSLROOTCERT: cluster.caFile }

describe('URL forms', () => {
  const NEON = 'postgresql://neondb_owner:p%2Fw@ep-a-pooler.us-east-2.aws.neon.example/neondb?sslmode=require&channel_binding=require'
  it.each<[UrlFormat, string]>([
    ['libpq', NEON],
    ['psycopg', NEON],
    ['sqlalchemy+psycopg', NEON.replace('postgresql://', 'postgresql+psycopg://')],
    ['sqlalchemy+asyncpg', 'postgresql+asyncpg://neondb_owner:p%2Fw@ep-a-pooler.us-east-2.aws.neon.example/neondb?ssl=verify-full'],
    ['asyncpg', 'postgresql://neondb_owner:p%2Fw@ep-a-pooler.us-east-2.aws.neon.example/neondb?sslmode=verify-full'],
    ['node-postgres', 'postgresql://neondb_owner:p%2Fw@ep-a-pooler.us-east-2.aws.neon.example/neondb?sslmode=verify-full'],
  ])('%s: %s', (format, expected) => {
    expect(formatDatabaseUrl(NEON, format)).toBe(expected)
  })

  it('the local form: SSL off in each driver\'s words', () => {
    const local = 'postgres://postgres:pw@127.0.0.1:5432/todo?sslmode=disable'
    expect(formatDatabaseUrl(local, 'sqlalchemy+asyncpg')).toBe('postgresql+asyncpg://postgres:pw@127.0.0.1:5432/todo?ssl=disable')
    expect(formatDatabaseUrl(local, 'node-postgres')).toBe('postgresql://postgres:pw@127.0.0.1:5432/todo?sslmode=disable')
  })
})

/** The first python3 with the modules, or why there is none. */
function python(modules: string[], need?: string): { bin?: string; why: string } {
  for (const bin of ['python3', '/usr/bin/python3']) {
    const r = spawnSync(bin, ['-c', `import ${modules.join(', ')}`], { encoding: 'utf8' })
    if (r.status === 0) return { bin, why: '' }
  }
  return { why: need ?? `no python3 here has ${modules.join(', ')} (Debian: python3-asyncpg, python3-psycopg, python3-sqlalchemy)` }
}

function runPython(bin: string, script: string, url: string) {
  return spawnSync(bin, ['-c', script, url], { encoding: 'utf8', env: { ...process.env, ...CA_ENV }, timeout: 30_000 })
}

const PY = {
  psycopg: 'import sys, psycopg\nwith psycopg.connect(sys.argv[1]) as c: print(c.execute("select 1").fetchone()[0])',
  asyncpg: 'import sys, asyncio, asyncpg\nasync def m():\n  c = await asyncpg.connect(sys.argv[1]); print(await c.fetchval("select 1")); await c.close()\nasyncio.run(m())',
  alchemyAsync: [
    'import sys, asyncio, sqlalchemy as sa',
    'from sqlalchemy.ext.asyncio import create_async_engine',
    'async def m():',
    '  e = create_async_engine(sys.argv[1])',
    '  async with e.connect() as c: print((await c.execute(sa.text("select 1"))).scalar())',
    '  await e.dispose()',
    'asyncio.run(m())',
  ].join('\n'),
  alchemySync: 'import sys, sqlalchemy as sa\ne = sa.create_engine(sys.argv[1])\nwith e.connect() as c: print(c.execute(sa.text("select 1")).scalar())',
}

describe.each(Object.entries(SOURCES))('each form connects with its driver, from the %s URL', (_name, source) => {
  it('todo-db reads every form back', async () => {
    for (const format of URL_FORMATS) {
      const r = await runCli(['health', '--database-url', formatDatabaseUrl(source, format)], { env: CA_ENV })
      expect(r.code, `${format}: ${r.stderr}`).toBe(0)
    }
  })

  it('node-postgres (pg) takes its form, without a warning', () => {
    const script = 'const pg = require("pg"); const c = new pg.Client({ connectionString: process.argv[1] });' +
      'c.connect().then(() => c.query("select 1 as one")).then((r) => { console.log(r.rows[0].one); return c.end() })' +
      '.catch((e) => { console.error(e.message); process.exit(1) })'
    const r = spawnSync(process.execPath, ['-e', script, formatDatabaseUrl(source, 'node-postgres')], {
      encoding: 'utf8', env: { ...process.env, ...CA_ENV }, cwd: __dirname,
    })
    expect(r.status, r.stderr).toBe(0)
    expect(r.stdout.trim()).toBe('1')
    expect(r.stderr).not.toMatch(/WARNING/)
  })

  const cases: [string, UrlFormat, string[], string, string?][] = [
    ['psycopg 3 (libpq form)', 'libpq', ['psycopg'], PY.psycopg],
    ['psycopg 3 (psycopg form)', 'psycopg', ['psycopg'], PY.psycopg],
    ['asyncpg (raw)', 'asyncpg', ['asyncpg'], PY.asyncpg],
    ['SQLAlchemy + asyncpg', 'sqlalchemy+asyncpg', ['sqlalchemy', 'asyncpg'], PY.alchemyAsync],
    ['SQLAlchemy + psycopg', 'sqlalchemy+psycopg', ['sqlalchemy', 'psycopg', 'sqlalchemy.dialects.postgresql.psycopg'], PY.alchemySync,
      'SQLAlchemy 2 with psycopg 3 is not installed here (Debian 12 ships SQLAlchemy 1.4, which has no psycopg 3 dialect)'],
  ]
  for (const [label, format, modules, script, need] of cases) {
    const py = python(modules, need)
    it.skipIf(!py.bin)(`${label}${py.bin ? '' : ` (skipped: ${py.why})`}`, () => {
      const r = runPython(py.bin!, script, formatDatabaseUrl(source, format))
      expect(r.status, r.stderr).toBe(0)
      expect(r.stdout.trim()).toBe('1')
    })
  }
})
