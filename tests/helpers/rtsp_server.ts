import { spawn, type ChildProcess } from 'node:child_process'
import { createSocket } from 'node:dgram'
import { readFileSync, existsSync } from 'node:fs'
import { createServer, type Socket } from 'node:net'
import type { AddressInfo } from 'node:net'

/**
 * A camera's RTSP server for tests, as far as ffmpeg's client needs one:
 * Debian's ffmpeg publishes a clip as RTP over UDP to this process, which
 * answers OPTIONS, DESCRIBE (ffmpeg's own SDP), SETUP (TCP interleaved)
 * and PLAY, then relays each RTP packet to the players. `dropClients()`
 * cuts the players off, as a camera rebooting does.
 */
export async function startRtspServer(clip: string, sdpFile: string) {
  const udp = createSocket('udp4')
  await new Promise<void>((resolve) => udp.bind(0, '127.0.0.1', resolve))
  const rtpPort = (udp.address() as AddressInfo).port
  const publisher: ChildProcess = spawn(
    '/usr/bin/ffmpeg',
    [
      '-v',
      'error',
      '-re',
      '-stream_loop',
      '-1',
      '-i',
      clip,
      '-an',
      '-c:v',
      'copy',
      '-f',
      'rtp',
      '-sdp_file',
      sdpFile,
      `rtp://127.0.0.1:${rtpPort}`,
    ],
    { stdio: 'ignore' }
  )
  const players = new Set<Socket>()
  udp.on('message', (packet) => {
    const header = Buffer.from([0x24, 0, packet.length >> 8, packet.length & 255])
    for (const player of players) player.write(Buffer.concat([header, packet]))
  })
  const until = Date.now() + 10_000
  while (!existsSync(sdpFile) && Date.now() < until)
    await new Promise((resolve) => setTimeout(resolve, 50))
  const sdp =
    readFileSync(sdpFile, 'utf8')
      .replace(/^c=IN IP4 .*$/m, 'c=IN IP4 0.0.0.0')
      .trimEnd() + '\r\na=control:track0\r\n'

  const sockets = new Set<Socket>()
  const server = createServer((socket) => {
    sockets.add(socket)
    socket.on('close', () => {
      sockets.delete(socket)
      players.delete(socket)
    })
    socket.on('error', () => socket.destroy())
    let pending = ''
    socket.setEncoding('latin1')
    socket.on('data', (text: string) => {
      pending += text
      let end: number
      while ((end = pending.indexOf('\r\n\r\n')) >= 0) {
        const request = pending.slice(0, end)
        pending = pending.slice(end + 4)
        const [line, ...headers] = request.split('\r\n')
        const [method, url] = line.split(' ')
        const cseq =
          headers
            .find((header) => /^cseq:/i.test(header))
            ?.split(':')[1]
            .trim() ?? '0'
        const reply = (extra: string[], body = '') =>
          socket.write(
            [
              'RTSP/1.0 200 OK',
              `CSeq: ${cseq}`,
              ...extra,
              `Content-Length: ${Buffer.byteLength(body)}`,
              '',
              body,
            ].join('\r\n')
          )
        if (method === 'OPTIONS') reply(['Public: OPTIONS, DESCRIBE, SETUP, PLAY, TEARDOWN'])
        else if (method === 'DESCRIBE')
          reply([`Content-Base: ${url}/`, 'Content-Type: application/sdp'], sdp)
        else if (method === 'SETUP')
          reply(['Transport: RTP/AVP/TCP;unicast;interleaved=0-1', 'Session: 1'])
        else if (method === 'PLAY') {
          reply(['Session: 1'])
          players.add(socket)
        } else reply(['Session: 1'])
      }
    })
  })
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as AddressInfo).port
  return {
    url: `rtsp://viewer:secret@127.0.0.1:${port}/cam`,
    /** Players connected now. */
    players: () => players.size,
    dropClients() {
      for (const socket of sockets) socket.destroy()
    },
    async close() {
      for (const socket of sockets) socket.destroy()
      await new Promise((resolve) => server.close(resolve))
      publisher.kill('SIGKILL')
      udp.close()
    },
  }
}
