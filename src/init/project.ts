// Sets a project up for todo-db. Never overwrites without force; safe to run twice.
import { copyFileSync, existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs'
import { join, relative, resolve } from 'node:path'
import { DEFAULT_CONFIG } from '../config.js'
import { badInput } from '../errors.js'
import { ensureGitignored } from '../gitignore.js'
import { PACKAGE_ROOT } from '../package-root.js'

export type Change = { path: string; action: 'created' | 'overwritten' | 'updated' | 'kept' }

export interface InitOptions {
  cwd: string
  force?: boolean
  migrationsDir?: string
  /** A config file found by cosmiconfig (package.json key, .todo-dbrc*, ...), if any. */
  existingConfig?: string
}

export const CONFIG_FILE = '.todo-dbrc.json'


function writeFile(path: string, text: string, force: boolean | undefined, changes: Change[], cwd: string): void {
  const rel = relative(cwd, path) || path
  const exists = existsSync(path)
  if (exists && !force) return void changes.push({ path: rel, action: 'kept' })
  writeFileSync(path, text)
  changes.push({ path: rel, action: exists ? 'overwritten' : 'created' })
}

export function initProject(opts: InitOptions): Change[] {
  const { cwd, force } = opts
  const changes: Change[] = []
  const migrationsDir = opts.migrationsDir ?? DEFAULT_CONFIG.migrationsDir
  // The folder first: if it cannot be made, nothing else is written either.
  const dir = resolve(cwd, migrationsDir)
  const dirExisted = existsSync(dir)
  try {
    mkdirSync(dir, { recursive: true })
  } catch (e) {
    throw badInput(`cannot create the migrations folder ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`,
      'pass --migrations-dir with a folder you can write')
  }

  if (opts.existingConfig && !force) {
    changes.push({ path: relative(cwd, opts.existingConfig) || opts.existingConfig, action: 'kept' })
  } else {
    const config = { ...DEFAULT_CONFIG, migrationsDir }
    writeFile(join(cwd, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n', force, changes, cwd)
  }
  // Every variable todo-db reads, documented: the package's own .env.example.
  writeFile(join(cwd, '.env.example'), readFileSync(join(PACKAGE_ROOT, '.env.example'), 'utf8'), force, changes, cwd)
  changes.push({ path: '.gitignore', action: ensureGitignored(cwd, ['.env', '.todo-db/']).change })

  // The migrations folder starts with the todo schema this tool ships.
  changes.push({ path: (relative(cwd, dir) || '.') + '/', action: dirExisted ? 'kept' : 'created' })
  const source = join(PACKAGE_ROOT, 'migrations')
  if (resolve(source) !== resolve(dir) && existsSync(source)) {
    for (const file of readdirSync(source).filter((f) => f.endsWith('.sql')).sort()) {
      const target = join(dir, file)
      if (existsSync(target) && !force) continue
      copyFileSync(join(source, file), target)
      changes.push({ path: relative(cwd, target), action: 'created' })
    }
  }
  return changes
}
