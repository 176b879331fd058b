import { defineConfig } from '@adonisjs/core/bodyparser'

const bodyParserConfig = defineConfig({
  allowedMethods: ['POST', 'PUT', 'PATCH', 'DELETE'],

  form: {
    convertEmptyStringsToNull: true,
    types: ['application/x-www-form-urlencoded'],
    limit: '16mb',
  },

  json: {
    convertEmptyStringsToNull: true,
    types: [
      'application/json',
      'application/json-patch+json',
      'application/vnd.api+json',
      'application/csp-report',
    ],
    limit: '16mb',
  },

  /**
   * Multipart bodies are read by the multipart middleware, after the cheap
   * checks of the page or terminal routes (see app/middleware), not here
   * before them. `maxFields` counts every part, files included: no form or
   * terminal call has more than a dozen.
   */
  multipart: {
    autoProcess: false,
    convertEmptyStringsToNull: true,
    processManually: [],
    limit: '20mb',
    maxFields: 32,
    types: ['multipart/form-data'],
  },
})

export default bodyParserConfig

/**
 * The routes whose file parts are written to disk (for a known caller, to
 * STORAGE_DIR/uploads, until the response is over): an operator's photo
 * upload, and the terminal calls that carry a picture.
 */
export const uploadRoutes = [
  '/admin/people/:id/faces',
  '/faces/api/faceDetect',
  '/faces/api/faceAge',
  '/faces/api/faceGender',
  '/faces/api/faceFeature',
  '/faces/api/faceIdentify',
  '/faces/api/clinetFeedback',
]
