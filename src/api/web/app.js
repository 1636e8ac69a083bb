// Web manager of one line: login with line + PIN, routing switch, messages, greetings, settings and PIN.
import { api, ApiRequestError, greetingAudioUrl, messageAudioUrl } from './api.js';
import { has, language, setLanguage, t, translate } from './i18n.js';
import { callerText, fillFolderFilter, fillSettings, formatDate, formatDuration, readSettings, renderEmailRows, renderGreetings, renderMessages } from './views.js';

const $ = (id) => document.getElementById(id);
const AREAS = ['login', 'routing', 'messages', 'greetings', 'settings', 'pin'];

const state = { line: null, routing: null, folder: '', settings: null, timeZone: undefined, playing: null, lastError: null };

/** The error in the page's language: the server's stable `code` (and its field or lock time), never its English text. */
function errorText(err) {
  if (!(err instanceof ApiRequestError)) return t(err instanceof TypeError ? 'error.network' : 'error.generic');
  const { code, body } = err;
  if (code === 'pin_locked' && body.lockedUntil) return t('error.pin_locked', { time: formatDate(body.lockedUntil, body.timeZone ?? state.timeZone) });
  if (code === 'invalid_field' && typeof body.field === 'string') return t('error.invalid_field', { field: fieldLabel(body.field) });
  if (has(`error.${code}`)) return t(`error.${code}`);
  return has(`error.${body.error}`) ? t(`error.${body.error}`) : t('error.generic');
}

/** `body.redirectionEmails.1.email` → "adresse e-mail 2". */
function fieldLabel(field) {
  const parts = field.split('.').slice(1);
  let n = parts.find((p) => /^\d+$/.test(p));
  if (n !== undefined && parts[0] === 'redirectionEmails') n = ($('settings-form').dataset.emailRows ?? '').split(',')[Number(n)] ?? n;
  const key = `field.${parts.filter((p) => !/^\d+$/.test(p)).join('.')}`;
  if (has(key)) return t(key, { n: n === undefined ? '' : Number(n) + 1 });
  return has(`field.${parts[0]}`) ? t(`field.${parts[0]}`) : parts.join('.');
}

/** The form input behind a server field name (`body.redirectionEmails.1.email` → the row it came from). */
function inputOf(field) {
  const parts = String(field).split('.').slice(1);
  if (parts[0] === 'redirectionEmails' && /^\d+$/.test(parts[1] ?? '')) {
    const row = ($('settings-form').dataset.emailRows ?? '').split(',')[Number(parts[1])];
    return row === undefined ? null : $(`email-${row}`);
  }
  if (parts[0] === 'password') return $('pin-new');
  return document.querySelector(`#settings-form [name="${CSS.escape(parts[0] ?? '')}"]`);
}

/** Every error and confirmation goes next to what the user acted on; a success clears every error. */
function clearErrors() {
  state.lastError = null;
  for (const input of document.querySelectorAll('[aria-invalid="true"]')) input.removeAttribute('aria-invalid');
  for (const area of AREAS) $(`error-${area}`).textContent = '';
}

function showOk(area, text) {
  clearErrors();
  for (const a of AREAS) if ($(`ok-${a}`)) $(`ok-${a}`).textContent = '';
  if ($(`ok-${area}`)) $(`ok-${area}`).textContent = text;
}

function showError(area, err) {
  if (err instanceof ApiRequestError && err.status === 401 && state.line !== null) {
    showLogin();
    area = 'login';
  }
  for (const a of AREAS) if ($(`ok-${a}`)) $(`ok-${a}`).textContent = '';
  state.lastError = { area, err };
  const box = $(`error-${area}`);
  box.textContent = errorText(err);
  box.scrollIntoView({ block: 'nearest' });
  // The input the server named is marked invalid, described by the message, and focused.
  const input = err instanceof ApiRequestError && err.code === 'invalid_field' ? inputOf(err.body.field) : null;
  if (input) {
    input.setAttribute('aria-invalid', 'true');
    input.setAttribute('aria-describedby', box.id);
    input.focus();
  }
  if (err instanceof ApiRequestError && err.status === 404 && state.line !== null) void loadMessages().catch(() => {});
}

/** Runs an action of `area`, reporting its failure next to it instead of throwing. */
async function guarded(area, action) {
  try {
    await action();
  } catch (err) {
    showError(area, err);
  }
}

