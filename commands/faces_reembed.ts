import { inject } from '@adonisjs/core'
import { BaseCommand } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { PluginHost } from '#plugin-host/plugin_host'
import { commandLineActor } from '#services/audit_trail'
import { FaceReembedding } from '#faces/face_reembedding'

/**
 * Re-embeds every face with the engine's current model, from the stored
 * enrolment photos: run it after changing the recognition model (or
 * upgrading to a release whose default model changed). It starts the
 * engine in this process; the server may keep running meanwhile.
 */
export default class FacesReembed extends BaseCommand {
  static commandName = 'faces:reembed'
  static description = "Bring every enrolled face to the recognition engine's current model"
  static options: CommandOptions = { startApp: true }

  @inject()
  async run(host: PluginHost, reembedding: FaceReembedding) {
    await host.start()
    try {
      const engine = host.instancesOfKind('engine')[0]
      for (
        let waited = 0;
        engine && engine.state !== 'running' && waited < 120_000;
        waited += 250
      ) {
        await new Promise((resolve) => setTimeout(resolve, 250))
      }
      if (!engine || engine.state !== 'running') {
        this.logger.error(
          'No recognition engine is running; check config/plugins.json and `node ace models:build`'
        )
        this.exitCode = 1
        return
      }
      let shown = 0
      const report = await reembedding.run(commandLineActor(), (done, total) => {
        if (done === total || Date.now() - shown > 5_000) {
          shown = Date.now()
          this.logger.info(`${done} of ${total} faces`)
        }
      })
      this.logger.success(
        `${report.reembedded} faces re-embedded with ${report.model ?? 'the engine'}, ${report.current} already were`
      )
      if (report.withoutPhoto > 0) {
        this.logger.warning(
          `${report.withoutPhoto} faces have no stored photo: enrol their people again`
        )
      }
      for (const failure of report.failed) {
        this.logger.warning(`face ${failure.faceId}: ${failure.reason}`)
      }
      if (report.failed.length > 0) this.exitCode = 1
    } finally {
      await host.stop()
    }
  }
}
