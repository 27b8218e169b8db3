// A local fake of the Neon API v2, as neonctl's own tests use one, held to Neon's OpenAPI spec:
// every request it receives and every answer it gives is checked against public-v2-for-users.gen.yaml
// (see neon-spec.ts); a mismatch is recorded in `violations`, and `assertSpec()` (afterEach) fails
// the test. It behaves as the real API does where that matters: injected 5xx on a mutation come
// AFTER the side effect (a gateway 502 after the project was made), a personal key must name its
// org_id, operations go scheduling -> running -> finished (or failed / error), deleting a branch that
// is gone answers 204, a branch with children cannot be deleted, list cursors are opaque keys,
// and there is no Retry-After header.
//
// Every branch is a real database on the suite's PostgreSQL (a child starts as a copy of its
// parent), owned by a real role with a password. With `hosts: 'local'` the URIs reach it (host
// localhost, so the certificate verifies); with 'neon' / 'neon-c2' they are written exactly as Neon
// writes them (ep-...-pooler hosts), for tests of what the CLI does with them.
import { afterAll, afterEach, beforeAll } from 'vitest'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes, randomUUID } from 'node:crypto'
import { cluster, psql } from './db.js'
import { secrets } from './cli.js'
import { neonSpec } from './neon-spec.js'

export interface FakeProject {
  id: string
  name: string
  org_id: string
  region_id: string
  role: string
  database: string
  /** The real role on the cluster and its password. */
  pgRole: string
  password: string
  branches: FakeBranch[]
}

export interface FakeBranch {
  id: string
  name: string
  parent_id?: string
  default: boolean
  expires_at?: string
  /** The real database on the cluster. */
  pgDatabase: string
  endpoints: FakeEndpoint[]
  created_at: string
}

export interface FakeEndpoint {
  id: string
  type: 'read_write' | 'read_only'
}

type OpStatus = 'scheduling' | 'running' | 'finished' | 'failed' | 'error' | 'cancelling' | 'cancelled' | 'skipped'

interface FakeOperation {
  id: string
  project_id: string
  branch_id?: string
  endpoint_id?: string
  action: string
  /** GETs seen so far: scheduling at 0, then running, then `outcome` after operationPolls. */
  polls: number
  outcome: { status: OpStatus; error?: string }
  created_at: string
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  authorization?: string
  body?: any
  /** The status the fake answered. */
  status?: number
}

interface Fault {
  status: number
  times: number
  mutationsOnly: boolean
  /** Answer after doing what was asked (a gateway error on the way back), or before. */
  after: boolean
  message?: string
  /** A raw body (malformed answers): sent as is, with `status`, outside the spec on purpose. */
  raw?: string
  /** Only requests whose "METHOD /path" matches. */
  match?: RegExp
}

export interface FakeOrg {
  id: string
  name: string
}

export interface FakeNeonOptions {
  apiKey?: string
  /** A personal API key: list/create projects need org_id; these are its organizations. */
  personalOrgs?: FakeOrg[]
  hosts?: 'local' | 'neon' | 'neon-c2'
}

export interface FakeNeon {
  /** Base URL, /api/v2 included: NEON_API_HOST. */
  url: string
  apiKey: string
  requests: RecordedRequest[]
  projects: FakeProject[]
  /** Spec mismatches seen so far (requests and answers). */
  violations: string[]
  /** Throws listing the spec mismatches seen, and forgets them: call it in afterEach. */
  assertSpec(): void
  /** How many polls a new operation takes to finish. */
  operationPolls: number
  /**
   * The next `times` requests (mutations only, by default) answer `status`. 5xx other than 503 on a
   * mutation come after the side effect unless `after: false`; 423, 429, 503 come before it.
   * Status 0: no answer at all, the connection is reset (after the side effect, by default).
   */
  failNext(status: number, times: number, opts?: { all?: boolean; message?: string; after?: boolean; raw?: string; match?: RegExp }): void
  /** The next operation with this action ends in `status` (failed, error, cancelled) with `error`. */
  failOperation(action: string, status: OpStatus, error?: string): void
  /** Runs `fn` once, before the next request whose "METHOD /path" matches is handled (a race with another client). */
  before(match: RegExp, fn: () => void): void
  /** Forgets the failures still queued. */
  clearFaults(): void
  /** A project made beforehand, as if created in the console: default branch `main` with a compute. */
  addProject(name: string, opts?: { branches?: Array<string | { name: string; parent: string }>; org?: string }): FakeProject
  /** Closes the listening socket: the API is unreachable (connection refused). */
  down(): Promise<void>
  /** Drops every database and role it made. */
  close(): Promise<void>
}

