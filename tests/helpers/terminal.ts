import { randomUUID } from 'node:crypto'
import { stat } from 'node:fs/promises'
import sharp from 'sharp'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import limiter from '@adonisjs/limiter/services/main'
import env from '#start/env'
import terminalConfig from '#config/terminal'
import pluginsConfig from '#config/plugins'
import type Device from '#models/device'
import AccessGroup from '#models/access_group'
import Face from '#models/face'
import type Person from '#models/person'
import { PersonFacesService } from '#faces/person_faces_service'
import { PluginHost } from '#plugin-host/plugin_host'
import type { DecodedImage, DetectedFace } from '#plugin-sdk'
import { FaceDbRevision } from '#faces/face_db_revision'
import { GalleryIndex } from '#faces/gallery_index'
import { RecognitionEngine } from '#faces/recognition_engine'
import { embeddingBytes } from '#faces/face_data'
import { FacePhotoAnalyser, type PhotoAnalysis } from '#faces/face_photo_analyser'
import { DeviceCredentials } from '#services/device_credentials'
import { encodeBody, signCall, type FacesApiFile } from '#terminal-client/faces_api_client'

/** The body encodings terminals use; every endpoint accepts all three. */
export const encodings = ['form', 'multipart', 'json'] as const
export type Encoding = (typeof encodings)[number]

export type Fields = Record<string, string | number | undefined>

/** The files a signed multipart call carries, by field name. */
export type Files = Record<string, FacesApiFile>

/**
 * A POST to /faces/api/<endpoint> with `fields` in the given encoding,
 * signed with the device's credential when a device that has one is
 * given, else unsigned as legacy firmware sends it. Undefined fields are
 * left out.
 */
export function post(
  client: ApiClient,
  endpoint: string,
  fields: Fields,
  encoding: Encoding,
  device?: Device,
  files?: Files
) {
  if (device?.hasCredential) return signedPost(client, endpoint, fields, encoding, device, files)
  const present = Object.fromEntries(
    Object.entries(fields).filter(([, value]) => value !== undefined)
  ) as Record<string, string | number>
  const request = client.post(`/faces/api/${endpoint}`)
  if (encoding === 'json') return request.json(present)
  if (encoding === 'form') return request.form(present)
  request.fields(present)
  for (const [name, file] of Object.entries(files ?? {})) {
    request.file(name, Buffer.from(file.data), { filename: file.filename ?? `${name}.jpg` })
  }
  return request
}

/**
 * The one message of every caller that did not prove it is the device it
 * names (code 9001): the same whether the device is unknown, another one,
 * pending, or known but called unsigned.
 */
export const notProven =
  "Device permission denied: the call is not signed with this device's credential (see /docs); " +
  "a device the server does not know yet is registered by /faces/api/token and waits for an operator's approval"

/** The credential a device signs with, read back from the database. */
export function credentialOf(device: Device) {
  const secret = DeviceCredentials.secretOf(device)
  if (!secret) throw new Error(`device ${device.serialNumber} has no credential`)
  return { serialNumber: device.serialNumber, secret }
}

/**
 * A call signed as a terminal holding the device's credential signs it
 * (through the repository's terminal client). `proof` replaces or removes
 * signature headers, to forge, replay or spoil them.
 */
export function signedPost(
  client: ApiClient,
  endpoint: string,
  fields: Fields,
  encoding: Encoding,
  device: Device,
  files?: Files,
  proof: (headers: Record<string, string>) => Record<string, string> = (headers) => headers
) {
  const path = `/faces/api/${endpoint}`
  const { body, contentType } = encodeBody(fields, encoding, files)
  const headers = signCall(credentialOf(device), { method: 'POST', path, body })
  return rawPost(client, path, body, { 'content-type': contentType, ...proof(headers) })
}

/**
 * A body no encoder would produce (a form whose "+" went unescaped), sent
 * as these bytes and signed with the device's credential.
 */
