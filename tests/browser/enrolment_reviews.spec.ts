import { readFile } from 'node:fs/promises'
import { test } from '@japa/runner'
import app from '@adonisjs/core/services/app'
import testUtils from '@adonisjs/core/services/test_utils'
import type { ApiClient } from '@japa/api-client'
import type { Page } from 'playwright'
import type Device from '#models/device'
import EnrolmentReview from '#models/enrolment_review'
import Face from '#models/face'
import type Person from '#models/person'
import { DeviceFactory } from '#database/factories/device_factory'
import { PersonFactory } from '#database/factories/person_factory'
import { UserFactory } from '#database/factories/user_factory'
import {
  enrolPhotoOf,
  post,
  resetTerminalState,
  storedFileExists,
  useThumbnailAnalyser,
} from '#tests/helpers/terminal'

const fixture = (name: string) => readFile(app.makePath('tests/fixtures/faces', name))

/** A photo of someone else sent for the person from the terminal: held for review. */
async function sendFor(client: ApiClient, device: Device, person: Person, photo: string) {
  const fields = {
    deviceName: device.name,
    deviceSN: device.serialNumber,
    username: person.username,
    faceName: person.displayName,
    picBase64: await readFile(app.makePath('tests/fixtures/faces', photo), 'base64'),
  }
  const response = await post(client, 'regFace', fields, 'form', device)
  if (response.body().code !== 5) throw new Error(`not held: ${response.text()}`)
  return EnrolmentReview.query().where('person_id', person.id).orderBy('id', 'desc').firstOrFail()
}

/** Images as the page's script sees them; the suite compiles without the DOM types. */
type Image = { complete: boolean; naturalWidth: number }

/** Whether every image in the review's card was served and decoded. */
/**
 * Whether each photo of a review card has loaded, once they all have or
 * ten seconds passed: thumbnails are made on the first request, which
 * takes a moment on a busy machine.
 */
async function photosShown(page: Page, review: EnrolmentReview) {
  const images = page.locator(`[data-test="review"][data-review-id="${review.id}"] img`)
  const loaded = () =>
    images.evaluateAll((found) =>
      found.map(
        (image) =>
          (image as unknown as Image).complete && (image as unknown as Image).naturalWidth > 0
      )
    )
  for (let waited = 0; waited < 10_000; waited += 200) {
    const states = await loaded()
    if (states.length > 0 && states.every(Boolean)) return states
    await page.waitForTimeout(200)
  }
  return loaded()
}

test.group('Enrolment reviews in the browser', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())
  group.each.setup(() => resetTerminalState())
  group.each.setup(async () => {
    const { restore } = await useThumbnailAnalyser()
    return restore
  })

  test('an operator approves one held face and rejects another', async ({
    browserContext,
    visit,
    client,
    assert,
  }) => {
    const operator = await UserFactory.create()
    await browserContext.loginAs(operator)
    const device = await DeviceFactory.apply('approved')
      .apply('enrolling')
      .merge({ name: 'Lobby east' })
      .create()
    const penny = await PersonFactory.merge({ username: 'penny', displayName: 'Penny' })
      .apply('consented')
      .create()
    const enrolled = await enrolPhotoOf(penny, await fixture('penny.png'))
    const approved = await sendFor(client, device, penny, 'rose_leslie.jpg')
    const rejected = await sendFor(client, device, penny, 'sheldon.png')

    const page = await visit('/admin')
    await page.assertTextContains('[data-test="nav-count-enrolment_reviews"]', '2')
    await page.getByRole('link', { name: /^Enrolment reviews/ }).click()
    await page.assertPath('/admin/reviews')
    await page.assertElementsCount('[data-test="review"]', 2)

    const card = page.locator(`[data-test="review"][data-review-id="${approved.id}"]`)
    await page.assertTextContains(
      `[data-review-id="${approved.id}"] [data-test="review-reasons"]`,
      "does not match Penny's enrolled faces"
    )
    await page.assertTextContains(`[data-review-id="${approved.id}"]`, 'Lobby east')
    await page.assertExists(
      `[data-review-id="${approved.id}"] [data-test="enrolled-photo"][data-face-id="${enrolled.id}"] img`
    )
    assert.deepEqual(await photosShown(page, approved), [true, true])

    await card.getByRole('button', { name: 'Approve' }).click()
    await page.assertPath('/admin/reviews')
    await page.assertTextContains('.flash.success', 'The face was added to Penny')
    await page.assertElementsCount('[data-test="review"]', 1)
    await page.assertNotExists(`[data-review-id="${approved.id}"]`)

    const added = await Face.query()
      .where('person_id', penny.id)
      .where('image_path', approved.imagePath!)
      .firstOrFail()
    await page.getByRole('link', { name: 'People', exact: true }).click()
    await page.getByRole('link', { name: 'Edit' }).click()
    await page.assertPath(`/admin/people/${penny.id}/edit`)
    await page.assertElementsCount('[data-test="face-row"]', 2)
    await page.assertExists(`[data-test="face-row"][data-face-id="${added.id}"] img`)

    await page.getByRole('link', { name: /^Enrolment reviews/ }).click()
    await page
      .locator(`[data-test="review"][data-review-id="${rejected.id}"]`)
      .getByRole('button', { name: 'Reject' })
      .click()
    await page.assertTextContains('.flash.success', 'The face sent for penny was discarded.')
    await page.assertNotExists('[data-test="review"]')
    await page.assertTextContains('[data-test="no-reviews"]', 'No enrolment is waiting')
    await page.assertNotExists('[data-test="nav-count-enrolment_reviews"]')
    assert.isFalse(await storedFileExists(rejected.imagePath!))
    assert.isTrue(await storedFileExists(approved.imagePath!))
    assert.lengthOf(await Face.query().where('person_id', penny.id), 2)
  })
})
