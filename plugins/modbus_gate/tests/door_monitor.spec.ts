import { test } from '@japa/runner'
import { DoorMonitor } from '../door_monitor.js'

/**
 * The door rules on their own, fed readings as the poll loop would: a
 * door contact and an exit button, with times in milliseconds.
 */
test.group('Door monitor', () => {
  const monitor = () => new DoorMonitor({ heldOpenMs: 10_000, graceMs: 2000 })
  const types = (events: { type: string }[]) => events.map((event) => event.type)

  test('a door that opens with no opening granted is forced, once', ({ assert }) => {
    const door = monitor()
    assert.deepEqual(door.sample({ doorOpen: false, exitPressed: false, at: 0 }), [])
    assert.deepEqual(types(door.sample({ doorOpen: true, exitPressed: false, at: 1000 })), [
      'door_forced',
    ])
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: false, at: 1200 }), [])
    assert.isTrue(door.doorOpen)
  })

  test('a door opened while released, or just after, is a passage', ({ assert }) => {
    const door = monitor()
    door.sample({ doorOpen: false, exitPressed: false, at: 0 })
    door.released(5000)
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: false, at: 1000 }), [])
    door.sample({ doorOpen: false, exitPressed: false, at: 3000 })
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: false, at: 6900 }), [], 'grace')
    door.sample({ doorOpen: false, exitPressed: false, at: 7000 })
    assert.deepEqual(types(door.sample({ doorOpen: true, exitPressed: false, at: 7100 })), [
      'door_forced',
    ])
  })

  test('a door left open past the time is held open, counted from the end of the release', ({
    assert,
  }) => {
    const door = monitor()
    door.sample({ doorOpen: false, exitPressed: null, at: 0 })
    door.released(8000)
    door.sample({ doorOpen: true, exitPressed: null, at: 1000 })
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: null, at: 17_900 }), [])
    const [held] = door.sample({ doorOpen: true, exitPressed: null, at: 18_100 })
    assert.equal(held.type, 'door_held_open')
    assert.equal(held.message, 'The door has stood open for 17 s')
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: null, at: 30_000 }), [], 'once')

    door.sample({ doorOpen: false, exitPressed: null, at: 31_000 })
    door.released(32_000)
    door.sample({ doorOpen: true, exitPressed: null, at: 31_500 })
    assert.deepEqual(
      types(door.sample({ doorOpen: true, exitPressed: null, at: 42_100 })),
      ['door_held_open'],
      'again for the next opening'
    )
  })

  test('each press of the exit button is reported, and lets the door open', ({ assert }) => {
    const door = monitor()
    door.sample({ doorOpen: false, exitPressed: false, at: 0 })
    assert.deepEqual(types(door.sample({ doorOpen: false, exitPressed: true, at: 100 })), [
      'exit_button',
    ])
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: true, at: 200 }), [], 'held down')
    door.sample({ doorOpen: false, exitPressed: false, at: 3000 })
    assert.deepEqual(types(door.sample({ doorOpen: true, exitPressed: true, at: 9000 })), [
      'exit_button',
    ])
  })

  test('what the inputs show at the first reading is no event', ({ assert }) => {
    const door = monitor()
    assert.deepEqual(door.sample({ doorOpen: true, exitPressed: true, at: 0 }), [])
    assert.isTrue(door.doorOpen)
  })

  test('a door without a contact reports nothing of the door', ({ assert }) => {
    const door = monitor()
    door.sample({ doorOpen: null, exitPressed: false, at: 0 })
    assert.deepEqual(door.sample({ doorOpen: null, exitPressed: false, at: 60_000 }), [])
    assert.isFalse(door.doorOpen)
  })
})
