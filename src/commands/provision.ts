// todo-db provision: flags -> a Neon project/branch or a local server -> URLs in the env file.
import { sourceName } from '../config.js'
import { confirmDestruction } from '../confirm.js'
import type { Context } from '../context.js'
import { parseDeadline, type Deadline } from '../duration.js'
import { badInput } from '../errors.js'
import type { BranchToDelete, BranchToReset } from '../provision/neon.js'
import { checkEnvFile, forgetUrls, saveUrls, type Saved } from '../provision/save.js'
import { parseUrlFormat, type UrlFormat } from '../provision/url-format.js'

// Each subcommand's own flags, as commander hands them over (src/cli.ts declares them).
interface NeonApiFlags {
  project: string
  apiKey?: string
  apiHost?: string
  org?: string
  timeout: string
}
interface EnvFileFlags {
  dotenv?: string
  /** The old name of --dotenv, hidden: Node 20 takes it as its own (nodejs/node#54232). */
  envFile?: string
}
export type ListFlags = NeonApiFlags
export interface NeonFlags extends NeonApiFlags, EnvFileFlags {
  branch?: string
  parent?: string
  region?: string
  role?: string
  database?: string
  expiresIn?: string
  resetFromParent?: boolean
  /** With --reset-from-parent: do not ask (src/confirm.ts). */
  yes?: boolean
  githubOutput?: boolean
  urlFormat?: string
}
/** What deletes asks first: --dry-run lists, --yes does not ask (src/confirm.ts). */
interface DestructiveFlags {
  dryRun?: boolean
  yes?: boolean
}
export interface DeleteBranchFlags extends NeonApiFlags, EnvFileFlags, DestructiveFlags {
  role?: string
  database?: string
}
export interface LocalStartFlags extends EnvFileFlags {
  database?: string
  urlFormat?: string
  timeout: string
}
export type LocalDestroyFlags = EnvFileFlags & DestructiveFlags & { timeout: string }
export interface LocalStopFlags {
  timeout: string
}

/** What the env file and .gitignore got, e.g. ".env (created): DATABASE_URL (pooled); .gitignore: added .env". */
const wrote = (saved: Saved, labels: Record<string, string> = {}) => {
  const keys = saved.envFile.set.map((k) => (labels[k] ? `${k} (${labels[k]})` : k))
  const file = saved.envFile.target ? `${saved.envFile.path} -> ${saved.envFile.target}` : saved.envFile.path
  const parts = [`${file} (${saved.envFile.created ? 'created' : 'updated'}): ${keys.join(', ') || 'already up to date'}`]
  if (saved.envFile.removed.length) parts.push(`removed ${saved.envFile.removed.join(', ')}`)
  if (saved.gitignore.added.length) parts.push(`.gitignore: added ${saved.gitignore.added.join(', ')}`)
  return parts.join('; ')
}

async function neonApi(ctx: Context, o: NeonApiFlags) {
  const deadline = parseDeadline(o.timeout, '--timeout')
  const { createNeonApi } = await import('../provision/neon-api.js')
  return createNeonApi({ apiKey: o.apiKey, apiHost: o.apiHost, orgId: o.org, env: ctx.env, deadline, signal: ctx.signal, out: ctx.out })
}

