import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import app from '@adonisjs/core/services/app'
import User, { type UserRole } from '#models/user'
import AuditLog from '#models/audit_log'
import { OperatorService } from '#services/operator_service'
import { commandLineActor } from '#services/audit_trail'

const password = 'correct horse battery staple'

function makeUser(email: string, role: UserRole, fullName = 'Test User') {
  return User.create({ email, fullName, password, role, locale: 'en' })
}

const newOperator = {
  fullName: 'Wang Fang',
  email: 'Wang.Fang@example.com',
  role: 'operator',
  locale: 'zh',
  password: 'a long enough secret',
  password_confirmation: 'a long enough secret',
}

test.group('Operators pages', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('an admin sees every operator with role, status and last sign-in', async ({ client }) => {
    const admin = await makeUser('admin@example.com', 'admin', 'Ada Admin')
    const disabled = await makeUser('gone@example.com', 'auditor', 'Gus Gone')
    disabled.disabledAt = disabled.createdAt
    await disabled.save()

    const response = await client.get('/admin/operators').loginAs(admin)

    response.assertStatus(200)
    response.assertTextIncludes('Ada Admin')
    response.assertTextIncludes('gone@example.com')
    response.assertTextIncludes('Auditor')
    response.assertTextIncludes('Disabled')
    response.assertTextIncludes('Never')
  })

  test('an admin adds an operator who can then sign in, and the audit log records it', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')

    const response = await client
      .post('/admin/operators')
      .loginAs(admin)
      .withCsrfToken()
      .form(newOperator)
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/operators')
    const operator = await User.findByOrFail('email', 'wang.fang@example.com')
    assert.equal(operator.fullName, 'Wang Fang')
    assert.equal(operator.role, 'operator')
    assert.equal(operator.locale, 'zh')
    assert.notEqual(operator.password, newOperator.password)

    const entry = await AuditLog.findByOrFail('action', 'operator.create')
    assert.equal(entry.userId, admin.id)
    assert.equal(entry.subjectType, 'user')
    assert.equal(entry.subjectId, String(operator.id))
    assert.equal(entry.subjectLabel, 'wang.fang@example.com')
    assert.equal(entry.after?.role, 'operator')
    assert.notProperty(entry.after, 'password')
    assert.notInclude(JSON.stringify(entry.after), newOperator.password)

    const signIn = await client
      .post('/login')
      .withCsrfToken()
      .form({ email: 'wang.fang@example.com', password: newOperator.password })
      .redirects(0)
    signIn.assertStatus(302)
    signIn.assertHeader('location', '/admin')
    await operator.refresh()
    assert.isNotNull(operator.lastSignInAt)
  })

  test('a duplicate email is a field error and nothing is created', async ({ client, assert }) => {
    const admin = await makeUser('admin@example.com', 'admin')
    await makeUser('wang.fang@example.com', 'operator')

    const response = await client
      .post('/admin/operators')
      .loginAs(admin)
      .withCsrfToken()
      .header('referer', '/admin/operators/new')
      .form(newOperator)
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/operators/new')
    response.assertFlashMessage('inputErrorsBag', {
      email: ['Another account already uses this email address.'],
    })
    assert.lengthOf(await User.query().where('email', 'wang.fang@example.com'), 1)
    assert.isNull(await AuditLog.findBy('action', 'operator.create'))
  })

  test('invalid values come back as field errors with what was typed, but no password', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')

    const response = await client
      .post('/admin/operators')
      .loginAs(admin)
      .withCsrfToken()
      .header('referer', '/admin/operators/new')
      .form({
        ...newOperator,
        email: 'not an email',
        role: 'superuser',
        password: 'short',
        password_confirmation: 'different',
      })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/operators/new')
    const flashed = response.flashMessages()
    assert.properties(flashed.inputErrorsBag, ['email', 'role', 'password'])
    assert.equal(flashed.fullName, 'Wang Fang')
    assert.equal(flashed.email, 'not an email')
    assert.equal(flashed.role, 'superuser')
    assert.notProperty(flashed, 'password')
    assert.notProperty(flashed, 'password_confirmation')
    assert.isNull(await User.findBy('full_name', 'Wang Fang'))
  })

  test('a mismatched confirmation is a 422 on the confirmation field', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')

    const response = await client
      .post('/admin/operators')
      .loginAs(admin)
      .withCsrfToken()
      .accept('json')
      .form({ ...newOperator, password_confirmation: 'another long secret' })

    response.assertStatus(422)
    const fields = response.body().errors.map((error: { field: string }) => error.field)
    assert.deepEqual(fields, ['password_confirmation'])
    assert.isNull(await User.findBy('email', 'wang.fang@example.com'))
  })

  test('an admin changes an operator; role, disabling and password are recorded separately', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')
    const operator = await makeUser('li.na@example.com', 'operator', 'Li Na')

    const response = await client
      .put(`/admin/operators/${operator.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .form({
        fullName: 'Li Na',
        email: 'li.na@example.com',
        role: 'auditor',
        locale: 'zh',
        password: 'a brand new secret',
        password_confirmation: 'a brand new secret',
        disabled: '1',
      })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/operators')
    await operator.refresh()
    assert.equal(operator.role, 'auditor')
    assert.equal(operator.locale, 'zh')
    assert.isNotNull(operator.disabledAt)
    assert.isNotNull(await User.verifyCredentials('li.na@example.com', 'a brand new secret'))

    const entries = await AuditLog.query().where('subject_id', String(operator.id)).orderBy('id')
    assert.deepEqual(
      entries.map((entry) => entry.action),
      ['operator.update', 'operator.role', 'operator.disable', 'operator.password']
    )
    assert.deepEqual(entries[0].before, { locale: 'en' })
    assert.deepEqual(entries[0].after, { locale: 'zh' })
    assert.deepEqual(entries[1].after, { role: 'auditor' })
    assert.notInclude(JSON.stringify(entries), 'a brand new secret')
  })

  test('a blank password keeps the current one, and an unticked box enables', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')
    const operator = await makeUser('li.na@example.com', 'operator', 'Li Na')
    operator.disabledAt = operator.createdAt
    await operator.save()

    const response = await client
      .put(`/admin/operators/${operator.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .form({
        fullName: 'Li Na',
        email: 'li.na@example.com',
        role: 'operator',
        locale: 'en',
        password: '',
        password_confirmation: '',
      })
      .redirects(0)

    response.assertStatus(302)
    await operator.refresh()
    assert.isNull(operator.disabledAt)
    assert.isNotNull(await User.verifyCredentials('li.na@example.com', password))
    const actions = await AuditLog.query().where('subject_id', String(operator.id))
    assert.deepEqual(
      actions.map((entry) => entry.action),
      ['operator.enable']
    )
  })

  test('changing an email to one already in use is a field error', async ({ client, assert }) => {
    const admin = await makeUser('admin@example.com', 'admin')
    const operator = await makeUser('li.na@example.com', 'operator', 'Li Na')

    const response = await client
      .put(`/admin/operators/${operator.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .accept('json')
      .form({ fullName: 'Li Na', email: 'ADMIN@example.com', role: 'operator', locale: 'en' })

    response.assertStatus(422)
    assert.equal(response.body().errors[0].field, 'email')
    await operator.refresh()
    assert.equal(operator.email, 'li.na@example.com')
  })

  test('an admin cannot disable themselves', async ({ client, assert }) => {
    const admin = await makeUser('admin@example.com', 'admin', 'Ada Admin')
    await makeUser('second.admin@example.com', 'admin')

    const response = await client
      .put(`/admin/operators/${admin.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .header('referer', `/admin/operators/${admin.id}/edit`)
      .form({
        fullName: 'Ada Admin',
        email: 'admin@example.com',
        role: 'admin',
        locale: 'en',
        disabled: '1',
      })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', `/admin/operators/${admin.id}/edit`)
    response.assertFlashMessage('inputErrorsBag', {
      disabled: ['You cannot disable your own account.'],
    })
    await admin.refresh()
    assert.isNull(admin.disabledAt)
    assert.isNull(await AuditLog.findBy('subject_id', String(admin.id)))
  })

  test('the last admin cannot remove their own admin role', async ({ client, assert }) => {
    const admin = await makeUser('admin@example.com', 'admin', 'Ada Admin')

    const response = await client
      .put(`/admin/operators/${admin.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .accept('json')
      .form({ fullName: 'Ada Admin', email: 'admin@example.com', role: 'operator', locale: 'en' })

    response.assertStatus(422)
    assert.deepEqual(response.body().errors, [
      {
        field: 'role',
        message: 'You cannot remove your own administrator role.',
        rule: 'database',
      },
    ])
    await admin.refresh()
    assert.equal(admin.role, 'admin')
  })

  test('an admin may demote another admin while an enabled admin remains', async ({
    client,
    assert,
  }) => {
    const admin = await makeUser('admin@example.com', 'admin')
    const other = await makeUser('other.admin@example.com', 'admin', 'Otto Other')

    const response = await client
      .put(`/admin/operators/${other.id}`)
      .loginAs(admin)
      .withCsrfToken()
      .form({ fullName: 'Otto Other', email: other.email, role: 'operator', locale: 'en' })
      .redirects(0)

    response.assertStatus(302)
    response.assertHeader('location', '/admin/operators')
    await other.refresh()
    assert.equal(other.role, 'operator')
    const entry = await AuditLog.findByOrFail('action', 'operator.role')
    assert.deepEqual(entry.before, { role: 'admin' })
  })

  test('an operator gets 403 on the list and on create, and nothing is created', async ({
    client,
    assert,
  }) => {
    const operator = await makeUser('op@example.com', 'operator')

    const list = await client.get('/admin/operators').loginAs(operator)
    list.assertStatus(403)

    const create = await client
      .post('/admin/operators')
      .loginAs(operator)
      .withCsrfToken()
      .accept('json')
      .form({ ...newOperator, role: 'admin' })
    create.assertStatus(403)

    const formPost = await client
      .post('/admin/operators')
      .loginAs(operator)
      .withCsrfToken()
      .form({ ...newOperator, role: 'admin' })
      .redirects(0)
    formPost.assertStatus(403)
    formPost.assertTextIncludes('You do not have permission to do that.')

    assert.isNull(await User.findBy('email', 'wang.fang@example.com'))
    assert.lengthOf(await AuditLog.all(), 0)
  })

  test('an auditor gets 403 on every operator page', async ({ client, assert }) => {
    const auditor = await makeUser('auditor@example.com', 'auditor')
    const operator = await makeUser('op@example.com', 'operator')

    const responses = [
      await client.get('/admin/operators').loginAs(auditor),
      await client.get('/admin/operators/new').loginAs(auditor),
      await client.get(`/admin/operators/${operator.id}/edit`).loginAs(auditor),
      await client
        .post('/admin/operators')
        .loginAs(auditor)
        .withCsrfToken()
        .accept('json')
        .form(newOperator),
      await client
        .put(`/admin/operators/${operator.id}`)
        .loginAs(auditor)
        .withCsrfToken()
        .accept('json')
        .form({ fullName: 'X', email: operator.email, role: 'admin', locale: 'en' }),
    ]
    for (const response of responses) response.assertStatus(403)
    await operator.refresh()
    assert.equal(operator.role, 'operator')
    assert.isNull(await User.findBy('email', 'wang.fang@example.com'))
  })
})

test.group('Operator service', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('the last enabled admin can be neither disabled nor demoted', async ({ assert }) => {
    const operators = await app.container.make(OperatorService)
    const admin = await makeUser('admin@example.com', 'admin', 'Ada Admin')
    const formerAdmin = await makeUser('former@example.com', 'admin')
    formerAdmin.disabledAt = formerAdmin.createdAt
    await formerAdmin.save()
    const fields = { email: admin.email, fullName: admin.fullName, locale: 'en' as const }

    const disable = await operators.update(commandLineActor(), admin, {
      ...fields,
      role: 'admin',
      disabled: true,
    })
    const demote = await operators.update(commandLineActor(), admin, {
      ...fields,
      role: 'auditor',
    })

    assert.deepEqual(disable, {
      ok: false,
      error: { type: 'last_admin_disable', field: 'disabled' },
    })
    assert.deepEqual(demote, { ok: false, error: { type: 'last_admin_demote', field: 'role' } })
    await admin.refresh()
    assert.equal(admin.role, 'admin')
    assert.isNull(admin.disabledAt)
    assert.lengthOf(await AuditLog.all(), 0)
  })
})
