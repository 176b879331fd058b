import { definePlugin, engineCapabilities, vine } from '#plugin-sdk'
import { ageGenderModels } from './age_gender.js'
import { embedderModels } from './embedder.js'
import { FaceEngineDriver } from './face_engine_driver.js'

export default definePlugin({
  id: 'face-engine',
  kind: 'engine',
  version: '1.0.0',
  description:
    'Face detection, alignment, recognition, age, gender, liveness and quality on ONNX Runtime.',
  capabilities: engineCapabilities,
  models: [
    'blazeface',
    'facemesh',
    'faceapi-recognition',
    'faceapi-age-gender',
    'faceres',
    'faceres-deep',
    'mobileface',
    'faceplugin-arcface',
    'gear',
    'ssrnet-age',
    'ssrnet-gender',
    'antispoof',
    'liveness',
  ],
  /**
   * Starting checks every model's checksum and loads it into each worker;
   * an exhaustive detection on a large group photo takes a few seconds
   * when both workers are busy.
   */
  timeouts: { startMs: 60_000, callMs: 30_000 },
  config: vine.object({
    engine: vine.enum(['onnx', 'simulated']).optional(),
    modelsDir: vine.string().trim().minLength(1).maxLength(4096).optional(),
    detector: vine.enum(['blazeface']).optional(),
    landmarks: vine.enum(['facemesh']).optional(),
    embedder: vine.enum(embedderModels).optional(),
    flipEmbedding: vine.boolean().optional(),
    ageGender: vine.enum(ageGenderModels).optional(),
    threadsPerSession: vine.number().withoutDecimals().range([1, 16]).optional(),
    poolSize: vine.number().withoutDecimals().range([1, 64]).optional(),
    jobTimeoutMs: vine.number().withoutDecimals().range([100, 120_000]).optional(),
    workerHeapMb: vine.number().withoutDecimals().range([64, 16_384]).optional(),
    workerRssMb: vine.number().withoutDecimals().range([0, 65_536]).optional(),
    minFaceSize: vine.number().range([8, 4096]).optional(),
    genderMargin: vine.number().range([0, 0.5]).optional(),
  }),
  create: (context) => new FaceEngineDriver(context),
})
