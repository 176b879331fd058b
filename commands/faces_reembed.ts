import { inject } from '@adonisjs/core'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { commandLineActor } from '#services/audit_trail'
import { FaceReembedding } from '#faces/face_reembedding'

/**
 * Shows where the re-embedding of the stored faces stands (the model in
 * force, the configured one, the job's progress and the faces to enrol
 * again) and, with --start, queues it: the server queues it by itself when
 * it starts with another model configured; this is for a site that wants
 * to start it again after fixing what made it fail.
 */
export default class FacesReembed extends BaseCommand {
  static commandName = 'faces:reembed'
  static description =
    'Show the re-embedding of the faces for a new recognition model, or queue it with --start'
  static options: CommandOptions = { startApp: true }

  @flags.boolean({ description: 'Queue the re-embedding to the configured model' })
  declare start?: boolean

  @flags.string({
    description: 'The model to bring the faces to (default: the one the server last started with)',
  })
  declare to?: string

  @inject()
  async run(reembedding: FaceReembedding) {
    let progress = await reembedding.progress()
    if (this.start) {
      const target = this.to ?? progress.configuredModel
      if (!target) {
        this.logger.error(
          'The server has not started an engine yet, so the configured model is unknown; name it with --to'
        )
        this.exitCode = 1
        return
      }
      const queued = await reembedding.start(target, commandLineActor())
      if (queued) this.logger.success(`Queued ${queued.jobId}: the faces go to ${target}`)
      else this.logger.info(`The faces are in ${target} already`)
      progress = await reembedding.progress()
    }
    this.logger.info(`Model in force: ${progress.modelInForce ?? 'none yet'}`)
    this.logger.info(`Configured model: ${progress.configuredModel ?? 'not known yet'}`)
    if (progress.targetModel) {
      this.logger.info(
        `Re-embedding to ${progress.targetModel} since ${progress.startedAt}: ${progress.done} of ${progress.total} faces, ${progress.failed} without a feature`
      )
    }
    if (progress.lastError) this.logger.error(`The last run failed: ${progress.lastError}`)
    const leftovers = await reembedding.toReenrol()
    if (leftovers.length > 0) {
      this.logger.warning(`${leftovers.length} faces to enrol again:`)
      for (const face of leftovers) {
        this.logger.warning(`  ${face.username} (face ${face.faceId}): ${face.reason}`)
      }
    }
  }
}
