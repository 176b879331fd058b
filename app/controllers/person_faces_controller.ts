import { readFile } from 'node:fs/promises'
import { inject } from '@adonisjs/core'
import { Exception } from '@adonisjs/core/exceptions'
import type { HttpContext } from '@adonisjs/core/http'
import terminalConfig from '#config/terminal'
import Person from '#models/person'
import { actorFromRequest } from '#services/audit_trail'
import type { Confirmations } from '#faces/face_enrolment'
import { MediaStore } from '#faces/media_store'
import { matchThreshold } from '#faces/open_set_identification'
import { PersonFacesService, type FaceUploadRefusal } from '#faces/person_faces_service'
import { answeredScore } from '#faces/recognition_engine'

const maxReasonLength = 500

/** What the faces section shows after an upload that enrolled nothing. */
type UploadState = {
  error: string
  /** The photo kept for the operator's pick or confirmation. */
  staged?: string
  faces?: { index: number; thumbnail: string }[]
  pick?: number
  warning?: 'same_person' | 'different_people'
  other?: string
  confirmed: Confirmations
}

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
    private media: MediaStore
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
    const owner = `person:${person.id}:user:${ctx.auth.user!.id}`
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
      })
    }

    const result = await this.faces.addPhoto(actorFromRequest(ctx), person, bytes, {
      pick,
      confirmed,
    })
    if (result.ok) {
      if (staged) await this.media.unstagePhoto(staged)
      ctx.session.flash('success', i18n.t('people.faces.added', { name: person.displayName }))
      return ctx.response.redirect().toRoute('people.edit', { id: person.id })
    }

    const error = result.error
    const needsDecision =
      (error.type === 'several_faces' && result.faces.length > 1) ||
      error.type === 'not_same_person' ||
      error.type === 'matches_other_person'
    if (!needsDecision) {
      if (staged) await this.media.unstagePhoto(staged)
      return this.#show(ctx, person, { error: this.#message(ctx, person, error), confirmed: {} })
    }
    const token = staged ?? (await this.media.stagePhoto(bytes, owner))
    const state: UploadState = {
      error: this.#message(ctx, person, error),
      staged: token,
      pick,
      confirmed,
    }
    if (error.type === 'several_faces') {
      const thumbnails = await this.faces.thumbnails(bytes, result.faces)
      state.faces = thumbnails.map((thumbnail, index) => ({ index, thumbnail }))
    } else if (error.type === 'not_same_person') {
      state.warning = 'same_person'
    } else if (error.type === 'matches_other_person') {
      state.warning = 'different_people'
      state.other = error.other.displayName
    }
    return this.#show(ctx, person, state)
  }

  /** Drops a photo kept for a decision the operator will not make. */
  async discard(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    const staged = stringInput(ctx.request.input('staged'))
    const owner = `person:${person.id}:user:${ctx.auth.user!.id}`
    if (staged && (await this.media.stagedPhoto(staged, owner))) {
      await this.media.unstagePhoto(staged)
    }
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('PersonPolicy').authorize('manage')
    const person = await Person.findOrFail(ctx.params.id)
    await this.faces.remove(actorFromRequest(ctx), person, Number(ctx.params.faceId))
    ctx.session.flash('success', ctx.i18n.t('people.faces.removed', { name: person.displayName }))
    return ctx.response.redirect().toRoute('people.edit', { id: person.id })
  }

  #message({ i18n }: HttpContext, person: Person, error: FaceUploadRefusal) {
    const name = person.displayName
    switch (error.type) {
      case 'not_image':
      case 'unreadable_file':
        return i18n.t('people.faces.errors.not_image')
      case 'image_too_large':
        return i18n.t('people.faces.errors.too_large')
      case 'no_face':
        return i18n.t('people.faces.errors.no_face')
      case 'engine_unavailable':
        return i18n.t('people.faces.errors.no_engine')
      case 'already_enrolled':
        return i18n.t('people.faces.errors.already_enrolled')
      case 'several_faces':
        return i18n.t('people.faces.errors.several_faces', { count: error.faces.length, name })
      case 'poor_quality': {
        const advice = error.issues
          .map((issue) => i18n.t(`people.faces.quality_issues.${issue.code}`))
          .join(', ')
        return i18n.t('people.faces.errors.poor_quality', { advice })
      }
      case 'no_consent':
        return i18n.t('people.faces.errors.no_consent', { name })
      case 'not_same_person':
        return i18n.t('people.faces.errors.not_same_person', {
          name,
          score: answeredScore(error.score ?? 0),
          needed: matchThreshold,
        })
      case 'matches_other_person':
        return i18n.t('people.faces.errors.matches_other_person', {
          other: error.other.displayName,
          username: error.other.username,
          score: answeredScore(error.score),
        })
    }
  }

  /**
   * The edit page again, as stored (nothing the operator saved is lost),
   * with the upload's outcome in the faces section.
   */
  async #show({ view, response }: HttpContext, person: Person, upload: UploadState) {
    await person.load('accessGroups', (groups) => groups.orderBy('name', 'asc'))
    await person.load('faces', (faces) => faces.orderBy('id', 'desc'))
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
