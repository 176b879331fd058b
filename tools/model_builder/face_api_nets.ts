import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { OnnxGraph } from '#tools/model_builder/onnx_graph'
import { transposeValues, windowPadding } from '#tools/model_builder/tfjs_graph_converter'
import {
  decodeTfjsWeights,
  type DecodedTensor,
  type TfjsWeightsGroup,
} from '#tools/model_builder/tfjs_weights'

type Weights = Map<string, DecodedTensor>

/** An NCHW feature map with square spatial size, as both nets only have those. */
interface Feature {
  tensor: string
  channels: number
  size: number
}

/** face-api subtracts this mean (RGB, 0..255 scale) and divides by 255 in both nets. */
export const FACE_API_MEAN_RGB = [122.782, 117.001, 104.298]

export async function readFaceApiWeights(manifestPath: string): Promise<Weights> {
  const groups = JSON.parse(await readFile(manifestPath, 'utf8')) as TfjsWeightsGroup[]
  const shards = await Promise.all(
    groups
      .flatMap((group) => group.paths)
      .map((path) => readFile(join(dirname(manifestPath), path)))
  )
  return decodeTfjsWeights(
    groups.flatMap((group) => group.weights),
    new Uint8Array(Buffer.concat(shards))
  )
}

/**
 * The layers face-api's nets are made of, written against the same TF
 * semantics (NHWC weights, SAME/VALID windows) and emitted as NCHW ONNX.
 */
class NetBuilder {
  readonly graph: OnnxGraph
  #weights: Weights

  constructor(name: string, weights: Weights) {
    this.graph = new OnnxGraph(name)
    this.#weights = weights
  }

  weight(name: string) {
    const tensor = this.#weights.get(name)
    if (!tensor) throw new Error(`The weights manifest has no "${name}"`)
    return tensor
  }

  hasWeight(name: string) {
    return this.#weights.has(name)
  }

  /**
   * The RGB 0..255 NHWC input, normalised as face-api's forwardInput does
   * (per-channel mean subtraction, then division by 255).
   */
  normalisedInput(size: number): Feature {
    const image = this.graph.addInput('image', [1, size, size, 3])
    const nchw = this.graph.add('Transpose', [image], { perm: [0, 3, 1, 2] }, 'image/nchw')
    const mean = this.graph.floats(Float32Array.from(FACE_API_MEAN_RGB), [1, 3, 1, 1], 'mean_rgb')
    const centred = this.graph.add('Sub', [nchw, mean], {}, 'image/centred')
    const tensor = this.graph.add(
      'Div',
      [centred, this.graph.scalar(255, 'pixel_range')],
      {},
      'image/normalised'
    )
    return { tensor, channels: 3, size }
  }

  conv(
    x: Feature,
    prefix: string,
    stride: number,
    padding: 'SAME' | 'VALID',
    options: { bias?: boolean; depthwise?: boolean } = {}
  ): Feature {
    const filters = this.weight(`${prefix}/${options.depthwise ? 'depthwise_filter' : 'filters'}`)
    const [kh, kw, channelsIn, channelsOut] = filters.shape
    if (channelsIn !== x.channels) {
      throw new Error(`${prefix} expects ${channelsIn} channels, got ${x.channels}`)
    }
    const window = windowPadding(padding, x.size, kh, stride)
    const moved = transposeValues(
      filters.values,
      filters.shape,
      options.depthwise ? [2, 3, 0, 1] : [3, 2, 0, 1]
    )
    const outChannels = options.depthwise ? channelsIn * channelsOut : channelsOut
    const inputs = [
      x.tensor,
      this.graph.floats(
        Float32Array.from(moved.values),
        options.depthwise ? [outChannels, 1, kh, kw] : moved.shape,
        `${prefix}/filters`
      ),
    ]
    if (options.bias) inputs.push(this.vector(`${prefix}/bias`))
    const tensor = this.graph.add(
      'Conv',
      inputs,
      {
        kernel_shape: [kh, kw],
        strides: [stride, stride],
        pads: [window.before, window.before, window.after, window.after],
        group: options.depthwise ? channelsIn : 1,
      },
      prefix
    )
    return { tensor, channels: outChannels, size: window.out }
  }

  /** tf.separableConv2d with 'same' padding, followed by the bias add. */
  separableConv(x: Feature, prefix: string): Feature {
    const depthwise = this.conv(x, prefix, 1, 'SAME', { depthwise: true })
    const pointwise = this.weight(`${prefix}/pointwise_filter`)
    const moved = transposeValues(pointwise.values, pointwise.shape, [3, 2, 0, 1])
    const tensor = this.graph.add(
      'Conv',
      [
        depthwise.tensor,
        this.graph.floats(Float32Array.from(moved.values), moved.shape, `${prefix}/pointwise`),
        this.vector(`${prefix}/bias`),
      ],
      { kernel_shape: [1, 1] },
      `${prefix}/pointwise`
    )
    return { tensor, channels: pointwise.shape[3], size: x.size }
  }

