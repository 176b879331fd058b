import { test } from '@japa/runner'
import type { FaceAnalysis, FaceBox, QualityIssueCode } from '#plugin-sdk'
import {
  PassageTracker,
  sameFace,
  type PassageTrackerOptions,
  type PassageUpdate,
} from '#terminal-client/recognition/passage_tracker'

/** A seeded uniform generator in (0, 1), so a failure replays. */
function uniform(seed: number) {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4_294_967_296
  }
}

type FaceShape = {
  /** Centre x and width of the box; the box is 1.2 times as tall as wide. */
  x?: number
  y?: number
  width?: number
  yaw?: number
  pitch?: number
  eyes?: number
  score?: number
  issues?: QualityIssueCode[]
  antispoof?: number
}

function face(shape: FaceShape = {}): FaceAnalysis {
  const { x = 320, y = 240, width = 120, yaw = 0, pitch = 5, eyes = 0.3 } = shape
  const box: FaceBox = {
    left: x - width / 2,
    right: x + width / 2,
    top: y - width * 0.6,
    bottom: y + width * 0.6,
  }
  const issues = shape.issues ?? []
  return {
    face: {
      box,
      score: 0.9,
      landmarks: [
        [x - 20, y - 10],
        [x + 20, y - 10],
        [x, y + 5],
        [x - 15, y + 25],
        [x + 15, y + 25],
      ],
      angle: 0,
      angleCode: 1,
      eyes: { left: eyes, right: eyes },
      pose: { yaw, pitch, roll: 0 },
    },
    quality: {
      score: shape.score ?? 0.8,
      acceptable: issues.length === 0,
      issues: issues.map((code) => ({ code, message: code })),
      measures: {},
    },
    liveness: { antispoof: shape.antispoof ?? 0.7, liveness: 0.9 },
    timings: {},
  }
}

/** Feeds frames 100 ms apart (10 analysed frames a second) and keeps every update. */
class Door {
  readonly tracker: PassageTracker<number>
  readonly updates: PassageUpdate<number>[] = []
  at = 0
  index = 0

  constructor(options: PassageTrackerOptions = {}) {
    this.tracker = new PassageTracker<number>(options)
  }

  show(...faces: FaceAnalysis[]) {
    const update = this.tracker.observe({
      at: this.at,
      frame: { width: 640, height: 480 },
      faces,
      handle: this.index,
    })
    this.updates.push(update)
    this.at += 100
    this.index++
    return update
  }

  showMany(count: number, shape: (step: number) => FaceShape | null) {
    for (let step = 0; step < count; step++) {
      const next = shape(step)
      this.show(...(next ? [face(next)] : []))
    }
  }

  get decisions() {
    return this.updates.filter((update) => update.ready).map((update) => update.ready!)
  }
}

test.group('Passage tracker: when to decide', () => {
  test('decides once, on the second consecutive good frame, without liveness', ({ assert }) => {
    const door = new Door()
    assert.isUndefined(door.show(face({ score: 0.7 })).ready)
    const second = door.show(face({ score: 0.9 }))
    assert.exists(second.ready)
    assert.equal(second.ready!.handle, 1, 'the better of the two frames')
    assert.deepEqual(second.ready!.liveness, {
      required: false,
      proven: false,
      method: 'none',
      scores: { antispoof: 0.7, liveness: 0.9 },
    })
    door.showMany(50, () => ({}))
    assert.lengthOf(door.decisions, 1, 'one decision while the face stays')
    assert.equal(door.updates.at(-1)!.state, 'decided')
  })

  test('asks the person to fix what is wrong and decides only on good frames', ({ assert }) => {
    const door = new Door({ confirmFrames: 3 })
    const cases: [FaceShape, string][] = [
      [{ width: 40 }, 'come_closer'],
      [{ width: 100, issues: ['too_small'] }, 'come_closer'],
      [{ width: 470 }, 'step_back'],
      [{ yaw: 35 }, 'look_at_camera'],
      [{ pitch: -40 }, 'look_at_camera'],
      [{ issues: ['turned'] }, 'look_at_camera'],
      [{ issues: ['blurred'] }, 'hold_still'],
      [{ issues: ['dark'] }, 'too_dark'],
    ]
    for (const [shape, guidance] of cases) {
      const update = door.show(face(shape))
      assert.equal(update.guidance, guidance, JSON.stringify(shape))
      assert.isUndefined(update.ready)
    }
    door.show(face())
    door.show(face())
    door.show(face({ issues: ['blurred'] }))
    assert.lengthOf(door.decisions, 0, 'a bad frame breaks the run of good ones')
    door.show(face())
    door.show(face())
    assert.lengthOf(door.decisions, 0)
    assert.exists(door.show(face()).ready)
  })

  test('a face with its eyes shut is not decided on', ({ assert }) => {
    const door = new Door()
    door.showMany(5, () => ({ eyes: 0.3, issues: ['blurred'] }))
    assert.equal(door.show(face({ eyes: 0.08 })).guidance, 'look_at_camera')
    assert.equal(door.show(face({ eyes: 0.09 })).guidance, 'look_at_camera')
    assert.lengthOf(door.decisions, 0)
  })
})

