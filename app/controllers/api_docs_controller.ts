import type { HttpContext } from '@adonisjs/core/http'
import { stringify } from 'yaml'
import { terminalOpenApiDocument } from '#services/terminal/openapi_document'
import { terminalEndpoints } from '#services/terminal/protocol'
import { resultCodes } from '#services/terminal/result_codes'
import {
  codeMeanings,
  curlExample,
  deviceAuthentication,
  descriptionHtml,
  terminalEndpointReference,
} from '#services/terminal/terminal_api_reference'

/**
 * /docs: the terminal protocol for integrators, readable and as OpenAPI.
 * Public, like the protocol it describes.
 */
export default class ApiDocsController {
  async show({ view, request }: HttpContext) {
    const origin = `${request.protocol()}://${request.host()}`
    const endpoints = terminalEndpointReference.map((endpoint) => ({
      ...endpoint,
      flag: terminalEndpoints[endpoint.name].flag,
      curl: curlExample(endpoint, origin),
      descriptionHtml: descriptionHtml(endpoint.description),
    }))
    const authentication = {
      ...deviceAuthentication,
      summaryHtml: descriptionHtml(deviceAuthentication.summary),
    }
    return view.render('pages/docs/terminal_api', {
      endpoints,
      resultCodes,
      codeMeanings,
      authentication,
    })
  }

  async json({ response }: HttpContext) {
    return response.json(terminalOpenApiDocument())
  }

  async yaml({ response }: HttpContext) {
    response.header('Content-Type', 'application/yaml; charset=utf-8')
    return stringify(terminalOpenApiDocument())
  }
}
