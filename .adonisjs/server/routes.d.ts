import '@adonisjs/core/types/http'

type ParamValue = string | number | bigint | boolean

export type ScannedRoutes = {
  ALL: {
    'health': { paramsTuple?: []; params?: {} }
    'terminal.token': { paramsTuple?: []; params?: {} }
    'terminal.pair': { paramsTuple?: []; params?: {} }
    'terminal.faceDetect': { paramsTuple?: []; params?: {} }
    'terminal.faceAge': { paramsTuple?: []; params?: {} }
    'terminal.faceGender': { paramsTuple?: []; params?: {} }
    'terminal.faceFeature': { paramsTuple?: []; params?: {} }
    'terminal.faceRecognize': { paramsTuple?: []; params?: {} }
    'terminal.faceIdentify': { paramsTuple?: []; params?: {} }
    'terminal.getDbs': { paramsTuple?: []; params?: {} }
    'terminal.syncEvents': { paramsTuple?: []; params?: {} }
    'terminal.regFace': { paramsTuple?: []; params?: {} }
    'terminal.clinetFeedback': { paramsTuple?: []; params?: {} }
    'terminal.clinetWebResult': { paramsTuple?: []; params?: {} }
    'terminal.heartbeat': { paramsTuple?: []; params?: {} }
    'terminal.pictures': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'docs': { paramsTuple?: []; params?: {} }
    'docs.openapi_json': { paramsTuple?: []; params?: {} }
    'docs.openapi_yaml': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'session.store': { paramsTuple?: []; params?: {} }
    'session.destroy': { paramsTuple?: []; params?: {} }
    'dashboard': { paramsTuple?: []; params?: {} }
    'dashboard.stream': { paramsTuple?: []; params?: {} }
    'account.locale': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'account.password': { paramsTuple?: []; params?: {} }
    'people.index': { paramsTuple?: []; params?: {} }
    'people.create': { paramsTuple?: []; params?: {} }
    'people.store': { paramsTuple?: []; params?: {} }
    'people.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.consent.withdraw': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.consent.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.photo': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'people.faces.thumbnail': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue,'size': ParamValue} }
    'people.faces.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.discard': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.index': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.frame': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'videoId': ParamValue,'frame': ParamValue} }
    'people.videos.cancel': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'videoId': ParamValue} }
    'faces.preview': { paramsTuple?: []; params?: {} }
    'people.faces.delete': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'people.faces.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'enrolment_reviews.index': { paramsTuple?: []; params?: {} }
    'enrolment_reviews.photo': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'enrolment_reviews.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'enrolment_reviews.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'enrolment_reviews.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.index': { paramsTuple?: []; params?: {} }
    'devices.presence': { paramsTuple?: []; params?: {} }
    'devices.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.block': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.door': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.door.open': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.revoke': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.pairing.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.pairing.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.commands.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.commands.restart': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.index': { paramsTuple?: []; params?: {} }
    'operators.create': { paramsTuple?: []; params?: {} }
    'operators.store': { paramsTuple?: []; params?: {} }
    'operators.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.unlock': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.sessions.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'audit.index': { paramsTuple?: []; params?: {} }
    'audit.export': { paramsTuple?: []; params?: {} }
    'access_groups.index': { paramsTuple?: []; params?: {} }
    'access_groups.create': { paramsTuple?: []; params?: {} }
    'access_groups.store': { paramsTuple?: []; params?: {} }
    'access_groups.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.people.store_many': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.people.store': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'personId': ParamValue} }
    'access_groups.people.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'personId': ParamValue} }
    'access_groups.devices.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.devices.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'deviceId': ParamValue} }
    'schedules.index': { paramsTuple?: []; params?: {} }
    'schedules.create': { paramsTuple?: []; params?: {} }
    'schedules.store': { paramsTuple?: []; params?: {} }
    'schedules.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.windows.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.windows.copy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.windows.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'windowId': ParamValue} }
    'schedules.holidays.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.holidays.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'holidayId': ParamValue} }
    'events.index': { paramsTuple?: []; params?: {} }
    'events.export': { paramsTuple?: []; params?: {} }
    'events.stream': { paramsTuple?: []; params?: {} }
    'events.snapshot': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'events.snapshot.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'settings.index': { paramsTuple?: []; params?: {} }
    'health.details': { paramsTuple?: []; params?: {} }
    'settings.plugins.create': { paramsTuple?: []; params?: {} }
    'settings.plugins.store': { paramsTuple?: []; params?: {} }
    'settings.plugins.edit': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'settings.plugins.update': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'settings.plugins.destroy': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'settings.plugins.test': { paramsTuple: [ParamValue,ParamValue]; params: {'instance': ParamValue,'test': ParamValue} }
    'settings.plugins.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'settings.reembedding.start': { paramsTuple?: []; params?: {} }
    'jobs.index': { paramsTuple?: []; params?: {} }
    'jobs.retry': { paramsTuple: [ParamValue]; params: {'jobId': ParamValue} }
    'jobs.destroy': { paramsTuple: [ParamValue]; params: {'jobId': ParamValue} }
  }
  GET: {
    'health': { paramsTuple?: []; params?: {} }
    'terminal.pictures': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'docs': { paramsTuple?: []; params?: {} }
    'docs.openapi_json': { paramsTuple?: []; params?: {} }
    'docs.openapi_yaml': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'dashboard': { paramsTuple?: []; params?: {} }
    'dashboard.stream': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'people.index': { paramsTuple?: []; params?: {} }
    'people.create': { paramsTuple?: []; params?: {} }
    'people.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.consent.withdraw': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.photo': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'people.faces.thumbnail': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue,'size': ParamValue} }
    'people.videos.index': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.frame': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'videoId': ParamValue,'frame': ParamValue} }
    'people.faces.delete': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'enrolment_reviews.index': { paramsTuple?: []; params?: {} }
    'enrolment_reviews.photo': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'enrolment_reviews.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'devices.index': { paramsTuple?: []; params?: {} }
    'devices.presence': { paramsTuple?: []; params?: {} }
    'devices.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.block': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.revoke': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.commands.restart': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.index': { paramsTuple?: []; params?: {} }
    'operators.create': { paramsTuple?: []; params?: {} }
    'operators.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'audit.index': { paramsTuple?: []; params?: {} }
    'audit.export': { paramsTuple?: []; params?: {} }
    'access_groups.index': { paramsTuple?: []; params?: {} }
    'access_groups.create': { paramsTuple?: []; params?: {} }
    'access_groups.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.index': { paramsTuple?: []; params?: {} }
    'schedules.create': { paramsTuple?: []; params?: {} }
    'schedules.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'events.index': { paramsTuple?: []; params?: {} }
    'events.export': { paramsTuple?: []; params?: {} }
    'events.stream': { paramsTuple?: []; params?: {} }
    'events.snapshot': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'events.snapshot.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'settings.index': { paramsTuple?: []; params?: {} }
    'health.details': { paramsTuple?: []; params?: {} }
    'settings.plugins.create': { paramsTuple?: []; params?: {} }
    'settings.plugins.edit': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'jobs.index': { paramsTuple?: []; params?: {} }
  }
  HEAD: {
    'health': { paramsTuple?: []; params?: {} }
    'terminal.pictures': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'docs': { paramsTuple?: []; params?: {} }
    'docs.openapi_json': { paramsTuple?: []; params?: {} }
    'docs.openapi_yaml': { paramsTuple?: []; params?: {} }
    'session.create': { paramsTuple?: []; params?: {} }
    'dashboard': { paramsTuple?: []; params?: {} }
    'dashboard.stream': { paramsTuple?: []; params?: {} }
    'account.show': { paramsTuple?: []; params?: {} }
    'people.index': { paramsTuple?: []; params?: {} }
    'people.create': { paramsTuple?: []; params?: {} }
    'people.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.consent.withdraw': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.photo': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'people.faces.thumbnail': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue,'size': ParamValue} }
    'people.videos.index': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.frame': { paramsTuple: [ParamValue,ParamValue,ParamValue]; params: {'id': ParamValue,'videoId': ParamValue,'frame': ParamValue} }
    'people.faces.delete': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'enrolment_reviews.index': { paramsTuple?: []; params?: {} }
    'enrolment_reviews.photo': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'enrolment_reviews.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'devices.index': { paramsTuple?: []; params?: {} }
    'devices.presence': { paramsTuple?: []; params?: {} }
    'devices.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.block': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.revoke': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.commands.restart': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.index': { paramsTuple?: []; params?: {} }
    'operators.create': { paramsTuple?: []; params?: {} }
    'operators.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'audit.index': { paramsTuple?: []; params?: {} }
    'audit.export': { paramsTuple?: []; params?: {} }
    'access_groups.index': { paramsTuple?: []; params?: {} }
    'access_groups.create': { paramsTuple?: []; params?: {} }
    'access_groups.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.index': { paramsTuple?: []; params?: {} }
    'schedules.create': { paramsTuple?: []; params?: {} }
    'schedules.show': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.edit': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.delete': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'events.index': { paramsTuple?: []; params?: {} }
    'events.export': { paramsTuple?: []; params?: {} }
    'events.stream': { paramsTuple?: []; params?: {} }
    'events.snapshot': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'events.snapshot.thumbnail': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'size': ParamValue} }
    'settings.index': { paramsTuple?: []; params?: {} }
    'health.details': { paramsTuple?: []; params?: {} }
    'settings.plugins.create': { paramsTuple?: []; params?: {} }
    'settings.plugins.edit': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'jobs.index': { paramsTuple?: []; params?: {} }
  }
  POST: {
    'terminal.token': { paramsTuple?: []; params?: {} }
    'terminal.pair': { paramsTuple?: []; params?: {} }
    'terminal.faceDetect': { paramsTuple?: []; params?: {} }
    'terminal.faceAge': { paramsTuple?: []; params?: {} }
    'terminal.faceGender': { paramsTuple?: []; params?: {} }
    'terminal.faceFeature': { paramsTuple?: []; params?: {} }
    'terminal.faceRecognize': { paramsTuple?: []; params?: {} }
    'terminal.faceIdentify': { paramsTuple?: []; params?: {} }
    'terminal.getDbs': { paramsTuple?: []; params?: {} }
    'terminal.syncEvents': { paramsTuple?: []; params?: {} }
    'terminal.regFace': { paramsTuple?: []; params?: {} }
    'terminal.clinetFeedback': { paramsTuple?: []; params?: {} }
    'terminal.clinetWebResult': { paramsTuple?: []; params?: {} }
    'terminal.heartbeat': { paramsTuple?: []; params?: {} }
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'session.store': { paramsTuple?: []; params?: {} }
    'session.destroy': { paramsTuple?: []; params?: {} }
    'account.locale': { paramsTuple?: []; params?: {} }
    'people.store': { paramsTuple?: []; params?: {} }
    'people.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.consent.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.discard': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.videos.cancel': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'videoId': ParamValue} }
    'faces.preview': { paramsTuple?: []; params?: {} }
    'enrolment_reviews.approve': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'enrolment_reviews.reject': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.status': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.door.open': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.pairing.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.commands.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.store': { paramsTuple?: []; params?: {} }
    'operators.unlock': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.store': { paramsTuple?: []; params?: {} }
    'access_groups.people.store_many': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.people.store': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'personId': ParamValue} }
    'access_groups.devices.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.store': { paramsTuple?: []; params?: {} }
    'schedules.windows.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.windows.copy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.holidays.store': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'settings.plugins.store': { paramsTuple?: []; params?: {} }
    'settings.plugins.test': { paramsTuple: [ParamValue,ParamValue]; params: {'instance': ParamValue,'test': ParamValue} }
    'settings.plugins.retry': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'settings.reembedding.start': { paramsTuple?: []; params?: {} }
    'jobs.retry': { paramsTuple: [ParamValue]; params: {'jobId': ParamValue} }
  }
  OPTIONS: {
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
  PUT: {
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'account.password': { paramsTuple?: []; params?: {} }
    'people.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.door': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.update': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'settings.plugins.update': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
  }
  PATCH: {
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
  }
  DELETE: {
    'terminal.fallback': { paramsTuple: [...ParamValue[]]; params: {'*': ParamValue[]} }
    'people.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'people.faces.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'faceId': ParamValue} }
    'devices.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.credential.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'devices.pairing.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'operators.sessions.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'access_groups.people.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'personId': ParamValue} }
    'access_groups.devices.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'deviceId': ParamValue} }
    'schedules.destroy': { paramsTuple: [ParamValue]; params: {'id': ParamValue} }
    'schedules.windows.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'windowId': ParamValue} }
    'schedules.holidays.destroy': { paramsTuple: [ParamValue,ParamValue]; params: {'id': ParamValue,'holidayId': ParamValue} }
    'settings.plugins.destroy': { paramsTuple: [ParamValue]; params: {'instance': ParamValue} }
    'jobs.destroy': { paramsTuple: [ParamValue]; params: {'jobId': ParamValue} }
  }
}
declare module '@adonisjs/core/types/http' {
  export interface RoutesList extends ScannedRoutes {}
}