import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import Person from '#models/person'
import { actorFromRequest } from '#services/audit_trail'
import { PersonFacesService } from '#faces/person_faces_service'
import { facePhotoValidator } from '#validators/face_photo_validator'
import { fieldError } from '#validators/field_error'

/**
 * The face templates on a person's edit page: the upload form and each
 * face's remove button post here and come back to that page.
 */
@inject()
export default class PersonFacesController {
  constructor(private faces: PersonFacesService) {}

  async photo({ params, response, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const file = await this.faces.photo(Number(params.id), Number(params.faceId))
    if (!file) throw new Exception('This face has no photo', { status: 404, code: 'E_NOT_FOUND' })
    return response.header('Content-Type', file.contentType).download(file.path)
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const { photo } = await ctx.request.validateUsing(facePhotoValidator)
    const result = await this.faces.addPhoto(actorFromRequest(ctx), person, photo.tmpPath!)
    if (!result.ok) throw fieldError('photo', ctx.i18n.t(`people.faces.errors.${result.error}`))
    return this.#backToPerson(ctx, person, 'people.faces.added')
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    await this.faces.remove(actorFromRequest(ctx), person, Number(ctx.params.faceId))
    return this.#backToPerson(ctx, person, 'people.faces.removed')
  }

  #backToPerson({ session, i18n, response }: HttpContext, person: Person, message: string) {
    session.flash('success', i18n.t(message, { name: person.displayName }))
    return response.redirect().toRoute('people.edit', { id: person.id })
  }
}
