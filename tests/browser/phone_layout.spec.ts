import { test } from '@japa/runner'
import router from '@adonisjs/core/services/router'
import testUtils from '@adonisjs/core/services/test_utils'
import limiter from '@adonisjs/limiter/services/main'
import { DateTime } from 'luxon'
import type { Page } from 'playwright'
import AccessEvent from '#models/access_event'
import EnrolmentReview from '#models/enrolment_review'
import Holiday from '#models/holiday'
import { AccessGroupFactory } from '#database/factories/access_group_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { ScheduleFactory } from '#database/factories/schedule_factory'
import { UserFactory } from '#database/factories/user_factory'
import { addFace } from '#tests/helpers/terminal'

/** What the admin pages are checked at: the phone of the issue, and the narrowest width supported. */
const phones = [
  { width: 390, height: 844 },
  { width: 360, height: 740 },
]

/** GET routes under /admin that answer something other than a page. */
const notPages = /stream|presence|\.csv$|\/photo$|thumbnail|snapshot|^\/admin\/health$/

/** A site with one of everything, each with long names, so that every page has something to lay out. */
async function site() {
  const admin = await UserFactory.apply('admin')
    .merge({ fullName: 'Maximilian Alexander Wolfeschlegel' })
    .create()
  const operator = await UserFactory.create()
  const person = await PersonFactory.apply('consented')
    .apply('withCard')
    .merge({
      displayName: 'Anastasia Konstantinopoulou-Vasilakopoulou',
      department: 'Facilities and Maintenance',
    })
    .create()
  const face = await addFace(person)
  const device = await DeviceFactory.apply('approved')
    .merge({ name: 'North entrance turnstile 2', location: 'Building C, ground floor, lobby' })
    .create()
  const schedule = await ScheduleFactory.with('windows', 2).create()
  await Holiday.create({
    scheduleId: schedule.id,
    date: DateTime.fromISO('2026-12-25'),
    name: 'Christmas Day',
  })
  const group = await AccessGroupFactory.merge({ scheduleId: schedule.id }).create()
  await group.related('people').attach([person.id])
  await group.related('devices').attach([device.id])
  const review = await EnrolmentReview.create({
    kind: 'face_change',
    deviceId: device.id,
    deviceLabel: `${device.name} (${device.serialNumber})`,
    personId: person.id,
    username: person.username,
    requestedName: person.displayName,
    reasons: ['no_match', 'rename'],
    address: '192.168.100.200',
  })
  for (const decision of ['granted', 'denied'] as const) {
    await AccessEvent.create({
      deviceId: device.id,
      personId: person.id,
      decision,
      reason: decision === 'granted' ? 'granted' : 'outside_schedule',
      method: 'face',
      score: 0.91,
      occurredAt: DateTime.now(),
      receivedAt: DateTime.now(),
    })
  }
  const ids: Record<string, number> = {
    'people': person.id,
    'devices': device.id,
    'access-groups': group.id,
    'schedules': schedule.id,
    'operators': operator.id,
    'reviews': review.id,
  }
  return { admin, ids, faceId: face.id }
}

/** Every admin page's address, its parameters filled from the site. */
function adminPages(ids: Record<string, number>, faceId: number) {
  return Object.values(router.toJSON())
    .flat()
    .filter((route) => route.methods.includes('GET') && route.pattern.startsWith('/admin'))
    .map((route) => route.pattern)
    .filter((pattern) => !notPages.test(pattern))
    .map((pattern) => {
      const area = pattern.split('/')[2]
      // The plugin pages open an instance of the test's plugins file, or the form for a new gate.
      if (pattern.endsWith('/settings/plugins/new')) return `${pattern}?plugin=modbus-gate`
      return pattern
        .replace(':instance', 'lobby-light')
        .replace(':faceId', String(faceId))
        .replace(':id', () => {
          if (!(area in ids)) throw new Error(`no record to open ${pattern} with`)
          return String(ids[area])
        })
    })
}

/** How far the page reaches past the window's right edge, and which elements do. */
function overflow(page: Page) {
  return page.evaluate(() => {
    const doc = (globalThis as any).document
    const width = (globalThis as any).innerWidth as number
    const wide = [...doc.querySelectorAll('body *')]
      .filter((element: any) => element.getBoundingClientRect().right > width + 1)
      .slice(0, 4)
      .map(
        (element: any) =>
          `${element.tagName.toLowerCase()}.${element.className}[${(globalThis as any).getComputedStyle(element).display},${Math.round(element.getBoundingClientRect().right)}]`
      )
    return { scrollWidth: doc.documentElement.scrollWidth as number, width, wide }
  })
}

test.group('Admin pages on a phone', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => limiter.clear(['memory']))

  test('no admin page scrolls sideways at 390 or 360 pixels', async ({
    browserContext,
    assert,
  }) => {
    const { admin, ids, faceId } = await site()
    const pages = [...adminPages(ids, faceId), '/docs']
    assert.includeMembers(pages, [
      '/admin',
      '/admin/people/new',
      '/admin/schedules',
      '/admin/events',
    ])

    const signedOut = await browserContext.newPage()
    const failures: string[] = []
    for (const size of phones) {
      await signedOut.setViewportSize(size)
      await signedOut.goto('/login')
      const measured = await overflow(signedOut)
      if (measured.scrollWidth > measured.width) failures.push(`/login at ${size.width}`)
    }
    await signedOut.close()

    await browserContext.loginAs(admin)
    const page = await browserContext.newPage()
    for (const size of phones) {
      await page.setViewportSize(size)
      for (const path of pages) {
        const response = await page.goto(path)
        if (response?.status() !== 200) {
          failures.push(`${path} answered ${response?.status()}`)
          continue
        }
        const measured = await overflow(page)
        if (measured.scrollWidth > measured.width) {
          failures.push(
            `${path} at ${size.width}: ${measured.scrollWidth} px wide (${measured.wide.join(', ')})`
          )
        }
      }
    }
    assert.deepEqual(failures, [])
  })

  test('the navigation folds behind the menu button and lists Schedules', async ({
    browserContext,
    visit,
    assert,
  }) => {
    const admin = await UserFactory.apply('admin').create()
    await browserContext.loginAs(admin)
    const page = await visit('/admin/people')
    await page.setViewportSize({ width: 390, height: 844 })

    const menu = page.getByRole('button', { name: 'Menu' })
    const schedules = page.getByRole('link', { name: 'Schedules' })
    await page.assertVisible(menu)
    await page.assertNotVisible(schedules)
    await menu.click()
    assert.equal(await menu.getAttribute('aria-expanded'), 'true')
    await schedules.click()
    await page.assertPath('/admin/schedules')
    // Folded again on the new page, where the link shows which section this is.
    await page.assertNotVisible(schedules)
    assert.equal(
      await page.locator('#sidenav a[href="/admin/schedules"]').getAttribute('aria-current'),
      'page'
    )

    await page.setViewportSize({ width: 1366, height: 900 })
    await page.assertNotVisible(page.getByRole('button', { name: 'Menu' }))
    await page.assertVisible(page.getByRole('link', { name: 'Schedules' }))
  })
})
