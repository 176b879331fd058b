import logger from '@adonisjs/core/services/logger'
import db from '@adonisjs/lucid/services/db'
import redis from '@adonisjs/redis/services/main'
import terminalConfig from '#config/terminal'
import type { FaceFeature } from '#plugin-sdk'
import type { FeatureComparator, FeatureError } from '#faces/feature_blob'
import { embeddingBytes } from '#faces/face_data'
import { ModelInForce } from '#faces/model_in_force'
import { templateBlock, type FaceBlock } from '#faces/person_templates'
import { isRedisUnavailable } from '#services/redis_availability'

/** A face of a person, or (faceId null) the template of a person with several faces. */
export type GalleryMatch = {
  faceId: number | null
  personId: number
  similarity: number
  score: number
}

export type GallerySearch =
  | {
      ok: true
      matches: GalleryMatch[]
      galleryFaces: number
      /** The faces and the templates compared: what the 1:N threshold counts. */
      searched: number
    }
  | { ok: false; error: Extract<FeatureError, { type: 'uncalibrated' }> }

/** A change to the faces, as announced to every process. */
export type GalleryChange =
  | { type: 'face_added'; faceId: number; personId: number; model: string; vector: string }
  | { type: 'face_removed'; faceId: number }
  | { type: 'person_removed'; personId: number }
  | { type: 'model_switched'; model: string }

type Matrix = {
  dimension: number
  rows: number
  vectors: Float32Array
  faceIds: Int32Array
  personIds: Int32Array
}

/**
 * What a process announces: a change, or a request to every process to load
 * again (it made changes while Redis could not announce them).
 */
type Announcement = { revision: number; change: GalleryChange | { type: 'resync' } }

/**
 * Numbers each change and publishes it in one step, so that the order of
 * the revisions is the order in which subscribers receive them.
 */
const announceScript = `
local revision = redis.call('INCR', KEYS[1])
redis.call('PUBLISH', ARGV[1], '{"revision":' .. revision .. ',"change":' .. ARGV[2] .. '}')
return revision`

const initialCapacity = 1024
/**
 * How long the faces of the model switched from stay searchable, for
 * calls whose feature was made just before the switch (a call gives up
 * long before).
 */
const retiredForMs = 60_000
/**
 * Room for a quarter more faces after a load before the matrix is copied
 * to a larger one: enrolments trickle in, and a large gallery is large.
 */
const loadHeadroom = 1.25

/**
 * The 1:N search over every enrolled face: one process's copy of the faces
 * of one embedding model (the running engine's) as a contiguous matrix, so
 * that a search is a pass of dot products over memory and never a
 * database query. It is loaded from the database on the first search and
 * kept current by changes announced over Redis pub/sub, which reach every
 * process serving the same database; each carries a revision, and a
 * process that sees a gap (it missed a message while Redis was away)
 * loads everything again.
 *
 * Searches and changes go on while Redis is down, on what this process
 * holds. Once Redis is back, a process whose subscription was cut compares
 * its revision at the next search, and one that changed faces meanwhile
 * asks every process to load again, since nobody heard of those changes.
 */
export class GalleryIndex {
  static channel = terminalConfig.galleryChannel
  static revisionKey = `${terminalConfig.keyspace}:gallery:revision`
  /**
   * How often a search compares the revision with Redis: a process that
   * is still behind one interval later missed a message.
   */
  static checkIntervalMs = 5_000

  #model: string | null = null
  #dimension = 0
  #rows = 0
  #vectors: Float32Array = new Float32Array(0)
  #faceIds: Int32Array = new Int32Array(0)
  #personIds: Int32Array = new Int32Array(0)
  #rowOfFace = new Map<number, number>()
  /** Per person, the sum of their faces' vectors and how many: their template's makings. */
  #sums = new Map<number, { sum: Float64Array; count: number }>()
  /** The templates of people with several faces, made again after a change. */
  #templates: FaceBlock | null = null
  #revision = 0
  #loaded: { model: string; dimension: number; done: Promise<void> } | null = null
  #work: Promise<unknown> = Promise.resolve()
  #subscribed: Promise<void> | null = null
  #stopWatching: (() => void) | null = null
  /** Announcements may have been missed: compare with Redis at the next search. */
  #unsure = false
  /** Changes made here were not announced: every process must load again. */
  #owesResync = false
  #checkedAt = 0
  #behindAt: number | null = null
  #loads = 0
  /** The previous model's faces, as they were at the switch. */
  #retired: (Matrix & { model: string; until: number }) | null = null

