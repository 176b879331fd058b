import { readFileSync } from 'node:fs'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import type { EnrolmentOutcome } from '#terminal-client/agent_contracts'
import { KioskServer } from '#terminal-client/kiosk/kiosk_server'

const strings = {
  en: JSON.parse(readFileSync(app.makePath('resources/lang/en/kiosk.json'), 'utf8')),
  zh: JSON.parse(readFileSync(app.makePath('resources/lang/zh/kiosk.json'), 'utf8')),
}

test.group('Kiosk page: enrolment', (group) => {
  let server: KioskServer
  group.each.setup(async () => {
    server = new KioskServer({
      port: 0,
      language: 'en',
      deviceName: 'Lobby east',
      serial: 'FA-0042',
    })
    await server.start()
    return () => server.stop()
  })

  test('the person to enrol with the guidance, then every outcome in words, in both languages', async ({
    visit,
    assert,
  }) => {
    server.update({
      connection: 'online',
      enrolment: { name: 'Ada Lovelace' },
      guidance: 'hold_still',
    })
    const page = await visit(`${server.url}/`)
    await page.assertTextContains(
      '[data-test="enrolment"]',
      'Enrolment: Ada Lovelace — look at the camera'
    )
    await page.assertTextContains('[data-test="guidance"]', 'Hold still')
    await page.assertNotVisible('[data-test="enrolment-outcome"]')
    server.update({ language: 'zh' })
    await page.assertTextContains('[data-test="enrolment"]', '录入：Ada Lovelace — 请看摄像头')
    await page.assertTextContains('[data-test="guidance"]', '请保持不动')

    const outcomes = Object.keys(strings.en.enrolment.outcomes) as EnrolmentOutcome[]
    assert.sameMembers(outcomes, Object.keys(strings.zh.enrolment.outcomes))
    for (const language of ['en', 'zh'] as const) {
      for (const outcome of outcomes) {
        server.update({
          language,
          guidance: undefined,
          enrolment: { name: 'Ada Lovelace', outcome },
        })
        await page.assertTextContains(
          '[data-test="enrolment-outcome"]',
          strings[language].enrolment.outcomes[outcome]
        )
        await page.assertNotVisible('[data-test="guidance"]')
      }
    }
    server.update({ language: 'en', enrolment: { name: 'Ada Lovelace', outcome: 'enrolled' } })
    await page.assertTextContains('[data-test="enrolment-outcome"]', 'Enrolled')
    await page.assertTextContains('[data-test="enrolment"]', 'Enrolment: Ada Lovelace')
    server.update({ enrolment: { name: 'Ada Lovelace', outcome: 'timed_out' } })
    await page.assertTextContains('[data-test="enrolment-outcome"]', 'Enrolment timed out')

    server.update({ enrolment: undefined })
    await page.assertNotVisible('[data-test="enrolment"]')
    await page.assertNotVisible('[data-test="enrolment-outcome"]')
    await page.assertTextContains('[data-test="guidance"]', 'Look at the camera to pass')
  })
})
