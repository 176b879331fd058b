import terminalConfig from '#config/terminal'
import { feedbackClockSkewSeconds } from '#services/terminal/terminal_feedback_service'
import type { ResultCode } from '#services/terminal/result_codes'
import type { TerminalEndpoint } from '#services/terminal/protocol'

/**
 * The terminal protocol as integrators read it: every endpoint, field,
 * answer and result code, with examples. /docs renders it and the OpenAPI
 * document is built from it; a test checks that every /faces/api route is
 * described here.
 */

export type FieldType = 'string' | 'integer' | 'number' | 'boolean' | 'file' | 'array' | 'object'

export type Field = {
  name: string
  type: FieldType
  required?: boolean
  description: string
  example?: unknown
  /** For arrays: the fields of each element. */
  items?: Field[]
}

export type EndpointReference = {
  name: TerminalEndpoint
  method: 'POST' | 'GET'
  path: string
  summary: string
  description: string
  /** Answered by the recognition engine: code 3 while none serves the call. */
  needsEngine: boolean
  fields: Field[]
  answer: Field[]
  codes: ResultCode[]
  example: { request: Record<string, unknown>; answer: Record<string, unknown> }
}

/** What each code means when this server answers it. */
export const codeMeanings: Partial<Record<ResultCode, string>> = {
  0: 'The call succeeded.',
  2: 'A field has the wrong type or shape (the message names it); the body is not a set of fields (invalid JSON, an array); base64 or a feature blob is malformed; a face box is empty; a faceData sent to regFace does not describe the picture; a signature header is malformed, or X-Device-Content-SHA256 is not the digest of the body that arrived.',
  3: 'No recognition engine serves this call on this server.',
  5: "regFace: the face is held for an operator's review (it does not match the person's enrolled faces, the person has none, it resembles another enrolled person, or the call renames them), or refused: no biometric consent is on record for the person and this device records none (its page sets the consent text version it shows), or a new username's face resembles an enrolled person. Nothing is enrolled until an operator acts.",
  7: 'The token is unknown, expired, already used or issued to another device (or to it under another proof): ask /faces/api/token for a new one. A signed call whose X-Device-Timestamp is too far from the server clock (the message gives the server time). For picture links: the link expired or was altered (HTTP 403).',
  8: 'Too many calls from this device, too many token requests from this address, or too many refused calls from this address; retry after the Retry-After header (HTTP 429).',
  12: 'No such endpoint (HTTP 404), or the picture a link names is gone.',
  9001: "The call does not prove it comes from an approved device: it is not signed with the device's credential (or the signature does not verify, or was used already), or it is an unsigned call from a device that is not in legacy mode or not at its pinned address. The answer is the same whether the name and serial number exist, so it tells a guesser nothing; a device never seen before is registered as pending by /faces/api/token. To a device that proved itself: it is blocked or waits for approval, or it lacks the permission the endpoint needs (the message names it).",
  9002: 'The request carries no fields at all, or used GET on a POST endpoint (HTTP 405, Allow: POST).',
  9004: 'A signed call whose deviceName or deviceSN (sn) names another device than the one that signed it.',
  9005: 'A required field is missing or empty, or a face box lacks some of its four edges; the message names them.',
  9006: 'The picture shows no face.',
  9007: "The server failed unexpectedly; its log has the details under the request id in the message (HTTP 500). Or the server's Redis, which holds tokens, nonces, rate counts and sync points, or its database (busy past its 5 s timeout, restarting or unreachable) is unavailable (HTTP 503, with Retry-After): the call was refused and wrote nothing, and succeeds when repeated (with a new token and nonce) once it is back; the message says which. A terminal in offline mode keeps recognising meanwhile and reports its results later.",
  9113: 'An uploaded file could not be read: the upload was cut short, or the image is damaged.',
  69640: 'The upload is not a JPEG, PNG, WebP, GIF, TIFF or HEIF image.',
  69642: `The upload is too large: more than ${terminalConfig.images.maxBytes} bytes, more than ${terminalConfig.images.maxPixels} pixels (read from the header, before decoding), or a request body past the server's limit.`,
  73731:
    'regFace: the picture shows several people (one person per enrolment photo), or the face is not good enough to enrol; the message says what to change (face the camera, more light, hold still, come closer).',
  73733:
    'The features come from different models and cannot be compared (each feature blob names its model), or from a model this server has no score calibration for.',
}

/**
 * How a device proves every call: the headers of a signed call, the string
 * it signs, and a shell example. Rendered on /docs and in the OpenAPI
 * document's security scheme.
 */
