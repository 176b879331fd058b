import { test } from '@japa/runner'
import testUtils from '@adonisjs/core/services/test_utils'
import { UserFactory } from '#database/factories/user_factory'
import { resultCodes } from '#services/terminal/result_codes'
import {
  codeMeanings,
  deviceAuthentication,
  terminalEndpointReference,
  type Field,
} from '#services/terminal/terminal_api_reference'
import { terminalApiReferenceZh } from '#services/terminal/terminal_api_reference_zh'

/** The names of a list of fields, items as `parent.item`, as translations key them. */
const names = (fields: Field[]): string[] =>
  fields.flatMap((field) => [
    field.name,
    ...(field.items ?? []).map((item) => `${field.name}.${item.name}`),
  ])

test.group('Terminal protocol documentation in Chinese', (group) => {
  group.each.setup(() => testUtils.db().withGlobalTransaction())

  test('every English text of the reference has its Chinese counterpart', ({ assert }) => {
    const zh = terminalApiReferenceZh
    assert.sameMembers(Object.keys(zh.codeNames), Object.keys(resultCodes))
    assert.sameMembers(Object.keys(zh.codeMeanings), Object.keys(codeMeanings))
    assert.sameMembers(
      Object.keys(zh.authentication.headers),
      deviceAuthentication.headers.map((header) => header.name)
    )
    for (const endpoint of terminalEndpointReference) {
      const texts = zh.endpoints[endpoint.name]
      assert.sameMembers(Object.keys(texts.fields), names(endpoint.fields), endpoint.name)
      assert.sameMembers(Object.keys(texts.answer), names(endpoint.answer), endpoint.name)
      for (const text of [texts.summary, texts.description, ...Object.values(texts.fields)]) {
        assert.match(text, /[\u4e00-\u9fff]/, `${endpoint.name}: ${text}`)
        assert.equal(text.split('`').length % 2, 1, `unbalanced code span in ${text}`)
      }
    }
  })

  test('the browser asking for Chinese gets /docs in Chinese, page and endpoints', async ({
    client,
  }) => {
    const page = await client.get('/docs').header('accept-language', 'zh-CN,zh;q=0.9,en;q=0.5')
    page.assertStatus(200)
    page.assertTextIncludes('<html lang="zh-CN">')
    page.assertTextIncludes('终端协议（/faces/api）')
    page.assertTextIncludes('找出图片中的人脸')
    page.assertTextIncludes('人脸框的左边像素坐标')
    page.assertTextIncludes('<td>成功</td>')
    page.assertTextIncludes('<code>/faces/api/token</code>')

    const english = await client.get('/docs').header('accept-language', 'en-GB')
    english.assertTextIncludes('<html lang="en">')
    english.assertTextIncludes('Find the faces in a picture')
  })

  test("a signed-in operator's language wins over the browser's", async ({ client }) => {
    const chinese = await UserFactory.merge({ locale: 'zh' }).create()
    const page = await client.get('/docs').header('accept-language', 'en-US').loginAs(chinese)
    page.assertTextIncludes('设备认证')

    const english = await UserFactory.merge({ locale: 'en' }).create()
    const other = await client.get('/docs').header('accept-language', 'zh-CN').loginAs(english)
    other.assertTextIncludes('Device authentication')
  })
})
