// todo-db provision: flags -> a Neon project/branch or a local server -> URLs in the env file.
import { confirmDestruction } from '../confirm.js'
import type { Context } from '../context.js'
import { parseDeadline, type Deadline } from '../duration.js'
import { badInput } from '../errors.js'
import { checkEnvFile, forgetUrls, saveUrls, type Saved } from '../provision/save.js'
import { parseUrlFormat, type UrlFormat } from '../provision/url-format.js'

export interface ProvisionOptions {
  local?: boolean
  stop?: boolean
  destroy?: boolean
  project: string
  branch?: string
  parent?: string
  region?: string
  role?: string
  database?: string
  deleteBranch?: string
  envFile: string
  dotenv?: string
  apiKey?: string
  apiHost?: string
  org?: string
  timeout: string
  urlFormat?: string
  expiresIn?: string
  resetFromParent?: boolean
  githubOutput?: boolean
  dryRun?: boolean
  yes?: boolean
}

function checkFlags(o: ProvisionOptions): void {
  for (const k of ['project', 'branch', 'parent', 'region', 'role', 'database', 'deleteBranch'] as const) {
    if (o[k] !== undefined && o[k]!.trim() === '') throw badInput(`--${k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())} is empty`, 'give it a name', 'USAGE')
  }
  const neonOnly = (['branch', 'parent', 'region', 'role', 'deleteBranch', 'apiKey', 'apiHost', 'org', 'expiresIn', 'resetFromParent', 'githubOutput'] as const).filter((k) => o[k] !== undefined)
  const flag = (k: string) => '--' + k.replace(/[A-Z]/g, (c) => '-' + c.toLowerCase())
  if (o.local && neonOnly.length) throw badInput(`--local cannot be combined with ${neonOnly.map(flag).join(', ')}`, 'those flags are for Neon', 'USAGE')
  if ((o.stop || o.destroy) && !o.local) throw badInput(`${o.stop ? '--stop' : '--destroy'} works with --local only`, 'todo-db provision --local --stop', 'USAGE')
  if (o.stop && o.destroy) throw badInput('--stop and --destroy together: --destroy stops the server too', undefined, 'USAGE')
  if (o.deleteBranch && (o.branch || o.parent || o.region || o.expiresIn || o.resetFromParent || o.githubOutput)) {
    throw badInput('--delete-branch cannot be combined with --branch, --parent, --region, --expires-in, --reset-from-parent or --github-output', undefined, 'USAGE')
  }
  if (o.dryRun && !o.deleteBranch && !o.destroy) {
    throw badInput('--dry-run goes with --delete-branch or --local --destroy: it lists what they would delete', undefined, 'USAGE')
  }
  if ((o.expiresIn || o.resetFromParent) && !o.branch) {
    throw badInput(`${o.expiresIn ? '--expires-in' : '--reset-from-parent'} needs --branch`, 'the default branch neither expires nor has a parent', 'USAGE')
  }
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

async function neonApi(ctx: Context, o: ProvisionOptions) {
  const deadline = parseDeadline(o.timeout, '--timeout')
  const { createNeonApi } = await import('../provision/neon-api.js')
  return createNeonApi({ apiKey: o.apiKey, apiHost: o.apiHost, orgId: o.org, env: ctx.env, deadline, signal: ctx.signal, out: ctx.out })
}

async function runNeon(ctx: Context, o: ProvisionOptions): Promise<void> {
  const { parseExpiresIn } = await import('../provision/expiry.js')
  const expiresAt = o.expiresIn !== undefined ? parseExpiresIn(o.expiresIn) : undefined
  const gh = o.githubOutput ? await import('../provision/github-output.js') : undefined
  const githubFile = gh?.githubOutputFile(ctx.env)
  const api = await neonApi(ctx, o)
  const { provisionNeon, NEON_DEFAULT_DATABASE, NEON_DEFAULT_ROLE } = await import('../provision/neon.js')
  const spinner = await ctx.out.spinner(`Neon: project ${o.project}${o.branch ? `, branch ${o.branch}` : ''}`)
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
    })
  } finally {
    spinner.stop()
  }
  for (const note of p.notes) ctx.out.warn(note)
  const saved = saveUrls(ctx.cwd, o.envFile, { DATABASE_URL: p.pooledUri, DATABASE_URL_UNPOOLED: p.directUri }, ctx.env, [], urlFormat(ctx, o))
  for (const w of saved.warnings) ctx.out.warn(w)
  const host = new URL(p.directUri).hostname
  const pooledHost = new URL(p.pooledUri).hostname
  let githubOutputs: string[] | undefined
  if (gh && githubFile) {
    const passwords = [p.directUri, p.pooledUri].map((u) => decodeURIComponent(new URL(u).password))
    githubOutputs = gh.writeGithubOutputs(githubFile, {
      branch_id: p.branch.id,
      branch_name: p.branch.name,
      created: String(p.branch.created),
      db_url: p.directUri,
      db_url_pooled: p.pooledUri,
      db_host: host,
      db_host_pooled: pooledHost,
      expires_at: p.branch.expiresAt,
    }, passwords, (text) => process.stdout.write(text))
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

async function runDeleteBranch(ctx: Context, o: ProvisionOptions): Promise<void> {
  const api = await neonApi(ctx, o)
  const { branchToDelete, deleteBranch, NEON_DEFAULT_DATABASE, NEON_DEFAULT_ROLE } = await import('../provision/neon.js')
  type Found = Awaited<ReturnType<typeof branchToDelete>>
  const items = (f: Found) => (f.branch ? [`branch ${f.branch.name} (${f.branch.id}) of Neon project ${f.project.name}, with all its data`] : [])
  if (o.dryRun) {
    const f = await branchToDelete(api, o.project, o.deleteBranch!)
    ctx.out.result({ ok: true, provider: 'neon', dryRun: true, project: f.project, wouldDelete: f.branch ?? null },
      f.branch ? `provision --delete-branch would delete ${items(f)[0]} (dry run: nothing was deleted)` : `no branch ${o.deleteBranch} in Neon project ${f.project.name}: nothing to delete`)
    return
  }
  const r = await deleteBranch(api, o.project, o.deleteBranch!, { role: o.role ?? NEON_DEFAULT_ROLE, database: o.database ?? NEON_DEFAULT_DATABASE },
    (f) => confirmDestruction(ctx, { doing: 'provision --delete-branch deletes', items: items(f), yes: o.yes }))
  // Like --local --destroy: URLs of a server that no longer exists would only fail later.
  if (!r.branch) {
    // Idempotent, as a CI job closing a pull request needs: an expired or already deleted branch is done.
    ctx.out.result({ ok: true, provider: 'neon', deleted: null, alreadyGone: o.deleteBranch, project: r.project, envRemoved: [] },
      `no branch ${o.deleteBranch} in Neon project ${r.project.name}: already deleted`)
    return
  }
  const envRemoved = forgetUrls(ctx.cwd, o.envFile, r.uris)
  ctx.out.result({ ok: true, provider: 'neon', deleted: r.branch, project: r.project, envRemoved },
    `deleted branch ${r.branch.name} (${r.branch.id}) of Neon project ${r.project.name}` +
      (envRemoved.length ? `; removed ${envRemoved.join(' and ')} from ${o.envFile}` : ''))
}

async function runLocal(ctx: Context, o: ProvisionOptions): Promise<void> {
  const { withLocalLock } = await import('../provision/local-lock.js')
  const { localPaths } = await import('../provision/local-state.js')
  const deadline = parseDeadline(o.timeout, '--timeout')
  // One run at a time per project, .env written included; the next finds what this one made.
  const lock = { paths: localPaths(ctx.cwd), deadline, signal: ctx.signal, out: ctx.out, create: !o.stop && !o.destroy }
  return withLocalLock(lock, () => runLocalLocked(ctx, o, deadline))
}

async function runLocalLocked(ctx: Context, o: ProvisionOptions, deadline: Deadline): Promise<void> {
  const local = await import('../provision/local.js')
  if (o.stop) {
    const r = await local.stopLocal(ctx.cwd)
    ctx.out.result({ ok: true, provider: 'local', action: 'stop', ...r },
      !r.existed ? `no local PostgreSQL in ${r.dataDir}` : r.wasRunning ? `stopped the local PostgreSQL (${r.dataDir})` : 'the local PostgreSQL was not running')
    return
  }
  if (o.destroy) {
    const what = local.localToDestroy(ctx.cwd)
    const items = what.existed ? [`the local PostgreSQL in ${what.dataDir}, with all its data (${megabytes(what.bytes)})`] : []
    if (o.dryRun) {
      ctx.out.result({ ok: true, provider: 'local', action: 'destroy', dryRun: true, ...what },
        what.existed ? `provision --local --destroy would delete ${items[0]} (dry run: nothing was deleted)` : `no local PostgreSQL in ${what.dataDir}: nothing to delete`)
      return
    }
    await confirmDestruction(ctx, { doing: 'provision --local --destroy deletes', items, yes: o.yes })
    const r = await local.destroyLocal(ctx.cwd)
    const envRemoved = forgetUrls(ctx.cwd, o.envFile, [r.url])
    const { url: _url, ...shown } = r
    ctx.out.result({ ok: true, provider: 'local', action: 'destroy', ...shown, envRemoved },
      (r.existed ? `destroyed the local PostgreSQL and its data (${r.dataDir})` : `no local PostgreSQL in ${r.dataDir}`) +
        (envRemoved.length ? `; removed DATABASE_URL from ${o.envFile}` : ''))
    return
  }
  const s = await local.provisionLocal({ cwd: ctx.cwd, database: o.database, deadline, signal: ctx.signal, out: ctx.out })
  // A direct server has no pooler: a DATABASE_URL_UNPOOLED left from Neon would point elsewhere.
  const saved = saveUrls(ctx.cwd, o.envFile, { DATABASE_URL: s.url, DATABASE_URL_UNPOOLED: undefined }, ctx.env, [`${local.LOCAL_DIR}/`], urlFormat(ctx, o))
  for (const w of saved.warnings) ctx.out.warn(w)
  const { url: _url, ...shown } = s
  const what = s.created ? 'created and started' : s.started ? 'started' : 'already running'
  ctx.out.result({ ok: true, provider: 'local', action: s.created ? 'create' : s.started ? 'start' : 'reuse', ...shown, host: '127.0.0.1', ...saved }, () => [
    `local PostgreSQL ${what}: 127.0.0.1:${s.port}, database ${s.database} as ${s.user}`,
    `data     ${s.dataDir}`,
    `wrote    ${wrote(saved)}`,
    'stop it with todo-db provision --local --stop; delete it with --destroy',
  ].join('\n'))
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`

/** The driver whose URL form goes to the env file: --url-format, else TODO_DB_URL_FORMAT or the config. */
function urlFormat(ctx: Context, o: ProvisionOptions): UrlFormat {
  if (o.urlFormat !== undefined) return parseUrlFormat(o.urlFormat, '--url-format')
  return parseUrlFormat(ctx.config.provision.urlFormat, 'provision.urlFormat (config file or TODO_DB_URL_FORMAT)')
}

/** --dotenv is --env-file under a name Node does not intercept (see src/cli.ts). */
function withEnvFile(o: ProvisionOptions): ProvisionOptions {
  if (o.dotenv === undefined) return o
  if (o.envFile !== '.env' && o.envFile !== o.dotenv) throw badInput('--env-file and --dotenv name different files', 'give one of them', 'USAGE')
  return { ...o, envFile: o.dotenv }
}

export async function run(ctx: Context, flags: ProvisionOptions): Promise<void> {
  const opts = withEnvFile(flags)
  checkFlags(opts)
  checkEnvFile(ctx.cwd, opts.envFile)
  urlFormat(ctx, opts)
  if (opts.local) return runLocal(ctx, opts)
  if (opts.deleteBranch) return runDeleteBranch(ctx, opts)
  return runNeon(ctx, opts)
}

export async function list(ctx: Context, opts: ProvisionOptions): Promise<void> {
  const api = await neonApi(ctx, opts)
  const { listBranches } = await import('../provision/neon.js')
  const r = await listBranches(api, opts.project)
  ctx.out.result({ ok: true, ...r }, () => {
    const width = Math.max(4, ...r.branches.map((b) => b.name.length))
    return [
      `Neon project ${r.project.name} (${r.project.id}):`,
      ...r.branches.map((b) => `  ${b.name.padEnd(width)}  ${b.id}  ${b.state}${b.default ? '  default' : ''}${b.parent ? `  from ${b.parent}` : ''}`),
    ].join('\n')
  })
}
