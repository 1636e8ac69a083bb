'use strict';
/**
 * The ceiling: what a bare Node `dgram` echo (one process, one socket, 172-byte datagrams like an RTP packet of
 * 20 ms G.711) sustains on this machine, in packets/s in + out with < 0.1 % loss. Echo and load generator run in
 * child processes, as the server and SIPp do. Socket buffers as the server's (4 MiB requested; net.core.rmem_max caps).
 *
 *   node dgram-echo.js echo <port>            echoes every datagram back to its source
 *   node dgram-echo.js send <port> <pps> <s>  sends pps datagrams/s for s seconds, prints {sent, received} as JSON
 */
const dgram = require('node:dgram');
const { spawn } = require('node:child_process');

const BUFFER = 4 * 1024 * 1024;
const SIZE = 172;

function bigBuffers(sock) {
  try {
    sock.setRecvBufferSize(BUFFER);
    sock.setSendBufferSize(BUFFER);
  } catch {
    /* the OS caps it: keep what it gives */
  }
}

function echo(port) {
  const s = dgram.createSocket('udp4');
  s.on('message', (m, r) => s.send(m, r.port, r.address));
  s.bind(port, '127.0.0.1', () => {
    bigBuffers(s);
    process.stdout.write('ready\n');
  });
}

function send(port, pps, seconds) {
  const s = dgram.createSocket('udp4');
  let received = 0;
  let sent = 0;
  s.on('message', () => received++);
  s.bind(0, '127.0.0.1', () => {
    bigBuffers(s);
    const payload = Buffer.alloc(SIZE, 0xd5);
    const start = performance.now();
    const tick = () => {
      const elapsed = (performance.now() - start) / 1000;
      if (elapsed >= seconds) {
        setTimeout(() => {
          process.stdout.write(JSON.stringify({ sent, received }) + '\n');
          process.exit(0);
        }, 500);
        return;
      }
      const due = Math.floor(elapsed * pps);
      while (sent < due) {
        s.send(payload, port, '127.0.0.1');
        sent++;
      }
      setTimeout(tick, 2);
    };
    tick();
  });
}

/** Runs echo + sender at `pps` for `seconds`; returns { pps, sent, received, loss, inOutPps }. */
async function measureEcho(pps, seconds = 4, port = 39999) {
  const server = spawn(process.execPath, [__filename, 'echo', String(port)], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((r) => server.stdout.once('data', r));
  const client = spawn(process.execPath, [__filename, 'send', String(port), String(pps), String(seconds)], { stdio: ['ignore', 'pipe', 'inherit'] });
  let out = '';
  client.stdout.on('data', (d) => (out += d));
  await new Promise((r) => client.once('exit', r));
  server.kill();
  const { sent, received } = JSON.parse(out.trim());
  return { pps, sent, received, loss: sent ? 1 - received / sent : 1, inOutPps: (2 * received) / seconds };
}

/** Raises the rate until loss exceeds 0.1 %; returns the best clean in+out rate and every measurement. */
async function echoCeiling(rates = [10000, 20000, 30000, 40000, 50000, 60000, 80000]) {
  const runs = [];
  let best = null;
  for (const pps of rates) {
    const r = await measureEcho(pps);
    runs.push(r);
    if (r.loss > 0.001) break;
    best = r;
  }
  return { best, runs };
}

if (require.main === module) {
  const [mode, port, pps, seconds] = process.argv.slice(2);
  if (mode === 'echo') echo(Number(port));
  else if (mode === 'send') send(Number(port), Number(pps), Number(seconds));
  else echoCeiling().then((r) => console.log(JSON.stringify(r, null, 2)));
}

module.exports = { measureEcho, echoCeiling };
