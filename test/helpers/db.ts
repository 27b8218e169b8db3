// Per-file databases on the suite's cluster, and an observer connection to check what landed.
import { randomBytes } from 'node:crypto'
import { inject } from 'vitest'
import postgres from 'postgres'
import { pgUrl, psqlAt } from './cluster.js'

export function cluster() {
  return inject('cluster')
}

export function dbUrl(database: string, params = 'sslmode=disable'): string {
  return urlAtPort(cluster().port, database, params)
}

/** The suite's superuser URL on another loopback port: a fault proxy in front of the cluster. */
export function urlAtPort(port: number, database = 'postgres', params = 'sslmode=disable'): string {
  return pgUrl({ ...cluster(), port, database, params })
}

/** psql as the superuser over the Unix socket. */
export function psql(sql: string | string[], database = 'postgres'): string {
  return psqlAt(cluster(), sql, database)
}

let created = 0

/**
 * A fresh, empty database. The name is unique per call: a per-process counter, the pid and
 * crypto-random bytes (Math.random once gave two workers the same name in CI).
 */
export function createDatabase(prefix: string): string {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${process.pid}_${++created}_${randomBytes(4).toString('hex')}`
  psql(`create database ${name}`)
  return name
}

export function dropDatabase(name: string): void {
  psql(`drop database if exists ${name} with (force)`)
}

/** An observer connection (not through todo-db) for assertions. */
export function observer(database: string) {
  return postgres(dbUrl(database), { max: 2, onnotice: () => {}, idle_timeout: 1 })
}
