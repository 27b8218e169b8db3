// What every command gets: where it runs, what it reads, where it writes.
import { DEFAULT_CONFIG, loadConfig, loadEnv, withEnvOverrides, type Config } from './config.js'
import { createOutput, type Output, type OutputOptions } from './output.js'
import { Deadline, parseDeadline } from './duration.js'
import { resolveTarget } from './db/target.js'
import type { DbTarget } from './db/url.js'

export interface GlobalOptions {
  databaseUrl?: string
  json?: boolean
  quiet?: boolean
  verbose?: boolean
  color?: boolean
}

export interface Context {
  cwd: string
  /** The real environment with .env beneath it. */
  env: NodeJS.ProcessEnv
  config: Config
  configPath?: string
  out: Output
  globals: GlobalOptions
  /** Aborted on SIGINT/SIGTERM: long-running work listens and cleans up. */
  signal: AbortSignal
  /** The database to use; session: a direct connection (DDL, advisory locks). */
  target(opts?: { session?: boolean }): DbTarget
  /** The connect deadline from config (timeouts.connect), started now. */
  connectDeadline(): Deadline
}

export interface ContextInput {
  cwd: string
  env: NodeJS.ProcessEnv
  globals: GlobalOptions
  signal: AbortSignal
  streams?: Pick<OutputOptions, 'stdout' | 'stderr'>
  /** false: skip the config file search (health needs none, and must start fast). */
  loadConfig?: boolean
}

export async function createContext(input: ContextInput): Promise<Context> {
  const { cwd, globals } = input
  const out = createOutput({ ...globals, ...input.streams })
  const env = loadEnv(cwd, input.env)
  const loaded = input.loadConfig === false ? { config: DEFAULT_CONFIG, filepath: undefined } : await loadConfig(cwd)
  // A command that reads no config file (health) has no use for TODO_DB_* either.
  const config = input.loadConfig === false ? loaded.config : withEnvOverrides(loaded.config, env)
  const filepath = loaded.filepath
  return {
    cwd,
    env,
    config,
    configPath: filepath,
    out,
    globals,
    signal: input.signal,
    target: (opts) => resolveTarget({ flag: globals.databaseUrl, env }, opts),
    connectDeadline: () => parseDeadline(config.timeouts.connect, 'timeouts.connect'),
  }
}
