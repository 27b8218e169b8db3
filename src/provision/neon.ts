// The Neon flow: find or create the project, the branch and its read-write compute, then get the
// pooled and direct connection URIs. Nothing is created twice: every step looks before it makes.
import type { Branch, Endpoint, EndpointType, ProjectListItem } from '@neondatabase/api-client'
import { badInput, failed, isTodoDbError, registerSecret, type TodoDbError } from '../errors.js'
import type { NeonApi } from './neon-api.js'
import { shapes } from './neon-shapes.js'

export const NEON_DEFAULT_ROLE = 'neondb_owner'
export const NEON_DEFAULT_DATABASE = 'neondb'
// The client's enum is a runtime value; its string is all the API needs.
const READ_WRITE = 'read_write' as EndpointType

export interface NeonTarget {
  project: string
  branch?: string
  parent?: string
  region?: string
  role: string
  database: string
  /** For a new branch: when Neon deletes it by itself (the API's expires_at). */
  expiresAt?: Date
  /** Reset the existing branch to its parent's current data (the API's branch restore). */
  resetFromParent?: boolean
  /**
   * Asked with the branch a reset would wipe, after the checks that refuse it and before anything
   * is changed (an expiry included); it throws to stop. Not asked for a branch made by this run.
   */
  confirmReset?: (target: BranchToReset) => Promise<void>
}

/** The existing branch --reset-from-parent would give its parent's data, and that parent. */
export interface BranchToReset {
  project: { id: string; name: string }
  branch: { id: string; name: string }
  parent: { id: string; name: string }
}

export interface NeonProvisioned {
  project: { id: string; name: string; created: boolean }
  branch: { id: string; name: string; created: boolean; default: boolean; parent?: string; expiresAt?: string; reset?: boolean }
  endpoint: { id: string; created: boolean }
  role: string
  database: string
  /** Connection URIs, passwords included: for the env file only, never for printing. */
  pooledUri: string
  directUri: string
  /** Things the user asked for that did not apply. */
  notes: string[]
}

export interface BranchSummary {
  id: string
  name: string
  default: boolean
  parent?: string
  state: string
  createdAt: string
}

type ProjectRef = Pick<ProjectListItem, 'id' | 'name'>

/** Marks the password inside a URI as a secret, so that no output can show it. */
function registerUriPassword(uri: string): void {
  try {
    registerSecret(decodeURIComponent(new URL(uri).password))
  } catch {
    // not a URL: nothing to mask, and the URL checks later say what is wrong
  }
}

async function listAllProjects(api: NeonApi, search: string): Promise<ProjectListItem[]> {
  const all: ProjectListItem[] = []
  let cursor: string | undefined
  const limit = 400
  for (;;) {
    const page = await api.call('list projects', (c, p) =>
      c.listProjects({ search, limit, ...(cursor ? { cursor } : {}), ...(api.orgId ? { org_id: api.orgId } : {}) }, p), { shape: shapes.projectList })
    all.push(...page.projects)
    // The cursor is opaque (the spec: pass it back as is); a short page is the last one.
    const next = page.pagination?.cursor
    if (!next || next === cursor || page.projects.length < limit) return all
    cursor = next
  }
}

/** The project with this name (or id); `undefined` when there is none. */
export async function findProject(api: NeonApi, name: string): Promise<ProjectRef | undefined> {
  // The API's search matches parts of names too: keep exact matches only.
  const matches = (await api.inOrg(() => listAllProjects(api, name))).filter((p) => p.name === name || p.id === name)
  if (matches.length > 1) {
    throw badInput(`${matches.length} Neon projects are named "${name}": ${matches.map((p) => p.id).join(', ')}`,
      'pass the project id with --project', 'AMBIGUOUS_PROJECT')
  }
  return matches[0]
}

async function requireProject(api: NeonApi, name: string): Promise<ProjectRef> {
  const project = await findProject(api, name)
  if (!project) throw failed(`no Neon project named "${name}"`, { code: 'PROJECT_NOT_FOUND', hint: 'check --project, or run todo-db provision to create it' })
  return project
}

async function listBranchesOf(api: NeonApi, projectId: string): Promise<Branch[]> {
  const res = await api.call('list branches', (c, p) => c.listProjectBranches({ projectId }, p), { shape: shapes.branchList })
  return res.branches
}

