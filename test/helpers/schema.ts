// The app's schema for tests, without `migrate up` (built separately): the Up sections of
// migrations/*.sql applied in order with psql.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { execFileSync } from 'node:child_process'
import { bindir } from './cluster.js'
import { cluster, psql } from './db.js'

export const MIGRATIONS_DIR = resolve(__dirname, '../../migrations')

/** The SQL between "-- Up Migration" and "-- Down Migration" of each file, in file order. */
export function upSections(dir = MIGRATIONS_DIR): string[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.sql'))
    .sort()
    .map((f) => {
      const text = readFileSync(join(dir, f), 'utf8')
      const up = text.split(/^--\s*Down Migration\s*$/im)[0].split(/^--\s*Up Migration\s*$/im)[1]
      if (up === undefined) throw new Error(`${f}: no "-- Up Migration" section`)
      return up
    })
}

export function applySchema(database: string): void {
  for (const sql of upSections()) psql(sql, database)
}

/**
 * pg_dump --schema-only of a database, without the lines that differ on every run (pg_dump 15.14+
 * writes a random \restrict key): two dumps are equal exactly when the schemas are.
 */
export function schemaDump(database: string): string {
  const c = cluster()
  const out = execFileSync(join(bindir(), 'pg_dump'), ['--schema-only', '--no-owner', '-h', c.dir, '-p', String(c.port), '-U', c.user, '-d', database], {
    encoding: 'utf8',
  })
  return out.split('\n').filter((l) => !/^\\(un)?restrict /.test(l)).join('\n')
}
