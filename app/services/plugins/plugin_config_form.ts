import type { JSONSchema7, JSONSchema7Definition } from 'json-schema'

/**
 * A plugin instance's config as a form, generated from the plugin's config
 * schema (its VineJS schema as JSON Schema): strings as text, numbers with
 * their range, enums as selects, booleans as yes/no, nested objects as
 * groups, and anything else (a choice between shapes, lists) as JSON.
 * Inputs are named `config[a][b]`, so the body parser gives them back as
 * the config's shape; a field left empty is left out, and the plugin's
 * default applies.
 */
export type ConfigControl = 'text' | 'number' | 'select' | 'boolean' | 'json' | 'group'

export interface ConfigField {
  /** As VineJS names it in its errors: `inputs.pollMs`. */
  key: string
  name: string
  label: string
  control: ConfigControl
  required: boolean
  description: string | null
  min: number | null
  max: number | null
  integer: boolean
  maxLength: number | null
  options: { value: string; label: string }[]
  /** What the input shows: what was typed, or the config's value. */
  value: string
  /** The schema's default, shown as a hint when it is not already the value. */
  defaultValue: string | null
  error: string | null
  fields: ConfigField[]
}

/** The config as the form's inputs hold it: strings, nested like the config. */
export type FormValues = { [key: string]: string | FormValues | undefined }

type Node = JSONSchema7

function asNode(definition: JSONSchema7Definition | undefined): Node {
  return typeof definition === 'object' ? definition : {}
}

function controlOf(node: Node): ConfigControl {
  if (node.enum) return 'select'
  if (node.type === 'object' && node.properties && !node.anyOf) return 'group'
  if (node.type === 'integer' || node.type === 'number') return 'number'
  if (node.type === 'boolean') return 'boolean'
  if (node.type === 'string') return 'text'
  return 'json'
}

function display(control: ConfigControl, value: unknown): string {
  if (value === undefined || value === null) return ''
  if (control === 'json') return JSON.stringify(value)
  return String(value)
}

/** A config (as saved) as the strings its form shows. */
export function formValuesOf(schema: Node, config: unknown): FormValues {
  const values: FormValues = {}
  const object = (typeof config === 'object' && config !== null ? config : {}) as Record<
    string,
    unknown
  >
  for (const [key, definition] of Object.entries(schema.properties ?? {})) {
    const node = asNode(definition)
    const control = controlOf(node)
    values[key] =
      control === 'group' ? formValuesOf(node, object[key]) : display(control, object[key])
  }
  return values
}

/** The schema's defaults, as a new instance's form starts. */
export function defaultsOf(schema: Node): Record<string, unknown> {
  const defaults: Record<string, unknown> = {}
  for (const [key, definition] of Object.entries(schema.properties ?? {})) {
    const node = asNode(definition)
    if (node.default !== undefined) defaults[key] = node.default
    else if (controlOf(node) === 'group') {
      const nested = defaultsOf(node)
      if (Object.keys(nested).length > 0) defaults[key] = nested
    }
  }
  return defaults
}

/**
 * The fields of the form, with the values to show and each field's error;
 * `errors` is keyed like `ConfigField.key`.
 */
export function describeConfigForm(
  schema: Node,
  values: FormValues,
  errors: Record<string, string>,
  prefix: string[] = []
): ConfigField[] {
  const required = new Set(schema.required ?? [])
  return Object.entries(schema.properties ?? {}).map(([key, definition]) => {
    const node = asNode(definition)
    const path = [...prefix, key]
    const control = controlOf(node)
    const raw = values[key]
    const fieldKey = path.join('.')
    const defaultValue = node.default === undefined ? null : display(control, node.default)
    return {
      key: fieldKey,
      name: `config[${path.join('][')}]`,
      label: key,
      control,
      required: required.has(key),
      description: node.description ?? null,
      min: node.minimum ?? null,
      max: node.maximum ?? null,
      integer: node.type === 'integer',
      maxLength: node.maxLength ?? null,
      options: (node.enum ?? []).map((option) => ({
        value: String(option),
        label: String(option),
      })),
      value: typeof raw === 'string' ? raw : '',
      defaultValue,
      error: errors[fieldKey] ?? null,
      fields:
        control === 'group'
          ? describeConfigForm(node, raw && typeof raw === 'object' ? raw : {}, errors, path)
          : [],
    }
  })
}

export interface ReadConfig {
  config: Record<string, unknown>
  /** Fields whose text could not be read (JSON that does not parse), by key. */
  errors: Record<string, string>
}

/**
 * The config a submitted form describes, typed as the schema says so that
 * the plugin's own schema judges it: numbers and booleans from their text,
 * an enum's option as the value it stands for, JSON parsed. Empty fields,
 * and groups left wholly empty, are left out.
 */
export function readConfigForm(
  schema: Node,
  body: unknown,
  invalidJson: (message: string) => string,
  prefix: string[] = []
): ReadConfig {
  const input = (typeof body === 'object' && body !== null ? body : {}) as Record<string, unknown>
  const config: Record<string, unknown> = {}
  let errors: Record<string, string> = {}
  for (const [key, definition] of Object.entries(schema.properties ?? {})) {
    const node = asNode(definition)
    const path = [...prefix, key]
    const control = controlOf(node)
    const raw = input[key]
    if (control === 'group') {
      const nested = readConfigForm(node, raw, invalidJson, path)
      errors = { ...errors, ...nested.errors }
      if (Object.keys(nested.config).length > 0) config[key] = nested.config
      continue
    }
    if (typeof raw !== 'string' || raw.trim() === '') continue
    const text = raw.trim()
    if (control === 'select') {
      config[key] = (node.enum ?? []).find((option) => String(option) === text) ?? text
    } else if (control === 'boolean') {
      config[key] = text === 'true' ? true : text === 'false' ? false : text
    } else if (control === 'number') {
      config[key] = Number.isFinite(Number(text)) ? Number(text) : text
    } else if (control === 'json') {
      try {
        config[key] = JSON.parse(text)
      } catch (error) {
        errors[path.join('.')] = invalidJson((error as Error).message)
      }
    } else {
      config[key] = raw
    }
  }
  return { config, errors }
}

/**
 * Each of the schema's issues under the form field it concerns: the field
 * itself, or the JSON field an issue inside it belongs to (`bus.serial`
 * goes to `bus`, said with the part it concerns). Issues no field takes
 * come back under ''.
 */
export function issuesByField(
  fields: ConfigField[],
  issues: { field: string; message: string }[]
): Record<string, string> {
  const keys: string[] = []
  const collect = (list: ConfigField[]) => {
    for (const field of list) {
      keys.push(field.key)
      collect(field.fields)
    }
  }
  collect(fields)
  const byField: Record<string, string> = {}
  for (const { field, message } of issues) {
    const owner = keys
      .filter((key) => field === key || field.startsWith(`${key}.`))
      .sort((a, b) => b.length - a.length)[0]
    const target = owner ?? ''
    const text = owner && owner !== field ? `${field.slice(owner.length + 1)}: ${message}` : message
    byField[target] = byField[target] ? `${byField[target]} ${text}` : text
  }
  return byField
}
