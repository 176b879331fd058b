import onnxProto from 'onnx-proto'

const { onnx } = onnxProto

/**
 * ONNX IR 8 is the newest the onnx-proto messages describe; opset 17 is the
 * last one where ReduceMean/ReduceMax still take their axes as an attribute,
 * and onnxruntime-node runs it natively.
 */
const IR_VERSION = 8
const OPSET = 17

export type ElementType = 'float32' | 'int64'

export interface TensorSpec {
  name: string
  shape: number[]
  type: ElementType
}

/**
 * Every attribute these graphs use is an int, an int list or a string; a
 * float attribute would need a tag of its own, as `1` reads as an int.
 */
export type AttributeValue = number | number[] | string

const elementTypes: Record<ElementType, number> = {
  float32: onnx.TensorProto.DataType.FLOAT,
  int64: onnx.TensorProto.DataType.INT64,
}

function valueInfo(spec: TensorSpec): onnxProto.onnx.IValueInfoProto {
  return {
    name: spec.name,
    type: {
      tensorType: {
        elemType: elementTypes[spec.type],
        shape: { dim: spec.shape.map((dimValue) => ({ dimValue })) },
      },
    },
  }
}

function attribute(name: string, value: AttributeValue): onnxProto.onnx.IAttributeProto {
  const { AttributeType } = onnx.AttributeProto
  if (typeof value === 'string') {
    return { name, type: AttributeType.STRING, s: new TextEncoder().encode(value) }
  }
  if (Array.isArray(value)) {
    return { name, type: AttributeType.INTS, ints: value }
  }
  return { name, type: AttributeType.INT, i: value }
}

function bytesOf(values: Float32Array | BigInt64Array) {
  return new Uint8Array(
    values.buffer.slice(values.byteOffset, values.byteOffset + values.byteLength)
  )
}

/**
 * A small append-only ONNX graph: nodes in execution order, initializers
 * from typed arrays, named inputs and outputs with static shapes.
 */
export class OnnxGraph {
  readonly inputs: TensorSpec[] = []
  readonly outputs: TensorSpec[] = []
  #nodes: onnxProto.onnx.INodeProto[] = []
  #initializers: onnxProto.onnx.ITensorProto[] = []
  #names = new Set<string>()
  #reserved = new Set<string>()
  #shared = new Map<string, string>()

  constructor(readonly name: string) {}

  /**
   * A fresh tensor name. TF names are reused as hints so that a graph can
   * be read next to the model it came from.
   */
  #uniqueName(hint: string) {
    const base = hint.replace(/[^A-Za-z0-9_/.-]/g, '_') || 'tensor'
    let name = base
    for (let n = 1; this.#names.has(name) || this.#reserved.has(name); n++) name = `${base}_${n}`
    this.#names.add(name)
    return name
  }

  /**
   * Keeps public input and output names free, as intermediate tensors are
   * named after source nodes that may be called the same.
   */
  reserve(names: string[]) {
    for (const name of names) this.#reserved.add(name)
  }

  addInput(name: string, shape: number[], type: ElementType = 'float32') {
    this.#claim(name)
    this.inputs.push({ name, shape, type })
    return name
  }

  /**
   * Exposes `tensor` as a graph output called `name`; an Identity keeps the
   * public name independent of the node that computes it.
   */
  addOutput(name: string, tensor: string, shape: number[], type: ElementType = 'float32') {
    this.#claim(name)
    this.#nodes.push({
      opType: 'Identity',
      name: `${name}/identity`,
      input: [tensor],
      output: [name],
    })
    this.outputs.push({ name, shape, type })
    return name
  }

  floats(values: Float32Array, dims: number[], hint = 'const') {
    if (values.length !== dims.reduce((a, b) => a * b, 1)) {
      throw new Error(`Initializer "${hint}" has ${values.length} values for shape [${dims}]`)
    }
    const name = this.#uniqueName(hint)
    this.#initializers.push({
      name,
      dims,
      dataType: elementTypes.float32,
      rawData: bytesOf(values),
    })
    return name
  }

  /** A float scalar; equal ones are shared. */
  scalar(value: number, hint = 'scalar') {
    const key = `float:${value}`
    const cached = this.#shared.get(key)
    if (cached) return cached
    const name = this.floats(Float32Array.of(value), [], hint)
    this.#shared.set(key, name)
    return name
  }

  /**
   * 1-D int64 constants (shapes, axes, pads); equal ones are shared.
   */
  int64s(values: number[], hint = 'ints') {
    const key = `int64:${values.join(',')}`
    const cached = this.#shared.get(key)
    if (cached) return cached
    const name = this.#uniqueName(hint)
    this.#initializers.push({
      name,
      dims: [values.length],
      dataType: elementTypes.int64,
      rawData: bytesOf(BigInt64Array.from(values, (v) => BigInt(v))),
    })
    this.#shared.set(key, name)
    return name
  }

  /**
   * Appends a node with one output and returns that output's name. Empty
   * strings in `inputs` stand for omitted optional inputs, as in ONNX.
   */
  add(
    opType: string,
    inputs: string[],
    attributes: Record<string, AttributeValue> = {},
    hint?: string
  ) {
    const output = this.#uniqueName(hint ?? opType.toLowerCase())
    this.#nodes.push({
      opType,
      name: output,
      input: inputs,
      output: [output],
      attribute: Object.entries(attributes).map(([key, value]) => attribute(key, value)),
    })
    return output
  }

  toBytes(metadata: Record<string, string> = {}, producerVersion = '1'): Uint8Array {
    const model: onnxProto.onnx.IModelProto = {
      irVersion: IR_VERSION,
      opsetImport: [{ domain: '', version: OPSET }],
      producerName: 'faceaccess models:build',
      producerVersion,
      metadataProps: Object.entries(metadata).map(([key, value]) => ({ key, value })),
      graph: {
        name: this.name,
        node: this.#nodes,
        initializer: this.#initializers,
        input: this.inputs.map(valueInfo),
        output: this.outputs.map(valueInfo),
      },
    }
    return onnx.ModelProto.encode(model).finish()
  }

  #claim(name: string) {
    if (this.#names.has(name)) throw new Error(`Tensor name "${name}" is already used`)
    this.#names.add(name)
  }
}
