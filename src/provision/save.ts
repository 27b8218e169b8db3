// Where provisioned URLs end up: the env file (0600), and .gitignore entries so they stay out of git.
import { isAbsolute, relative, resolve } from 'node:path'
import { readEnvValue, writeEnvFile, type EnvFileChange, type EnvUpdates } from './envfile.js'
import { ensureGitignored, type GitignoreChange } from './gitignore.js'

export interface Saved {
  envFile: Omit<EnvFileChange, 'path'> & { path: string }
  gitignore: { change: GitignoreChange; added: string[] }
}

/** Writes the keys to the env file and makes sure git ignores it (and `alsoIgnore`). */
export function saveUrls(cwd: string, envFile: string, updates: EnvUpdates, alsoIgnore: string[] = []): Saved {
  const path = resolve(cwd, envFile)
  const rel = relative(cwd, path)
  // Ignore before writing: a secret must never sit for a moment in a file git would pick up.
  const inProject = rel !== '' && !rel.startsWith('..') && !isAbsolute(rel)
  const gitignore = ensureGitignored(cwd, [...(inProject ? [rel.split('\\').join('/')] : []), ...alsoIgnore])
  const change = writeEnvFile(path, updates)
  return { envFile: { ...change, path: inProject ? rel : path }, gitignore }
}

/** Removes DATABASE_URL from the env file only when it is `url`: a URL the user set stays. */
export function forgetUrl(cwd: string, envFile: string, url: string | undefined): string[] {
  const path = resolve(cwd, envFile)
  if (url === undefined || readEnvValue(path, 'DATABASE_URL') !== url) return []
  return writeEnvFile(path, { DATABASE_URL: undefined }).removed
}
