import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import terminalConfig from '#config/terminal'
import Person from '#models/person'
import { actorFromRequest } from '#services/audit_trail'
import { FaceUploadOutcome, stagingOwner, type UploadState } from '#services/face_upload_outcome'
import type { Confirmations } from '#faces/face_enrolment'
import { MediaStore } from '#faces/media_store'
import { PersonFacesService } from '#faces/person_faces_service'

const maxReasonLength = 500

/**
 * The face templates on a person's edit page. An upload goes through the
 * one enrolment path; when it enrols nothing the edit page is shown again
 * with the person form as stored and the reason beside the upload: a photo
 * with several faces offers them to pick from, and a face that does not
 * match the person, or matches someone else, can be enrolled anyway with
 * a reason. The photo waits for that decision in the media store's staging
 * area, readable only by the same operator on the same person's page.
 */
@inject()
export default class PersonFacesController {
  constructor(
    private faces: PersonFacesService,
    private media: MediaStore,
    private outcome: FaceUploadOutcome
  ) {}

  async photo({ params, response, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('view')
    const file = await this.faces.photo(Number(params.id), Number(params.faceId))
    if (!file) throw new Exception('This face has no photo', { status: 404, code: 'E_NOT_FOUND' })
    return response.header('Content-Type', file.contentType).download(file.path)
  }

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const { request, i18n } = ctx
    const owner = stagingOwner(person.id, ctx.auth.user!.id)
    const source = request.input('photoSource') === 'webcam' ? 'webcam' : 'photo'
    const staged = stringInput(request.input('staged'))
    const confirmed: Confirmations = {
      samePerson: stringInput(request.input('reason_same_person')) ?? undefined,
      differentPeople: stringInput(request.input('reason_different_people')) ?? undefined,
    }
    const confirming = stringInput(request.input('confirming'))
    const pick = pickInput(request.input('face'))

    let bytes: Uint8Array | null
    if (staged) {
      bytes = await this.media.stagedPhoto(staged, owner)
      if (!bytes)
        return this.#show(ctx, person, {
          error: i18n.t('people.faces.errors.staged_expired'),
          confirmed: {},
        })
    } else {
      const photo = request.file('photo', { size: terminalConfig.images.maxBytes })
      if (!photo)
        return this.#show(ctx, person, {
          error: i18n.t('people.faces.errors.missing'),
          confirmed: {},
        })
      if (!photo.isValid) {
        const tooLarge = photo.errors.some((error) => error.type === 'size')
        const key = tooLarge ? 'too_large' : 'not_image'
        return this.#show(ctx, person, {
          error: i18n.t(`people.faces.errors.${key}`),
          confirmed: {},
        })
      }
      bytes = await readFile(photo.tmpPath!)
    }

    if (confirming && !confirmed[confirming === 'same_person' ? 'samePerson' : 'differentPeople']) {
      return this.#show(ctx, person, {
        error: i18n.t('people.faces.errors.reason_required'),
        staged: staged ?? undefined,
        pick,
        warning: confirming === 'same_person' ? 'same_person' : 'different_people',
        other: stringInput(request.input('other')) ?? undefined,
        confirmed,
        source,
      })
    }

    const result = await this.faces.addPhoto(actorFromRequest(ctx), person, bytes, {
      pick,
      confirmed,
      source,
    })
    if (result.ok) {
      if (staged) await this.media.unstagePhoto(staged)
      ctx.session.flash('success', i18n.t('people.faces.added', { name: person.displayName }))
      return ctx.response.redirect().toRoute('people.edit', { id: person.id })
    }

    const state = await this.outcome.refused(i18n, person, owner, bytes, result, {
      staged: staged ?? undefined,
      pick,
      confirmed,
      source,
    })
    return this.#show(ctx, person, state)
  }

  /** Drops a photo kept for a decision the operator will not make. */
  async discard(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const staged = stringInput(ctx.request.input('staged'))
    const owner = stagingOwner(person.id, ctx.auth.user!.id)
    if (staged && (await this.media.stagedPhoto(staged, owner))) {
      await this.media.unstagePhoto(staged)
    }
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  /** Removing a face asks first, showing the face that would go. */
  async confirmDestroy({ params, view, bouncer }: HttpContext) {
    await bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(params.id)
    const face = await person.related('faces').query().where('id', params.faceId).firstOrFail()
    return view.render('pages/people/remove_face', { person, face })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    await this.faces.remove(actorFromRequest(ctx), person, Number(ctx.params.faceId))
    ctx.session.flash('success', ctx.i18n.t('people.faces.removed', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  /**
   * The edit page again, as stored (nothing the operator saved is lost),
   * with the upload's outcome in the faces section.
   */
  async #show({ view, response }: HttpContext, person: Person, upload: UploadState) {
    await person.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    await person.load('faces', (faces) => faces.orderBy('id', 'desc'))
    await person.load('consentRecorder')
    response.status(422)
    return view.render('pages/people/edit', { person, upload })
  }
}

function stringInput(value: unknown) {
  if (typeof value !== 'string') return null
  const trimmed = value.trim().slice(0, maxReasonLength)
  return trimmed === '' ? null : trimmed
}

function pickInput(value: unknown) {
  const index = Number(value)
  return value !== undefined && value !== '' && Number.isInteger(index) && index >= 0 && index < 64
    ? index
    : undefined
}
