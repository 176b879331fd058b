import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import terminalConfig from '#config/terminal'
import AuditLog from '#models/audit_log'
import type Device from '#models/device'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { DeviceCredentials } from '#services/device_credentials'
import { FaceDbRevision } from '#faces/face_db_revision'
import { DeviceRefusals } from '#services/terminal/device_refusals'
import { PendingDeviceCap } from '#services/terminal/pending_device_cap'
import { resetTerminalState } from '#tests/helpers/terminal'

type FormChanges = { permissions?: string[]; legacyMode?: boolean; [field: string]: unknown }

/**
 * The device page's form as a browser sends it for the device, with
 * `changes` made: checked boxes only, so no permission checked sends none.
 */
function deviceForm(device: Device, changes: FormChanges = {}) {
  const { permissions = device.allowed, legacyMode = device.legacyMode, ...fields } = changes
  return {
    'name': device.name,
    'mode': device.mode,
    'requiredFactors': device.requiredFactors,
    'location': device.location ?? '',
    'pinnedAddress': device.pinnedAddress ?? device.lastSeenAddress ?? '',
    'permissions[]': permissions,
    ...(legacyMode ? { legacyMode: '1' } : {}),
    ...fields,
  }
}

const audited = (action: string) => AuditLog.query().where('action', action)

