import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import Person from '#models/person'
import AuditLog from '#models/audit_log'
import { UserFactory } from '#database/factories/user_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { FaceDbRevision } from '#faces/face_db_revision'

const validPerson = {
  username: 'li.wei',
  displayName: 'Li Wei',
  cardNumber: '04:a2:3b:1c',
  department: 'Engineering',
  status: 'active',
  validFrom: '2026-01-01',
  validUntil: '2026-12-31',
  notes: '',
  consentGiven: '1',
  consentTextVersion: 'v2',
}

test.group('People pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an operator adds a person, recorded in the audit log and the face database revision', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const revisionBefore = await new FaceDbRevision().current()

    const response = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .form(validPerson)
      .redirects(0)

    const person = await Person.findByOrFail('username', 'li.wei')
    response.assertStatus(302)
    response.assertHeader('location', `/admin/people/${person.id}/edit`)
    assert.equal(person.displayName, 'Li Wei')
    assert.equal(person.cardNumber, '04A23B1C')
    assert.equal(person.validUntil?.toISODate(), '2026-12-31')
    assert.equal(person.consentTextVersion, 'v2')
    assert.equal(person.consentRecordedBy, operator.id)
    assert.isAbove(Number(person.revision), revisionBefore)
    assert.equal(await new FaceDbRevision().current(), person.revision)

    const entry = await AuditLog.findByOrFail('action', 'person.create')
    assert.equal(entry.userId, operator.id)
    assert.equal(entry.subjectLabel, 'li.wei')
    assert.equal((entry.after as Record<string, unknown>).displayName, 'Li Wei')
  })

  test('invalid values come back as field errors with what was typed', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const response = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin/people/new')
      .form({
        ...validPerson,
        username: 'bad name!',
        displayName: '',
        cardNumber: 'not-a-card',
        validFrom: '2026-05-01',
        validUntil: '2026-04-01',
        status: 'retired',
      })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/people/new')
    const errors = response.flashMessages().inputErrorsBag
    assert.properties(errors, ['username', 'displayName', 'cardNumber', 'validUntil', 'status'])
    assert.equal(response.flashMessages().department, 'Engineering')
    assert.equal(
      await Person.query()
        .count('* as total')
        .first()
        .then((r) => Number(r!.$extras.total)),
      0
    )
  })

  test('the form shows the errors and keeps the typed values', async ({ client }) => {
    const operator = await UserFactory.create()
    const response = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .header('referer', '/admin/people/new')
      .form({ ...validPerson, username: 'bad name!', department: 'Security desk' })

    response.assertStatus(200)
    response.assertTextIncludes('has characters that are not allowed')
    response.assertTextIncludes('value="Security desk"')
    response.assertTextIncludes('value="bad name!"')
  })

  test('a duplicate username or card is a field error, not a second person', async ({
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await PersonFactory.merge({ username: 'li.wei', cardNumber: 'AABBCCDD' }).create()

    const sameUsername = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ ...validPerson, cardNumber: '' })
    sameUsername.assertStatus(422)
    assert.equal(sameUsername.body().errors[0].field, 'username')

    const sameCard = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ ...validPerson, username: 'someone.else', cardNumber: 'aa:bb:cc:dd' })
    sameCard.assertStatus(422)
    assert.equal(sameCard.body().errors[0].field, 'cardNumber')

    const total = await Person.query().count('* as total').first()
    assert.equal(Number(total!.$extras.total), 1)
  })

  test('a forged CSRF token is refused and nothing is written', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const response = await client
      .post('/admin/people')
      .loginAs(operator)
      .form({ ...validPerson, _csrf: 'forged-token' })
      .redirects(0)

    assert.notEqual(response.status(), 200)
    assert.isNull(await Person.findBy('username', 'li.wei'))
  })

  test('search finds people by name, username, card and department', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    await PersonFactory.merge({
      username: 'zhang.san',
      displayName: 'Zhang San',
      cardNumber: '11223344',
    }).create()
    await PersonFactory.merge({
      username: 'maria.lopez',
      displayName: 'María López',
      department: 'Logistics',
    }).create()

    const byName = await client.get('/admin/people').qs({ q: 'zhang' }).loginAs(operator)
    byName.assertTextIncludes('data-username="zhang.san"')
    byName.assertTextIncludes('<span class="badge badge-active">Active</span>')
    assert.notInclude(byName.text(), '@!statusBadge')
    assert.notInclude(byName.text(), 'data-username="maria.lopez"')

    const byCard = await client.get('/admin/people').qs({ q: '1122' }).loginAs(operator)
    byCard.assertTextIncludes('data-username="zhang.san"')

    const byDepartment = await client.get('/admin/people').qs({ q: 'logist' }).loginAs(operator)
    byDepartment.assertTextIncludes('data-username="maria.lopez"')
    assert.notInclude(byDepartment.text(), 'data-username="zhang.san"')

    const wildcard = await client.get('/admin/people').qs({ q: '%' }).loginAs(operator)
    assert.notInclude(wildcard.text(), 'data-test="person-row"')
  })

  test('the list is paginated', async ({ client }) => {
    const operator = await UserFactory.create()
    await PersonFactory.createMany(30)
    const first = await client.get('/admin/people').loginAs(operator)
    first.assertTextIncludes('Page 1 of 2')
    const second = await client.get('/admin/people').qs({ page: 2 }).loginAs(operator)
    second.assertTextIncludes('Page 2 of 2')
  })

  test('an operator edits, suspends and deletes a person', async ({ client, assert }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.merge({ username: 'li.wei', displayName: 'Li Wei' }).create()

    const edited = await client
      .put(`/admin/people/${person.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ displayName: 'Li Wei (Eng)', status: 'active', department: 'R&D' })
      .redirects(0)
    edited.assertStatus(302)
    await person.refresh()
    assert.equal(person.displayName, 'Li Wei (Eng)')
    assert.equal(person.department, 'R&D')
    const update = await AuditLog.findByOrFail('action', 'person.update')
    assert.deepEqual(update.after, { displayName: 'Li Wei (Eng)', department: 'R&D' })

    await client
      .post(`/admin/people/${person.id}/status`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ status: 'suspended' })
      .redirects(0)
    await person.refresh()
    assert.equal(person.status, 'suspended')

    const confirm = await client.get(`/admin/people/${person.id}/delete`).loginAs(operator)
    confirm.assertTextIncludes('Delete permanently')

    const deleted = await client
      .delete(`/admin/people/${person.id}`)
      .loginAs(operator)
      .withCsrfToken()
      .redirects(0)
    deleted.assertStatus(302)
    assert.isNull(await Person.find(person.id))
    assert.exists(await AuditLog.findBy('action', 'person.delete'))
  })

  test('an auditor can read the list but change nothing', async ({ client, assert }) => {
    const auditor = await UserFactory.apply('auditor').create()
    const person = await PersonFactory.merge({ displayName: 'Li Wei' }).create()

    const list = await client.get('/admin/people').loginAs(auditor)
    list.assertStatus(200)
    list.assertTextIncludes('Li Wei')
    assert.notInclude(list.text(), 'Add person')

    const create = await client
      .post('/admin/people')
      .loginAs(auditor)
      .withCsrfToken()
      .form(validPerson)
    create.assertStatus(403)
    const update = await client
      .put(`/admin/people/${person.id}`)
      .loginAs(auditor)
      .withCsrfToken()
      .form({ displayName: 'Changed', status: 'active' })
    update.assertStatus(403)
    const remove = await client
      .delete(`/admin/people/${person.id}`)
      .loginAs(auditor)
      .withCsrfToken()
    remove.assertStatus(403)

    await person.refresh()
    assert.equal(person.displayName, 'Li Wei')
    assert.isNull(await Person.findBy('username', 'li.wei'))
    assert.equal(
      await AuditLog.query()
        .count('* as total')
        .first()
        .then((r) => Number(r!.$extras.total)),
      0
    )
  })

  test('signed-out visitors are sent to the sign-in page', async ({ client }) => {
    const response = await client.get('/admin/people').redirects(0)
    response.assertStatus(302)
    response.assertHeader('location', '/login')
  })

  test('an unknown person is a 404', async ({ client }) => {
    const operator = await UserFactory.create()
    const response = await client.get('/admin/people/999999/edit').loginAs(operator)
    response.assertStatus(404)
  })
})
