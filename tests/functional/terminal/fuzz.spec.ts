import { readdir, readFile } from 'node:fs/promises'
import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessEvent from '#models/access_event'
import AuditLog from '#models/audit_log'
import Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import terminalConfig from '#config/terminal'
import { encodeFeature } from '#faces/feature_blob'
import { resultCodes } from '#services/terminal/result_codes'
import { DeviceGate } from '#services/terminal/device_gate'
import { DeviceTokenStore } from '#services/terminal/device_token_store'
import { MediaStore } from '#faces/media_store'
import { signCall } from '#terminal-client/faces_api_client'
import {
  credentialOf,
  resetTerminalState,
  serverUrl,
  tokenFor,
  unitVector,
} from '#tests/helpers/terminal'

/**
 * A thousand malformed requests to the terminal endpoints, the recognition
 * ones included, most of them signed as terminals sign, the rest with a
 * proof that must fail. Seeded, so a failure can be replayed:
 * FUZZ_SEED=<seed> node ace test ...
 */
const seed = Number(process.env.FUZZ_SEED ?? 20_261_129)
const requestCount = 1000

function random(seedValue: number) {
  let state = seedValue >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** The usernames regFace calls enrol, new the first time and existing after. */
const enrolledNames = ['fuzz.one', 'fuzz.two']

const recognitionEndpoints = [
  'faceDetect',
  'faceAge',
  'faceGender',
  'faceFeature',
  'faceRecognize',
  'faceIdentify',
] as const
const endpoints = [
  'token',
  'getDbs',
  'regFace',
  'clinetFeedback',
  'clinetWebResult',
  ...recognitionEndpoints,
] as const
const fieldNames = [
  'deviceName',
  'sn',
  'deviceSN',
  'token',
  'since',
  'username',
  'faceName',
  'picBase64',
  'faceData',
  'time',
  'score',
  'image',
  'left',
  'top',
  'right',
  'bottom',
  'pending',
  'original',
  'cardNumber',
]
const strangeText = [
  '',
  ' ',
  '门禁一号',
  '👀🚪',
  'עברית',
  'e\u0301\u0301\u0301',
  'nul\u0000byte',
  '\ud800',
  '../../etc/passwd',
  "'; drop table devices; --",
  '<script>alert(1)</script>',
  '%00%ff',
  'a'.repeat(65),
  '0'.repeat(40),
  'G'.repeat(40),
  '-1',
  '1e309',
  'NaN',
  'true',
  '[]',
  '{}',
]

/**
 * Real material for the engine endpoints to chew on, so that the fuzz
 * reaches the engine and not only the readers: photos with and without a
 * face (whole, cut short or with bytes flipped) and feature blobs of this
 * and other models.
 */
type Material = { photos: Buffer[]; features: string[] }

async function material(): Promise<Material> {
  const names = ['jim_parsons_sheldon1.png', 'kit_harington_02.jpg', 'scenes/rocket.jpg']
  return {
    photos: await Promise.all(
      names.map((name) => readFile(app.makePath('tests/fixtures/pairs', name)))
    ),
    features: [
      encodeFeature({ model: 'faceapi-recognition', vector: unitVector(11) }),
      encodeFeature({ model: 'faceres', vector: unitVector(12, 1024) }),
      encodeFeature({ model: 'unheard-of', vector: unitVector(13, 7) }),
    ],
  }
}

type Fuzzed = {
  method: string
  path: string
  headers: Record<string, string>
  body?: string | Buffer | FormData
}

/** A request as the bytes it sends, so that they can be signed. */
type Sendable = { method: string; path: string; headers: Record<string, string>; body?: Buffer }

async function asBytes(request: Fuzzed): Promise<Sendable> {
  const { body, ...rest } = request
  if (body === undefined) return rest
  if (typeof body === 'string' || Buffer.isBuffer(body)) return { ...rest, body: Buffer.from(body) }
  const built = new Request(`${serverUrl}${request.path}`, { method: 'POST', body })
  return {
    ...rest,
    headers: { ...rest.headers, 'content-type': built.headers.get('content-type')! },
    body: Buffer.from(await built.arrayBuffer()),
  }
}

/**
 * How a request proves where it comes from: most are signed by the fuzz
 * device, as terminals do; the rest are unsigned, signed with a spoiled
 * signature, a stale timestamp, or over another body than the one sent,
 * replay an earlier signed request, or are signed by another device.
 */
const proofs = ['unsigned', 'spoiled', 'stale', 'digest', 'replayed', 'another device'] as const
type Proof = 'signed' | (typeof proofs)[number]

function prove(
  request: Sendable,
  proof: Proof,
  signers: {
    fuzz: { serialNumber: string; secret: string }
    other: { serialNumber: string; secret: string }
  }
): Sendable {
  if (proof === 'unsigned') return request
  const path = request.path.split('?')[0]
  const body = request.body ?? Buffer.alloc(0)
  const sign = (signer = signers.fuzz, signed = body, options = {}) => ({
    ...request,
    headers: {
      ...request.headers,
      ...signCall(signer, { method: request.method, path, body: signed }, options),
    },
  })
  if (proof === 'another device') return sign(signers.other)
  if (proof === 'digest') return sign(signers.fuzz, Buffer.concat([body, Buffer.from('x')]))
  if (proof === 'stale') {
    return sign(signers.fuzz, body, { timestamp: Math.floor(Date.now() / 1000) - 3600 })
  }
  const signed = sign()
  if (proof === 'spoiled') {
    const signature = signed.headers['x-device-signature']
    signed.headers['x-device-signature'] = (signature[0] === 'f' ? '0' : 'f') + signature.slice(1)
  }
  return signed
}

function makeRequest(
  next: () => number,
  device: Device,
  token: string,
  { photos, features }: Material
): Fuzzed {
  const pick = <T>(items: readonly T[]) => items[Math.floor(next() * items.length)]
  const bytes = (length: number) =>
    Buffer.from(Array.from({ length }, () => Math.floor(next() * 256)))
  const picture = () => {
    const copy = Buffer.from(pick(photos))
    const damage = pick(['none', 'cut', 'flip'] as const)
    if (damage === 'cut') return copy.subarray(0, Math.floor(next() * copy.length))
    if (damage === 'flip') {
      for (let i = 0; i < 8; i++) copy[Math.floor(next() * copy.length)] ^= 0xff
    }
    return copy
  }
  const text = () =>
    next() < 0.6
      ? pick(strangeText)
      : next() < 0.5
        ? bytes(1 + Math.floor(next() * 64)).toString('latin1')
        : 'x'.repeat(Math.floor(next() * 300_000))
  const value = (): unknown =>
    pick([
      () => text(),
      () => Math.floor(next() * 2 ** 40) * (next() < 0.5 ? -1 : 1),
      () => next(),
      () => null,
      () => true,
      () => [text(), text()],
      () => ({ nested: text() }),
      () => device.name,
      () => device.serialNumber,
      () => token,
      () => pick(features),
      () => picture().toString('base64'),
      () => Math.floor(next() * 400) - 50,
    ])()
  const named = { deviceName: device.name, deviceSN: device.serialNumber }
  /** A call each endpoint serves, for the fuzz to spoil a field or two of. */
  const validCalls: Record<string, () => Record<string, unknown>> = {
    token: () => ({ deviceName: device.name, sn: device.serialNumber }),
    getDbs: () => ({ ...named, token }),
    regFace: () => ({
      ...named,
      username: pick(enrolledNames),
      faceName: pick(['Fuzz One', 'Fuzz Two']),
      picBase64: picture().toString('base64'),
    }),
    clinetFeedback: () => ({
      ...named,
      faceName: 'Fuzz visitor',
      image: picture().toString('base64'),
    }),
    clinetWebResult: () => named,
    ...Object.fromEntries(
      recognitionEndpoints.map((name) => [
        name,
        () => ({
          token,
          image: picture().toString('base64'),
          pending: pick(features),
          original: pick(features),
        }),
      ])
    ),
  }
  /**
   * Random fields; often a valid call with one or two fields spoiled,
   * which is what gets past the readers to the device gate and the engine.
   */
  const fields = (endpoint: string): Record<string, unknown> => {
    const chosen: Record<string, unknown> = {}
    if (Object.hasOwn(validCalls, endpoint) && next() < 0.5) {
      Object.assign(chosen, validCalls[endpoint]())
      for (let i = Math.floor(next() * 3); i > 0; i--) chosen[pick(fieldNames)] = value()
      return chosen
    }
    if (next() < 0.7) Object.assign(chosen, { ...named, sn: device.serialNumber })
    for (const name of fieldNames) if (next() < 0.45) chosen[name] = value()
    return chosen
  }

  const endpoint =
    next() < 0.06
      ? pick([
          'nothing',
          'pictures/1',
          `pictures/${encodeURIComponent(pick(strangeText).toWellFormed())}`,
        ])
      : pick(endpoints)
  /** Node refuses request lines past 16 KB (431) before the app sees them. */
  const query = next() < 0.1 ? `?${encodeURIComponent(pick(strangeText).toWellFormed())}=1` : ''
  const path = `/faces/api/${endpoint}${query}`
  const method = next() < 0.08 ? pick(['GET', 'PUT', 'DELETE', 'PATCH']) : 'POST'
  const kind = pick(['bytes', 'json', 'form', 'multipart', 'json-shape', 'empty'] as const)
  if (kind === 'empty' || method === 'GET') return { method, path, headers: {} }
  if (kind === 'bytes') {
    const type = pick([
      'application/json',
      'application/x-www-form-urlencoded',
      'multipart/form-data; boundary=fuzz',
      'text/plain',
      'application/octet-stream',
      'image/jpeg',
    ])
    return {
      method,
      path,
      headers: { 'content-type': type },
      body: bytes(Math.floor(next() * 4096)),
    }
  }
  if (kind === 'json-shape') {
    const shape = pick([
      () => '[]',
      () => '"text"',
      () => '42',
      () => 'null',
      () => '{"a":',
      () => '{}',
    ])()
    return { method, path, headers: { 'content-type': 'application/json' }, body: shape }
  }
  const data = fields(endpoint)
  if (kind === 'json') {
    return {
      method,
      path,
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(data),
    }
  }
  if (kind === 'form') {
    const form = new URLSearchParams()
    for (const [name, item] of Object.entries(data)) {
      if (Array.isArray(item)) for (const one of item) form.append(`${name}[]`, String(one))
      else if (item && typeof item === 'object')
        form.append(`${name}[nested]`, String((item as { nested: string }).nested))
      else form.append(name, String(item))
    }
    return {
      method,
      path,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: form.toString(),
    }
  }
  const multipart = new FormData()
  for (const [name, item] of Object.entries(data)) {
    if (name === 'image' || next() < 0.1) {
      const content = next() < 0.5 ? picture() : bytes(Math.floor(next() * 20_000))
      multipart.append(name, new Blob([content]), pick(['a.jpg', 'x', '../../y.png']))
    } else {
      multipart.append(name, String(item))
    }
  }
  return { method, path, headers: {}, body: multipart }
}

/**
 * The main thread's heap after a full collection: the server runs in this
 * process, so what the fuzzing leaves behind shows here.
 */
function settledHeap() {
  setFlagsFromString('--expose-gc')
  const collect = runInNewContext('gc') as () => void
  collect()
  collect()
  return process.memoryUsage().heapUsed
}

test.group('Terminal protocol: fuzzing', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test(`${requestCount} malformed requests get documented JSON answers and write nothing half-way`, async ({
    client,
    assert,
    cleanup,
  }) => {
    /**
     * Past the rate limits, so that every request reaches the code it is
     * meant for rather than a Pause (8): the limits have tests of their own.
     */
    const limits = { ...terminalConfig.auth }
    terminalConfig.auth.perDevicePerMinute = 100_000
    terminalConfig.auth.refusedPerAddressPerMinute = 100_000
    cleanup(() => {
      Object.assign(terminalConfig.auth, limits)
    })

    /** The device gate as it is, noting the endpoints it let a call through to. */
    const gate = await app.container.make(DeviceGate)
    const admitted = new Set<string>()
    const admit = gate.admit.bind(gate)
    gate.admit = async (claim, call) => {
      const admission = await admit(claim, call)
      if (admission.ok) admitted.add(call.endpoint)
      return admission
    }
    app.container.swap(DeviceGate, () => gate)
    cleanup(() => app.container.restore(DeviceGate))

    const next = random(seed)
    const device = await DeviceFactory.apply('approved')
      .apply('enrolling')
      .merge({ name: 'Fuzz gate', serialNumber: 'SN-FUZZ' })
      .create()
    const other = await DeviceFactory.apply('approved').create()
    const signers = { fuzz: credentialOf(device), other: credentialOf(other) }
    const tokens = new DeviceTokenStore()
    const fuel = await material()
    let token = await tokenFor(client, device)
    const codes = new Map<number, number>()
    const recorded: number[] = []
    const enrolled = { usernames: new Set<string>(), faceIds: new Set<number>(), held: 0 }
    let lastSigned: Sendable | null = null

    const warmUp = 100
    let heapAfterWarmUp = 0
    for (let i = 0; i < requestCount; i++) {
      if (i === warmUp) heapAfterWarmUp = settledHeap()
      const fuzzed = await asBytes(makeRequest(next, device, token, fuel))
      let proof: Proof = next() < 0.7 ? 'signed' : proofs[Math.floor(next() * proofs.length)]
      if (proof === 'replayed' && !lastSigned) proof = 'signed'
      const request: Sendable = proof === 'replayed' ? lastSigned! : prove(fuzzed, proof, signers)
      if (proof === 'signed') lastSigned = request
      const response = await fetch(`${serverUrl}${request.path}`, {
        method: request.method,
        headers: request.headers,
        body: request.body,
      })
      const text = await response.text()
      const where = `request ${i} (seed ${seed}, ${proof}): ${request.method} ${request.path.slice(0, 80)} → ${response.status} ${text.slice(0, 200)}`
      assert.match(response.headers.get('content-type') ?? '', /^application\/json/, where)
      const body = JSON.parse(text) as {
        flag: unknown
        code: unknown
        message: unknown
        eventId?: number
        username?: string
        faceId?: number
        created?: boolean
      }
      assert.isString(body.flag, where)
      assert.isString(body.message, where)
      assert.property(resultCodes, String(body.code), where)
      assert.notEqual(body.code, 9007, where)
      assert.notEqual(response.status, 500, where)
      if (proof !== 'signed') assert.notEqual(body.code, 0, `unproven, yet served: ${where}`)
      codes.set(body.code as number, (codes.get(body.code as number) ?? 0) + 1)
      const recording = ['clinetfeedback', 'faceidentify'].includes(body.flag as string)
      if (recording && body.code === 0) recorded.push(body.eventId!)
      if (body.flag === 'regFace' && body.code === 0) {
        enrolled.usernames.add(body.username!)
        if (body.created) enrolled.faceIds.add(body.faceId!)
      }
      if (body.flag === 'regFace' && body.code === 5) enrolled.held++
      /** Straight from the store, past the rate limit: a spent token never reaches the engine. */
      if (i % 5 === 0) {
        const issued = await tokens.issue(device.id, 'signed')
        token = issued.token
      }
    }

    assert.isAbove(codes.get(9006) ?? 0, 0, 'no call reached the engine')
    assert.sameMembers([...admitted], [...endpoints], 'every endpoint admits signed calls')
    const heapGrowth = settledHeap() - heapAfterWarmUp
    assert.isBelow(heapGrowth, 32 * 1024 * 1024, `heap grew by ${heapGrowth} bytes`)

    const fresh = await client
      .post('/faces/api/token')
      .form({ deviceName: 'After fuzz', sn: 'SN-AFTER' })
    assert.equal(fresh.body().code, 9001)

    const people = await Person.query().preload('faces')
    assert.sameMembers(
      people.map((person) => person.username),
      [...enrolled.usernames]
    )
    assert.sameMembers(
      people.flatMap((person) => person.faces.map((face) => face.id)),
      [...enrolled.faceIds]
    )
    for (const face of people.flatMap((person) => person.faces)) {
      assert.isNotNull(await new MediaStore().locate(face.imagePath!))
    }
    const reviews = await EnrolmentReview.all()
    assert.equal(
      reviews.filter((review) => review.kind === 'new_person').length,
      enrolled.usernames.size
    )
    assert.equal(reviews.filter((review) => review.kind === 'face_change').length, enrolled.held)
    for (const review of reviews) {
      if (review.imagePath) assert.isNotNull(await new MediaStore().locate(review.imagePath))
    }
    const events = await AccessEvent.all()
    assert.sameMembers(
      events.map((event) => event.id),
      recorded
    )
    for (const event of events) {
      assert.equal(event.deviceId, device.id)
      if (event.snapshotPath) assert.isNotNull(await new MediaStore().locate(event.snapshotPath))
    }
    const registered = await Device.query().whereNotIn('id', [device.id, other.id])
    for (const created of registered) {
      assert.equal(created.status, 'pending')
      assert.match(created.name, /^[\p{L}\p{N} ._-]{1,64}$/u)
      const audit = await AuditLog.query()
        .where('action', 'device.register')
        .where('subject_id', String(created.id))
      assert.lengthOf(audit, 1)
    }
    const stored = await readdir(terminalConfig.storageDir, { recursive: true }).catch(() => [])
    assert.deepEqual(
      stored.filter((name) => String(name).endsWith('.partial')),
      []
    )
    console.log(`fuzz seed ${seed}: codes ${JSON.stringify(Object.fromEntries(codes))}`)
  }).timeout(180_000)
})
