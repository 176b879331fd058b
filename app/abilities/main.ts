/*
|--------------------------------------------------------------------------
| Bouncer abilities
|--------------------------------------------------------------------------
|
| Checks that belong to no single resource. Resource checks live in the
| policies (app/policies).
|
*/
import type User from '#models/user'
import { Bouncer } from '@adonisjs/bouncer'

/**
 * Every enabled operator may open the admin pages.
 */
export const viewAdmin = Bouncer.ability((user: User) => !user.disabledAt)