/** provision neon: find or create the project and branch, write their URLs. */
export async function neon(ctx: Context, o: NeonFlags): Promise<void> {
  const envFile = envFileOf(o)
  if ((o.expiresIn || o.resetFromParent) && !o.branch) {
    throw badInput(`${o.expiresIn ? '--expires-in' : '--reset-from-parent'} needs --branch`, 'the default branch neither expires nor has a parent', 'USAGE')
  }
  checkEnvFile(ctx.cwd, envFile)
  const format = urlFormat(ctx, o)
  const { parseExpiresIn } = await import('../provision/expiry.js')
  const expiresAt = o.expiresIn !== undefined ? parseExpiresIn(o.expiresIn) : undefined
  const gh = o.githubOutput ? await import('../provision/github-output.js') : undefined
  const githubFile = gh?.githubOutputFile(ctx.env)
  const api = await neonApi(ctx, o)
  const { provisionNeon, NEON_DEFAULT_DATABASE, NEON_DEFAULT_ROLE } = await import('../provision/neon.js')
  let spinner = await ctx.out.spinner(`Neon: project ${o.project}${o.branch ? `, branch ${o.branch}` : ''}`)
  // The question needs the terminal to itself: the spinner stops while it is asked.
  const confirmReset = async (r: BranchToReset) => {
    spinner.stop()
    await confirmDestruction(ctx, {
      doing: 'provision neon --reset-from-parent discards',
      items: [`the data of branch ${r.branch.name} (${r.branch.id}) of Neon project ${r.project.name} (it gets a copy of ${r.parent.name}'s)`],
      yes: o.yes,
    })
    spinner = await ctx.out.spinner(`Neon: resetting branch ${r.branch.name} from ${r.parent.name}`)
  }
  let p
  try {
    p = await provisionNeon(api, {
      project: o.project,
      branch: o.branch,
      parent: o.parent,
      region: o.region,
      role: o.role ?? NEON_DEFAULT_ROLE,
      database: o.database ?? NEON_DEFAULT_DATABASE,
      expiresAt,
      resetFromParent: o.resetFromParent,
      confirmReset,
    })
  } finally {
    spinner.stop()
  }
  for (const note of p.notes) ctx.out.warn(note)
  const saved = saveUrls(ctx.cwd, envFile, { DATABASE_URL: p.pooledUri, DATABASE_URL_UNPOOLED: p.directUri }, ctx.env, [], format)
  for (const w of saved.warnings) ctx.out.warn(w)
  const host = new URL(p.directUri).hostname
  const pooledHost = new URL(p.pooledUri).hostname
  let githubOutputs: string[] | undefined
  if (gh && githubFile) {
    githubOutputs = gh.writeGithubOutputs(githubFile, {
      branch_id: p.branch.id,
      branch_name: p.branch.name,
      created: String(p.branch.created),
      db_url: p.directUri,
      db_url_pooled: p.pooledUri,
      db_host: host,
      db_host_pooled: pooledHost,
      expires_at: p.branch.expiresAt,
    }, (line) => ctx.out.workflowCommand(line))
  }
  const { pooledUri: _pooled, directUri: _direct, ...shown } = p
  const state = (created: boolean) => (created ? 'created' : p.branch.reset ? 'found, reset to its parent\'s data' : 'found')
  ctx.out.result({ ok: true, provider: 'neon', ...shown, host, pooledHost, ...saved, ...(githubOutputs ? { githubOutputs } : {}) }, () => [
    `project  ${p.project.name} (${p.project.id}): ${p.project.created ? 'created' : 'found'}`,
    `branch   ${p.branch.name} (${p.branch.id}): ${state(p.branch.created)}${p.branch.parent ? `, from ${p.branch.parent}` : ''}${p.branch.default ? ', default branch' : ''}${p.branch.expiresAt ? `, expires ${p.branch.expiresAt}` : ''}`,
    `compute  ${p.endpoint.id}: ${p.endpoint.created ? 'created' : 'found'}; host ${host}, pooled ${pooledHost}`,
    `database ${p.database} as ${p.role}`,
    `wrote    ${wrote(saved, { DATABASE_URL: 'pooled', DATABASE_URL_UNPOOLED: 'direct' })}`,
    ...(githubOutputs ? [`outputs  ${githubOutputs.join(', ')} (GITHUB_OUTPUT; the password is masked)`] : []),
  ].join('\n'))
}

