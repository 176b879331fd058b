/**
 * Doors driven by the server: what a device's gate, reader and light do
 * around an access decision (app/services/doors/door_service.ts).
 */
const doorsConfig = {
  /**
   * At a device asking for card and face, how long a card read waits for
   * the face decision it goes with.
   */
  cardWindowMs: 10_000,
}

export default doorsConfig
