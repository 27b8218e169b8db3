// The app's schema for tests, without `migrate up` (built separately): the Up sections of
// migrations/*.sql applied in order with psql.
import { join } from 'node:path'
import { execFileSync } from 'node:child_process'
import { bindir } from './cluster.js'
import { cluster, psql } from './db.js'
import { upSections } from './migrations.js'

export { MIGRATIONS_DIR, upSections } from './migrations.js'

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
