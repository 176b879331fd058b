import { defineConfig } from '@adonisjs/core/bodyparser'
import videoConfig from '#config/video'

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
   * before them. `maxFields` counts every part, files included: a terminal
   * call has a dozen at most, the new-person form a dozen and one per
   * access group ticked.
   */
  multipart: {
    autoProcess: false,
    convertEmptyStringsToNull: true,
    processManually: [],
    limit: '20mb',
    maxFields: 128,
    types: ['multipart/form-data'],
  },
})

export default bodyParserConfig

/**
 * The routes whose file parts are written to disk (for a known caller, to
 * STORAGE_DIR/uploads, until the response is over): an operator's photo
 * upload (on the new-person form or a person's page), the webcam preview's
 * frames, and the terminal calls that carry a picture.
 */
export const uploadRoutes = [
  '/admin/people',
  '/admin/people/:id/faces',
  '/admin/people/:id/videos',
  '/admin/faces/preview',
  '/faces/api/faceDetect',
  '/faces/api/faceAge',
  '/faces/api/faceGender',
  '/faces/api/faceFeature',
  '/faces/api/faceIdentify',
  '/faces/api/clinetFeedback',
]

/**
 * Upload routes that take more than `multipart.limit`: a video for video
 * registration, up to VIDEO_MAX_MB and the form's other fields.
 */
export const uploadLimits: Record<string, number> = {
  '/admin/people/:id/videos': videoConfig.maxBytes + 1024 * 1024,
}
