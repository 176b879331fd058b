import terminalConfig from '#config/terminal'
import { resultCodes, type ResultCode } from '#services/terminal/result_codes'
import { terminalEndpoints } from '#services/terminal/protocol'
import {
  codeMeanings,
  deviceAuthentication,
  terminalEndpointReference,
  type EndpointReference,
  type Field,
} from '#services/terminal/terminal_api_reference'

type Schema = Record<string, unknown>

/** The HTTP status an answer with this code comes with, where it is not 200. */
const httpStatuses: Partial<Record<ResultCode, { status: string; when: string }[]>> = {
  7: [{ status: '403', when: 'a picture link expired or was altered' }],
  8: [{ status: '429', when: 'always, with Retry-After' }],
  12: [{ status: '404', when: 'always' }],
  9002: [{ status: '405', when: 'a GET on a POST endpoint' }],
  9007: [
    { status: '500', when: 'the server failed unexpectedly' },
    { status: '503', when: "the server's Redis is unavailable, with Retry-After" },
  ],
}

function fieldSchema(field: Field, encoding: 'form' | 'multipart' | 'json' | 'answer'): Schema {
  const description = field.description
  if (field.type === 'file') {
    return encoding === 'multipart'
      ? { type: 'string', format: 'binary', description }
      : { type: 'string', contentEncoding: 'base64', description }
  }
  if (field.type === 'array') {
    const items = field.items ? objectSchema(field.items, encoding) : { type: 'string' }
    return { type: 'array', items, description }
  }
  if (field.type === 'object' && (encoding === 'form' || encoding === 'multipart')) {
    return { type: 'string', contentMediaType: 'application/json', description }
  }
  if (field.type === 'object') {
    return { ...objectSchema(field.items ?? [], encoding), type: ['object', 'null'], description }
  }
  return {
    type: field.type,
    description,
    ...(field.example === undefined ? {} : { examples: [field.example] }),
  }
}

function objectSchema(fields: Field[], encoding: 'form' | 'multipart' | 'json' | 'answer') {
  const required = fields.filter((field) => field.required).map((field) => field.name)
  return {
    type: 'object',
    properties: Object.fromEntries(
      fields.map((field) => [field.name, fieldSchema(field, encoding)])
    ),
    ...(required.length > 0 ? { required } : {}),
  }
}

function failureExample(endpoint: EndpointReference, code: ResultCode) {
  return {
    summary: `${code} ${resultCodes[code]}`,
    value: {
      flag: terminalEndpoints[endpoint.name].flag,
      code,
      message: `${resultCodes[code]}: …`,
    },
  }
}

function responses(endpoint: EndpointReference) {
  const flag = terminalEndpoints[endpoint.name].flag
  const answer = {
    allOf: [
      { $ref: '#/components/schemas/Answer' },
      { type: 'object', properties: { flag: { const: flag } } },
      objectSchema(endpoint.answer, 'answer'),
    ],
  }
  const examples: Record<string, unknown> = {}
  if (endpoint.codes.includes(0)) {
    examples.success = {
      summary: '0 Success',
      value: { flag, code: 0, message: 'Success', ...endpoint.example.answer },
    }
  }
  for (const code of endpoint.codes.filter((one) => one !== 0)) {
    examples[`code${code}`] = failureExample(endpoint, code)
  }
  const byStatus: Record<string, Schema> = {
    200: {
      description:
        endpoint.method === 'GET'
          ? 'The photo (image/*); failures are JSON answers.'
          : 'Every answer the protocol defines, success or failure, unless listed below.',
      content: {
        'application/json': { schema: answer, examples },
        ...(endpoint.method === 'GET'
          ? { 'image/*': { schema: { type: 'string', format: 'binary' } } }
          : {}),
      },
    },
  }
  for (const code of endpoint.codes) {
    for (const { status, when } of httpStatuses[code] ?? []) {
      if (endpoint.method === 'POST' && code === 7 && status === '403') continue
      byStatus[status] = {
        description: `Code ${code} (${resultCodes[code]}): ${when}.`,
        content: {
          'application/json': {
            schema: { $ref: '#/components/schemas/Answer' },
            example: failureExample(endpoint, code).value,
          },
        },
      }
    }
  }
  return byStatus
}

