// What every command gets: where it runs, what it reads, where it writes.
import { DEFAULT_CONFIG, loadConfig, loadEnv, settingOf, sourceName, withEnvOverrides, type Config, type Setting, type SettingKey } from './config.js'
import { createOutput, type Output, type OutputOptions } from './output.js'
import { Deadline, parseDeadline, parseDuration } from './duration.js'
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
  /** A setting with where it came from (flag, variable, config file, default), for messages that name it. */
  setting(key: SettingKey, flag?: { name: string; value: string | undefined }): Setting<string | number>
  out: Output
  globals: GlobalOptions
  /** Aborted on SIGINT/SIGTERM: long-running work listens and cleans up. */
  signal: AbortSignal
  /** The database to use; session: a direct connection (DDL, advisory locks). */
  target(opts?: { session?: boolean | 'prefer' }): DbTarget
  /** The connect deadline from config (timeouts.connect), started now. */
  connectDeadline(): Deadline
  /** What every database connection of a command gets: the connect deadline, the signal, the stall watchdog. */
  connectOptions(): { deadline: Deadline; out: Output; signal: AbortSignal; stallMs: number; cwd: string }
  /** A command's --timeout: replaces timeouts.connect (checked now, so bad input fails first). */
  useTimeoutFlag(value: string | undefined): void
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
  // A command that reads no config file (health) has no use for TODO_DB_* either.
  const loaded = input.loadConfig === false ? { config: DEFAULT_CONFIG, sources: {} } : withEnvOverrides(await loadConfig(cwd), env, (name) => input.env[name] === undefined)
  const { config, filepath } = loaded
  const named = (key: SettingKey) => {
    const s = settingOf(loaded, key)
    return { value: s.value, name: sourceName(s.source) }
  }
  let connectTimeout = named('timeouts.connect')
  const stall = named('timeouts.stall')
  return {
    cwd,
    env,
    config,
    configPath: filepath,
    setting: (key, flag) => settingOf(loaded, key, flag),
    out,
    globals,
    signal: input.signal,
    target: (opts) => resolveTarget({ flag: globals.databaseUrl, env }, opts),
    connectDeadline: () => parseDeadline(connectTimeout.value, connectTimeout.name),
    connectOptions: () => ({
      deadline: parseDeadline(connectTimeout.value, connectTimeout.name),
      out,
      signal: input.signal,
      stallMs: parseDuration(stall.value, stall.name),
      cwd,
    }),
    useTimeoutFlag(value) {
      if (value === undefined) return
      parseDeadline(value, '--timeout')
      connectTimeout = { value, name: '--timeout' }
    },
  }
}