  /** A per-channel [C] weight as a flat ONNX vector (Conv bias, Gemm bias). */
  vector(name: string) {
    const tensor = this.weight(name)
    return this.graph.floats(Float32Array.from(tensor.values), [tensor.values.length], name)
  }

  /** A per-channel [C] weight shaped [1, C, 1, 1] to broadcast over NCHW. */
  channelwise(name: string) {
    const tensor = this.weight(name)
    return this.graph.floats(
      Float32Array.from(tensor.values),
      [1, tensor.values.length, 1, 1],
      name
    )
  }

  op(opType: string, x: Feature, hint: string, inputs: string[] = []): Feature {
    return { ...x, tensor: this.graph.add(opType, [x.tensor, ...inputs], {}, hint) }
  }

  pool(
    opType: 'MaxPool' | 'AveragePool',
    x: Feature,
    kernel: number,
    stride: number,
    padding: 'SAME' | 'VALID',
    hint: string
  ): Feature {
    const window = windowPadding(padding, x.size, kernel, stride)
    const tensor = this.graph.add(
      opType,
      [x.tensor],
      {
        kernel_shape: [kernel, kernel],
        strides: [stride, stride],
        pads: [window.before, window.before, window.after, window.after],
      },
      hint
    )
    return { ...x, tensor, size: window.out }
  }

  /** Zero padding at the end of the channel axis and/or the bottom-right edge. */
  zeroPad(x: Feature, extraChannels: number, extraPixels: number, hint: string): Feature {
    const pads = this.graph.int64s(
      [0, 0, 0, 0, 0, extraChannels, extraPixels, extraPixels],
      `${hint}/pads`
    )
    const tensor = this.graph.add(
      'Pad',
      [x.tensor, pads, this.graph.scalar(0, 'zero')],
      { mode: 'constant' },
      hint
    )
    return { tensor, channels: x.channels + extraChannels, size: x.size + extraPixels }
  }

  /** Gemm with face-api's [in, out] fully connected weights and bias. */
  dense(x: string, prefix: string) {
    const weights = this.weight(`${prefix}/weights`)
    const inputs = [
      x,
      this.graph.floats(Float32Array.from(weights.values), weights.shape, `${prefix}/weights`),
      this.vector(`${prefix}/bias`),
    ]
    return { tensor: this.graph.add('Gemm', inputs, {}, prefix), units: weights.shape[1] }
  }
}

/**
 * face-api's FaceRecognitionNet: the dlib ResNet-34 face descriptor.
 * conv → per-channel scale layer (batch norm folded by dlib), residual
 * blocks whose down-sampling shortcut is a 2×2 average pool zero-padded to
 * the wider channel count, global average pool and a 256→128 projection.
 */
export function buildFaceRecognitionGraph(weights: Weights) {
  const net = new NetBuilder('faceapi-recognition', weights)

  const convLayer = (
    x: Feature,
    prefix: string,
    stride: number,
    relu: boolean,
    padding: 'SAME' | 'VALID' = 'SAME'
  ) => {
    let out = net.conv(x, `${prefix}/conv`, stride, padding, { bias: true })
    out = net.op('Mul', out, `${prefix}/scale`, [net.channelwise(`${prefix}/scale/weights`)])
    out = net.op('Add', out, `${prefix}/shift`, [net.channelwise(`${prefix}/scale/biases`)])
    return relu ? net.op('Relu', out, `${prefix}/relu`) : out
  }

  const residual = (x: Feature, prefix: string) => {
    let out = convLayer(x, `${prefix}/conv1`, 1, true)
    out = convLayer(out, `${prefix}/conv2`, 1, false)
    return net.op('Relu', net.op('Add', out, `${prefix}/add`, [x.tensor]), `${prefix}/relu`)
  }

  /**
   * With odd sizes the strided VALID conv comes out one pixel smaller than
   * the pooled shortcut; face-api then appends a zero row and column.
   */
  const residualDown = (x: Feature, prefix: string) => {
    let out = convLayer(x, `${prefix}/conv1`, 2, true, 'VALID')
    out = convLayer(out, `${prefix}/conv2`, 1, false)
    let pooled = net.pool('AveragePool', x, 2, 2, 'VALID', `${prefix}/shortcut`)
    if (pooled.size !== out.size) {
      if (pooled.size !== out.size + 1)
        throw new Error(`${prefix}: unexpected sizes ${out.size}/${pooled.size}`)
      out = net.zeroPad(out, 0, 1, `${prefix}/pad_pixels`)
    }
    if (pooled.channels !== out.channels) {
      if (out.channels !== pooled.channels * 2)
        throw new Error(`${prefix}: unexpected channel counts`)
      pooled = net.zeroPad(pooled, pooled.channels, 0, `${prefix}/pad_channels`)
    }
    return net.op('Relu', net.op('Add', pooled, `${prefix}/add`, [out.tensor]), `${prefix}/relu`)
  }

  let out = convLayer(net.normalisedInput(150), 'conv32_down', 2, true, 'VALID')
  out = net.pool('MaxPool', out, 3, 2, 'VALID', 'conv32_down/pool')
  for (const block of ['conv32_1', 'conv32_2', 'conv32_3']) out = residual(out, block)
  out = residualDown(out, 'conv64_down')
  for (const block of ['conv64_1', 'conv64_2', 'conv64_3']) out = residual(out, block)
  out = residualDown(out, 'conv128_down')
  for (const block of ['conv128_1', 'conv128_2']) out = residual(out, block)
  out = residualDown(out, 'conv256_down')
  for (const block of ['conv256_1', 'conv256_2']) out = residual(out, block)
  out = residualDown(out, 'conv256_down_out')

  const pooled = net.graph.add(
    'ReduceMean',
    [out.tensor],
    { axes: [2, 3], keepdims: 0 },
    'global_pool'
  )
  const fc = net.weight('fc')
  const descriptor = net.graph.add(
    'MatMul',
    [pooled, net.graph.floats(Float32Array.from(fc.values), fc.shape, 'fc')],
    {},
    'fc'
  )
  net.graph.addOutput('descriptor', descriptor, [1, fc.shape[1]])
  return net.graph
}

