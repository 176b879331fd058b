import { readFileSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { ScoreCalibration } from '#plugin-sdk'
import { calibratedScore, encodeFeature, FeatureComparator } from '#faces/feature_blob'
import { defaultMargin, identificationThreshold } from '#faces/open_set_identification'
import { openAgentDatabase, type AgentDatabase } from '#terminal-client/agent_store'
import {
  applyBatch,
  batchOf,
  readCopy,
  UnusableAnswer,
} from '#terminal-client/offline/offline_copy'
import { OfflineDecider } from '#terminal-client/offline/offline_decider'

/**
 * The offline decision on a copy built from getDbs-shaped answers, with
 * the real calibration of the recognition model: features are made to
 * score exactly what each case needs against the probe.
 */
const model = 'faceapi-recognition'
const dimension = 128
const manifestPath = app.makePath('models/manifest.json')
const calibration = (
  JSON.parse(readFileSync(manifestPath, 'utf8')) as {
    models: Record<string, { calibration: ScoreCalibration }>
  }
).models[model].calibration
const policy = { targetFpir: 0.01, margin: defaultMargin }

/** The similarity the calibration turns into `score`. */
function similarityFor(score: number) {
  let [low, high] = [-1, 1]
  for (let i = 0; i < 60; i++) {
    const middle = (low + high) / 2
    if (calibratedScore(calibration, middle) < score) low = middle
    else high = middle
  }
  return high
}

const probe = basis(0)

function basis(axis: number) {
  const vector = new Float32Array(dimension)
  vector[axis] = 1
  return vector
}

/** A unit vector scoring `score` against the probe, along its own axis (1…127). */
function scoring(score: number, axis: number) {
  const similarity = similarityFor(score)
  const vector = new Float32Array(dimension)
  vector[0] = similarity
  vector[axis] = Math.sqrt(1 - similarity * similarity)
  return vector
}

/** Unit vectors in random directions: nearly orthogonal to the probe, so nobody's match. */
function stranger(seed: number) {
  let state = seed * 2_654_435_761
  const vector = new Float32Array(dimension).map(() => {
    state = (Math.imul(state, 1_664_525) + 1_013_904_223) >>> 0
    return state / 4_294_967_296 - 0.5
  })
  vector[0] = 0
  const norm = Math.hypot(...vector)
  return vector.map((value) => value / norm)
}

type Entry = {
  username: string
  vectors: Float32Array[]
  groups?: number[]
  validFrom?: string | null
  validUntil?: string | null
  cardNumber?: string
  model?: string
}

function answer(entries: Entry[], extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    code: 0,
    revision: 1,
    full: true,
    removed: [],
    names: entries.flatMap((entry) =>
      entry.vectors.map((vector) => ({
        name: entry.username.toUpperCase(),
        username: entry.username,
        faceData: encodeFeature({ model: entry.model ?? model, vector }),
        picUrl: '',
      }))
    ),
    people: entries.map((entry) => ({
      username: entry.username,
      validFrom: entry.validFrom ?? null,
      validUntil: entry.validUntil ?? null,
      groups: entry.groups ?? [1],
      ...(entry.cardNumber ? { cardNumber: entry.cardNumber } : {}),
    })),
    groups: [{ id: 1, name: 'Staff', schedule: null }],
    requiredFactors: 'face',
    timeZone: 'Asia/Shanghai',
    ...extra,
  }
}

let opened: { db: AgentDatabase; path: string }[] = []

function deciderWith(...answers: Record<string, unknown>[]) {
  const path = app.makePath('tmp', `offline-unit-${process.pid}-${opened.length}.sqlite3`)
  const db = openAgentDatabase(path)
  opened.push({ db, path })
  for (const given of answers) applyBatch(db, batchOf(given))
  const comparator = new FeatureComparator({ [model]: calibration })
  return { db, decider: new OfflineDecider({ db, comparator, policy }) }
}

const fillers = (count: number) =>
  Array.from({ length: count }, (_, index) => ({
    username: `filler.${index}`,
    vectors: [stranger(index + 1)],
  }))

