// Where the package's own files are (package.json, migrations/, .env.example), wherever the
// running code sits: src/ under vitest, dist/ or a chunk of dist/ once built.
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

function findRoot(from: string): string {
  for (let dir = from; ; dir = dirname(dir)) {
    if (existsSync(join(dir, 'package.json')) && existsSync(join(dir, 'migrations'))) return dir
    if (dirname(dir) === dir) throw new Error(`todo-db: cannot find the package root above ${from}`)
  }
}

export const PACKAGE_ROOT = findRoot(dirname(fileURLToPath(import.meta.url)))
