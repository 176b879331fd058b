import { resolve } from 'node:path'
import { BaseCommand, flags } from '@adonisjs/core/ace'
import { Logger } from '@adonisjs/core/logger'
import type { CommandOptions } from '@adonisjs/core/types/ace'
import { AgentConfigError, readAgentConfig } from '#terminal-client/agent_config'
import { startTerminalAgent, type RunningAgent } from '#terminal-client/agent_runner'

/** The exit code that asks the service manager to start the agent again (an operator's restart). */
export const restartExitCode = 75

/**
 * The terminal agent: this app run on a terminal at a door. It pairs with
 * the site's server on its first run, then recognises faces from its
 * camera, through the server while it answers and from its synced
 * database otherwise, and drives its gate, reader, light and display.
 */
export default class TerminalRun extends BaseCommand {
  static commandName = 'terminal:run'
  static description =
    'Run the terminal agent (camera, recognition, gate, reader, light, display) until stopped'
  static options: CommandOptions = { startApp: false, staysAlive: true }

  @flags.string({
    description:
      'The agent configuration file (default: TERMINAL_CONFIG, else config/terminal_agent.json)',
  })
  declare config?: string

  async run() {
    const file = resolve(this.config ?? process.env.TERMINAL_CONFIG ?? 'config/terminal_agent.json')
    let config
    try {
      config = readAgentConfig(file)
    } catch (error) {
      if (!(error instanceof AgentConfigError)) throw error
      this.logger.error(error.message)
      this.exitCode = 1
      // A command that stays alive exits with its code only when it terminates the app.
      await this.terminate()
      return
    }

    const logger = new Logger({
      enabled: true,
      name: 'terminal-agent',
      level: process.env.LOG_LEVEL ?? 'info',
    })
    const stopping = new AbortController()
    let running: RunningAgent | null = null
    let exitCode = 0
    const shutdown = async (code: number) => {
      if (stopping.signal.aborted) return
      exitCode = code
      stopping.abort()
      await running?.stop()
      logger.info('terminal agent stopped')
      process.exit(exitCode)
    }
    process.once('SIGTERM', () => void shutdown(0))
    process.once('SIGINT', () => void shutdown(0))

    const { plugins } = await import('#generated/plugins')
    try {
      running = await startTerminalAgent(config, {
        logger,
        plugins,
        signal: stopping.signal,
        onRestart: () => void shutdown(restartExitCode),
      })
    } catch (error) {
      if (stopping.signal.aborted) return
      logger.error({ err: error }, 'the terminal agent could not start')
      process.exit(1)
    }
    logger.info(
      `terminal agent ${config.deviceName} (${config.serial}) running against ${config.serverUrl}` +
        (running?.kiosk ? `; display at ${running.kiosk.url}` : '')
    )
  }
}
