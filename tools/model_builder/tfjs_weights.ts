/**
 * The weights format shared by TFJS graph models and face-api's weight
 * manifests: one or more groups of .bin shards holding tensors back to
 * back, optionally quantised to uint8/uint16 (affine) or float16.
 */
export interface TfjsWeightSpec {
  name: string
  shape: number[]
  dtype: 'float32' | 'int32'
  quantization?: { dtype: 'uint8' | 'uint16' | 'float16'; scale?: number; min?: number }
}

export interface TfjsWeightsGroup {
  paths: string[]
  weights: TfjsWeightSpec[]
}

export interface DecodedTensor {
  shape: number[]
  values: Float32Array | Int32Array
}

const float16Table = (() => {
  const table = new Float32Array(65536)
  for (let bits = 0; bits < 65536; bits++) {
    const sign = bits & 0x8000 ? -1 : 1
    const exponent = (bits >> 10) & 0x1f
    const fraction = bits & 0x3ff
    if (exponent === 0) table[bits] = sign * 2 ** -14 * (fraction / 1024)
    else if (exponent === 31) table[bits] = fraction ? Number.NaN : sign * Number.POSITIVE_INFINITY
    else table[bits] = sign * 2 ** (exponent - 15) * (1 + fraction / 1024)
  }
  return table
})()

const storedBytes = { uint8: 1, uint16: 2, float16: 2 } as const

/**
 * Dequantises the way tfjs-core's `io.decodeWeights` does (`q * scale + min`
 * rounded once to float32), so converted weights are bit-identical to the
 * ones tfjs runs with.
 */
export function decodeTfjsWeights(specs: TfjsWeightSpec[], data: Uint8Array) {
  const tensors = new Map<string, DecodedTensor>()
  const view = new DataView(data.buffer, data.byteOffset, data.byteLength)
  let offset = 0
  for (const spec of specs) {
    const size = spec.shape.reduce((a, b) => a * b, 1)
    const quantization = spec.quantization
    const bytes = size * (quantization ? storedBytes[quantization.dtype] : 4)
    if (offset + bytes > data.byteLength) {
      throw new Error(`Weights data ends before "${spec.name}" (needs ${bytes} bytes at ${offset})`)
    }
    const values = spec.dtype === 'int32' ? new Int32Array(size) : new Float32Array(size)
    for (let i = 0; i < size; i++) {
      if (!quantization) {
        values[i] =
          spec.dtype === 'int32'
            ? view.getInt32(offset + i * 4, true)
            : view.getFloat32(offset + i * 4, true)
      } else if (quantization.dtype === 'float16') {
        values[i] = float16Table[view.getUint16(offset + i * 2, true)]
      } else {
        const q =
          quantization.dtype === 'uint8'
            ? view.getUint8(offset + i)
            : view.getUint16(offset + i * 2, true)
        const value = q * quantization.scale! + quantization.min!
        values[i] = spec.dtype === 'int32' ? Math.round(value) : value
      }
    }
    tensors.set(spec.name, { shape: spec.shape, values })
    offset += bytes
  }
  if (offset !== data.byteLength) {
    throw new Error(`Weights data has ${data.byteLength - offset} bytes left over`)
  }
  return tensors
}
