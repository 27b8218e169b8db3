// The README's "Using the schema from the app" snippets, run by Python's own SQLAlchemy, asyncpg,
// SQLModel and Alembic against a database migrated by todo-db (test/python/app_schema.py).
// Python is not part of the project's toolchain: without those libraries the test is skipped
// and says so.
import { execFile, execFileSync } from 'node:child_process'
import { resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { pgUrl } from './helpers/cluster.js'
import { cluster } from './helpers/db.js'
import { freshDb, migrate } from './helpers/migrate.js'

const SCRIPT = resolve(__dirname, 'python/app_schema.py')

/** The first Python with the libraries the snippets need (Debian's python3-* packages or a venv). */
function findPython(): string | undefined {
  for (const py of [process.env.PYTHON, 'python3', '/usr/bin/python3']) {
    if (!py) continue
    try {
      execFileSync(py, ['-c', 'import sqlalchemy, asyncpg, alembic'], { stdio: 'ignore' })
      return py
    } catch {
      // not this one
    }
  }
}

const python = findPython()
if (!python) console.warn('app-python: skipped, no python3 with sqlalchemy, asyncpg and alembic (set PYTHON to one)')

describe.skipIf(!python)('the README snippets for the app, run with SQLAlchemy', () => {
  it('each does what the README says, against a migrated database', async () => {
    const db = freshDb('app_python')
    expect((await migrate(db, ['up'])).code).toBe(0)
    const url = pgUrl({ ...cluster(), database: db, params: '', scheme: 'postgresql+asyncpg' })
    const r = await new Promise<{ code: number; out: string }>((done) => {
      execFile(python!, [SCRIPT], { env: { ...process.env, APP_DATABASE_URL: url }, timeout: 120_000 }, (e, stdout, stderr) =>
        done({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: stdout + stderr }))
    })
    expect(r.out).not.toMatch(/FAILED/)
    expect(r.code, r.out).toBe(0)
    expect(r.out).toMatch(/ok: automap: todo.categories = other user's category is refused/)
    expect(r.out).toMatch(/ok: with the README's include_object only the app's own table is proposed/)
    expect(r.out).toMatch(/all snippets ran with SQLAlchemy/)
  })
})
