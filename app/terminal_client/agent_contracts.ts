/**
 * What the parts of the terminal agent tell each other: the runtime, the
 * passage tracker, the offline database, the kiosk display and the
 * server's heartbeat and command channel.
 */

/** What the display asks the person at the door to do. */
export type Guidance =
  | 'come_closer'
  | 'step_back'
  | 'look_at_camera'
  | 'hold_still'
  | 'too_dark'
  | 'blink'
  | 'turn_head'
  | 'present_card'
  | 'one_at_a_time'

/** How the agent is connected to its server. */
export type ConnectionState = 'pairing' | 'connecting' | 'online' | 'offline'

/** Why a passage was decided so, in the server's event vocabulary. */
export type PassageReason =
  | 'granted'
  | 'unknown_face'
  | 'not_authorized'
  | 'outside_schedule'
  | 'suspended'
  | 'expired'
  | 'spoof'
  | 'unknown_card'

/** One decision at the door, as the display shows it. */
export type PassageResult = {
  decision: 'granted' | 'denied'
  reason: PassageReason
  /** The person's name; absent for a stranger. */
  name?: string
  /** URL of the person's photo on the kiosk server, when the agent holds one. */
  photoUrl?: string
  /** Unix milliseconds. */
  at: number
  /** Where it was decided. */
  decidedBy: 'server' | 'terminal'
}

/** Everything the kiosk page shows, pushed to it on every change. */
export type KioskState = {
  deviceName: string
  serial: string
  connection: ConnectionState
  /** The code to compare with the one the Devices page shows, while pairing. */
  pairingCode?: string
  /** The language the site chose for the display; the page can switch. */
  language: 'en' | 'zh'
  guidance?: Guidance
  /** The face being followed, in the frame's pixels. */
  face?: { left: number; top: number; right: number; bottom: number }
  frameSize?: { width: number; height: number }
  /** The latest decision, shown until the next passage starts. */
  result?: PassageResult
  /** Decisions stored and not yet accepted by the server. */
  backlog: number
  /** Enrolling a person on an operator's command; `outcome` once the attempt is over. */
  enrolment?: { name: string; outcome?: EnrolmentOutcome }
}

/** How an enrolment at the terminal ended, as the display says it. */
export type EnrolmentOutcome =
  | 'enrolled'
  | 'held_for_review'
  | 'unusable_face'
  | 'no_face'
  | 'refused'
  | 'no_consent'
  | 'not_allowed'
  | 'not_live'
  | 'unreachable'
  | 'timed_out'

/** A command an operator gave a terminal on its Devices page. */
export type AgentCommand = {
  id: number
  type: 'open_door' | 'sync_now' | 'restart' | 'enrol'
  issuedAt: string
  /** The person to enrol, for `enrol`. */
  username?: string
  name?: string
}

/** Health of one part of the terminal, as its heartbeat reports it. */
export type PartHealth = { state: 'ok' | 'fault' | 'absent'; detail?: string }

/** The state a terminal reports to its server on every heartbeat. */
export type AgentHeartbeat = {
  mode: 'online' | 'offline'
  backlog: number
  oldestUnsentAgeMs: number | null
  /** Snapshots deleted, oldest first, to keep within the disk budget (their events kept); absent from older agents. */
  shedSnapshots?: number
  /** The face-database revision the terminal holds. */
  revision: number
  camera: PartHealth
  gate: PartHealth
  reader: PartHealth
  light: PartHealth
  /** Commands carried out since the last heartbeat. */
  commandsDone: number[]
  version: string
}
