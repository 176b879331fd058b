import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import terminalConfig from '#config/terminal'
import Person from '#models/person'
import { AccessGroupService } from '#services/access_group_service'
import { PeopleService } from '#services/people_service'
import { DeviceSyncLedger } from '#services/device_sync_ledger'
import { actorFromRequest } from '#services/audit_trail'
import { FaceUploadOutcome, stagingOwner, type PhotoSource } from '#services/face_upload_outcome'
import { PersonFacesService } from '#faces/person_faces_service'
import { fieldError } from '#validators/field_error'
import {
  createPersonValidator,
  personSearchValidator,
  updatePersonValidator,
} from '#validators/person_validator'

@inject()
export default class PeopleController {
  constructor(
    private people: PeopleService,
    private groups: AccessGroupService,
    private faces: PersonFacesService,
    private faceOutcome: FaceUploadOutcome,
    private sync: DeviceSyncLedger
  ) {}

  async index({ request, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const filters = await personSearchValidator.validate(request.qs())
    const people = await this.people.search(filters)
    people.baseUrl(request.url()).queryString({ q: filters.q, status: filters.status })
    return view.render('pages/people/index', { people, filters })
  }

  async create({ view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    return view.render('pages/people/create', { groups: await this.groups.choices() })
  }

  /**
   * Enrolment in one submit: the person, their consent, their access groups
   * and the face of the photo or camera picture sent along. Once the person
   * is saved, a face the enrolment refuses leaves them saved: their page
   * shows why, with the pick or the confirmation it waits for.
   */
  async store(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const input = await ctx.request.validateUsing(createPersonValidator)
    const photo = await this.#photo(ctx, Boolean(input.consentGiven))
    const actor = actorFromRequest(ctx)
    const result = await this.people.create(actor, input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`people.duplicate_${result.error.field}`))
    const { person } = result
    const source: PhotoSource = input.photoSource === 'webcam' ? 'webcam' : 'photo'
    if (photo) {
      const face = await this.faces.addPhoto(actor, person, photo, { source })
      if (!face.ok) {
        const owner = stagingOwner(person.id, ctx.auth.user!.id)
        const upload = await this.faceOutcome.refused(ctx.i18n, person, owner, photo, face, {
          confirmed: {},
          source,
        })
        await this.#loadPage(person)
        ctx.response.status(422)
        return ctx.view.render('pages/people/edit', { person, upload, created: true })
      }
    }
    const message = photo ? 'people.created_with_face' : 'people.created'
    ctx.session.flash('success', ctx.i18n.t(message, { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  /**
   * The photo sent with a new person, checked before anyone is created: a
   * file that is no photo or too large, or a photo without consent, sends
   * the form back with what was typed.
   */
  async #photo({ request, i18n }: HttpContext, consentGiven: boolean) {
    const photo = request.file('photo', { size: terminalConfig.images.maxBytes })
    if (!photo) return null
    if (!photo.isValid || !photo.tmpPath) {
      const tooLarge = photo.errors.some((error) => error.type === 'size')
      const key = tooLarge ? 'too_large' : 'not_image'
      throw fieldError('photo', i18n.t(`people.faces.errors.${key}`))
    }
    if (!consentGiven) throw fieldError('consentGiven', i18n.t('people.enrol.consent_required'))
    return readFile(photo.tmpPath)
  }

  async #loadPage(person: Person) {
    await person.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    await person.load('faces', (faces) => faces.orderBy('id', 'desc'))
    await person.load('consentRecorder')
  }

  /**
   * A person as those who may read but not change see them (auditors): the
   * record, the consent on record, the faces and the groups, without a form.
   */
  async show({ params, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const person = await Person.findOrFail(params.id)
    await this.#loadPage(person)
    const removalReceipts = await this.sync.removals({ usernames: [person.username] })
    return view.render('pages/people/show', { person, removalReceipts })
  }

  /** Readers who may not change people are shown the person's page instead. */
  async edit({ params, view, bouncer, response }: HttpContext) {
    if (await bouncer.with('PersonPolicy').denies('manage')) {
      await bouncer.with('PersonPolicy').authorize('view')
      return response.redirect().toRoute('people.show', { id: params.id })
    }
    const person = await Person.findOrFail(params.id)
    await person.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    await person.load('faces', (faces) => faces.orderBy('id', 'desc'))
    await person.load('consentRecorder')
    const removalReceipts = await this.sync.removals({ usernames: [person.username] })
    return view.render('pages/people/edit', { person, removalReceipts })
  }

  async update(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const input = await ctx.request.validateUsing(updatePersonValidator)
    const result = await this.people.update(actorFromRequest(ctx), person, input)
    if (!result.ok)
      throw fieldError(result.error.field, ctx.i18n.t(`people.duplicate_${result.error.field}`))
    if (result.withdrawConsent) {
      ctx.session.flash(
        'success',
        ctx.i18n.t('people.consent.saved_before_withdrawal', { name: person.displayName })
      )
      return ctx.response.redirect().toRoute('people.consent.withdraw', { id: person.id })
    }
    ctx.session.flash('success', ctx.i18n.t('people.updated', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.index')
  }

  async suspend(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const status = ctx.request.input('status') === 'active' ? 'active' : 'suspended'
    await this.people.setStatus(actorFromRequest(ctx), person, status)
    ctx.session.flash('success', ctx.i18n.t(`people.${status}_done`, { name: person.displayName }))
    return ctx.response.redirect().back()
  }

  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(params.id)
    return view.render('pages/people/delete', { person })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    await this.people.delete(actorFromRequest(ctx), person)
    ctx.session.flash('success', ctx.i18n.t('people.deleted', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.index')
  }
}
