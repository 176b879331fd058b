import { createHash } from 'node:crypto'
import { readFile } from 'node:fs/promises'
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http'
import type { AddressInfo } from 'node:net'
import sharp from 'sharp'
import type { DecodedImage } from '#plugin-sdk'
import type { KioskState } from '#terminal-client/agent_contracts'

export type KioskServerOptions = {
  /** 127.0.0.1 by default: the screen's own browser is the only reader. */
  host?: string
  /** 0 picks a free port (see `url` after `start()`). */
  port: number
  language: KioskState['language']
  deviceName?: string
  serial?: string
  /** Pages open at once; the oldest is closed when one more connects. */
  maxClients?: number
  /** A comment on every open stream this often, so a dead socket is noticed. */
  heartbeatMs?: number
  /** The camera image is encoded at most once per this many milliseconds. */
  frameIntervalMs?: number
  /** The camera image is scaled down to fit this many pixels on its longer side. */
  frameMaxSide?: number
  /** People's photos kept; the least recently given goes first. */
  maxPhotos?: number
}

type Frame = { image: DecodedImage; version: number }
type Jpeg = { bytes: Buffer; version: number; at: number }

const assets: Record<string, { file: string; type: string }> = {
  '/': { file: 'index.html', type: 'text/html; charset=utf-8' },
  '/kiosk.css': { file: 'kiosk.css', type: 'text/css; charset=utf-8' },
  '/kiosk.js': { file: 'kiosk.js', type: 'text/javascript; charset=utf-8' },
}
const languages: KioskState['language'][] = ['en', 'zh']
const assetDir = new URL('../../../public/kiosk/', import.meta.url)
const langDir = new URL('../../../resources/lang/', import.meta.url)
const loopbackHosts = new Set(['127.0.0.1', 'localhost', '[::1]', '::1'])
const photoKey = /^[A-Za-z0-9_.-]{1,64}$/
/** An open stream holding more unsent bytes than this belongs to a page that stopped reading. */
const maxBufferedBytes = 256 * 1024

/**
 * The terminal's screen: a page on localhost that Chromium shows in kiosk
 * mode, fed by the agent. `update()` merges into the state the page shows
 * and pushes it to every open page as a Server-Sent Event; `frame()` hands
 * over the camera's latest image, which is turned into a small JPEG only
 * when a page asks for it and at most a few times a second, so an idle
 * screen (or none) costs no encoding. Plain node:http beside the engine,
 * listening on the loopback address unless told otherwise.
 */
export class KioskServer {
  readonly #options: Required<Omit<KioskServerOptions, 'deviceName' | 'serial' | 'language'>>
  #state: KioskState
  #stateJson: string
  #sequence = 0
  #server: Server | null = null
  #clients = new Set<ServerResponse>()
  #heartbeat: NodeJS.Timeout | null = null
  #frame: Frame | null = null
  #frameVersion = 0
  #jpeg: Jpeg | null = null
  #encoding: Promise<Jpeg | null> | null = null
  #photos = new Map<string, { bytes: Buffer; etag: string }>()
  #files = new Map<string, Buffer>()
  #encodes = 0

