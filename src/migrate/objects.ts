// What a migration's Up section leaves in the database, read from its CREATE/ALTER/DROP
// statements with PostgreSQL's own parser, and whether the catalog has it. Used by baseline:
// names only (a table exists, with that column), never definitions.
import type { Queryable } from './journal.js'
import { loadParser } from './parser.js'

export type ObjectKind = 'table' | 'index' | 'view' | 'sequence' | 'function' | 'trigger' | 'type' | 'constraint' | 'column' | 'extension'

export interface DbObject {
  kind: ObjectKind
  /** As written in the file, schema-qualified when it was: "todos", "app.todos", "todos_set_updated_at on todos". */
  name: string
  /** The migration that creates it. */
  migration: string
  schema?: string
  /** The object's own name (a trigger's, a constraint's, a column's). */
  object: string
  /** The table a trigger, constraint or column belongs to (schema-qualified when it was). */
  table?: string
}

type Node = Record<string, any>
const names = (list: Node[] | undefined): string[] => (list ?? []).map((n) => n.String?.sval).filter((s): s is string => typeof s === 'string')
const qualified = (parts: string[]) => parts.join('.')
const relName = (r: Node) => qualified([r.schemaname, r.relname].filter(Boolean))

const RELATION_KINDS: Record<string, ObjectKind> = {
  OBJECT_TABLE: 'table', OBJECT_INDEX: 'index', OBJECT_VIEW: 'view', OBJECT_MATVIEW: 'view', OBJECT_SEQUENCE: 'sequence',
}

/**
 * The objects left by running `sections` in order: each creation adds one, each drop removes it
 * (with what hangs on a dropped table), so that a later migration dropping an index an earlier
 * one created is not reported missing; a rename moves it. Objects the statements touch otherwise
 * are not tracked.
 */
export async function createdObjects(sections: { migration: string; sql: string }[]): Promise<DbObject[]> {
  const { parseSync } = await loadParser()
  const live = new Map<string, DbObject>()
  const key = (kind: ObjectKind, name: string) => `${kind === 'view' || kind === 'sequence' || kind === 'index' ? 'table' : kind} ${name}`
  for (const { migration, sql } of sections) {
    const add = (kind: ObjectKind, parts: string[], table?: string) => {
      const object = parts[parts.length - 1]
      const schema = parts.length > 1 ? parts[parts.length - 2] : undefined
      const name = table ? `${object} on ${table}` : qualified(parts)
      live.set(key(kind, name), { kind, name, migration, object, ...(schema ? { schema } : {}), ...(table ? { table } : {}) })
    }
    const drop = (kind: ObjectKind, name: string) => {
      live.delete(key(kind, name))
      if (kind !== 'table' && kind !== 'view') return
      for (const [k, o] of live) if (o.table === name) live.delete(k)
    }
    // The object under its new name; what hangs on a renamed table follows it.
    const rename = (kind: ObjectKind, from: string, parts: string[], table?: string) => {
      const had = live.get(key(kind, from))
      if (!had) return
      live.delete(key(kind, from))
      add(kind, parts, table)
      if (kind !== 'table' && kind !== 'view') return
      const to = qualified(parts)
      for (const [k, o] of live) {
        if (o.table !== from) continue
        live.delete(k)
        const moved = { ...o, table: to, name: `${o.object} on ${to}` }
        live.set(key(o.kind, moved.name), moved)
      }
    }
    for (const { stmt } of parseSync(sql).stmts ?? []) {
      const [type, s] = Object.entries(stmt as Node)[0] as [string, Node]
      switch (type) {
        case 'CreateStmt':
          add('table', [s.relation.schemaname, s.relation.relname].filter(Boolean))
          for (const el of s.tableElts ?? []) if (el.Constraint?.conname) add('constraint', [el.Constraint.conname], relName(s.relation))
          break
        case 'CreateTableAsStmt':
          add(s.objtype === 'OBJECT_MATVIEW' ? 'view' : 'table', [s.into.rel.schemaname, s.into.rel.relname].filter(Boolean))
          break
        case 'IndexStmt':
          // An index without a name gets one from the server: nothing to look for.
          if (s.idxname) add('index', [s.relation.schemaname, s.idxname].filter(Boolean))
          break
        case 'ViewStmt':
          add('view', [s.view.schemaname, s.view.relname].filter(Boolean))
          break
        case 'CreateSeqStmt':
          add('sequence', [s.sequence.schemaname, s.sequence.relname].filter(Boolean))
          break
        case 'CreateFunctionStmt':
          add('function', names(s.funcname))
          break
        case 'CreateTrigStmt':
          add('trigger', [s.trigname], relName(s.relation))
          break
        case 'CreateEnumStmt':
          add('type', names(s.typeName))
          break
        case 'CreateDomainStmt':
          add('type', names(s.domainname))
          break
        case 'CompositeTypeStmt':
          add('type', [s.typevar.schemaname, s.typevar.relname].filter(Boolean))
          break
        case 'CreateExtensionStmt':
          add('extension', [s.extname])
          break
        case 'AlterTableStmt': {
          const table = relName(s.relation)
          for (const { AlterTableCmd: c } of s.cmds ?? []) {
            if (!c) continue
            if (c.subtype === 'AT_AddConstraint' && c.def?.Constraint?.conname) add('constraint', [c.def.Constraint.conname], table)
            if (c.subtype === 'AT_DropConstraint') drop('constraint', `${c.name} on ${table}`)
            if (c.subtype === 'AT_AddColumn' && c.def?.ColumnDef?.colname) add('column', [c.def.ColumnDef.colname], table)
            if (c.subtype === 'AT_DropColumn') drop('column', `${c.name} on ${table}`)
          }
          break
        }
        case 'RenameStmt': {
          const table = s.relation ? relName(s.relation) : undefined
          const kind = RELATION_KINDS[s.renameType]
          if (kind && table) rename(kind, table, [s.relation.schemaname, s.newname].filter(Boolean))
          else if (s.renameType === 'OBJECT_COLUMN' && table) rename('column', `${s.subname} on ${table}`, [s.newname], table)
          else if (s.renameType === 'OBJECT_TABCONSTRAINT' && table) rename('constraint', `${s.subname} on ${table}`, [s.newname], table)
          else if (s.renameType === 'OBJECT_TRIGGER' && table) rename('trigger', `${s.subname} on ${table}`, [s.newname], table)
          else if (s.renameType === 'OBJECT_FUNCTION' && s.object?.ObjectWithArgs) {
            const from = names(s.object.ObjectWithArgs.objname)
            rename('function', qualified(from), [...from.slice(0, -1), s.newname])
          }
          break
        }
        case 'DropStmt': {
          const kind = RELATION_KINDS[s.removeType] ?? ({ OBJECT_FUNCTION: 'function', OBJECT_TYPE: 'type', OBJECT_DOMAIN: 'type', OBJECT_TRIGGER: 'trigger', OBJECT_EXTENSION: 'extension' } as Record<string, ObjectKind>)[s.removeType]
          if (!kind) break
          for (const o of s.objects ?? []) {
            const parts = o.List ? names(o.List.items) : o.ObjectWithArgs ? names(o.ObjectWithArgs.objname) : o.TypeName ? names(o.TypeName.names) : o.String ? [o.String.sval] : []
            if (!parts.length) continue
            // DROP TRIGGER name ON table arrives as [table..., name].
            drop(kind, kind === 'trigger' ? `${parts[parts.length - 1]} on ${qualified(parts.slice(0, -1))}` : qualified(parts))
          }
          break
        }
      }
    }
  }
  return [...live.values()]
}

