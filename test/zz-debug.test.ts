import { it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase } from './helpers/db.js'
import { runCli } from './helpers/cli.js'
import { applySchema } from './helpers/schema.js'
it('debug', async () => {
  const db = createDatabase('dbg'); applySchema(db)
  const r = await runCli(['seed', '--database-url', dbUrl(db), '--seed', '7', '--users', '6', '--todos', '300', '-v'])
  console.log('DBG', r.code, r.stdout, r.stderr)
  dropDatabase(db)
})
