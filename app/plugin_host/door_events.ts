/**
 * What a driver reports of the door it watches, through its context's
 * `report()`: the door opened with no opening granted (`door_forced`),
 * left open too long (`door_held_open`), the exit button pressed
 * (`exit_button`), the gate's board or bus silent (`gate_fault`). The app
 * records each as an event of the device whose setting names the
 * instance, on the Events page with the access decisions.
 */
export const doorEventTypes = [
  'door_forced',
  'door_held_open',
  'exit_button',
  'gate_fault',
] as const
export type DoorEventType = (typeof doorEventTypes)[number]

export interface DoorEvent {
  type: DoorEventType
  at: Date
  /** What happened, for the log and the event: "Unit 1 on /dev/ttyUSB0 did not answer…". */
  message?: string
}
