// No password or API key in any output: every runCli() call in the suite already fails on a
// registered secret; here every command is driven through its success, failure and --verbose
// paths with a password full of URL-special characters.
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { cluster, createDatabase, dropDatabase, psql } from './helpers/db.js'
import { leakedSecret, runCli, secrets, tempDir } from './helpers/cli.js'
import { freePort, pgUrl } from './helpers/cluster.js'

const c = cluster()
const password = `P@ss:w/rd#%?&= ${Date.now()}`
const apiKey = `napi_${Date.now()}_secretkey`
const role = `leaky_${process.pid}`
let db: string

const url = (host = '127.0.0.1', port = c.port, params = 'sslmode=disable', database = db) =>
  pgUrl({ user: role, password, host, port, database, params })

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
      [['migrate', 'down', '--all', '--yes', '--verbose', '--database-url', url()]],
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

  // A project folder: `migrate create` there gets as far as reading the name it was given (where
  // init never ran it stops earlier, before it would echo anything).
  const project = () => {
    const dir = tempDir()
    mkdirSync(join(dir, 'migrations'))
    return dir
  }

  const clean = (r: { stdout: string; stderr: string }, what: string, json: boolean) => {
    const all = r.stdout + r.stderr
    expect(leakedSecret(all), what).toBeUndefined() // pw, unregistered and slashless are all registered
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
    const cwd = project()
    const runs = [
      ['seed', '--users', pw],
      ['seed', '--users', pythonQuoted],
      ['migrate', 'create', pw],
      ['migrate', 'up', pythonQuoted],
    ]
    for (const args of runs) {
      for (const json of [false, true]) {
        const r = await runCli([...args, ...(json ? ['--json'] : [])], { env, cwd })
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
    const cwd = project()
    for (const args of runs) {
      for (const json of [false, true]) {
        const r = await runCli([...args, ...(json ? ['--json'] : [])], { cwd })
        expect(r.code, args.join(' ')).toBe(3)
        clean(r, `${args.join(' ')} json=${json}`, json)
      }
    }
  })
})

