/*
|--------------------------------------------------------------------------
| Admin pages
|--------------------------------------------------------------------------
*/
import router from '@adonisjs/core/services/router'
import { controllers } from '#generated/controllers'
import { middleware, pageMiddleware } from '#start/kernel'
import { facePreviewThrottle, signInThrottle } from '#start/limiter'

/** The square sizes thumbnails are made in (FaceThumbnails). */
const thumbnailSize = /^(96|192)$/

/** Plugin instance ids, as the plugins file allows them. */
const pluginInstanceId = /^[a-z0-9]+(?:[-_][a-z0-9]+)*$/

/** BullMQ job ids: numbers, and those of scheduled jobs ("repeat:<key>:<time>"). */
const jobId = /^[A-Za-z0-9:_-]{1,200}$/

router
  .group(() => {
    router
      .group(() => {
        router.get('/login', [controllers.Session, 'create']).as('session.create')
        router
          .post('/login', [controllers.Session, 'store'])
          .as('session.store')
          .use(signInThrottle)
      })
      .use(middleware.guest())

    router
      .post('/logout', [controllers.Session, 'destroy'])
      .as('session.destroy')
      .use(middleware.auth())

    router
      .group(() => {
        router.get('/', [controllers.Dashboard, 'show']).as('dashboard')
        router.get('/dashboard/stream', [controllers.Dashboard, 'stream']).as('dashboard.stream')
        router.post('/account/locale', [controllers.Account, 'updateLocale']).as('account.locale')
        router.get('/account', [controllers.Account, 'show']).as('account.show')
        router
          .put('/account/password', [controllers.Account, 'updatePassword'])
          .as('account.password')

        router.get('/people', [controllers.People, 'index']).as('people.index')
        router.get('/people/new', [controllers.People, 'create']).as('people.create')
        router.post('/people', [controllers.People, 'store']).as('people.store')
        router.get('/people/:id/edit', [controllers.People, 'edit']).as('people.edit')
        router.get('/people/:id', [controllers.People, 'show']).as('people.show')
        router.put('/people/:id', [controllers.People, 'update']).as('people.update')
        router.post('/people/:id/status', [controllers.People, 'suspend']).as('people.status')
        router.get('/people/:id/delete', [controllers.People, 'confirmDestroy']).as('people.delete')
        router.delete('/people/:id', [controllers.People, 'destroy']).as('people.destroy')
        router
          .get('/people/:id/consent/withdraw', [controllers.PersonConsent, 'confirmWithdraw'])
          .as('people.consent.withdraw')
        router
          .post('/people/:id/consent/withdraw', [controllers.PersonConsent, 'withdraw'])
          .as('people.consent.destroy')
        router
          .get('/people/:id/faces/:faceId/photo', [controllers.PersonFaces, 'photo'])
          .as('people.faces.photo')
          .where('faceId', router.matchers.number())
        router
          .get('/people/:id/faces/:faceId/thumbnail/:size', [controllers.Thumbnails, 'face'])
          .as('people.faces.thumbnail')
          .where('faceId', router.matchers.number())
          .where('size', thumbnailSize)
        router
          .post('/people/:id/faces', [controllers.PersonFaces, 'store'])
          .as('people.faces.store')
        router
          .post('/people/:id/faces/discard', [controllers.PersonFaces, 'discard'])
          .as('people.faces.discard')
        router
          .post('/people/:id/videos', [controllers.VideoEnrolments, 'store'])
          .as('people.videos.store')
        router
          .get('/people/:id/videos', [controllers.VideoEnrolments, 'index'])
          .as('people.videos.index')
        router
          .get('/people/:id/videos/:videoId/thumbnail/:frame', [
            controllers.VideoEnrolments,
            'frame',
          ])
          .as('people.videos.frame')
          .where('videoId', router.matchers.number())
          .where('frame', router.matchers.number())
        router
          .post('/people/:id/videos/:videoId/cancel', [controllers.VideoEnrolments, 'cancel'])
          .as('people.videos.cancel')
          .where('videoId', router.matchers.number())
        router
          .post('/faces/preview', [controllers.FacePreviews, 'store'])
          .as('faces.preview')
          .use(facePreviewThrottle)
        router
          .get('/people/:id/faces/:faceId/delete', [controllers.PersonFaces, 'confirmDestroy'])
          .as('people.faces.delete')
          .where('faceId', router.matchers.number())
        router
          .delete('/people/:id/faces/:faceId', [controllers.PersonFaces, 'destroy'])
          .as('people.faces.destroy')
          .where('faceId', router.matchers.number())

        router
          .get('/reviews', [controllers.EnrolmentReviews, 'index'])
          .as('enrolment_reviews.index')
        router
          .get('/reviews/:id/photo', [controllers.EnrolmentReviews, 'photo'])
          .as('enrolment_reviews.photo')
        router
          .get('/reviews/:id/thumbnail/:size', [controllers.Thumbnails, 'review'])
          .as('enrolment_reviews.thumbnail')
          .where('size', thumbnailSize)
        router
          .post('/reviews/:id/approve', [controllers.EnrolmentReviews, 'approve'])
          .as('enrolment_reviews.approve')
        router
          .post('/reviews/:id/reject', [controllers.EnrolmentReviews, 'reject'])
          .as('enrolment_reviews.reject')

        router.get('/devices', [controllers.Devices, 'index']).as('devices.index')
        router
          .get('/devices/presence', [controllers.DevicePresence, 'stream'])
          .as('devices.presence')
        router.get('/devices/:id/edit', [controllers.Devices, 'edit']).as('devices.edit')
        router.get('/devices/:id', [controllers.Devices, 'show']).as('devices.show')
        router.put('/devices/:id', [controllers.Devices, 'update']).as('devices.update')
        router.post('/devices/:id/status', [controllers.Devices, 'status']).as('devices.status')
        router.get('/devices/:id/block', [controllers.Devices, 'confirmBlock']).as('devices.block')
        router
          .get('/devices/:id/delete', [controllers.Devices, 'confirmDestroy'])
          .as('devices.delete')
        router.delete('/devices/:id', [controllers.Devices, 'destroy']).as('devices.destroy')
        router.put('/devices/:id/door', [controllers.DeviceDoors, 'update']).as('devices.door')
        router
          .post('/devices/:id/door/open', [controllers.DeviceDoors, 'open'])
          .as('devices.door.open')
        router
          .post('/devices/:id/credential', [controllers.DeviceCredentials, 'store'])
          .as('devices.credential.store')
        router
          .get('/devices/:id/credential/revoke', [controllers.DeviceCredentials, 'confirmDestroy'])
          .as('devices.credential.revoke')
        router
          .delete('/devices/:id/credential', [controllers.DeviceCredentials, 'destroy'])
          .as('devices.credential.destroy')
        router
          .post('/devices/:id/pairing', [controllers.DevicePairings, 'store'])
          .as('devices.pairing.store')
        router
          .delete('/devices/:id/pairing', [controllers.DevicePairings, 'destroy'])
          .as('devices.pairing.destroy')
        router
          .post('/devices/:id/commands', [controllers.DeviceCommands, 'store'])
          .as('devices.commands.store')
        router
          .get('/devices/:id/commands/restart', [controllers.DeviceCommands, 'confirmRestart'])
          .as('devices.commands.restart')

        router.get('/operators', [controllers.Operators, 'index']).as('operators.index')
        router.get('/operators/new', [controllers.Operators, 'create']).as('operators.create')
        router.post('/operators', [controllers.Operators, 'store']).as('operators.store')
        router.get('/operators/:id/edit', [controllers.Operators, 'edit']).as('operators.edit')
        router.put('/operators/:id', [controllers.Operators, 'update']).as('operators.update')
        router
          .post('/operators/:id/unlock', [controllers.Operators, 'unlock'])
          .as('operators.unlock')
        router
          .delete('/operators/:id/sessions', [controllers.Operators, 'signOutEverywhere'])
          .as('operators.sessions.destroy')

        router.get('/audit', [controllers.AuditLogs, 'index']).as('audit.index')
        router.get('/audit.csv', [controllers.AuditLogs, 'export']).as('audit.export')

        router.get('/access-groups', [controllers.AccessGroups, 'index']).as('access_groups.index')
        router
          .get('/access-groups/new', [controllers.AccessGroups, 'create'])
          .as('access_groups.create')
        router.post('/access-groups', [controllers.AccessGroups, 'store']).as('access_groups.store')
        router
          .get('/access-groups/:id', [controllers.AccessGroups, 'show'])
          .as('access_groups.show')
        router
          .get('/access-groups/:id/edit', [controllers.AccessGroups, 'edit'])
          .as('access_groups.edit')
        router
          .put('/access-groups/:id', [controllers.AccessGroups, 'update'])
          .as('access_groups.update')
        router
          .get('/access-groups/:id/delete', [controllers.AccessGroups, 'confirmDestroy'])
          .as('access_groups.delete')
        router
          .delete('/access-groups/:id', [controllers.AccessGroups, 'destroy'])
          .as('access_groups.destroy')
        router
          .post('/access-groups/:id/people', [controllers.AccessGroupPeople, 'storeMany'])
          .as('access_groups.people.store_many')
        router
          .post('/access-groups/:id/people/:personId', [controllers.AccessGroupPeople, 'store'])
          .as('access_groups.people.store')
          .where('personId', router.matchers.number())
        router
          .delete('/access-groups/:id/people/:personId', [controllers.AccessGroupPeople, 'destroy'])
          .as('access_groups.people.destroy')
          .where('personId', router.matchers.number())
        router
          .post('/access-groups/:id/devices', [controllers.AccessGroupDevices, 'store'])
          .as('access_groups.devices.store')
        router
          .delete('/access-groups/:id/devices/:deviceId', [
            controllers.AccessGroupDevices,
            'destroy',
          ])
          .as('access_groups.devices.destroy')
          .where('deviceId', router.matchers.number())

        router.get('/schedules', [controllers.Schedules, 'index']).as('schedules.index')
        router.get('/schedules/new', [controllers.Schedules, 'create']).as('schedules.create')
        router.post('/schedules', [controllers.Schedules, 'store']).as('schedules.store')
        router.get('/schedules/:id', [controllers.Schedules, 'show']).as('schedules.show')
        router.get('/schedules/:id/edit', [controllers.Schedules, 'edit']).as('schedules.edit')
        router.put('/schedules/:id', [controllers.Schedules, 'update']).as('schedules.update')
        router
          .get('/schedules/:id/delete', [controllers.Schedules, 'confirmDestroy'])
          .as('schedules.delete')
        router.delete('/schedules/:id', [controllers.Schedules, 'destroy']).as('schedules.destroy')
        router
          .post('/schedules/:id/windows', [controllers.ScheduleWindows, 'store'])
          .as('schedules.windows.store')
        router
          .post('/schedules/:id/windows/copy', [controllers.ScheduleWindows, 'copy'])
          .as('schedules.windows.copy')
        router
          .delete('/schedules/:id/windows/:windowId', [controllers.ScheduleWindows, 'destroy'])
          .as('schedules.windows.destroy')
          .where('windowId', router.matchers.number())
        router
          .post('/schedules/:id/holidays', [controllers.ScheduleHolidays, 'store'])
          .as('schedules.holidays.store')
        router
          .delete('/schedules/:id/holidays/:holidayId', [controllers.ScheduleHolidays, 'destroy'])
          .as('schedules.holidays.destroy')
          .where('holidayId', router.matchers.number())

        router.get('/events', [controllers.Events, 'index']).as('events.index')
        router.get('/events.csv', [controllers.Events, 'export']).as('events.export')
        router.get('/events/stream', [controllers.Events, 'stream']).as('events.stream')
        router.get('/events/:id/snapshot', [controllers.Events, 'snapshot']).as('events.snapshot')
        router
          .get('/events/:id/snapshot/thumbnail/:size', [controllers.Thumbnails, 'snapshot'])
          .as('events.snapshot.thumbnail')
          .where('size', thumbnailSize)
        router.get('/settings', [controllers.Settings, 'index']).as('settings.index')
        router.get('/health', [controllers.HealthChecks, 'details']).as('health.details')
        router
          .get('/settings/plugins/new', [controllers.PluginInstances, 'create'])
          .as('settings.plugins.create')
        router
          .post('/settings/plugins', [controllers.PluginInstances, 'store'])
          .as('settings.plugins.store')
        router
          .get('/settings/plugins/:instance', [controllers.PluginInstances, 'edit'])
          .as('settings.plugins.edit')
          .where('instance', pluginInstanceId)
        router
          .put('/settings/plugins/:instance', [controllers.PluginInstances, 'update'])
          .as('settings.plugins.update')
          .where('instance', pluginInstanceId)
        router
          .delete('/settings/plugins/:instance', [controllers.PluginInstances, 'destroy'])
          .as('settings.plugins.destroy')
          .where('instance', pluginInstanceId)
        router
          .post('/settings/plugins/:instance/test/:test', [controllers.PluginInstances, 'test'])
          .as('settings.plugins.test')
          .where('instance', pluginInstanceId)
          .where('test', /^[a-z]+$/)
        router
          .post('/settings/plugins/:id/retry', [controllers.Settings, 'retry'])
          .as('settings.plugins.retry')
          .where('id', /^[a-z0-9_-]+$/)
        router
          .post('/settings/reembedding', [controllers.Settings, 'reembed'])
          .as('settings.reembedding.start')
        router.get('/jobs', [controllers.Jobs, 'index']).as('jobs.index')
        router
          .post('/jobs/:jobId/retry', [controllers.Jobs, 'retry'])
          .as('jobs.retry')
          .where('jobId', jobId)
        router
          .delete('/jobs/:jobId', [controllers.Jobs, 'destroy'])
          .as('jobs.destroy')
          .where('jobId', jobId)
      })
      .prefix('/admin')
      .where('id', router.matchers.number())
      .use([middleware.auth(), middleware.privatePage()])
  })
  .use(pageMiddleware())
