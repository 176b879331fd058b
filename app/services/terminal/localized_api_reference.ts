import { resultCodes, type ResultCode } from '#services/terminal/result_codes'
import {
  codeMeanings,
  deviceAuthentication,
  terminalEndpointReference,
  type EndpointReference,
  type Field,
} from '#services/terminal/terminal_api_reference'
import {
  terminalApiReferenceZh,
  type EndpointTranslation,
  type ReferenceTranslation,
} from '#services/terminal/terminal_api_reference_zh'

/** The languages the reference is written in besides English, by locale. */
const translations: Record<string, ReferenceTranslation> = { zh: terminalApiReferenceZh }

/**
 * The terminal protocol reference in the reader's language, for /docs:
 * English as terminal_api_reference.ts writes it, or every text taken from
 * the locale's translation. Names, paths, codes and examples are the same
 * in every language; the OpenAPI document stays English.
 */
export function localizedApiReference(locale: string) {
  const translation = translations[locale]
  if (!translation) {
    return {
      endpoints: terminalEndpointReference,
      codeNames: resultCodes as Record<ResultCode, string>,
      codeMeanings,
      authentication: deviceAuthentication,
    }
  }
  return {
    endpoints: terminalEndpointReference.map((endpoint) =>
      translateEndpoint(endpoint, translation.endpoints[endpoint.name])
    ),
    codeNames: translation.codeNames,
    codeMeanings: translation.codeMeanings,
    authentication: {
      ...deviceAuthentication,
      summary: translation.authentication.summary,
      headers: deviceAuthentication.headers.map((header) => ({
        ...header,
        description: translation.authentication.headers[header.name] ?? header.description,
      })),
    },
  }
}

function translateEndpoint(endpoint: EndpointReference, texts: EndpointTranslation) {
  const translate = (fields: Field[], meanings: Record<string, string>, prefix = ''): Field[] =>
    fields.map((field) => ({
      ...field,
      description: meanings[prefix + field.name] ?? field.description,
      items: field.items && translate(field.items, meanings, `${field.name}.`),
    }))
  return {
    ...endpoint,
    summary: texts.summary,
    description: texts.description,
    fields: translate(endpoint.fields, texts.fields),
    answer: translate(endpoint.answer, texts.answer),
  }
}
