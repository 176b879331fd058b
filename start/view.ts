import edge from 'edge.js'
import env from '#start/env'

edge.global('appName', 'FaceAccess')
edge.global('nodeEnv', env.get('NODE_ENV'))
