import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Device from '#models/device'
import Face from '#models/face'
import Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { addFace, grant } from '#tests/helpers/terminal'

/** The page's own content, without the header's language and sign-out forms. */
function main(html: string) {
  return html.slice(html.indexOf('<main'), html.indexOf('</main>'))
}

test.group('Auditors read people and devices', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('a person’s page shows the record, consent, faces and groups, with no form', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const recorder = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const person = await PersonFactory.apply('consented')
      .merge({ displayName: 'Grace Hopper', consentRecordedBy: recorder.id })
      .create()
    await addFace(person)
    const lobby = await grant([person], [])
    lobby.name = 'Lobby'
    await lobby.save()

    const list = await client.get('/admin/people').loginAs(auditor)
    assert.include(list.text(), `href="/admin/people/${person.id}"`)

    const page = await client.get(`/admin/people/${person.id}`).loginAs(auditor)
    page.assertStatus(200)
    const html = main(page.text())
    assert.include(html, 'Grace Hopper')
    assert.match(
      html,
      /data-test="consent-status">Consent given on [\d-]+, recorded by Olga Operator/
    )
    assert.include(html, 'data-test="face-row"')
    assert.include(html, '>Lobby</a>')
    assert.notInclude(html, '<form')
    assert.notInclude(html, '<button')
    assert.notInclude(html, '<input')

    const edit = await client.get(`/admin/people/${person.id}/edit`).loginAs(auditor).redirects(0)
    edit.assertStatus(302)
    edit.assertHeader('location', `/admin/people/${person.id}`)
  })

  test('a device’s page shows its settings, access and credential, with no form', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const device = await DeviceFactory.apply('approved').merge({ name: 'Lobby gate' }).create()

    const list = await client.get('/admin/devices').loginAs(auditor)
    assert.include(list.text(), `href="/admin/devices/${device.id}"`)

    const page = await client.get(`/admin/devices/${device.id}`).loginAs(auditor)
    page.assertStatus(200)
    const html = main(page.text())
    assert.include(html, 'Lobby gate')
    assert.include(html, device.serialNumber)
    assert.include(html, 'data-test="device-access"')
    assert.include(html, 'data-test="device-credential"')
    assert.notInclude(html, '<form')
    assert.notInclude(html, '<button')
    assert.notInclude(html, '<input')

    const edit = await client.get(`/admin/devices/${device.id}/edit`).loginAs(auditor).redirects(0)
    edit.assertStatus(302)
    edit.assertHeader('location', `/admin/devices/${device.id}`)
  })

  test('operators still get the forms', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.create()
    const device = await DeviceFactory.create()
    const personPage = await client.get(`/admin/people/${person.id}/edit`).loginAs(operator)
    personPage.assertStatus(200)
    assert.include(main(personPage.text()), '<form')
    const devicePage = await client.get(`/admin/devices/${device.id}/edit`).loginAs(operator)
    devicePage.assertStatus(200)
    assert.include(main(devicePage.text()), '<form')
  })

  test('every change an auditor sends is refused with 403 and changes nothing', async ({
    client,
    assert,
  }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const person = await PersonFactory.apply('consented').merge({ displayName: 'Grace' }).create()
    const face = await addFace(person)
    const device = await DeviceFactory.merge({ name: 'Side door' }).create()
    const changes: [method: 'post' | 'put' | 'delete', path: string, fields: object][] = [
      ['put', `/admin/people/${person.id}`, { displayName: 'Changed', status: 'active' }],
      ['post', `/admin/people/${person.id}/status`, { status: 'suspended' }],
      ['delete', `/admin/people/${person.id}`, {}],
      ['post', `/admin/people/${person.id}/consent/withdraw`, {}],
      ['delete', `/admin/people/${person.id}/faces/${face.id}`, {}],
      ['put', `/admin/devices/${device.id}`, { name: 'Changed', mode: 'online' }],
      ['post', `/admin/devices/${device.id}/status`, { status: 'approved' }],
      ['post', `/admin/devices/${device.id}/credential`, {}],
      ['delete', `/admin/devices/${device.id}/credential`, {}],
    ]
    for (const [method, path, fields] of changes) {
      const response = await client[method](path).loginAs(auditor).withCsrfToken().form(fields)
      assert.equal(response.status(), 403, `${method.toUpperCase()} ${path}`)
    }

    const stored = await Person.findOrFail(person.id)
    assert.equal(stored.displayName, 'Grace')
    assert.equal(stored.status, 'active')
    assert.isNotNull(stored.consentGivenAt)
    assert.isNotNull(await Face.find(face.id))
    const storedDevice = await Device.findOrFail(device.id)
    assert.equal(storedDevice.name, 'Side door')
    assert.equal(storedDevice.status, device.status)
    assert.isFalse(storedDevice.hasCredential)
  })
})