test.group('Offline decider: recognition', (group) => {
  group.each.teardown(async () => {
    for (const { db, path } of opened) {
      db.close()
      await Promise.all(['', '-wal', '-shm'].map((end) => rm(`${path}${end}`, { force: true })))
    }
    opened = []
  })

  test('the threshold follows the faces held: {faces} faces')
    .with([{ faces: 1 }, { faces: 200 }, { faces: 3000 }])
    .run(({ assert }, { faces }) => {
      const threshold = identificationThreshold(faces, policy.targetFpir)
      const { decider } = deciderWith(
        answer([
          { username: 'above', vectors: [scoring(threshold + 0.004, 1)] },
          ...fillers(faces - 1),
        ])
      )
      assert.equal(decider.faces, faces)
      const granted = decider.decide({ feature: { model, vector: probe } })
      assert.include(granted, { decision: 'granted', reason: 'granted', username: 'above' })
      assert.equal(granted.threshold, threshold)
      assert.closeTo(granted.score!, threshold + 0.004, 1e-4)

      const { decider: below } = deciderWith(
        answer([
          { username: 'below', vectors: [scoring(threshold - 0.004, 1)] },
          ...fillers(faces - 1),
        ])
      )
      const denied = below.decide({ feature: encodeFeature({ model, vector: probe }) })
      assert.include(denied, { decision: 'denied', reason: 'unknown_face' })
      assert.notProperty(denied, 'username')
      assert.closeTo(denied.score!, threshold - 0.004, 1e-4)
    })

  test('the best person must lead the next by the margin; their own faces do not count', ({
    assert,
  }) => {
    const { decider: close } = deciderWith(
      answer([
        { username: 'twin.a', vectors: [scoring(0.9, 1)] },
        { username: 'twin.b', vectors: [scoring(0.9 - defaultMargin + 0.005, 2)] },
      ])
    )
    const ambiguous = close.decide({ feature: { model, vector: probe } })
    assert.include(ambiguous, { decision: 'denied', reason: 'unknown_face' })
    assert.closeTo(ambiguous.score!, 0.9, 1e-4)
    assert.closeTo(ambiguous.runnerUpScore!, 0.9 - defaultMargin + 0.005, 1e-4)

    const { decider: apart } = deciderWith(
      answer([
        { username: 'twin.a', vectors: [scoring(0.9, 1), scoring(0.895, 3)] },
        { username: 'twin.b', vectors: [scoring(0.9 - defaultMargin - 0.005, 2)] },
      ])
    )
    const named = apart.decide({ feature: { model, vector: probe } })
    assert.include(named, { decision: 'granted', username: 'twin.a', name: 'TWIN.A' })
    assert.closeTo(named.runnerUpScore!, 0.9 - defaultMargin - 0.005, 1e-4)
  })

  test('a person with two faces is also searched as a whole, and counted once more', ({
    assert,
  }) => {
    const threshold = identificationThreshold(2 + 1, policy.targetFpir)
    /* Each face alone scores below the threshold; their mean direction lies nearer the probe. */
    const [first, second] = [scoring(threshold - 0.05, 1), scoring(threshold - 0.05, 2)]
    const { decider } = deciderWith(
      answer([
        { username: 'twice', vectors: [first, second] },
        { username: 'other', vectors: [stranger(3)] },
      ])
    )
    assert.equal(decider.faces, 3)
    const decision = decider.decide({ feature: { model, vector: probe } })
    assert.equal(decision.threshold, threshold)
    assert.include(decision, { decision: 'granted', username: 'twice' })
    assert.isAbove(decision.score!, threshold)

    const { decider: once } = deciderWith(
      answer([
        { username: 'once', vectors: [first] },
        { username: 'other', vectors: [stranger(3)] },
      ])
    )
    const alone = once.decide({ feature: { model, vector: probe } })
    assert.equal(alone.threshold, identificationThreshold(2, policy.targetFpir))
    assert.include(alone, { decision: 'denied', reason: 'unknown_face' })
  })

  test('a target FPIR and margin the server sends replace the agent’s own', ({ assert }) => {
    const people = [
      { username: 'a', vectors: [scoring(0.9, 1)] },
      { username: 'b', vectors: [scoring(0.86, 2)] },
    ]
    const { decider: own } = deciderWith(answer(people))
    assert.equal(own.decide({ feature: { model, vector: probe } }).decision, 'granted')
    const { decider: sent } = deciderWith(answer(people, { targetFpir: 1e-6, margin: 0.05 }))
    const decision = sent.decide({ feature: { model, vector: probe } })
    assert.equal(decision.threshold, identificationThreshold(2, 1e-6))
    assert.include(decision, { decision: 'denied', reason: 'unknown_face' })
  })

  test('faces of another model are not compared nor counted', ({ assert }) => {
    const { decider } = deciderWith(
      answer([
        { username: 'old', vectors: [scoring(0.99, 1)], model: 'faceres' },
        { username: 'new', vectors: [stranger(9)] },
      ])
    )
    const decision = decider.decide({ feature: { model, vector: probe } })
    assert.include(decision, { decision: 'denied', reason: 'unknown_face' })
    assert.equal(decision.threshold, identificationThreshold(1, policy.targetFpir))
  })

  test('an empty copy knows nobody', ({ assert }) => {
    const { decider } = deciderWith()
    assert.isNull(decider.revision)
    assert.deepEqual(decider.decide({ feature: { model, vector: probe } }), {
      decision: 'denied',
      reason: 'unknown_face',
      score: null,
      runnerUpScore: null,
      threshold: identificationThreshold(0, policy.targetFpir),
    })
  })
})

