// Web manager of one line: login with line + PIN, routing switch, settings, greetings and messages.
import { api, ApiRequestError, greetingAudioUrl, messageAudioUrl } from './api.js';
import { language, setLanguage, t, translate } from './i18n.js';
import { fillFolderFilter, fillSettings, readSettings, renderEmailRows, renderGreetings, renderMessages } from './views.js';

const $ = (id) => document.getElementById(id);

const state = { line: null, routing: null, folder: '', settings: null };

function showStatus(text) {
  $('error').textContent = '';
  $('status').textContent = text;
}

function showError(err) {
  $('status').textContent = '';
  $('error').textContent = err instanceof ApiRequestError ? err.message : t('error.generic');
  if (err instanceof ApiRequestError && err.status === 401 && state.line !== null) showLogin();
}

/** Runs an action, reporting its failure in the alert region instead of throwing. */
async function guarded(action) {
  try {
    await action();
  } catch (err) {
    showError(err);
  }
}

function showLogin() {
  state.line = null;
  $('manager').hidden = true;
  $('logout').hidden = true;
  $('current-line').hidden = true;
  $('login-section').hidden = false;
}

async function showManager(line) {
  state.line = line;
  $('login-section').hidden = true;
  $('manager').hidden = false;
  $('logout').hidden = false;
  $('current-line').hidden = false;
  $('current-line').textContent = `${t('line.label')} ${line}`;
  await Promise.all([loadLine(), loadNumbers(), loadSettings(), loadGreetings(), loadMessages()]);
}

function renderRouting() {
  const voicemail = state.routing === 'voicemail';
  $('routing-status').textContent = t(voicemail ? 'routing.voicemail' : 'routing.fax');
  $('routing-status').dataset.routing = state.routing;
  // The warning stands next to the switch while the line is a fax; the dialog repeats it before any change.
  $('routing-notice').hidden = voicemail;
  $('routing-toggle').textContent = t(voicemail ? 'routing.disable' : 'routing.enable');
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

async function loadGreetings() {
  const greetings = await api.greetings(state.line);
  renderGreetings($('greetings'), greetings, {
    audioUrl: (kind, g) => greetingAudioUrl(state.line, kind, g.creationDatetime),
    upload: (kind, file) =>
      guarded(async () => {
        await api.uploadGreeting(state.line, kind, file);
        await loadGreetings();
        showStatus(t('greetings.uploaded'));
      }),
    remove: (kind) =>
      guarded(async () => {
        await api.deleteGreeting(state.line, kind);
        await loadGreetings();
      }),
  });
}

async function loadMessages() {
  const messages = await api.messages(state.line, state.folder);
  $('messages-empty').hidden = messages.length > 0;
  renderMessages($('messages-body'), messages, {
    downloadUrl: (m, format) => messageAudioUrl(state.line, m.id, format, false),
    play: (m) => {
      const player = $('player');
      player.src = messageAudioUrl(state.line, m.id, 'wav', true);
      player.dataset.messageId = m.id;
      player.play().catch(showError);
    },
    move: (m, dir) =>
      guarded(async () => {
        await api.moveMessage(state.line, m.id, dir);
        await Promise.all([loadMessages(), loadSettings()]);
      }),
    remove: (m) =>
      guarded(async () => {
        if (!window.confirm(t('messages.confirmDelete'))) return;
        await api.deleteMessage(state.line, m.id);
        await Promise.all([loadMessages(), loadSettings()]);
      }),
  });
}

function rerenderTexts() {
  translate(document);
  fillFolderFilter($('messages-folder'), state.folder);
  if (state.line === null) return;
  $('current-line').textContent = `${t('line.label')} ${state.line}`;
  renderRouting();
  // Keep what the user typed in the e-mail rows while relabelling them.
  const emails = readSettings($('settings-form')).redirectionEmails;
  renderEmailRows($('settings-form').querySelector('#email-rows'), emails);
  void guarded(() => Promise.all([loadGreetings(), loadMessages()]));
}

function wire() {
  $('lang-toggle').addEventListener('click', () => {
    setLanguage(language() === 'fr' ? 'en' : 'fr');
    rerenderTexts();
  });

  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(async () => {
      const { line } = await api.login($('login-line').value.trim(), $('login-pin').value);
      $('login-pin').value = '';
      showStatus('');
      await showManager(line);
    });
  });

  $('logout').addEventListener('click', () => guarded(async () => {
    await api.logout();
    showLogin();
  }));

  $('routing-toggle').addEventListener('click', () => $('routing-dialog').showModal());
  $('routing-cancel').addEventListener('click', () => $('routing-dialog').close());
  $('routing-confirm').addEventListener('click', () =>
    guarded(async () => {
      $('routing-dialog').close();
      const target = state.routing === 'voicemail' ? 'fax' : 'voicemail';
      state.routing = (await api.setRouting(state.line, target)).routing;
      renderRouting();
    }),
  );

  $('pin-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(async () => {
      await api.changePassword(state.line, $('pin-new').value);
      $('pin-new').value = '';
      showStatus(t('pin.done'));
    });
  });

  $('settings-form').addEventListener('submit', (event) => {
    event.preventDefault();
    void guarded(async () => {
      state.settings = await api.saveSettings(state.line, readSettings($('settings-form')));
      fillSettings($('settings-form'), state.settings);
      showStatus(t('settings.saved'));
    });
  });

  $('messages-folder').addEventListener('change', (event) => {
    state.folder = event.target.value;
    void guarded(loadMessages);
  });
}

async function start() {
  translate(document);
  fillFolderFilter($('messages-folder'), state.folder);
  wire();
  try {
    const session = await api.session();
    if (session.role === 'subscriber') await showManager(session.line);
    else showLogin();
  } catch {
    showLogin();
  }
  document.body.dataset.ready = 'true';
}

void start();
