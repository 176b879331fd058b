import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import type { Page } from 'playwright'
import Face from '#models/face'
import Person from '#models/person'
import { AccessGroupFactory } from '#database/factories/access_group_factory'
import { UserFactory } from '#database/factories/user_factory'
import { browserFilming } from '#tests/helpers/fake_camera'
import { resetTerminalState, serverUrl } from '#tests/helpers/terminal'

const fixture = (path: string) => app.makePath('tests/fixtures', path)

/** Images as the page's script sees them; the suite compiles without the DOM types. */
type Image = { complete: boolean; naturalWidth: number; naturalHeight: number }

/** The person fields of the new-person form, consent ticked, and one access group. */
async function fillNewPerson(page: Page, group: string) {
  await page.getByLabel('Username').fill('penny')
  await page.getByLabel('Display name').fill('Penny')
  await page.getByLabel('Card number').fill('04 A1 B2 C3')
  await page.getByLabel('Department').fill('Reception')
  await page.getByLabel('The person has given consent to biometric processing').check()
  await page.getByLabel('Consent text version').fill('v3')
  await page.getByLabel(group).check()
}

/** What the person page must show after a one-page enrolment. */
async function assertEnrolledPage(page: Page, person: Person, group: string) {
  await page.assertPath(`/admin/people/${person.id}/edit`)
  await page.assertElementsCount('[data-test="face-row"]', 1)
  await page.assertTextContains('[data-test="consent-status"]', 'Consent given on')
  await page.assertTextContains('[data-test="person-groups"]', group)
  await page.assertInputValue('#field-cardNumber', '04A1B2C3')
  const thumbnail = page.locator('[data-test="face-thumbnail"]')
  await thumbnail.evaluate((image) => (image as unknown as { decode(): Promise<void> }).decode())
  return thumbnail.evaluate((element) => {
    const image = element as unknown as Image
    return {
      complete: image.complete,
      naturalWidth: image.naturalWidth,
      naturalHeight: image.naturalHeight,
    }
  })
}

test.group('Enrolment on one page', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))
  group.each.setup(() => resetTerminalState())

  test('from the dashboard: the new-person form with a group and a photo lands on the person with their face, consent and group', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await AccessGroupFactory.merge({ name: 'Front desk' }).create()
    await AccessGroupFactory.merge({ name: 'Server room' }).create()
    await browserContext.loginAs(operator)

    const page = await visit('/admin')
    await page.getByRole('link', { name: 'People', exact: true }).click()
    await page.getByRole('link', { name: 'Add person' }).click()
    await fillNewPerson(page, 'Front desk')
    await page.getByLabel('Photo', { exact: true }).setInputFiles(fixture('faces/penny.png'))
    await page.getByRole('button', { name: 'Save' }).click()

    await page.assertTextContains('body', 'Penny was added and their face enrolled.')
    const person = await Person.findByOrFail('username', 'penny')
    const thumbnail = await assertEnrolledPage(page, person, 'Front desk')
    assert.isTrue(thumbnail.complete)
    assert.equal(thumbnail.naturalWidth, thumbnail.naturalHeight)
    assert.include([96, 192], thumbnail.naturalWidth)
    await page.assertNotExists('[data-test="person-groups"] >> text=Server room')
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(face.source, 'photo')
  })

  test('the camera: live hints frame the face, the picture taken is enrolled as a webcam face', async ({
    assert,
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    await AccessGroupFactory.merge({ name: 'Front desk' }).create()
    const camera = await browserFilming('pairs/barack_obama_01.jpg')
    cleanup(camera.close)
    const context = await camera.browser.newContext({ baseURL: serverUrl, locale: 'en-US' })
    const page = await context.newPage()

    await page.goto('/login')
    await page.getByLabel('Email').fill(operator.email)
    await page.getByLabel('Password').fill('correct horse battery staple')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL('**/admin')

    await page.goto('/admin/people/new')
    await fillNewPerson(page, 'Front desk')
    await page.getByRole('button', { name: 'Start the camera' }).click()
    const hint = page.locator('[data-test="camera-hint"]')
    await hint.filter({ hasText: 'Good: take the picture.' }).waitFor({ timeout: 20_000 })
    await page.getByRole('button', { name: 'Take the picture' }).click()
    await page.getByText('This picture is enrolled when you save.').waitFor()
    await page.getByRole('button', { name: 'Save' }).click()
    await page.getByText('Penny was added and their face enrolled.').waitFor()

    const person = await Person.findByOrFail('username', 'penny')
    assert.equal(new URL(page.url()).pathname, `/admin/people/${person.id}/edit`)
    const face = await Face.findByOrFail('person_id', person.id)
    assert.equal(face.source, 'webcam')
    await page.getByText('Webcam').first().waitFor()
  })

  test('served from an address that is not a secure context, the camera panel says why it cannot start', async ({
    cleanup,
  }) => {
    const operator = await UserFactory.create()
    const camera = await browserFilming('pairs/barack_obama_01.jpg', {
      hostAlias: 'guard-room.test',
    })
    cleanup(camera.close)
    const origin = `http://guard-room.test:${new URL(serverUrl).port}`
    const context = await camera.browser.newContext({ baseURL: origin })
    const page = await context.newPage()

    await page.goto('/login')
    await page.getByLabel('Email').fill(operator.email)
    await page.getByLabel('Password').fill('correct horse battery staple')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.waitForURL('**/admin')
    await page.goto('/admin/people/new')
    await page.getByRole('button', { name: 'Start the camera' }).click()
    await page
      .getByText(
        `only on pages served over HTTPS or from http://localhost, and this page comes from ${origin}`
      )
      .waitFor()
    await page.getByLabel('Photo', { exact: true }).waitFor()
  })
})