/** provision neon delete-branch NAME */
export async function deleteBranch(ctx: Context, o: DeleteBranchFlags, [name]: string[]): Promise<void> {
  const envFile = envFileOf(o)
  checkEnvFile(ctx.cwd, envFile)
  const api = await neonApi(ctx, o)
  const neon = await import('../provision/neon.js')
  const items = (f: BranchToDelete) => (f.branch ? [`branch ${f.branch.name} (${f.branch.id}) of Neon project ${f.project.name}, with all its data`] : [])
  if (o.dryRun) {
    const f = await neon.branchToDelete(api, o.project, name)
    ctx.out.result({ ok: true, provider: 'neon', dryRun: true, project: f.project, wouldDelete: f.branch ?? null },
      f.branch ? `provision neon delete-branch would delete ${items(f)[0]} (dry run: nothing was deleted)` : `no branch ${name} in Neon project ${f.project.name}: nothing to delete`)
    return
  }
  const r = await neon.deleteBranch(api, o.project, name, { role: o.role ?? neon.NEON_DEFAULT_ROLE, database: o.database ?? neon.NEON_DEFAULT_DATABASE },
    (f) => confirmDestruction(ctx, { doing: 'provision neon delete-branch deletes', items: items(f), yes: o.yes }))
  // Like --local --destroy: URLs of a server that no longer exists would only fail later.
  if (!r.branch) {
    // Idempotent, as a CI job closing a pull request needs: an expired or already deleted branch is done.
    ctx.out.result({ ok: true, provider: 'neon', deleted: null, alreadyGone: name, project: r.project, envRemoved: [] },
      `no branch ${name} in Neon project ${r.project.name}: already deleted`)
    return
  }
  const envRemoved = forgetUrls(ctx.cwd, envFile, r.uris)
  ctx.out.result({ ok: true, provider: 'neon', deleted: r.branch, project: r.project, envRemoved },
    `deleted branch ${r.branch.name} (${r.branch.id}) of Neon project ${r.project.name}` +
      (envRemoved.length ? `; removed ${envRemoved.join(' and ')} from ${envFile}` : ''))
}

type LocalAction = 'start' | 'stop' | 'destroy'

/** One run at a time per project, the env file included; the next finds what this one made. */
async function withLock<T>(ctx: Context, action: LocalAction, timeout: string, work: (deadline: Deadline) => Promise<T>): Promise<T> {
  const { withLocalLock } = await import('../provision/local-lock.js')
  const { localPaths } = await import('../provision/local-state.js')
  const deadline = parseDeadline(timeout, '--timeout')
  const lock = { paths: localPaths(ctx.cwd), deadline, signal: ctx.signal, out: ctx.out, create: action === 'start' }
  return withLocalLock(lock, () => work(deadline))
}

/** provision local [start]: create and start, or reuse, or restart the local server. */
export async function localStart(ctx: Context, o: LocalStartFlags): Promise<void> {
  const envFile = envFileOf(o)
  checkEnvFile(ctx.cwd, envFile)
  const format = urlFormat(ctx, o)
  return withLock(ctx, 'start', o.timeout, async (deadline) => {
    const local = await import('../provision/local.js')
    const s = await local.provisionLocal({ cwd: ctx.cwd, database: o.database, deadline, signal: ctx.signal, out: ctx.out })
    // A direct server has no pooler: a DATABASE_URL_UNPOOLED left from Neon would point elsewhere.
    const saved = saveUrls(ctx.cwd, envFile, { DATABASE_URL: s.url, DATABASE_URL_UNPOOLED: undefined }, ctx.env, [`${local.LOCAL_DIR}/`], format)
    for (const w of saved.warnings) ctx.out.warn(w)
    const { url: _url, ...shown } = s
    const what = s.created ? 'created and started' : s.started ? 'started' : 'already running'
    ctx.out.result({ ok: true, provider: 'local', action: s.created ? 'create' : s.started ? 'start' : 'reuse', ...shown, host: '127.0.0.1', ...saved }, () => [
      `local PostgreSQL ${what}: 127.0.0.1:${s.port}, database ${s.database} as ${s.user}`,
      `data     ${s.dataDir}`,
      `wrote    ${wrote(saved)}`,
      'stop it with todo-db provision local stop; delete it with todo-db provision local destroy',
    ].join('\n'))
  })
}

