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

/*
 * face-api's own bundles cannot run here (its Node build needs tfjs-node, its
 * ESM builds a browser or the WASM backend), so these are its forward
 * passes line for line (src/faceRecognitionNet, src/xception,
 * src/ageGenderNet) on @tensorflow/tfjs, with weights dequantised by tfjs.
 */
type WeightMap = tf.NamedTensorMap

async function loadWeights(manifestPath: string): Promise<WeightMap> {
  const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as tf.io.WeightsManifestConfig
  const shards = await Promise.all(
    groups
      .flatMap((group) => group.paths)
      .map((path) => readFile(join(dirname(manifestPath), path)))
  )
  const data = Buffer.concat(shards)
  return tf.io.decodeWeights(
    data.buffer.slice(data.byteOffset, data.byteOffset + data.byteLength),
    groups.flatMap((group) => group.weights)
  )
}

function normalize(x: tf.Tensor4D) {
  const meanRgb = [122.782, 117.001, 104.298].map((mean) =>
    tf.fill([...x.shape.slice(0, 3), 1] as never, mean)
  )
  return tf.sub(x, tf.concat(meanRgb, 3)).div(255) as tf.Tensor4D
}

function faceRecognitionNet(w: WeightMap, input: tf.Tensor4D) {
  const convLayer = (
    x: tf.Tensor4D,
    p: string,
    stride: 1 | 2,
    relu: boolean,
    padding: 'valid' | 'same' = 'same'
  ) => {
    let out = tf.add(
      tf.conv2d(x, w[`${p}/conv/filters`] as tf.Tensor4D, stride, padding),
      w[`${p}/conv/bias`]
    )
    out = tf.add(tf.mul(out, w[`${p}/scale/weights`]), w[`${p}/scale/biases`])
    return (relu ? tf.relu(out) : out) as tf.Tensor4D
  }
  const residual = (x: tf.Tensor4D, p: string) => {
    let out = convLayer(x, `${p}/conv1`, 1, true)
    out = convLayer(out, `${p}/conv2`, 1, false)
    return tf.relu(tf.add(out, x)) as tf.Tensor4D
  }
  const residualDown = (x: tf.Tensor4D, p: string) => {
    let out = convLayer(x, `${p}/conv1`, 2, true, 'valid')
    out = convLayer(out, `${p}/conv2`, 1, false)
    let pooled = tf.avgPool(x, 2, 2, 'valid') as tf.Tensor4D
    const zeros = tf.zeros<tf.Rank.R4>(pooled.shape)
    const isPad = pooled.shape[3] !== out.shape[3]
    if (pooled.shape[1] !== out.shape[1] || pooled.shape[2] !== out.shape[2]) {
      const padShapeX = [...out.shape] as [number, number, number, number]
      padShapeX[1] = 1
      out = tf.concat([out, tf.zeros<tf.Rank.R4>(padShapeX)], 1)
      const padShapeY = [...out.shape] as [number, number, number, number]
      padShapeY[2] = 1
      out = tf.concat([out, tf.zeros<tf.Rank.R4>(padShapeY)], 2)
    }
    pooled = isPad ? tf.concat([pooled, zeros], 3) : pooled
    return tf.relu(tf.add(pooled, out)) as tf.Tensor4D
  }

  let out = convLayer(normalize(input), 'conv32_down', 2, true, 'valid')
  out = tf.maxPool(out, 3, 2, 'valid')
  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) out = residual(out, block)
  out = residualDown(out, 'conv64_down')
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) out = residual(out, block)
  out = residualDown(out, 'conv128_down')
  for (const block of ['conv128_1', 'conv128_2']) out = residual(out, block)
  out = residualDown(out, 'conv256_down')
  for (const block of ['conv256_1', 'conv256_2']) out = residual(out, block)
  out = residualDown(out, 'conv256_down_out')
  return { descriptor: tf.matMul(out.mean([1, 2]) as tf.Tensor2D, w.fc as tf.Tensor2D) }
}

