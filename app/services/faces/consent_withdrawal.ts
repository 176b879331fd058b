import { inject } from '@adonisjs/core'
import type Person from '#models/person'
import type { Actor } from '#services/audit_trail'
import { BiometricErasure } from '#faces/biometric_erasure'

export type ConsentWithdrawalResult =
  { ok: true; faces: number } | { ok: false; error: { type: 'not_on_record' } }

/**
 * A person withdraws their biometric consent: their biometric data is
 * erased (BiometricErasure: faces, photos, faces held for review; a
 * tombstone that devices acknowledge) and the consent on record is
 * cleared with it. The person stays, cards and access groups included.
 */
@inject()
export class ConsentWithdrawal {
  constructor(private erasure: BiometricErasure) {}

  /** What a withdrawal would delete: the person's faces, and faces held for review. */
  preview(person: Person) {
    return this.erasure.preview(person)
  }

  async withdraw(actor: Actor, person: Person): Promise<ConsentWithdrawalResult> {
    const outcome = await this.erasure.erase(actor, person, {
      action: 'person.consent_withdraw',
      applies: (current) => Boolean(current.consentGivenAt),
      alter: (current) => {
        const before = {
          consentTextVersion: current.consentTextVersion,
          consentGivenAt: current.consentGivenAt?.toISO() ?? null,
        }
        current.merge({ consentGivenAt: null, consentRecordedBy: null, consentTextVersion: null })
        return { before, after: { consentTextVersion: null, consentGivenAt: null } }
      },
    })
    if (!outcome) return { ok: false, error: { type: 'not_on_record' } }
    return { ok: true, faces: outcome.faces }
  }
}
