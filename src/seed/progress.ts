// A progress line with rows per second, on a TTY only (ctx.out.spinner is silent elsewhere).
import type { Output, Spinner } from '../output.js'

export interface Progress {
  update(rows: number, checking?: string): void
  stop(): void
  fail(): void
}

const EVERY_MS = 100

export async function startProgress(out: Output, label: string): Promise<Progress> {
  const spinner: Spinner = await out.spinner(label)
  const started = performance.now()
  let last = 0
  return {
    update(rows, checking) {
      const now = performance.now()
      if (checking) return spinner.update(`${label} ${rows.toLocaleString('en-US')} rows sent, waiting for the server to check ${checking}`)
      if (now - last < EVERY_MS) return
      last = now
      const perSecond = Math.round(rows / ((now - started) / 1000))
      spinner.update(`${label} ${rows.toLocaleString('en-US')} rows, ${perSecond.toLocaleString('en-US')} rows/s`)
    },
    stop: () => spinner.stop(),
    fail: () => spinner.fail(),
  }
}