export const deviceAuthentication = {
  summary:
    "A device's name and serial number identify it; they are printed on its label and prove nothing. When an operator approves a device (Devices page, or `node ace device:approve <serial>`) the server shows its credential once, a secret like `fa1_…`; the terminal signs every call with it, the token request included, and tokens serve only calls signed by the device they were issued to. Firmware that cannot sign runs in legacy mode, which an operator turns on per device: its unsigned calls are accepted only from the address it is pinned to. Each device may call only the endpoint groups it is allowed: recognition (faceDetect … faceIdentify), database (getDbs), feedback (clinetFeedback, clinetWebResult) and enrolment (regFace, off unless allowed).",
  headers: [
    {
      name: 'X-Device-Serial',
      description:
        "The device's serial number (characters outside ASCII percent-encoded as UTF-8).",
      example: 'FT2024A00017',
    },
    {
      name: 'X-Device-Timestamp',
      description: `The time of the call in unix seconds; at most ${terminalConfig.auth.maxSkewSeconds} s from the server's clock.`,
      example: '1767225600',
    },
    {
      name: 'X-Device-Nonce',
      description:
        '16 to 64 letters, digits, "-" or "_", new for every call: a call is accepted once.',
      example: '9f1c0e7a5b3d2c4e6f8a1b3c5d7e9f0a',
    },
    {
      name: 'X-Device-Content-SHA256',
      description:
        'The SHA-256 of the request body exactly as sent (form, multipart or JSON), in hexadecimal; of the empty string when there is no body.',
      example: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    },
    {
      name: 'X-Device-Signature',
      description:
        'The HMAC-SHA256 of the string to sign, keyed with the credential (its characters as UTF-8 bytes), in lowercase hexadecimal.',
      example: '5d1f…',
    },
  ],
  stringToSign: [
    'FA1-HMAC-SHA256',
    'POST',
    '/faces/api/token',
    '<X-Device-Timestamp>',
    '<X-Device-Nonce>',
    '<X-Device-Serial, decoded>',
    '<X-Device-Content-SHA256>',
  ].join('\n'),
  shellExample: [
    "SECRET='fa1_…'  SN=FT2024A00017  SERVER=http://10.0.0.5:3333",
    'BODY="deviceName=Lobby%20east&sn=$SN"  PATH_=/faces/api/token',
    'TS=$(date +%s)  NONCE=$(openssl rand -hex 16)',
    "DIGEST=$(printf '%s' \"$BODY\" | openssl dgst -sha256 -r | cut -d' ' -f1)",
    'SIG=$(printf \'FA1-HMAC-SHA256\\nPOST\\n%s\\n%s\\n%s\\n%s\\n%s\' "$PATH_" "$TS" "$NONCE" "$SN" "$DIGEST" \\',
    '  | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d\' \' -f1)',
    'curl -s "$SERVER$PATH_" --data-binary "$BODY" \\',
    "  -H 'Content-Type: application/x-www-form-urlencoded' \\",
    '  -H "X-Device-Serial: $SN" -H "X-Device-Timestamp: $TS" -H "X-Device-Nonce: $NONCE" \\',
    '  -H "X-Device-Content-SHA256: $DIGEST" -H "X-Device-Signature: $SIG"',
  ].join('\n'),
}

const device = {
  deviceName: {
    name: 'deviceName',
    type: 'string',
    required: true,
    description:
      'The device name: letters, digits, spaces, ".", "_" and "-", at most 64 characters. Unique per site.',
    example: 'Lobby east',
  },
  sn: {
    name: 'sn',
    type: 'string',
    required: true,
    description: 'The serial number: letters, digits, ".", "_", ":", "/" and "-", at most 64.',
    example: 'FT2024A00017',
  },
  deviceSN: {
    name: 'deviceSN',
    type: 'string',
    required: true,
    description: 'The serial number, as sent to /faces/api/token in `sn`.',
    example: 'FT2024A00017',
  },
} satisfies Record<string, Field>

const token = (required: boolean): Field => ({
  name: 'token',
  type: 'string',
  required,
  description: required
    ? 'A token from /faces/api/token (40 hexadecimal characters). It serves one call.'
    : 'Optional: a token from /faces/api/token, checked and spent when sent.',
  example: '3f9c1e0a5b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e',
})

const image: Field = {
  name: 'image',
  type: 'file',
  required: true,
  description:
    'The picture: a multipart file part, or base64 text (a data URL too) in a form or JSON body.',
}

const box: Field[] = ['left', 'top', 'right', 'bottom'].map((side) => ({
  name: side,
  type: 'integer',
  description: `The face box's ${side} edge in pixels, as faceDetect gave it. Send all four edges or none; without a box the largest face is used.`,
  example: { left: 212, top: 96, right: 418, bottom: 330 }[side],
}))

const feature = (name: string, description: string): Field => ({
  name,
  type: 'string',
  required: true,
  description: `${description} A versioned feature blob, base64: it names the model that made it.`,
  example: 'RkFGVAEBEmZhY2VwbHVnaW4tYXJjZmFjZQAC8wQ1…',
})

/** The commands waiting for a terminal agent, in syncEvents and heartbeat answers. */
const agentCommands: Field = {
  name: 'commands',
  type: 'array',
  description:
    'Commands an operator gave the device on its page and it has not reported done, oldest first. A terminal agent carries out each `id` once, then lists it in the `commandsDone` of its next heartbeat; a command waits at most a few minutes (an open_door one minute), then is dropped. A new command answers a waiting call at once.',
  items: [
    { name: 'id', type: 'integer', description: 'The command, to report done.' },
    {
      name: 'type',
      type: 'string',
      description:
        '`open_door` (drive the door as for a granted passage), `sync_now` (fetch getDbs now) or `restart` (restart the agent).',
    },
    { name: 'issuedAt', type: 'string', description: 'When it was given, ISO 8601 (UTC).' },
  ],
}

