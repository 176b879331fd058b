import { test } from '@japa/runner'
import * as tf from '@tensorflow/tfjs'
import * as ort from 'onnxruntime-node'
import {
  convertTfjsGraphModel,
  windowPadding,
  type ConversionOptions,
  type TfjsGraphModel,
} from '#tools/model_builder/tfjs_graph_converter'
import { compare, useTfjsCpu } from '#tests/unit/model_builder/parity_helpers'

/*
 * Tiny TFJS graphs that exercise what an NHWC → NCHW conversion gets wrong
 * most easily, each run through tfjs and through onnxruntime.
 */

interface NodeSpec {
  name: string
  op: string
  input: string[]
  attr?: Record<string, unknown>
}

interface ConstSpec {
  name: string
  shape: number[]
  values?: number[]
  dtype?: 'float32' | 'int32'
}

const text = (value: string) => ({ s: Buffer.from(value).toString('base64') })
const ints = (values: number[]) => ({ list: { i: values.map(String) } })
const texts = (values: string[]) => ({
  list: { s: values.map((v) => Buffer.from(v).toString('base64')) },
})
const nhwc = (strides: number[], padding: string) => ({
  strides: ints([1, ...strides, 1]),
  padding: text(padding),
  data_format: text('NHWC'),
  dilations: ints([1, 1, 1, 1]),
})

/** Deterministic values in [-1, 1), so that failures reproduce. */
function noise(count: number, seed: number) {
  let state = seed
  return Array.from({ length: count }, () => {
    state = (state * 1103515245 + 12345) % 2 ** 31
    return (state / 2 ** 31) * 2 - 1
  })
}

function tinyModel(inputShape: number[], consts: ConstSpec[], nodes: NodeSpec[]): TfjsGraphModel {
  const placeholder = {
    name: 'input',
    op: 'Placeholder',
    attr: {
      dtype: { type: 'DT_FLOAT' },
      shape: { shape: { dim: inputShape.map((size) => ({ size: String(size) })) } },
    },
  }
  const constNodes = consts.map((spec) => ({
    name: spec.name,
    op: 'Const',
    attr: { dtype: { type: spec.dtype === 'int32' ? 'DT_INT32' : 'DT_FLOAT' } },
  }))
  const buffers = consts.map((spec, i) => {
    const count = spec.shape.reduce((a, b) => a * b, 1)
    const values = spec.values ?? noise(count, i + 1)
    const array = spec.dtype === 'int32' ? Int32Array.from(values) : Float32Array.from(values)
    return Buffer.from(array.buffer)
  })
  return {
    json: {
      format: 'graph-model',
      modelTopology: {
        node: [placeholder, ...constNodes, ...nodes] as never,
        versions: { producer: 440 },
      } as never,
      weightsManifest: [
        {
          paths: [],
          weights: consts.map((spec) => ({
            name: spec.name,
            shape: spec.shape,
            dtype: spec.dtype ?? 'float32',
          })),
        },
      ],
    },
    weights: new Uint8Array(Buffer.concat(buffers)),
  }
}

/**
 * Runs the graph in tfjs and, converted, in onnxruntime on the same input,
 * and returns how far apart each output is.
 */
async function runBoth(model: TfjsGraphModel, outputs: ConversionOptions['outputs']) {
  const graph = convertTfjsGraphModel(model, { name: 'tiny', inputName: 'image', outputs })
  const session = await ort.InferenceSession.create(graph.toBytes(), { intraOpNumThreads: 1 })
  const reference = await tf.loadGraphModel(
    tf.io.fromMemory({
      modelTopology: model.json.modelTopology,
      weightSpecs: model.json.weightsManifest.flatMap((group) => group.weights),
      weightData: model.weights.slice().buffer,
    })
  )
  const shape = graph.inputs[0].shape
  const input = Float32Array.from(
    noise(
      shape.reduce((a, b) => a * b, 1),
      99
    )
  )
  const actual = await session.run({ image: new ort.Tensor('float32', input, shape) })

  const results: Record<
    string,
    { shape: number[]; expectedShape: number[]; cosine: number; relativeError: number }
  > = {}
  for (const output of outputs) {
    const tensors = [reference.execute(tf.tensor(input, shape), output.from)].flat()
    const expected = tensors.length > 1 ? tf.concat(tensors, output.axis) : tensors[0]
    results[output.name] = {
      shape: [...actual[output.name].dims],
      expectedShape: expected.shape,
      ...compare(actual[output.name].data as Float32Array, expected.dataSync() as Float32Array),
    }
    tf.dispose([expected, ...tensors])
  }
  reference.dispose()
  await session.release()
  return results
}

function assertMatches(
  assert: { deepEqual: Function; isAtLeast: Function; isAtMost: Function },
  results: Awaited<ReturnType<typeof runBoth>>
) {
  for (const [name, result] of Object.entries(results)) {
    assert.deepEqual(result.shape, result.expectedShape, `${name} shape`)
    assert.isAtLeast(result.cosine, 0.999999, `${name} cosine`)
    assert.isAtMost(result.relativeError, 1e-5, `${name} error`)
  }
}