const ident = (s: string) => `"${s.replace(/"/g, '""')}"`
const regName = (dotted: string) => dotted.split('.').map(ident).join('.')

/** The objects the catalog does not have, looked up as the migration would name them (search_path). */
export async function missingObjects(sql: Queryable, objects: DbObject[]): Promise<DbObject[]> {
  const missing: DbObject[] = []
  for (const o of objects) {
    const rel = regName(o.schema ? `${o.schema}.${o.object}` : o.object)
    let found: boolean
    switch (o.kind) {
      case 'table': case 'index': case 'view': case 'sequence': {
        const relkinds = { table: 'rpf', index: 'iI', view: 'vm', sequence: 'S' }[o.kind]
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_class where oid = to_regclass(${rel}) and position(relkind::text in ${relkinds}) > 0) as found`
        break
      }
      case 'function':
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_proc p join pg_namespace n on n.oid = p.pronamespace
          where p.proname = ${o.object} and (n.nspname = ${o.schema ?? null} or (${o.schema ?? null}::text is null and n.nspname = any (current_schemas(false))))) as found`
        break
      case 'type':
        ;[{ found }] = await sql<{ found: boolean }[]>`select to_regtype(${rel}) is not null as found`
        break
      case 'extension':
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_extension where extname = ${o.object}) as found`
        break
      case 'trigger':
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_trigger where tgname = ${o.object} and tgrelid = to_regclass(${regName(o.table!)})) as found`
        break
      case 'constraint':
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_constraint where conname = ${o.object} and conrelid = to_regclass(${regName(o.table!)})) as found`
        break
      case 'column':
        ;[{ found }] = await sql<{ found: boolean }[]>`select exists (select 1 from pg_attribute where attname = ${o.object} and attrelid = to_regclass(${regName(o.table!)}) and attnum > 0 and not attisdropped) as found`
        break
    }
    if (!found) missing.push(o)
  }
  return missing
}