export function signedBytesPost(
  client: ApiClient,
  endpoint: string,
  body: Uint8Array | string,
  contentType: string,
  device: Device
) {
  const path = `/faces/api/${endpoint}`
  const bytes = typeof body === 'string' ? Buffer.from(body) : Buffer.from(body)
  const headers = signCall(credentialOf(device), { method: 'POST', path, body: bytes })
  return rawPost(client, path, bytes, { 'content-type': contentType, ...headers })
}

/** A POST of exactly these bytes and headers. */
export function rawPost(
  client: ApiClient,
  path: string,
  body: Uint8Array,
  headers: Record<string, string>
) {
  const request = client.post(path).headers(headers)
  request.request.serialize((data: unknown) => data as string).send(Buffer.from(body))
  return request
}

/**
 * A token for the device: a signed request when it has a credential, else
 * an unsigned one as a legacy device sends it.
 */
export async function tokenFor(client: ApiClient, device: Device) {
  const response = await post(
    client,
    'token',
    { deviceName: device.name, sn: device.serialNumber },
    'form',
    device
  )
  if (response.body().code !== 0) throw new Error(`no token: ${response.text()}`)
  return response.body().token as string
}

/** Where the suite's HTTP server listens, for requests the API client cannot shape. */
export const serverUrl = `http://${env.get('HOST')}:${env.get('PORT')}`

/**
 * Forgets tokens, presence, sync points, rate counts and the gallery's
 * faces between tests: ids repeat once each test's transaction is rolled
 * back.
 */
export async function resetTerminalState() {
  await redis.eval(
    `for _, key in ipairs(redis.call('KEYS', ARGV[1])) do redis.call('DEL', key) end`,
    0,
    `faceaccess:${env.get('NODE_ENV')}:${terminalConfig.keyspace}:*`
  )
  await limiter.clear(['memory'])
  const gallery = await app.container.make(GalleryIndex)
  await gallery.forget()
}

/**
 * The server as it is when no recognition engine runs: the engine lookup
 * sees a plugin host with no instances, until the test ends.
 */
export function withoutEngine(cleanup: (handler: () => void) => void) {
  const none = { ...pluginsConfig, instances: { file: 'none', entries: [], error: null } }
  const host = new PluginHost({}, none, logger)
  app.container.swap(RecognitionEngine, () => new RecognitionEngine(host))
  cleanup(() => app.container.restore(RecognitionEngine))
}

export async function countRows(table: string) {
  const [row] = await db.from(table).count('* as total')
  return Number(row.total)
}

/** A unit vector of the recognition model's size, different for each seed. */
export function unitVector(seed: number, dimension = 128) {
  const vector = new Float32Array(dimension)
  for (let i = 0; i < dimension; i++) vector[i] = Math.sin(seed * 97.13 + i * 1.7) + 0.01
  const norm = Math.hypot(...vector)
  return vector.map((value) => value / norm)
}

/** A face stored for a person, as enrolment would store it. */
export async function addFace(person: Person, options: { seed?: number; imagePath?: string } = {}) {
  return Face.create({
    personId: person.id,
    embedding: embeddingBytes(unitVector(options.seed ?? person.id)),
    engine: 'face-engine',
    modelId: 'faceapi-recognition',
    dimension: 128,
    source: 'photo',
    imagePath: options.imagePath ?? null,
  })
}

/** An access group holding the people and devices, without a schedule unless given. */
export async function grant(people: Person[], devices: Device[], scheduleId: number | null = null) {
  const group = await AccessGroup.create({ name: `Group ${Math.random()}`, scheduleId })
  await group.related('people').attach(people.map((person) => person.id))
  await group.related('devices').attach(devices.map((device) => device.id))
  return group
}

/** Marks a person changed, as the access-group pages do when membership changes. */
export async function touchPerson(person: Person) {
  await db.transaction(async (trx) => {
    person.useTransaction(trx)
    person.revision = await new FaceDbRevision().bump(trx)
    await person.save()
  })
}

