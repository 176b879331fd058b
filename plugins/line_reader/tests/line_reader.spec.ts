import { test } from '@japa/runner'
import { createPluginHarness, type CardRead, type PluginHarness } from '#plugin-sdk'
import lineReader from '../plugin.js'
import { formatCardLine, parseCardLine } from '../card_line.js'
import LineReaderSimulator from '../simulator.js'

const wait = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** An instance's health status, as the supervisor reads it. */
async function statusOf(harness: { health(): Promise<{ status: string }> }) {
  const health = await harness.health()
  return health.status
}

async function until(check: () => boolean, what: string, timeoutMs = 3000) {
  const deadline = Date.now() + timeoutMs
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`)
    await wait(10)
  }
}

test.group('Card lines', () => {
  test('hex UIDs as printed, with or without separators, either byte order', ({ assert }) => {
    assert.deepEqual(parseCardLine('04a1b2c3\r', 'hex', 'msb'), { ok: true, uid: '04A1B2C3' })
    assert.deepEqual(parseCardLine('04:A1:B2:C3:D4:E5:F6', 'hex', 'msb'), {
      ok: true,
      uid: '04A1B2C3D4E5F6',
    })
    assert.deepEqual(parseCardLine('\x02C3B2A104\x03', 'hex', 'lsb'), { ok: true, uid: '04A1B2C3' })
    assert.deepEqual(parseCardLine('hello', 'hex', 'msb'), {
      ok: false,
      reason: 'not 2 to 10 bytes in hex',
    })
  })

  test('decimal UIDs, as 4- and 7-byte numbers', ({ assert }) => {
    assert.deepEqual(parseCardLine('0077705923', 'decimal', 'msb'), { ok: true, uid: '04A1B2C3' })
    assert.deepEqual(parseCardLine('3283263748', 'decimal', 'lsb'), { ok: true, uid: '04A1B2C3' })
    assert.deepEqual(parseCardLine('1181352669621238', 'decimal', 'msb'), {
      ok: true,
      uid: '04326F1A3A2BF6',
    })
    assert.isFalse(parseCardLine('12ab', 'decimal', 'msb').ok)
  })

  test('Wiegand-26: facility and card from the 26 bits, parity checked', ({ assert }) => {
    const line = formatCardLine('7BB26E', 'wiegand26', 'msb')
    assert.match(line, /^[01]{26}$/)
    assert.deepEqual(parseCardLine(line, 'wiegand26', 'msb'), { ok: true, uid: '7BB26E' })
    const hex = Number.parseInt(line, 2).toString(16)
    assert.deepEqual(parseCardLine(hex, 'wiegand26', 'msb'), { ok: true, uid: '7BB26E' })

    const flipped = `${line.slice(0, 5)}${line[5] === '1' ? '0' : '1'}${line.slice(6)}`
    assert.deepEqual(parseCardLine(flipped, 'wiegand26', 'msb'), {
      ok: false,
      reason: 'even parity error',
    })
    const lastFlipped = `${line.slice(0, 25)}${line[25] === '1' ? '0' : '1'}`
    assert.deepEqual(parseCardLine(lastFlipped, 'wiegand26', 'msb'), {
      ok: false,
      reason: 'odd parity error',
    })
    assert.isFalse(parseCardLine('4000000', 'wiegand26', 'msb').ok, 'more than 26 bits')
  })
})

test.group('Line reader over a pty', (group) => {
  let simulator: LineReaderSimulator
  let harness: PluginHarness<'reader', unknown> | null
  let reads: CardRead[]
  let abort: AbortController

  const startReader = async (sim: LineReaderSimulator, overrides: Record<string, unknown> = {}) => {
    simulator = sim
    const config = await simulator.start()
    harness = await createPluginHarness(lineReader, { ...config, ...overrides })
    await harness.start()
    abort = new AbortController()
    const collected: CardRead[] = (reads = [])
    void (async () => {
      for await (const read of harness!.driver.reads(abort.signal)) collected.push(read)
    })()
    return harness
  }

  group.each.setup(() => {
    harness = null
    return async () => {
      abort?.abort()
      await harness?.stop()
      await simulator?.stop()
    }
  })

  test('reads hex lines, skips noise, and does not repeat a card held to it', async ({
    assert,
  }) => {
    const reader = await startReader(new LineReaderSimulator('hex'), { repeatMs: 500 })
    await simulator.presentCard('04A1B2C3')
    await simulator.print('garbage!\r\n')
    await simulator.presentCard('04A1B2C3')
    await simulator.print('04:11:22:')
    await simulator.print('33\n')
    await until(() => reads.length === 2, 'two cards')
    assert.deepEqual(
      reads.map((read) => read.uid),
      ['04A1B2C3', '04112233']
    )
    const health = await reader.health()
    assert.equal(health.status, 'ok')
    assert.equal(health.details?.skippedLines, 1)
    assert.isTrue(reader.logs.some((log) => log.message === 'line skipped'))

    await wait(550)
    await simulator.presentCard('04112233')
    await until(() => reads.length === 3, 'the card again after the repeat time')
  })

  test('reads decimal numbers printed last byte first', async ({ assert }) => {
    await startReader(new LineReaderSimulator('decimal', 'lsb'))
    await simulator.presentCard('04A1B2C3')
    await until(() => reads.length === 1, 'a card')
    assert.equal(reads[0].uid, '04A1B2C3')
  })

  test('reads Wiegand-26 and drops a frame with a parity error', async ({ assert }) => {
    await startReader(new LineReaderSimulator('wiegand26'))
    await simulator.print('10000000000000000000000000\r\n')
    await simulator.presentCard('7BB26E')
    await until(() => reads.length === 1, 'a card')
    assert.equal(reads[0].uid, '7BB26E')
  })

  test('the USB reader pulled out and plugged back in', async ({ assert }) => {
    const reader = await startReader(new LineReaderSimulator('hex'))
    await simulator.pty.unplug()
    let health = await reader.health()
    for (let tries = 0; health.status === 'ok' && tries < 100; tries++) {
      await wait(20)
      health = await reader.health()
    }
    assert.equal(health.status, 'warning')
    assert.match(health.message!, /went away/)
    await simulator.pty.plug()
    await simulator.open()
    await until(() => reader.logs.some((log) => log.message === 'port back'), 'the port back')
    assert.equal(await statusOf(reader), 'ok')
    await simulator.presentCard('0A0B0C0D')
    await until(() => reads.length === 1, 'a card on the port that came back')
    assert.equal(reads[0].uid, '0A0B0C0D')
  })

  test('a port that does not exist cannot start, and says why', async ({ assert }) => {
    simulator = new LineReaderSimulator()
    const reader = await createPluginHarness(lineReader, { port: '/dev/no-such-reader' })
    await assert.rejects(() => reader.start(), /Cannot open \/dev\/no-such-reader/)
  })
})
