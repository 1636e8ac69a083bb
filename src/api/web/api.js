// Thin client of /api/v1: the session travels in the HttpOnly cookie set at login.
const BASE = '/api/v1';

/** A refused request: `code` is the stable code the page translates; `body` the whole error JSON. */
export class ApiRequestError extends Error {
  constructor(status, code, message, body = {}) {
    super(message);
    this.name = 'ApiRequestError';
    this.status = status;
    this.code = code;
    this.body = body;
  }
}

async function request(method, path, body) {
  const init = { method, credentials: 'same-origin', headers: { accept: 'application/json' } };
  if (body instanceof FormData) init.body = body;
  else if (body !== undefined) {
    init.headers['content-type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const response = await fetch(BASE + path, init);
  if (response.status === 204) return undefined;
  const data = await response.json().catch(() => ({}));
  if (!response.ok) throw new ApiRequestError(response.status, data.code ?? data.error ?? 'error', data.message ?? response.statusText, data);
  return data;
}

export function linePath(line) {
  return `/lines/${encodeURIComponent(line)}`;
}

/** URL of a message's audio (inline for the in-page player, attachment for downloads). */
export function messageAudioUrl(line, id, format, inline) {
  const query = new URLSearchParams({ format });
  if (inline) query.set('inline', '1');
  return `${BASE}${linePath(line)}/voicemail/directories/${encodeURIComponent(id)}/download?${query}`;
}

export function greetingAudioUrl(line, kind, version) {
  return `${BASE}${linePath(line)}/voicemail/greetings/${kind}/download?v=${encodeURIComponent(version)}`;
}

export const api = {
  login: (line, pin) => request('POST', '/auth/login', { line, pin }),
  logout: () => request('POST', '/auth/logout'),
  session: () => request('GET', '/auth/session'),
  line: (line) => request('GET', linePath(line)),
  setRouting: (line, routing) => request('POST', `${linePath(line)}/changeRouting`, { routing }),
  settings: (line) => request('GET', `${linePath(line)}/voicemail/settings`),
  saveSettings: (line, patch) => request('PUT', `${linePath(line)}/voicemail/settings`, patch),
  changePassword: (line, password) => request('POST', `${linePath(line)}/voicemail/changePassword`, { password }),
  voicemailNumbers: (line) => request('GET', `${linePath(line)}/voicemail/voicemailNumbers`),
  greetings: (line) => request('GET', `${linePath(line)}/voicemail/greetings`),
  uploadGreeting: (line, kind, file) => {
    const form = new FormData();
    form.append('file', file, file.name);
    return request('POST', `${linePath(line)}/voicemail/greetings/${kind}`, form);
  },
  deleteGreeting: (line, kind) => request('DELETE', `${linePath(line)}/voicemail/greetings/${kind}`),
  messages: (line, dir) => {
    const query = new URLSearchParams({ order: 'desc' });
    if (dir) query.set('dir', dir);
    return request('GET', `${linePath(line)}/voicemail/directories?${query}`);
  },
  validateOvhCredential: async (token) => {
    const response = await fetch('/1.0/auth/credential/validate', {
      method: 'POST',
      credentials: 'same-origin',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ token }),
    });
    const data = await response.json().catch(() => ({}));
    if (!response.ok) throw new ApiRequestError(response.status, data.code ?? data.error ?? 'error', data.message ?? '', data);
    return data;
  },
  markHeard: (line, id) => request('POST', `${linePath(line)}/voicemail/directories/${encodeURIComponent(id)}/heard`),
  moveMessage: (line, id, dir) => request('POST', `${linePath(line)}/voicemail/directories/${encodeURIComponent(id)}/move`, { dir }),
  deleteMessage: (line, id) => request('DELETE', `${linePath(line)}/voicemail/directories/${encodeURIComponent(id)}`),
};
