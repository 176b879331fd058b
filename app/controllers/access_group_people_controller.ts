import { inject } from '@adonisjs/core'
import type { HttpContext } from '@adonisjs/core/http'
import AccessGroup from '#models/access_group'
import Person from '#models/person'
import { AccessGroupService } from '#services/access_group_service'
import { actorFromRequest } from '#services/audit_trail'
import { groupPeopleValidator } from '#validators/access_group_validator'

/**
 * Members of an access group: the group page's "Add" and "Remove" buttons
 * post here one person at a time, "Add selected" and "Add the department"
 * several at once, and each comes back to the page.
 */
@inject()
export default class AccessGroupPeopleController {
  constructor(private groups: AccessGroupService) {}

  async store(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const [group, person] = await this.#find(ctx)
    await this.groups.addPerson(actorFromRequest(ctx), group, person)
    ctx.session.flash(
      'success',
      ctx.i18n.t('access_groups.person_added', { name: person.displayName })
    )
    return ctx.response.redirect().withQs().back()
  }

  async storeMany(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const group = await AccessGroup.findOrFail(ctx.params.id)
    const { personIds, department } = await ctx.request.validateUsing(groupPeopleValidator)
    const actor = actorFromRequest(ctx)
    const count = department
      ? await this.groups.addDepartment(actor, group, department)
      : await this.groups.addPeople(actor, group, personIds ?? [])
    ctx.session.flash('success', ctx.i18n.t('access_groups.people_added', { count }))
    return ctx.response.redirect().withQs().back()
  }

  async destroy(ctx: HttpContext) {
    await ctx.bouncer.with('AccessGroupPolicy').authorize('manage')
    const [group, person] = await this.#find(ctx)
    await this.groups.removePerson(actorFromRequest(ctx), group, person)
    ctx.session.flash(
      'success',
      ctx.i18n.t('access_groups.person_removed', { name: person.displayName })
    )
    return ctx.response.redirect().withQs().back()
  }

  #find({ params }: HttpContext) {
    return Promise.all([AccessGroup.findOrFail(params.id), Person.findOrFail(params.personId)])
  }
}
