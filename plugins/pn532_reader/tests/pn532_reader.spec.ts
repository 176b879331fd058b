import { test } from '@japa/runner'
import { createPluginHarness, type CardRead, type PluginHarness } from '#plugin-sdk'
import pn532Reader from '../plugin.js'
import { cardIn } from '../pn532_reader_driver.js'
import { informationFrame, Pn532FrameReader } from '../pn532_frames.js'
import Pn532ReaderSimulator from '../simulator.js'

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An instance's health status, as the supervisor reads it. */
async function statusOf(harness: { health(): Promise<{ status: string }> }) {
  const health = await harness.health()
  return health.status
}

/** Collects what a reader reads until the test ends. */
function collect(harness: PluginHarness<'reader', unknown>) {
  const reads: CardRead[] = []
  const abort = new AbortController()
  void (async () => {
    for await (const read of harness.driver.reads(abort.signal)) reads.push(read)
  })()
  return { reads, stop: () => abort.abort() }
}

async function until(check: () => boolean, what: string, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(10)
  }
}

test.group('PN532 frames', () => {
  test('an information frame carries its length and checksums', ({ assert }) => {
    const frame = informationFrame(0xd4, Uint8Array.from([0x4a, 0x01, 0x00]))
    assert.equal(frame.toString('hex'), '0000ff04fcd44a0100e100')
  })

  test('frames are cut from bytes as they arrive, damaged ones flagged', ({ assert }) => {
    const reader = new Pn532FrameReader()
    const answer = informationFrame(0xd5, Uint8Array.from([0x03, 0x32, 0x01, 0x06, 0x07]))
    const bytes = Buffer.concat([Buffer.from('0000ff00ff00', 'hex'), answer])
    assert.deepEqual(reader.push(bytes.subarray(0, 9)), [{ type: 'ack' }])
    const [frame] = reader.push(bytes.subarray(9))
    assert.deepEqual(frame, {
      type: 'information',
      tfi: 0xd5,
      data: Buffer.from([0x03, 0x32, 0x01, 0x06, 0x07]),
    })

    const damaged = Buffer.from(answer)
    damaged[damaged.length - 2] ^= 0x01
    assert.equal(reader.push(damaged)[0].type, 'damaged')
    assert.deepEqual(reader.push(Buffer.from('0000ffff0000', 'hex')), [{ type: 'nack' }])
    assert.deepEqual(reader.push(Buffer.from('0000ff01ff7f8100', 'hex')), [{ type: 'error' }])
  })

  test('the UID of the first type A target', ({ assert }) => {
    assert.equal(cardIn(Buffer.from('0101004400070411223344556677', 'hex')), '04112233445566')
    assert.isNull(cardIn(Buffer.from('00', 'hex')))
  })
})

test.group('PN532 reader over a pty', (group) => {
  let simulator: Pn532ReaderSimulator
  let config: Record<string, unknown>
  let harness: PluginHarness<'reader', unknown>

  group.each.setup(async () => {
    simulator = new Pn532ReaderSimulator()
    config = await simulator.start()
    harness = await createPluginHarness(pn532Reader, config, { instanceId: 'front-reader' })
    return async () => {
      await harness.stop()
      await simulator.stop()
    }
  })

  test('wakes the PN532, reads a card once while it is held, again when it comes back', async ({
    assert,
  }) => {
    await harness.start()
    const health = await harness.health()
    assert.equal(health.status, 'ok')
    assert.equal(health.message, `PN532 v1.6 on ${config.port}`)
    assert.deepEqual(simulator.peer.commandsSeen.slice(0, 3), [0x14, 0x02, 0x32])

    const { reads, stop } = collect(harness)
    simulator.peer.present('04a1b2c3d4e5f6', 300)
    await until(() => reads.length === 1, 'the card is read')
    await wait(400)
    assert.lengthOf(reads, 1, 'once while it is held')
    simulator.peer.present('04a1b2c3d4e5f6', 200)
    await until(() => reads.length === 2, 'read again')
    assert.deepEqual(
      reads.map((read) => read.uid),
      ['04A1B2C3D4E5F6', '04A1B2C3D4E5F6']
    )
    assert.instanceOf(reads[0].at, Date)
    stop()
  })

  test('a damaged answer is asked for again with a NACK', async ({ assert }) => {
    await harness.start()
    const { reads, stop } = collect(harness)
    simulator.peer.damageNext(1)
    simulator.peer.present('DEADBEEF')
    await until(() => reads.length === 1, 'the card is read')
    assert.equal(reads[0].uid, 'DEADBEEF')
    assert.isTrue(harness.logs.some((log) => log.message === 'damaged PN532 frame'))
    stop()
  })

  test('a PN532 that fell asleep is woken again', async ({ assert }) => {
    await harness.start()
    const { reads, stop } = collect(harness)
    simulator.peer.sleep()
    await wait(400)
    simulator.peer.present('11223344', 3000)
    await until(() => reads.length === 1, 'the card is read after a new wake-up')
    assert.equal(reads[0].uid, '11223344')
    stop()
  })

  test('the port pulled out and plugged back in', async ({ assert }) => {
    await harness.start()
    const { reads, stop } = collect(harness)
    await simulator.peer.close()
    await simulator.pty.unplug()
    await wait(300)
    const health = await harness.health()
    assert.equal(health.status, 'warning')
    assert.match(health.message!, /went away|Cannot open/)

    await simulator.pty.plug()
    await simulator.peer.open()
    simulator.peer.present('0A0B0C0D', 3000)
    await until(() => reads.length === 1, 'the card is read on the port that came back', 5000)
    assert.equal(reads[0].uid, '0A0B0C0D')
    assert.equal(await statusOf(harness), 'ok')
    stop()
  })

  test('a reader that does not answer cannot start, and says why', async ({ assert }) => {
    simulator.peer.silent = true
    await assert.rejects(() => harness.start(), /did not acknowledge command 0x14 within 200 ms/)
  })

  test('iterations end when the reader stops', async ({ assert }) => {
    await harness.start()
    const iterator = harness.driver.reads()[Symbol.asyncIterator]()
    const next = iterator.next()
    await harness.stop()
    assert.deepEqual(await next, { value: undefined, done: true })
  })
})
