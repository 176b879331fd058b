import { execFileSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import type { ApiClient } from '@japa/api-client'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { enrolPhotoOf, grant, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

const photo = (name: string) => readFile(app.makePath('tests/fixtures/pairs', name))

/** The engine's worker processes: children of this process running engine_worker. */
function engineWorkers() {
  let children: string[]
  try {
    children = execFileSync('pgrep', ['-P', String(process.pid)], { encoding: 'utf8' })
      .trim()
      .split('\n')
  } catch {
    return []
  }
  return children.map(Number).filter((pid) => {
    try {
      return readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('engine_worker')
    } catch {
      return false
    }
  })
}

async function identify(client: ApiClient, device: Device, image: Buffer) {
  const started = Date.now()
  const response = await post(
    client,
    'faceIdentify',
    { token: await tokenFor(client, device) },
    'multipart',
    device,
    { image: { data: image, filename: 'probe.png' } }
  )
  return { status: response.status(), body: response.body(), ms: Date.now() - started }
}

test.group('Faults: engine workers killed under load', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('calls caught by the kill answer a documented code; the next ones are answered as before', async ({
    client,
    assert,
  }) => {
    const device = await DeviceFactory.apply('approved').create()
    const person = await PersonFactory.apply('consented').create()
    await enrolPhotoOf(person, await photo('jim_parsons_sheldon1.png'))
    await grant([person], [device])
    const probe = await photo('jim_parsons_sheldon2.png')
    const warm = await identify(client, device, probe)
    assert.include(warm.body, { code: 0, decision: 'granted' })
    assert.equal(warm.body.person.username, person.username)

    const workers = engineWorkers()
    assert.isAbove(workers.length, 0, 'the engine runs in worker processes')
    const inFlight = Array.from({ length: 6 }, () => identify(client, device, probe))
    await new Promise((resolve) => setTimeout(resolve, 30))
    for (const pid of workers) process.kill(pid, 'SIGKILL')
    const caught = await Promise.all(inFlight)

    for (const answer of caught) {
      assert.oneOf(answer.body.code, [0, 3], JSON.stringify(answer.body))
      assert.equal(answer.status, 200)
      assert.isBelow(answer.ms, 15_000)
    }
    const after = []
    for (let call = 0; call < 20; call++) after.push(await identify(client, device, probe))
    for (const answer of after) {
      assert.include(answer.body, { code: 0, decision: 'granted' })
      assert.equal(answer.body.person.username, person.username)
    }
    const replaced = engineWorkers()
    assert.isAbove(replaced.length, 0)
    assert.notIncludeMembers(replaced, workers, 'killed workers were replaced')
  }).timeout(90_000)
})