function operation(endpoint: EndpointReference): Schema {
  const codes = endpoint.codes.map((code) => `${code} (${resultCodes[code]})`).join(', ')
  const base = {
    'operationId': endpoint.name,
    'summary': endpoint.summary,
    'description': `${endpoint.description}\n\nFlag: \`${terminalEndpoints[endpoint.name].flag}\`. Result codes: ${codes}.${endpoint.needsEngine ? ' Needs a recognition engine: code 3 while none serves it.' : ''}`,
    'tags': [endpoint.needsEngine ? 'recognition' : 'devices'],
    'x-result-codes': endpoint.codes,
    'x-needs-engine': endpoint.needsEngine,
    'responses': responses(endpoint),
  }
  if (endpoint.method === 'GET') {
    return {
      ...base,
      parameters: [
        { name: 'id', in: 'path', required: true, schema: { type: 'integer' } },
        { name: 'signature', in: 'query', required: true, schema: { type: 'string' } },
      ],
    }
  }
  return {
    ...base,
    security: [{ deviceSignature: [] }, {}],
    parameters: deviceAuthentication.headers.map((header) => ({
      name: header.name,
      in: 'header',
      required: false,
      description: `${header.description} Required on every call of a device that is not in legacy mode.`,
      schema: { type: 'string', examples: [header.example] },
    })),
    requestBody: {
      required: true,
      content: {
        'application/x-www-form-urlencoded': {
          schema: objectSchema(endpoint.fields, 'form'),
          example: endpoint.example.request,
        },
        'multipart/form-data': { schema: objectSchema(endpoint.fields, 'multipart') },
        'application/json': {
          schema: objectSchema(endpoint.fields, 'json'),
          example: endpoint.example.request,
        },
      },
    },
  }
}

/**
 * The OpenAPI 3.1 document of /faces/api, built from the endpoint
 * reference, the code table and the endpoint table the routes use.
 */
export function terminalOpenApiDocument() {
  const paths: Record<string, Record<string, Schema>> = {}
  for (const endpoint of terminalEndpointReference) {
    paths[endpoint.path] = { [endpoint.method.toLowerCase()]: operation(endpoint) }
  }
  return {
    'openapi': '3.1.0',
    'info': {
      title: 'FaceAccess terminal protocol (/faces/api)',
      version: '1.0.0',
      description: [
        'The protocol face terminals speak to the server, with the paths, flags and field names of the original terminal documentation.',
        "Every call is a POST with its fields as `application/x-www-form-urlencoded`, `multipart/form-data` (files as the `image` part) or `application/json`. Every answer is JSON with the endpoint's `flag`, a numeric `code` (0 = success) and a readable `message`, then the endpoint's fields; also for errors and for paths that name no endpoint, which answer 404 with code 12. Answers are HTTP 200 unless noted.",
        `Tokens come from /faces/api/token, live ${terminalConfig.tokens.ttlSeconds} seconds and serve one call each.`,
        deviceAuthentication.summary,
      ].join('\n\n'),
    },
    'servers': [{ url: '/', description: 'This server' }],
    'tags': [
      { name: 'devices', description: 'Tokens, face database, enrolment and results.' },
      { name: 'recognition', description: 'Answered by the recognition engine.' },
    ],
    paths,
    'x-unknown-paths': { code: 12, status: 404, flag: 'unknown' },
    'components': {
      securitySchemes: {
        deviceSignature: {
          type: 'apiKey',
          in: 'header',
          name: 'X-Device-Signature',
          description: [
            deviceAuthentication.summary,
            `Headers: ${deviceAuthentication.headers.map((header) => `\`${header.name}\` (${header.description})`).join('; ')}.`,
            `The string to sign, lines joined by \\n:\n\n    ${deviceAuthentication.stringToSign.split('\n').join('\n    ')}`,
            `With curl and openssl:\n\n    ${deviceAuthentication.shellExample.split('\n').join('\n    ')}`,
            'The security requirement `{}` stands for a legacy device at its pinned address.',
          ].join('\n\n'),
        },
      },
      schemas: {
        Answer: {
          type: 'object',
          required: ['flag', 'code', 'message'],
          properties: {
            flag: {
              type: 'string',
              description: 'The endpoint, as the original documentation names it.',
            },
            code: { $ref: '#/components/schemas/ResultCode' },
            message: { type: 'string', description: 'What happened, for people.' },
          },
        },
        ResultCode: {
          description: 'The result codes of the original documentation.',
          oneOf: Object.entries(resultCodes).map(([code, text]) => ({
            const: Number(code),
            title: text,
            ...(codeMeanings[Number(code) as ResultCode]
              ? { description: codeMeanings[Number(code) as ResultCode] }
              : {}),
          })),
        },
      },
    },
  }
}
