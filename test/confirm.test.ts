// Commands that destroy data ask first: on a real pseudo-terminal (util-linux `script`) they show
// what will go and wait for y/N; on pipes, and with --json, they need --yes and otherwise exit 3
// having changed nothing.
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { applySchema } from './helpers/schema.js'
import { runCli } from './helpers/cli.js'
import { onTty } from './helpers/tty.js'
import { SCHEMA_NAMES, freshDb, journal, migrate, MIGRATIONS } from './helpers/migrate.js'

const created: string[] = []
afterAll(() => created.forEach(dropDatabase))

/** A migrated database with 5 users, 15 categories and 50 todos (seed 1). */
async function seededDb(prefix: string): Promise<string> {
  const db = createDatabase(prefix)
  created.push(db)
  applySchema(db)
  const r = await runCli(['seed', '--seed', '1', '--database-url', dbUrl(db)])
  expect(r.code, r.stderr).toBe(0)
  return db
}

const rows = (db: string) => psql(`select (select count(*) from users) || '/' || (select count(*) from categories) || '/' || (select count(*) from todos)`, db)
const reseed = ['seed', '--seed', '2', '--users', '2', '--todos', '3', '--reset']

describe('seed --reset', () => {
  it('on a terminal lists the rows of each table it empties; "n" changes nothing, "y" goes ahead', async () => {
    const db = await seededDb('confirm_seed')
    const no = await onTty([...reseed, '--database-url', dbUrl(db)], {}, 'n')
    expect(no.asked).toBe(true)
    expect(no.screen).toMatch(/seed --reset empties:\s+users \(5 rows\)\s+categories \(15 rows\)\s+todos \(50 rows\)/)
    expect(no.screen).toMatch(/cancelled: nothing was changed/)
    expect(no.code).toBe(1)
    expect(rows(db)).toBe('5/15/50')

    const yes = await onTty([...reseed, '--database-url', dbUrl(db)], {}, 'y')
    expect(yes.code, yes.screen).toBe(0)
    expect(yes.screen).toMatch(/seeded 2 users/)
    expect(rows(db)).toBe('2/6/3')
  })

  it('without a terminal needs --yes: exit 3 in one line naming --yes, nothing changed; --dry-run lists and changes nothing', async () => {
    const db = await seededDb('confirm_seed_pipe')
    const r = await runCli([...reseed, '--database-url', dbUrl(db)])
    expect(r.code).toBe(3)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(r.stderr).toMatch(/seed --reset empties users \(5 rows\), categories \(15 rows\), todos \(50 rows\): pass --yes/)
    expect(rows(db)).toBe('5/15/50')

    const json = await runCli([...reseed, '--json', '--database-url', dbUrl(db)])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, error: { code: 'CONFIRMATION_REQUIRED', destroys: ['users (5 rows)', 'categories (15 rows)', 'todos (50 rows)'] } })
    expect(rows(db)).toBe('5/15/50')

    const dry = await runCli([...reseed, '--dry-run', '--json', '--database-url', dbUrl(db)])
    expect(dry.code, dry.stderr).toBe(0)
    expect(JSON.parse(dry.stdout)).toMatchObject({ dryRun: true, empties: [{ table: 'users', rows: 5 }, { table: 'categories', rows: 15 }, { table: 'todos', rows: 50 }] })
    expect(rows(db)).toBe('5/15/50')

    const yes = await runCli([...reseed, '--yes', '--database-url', dbUrl(db)])
    expect(yes.code, yes.stderr).toBe(0)
    expect(rows(db)).toBe('2/6/3')
  })

  it('--reset --cascade lists the app\'s tables it empties too', async () => {
    const db = await seededDb('confirm_cascade')
    psql(`create table tags (id serial primary key, user_id uuid not null references users (id)); insert into tags (user_id) select id from users`, db)
    const r = await runCli([...reseed, '--cascade', '--database-url', dbUrl(db)])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/seed --reset --cascade empties users \(5 rows\), categories \(15 rows\), todos \(50 rows\), tags \(5 rows\): pass --yes/)
    expect(psql('select count(*) from tags', db)).toBe('5')
  })

  it('without --reset nothing is destroyed: no --yes needed; --dry-run alone is refused', async () => {
    const db = await seededDb('confirm_seed_plain')
    expect((await runCli(['seed', '--seed', '1', '--database-url', dbUrl(db)])).code).toBe(0)
    const dry = await runCli(['seed', '--dry-run', '--database-url', dbUrl(db)])
    expect(dry.code).toBe(3)
    expect(dry.stderr).toMatch(/--dry-run shows what --reset would empty/)
  })
})

describe('migrate down', () => {
  it('of several on a terminal lists the migrations; "n" reverts nothing, "y" reverts them', async () => {
    const db = freshDb('confirm_mig')
    expect((await migrate(db, ['up'])).code).toBe(0)
    const args = ['migrate', 'down', '--all', '--migrations-dir', MIGRATIONS, '--database-url', dbUrl(db)]
    const no = await onTty(args, {}, 'n')
    expect(no.asked).toBe(true)
    expect(no.screen).toMatch(new RegExp(`migrate down reverts ${SCHEMA_NAMES.length} migrations:\\s+${[...SCHEMA_NAMES].reverse().join('\\s+')}`))
    expect(no.code).toBe(1)
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)

    const ctrlC = await onTty(args, {}, '\u0003')
    expect(ctrlC.code).toBe(130)
    expect(ctrlC.screen).toMatch(/interrupted: nothing was changed/)
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)

    const yes = await onTty(args, {}, 'y')
    expect(yes.code, yes.screen).toBe(0)
    expect(journal(db)).toEqual([])
  })

  it('of several without a terminal needs --yes (count, --to, --all); of one it does not', async () => {
    const db = freshDb('confirm_mig_pipe')
    expect((await migrate(db, ['up'])).code).toBe(0)
    for (const args of [['down', '2'], ['down', '--to', SCHEMA_NAMES.at(-3)!]]) {
      const r = await migrate(db, args)
      expect(r.code, args.join(' ')).toBe(3)
      expect(r.stderr.trim().split('\n')).toHaveLength(1)
      expect(r.stderr).toMatch(new RegExp(`migrate down reverts 2 migrations ${SCHEMA_NAMES.at(-1)}, ${SCHEMA_NAMES.at(-2)}: pass --yes`))
      expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)
    }
    const json = await migrate(db, ['down', '--all', '--json'])
    expect(json.code).toBe(3)
    expect(JSON.parse(json.stdout).error).toMatchObject({ code: 'CONFIRMATION_REQUIRED', destroys: [...SCHEMA_NAMES].reverse() })
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length)

    const one = await migrate(db, ['down'])
    expect(one.code, one.stderr).toBe(0)
    expect(journal(db)).toHaveLength(SCHEMA_NAMES.length - 1)
    const rest = await migrate(db, ['down', '--all', '--yes'])
    expect(rest.code, rest.stderr).toBe(0)
    expect(journal(db)).toEqual([])
  })
})
