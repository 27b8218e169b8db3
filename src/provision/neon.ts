// The Neon flow: find or create the project, the branch and its read-write compute, then get the
// pooled and direct connection URIs. Nothing is created twice: every step looks before it makes.
import type { Branch, Endpoint, EndpointType, ProjectListItem } from '@neondatabase/api-client'
import { badInput, failed, registerSecret } from '../errors.js'
import type { NeonApi } from './neon-api.js'

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
}

export interface NeonProvisioned {
  project: { id: string; name: string; created: boolean }
  branch: { id: string; name: string; created: boolean; default: boolean; parent?: string }
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
    const page = await api.call('list projects', (c, p) => c.listProjects({ search, limit, ...(cursor ? { cursor } : {}), ...(api.orgId ? { org_id: api.orgId } : {}) }, p))
    all.push(...(page.projects ?? []))
    const next = page.pagination?.cursor
    if (!next || next === cursor || (page.projects ?? []).length < limit) return all
    cursor = next
  }
}

/** The project with this name (or id); `undefined` when there is none. */
export async function findProject(api: NeonApi, name: string): Promise<ProjectRef | undefined> {
  // The API's search matches parts of names too: keep exact matches only.
  const matches = (await listAllProjects(api, name)).filter((p) => p.name === name || p.id === name)
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
  const res = await api.call('list branches', (c, p) => c.listProjectBranches({ projectId }, p))
  return res.branches ?? []
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
  const { endpoints } = await api.call('list endpoints', (c, p) => c.listProjectBranchEndpoints(projectId, branchId, p))
  const existing = endpoints.find((e) => e.type === READ_WRITE)
  if (existing) return { endpoint: existing, created: false }
  const res = await api.call('create compute', (c, p) =>
    c.createProjectEndpoint(projectId, { endpoint: { branch_id: branchId, type: READ_WRITE } }, p))
  await api.waitFor(projectId, res.operations)
  return { endpoint: res.endpoint, created: true }
}

async function connectionUri(api: NeonApi, projectId: string, branchId: string, t: Pick<NeonTarget, 'role' | 'database'>, pooled: boolean): Promise<string> {
  const { uri } = await api.call(`get the ${pooled ? 'pooled' : 'direct'} connection URI`, (c, p) =>
    c.getConnectionUri({ projectId, branch_id: branchId, database_name: t.database, role_name: t.role, pooled }, p))
  registerUriPassword(uri)
  return uri
}

/** Finds or creates the project, the branch and its compute; returns their connection URIs. */
export async function provisionNeon(api: NeonApi, t: NeonTarget): Promise<NeonProvisioned> {
  let project = await findProject(api, t.project)
  let projectCreated = false
  let branches: Branch[]
  if (project) {
    branches = await listBranchesOf(api, project.id)
  } else {
    const res = await api.call(`create project ${t.project}`, (c, p) =>
      c.createProject({
        project: {
          name: t.project,
          ...(t.region ? { region_id: t.region } : {}),
          ...(api.orgId ? { org_id: api.orgId } : {}),
          branch: { role_name: t.role, database_name: t.database },
        },
      }, p))
    for (const c of res.connection_uris ?? []) registerUriPassword(c.connection_uri)
    await api.waitFor(res.project.id, res.operations)
    project = res.project
    projectCreated = true
    branches = [res.branch]
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
    const res = await api.call(`create branch ${t.branch}`, (c, p) =>
      c.createProjectBranch(projectId, { branch: { name: t.branch, parent_id: parent.id }, endpoints: [{ type: READ_WRITE }] }, p))
    await api.waitFor(projectId, res.operations)
    branch = res.branch
    branchCreated = true
  } else if (branch.parent_id) {
    parentName = branches.find((b) => b.id === branch!.parent_id)?.name
  }
  const notes: string[] = []
  if (!branchCreated && t.parent && t.parent !== parentName) {
    notes.push(`branch ${branch.name} exists already${parentName ? ` (from ${parentName})` : ''}: --parent ${t.parent} was not used`)
  }

  const { endpoint, created: endpointCreated } = await ensureReadWriteEndpoint(api, projectId, branch.id)
  const pooledUri = await connectionUri(api, projectId, branch.id, t, true)
  const directUri = await connectionUri(api, projectId, branch.id, t, false)

  return {
    project: { id: projectId, name: project.name, created: projectCreated },
    branch: { id: branch.id, name: branch.name, created: branchCreated, default: branch.id === main.id, ...(parentName ? { parent: parentName } : {}) },
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

/** Deletes a branch, never the default one (it holds the project's main data). */
export async function deleteBranch(api: NeonApi, projectName: string, branchName: string, t: Pick<NeonTarget, 'role' | 'database'>): Promise<{
  project: { id: string; name: string }
  branch: { id: string; name: string }
  /** The branch's connection URIs for the role and database, so the env file can forget them. Never print. */
  uris: string[]
}> {
  const project = await requireProject(api, projectName)
  const branches = await listBranchesOf(api, project.id)
  const branch = byName(branches, branchName)
  if (!branch) throw failed(`no branch "${branchName}" in Neon project ${project.name}`, { code: 'BRANCH_NOT_FOUND' })
  if (branch.default || branch.primary) {
    throw badInput(`"${branch.name}" is the default branch of ${project.name}: todo-db does not delete it`,
      'delete the project in the Neon console if that is really what you want', 'DEFAULT_BRANCH')
  }
  // Asked before deleting: afterwards the API no longer knows them. A branch without a compute
  // or without that role has none, and then there is nothing to forget.
  const uris: string[] = []
  for (const pooled of [true, false]) {
    // If the API is down or the deadline passed, the delete below fails the same way and says so.
    uris.push(...(await connectionUri(api, project.id, branch.id, t, pooled).then((u) => [u], () => [])))
  }
  const res = await api.call(`delete branch ${branch.name}`, (c, p) => c.deleteProjectBranch({ projectId: project.id, branchId: branch.id }, p))
  await api.waitFor(project.id, res.operations)
  return { project: { id: project.id, name: project.name }, branch: { id: branch.id, name: branch.name }, uris }
}
