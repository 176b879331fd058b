import { rm, writeFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'

const fixture = (path: string) => app.makePath('tests/fixtures', path)

test.group('Enrolling faces in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('a refused upload keeps the person form as stored', async ({
    browserContext,
    visit,
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    const person = await PersonFactory.merge({ cardNumber: '10002', department: 'Security' })
      .apply('consented')
      .create()
    await browserContext.loginAs(operator)
    const notAPhoto = app.makePath('tmp', `notes-${person.id}.jpg`)
    await writeFile(notAPhoto, 'just some text\n')
    cleanup(() => rm(notAPhoto, { force: true }))

    const page = await visit(`/admin/people/${person.id}/edit`)
    await page.locator('#field-photo').setInputFiles(notAPhoto)
    await page.getByRole('button', { name: 'Upload and enrol' }).click()
    await page.assertTextContains('[data-test="error-photo"]', 'not a photo the server can read')
    await page.assertInputValue('#field-cardNumber', '10002')
    await page.assertInputValue('#field-department', 'Security')

    await page.getByRole('button', { name: 'Save' }).click()
    await person.refresh()
    assert.equal(person.cardNumber, '10002')
    assert.equal(person.department, 'Security')
  })

  test('a group photo offers its faces; a duplicate warning is overridden with a reason, which the audit log shows', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    const sheldon = await PersonFactory.merge({ displayName: 'Sheldon Cooper' })
      .apply('consented')
      .create()
    const twin = await PersonFactory.merge({ displayName: 'Twin Cooper' })
      .apply('consented')
      .create()
    await browserContext.loginAs(operator)

    let page = await visit(`/admin/people/${sheldon.id}/edit`)
    await page.locator('#field-photo').setInputFiles(fixture('pairs/jim_parsons_sheldon1.png'))
    await page.getByRole('button', { name: 'Upload and enrol' }).click()
    await page.assertTextContains('body', 'A face of Sheldon Cooper was enrolled.')

    page = await visit(`/admin/people/${twin.id}/edit`)
    await page.locator('#field-photo').setInputFiles(fixture('groups/kit_with_rose.jpg'))
    await page.getByRole('button', { name: 'Upload and enrol' }).click()
    await page.assertTextContains('[data-test="error-photo"]', 'This photo shows 2 faces')
    await page.assertElementsCount('[data-test="face-choice"]', 2)
    await page.getByRole('button', { name: 'Discard this photo' }).click()
    await page.assertElementsCount('[data-test="face-choice"]', 0)

    await page.locator('#field-photo').setInputFiles(fixture('pairs/jim_parsons_sheldon2.png'))
    await page.getByRole('button', { name: 'Upload and enrol' }).click()
    await page.assertTextContains('[data-test="error-photo"]', 'matches Sheldon Cooper')
    assert.equal(
      await Face.query()
        .where('person_id', twin.id)
        .count('* as n')
        .then((r) => Number(r[0].$extras.n)),
      0
    )

    await page.getByLabel('Reason (kept in the audit log)').fill('Identical twin, ID card checked')
    await page.getByRole('button', { name: 'Enrol anyway' }).click()
    await page.assertTextContains('body', 'A face of Twin Cooper was enrolled.')
    await page.assertElementsCount('[data-test="face-row"]', 1)

    const entry = await AuditLog.query()
      .where('action', 'face.create')
      .where('subject_id', String(twin.id))
      .firstOrFail()
    assert.equal(
      (entry.after as Record<string, unknown>).confirmedDifferentPeople,
      'Identical twin, ID card checked'
    )
    const auditor = await UserFactory.apply('auditor').create()
    await browserContext.clearCookies()
    await browserContext.loginAs(auditor)
    page = await visit('/admin/audit')
    await page.assertTextContains('[data-test="audit-table"]', 'Identical twin, ID card checked')
  })
})