test.group('Offline decider: access rules', (group) => {
  group.each.teardown(async () => {
    for (const { db, path } of opened) {
      db.close()
      await Promise.all(['', '-wal', '-shm'].map((end) => rm(`${path}${end}`, { force: true })))
    }
    opened = []
  })

  const weekdayMornings = {
    windows: [{ weekday: 1, startsAtMinute: 8 * 60, endsAtMinute: 12 * 60 }],
    holidays: ['2031-01-06'],
  }
  const at = (iso: string) => new Date(iso)

  test('a schedule applies in the site time zone, end exclusive, never on holidays', ({
    assert,
  }) => {
    const { decider } = deciderWith(
      answer([{ username: 'worker', vectors: [scoring(0.95, 1)] }], {
        groups: [{ id: 1, name: 'Mornings', schedule: weekdayMornings }],
      })
    )
    const feature = { model, vector: probe }
    // Monday 13 January 2031 in Shanghai (UTC+8).
    const cases: [string, string][] = [
      ['2031-01-13T07:59:59+08:00', 'outside_schedule'],
      ['2031-01-13T08:00:00+08:00', 'granted'],
      ['2031-01-13T11:59:59+08:00', 'granted'],
      ['2031-01-13T12:00:00+08:00', 'outside_schedule'],
      // 01:00 UTC on Monday is 09:00 in Shanghai; Sunday 23:00 UTC is Monday 07:00 there.
      ['2031-01-13T01:00:00Z', 'granted'],
      ['2031-01-12T23:30:00Z', 'outside_schedule'],
      ['2031-01-06T09:00:00+08:00', 'outside_schedule'],
      ['2031-01-14T09:00:00+08:00', 'outside_schedule'],
    ]
    for (const [time, reason] of cases) {
      const decision = decider.decide({ feature, at: at(time) })
      assert.equal(decision.reason, reason, time)
      assert.equal(decision.username, 'worker')
    }
  })

  test('a group without a schedule opens at any time beside a scheduled one', ({ assert }) => {
    const { decider } = deciderWith(
      answer([{ username: 'guard', vectors: [scoring(0.95, 1)], groups: [1, 2] }], {
        groups: [
          { id: 1, name: 'Mornings', schedule: weekdayMornings },
          { id: 2, name: 'Always', schedule: null },
        ],
      })
    )
    const decision = decider.decide({
      feature: { model, vector: probe },
      at: at('2031-01-06T03:00:00+08:00'),
    })
    assert.equal(decision.reason, 'granted')
  })

  test('validity dates bound the person, both ends inclusive', ({ assert }) => {
    const { decider } = deciderWith(
      answer([
        {
          username: 'contractor',
          vectors: [scoring(0.95, 1)],
          validFrom: '2031-01-01T00:00:00.000+08:00',
          validUntil: '2031-01-31T18:00:00.000+08:00',
        },
      ])
    )
    const feature = { model, vector: probe }
    const reasonAt = (time: string) => decider.decide({ feature, at: at(time) }).reason
    assert.equal(reasonAt('2030-12-31T23:59:59+08:00'), 'expired')
    assert.equal(reasonAt('2031-01-01T00:00:00+08:00'), 'granted')
    assert.equal(reasonAt('2031-01-31T18:00:00+08:00'), 'granted')
    assert.equal(reasonAt('2031-01-31T18:00:01+08:00'), 'expired')
  })

  test('a device that asks for a card admits a face with the person’s card only', ({ assert }) => {
    const { decider } = deciderWith(
      answer([{ username: 'carded', vectors: [scoring(0.95, 1)], cardNumber: '04A1B2C3' }], {
        requiredFactors: 'face_card',
      })
    )
    const feature = { model, vector: probe }
    assert.equal(decider.decide({ feature }).reason, 'not_authorized')
    assert.equal(decider.decide({ feature, cardUid: 'FFFFFFFF' }).reason, 'not_authorized')
    assert.equal(decider.decide({ feature, cardUid: '04A1B2C3' }).reason, 'granted')
  })

  test('someone whose groups do not reach this device is recognised and not authorised', ({
    assert,
  }) => {
    const { decider } = deciderWith(
      answer([{ username: 'visitor', vectors: [scoring(0.95, 1)], groups: [7] }])
    )
    const decision = decider.decide({ feature: { model, vector: probe } })
    assert.include(decision, { reason: 'not_authorized', username: 'visitor' })
  })
})

