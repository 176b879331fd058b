import { test } from '@japa/runner'
import {
  featureLength,
  fusedEmbedders,
  fusedEmbedding,
  isEmbedderModel,
  networksOf,
} from '../embedder.js'

function unit(length: number, seed: number) {
  let state = seed >>> 0
  const vector = new Float32Array(length).map(() => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296 - 0.5
  })
  const norm = Math.hypot(...vector)
  return vector.map((value) => value / norm)
}

const dot = (a: Float32Array, b: Float32Array) => a.reduce((sum, value, i) => sum + value * b[i], 0)

test.group('Fused recognition model', () => {
  test('its feature is unit length, and two compare as the weighted mean of the parts', ({
    assert,
  }) => {
    const [arcface, dlib] = fusedEmbedders['arcface-dlib']
    const first = [unit(512, 1), unit(128, 2)]
    const second = [unit(512, 3), unit(128, 4)]
    second[0] = second[0].map((value, i) => value + first[0][i])
    second[0] = second[0].map((value) => value / Math.hypot(...second[0]))

    const a = fusedEmbedding('arcface-dlib', first)
    const b = fusedEmbedding('arcface-dlib', second)
    assert.lengthOf(a, featureLength('arcface-dlib'))
    assert.closeTo(Math.hypot(...a), 1, 1e-6)
    const expected =
      (arcface.weight * dot(first[0], second[0]) + dlib.weight * dot(first[1], second[1])) /
      (arcface.weight + dlib.weight)
    assert.closeTo(dot(a, b), expected, 1e-5)
    assert.isAbove(dot(a, b), 0.2, 'the ArcFace halves agree, the dlib halves do not')
  })

  test('it runs its two networks, and is a model like the others', ({ assert }) => {
    assert.deepEqual(networksOf('arcface-dlib'), ['faceplugin-arcface', 'faceapi-recognition'])
    assert.deepEqual(networksOf('faceplugin-arcface'), ['faceplugin-arcface'])
    assert.equal(featureLength('arcface-dlib'), 640)
    assert.isTrue(isEmbedderModel('arcface-dlib'))
    assert.isFalse(isEmbedderModel('arcface-dlib-2'))
  })
})
