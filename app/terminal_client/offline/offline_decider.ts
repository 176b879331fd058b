import { DateTime } from 'luxon'
import type { FaceFeature } from '#plugin-sdk'
import { decodeFeature, type FeatureComparator } from '#faces/feature_blob'
import {
  decideOpenSet,
  identificationThreshold,
  type OpenSetPolicy,
} from '#faces/open_set_identification'
import { personTemplates, type FaceBlock } from '#faces/person_templates'
import { decideAccess, type ScheduleRule } from '#services/access_rules'
import type { AgentDatabase } from '#terminal-client/agent_store'
import type { PassageReason } from '#terminal-client/agent_contracts'
import { readCopy, type DeviceRules } from '#terminal-client/offline/offline_copy'

export type OfflineDecision = {
  decision: 'granted' | 'denied'
  reason: PassageReason
  /** The person recognised, also when denied; absent for a stranger. */
  username?: string
  name?: string
  /** The best person's calibrated score; null when the copy holds no face of the probe's model. */
  score: number | null
  runnerUpScore: number | null
  /** The score that names someone in a gallery of this size. */
  threshold: number
}

export type OfflineDeciderOptions = {
  db: AgentDatabase
  /** The calibrations of models/manifest.json, as the server scores with. */
  comparator: FeatureComparator
  /** The agent's FPIR target and margin, for what the server does not send. */
  policy: OpenSetPolicy
}

type Person = {
  username: string
  name: string
  validFrom: DateTime | null
  validUntil: DateTime | null
  schedules: (ScheduleRule | null)[]
  cardNumber: string | null
}

/**
 * The faces of one model, row after row in one block, then the templates
 * of people with several faces (person_templates.ts), and whose each row is.
 */
type Gallery = FaceBlock & { faces: number }

/**
 * Decides at the door from the synced copy alone, as the server's
 * faceIdentify does: the calibrated scores of the best and next-best
 * people, a threshold from the number of faces and templates held and the FPIR target,
 * the margin, then the access rules (access_rules.ts, the server's own)
 * in the site's time zone. The copy is read into memory by `reload`, which
 * the sync calls after every batch it applies; a decision never touches
 * the database.
 */
export class OfflineDecider {
  #people: Person[] = []
  #galleries = new Map<string, Gallery>()
  #rules: DeviceRules | null = null
  #revision: number | null = null

  constructor(private options: OfflineDeciderOptions) {
    this.reload()
  }

  /** The revision the decisions are made from; null before the first sync. */
  get revision() {
    return this.#revision
  }

