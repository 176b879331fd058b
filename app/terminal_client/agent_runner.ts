import { join, resolve } from 'node:path'
import type { Logger } from '@adonisjs/core/logger'
import { PluginHost } from '#plugin-host/plugin_host'
import { readInstancesFile } from '#plugin-host/instances_file'
import { supervisionPolicy } from '#plugin-host/supervision_policy'
import { FeatureComparator } from '#faces/feature_blob'
import { defaultMargin } from '#faces/open_set_identification'
import type { AgentConfig } from '#terminal-client/agent_config'
import { AgentOutbox } from '#terminal-client/agent_outbox'
import { openAgentDatabase, readSetting, writeSetting } from '#terminal-client/agent_store'
import { CameraSource } from '#terminal-client/camera/camera_source'
import { FacesApiClient, type DeviceIdentity } from '#terminal-client/faces_api_client'
import { HeartbeatClient } from '#terminal-client/heartbeat_client'
import { KioskBrowser } from '#terminal-client/kiosk/kiosk_browser'
import { KioskServer } from '#terminal-client/kiosk/kiosk_server'
import { FaceSync } from '#terminal-client/offline/face_sync'
import { OfflineDecider } from '#terminal-client/offline/offline_decider'
import { generatePairingKey, pairDevice, PairingError } from '#terminal-client/pairing_client'
import { FillLight } from '#terminal-client/recognition/fill_light'
import { PassageTracker } from '#terminal-client/recognition/passage_tracker'
import { TerminalAgent } from '#terminal-client/terminal_agent'
import type { DecodedImage } from '#plugin-sdk'

export type RunnerOptions = {
  logger: Logger
  /** The installed plugins (the generated registry's loaders). */
  plugins: ConstructorParameters<typeof PluginHost>[0]
  /** Called when an operator asks the agent to restart (the service manager starts it again). */
  onRestart?: () => void
  signal?: AbortSignal
  fetch?: typeof fetch
  /** The FPIR target when the server sends none (the server's default). */
  targetFpir?: number
}

export type RunningAgent = {
  agent: TerminalAgent
  kiosk: KioskServer | null
  outbox: AgentOutbox
  sync: FaceSync | null
  offline: OfflineDecider
  host: PluginHost
  stop(): Promise<void>
}

/**
 * The credential of this terminal: the one pairing stored, else a new
 * pairing (the code shown on the display and in the log until an
 * operator types it on the Devices page). A request that expired or was
 * refused is replaced by a new one; the key survives a restart, so an
 * agent restarted while waiting keeps its code.
 */
async function credentialOf(
  config: AgentConfig,
  databasePath: string,
  options: RunnerOptions,
  kiosk: KioskServer | null
) {
  const db = openAgentDatabase(databasePath)
  try {
    const stored = readSetting(db, 'credential')
    if (stored) return stored
    while (true) {
      let key = readSetting(db, 'pairing_key')
      if (!key) {
        key = generatePairingKey()
        writeSetting(db, 'pairing_key', key)
      }
      try {
        const credential = await pairDevice({
          serverUrl: config.serverUrl,
          deviceName: config.deviceName,
          serial: config.serial,
          pairingKey: key,
          signal: options.signal,
          fetch: options.fetch,
          onCode: (code) => {
            options.logger.info(
              `pairing code ${code}: approve ${config.serial} on the Devices page with it`
            )
            kiosk?.update({ connection: 'pairing', pairingCode: code })
          },
        })
        writeSetting(db, 'credential', credential)
        writeSetting(db, 'pairing_key', null)
        kiosk?.update({ connection: 'connecting', pairingCode: undefined })
        return credential
      } catch (error) {
        if (!(error instanceof PairingError) || error.reason === 'aborted') throw error
        options.logger.warn(`pairing ended (${error.reason}: ${error.message}); asking again`)
        writeSetting(db, 'pairing_key', null)
        if (error.reason === 'rejected') {
          await new Promise((done) => setTimeout(done, 30_000))
        }
      }
    }
  } finally {
    db.close()
  }
}

/**
 * Starts a terminal agent from its configuration: its display, its
 * credential (pairing on the first run), its plugins (engine, gate,
 * reader, light), the synced database, the outbox, the heartbeat and the
 * camera loop. `stop()` takes it all down in the reverse order.
 */
