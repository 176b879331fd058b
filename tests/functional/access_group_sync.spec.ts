import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import AccessGroup from '#models/access_group'
import Device from '#models/device'
import type User from '#models/user'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { addFace, credentialOf, post, resetTerminalState, tokenFor } from '#tests/helpers/terminal'

type FaceDbAnswer = {
  code: number
  names: { username: string }[]
  removed: string[]
  revision: number
  full: boolean
}

async function getDbs(client: ApiClient, device: Device, since?: number) {
  const token = await tokenFor(client, device)
  const response = await post(
    client,
    'getDbs',
    { deviceName: device.name, deviceSN: device.serialNumber, token, since },
    'form',
    device
  )
  response.assertStatus(200)
  return response.body() as FaceDbAnswer
}

const usernames = (answer: FaceDbAnswer) => [...new Set(answer.names.map((n) => n.username))]

/** Changes made as an operator does on the pages; each must redirect, not fail. */
function pages(client: ApiClient, operator: User) {
  const send = async (method: 'post' | 'put' | 'delete', url: string, form = {}) => {
    const response = await client[method](url)
      .loginAs(operator)
      .withCsrfToken()
      .form(form)
      .redirects(0)
    response.assertStatus(302)
    return response
  }
  return {
    /** Approving shows the new credential, which the terminal is then given. */
    approve: async (device: Device) => {
      const response = await client
        .post(`/admin/devices/${device.id}/status`)
        .loginAs(operator)
        .withCsrfToken()
        .form({ status: 'approved' })
        .redirects(0)
      response.assertStatus(200)
      await device.refresh()
      response.assertTextIncludes(credentialOf(device).secret)
      return response
    },
    createGroup: (name: string) => send('post', '/admin/access-groups', { name }),
    deleteGroup: (group: AccessGroup) => send('delete', `/admin/access-groups/${group.id}`),
    addPerson: (group: AccessGroup, personId: number) =>
      send('post', `/admin/access-groups/${group.id}/people/${personId}`),
    removePerson: (group: AccessGroup, personId: number) =>
      send('delete', `/admin/access-groups/${group.id}/people/${personId}`),
    addDevice: (group: AccessGroup, device: Device) =>
      send('post', `/admin/access-groups/${group.id}/devices`, { deviceId: String(device.id) }),
    removeDevice: (group: AccessGroup, device: Device) =>
      send('delete', `/admin/access-groups/${group.id}/devices/${device.id}`),
  }
}

test.group('Access groups and incremental getDbs', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('what an operator changes on the group pages reaches the terminal through since', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const act = pages(client, operator)

    const knock = await client
      .post('/faces/api/token')
      .form({ deviceName: 'Lobby east', sn: 'FT2024A00017' })
    assert.equal(knock.body().code, 9001)
    const device = await Device.findByOrFail('serialNumber', 'FT2024A00017')
    await act.approve(device)

    const ada = await PersonFactory.merge({ username: 'ada', displayName: 'Ada Lovelace' }).create()
    await addFace(ada)
    const bystander = await PersonFactory.create()
    await addFace(bystander)

    await act.createGroup('Lobby staff')
    const lobby = await AccessGroup.findByOrFail('name', 'Lobby staff')
    await act.addDevice(lobby, device)

    const start = await getDbs(client, device)
    assert.include(start, { code: 0, full: true })
    assert.deepEqual(start.names, [])

    await act.addPerson(lobby, ada.id)
    const joined = await getDbs(client, device, start.revision)
    assert.include(joined, { code: 0, full: false })
    assert.isAbove(joined.revision, start.revision)
    assert.deepEqual(usernames(joined), ['ada'])
    assert.deepEqual(joined.removed, [])

    await act.removePerson(lobby, ada.id)
    const left = await getDbs(client, device, joined.revision)
    assert.include(left, { code: 0, full: false })
    assert.deepEqual(left.names, [])
    assert.deepEqual(left.removed, ['ada'])

    const quiet = await getDbs(client, device, left.revision)
    assert.include(quiet, { full: false, revision: left.revision })
    assert.deepEqual(quiet.names, [])
    assert.deepEqual(quiet.removed, [])

    await act.addPerson(lobby, ada.id)
    const back = await getDbs(client, device, quiet.revision)
    assert.include(back, { full: false })
    assert.deepEqual(usernames(back), ['ada'])

    await act.removeDevice(lobby, device)
    const ungranted = await getDbs(client, device, back.revision)
    assert.include(ungranted, { code: 0, full: true })
    assert.deepEqual(ungranted.names, [], 'a full answer without Ada replaces what the device held')

    await act.addDevice(lobby, device)
    const regranted = await getDbs(client, device, ungranted.revision)
    assert.include(regranted, { code: 0, full: true })
    assert.deepEqual(usernames(regranted), ['ada'])
    assert.notInclude(usernames(regranted), bystander.username)
  })

  test('deleting a group sends its devices everything again, without its people', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const act = pages(client, operator)
    const lobbyDoor = await DeviceFactory.create()
    await act.approve(lobbyDoor)
    const ada = await PersonFactory.merge({ username: 'ada' }).create()
    await addFace(ada)

    await act.createGroup('Lobby staff')
    await act.createGroup('Everyone')
    const lobby = await AccessGroup.findByOrFail('name', 'Lobby staff')
    const everyone = await AccessGroup.findByOrFail('name', 'Everyone')
    await act.addDevice(lobby, lobbyDoor)
    await act.addPerson(lobby, ada.id)
    await act.addDevice(everyone, lobbyDoor)

    const before = await getDbs(client, lobbyDoor)
    assert.deepEqual(usernames(before), ['ada'])

    await act.deleteGroup(everyone)
    const afterOther = await getDbs(client, lobbyDoor, before.revision)
    assert.include(afterOther, { full: true })
    assert.deepEqual(usernames(afterOther), ['ada'], 'Ada still passes through Lobby staff')

    await act.deleteGroup(lobby)
    const afterLobby = await getDbs(client, lobbyDoor, afterOther.revision)
    assert.include(afterLobby, { code: 0, full: true })
    assert.deepEqual(afterLobby.names, [])
  })
})
