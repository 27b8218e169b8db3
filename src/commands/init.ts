import type { Context } from '../context.js'
import { badInput } from '../errors.js'
import { initProject } from '../init/project.js'

export async function run(ctx: Context, opts: { force?: boolean; migrationsDir?: string }): Promise<void> {
  if (opts.migrationsDir?.trim() === '') throw badInput('--migrations-dir is empty', 'name the migrations folder, or leave the flag out for "migrations"', 'EMPTY_VALUE')
  const changes = initProject({ cwd: ctx.cwd, force: opts.force, migrationsDir: opts.migrationsDir, existingConfig: ctx.configPath })
  const next = [
    'cp .env.example .env        # then set DATABASE_URL (or: todo-db provision --local)',
    'todo-db migrate up',
    'todo-db seed',
    'todo-db health',
  ]
  ctx.out.result({ ok: true, changes, next }, () => {
    const c = ctx.out.color
    const lines = changes.map((ch) => `  ${ch.action === 'kept' ? c.dim(ch.action.padEnd(11)) : c.green(ch.action.padEnd(11))} ${ch.path}`)
    const kept = changes.some((ch) => ch.action === 'kept')
    return [
      'todo-db project set up:',
      ...lines,
      ...(kept ? ['  (kept files are left as they are; --force overwrites them)'] : []),
      '',
      'Next:',
      ...next.map((n) => `  ${n}`),
    ].join('\n')
  })
}
