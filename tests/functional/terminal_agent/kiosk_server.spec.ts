import { request, type ClientRequest, type IncomingMessage } from 'node:http'
import { connect } from 'node:net'
import { networkInterfaces } from 'node:os'
import { test } from '@japa/runner'
import sharp from 'sharp'
import type { KioskState } from '#terminal-client/agent_contracts'
import { KioskServer, type KioskServerOptions } from '#terminal-client/kiosk/kiosk_server'
import { until } from '#tests/helpers/redis_server'

/** The port of the server the running test started (a free one, picked by the system). */
let port = 0

async function startKiosk(options: Omit<KioskServerOptions, 'port'>, at = 0) {
  const kiosk = new KioskServer({ ...options, port: at })
  await kiosk.start()
  port = Number(new URL(kiosk.url).port)
  return kiosk
}

type Answer = { status: number; headers: IncomingMessage['headers']; body: Buffer }

function get(path: string, headers: Record<string, string> = {}, method = 'GET') {
  return new Promise<Answer>((resolve, reject) => {
    const call = request({ host: '127.0.0.1', port, path, method, headers }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('end', () =>
        resolve({
          status: response.statusCode!,
          headers: response.headers,
          body: Buffer.concat(chunks),
        })
      )
    })
    call.on('error', reject)
    call.end()
  })
}

async function status(path: string, headers: Record<string, string> = {}) {
  const answer = await get(path, headers)
  return answer.status
}

async function frameVersion() {
  const answer = await get('/frame.jpg')
  return answer.headers['x-frame-version']
}

/** An open /events stream, as a page holds it: the states received, and the comments. */
class EventStream {
  states: (KioskState & { id: number })[] = []
  comments: string[] = []
  ended = false
  /** Resolves with the first state, the one a page gets as it connects. */
  readonly ready: Promise<void>
  #ready!: () => void
  #call: ClientRequest
  #buffer = ''

