// Sets a project up for todo-db. Never overwrites without force; safe to run twice.
import { copyFileSync, existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs'
import { dirname, join, relative, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { DEFAULT_CONFIG } from '../config.js'
import { ensureGitignored } from '../gitignore.js'

export type Change = { path: string; action: 'created' | 'overwritten' | 'updated' | 'kept' }

export interface InitOptions {
  cwd: string
  force?: boolean
  migrationsDir?: string
  /** A config file found by cosmiconfig (package.json key, .todo-dbrc*, ...), if any. */
  existingConfig?: string
}

export const CONFIG_FILE = '.todo-dbrc.json'

/** Every variable todo-db reads, documented; copied to .env by the user. */
export const ENV_EXAMPLE = `# todo-db reads these from the environment, or from .env in the working directory
# (a variable set in the real environment always wins over .env).
# Copy this file to .env and fill it in. Never commit .env.

# The database the app and todo-db use. Neon: the pooled URL (host ends in -pooler).
# Local: todo-db provision --local writes this for you.
DATABASE_URL=postgres://todo:password@localhost:5432/todo

# Direct (unpooled) URL: migrations need a real session (DDL, advisory locks).
# Neon: the same host without -pooler. Leave empty when DATABASE_URL is not pooled.
DATABASE_URL_UNPOOLED=

# Neon API key for todo-db provision (console: Account settings > API keys).
NEON_API_KEY=

# Neon organization id, for API keys that must name one (todo-db provision --org).
NEON_ORG_ID=

# Neon API base URL, /api/v2 included. Only for tests or a proxy.
# NEON_API_HOST=https://console.neon.tech/api/v2

# Settings that override the config file (flags override these).
# TODO_DB_MIGRATIONS_DIR=migrations
# TODO_DB_MIGRATIONS_TABLE=pgmigrations
# TODO_DB_CONNECT_TIMEOUT=30s
# TODO_DB_LOCK_TIMEOUT=10s
# TODO_DB_STATEMENT_TIMEOUT=0

# Set to anything to turn colours off.
# NO_COLOR=1
`

function packageMigrationsDir(): string {
  // dist/init/project.js -> <package>/migrations
  return resolve(dirname(fileURLToPath(import.meta.url)), '../../migrations')
}

function writeFile(path: string, text: string, force: boolean | undefined, changes: Change[], cwd: string): void {
  const rel = relative(cwd, path) || path
  if (existsSync(path) && !force) return void changes.push({ path: rel, action: 'kept' })
  const action = existsSync(path) ? 'overwritten' : 'created'
  writeFileSync(path, text)
  changes.push({ path: rel, action })
}

export function initProject(opts: InitOptions): Change[] {
  const { cwd, force } = opts
  const changes: Change[] = []
  const migrationsDir = opts.migrationsDir ?? DEFAULT_CONFIG.migrationsDir

  if (opts.existingConfig && !force) {
    changes.push({ path: relative(cwd, opts.existingConfig) || opts.existingConfig, action: 'kept' })
  } else {
    const config = { ...DEFAULT_CONFIG, migrationsDir }
    writeFile(join(cwd, CONFIG_FILE), JSON.stringify(config, null, 2) + '\n', force, changes, cwd)
  }
  writeFile(join(cwd, '.env.example'), ENV_EXAMPLE, force, changes, cwd)
  changes.push({ path: '.gitignore', action: ensureGitignored(cwd, ['.env', '.todo-db/']).change })

  // The migrations folder starts with the todo schema this tool ships.
  const dir = join(cwd, migrationsDir)
  const relDir = relative(cwd, dir) + '/'
  changes.push({ path: relDir, action: existsSync(dir) ? 'kept' : 'created' })
  mkdirSync(dir, { recursive: true })
  const source = packageMigrationsDir()
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
