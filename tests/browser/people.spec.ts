import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import db from '@adonisjs/lucid/services/db'
import AdminSeeder from '#database/seeders/admin_seeder'
import Person from '#models/person'
import { UserFactory } from '#database/factories/user_factory'

test.group('People in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('the seeded admin signs in, adds, finds, edits and deletes a person', async ({
    visit,
    assert,
  }) => {
    process.env.ADMIN_PASSWORD = 'seeded-admin-password'
    await new AdminSeeder(db.connection()).run()
    delete process.env.ADMIN_PASSWORD

    const page = await visit('/admin')
    await page.assertPath('/login')
    await page.getByLabel('Email').fill('admin@example.com')
    await page.getByLabel('Password').fill('seeded-admin-password')
    await page.getByRole('button', { name: 'Sign in' }).click()
    await page.assertPath('/admin')

    await page.getByRole('link', { name: 'People', exact: true }).click()
    await page.getByRole('link', { name: 'Add person' }).click()
    await page.getByLabel('Username').fill('ada.lovelace')
    await page.getByLabel('Display name').fill('Ada Lovelace')
    await page.getByLabel('Card number').fill('04 A2 3B 1C')
    await page.getByLabel('Department').fill('Analytical Engines')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.assertPathMatches(/^\/admin\/people\/\d+\/edit$/)
    await page.assertTextContains('body', 'Ada Lovelace was added.')

    await page.getByRole('link', { name: 'People', exact: true }).click()
    await page.getByRole('searchbox').fill('lovelace')
    await page.getByRole('button', { name: 'Search' }).click()
    await page.assertElementsCount('[data-test="person-row"]', 1)
    await page.assertTextContains('[data-test="people-table"]', 'Analytical Engines')

    await page.getByRole('link', { name: 'Edit' }).click()
    await page.getByLabel('Display name').fill('Augusta Ada King')
    await page.getByRole('button', { name: 'Save' }).click()
    await page.assertTextContains('body', 'Augusta Ada King was saved.')

    await page.getByRole('link', { name: 'Delete' }).click()
    await page.getByRole('button', { name: 'Delete permanently' }).click()
    await page.assertTextContains('body', 'Augusta Ada King was deleted.')
    assert.isNull(await Person.findBy('username', 'ada.lovelace'))
  })

  test('a form error keeps what was typed', async ({ browserContext, visit }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)

    const page = await visit('/admin/people/new')
    await page.getByLabel('Username').fill('has spaces')
    await page.getByLabel('Display name').fill('Grace Hopper')
    await page.getByRole('button', { name: 'Save' }).click()

    await page.assertPath('/admin/people/new')
    await page.assertTextContains('[data-test="error-username"]', 'not allowed')
    await page.assertInputValue('#field-displayName', 'Grace Hopper')
  })

  test('an operator does not see Operators and cannot open it', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)

    const page = await visit('/admin')
    await page.assertNotExists('nav a[href="/admin/operators"]')
    const response = await page.goto(new URL('/admin/operators', page.url()).href)
    assert.equal(response?.status(), 403)
    await page.assertTextContains('body', 'You do not have permission')
  })
})