/** Every POST endpoint may answer these: malformed fields or signature headers, a rate limit, no body, a missing field, a server fault. */
const commonFailures: ResultCode[] = [2, 8, 9002, 9005, 9007]
const imageFailures: ResultCode[] = [9006, 9113, 69640, 69642]

export const terminalEndpointReference: EndpointReference[] = [
  {
    name: 'token',
    method: 'POST',
    path: '/faces/api/token',
    summary: 'A token for the next call',
    description:
      'An approved device that proves itself (a signed call, or a legacy device at its pinned address) gets a token of 40 hexadecimal characters. It is valid for `expiresIn` seconds and, as the original documentation says, "every time you post to server need to get a new token": it serves one call, which must prove itself the same way. An unsigned call naming a device never seen before registers it as pending (at most a capped number per address and in all), and it appears on the Devices page for an operator to approve; every unproven call gets 9001. Requests are limited per address, and each device\'s calls per minute once it has proved itself.',
    needsEngine: false,
    fields: [device.deviceName, device.sn],
    answer: [
      { name: 'token', type: 'string', description: '40 hexadecimal characters.' },
      { name: 'expiresIn', type: 'integer', description: 'Seconds the token stays valid.' },
    ],
    codes: [0, 7, 9001, 9004, ...commonFailures],
    example: {
      request: { deviceName: 'Lobby east', sn: 'FT2024A00017' },
      answer: {
        token: '3f9c1e0a5b7d2c4e6f8a1b3c5d7e9f0a2b4c6d8e',
        expiresIn: terminalConfig.tokens.ttlSeconds,
      },
    },
  },
  {
    name: 'pair',
    method: 'POST',
    path: '/faces/api/pair',
    summary: 'Pair a terminal agent without typing its credential',
    description: `Beyond the original protocol: how a terminal that has no credential gets one. The terminal makes a random \`pairingKey\` (32 to 128 letters, digits, "-" or "_"), keeps it, and calls this endpoint unsigned. The server registers a device never seen before as pending (within the same caps on pending devices as /faces/api/token, and each new request counts against the address's budget of refused calls), keeps only the key's SHA-256, and answers \`state: "waiting"\` with a 6-digit \`pairingCode\` derived from the key, which the terminal shows on its screen. An operator types that code on the Devices page (or \`node ace device:approve <serial> --pairing-code=<code>\`): that request alone is approved, the device is approved with a new credential (one it had stops working), and every other request for the serial number is refused. Call again with the same fields every few seconds: the first answer after the approval carries \`state: "approved"\` and the \`credential\`, once; later calls answer \`delivered\` without it. A request waits ${terminalConfig.agent.pairingTtlSeconds / 60} minutes (\`expired\` after that; pair again with a new key), and at most ${terminalConfig.agent.pairingsPerDevice} wait for one serial number at a time (8 otherwise). Anyone can read a terminal's label, so several requests may name one serial number; each has its own code, and only the operator, reading the code on the terminal's screen, picks the right one. A blocked device is refused (9001), a device in legacy mode too (5, until an operator turns legacy mode off).`,
    needsEngine: false,
    fields: [
      device.deviceName,
      device.sn,
      {
        name: 'pairingKey',
        type: 'string',
        required: true,
        description:
          'The terminal\'s own random secret, 32 to 128 letters, digits, "-" or "_" (e.g. 32 random bytes in base64url). The same key polls the request; never reuse it for another request.',
        example: 'k6Jr0V2n4bQy8m1Zt5xWcE7hA3sLdP9uGfR2oNiK_Hw',
      },
    ],
    answer: [
      {
        name: 'state',
        type: 'string',
        description:
          '`waiting` (show the code, call again), `approved` (the credential is in this answer), `delivered` (it was in an earlier one), `refused` (an operator approved another request or refused this one) or `expired`.',
      },
      {
        name: 'pairingCode',
        type: 'string',
        description: 'Six digits to show on the terminal for the operator to type.',
      },
      {
        name: 'expiresIn',
        type: 'integer',
        description: 'While waiting: seconds left before the request expires.',
      },
      {
        name: 'credential',
        type: 'string',
        description:
          'Only with `approved`: the credential to sign every call with (see Device authentication). It is sent once.',
      },
    ],
    codes: [0, 5, 9001, 9004, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        sn: 'FT2024A00017',
        pairingKey: 'k6Jr0V2n4bQy8m1Zt5xWcE7hA3sLdP9uGfR2oNiK_Hw',
      },
      answer: { state: 'waiting', pairingCode: '482913', expiresIn: 897 },
    },
  },
  {
    name: 'faceDetect',
    method: 'POST',
    path: '/faces/api/faceDetect',
    summary: 'Find the faces in a picture',
    description:
      'Every face in the picture, largest first, with its box in pixels and its in-plane angle code: 1 = 0°, 2 = 90°, 3 = 270°, 4 = 180°, 5 = 30°, 6 = 60°, 7 = 120°, 8 = 150°, 9 = 210°, 10 = 240°, 11 = 300°, 12 = 330°.',
    needsEngine: true,
    fields: [token(true), image],
    answer: [
      { name: 'faces', type: 'integer', description: 'How many faces were found.' },
      {
        name: 'faceContent',
        type: 'array',
        description: 'One entry per face, largest first.',
        items: [
          { name: 'id', type: 'integer', description: 'The face number in this answer, from 0.' },
          { name: 'left', type: 'integer', description: 'Box, left edge.' },
          { name: 'top', type: 'integer', description: 'Box, top edge.' },
          { name: 'right', type: 'integer', description: 'Box, right edge.' },
          { name: 'bottom', type: 'integer', description: 'Box, bottom edge.' },
          { name: 'angle', type: 'integer', description: 'The angle code (1–12).' },
        ],
      },
    ],
    codes: [0, 3, 7, 9001, ...imageFailures, ...commonFailures],
    example: {
      request: { token: '3f9c…', image: '(file)' },
      answer: {
        faces: 1,
        faceContent: [{ id: 0, left: 212, top: 96, right: 418, bottom: 330, angle: 1 }],
      },
    },
  },
  {
    name: 'faceAge',
    method: 'POST',
    path: '/faces/api/faceAge',
    summary: 'Estimate the age of a face',
    description: 'The age in years of the face in the box, or of the largest face without one.',
    needsEngine: true,
    fields: [token(true), image, ...box],
    answer: [{ name: 'age', type: 'integer', description: 'Estimated age in years.' }],
    codes: [0, 3, 7, 9001, ...imageFailures, ...commonFailures],
    example: {
      request: { token: '3f9c…', image: '(file)', left: 212, top: 96, right: 418, bottom: 330 },
      answer: { age: 34 },
    },
  },
  {
    name: 'faceGender',
    method: 'POST',
    path: '/faces/api/faceGender',
    summary: 'Estimate the gender of a face',
    description:
      'The gender of the face in the box, or of the largest face: 0 male, 1 female, -1 when the model is not confident either way.',
    needsEngine: true,
    fields: [token(true), image, ...box],
    answer: [{ name: 'gender', type: 'integer', description: '0 male, 1 female, -1 unknown.' }],
    codes: [0, 3, 7, 9001, ...imageFailures, ...commonFailures],
    example: { request: { token: '3f9c…', image: '(file)' }, answer: { gender: 1 } },
  },
  {
    name: 'faceFeature',
    method: 'POST',
    path: '/faces/api/faceFeature',
    summary: 'The feature of a face',
    description:
      'The feature (face descriptor) of the face in the box, or of the largest face, as a versioned blob that names its model, for faceRecognize, getDbs comparisons on the terminal, or regFace.',
    needsEngine: true,
    fields: [token(true), image, ...box],
    answer: [
      { name: 'feature', type: 'string', description: 'The feature blob, base64.' },
      { name: 'featureSize', type: 'integer', description: 'Bytes in the decoded blob.' },
    ],
    codes: [0, 3, 7, 9001, ...imageFailures, ...commonFailures],
    example: {
      request: { token: '3f9c…', image: '(file)' },
      answer: { feature: 'RkFGVAEBDGFyY2ZhY2UtZGxpYoAC…', featureSize: 2581 },
    },
  },
  {
    name: 'faceRecognize',
    method: 'POST',
    path: '/faces/api/faceRecognize',
    summary: 'Compare two features',
    description:
      'The calibrated similarity of two features: 0.6 or more means the same person (the threshold terminals use, tied to a measured false-accept rate). Features of different models are refused with 73733 rather than compared.',
    needsEngine: true,
    fields: [
      token(true),
      feature('pending', 'The feature of the face to check.'),
      feature('original', 'The enrolled feature to compare it with.'),
    ],
    answer: [
      { name: 'score', type: 'number', description: 'From 0 to 1; 0.6 or more is a match.' },
    ],
    codes: [0, 3, 7, 9001, 73733, ...commonFailures],
    example: {
      request: { token: '3f9c…', pending: 'RkFGVAEB…', original: 'RkFGVAEB…' },
      answer: { score: 0.83 },
    },
  },
  {
    name: 'faceIdentify',
    method: 'POST',
    path: '/faces/api/faceIdentify',
    summary: 'Who is this, and may they pass? (online mode)',
    description:
      "Beyond the original protocol: the server recognises the largest face among everyone enrolled and decides as at the door (active and within validity dates, an access group that includes this device, its schedule and holidays, the card when the device asks for face and card). A search compares the face with every enrolled face, so the score that names someone (`threshold`) rises with their number, to keep the share of strangers taken for someone at the site's target (IDENTIFY_TARGET_FPIR, 1% unless set; a device may have its own): 0.6 up to a few faces, about 0.8 at 1,000, 0.9 at 10,000. The best person must also lead the next one (`runnerUpScore`) by IDENTIFY_MARGIN (0.03), so that of two people who look alike neither is named. Below either, the face is unknown; someone recognised but not allowed through is named in the answer and the event, with the reason. Every decision, granted or denied, is recorded as an access event with the picture as its snapshot, both scores and the threshold, and shown live on the Events page.",
    needsEngine: true,
    fields: [
      token(true),
      image,
      {
        name: 'cardNumber',
        type: 'string',
        description:
          'The card presented with the face, for devices that ask for face and card: its UID in hexadecimal (separators allowed) or its decimal number.',
        example: '04A1B2C3',
      },
    ],
    answer: [
      {
        name: 'person',
        type: 'object',
        description: 'The person recognised, or null.',
        items: [
          { name: 'username', type: 'string', description: 'The unique username.' },
          { name: 'name', type: 'string', description: 'The display name.' },
        ],
      },
      {
        name: 'score',
        type: 'number',
        description:
          'The calibrated score of the best match (a named person reaches `threshold`); null when nobody is enrolled.',
      },
      {
        name: 'runnerUpScore',
        type: 'number',
        description: "The best score of anyone else than the best match's person, or null.",
      },
      {
        name: 'threshold',
        type: 'number',
        description: 'The score that names someone at the current number of enrolled faces.',
      },
      { name: 'decision', type: 'string', description: '"granted" or "denied".' },
      {
        name: 'reason',
        type: 'string',
        description:
          'granted, unknown_face, not_authorized (also a missing or wrong card), outside_schedule, suspended or expired.',
      },
      { name: 'eventId', type: 'integer', description: 'The access event recorded.' },
    ],
    codes: [0, 3, 7, 9001, 73733, ...imageFailures, ...commonFailures],
    example: {
      request: { token: '3f9c…', image: '(file)' },
      answer: {
        person: { username: 'ada', name: 'Ada Lovelace' },
        score: 0.91,
        runnerUpScore: 0.42,
        threshold: 0.7998,
        decision: 'granted',
        reason: 'granted',
        eventId: 4812,
      },
    },
  },
  {
    name: 'getDbs',
    method: 'POST',
    path: '/faces/api/getDbs',
    summary: 'The faces this device may admit',
    description:
      "Every active person within their validity dates who shares an access group with the device, one entry per enrolled face (a person with two faces appears twice). `faceData` is the feature blob and `picUrl` a signed link to the enrolment photo, valid without a session for a limited time. With `since` (the `revision` of an earlier answer) only what changed is sent: replace every entry of the usernames in `names` and drop those in `removed`; `full` says whether the answer is everything instead (after a change of the device's own grants, or a `since` it was not last sent). Large answers are gzip- or brotli-compressed for clients that send Accept-Encoding. A terminal deciding offline also gets, for the people sent, their validity dates and access groups (`people`), the device's groups with their schedules (`groups`), the factors the device requires and the site's time zone: it admits a person who is within their dates, through a group whose schedule allows the time (no schedule: always; holidays: never), with the required factors. Older terminals ignore these fields.",
    needsEngine: false,
    fields: [
      device.deviceName,
      device.deviceSN,
      token(true),
      {
        name: 'since',
        type: 'integer',
        description: 'The `revision` of the last answer the device stored.',
        example: 1288,
      },
    ],
    answer: [
      {
        name: 'names',
        type: 'array',
        description: 'One entry per face.',
        items: [
          { name: 'name', type: 'string', description: 'The display name (faceName).' },
          { name: 'username', type: 'string', description: 'The unique username.' },
          { name: 'faceData', type: 'string', description: 'The feature blob, base64.' },
          {
            name: 'picUrl',
            type: 'string',
            description: 'Signed link to the enrolment photo; empty when none is stored.',
          },
        ],
      },
      {
        name: 'removed',
        type: 'array',
        description: 'With since: usernames to delete. Empty in full answers.',
      },
      { name: 'revision', type: 'integer', description: 'Send it as `since` next time.' },
      { name: 'full', type: 'boolean', description: 'Whether this answer is everything.' },
      {
        name: 'people',
        type: 'array',
        description:
          'For offline decisions: one entry per person in `names`. A person may pass while active (people who are not are never sent) and within their validity dates, through one of their groups whose schedule allows the time.',
        items: [
          { name: 'username', type: 'string', description: 'The username, as in `names`.' },
          {
            name: 'validFrom',
            type: 'string',
            description: 'ISO 8601 time from which the person may pass; null when unbounded.',
          },
          {
            name: 'validUntil',
            type: 'string',
            description: 'ISO 8601 time until which the person may pass; null when unbounded.',
          },
          {
            name: 'groups',
            type: 'array',
            description:
              'Ids of the access groups in `groups` through which they may pass this device.',
          },
          {
            name: 'cardNumber',
            type: 'string',
            description:
              'The card UID (uppercase hexadecimal) to match, only for devices that require a card (`card`, `face_card`); null when the person has none.',
          },
        ],
      },
      {
        name: 'groups',
        type: 'array',
        description: 'The access groups that grant this device, in every answer.',
        items: [
          { name: 'id', type: 'integer', description: 'The group id people refer to.' },
          { name: 'name', type: 'string', description: 'The group name.' },
          {
            name: 'schedule',
            type: 'object',
            description:
              'Null when the group applies at all times; else `{id, name, windows, holidays}`: weekly `windows` of `{weekday (1 Monday … 7 Sunday), startsAtMinute, endsAtMinute}` (minutes since midnight, end exclusive) and `holidays`, days (YYYY-MM-DD) on which no window applies, all in `timeZone`.',
          },
        ],
      },
      {
        name: 'requiredFactors',
        type: 'string',
        description:
          'What the device asks for: `face`, `card` (the card alone) or `face_card` (the face and its card).',
      },
      {
        name: 'timeZone',
        type: 'string',
        description: "The site's IANA time zone, in which schedules and holidays apply.",
      },
      {
        name: 'targetFpir',
        type: 'number',
        description:
          "The false-positive identification rate faceIdentify holds to at this device (the device's own target, else the site's): a terminal deciding offline derives its threshold from it and the number of faces it holds.",
      },
      {
        name: 'margin',
        type: 'number',
        description: "How far the best person's score must lead the next person's to be named.",
      },
    ],
    codes: [0, 7, 9001, 9004, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        deviceSN: 'FT2024A00017',
        token: '3f9c…',
        since: 1288,
      },
      answer: {
        names: [
          {
            name: 'Ada Lovelace',
            username: 'ada',
            faceData: 'RkFGVAEBEmZhY2VwbHVnaW4tYXJjZmFjZQAC8wQ1…',
            picUrl: 'http://10.0.0.5:3333/faces/api/pictures/17?signature=…',
          },
        ],
        removed: ['former.employee'],
        revision: 1301,
        full: false,
        people: [
          {
            username: 'ada',
            validFrom: null,
            validUntil: '2027-06-30T23:59:59.000+08:00',
            groups: [3],
          },
        ],
        groups: [
          {
            id: 3,
            name: 'Office hours',
            schedule: {
              id: 1,
              name: 'Weekdays',
              windows: [{ weekday: 1, startsAtMinute: 480, endsAtMinute: 1140 }],
              holidays: ['2027-01-01'],
            },
          },
        ],
        requiredFactors: 'face',
        timeZone: 'Asia/Shanghai',
      },
    },
  },
  {
    name: 'syncEvents',
    method: 'POST',
    path: '/faces/api/syncEvents',
    summary: 'Wait until the face database changes for this device',
    description: `A long poll, so that a terminal learns of changes without fetching its database again and again. The terminal sends the \`revision\` of its last getDbs answer (0 when it holds none), which also records that it holds that revision (the Devices page shows it). When changes that concern this device are waiting (a person of one of its access groups added, changed, suspended or removed, a face added or removed, its own grants changed, or anyone deleted or erased), the answer comes at once with \`changed: true\`: then call getDbs with \`since\` set to the revision it holds, and call syncEvents again with the new revision. Otherwise the call waits up to ${terminalConfig.sync.waitSeconds} s (DEVICE_SYNC_WAIT_SECONDS) for such a change and answers \`changed: false\` if none came; call again at once. Changes for other devices do not wake it. A command an operator gave the device on its page (see heartbeat) that was not sent yet answers at once too, with \`changed: false\` unless changes wait as well; every answer lists the commands not reported done. Keep the HTTP read timeout above the wait. While the server's Redis is unavailable the call is answered 9007 at once (HTTP 503, Retry-After), also when Redis goes away during the wait.`,
    needsEngine: false,
    fields: [
      device.deviceName,
      device.deviceSN,
      token(true),
      {
        name: 'revision',
        type: 'integer',
        required: true,
        description:
          "The `revision` of the last getDbs answer the device stored, 0 when it holds none. At most the server's current revision.",
        example: 1301,
      },
    ],
    answer: [
      {
        name: 'changed',
        type: 'boolean',
        description: 'Whether changes for this device are waiting: then call getDbs with `since`.',
      },
      {
        name: 'revision',
        type: 'integer',
        description:
          'The newest revision of the face database. Keep sending the revision of the last getDbs answer, not this one.',
      },
      {
        name: 'pending',
        type: 'integer',
        description: 'How many people the device would receive or drop; 0 with no change.',
      },
      agentCommands,
    ],
    codes: [0, 7, 9001, 9004, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        deviceSN: 'FT2024A00017',
        token: '3f9c…',
        revision: 1301,
      },
      answer: { changed: true, revision: 1304, pending: 2, commands: [] },
    },
  },
  {
    name: 'regFace',
    method: 'POST',
    path: '/faces/api/regFace',
    summary: 'Enrol a face from the terminal',
    description:
      "Needs the device's enrolment permission (off unless an operator allows it). Creates the person by `username` (unique) and enrols the face of `picBase64`; such a new person joins no access group until an operator approves them. For an existing person, the face is added only when it matches their enrolled faces at the 1:1 threshold and `faceName` is their name: a face that does not match, a person with no face yet, or a new name is held for an operator's review and answered 5, with nothing enrolled. The server computes the feature itself; a `faceData` sent along is checked against the picture and its model (2 or 73733 when it does not match) and never stored. Sending the same photo again adds nothing (and holds it once).",
    needsEngine: true,
    fields: [
      device.deviceName,
      device.deviceSN,
      token(false),
      {
        name: 'username',
        type: 'string',
        required: true,
        description: 'Unique: letters, digits, ".", "_", "@" and "-", at most 64.',
        example: 'ada',
      },
      {
        name: 'faceName',
        type: 'string',
        required: true,
        description: 'The display name, at most 120 characters.',
        example: 'Ada Lovelace',
      },
      {
        name: 'picBase64',
        type: 'string',
        required: true,
        description: 'The enrolment photo, base64 (a data URL too).',
        example: '/9j/4AAQSkZJRgABAQ…',
      },
      {
        name: 'faceData',
        type: 'string',
        description: "The terminal's own feature of the photo, checked, not trusted.",
      },
    ],
    answer: [
      { name: 'username', type: 'string', description: 'The person enrolled.' },
      { name: 'faceId', type: 'integer', description: 'The face stored (or found).' },
      {
        name: 'created',
        type: 'boolean',
        description: 'False when the photo was already enrolled.',
      },
    ],
    codes: [0, 3, 5, 7, 9001, 9004, 73733, ...imageFailures, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        deviceSN: 'FT2024A00017',
        username: 'ada',
        faceName: 'Ada Lovelace',
        picBase64: '/9j/4AAQSkZJRgABAQ…',
      },
      answer: { username: 'ada', faceId: 17, created: true },
    },
  },
  {
    name: 'clinetFeedback',
    method: 'POST',
    path: '/faces/api/clinetFeedback',
    summary: 'Report whom the terminal recognised',
    description:
      "Records an access event at this device for the person named (by `username` when sent, else by a unique `faceName`) and pushes it to the open Events pages. The decision recorded is the server's own for that person, device and time, so a terminal with a stale face database shows up as a denial with its reason. The spelling is the original's.",
    needsEngine: false,
    fields: [
      device.deviceName,
      device.deviceSN,
      token(false),
      {
        name: 'faceName',
        type: 'string',
        required: true,
        description: 'The name the terminal recognised.',
        example: 'Ada Lovelace',
      },
      {
        name: 'username',
        type: 'string',
        description: 'The username, when the terminal has it.',
        example: 'ada',
      },
      {
        name: 'time',
        type: 'integer',
        description: `When the person passed, in unix seconds: a report sent late (after the network came back) keeps it. Before 2000 (an unset clock) the time of arrival is used; more than ${feedbackClockSkewSeconds} s ahead of the server's clock is refused with 2.`,
        example: 1767225600,
      },
      {
        name: 'score',
        type: 'number',
        description: "The terminal's match score, 0 to 1.",
        example: 0.87,
      },
      {
        name: 'eventId',
        type: 'string',
        description:
          "The terminal's own id for this report (up to 64 letters, digits, '_', '.', ':' or '-'): a report retried with the same id is recorded once per device, and the retry is answered with the event recorded the first time (message \"already recorded\").",
        example: 'FT2024A00017-000123',
      },
      {
        name: 'refusal',
        type: 'string',
        description:
          'The terminal refused the passage itself: "spoof" when the face did not prove it was live (no blink or head turn in front of a terminal that asks for one). Recorded as denied with that reason whoever the face looked like.',
        example: 'spoof',
      },
      { ...image, required: false, description: 'A snapshot, as a file part or base64 text.' },
    ],
    answer: [
      { name: 'eventId', type: 'integer', description: 'The access event recorded.' },
      { name: 'decision', type: 'string', description: '"granted" or "denied".' },
      { name: 'reason', type: 'string', description: 'Why, as in faceIdentify.' },
    ],
    codes: [0, 7, 9001, 9004, 9113, 69640, 69642, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        deviceSN: 'FT2024A00017',
        faceName: 'Ada Lovelace',
        time: 1767225600,
        eventId: 'FT2024A00017-000123',
      },
      answer: { eventId: 4812, decision: 'granted', reason: 'granted' },
    },
  },
  {
    name: 'clinetWebResult',
    method: 'POST',
    path: '/faces/api/clinetWebResult',
    summary: 'The latest result at this device',
    description:
      'The newest access event of the device: the name, and the time in unix seconds. Before the first one, an empty name and time 0.',
    needsEngine: false,
    fields: [device.deviceName, device.deviceSN, token(false)],
    answer: [
      { name: 'faceName', type: 'string', description: "The person's name, or the name reported." },
      { name: 'time', type: 'integer', description: 'Unix seconds.' },
      { name: 'username', type: 'string', description: 'Empty when nobody was recognised.' },
      { name: 'decision', type: 'string', description: '"granted" or "denied".' },
      { name: 'reason', type: 'string', description: 'Why.' },
      { name: 'score', type: 'number', description: 'The match score, or null.' },
    ],
    codes: [0, 7, 9001, 9004, ...commonFailures],
    example: {
      request: { deviceName: 'Lobby east', deviceSN: 'FT2024A00017' },
      answer: {
        faceName: 'Ada Lovelace',
        time: 1767225600,
        username: 'ada',
        decision: 'granted',
        reason: 'granted',
        score: 0.87,
      },
    },
  },
  {
    name: 'heartbeat',
    method: 'POST',
    path: '/faces/api/heartbeat',
    summary: "A terminal agent's state, and the commands waiting for it",
    description: `Beyond the original protocol: a terminal agent reports its state every few seconds, signed like every call; any approved device may. The Devices page shows the latest: recognition mode, decisions waiting to be sent and the age of the oldest (flagged past ${terminalConfig.agent.backlogAlertMinutes} minutes), the face-database revision held, the health of camera, gate, reader and light, and when it arrived. \`state\` is a JSON object (in a JSON body) or its JSON text (in a form field); every field is checked and a wrong one is answered 2, naming it (\`state.backlog: …\`); fields beyond these are ignored. The answer lists the commands waiting for the device, as syncEvents does; list those carried out in the next heartbeat's \`commandsDone\` and they are not sent again.`,
    needsEngine: false,
    fields: [
      device.deviceName,
      device.deviceSN,
      token(false),
      {
        name: 'state',
        type: 'object',
        required: true,
        description:
          '`{mode, backlog, oldestUnsentAgeMs, revision, camera, gate, reader, light, commandsDone, version}`: `mode` "online" (the server decides) or "offline" (the terminal does); `backlog` decisions stored and not yet accepted by the server; `oldestUnsentAgeMs` the age of the oldest of them in milliseconds, null when none; `shedSnapshots` (optional) snapshots the terminal deleted, oldest first, to stay within its disk budget (their events kept); `revision` the face-database revision held; `camera`, `gate`, `reader` and `light` each `{state: "ok" | "fault" | "absent", detail?}` (detail at most 200 characters); `commandsDone` the ids of commands carried out since the last heartbeat; `version` the agent\'s version.',
        items: [
          { name: 'mode', type: 'string', required: true, description: '"online" or "offline".' },
          {
            name: 'backlog',
            type: 'integer',
            required: true,
            description: 'Decisions not yet sent.',
          },
          {
            name: 'oldestUnsentAgeMs',
            type: 'integer',
            required: true,
            description: 'Milliseconds; null when nothing waits.',
          },
          { name: 'revision', type: 'integer', required: true, description: 'Revision held.' },
          ...['camera', 'gate', 'reader', 'light'].map((part): Field => ({
            name: part,
            type: 'object',
            required: true,
            description: `The ${part}: {state: "ok" | "fault" | "absent", detail?}.`,
          })),
          {
            name: 'commandsDone',
            type: 'array',
            required: true,
            description: 'Ids of the commands carried out since the last heartbeat.',
          },
          { name: 'version', type: 'string', required: true, description: "The agent's version." },
        ],
        example: {
          mode: 'online',
          backlog: 0,
          oldestUnsentAgeMs: null,
          revision: 1304,
          camera: { state: 'ok' },
          gate: { state: 'ok' },
          reader: { state: 'absent' },
          light: { state: 'ok' },
          commandsDone: [41],
          version: '0.1.0',
        },
      },
    ],
    answer: [
      agentCommands,
      { name: 'serverTime', type: 'integer', description: "The server's clock, unix seconds." },
    ],
    codes: [0, 7, 9001, 9004, ...commonFailures],
    example: {
      request: {
        deviceName: 'Lobby east',
        deviceSN: 'FT2024A00017',
        state: '{"mode":"online","backlog":0,"oldestUnsentAgeMs":null,"revision":1304,…}',
      },
      answer: {
        commands: [{ id: 42, type: 'open_door', issuedAt: '2026-12-05T06:30:00.000Z' }],
        serverTime: 1796452200,
      },
    },
  },
  {
    name: 'pictures',
    method: 'GET',
    path: '/faces/api/pictures/{id}',
    summary: 'An enrolment photo (the picUrl of getDbs)',
    description:
      'The photo behind a `picUrl`, downloadable without a session while the link is valid. An expired or altered link is refused with 7 (HTTP 403), a face without a stored photo with 12 (HTTP 404), both as JSON.',
    needsEngine: false,
    fields: [
      { name: 'id', type: 'integer', required: true, description: 'The face id (path).' },
      {
        name: 'signature',
        type: 'string',
        required: true,
        description: "The link's signature (query string), as getDbs made it.",
      },
    ],
    answer: [],
    codes: [7, 12, 9007],
    example: { request: {}, answer: {} },
  },
]

/** A curl command for an endpoint's example request, as the docs page shows it. */
export function curlExample(endpoint: EndpointReference, origin = 'http://SERVER:3333') {
  if (endpoint.method === 'GET') return `curl -o face.jpg '<picUrl from getDbs>'`
  const fileFields = new Set(
    endpoint.fields.filter((field) => field.type === 'file').map((field) => field.name)
  )
  const parts = Object.entries(endpoint.example.request).map(([name, value]) =>
    fileFields.has(name) ? `-F ${name}=@face.jpg` : `-F '${name}=${String(value)}'`
  )
  const formOnly = fileFields.size === 0
  const fields = formOnly ? parts.map((part) => part.replace(/^-F/, '--data-urlencode')) : parts
  return [`curl -X POST ${origin}${endpoint.path}`, ...fields].join(' \\\n  ')
}

const escapes: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' }

/** A description as HTML: escaped, with its `code spans` (Markdown, as in OpenAPI) as <code>. */
export function descriptionHtml(text: string) {
  return text
    .replace(/[&<>"]/g, (character) => escapes[character])
    .split('`')
    .map((part, index) => (index % 2 === 1 ? `<code>${part}</code>` : part))
    .join('')
}
