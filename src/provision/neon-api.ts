// The Neon API v2 through the official client (@neondatabase/api-client): its generated types and
// request shapes follow Neon's published spec, so we do not keep a copy of them. Here: the key, the
// retries (reads on 423/429/5xx; writes only where the spec says nothing was done), the shape of
// every answer, waiting for operations in each of their states, the organization, typed errors.
import type { Api, Operation } from '@neondatabase/api-client'
import { networkFailure } from '../classify.js'
import { Deadline, backoff, sleep } from '../duration.js'
import { ExitCode, TodoDbError, badInput, failed, interrupted, isTodoDbError, noResponse, redact, registerSecret } from '../errors.js'
import { shapes, type Shape } from './neon-shapes.js'
import type { Output } from '../output.js'

export const DEFAULT_API_HOST = 'https://console.neon.tech/api/v2'

export type NeonClient = Api<unknown>
/** Per-request options the client passes on to axios. */
export interface CallParams {
  signal: AbortSignal
  timeout: number
}

export interface CallOptions<T> {
  /** What the answer must look like before it is used (see neon-shapes.ts). */
  shape: Shape
  /**
   * A POST/PATCH/DELETE: retried only where Neon's spec says nothing was done (423, 429, 503, no
   * connection made). After any other failure it may have happened: the error has code
   * API_UNCERTAIN, and the caller looks again before doing anything twice.
   */
  write?: boolean
  /** Answers that are not errors for this call (a 204 of a DELETE): their body is returned as is. */
  accept?: (status: number) => boolean
  _t?: T
}

export interface NeonApi {
  host: string
  /** The organization to list and create projects in, when the key needs one named. */
  orgId?: string
  /** Runs one API call with retries; `what` says what it was for in errors ("create branch dev"). */
  call<T>(what: string, fn: (c: NeonClient, p: CallParams) => Promise<{ data: T }>, opts: CallOptions<T>): Promise<T>
  /** Waits until every operation has finished, polling; failed operations are errors. */
  waitFor(projectId: string, operations: Operation[] | undefined): Promise<void>
  /**
   * Runs a project list/create; when the API says the key must name its organization, picks the
   * key's only organization (as neonctl does) and runs it again, or says which to choose.
   */
  inOrg<T>(fn: () => Promise<T>): Promise<T>
}

export interface NeonApiInput {
  apiKey?: string
  apiHost?: string
  orgId?: string
  env: NodeJS.ProcessEnv
  deadline: Deadline
  signal: AbortSignal
  out: Output
}

/** Reads are retried on these: the project is busy, we are too fast, or the API hiccuped. */
const READ_RETRY = new Set([423, 429, 500, 502, 503, 504])
/**
 * Writes only on these: Neon's spec says 423 and 503 are always safe to retry (nothing was done),
 * and a 429 turned the request away. A 500/502/504 may come after the work was done.
 */
const WRITE_RETRY = new Set([423, 429, 503])
/**
 * Network failures (classify.ts) are retried a few times, since a person with no network should
 * not wait minutes; a write only when it was never sent.
 */
const NETWORK_ATTEMPTS = 3
/** OperationStatus in Neon's spec: finished and skipped are done; failed, error and cancelled will not finish. */
const DONE = new Set(['finished', 'skipped'])
const BROKEN = new Set(['failed', 'error', 'cancelled'])
/** What a personal API key is told when it names no organization (400). */
const ORG_REQUIRED = /org_id is required/i

const retryWait = (attempt: number) => backoff(attempt, 250, 5000)

/**
 * The API wants to be told the organization: bad input (exit 3), whichever way we learn it (the
 * 400 itself, or the key's organizations), since the user fixes it with --org or another key.
 */
const orgRequired = (message: string, hint: string, data?: Record<string, unknown>) =>
  new TodoDbError(message, { code: 'ORG_REQUIRED', exitCode: ExitCode.BAD_INPUT, hint, ...(data ? { data } : {}) })

interface AxiosLikeError {
  code?: string
  message?: string
  response?: { status: number; data?: unknown }
}

function apiMessage(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message
  }
  return typeof data === 'string' && data.trim() ? data.trim().slice(0, 200) : undefined
}

