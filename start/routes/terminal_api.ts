/*
|--------------------------------------------------------------------------
| Terminal protocol (/faces/api)
|--------------------------------------------------------------------------
|
| The paths, methods and field names of the original terminal
| documentation. Every answer, errors and unknown paths included, is the
| protocol's JSON (see the terminal API middleware); /docs describes them.
|
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'
import { middleware } from '#start/kernel'

const terminal = router.named({ api: () => import('#middleware/terminal_api_middleware') })

router
  .group(() => {
    router.post('token', [controllers.terminal.Tokens, 'store']).as('token')
    router.post('pair', [controllers.terminal.Pairing, 'store']).as('pair')
    router.post('faceDetect', [controllers.terminal.Recognition, 'detect']).as('faceDetect')
    router.post('faceAge', [controllers.terminal.Recognition, 'age']).as('faceAge')
    router.post('faceGender', [controllers.terminal.Recognition, 'gender']).as('faceGender')
    router.post('faceFeature', [controllers.terminal.Recognition, 'feature']).as('faceFeature')
    router
      .post('faceRecognize', [controllers.terminal.Recognition, 'recognize'])
      .as('faceRecognize')
    router.post('faceIdentify', [controllers.terminal.Recognition, 'identify']).as('faceIdentify')
    router.post('getDbs', [controllers.terminal.FaceDatabase, 'show']).as('getDbs')
    router.post('syncEvents', [controllers.terminal.SyncEvents, 'show']).as('syncEvents')
    router.post('regFace', [controllers.terminal.FaceRegistrations, 'store']).as('regFace')
    router.post('clinetFeedback', [controllers.terminal.Feedback, 'store']).as('clinetFeedback')
    router.post('clinetWebResult', [controllers.terminal.Feedback, 'show']).as('clinetWebResult')
    router.post('heartbeat', [controllers.terminal.Heartbeats, 'store']).as('heartbeat')
    router
      .get('pictures/:id', [controllers.terminal.FacePictures, 'show'])
      .as('pictures')
      .where('id', router.matchers.number())
    router.any('*', [controllers.terminal.Fallback, 'handle']).as('fallback')
  })
  .prefix('/faces/api')
  .as('terminal')
  .use([terminal.api(), middleware.multipart()])
