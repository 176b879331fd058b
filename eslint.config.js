import { configApp } from '@adonisjs/eslint-config'

export default configApp({
  ignores: ['.adonisjs/**', 'build/**', 'tmp/**', 'models/**', 'public/**', 'database/schema.ts'],
})
