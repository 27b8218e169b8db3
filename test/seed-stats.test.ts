// A re-seed before autovacuum has analysed a big seed: the seed analyses the stale table itself
// before it joins (src/seed/stats.ts), so its plans count the rows that are there. Real server,
// built CLI; speed itself is the bench's to show (bench/seed.bench.mjs).
import { afterAll, describe, expect, it } from 'vitest'
import { createDatabase, dbUrl, dropDatabase, psql } from './helpers/db.js'
import { runCli } from './helpers/cli.js'
import { applySchema } from './helpers/schema.js'
import { waitFor } from './helpers/wait.js'
import { MIN_ROWS_OFF } from '../src/seed/stats.js'

const created: string[] = []
afterAll(() => {
  for (const db of created) dropDatabase(db)
})

const seed = (db: string, args: string[]) => runCli(['seed', '--database-url', dbUrl(db), '--verbose', ...args])
const todoStats = (db: string) => psql(`select n_live_tup || '|' || coalesce(last_analyze::text, 'never') from pg_stat_user_tables where relname = 'todos'`, db).split('|')
const ANALYSING = /todos: the planner counts \d+ rows, there are about \d+; analysing it first/

describe('todo-db seed and the planner\'s statistics', () => {
  it('analyses a table whose statistics predate most of its rows before it plans its joins, and only then', async () => {
    const db = createDatabase('seed_stats')
    created.push(db)
    applySchema(db)
    // autovacuum would race the re-seed to it
    psql('alter table todos set (autovacuum_enabled = false)', db)
    // The app's todo, analysed: the seed then loads into a table that has a row (no index rebuild,
    // which would count the rows too, bulkload.ts), and the statistics say one row.
    psql(`with u as (insert into users (email, name) values ('real.person@app.test', 'Real Person') returning id)
          insert into todos (user_id, title) select id, 'written in the app' from u; analyze todos`, db)
    const analysed = todoStats(db)[1]
    const rows = MIN_ROWS_OFF + 2000
    const big = ['--seed', '7', '--users', '20', '--todos', String(rows)]
    const first = await seed(db, big)
    expect(first.code).toBe(0)
    // nothing changed a lot before it: nothing to analyse
    expect(first.stderr).not.toMatch(ANALYSING)
    // the first seed's backend reports its rows as it ends
    await waitFor(() => Number(todoStats(db)[0]) > rows, { what: 'the first seed\'s rows in pg_stat_user_tables' })
    expect(Number(psql(`select reltuples from pg_class where oid = 'todos'::regclass`, db))).toBe(1)

    const again = await seed(db, big)
    expect(again.code).toBe(0)
    expect(again.stderr).toMatch(ANALYSING)
    // the planner now counts the todos that are there
    expect(Number(psql(`select reltuples from pg_class where oid = 'todos'::regclass`, db))).toBe(rows + 1)
    await waitFor(() => todoStats(db)[1] !== analysed, { what: 'the analysis in pg_stat_user_tables' })

    // the count is right, though the re-seed replaced every todo: no second analysis
    const third = await seed(db, big)
    expect(third.code).toBe(0)
    expect(third.stderr).not.toMatch(ANALYSING)
  })
})
