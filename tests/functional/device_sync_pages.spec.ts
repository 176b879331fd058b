import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import type Device from '#models/device'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { commandLineActor } from '#services/audit_trail'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { PeopleService } from '#services/people_service'
import { deviceSyncNotices } from '#services/device_sync_notices'
import { addFace, grant, resetTerminalState } from '#tests/helpers/terminal'
import { until } from '#tests/helpers/redis_server'
import { getDbsSince, syncEvents } from '#tests/helpers/sync_terminals'

/** The removal rows of a device page: username → whether the device acknowledged it. */
function removalsOn(html: string) {
  const rows = [...html.matchAll(/data-username="([^"]+)" data-acknowledged="(yes|no)"/g)]
  return Object.fromEntries(rows.map(([, username, acknowledged]) => [username, acknowledged]))
}

/** What a terminal does when told of a change: fetch it, then say it holds the new revision. */
async function catchUp(device: Device, held: number) {
  const fetched = await getDbsSince(device, held)
  const revision = fetched.body.revision as number
  const idle = await syncEvents(device, revision)
  if (idle.body.code !== 0) throw new Error(JSON.stringify(idle.body))
  return { fetched: fetched.body, revision }
}

test.group('Device sync: removals on the pages', (group) => {
  const configured = { ...terminalConfig.sync }
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(() => () => {
    Object.assign(terminalConfig.sync, configured)
  })

  test('a withdrawn consent and a deleted person reach every device; each acknowledgement is shown', async ({
    client,
    assert,
  }) => {
    terminalConfig.sync.waitSeconds = 60
    const operator = await UserFactory.create()
    const devices = await Promise.all(
      ['North door', 'South door', 'West door'].map((name) =>
        DeviceFactory.apply('approved').merge({ name }).create()
      )
    )
    const [north, south, west] = devices
    const withdrawing = await PersonFactory.apply('consented').create()
    const leaving = await PersonFactory.create()
    await addFace(withdrawing)
    await addFace(leaving)
    await grant([withdrawing, leaving], devices)
    const firsts = await Promise.all(devices.map((device) => getDbsSince(device)))
    const start = firsts[0].body.revision as number

    // All three wait; the withdrawal wakes every one of them.
    const waiting = devices.map((device) => syncEvents(device, start))
    await until(async () => deviceSyncNotices.waiting === 3, 'three terminals wait')
    const withdrawn = await client
      .post(`/admin/people/${withdrawing.id}/consent/withdraw`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    withdrawn.assertStatus(302)
    for (const answer of await Promise.all(waiting)) {
      assert.include(answer.body, { code: 0, changed: true })
    }
    // From here on the terminals' calls end after a second with nothing new.
    terminalConfig.sync.waitSeconds = 1

    // North and South fetch it and acknowledge; West stays behind.
    const northAfterWithdrawal = await catchUp(north, start)
    const southAfterWithdrawal = await catchUp(south, start)
    assert.include(northAfterWithdrawal.fetched.removed, withdrawing.username)
    assert.include(southAfterWithdrawal.fetched.removed, withdrawing.username)

    const people = await app.container.make(PeopleService)
    await people.delete(commandLineActor(), leaving)
    const ledger = await app.container.make(DeviceSyncLedger)
    await until(async () => {
      const states = await ledger.statesOf(devices.map((device) => device.id))
      return states.get(south.id)?.pendingChanges === 1 && states.get(west.id)?.pendingChanges === 2
    }, 'the sync job counted the deletion')
    const northAfterDeletion = await catchUp(north, northAfterWithdrawal.revision)
    assert.include(northAfterDeletion.fetched.removed, leaving.username)

    const pages = Object.fromEntries(
      await Promise.all(
        devices.map(async (device) => {
          const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
          page.assertStatus(200)
          return [device.name, removalsOn(page.text())] as const
        })
      )
    )
    assert.deepEqual(pages['North door'], {
      [leaving.username]: 'yes',
      [withdrawing.username]: 'yes',
    })
    assert.deepEqual(pages['South door'], {
      [leaving.username]: 'no',
      [withdrawing.username]: 'yes',
    })
    assert.deepEqual(pages['West door'], { [leaving.username]: 'no', [withdrawing.username]: 'no' })

    const person = await client.get(`/admin/people/${withdrawing.id}/edit`).loginAs(operator)
    person.assertStatus(200)
    const receipt = person.text().match(/data-test="removal-receipt"[\s\S]*?<\/tr>/)?.[0] ?? ''
    assert.match(receipt, /data-test="receipt-acknowledged">\s*North door, South door\s*</)
    assert.match(receipt, /data-test="receipt-waiting">\s*West door\s*</)

    // The list shows how far behind each is; past the alert time, behind devices are flagged.
    terminalConfig.sync.alertMinutes = 0
    const list = await client.get('/admin/devices').loginAs(operator)
    const rowOf = (device: Device) =>
      list.text().match(new RegExp(`data-serial="${device.serialNumber}"[\\s\\S]*?</tr>`))?.[0] ??
      ''
    assert.notInclude(rowOf(north), 'data-test="sync-behind"')
    assert.match(rowOf(south), /data-flagged="yes">1 behind for over 0 min/)
    assert.match(rowOf(west), /data-flagged="yes">2 behind for over 0 min/)
    terminalConfig.sync.alertMinutes = 60
    const calm = await client.get('/admin/devices').loginAs(operator)
    assert.include(calm.text(), 'data-flagged="no">2 behind<')

    const westPage = await client.get(`/admin/devices/${west.id}/edit`).loginAs(operator)
    westPage.assertTextIncludes(`${start}, at`)
  }).timeout(60_000)
})
