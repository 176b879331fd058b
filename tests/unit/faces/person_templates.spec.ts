import { test } from '@japa/runner'
import { personTemplates, templateOf } from '#faces/person_templates'

const unit = (...values: number[]) => {
  const norm = Math.hypot(...values)
  return values.map((value) => value / norm)
}

test.group('Person templates', () => {
  test('the template is the unit-length mean direction of the faces', ({ assert }) => {
    const template = templateOf([1, 1, 0], 3)!
    assert.deepEqual(
      Array.from(template, (value) => +value.toFixed(6)),
      [0.707107, 0.707107, 0]
    )
    assert.isNull(templateOf([0, 0, 0], 3))
  })

  test('only people with two or more faces get one, in the order they first appear', ({
    assert,
  }) => {
    const rows = [
      { owner: 7, vector: unit(1, 0, 0) },
      { owner: 3, vector: unit(0, 1, 0) },
      { owner: 7, vector: unit(0, 1, 0) },
      { owner: 5, vector: unit(0, 0, 1) },
      { owner: 3, vector: unit(0, 0, 1) },
      { owner: 3, vector: unit(0, 1, 1) },
    ]
    const block = personTemplates({
      dimension: 3,
      rows: rows.length,
      vectors: Float32Array.from(rows.flatMap((row) => row.vector)),
      owners: Int32Array.from(rows.map((row) => row.owner)),
    })
    assert.equal(block.rows, 2)
    assert.deepEqual(Array.from(block.owners.subarray(0, 2)), [7, 3])
    const [seven, three] = [block.vectors.subarray(0, 3), block.vectors.subarray(3, 6)]
    assert.deepEqual(
      Array.from(seven, (value) => +value.toFixed(6)),
      [0.707107, 0.707107, 0]
    )
    assert.closeTo(three[0], 0, 1e-7)
    assert.closeTo(three[1], three[2], 1e-6)
    assert.closeTo(Math.hypot(...three), 1, 1e-6)
  })
})
