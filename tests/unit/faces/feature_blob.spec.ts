import { test } from '@japa/runner'
import type { ScoreCalibration } from '#plugin-sdk'
import {
  calibratedScore,
  decodeFeature,
  encodeFeature,
  FeatureComparator,
} from '#faces/feature_blob'

const calibration: ScoreCalibration = {
  metric: 'cosine',
  knots: [
    [-1, 0],
    [0.2, 0.3],
    [0.5, 0.5],
    [0.6, 0.6],
    [1, 1],
  ],
  measured: {
    dataset: 'test',
    genuinePairs: 0,
    impostorPairs: 0,
    similarityAtThreshold: 0.6,
    farAtThreshold: 0,
    frrAtThreshold: 0,
  },
}

function unit(values: number[]) {
  const norm = Math.hypot(...values)
  return Float32Array.from(values, (value) => value / norm)
}

test.group('Feature blob', () => {
  test('round-trips a feature with its model id', ({ assert }) => {
    const feature = { model: 'faceapi-recognition', vector: unit([1, 2, 3, 4]) }
    const blob = encodeFeature(feature)
    const bytes = Buffer.from(blob, 'base64')
    assert.equal(bytes.subarray(0, 4).toString('latin1'), 'FAFT')
    assert.equal(bytes[4], 1, 'format version')
    assert.equal(bytes[5], 1, 'float32')
    assert.equal(bytes.subarray(7, 7 + bytes[6]).toString('latin1'), 'faceapi-recognition')
    assert.equal(bytes.readUInt16LE(7 + bytes[6]), 4)

    const decoded = decodeFeature(blob)
    assert.isTrue(decoded.ok)
    if (decoded.ok) {
      assert.equal(decoded.feature.model, 'faceapi-recognition')
      assert.deepEqual([...decoded.feature.vector], [...feature.vector])
    }
  })

  test('accepts base64 wrapped over lines', ({ assert }) => {
    const blob = encodeFeature({
      model: 'faceres',
      vector: unit(Array.from({ length: 64 }, (_, i) => i + 1)),
    })
    const wrapped = blob.match(/.{1,76}/g)!.join('\r\n')
    assert.isTrue(decodeFeature(wrapped).ok)
  })

  test('calls malformed whatever is not a valid blob', ({ assert }) => {
    const good = Buffer.from(encodeFeature({ model: 'faceres', vector: unit([3, 4]) }), 'base64')
    const withByte = (offset: number, value: number) => {
      const copy = Buffer.from(good)
      copy[offset] = value
      return copy.toString('base64')
    }
    const notUnit = Buffer.from(good)
    notUnit.writeFloatLE(2, 16)
    for (const text of [
      '',
      'not base64!',
      'QUJD=QUJD',
      'QUJDRA',
      Buffer.from('hello world').toString('base64'),
      withByte(0, 0x58),
      withByte(4, 2),
      withByte(5, 9),
      withByte(6, 200),
      withByte(7, 0x41),
      good.subarray(0, good.length - 1).toString('base64'),
      Buffer.concat([good, Buffer.from([0, 0, 0, 0])]).toString('base64'),
      notUnit.toString('base64'),
    ]) {
      const result = decodeFeature(text)
      assert.isFalse(result.ok, `accepted ${JSON.stringify(text)}`)
      if (!result.ok) assert.equal(result.error.type, 'malformed')
    }
  })

  test('maps similarity to score through the knots', ({ assert }) => {
    assert.equal(calibratedScore(calibration, -1), 0)
    assert.closeTo(calibratedScore(calibration, 0.35), 0.4, 1e-9)
    assert.equal(calibratedScore(calibration, 0.6), 0.6)
    assert.closeTo(calibratedScore(calibration, 0.8), 0.8, 1e-9)
    assert.equal(calibratedScore(calibration, 1.5), 1)
  })

  test('compares features of one model with its calibration', ({ assert }) => {
    const comparator = new FeatureComparator({ faceres: calibration })
    const a = encodeFeature({ model: 'faceres', vector: unit([1, 0, 0]) })
    const b = encodeFeature({ model: 'faceres', vector: unit([0.6, 0.8, 0]) })
    const result = comparator.compare(a, b)
    assert.isTrue(result.ok)
    if (result.ok) {
      assert.closeTo(result.similarity, 0.6, 1e-6)
      assert.closeTo(result.score, 0.6, 1e-6)
      assert.equal(result.model, 'faceres')
    }
  })

  test('refuses to compare features of different models', ({ assert }) => {
    const comparator = new FeatureComparator({
      'faceres': calibration,
      'faceapi-recognition': calibration,
    })
    const a = encodeFeature({ model: 'faceres', vector: unit([1, 0, 0]) })
    const b = encodeFeature({ model: 'faceapi-recognition', vector: unit([1, 0, 0]) })
    assert.deepEqual(comparator.compare(a, b), {
      ok: false,
      error: { type: 'model_mismatch', models: ['faceres', 'faceapi-recognition'] },
    })
  })

  test('names a model it has no calibration for', ({ assert }) => {
    const comparator = new FeatureComparator({ faceres: calibration })
    const a = encodeFeature({ model: 'arcface-r100', vector: unit([1, 0]) })
    assert.deepEqual(comparator.compare(a, a), {
      ok: false,
      error: { type: 'uncalibrated', model: 'arcface-r100' },
    })
  })

  test('reports a malformed blob before comparing', ({ assert }) => {
    const comparator = new FeatureComparator({ faceres: calibration })
    const a = encodeFeature({ model: 'faceres', vector: unit([1, 0]) })
    const result = comparator.compare(a, '@@@@')
    assert.isFalse(result.ok)
    if (!result.ok) assert.equal(result.error.type, 'malformed')
  })

  test('reads the calibrations shipped in the models manifest', async ({ assert }) => {
    const comparator = await FeatureComparator.fromManifest('models/manifest.json')
    const vector = unit([1, 2, 3])
    const result = comparator.compare(
      { model: 'faceapi-recognition', vector },
      { model: 'faceapi-recognition', vector }
    )
    assert.isTrue(result.ok)
    if (result.ok) assert.closeTo(result.score, 1, 1e-6)
  })
})
