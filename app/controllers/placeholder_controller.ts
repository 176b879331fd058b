import type { HttpContext } from '@adonisjs/core/http'

/**
 * Pages whose area is not built yet: they say what is coming.
 */
export default class PlaceholderController {
  async accessGroups({ view, bouncer }: HttpContext) {
    await bouncer.with('AccessGroupPolicy').authorize('view')
    return view.render('pages/placeholder/show', { section: 'access_groups' })
  }
}
