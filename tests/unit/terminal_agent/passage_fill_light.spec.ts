import { test } from '@japa/runner'
import type { DecodedImage } from '#plugin-sdk'
import { FrameGate } from '#terminal-client/camera/frame_gate'
import { FillLight } from '#terminal-client/recognition/fill_light'

/** A grey frame of the given luminance with a brighter square at `x` (someone passing). */
function frame(luminance: number, x: number | null): DecodedImage {
  const width = 160
  const height = 120
  const data = new Uint8Array(width * height * 3).fill(luminance)
  if (x !== null) {
    for (let row = 40; row < 80; row++) {
      for (let column = x; column < Math.min(width, x + 40); column++) {
        data.fill(
          Math.min(255, luminance + 60),
          (row * width + column) * 3,
          (row * width + column) * 3 + 3
        )
      }
    }
  }
  return { width, height, data }
}

test.group('Fill light', () => {
  test('comes on in the dark when someone moves, not in the light or for an empty scene', ({
    assert,
  }) => {
    const light = new FillLight({ darkBelow: 50 })
    assert.isFalse(light.update({ brightness: 20, motion: 0.5 }, 0, false), 'dark and still')
    assert.isFalse(light.update({ brightness: 90, motion: 12 }, 100, false), 'light enough')
    assert.isTrue(light.update({ brightness: 20, motion: 12 }, 200, false), 'dark and moving')
    const faceOnly = new FillLight()
    assert.isTrue(faceOnly.update({ brightness: 30, motion: 0 }, 0, true), 'a face standing still')
  })

  test('stays on under its own glow while someone is there, then goes off', ({ assert }) => {
    const light = new FillLight({ darkBelow: 50, holdMs: 10_000, minOnMs: 3000 })
    light.update({ brightness: 20, motion: 12 }, 0, false)
    // Lit by the light itself: brighter than darkBelow, below brightAbove (120).
    for (let at = 200; at < 30_000; at += 200) {
      const someone = at < 20_000
      assert.isTrue(light.update({ brightness: 95, motion: 0.5 }, at, someone), `on at ${at} ms`)
    }
    assert.isFalse(light.update({ brightness: 95, motion: 0.5 }, 30_000, false), 'off 10 s after')
    // The picture darkens as it goes off: that jump is the light, not someone moving.
    for (let at = 30_200; at < 32_000; at += 200) {
      assert.isFalse(light.update({ brightness: 20, motion: at === 30_200 ? 40 : 0.3 }, at, false))
    }
  })

  test('goes off early when daylight returns, but never before its minimum time', ({ assert }) => {
    const light = new FillLight({ darkBelow: 50, minOnMs: 3000 })
    light.update({ brightness: 20, motion: 12 }, 0, true)
    assert.isTrue(light.update({ brightness: 200, motion: 30 }, 1000, true), 'held for 3 s')
    assert.isFalse(light.update({ brightness: 200, motion: 3 }, 3200, true), 'bright without it')
    assert.isFalse(light.update({ brightness: 180, motion: 20 }, 5000, true), 'and stays off')
  })

  test('follows the FrameGate over a dark scene someone walks through', ({ assert }) => {
    const gate = new FrameGate({ darkBelow: 50 })
    const light = new FillLight({ darkBelow: gate.darkBelow, holdMs: 2000 })
    const states: boolean[] = []
    for (let step = 0; step < 60; step++) {
      const at = step * 100
      const x = step >= 10 && step < 20 ? (step - 10) * 12 : null
      const measure = gate.measure(frame(light.on ? 80 : 20, x), at)
      states.push(light.update(measure, at, false, gate.motionThreshold))
    }
    assert.isFalse(states[5], 'an empty dark scene')
    assert.isTrue(states[11], 'someone walks in')
    assert.isTrue(states[30], 'held after they stop moving')
    assert.isFalse(states[59], 'off once nobody has moved for the hold time')
    assert.equal(states.filter((on, index) => index > 0 && on !== states[index - 1]).length, 2)
  })
})
