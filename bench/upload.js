#!/usr/bin/env node
/**
 * Worst greeting uploads vs. SIP latency: starts dist/ (bin/repondeur.js serve), uploads the worst greetings a
 * subscriber can send — a 20-min 48 kHz stereo FLAC (refused as too long), a 3-min 44.1 kHz MP3, a max-size
 * (20 MiB) 48 kHz stereo WAV — while an OPTIONS is sent to the SIP port every 10 ms, and prints the max / p99
 * OPTIONS round trip during the uploads and the server's peak RSS. Target: no OPTIONS delayed > 100 ms.
 *
 *   npm run build && node bench/upload.js
 */
'use strict';
const { spawn, execFileSync } = require('node:child_process');
const dgram = require('node:dgram');
const { mkdtempSync, readFileSync, rmSync } = require('node:fs');
const { tmpdir } = require('node:os');
const { join } = require('node:path');

const ROOT = join(__dirname, '..');
const TOKEN = 'bench-operator-token';
const LINE = '+33970000001';

function startServer(dir) {
  const child = spawn(process.execPath, [join(ROOT, 'bin', 'repondeur.js'), 'serve'], {
    cwd: ROOT,
    env: {
      PATH: process.env.PATH ?? '',
      REPONDEUR_SIP_PORT: '0',
      REPONDEUR_API_PORT: '0',
      REPONDEUR_API_OPERATOR_TOKEN: TOKEN,
      REPONDEUR_STORAGE_DIR: dir,
      REPONDEUR_DATABASE_URL: `sqlite:${join(dir, 'repondeur.db')}`,
      REPONDEUR_LOG_LEVEL: 'info',
    },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return new Promise((resolve, reject) => {
    let buf = '';
    child.stdout.on('data', (d) => {
      buf += d.toString();
      for (let i; (i = buf.indexOf('\n')) >= 0; buf = buf.slice(i + 1)) {
        let log;
        try {
          log = JSON.parse(buf.slice(0, i));
        } catch {
          continue;
        }
        if (log.msg === 'repondeur listening') {
          resolve({ child, sipPort: Number(/:(\d+)$/.exec(String(log.sip))[1]), apiPort: Number(/:(\d+)\/?$/.exec(String(log.api))[1]) });
        }
      }
    });
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
  });
}

function rssKb(pid) {
  const m = /VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : 0;
}

/** Sends an OPTIONS every 10 ms; records each round trip (ms). */
function startOptionsProbe(sipPort) {
  const socket = dgram.createSocket('udp4');
  const pending = new Map();
  const rtts = [];
  let n = 0;
  socket.on('message', (msg) => {
    const id = /Call-ID:\s*(\S+)/i.exec(msg.toString('latin1'))?.[1];
    const sent = pending.get(id);
    if (sent !== undefined && /^SIP\/2\.0 \d{3}/.test(msg.toString('latin1'))) {
      pending.delete(id);
      rtts.push(Number(process.hrtime.bigint() - sent) / 1e6);
    }
  });
  return new Promise((resolve) =>
    socket.bind(0, '127.0.0.1', () => {
      const lport = socket.address().port;
      const timer = setInterval(() => {
        n++;
        const id = `bench-${process.pid}-${n}`;
        const text =
          `OPTIONS sip:${LINE}@127.0.0.1:${sipPort} SIP/2.0\r\nVia: SIP/2.0/UDP 127.0.0.1:${lport};branch=z9hG4bK${id};rport\r\n` +
          `Max-Forwards: 70\r\nFrom: <sip:bench@127.0.0.1>;tag=${n}\r\nTo: <sip:${LINE}@127.0.0.1>\r\nCall-ID: ${id}\r\n` +
          `CSeq: ${n} OPTIONS\r\nContent-Length: 0\r\n\r\n`;
        pending.set(id, process.hrtime.bigint());
        socket.send(text, sipPort, '127.0.0.1');
      }, 10);
      resolve({
        /** Round trips so far, plus the age of every unanswered probe (a stalled loop counts fully). */
        take() {
          const now = process.hrtime.bigint();
          const open = [...pending.values()].map((t) => Number(now - t) / 1e6);
          const all = [...rtts, ...open];
          rtts.length = 0;
          pending.clear();
          return all;
        },
        stop() {
          clearInterval(timer);
          socket.close();
        },
      });
    }),
  );
}

function ffmpeg(args) {
  execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y', ...args]);
}

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'repondeur-bench-upload-'));
  const files = [
    ['20-min 48 kHz stereo FLAC', join(dir, 'long.flac'), ['-f', 'lavfi', '-i', 'anullsrc=r=48000:cl=stereo', '-t', '1200', '-c:a', 'flac']],
    ['3-min 44.1 kHz MP3', join(dir, 'song.mp3'), ['-f', 'lavfi', '-i', 'sine=f=440:r=44100:d=180', '-ac', '2', '-b:a', '128k']],
    ['20 MiB 48 kHz stereo WAV', join(dir, 'big.wav'), ['-f', 'lavfi', '-i', 'sine=f=440:r=48000:d=109', '-ac', '2', '-c:a', 'pcm_s16le']],
  ];
  for (const [, path, args] of files) ffmpeg([...args, path]);
  const server = await startServer(dir);
  const api = `http://127.0.0.1:${server.apiPort}/api/v1`;
  const auth = { authorization: `Bearer ${TOKEN}` };
  try {
    const created = await fetch(`${api}/lines`, { method: 'POST', headers: { ...auth, 'content-type': 'application/json' }, body: JSON.stringify({ number: LINE, pin: '1234' }) });
    if (created.status !== 201) throw new Error(`line creation: ${created.status} ${await created.text()}`);
    const probe = await startOptionsProbe(server.sipPort);
    let peakRss = rssKb(server.child.pid);
    const rssTimer = setInterval(() => (peakRss = Math.max(peakRss, rssKb(server.child.pid))), 20);
    await new Promise((r) => setTimeout(r, 500));
    const idle = probe.take();
    const rows = [];
    for (const [name, path] of files) {
      const form = new FormData();
      form.append('file', new Blob([readFileSync(path)]), path.split('/').pop());
      const t0 = Date.now();
      const r = await fetch(`${api}/lines/${encodeURIComponent(LINE)}/voicemail/greetings/unavail`, { method: 'POST', headers: auth, body: form });
      const body = await r.text();
      const rtts = probe.take().sort((a, b) => a - b);
      rows.push({
        upload: name,
        bytes: readFileSync(path).length,
        status: r.status,
        answer: r.status === 201 ? `${JSON.parse(body).durationMs} ms greeting` : JSON.parse(body).message.slice(0, 60),
        uploadMs: Date.now() - t0,
        options: rtts.length,
        optionsMaxMs: +rtts[rtts.length - 1].toFixed(1),
        optionsP99Ms: +rtts[Math.floor(rtts.length * 0.99)].toFixed(1),
      });
    }
    clearInterval(rssTimer);
    probe.stop();
    idle.sort((a, b) => a - b);
    console.table(rows);
    console.log(`idle OPTIONS max ${idle[idle.length - 1]?.toFixed(1)} ms; server peak RSS ${(peakRss / 1024).toFixed(0)} MB`);
  } finally {
    server.child.kill('SIGTERM');
    await new Promise((r) => server.child.once('exit', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
