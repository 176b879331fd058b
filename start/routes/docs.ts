/*
|--------------------------------------------------------------------------
| Documentation of the terminal protocol
|--------------------------------------------------------------------------
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'
import { pageMiddleware } from '#start/kernel'

/** The page speaks the reader's language, which the page middleware works out (an account's choice, else the browser's). */
router.get('/docs', [controllers.ApiDocs, 'show']).as('docs').use(pageMiddleware())
router.get('/docs/openapi.json', [controllers.ApiDocs, 'json']).as('docs.openapi_json')
router.get('/docs/openapi.yaml', [controllers.ApiDocs, 'yaml']).as('docs.openapi_yaml')