function ageGenderNet(w: WeightMap, input: tf.Tensor4D) {
  const conv = (x: tf.Tensor4D, p: string, stride: 1 | 2) =>
    tf.add(
      tf.conv2d(x, w[`${p}/filters`] as tf.Tensor4D, stride, 'same'),
      w[`${p}/bias`]
    ) as tf.Tensor4D
  const separable = (x: tf.Tensor4D, p: string) =>
    tf.add(
      tf.separableConv2d(
        x,
        w[`${p}/depthwise_filter`] as tf.Tensor4D,
        w[`${p}/pointwise_filter`] as tf.Tensor4D,
        1,
        'same'
      ),
      w[`${p}/bias`]
    ) as tf.Tensor4D
  const reductionBlock = (x: tf.Tensor4D, p: string, isActivateInput = true) => {
    let out = isActivateInput ? tf.relu(x) : x
    out = separable(out, `${p}/separable_conv0`)
    out = separable(tf.relu(out), `${p}/separable_conv1`)
    out = tf.maxPool(out, [3, 3], [2, 2], 'same')
    return tf.add(out, conv(x, `${p}/expansion_conv`, 2)) as tf.Tensor4D
  }
  const mainBlock = (x: tf.Tensor4D, p: string) => {
    let out = separable(tf.relu(x), `${p}/separable_conv0`)
    out = separable(tf.relu(out), `${p}/separable_conv1`)
    out = separable(tf.relu(out), `${p}/separable_conv2`)
    return tf.add(out, x) as tf.Tensor4D
  }

  let out = tf.relu(conv(normalize(input), 'entry_flow/conv_in', 2)) as tf.Tensor4D
  out = reductionBlock(out, 'entry_flow/reduction_block_0', false)
  out = reductionBlock(out, 'entry_flow/reduction_block_1')
  for (const block of [0, 1]) out = mainBlock(out, `middle_flow/main_block_${block}`)
  out = reductionBlock(out, 'exit_flow/reduction_block')
  out = tf.relu(separable(out, 'exit_flow/separable_conv'))
  const pooled = tf.avgPool(out, [7, 7], [2, 2], 'valid').as2D(out.shape[0], -1)
  const dense = (p: string) =>
    tf.add(tf.matMul(pooled, w[`${p}/weights`] as tf.Tensor2D), w[`${p}/bias`])
  return { age: dense('fc/age'), gender: tf.softmax(dense('fc/gender')) }
}

const nets: {
  id: ModelId
  weights: string
  forward: (w: WeightMap, x: tf.Tensor4D) => Record<string, tf.Tensor>
}[] = [
  { id: 'faceapi-recognition', weights: 'face_recognition_model', forward: faceRecognitionNet },
  { id: 'faceapi-age-gender', weights: 'age_gender_model', forward: ageGenderNet },
]

test.group('Model builder / face-api nets match their tfjs forward pass', (group) => {
  let manifest: ModelsManifest

  group.setup(async () => {
    await useTfjsCpu()
    manifest = await builtModels()
  })

  for (const net of nets) {
    test(`${net.id} gives face-api's outputs on real faces`, async ({ assert }) => {
      const entry = manifest.models[net.id]!
      const weights = await loadWeights(
        app.makePath(
          'node_modules',
          '@vladmandic/face-api',
          'model',
          `${net.weights}-weights_manifest.json`
        )
      )
      const onnx = await session(manifest, net.id)

      for (const face of faces) {
        const input = await modelInput(manifest, net.id, face)
        const actual = await runOnnx(onnx, input)
        const expected = tf.tidy(() => {
          const outputs = net.forward(weights, tf.tensor4d(input.values, input.shape as never))
          return Object.fromEntries(
            Object.entries(outputs).map(([name, tensor]) => [
              name,
              { values: tensor.dataSync() as Float32Array, shape: tensor.shape },
            ])
          )
        })

        assert.deepEqual(Object.keys(actual).sort(), Object.keys(expected).sort())
        for (const [name, { values, shape }] of Object.entries(expected)) {
          assert.deepEqual(actual[name].shape, shape, `${net.id}.${name} shape on ${face.file}`)
          assert.deepEqual(entry.outputs.find((spec) => spec.name === name)!.shape, shape)
          const { cosine, relativeError } = compare(actual[name].values, values)
          assert.isAtLeast(cosine, PARITY.cosine, `${net.id}.${name} cosine on ${face.file}`)
          assert.isAtMost(
            relativeError,
            PARITY.relativeError,
            `${net.id}.${name} error on ${face.file}`
          )
        }
      }
      tf.dispose(Object.values(weights))
      await onnx.release()
    }).timeout(120_000)
  }

  test('face-api descriptors match a mirrored face and tell people apart', async ({ assert }) => {
    const onnx = await session(manifest, 'faceapi-recognition')
    const describe = async (values: Float32Array, shape: number[]) => {
      const { descriptor } = await runOnnx(onnx, { values, shape })
      return descriptor.values
    }
    const distance = (a: Float32Array, b: Float32Array) =>
      Math.hypot(...a.map((value, i) => value - b[i]))

    const descriptors = []
    for (const face of faces) {
      const { values, shape } = await modelInput(manifest, 'faceapi-recognition', face)
      const [, height, width] = shape
      const mirrored = new Float32Array(values.length)
      for (let y = 0; y < height; y++) {
        for (let x = 0; x < width; x++) {
          const from = (y * width + x) * 3
          mirrored.set(values.subarray(from, from + 3), (y * width + width - 1 - x) * 3)
        }
      }
      const descriptor = await describe(values, shape)
      assert.isBelow(distance(descriptor, await describe(mirrored, shape)), 0.6, face.file)
      descriptors.push(descriptor)
    }
    for (let a = 0; a < descriptors.length; a++) {
      for (let b = a + 1; b < descriptors.length; b++) {
        const label = `${faces[a].file} vs ${faces[b].file}`
        assert.isAbove(distance(descriptors[a], descriptors[b]), 0.6, label)
      }
    }
    await onnx.release()
  }).timeout(60_000)
})
