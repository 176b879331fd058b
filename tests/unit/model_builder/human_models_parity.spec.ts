import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import * as tf from '@tensorflow/tfjs'
import type { ModelId } from '#tools/model_builder/model_catalog'
import type { ModelsManifest } from '#tools/model_builder/models_builder'
import {
  builtModels,
  compare,
  faces,
  modelInput,
  PARITY,
  runOnnx,
  session,
  useTfjsCpu,
} from '#tests/unit/model_builder/parity_helpers'

/**
 * Each ONNX output and the TF nodes human reads it from; BlazeFace's two
 * anchor grids are joined as human's getBoxes joins them (16×16×2 first).
 */
const references: Partial<Record<ModelId, Record<string, string[]>>> = {
  'blazeface': { regressors: ['Identity_2', 'Identity_3'], logits: ['Identity', 'Identity_1'] },
  'facemesh': { mesh: ['Identity_2'], faceFlag: ['Identity_1'] },
  'faceres': {
    descriptor: ['global_pooling/Mean'],
    gender: ['gender_pred/Sigmoid'],
    age: ['age_pred/Softmax'],
  },
  'antispoof': { real: ['Identity'] },
  'liveness': { live: ['Identity'] },
  'faceres-deep': {
    descriptor: ['global_pooling/Mean'],
    gender: ['gender_pred/Sigmoid'],
    age: ['age_pred/Softmax'],
  },
  'mobileface': { descriptor: ['batchnorm0/add_1'] },
  'gear': { age: ['Identity'], gender: ['Identity_1'] },
  'ssrnet-age': { age: ['Identity'] },
  'ssrnet-gender': { gender: ['Identity'] },
}

/** A tfjs IOHandler reading model.json and its weight shards from disk. */
function fileHandler(modelJsonPath: string): tf.io.IOHandler {
  return {
    async load() {
      const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as tf.io.ModelJSON
      const shards = await Promise.all(
        json.weightsManifest
          .flatMap((group) => group.paths)
          .map((path) => readFile(join(dirname(modelJsonPath), path)))
      )
      const data = Buffer.concat(shards)
      return {
        modelTopology: json.modelTopology,
        format: json.format,
        generatedBy: json.generatedBy,
        convertedBy: json.convertedBy,
        signature: json.signature,
        userDefinedMetadata: json.userDefinedMetadata,
        weightSpecs: json.weightsManifest.flatMap((group) => group.weights),
        weightData: data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
      }
    },
  }
}

test.group('Model builder / human models match tfjs', (group) => {
  let manifest: ModelsManifest

  group.setup(async () => {
    await useTfjsCpu()
    manifest = await builtModels()
  })

  for (const [id, outputs] of Object.entries(references) as [ModelId, Record<string, string[]>][]) {
    test(`${id} gives tfjs' outputs on real faces`, async ({ assert }) => {
      const entry = manifest.models[id]!
      assert.deepEqual(
        entry.outputs.map((output) => output.name),
        Object.keys(outputs)
      )
      const onnx = await session(manifest, id)
      const modelJson = app.makePath(
        'node_modules',
        entry.source.package,
        entry.source.files[0].path
      )
      const reference = await tf.loadGraphModel(fileHandler(modelJson))

      for (const face of faces) {
        const input = await modelInput(manifest, id, face, id === 'blazeface')
        const actual = await runOnnx(onnx, input)
        const expected = tf.tidy(() => {
          const x = tf.tensor(input.values, input.shape)
          return Object.fromEntries(
            Object.entries(outputs).map(([name, nodes]) => {
              const results = [reference.execute(x, nodes)].flat()
              const joined = results.length > 1 ? tf.concat(results, 1) : results[0]
              return [name, { values: joined.dataSync() as Float32Array, shape: joined.shape }]
            })
          )
        })

        for (const [name, { values, shape }] of Object.entries(expected)) {
          const output = entry.outputs.find((spec) => spec.name === name)!
          assert.deepEqual(actual[name].shape, shape, `${id}.${name} shape on ${face.file}`)
          assert.deepEqual(output.shape, shape, `${id}.${name} manifest shape`)
          if (values.length === 1) {
            /* A single regressed value (SSR-Net's gender is often exactly 0): no angle to compare. */
            const tolerance = PARITY.relativeError * Math.max(1, Math.abs(values[0]))
            assert.closeTo(
              actual[name].values[0],
              values[0],
              tolerance,
              `${id}.${name} on ${face.file}`
            )
            continue
          }
          const { cosine, relativeError } = compare(actual[name].values, values)
          assert.isAtLeast(cosine, PARITY.cosine, `${id}.${name} cosine on ${face.file}`)
          assert.isAtMost(
            relativeError,
            PARITY.relativeError,
            `${id}.${name} error on ${face.file}`
          )
        }
      }
      reference.dispose()
      await onnx.release()
    }).timeout(120_000)
  }

  test('blazeface finds the face in each photo with the manifest decoding', async ({ assert }) => {
    const entry = manifest.models.blazeface!
    const decoding = entry.decoding as {
      inputSize: number
      anchors: { strides: number[]; perCell: number[]; count: number }
    }
    const anchors: [number, number][] = []
    decoding.anchors.strides.forEach((stride, level) => {
      const cells = decoding.inputSize / stride
      for (let row = 0; row < cells; row++) {
        for (let column = 0; column < cells; column++) {
          for (let n = 0; n < decoding.anchors.perCell[level]; n++) {
            anchors.push([(column + 0.5) * stride, (row + 0.5) * stride])
          }
        }
      }
    })
    assert.lengthOf(anchors, decoding.anchors.count)

    const onnx = await session(manifest, 'blazeface')
    for (const face of faces) {
      const { regressors, logits } = await runOnnx(
        onnx,
        await modelInput(manifest, 'blazeface', face, true)
      )
      let best = 0
      for (let i = 1; i < anchors.length; i++) if (logits.values[i] > logits.values[best]) best = i
      const score = 1 / (1 + Math.exp(-logits.values[best]))
      const box = regressors.values.subarray(best * 16, best * 16 + 16)
      const rightEyeX = box[4] + anchors[best][0]
      const leftEyeX = box[6] + anchors[best][0]
      assert.isAbove(score, 0.8, face.file)
      assert.isAbove(box[2], 20, `${face.file} box width`)
      assert.isBelow(
        rightEyeX,
        leftEyeX,
        `${face.file}: the subject's right eye is on the image's left`
      )
    }
    await onnx.release()
  }).timeout(60_000)
})
