import router from '@adonisjs/core/services/router'
router.get('/', async ({ response }) => response.redirect('/admin'))
