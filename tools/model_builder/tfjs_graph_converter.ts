import { readFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { OnnxGraph } from '#tools/model_builder/onnx_graph'
import {
  decodeTfjsWeights,
  type DecodedTensor,
  type TfjsWeightsGroup,
} from '#tools/model_builder/tfjs_weights'

interface TfAttr {
  b?: boolean
  i?: string
  s?: string
  shape?: { dim?: { size: string }[] }
  list?: { i?: string[]; s?: string[] }
}

interface TfNode {
  name: string
  op: string
  input?: string[]
  attr?: Record<string, TfAttr>
}

export interface TfjsGraphModelJson {
  format?: string
  generatedBy?: string
  convertedBy?: string
  modelTopology: { node: TfNode[] }
  weightsManifest: TfjsWeightsGroup[]
}

export interface TfjsGraphModel {
  json: TfjsGraphModelJson
  weights: Uint8Array
}

export interface ConversionOptions {
  /** Name of the ONNX graph. */
  name: string
  /** Name given to the model's single input, which keeps its NHWC layout. */
  inputName: string
  /**
   * Graph outputs, each from one TF node or from several concatenated
   * along a TF axis. Nodes no output depends on are left out.
   */
  outputs: { name: string; from: string[]; axis?: number }[]
}

interface Activation {
  kind: 'activation'
  tensor: string
  /** Logical TF (NHWC) shape, with the batch fixed to 1. */
  shape: number[]
  /** ONNX dims are the TF dims taken in this order; NCHW is [0, 3, 1, 2]. */
  perm: number[]
}

interface Constant {
  kind: 'constant'
  shape: number[]
  values: Float32Array | Int32Array
}

type Value = Activation | Constant

const NCHW = [0, 3, 1, 2]
const identity = (rank: number) => Array.from({ length: rank }, (_, i) => i)
const samePerm = (a: number[], b: number[]) =>
  a.length === b.length && a.every((v, i) => v === b[i])
const product = (shape: number[]) => shape.reduce((a, b) => a * b, 1)

export async function readTfjsGraphModel(modelJsonPath: string): Promise<TfjsGraphModel> {
  const json = JSON.parse(await readFile(modelJsonPath, 'utf8')) as TfjsGraphModelJson
  const shards = await Promise.all(
    json.weightsManifest
      .flatMap((group) => group.paths)
      .map((path) => readFile(join(dirname(modelJsonPath), path)))
  )
  return { json, weights: new Uint8Array(Buffer.concat(shards)) }
}

/**
 * numpy-style transpose of a dense row-major array: out.shape[i] = shape[perm[i]].
 */
export function transposeValues<T extends Float32Array | Int32Array>(
  values: T,
  shape: number[],
  perm: number[]
): { values: T; shape: number[] } {
  const outShape = perm.map((axis) => shape[axis])
  const inStrides = shape.map((_, i) => product(shape.slice(i + 1)))
  const strides = perm.map((axis) => inStrides[axis])
  const out = new (values.constructor as new (length: number) => T)(values.length)
  const index = new Array<number>(shape.length).fill(0)
  for (let o = 0; o < out.length; o++) {
    let source = 0
    for (let d = 0; d < index.length; d++) source += index[d] * strides[d]
    out[o] = values[source]
    for (let d = index.length - 1; d >= 0; d--) {
      if (++index[d] < outShape[d]) break
      index[d] = 0
    }
  }
  return { values: out, shape: outShape }
}

/**
 * TF's window arithmetic. SAME puts the odd padding pixel after (bottom /
 * right), which ONNX's auto_pad=SAME_UPPER also does, but explicit pads
 * keep the graph independent of that reading.
 */
export function windowPadding(
  padding: string,
  size: number,
  kernel: number,
  stride: number,
  dilation = 1
) {
  const effective = (kernel - 1) * dilation + 1
  if (padding === 'SAME') {
    const out = Math.ceil(size / stride)
    const total = Math.max((out - 1) * stride + effective - size, 0)
    return { out, before: Math.floor(total / 2), after: total - Math.floor(total / 2) }
  }
  if (padding === 'VALID') {
    return { out: Math.floor((size - effective) / stride) + 1, before: 0, after: 0 }
  }
  throw new Error(`Unsupported padding "${padding}"`)
}

function broadcastShapes(a: number[], b: number[]) {
  const rank = Math.max(a.length, b.length)
  return Array.from({ length: rank }, (_, i) => {
    const x = a[a.length - rank + i] ?? 1
    const y = b[b.length - rank + i] ?? 1
    if (x !== y && x !== 1 && y !== 1) throw new Error(`Shapes [${a}] and [${b}] do not broadcast`)
    return Math.max(x, y)
  })
}

class Converter {
  readonly graph: OnnxGraph
  #nodes = new Map<string, TfNode>()
  #weights: Map<string, DecodedTensor>
  #values = new Map<string, Value>()
  #transposed = new Map<string, Activation>()
  #inputName: string
  #inputSeen = false

  constructor(model: TfjsGraphModel, options: ConversionOptions) {
    this.graph = new OnnxGraph(options.name)
    this.graph.reserve([options.inputName, ...options.outputs.map((output) => output.name)])
    this.#inputName = options.inputName
    for (const node of model.json.modelTopology.node) this.#nodes.set(node.name, node)
    this.#weights = decodeTfjsWeights(
      model.json.weightsManifest.flatMap((group) => group.weights),
      model.weights
    )
  }

  output(name: string, from: string[], axis = 0) {
    const parts = from.map((ref) => this.#activation(ref))
    const joined = parts.length === 1 ? parts[0] : this.#concat(parts, axis, `${name}/concat`)
    const plain = this.#toPerm(joined, identity(joined.shape.length))
    this.graph.addOutput(name, plain.tensor, plain.shape)
  }

  #value(ref: string): Value {
    const [name, index = '0'] = ref.split(':')
    if (index !== '0') throw new Error(`Output ${index} of "${name}" is not supported`)
    const known = this.#values.get(name)
    if (known) return known
    const node = this.#nodes.get(name)
    if (!node) throw new Error(`The graph has no node "${name}"`)
    const value = this.#convert(node)
    this.#values.set(name, value)
    return value
  }

  #inputs(node: TfNode) {
    return (node.input ?? []).filter((ref) => !ref.startsWith('^')).map((ref) => this.#value(ref))
  }

  #activation(ref: string) {
    const value = this.#value(ref)
    if (value.kind !== 'activation')
      throw new Error(`"${ref}" is a constant, not a computed tensor`)
    return value
  }

  #constant(value: Value, node: TfNode) {
    if (value.kind !== 'constant') {
      throw new Error(`${node.op} "${node.name}" needs a constant operand (weights, axes, shape)`)
    }
    return value
  }

  #convert(node: TfNode): Value {
    switch (node.op) {
      case 'Const':
        return this.#const(node)
      case 'Placeholder':
        return this.#placeholder(node)
      case 'Identity':
        return this.#inputs(node)[0]
      case 'Conv2D':
      case '_FusedConv2D':
        return this.#conv(node, false)
      case 'DepthwiseConv2dNative':
      case 'FusedDepthwiseConv2dNative':
        return this.#conv(node, true)
      case 'MatMul':
      case '_FusedMatMul':
        return this.#matMul(node)
      case 'Add':
      case 'AddV2':
      case 'BiasAdd':
        return this.#binary(node, 'Add')
      case 'Sub':
        return this.#binary(node, 'Sub')
      case 'RealDiv':
        return this.#binary(node, 'Div')
      case 'Mul':
        return this.#binary(node, 'Mul')
      case 'Minimum':
        return this.#binary(node, 'Min')
      case 'Maximum':
        return this.#clippedRelu(node) ?? this.#binary(node, 'Max')
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Abs':
      case 'Relu6':
        return this.#activate(this.#single(node), node.op, node)
      case 'Square': {
        const x = this.#single(node)
        return { ...x, tensor: this.graph.add('Mul', [x.tensor, x.tensor], {}, node.name) }
      }
      case 'Rsqrt': {
        const x = this.#single(node)
        const root = this.graph.add('Sqrt', [x.tensor], {}, `${node.name}/sqrt`)
        return { ...x, tensor: this.graph.add('Reciprocal', [root], {}, node.name) }
      }
      case 'Prelu': {
        const [x, alpha] = this.#inputs(node)
        if (x.kind !== 'activation') throw new Error(`Prelu "${node.name}" on a constant`)
        return this.#prelu(x, this.#constant(alpha, node), node.name)
      }
      case 'MaxPool':
      case 'AvgPool':
        return this.#pool(node)
      case 'Pad':
        return this.#pad(node)
      case 'Mean':
      case 'Sum':
      case 'Max':
        return this.#reduce(node)
      case 'Reshape':
        return this.#reshape(node)
      case 'Squeeze':
        return this.#squeeze(node)
      case 'ExpandDims':
        return this.#expandDims(node)
      case 'StridedSlice':
        return this.#stridedSlice(node)
      case 'ConcatV2': {
        const inputs = this.#inputs(node)
        const axis = this.#constant(inputs.pop()!, node).values[0]
        const parts = inputs.map((part) => {
          if (part.kind !== 'activation') throw new Error(`ConcatV2 "${node.name}" of a constant`)
          return part
        })
        return this.#concat(parts, axis, node.name)
      }
      case 'Softmax': {
        const x = this.#single(node)
        const axis = x.perm.indexOf(x.shape.length - 1)
        return { ...x, tensor: this.graph.add('Softmax', [x.tensor], { axis }, node.name) }
      }
      default:
        throw new Error(`TF op ${node.op} ("${node.name}") is not supported by the converter`)
    }
  }

  /**
   * Keras exports ReLU6 as Relu → Minimum(6) → Maximum(0). As one Clip,
   * onnxruntime folds it into the convolution before it instead of leaving
   * three element-wise passes, each with a layout reorder around it.
   */
  #clippedRelu(node: TfNode): Activation | undefined {
    const scalar = (ref: string | undefined) => {
      const weight = this.#weights.get(ref ?? '')
      return this.#nodes.get(ref ?? '')?.op === 'Const' && weight?.values.length === 1
        ? weight.values[0]
        : undefined
    }
    const [minimumRef, lowRef] = node.input ?? []
    const minimum = this.#nodes.get(minimumRef)
    const [reluRef, highRef] = minimum?.op === 'Minimum' ? (minimum.input ?? []) : []
    const relu = this.#nodes.get(reluRef ?? '')
    const low = scalar(lowRef)
    const high = scalar(highRef)
    if (relu?.op !== 'Relu' || low === undefined || high === undefined || low > 0 || high < 0) {
      return undefined
    }
    const x = this.#activation(relu.input![0])
    const bounds = [this.graph.scalar(0, 'zero'), this.graph.scalar(high, `${node.name}/max`)]
    return { ...x, tensor: this.graph.add('Clip', [x.tensor, ...bounds], {}, node.name) }
  }

  #const(node: TfNode): Constant {
    const weight = this.#weights.get(node.name)
    if (!weight) throw new Error(`Constant "${node.name}" has no weights in the manifest`)
    return { kind: 'constant', ...weight }
  }

  #placeholder(node: TfNode): Activation {
    if (this.#inputSeen) throw new Error('Only single-input models are supported')
    this.#inputSeen = true
    const dims = node.attr?.shape?.shape?.dim ?? []
    const shape = dims.map((dim) => (Number(dim.size) < 0 ? 1 : Number(dim.size)))
    return {
      kind: 'activation',
      tensor: this.graph.addInput(this.#inputName, shape),
      shape,
      perm: identity(shape.length),
    }
  }

  #single(node: TfNode) {
    const [x] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`${node.op} "${node.name}" on a constant`)
    return x
  }

  #toPerm(x: Activation, perm: number[]): Activation {
    if (samePerm(x.perm, perm)) return x
    const key = `${x.tensor}|${perm.join(',')}`
    const cached = this.#transposed.get(key)
    if (cached) return cached
    const onnxPerm = perm.map((axis) => x.perm.indexOf(axis))
    const tensor = this.graph.add(
      'Transpose',
      [x.tensor],
      { perm: onnxPerm },
      `${x.tensor}/transpose`
    )
    const result: Activation = { ...x, tensor, perm }
    this.#transposed.set(key, result)
    return result
  }

  /**
   * A constant operand laid out like the activation it meets: right-aligned
   * to its rank (TF broadcasting), then permuted the same way, so that a
   * per-channel [C] vector becomes [1, C, 1, 1] next to an NCHW tensor.
   */
  #broadcastConstant(constant: Constant, like: Activation, hint: string) {
    const rank = like.shape.length
    if (constant.shape.length > rank) throw new Error(`Constant "${hint}" outranks its operand`)
    if (constant.shape.length === 0) return this.graph.scalar(constant.values[0], hint)
    const aligned = [...new Array<number>(rank - constant.shape.length).fill(1), ...constant.shape]
    const moved = transposeValues(constant.values, aligned, like.perm)
    return this.graph.floats(Float32Array.from(moved.values), moved.shape, hint)
  }

  #activate(x: Activation, kind: string, node: TfNode): Activation {
    const name = `${node.name}/${kind.toLowerCase()}`
    switch (kind) {
      case 'Relu':
      case 'Sigmoid':
      case 'Tanh':
      case 'Abs':
        return { ...x, tensor: this.graph.add(kind, [x.tensor], {}, name) }
      case 'Relu6': {
        const bounds = [this.graph.scalar(0, 'zero'), this.graph.scalar(6, 'six')]
        return { ...x, tensor: this.graph.add('Clip', [x.tensor, ...bounds], {}, name) }
      }
      default:
        throw new Error(`Activation ${kind} in "${node.name}" is not supported`)
    }
  }

  #prelu(x: Activation, alpha: Constant, hint: string): Activation {
    const slope = this.#broadcastConstant(alpha, x, `${hint}/alpha`)
    return { ...x, tensor: this.graph.add('PRelu', [x.tensor, slope], {}, hint) }
  }

  #conv(node: TfNode, depthwise: boolean): Activation {
    const [input, filterValue, ...extra] = this.#inputs(node)
    if (input.kind !== 'activation') throw new Error(`${node.op} "${node.name}" on a constant`)
    if (attrString(node, 'data_format', 'NHWC') !== 'NHWC') {
      throw new Error(`${node.op} "${node.name}" is not NHWC`)
    }
    const filter = this.#constant(filterValue, node)
    const [kh, kw, channelsIn, channelsOut] = filter.shape
    const [, sh, sw] = attrInts(node, 'strides')
    const [, dh, dw] = attrInts(node, 'dilations', [1, 1, 1, 1])
    const padding = attrString(node, 'padding')
    const [, height, width] = input.shape
    const rows = windowPadding(padding, height, kh, sh, dh)
    const cols = windowPadding(padding, width, kw, sw, dw)

    const weight = depthwise
      ? transposeValues(filter.values, filter.shape, [2, 3, 0, 1])
      : transposeValues(filter.values, filter.shape, [3, 2, 0, 1])
    const outChannels = depthwise ? channelsIn * channelsOut : channelsOut
    const weightShape = depthwise ? [outChannels, 1, kh, kw] : weight.shape
    const inputs = [
      this.#toPerm(input, NCHW).tensor,
      this.graph.floats(Float32Array.from(weight.values), weightShape, `${node.name}/weight`),
    ]

    const fused = attrStrings(node, 'fused_ops')
    const [first, ...activations] = fused
    if (first !== undefined && first !== 'BiasAdd') {
      throw new Error(`Fused op ${first} in "${node.name}" is not supported`)
    }
    if (first === 'BiasAdd') {
      const bias = this.#constant(extra[0], node)
      inputs.push(
        this.graph.floats(Float32Array.from(bias.values), [outChannels], `${node.name}/bias`)
      )
    }
    let out: Activation = {
      kind: 'activation',
      tensor: this.graph.add(
        'Conv',
        inputs,
        {
          kernel_shape: [kh, kw],
          strides: [sh, sw],
          dilations: [dh, dw],
          pads: [rows.before, cols.before, rows.after, cols.after],
          group: depthwise ? channelsIn : 1,
        },
        node.name
      ),
      shape: [input.shape[0], rows.out, cols.out, outChannels],
      perm: NCHW,
    }
    for (const kind of activations) {
      out =
        kind === 'Prelu'
          ? this.#prelu(out, this.#constant(extra[1], node), `${node.name}/prelu`)
          : this.#activate(out, kind, node)
    }
    return out
  }

  #pool(node: TfNode): Activation {
    const x = this.#single(node)
    const [, kh, kw] = attrInts(node, 'ksize')
    const [, sh, sw] = attrInts(node, 'strides')
    const padding = attrString(node, 'padding')
    const rows = windowPadding(padding, x.shape[1], kh, sh)
    const cols = windowPadding(padding, x.shape[2], kw, sw)
    const attributes = {
      kernel_shape: [kh, kw],
      strides: [sh, sw],
      pads: [rows.before, cols.before, rows.after, cols.after],
    }
    const op = node.op === 'MaxPool' ? 'MaxPool' : 'AveragePool'
    return {
      kind: 'activation',
      tensor: this.graph.add(op, [this.#toPerm(x, NCHW).tensor], attributes, node.name),
      shape: [x.shape[0], rows.out, cols.out, x.shape[3]],
      perm: NCHW,
    }
  }

  #matMul(node: TfNode): Activation {
    const [a, b, ...extra] = this.#inputs(node)
    if (a.kind !== 'activation' || a.shape.length !== 2) {
      throw new Error(`${node.op} "${node.name}" needs a 2-D computed left operand`)
    }
    const weight = this.#constant(b, node)
    const transA = node.attr?.transpose_a?.b ? 1 : 0
    const transB = node.attr?.transpose_b?.b ? 1 : 0
    const columns = transB ? weight.shape[0] : weight.shape[1]
    const inputs = [
      this.#toPerm(a, [0, 1]).tensor,
      this.graph.floats(Float32Array.from(weight.values), weight.shape, `${node.name}/weight`),
    ]
    const [first, ...activations] = attrStrings(node, 'fused_ops')
    if (first !== undefined && first !== 'BiasAdd') {
      throw new Error(`Fused op ${first} in "${node.name}" is not supported`)
    }
    if (first === 'BiasAdd') {
      const bias = this.#constant(extra[0], node)
      inputs.push(this.graph.floats(Float32Array.from(bias.values), [columns], `${node.name}/bias`))
    }
    let out: Activation = {
      kind: 'activation',
      tensor: this.graph.add('Gemm', inputs, { transA, transB }, node.name),
      shape: [transA ? a.shape[1] : a.shape[0], columns],
      perm: [0, 1],
    }
    for (const kind of activations) out = this.#activate(out, kind, node)
    return out
  }

  #binary(node: TfNode, op: string): Activation {
    const [a, b] = this.#inputs(node)
    if (a.kind === 'constant' && b.kind === 'constant') {
      throw new Error(`${node.op} "${node.name}" on two constants`)
    }
    let operands: [string, string]
    let like: Activation
    if (a.kind === 'activation' && b.kind === 'activation' && a.shape.length !== b.shape.length) {
      /* TF and ONNX broadcast alike (right-aligned) when both are in TF's own order. */
      const [x, y] = [a, b].map((value) => this.#toPerm(value, identity(value.shape.length)))
      const shape = broadcastShapes(a.shape, b.shape)
      return {
        kind: 'activation',
        tensor: this.graph.add(op, [x.tensor, y.tensor], {}, node.name),
        shape,
        perm: identity(shape.length),
      }
    }
    if (a.kind === 'activation' && b.kind === 'activation') {
      like = a
      operands = [a.tensor, this.#toPerm(b, a.perm).tensor]
    } else if (a.kind === 'activation') {
      like = a
      operands = [a.tensor, this.#broadcastConstant(b as Constant, a, `${node.name}/y`)]
    } else {
      like = b as Activation
      operands = [this.#broadcastConstant(a, like, `${node.name}/x`), like.tensor]
    }
    return {
      kind: 'activation',
      tensor: this.graph.add(op, operands, {}, node.name),
      shape: broadcastShapes(a.shape, b.shape),
      perm: like.perm,
    }
  }

  /** Zero padding; the [rank, 2] paddings are given in TF axis order. */
  #pad(node: TfNode): Activation {
    const [x, paddingsValue] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`Pad "${node.name}" on a constant`)
    const paddings = this.#constant(paddingsValue, node).values
    const before = x.perm.map((axis) => paddings[axis * 2])
    const after = x.perm.map((axis) => paddings[axis * 2 + 1])
    const inputs = [
      x.tensor,
      this.graph.int64s([...before, ...after], `${node.name}/pads`),
      this.graph.scalar(0, 'zero'),
    ]
    return {
      ...x,
      tensor: this.graph.add('Pad', inputs, { mode: 'constant' }, node.name),
      shape: x.shape.map((size, axis) => size + paddings[axis * 2] + paddings[axis * 2 + 1]),
    }
  }

  #reduce(node: TfNode): Activation {
    const [x, axesValue] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`${node.op} "${node.name}" on a constant`)
    const rank = x.shape.length
    const axes = [...this.#constant(axesValue, node).values].map((a) => (a + rank) % rank)
    const keep = node.attr?.keep_dims?.b ?? false
    const onnxAxes = axes.map((axis) => x.perm.indexOf(axis)).sort((p, q) => p - q)
    const keepdims = keep ? 1 : 0
    const tensor =
      node.op === 'Sum'
        ? this.graph.add(
            'ReduceSum',
            [x.tensor, this.graph.int64s(onnxAxes, `${node.name}/axes`)],
            { keepdims },
            node.name
          )
        : this.graph.add(
            node.op === 'Mean' ? 'ReduceMean' : 'ReduceMax',
            [x.tensor],
            { axes: onnxAxes, keepdims },
            node.name
          )
    if (keep) {
      return { ...x, tensor, shape: x.shape.map((size, axis) => (axes.includes(axis) ? 1 : size)) }
    }
    const kept = identity(rank).filter((axis) => !axes.includes(axis))
    const renumber = (axis: number) => kept.indexOf(axis)
    return {
      kind: 'activation',
      tensor,
      shape: kept.map((axis) => x.shape[axis]),
      perm: x.perm.filter((axis) => !axes.includes(axis)).map(renumber),
    }
  }

  /**
   * Reshape is defined on TF's row-major NHWC order, so the operand goes
   * back to that order first; a flatten of an NCHW tensor would otherwise
   * interleave the channels differently from what the dense layer expects.
   */
  #reshape(node: TfNode): Activation {
    const [x, shapeValue] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`Reshape "${node.name}" on a constant`)
    const target = [...this.#constant(shapeValue, node).values]
    const known = product(target.filter((size) => size >= 0))
    const shape = target.map((size) => (size < 0 ? product(x.shape) / known : size))
    if (product(shape) !== product(x.shape)) {
      throw new Error(`Reshape "${node.name}" from [${x.shape}] to [${target}] changes the size`)
    }
    const plain = this.#toPerm(x, identity(x.shape.length))
    return {
      kind: 'activation',
      tensor: this.graph.add(
        'Reshape',
        [plain.tensor, this.graph.int64s(shape, 'shape')],
        {},
        node.name
      ),
      shape,
      perm: identity(shape.length),
    }
  }

  #squeeze(node: TfNode): Activation {
    const x = this.#single(node)
    const rank = x.shape.length
    const listed = attrInts(node, 'squeeze_dims', []).map((axis) => (axis + rank) % rank)
    const axes = listed.length ? listed : identity(rank).filter((axis) => x.shape[axis] === 1)
    const plain = this.#toPerm(x, identity(rank))
    const shape = x.shape.filter((_, axis) => !axes.includes(axis))
    return {
      kind: 'activation',
      tensor: this.graph.add(
        'Squeeze',
        [plain.tensor, this.graph.int64s(axes, 'axes')],
        {},
        node.name
      ),
      shape,
      perm: identity(shape.length),
    }
  }

  #expandDims(node: TfNode): Activation {
    const [x, axisValue] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`ExpandDims "${node.name}" on a constant`)
    const rank = x.shape.length + 1
    const axis = (this.#constant(axisValue, node).values[0] + rank) % rank
    const plain = this.#toPerm(x, identity(x.shape.length))
    const shape = [...x.shape.slice(0, axis), 1, ...x.shape.slice(axis)]
    return {
      kind: 'activation',
      tensor: this.graph.add(
        'Unsqueeze',
        [plain.tensor, this.graph.int64s([axis], `${node.name}/axes`)],
        {},
        node.name
      ),
      shape,
      perm: identity(rank),
    }
  }

  /**
   * TF's StridedSlice with constant begin, end and strides, begin/end masks
   * and shrink_axis_mask (what Keras emits for `x[:, k]`); no ellipsis or
   * new axes.
   */
  #stridedSlice(node: TfNode): Activation {
    const [x, beginValue, endValue, stridesValue] = this.#inputs(node)
    if (x.kind !== 'activation') throw new Error(`StridedSlice "${node.name}" on a constant`)
    const mask = (name: string) => Number(node.attr?.[name]?.i ?? 0)
    if (mask('ellipsis_mask') || mask('new_axis_mask')) {
      throw new Error(`StridedSlice "${node.name}" with ellipsis or new axes is not supported`)
    }
    const begin = [...this.#constant(beginValue, node).values]
    const end = [...this.#constant(endValue, node).values]
    const strides = [...this.#constant(stridesValue, node).values]
    const [beginMask, endMask, shrinkMask] = ['begin_mask', 'end_mask', 'shrink_axis_mask'].map(
      mask
    )
    const rank = x.shape.length
    const starts: number[] = []
    const ends: number[] = []
    const steps: number[] = []
    const shrink: number[] = []
    const shape: number[] = []
    for (let axis = 0; axis < rank; axis++) {
      const size = x.shape[axis]
      const step = strides[axis] ?? 1
      if (step !== 1) throw new Error(`StridedSlice "${node.name}" with a stride is not supported`)
      const bit = 1 << axis
      let start = axis < begin.length && !(beginMask & bit) ? begin[axis] : 0
      let stop = axis < end.length && !(endMask & bit) ? end[axis] : size
      if (start < 0) start += size
      if (stop < 0) stop += size
      if (shrinkMask & bit) {
        stop = start + 1
        shrink.push(axis)
      } else shape.push(Math.max(0, Math.min(stop, size) - start))
      starts.push(start)
      ends.push(Math.min(stop, size))
      steps.push(step)
    }
    const plain = this.#toPerm(x, identity(rank))
    const sliced = this.graph.add(
      'Slice',
      [
        plain.tensor,
        this.graph.int64s(starts, `${node.name}/starts`),
        this.graph.int64s(ends, `${node.name}/ends`),
        this.graph.int64s(identity(rank), `${node.name}/axes`),
        this.graph.int64s(steps, `${node.name}/steps`),
      ],
      {},
      shrink.length ? `${node.name}/slice` : node.name
    )
    const tensor = shrink.length
      ? this.graph.add(
          'Squeeze',
          [sliced, this.graph.int64s(shrink, `${node.name}/shrink`)],
          {},
          node.name
        )
      : sliced
    return { kind: 'activation', tensor, shape, perm: identity(shape.length) }
  }

  #concat(parts: Activation[], axis: number, hint: string): Activation {
    const rank = parts[0].shape.length
    const tfAxis = (axis + rank) % rank
    const perm = parts[0].perm
    const aligned = parts.map((part) => this.#toPerm(part, perm))
    const shape = [...parts[0].shape]
    shape[tfAxis] = parts.reduce((sum, part) => sum + part.shape[tfAxis], 0)
    return {
      kind: 'activation',
      tensor: this.graph.add(
        'Concat',
        aligned.map((part) => part.tensor),
        { axis: perm.indexOf(tfAxis) },
        hint
      ),
      shape,
      perm,
    }
  }
}

function attrString(node: TfNode, name: string, fallback?: string) {
  const encoded = node.attr?.[name]?.s
  if (encoded === undefined) {
    if (fallback === undefined) throw new Error(`"${node.name}" has no attribute ${name}`)
    return fallback
  }
  return Buffer.from(encoded, 'base64').toString('utf8')
}

function attrStrings(node: TfNode, name: string) {
  return (node.attr?.[name]?.list?.s ?? []).map((s) => Buffer.from(s, 'base64').toString('utf8'))
}

function attrInts(node: TfNode, name: string, fallback?: number[]) {
  const list = node.attr?.[name]?.list?.i
  if (!list) {
    if (fallback === undefined) throw new Error(`"${node.name}" has no attribute ${name}`)
    return fallback
  }
  return list.map(Number)
}

/**
 * Converts a TFJS graph model to ONNX. Activations run NCHW inside the graph
 * (what ONNX Conv expects); the input keeps the model's published NHWC
 * layout and every output is returned in TF's layout and shape.
 */
export function convertTfjsGraphModel(model: TfjsGraphModel, options: ConversionOptions) {
  const converter = new Converter(model, options)
  for (const output of options.outputs) converter.output(output.name, output.from, output.axis)
  return converter.graph
}