test.group('Model builder / TFJS graph converter', (group) => {
  group.setup(() => useTfjsCpu())

  test('SAME padding puts the odd pixel at the bottom and right, as TF does', ({ assert }) => {
    assert.deepEqual(windowPadding('SAME', 6, 3, 2), { out: 3, before: 0, after: 1 })
    assert.deepEqual(windowPadding('SAME', 5, 3, 2), { out: 3, before: 1, after: 1 })
    assert.deepEqual(windowPadding('SAME', 7, 4, 1), { out: 7, before: 1, after: 2 })
    assert.deepEqual(windowPadding('VALID', 7, 3, 2), { out: 3, before: 0, after: 0 })
  })

  test('strided SAME convolutions and pools on even and odd sizes', async ({ assert }) => {
    const model = tinyModel(
      [1, 6, 8, 3],
      [
        { name: 'w', shape: [3, 3, 3, 4] },
        { name: 'b', shape: [4] },
        { name: 'dw', shape: [3, 3, 4, 2] },
      ],
      [
        {
          name: 'conv',
          op: '_FusedConv2D',
          input: ['input', 'w', 'b'],
          attr: {
            ...nhwc([2, 2], 'SAME'),
            fused_ops: texts(['BiasAdd', 'Relu6']),
            num_args: { i: '1' },
          },
        },
        {
          name: 'depthwise',
          op: 'DepthwiseConv2dNative',
          input: ['conv', 'dw'],
          attr: nhwc([2, 2], 'SAME'),
        },
        {
          name: 'maxpool',
          op: 'MaxPool',
          input: ['input'],
          attr: {
            ksize: ints([1, 3, 3, 1]),
            strides: ints([1, 2, 2, 1]),
            padding: text('SAME'),
            data_format: text('NHWC'),
          },
        },
        {
          name: 'avgpool',
          op: 'AvgPool',
          input: ['input'],
          attr: {
            ksize: ints([1, 2, 3, 1]),
            strides: ints([1, 1, 2, 1]),
            padding: text('SAME'),
            data_format: text('NHWC'),
          },
        },
      ]
    )
    assertMatches(
      assert,
      await runBoth(model, [
        { name: 'conv', from: ['conv'] },
        { name: 'depthwise', from: ['depthwise'] },
        { name: 'maxpool', from: ['maxpool'] },
        { name: 'avgpool', from: ['avgpool'] },
      ])
    )
  })

  test('per-channel constants, padding and reductions follow the channel axis', async ({
    assert,
  }) => {
    const model = tinyModel(
      [1, 4, 5, 3],
      [
        { name: 'w', shape: [1, 1, 3, 6] },
        { name: 'bias', shape: [6] },
        { name: 'gain', shape: [1, 1, 6] },
        { name: 'alpha', shape: [1, 1, 6] },
        { name: 'paddings', shape: [4, 2], dtype: 'int32', values: [0, 0, 1, 0, 0, 2, 0, 2] },
        { name: 'hw', shape: [2], dtype: 'int32', values: [1, 2] },
        { name: 'channels', shape: [1], dtype: 'int32', values: [3] },
        { name: 'width', shape: [1], dtype: 'int32', values: [2] },
        { name: 'last', shape: [], dtype: 'int32', values: [-1] },
      ],
      [
        { name: 'conv', op: 'Conv2D', input: ['input', 'w'], attr: nhwc([1, 1], 'VALID') },
        { name: 'biased', op: 'AddV2', input: ['conv', 'bias'] },
        { name: 'scaled', op: 'Mul', input: ['gain', 'biased'] },
        { name: 'prelu', op: 'Prelu', input: ['scaled', 'alpha'] },
        { name: 'padded', op: 'Pad', input: ['prelu', 'paddings'] },
        { name: 'mean', op: 'Mean', input: ['padded', 'hw'], attr: { keep_dims: { b: false } } },
        { name: 'sum', op: 'Sum', input: ['padded', 'channels'], attr: { keep_dims: { b: true } } },
        {
          name: 'max_width',
          op: 'Max',
          input: ['padded', 'width'],
          attr: { keep_dims: { b: false } },
        },
        { name: 'pooled', op: 'Mean', input: ['padded', 'hw'], attr: { keep_dims: { b: true } } },
        {
          name: 'squeezed',
          op: 'Squeeze',
          input: ['pooled'],
          attr: { squeeze_dims: ints([1, 2]) },
        },
        {
          name: 'joined',
          op: 'ConcatV2',
          input: ['padded', 'padded', 'last'],
          attr: { N: { i: '2' } },
        },
        { name: 'softmax', op: 'Softmax', input: ['joined'] },
      ]
    )
    assertMatches(
      assert,
      await runBoth(model, [
        { name: 'padded', from: ['padded'] },
        { name: 'mean', from: ['mean'] },
        { name: 'sum', from: ['sum'] },
        { name: 'max_width', from: ['max_width'] },
        { name: 'squeezed', from: ['squeezed'] },
        { name: 'softmax', from: ['softmax'] },
      ])
    )
  })

  test('a flatten reads NHWC order before a dense layer', async ({ assert }) => {
    const model = tinyModel(
      [1, 3, 4, 2],
      [
        { name: 'w', shape: [3, 3, 2, 5] },
        { name: 'shape', shape: [2], dtype: 'int32', values: [-1, 60] },
        { name: 'dense', shape: [60, 7] },
        { name: 'dense_bias', shape: [7] },
        { name: 'one', shape: [], values: [1] },
      ],
      [
        { name: 'conv', op: 'Conv2D', input: ['input', 'w'], attr: nhwc([1, 1], 'SAME') },
        { name: 'square', op: 'Square', input: ['conv'] },
        { name: 'shifted', op: 'AddV2', input: ['square', 'one'] },
        { name: 'rsqrt', op: 'Rsqrt', input: ['shifted'] },
        { name: 'flat', op: 'Reshape', input: ['rsqrt', 'shape'] },
        {
          name: 'fc',
          op: '_FusedMatMul',
          input: ['flat', 'dense', 'dense_bias'],
          attr: {
            fused_ops: texts(['BiasAdd', 'Relu']),
            num_args: { i: '1' },
            transpose_a: { b: false },
            transpose_b: { b: false },
          },
        },
      ]
    )
    assertMatches(assert, await runBoth(model, [{ name: 'fc', from: ['fc'] }]))
  })

  test('outputs from several nodes are joined on a TF axis', async ({ assert }) => {
    const model = tinyModel(
      [1, 4, 4, 3],
      [
        { name: 'w1', shape: [1, 1, 3, 2] },
        { name: 'w2', shape: [1, 1, 3, 6] },
        { name: 'shape1', shape: [3], dtype: 'int32', values: [1, 32, 1] },
        { name: 'shape2', shape: [3], dtype: 'int32', values: [1, 96, 1] },
      ],
      [
        { name: 'a', op: 'Conv2D', input: ['input', 'w1'], attr: nhwc([1, 1], 'VALID') },
        { name: 'b', op: 'Conv2D', input: ['input', 'w2'], attr: nhwc([1, 1], 'VALID') },
        { name: 'a_flat', op: 'Reshape', input: ['a', 'shape1'] },
        { name: 'b_flat', op: 'Reshape', input: ['b', 'shape2'] },
      ]
    )
    const results = await runBoth(model, [{ name: 'joined', from: ['a_flat', 'b_flat'], axis: 1 }])
    assert.deepEqual(results.joined.shape, [1, 128, 1])
    assertMatches(assert, results)
  })

  test("SSR-Net's stage arithmetic: column slices, tanh, expand and divide across ranks", async ({
    assert,
  }) => {
    const slice = (name: string, from: string) => ({
      name,
      op: 'StridedSlice',
      input: [from, `${name}_begin`, `${name}_end`, 'strides'],
      attr: {
        begin_mask: { i: '1' },
        end_mask: { i: '1' },
        shrink_axis_mask: { i: '2' },
        ellipsis_mask: { i: '0' },
        new_axis_mask: { i: '0' },
      },
    })
    const bounds = (name: string, column: number): ConstSpec[] => [
      { name: `${name}_begin`, shape: [2], dtype: 'int32', values: [0, column] },
      { name: `${name}_end`, shape: [2], dtype: 'int32', values: [0, column + 1] },
    ]
    const model = tinyModel(
      [1, 2, 2, 3],
      [
        { name: 'axes', shape: [2], dtype: 'int32', values: [1, 2] },
        { name: 'strides', shape: [2], dtype: 'int32', values: [1, 1] },
        ...bounds('first', 0),
        ...bounds('last', 2),
        { name: 'dim', shape: [], dtype: 'int32', values: [-1] },
        { name: 'two', shape: [], values: [2] },
      ],
      [
        { name: 'pooled', op: 'Mean', input: ['input', 'axes'], attr: { keep_dims: { b: false } } },
        { name: 'tanh', op: 'Tanh', input: ['pooled'] },
        slice('first', 'tanh'),
        slice('last', 'pooled'),
        { name: 'sum', op: 'AddV2', input: ['first', 'two'] },
        { name: 'expanded', op: 'ExpandDims', input: ['sum', 'dim'] },
        { name: 'ratio', op: 'RealDiv', input: ['expanded', 'last'] },
      ]
    )
    const results = await runBoth(model, [{ name: 'ratio', from: ['ratio'] }])
    assert.deepEqual(results.ratio.shape, [1, 1])
    assertMatches(assert, results)
  })

  test('an op outside the supported set is reported by name', ({ assert }) => {
    const model = tinyModel([1, 2, 2, 1], [], [{ name: 'odd', op: 'Cumsum', input: ['input'] }])
    assert.throws(
      () =>
        convertTfjsGraphModel(model, {
          name: 'tiny',
          inputName: 'image',
          outputs: [{ name: 'y', from: ['odd'] }],
        }),
      'TF op Cumsum ("odd") is not supported by the converter'
    )
  })
})
