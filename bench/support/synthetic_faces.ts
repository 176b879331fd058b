import type { DatabaseSync } from 'node:sqlite'

/**
 * Synthetic faces for the benchmarks' galleries: unit vectors drawn
 * uniformly from the sphere (normalised Gaussian draws from a seeded
 * generator, so that two runs search the same gallery), stored as the
 * `faces` table holds a model's features.
 */
export class SyntheticFaces {
  #seed: number

  constructor(
    readonly dimension: number,
    seed = 12_345
  ) {
    this.#seed = seed
  }

  #gaussian() {
    this.#seed = (Math.imul(this.#seed, 1_103_515_245) + 12_345) >>> 0
    const u = (this.#seed + 1) / 4_294_967_297
    this.#seed = (Math.imul(this.#seed, 1_103_515_245) + 12_345) >>> 0
    const v = (this.#seed + 1) / 4_294_967_297
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * v)
  }

  random() {
    return unit(new Float32Array(this.dimension).map(() => this.#gaussian()))
  }

  /** The same face seen again: cosine about 0.98 with `face` whatever the dimension. */
  noisy(face: Float32Array) {
    const spread = 0.018 * Math.sqrt(128 / this.dimension)
    return unit(face.map((value) => value + spread * this.#gaussian()))
  }
}

function unit(vector: Float32Array) {
  let norm = 0
  for (const value of vector) norm += value * value
  norm = Math.sqrt(norm)
  return vector.map((value) => value / norm)
}

/**
 * Inserts `people` active people (`<prefix>.000001`, …) with
 * `facesPerPerson` faces each — the first a random face, the others noisy
 * copies of it — of `model`, in one transaction, each a member of
 * `groupId` when given. Returns each person's first face.
 */
export function insertSyntheticPeople(
  sqlite: DatabaseSync,
  faces: SyntheticFaces,
  options: { people: number; facesPerPerson: number; model: string; groupId?: number | bigint },
  now: string,
  prefix = 'bench'
) {
  const person = sqlite.prepare(
    `insert into people (username, display_name, status, revision, created_at, updated_at)
     values (?, ?, 'active', 0, ?, ?)`
  )
  const member = sqlite.prepare(
    'insert into access_group_people (access_group_id, person_id) values (?, ?)'
  )
  const face = sqlite.prepare(
    `insert into faces (person_id, embedding, engine, model_id, dimension, source, created_at)
     values (?, ?, 'engine', ?, ?, 'api', ?)`
  )
  const enrolled: Float32Array[] = []
  sqlite.exec('begin')
  for (let i = 0; i < options.people; i++) {
    const username = `${prefix}.${String(i).padStart(6, '0')}`
    const id = person.run(username, `Bench ${i}`, now, now).lastInsertRowid
    if (options.groupId !== undefined) member.run(options.groupId, id)
    const base = faces.random()
    enrolled.push(base)
    for (let copy = 0; copy < options.facesPerPerson; copy++) {
      const vector = copy === 0 ? base : faces.noisy(base)
      face.run(id, Buffer.from(vector.buffer), options.model, faces.dimension, now)
    }
  }
  sqlite.exec('commit')
  return enrolled
}
