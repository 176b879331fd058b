import { inject } from '@adonisjs/core'
import app from '@adonisjs/core/services/app'
import { PluginHost } from '#plugin-host/plugin_host'
import type { SupervisedInstance } from '#plugin-host/supervised_instance'
import {
  PluginCommandError,
  PluginError,
  type DecodedImage,
  type EngineDriver,
  type EngineOutcome,
  type FaceAnalysisRequest,
  type FaceBox,
} from '#plugin-sdk'
import { FeatureComparator } from '#faces/feature_blob'
import { ModelInForce } from '#faces/model_in_force'
import { withDecodedPhoto } from '#faces/photo_decoding'

export { matchThreshold } from '#faces/open_set_identification'

/**
 * A score as answers carry it: four decimals, rounded down so that a score
 * just under the threshold never reads as a match; the 1e-9 keeps floating-
 * point noise from turning a score of exactly 1 into 0.9999.
 */
export function answeredScore(score: number) {
  return Math.floor(score * 10_000 + 1e-9) / 10_000
}

export type RecognitionFailure =
  { type: 'engine_unavailable'; message: string } | { type: 'no_face'; message: string }

export type RecognitionResult<Result> =
  ({ ok: true } & Result) | { ok: false; error: RecognitionFailure }

let comparator: Promise<FeatureComparator> | undefined

const unavailable = (message: string) =>
  ({ ok: false, error: { type: 'engine_unavailable', message } }) as const

/**
 * The recognition engine as the terminal endpoints, regFace and faceIdentify
 * use it: the first running engine instance in the plugins file's order,
 * code 3 while there is none, and pictures decoded once per request so that
 * every engine call of that request works on the same pixels.
 */
@inject()
export class RecognitionEngine {
  constructor(private plugins: PluginHost) {}

  /**
   * Decodes an upload for the engine and hands it to `work`; its pixels
   * count against the decode budget until `work` settles. Without a
   * running engine nothing is decoded: the answer is 3 whatever the
   * picture.
   */
  async withPicture<Result>(
    bytes: Uint8Array,
    field: string,
    work: (opened: { picture: EnginePicture; format: string }) => Promise<Result>
  ) {
    const engine = this.#running()
    if (!engine.ok) return engine
    return withDecodedPhoto(bytes, field, (decoded) =>
      work({
        picture: new EnginePicture(engine.instance, decoded.image, field),
        format: decoded.format,
      })
    )
  }

  /** A picture the caller decoded itself (regFace checks it before enrolling). */
  picture(image: DecodedImage, field: string) {
    const engine = this.#running()
    if (!engine.ok) return engine
    return { ok: true as const, picture: new EnginePicture(engine.instance, image, field) }
  }

  /**
   * The score calibrations of `models/manifest.json`, read once per process.
   * Comparing needs no engine call, but answers only while an engine runs,
   * as the protocol's recognition endpoints all do; a server whose models
   * were never built has no calibrations and answers 3 as well.
   */
  async comparator() {
    const engine = this.#running()
    if (!engine.ok) return engine
    comparator ??= FeatureComparator.fromManifest(app.makePath('models/manifest.json'))
    try {
      return { ok: true as const, comparator: await comparator }
    } catch {
      comparator = undefined
      return unavailable('models/manifest.json cannot be read; run "node ace models:build"')
    }
  }

  /** The model the running engine embeds with by default (its configuration), if one runs. */
  async configuredModel() {
    const engine = this.#running()
    if (!engine.ok) return null
    try {
      return (await engine.instance.use(async (driver) => driver.embedder)) ?? null
    } catch {
      return null
    }
  }

  /**
   * Starts this process's engine when nothing started it (a job worker,
   * a command), without the gates and readers the server drives, and
   * waits for it to run.
   */
  async started(waitMs = 120_000) {
    if (this.plugins.instancesOfKind('engine').some((engine) => engine.state === 'running')) {
      return true
    }
    await this.plugins.startKind('engine')
    for (let waited = 0; waited < waitMs; waited += 250) {
      if (this.plugins.instancesOfKind('engine').some((engine) => engine.state === 'running')) {
        return true
      }
      await new Promise((resolve) => setTimeout(resolve, 250))
    }
    return false
  }

  /**
   * The first running engine instance, else the first restarting one that
   * is due back soon enough for a call to wait for it (`restartWaitMs` in
   * config/plugins.ts), so that a restart costs terminals a delay and not
   * an answer.
   */
  #running() {
    const engines = this.plugins.instancesOfKind('engine')
    const instance =
      engines.find((candidate) => candidate.state === 'running') ??
      engines.find((candidate) => candidate.available)
    if (instance) return { ok: true as const, instance }
    return unavailable(
      'no recognition engine is running on this server; Settings lists the configured plugins'
    )
  }
}

/**
 * One decoded picture bound to the engine instance that serves the
 * request. Each operation answers a value: the face found, or why not.
 */
export class EnginePicture {
  constructor(
    private engine: SupervisedInstance<'engine'>,
    readonly image: DecodedImage,
    private field: string
  ) {}

  /** The engine instance's id, stored with the faces it enrols. */
  get engineId() {
    return this.engine.id
  }

  detect() {
    return this.#call('detect', (driver) => driver.detect?.({ image: this.image }))
  }

  /** The feature of the face, in the gallery's model in force unless `embedder` says another. */
  embed(face?: FaceBox, embedder?: string) {
    return this.#call('embed', async (driver) =>
      driver.embed?.({ image: this.image, face }, embedder ?? (await this.#inForce(driver)))
    )
  }

  age(face?: FaceBox) {
    return this.#call('age', (driver) => driver.age?.({ image: this.image, face }))
  }

  gender(face?: FaceBox) {
    return this.#call('gender', (driver) => driver.gender?.({ image: this.image, face }))
  }

  analyse(request: FaceAnalysisRequest, face?: FaceBox) {
    return this.#call('analyse', async (driver) => {
      const embedder = request.feature
        ? (request.embedder ?? (await this.#inForce(driver)))
        : undefined
      return driver.analyse?.({ image: this.image, face }, { ...request, embedder })
    })
  }

  /**
   * Features compared with the stored faces must be of their model, which
   * the engine may have to load besides its configured one.
   */
  #inForce(driver: EngineDriver) {
    return driver.embedder ? new ModelInForce().current(driver.embedder) : undefined
  }

  /**
   * The call waits for an engine that is restarting (SupervisedInstance.use).
   * An engine that is still not running after that wait, or that fails this
   * call (the call timed out, or the engine gave up on the picture) is as
   * absent as none: code 3, which a terminal retries. A refused command or
   * anything else thrown is a failure of the server (9007).
   */
  async #call<Result>(
    operation: string,
    call: (driver: EngineDriver) => Promise<EngineOutcome<Result> | undefined> | undefined
  ): Promise<RecognitionResult<Result>> {
    let outcome: EngineOutcome<Result> | undefined
    try {
      outcome = await this.engine.use(async (driver) => call(driver))
    } catch (error) {
      if (error instanceof PluginError && !(error instanceof PluginCommandError)) {
        return unavailable(error.message)
      }
      throw error
    }
    if (outcome === undefined) {
      return unavailable(`the running engine "${this.engine.id}" does not offer ${operation}`)
    }
    if (!outcome.ok) {
      return { ok: false, error: { type: 'no_face', message: `${this.field} shows no face` } }
    }
    return outcome
  }
}