test.group('Devices pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())

  test('pending devices are listed first and an operator approves one', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await DeviceFactory.apply('approved')
      .merge({ name: 'A approved', serialNumber: 'SN-A' })
      .create()
    const pending = await DeviceFactory.merge({ name: 'Z pending', serialNumber: 'SN-Z' }).create()

    const list = await client.get('/admin/devices').loginAs(operator)
    list.assertStatus(200)
    const html = list.text()
    assert.isBelow(html.indexOf('data-serial="SN-Z"'), html.indexOf('data-serial="SN-A"'))
    assert.include(html, '<span class="badge badge-pending">Pending</span>')
    assert.notInclude(html, '@!statusBadge')

    const revisionBefore = await new FaceDbRevision().current()
    const response = await client
      .post(`/admin/devices/${pending.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'approved' })
      .redirects(0)
    response.assertStatus(200)

    await pending.refresh()
    assert.equal(pending.status, 'approved')
    assert.isAbove(await new FaceDbRevision().current(), revisionBefore)
    const entry = await AuditLog.findByOrFail('action', 'device.approve')
    assert.deepEqual(entry.before, { status: 'pending' })
    assert.deepEqual(entry.after, { status: 'approved' })
  })

  test('an operator blocks a device and filters by status', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ serialNumber: 'SN-1' }).create()
    await DeviceFactory.merge({ serialNumber: 'SN-2' }).create()

    await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'blocked' })
    await device.refresh()
    assert.equal(device.status, 'blocked')

    const wildcard = await client.get('/admin/devices').qs({ q: '%' }).loginAs(operator)
    assert.notInclude(wildcard.text(), 'data-test="device-row"')
    const bySerial = await client.get('/admin/devices').qs({ q: 'sn-2' }).loginAs(operator)
    bySerial.assertTextIncludes('data-serial="SN-2"')
    assert.notInclude(bySerial.text(), 'data-serial="SN-1"')

    const blocked = await client.get('/admin/devices').qs({ status: 'blocked' }).loginAs(operator)
    blocked.assertTextIncludes('data-serial="SN-1"')
    assert.notInclude(blocked.text(), 'data-serial="SN-2"')
  })

  test('a status other than approved or blocked is rejected', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.create()
    const response = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ status: 'root' })
    response.assertStatus(422)
    await device.refresh()
    assert.equal(device.status, 'pending')
  })

  test('an operator renames a device; a name in use is a field error', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.merge({ name: 'Lobby 1' }).create()
    await DeviceFactory.merge({ name: 'Lobby 2' }).create()

    const taken = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form(deviceForm(device, { name: 'Lobby 2', permissions: ['enrolment'] }))
    taken.assertStatus(422)
    assert.equal(taken.body().errors[0].field, 'name')
    await device.refresh()
    assert.deepEqual(device.allowed, ['recognition', 'database', 'feedback'], 'nothing half-saved')
    assert.lengthOf(await audited('device.access'), 0)

    const renamed = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form(
        deviceForm(device, {
          name: 'Lobby east',
          mode: 'offline',
          requiredFactors: 'face_card',
          location: 'East door',
        })
      )
      .redirects(0)
    renamed.assertStatus(302)
    await device.refresh()
    assert.equal(device.name, 'Lobby east')
    assert.equal(device.mode, 'offline')
    assert.equal(device.requiredFactors, 'face_card')
    assert.equal(device.location, 'East door')
    assert.lengthOf(await audited('device.access'), 0)
  })

  test("a device's own FPIR target is saved as a share, and emptied back to the site's", async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const save = (value: string) =>
      client
        .put(`/admin/devices/${device.id}`)
        .loginAs(operator)
        .withCsrfToken()
        .form(deviceForm(device, { identifyTargetFpir: value }))
        .redirects(0)

    const saved = await save('0.1')
    saved.assertStatus(302)
    await device.refresh()
    assert.closeTo(device.config!.identifyTargetFpir as number, 0.001, 1e-12)
    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('value="0.1"')

    const emptied = await save('')
    emptied.assertStatus(302)
    await device.refresh()
    assert.notProperty(device.config ?? {}, 'identifyTargetFpir')
    const refused = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form(deviceForm(device, { identifyTargetFpir: '80' }))
    refused.assertStatus(422)
  })

  test('an auditor sees devices but cannot approve, block or edit', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.merge({ name: 'Gate 7' }).create()

    const list = await client.get('/admin/devices').loginAs(auditor)
    list.assertStatus(200)
    list.assertTextIncludes('Gate 7')
    assert.notInclude(list.text(), '>Approve<')

    const approve = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(auditor)
      .withCsrfToken()
      .form({ status: 'approved' })
    approve.assertStatus(403)
    const edit = await client.get(`/admin/devices/${device.id}/edit`).loginAs(auditor).redirects(0)
    edit.assertHeader('location', `/admin/devices/${device.id}`)

    await device.refresh()
    assert.equal(device.status, 'pending')
  })

  test('approving shows the new credential once, on a page that is not cached', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.merge({ name: 'Gate 3', serialNumber: 'SN-GATE-3' }).create()

    const approved = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'approved' })
      .redirects(0)

    approved.assertStatus(200)
    approved.assertHeader('cache-control', 'no-store')
    await device.refresh()
    const secret = DeviceCredentials.secretOf(device)
    assert.match(secret!, /^fa1_/)
    approved.assertTextIncludes(`value="${secret}"`)
    approved.assertTextIncludes('Gate 3 (SN-GATE-3) is approved')
    approved.assertTextIncludes('It is not shown again')
    approved.assertTextIncludes(`href="/admin/devices/${device.id}/edit"`)
    assert.notProperty(approved.flashMessages(), 'success')
    assert.lengthOf(await audited('device.credential.issue'), 1)

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    assert.notInclude(page.text(), secret!)
    page.assertTextIncludes('Issued ')
    const list = await client.get('/admin/devices').loginAs(operator)
    assert.notInclude(list.text(), secret!)
  })

  test('approving a device that has a credential keeps it and shows no secret', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('blocked').create()
    const first = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'approved' })
    await device.refresh()
    const secret = DeviceCredentials.secretOf(device)!
    first.assertTextIncludes(secret)

    const again = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin/devices')
      .form({ status: 'approved' })
      .redirects(0)

    again.assertStatus(302)
    again.assertHeader('location', '/admin/devices')
    assert.match(String(again.flashMessages().success), /keeps the credential it already had/)
    assert.notInclude(JSON.stringify(again.flashMessages()), 'fa1_')
    await device.refresh()
    assert.equal(DeviceCredentials.secretOf(device), secret)
    assert.lengthOf(await audited('device.credential.issue'), 1)
  })

  test('approving a legacy device issues no credential', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('legacy').create()

    const response = await client
      .post(`/admin/devices/${device.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'approved' })
      .redirects(0)

    response.assertStatus(302)
    assert.match(String(response.flashMessages().success), /legacy mode.*only from 127\.0\.0\.1/)
    await device.refresh()
    assert.equal(device.status, 'approved')
    assert.isFalse(device.hasCredential)
  })

  test('issuing a new credential shows it once and the old one stops working', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()
    const old = DeviceCredentials.secretOf(device)!

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('Issue a new credential')
    assert.notInclude(page.text(), old)

    const issued = await client
      .post(`/admin/devices/${device.id}/credential`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)

    issued.assertStatus(200)
    issued.assertHeader('cache-control', 'no-store')
    await device.refresh()
    const secret = DeviceCredentials.secretOf(device)!
    assert.notEqual(secret, old)
    issued.assertTextIncludes(`value="${secret}"`)
    issued.assertTextIncludes('The one it had before no longer works')
    assert.lengthOf(await audited('device.credential.rotate'), 1)
  })

  test('revoking a credential asks first, then clears it', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').create()

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes(`href="/admin/devices/${device.id}/credential/revoke"`)
    const confirm = await client
      .get(`/admin/devices/${device.id}/credential/revoke`)
      .loginAs(operator)
    confirm.assertStatus(200)
    confirm.assertTextIncludes(`/admin/devices/${device.id}/credential?_method=DELETE`)
    confirm.assertTextIncludes('Revoke the credential')
    await device.refresh()
    assert.isTrue(device.hasCredential)

    const revoked = await client
      .delete(`/admin/devices/${device.id}/credential`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)

    revoked.assertStatus(302)
    revoked.assertHeader('location', `/admin/devices/${device.id}/edit`)
    assert.match(String(revoked.flashMessages().success), /is revoked/)
    await device.refresh()
    assert.isFalse(device.hasCredential)
    assert.isNull(device.credentialIssuedAt)
    assert.lengthOf(await audited('device.credential.revoke'), 1)
    const after = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    after.assertTextIncludes('This device has no credential')
    assert.notInclude(after.text(), '/credential/revoke')
  })

  test('the access form shows what the device may do and saves a change', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved')
      .merge({ lastSeenAddress: '10.0.0.5' })
      .create()

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    for (const permission of ['recognition', 'database', 'feedback']) {
      page.assertTextIncludes(`name="permissions[]" value="${permission}" checked`)
    }
    page.assertTextIncludes('name="permissions[]" value="enrolment" ')
    assert.notInclude(page.text(), 'value="enrolment" checked')
    page.assertTextIncludes('held for review')
    assert.match(page.text(), /name="pinnedAddress"\s+value="10\.0\.0\.5"/)
    assert.notMatch(page.text(), /name="legacyMode" value="1" checked/)

    const saved = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form(
        deviceForm(device, {
          permissions: ['recognition', 'enrolment'],
          legacyMode: true,
          pinnedAddress: '10.0.0.7',
        })
      )
      .redirects(0)

    saved.assertStatus(302)
    await device.refresh()
    assert.deepEqual(device.permissions, ['recognition', 'enrolment'])
    assert.isTrue(device.legacyMode)
    assert.equal(device.pinnedAddress, '10.0.0.7')
    const [entry] = await audited('device.access')
    assert.equal(entry.userId, operator.id)
    assert.deepInclude(entry.after, {
      permissions: ['recognition', 'enrolment'],
      legacyMode: true,
      pinnedAddress: '10.0.0.7',
    })

    const legacy = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    legacy.assertTextIncludes('name="legacyMode" value="1" checked')
    legacy.assertTextIncludes('value="10.0.0.7"')
  })

  test('the form sent as rendered changes nothing; every box unchecked leaves no permissions', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved')
      .apply('legacy')
      .merge({ lastSeenAddress: '10.0.0.5' })
      .create()

    const untouched = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form(deviceForm(device))
      .redirects(0)
    untouched.assertStatus(302)
    assert.lengthOf(await audited('device.access'), 0)
    await device.refresh()
    assert.isTrue(device.legacyMode)
    assert.equal(device.pinnedAddress, '127.0.0.1')

    const unchecked = deviceForm(device, { permissions: [], legacyMode: false })
    assert.notProperty(unchecked, 'legacyMode')
    const cleared = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form(unchecked)
      .redirects(0)

    cleared.assertStatus(302)
    await device.refresh()
    assert.deepEqual(device.permissions, [])
    assert.deepEqual(device.allowed, [])
    assert.isFalse(device.legacyMode)
    assert.isNull(device.pinnedAddress)
    assert.lengthOf(await audited('device.access'), 1)
  })

  test('legacy mode with no address to pin is a field error and changes nothing', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.merge({ name: 'Dock 1' }).create()
    const change = { name: 'Dock 2', legacyMode: true, pinnedAddress: '' }

    const json = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form(deviceForm(device, change))
    json.assertStatus(422)
    assert.equal(json.body().errors[0].field, 'pinnedAddress')

    const form = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', `/admin/devices/${device.id}/edit`)
      .form(deviceForm(device, { ...change, permissions: ['recognition'] }))
    form.assertStatus(200)
    form.assertTextIncludes('there is no address to pin it to')
    form.assertTextIncludes('name="legacyMode" value="1" checked')
    form.assertTextIncludes('name="permissions[]" value="recognition" checked')
    assert.notInclude(form.text(), 'value="database" checked')

    const badAddress = await client
      .put(`/admin/devices/${device.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form(deviceForm(device, { ...change, pinnedAddress: 'the lobby' }))
    badAddress.assertStatus(422)
    assert.equal(badAddress.body().errors[0].field, 'pinnedAddress')

    await device.refresh()
    assert.equal(device.name, 'Dock 1')
    assert.isFalse(device.legacyMode)
    assert.isNull(device.permissions)
    assert.isNull(device.pinnedAddress)
    assert.lengthOf(await AuditLog.all(), 0)
  })

  test('an auditor cannot issue, see or revoke a credential, nor change access', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.apply('approved').create()
    const pending = await DeviceFactory.create()
    const secret = DeviceCredentials.secretOf(device)!

    const responses = [
      await client.post(`/admin/devices/${device.id}/credential`).loginAs(auditor).withCsrfToken(),
      await client.get(`/admin/devices/${device.id}/credential/revoke`).loginAs(auditor),
      await client
        .delete(`/admin/devices/${device.id}/credential`)
        .loginAs(auditor)
        .withCsrfToken(),
      await client
        .put(`/admin/devices/${device.id}`)
        .loginAs(auditor)
        .withCsrfToken()
        .form(deviceForm(device, { permissions: ['enrolment'] })),
      await client
        .post(`/admin/devices/${pending.id}/status`)
        .loginAs(auditor)
        .withCsrfToken()
        .form({ status: 'approved' }),
    ]
    for (const response of responses) {
      response.assertStatus(403)
      assert.notInclude(response.text(), 'fa1_')
    }

    const list = await client.get('/admin/devices').loginAs(auditor)
    assert.notInclude(list.text(), 'fa1_')
    assert.notInclude(list.text(), '/credential')
    await device.refresh()
    await pending.refresh()
    assert.equal(DeviceCredentials.secretOf(device), secret)
    assert.isNull(device.permissions)
    assert.isFalse(pending.hasCredential)
    assert.lengthOf(await AuditLog.all(), 0)
  })

  test('refused calls show on the device page and as a count in the list', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const device = await DeviceFactory.apply('approved').merge({ serialNumber: 'SN-R' }).create()
    await DeviceFactory.apply('approved').merge({ serialNumber: 'SN-QUIET' }).create()
    const refusals = new DeviceRefusals()
    await refusals.record(device, {
      address: '203.0.113.9',
      endpoint: 'getDbs',
      reason: 'the signature does not verify',
    })
    await refusals.record(device, {
      address: '203.0.113.10',
      endpoint: 'regFace',
      reason: 'no enrolment permission',
    })

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('2 calls in this device')
    const rows = page.text().split('data-test="refusal-row"').slice(1)
    assert.lengthOf(rows, 2)
    assert.include(rows[0], '203.0.113.10')
    assert.include(rows[0], 'regFace')
    assert.include(rows[0], 'no enrolment permission')
    assert.include(rows[1], 'the signature does not verify')

    const list = await client.get('/admin/devices').loginAs(operator)
    const html = list.text()
    const row = (serial: string) =>
      html.slice(html.indexOf(`data-serial="${serial}"`)).split('</tr>')[0]
    assert.include(row('SN-R'), '2 refused calls')
    assert.notInclude(row('SN-QUIET'), 'refusal-badge')

    const quiet = await DeviceFactory.create()
    const none = await client.get(`/admin/devices/${quiet.id}/edit`).loginAs(operator)
    none.assertTextIncludes('No call in this device')
  })

  test('the list shows the cap on pending devices and the devices it turned away', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    await DeviceFactory.createMany(2)
    const { pendingTotal, pendingPerAddress } = terminalConfig.auth

    const calm = await client.get('/admin/devices').loginAs(auditor)
    calm.assertTextIncludes(
      `2 pending of at most ${pendingTotal} (at most ${pendingPerAddress} first seen from one address).`
    )
    assert.notInclude(calm.text(), 'pending-cap-refused')

    const cap = new PendingDeviceCap()
    await cap.refused('198.51.100.3')
    await cap.refused('198.51.100.4')
    const full = await client.get('/admin/devices').loginAs(auditor)
    full.assertTextIncludes('2 new devices were not registered')
    full.assertTextIncludes('the last from 198.51.100.4 at')
    full.assertTextIncludes('Blocking pending devices you do not recognise makes room')
  })

  test('the new parts of the pages are translated into Chinese', async ({ client, assert }) => {
    const operator = await UserFactory.merge({ locale: 'zh' }).create()
    const device = await DeviceFactory.apply('approved').create()
    await new DeviceRefusals().record(device, {
      address: '203.0.113.9',
      endpoint: 'getDbs',
      reason: 'the signature does not verify',
    })
    await new PendingDeviceCap().refused('198.51.100.3')

    const page = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    page.assertTextIncludes('签发新凭据')
    page.assertTextIncludes('兼容模式')
    const issued = await client
      .post(`/admin/devices/${device.id}/credential`)
      .loginAs(operator)
      .withCsrfToken()
    issued.assertTextIncludes('此凭据不会再次显示')
    const list = await client.get('/admin/devices').loginAs(operator)
    list.assertTextIncludes('1 次调用被拒')
    list.assertTextIncludes('有 1 台新设备未被登记')
    for (const response of [page, issued, list]) {
      assert.notMatch(response.text(), /translation missing/i)
    }
  })
})
