import { readFile } from 'node:fs/promises'
import onnxProto from 'onnx-proto'
import type { ElementType, TensorSpec } from '#tools/model_builder/onnx_graph'

const { onnx } = onnxProto

const elementTypes: Partial<Record<number, ElementType>> = {
  [onnx.TensorProto.DataType.FLOAT]: 'float32',
  [onnx.TensorProto.DataType.INT64]: 'int64',
}

/**
 * An ONNX model a package ships ready to run, taken byte for byte: its
 * checksum is then the package's own, and only its graph inputs and
 * outputs are read, for the manifest. Exporters that list weights among
 * the graph inputs (older PyTorch) have those skipped.
 */
export async function readOnnxFile(path: string) {
  const bytes = new Uint8Array(await readFile(path))
  const { graph } = onnx.ModelProto.decode(bytes)
  if (!graph) throw new Error(`${path} holds no graph`)
  const weights = new Set((graph.initializer ?? []).map((tensor) => tensor.name))
  const spec = (value: onnxProto.onnx.IValueInfoProto): TensorSpec => {
    const tensor = value.type?.tensorType
    const type = elementTypes[tensor?.elemType ?? -1]
    if (!type) throw new Error(`${path}: ${value.name} has element type ${tensor?.elemType}`)
    /* A symbolic dimension (the batch, say) is fed one at a time here. */
    const shape = (tensor?.shape?.dim ?? []).map((dim) => {
      const size = dim.dimValue
      return (typeof size === 'number' ? size : (size?.toNumber() ?? 0)) || 1
    })
    return { name: value.name!, shape, type }
  }
  return {
    inputs: (graph.input ?? []).filter((value) => !weights.has(value.name!)).map(spec),
    outputs: (graph.output ?? []).map(spec),
    toBytes: () => bytes,
  }
}
