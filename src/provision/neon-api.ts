// The Neon API v2 through the official client (@neondatabase/api-client): its generated types and
// request shapes follow Neon's published spec, so we do not keep a copy of them. Here: the key, the
// retries (423 busy, 429 rate limited, passing 5xx), waiting for operations, and typed errors.
import type { Api, Operation } from '@neondatabase/api-client'
import { Deadline, backoff, sleep } from '../duration.js'
import { badInput, failed, interrupted, noResponse, redact, registerSecret } from '../errors.js'
import type { Output } from '../output.js'

export const DEFAULT_API_HOST = 'https://console.neon.tech/api/v2'

export type NeonClient = Api<unknown>
/** Per-request options the client passes on to axios. */
export interface CallParams {
  signal: AbortSignal
  timeout: number
}

export interface NeonApi {
  host: string
  /** The organization to list and create projects in, when the key needs one named. */
  orgId?: string
  /** Runs one API call with retries; `what` says what it was for in errors ("create branch dev"). */
  call<T>(what: string, fn: (c: NeonClient, p: CallParams) => Promise<{ data: T }>): Promise<T>
  /** Waits until every operation has finished, polling; failed operations are errors. */
  waitFor(projectId: string, operations: Operation[] | undefined): Promise<void>
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

/** Statuses worth asking again: the project is busy, we are too fast, or the API hiccuped. */
const RETRY_STATUS = new Set([423, 429, 500, 502, 503, 504])
/** Network failures: retried a few times, since a person with no network should not wait minutes. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ERR_NETWORK'])
const NETWORK_ATTEMPTS = 3
const DONE = new Set(['finished', 'skipped'])
const BROKEN = new Set(['failed', 'cancelled', 'cancelling'])

const retryWait = (attempt: number) => backoff(attempt, 250, 5000)

interface AxiosLikeError {
  code?: string
  message?: string
  response?: { status: number; data?: unknown; headers?: Record<string, unknown> }
}

function apiMessage(data: unknown): string | undefined {
  if (data && typeof data === 'object' && typeof (data as { message?: unknown }).message === 'string') {
    return (data as { message: string }).message
  }
  return typeof data === 'string' && data.trim() ? data.trim().slice(0, 200) : undefined
}

function retryAfterMs(headers: Record<string, unknown> | undefined): number | undefined {
  const v = Number(headers?.['retry-after'])
  return Number.isFinite(v) && v >= 0 ? v * 1000 : undefined
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

  async function call<T>(what: string, fn: (c: NeonClient, p: CallParams) => Promise<{ data: T }>): Promise<T> {
    let networkFailures = 0
    for (let attempt = 0; ; attempt++) {
      if (signal.aborted) throw interrupted(signal.reason)
      if (deadline.expired()) throw pastDeadline(what, 'no answer yet')
      try {
        const res = await fn(client, { signal, timeout: Math.max(1, deadline.remaining()) })
        return res.data
      } catch (e) {
        if (signal.aborted) throw interrupted(signal.reason)
        const err = e as AxiosLikeError
        const status = err.response?.status
        if (status === undefined) {
          const code = err.code ?? ''
          const timedOut = code === 'ECONNABORTED' || code === 'ETIMEDOUT' || deadline.expired()
          if (timedOut) throw pastDeadline(what, `the Neon API at ${host} did not answer`)
          networkFailures++
          const wait = retryWait(attempt)
          if (!NETWORK_CODES.has(code) || networkFailures >= NETWORK_ATTEMPTS || deadline.remaining() <= wait) {
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
        if (RETRY_STATUS.has(status)) {
          const wait = Math.max(retryWait(attempt), status === 429 ? retryAfterMs(err.response?.headers) ?? 0 : 0)
          if (deadline.remaining() <= wait) throw pastDeadline(what, `the API still answers ${status}: ${message}`)
          out.debug(`${what}: ${status} ${message}; retrying in ${Math.round(wait)} ms`)
          await sleep(wait)
          continue
        }
        const data = { status, ...(apiCode ? { apiCode } : {}) }
        if (status === 401 || status === 403) {
          throw failed(`the Neon API refused the key: ${message}`, { code: 'API_AUTH', hint: 'check NEON_API_KEY or --api-key', data })
        }
        throw failed(`Neon API, ${what}: ${message}`, { code: status === 404 ? 'API_NOT_FOUND' : 'API_REFUSED', data })
      }
    }
  }

  async function waitFor(projectId: string, operations: Operation[] | undefined): Promise<void> {
    for (const op of operations ?? []) {
      let current = op
      for (let poll = 0; !DONE.has(current.status); poll++) {
        if (BROKEN.has(current.status)) {
          throw failed(`Neon operation ${current.action} ${current.status}${current.error ? `: ${current.error}` : ''}`, {
            code: 'OPERATION_FAILED', data: { operationId: current.id },
          })
        }
        // Operations take seconds; start quick (tests, small branches), then back off to 2 s.
        const wait = Math.min(2000, 100 * 1.5 ** poll)
        if (deadline.remaining() <= wait) throw pastDeadline(`waiting for ${current.action}`, `the operation is still ${current.status}`)
        await sleep(wait)
        const res = await call(`operation ${current.action}`, (c, p) => c.getProjectOperation(projectId, current.id, p))
        current = res.operation
      }
    }
  }

  const orgId = (input.orgId ?? input.env.NEON_ORG_ID)?.trim() || undefined
  return { host, orgId, call, waitFor }
}
