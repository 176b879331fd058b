import { test } from '@japa/runner'
import sharp from 'sharp'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import AuditLog from '#models/audit_log'
import Face from '#models/face'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { MediaStore } from '#faces/media_store'
import { addFace, resetTerminalState, storedFileExists } from '#tests/helpers/terminal'

test.group('Biometric consent in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))
  group.each.setup(() => resetTerminalState())

  test('an operator unticks consent, confirms, and the faces are gone', async ({
    browserContext,
    visit,
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const person = await PersonFactory.apply('consented')
      .apply('withCard')
      .merge({ displayName: 'Grace Hopper', consentRecordedBy: operator.id })
      .create()
    const media = new MediaStore()
    const photo = await sharp({
      create: { width: 64, height: 64, channels: 3, background: { r: 90, g: 140, b: 200 } },
    })
      .png()
      .toBuffer()
    const imagePath = await media.saveFacePhoto(photo, 'png')
    cleanup(() => media.remove(imagePath))
    await addFace(person, { imagePath })
    await browserContext.loginAs(operator)

    const page = await visit(`/admin/people/${person.id}/edit`)
    await page.assertElementsCount('[data-test="face-row"]', 1)
    await page.assertTextContains('[data-test="consent-status"]', 'recorded by Olga Operator')
    await page.getByLabel('The person has given consent to biometric processing').uncheck()
    await page.getByRole('button', { name: 'Save', exact: true }).click()

    await page.assertPath(`/admin/people/${person.id}/consent/withdraw`)
    await page.assertTextContains('body', 'Withdrawing consent waits for your confirmation.')
    await page.assertTextContains('[data-test="consent-withdrawal"]', 'deletes their face template')
    assert.lengthOf(await Face.query().where('person_id', person.id), 1, 'nothing withdrawn yet')

    await page.getByRole('button', { name: 'Withdraw consent and delete faces' }).click()

    await page.assertPath(`/admin/people/${person.id}/edit`)
    await page.assertTextContains('body', 'The consent of Grace Hopper was withdrawn')
    await page.assertElementsCount('[data-test="face-row"]', 0)
    await page.assertTextContains(
      '[data-test="consent-status"]',
      'Not on record: faces cannot be enrolled until consent is recorded.'
    )
    await page.assertNotChecked('#field-consentGiven')
    assert.isFalse(await storedFileExists(imagePath))
    const entry = await AuditLog.findByOrFail('action', 'person.consent_withdraw')
    assert.equal(entry.userId, operator.id)
  })
})