  constructor() {
    this.ready = new Promise((resolve) => (this.#ready = resolve))
    this.#call = request({ host: '127.0.0.1', port, path: '/events' }, (response) => {
      response.setEncoding('utf8')
      response.on('data', (text: string) => this.#read(text))
      response.on('end', () => (this.ended = true))
      response.on('close', () => (this.ended = true))
    })
    this.#call.on('error', () => (this.ended = true))
    this.#call.end()
  }

  #read(text: string) {
    this.#buffer += text
    let end: number
    while ((end = this.#buffer.indexOf('\n\n')) >= 0) {
      const block = this.#buffer.slice(0, end)
      this.#buffer = this.#buffer.slice(end + 2)
      let id = 0
      for (const line of block.split('\n')) {
        if (line.startsWith(':')) this.comments.push(line.slice(1).trim())
        if (line.startsWith('id: ')) id = Number(line.slice(4))
        if (line.startsWith('data: ')) this.states.push({ ...JSON.parse(line.slice(6)), id })
      }
      if (this.states.length) this.#ready()
    }
  }

  get last() {
    return this.states.at(-1)
  }

  close() {
    this.#call.destroy()
  }
}

async function rgb(width: number, height: number, colour: [number, number, number]) {
  const { data } = await sharp({
    create: {
      width,
      height,
      channels: 3,
      background: { r: colour[0], g: colour[1], b: colour[2] },
    },
  })
    .raw()
    .toBuffer({ resolveWithObject: true })
  return { width, height, data: new Uint8Array(data) }
}

test.group('Kiosk server', (group) => {
  let server: KioskServer
  group.each.teardown(() => server?.stop())

  test('a page gets the whole state at once, then every change in order, and nothing when nothing changed', async ({
    assert,
  }) => {
    server = await startKiosk({ language: 'zh', deviceName: 'Lobby east', serial: 'FA-1' })
    const stream = new EventStream()
    await until(async () => stream.states.length === 1, 'the first state')
    assert.deepInclude(stream.last, {
      deviceName: 'Lobby east',
      serial: 'FA-1',
      language: 'zh',
      connection: 'connecting',
      backlog: 0,
    })

    for (let backlog = 1; backlog <= 500; backlog++) server.update({ backlog })
    server.update({ backlog: 500 })
    server.update({ connection: 'offline', guidance: 'blink' })
    await until(async () => stream.last?.connection === 'offline', 'the last change')

    const backlogs = stream.states.map((state) => state.backlog)
    assert.deepEqual(backlogs.slice(0, 501), [...Array(501).keys()])
    assert.lengthOf(stream.states, 502, 'an update that changes nothing sends nothing')
    const ids = stream.states.map((state) => state.id)
    assert.deepEqual(
      ids,
      [...ids].sort((a, b) => a - b)
    )
    assert.equal(stream.last?.backlog, 500)
    assert.equal(stream.last?.guidance, 'blink')

    server.update({ guidance: undefined })
    await until(async () => stream.states.length === 503, 'the guidance cleared')
    assert.notProperty(stream.last, 'guidance')
    assert.notProperty(server.state, 'guidance')
    stream.close()
  })

  test('thousands of pages reconnecting leave no stream, socket or listener behind', async ({
    assert,
  }) => {
    server = await startKiosk({ language: 'en', maxClients: 8 })
    const keeper = new EventStream()
    await until(async () => server.clients === 1, 'the first page')
    const listenersBefore = process.listenerCount('exit')

    for (let round = 0; round < 500; round++) {
      const pages = Array.from({ length: 7 }, () => new EventStream())
      await Promise.all(pages.map((page) => page.ready))
      for (const page of pages) page.close()
    }
    await until(async () => server.clients === 1, 'the closed pages forgotten', 10_000)
    server.update({ backlog: 7 })
    await until(async () => keeper.last?.backlog === 7, 'the kept page still updated')
    assert.isFalse(keeper.ended, 'the oldest page stays while there is room')
    assert.equal(process.listenerCount('exit'), listenersBefore)
    keeper.close()
    await until(async () => server.clients === 0, 'no page left')
  })

  test('one page more than allowed closes the oldest one', async ({ assert }) => {
    server = await startKiosk({ language: 'en', maxClients: 3 })
    const pages: EventStream[] = []
    for (let i = 0; i < 5; i++) {
      pages.push(new EventStream())
      await until(async () => pages[i].states.length === 1, `page ${i}`)
    }
    await until(async () => pages[0].ended && pages[1].ended, 'the two oldest closed')
    assert.equal(server.clients, 3)
    assert.deepEqual(
      pages.map((page) => page.ended),
      [true, true, false, false, false]
    )
    for (const page of pages) page.close()
  })

  test('open streams get a heartbeat comment while nothing changes', async () => {
    server = await startKiosk({ language: 'en', heartbeatMs: 50 })
    const stream = new EventStream()
    await until(async () => stream.comments.filter((c) => c === 'heartbeat').length >= 3, 'beats')
    stream.close()
  })

  test('the page, its script, style and strings are served; anything else is a 404, writing a 405', async ({
    assert,
  }) => {
    server = await startKiosk({ language: 'en' })
    const page = await get('/')
    assert.equal(page.status, 200)
    assert.match(page.headers['content-type']!, /text\/html/)
    assert.include(page.body.toString(), '/kiosk.js')
    assert.include(page.headers['content-security-policy']!, "script-src 'self'")
    assert.equal(await status('/kiosk.js'), 200)
    assert.equal(await status('/kiosk.css'), 200)
    const strings = await get('/lang/zh.json')
    const zh = JSON.parse(strings.body.toString())
    assert.equal(zh.reasons.outside_schedule, '当前时段不允许通行')
    const head = await get('/', {}, 'HEAD')
    assert.equal(head.status, 200)
    assert.equal(head.body.length, 0)

    for (const path of [
      '/nothing',
      '/lang/fr.json',
      '/lang/../../.env',
      '/photos/nobody',
      '/photos/a/b',
      '/kiosk.js/x',
      '/%2e%2e/package.json',
    ]) {
      const answer = await get(path)
      assert.equal(answer.status, 404, path)
      assert.notInclude(answer.body.toString(), 'APP_KEY')
    }
    const post = await get('/events', {}, 'POST')
    assert.equal(post.status, 405)
    assert.equal(post.headers.allow, 'GET, HEAD')
  })

  test('only loopback addresses and names are answered by default', async ({ assert }) => {
    server = await startKiosk({ language: 'en' })
    assert.equal(server.url, `http://127.0.0.1:${port}`)

    const outside = Object.values(networkInterfaces())
      .flat()
      .find((address) => address && !address.internal && address.family === 'IPv4')
    if (outside) {
      const refused = await new Promise<string>((resolve) => {
        const socket = connect({ host: outside.address, port })
        socket.once('connect', () => {
          socket.destroy()
          resolve('connected')
        })
        socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? 'error'))
      })
      assert.equal(refused, 'ECONNREFUSED', `${outside.address}:${port}`)
    }

    const rebound = await get('/events', { Host: `attacker.example:${port}` })
    assert.equal(rebound.status, 403)
    assert.equal(await status('/', { Host: `localhost:${port}` }), 200)
  })

