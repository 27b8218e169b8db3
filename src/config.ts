// Settings come from, strongest first: flags, the environment, .env, the config file, defaults.
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { parseEnv } from 'node:util'
import { badInput } from './errors.js'

export interface Config {
  migrationsDir: string
  migrationsTable: string
  timeouts: {
    /** How long to keep trying to reach the server (a Neon compute may be waking). */
    connect: string
    /** How long a migration waits for a lock before failing. */
    lock: string
    /** Longest a single statement may run (0: no limit). */
    statement: string
    /** A connection that owes an answer and moves no byte for this long is checked, and closed if dead (0: never). */
    stall: string
  }
  seed: {
    seed: number
    users: number
    categories: number
    todos: number
  }
  provision: {
    /** The driver whose URL form provision writes (src/provision/url-format.ts). */
    urlFormat: string
  }
}

export const DEFAULT_CONFIG: Config = {
  migrationsDir: 'migrations',
  migrationsTable: 'pgmigrations',
  timeouts: { connect: '10s', lock: '10s', statement: '0', stall: '15s' },
  seed: { seed: 42, users: 5, categories: 3, todos: 50 },
  provision: { urlFormat: 'libpq' },
}

export const CONFIG_MODULE = 'todo-db'

export interface LoadedConfig {
  config: Config
  filepath?: string
  /** Where each value came from; a key not here has its default. */
  sources: Sources
}

/** A setting's dotted name, as the config file spells it: "timeouts.lock", "seed.users". */
export type SettingKey =
  | 'migrationsDir' | 'migrationsTable'
  | `timeouts.${keyof Config['timeouts'] & string}`
  | `seed.${keyof Config['seed'] & string}`
  | `provision.${keyof Config['provision'] & string}`

/** Where a value came from, so a message about it names what the user actually wrote. */
export type Source =
  | { kind: 'flag'; flag: string }
  | { kind: 'env'; variable: string; dotenv?: boolean }
  | { kind: 'file'; path: string; key: SettingKey }
  | { kind: 'default'; key: SettingKey }

export type Sources = Partial<Record<SettingKey, Source>>

export interface Setting<T> {
  value: T
  source: Source
}

/** How a message names a source: `--lock-timeout`, `TODO_DB_LOCK_TIMEOUT`, `/app/.todo-dbrc.json: timeouts.lock`. */
export function sourceName(s: Source): string {
  switch (s.kind) {
    case 'flag': return s.flag
    // A line in .env is easy to forget: say where to look.
    case 'env': return s.dotenv ? `${s.variable} (in .env)` : s.variable
    case 'file': return `${s.path}: ${s.key}`
    case 'default': return s.key
  }
}

export function valueAt(config: Config, key: SettingKey): string | number {
  const [head, tail] = key.split('.')
  const v = (config as unknown as Record<string, unknown>)[head]
  return (tail === undefined ? v : (v as Record<string, unknown>)[tail]) as string | number
}

/** A setting's value and source: the flag when it was given, else what config and environment decided. */
export function settingOf(loaded: LoadedConfig, key: SettingKey, flag?: { name: string; value: string | undefined }): Setting<string | number> {
  if (flag?.value !== undefined) return { value: flag.value, source: { kind: 'flag', flag: flag.name } }
  return { value: valueAt(loaded.config, key), source: loaded.sources[key] ?? { kind: 'default', key } }
}

/** Loads the cosmiconfig config (package.json key, .todo-dbrc*, todo-db.config.*) from cwd upwards. */
export async function loadConfig(cwd: string): Promise<LoadedConfig> {
  // cosmiconfig is CommonJS: its exports object is the default export, under Node and bundled alike.
  const { default: { cosmiconfig } } = await import('cosmiconfig')
  const explorer = cosmiconfig(CONFIG_MODULE, {
    searchStrategy: 'project',
    loaders: { '.js': loadJsConfig, '.mjs': loadJsConfig, '.cjs': loadJsConfig },
  })
  let found
  try {
    found = await explorer.search(cwd)
  } catch (e) {
    throw badInput(`cannot read the todo-db config file: ${parseErrorLine((e as Error).message)}`, 'fix or remove the file')
  }
  if (!found || found.isEmpty) return { config: DEFAULT_CONFIG, sources: {} }
  const config = mergeConfig(DEFAULT_CONFIG, found.config, found.filepath)
  return { config, filepath: found.filepath, sources: fileSources(found.config, found.filepath) }
}

/** The keys the file sets (its shape already checked). */
function fileSources(raw: Record<string, unknown>, path: string): Sources {
  const sources: Sources = {}
  for (const [key, value] of Object.entries(raw)) {
    const keys = isObject(value) ? Object.keys(value).map((k) => `${key}.${k}`) : [key]
    for (const k of keys as SettingKey[]) sources[k] = { kind: 'file', path, key: k }
  }
  return sources
}

/**
 * A JavaScript config file, loaded with import() alone. cosmiconfig's own loader retries a failed
 * import with import-fresh, which cannot run inside our bundle and then reports only
 * "__filename is not defined", hiding the file's real error. Node's import() loads CommonJS too.
 */