  constructor(options: KioskServerOptions) {
    this.#options = {
      host: options.host ?? '127.0.0.1',
      port: options.port,
      maxClients: options.maxClients ?? 8,
      heartbeatMs: options.heartbeatMs ?? 15_000,
      frameIntervalMs: options.frameIntervalMs ?? 200,
      frameMaxSide: options.frameMaxSide ?? 640,
      maxPhotos: options.maxPhotos ?? 32,
    }
    this.#state = {
      deviceName: options.deviceName ?? '',
      serial: options.serial ?? '',
      connection: 'connecting',
      language: options.language,
      backlog: 0,
    }
    this.#stateJson = JSON.stringify(this.#state)
  }

  /** The page's address, once started. */
  get url() {
    const address = this.#server?.address() as AddressInfo | null
    if (!address) throw new Error('The kiosk server is not started')
    const host = address.family === 'IPv6' ? `[${address.address}]` : address.address
    return `http://${host}:${address.port}`
  }

  get state(): KioskState {
    return JSON.parse(this.#stateJson)
  }

  /** Pages connected to the event stream right now. */
  get clients() {
    return this.#clients.size
  }

  /** JPEG encodings of camera frames so far. */
  get encodes() {
    return this.#encodes
  }

  async start() {
    if (this.#server) return
    for (const asset of Object.values(assets)) {
      this.#files.set(asset.file, await readFile(new URL(asset.file, assetDir)))
    }
    for (const language of languages) {
      const strings = await readFile(new URL(`${language}/kiosk.json`, langDir))
      this.#files.set(`lang/${language}.json`, strings)
    }
    const server = createServer((request, response) => this.#handle(request, response))
    server.keepAliveTimeout = 5000
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.#options.port, this.#options.host, () => {
        server.off('error', reject)
        resolve()
      })
    })
    this.#server = server
    this.#heartbeat = setInterval(
      () => this.#broadcast(': heartbeat\n\n'),
      this.#options.heartbeatMs
    )
    this.#heartbeat.unref()
  }

  async stop() {
    const server = this.#server
    if (!server) return
    this.#server = null
    if (this.#heartbeat) clearInterval(this.#heartbeat)
    this.#heartbeat = null
    for (const client of this.#clients) client.end()
    this.#clients.clear()
    await new Promise<void>((resolve) => {
      server.close(() => resolve())
      server.closeAllConnections()
    })
  }

  /**
   * Merges into what the page shows; a key given as `undefined` is
   * cleared (`update({ result: undefined })` takes the result away).
   * Open pages get the whole state when anything changed.
   */
  update(state: Partial<KioskState>) {
    const next: Record<string, unknown> = { ...this.#state }
    for (const [key, value] of Object.entries(state)) {
      if (value === undefined) delete next[key]
      else next[key] = value
    }
    const json = JSON.stringify(next)
    if (json === this.#stateJson) return
    this.#state = next as KioskState
    this.#stateJson = json
    this.#sequence++
    this.#broadcast(this.#event())
  }

  /** The camera's latest image; the previous one is dropped unencoded. */
  frame(image: DecodedImage) {
    this.#frame = { image, version: ++this.#frameVersion }
    const size = this.#state.frameSize
    if (size?.width !== image.width || size?.height !== image.height) {
      this.update({ frameSize: { width: image.width, height: image.height } })
    }
  }

  /** Serves a person's photo at the returned path, to put in `result.photoUrl`. */
  personPhoto(key: string, jpeg: Uint8Array) {
    if (!photoKey.test(key)) throw new Error(`A photo key is 1 to 64 letters, digits, _ . or -`)
    this.#photos.delete(key)
    const bytes = Buffer.from(jpeg)
    const etag = `"${createHash('sha1').update(bytes).digest('base64url')}"`
    this.#photos.set(key, { bytes, etag })
    while (this.#photos.size > this.#options.maxPhotos) {
      this.#photos.delete(this.#photos.keys().next().value!)
    }
    return `/photos/${key}`
  }

  #event() {
    return `id: ${this.#sequence}\ndata: ${this.#stateJson}\n\n`
  }

  #broadcast(chunk: string) {
    for (const client of this.#clients) {
      if (client.writableLength > maxBufferedBytes) client.destroy()
      else client.write(chunk)
    }
  }

  #handle(request: IncomingMessage, response: ServerResponse) {
    response.setHeader('X-Content-Type-Options', 'nosniff')
    if (!this.#hostAllowed(request.headers.host)) {
      return this.#text(response, 403, 'This screen answers only on the loopback address')
    }
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.setHeader('Allow', 'GET, HEAD')
      return this.#text(response, 405, 'Only GET and HEAD')
    }
    const path = (request.url ?? '/').split('?')[0]
    const asset = assets[path]
    if (asset) {
      response.setHeader(
        'Content-Security-Policy',
        "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; connect-src 'self'"
      )
      return this.#send(response, asset.type, this.#files.get(asset.file)!)
    }
    const lang = /^\/lang\/(en|zh)\.json$/.exec(path)
    if (lang) {
      return this.#send(response, 'application/json', this.#files.get(`lang/${lang[1]}.json`)!)
    }
    if (path === '/events') return this.#subscribe(request, response)
    if (path === '/favicon.ico') {
      response.writeHead(204)
      return response.end()
    }
    if (path === '/frame.jpg') return void this.#sendFrame(response)
    const photo = /^\/photos\/([^/]+)$/.exec(path)
    if (photo) return this.#sendPhoto(request, response, decodeURIComponent(photo[1]))
    this.#text(response, 404, `Nothing at ${path}`)
  }

  /**
   * A browser page is reached through a host name it chose; answering only
   * loopback names keeps another site, rebinding its name to 127.0.0.1,
   * from reading the screen.
   */
  #hostAllowed(host: string | undefined) {
    if (!loopbackHosts.has(this.#options.host)) return true
    if (!host) return false
    const name = host.startsWith('[') ? host.slice(0, host.indexOf(']') + 1) : host.split(':')[0]
    return loopbackHosts.has(name)
  }

  #subscribe(request: IncomingMessage, response: ServerResponse) {
    response.writeHead(200, {
      'Content-Type': 'text/event-stream; charset=utf-8',
      'Cache-Control': 'no-store',
      'Connection': 'keep-alive',
    })
    if (request.method === 'HEAD') return response.end()
    request.socket.setNoDelay(true)
    request.socket.setKeepAlive(true, this.#options.heartbeatMs)
    if (this.#clients.size >= this.#options.maxClients) {
      const oldest = this.#clients.values().next().value!
      this.#clients.delete(oldest)
      oldest.end()
    }
    this.#clients.add(response)
    response.once('close', () => this.#clients.delete(response))
    response.write(`retry: 1000\n\n${this.#event()}`)
  }

  async #sendFrame(response: ServerResponse) {
    response.setHeader('Cache-Control', 'no-store')
    const jpeg = await this.#latestJpeg()
    if (!jpeg) return this.#text(response, 503, 'No camera image yet')
    response.setHeader('X-Frame-Version', String(jpeg.version))
    this.#send(response, 'image/jpeg', jpeg.bytes)
  }

  /**
   * The JPEG of the newest frame, encoded now if the frame is newer than
   * the last encoding and that encoding is old enough; pages asking at
   * the same time share one encoding.
   */
  async #latestJpeg(): Promise<Jpeg | null> {
    const frame = this.#frame
    if (!frame) return null
    const cached = this.#jpeg
    if (cached) {
      const fresh = cached.version === frame.version
      const tooSoon = Date.now() - cached.at < this.#options.frameIntervalMs
      if (fresh || tooSoon) return cached
    }
    this.#encoding ??= this.#encode(frame).finally(() => (this.#encoding = null))
    return this.#encoding
  }

  async #encode(frame: Frame) {
    const { image, version } = frame
    const side = this.#options.frameMaxSide
    try {
      const bytes = await sharp(image.data, {
        raw: { width: image.width, height: image.height, channels: 3 },
      })
        .resize({ width: side, height: side, fit: 'inside', withoutEnlargement: true })
        .jpeg({ quality: 70, mozjpeg: false })
        .toBuffer()
      this.#encodes++
      this.#jpeg = { bytes, version, at: Date.now() }
    } catch {
      // A frame whose bytes do not match its size is skipped; the previous image stays.
    }
    return this.#jpeg
  }

  #sendPhoto(request: IncomingMessage, response: ServerResponse, key: string) {
    const photo = this.#photos.get(key)
    if (!photo) return this.#text(response, 404, `No photo ${key}`)
    response.setHeader('ETag', photo.etag)
    response.setHeader('Cache-Control', 'no-cache')
    if (request.headers['if-none-match'] === photo.etag) {
      response.writeHead(304)
      return response.end()
    }
    this.#send(response, 'image/jpeg', photo.bytes)
  }

  #send(response: ServerResponse, type: string, body: Buffer) {
    response.writeHead(200, { 'Content-Type': type, 'Content-Length': body.length })
    response.end(response.req.method === 'HEAD' ? undefined : body)
  }

  #text(response: ServerResponse, status: number, message: string) {
    response.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' })
    response.end(response.req.method === 'HEAD' ? undefined : `${message}\n`)
  }
}