/** A real, keyboard-accessible confirmation (Escape and Annuler cancel; Annuler has the focus). */
function confirmDestructive(text) {
  const dialog = $('confirm-dialog');
  $('confirm-text').textContent = text;
  dialog.returnValue = '';
  dialog.showModal();
  return new Promise((resolve) => dialog.addEventListener('close', () => resolve(dialog.returnValue === 'confirm'), { once: true }));
}

function showLogin() {
  state.line = null;
  $('manager').hidden = true;
  $('logout').hidden = true;
  $('current-line').hidden = true;
  $('login-section').hidden = false;
}

async function showManager(line, timeZone) {
  state.line = line;
  state.timeZone = timeZone;
  $('login-section').hidden = true;
  $('manager').hidden = false;
  $('logout').hidden = false;
  $('current-line').hidden = false;
  $('current-line').textContent = `${t('line.label')} ${line}`;
  // Settings first: the messages' default download format is the line's audioFormat.
  await Promise.all([loadLine(), loadNumbers(), loadSettings(), loadGreetings()]);
  await loadMessages();
}

function renderRouting() {
  const voicemail = state.routing === 'voicemail';
  $('routing-status').textContent = t(voicemail ? 'routing.voicemail' : 'routing.fax');
  $('routing-status').dataset.routing = state.routing;
  // The warning stands next to the switch while the line is a fax; the dialog repeats it before any change.
  $('routing-notice').hidden = voicemail;
  $('routing-toggle').textContent = t(voicemail ? 'routing.disable' : 'routing.enable');
  $('routing-toggle').className = voicemail ? 'secondary' : '';
  $('routing-warning').textContent = t(voicemail ? 'routing.disableText' : 'routing.warning');
  $('routing-confirm').textContent = t(voicemail ? 'routing.confirmDisable' : 'routing.confirmEnable');
}

async function loadLine() {
  state.routing = (await api.line(state.line)).routing;
  renderRouting();
}

async function loadNumbers() {
  const { numbers } = await api.voicemailNumbers(state.line);
  $('numbers').replaceChildren(...numbers.map((n) => Object.assign(document.createElement('li'), { textContent: n.number })));
}

async function loadSettings() {
  state.settings = await api.settings(state.line);
  fillSettings($('settings-form'), state.settings);
  $('unread').textContent = String(state.settings.unreadMessages);
}

async function refreshUnread() {
  state.settings = { ...state.settings, unreadMessages: (await api.settings(state.line)).unreadMessages };
  $('unread').textContent = String(state.settings.unreadMessages);
}

async function loadGreetings() {
  const greetings = await api.greetings(state.line);
  renderGreetings($('greetings'), greetings, {
    audioUrl: (kind, g) => greetingAudioUrl(state.line, kind, g.creationDatetime),
    upload: (kind, input) => {
      if (input.files.length === 0) {
        showError('greetings', new Error('no file'));
        $('error-greetings').textContent = t('error.noFile');
        return;
      }
      void guarded('greetings', async () => {
        await api.uploadGreeting(state.line, kind, input.files[0]);
        await loadGreetings();
        showOk('greetings', t('greetings.uploaded'));
      });
    },
    remove: (kind) =>
      guarded('greetings', async () => {
        if (!(await confirmDestructive(t('greetings.confirmDelete', { kind: t(`greetings.kind.${kind}`) })))) return;
        await api.deleteGreeting(state.line, kind);
        await loadGreetings();
        showOk('greetings', t('greetings.deleted'));
      }),
  });
}

async function loadMessages() {
  const messages = await api.messages(state.line, state.folder);
  $('messages-empty').hidden = messages.length > 0;
  renderMessages($('messages-body'), messages, {
    timeZone: state.timeZone,
    defaultFormat: state.settings?.audioFormat ?? 'wav',
    downloadUrl: (m, format) => messageAudioUrl(state.line, m.id, format, false),
    play: (m) => {
      const player = $('player');
      state.playing = m;
      player.src = messageAudioUrl(state.line, m.id, 'wav', true);
      player.dataset.messageId = m.id;
      $('now-playing').textContent = t('messages.nowPlaying', { caller: callerText(m), duration: formatDuration(m.duration) });
      player.play().catch((err) => showError('messages', err));
    },
    move: (m, dir) =>
      guarded('messages', async () => {
        await api.moveMessage(state.line, m.id, dir);
        await Promise.all([loadMessages(), refreshUnread()]);
        showOk('messages', t('messages.moved', { dir: t(`folder.${dir}`) }));
      }),
    remove: (m) =>
      guarded('messages', async () => {
        if (!(await confirmDestructive(t('messages.confirmDelete', { caller: callerText(m) })))) return;
        await api.deleteMessage(state.line, m.id);
        await Promise.all([loadMessages(), refreshUnread()]);
        showOk('messages', t('messages.deleted'));
      }),
  });
}