/**
 * A stand-in for the engine-backed photo analyser, like the face engine's
 * simulator: one face filling the picture, whose feature is the picture's
 * 16×8 grey thumbnail made zero-mean and unit-length, so the same picture
 * always gives the same feature; a flat picture holds no face.
 */
export class ThumbnailAnalyser extends FacePhotoAnalyser {
  calls = 0

  async analyse(image: DecodedImage): Promise<PhotoAnalysis> {
    this.calls++
    const feature = thumbnailFeature(image)
    if (!feature) return { ok: false, error: { type: 'no_face', message: 'a flat picture' } }
    const face: DetectedFace = {
      box: { left: 0, top: 0, right: image.width, bottom: image.height },
      score: 0.99,
      landmarks: [
        [1, 1],
        [2, 1],
        [1.5, 2],
        [1, 3],
        [2, 3],
      ],
      angle: 0,
      angleCode: 1,
    }
    return {
      ok: true,
      faces: [face],
      chosen: {
        engine: 'thumbnail-test-engine',
        face,
        feature: { model: 'faceapi-recognition', vector: feature },
        quality: { score: 0.9, acceptable: true, issues: [], measures: {} },
      },
    }
  }
}

/** The thumbnail stand-in's feature of a decoded picture, or null for a flat one. */
export function thumbnailFeature(image: DecodedImage) {
  const values = new Float32Array(128)
  for (let i = 0; i < 128; i++) {
    const x = Math.floor((((i % 16) + 0.5) / 16) * image.width)
    const y = Math.floor(((Math.floor(i / 16) + 0.5) / 8) * image.height)
    const at = (y * image.width + x) * 3
    values[i] = (image.data[at] + image.data[at + 1] + image.data[at + 2]) / 3
  }
  const mean = values.reduce((sum, value) => sum + value, 0) / values.length
  const centred = values.map((value) => value - mean)
  const norm = Math.hypot(...centred)
  if (norm < 1) return null
  return centred.map((value) => value / norm)
}

/**
 * A face of the person from a photo, enrolled as an operator's upload on
 * the person page enrols it (the person's consent must be on record).
 */
export async function enrolPhotoOf(person: Person, picture: Buffer) {
  const actor = { userId: null, label: 'test', ip: null }
  const service = await app.container.make(PersonFacesService)
  const result = await service.addPhoto(actor, person, picture)
  if (!result.ok) throw new Error(`no face enrolled: ${result.error.type}`)
  return result.face
}

/**
 * The thumbnail analyser in the engine-backed analyser's place, until
 * `restore` runs (given to `cleanup` when there is one).
 */
export async function useThumbnailAnalyser(cleanup?: (handler: () => void) => void) {
  const analyser = new ThumbnailAnalyser(await app.container.make(RecognitionEngine))
  app.container.swap(FacePhotoAnalyser, () => analyser)
  const restore = () => app.container.restore(FacePhotoAnalyser)
  cleanup?.(restore)
  return { analyser, restore }
}

/**
 * The photo re-encoded with a random note in its metadata: the same
 * picture as bytes no earlier test stored, so that "no file was kept" can
 * be checked in the shared storage folder.
 */
export async function freshCopy(photo: Buffer) {
  const image = sharp(photo).withMetadata({ exif: { IFD0: { ImageDescription: randomUUID() } } })
  const { format } = await sharp(photo).metadata()
  const bytes =
    format === 'png' ? await image.png().toBuffer() : await image.jpeg({ quality: 95 }).toBuffer()
  return { bytes, format: format === 'png' ? 'png' : 'jpeg' }
}

/** Whether a stored file (a path relative to the app root, as the database keeps it) is on disk. */
export function storedFileExists(path: string) {
  return stat(app.makePath(path)).then(
    () => true,
    () => false
  )
}
