import { test } from '@japa/runner'
import { parse } from 'yaml'
import router from '@adonisjs/core/services/router'
import type { VineValidator } from '@vinejs/vine'
import { fallbackPattern } from '#controllers/terminal/fallback_controller'
import { terminalOpenApiDocument } from '#services/terminal/openapi_document'
import { codeFor, failureTypes, terminalEndpoints } from '#services/terminal/protocol'
import { resultCodes } from '#services/terminal/result_codes'
import { codeMeanings, terminalEndpointReference } from '#services/terminal/terminal_api_reference'
import {
  faceBoxValidator,
  faceDetectValidator,
  faceIdentifyValidator,
  faceRecognizeValidator,
  feedbackValidator,
  getDbsValidator,
  regFaceValidator,
  tokenRequestValidator,
  webResultValidator,
} from '#validators/terminal_validator'

/** The /faces/api routes as "METHOD /path/{param}", HEAD left out. */
function terminalRoutes() {
  return Object.values(router.toJSON())
    .flat()
    .filter((route) => route.pattern.startsWith('/faces/api') && route.pattern !== fallbackPattern)
    .flatMap((route) =>
      route.methods
        .filter((method) => method !== 'HEAD')
        .map((method) => `${method} ${route.pattern.replace(/:(\w+)/g, '{$1}')}`)
    )
}

const validators: Record<string, VineValidator<any, any>> = {
  token: tokenRequestValidator,
  getDbs: getDbsValidator,
  regFace: regFaceValidator,
  clinetFeedback: feedbackValidator,
  clinetWebResult: webResultValidator,
  faceDetect: faceDetectValidator,
  faceAge: faceBoxValidator,
  faceGender: faceBoxValidator,
  faceFeature: faceBoxValidator,
  faceRecognize: faceRecognizeValidator,
  faceIdentify: faceIdentifyValidator,
}

test.group('Terminal protocol documentation', () => {
  test('every /faces/api route is in the OpenAPI document', ({ assert }) => {
    const document = terminalOpenApiDocument()
    const routes = terminalRoutes()
    assert.isAbove(routes.length, 5)
    for (const route of routes) {
      const [method, path] = route.split(' ')
      assert.property(document.paths, path, `${route} is not documented`)
      assert.property(document.paths[path], method.toLowerCase(), `${route} is not documented`)
    }
    assert.deepInclude(document['x-unknown-paths'], { code: 12, status: 404 })
  })

  test('documented endpoints that no route serves are the recognition ones', ({ assert }) => {
    const routes = new Set(terminalRoutes())
    for (const endpoint of terminalEndpointReference) {
      const routed = routes.has(`${endpoint.method} ${endpoint.path}`)
      if (!routed)
        assert.isTrue(endpoint.needsEngine, `${endpoint.path} is documented but not served`)
    }
    const documented = terminalEndpointReference.map((endpoint) => endpoint.name).sort()
    assert.deepEqual(documented, Object.keys(terminalEndpoints).sort())
  })

  test('documented fields are the fields the endpoints read', ({ assert }) => {
    for (const [name, validator] of Object.entries(validators)) {
      const endpoint = terminalEndpointReference.find((one) => one.name === name)!
      const properties = (
        validator.toJSON().schema as {
          schema: { properties: { fieldName: string; isOptional: boolean }[] }
        }
      ).schema.properties
      const read = properties.map((property) => [property.fieldName, !property.isOptional])
      const documented = endpoint.fields
        .filter((field) => field.type !== 'file')
        .map((field) => [field.name, Boolean(field.required)])
      assert.sameDeepMembers(documented, read, `${name} fields`)
    }
  })

  test('every code the server answers is documented and explained', ({ assert }) => {
    for (const type of failureTypes) {
      assert.property(codeMeanings, String(codeFor(type)), type)
    }
    // A name and serial number nobody knows get the one 9001 of every
    // unproven caller: 9003 tells a guesser nothing because it is never sent.
    for (const endpoint of terminalEndpointReference) {
      assert.notInclude(endpoint.codes, 9003, `${endpoint.name} lists 9003`)
    }
    for (const endpoint of terminalEndpointReference) {
      for (const code of endpoint.codes) assert.property(resultCodes, String(code))
      const operation = terminalOpenApiDocument().paths[endpoint.path][
        endpoint.method.toLowerCase()
      ] as { 'responses': Record<string, unknown>; 'x-result-codes': number[] }
      assert.isNotEmpty(Object.keys(operation.responses), endpoint.path)
      assert.deepEqual(operation['x-result-codes'], endpoint.codes)
    }
  })

  test('/docs is a readable page and the document is served as JSON and YAML', async ({
    client,
    assert,
  }) => {
    const page = await client.get('/docs')
    page.assertStatus(200)
    const html = page.text()
    for (const endpoint of terminalEndpointReference) {
      assert.include(html, `data-endpoint="${endpoint.name}"`)
    }
    assert.include(html, 'data-test="result-codes"')
    assert.include(html, '69642')

    const json = await client.get('/docs/openapi.json')
    json.assertStatus(200)
    assert.equal(json.body().openapi, '3.1.0')
    const yaml = await client.get('/docs/openapi.yaml')
    assert.match(yaml.header('content-type') ?? '', /^application\/yaml/)
    assert.deepEqual(parse(yaml.text()), json.body())
  })
})