  get faces() {
    let total = 0
    for (const gallery of this.#galleries.values()) total += gallery.faces
    return total
  }

  get people() {
    return this.#people.length
  }

  /** What this device asks of a person, as the server last said; a face alone before the first sync. */
  get requiredFactors() {
    return this.#rules?.requiredFactors ?? 'face'
  }

  /** Reads the copy again; decisions made meanwhile use the previous one. */
  reload() {
    const copy = readCopy(this.options.db)
    const schedules = new Map(copy.groups.map((group) => [group.id, group.schedule]))
    const index = new Map<string, number>()
    const people = copy.people.map((person, at): Person => {
      index.set(person.username, at)
      return {
        username: person.username,
        name: person.name,
        validFrom: person.validFrom ? DateTime.fromISO(person.validFrom, { setZone: true }) : null,
        validUntil: person.validUntil
          ? DateTime.fromISO(person.validUntil, { setZone: true })
          : null,
        schedules: person.groups
          .filter((id) => schedules.has(id))
          .map((id) => schedules.get(id) ?? null),
        cardNumber: person.cardNumber,
      }
    })
    const byModel = new Map<string, typeof copy.faces>()
    for (const face of copy.faces) {
      if (!index.has(face.username)) continue
      const faces = byModel.get(face.model) ?? []
      faces.push(face)
      byModel.set(face.model, faces)
    }
    const galleries = new Map<string, Gallery>()
    for (const [model, faces] of byModel) {
      const dimension = faces[0].vector.length
      const sized = faces.filter((face) => face.vector.length === dimension)
      const vectors = new Float32Array(sized.length * dimension)
      const owners = new Int32Array(sized.length)
      sized.forEach((face, row) => {
        vectors.set(face.vector, row * dimension)
        owners[row] = index.get(face.username)!
      })
      const block: FaceBlock = { dimension, rows: sized.length, vectors, owners }
      const templates = personTemplates(block)
      const all = new Float32Array((block.rows + templates.rows) * dimension)
      all.set(vectors)
      all.set(templates.vectors.subarray(0, templates.rows * dimension), block.rows * dimension)
      const allOwners = new Int32Array(block.rows + templates.rows)
      allOwners.set(owners)
      allOwners.set(templates.owners.subarray(0, templates.rows), block.rows)
      galleries.set(model, {
        faces: block.rows,
        dimension,
        rows: block.rows + templates.rows,
        vectors: all,
        owners: allOwners,
      })
    }
    this.#people = people
    this.#galleries = galleries
    this.#rules = copy.rules
    this.#revision = copy.revision
  }

  decide(input: { feature: FaceFeature | string; at?: Date; cardUid?: string | null }) {
    const probe = typeof input.feature === 'string' ? decodeFeature(input.feature) : null
    if (probe && !probe.ok) throw new Error(`not a face feature: ${probe.error.message}`)
    const feature = probe ? probe.feature : (input.feature as FaceFeature)
    const at = DateTime.fromJSDate(input.at ?? new Date())

    const gallery = this.#galleries.get(feature.model)
    const policy = this.#policy()
    const searched = gallery && gallery.dimension === feature.vector.length ? gallery.rows : 0
    const threshold = identificationThreshold(searched, policy.targetFpir)
    const [best, next] = searched > 0 ? twoBestPeople(gallery!, feature.vector) : []
    const matches = [best, next]
      .filter((match) => match !== undefined)
      .map((match) => ({
        personId: match.person,
        score: this.#score(feature, gallery!, match.row),
      }))
    const open = decideOpenSet(matches, threshold, policy.margin)
    const runnerUpScore = open.runnerUp
    const person = open.named ? this.#people[open.match.personId] : null
    const score = open.named ? open.match.score : (open.best?.score ?? null)

    const rules = this.#rules
    const verdict = decideAccess({
      person: person && { active: true, ...person },
      schedules: person?.schedules ?? [],
      requiredFactors: rules?.requiredFactors ?? 'face',
      card: input.cardUid ?? null,
      at,
      timeZone: rules?.timeZone ?? 'UTC',
    })
    const decision: OfflineDecision = { ...verdict, score, runnerUpScore, threshold }
    if (person) Object.assign(decision, { username: person.username, name: person.name })
    return decision
  }

  #policy(): OpenSetPolicy {
    return {
      targetFpir: this.#rules?.targetFpir ?? this.options.policy.targetFpir,
      margin: this.#rules?.margin ?? this.options.policy.margin,
    }
  }

  /** The calibrated score of one stored face, exactly as the server's comparator gives it. */
  #score(probe: FaceFeature, gallery: Gallery, row: number) {
    const start = row * gallery.dimension
    const stored = {
      model: probe.model,
      vector: gallery.vectors.subarray(start, start + gallery.dimension),
    }
    const compared = this.options.comparator.compare(probe, stored)
    if (!compared.ok)
      throw new Error(`no calibrated score for ${probe.model}: ${compared.error.type}`)
    return compared.score
  }
}

/**
 * The best face of the best person and of the next person, by dot product
 * (the vectors are unit-length), in one pass over the block.
 */
function twoBestPeople(gallery: Gallery, probe: Float32Array) {
  const { dimension, vectors, owners, rows } = gallery
  let firstPerson = -1
  let firstDot = -Infinity
  let firstRow = -1
  let secondPerson = -1
  let secondDot = -Infinity
  let secondRow = -1
  for (let row = 0; row < rows; row++) {
    const start = row * dimension
    let dot = 0
    for (let i = 0; i < dimension; i++) dot += vectors[start + i] * probe[i]
    const person = owners[row]
    if (person === firstPerson) {
      if (dot > firstDot) {
        firstDot = dot
        firstRow = row
      }
    } else if (dot > firstDot) {
      secondPerson = firstPerson
      secondDot = firstDot
      secondRow = firstRow
      firstPerson = person
      firstDot = dot
      firstRow = row
    } else if (dot > secondDot) {
      secondPerson = person
      secondDot = dot
      secondRow = row
    }
  }
  const found = [{ person: firstPerson, row: firstRow }]
  if (secondRow >= 0) found.push({ person: secondPerson, row: secondRow })
  return found
}
