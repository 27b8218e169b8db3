// The project's migrations as plain SQL, for the tests and the benchmark (JavaScript, so that
// bench/*.mjs can import it as test/helpers/cluster.js is).
import { readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

export const MIGRATIONS_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations')

/**
 * The SQL between "-- Up Migration" and "-- Down Migration" of each file, in file order.
 * @param {string} [dir]
 * @returns {string[]}
 */
export function upSections(dir = MIGRATIONS_DIR) {
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
