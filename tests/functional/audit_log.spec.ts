import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { DateTime } from 'luxon'
import User, { type UserRole } from '#models/user'
import type { ApiClient } from '@japa/api-client'
import AuditLog from '#models/audit_log'
import Person from '#models/person'
import { AccessGroupFactory } from '#database/factories/access_group_factory'

function makeUser(email: string, role: UserRole) {
  return User.create({
    email,
    fullName: 'Test User',
    password: 'correct horse battery staple',
    role,
    locale: 'en',
  })
}

function record(
  fields: Partial<AuditLog> & Pick<AuditLog, 'action' | 'subjectType' | 'subjectLabel'>
) {
  return AuditLog.create({ actor: 'someone@example.com', ipAddress: '10.0.0.7', ...fields })
}

const rowCount = (html: string) => html.split('data-test="audit-row"').length - 1

test.group('Audit log page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('admins and auditors can read it, newest first', async ({ client, assert }) => {
    await record({
      action: 'person.create',
      subjectType: 'person',
      subjectLabel: 'older.entry',
      createdAt: DateTime.now().minus({ hours: 2 }),
    })
    await record({ action: 'device.update', subjectType: 'device', subjectLabel: 'newer.entry' })

    for (const role of ['admin', 'auditor'] as const) {
      const reader = await makeUser(`${role}@example.com`, role)
      const response = await client.get('/admin/audit').loginAs(reader)
      response.assertStatus(200)
      const html = response.text()
      assert.isBelow(html.indexOf('newer.entry'), html.indexOf('older.entry'))
      assert.include(html, '10.0.0.7')
      assert.include(html, 'someone@example.com')
    }
  })

  test('an operator gets 403', async ({ client }) => {
    const operator = await makeUser('op@example.com', 'operator')
    const response = await client.get('/admin/audit').loginAs(operator)
    response.assertStatus(403)
  })

  test('filters by action prefix, record type, actor and date range', async ({
    client,
    assert,
  }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    const lastWeek = DateTime.now().minus({ days: 7 })
    await record({
      action: 'person.create',
      subjectType: 'person',
      subjectLabel: 'entry-a',
      actor: 'alice@example.com',
      createdAt: lastWeek,
    })
    await record({
      action: 'person.update',
      subjectType: 'person',
      subjectLabel: 'entry-b',
      actor: 'bob@example.com',
    })
    await record({
      action: 'device.update',
      subjectType: 'device',
      subjectLabel: 'entry-c',
      actor: 'alice@example.com',
    })
    await record({
      action: 'personnel.import',
      subjectType: 'person',
      subjectLabel: 'entry-d',
      actor: 'cli:root',
    })

    const shown = async (query: Record<string, string>) => {
      const response = await client.get('/admin/audit').qs(query).loginAs(auditor)
      response.assertStatus(200)
      return ['entry-a', 'entry-b', 'entry-c', 'entry-d'].filter((label) =>
        response.text().includes(label)
      )
    }

    assert.deepEqual(await shown({ action: 'person.' }), ['entry-a', 'entry-b'])
    assert.deepEqual(await shown({ action: 'Person' }), ['entry-a', 'entry-b', 'entry-d'])
    assert.deepEqual(await shown({ subjectType: 'device' }), ['entry-c'])
    assert.deepEqual(await shown({ actor: 'ALICE' }), ['entry-a', 'entry-c'])
    assert.deepEqual(await shown({ actor: 'alice', action: 'person' }), ['entry-a'])
    assert.deepEqual(await shown({ until: lastWeek.toISODate()! }), ['entry-a'])
    assert.deepEqual(await shown({ from: DateTime.now().toISODate()! }), [
      'entry-b',
      'entry-c',
      'entry-d',
    ])
    assert.deepEqual(
      await shown({ from: lastWeek.minus({ days: 1 }).toISODate()!, until: lastWeek.toISODate()! }),
      ['entry-a']
    )
    assert.deepEqual(await shown({ action: '%' }), [])
  })

  test('an end date before the start date is a validation error', async ({ client, assert }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    const response = await client
      .get('/admin/audit')
      .qs({ from: '2026-05-02', until: '2026-05-01' })
      .accept('json')
      .loginAs(auditor)

    response.assertStatus(422)
    assert.equal(response.body().errors[0].field, 'until')
  })

  test('shows fifty entries a page, and the page links keep the filters', async ({
    client,
    assert,
  }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    for (let index = 0; index < 51; index++) {
      await record({ action: 'person.update', subjectType: 'person', subjectLabel: `p${index}` })
    }
    await record({ action: 'device.update', subjectType: 'device', subjectLabel: 'a device' })

    const first = await client.get('/admin/audit').qs({ action: 'person' }).loginAs(auditor)
    first.assertStatus(200)
    assert.equal(rowCount(first.text()), 50)
    assert.include(first.text(), 'action=person')
    assert.include(first.text(), 'page=2')

    const second = await client
      .get('/admin/audit')
      .qs({ action: 'person', page: 2 })
      .loginAs(auditor)
    assert.equal(rowCount(second.text()), 1)
    assert.notInclude(second.text(), 'a device')
  })

  test('changes made in the People pages appear with only the changed fields', async ({
    client,
    assert,
  }) => {
    const operator = await makeUser('op@example.com', 'operator')
    const auditor = await makeUser('auditor@example.com', 'auditor')

    const created = await client
      .post('/admin/people')
      .loginAs(operator)
      .withCsrfToken()
      .form({
        username: 'li.wei',
        displayName: 'Li Wei',
        department: 'Engineering',
        status: 'active',
      })
      .redirects(0)
    created.assertStatus(302)

    const entry = await AuditLog.findByOrFail('action', 'person.create')
    const updated = await client
      .put(`/admin/people/${entry.subjectId}`)
      .loginAs(operator)
      .withCsrfToken()
      .form({ displayName: 'Li Wei Jr', department: 'Engineering', status: 'active' })
      .redirects(0)
    updated.assertStatus(302)

    const response = await client.get('/admin/audit').qs({ subjectType: 'person' }).loginAs(auditor)
    response.assertStatus(200)
    const html = response.text()
    assert.equal(rowCount(html), 2)
    assert.include(html, 'data-action="person.create"')
    assert.include(html, 'data-action="person.update"')
    assert.include(html, 'op@example.com')
    assert.include(html, 'li.wei')
    assert.include(html, 'Name: Li Wei → Li Wei Jr')
    assert.include(html, 'Department: Engineering')
    assert.notInclude(html, 'Department: Engineering →')
    assert.notInclude(html, 'createdAt')
  })
})

