// migrate create NAME: a new SQL migration whose timestamp sorts after every existing one.
import { mkdir, readdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { badInput } from '../errors.js'

const TEMPLATE = `-- Up Migration


-- Down Migration

`

// For what PostgreSQL refuses in a transaction; one statement per section, as it then runs alone.
const NO_TRANSACTION_TEMPLATE = `-- todo-db:no-transaction
-- Runs outside a transaction (e.g. CREATE INDEX CONCURRENTLY): one statement per section, and
-- a failure is not rolled back.
${TEMPLATE}`

export async function createMigration(dir: string, name: string, opts: { transaction?: boolean; now?: number } = {}): Promise<string> {
  const now = opts.now ?? Date.now()
  if (!/^[A-Za-z0-9][A-Za-z0-9_-]{0,99}$/.test(name)) {
    throw badInput(`migration name "${name}" must be letters, digits, - and _ (at most 100)`, 'e.g. todo-db migrate create add-tags', 'BAD_NAME')
  }
  await mkdir(dir, { recursive: true })
  const prefixes = (await readdir(dir)).map((f) => /^(\d+)_/.exec(f)?.[1]).filter((p): p is string => !!p).map(Number)
  // A clock behind the newest file (another machine, a rebase) must not sort the new file first.
  const prefix = Math.max(now, ...prefixes.map((p) => p + 1))
  const path = join(dir, `${prefix}_${name}.sql`)
  try {
    await writeFile(path, opts.transaction === false ? NO_TRANSACTION_TEMPLATE : TEMPLATE, { flag: 'wx' })
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw badInput(`${path} exists already`)
    throw e
  }
  return path
}