function defaultBranch(branches: Branch[]): Branch {
  const found = branches.find((b) => b.default) ?? branches.find((b) => b.primary)
  if (!found) throw failed('the Neon project has no default branch', { code: 'NO_DEFAULT_BRANCH' })
  return found
}

function byName(branches: Branch[], name: string): Branch | undefined {
  return branches.find((b) => b.name === name) ?? branches.find((b) => b.id === name)
}

/** The branch's read-write compute, created when the branch has none (a branch without one cannot be used). */
async function ensureReadWriteEndpoint(api: NeonApi, projectId: string, branchId: string): Promise<{ endpoint: Endpoint; created: boolean }> {
  const find = async () => {
    const { endpoints } = await api.call('list endpoints', (c, p) => c.listProjectBranchEndpoints(projectId, branchId, p), { shape: shapes.endpointList })
    return endpoints.find((e) => e.type === READ_WRITE)
  }
  const existing = await find()
  if (existing) return { endpoint: existing, created: false }
  const res = await lookAgainOnDoubt(() => api.call('create compute', (c, p) =>
    c.createProjectEndpoint(projectId, { endpoint: { branch_id: branchId, type: READ_WRITE } }, p), { shape: shapes.endpointCreated, write: true }), find)
  if ('found' in res) return { endpoint: res.found, created: false }
  await api.waitFor(projectId, res.made.operations)
  return { endpoint: res.made.endpoint, created: true }
}

async function connectionUri(api: NeonApi, projectId: string, branchId: string, t: Pick<NeonTarget, 'role' | 'database'>, pooled: boolean): Promise<string> {
  const { uri } = await api.call(`get the ${pooled ? 'pooled' : 'direct'} connection URI`, (c, p) =>
    c.getConnectionUri({ projectId, branch_id: branchId, database_name: t.database, role_name: t.role, pooled }, p), { shape: shapes.connectionUri })
  registerUriPassword(uri)
  return uri
}

/** Neon wants RFC 3339 with "precision up to seconds". */
const neonTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z')

const doubtful = (e: unknown): e is TodoDbError =>
  isTodoDbError(e) && (e.code === 'API_UNCERTAIN' || (e.code === 'API_BAD_ANSWER'))

/**
 * Runs a create; when its outcome is in doubt (a 502 after the work was done, a connection cut,
 * an answer we could not read), looks again with `find` before anything is made a second time:
 * what is there is used, and only when it is not is the create tried again.
 */
async function lookAgainOnDoubt<T, F>(make: () => Promise<T>, find: () => Promise<F | undefined>): Promise<{ made: T } | { found: F }> {
  for (let attempt = 0; ; attempt++) {
    try {
      return { made: await make() }
    } catch (e) {
      if (!doubtful(e) && !(isTodoDbError(e) && e.data?.status === 409)) throw e
      const found = await find()
      if (found) return { found }
      if (attempt >= 2) throw e
    }
  }
}

/**
 * The parent whose data a reset gives the branch, or why it cannot. The default branch has no
 * parent to copy from; a branch with children would need their new home named
 * (preserve_under_name), which a reset should not decide for the user.
 */
function resetSource(branch: Branch, branches: Branch[]): { id: string; name: string } {
  if (branch.default || branch.primary || !branch.parent_id) {
    throw badInput(`"${branch.name}" is the default branch: it has no parent to reset from`, 'reset a branch made from it, e.g. --branch dev-alice --reset-from-parent', 'DEFAULT_BRANCH')
  }
  const children = branches.filter((b) => b.parent_id === branch.id)
  if (children.length) {
    throw failed(`branch ${branch.name} has child branches (${children.map((b) => b.name).join(', ')}): todo-db does not reset it`,
      { code: 'BRANCH_HAS_CHILDREN', hint: 'delete the child branches first, or restore it in the Neon console' })
  }
  const id = branch.parent_id
  return { id, name: branches.find((b) => b.id === id)?.name ?? id }
}

/** Gives the branch its parent's current data (the API's branch restore to the parent's head). */
async function resetFromParent(api: NeonApi, projectId: string, branch: Branch, parent: { id: string }): Promise<void> {
  // A restore is not safe to send twice blindly, but sending it again does the same thing: the
  // branch gets the parent's head either way. So a doubtful outcome is simply tried once more.
  const restore = () => api.call(`reset branch ${branch.name} from its parent`, (c, p) =>
    c.restoreProjectBranch(projectId, branch.id, { source_branch_id: parent.id }, p), { shape: shapes.branchOperations, write: true })
  let res
  try {
    res = await restore()
  } catch (e) {
    if (!doubtful(e)) throw e
    res = await restore()
  }
  await api.waitFor(projectId, res.operations)
}