describe('passwords written in a migration are masked wherever its SQL is shown', () => {
  const P = `${process.pid}`
  const role = `mask_role_${P}`
  // Every secret ends so: found anywhere in an output, some of a secret was shown.
  const S = `-k${P}q`
  // Each secret as the server reads it (registered: runCli fails on any spelling of it in any
  // output) and as the file writes it (checked here: quotes doubled, escapes, dollar quotes).
  const spelled: [value: string, written: string][] = [
    [`Pw1's${S}`, `Pw1''s${S}`],
    [`Pw2'eA${S}`, String.raw`Pw2\'e\x41${S}`],
    [`Pw3$${S}`, `Pw3$${S}`],
    [`Pw4${S}`, `Pw4${S}`],
    [`Pw5!${S}`, String.raw`Pw5\0021${S}`],
    [`Pw6${S}`, `Pw6${S}`],
    [`Pw7${S}`, `Pw7${S}`],
    [`Pw8 'q${S}`, String.raw`Pw8 \''q${S}`],
    [`Pw9${S}`, `Pw9${S}`],
    [`Final'Pw${S}`, `Final''Pw${S}`],
  ]
  const [final] = spelled[spelled.length - 1]
  const up = String.raw`create extension if not exists postgres_fdw;
CREATE ROLE ${role} LOGIN PASSWORD 'Pw1''s${S}';
alter role ${role} with encrypted password E'Pw2\'e\x41${S}' valid until 'infinity';
ALTER USER ${role} PaSsWoRd $$Pw3$${S}$$;
alter user ${role} password $tag1$Pw4${S}$tag1$;
ALTER ROLE ${role} PASSWORD U&'Pw5\0021${S}';
create server mask_srv foreign data wrapper postgres_fdw options (host 'db.example', dbname 'app');
CREATE USER MAPPING FOR ${role} SERVER mask_srv OPTIONS (user 'remote_app', "password" 'Pw6${S}');
create function mask_remote() returns void language plpgsql as $body$
begin
  perform dblink_connect('host=db.example password=Pw7${S} dbname=app');
  perform dblink_connect('host=db.example password=''Pw8 \''q${S}'' dbname=app');
end
$body$;
comment on function mask_remote() is 'postgresql://remote_app:Pw9${S}@db.example/app';
ALTER ROLE ${role} PASSWORD 'Final''Pw${S}';`
  const down = `drop function mask_remote();\ndrop user mapping for ${role} server mask_srv;\ndrop server mask_srv;\ndrop role ${role};`
  const NAME = '1764000000010_remote-role'

  beforeAll(() => {
    for (const [value] of spelled) secrets.add(value)
  })
  // The test's own `down` drops it; this is for a test that failed before.
  afterAll(() => psql(`drop role if exists ${role}`))

  /** No secret in any spelling, and the statements around them still shown. */
  const masked = (text: string, what: string) => {
    expect(leakedSecret(text), what).toBeUndefined()
    for (const [value, written] of spelled) {
      expect(text, what).not.toContain(written)
      expect(text, what).not.toContain(value)
    }
    expect(text, what).not.toContain(S)
    expect(text, what).not.toMatch(/Pw\d|FinalPw|Final'+Pw/)
    expect(text, what).toContain(`CREATE ROLE ${role} LOGIN PASSWORD '****'`)
    expect(text, what).toContain(`ALTER USER ${role} PaSsWoRd '****'`)
    expect(text, what).toMatch(/OPTIONS \(user 'remote_app', \\?"password\\?" '\*\*\*\*'\)/)
    expect(text, what).toContain("dblink_connect('host=db.example password=**** dbname=app')")
    expect(text, what).toContain('postgresql://remote_app:****@db.example/app')
    expect(text, what).toContain("valid until 'infinity'")
  }

  it('--dry-run (human and --json) and -v show the SQL with every password masked; the server gets it as written', async () => {
    const { freshDb, migrate, migrationsDir, sqlFile, journal } = await import('./helpers/migrate.js')
    const dir = migrationsDir({ [`${NAME}.sql`]: sqlFile(up, down) })
    const db = freshDb('masked')

    const dry = await migrate(db, ['up', '--dry-run'], { dir })
    expect(dry.code, dry.stderr).toBe(0)
    masked(dry.stdout, 'dry run')
    const json = await migrate(db, ['up', '--dry-run', '--json'], { dir })
    expect(json.code, json.stderr).toBe(0)
    const doc = JSON.parse(json.stdout)
    masked(json.stdout, 'dry run --json')
    masked(doc.migrations.find((m: { name: string }) => m.name === NAME).sql, 'dry run --json sql')
    expect(journal(db)).toEqual([])

    const run = await migrate(db, ['up', '-v'], { dir })
    expect(run.code, run.stderr).toBe(0)
    masked(run.stdout + run.stderr, 'up -v')
    expect(journal(db).map((j) => j.name)).toContain(NAME)

    // What the server got was the SQL as written: the role logs in with the last password
    // (and not with an earlier one), the mapping and the function hold theirs.
    const as = (password: string) => runCli(['health', '--database-url', pgUrl({ user: role, password, host: '127.0.0.1', port: c.port, database: db })])
    expect((await as(final)).code).toBe(0)
    expect((await as(spelled[0][0])).code).toBe(1)
    expect(psql(`select array_to_string(umoptions, ' ') from pg_user_mappings where usename = '${role}'`, db)).toBe(`user=remote_app password=Pw6${S}`)
    expect(psql(`select prosrc like '%password=Pw7${S} %' from pg_proc where proname = 'mask_remote'`, db)).toBe('t')
    expect(psql(`select obj_description('mask_remote'::regproc)`, db)).toBe(`postgresql://remote_app:Pw9${S}@db.example/app`)

    const back = await migrate(db, ['down', '-v'], { dir })
    expect(back.code, back.stderr).toBe(0)
    expect(psql(`select count(*) from pg_roles where rolname = '${role}'`)).toBe('0')
  })

  it('-v masks the SQL a JavaScript migration sends, run by node-pg-migrate\'s runner', async () => {
    const { freshDb, migrate, migrationsDir } = await import('./helpers/migrate.js')
    const js = `exports.up = (pgm) => { pgm.sql(${JSON.stringify(String.raw`CREATE ROLE ${role} LOGIN PASSWORD E'Pw2\'e\x41${S}'`)}) }\n` +
      `exports.down = (pgm) => { pgm.sql('drop role ${role}') }\n`
    const dir = migrationsDir({ '1764000000010_role.js': js }, false)
    const db = freshDb('masked')
    const r = await migrate(db, ['up', '-v'], { dir })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toContain(`CREATE ROLE ${role} LOGIN PASSWORD '****'`)
    expect(r.stderr).not.toMatch(/Pw2|x41/)
    expect(r.stderr).not.toContain(S)
    expect((await migrate(db, ['down', '-v'], { dir })).code).toBe(0)
  })

  it('a failing statement is shown masked, in the message and in --json', async () => {
    const { freshDb, migrate, migrationsDir, sqlFile } = await import('./helpers/migrate.js')
    const dir = migrationsDir({ [`${NAME}.sql`]: sqlFile(String.raw`alter role no_such_role_${P} password E'Pw2\'e\x41${S}';`) })
    const db = freshDb('masked')
    const r = await migrate(db, ['up', '-v', '--json'], { dir })
    expect(r.code).toBe(1)
    const error = JSON.parse(r.stdout).error
    expect(error.statement).toBe(`alter role no_such_role_${P} password '****'`)
    expect(r.stderr).toContain(`(in "alter role no_such_role_${P} password '****'")`)
    expect(r.stdout + r.stderr).not.toMatch(/Pw2|x41/)
    expect(r.stdout + r.stderr).not.toContain(S)
  })
})
