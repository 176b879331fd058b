import { BaseCommand, flags } from '@adonisjs/core/ace'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import type { TensorSpec } from '#tools/model_builder/onnx_graph'
import { ModelsBuilder, type ModelBuildResult } from '#tools/model_builder/models_builder'

const describeTensors = (tensors: TensorSpec[]) =>
  tensors.map((tensor) => `${tensor.name} [${tensor.shape.join(',')}]`).join(', ')

/**
 * Converts the face models shipped in @vladmandic/human and
 * @vladmandic/face-api into ONNX files for onnxruntime, with a manifest the
 * recognition engine reads. Needs no database or Redis.
 */
export default class ModelsBuild extends BaseCommand {
  static commandName = 'models:build'
  static description =
    'Build models/*.onnx and models/manifest.json from the installed model packages'
  static help = [
    'Skips every model whose sources and output file are unchanged:',
    '  node ace models:build',
    '  node ace models:build --force',
  ]
  static options: CommandOptions = { startApp: false }

  @flags.boolean({
    description: 'Rebuild every model even when models/manifest.json is up to date',
  })
  declare force: boolean

  async run() {
    const started = performance.now()
    const builder = new ModelsBuilder({
      rootDir: this.app.makePath(),
      outDir: this.app.makePath('models'),
      calibrationFile: this.app.makePath('plugins', 'face_engine', 'calibration.json'),
    })
    const { results } = await builder.build({
      force: this.force,
      onModel: (result) => this.logger.info(this.#summary(result)),
    })
    const built = results.filter((result) => result.status === 'built').length
    this.logger.success(
      `${built} built, ${results.length - built} up to date, ${Math.round(performance.now() - started)} ms in all (models/manifest.json)`
    )
  }

  #summary({ id, status, milliseconds, entry }: ModelBuildResult) {
    const size = `${(entry.bytes / 1024 / 1024).toFixed(2)} MB`
    return [
      id.padEnd(20),
      status.padEnd(9),
      size.padStart(9),
      `${Math.round(milliseconds)} ms`.padStart(8),
      `  ${describeTensors(entry.inputs)} → ${describeTensors(entry.outputs)}`,
    ].join(' ')
  }
}
