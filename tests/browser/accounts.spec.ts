import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import env from '#start/env'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import { addFace, grant } from '#tests/helpers/terminal'

const serverUrl = `http://${env.get('HOST')}:${env.get('PORT')}`

test.group('Accounts in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('a copied session is refused after sign-out', async ({
    browser,
    browserContext,
    visit,
    cleanup,
  }) => {
    const operator = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const page = await visit('/login')
    await page.getByLabel('Email').fill(operator.email)
    await page.getByLabel('Password').fill('correct horse battery staple')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.assertPath('/admin')

    // Someone copies the session cookie into a browser of their own.
    const other = await browser.newContext({ locale: 'en-US' })
    cleanup(() => other.close())
    await other.addCookies(await browserContext.cookies())
    const copy = await other.newPage()
    await copy.goto(`${serverUrl}/admin`)
    await copy.getByText('Olga Operator · Operator').waitFor()

    await page.getByRole('button', { name: 'Sign out' }).click()
    await page.assertPath('/login')

    await copy.goto(`${serverUrl}/admin/people`)
    await copy.waitForURL(`${serverUrl}/login`)
    await copy.getByRole('button', { name: 'Sign in' }).waitFor()
  })

  test('an auditor reads a person’s consent record', async ({ browserContext, visit, assert }) => {
    const recorder = await UserFactory.merge({ fullName: 'Olga Operator' }).create()
    const auditor = await UserFactory.apply('auditor').merge({ fullName: 'Aud Itor' }).create()
    const person = await PersonFactory.apply('consented')
      .merge({ displayName: 'Grace Hopper', consentRecordedBy: recorder.id })
      .create()
    await addFace(person)
    await grant([person], [])
    await browserContext.loginAs(auditor)

    const page = await visit('/admin/people')
    await page
      .locator('[data-test="person-row"]', { hasText: 'Grace Hopper' })
      .getByRole('link', { name: 'View' })
      .click()

    await page.assertPath(`/admin/people/${person.id}`)
    await page.assertTextContains('h1', 'Grace Hopper')
    await page.assertTextContains('[data-test="consent-status"]', 'recorded by Olga Operator')
    await page.assertElementsCount('[data-test="face-row"]', 1)
    await page.assertElementsCount('main form', 0)
    await page.assertElementsCount('main button', 0)
    assert.isFalse(await page.getByRole('button', { name: 'Save' }).isVisible())
  })
})
