import { inject } from '@adonisjs/core'
import type { DecodedImage, DetectedFace, FaceFeature } from '#plugin-sdk'
import { PluginHost } from '#plugin-host/plugin_host'

export type Enrolment = {
  /** The engine instance that computed the feature, stored with the face. */
  engine: string
  face: DetectedFace
  feature: FaceFeature
  quality: number | null
}

export type EnrolmentOutcome =
  | ({ ok: true } & Enrolment)
  | { ok: false; error: { type: 'engine_unavailable'; message: string } | { type: 'no_face' } }

/**
 * Computes the feature of an enrolment photo for regFace: the largest face
 * in the picture, described by a running recognition engine. An
 * engine-backed implementation is bound in this class's place
 * (`app.container.bind(FaceEnroller, ...)`); this one is what a server
 * without one does, which regFace answers with code 3.
 */
@inject()
export class FaceEnroller {
  constructor(protected plugins: PluginHost) {}

  async enroll(_image: DecodedImage): Promise<EnrolmentOutcome> {
    const running = this.plugins
      .instancesOfKind('engine')
      .filter((instance) => instance.state === 'running')
      .map((instance) => instance.id)
    const message =
      running.length === 0
        ? 'no recognition engine is running on this server; Settings lists the configured plugins'
        : `enrolment through the running engine (${running.join(', ')}) is not installed on this server`
    return { ok: false, error: { type: 'engine_unavailable', message } }
  }
}
