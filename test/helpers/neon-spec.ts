// Neon's own OpenAPI spec (public-v2-for-users.gen.yaml, shipped inside @neondatabase/api-client)
// as a checker: every request the CLI sends and every answer the fake gives is validated with ajv,
// so neither can drift from the real API unnoticed.
//
// OpenAPI 3.0 schemas are JSON Schema with a few differences, handled here: `nullable` (ajv knows
// it), `$ref` to #/components/... (the components are added as one schema with an $id), and
// `discriminator` (ignored: the oneOf/anyOf it annotates is still checked). Query values arrive as
// strings and are coerced to the parameter's type before they are checked.
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import Ajv, { type ValidateFunction } from 'ajv'
import yaml from 'js-yaml'

export const SPEC_FILE = resolve(__dirname, '../../node_modules/@neondatabase/api-client/public-v2-for-users.gen.yaml')

interface Parameter {
  name: string
  in: 'path' | 'query' | 'header' | 'cookie'
  required?: boolean
  schema?: Record<string, unknown>
}
interface Operation {
  operationId?: string
  parameters?: Array<Parameter | { $ref: string }>
  requestBody?: { required?: boolean; content?: Record<string, { schema?: unknown }> }
  responses: Record<string, { $ref?: string; content?: Record<string, { schema?: unknown }> }>
}
type PathItem = Record<string, Operation> & { parameters?: Array<Parameter | { $ref: string }> }

export interface SpecChecker {
  /** The operation a request maps to, or undefined when the spec has no such path and method. */
  operationId(method: string, path: string): string | undefined
  /** Problems with a request; empty when it is what the spec describes. */
  checkRequest(method: string, path: string, query: Record<string, string>, body: unknown): string[]
  /** Problems with an answer (status and JSON body; `undefined` body for an empty one). */
  checkResponse(method: string, path: string, status: number, body: unknown): string[]
}

let cached: SpecChecker | undefined

