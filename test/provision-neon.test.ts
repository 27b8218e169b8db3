// provision against the Neon API as it really behaves (issue 10): organisations, retries that cannot
// duplicate, every operation state, malformed answers, connection URIs as Neon writes them. Each
// fake here is held to Neon's OpenAPI spec (afterEach), and the spec checker itself is tested first.
import { existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { parseEnv } from 'node:util'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { runCli, tempDir, type CliOptions } from './helpers/cli.js'
import { ORG_REQUIRED, startFakeNeon, type FakeNeon } from './helpers/fake-neon.js'
import { neonSpec } from './helpers/neon-spec.js'

const fakes: FakeNeon[] = []
async function fakeNeon(opts: Parameters<typeof startFakeNeon>[0] = {}): Promise<FakeNeon> {
  const f = await startFakeNeon(opts)
  fakes.push(f)
  return f
}
afterAll(async () => {
  for (const f of fakes) await f.close()
})
afterEach(() => {
  for (const f of fakes) f.assertSpec()
})

const run = (f: FakeNeon, args: string[], opts: CliOptions = {}) =>
  runCli(args, { ...opts, env: { NEON_API_KEY: f.apiKey, NEON_API_HOST: f.url, ...opts.env } })
const envOf = (dir: string) => parseEnv(readFileSync(join(dir, '.env'), 'utf8')) as Record<string, string>
const count = (f: FakeNeon, method: string, pattern: RegExp, from = 0) => f.requests.slice(from).filter((r) => r.method === method && pattern.test(r.path)).length
const projectName = () => `todo-${Math.random().toString(36).slice(2, 8)}`

describe('the spec checker', () => {
  const spec = neonSpec()
  it('knows the operations, and refuses unknown paths, query parameters and bad bodies', () => {
    expect(spec.operationId('GET', '/projects')).toBe('listProjects')
    expect(spec.operationId('GET', '/projects/p-1/branches/count')).toBe('countProjectBranches')
    expect(spec.operationId('POST', '/projects/p-1/branches/br-1/restore')).toBe('restoreProjectBranch')
    expect(spec.checkRequest('GET', '/projects', { search: 'x', limit: '400', org_id: 'org-a' }, undefined)).toEqual([])
    expect(spec.checkRequest('GET', '/projects', { limit: '401' }, undefined).join()).toMatch(/limit=401/)
    expect(spec.checkRequest('GET', '/projects', { pgbouncer: 'true' }, undefined).join()).toMatch(/unknown query parameter pgbouncer/)
    expect(spec.checkRequest('GET', '/nowhere', {}, undefined).join()).toMatch(/no such operation/)
    expect(spec.checkRequest('POST', '/projects', {}, { project: { name: 7 } }).join()).toMatch(/request body/)
    expect(spec.checkRequest('POST', '/projects/p-1/branches/br-1/restore', {}, {}).join()).toMatch(/source_branch_id/)
    expect(spec.checkRequest('GET', '/projects/p-1/connection_uri', { database_name: 'neondb' }, undefined).join()).toMatch(/role_name missing/)
  })

  it('refuses undocumented statuses and answers that do not match their schema', () => {
    expect(spec.checkResponse('DELETE', '/projects/p-1/branches/br-1', 204, undefined)).toEqual([])
    expect(spec.checkResponse('GET', '/projects', 204, undefined).join()).toMatch(/not documented/)
    expect(spec.checkResponse('GET', '/projects', 200, {}).join()).toMatch(/projects/)
    expect(spec.checkResponse('GET', '/projects', 200, { projects: [], pagination: { cursor: '' } }).join()).toMatch(/cursor/)
    expect(spec.checkResponse('GET', '/projects/p-1/operations/x', 200, { operation: { status: 'done' } }).join()).toMatch(/operation/)
    expect(spec.checkResponse('POST', '/projects', 502, { code: '', message: 'bad gateway' })).toEqual([])
    expect(spec.checkResponse('POST', '/projects', 502, { message: 'no code' }).join()).toMatch(/code/)
  })
})

describe('organisations (personal API keys)', () => {
  it('with one organisation, uses it with no flag (and says so with --verbose)', async () => {
    const f = await fakeNeon({ personalOrgs: [{ id: 'org-only-1', name: 'Alice' }] })
    const name = projectName()
    const cwd = tempDir()
    const r = await run(f, ['provision', '--project', name, '--branch', 'dev', '--verbose'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect(r.stderr).toMatch(/using its only one, Alice \(org-only-1\)/)
    expect(f.projects.filter((p) => p.name === name).map((p) => p.org_id)).toEqual(['org-only-1'])
    expect(f.requests.find((q) => q.method === 'POST' && q.path.endsWith('/projects'))?.body.project.org_id).toBe('org-only-1')
    expect(envOf(cwd).DATABASE_URL).toMatch(/^postgresql:\/\//)
    // Quietly without --verbose; and `list` finds it the same way.
    const again = await run(f, ['provision', '--project', name, '--branch', 'dev'], { cwd })
    expect(again.code).toBe(0)
    expect(again.stderr).toBe('')
    expect((await run(f, ['provision', 'list', '--project', name])).code).toBe(0)
  })

  it('with several, exits 3 listing their ids and names and the flag to pass; --org / NEON_ORG_ID choose', async () => {
    const f = await fakeNeon({ personalOrgs: [{ id: 'org-work-1', name: 'Work' }, { id: 'org-home-2', name: 'Home' }] })
    const name = projectName()
    const r = await run(f, ['provision', '--project', name, '--json'])
    expect(r.code).toBe(3)
    expect(r.stderr).toMatch(/2 Neon organizations: org-work-1 \(Work\), org-home-2 \(Home\).*--org/)
    expect(r.stderr.trim().split('\n')).toHaveLength(1)
    expect(JSON.parse(r.stdout).error.code).toBe('ORG_REQUIRED')
    expect(count(f, 'POST', /.*/)).toBe(0)

    const env = await run(f, ['provision', '--project', name], { env: { NEON_ORG_ID: 'org-home-2' } })
    expect(env.code, env.stderr).toBe(0)
    expect(f.projects.find((p) => p.name === name)?.org_id).toBe('org-home-2')
    const flag = await run(f, ['provision', 'list', '--project', name, '--org', 'org-home-2', '--json'], { env: { NEON_ORG_ID: 'org-work-1' } })
    expect(flag.code).toBe(0)
    expect(f.requests.filter((q) => q.path.endsWith('/projects')).at(-1)?.query.org_id).toBe('org-home-2')
  })
})

describe('ORG_REQUIRED is bad input (exit 3) on every path', () => {
  const orgRequired = (r: { code: number | null; stdout: string; stderr: string }, what: string) => {
    expect(r.code, `${what}: ${r.stderr}`).toBe(3)
    expect(JSON.parse(r.stdout).error.code, what).toBe('ORG_REQUIRED')
    expect(r.stderr.trim().split('\n'), what).toHaveLength(1)
  }

  it('several organizations: provision neon, list and delete-branch each exit 3, naming --org', async () => {
    const f = await fakeNeon({ personalOrgs: [{ id: 'org-a-1', name: 'A' }, { id: 'org-b-2', name: 'B' }] })
    const p = f.addProject(projectName(), { branches: ['dev'] })
    for (const args of [['provision', 'neon', '--project', p.name], ['provision', 'neon', 'list', '--project', p.name], ['provision', 'neon', 'delete-branch', 'dev', '--project', p.name, '--yes']]) {
      const r = await run(f, [...args, '--json'])
      orgRequired(r, args.join(' '))
      expect(r.stderr).toMatch(/--org/)
    }
    expect(count(f, 'POST', /.*/) + count(f, 'DELETE', /.*/)).toBe(0)
    expect(p.branches.map((b) => b.name)).toEqual(['main', 'dev'])
  })

  it('no organization at all: exit 3, saying so', async () => {
    const f = await fakeNeon({ personalOrgs: [] })
    const r = await run(f, ['provision', 'neon', '--project', projectName(), '--json'])
    orgRequired(r, 'no organization')
    expect(r.stderr).toMatch(/belongs to none/)
    expect(count(f, 'POST', /.*/)).toBe(0)
  })

  it("the API's own 400 (org_id is required), with the organization named or after picking the only one: exit 3", async () => {
    const f = await fakeNeon({ personalOrgs: [{ id: 'org-only-9', name: 'Only' }] })
    // Neon's answer to a list without org_id, given here to the request that names one.
    f.failNext(400, 1, { all: true, match: /^GET \/projects$/, message: ORG_REQUIRED })
    const named = await run(f, ['provision', 'neon', '--project', projectName(), '--org', 'org-only-9', '--json'])
    orgRequired(named, '--org given')
    expect(named.stderr).toMatch(/org_id is required.*org-only-9/)
    expect(f.requests.filter((q) => q.path.endsWith('/projects')).at(-1)?.query.org_id).toBe('org-only-9')

    // The first list is refused for want of org_id (the real answer), the retry in the only org too.
    f.failNext(400, 2, { all: true, match: /^GET \/projects$/, message: ORG_REQUIRED })
    const picked = await run(f, ['provision', 'neon', '--project', projectName(), '--json'])
    orgRequired(picked, 'only organization picked')
    expect(f.requests.filter((q) => q.path.endsWith('/projects')).at(-1)?.query.org_id).toBe('org-only-9')
    expect(count(f, 'POST', /.*/)).toBe(0)
  })
})

describe('retries that cannot duplicate', () => {
  let f: FakeNeon
  beforeAll(async () => {
    f = await fakeNeon()
  })

  it('a 502 after the project was made: one project, and the run finishes', async () => {
    const name = projectName()
    f.failNext(502, 1, { match: /^POST \/projects$/ })
    const cwd = tempDir()
    const r = await run(f, ['provision', '--project', name, '--branch', 'dev', '--verbose'], { cwd })
    expect(r.code, r.stderr).toBe(0)
    expect(f.projects.filter((p) => p.name === name)).toHaveLength(1)
    expect(envOf(cwd).DATABASE_URL).toMatch(/^postgresql:\/\//)
  })

  it('no sequence of injected 5xx and cut answers makes two projects or two branches of one name', async () => {
    // [status, request, after the side effect?]
    const sequences: Array<Array<[number, RegExp, boolean]>> = [
      [[502, /^POST \/projects$/, true], [504, /^POST \/projects\/[^/]+\/branches$/, true]],
      [[500, /^POST \/projects$/, true], [500, /^POST \/projects$/, true]],
      [[502, /^POST \/projects$/, false], [502, /^POST \/projects\/[^/]+\/branches$/, false]],
      [[502, /^POST \/projects\/[^/]+\/branches$/, true], [502, /^GET \/projects\/[^/]+\/branches$/, true]],
      // 0: the connection is reset with no answer, after the side effect or before it
      [[0, /^POST \/projects$/, true], [0, /^POST \/projects\/[^/]+\/branches$/, true]],
      [[0, /^POST \/projects$/, false], [0, /^POST \/projects\/[^/]+\/endpoints$/, true]],
    ]
    for (const seq of sequences) {
      const name = projectName()
      for (const [status, match, after] of seq) f.failNext(status, 1, { match, all: true, after })
      const seen = f.requests.length
      const r = await run(f, ['provision', '--project', name, '--branch', 'pr-1'])
      // a reset really left a request unanswered
      if (seq.some(([status]) => status === 0)) expect(f.requests.slice(seen).some((q) => q.status === undefined)).toBe(true)
      f.clearFaults()
      // Whether the run ends 0 or asks to be run again, the next run completes, and nothing is doubled.
      const next = await run(f, ['provision', '--project', name, '--branch', 'pr-1'])
      expect(next.code, `${r.stderr}\n${next.stderr}`).toBe(0)
      const projects = f.projects.filter((p) => p.name === name)
      expect(projects).toHaveLength(1)
      expect(projects[0].branches.filter((b) => b.name === 'pr-1')).toHaveLength(1)
    }
  })

  it('a 502 after the branch was deleted: looks again, and gone is done', async () => {
    const p = f.addProject(projectName(), { branches: ['pr-9'] })
    const n = f.requests.length
    f.failNext(502, 1, { match: /^DELETE / })
    const r = await run(f, ['provision', '--project', p.name, '--delete-branch', 'pr-9', '--json', '--yes'])
    expect(r.code, r.stderr).toBe(0)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, deleted: { name: 'pr-9' } })
    expect(count(f, 'DELETE', /.*/, n)).toBe(1)
    expect(p.branches.map((b) => b.name)).toEqual(['main'])
  })

  it('retries a POST on 503 (the spec: always safe) and never on 500 without looking first', async () => {
    const name = projectName()
    const n = f.requests.length
    f.failNext(503, 2, { match: /^POST \/projects$/ })
    const r = await run(f, ['provision', '--project', name])
    expect(r.code, r.stderr).toBe(0)
    expect(count(f, 'POST', /\/projects$/, n)).toBe(3)
    expect(f.projects.filter((p) => p.name === name)).toHaveLength(1)
  })
})

describe('every operation state', () => {
  let f: FakeNeon
  beforeAll(async () => {
    f = await fakeNeon()
  })

  for (const status of ['failed', 'error', 'cancelled'] as const) {
    it(`an operation that ends ${status} is exit 1 naming it and its error, at once`, async () => {
      const p = f.addProject(projectName())
      f.failOperation('create_branch', status, 'could not create timeline: storage unavailable')
      const cwd = tempDir()
      const r = await run(f, ['provision', '--project', p.name, '--branch', 'dev', '--timeout', '60s', '--json'], { cwd })
      expect(r.code, r.stderr).toBe(1)
      expect(r.stderr).toMatch(new RegExp(`Neon operation create_branch \\([0-9a-f-]{36}\\) ${status}(: could not create timeline: storage unavailable)?`))
      expect(JSON.parse(r.stdout).error).toMatchObject({ code: 'OPERATION_FAILED', operationStatus: status })
      expect(r.ms).toBeLessThan(15_000)
    })
  }

  it('waits through scheduling and running to finished', async () => {
    const p = f.addProject(projectName())
    const n = f.requests.length
    f.operationPolls = 4
    try {
      const r = await run(f, ['provision', '--project', p.name, '--branch', 'slow'])
      expect(r.code, r.stderr).toBe(0)
    } finally {
      f.operationPolls = 2
    }
    expect(count(f, 'GET', /\/operations\//, n)).toBeGreaterThanOrEqual(4)
  })

  it('deleting a branch with children: one clear line, nothing deleted', async () => {
    const p = f.addProject(projectName(), { branches: ['dev-a', { name: 'dev-a-child', parent: 'dev-a' }] })
    const n = f.requests.length
    const r = await run(f, ['provision', '--project', p.name, '--delete-branch', 'dev-a', '--yes'])
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error: branch dev-a has child branches \(dev-a-child\): Neon deletes a branch only without children/)
    expect(count(f, 'DELETE', /.*/, n)).toBe(0)
    expect(p.branches.map((b) => b.name)).toEqual(['main', 'dev-a', 'dev-a-child'])
  })

  it('deleting a branch someone else deleted meanwhile (204) is done', async () => {
    const p = f.addProject(projectName(), { branches: ['dev-race'] })
    const b = p.branches[1]
    f.before(/^DELETE /, () => {
      p.branches.splice(p.branches.indexOf(b), 1)
    })
    const r = await run(f, ['provision', '--project', p.name, '--delete-branch', 'dev-race', '--json', '--yes'])
    expect(r.code, r.stderr).toBe(0)
    expect(f.requests.at(-1)?.status).toBe(204)
    expect(JSON.parse(r.stdout)).toMatchObject({ ok: true, deleted: { name: 'dev-race' } })
  })
})

describe('malformed answers', () => {
  let f: FakeNeon
  beforeAll(async () => {
    f = await fakeNeon()
  })

  for (const [label, raw] of [['truncated JSON', '{"projects": [{"id": "ab'], ['{}', '{}'], ['a list', '[]']] as const) {
    it(`"list projects" answering 200 with ${label}: exit 1 naming the call, nothing created`, async () => {
      const n = f.requests.length
      f.failNext(200, 1, { all: true, raw, match: /^GET \/projects$/ })
      const cwd = tempDir()
      const r = await run(f, ['provision', '--project', projectName(), '--json'], { cwd })
      expect(r.code).toBe(1)
      expect(r.stderr).toMatch(/^error: Neon API, list projects: unexpected answer \(/)
      expect(r.stderr).not.toMatch(/Cannot read|TypeError|at .*\.js/)
      expect(JSON.parse(r.stdout).error.code).toBe('API_BAD_ANSWER')
      expect(count(f, 'POST', /.*/, n)).toBe(0)
    })
  }

  it('a connection URI that is not a postgresql:// URL: exit 1 naming the call, no env file', async () => {
    const p = f.addProject(projectName())
    f.failNext(200, 1, { all: true, raw: '{"uri": "ep-cool-123456-pooler.us-east-2.aws.neon.tech"}', match: /connection_uri$/ })
    const cwd = tempDir()
    const r = await run(f, ['provision', '--project', p.name], { cwd })
    expect(r.code).toBe(1)
    expect(r.stderr).toMatch(/^error: Neon API, get the pooled connection URI: unexpected answer \("uri": not a postgresql:\/\/ URL\)/)
    expect(existsSync(join(cwd, '.env'))).toBe(false)
  })

  it('a create answer it cannot read: looks again, finds what was made, never makes it twice', async () => {
    const name = projectName()
    f.failNext(201, 1, { raw: '{"project": ', after: true, match: /^POST \/projects$/ })
    const r = await run(f, ['provision', '--project', name])
    expect(r.code, r.stderr).toBe(0)
    expect(f.projects.filter((p) => p.name === name)).toHaveLength(1)
  })
})

describe('connection URIs as Neon writes them', () => {
  for (const hosts of ['neon', 'neon-c2'] as const) {
    it(`${hosts}: DATABASE_URL is the -pooler host, DATABASE_URL_UNPOOLED the direct one, both with channel_binding=require`, async () => {
      const f = await fakeNeon({ hosts })
      const cwd = tempDir()
      const r = await run(f, ['provision', '--project', projectName(), '--branch', 'dev', '--json'], { cwd })
      expect(r.code, r.stderr).toBe(0)
      const env = envOf(cwd)
      const region = hosts === 'neon' ? 'us-east-2' : 'c-2\\.us-east-2'
      expect(env.DATABASE_URL).toMatch(new RegExp(`^postgresql://[^:]+:[^@]+@ep-[a-z]+-[a-z]+-\\d{6}-pooler\\.${region}\\.aws\\.neon\\.tech/[a-z0-9_]+\\?sslmode=require&channel_binding=require$`))
      expect(env.DATABASE_URL_UNPOOLED).toBe(env.DATABASE_URL.replace('-pooler.', '.'))
      expect(JSON.parse(r.stdout)).toMatchObject({ pooledHost: expect.stringMatching(/-pooler\./), host: expect.not.stringMatching(/-pooler/) })
    })
  }
})
