// One PostgreSQL cluster (SSL on, signed by a throwaway CA) for the whole run; each test file
// makes its own database on it. Stopped when the run ends.
import type { TestProject } from 'vitest/node'
import { startCluster } from './cluster.js'

export interface ProvidedCluster {
  host: string
  port: number
  user: string
  password: string
  caFile: string
  dir: string
}

declare module 'vitest' {
  export interface ProvidedContext {
    cluster: ProvidedCluster
  }
}

export default async function setup(project: TestProject) {
  const cluster = await startCluster()
  const { host, port, user, password, caFile, dir } = cluster
  project.provide('cluster', { host, port, user, password, caFile, dir })
  return () => cluster.stop()
}