/** Finds or creates the project, the branch and its compute; returns their connection URIs. */
export async function provisionNeon(api: NeonApi, t: NeonTarget): Promise<NeonProvisioned> {
  let project = await findProject(api, t.project)
  let projectCreated = false
  let branches: Branch[]
  if (project) {
    branches = await listBranchesOf(api, project.id)
  } else {
    const create = () => api.call(`create project ${t.project}`, (c, p) =>
      c.createProject({
        project: {
          name: t.project,
          ...(t.region ? { region_id: t.region } : {}),
          ...(api.orgId ? { org_id: api.orgId } : {}),
          branch: { role_name: t.role, database_name: t.database },
        },
      }, p), { shape: shapes.projectCreated, write: true })
    const res = await lookAgainOnDoubt(() => api.inOrg(create), () => findProject(api, t.project))
    if ('found' in res) {
      project = res.found
      branches = await listBranchesOf(api, project.id)
    } else {
      for (const c of res.made.connection_uris ?? []) registerUriPassword(c.connection_uri)
      await api.waitFor(res.made.project.id, res.made.operations)
      project = res.made.project
      projectCreated = true
      branches = [res.made.branch]
    }
  }
  const projectId = project.id
  const main = defaultBranch(branches)

  let branch = t.branch ? byName(branches, t.branch) : main
  let branchCreated = false
  let parentName: string | undefined
  if (!branch) {
    const parent = t.parent ? byName(branches, t.parent) : main
    if (!parent) throw badInput(`no branch "${t.parent}" in Neon project ${project.name} to branch from`, 'check --parent', 'PARENT_NOT_FOUND')
    parentName = parent.name
    const expires_at = t.expiresAt ? neonTime(t.expiresAt) : undefined
    const res = await lookAgainOnDoubt(() => api.call(`create branch ${t.branch}`, (c, p) =>
      c.createProjectBranch(projectId, { branch: { name: t.branch, parent_id: parent.id, ...(expires_at ? { expires_at } : {}) }, endpoints: [{ type: READ_WRITE }] }, p),
    { shape: shapes.branchCreated, write: true }), async () => byName(await listBranchesOf(api, projectId), t.branch!))
    if ('found' in res) {
      branch = res.found
    } else {
      await api.waitFor(projectId, res.made.operations)
      branch = res.made.branch
      branchCreated = true
    }
  } else if (branch.parent_id) {
    parentName = branches.find((b) => b.id === branch!.parent_id)?.name
  }
  // A reset wipes the branch's own data: checked and agreed to before anything else changes.
  let resetParent: { id: string; name: string } | undefined
  if (t.resetFromParent && !branchCreated) {
    resetParent = resetSource(branch, branches)
    await t.confirmReset?.({ project: { id: projectId, name: project.name }, branch: { id: branch.id, name: branch.name }, parent: resetParent })
  }
  const notes: string[] = []
  if (!branchCreated && t.parent && t.parent !== parentName) {
    notes.push(`branch ${branch.name} exists already${parentName ? ` (from ${parentName})` : ''}: --parent ${t.parent} was not used`)
  }
  if (!branchCreated && t.expiresAt) {
    // Every run pushes the expiry out (a CI job on each push to the pull request): a branch expires
    // that long after it was last provisioned. Setting the same value twice is harmless.
    const expiresAt = neonTime(t.expiresAt)
    const b = branch
    const res = await api.call(`set the expiry of branch ${b.name}`, (c, p) =>
      c.updateProjectBranch(projectId, b.id, { branch: { expires_at: expiresAt } }, p), { shape: shapes.branchOperations, write: true })
    await api.waitFor(projectId, res.operations)
    branch = res.branch
  }
  if (resetParent) await resetFromParent(api, projectId, branch, resetParent)
  const reset = !!resetParent

  const { endpoint, created: endpointCreated } = await ensureReadWriteEndpoint(api, projectId, branch.id)
  const pooledUri = await connectionUri(api, projectId, branch.id, t, true)
  const directUri = await connectionUri(api, projectId, branch.id, t, false)

  return {
    project: { id: projectId, name: project.name, created: projectCreated },
    branch: {
      id: branch.id, name: branch.name, created: branchCreated, default: branch.id === main.id,
      ...(parentName ? { parent: parentName } : {}), ...(branch.expires_at ? { expiresAt: branch.expires_at } : {}), ...(reset ? { reset } : {}),
    },
    endpoint: { id: endpoint.id, created: endpointCreated },
    role: t.role,
    database: t.database,
    pooledUri,
    directUri,
    notes,
  }
}