  test('the camera image is encoded only when asked for, at most a few times a second, and small', async ({
    assert,
  }) => {
    server = await startKiosk({ language: 'en', frameIntervalMs: 300, frameMaxSide: 320 })
    assert.equal(await status('/frame.jpg'), 503)

    const stream = new EventStream()
    for (let i = 0; i < 50; i++) server.frame(await rgb(1280, 720, [i, 0, 0]))
    assert.equal(server.encodes, 0, 'no page asked yet')
    await until(async () => stream.last?.frameSize?.width === 1280, 'the frame size pushed')
    assert.deepEqual(stream.last?.frameSize, { width: 1280, height: 720 })
    const sizeEvents = stream.states.length

    const answers = await Promise.all(Array.from({ length: 10 }, () => get('/frame.jpg')))
    assert.equal(server.encodes, 1, 'pages asking at once share one encoding')
    const first = answers[0]
    assert.equal(first.status, 200)
    assert.equal(first.headers['content-type'], 'image/jpeg')
    assert.equal(first.headers['cache-control'], 'no-store')
    const meta = await sharp(first.body).metadata()
    assert.deepInclude(meta, { format: 'jpeg', width: 320, height: 180 })
    assert.isBelow(first.body.length, 20_000)

    server.frame(await rgb(1280, 720, [0, 0, 255]))
    const tooSoon = await get('/frame.jpg')
    assert.equal(tooSoon.headers['x-frame-version'], first.headers['x-frame-version'])
    await until(
      async () => (await frameVersion()) === '51',
      'the newer frame encoded once the interval passed'
    )
    assert.equal(server.encodes, 2)
    const blue = await get('/frame.jpg')
    const { data } = await sharp(blue.body).raw().toBuffer({ resolveWithObject: true })
    assert.isAbove(data[2], 200, 'the blue frame is shown')
    assert.equal(server.encodes, 2, 'an unchanged frame is not encoded again')
    assert.lengthOf(stream.states, sizeEvents, 'frames of the same size push no state')
    stream.close()
  })

  test('a person photo is served by key with a validator; the oldest photos are dropped', async ({
    assert,
  }) => {
    server = await startKiosk({ language: 'en', maxPhotos: 2 })
    const jpeg = await sharp({
      create: { width: 8, height: 8, channels: 3, background: '#0a0' },
    })
      .jpeg()
      .toBuffer()
    assert.equal(server.personPhoto('person-12', jpeg), '/photos/person-12')
    const photo = await get('/photos/person-12')
    assert.equal(photo.status, 200)
    assert.deepEqual(photo.body, jpeg)
    const again = await get('/photos/person-12', { 'If-None-Match': photo.headers.etag! })
    assert.equal(again.status, 304)

    server.personPhoto('person-13', jpeg)
    server.personPhoto('person-14', jpeg)
    assert.equal(await status('/photos/person-12'), 404)
    assert.equal(await status('/photos/person-14'), 200)
    assert.throws(() => server.personPhoto('../x', jpeg), /photo key/)
  })

  test('stopping ends the open pages and frees the port for the next start', async ({ assert }) => {
    server = await startKiosk({ language: 'en' })
    const stream = new EventStream()
    await until(async () => server.clients === 1, 'the page')
    await server.stop()
    await until(async () => stream.ended, 'the page told')
    server = await startKiosk({ language: 'en' }, port)
    assert.equal(await status('/'), 200)
  })
})
