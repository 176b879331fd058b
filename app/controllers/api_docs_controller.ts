import type { HttpContext } from '@adonisjs/core/http'
import { stringify } from 'yaml'
import { localizedApiReference } from '#services/terminal/localized_api_reference'
import { terminalOpenApiDocument } from '#services/terminal/openapi_document'
import { terminalEndpoints } from '#services/terminal/protocol'
import { curlExample, descriptionHtml } from '#services/terminal/terminal_api_reference'

/**
 * /docs: the terminal protocol for integrators, readable and as OpenAPI.
 * Public, like the protocol it describes. The page is in the reader's
 * language (the account's, else the browser's); the OpenAPI document is
 * English.
 */
export default class ApiDocsController {
  async show({ view, request, i18n }: HttpContext) {
    const origin = `${request.protocol()}://${request.host()}`
    const reference = localizedApiReference(i18n.locale)
    const endpoints = reference.endpoints.map((endpoint) => ({
      ...endpoint,
      flag: terminalEndpoints[endpoint.name].flag,
      curl: curlExample(endpoint, origin),
      descriptionHtml: descriptionHtml(endpoint.description),
    }))
    const authentication = {
      ...reference.authentication,
      summaryHtml: descriptionHtml(reference.authentication.summary),
    }
    return view.render('pages/docs/terminal_api', {
      endpoints,
      resultCodes: reference.codeNames,
      codeMeanings: reference.codeMeanings,
      authentication,
      markup: descriptionHtml,
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
