import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import { DateTime } from 'luxon'
import testUtils from '@adonisjs/core/services/test_utils'
import db from '@adonisjs/lucid/services/db'
import AccessEvent from '#models/access_event'
import type Device from '#models/device'
import Person from '#models/person'
import { siteTimeZone } from '#services/site_time'
import { toSqlDateTime } from '#services/sql_time'
import { UserFactory } from '#database/factories/user_factory'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'

const numbered = (index: number) => String(index).padStart(3, '0')

/** Events at a device, `minutesAgo` each, recorded now. */
function eventsAt(device: Device, minutesAgo: number[]) {
  const now = DateTime.now()
  return AccessEvent.createMany(
    minutesAgo.map((minutes) => ({
      deviceId: device.id,
      decision: 'granted' as const,
      reason: 'granted' as const,
      method: 'face' as const,
      occurredAt: now.minus({ minutes }),
      receivedAt: now.minus({ minutes }),
    }))
  )
}

test.group(
  'Lists in the browser: search and filters with the other fields left as "any"',
  (group) => {
    group.each.setup(() => testUtils.db().withGlobalTransaction())

    test('People: a search finds one person, keeps the box, and page 2 keeps the search', async ({
      browserContext,
      visit,
    }) => {
      await browserContext.loginAs(await UserFactory.create())
      await Person.createMany(
        Array.from({ length: 60 }, (_, index) => ({
          username: `staff${numbered(index)}`,
          displayName: `Staff ${numbered(index)}`,
          department: 'Logistics',
          status: 'active' as const,
        }))
      )
      await PersonFactory.merge({ department: 'Reception' }).createMany(5)

      const page = await visit('/admin/people')
      await page.getByRole('searchbox').fill('staff050')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.assertElementsCount('[data-test="person-row"]', 1)
      await page.assertExists('[data-test="person-row"][data-username="staff050"]')
      await page.assertInputValue('#people-q', 'staff050')
      await page.assertTextContains('body', '1 person')

      await page.getByRole('searchbox').fill('logist')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.assertTextContains('body', '60 people')
      await page.getByRole('navigation', { name: 'Pages' }).getByRole('link', { name: '2' }).click()
      await page.assertElementsCount('[data-test="person-row"]', 25)
      await page.assertExists('[data-test="person-row"][data-username="staff025"]')
      await page.assertExists('[data-test="person-row"][data-username="staff049"]')
      await page.assertInputValue('#people-q', 'logist')
      await page.assertTextContains('.pagination [aria-current="page"]', '2')
    })

    test('Devices: a search finds the matching devices, and page 2 keeps the search', async ({
      browserContext,
      visit,
    }) => {
      await browserContext.loginAs(await UserFactory.create())
      for (let index = 1; index <= 55; index++) {
        await DeviceFactory.apply('approved')
          .merge({ name: `Door ${numbered(index)}`, location: 'Block A' })
          .create()
      }
      await DeviceFactory.apply('approved').merge({ name: 'Lobby east', location: 'Hall' }).create()
      await DeviceFactory.merge({ name: 'Loading bay', location: 'Yard' }).create()

      const page = await visit('/admin/devices')
      await page.getByRole('searchbox').fill('lobby east')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.assertElementsCount('[data-test="device-row"]', 1)
      await page.assertTextContains('[data-test="device-row"]', 'Lobby east')
      await page.assertInputValue('#devices-q', 'lobby east')

      await page.getByRole('searchbox').fill('door')
      await page.getByRole('button', { name: 'Search' }).click()
      await page.assertTextContains('body', '55 devices')
      await page.getByRole('link', { name: 'Next' }).click()
      await page.assertElementsCount('[data-test="device-row"]', 5)
      await page.assertTextContains('[data-test="devices-table"]', 'Door 055')
      await page.assertInputValue('#devices-q', 'door')
    })

    test('Events: from the dashboard, who passed one door in the last hour, page 2 included', async ({
      browserContext,
      visit,
      assert,
    }) => {
      await browserContext.loginAs(await UserFactory.create())
      const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
      const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
      await eventsAt(
        lobby,
        Array.from({ length: 60 }, (_, index) => index)
      )
      await eventsAt(lobby, [120, 125, 130, 135, 140])
      await eventsAt(garage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10])

      const page = await visit('/admin')
      await page.locator('.sidenav').getByRole('link', { name: 'Events' }).click()
      await page.getByLabel('Device').fill('Lobby east')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.assertTextContains('[data-test="events-count"]', '65 events')
      await page.getByRole('link', { name: 'Last hour' }).click()

      await page.assertTextContains('[data-test="events-count"]', '60 events')
      await page.assertInputValue('#events-device', 'Lobby east')
      await page.assertInputValue('#events-decision', '')
      const from = DateTime.fromISO(await page.inputValue('#events-from'), { zone: siteTimeZone })
      assert.approximately(from.toMillis(), DateTime.now().minus({ hours: 1 }).toMillis(), 120_000)
      await page.assertElementsCount('[data-test="event-row"]', 50)
      const devices = await page.locator('[data-test="event-device"]').allTextContents()
      assert.deepEqual([...new Set(devices)], ['Lobby east'])

      await page.getByRole('link', { name: 'Next' }).click()
      await page.assertElementsCount('[data-test="event-row"]', 10)
      await page.assertInputValue('#events-device', 'Lobby east')
      assert.equal(await page.inputValue('#events-from'), from.toFormat("yyyy-MM-dd'T'HH:mm"))
      const second = await page.locator('[data-test="event-device"]').allTextContents()
      assert.deepEqual([...new Set(second)], ['Lobby east'])
    })

    test('Events: the CSV export holds the filtered range of one door', async ({
      browserContext,
      visit,
      assert,
    }) => {
      await browserContext.loginAs(await UserFactory.create())
      const lobby = await DeviceFactory.apply('approved').merge({ name: 'Lobby east' }).create()
      const garage = await DeviceFactory.apply('approved').merge({ name: 'Garage' }).create()
      const ada = await PersonFactory.merge({
        username: 'ada',
        displayName: 'Ada Lovelace',
      }).create()
      const at = (device: Device, time: string) => {
        // A time at the site, held as models hold times: in the server's zone.
        const when = DateTime.fromISO(time, { zone: siteTimeZone }).toLocal()
        return AccessEvent.create({
          deviceId: device.id,
          personId: ada.id,
          decision: 'granted',
          reason: 'granted',
          method: 'face',
          occurredAt: when,
          receivedAt: when,
        })
      }
      await at(lobby, '2026-03-02T08:59:00')
      await at(lobby, '2026-03-02T09:05:00')
      await at(lobby, '2026-03-02T09:55:00')
      await at(garage, '2026-03-02T09:30:00')
      await at(lobby, '2026-03-02T10:01:00')

      const page = await visit('/admin/events')
      await page.getByLabel('Device').fill('lobby')
      await page.getByLabel('From').fill('2026-03-02T09:00')
      await page.getByLabel('To', { exact: true }).fill('2026-03-02T10:00')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.assertTextContains('[data-test="events-count"]', '2 events')

      const [download] = await Promise.all([
        page.waitForEvent('download'),
        page.getByRole('link', { name: 'Export CSV' }).click(),
      ])
      assert.match(download.suggestedFilename(), /^events-\d{8}-\d{4}\.csv$/)
      const file = await readFile(await download.path(), 'utf8')
      const lines = file.split('\r\n')
      const offset = DateTime.fromISO('2026-03-02T09:00:00', { zone: siteTimeZone }).toFormat('ZZ')
      assert.deepEqual(lines, [
        '\uFEFFtime,device,username,name,decision,reason,score,method',
        `2026-03-02T09:55:00${offset},Lobby east,ada,Ada Lovelace,granted,granted,,face`,
        `2026-03-02T09:05:00${offset},Lobby east,ada,Ada Lovelace,granted,granted,,face`,
        '',
      ])
    })

    test('Audit log: an actor with the other fields empty, and page 2 keeps the filter', async ({
      browserContext,
      visit,
    }) => {
      await browserContext.loginAs(await UserFactory.apply('auditor').create())
      const entry = (actor: string, index: number) => ({
        actor,
        action: 'person.update',
        subject_type: 'person',
        subject_id: String(index),
        created_at: toSqlDateTime(DateTime.now().minus({ minutes: index })),
      })
      await db
        .table('audit_logs')
        .multiInsert([
          ...Array.from({ length: 60 }, (_, index) => entry('ada@example.com', index)),
          ...Array.from({ length: 10 }, (_, index) => entry('grace@example.com', 100 + index)),
        ])

      const page = await visit('/admin/audit')
      await page.getByLabel('Who').fill('ada')
      await page.getByRole('button', { name: 'Filter' }).click()
      await page.assertTextContains('body', '60 entries')
      await page.assertElementsCount('[data-test="audit-row"]', 50)
      await page.getByRole('link', { name: 'Next' }).click()
      await page.assertElementsCount('[data-test="audit-row"]', 10)
      await page.assertInputValue('#audit-actor', 'ada')
      await page.assertNotExists('[data-test="audit-row"]:has-text("grace@example.com")')
    })
  }
)
