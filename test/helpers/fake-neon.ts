// A local fake of the Neon API v2, as neonctl's own tests use one: the published request and response
// shapes for projects, branches, endpoints, operations and connection_uri, `{ code, message }` error
// bodies, 423 while a project has running operations. Every branch is a real database on the suite's
// PostgreSQL, owned by a real role with a password, so the URIs it hands out work end to end.
//
// Names on the shared cluster are prefixed per fake (databases, roles), so the URIs carry those names
// rather than `neondb` / `neondb_owner`; the API itself speaks of the names the client asked for.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import { randomBytes, randomUUID } from 'node:crypto'
import { cluster, psql } from './db.js'
import { secrets } from './cli.js'

export interface FakeProject {
  id: string
  name: string
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
  /** The real database on the cluster. */
  pgDatabase: string
  endpoints: FakeEndpoint[]
  created_at: string
}

export interface FakeEndpoint {
  id: string
  type: 'read_write' | 'read_only'
}

interface FakeOperation {
  id: string
  project_id: string
  branch_id?: string
  endpoint_id?: string
  action: string
  /** GETs left before it reports finished. */
  pollsLeft: number
  created_at: string
}

export interface RecordedRequest {
  method: string
  path: string
  query: Record<string, string>
  authorization?: string
  body?: any
}

interface Fault {
  status: number
  times: number
  mutationsOnly: boolean
  message?: string
  retryAfter?: number
}

export interface FakeNeon {
  /** Base URL, /api/v2 included: NEON_API_HOST. */
  url: string
  apiKey: string
  requests: RecordedRequest[]
  projects: FakeProject[]
  /** How many polls a new operation stays `running` for. */
  operationPolls: number
  /** The next `times` requests (mutations only, by default) answer `status`. */
  failNext(status: number, times: number, opts?: { all?: boolean; message?: string; retryAfter?: number }): void
  /** Forgets the failures still queued. */
  clearFaults(): void
  /** A project made beforehand, as if created in the console: default branch `main` with a compute. */
  addProject(name: string, opts?: { branches?: string[] }): FakeProject
  /** Closes the listening socket: the API is unreachable (connection refused). */
  down(): Promise<void>
  /** Drops every database and role it made. */
  close(): Promise<void>
}

const now = () => new Date().toISOString()
const rid = (bytes = 4) => randomBytes(bytes).toString('hex')
const ident = (s: string) => s.replace(/[^a-z0-9_]/gi, '_').toLowerCase()

