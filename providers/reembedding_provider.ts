import type { ApplicationService } from '@adonisjs/core/types'

/**
 * Queues the re-embedding of the stored faces when the web server's
 * engine starts with another recognition model than the faces are in (a
 * changed `embedder`, or a release whose default model changed). Every
 * server checks once, when its engine first runs; the job id names the
 * switch, so several servers queue one job. Registered for the web server
 * alone (adonisrc.ts): tests and tooling start it through the service.
 */
export default class ReembeddingProvider {
  #stop?: () => void

  constructor(protected app: ApplicationService) {}

  async ready() {
    const host = await this.app.container.make('plugins')
    const logger = await this.app.container.make('logger')
    const check = async () => {
      this.#stop?.()
      this.#stop = undefined
      const { RecognitionEngine } = await import('#faces/recognition_engine')
      const { FaceReembedding } = await import('#faces/face_reembedding')
      const engine = await this.app.container.make(RecognitionEngine)
      const configured = await engine.configuredModel()
      if (!configured) return
      const reembedding = await this.app.container.make(FaceReembedding)
      const queued = await reembedding.start(configured, {
        userId: null,
        label: 'server start',
        ip: null,
      })
      if (queued) {
        logger.info({ job: queued.jobId }, `re-embedding the faces for ${queued.target}`)
      }
    }
    const checkOnce = () => {
      check().catch((error) => logger.warn({ err: error }, 'the faces model was not checked'))
    }
    if (host.instancesOfKind('engine').some((engine) => engine.state === 'running')) {
      return checkOnce()
    }
    this.#stop = host.onTransition((transition) => {
      const engine = host.instance(transition.instanceId, 'engine')
      if (engine && transition.to === 'running') checkOnce()
    })
  }

  async shutdown() {
    this.#stop?.()
  }
}