test.group('Passage tracker: liveness', () => {
  test('a blink proves liveness on a door that asks for one', ({ assert }) => {
    const door = new Door({ liveness: 'blink' })
    door.showMany(6, () => ({ eyes: 0.31 }))
    assert.lengthOf(door.decisions, 0)
    assert.equal(door.updates.at(-1)!.state, 'awaiting_liveness')
    assert.equal(door.updates.at(-1)!.guidance, 'blink')
    assert.equal(door.show(face({ eyes: 0.12 })).guidance, 'look_at_camera')
    door.showMany(10, () => ({ eyes: 0.3 }))
    assert.equal(
      door.updates.findIndex((update) => update.ready),
      8,
      'decided on the second good frame with the eyes open again'
    )
    assert.lengthOf(door.decisions, 1)
    const ready = door.decisions[0]
    assert.deepInclude(ready.liveness, { required: true, proven: true, method: 'blink' })
    assert.notEqual(ready.handle, 6, 'never the frame with the eyes shut')
  })

  test('a head turn of {sweep}° one way {verdict} liveness on a door that asks for one')
    .with([
      { sweep: 14, proves: true, verdict: 'proves' },
      { sweep: 6, proves: false, verdict: 'does not prove' },
    ])
    .run(({ assert }, { sweep, proves }) => {
      const door = new Door({ liveness: 'turn', livenessTimeoutMs: 3000 })
      door.showMany(60, (step) => ({ yaw: Math.min(step, 10) * (sweep / 10) - 2 }))
      assert.lengthOf(door.decisions, 1)
      assert.deepInclude(door.decisions[0].liveness, {
        required: true,
        proven: proves,
        method: proves ? 'turn' : 'none',
      })
      assert.equal(door.updates[5].guidance, 'turn_head', 'asked to turn while the turn is short')
      const decidedAt = door.updates.findIndex((update) => update.ready)
      assert.equal(decidedAt <= 10, proves, 'decided as the turn completes, else at the limit')
    })

  test('a turn there and back proves it; one misread frame does not', ({ assert }) => {
    const spike = new Door({ liveness: 'turn' })
    spike.showMany(60, (step) => ({ yaw: step === 8 ? 25 : 1 }))
    assert.isFalse(spike.decisions[0].liveness.proven, 'a one-frame jump of the yaw')

    const back = new Door({ liveness: 'blink_or_turn' })
    const yaws = [0, 0, 4, 8, 12, 14, 12, 8, 4, 0, 0, 0]
    back.showMany(yaws.length, (step) => ({ yaw: yaws[step] }))
    assert.lengthOf(back.decisions, 1)
    assert.deepInclude(back.decisions[0].liveness, { proven: true, method: 'turn' })
  })

  test('a still photo is decided once, as not proven, after the time limit', ({ assert }) => {
    const random = uniform(15)
    const door = new Door({ liveness: 'blink_or_turn', livenessTimeoutMs: 4000 })
    // A printed photo in a hand: the box wobbles a few pixels, the readings by their noise.
    door.showMany(300, () => ({
      x: 320 + (random() - 0.5) * 6,
      yaw: 3 + (random() - 0.5) * 2,
      pitch: 6 + (random() - 0.5) * 2,
      eyes: 0.3 + (random() - 0.5) * 0.02,
    }))
    assert.lengthOf(door.decisions, 1)
    const decision = door.updates.findIndex((update) => update.ready)
    assert.equal(decision, 40, 'good from the first frame, decided 4 s later')
    assert.deepInclude(door.decisions[0].liveness, {
      required: true,
      proven: false,
      method: 'none',
    })
    assert.deepEqual(
      [...new Set(door.updates.slice(1, decision).map((update) => update.guidance))],
      ['blink', 'turn_head'],
      'asked to blink, then after half the time to turn'
    )
    assert.equal(door.updates[20].guidance, 'turn_head')
    assert.equal(door.updates[19].guidance, 'blink')
  })

  test('a floor on the passive scores turns a blink on a screen into not proven', ({ assert }) => {
    const door = new Door({ liveness: 'blink', passiveFloor: { antispoof: 0.5 } })
    door.showMany(10, (step) => ({ eyes: step === 5 ? 0.1 : 0.3, antispoof: 0.2 }))
    assert.lengthOf(door.decisions, 0, 'the blink alone is no longer enough')
    door.showMany(40, () => ({ antispoof: 0.2 }))
    assert.lengthOf(door.decisions, 1)
    assert.deepInclude(door.decisions[0].liveness, { proven: false, method: 'blink' })
    assert.closeTo(door.decisions[0].liveness.scores!.antispoof, 0.2, 1e-9)
  })
})