export async function listBranches(api: NeonApi, projectName: string): Promise<{ project: { id: string; name: string }; branches: BranchSummary[] }> {
  const project = await requireProject(api, projectName)
  const branches = await listBranchesOf(api, project.id)
  const names = new Map(branches.map((b) => [b.id, b.name]))
  return {
    project: { id: project.id, name: project.name },
    branches: branches.map((b) => ({
      id: b.id,
      name: b.name,
      default: !!b.default,
      ...(b.parent_id ? { parent: names.get(b.parent_id) ?? b.parent_id } : {}),
      state: b.current_state,
      createdAt: b.created_at,
    })),
  }
}

/** Deletes a branch, never the default one (it holds the project's main data). A branch already gone is done. */
export interface BranchToDelete {
  project: { id: string; name: string }
  /** Undefined when there was no such branch: a second delete, or Neon's expiry, got there first. */
  branch?: { id: string; name: string; expiresAt?: string }
}

/** The branch --delete-branch would delete, after the checks that refuse it: for --dry-run and the question. */
export async function branchToDelete(api: NeonApi, projectName: string, branchName: string): Promise<BranchToDelete> {
  const project = await requireProject(api, projectName)
  const branches = await listBranchesOf(api, project.id)
  const branch = byName(branches, branchName)
  const ref = { id: project.id, name: project.name }
  if (!branch) return { project: ref }
  if (branch.default || branch.primary) {
    throw badInput(`"${branch.name}" is the default branch of ${project.name}: todo-db does not delete it`,
      'delete the project in the Neon console if that is really what you want', 'DEFAULT_BRANCH')
  }
  const children = branches.filter((b) => b.parent_id === branch.id)
  if (children.length) {
    throw failed(`branch ${branch.name} has child branches (${children.map((b) => b.name).join(', ')}): Neon deletes a branch only without children`,
      { code: 'BRANCH_HAS_CHILDREN', hint: `delete ${children.length > 1 ? 'them' : children[0].name} first` })
  }
  return { project: ref, branch: { id: branch.id, name: branch.name, ...(branch.expires_at ? { expiresAt: branch.expires_at } : {}) } }
}

/** `confirm` is asked with what goes, after the checks and before anything is deleted; it throws to stop. */
export async function deleteBranch(api: NeonApi, projectName: string, branchName: string, t: Pick<NeonTarget, 'role' | 'database'>,
  confirm?: (found: BranchToDelete) => Promise<void>): Promise<{
  project: { id: string; name: string }
  /** Undefined when there was no such branch: a second delete, or Neon's expiry, got there first. */
  branch?: { id: string; name: string }
  /** The branch's connection URIs for the role and database, so the env file can forget them. Never print. */
  uris: string[]
}> {
  const found = await branchToDelete(api, projectName, branchName)
  await confirm?.(found)
  const { project, branch } = found
  const ref = project
  if (!branch) return { project: ref, uris: [] }
  // Asked before deleting: afterwards the API no longer knows them. A branch without a compute
  // or without that role has none, and then there is nothing to forget.
  const uris: string[] = []
  for (const pooled of [true, false]) {
    // If the API is down or the deadline passed, the delete below fails the same way and says so.
    uris.push(...(await connectionUri(api, project.id, branch.id, t, pooled).then((u) => [u], () => [])))
  }
  // 204: the branch went in the meantime. A doubtful outcome is looked at again: gone is done.
  const del = () => api.call(`delete branch ${branch.name}`, (c, p) => c.deleteProjectBranch({ projectId: project.id, branchId: branch.id }, p),
    { shape: (d) => (d === '' || d === undefined ? undefined : shapes.branchOperations(d)), write: true })
  let res
  try {
    res = await del()
  } catch (e) {
    if (!doubtful(e)) throw e
    if (!byName(await listBranchesOf(api, project.id), branch.id)) res = ''
    else res = await del()
  }
  if (res && typeof res === 'object') await api.waitFor(project.id, res.operations)
  return { project: ref, branch: { id: branch.id, name: branch.name }, uris }
}