/** The API key and base URL, validated; the key is registered so it is masked everywhere. */
export function apiSettings(input: Pick<NeonApiInput, 'apiKey' | 'apiHost' | 'env'>): { apiKey: string; host: string } {
  const apiKey = (input.apiKey ?? input.env.NEON_API_KEY ?? '').trim()
  if (!apiKey) {
    throw badInput('no Neon API key: set NEON_API_KEY (or pass --api-key)',
      'create one in the Neon console under Account settings > API keys; or use todo-db provision --local, which needs no account',
      'NO_API_KEY')
  }
  registerSecret(apiKey)
  const host = (input.apiHost ?? input.env.NEON_API_HOST ?? DEFAULT_API_HOST).trim().replace(/\/+$/, '')
  let url: URL
  try {
    url = new URL(host)
  } catch {
    throw badInput(`the Neon API host "${host}" is not a URL`, `use e.g. ${DEFAULT_API_HOST}`, 'BAD_API_HOST')
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') {
    throw badInput(`the Neon API host "${host}" is not an http(s) URL`, `use e.g. ${DEFAULT_API_HOST}`, 'BAD_API_HOST')
  }
  return { apiKey, host }
}

export async function createNeonApi(input: NeonApiInput): Promise<NeonApi> {
  const { apiKey, host } = apiSettings(input)
  const { deadline, signal, out } = input
  // Imported here: axios and the generated client are the heaviest part of the CLI.
  // CommonJS: its exports object is the default export, under Node and bundled alike.
  const { default: { createApiClient } } = await import('@neondatabase/api-client')
  const client = createApiClient({ apiKey, baseURL: host, headers: { 'User-Agent': 'todo-db' } })

  const pastDeadline = (what: string, last: string) =>
    noResponse(`${what}: not done within --timeout (${deadline.ms} ms): ${last}`, { code: 'DEADLINE', hint: 'try again later or raise --timeout' })

  const uncertain = (what: string, why: string, cause?: unknown) =>
    failed(`Neon API, ${what}: ${why}; it may have been done anyway`, {
      code: 'API_UNCERTAIN', hint: 'run the same command again: it finds what was made instead of making it twice', cause,
    })

  async function call<T>(what: string, fn: (c: NeonClient, p: CallParams) => Promise<{ data: T }>, opts: CallOptions<T>): Promise<T> {
    let networkFailures = 0
    const retryable = opts.write ? WRITE_RETRY : READ_RETRY
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw interrupted(signal.reason)
      if (deadline.expired()) throw pastDeadline(what, 'no answer yet')
      let data: T
      try {
        data = (await fn(client, { signal, timeout: Math.max(1, deadline.remaining()) })).data
      } catch (e) {
        if (signal.aborted) throw interrupted(signal.reason)
        const err = e as AxiosLikeError
        const status = err.response?.status
        if (status === undefined) {
          const code = err.code ?? ''
          const kind = networkFailure(code)
          const timedOut = kind === 'timed-out' || deadline.expired()
          if (timedOut) {
            if (opts.write) throw uncertain(what, `no answer within --timeout (${deadline.ms} ms)`, e)
            throw pastDeadline(what, `the Neon API at ${host} did not answer`)
          }
          networkFailures++
          const wait = retryWait(attempt)
          const notSent = kind === 'not-sent'
          const canRetry = kind !== undefined && (!opts.write || notSent)
          if (!canRetry || networkFailures >= NETWORK_ATTEMPTS || deadline.remaining() <= wait) {
            if (opts.write && !notSent) throw uncertain(what, `the connection failed (${redact(code || err.message || String(e))})`, e)
            throw noResponse(`cannot reach the Neon API at ${host}: ${redact(code || err.message || String(e))}`, {
              code: 'API_UNREACHABLE', hint: 'check the network, NEON_API_HOST or --api-host', cause: e,
            })
          }
          out.debug(`${what}: ${code}; retrying in ${Math.round(wait)} ms`)
          await sleep(wait)
          continue
        }
        const message = apiMessage(err.response?.data) ?? `HTTP ${status}`
        const apiCode = (err.response?.data as { code?: string } | undefined)?.code || undefined
        if (retryable.has(status)) {
          const wait = retryWait(attempt)
          if (deadline.remaining() <= wait) throw pastDeadline(what, `the API still answers ${status}: ${message}`)
          out.debug(`${what}: ${status} ${message}; retrying in ${Math.round(wait)} ms`)
          await sleep(wait)
          continue
        }
        const data = { status, ...(apiCode ? { apiCode } : {}) }
        if (opts.write && status >= 500) throw uncertain(what, `the API answered ${status}: ${message}`, e)
        if (status === 401 || status === 403) {
          throw failed(`the Neon API refused the key: ${message}`, { code: 'API_AUTH', hint: 'check NEON_API_KEY or --api-key', data })
        }
        if (status === 400 && ORG_REQUIRED.test(message)) {
          // Still asked with an organization named: the one named is not what the key can use.
          const named = api.orgId ? `check the organization named (${api.orgId}): ` : ''
          throw orgRequired(`Neon API, ${what}: ${message}`, `${named}pass --org <org id> or set NEON_ORG_ID`, data)
        }
        throw failed(`Neon API, ${what}: ${message}`, { code: status === 404 ? 'API_NOT_FOUND' : 'API_REFUSED', data })
      }
      const why = opts.shape(data)
      if (why) {
        throw failed(`Neon API, ${what}: unexpected answer (${why})`, {
          code: 'API_BAD_ANSWER', hint: opts.write ? 'run the same command again: it looks before it makes anything' : 'try again; if it persists, check NEON_API_HOST',
        })
      }
      return data
    }
  }

  async function waitFor(projectId: string, operations: Operation[] | undefined): Promise<void> {
    for (const op of operations ?? []) {
      let current = op
      for (let poll = 0; !DONE.has(current.status); poll++) {
        // scheduling, running and cancelling are on their way to another state: keep polling.
        if (BROKEN.has(current.status)) {
          throw failed(`Neon operation ${current.action} (${current.id}) ${current.status}${current.error ? `: ${current.error}` : ''}`, {
            code: 'OPERATION_FAILED', hint: 'see the project\'s operations in the Neon console; run the command again once it is resolved',
            data: { operationId: current.id, action: current.action, operationStatus: current.status },
          })
        }
        // Operations take seconds; start quick (tests, small branches), then back off to 2 s.
        const wait = Math.min(2000, 100 * 1.5 ** poll)
        if (deadline.remaining() <= wait) throw pastDeadline(`waiting for ${current.action}`, `the operation is still ${current.status}`)
        await sleep(wait)
        const res = await call(`operation ${current.action}`, (c, p) => c.getProjectOperation(projectId, current.id, p), { shape: shapes.operation })
        current = res.operation
      }
    }
  }

  const api: NeonApi = { host, orgId: (input.orgId ?? input.env.NEON_ORG_ID)?.trim() || undefined, call, waitFor, inOrg }

  /** The key's only organization; several or none is a question for the user (exit 3). */
  async function onlyOrg(): Promise<string> {
    const { organizations } = await call('list your organizations', (c, p) => c.getCurrentUserOrganizations(p), { shape: shapes.organizations })
    if (organizations.length === 1) {
      const [org] = organizations
      out.debug(`the API key names no organization: using its only one, ${org.name} (${org.id}); pass --org to choose`)
      return org.id
    }
    if (organizations.length === 0) {
      throw orgRequired('the Neon API wants an organization (org_id), and the API key belongs to none', 'create an organization in the Neon console, or use an organization API key')
    }
    throw orgRequired(`the API key belongs to ${organizations.length} Neon organizations: ${organizations.map((o) => `${o.id} (${o.name})`).join(', ')}`,
      'choose one with --org <org id> or NEON_ORG_ID')
  }

  async function inOrg<T>(fn: () => Promise<T>): Promise<T> {
    try {
      return await fn()
    } catch (e) {
      if (api.orgId || !(isTodoDbError(e) && e.code === 'ORG_REQUIRED')) throw e
      api.orgId = await onlyOrg()
      return fn()
    }
  }

  return api
}
