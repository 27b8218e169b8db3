// The app's schema for tests, without `migrate up` (built separately): the Up sections of
// migrations/*.sql applied in order with psql.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { psql } from './db.js'

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