/**
 * face-api's AgeGenderNet: a TinyXception feature extractor (entry flow,
 * main blocks, exit flow) pooled by a 7×7/2 average pool, then a linear
 * age regressor and a two-way gender softmax ([male, female]).
 */
export function buildAgeGenderGraph(weights: Weights) {
  const net = new NetBuilder('faceapi-age-gender', weights)
  const relu = (x: Feature, hint: string) => net.op('Relu', x, `${hint}/relu`)

  const reductionBlock = (x: Feature, prefix: string, activateInput: boolean) => {
    let out = activateInput ? relu(x, `${prefix}/input`) : x
    out = net.separableConv(out, `${prefix}/separable_conv0`)
    out = net.separableConv(relu(out, `${prefix}/separable_conv0`), `${prefix}/separable_conv1`)
    out = net.pool('MaxPool', out, 3, 2, 'SAME', `${prefix}/pool`)
    const expansion = net.conv(x, `${prefix}/expansion_conv`, 2, 'SAME', { bias: true })
    return net.op('Add', out, `${prefix}/add`, [expansion.tensor])
  }

  const mainBlock = (x: Feature, prefix: string) => {
    let out = net.separableConv(relu(x, `${prefix}/input`), `${prefix}/separable_conv0`)
    out = net.separableConv(relu(out, `${prefix}/separable_conv0`), `${prefix}/separable_conv1`)
    out = net.separableConv(relu(out, `${prefix}/separable_conv1`), `${prefix}/separable_conv2`)
    return net.op('Add', out, `${prefix}/add`, [x.tensor])
  }

  let out = net.conv(net.normalisedInput(112), 'entry_flow/conv_in', 2, 'SAME', { bias: true })
  out = relu(out, 'entry_flow/conv_in')
  out = reductionBlock(out, 'entry_flow/reduction_block_0', false)
  out = reductionBlock(out, 'entry_flow/reduction_block_1', true)
  for (let i = 0; net.hasWeight(`middle_flow/main_block_${i}/separable_conv0/bias`); i++) {
    out = mainBlock(out, `middle_flow/main_block_${i}`)
  }
  out = reductionBlock(out, 'exit_flow/reduction_block', true)
  out = relu(net.separableConv(out, 'exit_flow/separable_conv'), 'exit_flow/separable_conv')

  const pooled = net.pool('AveragePool', out, 7, 2, 'VALID', 'bottleneck_pool')
  if (pooled.size !== 1)
    throw new Error(`Expected a 1×1 bottleneck, got ${pooled.size}×${pooled.size}`)
  const flat = net.graph.add('Flatten', [pooled.tensor], { axis: 1 }, 'bottleneck')

  const age = net.dense(flat, 'fc/age')
  const genderLogits = net.dense(flat, 'fc/gender')
  const gender = net.graph.add('Softmax', [genderLogits.tensor], { axis: 1 }, 'fc/gender/softmax')
  net.graph.addOutput('age', age.tensor, [1, age.units])
  net.graph.addOutput('gender', gender, [1, genderLogits.units])
  return net.graph
}
