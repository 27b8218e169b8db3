// A config file that is wrong says what is wrong with it, in one line, exit 3, before anything runs.
import { writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, expect, it } from 'vitest'
import { runCli, tempDir } from './helpers/cli.js'

const run = async (file: string, text: string) => {
  const cwd = tempDir()
  writeFileSync(join(cwd, file), text)
  // A URL that nothing listens on: the config must be refused before any connection is tried.
  return runCli(['migrate', 'status'], { cwd, env: { DATABASE_URL: 'postgres://u:p@127.0.0.1:1/db?sslmode=disable' } })
}

describe('config file errors', () => {
  it('an error inside a JavaScript config file is shown as it is, with the file and line', async () => {
    const cases: [string, string, RegExp][] = [
      ['todo-db.config.js', 'module.exports = { migrationsDir: nope }\n', /todo-db\.config\.js:1:\d+: ReferenceError: nope is not defined/],
      ['todo-db.config.mjs', 'export default { migrationsDir: nope }\n', /todo-db\.config\.mjs:1:\d+: ReferenceError: nope is not defined/],
      ['todo-db.config.cjs', 'throw new Error("no config for you")\n', /todo-db\.config\.cjs:1:\d+: Error: no config for you/],
      ['todo-db.config.js', 'export default { migrationsDir: \n', /todo-db\.config\.js.*: SyntaxError: /],
    ]
    for (const [file, text, message] of cases) {
      const r = await run(file, text)
      expect(r.code, file).toBe(3)
      expect(r.stderr.trim().split('\n'), r.stderr).toHaveLength(1)
      expect(r.stderr).toMatch(message)
      expect(r.stderr).not.toMatch(/__filename/)
    }
  })

  it('a JavaScript config file that works is read', async () => {
    const r = await run('todo-db.config.js', 'module.exports = { migrationsTable: "not a table" }\n')
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/migrations table "not a table"/)
  })

  it('keys every object has (constructor, toString) are not config keys', async () => {
    for (const config of [{ constructor: 'x' }, { toString: 'x' }, { seed: { hasOwnProperty: 1 } }, { __proto__x: 1 }]) {
      const r = await run('.todo-dbrc.json', JSON.stringify(config))
      expect(r.code, JSON.stringify(config)).toBe(3)
      expect(r.stderr).toMatch(/unknown config key/)
    }
  })
})