test.group('Audit log in words', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  /** What an operator's work leaves in the log, made through the pages. */
  async function aDayAtTheDesk(client: ApiClient) {
    const ada = await User.create({
      email: 'ada@example.com',
      fullName: 'Ada Lovelace',
      password: 'correct horse battery staple',
      role: 'operator',
      locale: 'en',
    })
    const lobby = await AccessGroupFactory.merge({ name: 'Lobby' }).create()
    await client.post('/admin/people').loginAs(ada).withCsrfToken().form({
      username: 'ghopper',
      displayName: 'Grace Hopper',
      status: 'active',
      consentGiven: '1',
      consentTextVersion: 'v2',
    })
    const grace = await Person.findByOrFail('username', 'ghopper')
    await client
      .post(`/admin/access-groups/${lobby.id}/people/${grace.id}`)
      .loginAs(ada)
      .withCsrfToken()
    await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'ada@example.com', password: 'not her password' })
    return { ada, grace, lobby }
  }

  test('each entry is a sentence with names, and its fields are named in English', async ({
    client,
    assert,
  }) => {
    await aDayAtTheDesk(client)
    const auditor = await makeUser('auditor@example.com', 'auditor')

    const response = await client.get('/admin/audit').loginAs(auditor)
    response.assertStatus(200)
    const html = response.text()
    assert.include(html, 'Ada Lovelace added Grace Hopper to access group Lobby')
    assert.include(html, 'Ada Lovelace added Grace Hopper')
    assert.include(html, 'Consent recorded by: Ada Lovelace')
    assert.include(html, 'Consent text version: v2')
    assert.include(html, 'A sign-in as ada@example.com was refused: wrong email or password')
    assert.notInclude(html, 'consentRecordedBy')
    assert.notInclude(html, '>access_group.add_person<')
    assert.notInclude(html, 'not her password')
  })

  test('and in Chinese for a reader who reads Chinese', async ({ client, assert }) => {
    await aDayAtTheDesk(client)
    const auditor = await makeUser('auditor@example.com', 'auditor')
    auditor.locale = 'zh'
    await auditor.save()

    const response = await client.get('/admin/audit').loginAs(auditor)
    const html = response.text()
    assert.include(html, 'Ada Lovelace 将 Grace Hopper 加入通行组 Lobby')
    assert.include(html, 'Ada Lovelace 添加了 Grace Hopper')
    assert.include(html, '同意登记人: Ada Lovelace')
    assert.include(html, '以 ada@example.com 登录被拒绝：邮箱或密码不正确')
    assert.notInclude(html, 'consentRecordedBy')
  })

  test('sign-ins, terminals, commands and unknown actions are said plainly', async ({
    client,
    assert,
  }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    await record({
      action: 'session.sign_in',
      subjectType: 'user',
      subjectId: String(auditor.id),
      subjectLabel: auditor.email,
      userId: auditor.id,
      actor: auditor.email,
    })
    await record({
      action: 'device.register',
      subjectType: 'device',
      subjectLabel: 'Gate 1 (SN-1)',
      actor: 'device:SN-1',
      after: { name: 'Gate 1', serialNumber: 'SN-1', status: 'pending', address: '10.0.0.9' },
    })
    await record({
      action: 'device.approve',
      subjectType: 'device',
      subjectLabel: 'Gate 1 (SN-1)',
      actor: 'cli:root',
      before: { status: 'pending' },
      after: { status: 'approved' },
    })
    await record({ action: 'personnel.import', subjectType: 'person', subjectLabel: 'batch-7' })

    const response = await client.get('/admin/audit').loginAs(auditor)
    const html = response.text()
    assert.include(html, 'Test User signed in')
    assert.include(html, 'Gate 1 (SN-1) connected for the first time and waits for approval')
    assert.include(html, 'root (command line) approved device Gate 1 (SN-1)')
    assert.include(html, 'Status: Pending → Approved')
    assert.include(html, 'someone@example.com: personnel.import (batch-7)')
  })

  test('a person’s validity is shown as the day it is, whatever the zone it was stored in', async ({
    client,
    assert,
  }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    await record({
      action: 'person.update',
      subjectType: 'person',
      subjectLabel: 'gh',
      before: { validUntil: null },
      after: { validUntil: '2027-01-01T00:00:00.000-05:00' },
    })
    const response = await client.get('/admin/audit').loginAs(auditor)
    assert.match(response.text(), /Valid until: — → 2027-01-01\s*</)
  })

  test('the filtered log downloads as CSV in words', async ({ client, assert }) => {
    await aDayAtTheDesk(client)
    const auditor = await makeUser('auditor@example.com', 'auditor')

    const page = await client.get('/admin/audit').qs({ action: 'access_group' }).loginAs(auditor)
    assert.include(page.text(), 'href="/admin/audit.csv?action=access_group"')

    const response = await client
      .get('/admin/audit.csv')
      .qs({ action: 'access_group' })
      .loginAs(auditor)
    response.assertStatus(200)
    response.assertHeader('content-type', 'text/csv; charset=utf-8')
    assert.match(
      response.header('content-disposition') ?? '',
      /^attachment; filename="audit-\d{8}-\d{4}\.csv"$/
    )
    const lines = response
      .text()
      .replace(/^\uFEFF/, '')
      .trim()
      .split('\r\n')
    assert.equal(lines[0], 'time,who,action,what,record_type,record,address,changes')
    assert.lengthOf(lines, 2)
    assert.include(lines[1], ',Ada Lovelace,access_group.add_person,')
    assert.include(lines[1], 'Ada Lovelace added Grace Hopper to access group Lobby')
  })
})
