import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import AccessGroup from '#models/access_group'
import AuditLog from '#models/audit_log'
import { AccessGroupFactory } from '#database/factories/access_group_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { ScheduleFactory } from '#database/factories/schedule_factory'
import { UserFactory } from '#database/factories/user_factory'
import { FaceDbRevision } from '#faces/face_db_revision'
import { countRows } from '#tests/helpers/terminal'

const revision = () => new FaceDbRevision().current()
const audited = async (action: string) => {
  const entries = await AuditLog.query().where('action', action)
  return entries.length
}

test.group('Access groups pages', (pages) => {
  pages.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an operator creates a group with a schedule, recorded in the audit log', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const schedule = await ScheduleFactory.merge({ name: 'Office hours' }).create()
    const revisionBefore = await revision()

    const form = await client.get('/admin/access-groups/new').loginAs(operator)
    form.assertStatus(200)
    form.assertTextIncludes(`<option value="${schedule.id}" >Office hours</option>`)
    form.assertTextIncludes('>Always</option>')

    const response = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .form({ name: 'Lobby staff', description: 'Front desk', scheduleId: String(schedule.id) })
      .redirects(0)

    const group = await AccessGroup.findByOrFail('name', 'Lobby staff')
    response.assertStatus(302)
    response.assertHeader('location', `/admin/access-groups/${group.id}`)
    assert.equal(group.description, 'Front desk')
    assert.equal(group.scheduleId, schedule.id)
    assert.equal(await revision(), revisionBefore, 'a group without members changes no device')

    const entry = await AuditLog.findByOrFail('action', 'access_group.create')
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectType, 'access_group')
    assert.equal(entry.subjectId, String(group.id))
    assert.include(entry.after as Record<string, unknown>, {
      name: 'Lobby staff',
      scheduleId: schedule.id,
    })

    assert.equal(
      response.flashMessages().success,
      'Lobby staff was added. Add its people and devices below.'
    )
    const page = await client.get(`/admin/access-groups/${group.id}`).loginAs(operator)
    page.assertTextIncludes('Office hours')
  })

  test('the list shows each group with its schedule and how many people and devices', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const schedule = await ScheduleFactory.merge({ name: 'Night shift' }).create()
    await AccessGroupFactory.merge({ name: 'Warehouse', scheduleId: schedule.id })
      .with('people', 3)
      .with('devices', 2)
      .create()
    await AccessGroupFactory.merge({ name: 'Cleaners' }).create()

    const list = await client.get('/admin/access-groups').loginAs(auditor)
    list.assertStatus(200)
    const html = list.text()
    const row = (name: string) => html.slice(html.indexOf(`data-name="${name}"`)).split('</tr>')[0]
    assert.include(row('Warehouse'), 'Night shift')
    assert.include(row('Warehouse'), '<td data-test="people-count">3</td>')
    assert.include(row('Warehouse'), '<td data-test="devices-count">2</td>')
    assert.include(row('Cleaners'), 'Always')
    assert.include(row('Cleaners'), '<td data-test="people-count">0</td>')
    assert.isBelow(html.indexOf('data-name="Cleaners"'), html.indexOf('data-name="Warehouse"'))
  })

  test('invalid values and a duplicate name are field errors with what was typed kept', async ({
    client,
    assert,
  }) => {
    const auditEntries = await countRows('audit_logs')
    const operator = await UserFactory.create()
    await AccessGroupFactory.merge({ name: 'Lobby staff' }).create()

    const blank = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin/access-groups/new')
      .form({ name: '   ', description: 'Kept description', scheduleId: 'x' })
      .redirects(0)
    blank.assertStatus(302)
    blank.assertHeader('location', '/admin/access-groups/new')
    assert.properties(blank.flashMessages().inputErrorsBag, ['name', 'scheduleId'])
    assert.equal(blank.flashMessages().description, 'Kept description')

    const shown = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin/access-groups/new')
      .form({ name: '', description: 'Typed here' })
    shown.assertStatus(200)
    shown.assertTextIncludes('Enter the name.')
    shown.assertTextIncludes('>Typed here</textarea>')

    const duplicate = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: 'Lobby staff' })
    duplicate.assertStatus(422)
    assert.deepEqual(duplicate.body().errors, [
      {
        field: 'name',
        message: 'Another access group already has this name.',
        rule: 'database',
      },
    ])

    const unknownSchedule = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: 'Somewhere', scheduleId: '999999' })
    unknownSchedule.assertStatus(422)
    assert.equal(unknownSchedule.body().errors[0].field, 'scheduleId')

    assert.equal(await countRows('access_groups'), 1)
    assert.equal(await countRows('audit_logs'), auditEntries)
  })

  test('an operator edits a group; its schedule can become "always"', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' })
      .with('schedule', 1, (schedule) => schedule.merge({ name: 'Office hours' }))
      .create()
    const scheduleId = group.scheduleId
    await AccessGroupFactory.merge({ name: 'Taken' }).create()

    const form = await client.get(`/admin/access-groups/${group.id}/edit`).loginAs(operator)
    form.assertTextIncludes('value="Lobby staff"')
    form.assertTextIncludes(`<option value="${group.scheduleId}" selected>Office hours</option>`)

    const clash = await client
      .put(`/admin/access-groups/${group.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: 'Taken' })
    clash.assertStatus(422)

    const refused = await client
      .put(`/admin/access-groups/${group.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `/admin/access-groups/${group.id}/edit`)
      .form({ name: 'Taken', scheduleId: '' })
    refused.assertStatus(200)
    refused.assertTextIncludes('value="Taken"')
    refused.assertTextIncludes('<option value="" selected>')
    assert.notInclude(refused.text(), `<option value="${group.scheduleId}" selected>`)

    const sameName = await client
      .put(`/admin/access-groups/${group.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ name: 'Lobby staff', description: 'Front desk', scheduleId: '' })
      .redirects(0)
    sameName.assertStatus(302)
    sameName.assertHeader('location', `/admin/access-groups/${group.id}`)

    await group.refresh()
    assert.isNull(group.scheduleId)
    assert.equal(group.description, 'Front desk')
    const entry = await AuditLog.findByOrFail('action', 'access_group.update')
    assert.equal((entry.before as Record<string, unknown>).scheduleId, scheduleId)
    assert.deepEqual(entry.after, { description: 'Front desk', scheduleId: null })
  })

  test('deleting asks first, then resyncs the group’s devices and keeps people and devices', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' })
      .with('people', 2)
      .with('devices', 1, (device) => device.apply('approved'))
      .create()
    const [device] = group.devices

    const confirm = await client.get(`/admin/access-groups/${group.id}/delete`).loginAs(operator)
    confirm.assertStatus(200)
    confirm.assertTextIncludes('Lobby staff lets 2 people through 1 device.')
    confirm.assertTextIncludes('Delete group')

    const response = await client
      .delete(`/admin/access-groups/${group.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/admin/access-groups')

    assert.isNull(await AccessGroup.find(group.id))
    assert.equal(await countRows('access_group_people'), 0)
    assert.equal(await countRows('people'), 2)
    await device.refresh()
    assert.equal(Number(device.syncRevision), await revision())
    assert.isAbove(Number(device.syncRevision), 0)

    const entry = await AuditLog.findByOrFail('action', 'access_group.delete')
    assert.include(entry.before as Record<string, unknown>, { name: 'Lobby staff', people: 2 })
    assert.deepEqual((entry.before as Record<string, unknown>).devices, [
      { deviceId: device.id, name: device.name, serialNumber: device.serialNumber },
    ])
  })

  test('people are found by username or name, added and removed, each bumping their revision', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' }).create()
    const ada = await PersonFactory.merge({ username: 'ada', displayName: 'Ada Lovelace' }).create()
    const grace = await PersonFactory.merge({
      username: 'ghopper',
      displayName: 'Grace Hopper',
    }).create()
    await PersonFactory.merge({ username: 'linus', displayName: 'Linus Torvalds' }).create()
    const page = `/admin/access-groups/${group.id}`

    const byName = await client.get(page).qs({ q: 'LOVE' }).loginAs(operator)
    byName.assertTextIncludes('data-test="candidate-row" data-username="ada"')
    assert.notInclude(byName.text(), 'data-username="linus"')
    byName.assertTextIncludes(`action="${page}/people/${ada.id}"`)

    const byUsername = await client.get(page).qs({ q: 'ghop' }).loginAs(operator)
    byUsername.assertTextIncludes('data-username="ghopper"')

    const nobody = await client.get(page).qs({ q: '%' }).loginAs(operator)
    nobody.assertTextIncludes('No one matches “%”.')

    const before = await revision()
    const added = await client
      .post(`${page}/people/${ada.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `${page}?q=LOVE`)
      .redirects(0)
    added.assertStatus(302)
    added.assertHeader('location', `${page}?q=LOVE`)
    assert.equal(added.flashMessages().success, 'Ada Lovelace was added to the group.')
    await ada.refresh()
    assert.isAbove(Number(ada.revision), before)
    assert.equal(Number(ada.revision), await revision())

    const again = await client.get(page).qs({ q: 'LOVE' }).loginAs(operator)
    again.assertTextIncludes('data-test="member-row" data-username="ada"')
    again.assertTextIncludes('In this group')
    assert.notInclude(again.text(), `action="${page}/people/${ada.id}"`)

    const repeat = await client.post(`${page}/people/${ada.id}`).loginAs(operator).withCsrfToken()
    repeat.assertStatus(200)
    assert.equal(await countRows('access_group_people'), 1)
    assert.equal(await audited('access_group.add_person'), 1)

    const addEntry = await AuditLog.findByOrFail('action', 'access_group.add_person')
    assert.equal(addEntry.subjectId, String(group.id))
    assert.deepEqual(addEntry.after, {
      personId: ada.id,
      username: 'ada',
      displayName: 'Ada Lovelace',
    })

    const revisionAfterAdd = Number(ada.revision)
    const removed = await client
      .delete(`${page}/people/${ada.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .redirects(0)
    removed.assertStatus(302)
    await ada.refresh()
    assert.isAbove(Number(ada.revision), revisionAfterAdd)
    assert.equal(await countRows('access_group_people'), 0)
    const removeEntry = await AuditLog.findByOrFail('action', 'access_group.remove_person')
    assert.deepEqual(removeEntry.before, {
      personId: ada.id,
      username: 'ada',
      displayName: 'Ada Lovelace',
    })

    const notMember = await client
      .delete(`${page}/people/${grace.id}`)
      .loginAs(operator)
      .withCsrfToken()
    notMember.assertStatus(200)
    await grace.refresh()
    assert.isBelow(Number(grace.revision), Number(ada.revision))
    assert.equal(await audited('access_group.remove_person'), 1)

    const unknown = await client.post(`${page}/people/999999`).loginAs(operator).withCsrfToken()
    unknown.assertStatus(404)
  })

  test('approved devices are added and removed, each resyncing the device', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' }).create()
    const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
    const pending = await DeviceFactory.merge({ name: 'Not yet' }).create()
    const page = `/admin/access-groups/${group.id}`

    const before = await client.get(page).loginAs(operator)
    before.assertTextIncludes(
      `<option value="${lobby.id}" >Lobby east (${lobby.serialNumber})</option>`
    )
    assert.notInclude(before.text(), 'Not yet')

    const added = await client
      .post(`${page}/devices`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .form({ deviceId: String(lobby.id) })
      .redirects(0)
    added.assertStatus(302)
    await lobby.refresh()
    assert.equal(Number(lobby.syncRevision), await revision())
    const entry = await AuditLog.findByOrFail('action', 'access_group.add_device')
    assert.deepEqual(entry.after, {
      deviceId: lobby.id,
      name: 'Lobby east',
      serialNumber: lobby.serialNumber,
    })

    const shown = await client.get(page).loginAs(operator)
    shown.assertTextIncludes(`data-test="device-row" data-serial="${lobby.serialNumber}"`)
    shown.assertTextIncludes('Every approved device is already in this group.')

    const refused = await client
      .post(`${page}/devices`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ deviceId: String(pending.id) })
    refused.assertStatus(422)
    assert.deepEqual(refused.body().errors[0], {
      field: 'deviceId',
      message: 'Only approved devices can be added.',
      rule: 'database',
    })
    const missing = await client
      .post(`${page}/devices`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({})
    missing.assertStatus(422)
    assert.equal(missing.body().errors[0].message, 'Choose a device to add.')

    const syncBefore = Number(lobby.syncRevision)
    const removed = await client
      .delete(`${page}/devices/${lobby.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', page)
      .redirects(0)
    removed.assertStatus(302)
    await lobby.refresh()
    assert.isAbove(Number(lobby.syncRevision), syncBefore)
    assert.equal(await countRows('access_group_devices'), 0)
    assert.exists(await AuditLog.findBy('action', 'access_group.remove_device'))
    await pending.refresh()
    assert.equal(Number(pending.syncRevision), 0)
  })

  test('an auditor sees groups read-only and every change is refused with nothing written', async ({
    client,
    assert,
  }) => {
    const auditEntries = await countRows('audit_logs')
    const auditor = await UserFactory.apply('auditor').create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' })
      .with('people', 1, (person) => person.merge({ username: 'member' }))
      .with('devices', 1, (device) => device.apply('approved'))
      .create()
    const outsider = await PersonFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const page = `/admin/access-groups/${group.id}`
    const revisionBefore = await revision()

    const list = await client.get('/admin/access-groups').loginAs(auditor)
    list.assertStatus(200)
    list.assertTextIncludes('Lobby staff')
    assert.notInclude(list.text(), 'Add access group')
    assert.notInclude(list.text(), '/edit"')

    const show = await client.get(page).qs({ q: outsider.username }).loginAs(auditor)
    show.assertStatus(200)
    show.assertTextIncludes('data-username="member"')
    assert.notInclude(show.text(), 'data-test="candidates"')
    assert.notInclude(show.text(), 'data-test="add-device"')
    assert.notInclude(show.text(), '_method=DELETE')

    const refused = [
      await client.get('/admin/access-groups/new').loginAs(auditor),
      await client.get(`${page}/edit`).loginAs(auditor),
      await client.get(`${page}/delete`).loginAs(auditor),
      await client
        .post('/admin/access-groups')
        .loginAs(auditor)
        .withCsrfToken()
        .form({ name: 'X' }),
      await client.put(page).loginAs(auditor).withCsrfToken().form({ name: 'Renamed' }),
      await client.delete(page).loginAs(auditor).withCsrfToken(),
      await client.post(`${page}/people/${outsider.id}`).loginAs(auditor).withCsrfToken(),
      await client.delete(`${page}/people/${group.people[0].id}`).loginAs(auditor).withCsrfToken(),
      await client
        .post(`${page}/devices`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ deviceId: String(device.id) }),
      await client
        .delete(`${page}/devices/${group.devices[0].id}`)
        .loginAs(auditor)
        .withCsrfToken(),
    ]
    for (const response of refused) response.assertStatus(403)

    await group.refresh()
    assert.equal(group.name, 'Lobby staff')
    assert.equal(await countRows('access_groups'), 1)
    assert.equal(await countRows('access_group_people'), 1)
    assert.equal(await countRows('access_group_devices'), 1)
    assert.equal(await countRows('audit_logs'), auditEntries)
    assert.equal(await revision(), revisionBefore)
  })

  test('the person edit page lists the person’s groups', async ({ client }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    const lonely = await PersonFactory.create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' }).create()
    await group.related('people').attach([person.id])

    const edit = await client.get(`/admin/people/${person.id}/edit`).loginAs(operator)
    edit.assertTextIncludes(`<a href="/admin/access-groups/${group.id}">Lobby staff</a>`)

    const none = await client.get(`/admin/people/${lonely.id}/edit`).loginAs(operator)
    none.assertTextIncludes('Not in any access group')
  })

  test('an unknown group is a 404 and a signed-out visitor is sent to sign in', async ({
    client,
  }) => {
    const operator = await UserFactory.create()
    const missing = await client.get('/admin/access-groups/999999').loginAs(operator)
    missing.assertStatus(404)
    const signedOut = await client.get('/admin/access-groups').redirects(0)
    signedOut.assertStatus(302)
    signedOut.assertHeader('location', '/login')
  })

  test('the pages are translated into Chinese', async ({ client }) => {
    const operator = await UserFactory.merge({ locale: 'zh' }).create()
    const group = await AccessGroupFactory.merge({ name: 'Lobby staff' }).create()
    const list = await client.get('/admin/access-groups').loginAs(operator)
    list.assertTextIncludes('添加通行组')
    list.assertTextIncludes('不限时间')
    const show = await client.get(`/admin/access-groups/${group.id}`).loginAs(operator)
    show.assertTextIncludes('该通行组还没有人员。')
    const invalid = await client
      .post('/admin/access-groups')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ name: '' })
    invalid.assertStatus(422)
    invalid.assertBodyContains({ errors: [{ field: 'name', message: '请填写名称。' }] })
  })
})
