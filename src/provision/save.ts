// Where provisioned URLs end up: the env file (0600), and .gitignore entries so they stay out of git.
import { isAbsolute, relative, resolve } from 'node:path'
import { envFileTarget, readEnvValue, writeEnvFile, type EnvFileChange, type EnvUpdates } from './envfile.js'
import { ensureGitignored, type GitignoreChange } from '../gitignore.js'
import { formatDatabaseUrl, URL_FORMATS, type UrlFormat } from './url-format.js'

export interface Saved {
  envFile: EnvFileChange
  gitignore: { change: GitignoreChange; added: string[] }
  /** The driver whose URL form was written. */
  urlFormat: UrlFormat
  /** Why the next command may not see what was written. */
  warnings: string[]
}

/** Exit 3 now, before a server is made, when the env file could not be written at the end. */
export function checkEnvFile(cwd: string, envFile: string): void {
  envFileTarget(resolve(cwd, envFile))
}

/** A path for messages: relative when inside the project. */
function shown(cwd: string, path: string): string {
  const rel = relative(cwd, path)
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : path
}

/**
 * Writes the URLs to the env file, in the form `format` names, and makes sure git ignores it (and
 * `alsoIgnore`). `env` is what
 * commands see (the real environment over ./.env): a key set there wins over anything written here.
 */
export function saveUrls(cwd: string, envFile: string, urls: EnvUpdates, env: NodeJS.ProcessEnv, alsoIgnore: string[] = [], format: UrlFormat = 'libpq'): Saved {
  const updates = Object.fromEntries(Object.entries(urls).map(([k, v]) => [k, v === undefined ? v : formatDatabaseUrl(v, format)]))
  const path = resolve(cwd, envFile)
  const rel = relative(cwd, path)
  const warnings: string[] = []
  if (path !== resolve(cwd, '.env')) {
    warnings.push(`todo-db commands read ./.env: load ${envFile} into the environment to use what was written there`)
  } else {
    // A value in ctx.env that is not the file's own came from the real environment, and it wins.
    const shadowed = Object.keys(updates).filter((k) => env[k] !== undefined && env[k] !== readEnvValue(path, k))
    if (shadowed.length) warnings.push(`${shadowed.join(' and ')} ${shadowed.length > 1 ? 'are' : 'is'} set in the environment, which wins over ${envFile}: unset it to use what was written`)
  }
  // Ignore before writing: a secret must never sit for a moment in a file git would pick up.
  const inProject = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
  const gitignore = ensureGitignored(cwd, [...(inProject ? [rel.split('\\').join('/')] : []), ...alsoIgnore])
  const change = writeEnvFile(path, updates)
  const target = change.target === undefined ? {} : { target: shown(cwd, change.target) }
  return { envFile: { ...change, path: shown(cwd, path), ...target }, gitignore, urlFormat: format, warnings }
}

/**
 * Removes DATABASE_URL and DATABASE_URL_UNPOOLED from the env file where they hold one of `urls`
 * (what provision wrote for a server that is now gone); a URL the user set themselves stays.
 */
export function forgetUrls(cwd: string, envFile: string, urls: (string | undefined)[]): string[] {
  const path = resolve(cwd, envFile)
  // In whichever driver's form it was written.
  const gone = new Set(urls.filter((u): u is string => !!u).flatMap((u) => URL_FORMATS.map((f) => formatDatabaseUrl(u, f))))
  const keys = ['DATABASE_URL', 'DATABASE_URL_UNPOOLED'].filter((k) => {
    const value = readEnvValue(path, k)
    return value !== undefined && gone.has(value)
  })
  if (!keys.length) return []
  return writeEnvFile(path, Object.fromEntries(keys.map((k) => [k, undefined]))).removed
}
