// One JSON contract: with --json every command prints exactly one document on stdout, success or
// failure, with `ok` and, on failure, `error: { code, message, hint? }`, following its published
// schema (schemas/*.schema.json). runCli() checks every --json run of the suite; here each
// command's success and failure paths are driven on purpose.
import { appendFileSync, readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase } from './helpers/db.js'
import { runCli, tempDir } from './helpers/cli.js'
import { SCHEMAS, jsonContractViolation, schemaFor } from './helpers/json-schema.js'

let db: string
beforeAll(() => void (db = createDatabase('contract')))
afterAll(() => dropDatabase(db))

describe('the published schemas', () => {
  it('exist for every command, ship with the package and are documented', () => {
    const files = readdirSync(SCHEMAS).sort()
    expect(files).toEqual(['error', 'health', 'init', 'migrate-accept', 'migrate-baseline', 'migrate-create', 'migrate-down', 'migrate-redo', 'migrate-status', 'migrate-up', 'provision-list', 'provision', 'seed']
      .map((n) => `${n}.schema.json`).sort())
    const pkg = JSON.parse(readFileSync(join(SCHEMAS, '../package.json'), 'utf8'))
    expect(pkg.files).toContain('schemas')
    const readme = readFileSync(join(SCHEMAS, '../README.md'), 'utf8')
    for (const f of files) expect(readme).toContain(`schemas/${f}`)
  })

  it('the check itself catches a document off its schema, two documents, or none', () => {
    expect(schemaFor(['--json', 'migrate', 'up', '2'])).toBe('migrate-up.schema.json')
    expect(schemaFor(['provision', 'list', '--json'])).toBe('provision-list.schema.json')
    // provision's subcommands: neon list wherever its flags stand; a flag's value named list is a value
    expect(schemaFor(['provision', 'neon', '--project', 'p', 'list', '--json'])).toBe('provision-list.schema.json')
    expect(schemaFor(['provision', 'neon', '--project', 'list', '--json'])).toBe('provision.schema.json')
    expect(schemaFor(['provision', 'neon', 'delete-branch', 'list', '--json'])).toBe('provision.schema.json')
    expect(schemaFor(['provision', 'local', 'stop', '--json'])).toBe('provision.schema.json')
    // a branch already gone says which, and a deleted one has no such field
    const gone = { ok: true, provider: 'neon', deleted: null, project: { id: 'p1', name: 'todo' }, envRemoved: [] }
    expect(jsonContractViolation(['provision', 'neon', 'delete-branch', 'x', '--json'], JSON.stringify({ ...gone, alreadyGone: 'x' }))).toBeUndefined()
    expect(jsonContractViolation(['provision', 'neon', 'delete-branch', 'x', '--json'], JSON.stringify(gone))).toMatch(/schemas\/provision\.schema\.json/)
    expect(jsonContractViolation(['provision', 'neon', 'delete-branch', 'x', '--json'], JSON.stringify({ ...gone, deleted: { id: 'b', name: 'x' }, alreadyGone: 'x' }))).toMatch(/schemas\/provision\.schema\.json/)
    expect(schemaFor(['helth', '--json'])).toBe('error.schema.json')
    expect(jsonContractViolation(['seed', '--json'], '{"ok":true,"users":1}')).toMatch(/schemas\/seed\.schema\.json/)
    expect(jsonContractViolation(['seed', '--json'], '{"users":1,"categories":1,"todos":1,"ms":1,"rowsPerSecond":1}')).toMatch(/ok/)
    expect(jsonContractViolation(['seed', '--json'], '{"ok":false,"error":{"code":"X","message":"m"}}\n{"ok":false,"error":{"code":"X","message":"m"}}')).toMatch(/not one JSON document/)
    expect(jsonContractViolation(['seed', '--json'], '')).toMatch(/not one JSON document/)
    expect(jsonContractViolation(['seed', '--json'], '{"ok":false,"error":{"code":"X","message":"m"}}')).toBeUndefined()
    // a misspelt subcommand answers with the failure document; a new subcommand needs its own schema
    expect(jsonContractViolation(['migrate', 'upp', '--json'], '{"ok":false,"error":{"code":"USAGE","message":"m"}}')).toBeUndefined()
    expect(jsonContractViolation(['migrate', 'squash', '--json'], '{"ok":true}')).toMatch(/there is no schemas\/migrate-squash\.schema\.json/)
  })
})

describe('every command: one document with ok, success or failure', () => {
  const env = () => ({ DATABASE_URL: dbUrl(db) })
  const cwd = tempDir()

  it('success documents say ok: true', async () => {
    const runs = [
      ['init'],
      ['migrate', 'up', '--dry-run'],
      ['migrate', 'up', '1'],
      ['migrate', 'status'],
      ['migrate', 'up'],
      ['seed', '--todos', '5'],
      ['migrate', 'create', 'add-tags'],
      ['migrate', 'down', '--dry-run'],
      ['migrate', 'down'],
      ['health'],
    ]
    for (const args of runs) {
      const r = await runCli([...args, '--json'], { cwd, env: env() })
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(0)
      expect(JSON.parse(r.stdout).ok, args.join(' ')).toBe(true)
    }
  })

  it('migrate up explains recorded: the checksums it recorded for migrations applied without one', async () => {
    const schema = JSON.parse(readFileSync(join(SCHEMAS, 'migrate-up.schema.json'), 'utf8'))
    expect(schema.anyOf[0].properties.recorded.description).toMatch(/^Migrations applied before todo-db recorded checksums/)
  })

  it('drift: migrate status says ok: false with error DRIFT beside the report, exit 4', async () => {
    const dir = join(cwd, 'migrations')
    const first = readdirSync(dir).sort()[0]
    appendFileSync(join(dir, first), '\n-- edited after it was applied\n')
    const r = await runCli(['migrate', 'status', '--json'], { cwd, env: env() })
    expect(r.code).toBe(4)
    const doc = JSON.parse(r.stdout)
    expect(doc).toMatchObject({ ok: false, error: { code: 'DRIFT' }, drift: [{ kind: 'edited' }] })
    expect(doc.migrations.length).toBeGreaterThan(0)
  })

  it('failures: ok: false and error { code, message, hint? } on stdout, the one line on stderr', async () => {
    const runs: [string[], Record<string, string>, number][] = [
      [['migrate', 'up'], {}, 3],
      [['seed'], { DATABASE_URL: 'mysql://u:p@127.0.0.1:1/db' }, 3],
      [['seed', '--users', 'x'], env(), 3],
      [['migrate', 'create', 'bad name'], {}, 3],
      [['health', '--timeout', '300ms'], { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db?sslmode=disable' }, 2],
      [['health'], { DATABASE_URL: dbUrl('no_such_db_here') }, 1],
      [['provision', '--local', '--branch', 'x'], {}, 3],
    ]
    for (const [args, e, code] of runs) {
      const r = await runCli([...args, '--json'], { cwd: tempDir(), env: { DATABASE_URL: undefined as unknown as string, ...e } })
      expect(r.code, `${args.join(' ')}: ${r.stderr}`).toBe(code)
      const doc = JSON.parse(r.stdout)
      expect(doc.ok, args.join(' ')).toBe(false)
      expect(doc.error.message, args.join(' ')).toEqual(expect.any(String))
      // health too: the line on stderr, as every command prints it
      expect(r.stderr.trim().split('\n'), args.join(' ')).toHaveLength(1)
      expect(r.stderr).toMatch(/^error: /)
    }
  })
})