const now = () => new Date().toISOString()
const rid = (bytes = 4) => randomBytes(bytes).toString('hex')
const ident = (s: string) => s.replace(/[^a-z0-9_]/gi, '_').toLowerCase()
const WORDS = ['cool', 'dark', 'fog', 'hill', 'moon', 'river', 'snow', 'wind']
const endpointId = () => `ep-${WORDS[randomBytes(1)[0] % 8]}-${WORDS[randomBytes(1)[0] % 8]}-${100000 + (randomBytes(3).readUIntBE(0, 3) % 900000)}`
export const ORG_REQUIRED = 'org_id is required, you can find it on your organization settings page'
const OPERATION_STEP_MS = 200
const TERMINAL = new Set<OpStatus>(['finished', 'failed', 'error', 'cancelled', 'skipped'])

export async function startFakeNeon(opts: FakeNeonOptions = {}): Promise<FakeNeon> {
  const apiKey = opts.apiKey ?? `napi_${rid(16)}`
  secrets.add(apiKey)
  const hosts = opts.hosts ?? 'neon'
  const personalOrgs = opts.personalOrgs
  // An org key belongs to one organization, which the API infers.
  const keyOrg: FakeOrg = { id: `org-fake-${rid(4)}`, name: 'Fake org' }
  const spec = neonSpec()
  const prefix = `fn${rid(3)}`
  const c = cluster()
  const projects: FakeProject[] = []
  const operations = new Map<string, FakeOperation>()
  const requests: RecordedRequest[] = []
  const violations: string[] = []
  const faults: Fault[] = []
  const opFaults: Array<{ action: string; status: OpStatus; error?: string }> = []
  const hooks: Array<{ match: RegExp; fn: () => void }> = []
  const made = { databases: [] as string[], roles: [] as string[] }

  const region = (p: FakeProject) => p.region_id.replace(/^aws-/, '')
  function hostOf(p: FakeProject, b: FakeBranch, pooled: boolean): string {
    const ep = b.endpoints.find((e) => e.type === 'read_write')!.id + (pooled ? '-pooler' : '')
    if (hosts === 'neon') return `${ep}.${region(p)}.aws.neon.tech`
    if (hosts === 'neon-c2') return `${ep}.c-2.${region(p)}.aws.neon.tech`
    return `localhost:${c.port}`
  }
  // As Neon writes them: both carry sslmode=require&channel_binding=require; nothing marks the pooled one but its host.
  const uri = (p: FakeProject, b: FakeBranch, pooled: boolean) =>
    `postgresql://${p.pgRole}:${encodeURIComponent(p.password)}@${hostOf(p, b, pooled)}/${b.pgDatabase}?sslmode=require&channel_binding=require`

  function copyDatabase(p: FakeProject, from: FakeBranch | undefined, name: string) {
    psql(`create database ${name} owner ${p.pgRole}${from ? ` template ${from.pgDatabase}` : ''}`)
  }

  function makeBranch(p: FakeProject, name: string, parent?: FakeBranch, withEndpoint = true, expires_at?: string): FakeBranch {
    const id = `br-${WORDS[randomBytes(1)[0] % 8]}-${rid(4)}`
    const pgDatabase = ident(`${prefix}_${id}`)
    copyDatabase(p, parent, pgDatabase)
    made.databases.push(pgDatabase)
    const b: FakeBranch = { id, name, parent_id: parent?.id, default: !parent, pgDatabase, endpoints: [], created_at: now(), ...(expires_at ? { expires_at } : {}) }
    if (withEndpoint) b.endpoints.push({ id: endpointId(), type: 'read_write' })
    p.branches.push(b)
    return b
  }

  function makeProject(name: string, org: string, region = 'aws-us-east-2', role = 'neondb_owner', database = 'neondb'): FakeProject {
    const id = `${WORDS[randomBytes(1)[0] % 8]}-${WORDS[randomBytes(1)[0] % 8]}-${rid(4)}`
    const password = `npg_${rid(8)}`
    secrets.add(password)
    const pgRole = ident(`${prefix}_${id}_owner`)
    psql(`create role ${pgRole} login password '${password}'`)
    made.roles.push(pgRole)
    const p: FakeProject = { id, name, org_id: org, region_id: region, role, database, pgRole, password, branches: [] }
    projects.push(p)
    makeBranch(p, 'main')
    return p
  }

  function operation(p: FakeProject, action: string, extra: Partial<FakeOperation>): FakeOperation {
    const i = opFaults.findIndex((f) => f.action === action)
    const outcome = i >= 0 ? opFaults.splice(i, 1)[0] : { status: 'finished' as OpStatus }
    const op: FakeOperation = { id: randomUUID(), project_id: p.id, action, polls: 0, outcome, created_at: now(), ...extra }
    operations.set(op.id, op)
    return op
  }
  // Operations move on by themselves, as Neon's do (one step per OPERATION_STEP_MS), and on each
  // poll: a client that lost the operation ids (a 502 after the create) sees the project free up.
  const statusOf = (op: FakeOperation): OpStatus => {
    const steps = Math.max(op.polls, Math.floor((Date.now() - Date.parse(op.created_at)) / OPERATION_STEP_MS))
    return steps >= fake.operationPolls ? op.outcome.status : steps === 0 ? 'scheduling' : 'running'
  }

  const opJson = (op: FakeOperation) => {
    const status = statusOf(op)
    return {
      id: op.id,
      project_id: op.project_id,
      ...(op.branch_id ? { branch_id: op.branch_id } : {}),
      ...(op.endpoint_id ? { endpoint_id: op.endpoint_id } : {}),
      action: op.action,
      status,
      ...(TERMINAL.has(status) && op.outcome.error ? { error: op.outcome.error } : {}),
      failures_count: status === 'failed' || status === 'error' ? 1 : 0,
      created_at: op.created_at,
      updated_at: now(),
      total_duration_ms: 0,
    }
  }
  const projectJson = (p: FakeProject) => ({
    id: p.id,
    platform_id: 'aws',
    region_id: p.region_id,
    name: p.name,
    provisioner: 'k8s-neonvm',
    pg_version: 17,
    proxy_host: `${region(p)}.aws.neon.tech`,
    branch_logical_size_limit: 0,
    branch_logical_size_limit_bytes: 0,
    store_passwords: true,
    active_time: 0,
    cpu_used_sec: 0,
    creation_source: 'console',
    created_at: p.branches[0]?.created_at ?? now(),
    updated_at: now(),
    owner_id: 'fake-owner',
    org_id: p.org_id,
  })
  // The full Project (create, get) has more fields than a ProjectListItem.
  const fullProjectJson = (p: FakeProject) => ({
    ...projectJson(p),
    consumption_period_start: '2026-12-01T00:00:00Z',
    consumption_period_end: '2027-01-01T00:00:00Z',
    active_time_seconds: 0,
    compute_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    data_storage_bytes_hour: 0,
    history_retention_seconds: 86400,
  })
  const branchJson = (p: FakeProject, b: FakeBranch) => ({
    id: b.id,
    project_id: p.id,
    ...(b.parent_id ? { parent_id: b.parent_id } : {}),
    name: b.name,
    current_state: 'ready',
    state_changed_at: b.created_at,
    creation_source: 'console',
    primary: b.default,
    default: b.default,
    protected: false,
    cpu_used_sec: 0,
    compute_time_seconds: 0,
    active_time_seconds: 0,
    written_data_bytes: 0,
    data_transfer_bytes: 0,
    created_at: b.created_at,
    updated_at: b.created_at,
    ...(b.expires_at ? { expires_at: b.expires_at } : {}),
  })
  const endpointJson = (p: FakeProject, b: FakeBranch, e: FakeEndpoint) => ({
    host: `${e.id}.${region(p)}.aws.neon.tech`,
    id: e.id,
    project_id: p.id,
    branch_id: b.id,
    autoscaling_limit_min_cu: 0.25,
    autoscaling_limit_max_cu: 2,
    region_id: p.region_id,
    type: e.type,
    current_state: 'active',
    settings: {},
    pooler_enabled: false,
    pooler_mode: 'transaction',
    disabled: false,
    passwordless_access: true,
    creation_source: 'console',
    created_at: b.created_at,
    updated_at: b.created_at,
    proxy_host: `${region(p)}.aws.neon.tech`,
    suspend_timeout_seconds: 0,
    provisioner: 'k8s-neonvm',
  })
  const rolesJson = (p: FakeProject, b: FakeBranch) => [{ branch_id: b.id, name: p.role, protected: false, created_at: b.created_at, updated_at: b.created_at }]
  const databasesJson = (p: FakeProject, b: FakeBranch) => [{ id: 1, branch_id: b.id, name: p.database, owner_name: p.role, created_at: b.created_at, updated_at: b.created_at }]
  const orgJson = (o: FakeOrg) => ({ id: o.id, name: o.name, handle: o.id, plan: 'free_v3', created_at: now(), updated_at: now(), managed_by: 'console' })

  class HttpError extends Error {
    constructor(readonly status: number, message: string, readonly code = '') {
      super(message)
    }
  }
  const busy = (p: FakeProject) => [...operations.values()].some((op) => op.project_id === p.id && !TERMINAL.has(statusOf(op)))
  const findProject = (id: string) => {
    const p = projects.find((x) => x.id === id)
    if (!p) throw new HttpError(404, 'project not found')
    return p
  }
  const findBranch = (p: FakeProject, id: string) => {
    const b = p.branches.find((x) => x.id === id)
    if (!b) throw new HttpError(404, 'branch not found')
    return b
  }
  /** The organization a list/create acts in: named, or the key's own; a personal key must name one. */
  function orgFor(named: string | undefined): string {
    if (!personalOrgs) {
      if (named && named !== keyOrg.id) throw new HttpError(403, 'the API key has no access to this organization')
      return keyOrg.id
    }
    if (!named) throw new HttpError(400, ORG_REQUIRED)
    if (!personalOrgs.some((o) => o.id === named)) throw new HttpError(403, 'you are not a member of this organization')
    return named
  }
  const checkExpiry = (v: unknown) => {
    if (v === undefined) return undefined
    // The spec: RFC 3339 "with precision up to seconds"; and it must be in the future.
    if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/.test(v)) throw new HttpError(400, 'expires_at must be an RFC 3339 timestamp with precision up to seconds')
    if (Date.parse(v) <= Date.now()) throw new HttpError(400, 'expires_at must be in the future')
    return v
  }

  async function route(record: RecordedRequest, parts: string[], q: URLSearchParams): Promise<[number, unknown]> {
    const method = record.method
    const mutation = method !== 'GET'
    const body = record.body ?? {}
    if (parts[0] === 'users' && parts[1] === 'me' && parts[2] === 'organizations' && method === 'GET') {
      return [200, { organizations: (personalOrgs ?? [keyOrg]).map(orgJson) }]
    }
    if (parts[0] !== 'projects') throw new HttpError(404, 'not found')
    if (parts.length === 1) {
      if (method === 'GET') {
        const org = orgFor(q.get('org_id') ?? undefined)
        const search = q.get('search') ?? ''
        const limit = Number(q.get('limit') ?? 10)
        const all = projects.filter((p) => p.org_id === org && (p.name.includes(search) || p.id.includes(search)))
        // Keyset pagination: the cursor is the last id seen, passed back as is.
        const cursor = q.get('cursor')
        const start = cursor ? all.findIndex((p) => p.id === cursor) + 1 : 0
        const page = all.slice(start, start + limit)
        return [200, { projects: page.map(projectJson), ...(page.length ? { pagination: { cursor: page[page.length - 1].id } } : {}), applications: {}, integrations: {} }]
      }
      if (method === 'POST') {
        const pb = body.project ?? {}
        const org = orgFor(pb.org_id)
        const p = makeProject(pb.name ?? `project-${rid(3)}`, org, pb.region_id, pb.branch?.role_name, pb.branch?.database_name)
        const b = p.branches[0]
        const ops = [operation(p, 'create_timeline', { branch_id: b.id }), operation(p, 'start_compute', { branch_id: b.id, endpoint_id: b.endpoints[0].id })]
        return [201, {
          project: fullProjectJson(p),
          connection_uris: [{ connection_uri: uri(p, b, false), connection_parameters: { database: p.database, password: p.password, role: p.role, host: hostOf(p, b, false), pooler_host: hostOf(p, b, true) } }],
          roles: rolesJson(p, b),
          databases: databasesJson(p, b),
          operations: ops.map(opJson),
          branch: branchJson(p, b),
          endpoints: b.endpoints.map((e) => endpointJson(p, b, e)),
        }]
      }
    }
    const p = findProject(parts[1])
    if (mutation && busy(p)) throw new HttpError(423, 'project already has running operations, scheduling of new ones is prohibited', 'LOCKED')
    const [, , what, id, sub] = parts
    if (what === undefined && method === 'GET') return [200, { project: fullProjectJson(p) }]
    if (what === 'branches' && id === undefined) {
      if (method === 'GET') return [200, { branches: p.branches.map((b) => branchJson(p, b)), annotations: {} }]
      if (method === 'POST') {
        const name = body.branch?.name ?? `br-${rid(3)}`
        if (p.branches.some((b) => b.name === name)) throw new HttpError(409, `branch with name "${name}" already exists`, 'BRANCH_ALREADY_EXISTS')
        const expires = checkExpiry(body.branch?.expires_at)
        const parent = body.branch?.parent_id ? findBranch(p, body.branch.parent_id) : p.branches.find((b) => b.default)!
        const b = makeBranch(p, name, parent, (body.endpoints ?? []).some((e: { type: string }) => e.type === 'read_write'), expires)
        const ops = [operation(p, 'create_branch', { branch_id: b.id }), ...b.endpoints.map((e) => operation(p, 'start_compute', { branch_id: b.id, endpoint_id: e.id }))]
        return [201, {
          branch: branchJson(p, b),
          endpoints: b.endpoints.map((e) => endpointJson(p, b, e)),
          operations: ops.map(opJson),
          roles: rolesJson(p, b),
          databases: databasesJson(p, b),
          ...(b.endpoints.length ? { connection_uris: [{ connection_uri: uri(p, b, false), connection_parameters: { database: p.database, password: p.password, role: p.role, host: hostOf(p, b, false), pooler_host: hostOf(p, b, true) } }] } : {}),
        }]
      }
    }
    if (what === 'branches' && id !== undefined) {
      if (sub === undefined && method === 'DELETE') {
        const b = p.branches.find((x) => x.id === id)
        if (!b) return [204, undefined]
        if (b.default) throw new HttpError(422, 'cannot delete the default branch', 'BRANCH_DEFAULT')
        if (p.branches.some((x) => x.parent_id === b.id)) throw new HttpError(422, 'branch has children and cannot be deleted')
        p.branches = p.branches.filter((x) => x !== b)
        psql(`drop database if exists ${b.pgDatabase} with (force)`)
        made.databases = made.databases.filter((d) => d !== b.pgDatabase)
        const ops = [...b.endpoints.map((e) => operation(p, 'suspend_compute', { branch_id: b.id, endpoint_id: e.id })), operation(p, 'delete_timeline', { branch_id: b.id })]
        return [200, { branch: branchJson(p, b), operations: ops.map(opJson) }]
      }
      const b = findBranch(p, id)
      if (sub === 'endpoints' && method === 'GET') return [200, { endpoints: b.endpoints.map((e) => endpointJson(p, b, e)) }]
      if (sub === undefined && method === 'GET') return [200, { branch: branchJson(p, b), annotation: {} }]
      if (sub === undefined && method === 'PATCH') {
        if (body.branch?.name !== undefined) b.name = body.branch.name
        if (body.branch && 'expires_at' in body.branch) {
          if (body.branch.expires_at === null) delete b.expires_at
          else b.expires_at = checkExpiry(body.branch.expires_at)
        }
        return [200, { branch: branchJson(p, b), operations: [] }]
      }
      if (sub === 'restore' && method === 'POST') {
        const source = findBranch(p, body.source_branch_id)
        if (source === b) throw new HttpError(400, 'restoring a branch from itself needs source_lsn or source_timestamp')
        if (p.branches.some((x) => x.parent_id === b.id) && !body.preserve_under_name) {
          throw new HttpError(400, 'the branch has children: preserve_under_name is required')
        }
        // The branch now holds the source's current data; its compute restarts.
        psql(`drop database if exists ${b.pgDatabase} with (force)`)
        copyDatabase(p, source, b.pgDatabase)
        const ops = [operation(p, 'create_timeline', { branch_id: b.id }), ...b.endpoints.map((e) => operation(p, 'start_compute', { branch_id: b.id, endpoint_id: e.id }))]
        return [200, { branch: branchJson(p, b), operations: ops.map(opJson) }]
      }
    }
    if (what === 'endpoints' && id === undefined) {
      if (method === 'GET') return [200, { endpoints: p.branches.flatMap((b) => b.endpoints.map((e) => endpointJson(p, b, e))) }]
      if (method === 'POST') {
        const eb = body.endpoint ?? {}
        const b = findBranch(p, eb.branch_id)
        if (eb.type === 'read_write' && b.endpoints.some((e) => e.type === 'read_write')) {
          throw new HttpError(409, 'branch already has a read_write endpoint', 'ENDPOINTS_LIMIT_EXCEEDED')
        }
        const e: FakeEndpoint = { id: endpointId(), type: eb.type }
        b.endpoints.push(e)
        return [201, { endpoint: endpointJson(p, b, e), operations: [opJson(operation(p, 'start_compute', { branch_id: b.id, endpoint_id: e.id }))] }]
      }
    }
    if (what === 'operations' && id !== undefined && method === 'GET') {
      const op = operations.get(id)
      if (!op || op.project_id !== p.id) throw new HttpError(404, 'operation not found')
      op.polls++
      return [200, { operation: opJson(op) }]
    }
    if (what === 'connection_uri' && method === 'GET') {
      const b = q.get('branch_id') ? findBranch(p, q.get('branch_id')!) : p.branches.find((x) => x.default)!
      if (q.get('role_name') !== p.role) throw new HttpError(404, `role "${q.get('role_name')}" not found`)
      if (q.get('database_name') !== p.database) throw new HttpError(404, `database "${q.get('database_name')}" not found`)
      if (!b.endpoints.some((e) => e.type === 'read_write')) throw new HttpError(404, 'read_write endpoint not found for this branch')
      return [200, { uri: uri(p, b, q.get('pooled') === 'true') }]
    }
    throw new HttpError(404, 'not found')
  }

  function send(res: ServerResponse, record: RecordedRequest, status: number, body: unknown, checked = true) {
    record.status = status
    if (checked) {
      for (const v of spec.checkResponse(record.method, '/' + record.path.split('/').slice(3).join('/'), status, body)) violations.push(`fake answer: ${v}`)
    }
    if (body === undefined) {
      res.writeHead(status)
      res.end()
      return
    }
    res.writeHead(status, { 'content-type': 'application/json' })
    res.end(typeof body === 'string' ? body : JSON.stringify(body))
  }

  const readBody = (req: IncomingMessage) =>
    new Promise<string>((resolve) => {
      let text = ''
      req.on('data', (d) => (text += d))
      req.on('end', () => resolve(text))
    })

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization }
    requests.push(record)
    const text = await readBody(req)
    const error = (status: number, message: string, code = '') => ({ request_id: rid(8), code, message })
    if (!url.pathname.startsWith('/api/v2/')) return send(res, record, 404, error(404, 'not found'), false)
    const apiPath = url.pathname.slice('/api/v2'.length)
    if (text) {
      try {
        record.body = JSON.parse(text)
      } catch {
        violations.push(`CLI request: ${method} ${apiPath}: body is not JSON`)
        return send(res, record, 400, error(400, 'request body is not valid JSON'))
      }
    }
    const problems = spec.checkRequest(method, apiPath, record.query, record.body)
    if (problems.length) {
      violations.push(...problems.map((p) => `CLI request: ${p}`))
      return send(res, record, 400, error(400, problems.join('; ')), false)
    }
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return send(res, record, 401, error(401, 'authentication failed: the API key is not valid'))
    }
    const h = hooks.findIndex((x) => x.match.test(`${method} ${apiPath}`))
    if (h >= 0) hooks.splice(h, 1)[0].fn()
    const i = faults.findIndex((f) => (!f.mutationsOnly || method !== 'GET') && (!f.match || f.match.test(`${method} ${apiPath}`)))
    const fault = i >= 0 ? faults[i] : undefined
    if (fault && --fault.times <= 0) faults.splice(i, 1)
    const faultAnswer = (f: Fault) => {
      if (f.status === 0) return void res.socket?.resetAndDestroy()
      if (f.raw !== undefined) return send(res, record, f.status, f.raw, false)
      const message = f.message ?? (f.status === 423 ? 'project already has running operations, scheduling of new ones is prohibited'
        : f.status === 429 ? 'rate limit exceeded' : f.status === 503 ? 'service unavailable' : f.status === 502 ? 'bad gateway' : 'internal server error')
      send(res, record, f.status, error(f.status, message))
    }
    if (fault && !fault.after) return faultAnswer(fault)
    try {
      const [status, body] = await route(record, apiPath.split('/').filter(Boolean), url.searchParams)
      if (fault) return faultAnswer(fault)
      send(res, record, status, body)
    } catch (e) {
      if (fault) return faultAnswer(fault)
      if (e instanceof HttpError) return send(res, record, e.status, error(e.status, e.message, e.code))
      send(res, record, 500, error(500, String((e as Error).message)))
    }
  }

  const server: Server = createServer((req, res) => void handle(req, res))
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  let listening = true

  const fake: FakeNeon = {
    url: `http://127.0.0.1:${port}/api/v2`,
    apiKey,
    requests,
    projects,
    violations,
    assertSpec() {
      const seen = violations.splice(0)
      if (seen.length) throw new Error(`the Neon API spec was not followed:\n${seen.join('\n')}`)
    },
    operationPolls: 2,
    failNext(status, times, o = {}) {
      const safe = status === 423 || status === 429 || status === 503 || status < 500
      faults.push({ status, times, mutationsOnly: !o.all, after: o.after ?? (!safe && o.raw === undefined), message: o.message, raw: o.raw, match: o.match })
    },
    failOperation(action, status, error) {
      opFaults.push({ action, status, error })
    },
    before(match, fn) {
      hooks.push({ match, fn })
    },
    clearFaults() {
      faults.length = 0
      hooks.length = 0
      opFaults.length = 0
    },
    addProject(name, o = {}) {
      const p = makeProject(name, o.org ?? personalOrgs?.[0]?.id ?? keyOrg.id)
      for (const b of o.branches ?? []) {
        const spec = typeof b === 'string' ? { name: b, parent: 'main' } : b
        makeBranch(p, spec.name, p.branches.find((x) => x.name === spec.parent))
      }
      return p
    },
    async down() {
      if (!listening) return
      listening = false
      server.closeAllConnections()
      await new Promise<void>((resolve) => server.close(() => resolve()))
    },
    async close() {
      await fake.down()
      // One psql for all: under load a process per database made close() outlast its hook.
      const drops = [...made.databases.map((db) => `drop database if exists ${db} with (force)`), ...made.roles.map((role) => `drop role if exists ${role}`)]
      if (drops.length) psql(drops)
    },
  }
  return fake
}

/**
 * The test file's (or describe block's) fake Neon API: started before its tests, every request
 * and answer held to Neon's OpenAPI spec after each test, closed after all. Use it as the
 * instance itself; it is there once the tests run.
 */
export function useFakeNeon(opts: FakeNeonOptions = { hosts: 'local' }): FakeNeon {
  let current: FakeNeon | undefined
  beforeAll(async () => {
    current = await startFakeNeon(opts)
  })
  afterAll(() => current?.close())
  afterEach(() => current?.assertSpec())
  return new Proxy({} as FakeNeon, {
    get(_target, key) {
      if (!current) throw new Error('the fake Neon API is used before its tests run')
      const value = Reflect.get(current, key)
      return typeof value === 'function' ? value.bind(current) : value
    },
  })
}