async function loadJsConfig(filepath: string): Promise<unknown> {
  try {
    return (await import(pathToFileURL(filepath).href)).default
  } catch (e) {
    const err = e instanceof Error ? e : new Error(String(e))
    // Where in the file: the first stack frame (or SyntaxError header) that names it.
    const at = err.stack?.split('\n').map((l) => l.split(filepath)[1]).find((rest) => rest !== undefined)?.match(/^:(\d+(?::\d+)?)/)?.[1]
    throw new Error(`${filepath}${at ? `:${at}` : ''}: ${err.name}: ${err.message.split('\n')[0]}`)
  }
}

/**
 * cosmiconfig's parse errors span lines (a code frame under "JSON Error in FILE:"): keep the file
 * and the reason, on one line.
 */
function parseErrorLine(message: string): string {
  const lines = message.split('\n').map((l) => l.trim()).filter((l) => l && !/^(>|\||\d+\s*\|)/.test(l))
  const [head = message, reason] = lines
  return reason ? `${head.replace(/:$/, '')}: ${reason.replace(/ while parsing .*$/, '')}` : head
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v)

/** The config file's shape: known keys only, of the right kind. Values are checked where they are used. */
function checkShape(raw: unknown, base: object, where: string, filepath: string): void {
  if (!isObject(raw)) throw badInput(`${filepath}: ${where || 'the config'} must be an object`, 'see "Config" in the README')
  for (const [key, value] of Object.entries(raw)) {
    const name = where ? `${where}.${key}` : key
    // Own keys only: "constructor" or "toString" are in every object, and are no config keys.
    if (!Object.hasOwn(base, key)) throw badInput(`${filepath}: unknown config key "${name}"`, `known keys: ${Object.keys(base).join(', ')}`)
    const expected = (base as Record<string, unknown>)[key]
    if (isObject(expected)) checkShape(value, expected, name, filepath)
    else if (typeof expected === 'string' && typeof value !== 'string' && !(name.startsWith('timeouts.') && typeof value === 'number')) {
      throw badInput(`${filepath}: ${name} must be a string, not ${JSON.stringify(value)}`)
    } else if (typeof value === 'string' && value.trim() === '') {
      // "" would mean the current folder, or no timeout: never what a config file means to say.
      throw badInput(`${filepath}: ${name} is empty`, 'give it a value or remove the key', 'EMPTY_VALUE')
    } else if (typeof expected === 'number' && typeof value !== 'number') {
      throw badInput(`${filepath}: ${name} must be a number, not ${JSON.stringify(value)}`)
    }
  }
}

function mergeConfig(base: Config, raw: unknown, filepath: string): Config {
  checkShape(raw, base, '', filepath)
  const r = raw as Partial<Config>
  return {
    migrationsDir: r.migrationsDir ?? base.migrationsDir,
    migrationsTable: r.migrationsTable ?? base.migrationsTable,
    timeouts: { ...base.timeouts, ...r.timeouts },
    seed: { ...base.seed, ...r.seed },
    provision: { ...base.provision, ...r.provision },
  }
}

/**
 * Environment variables that override a config key; flags override them in turn
 * (flag > environment > config file > default). CI can set them without a config file.
 */
export const CONFIG_ENV: Record<string, SettingKey> = {
  TODO_DB_MIGRATIONS_DIR: 'migrationsDir',
  TODO_DB_MIGRATIONS_TABLE: 'migrationsTable',
  TODO_DB_CONNECT_TIMEOUT: 'timeouts.connect',
  TODO_DB_LOCK_TIMEOUT: 'timeouts.lock',
  TODO_DB_STATEMENT_TIMEOUT: 'timeouts.statement',
  TODO_DB_URL_FORMAT: 'provision.urlFormat',
  TODO_DB_STALL_TIMEOUT: 'timeouts.stall',
}

/** inDotenv: whether a variable came from .env rather than the real environment. */
export function withEnvOverrides(loaded: LoadedConfig, env: NodeJS.ProcessEnv, inDotenv: (variable: string) => boolean = () => false): LoadedConfig {
  const { config } = loaded
  const out: Config = { ...config, timeouts: { ...config.timeouts }, seed: { ...config.seed }, provision: { ...config.provision } }
  const sources: Sources = { ...loaded.sources }
  for (const [variable, key] of Object.entries(CONFIG_ENV)) {
    const value = env[variable]
    if (value === undefined) continue
    // Set but blank ("$UNSET_VAR" in CI): a mistake to report, not a reason to use the default.
    if (value.trim() === '') throw badInput(`${variable} is set but empty`, `give it a value or unset it`, 'EMPTY_VALUE')
    const [head, tail] = key.split('.')
    if (tail === undefined) (out as unknown as Record<string, unknown>)[head] = value.trim()
    else (out as unknown as Record<string, Record<string, unknown>>)[head][tail] = value.trim()
    sources[key] = inDotenv(variable) ? { kind: 'env', variable, dotenv: true } : { kind: 'env', variable }
  }
  return { ...loaded, config: out, sources }
}

/**
 * The environment the command sees: .env from the working directory under the real environment.
 * A variable that is set in the real environment is never overridden by .env.
 */
export function loadEnv(cwd: string, env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  let text: string
  try {
    text = readFileSync(join(cwd, '.env'), 'utf8')
  } catch {
    return { ...env }
  }
  const fromFile = parseEnv(text) as Record<string, string>
  return { ...fromFile, ...env }
}