test.group('Offline copy: applying answers', (group) => {
  group.each.teardown(async () => {
    for (const { db, path } of opened) {
      db.close()
      await Promise.all(['', '-wal', '-shm'].map((end) => rm(`${path}${end}`, { force: true })))
    }
    opened = []
  })

  test('an incremental answer replaces the people it sends and drops the removed', ({ assert }) => {
    const { db, decider } = deciderWith(
      answer([
        { username: 'stays', vectors: [stranger(1)] },
        { username: 'changes', vectors: [stranger(2), stranger(3)] },
        { username: 'leaves', vectors: [scoring(0.95, 1)] },
      ]),
      answer([{ username: 'changes', vectors: [stranger(4)], groups: [2] }], {
        revision: 2,
        full: false,
        removed: ['leaves'],
      })
    )
    decider.reload()
    const copy = readCopy(db)
    assert.equal(copy.revision, 2)
    assert.deepEqual(
      copy.people.map((person) => [person.username, person.groups]),
      [
        ['changes', [2]],
        ['stays', [1]],
      ]
    )
    assert.equal(copy.faces.length, 2)
    assert.equal(decider.decide({ feature: { model, vector: probe } }).reason, 'unknown_face')

    applyBatch(db, batchOf(answer([{ username: 'only', vectors: [stranger(5)] }])))
    assert.deepEqual(
      readCopy(db).people.map((person) => person.username),
      ['only']
    )
  })

  test('an answer it cannot use is refused whole: {what}')
    .with([
      { what: 'no revision', change: { revision: undefined } },
      { what: 'no offline fields', change: { people: undefined } },
      { what: 'unknown factors', change: { requiredFactors: 'iris' } },
      {
        what: 'bad window',
        change: { groups: [{ id: 1, schedule: { windows: [{}], holidays: [] } }] },
      },
      { what: 'names not a list', change: { names: 'everyone' } },
    ])
    .run(({ assert }, { change }) => {
      const given = { ...answer([{ username: 'a', vectors: [stranger(1)] }]), ...change }
      assert.throws(() => batchOf(given), UnusableAnswer as never)
    })

  test('a face whose blob does not decode is left out, the rest applied', ({ assert }) => {
    const given = answer([{ username: 'a', vectors: [stranger(1), stranger(2)] }])
    ;(given.names as { faceData: string }[])[1].faceData = 'RkFGVAEB'
    const batch = batchOf(given)
    assert.lengthOf(batch.faces, 1)
    assert.deepEqual(
      batch.skipped.map((skip) => skip.username),
      ['a']
    )
  })
})
