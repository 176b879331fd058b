/*
|--------------------------------------------------------------------------
| Documentation of the terminal protocol
|--------------------------------------------------------------------------
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'

router.get('/docs', [controllers.ApiDocs, 'show']).as('docs')
router.get('/docs/openapi.json', [controllers.ApiDocs, 'json']).as('docs.openapi_json')
router.get('/docs/openapi.yaml', [controllers.ApiDocs, 'yaml']).as('docs.openapi_yaml')
