import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { test } from '@japa/runner'
import ort from 'onnxruntime-node'
import { readOnnxFile } from '#tools/model_builder/onnx_file'
import { readModelsManifest } from '#plugins/face_engine/model_manifest'
import { ModelSessions } from '#plugins/face_engine/model_sessions'

const packageModels = 'node_modules/faceplugin-face-recognition-js/model'

/*
 * Models a package ships as ONNX files are copied as they are, and the
 * engine feeds its NHWC crops to an NCHW model plane by plane.
 */
test.group('Model builder / shipped ONNX files', () => {
  test('a shipped file is taken byte for byte, its tensors read from the graph', async ({
    assert,
  }) => {
    const path = join(packageModels, 'fr_feature.onnx')
    const model = await readOnnxFile(path)
    assert.deepEqual(model.toBytes(), new Uint8Array(await readFile(path)))
    assert.deepEqual(model.inputs, [{ name: 'input', shape: [1, 3, 112, 112], type: 'float32' }])
    assert.deepEqual(model.outputs, [{ name: 'output', shape: [1, 512], type: 'float32' }])
  })

  test('weights an exporter listed among the graph inputs are not inputs', async ({ assert }) => {
    const model = await readOnnxFile(join(packageModels, 'fr_age.onnx'))
    assert.deepEqual(
      model.inputs.map((input) => input.name),
      ['input']
    )
  })

  test('an NCHW model sees the NHWC crop turned planar', async ({ assert }) => {
    const manifest = await readModelsManifest('models')
    const entry = manifest.models['faceplugin-arcface']
    assert.equal(entry.preprocessing.layout, 'NCHW')
    const sessions = await ModelSessions.load('models', { 'faceplugin-arcface': entry }, 1)
    const side = 112 * 112
    const interleaved = Float32Array.from({ length: side * 3 }, (_, i) => Math.sin(i * 0.37))
    const planes = new Float32Array(side * 3)
    for (let pixel = 0; pixel < side; pixel++) {
      for (let channel = 0; channel < 3; channel++) {
        planes[channel * side + pixel] = interleaved[pixel * 3 + channel]
      }
    }
    const reference = await ort.InferenceSession.create(join('models', entry.file))
    const expected = await reference.run({
      input: new ort.Tensor('float32', planes, [1, 3, 112, 112]),
    })
    const { output } = await sessions.run('faceplugin-arcface', interleaved)
    assert.deepEqual([...output], [...(expected.output.data as Float32Array)])
  })
})