export async function startTerminalAgent(
  config: AgentConfig,
  options: RunnerOptions
): Promise<RunningAgent> {
  const { logger } = options
  const databasePath = join(config.dataDir, 'agent.sqlite3')
  const stops: (() => Promise<unknown> | unknown)[] = []
  const stopAll = async () => {
    for (const stop of stops.splice(0).reverse()) {
      try {
        await stop()
      } catch (error) {
        logger.warn({ err: error }, 'a part of the agent did not stop cleanly')
      }
    }
  }

  try {
    let kiosk: KioskServer | null = null
    if (config.kiosk.port > 0) {
      kiosk = new KioskServer({
        port: config.kiosk.port,
        language: config.kiosk.language,
        deviceName: config.deviceName,
        serial: config.serial,
      })
      await kiosk.start()
      stops.push(() => kiosk!.stop())
      const browser = new KioskBrowser({
        url: kiosk.url,
        display: config.kiosk.browser ? 'auto' : false,
        profileDir: join(config.dataDir, 'kiosk-browser'),
      })
      browser.start()
      stops.push(() => browser.stop())
    }

    const credential = await credentialOf(config, databasePath, options, kiosk)
    const device: DeviceIdentity = {
      deviceName: config.deviceName,
      serialNumber: config.serial,
      secret: credential,
    }

    const host = new PluginHost(
      options.plugins,
      {
        instances: readInstancesFile(config.pluginsFile, true),
        supervision: supervisionPolicy,
      },
      logger
    )
    await host.start()
    stops.push(() => host.stop())

    const outbox = new AgentOutbox({
      databasePath,
      serverUrl: config.serverUrl,
      device,
      snapshotBudgetBytes: config.snapshotBudgetBytes,
      fetch: options.fetch,
    })
    outbox.start()
    stops.push(() => outbox.close())

    const comparator = await FeatureComparator.fromManifest(resolve('models/manifest.json'))
    const offline = new OfflineDecider({
      db: outbox.db,
      comparator,
      policy: { targetFpir: options.targetFpir ?? 0.01, margin: defaultMargin },
    })

    let heartbeat: HeartbeatClient | null = null
    const sync =
      config.mode === 'online'
        ? null
        : new FaceSync({
            db: outbox.db,
            serverUrl: config.serverUrl,
            device,
            fetch: options.fetch,
            logger,
            onSynced: () => offline.reload(),
            onCommands: (commands) => heartbeat?.receive(commands),
          })

    const camera = new CameraSource(config.camera.source, {
      maxFps: config.camera.fps,
      maxSide: config.camera.maxSide,
      videoSize: config.camera.size,
      loop: config.camera.loop,
    })
    const agent = new TerminalAgent({
      config,
      device,
      host,
      camera,
      tracker: new PassageTracker<DecodedImage>({ liveness: config.liveness }),
      fillLight: new FillLight(),
      offline,
      sync,
      outbox,
      kiosk: kiosk ?? undefined,
      logger,
      fetch: options.fetch,
    })
    agent.on('restart', () => options.onRestart?.())
    agent.on('connection', (state) => {
      if (state === 'online') outbox.retryNow()
    })

    heartbeat = new HeartbeatClient({
      api: new FacesApiClient(config.serverUrl, device, { fetch: options.fetch }),
      deviceName: config.deviceName,
      serialNumber: config.serial,
      state: () => agent.heartbeat(),
      onCommands: async (commands) => {
        for (const command of commands) {
          const carriedOut = agent
            .command(command)
            .catch((error) => logger.error({ err: error, command }, 'a command failed'))
            .finally(() => heartbeat!.done(command.id))
          // An enrolment waits for a face for up to a minute: heartbeats and sync go on meanwhile.
          if (command.type !== 'enrol') await carriedOut
        }
      },
      intervalMs: config.heartbeatSeconds * 1000,
      onError: (error) => logger.debug({ err: error }, 'heartbeat not accepted'),
      onAnswered: () => outbox.retryNow(),
    })

    sync?.start()
    stops.push(() => sync?.stop())
    agent.start()
    stops.push(() => agent.stop())
    heartbeat.start()
    stops.push(() => heartbeat!.stop())

    return { agent, kiosk, outbox, sync, offline, host, stop: stopAll }
  } catch (error) {
    await stopAll()
    throw error
  }
}