  /**
   * The `limit` faces and person templates (see person_templates.ts)
   * nearest the probe, best first, with the score the comparator's
   * calibration gives each. Faces of another model than the probe's are
   * not compared.
   */
  async search(
    probe: FaceFeature,
    comparator: FeatureComparator,
    limit = 5
  ): Promise<GallerySearch> {
    const retired = this.#retiredFor(probe)
    if (!retired) await this.#ready(probe.model, probe.vector.length)
    const matrix: Matrix = retired ?? {
      dimension: this.#dimension,
      rows: this.#rows,
      vectors: this.#vectors,
      faceIds: this.#faceIds,
      personIds: this.#personIds,
    }
    const templates = retired ? null : this.#currentTemplates()
    const nearest = [
      ...nearestRows(matrix, probe.vector, limit).map((found) => ({ ...found, block: matrix })),
      ...(templates ? nearestRows(templates, probe.vector, limit) : []).map((found) => ({
        ...found,
        block: templates!,
      })),
    ]
      .sort((first, second) => second.similarity - first.similarity)
      .slice(0, limit)
    const matches: GalleryMatch[] = []
    for (const { row, similarity, block } of nearest) {
      const start = row * block.dimension
      const stored = {
        model: probe.model,
        vector: block.vectors.subarray(start, start + block.dimension),
      }
      const compared = comparator.compare(probe, stored)
      if (!compared.ok) {
        if (compared.error.type === 'uncalibrated') return { ok: false, error: compared.error }
        throw new Error(`gallery row ${row} does not compare: ${compared.error.type}`)
      }
      const template = block !== matrix
      matches.push({
        faceId: template ? null : matrix.faceIds[row],
        personId: template ? templates!.owners[row] : matrix.personIds[row],
        similarity,
        score: compared.score,
      })
    }
    return {
      ok: true,
      matches,
      galleryFaces: matrix.rows,
      searched: matrix.rows + (templates?.rows ?? 0),
    }
  }

