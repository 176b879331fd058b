import type { ApiClient } from '@japa/api-client'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import limiter from '@adonisjs/limiter/services/main'
import env from '#start/env'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'

/** The body encodings terminals use; every endpoint accepts all three. */
export const encodings = ['form', 'multipart', 'json'] as const
export type Encoding = (typeof encodings)[number]

export type Fields = Record<string, string | number | undefined>

/**
 * A POST to /faces/api/<endpoint> with `fields` in the given encoding.
 * Undefined fields are left out.
 */
export function post(client: ApiClient, endpoint: string, fields: Fields, encoding: Encoding) {
  const present = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined)
  ) as Record<string, string | number>
  const request = client.post(`/faces/api/${endpoint}`)
  if (encoding === 'json') return request.json(present)
  if (encoding === 'form') return request.form(present)
  return request.fields(present)
}

export async function tokenFor(client: ApiClient, device: Device) {
  const response = await client
    .post('/faces/api/token')
    .form({ deviceName: device.name, sn: device.serialNumber })
  if (response.body().code !== 0) throw new Error(`no token: ${response.text()}`)
  return response.body().token as string
}

/** Where the suite's HTTP server listens, for requests the API client cannot shape. */
export const serverUrl = `http://${env.get('HOST')}:${env.get('PORT')}`

/**
 * Forgets tokens, presence, sync points and rate counts between tests:
 * device ids repeat once each test's transaction is rolled back.
 */
export async function resetTerminalState() {
  await redis.eval(
    `for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key) end`,
    0,
    `faceaccess:${env.get('NODE_ENV')}:${terminalConfig.keyspace}:*`
  )
  await limiter.clear(['memory'])
}

export async function countRows(table: string) {
  const [row] = await db.from(table).count('* as total')
  return Number(row.total)
}
