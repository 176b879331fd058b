import type { SchemaRules } from '@adonisjs/lucid/types/schema_generator'

/**
 * JSON kept in text columns: the generated schema types them loosely and
 * the models narrow them and add the JSON (de)serialisation.
 */
const json = { tsType: 'any', decorator: '@column()' }

export default {
  tables: {
    faces: { columns: { box: json, landmarks: json } },
    devices: { columns: { capabilities: json, config: json, permissions: json } },
    enrolment_reviews: { columns: { box: json, landmarks: json, reasons: json } },
    api_keys: { columns: { scopes: json } },
    audit_logs: { columns: { before: json, after: json } },
    video_enrolments: { columns: { best: json, frames: json } },
  },
} satisfies SchemaRules
