/**
 * Errors plugins throw and the host raises. `code` is stable so that the
 * Settings page, the health report and callers can tell them apart.
 */
export class PluginError extends Error {
  constructor(
    message: string,
    readonly code = 'E_PLUGIN',
    options?: ErrorOptions
  ) {
    super(message, options)
    this.name = new.target.name
  }
}

export interface ConfigIssue {
  field: string
  message: string
}

export class PluginConfigError extends PluginError {
  constructor(
    readonly pluginId: string,
    readonly issues: ConfigIssue[]
  ) {
    const summary = issues.map((issue) => `${issue.field}: ${issue.message}`).join('; ')
    super(`Invalid config for plugin "${pluginId}": ${summary}`, 'E_PLUGIN_CONFIG')
  }
}

/**
 * A command the driver cannot carry out as given (a level above 100, an
 * unknown colour). The instance itself is fine.
 */
export class PluginCommandError extends PluginError {
  constructor(message: string) {
    super(message, 'E_PLUGIN_COMMAND')
  }
}

export class PluginTimeoutError extends PluginError {
  constructor(
    readonly operation: string,
    readonly timeoutMs: number
  ) {
    super(`${operation} did not finish within ${timeoutMs} ms`, 'E_PLUGIN_TIMEOUT')
  }
}

/**
 * A call reached an instance that is not running (stopped, degraded,
 * waiting for an operator, misconfigured or disabled).
 */
export class PluginUnavailableError extends PluginError {
  constructor(
    readonly instanceId: string,
    readonly state: string
  ) {
    super(`Plugin instance "${instanceId}" is not running (${state})`, 'E_PLUGIN_UNAVAILABLE')
  }
}
