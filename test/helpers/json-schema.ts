// The published JSON Schemas (schemas/*.schema.json), and which one a command line's --json
// document must follow. runCli() checks every --json run of the suite against them.
import { readdirSync, readFileSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { Ajv2020 } from 'ajv/dist/2020.js'

export const SCHEMAS = resolve(__dirname, '../../schemas')

let ajv: Ajv2020 | undefined
function validator(): Ajv2020 {
  if (ajv) return ajv
  ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false })
  ajv.addFormat('date-time', /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/)
  for (const file of readdirSync(SCHEMAS).filter((f) => f.endsWith('.schema.json'))) {
    ajv.addSchema(JSON.parse(readFileSync(join(SCHEMAS, file), 'utf8')))
  }
  return ajv
}

const COMMANDS: Record<string, string[] | null> = { health: null, init: null, seed: null, migrate: ['up', 'down', 'status', 'create'], provision: ['list'] }

/** The schema file a command line's document follows: error.schema.json for a usage error. */
export function schemaFor(args: string[]): string {
  const end = args.indexOf('--')
  const words = end < 0 ? args : args.slice(0, end)
  const i = words.findIndex((w) => w in COMMANDS)
  if (i < 0) return 'error.schema.json'
  const sub = COMMANDS[words[i]]?.find((s) => s === words[i + 1])
  if (COMMANDS[words[i]] && words[i] === 'migrate' && !sub) return 'error.schema.json'
  return `${words[i]}${sub ? '-' + sub : ''}.schema.json`
}

/** Why `stdout` is not exactly one document of the command's schema; undefined when it is. */
export function jsonContractViolation(args: string[], stdout: string): string | undefined {
  const file = schemaFor(args)
  let doc: unknown
  try {
    doc = JSON.parse(stdout)
  } catch (e) {
    return `stdout is not one JSON document (${(e as Error).message})`
  }
  const v = validator()
  const validate = v.getSchema(`https://todo-db.invalid/schemas/${file}`)
  if (!validate) return `no schema ${file}`
  if (validate(doc)) return undefined
  return `it does not follow schemas/${file}: ${v.errorsText(validate.errors, { separator: '; ' })}`
}
