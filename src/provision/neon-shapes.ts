// What we read from each Neon answer, checked before it is used: a 200 with `{}`, truncated JSON
// (axios hands that over as a string) or a missing field must stop the run with a clear line,
// never lead to a create or to "Cannot read properties of undefined". Only the fields todo-db uses
// are checked, with the types Neon's spec gives them.

/** Returns what is wrong with an answer, or undefined when it can be used. */
export type Shape = (data: unknown) => string | undefined

const isObj = (v: unknown): v is Record<string, unknown> => !!v && typeof v === 'object' && !Array.isArray(v)

type Field = 'string' | 'boolean?' | 'string?' | Shape

function describe(v: unknown): string {
  if (typeof v === 'string') return v.trim() ? 'text that is not JSON' : 'an empty body'
  if (Array.isArray(v)) return 'a list'
  return v === null ? 'null' : typeof v
}

/** An object with these fields. */
export function obj(fields: Record<string, Field>): Shape {
  return (d) => {
    if (!isObj(d)) return `expected an object, got ${describe(d)}`
    for (const [k, t] of Object.entries(fields)) {
      const v = d[k]
      if (t === 'string' && typeof v !== 'string') return `"${k}" is not a string`
      if (t === 'string?' && v !== undefined && v !== null && typeof v !== 'string') return `"${k}" is not a string`
      if (t === 'boolean?' && v !== undefined && typeof v !== 'boolean') return `"${k}" is not a boolean`
      if (typeof t === 'function') {
        const why = t(v)
        if (why) return `"${k}": ${why}`
      }
    }
    return undefined
  }
}

export function list(item: Shape): Shape {
  return (d) => {
    if (!Array.isArray(d)) return `expected a list, got ${d === undefined ? 'nothing' : describe(d)}`
    for (let i = 0; i < d.length; i++) {
      const why = item(d[i])
      if (why) return `item ${i}: ${why}`
    }
    return undefined
  }
}

export const optional = (s: Shape): Shape => (d) => (d === undefined ? undefined : s(d))

const OPERATION_STATUS = ['scheduling', 'running', 'finished', 'failed', 'error', 'cancelling', 'cancelled', 'skipped']
export const operation: Shape = (d) =>
  obj({ id: 'string', action: 'string', status: (s) => (typeof s === 'string' && OPERATION_STATUS.includes(s) ? undefined : `unknown status ${JSON.stringify(s)}`), error: 'string?' })(d)
const operations = optional(list(operation))
const project = obj({ id: 'string', name: 'string' })
const branch = obj({ id: 'string', name: 'string', parent_id: 'string?', default: 'boolean?', primary: 'boolean?', expires_at: 'string?' })
const endpoint = obj({ id: 'string', type: 'string' })

export const shapes = {
  projectList: obj({ projects: list(project), pagination: optional(obj({ cursor: 'string' })) }),
  projectCreated: obj({ project, branch, operations }),
  branchList: obj({ branches: list(branch) }),
  branchOperations: obj({ branch, operations }),
  branchCreated: obj({ branch, operations }),
  endpointList: obj({ endpoints: list(endpoint) }),
  endpointCreated: obj({ endpoint, operations }),
  operation: obj({ operation }),
  // The URI goes into the env file and is read back by every command: it must be a PostgreSQL URL.
  connectionUri: obj({ uri: (u) => (typeof u === 'string' && /^postgres(ql)?:\/\/[^/?#]+@[^/?#]+/.test(u) && URL.canParse(u) ? undefined : 'not a postgresql:// URL') }),
  organizations: obj({ organizations: list(obj({ id: 'string', name: 'string' })) }),
}
