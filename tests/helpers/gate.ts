import app from '@adonisjs/core/services/app'
import logger from '@adonisjs/core/services/logger'
import pluginsConfig from '#config/plugins'
import { PluginHost } from '#plugin-host/plugin_host'
import LogGateSimulator from '#plugins/log_gate/simulator'
import { AccessDecisionService } from '#services/access_decision_service'
import { AccessEventRecorder } from '#services/access_event_recorder'
import { DoorService } from '#services/doors/door_service'

/**
 * A plugin host with one gate, the log gate at its simulator's file, in the
 * container's place until `cleanup` runs (with a door service over it): a
 * door that records each opening.
 */
export async function useSimulatedGate(
  cleanup: (handler: () => Promise<void>) => void,
  gateId = 'front-door'
) {
  const simulator = new LogGateSimulator()
  const config = await simulator.start()
  const host = new PluginHost(
    { log_gate: () => import('#plugins/log_gate/plugin') },
    {
      ...pluginsConfig,
      instances: {
        file: 'simulated-gate.json',
        entries: [{ id: gateId, plugin: 'log-gate', config }],
        error: null,
      },
    },
    logger
  )
  await host.start()
  const recorder = await app.container.make(AccessEventRecorder)
  const doors = new DoorService(host, new AccessDecisionService(), recorder, logger)
  app.container.swap(PluginHost, () => host)
  app.container.swap(DoorService, () => doors)
  cleanup(async () => {
    app.container.restore(PluginHost)
    app.container.restore(DoorService)
    doors.stop()
    await host.stop()
    await simulator.stop()
  })
  return { simulator, host }
}