export async function startFakeNeon(opts: { apiKey?: string } = {}): Promise<FakeNeon> {
  const apiKey = opts.apiKey ?? `napi_${rid(16)}`
  secrets.add(apiKey)
  const prefix = `fn${rid(3)}`
  const c = cluster()
  const projects: FakeProject[] = []
  const operations = new Map<string, FakeOperation>()
  const requests: RecordedRequest[] = []
  const faults: Fault[] = []
  const made = { databases: [] as string[], roles: [] as string[] }

  const uri = (p: FakeProject, b: FakeBranch, pooled: boolean) =>
    `postgresql://${p.pgRole}:${encodeURIComponent(p.password)}@localhost:${c.port}/${b.pgDatabase}` +
    `?sslmode=require&channel_binding=require${pooled ? '&pgbouncer=true' : ''}`

  function makeBranch(p: FakeProject, name: string, parent?: FakeBranch, withEndpoint = true): FakeBranch {
    const id = `br-${rid(4)}-${rid(4)}`
    const pgDatabase = ident(`${prefix}_${id}`)
    psql(`create database ${pgDatabase} owner ${p.pgRole}`)
    made.databases.push(pgDatabase)
    const b: FakeBranch = { id, name, parent_id: parent?.id, default: !parent, pgDatabase, endpoints: [], created_at: now() }
    if (withEndpoint) b.endpoints.push({ id: `ep-${rid(4)}-${rid(4)}`, type: 'read_write' })
    p.branches.push(b)
    return b
  }

  function makeProject(name: string, region = 'aws-us-east-2', role = 'neondb_owner', database = 'neondb'): FakeProject {
    const id = `${name.replace(/[^a-z0-9]/gi, '-').toLowerCase()}-${rid(4)}`
    const password = `npg_${rid(8)}`
    secrets.add(password)
    const pgRole = ident(`${prefix}_${id}_owner`)
    psql(`create role ${pgRole} login password '${password}'`)
    made.roles.push(pgRole)
    const p: FakeProject = { id, name, region_id: region, role, database, pgRole, password, branches: [] }
    projects.push(p)
    makeBranch(p, 'main')
    return p
  }

  function operation(p: FakeProject, action: string, extra: Partial<FakeOperation>): FakeOperation {
    const op: FakeOperation = { id: randomUUID(), project_id: p.id, action, pollsLeft: fake.operationPolls, created_at: now(), ...extra }
    operations.set(op.id, op)
    return op
  }

  const opJson = (op: FakeOperation) => ({
    id: op.id,
    project_id: op.project_id,
    ...(op.branch_id ? { branch_id: op.branch_id } : {}),
    ...(op.endpoint_id ? { endpoint_id: op.endpoint_id } : {}),
    action: op.action,
    status: op.pollsLeft > 0 ? 'running' : 'finished',
    failures_count: 0,
    created_at: op.created_at,
    updated_at: now(),
    total_duration_ms: 0,
  })
  const projectJson = (p: FakeProject) => ({
    id: p.id,
    platform_id: 'aws',
    region_id: p.region_id,
    name: p.name,
    provisioner: 'k8s-neonvm',
    pg_version: 17,
    proxy_host: `${p.region_id}.aws.neon.tech`,
    branch_logical_size_limit: 0,
    branch_logical_size_limit_bytes: 0,
    store_passwords: true,
    active_time: 0,
    cpu_used_sec: 0,
    creation_source: 'console',
    created_at: now(),
    updated_at: now(),
    owner_id: 'fake-owner',
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
  })
  const endpointJson = (p: FakeProject, b: FakeBranch, e: FakeEndpoint) => ({
    host: `${e.id}.${p.region_id}.aws.neon.tech`,
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
    proxy_host: `${p.region_id}.aws.neon.tech`,
    suspend_timeout_seconds: 0,
    provisioner: 'k8s-neonvm',
  })
  const rolesJson = (p: FakeProject, b: FakeBranch) => [{ branch_id: b.id, name: p.role, protected: false, created_at: b.created_at, updated_at: b.created_at }]
  const databasesJson = (p: FakeProject, b: FakeBranch) => [{ id: 1, branch_id: b.id, name: p.database, owner_name: p.role, created_at: b.created_at, updated_at: b.created_at }]

  class HttpError extends Error {
    constructor(readonly status: number, message: string, readonly code = '') {
      super(message)
    }
  }
  const busy = (p: FakeProject) => [...operations.values()].some((op) => op.project_id === p.id && op.pollsLeft > 0)
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
  const readBody = (req: IncomingMessage, record: RecordedRequest) =>
    new Promise<any>((resolve, reject) => {
      let text = ''
      req.on('data', (d) => (text += d))
      req.on('end', () => {
        try {
          record.body = text ? JSON.parse(text) : {}
          resolve(record.body)
        } catch {
          reject(new HttpError(400, 'request body is not valid JSON'))
        }
      })
    })

  async function route(req: IncomingMessage, record: RecordedRequest, parts: string[], q: URLSearchParams): Promise<[number, unknown]> {
    const method = record.method
    const mutation = method !== 'GET'
    if (parts[0] !== 'projects') throw new HttpError(404, 'not found')
    if (parts.length === 1) {
      if (method === 'GET') {
        const search = q.get('search') ?? ''
        const limit = Number(q.get('limit') ?? 10)
        const start = Number(q.get('cursor') ?? 0)
        const all = projects.filter((p) => p.name.includes(search) || p.id.includes(search))
        const page = all.slice(start, start + limit)
        return [200, { projects: page.map(projectJson), pagination: { cursor: String(start + page.length) }, applications: {}, integrations: {} }]
      }
      if (method === 'POST') {
        const body = (await readBody(req, record)).project ?? {}
        const p = makeProject(body.name ?? `project-${rid(3)}`, body.region_id, body.branch?.role_name, body.branch?.database_name)
        const b = p.branches[0]
        const ops = [operation(p, 'create_timeline', { branch_id: b.id }), operation(p, 'start_compute', { branch_id: b.id, endpoint_id: b.endpoints[0].id })]
        return [201, {
          project: projectJson(p),
          connection_uris: [{ connection_uri: uri(p, b, false), connection_parameters: { database: p.database, password: p.password, role: p.role, host: 'localhost', pooler_host: 'localhost' } }],
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
    if (what === undefined && method === 'GET') return [200, { project: projectJson(p) }]
    if (what === 'branches' && id === undefined) {
      if (method === 'GET') return [200, { branches: p.branches.map((b) => branchJson(p, b)), annotations: {} }]
      if (method === 'POST') {
        const body = await readBody(req, record)
        const name = body.branch?.name ?? `br-${rid(3)}`
        if (p.branches.some((b) => b.name === name)) throw new HttpError(409, `branch with name "${name}" already exists`, 'BRANCH_ALREADY_EXISTS')
        const parent = body.branch?.parent_id ? findBranch(p, body.branch.parent_id) : p.branches.find((b) => b.default)!
        const b = makeBranch(p, name, parent, (body.endpoints ?? []).some((e: { type: string }) => e.type === 'read_write'))
        const ops = [operation(p, 'create_branch', { branch_id: b.id }), ...b.endpoints.map((e) => operation(p, 'start_compute', { branch_id: b.id, endpoint_id: e.id }))]
        return [201, {
          branch: branchJson(p, b),
          endpoints: b.endpoints.map((e) => endpointJson(p, b, e)),
          operations: ops.map(opJson),
          roles: rolesJson(p, b),
          databases: databasesJson(p, b),
        }]
      }
    }
    if (what === 'branches' && id !== undefined) {
      const b = findBranch(p, id)
      if (sub === 'endpoints' && method === 'GET') return [200, { endpoints: b.endpoints.map((e) => endpointJson(p, b, e)) }]
      if (sub === undefined && method === 'GET') return [200, { branch: branchJson(p, b), annotation: {} }]
      if (sub === undefined && method === 'DELETE') {
        if (b.default) throw new HttpError(422, 'cannot delete the default branch', 'BRANCH_DEFAULT')
        p.branches = p.branches.filter((x) => x !== b)
        psql(`drop database if exists ${b.pgDatabase} with (force)`)
        made.databases = made.databases.filter((d) => d !== b.pgDatabase)
        return [200, { branch: branchJson(p, b), operations: [opJson(operation(p, 'delete_timeline', { branch_id: b.id }))] }]
      }
    }
    if (what === 'endpoints' && id === undefined) {
      if (method === 'GET') return [200, { endpoints: p.branches.flatMap((b) => b.endpoints.map((e) => endpointJson(p, b, e))) }]
      if (method === 'POST') {
        const body = (await readBody(req, record)).endpoint ?? {}
        const b = findBranch(p, body.branch_id)
        if (body.type === 'read_write' && b.endpoints.some((e) => e.type === 'read_write')) {
          throw new HttpError(409, 'branch already has a read_write endpoint', 'ENDPOINTS_LIMIT_EXCEEDED')
        }
        const e: FakeEndpoint = { id: `ep-${rid(4)}-${rid(4)}`, type: body.type }
        b.endpoints.push(e)
        return [201, { endpoint: endpointJson(p, b, e), operations: [opJson(operation(p, 'start_compute', { branch_id: b.id, endpoint_id: e.id }))] }]
      }
    }
    if (what === 'operations' && id !== undefined && method === 'GET') {
      const op = operations.get(id)
      if (!op || op.project_id !== p.id) throw new HttpError(404, 'operation not found')
      if (op.pollsLeft > 0) op.pollsLeft--
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

  function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}) {
    res.writeHead(status, { 'content-type': 'application/json', ...headers })
    res.end(JSON.stringify(body))
  }

  async function handle(req: IncomingMessage, res: ServerResponse) {
    const url = new URL(req.url ?? '/', 'http://fake')
    const method = req.method ?? 'GET'
    const record: RecordedRequest = { method, path: url.pathname, query: Object.fromEntries(url.searchParams), authorization: req.headers.authorization }
    requests.push(record)
    if (!url.pathname.startsWith('/api/v2/')) return send(res, 404, { code: '', message: 'not found' })
    if (req.headers.authorization !== `Bearer ${apiKey}`) {
      return send(res, 401, { code: '', message: 'authentication failed: the API key is not valid' })
    }
    const fault = faults[0]
    if (fault && (!fault.mutationsOnly || method !== 'GET')) {
      if (--fault.times <= 0) faults.shift()
      const message = fault.message ?? (fault.status === 423 ? 'project already has running operations, scheduling of new ones is prohibited'
        : fault.status === 429 ? 'rate limit exceeded' : 'internal server error')
      return send(res, fault.status, { code: '', message }, fault.retryAfter !== undefined ? { 'retry-after': String(fault.retryAfter) } : {})
    }
    try {
      const [status, body] = await route(req, record, url.pathname.slice('/api/v2/'.length).split('/').filter(Boolean), url.searchParams)
      send(res, status, { request_id: rid(8), ...(body as object) })
    } catch (e) {
      if (e instanceof HttpError) return send(res, e.status, { request_id: rid(8), code: e.code, message: e.message })
      send(res, 500, { code: '', message: String((e as Error).message) })
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
    operationPolls: 2,
    failNext(status, times, o = {}) {
      faults.push({ status, times, mutationsOnly: !o.all, message: o.message, retryAfter: o.retryAfter })
    },
    clearFaults() {
      faults.length = 0
    },
    addProject(name, o = {}) {
      const p = makeProject(name)
      for (const b of o.branches ?? []) makeBranch(p, b, p.branches[0])
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
      for (const db of made.databases) psql(`drop database if exists ${db} with (force)`)
      for (const role of made.roles) psql(`drop role if exists ${role}`)
    },
  }
  return fake
}