/** Listening marks the message heard (inbox and urgent → old), as the dial-in menu does once it has played it. */
function onPlaybackStarted() {
  const m = state.playing;
  if (m === null || m.heardAt !== null) return;
  m.heardAt = new Date().toISOString();
  void guarded('messages', async () => {
    await api.markHeard(state.line, m.id);
    await Promise.all([loadMessages(), refreshUnread()]);
  });
}

function rerenderTexts() {
  translate(document);
  fillFolderFilter($('messages-folder'), state.folder);
  if (state.lastError !== null) $(`error-${state.lastError.area}`).textContent = errorText(state.lastError.err);
  if (state.line === null) return;
  $('current-line').textContent = `${t('line.label')} ${state.line}`;
  renderRouting();
  // Keep what the user typed in the e-mail rows while relabelling them.
  const emails = readSettings($('settings-form')).redirectionEmails;
  renderEmailRows($('settings-form').querySelector('#email-rows'), emails);
  void guarded('messages', () => Promise.all([loadGreetings(), loadMessages()]));
}

function wire() {
  $('lang-toggle').addEventListener('click', () => {
    setLanguage(language() === 'fr' ? 'en' : 'fr');
    rerenderTexts();
  });

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded('login', async () => {
      const { line } = await api.login($('login-line').value.trim(), $('login-pin').value);
      $('login-pin').value = '';
      const session = await api.session();
      clearErrors();
      await showManager(line, session.timeZone);
      $('main').focus();
      await validateOvhCredential();
    });
  });

  $('logout').addEventListener('click', () =>
    guarded('login', async () => {
      await api.logout();
      $('player').pause();
      showLogin();
    }),
  );

  $('routing-toggle').addEventListener('click', () => $('routing-dialog').showModal());
  $('routing-cancel').addEventListener('click', () => $('routing-dialog').close());
  $('routing-confirm').addEventListener('click', () =>
    guarded('routing', async () => {
      $('routing-dialog').close();
      const target = state.routing === 'voicemail' ? 'fax' : 'voicemail';
      state.routing = (await api.setRouting(state.line, target)).routing;
      renderRouting();
      showOk('routing', t('routing.done'));
    }),
  );

  $('pin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const pin = $('pin-new').value;
    if (!/^\d{4,10}$/.test(pin)) {
      $('error-pin').textContent = t('error.pinFormat');
      return;
    }
    void guarded('pin', async () => {
      await api.changePassword(state.line, pin);
      $('pin-new').value = '';
      showOk('pin', t('pin.done'));
    });
  });

  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded('settings', async () => {
      state.settings = await api.saveSettings(state.line, readSettings($('settings-form')));
      fillSettings($('settings-form'), state.settings);
      showOk('settings', t('settings.saved'));
      await loadMessages();
    });
  });

  $('messages-folder').addEventListener('change', (event) => {
    state.folder = event.target.value;
    void guarded('messages', loadMessages);
  });

  $('player').addEventListener('play', onPlaybackStarted);
}

/**
 * The validationUrl of an OVH API credential (`/?ovhCredential=…`): once the subscriber is logged in, the page
 * validates the consumer key for the line and says so.
 */
async function validateOvhCredential() {
  const token = new URLSearchParams(location.search).get('ovhCredential');
  if (token === null || state.line === null) return;
  await guarded('routing', async () => {
    await api.validateOvhCredential(token);
    history.replaceState(null, '', '/');
    showOk('routing', t('ovh.validated'));
  });
}

async function start() {
  translate(document);
  fillFolderFilter($('messages-folder'), state.folder);
  wire();
  try {
    const session = await api.session();
    if (session.role === 'subscriber') {
      await showManager(session.line, session.timeZone);
      await validateOvhCredential();
    } else showLogin();
  } catch {
    showLogin();
  }
  document.body.dataset.ready = 'true';
}

void start();