  #currentTemplates() {
    this.#templates ??= templateBlock(this.#dimension, this.#sums)
    return this.#templates
  }

  /**
   * The faces of the model switched from, for a probe still of that model
   * (its feature was made just before the switch), once this process has
   * moved on to the new one.
   */
  #retiredFor(probe: FaceFeature) {
    const retired = this.#retired
    if (!retired || retired.model !== probe.model || this.#model === probe.model) return null
    if (Date.now() > retired.until || retired.dimension !== probe.vector.length) return null
    return retired
  }

  /**
   * The faces now have `model`'s features (committed): every process reads
   * the model in force again and loads the new features on its next search.
   */
  async modelSwitched(model: string) {
    ModelInForce.forget()
    await this.#change({ type: 'model_switched', model })
  }

  /** A face stored (and committed): this process sees it at once, the others when announced. */
  async faceAdded(face: { faceId: number; personId: number; feature: FaceFeature }) {
    await this.#change({
      type: 'face_added',
      faceId: face.faceId,
      personId: face.personId,
      model: face.feature.model,
      vector: embeddingBytes(face.feature.vector).toString('base64'),
    })
  }

  /** One face deleted (and committed); the person's other faces stay. */
  async faceRemoved(faceId: number) {
    await this.#change({ type: 'face_removed', faceId })
  }

  /** A person deleted (and committed), with all their faces. */
  async personRemoved(personId: number) {
    await this.#change({ type: 'person_removed', personId })
  }

  /**
   * Drops what is loaded; the next search reads the database again. Tests
   * call it when their transaction, and the faces in it, are rolled back.
   */
  async forget() {
    this.#loaded = null
    this.#retired = null
    await this.#serial(async () => {
      this.#model = null
      this.#install(0, new Float32Array(0), new Int32Array(0), new Int32Array(0))
    })
  }

  status() {
    return {
      model: this.#model,
      faces: this.#rows,
      templates: this.#currentTemplates().rows,
      revision: this.#revision,
      loads: this.#loads,
    }
  }

  async close() {
    this.#stopWatching?.()
    this.#stopWatching = null
    if (!this.#subscribed) return
    this.#subscribed = null
    try {
      await redis.connection().unsubscribe(GalleryIndex.channel, this.#onMessage)
    } catch (error) {
      logger.debug({ err: error }, 'gallery changes: unsubscribed while Redis is away')
    }
  }

  async #change(change: GalleryChange) {
    await this.#serial(async () => this.#apply(change))
    try {
      const revision = Number(await this.#announce(change))
      // Applied already: its announcement must not apply it again over a later change made here.
      await this.#serial(async () => {
        if (revision === this.#revision + 1) this.#revision = revision
      })
      if (this.#owesResync) await this.#announceResync()
    } catch (error) {
      logger.warn(
        { err: error, change: change.type },
        'gallery change not announced; every process loads again once Redis is back'
      )
      this.#oweResync()
    }
  }

  #announce(change: Announcement['change']) {
    return redis.eval(
      announceScript,
      1,
      GalleryIndex.revisionKey,
      GalleryIndex.channel,
      JSON.stringify(change)
    )
  }

  /** Asks every process to load again as soon as the connection to Redis is back. */
  #oweResync() {
    if (this.#owesResync) return
    this.#owesResync = true
    const connection = redis.connection()
    const stop = connection.on('ready', () => {
      stop()
      this.#announceResync().catch((error) => {
        logger.warn({ err: error }, 'gallery resync not announced; retried with the next change')
      })
    })
  }

  async #announceResync() {
    await this.#announce({ type: 'resync' })
    this.#owesResync = false
  }

  async #ready(model: string, dimension: number) {
    this.#subscribed ??= this.#subscribe()
    await this.#subscribed
    let loaded = this.#loaded
    if (!loaded || loaded.model !== model || loaded.dimension !== dimension) {
      const done = this.#serial(() => this.#load(model, dimension))
      const loading = { model, dimension, done }
      loaded = this.#loaded = loading
      done.catch(() => {
        if (this.#loaded === loading) this.#loaded = null
      })
    }
    await loaded.done
    await this.#checkRevision()
  }

  /**
   * Subscribes before the first load reads the revision, so that no change
   * falls between the two; resolves on failure too, since then every
   * search finds the gap through the revision check instead, and the next
   * search subscribes again. A subscription cut by an outage is renewed by
   * the connection when Redis is back; what was announced meanwhile is
   * found by comparing revisions at the next search.
   */
  #subscribe() {
    const connection = redis.connection()
    this.#stopWatching ??= connection.on('subscriber:ready', () => {
      this.#unsure = true
    })
    return new Promise<void>((resolve) => {
      connection.subscribe(GalleryIndex.channel, this.#onMessage, {
        onSubscription: () => resolve(),
        onError: (error) => {
          if (!isRedisUnavailable(error)) {
            logger.warn({ err: error }, 'gallery changes unavailable; searches reload on a gap')
          }
          this.#subscribed = null
          this.#unsure = true
          resolve()
        },
      })
    })
  }

  #onMessage = (message: string) => {
    const announcement = parseAnnouncement(message)
    if (!announcement) return
    if (announcement.change.type === 'model_switched') ModelInForce.forget()
    void this.#serial(() => this.#receive(announcement)).catch((error) => {
      logger.error({ err: error }, 'gallery change not applied')
    })
  }

  async #receive({ revision, change }: Announcement) {
    if (this.#model === null || revision <= this.#revision) return
    if (revision > this.#revision + 1 || change.type === 'resync') {
      await this.#load(this.#model, this.#dimension)
      return
    }
    this.#apply(change)
    this.#revision = revision
  }

  /**
   * Behind Redis for longer than a message takes (a missed announcement),
   * or ahead of it (Redis lost its data), or different from it after the
   * subscription was cut: load again. Without Redis, searches go on with
   * what is loaded.
   */
  async #checkRevision() {
    const now = Date.now()
    const model = this.#model
    if (model === null) return
    if (!this.#unsure && now - this.#checkedAt < GalleryIndex.checkIntervalMs) return
    let remote: number
    try {
      remote = await this.#remoteRevision()
    } catch (error) {
      logger.debug({ err: error }, 'gallery revision unknown while Redis is away')
      return
    }
    this.#checkedAt = now
    const cut = this.#unsure && remote !== this.#revision
    this.#unsure = false
    const stillBehind = this.#behindAt !== null && this.#revision < this.#behindAt
    if (cut || remote < this.#revision || stillBehind) {
      const dimension = this.#dimension
      await this.#serial(() => this.#load(model, dimension))
      return
    }
    this.#behindAt = remote > this.#revision ? remote : null
  }

  async #remoteRevision() {
    return Number((await redis.get(GalleryIndex.revisionKey)) ?? 0)
  }

  /**
   * Reads the revision first: a change committed while the rows are read is
   * announced with a later revision and applied afterwards, which is
   * harmless if the rows already held it. Without Redis the rows are loaded
   * all the same, and compared with Redis's revision once it is back.
   */
  async #load(model: string, dimension: number) {
    let revision: number | null = null
    try {
      revision = await this.#remoteRevision()
    } catch (error) {
      logger.debug({ err: error }, 'gallery loaded while Redis is away')
    }
    const rows: { id: number; person_id: number; embedding: Buffer }[] = await db
      .from('faces')
      .select('id', 'person_id', 'embedding')
      .where('model_id', model)
      .where('dimension', dimension)
      .orderBy('id')
    const capacity = Math.max(initialCapacity, Math.ceil(rows.length * loadHeadroom))
    const vectors = new Float32Array(capacity * dimension)
    const faceIds = new Int32Array(capacity)
    const personIds = new Int32Array(capacity)
    rows.forEach((row, index) => {
      const embedding = row.embedding
      for (let i = 0; i < dimension; i++) {
        vectors[index * dimension + i] = embedding.readFloatLE(i * 4)
      }
      faceIds[index] = row.id
      personIds[index] = row.person_id
    })
    this.#model = model
    this.#dimension = dimension
    this.#install(rows.length, vectors, faceIds, personIds)
    this.#revision = revision ?? this.#revision
    this.#unsure = revision === null
    this.#behindAt = null
    this.#checkedAt = Date.now()
    this.#loads++
  }

  /** Keeps the faces of the model in force until now aside, and loads afresh on the next search. */
  #retire() {
    this.#retired = {
      model: this.#model!,
      dimension: this.#dimension,
      rows: this.#rows,
      vectors: this.#vectors,
      faceIds: this.#faceIds,
      personIds: this.#personIds,
      until: Date.now() + retiredForMs,
    }
    this.#loaded = null
    this.#model = null
    this.#install(0, new Float32Array(0), new Int32Array(0), new Int32Array(0))
  }

  #install(rows: number, vectors: Float32Array, faceIds: Int32Array, personIds: Int32Array) {
    this.#rows = rows
    this.#vectors = vectors
    this.#faceIds = faceIds
    this.#personIds = personIds
    this.#rowOfFace = new Map()
    this.#sums = new Map()
    this.#templates = null
    for (let row = 0; row < rows; row++) {
      this.#rowOfFace.set(faceIds[row], row)
      this.#fold(row, 1)
    }
  }

  /** Adds (1) or takes away (-1) one row's face from its person's template. */
  #fold(row: number, sign: 1 | -1) {
    const personId = this.#personIds[row]
    let entry = this.#sums.get(personId)
    if (!entry) {
      entry = { sum: new Float64Array(this.#dimension), count: 0 }
      this.#sums.set(personId, entry)
    }
    const start = row * this.#dimension
    for (let i = 0; i < this.#dimension; i++) entry.sum[i] += sign * this.#vectors[start + i]
    entry.count += sign
    if (entry.count <= 0) this.#sums.delete(personId)
    this.#templates = null
  }

  /** Changes are idempotent: a process applies its own twice, once at once and once announced. */
  #apply(change: GalleryChange) {
    if (this.#model === null) return
    if (change.type === 'model_switched') {
      if (this.#model !== change.model) this.#retire()
      return
    }
    if (change.type === 'person_removed') {
      this.#sums.delete(change.personId)
      this.#templates = null
      for (let row = this.#rows - 1; row >= 0; row--) {
        if (this.#personIds[row] === change.personId) this.#removeRow(row)
      }
      return
    }
    if (change.type === 'face_removed') {
      const row = this.#rowOfFace.get(change.faceId)
      if (row !== undefined) {
        this.#fold(row, -1)
        this.#removeRow(row)
      }
      return
    }
    const bytes = Buffer.from(change.vector, 'base64')
    if (change.model !== this.#model || bytes.length !== this.#dimension * 4) return
    const known = this.#rowOfFace.get(change.faceId)
    if (known !== undefined) this.#fold(known, -1)
    const row = known ?? this.#appendRow()
    for (let i = 0; i < this.#dimension; i++) {
      this.#vectors[row * this.#dimension + i] = bytes.readFloatLE(i * 4)
    }
    this.#faceIds[row] = change.faceId
    this.#personIds[row] = change.personId
    this.#rowOfFace.set(change.faceId, row)
    this.#fold(row, 1)
  }

  #appendRow() {
    if (this.#rows === this.#faceIds.length) {
      const capacity = Math.max(initialCapacity, this.#faceIds.length * 2)
      const vectors = new Float32Array(capacity * this.#dimension)
      vectors.set(this.#vectors)
      const faceIds = new Int32Array(capacity)
      faceIds.set(this.#faceIds)
      const personIds = new Int32Array(capacity)
      personIds.set(this.#personIds)
      this.#vectors = vectors
      this.#faceIds = faceIds
      this.#personIds = personIds
    }
    return this.#rows++
  }

  /** The last row moves into the gap, so rows stay contiguous. */
  #removeRow(row: number) {
    const last = this.#rows - 1
    this.#rowOfFace.delete(this.#faceIds[row])
    if (row !== last) {
      const d = this.#dimension
      this.#vectors.copyWithin(row * d, last * d, last * d + d)
      this.#faceIds[row] = this.#faceIds[last]
      this.#personIds[row] = this.#personIds[last]
      this.#rowOfFace.set(this.#faceIds[row], row)
    }
    this.#rows = last
  }

  #serial<T>(step: () => Promise<T>): Promise<T> {
    const run = this.#work.then(step)
    this.#work = run.catch(() => {})
    return run
  }
}

/**
 * The rows with the largest dot products (cosine similarity: the vectors
 * are unit-length), best first; `best` stays sorted and at most `limit` long.
 */
function nearestRows(
  matrix: Pick<Matrix, 'dimension' | 'rows' | 'vectors'>,
  probe: Float32Array,
  limit: number
) {
  const { dimension, vectors } = matrix
  const best: { row: number; similarity: number }[] = []
  let floor = -Infinity
  for (let row = 0; row < matrix.rows; row++) {
    const start = row * dimension
    let dot = 0
    for (let i = 0; i < dimension; i++) dot += vectors[start + i] * probe[i]
    if (dot <= floor) continue
    let at = best.length
    while (at > 0 && best[at - 1].similarity < dot) at--
    best.splice(at, 0, { row, similarity: dot })
    if (best.length > limit) best.pop()
    if (best.length === limit) floor = best[limit - 1].similarity
  }
  return best
}

function parseAnnouncement(message: string): Announcement | null {
  try {
    const value = JSON.parse(message) as Partial<Announcement>
    const change = value.change as Partial<Announcement['change']> | undefined
    if (!Number.isSafeInteger(value.revision) || !change) return null
    if (change.type === 'resync') return value as Announcement
    if (change.type === 'model_switched' && typeof change.model === 'string') {
      return value as Announcement
    }
    if (change.type === 'person_removed' && Number.isSafeInteger(change.personId)) {
      return value as Announcement
    }
    if (change.type === 'face_removed' && Number.isSafeInteger(change.faceId)) {
      return value as Announcement
    }
    if (
      change.type === 'face_added' &&
      Number.isSafeInteger(change.faceId) &&
      Number.isSafeInteger(change.personId) &&
      typeof change.model === 'string' &&
      typeof change.vector === 'string'
    ) {
      return value as Announcement
    }
    return null
  } catch {
    return null
  }
}