test.group('Passage tracker: passages', () => {
  test('a face that leaves and comes back is decided again; a short miss is not leaving', ({
    assert,
  }) => {
    const door = new Door({ leaveMs: 1500 })
    door.showMany(5, () => ({}))
    door.showMany(10, () => null)
    door.showMany(5, () => ({}))
    assert.lengthOf(door.decisions, 1, 'absent 1 s: the same passage')
    door.showMany(16, () => null)
    door.showMany(5, () => ({}))
    assert.lengthOf(door.decisions, 2, 'absent 1.6 s: a new passage')
  })

  test('a different face taking the place is a new passage', ({ assert }) => {
    const door = new Door()
    door.showMany(5, () => ({ x: 200 }))
    door.showMany(5, () => ({ x: 460 }))
    assert.lengthOf(door.decisions, 2)
    assert.deepEqual(
      door.decisions.map((ready) => ready.handle),
      [1, 6]
    )
  })

  test('a jump back to the face just decided does not decide it again', ({ assert }) => {
    const door = new Door()
    door.showMany(4, () => ({ x: 200, width: 150 }))
    door.showMany(60, (step) => (step % 2 ? { x: 200, width: 150 } : { x: 460, width: 150 }))
    assert.lengthOf(door.decisions, 1, 'the other face never holds the place for two frames')
    door.showMany(3, () => ({ x: 460, width: 150 }))
    assert.lengthOf(door.decisions, 2)
  })

  test('a decided face that was behind someone else is not decided again', ({ assert }) => {
    const door = new Door()
    door.showMany(3, () => ({ x: 200, width: 140 }))
    for (let step = 0; step < 30; step++) {
      door.show(face({ x: 200, width: 90 }), face({ x: 460, width: 160 }))
    }
    door.showMany(5, () => ({ x: 200, width: 140 }))
    assert.deepEqual(
      door.decisions.map((ready) => ready.handle),
      [1, 4],
      'the first face, then the one in front of it, and no more'
    )
  })

  test('two people equally close are asked to come one at a time', ({ assert }) => {
    const door = new Door()
    for (let step = 0; step < 10; step++) {
      const update = door.show(face({ x: 180, width: 120 }), face({ x: 460, width: 110 }))
      assert.equal(update.guidance, 'one_at_a_time')
    }
    assert.lengthOf(door.decisions, 0)
    door.show(face({ x: 180, width: 130 }), face({ x: 460, width: 60 }))
    const update = door.show(face({ x: 180, width: 130 }), face({ x: 460, width: 60 }))
    assert.exists(update.ready, 'the one in front is decided once the other stands back')
    assert.equal(update.face!.left, 115)
  })

  test('a face walking up is one face; reset and retry start over', ({ assert }) => {
    assert.isTrue(
      sameFace({ left: 300, top: 200, right: 340, bottom: 248 }, face({ width: 70 }).face.box)
    )
    assert.isFalse(
      sameFace({ left: 100, top: 200, right: 160, bottom: 272 }, face({ width: 70 }).face.box)
    )
    const door = new Door({ minFaceWidth: 30 })
    door.showMany(30, (step) => ({ width: 30 + step * 8, y: 200 + step }))
    assert.lengthOf(door.decisions, 1)
    door.tracker.retry()
    door.showMany(2, () => ({ width: 270, y: 230 }))
    assert.lengthOf(door.decisions, 2)
    door.tracker.reset()
    door.showMany(2, () => ({ width: 270, y: 230 }))
    assert.lengthOf(door.decisions, 3)
  })

  test('ten thousand random frames: never two decisions without a leave or a new face', ({
    assert,
  }) => {
    const random = uniform(7)
    const door = new Door({ liveness: 'blink_or_turn', leaveMs: 1500 })
    let x = 320
    let absentSince: number | null = null
    let mayDecide = true
    let lastFace: FaceBox | undefined
    for (let step = 0; step < 10_000; step++) {
      const roll = random()
      if (roll < 0.02) x = x === 320 ? 120 : 320
      const present = roll > 0.1 || (absentSince !== null && roll > 0.05)
      if (!present) absentSince ??= door.at
      else if (absentSince !== null) {
        if (door.at - absentSince > 1500) mayDecide = true
        absentSince = null
      }
      const update = door.show(
        ...(present
          ? [
              face({
                x: x + (random() - 0.5) * 8,
                yaw: (random() - 0.5) * 30,
                eyes: 0.1 + random() * 0.3,
                issues: random() < 0.2 ? ['blurred'] : [],
              }),
            ]
          : [])
      )
      if (lastFace && update.face && Math.abs(lastFace.left - update.face.left) > 100) {
        mayDecide = true
      }
      lastFace = update.face ?? lastFace
      if (update.ready) {
        assert.isTrue(mayDecide, `decision at step ${step} within the same passage`)
        mayDecide = false
      }
    }
    assert.isAbove(door.decisions.length, 50)
  })
})