export function neonSpec(): SpecChecker {
  if (cached) return cached
  const spec = yaml.load(readFileSync(SPEC_FILE, 'utf8')) as {
    paths: Record<string, PathItem>
    components: { parameters: Record<string, Parameter>; responses: Record<string, { content?: Record<string, { schema?: unknown }> }> }
  }
  const ajv = new Ajv({ strict: false, allErrors: true, logger: false })
  // Formats the Neon spec uses for what we check; others are not validated (ajv-formats is not a dependency).
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/i)
  ajv.addFormat('uuid', /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
  ajv.addFormat('int64', true)
  ajv.addFormat('int32', true)
  ajv.addSchema({ $id: 'neon', components: spec.components }, 'neon')

  const compiled = new Map<unknown, ValidateFunction>()
  const validator = (schema: unknown): ValidateFunction => {
    let v = compiled.get(schema)
    if (!v) {
      // Refs inside the schema point at #/components/...: resolve them against the spec's $id.
      v = ajv.compile({ $id: `neon-${compiled.size}`, ...rebase(schema) as object })
      compiled.set(schema, v)
    }
    return v
  }
  const errorsOf = (v: ValidateFunction) => (v.errors ?? []).slice(0, 5).map((e) => `${e.instancePath || '/'} ${e.message}${e.params ? ' ' + JSON.stringify(e.params) : ''}`)

  const deref = <T>(x: T | { $ref: string }): T => {
    if (x && typeof x === 'object' && '$ref' in x) {
      const parts = (x as { $ref: string }).$ref.replace(/^#\//, '').split('/')
      return parts.reduce<any>((o, k) => o[k], spec) as T
    }
    return x as T
  }

  // Static segments win over parameters (/branches/count before /branches/{branch_id}).
  const templates = Object.keys(spec.paths)
    .map((t) => ({ t, re: new RegExp('^' + t.replace(/\{[^}]+\}/g, '([^/]+)') + '$'), params: (t.match(/\{[^}]+\}/g) ?? []).map((p) => p.slice(1, -1)) }))
    .sort((a, b) => a.params.length - b.params.length)

  function find(method: string, path: string) {
    for (const tpl of templates) {
      const m = tpl.re.exec(path)
      if (!m) continue
      const item = spec.paths[tpl.t]
      const op = item[method.toLowerCase()] as Operation | undefined
      if (!op) continue
      const pathValues = Object.fromEntries(tpl.params.map((p, i) => [p, decodeURIComponent(m[i + 1])]))
      const params = [...(item.parameters ?? []), ...(op.parameters ?? [])].map((p) => deref<Parameter>(p))
      return { op, pathValues, params, template: tpl.t }
    }
    return undefined
  }

  function coerce(value: string, schema: Record<string, unknown> | undefined): unknown {
    const type = schema?.type
    if (type === 'integer' || type === 'number') return /^-?\d+(\.\d+)?$/.test(value) ? Number(value) : value
    if (type === 'boolean') return value === 'true' ? true : value === 'false' ? false : value
    if (type === 'array') return value.split(',')
    return value
  }

  cached = {
    operationId: (method, path) => find(method, path)?.op.operationId,
    checkRequest(method, path, query, body) {
      const found = find(method, path)
      if (!found) return [`${method} ${path}: no such operation in the Neon API`]
      const { op, pathValues, params, template } = found
      const where = `${method} ${template} (${op.operationId})`
      const problems: string[] = []
      for (const p of params) {
        const value = p.in === 'path' ? pathValues[p.name] : p.in === 'query' ? query[p.name] : undefined
        if (value === undefined) {
          if (p.required && (p.in === 'path' || p.in === 'query')) problems.push(`${where}: required ${p.in} parameter ${p.name} missing`)
          continue
        }
        if (p.schema) {
          const v = validator(p.schema)
          if (!v(coerce(value, deref(p.schema) as Record<string, unknown>))) problems.push(`${where}: ${p.in} parameter ${p.name}=${value}: ${errorsOf(v).join('; ')}`)
        }
      }
      for (const name of Object.keys(query)) {
        if (!params.some((p) => p.in === 'query' && p.name === name)) problems.push(`${where}: unknown query parameter ${name}`)
      }
      const rb = op.requestBody ? deref(op.requestBody) : undefined
      const schema = rb?.content?.['application/json']?.schema
      if (body === undefined) {
        if (rb?.required) problems.push(`${where}: request body required`)
      } else if (!schema) {
        problems.push(`${where}: takes no request body`)
      } else {
        const v = validator(schema)
        if (!v(body)) problems.push(`${where}: request body: ${errorsOf(v).join('; ')}`)
      }
      return problems
    },
    checkResponse(method, path, status, body) {
      const found = find(method, path)
      if (!found) return [`${method} ${path}: no such operation in the Neon API`]
      const { op, template } = found
      const where = `${method} ${template} (${op.operationId}) answered ${status}`
      const documented = op.responses[String(status)] ?? (status >= 400 ? op.responses.default : undefined)
      if (!documented) return [`${where}: status not documented (${Object.keys(op.responses).join(', ')})`]
      const response = deref(documented)
      const schema = response.content?.['application/json']?.schema
      if (!schema) return body === undefined ? [] : [`${where}: documented without a body, but has one`]
      if (body === undefined) return [`${where}: documented with a body, but has none`]
      const v = validator(schema)
      return v(body) ? [] : [`${where}: ${errorsOf(v).join('; ')}`]
    },
  }
  return cached
}

/** Rewrites local refs (#/components/...) to point into the spec added under the id "neon". */
function rebase(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rebase)
  if (!schema || typeof schema !== 'object') return schema
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(schema)) {
    if (k === '$ref' && typeof v === 'string' && v.startsWith('#/')) out[k] = `neon${v}`
    else if (k === 'discriminator') continue
    else out[k] = rebase(v)
  }
  return out
}