/** provision local stop: the data stays. */
export async function localStop(ctx: Context, o: LocalStopFlags): Promise<void> {
  return withLock(ctx, 'stop', o.timeout, async () => {
    const local = await import('../provision/local.js')
    const r = await local.stopLocal(ctx.cwd)
    ctx.out.result({ ok: true, provider: 'local', action: 'stop', ...r },
      !r.existed ? `no local PostgreSQL in ${r.dataDir}` : r.wasRunning ? `stopped the local PostgreSQL (${r.dataDir})` : 'the local PostgreSQL was not running')
  })
}

/** provision local destroy: stop it, delete its data and the DATABASE_URL written for it. */
export async function localDestroy(ctx: Context, o: LocalDestroyFlags): Promise<void> {
  const envFile = envFileOf(o)
  checkEnvFile(ctx.cwd, envFile)
  return withLock(ctx, 'destroy', o.timeout, async () => {
    const local = await import('../provision/local.js')
    const what = local.localToDestroy(ctx.cwd)
    const items = what.existed ? [`the local PostgreSQL in ${what.dataDir}, with all its data (${megabytes(what.bytes)})`] : []
    if (o.dryRun) {
      ctx.out.result({ ok: true, provider: 'local', action: 'destroy', dryRun: true, ...what },
        what.existed ? `provision local destroy would delete ${items[0]} (dry run: nothing was deleted)` : `no local PostgreSQL in ${what.dataDir}: nothing to delete`)
      return
    }
    await confirmDestruction(ctx, { doing: 'provision local destroy deletes', items, yes: o.yes })
    const r = await local.destroyLocal(ctx.cwd)
    const envRemoved = forgetUrls(ctx.cwd, envFile, [r.url])
    const { url: _url, ...shown } = r
    ctx.out.result({ ok: true, provider: 'local', action: 'destroy', ...shown, envRemoved },
      (r.existed ? `destroyed the local PostgreSQL and its data (${r.dataDir})` : `no local PostgreSQL in ${r.dataDir}`) +
        (envRemoved.length ? `; removed DATABASE_URL from ${envFile}` : ''))
  })
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** The driver whose URL form goes to the env file: --url-format, else TODO_DB_URL_FORMAT or the config. */
function urlFormat(ctx: Context, o: { urlFormat?: string }): UrlFormat {
  const s = ctx.setting('provision.urlFormat', { name: '--url-format', value: o.urlFormat })
  return parseUrlFormat(String(s.value), sourceName(s.source))
}

/** --dotenv, or its old name --env-file (kept for scripts; --env-file .env is the old default). */
function envFileOf(o: EnvFileFlags): string {
  if (o.dotenv !== undefined && o.envFile !== undefined && o.envFile !== '.env' && o.envFile !== o.dotenv) {
    throw badInput('--env-file and --dotenv name different files', 'give one of them: --dotenv PATH', 'USAGE')
  }
  return o.dotenv ?? o.envFile ?? '.env'
}

/** provision neon list */
export async function list(ctx: Context, o: ListFlags): Promise<void> {
  const api = await neonApi(ctx, o)
  const { listBranches } = await import('../provision/neon.js')
  const r = await listBranches(api, o.project)
  ctx.out.result({ ok: true, ...r }, () => {
    const width = Math.max(4, ...r.branches.map((b) => b.name.length))
    return [
      `Neon project ${r.project.name} (${r.project.id}):`,
      ...r.branches.map((b) => `  ${b.name.padEnd(width)}  ${b.id}  ${b.state}${b.default ? '  default' : ''}${b.parent ? `  from ${b.parent}` : ''}`),
    ].join('\n')
  })
}
