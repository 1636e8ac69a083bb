// DOM builders of the web manager. User data only ever goes through textContent and attributes.
import { locale, t } from './i18n.js';

export const FOLDERS = ['inbox', 'old', 'urgent', 'work', 'family', 'friends'];
export const GREETING_KINDS = ['unavail', 'busy', 'greet', 'temp', 'name'];
export const AUDIO_FORMATS = ['wav', 'mp3', 'ogg', 'flac', 'aiff', 'au'];
export const MAX_EMAILS = 5;
const FLAGS = ['temporaryGreetingActivated', 'doNotRecord', 'forcePassword', 'keepMessage'];

/** `el('button', { type: 'button', dataset: { testid: 'x' } }, 'text')` */
export function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes)) {
    if (name === 'dataset') Object.assign(node.dataset, value);
    else if (name === 'i18n') {
      node.dataset.i18n = value;
      node.textContent = t(value);
    } else if (value !== undefined && value !== false) node.setAttribute(name, value === true ? '' : String(value));
  }
  for (const child of children) node.append(child);
  return node;
}

function options(select, values, labelOf, selected) {
  select.replaceChildren(...values.map((v) => el('option', { value: v, selected: v === selected }, labelOf(v))));
}

/** The five notification rows: address + type, an empty address meaning "no recipient". */
export function renderEmailRows(container, emails) {
  container.replaceChildren();
  for (let i = 0; i < MAX_EMAILS; i++) {
    const entry = emails[i] ?? { email: '', type: 'attachment' };
    const emailId = `email-${i}`;
    const typeId = `email-type-${i}`;
    const type = el('select', { id: typeId, 'data-testid': `settings-email-type-${i}` });
    options(type, ['attachment', 'simple'], (v) => t(`settings.emailType.${v}`), entry.type);
    container.append(
      el(
        'div',
        { class: 'email-row' },
        el('label', { for: emailId }, `${t('settings.email')} ${i + 1}`),
        el('input', { id: emailId, type: 'email', value: entry.email, 'data-testid': `settings-email-${i}` }),
        el('label', { for: typeId }, t('settings.emailType')),
        type,
      ),
    );
  }
}

export function fillSettings(form, settings) {
  form.elements.greetingType.value = settings.greetingType;
  form.elements.audioFormat.value = settings.audioFormat;
  form.elements.fromEmail.value = settings.fromEmail ?? '';
  form.elements.fromName.value = settings.fromName ?? '';
  for (const flag of FLAGS) form.elements[flag].checked = settings[flag];
  renderEmailRows(form.querySelector('#email-rows'), settings.redirectionEmails);
}

/** The settings as the form shows them, ready for PUT …/voicemail/settings. */
export function readSettings(form) {
  const redirectionEmails = [];
  // Which row each sent address comes from, so that an error on redirectionEmails.N names the right row.
  const rows = [];
  for (let i = 0; i < MAX_EMAILS; i++) {
    const email = form.querySelector(`#email-${i}`).value.trim();
    if (email === '') continue;
    redirectionEmails.push({ email, type: form.querySelector(`#email-type-${i}`).value });
    rows.push(i);
  }
  form.dataset.emailRows = rows.join(',');
  const text = (name) => {
    const value = form.elements[name].value.trim();
    return value === '' ? null : value;
  };
  const settings = {
    greetingType: form.elements.greetingType.value,
    audioFormat: form.elements.audioFormat.value,
    fromEmail: text('fromEmail'),
    fromName: text('fromName'),
    redirectionEmails,
  };
  for (const flag of FLAGS) settings[flag] = form.elements[flag].checked;
  return settings;
}

/** A date and time as the line's clocks show it (its time zone, config voicemail.timeZone), in the page's language. */
export function formatDate(iso, timeZone) {
  const options = { dateStyle: 'medium', timeStyle: 'short' };
  try {
    return new Intl.DateTimeFormat(locale(), { ...options, timeZone }).format(new Date(iso));
  } catch {
    return new Intl.DateTimeFormat(locale(), options).format(new Date(iso));
  }
}

export function formatDuration(seconds) {
  const m = Math.floor(seconds / 60);
  const s = String(seconds % 60).padStart(2, '0');
  return `${m}:${s}`;
}

export function fillFolderFilter(select, selected) {
  options(select, ['', ...FOLDERS], (v) => (v === '' ? t('messages.all') : t(`folder.${v}`)), selected);
}

/**
 * One greeting card per kind: state, file input + upload, player and delete when recorded.
 * `handlers` = { upload(kind, input), remove(kind), audioUrl(kind, greeting) }.
 */
export function renderGreetings(container, greetings, handlers) {
  const byKind = new Map(greetings.map((g) => [g.kind, g]));
  container.replaceChildren(
    ...GREETING_KINDS.map((kind) => {
      const greeting = byKind.get(kind);
      const fileId = `greeting-file-${kind}`;
      const titleId = `greeting-title-${kind}`;
      const file = el('input', { id: fileId, type: 'file', accept: 'audio/*,.wav,.mp3,.ogg,.flac,.aiff,.aif,.au', 'data-testid': `greeting-file-${kind}` });
      const upload = el('button', { type: 'button', class: 'secondary', 'data-testid': `greeting-upload-${kind}`, i18n: 'greetings.upload' });
      upload.addEventListener('click', () => handlers.upload(kind, file));
      const state = greeting ? `${t('greetings.recorded')} — ${formatDuration(greeting.duration)}` : t('greetings.none');
      const row = el(
        'article',
        { class: 'greeting', 'aria-labelledby': titleId, 'data-testid': `greeting-${kind}`, 'data-recorded': greeting ? 'true' : 'false' },
        el('h3', { id: titleId, i18n: `greetings.kind.${kind}` }),
        el('p', { class: greeting ? 'state recorded' : 'state' }, state),
      );
      if (greeting) {
        row.append(
          el('audio', { controls: true, preload: 'none', src: handlers.audioUrl(kind, greeting), 'data-testid': `greeting-audio-${kind}`, 'aria-label': t(`greetings.kind.${kind}`) }),
        );
      }
      row.append(el('label', { for: fileId }, t('greetings.file')), file);
      const buttons = el('div', { class: 'row' }, upload);
      if (greeting) {
        const remove = el('button', { type: 'button', class: 'danger', 'data-testid': `greeting-delete-${kind}`, i18n: 'greetings.delete' });
        remove.addEventListener('click', () => handlers.remove(kind));
        buttons.append(remove);
      }
      row.append(buttons);
      return row;
    }),
  );
}

/** "Alice (+33611223344)" or the number alone. */
export function callerText(m) {
  return m.callerName ? `${m.callerName} (${m.caller})` : m.caller;
}

/**
 * The messages, newest first, one card each (fits any width). `handlers` = { play(message), downloadUrl(message,
 * format), move(message, dir), remove(message), timeZone, defaultFormat }.
 */
export function renderMessages(list, messages, handlers) {
  list.replaceChildren(
    ...messages.map((m) => {
      const formatId = `format-${m.id}`;
      const moveId = `move-${m.id}`;
      const titleId = `message-title-${m.id}`;
      const unread = m.heardAt === null;
      const play = el('button', { type: 'button', 'data-testid': 'message-play', 'aria-describedby': titleId }, `▶ ${t('messages.play')}`);
      play.addEventListener('click', () => handlers.play(m));
      const format = el('select', { id: formatId, 'data-testid': 'message-format' });
      options(format, AUDIO_FORMATS, (v) => v.toUpperCase(), handlers.defaultFormat);
      const download = el('a', { class: 'button secondary', href: handlers.downloadUrl(m, handlers.defaultFormat), download: '', 'data-testid': 'message-download', 'aria-describedby': titleId, i18n: 'messages.download' });
      format.addEventListener('change', () => download.setAttribute('href', handlers.downloadUrl(m, format.value)));
      const move = el('select', { id: moveId, 'data-testid': 'message-move' });
      options(move, FOLDERS, (v) => t(`folder.${v}`), m.dir);
      move.addEventListener('change', () => handlers.move(m, move.value));
      const remove = el('button', { type: 'button', class: 'danger', 'data-testid': 'message-delete', 'aria-describedby': titleId, i18n: 'messages.delete' });
      remove.addEventListener('click', () => handlers.remove(m));
      const title = el('h3', { id: titleId, class: 'caller', 'data-testid': 'message-caller' }, callerText(m));
      const meta = el(
        'p',
        { class: 'meta' },
        el('time', { datetime: m.creationDatetime }, formatDate(m.creationDatetime, handlers.timeZone)),
        ' · ',
        el('span', { 'data-testid': 'message-duration' }, formatDuration(m.duration)),
        ' · ',
        el('span', { 'data-testid': 'message-dir' }, t(`folder.${m.dir}`)),
      );
      const head = el('div', { class: 'message-head' }, title);
      if (unread) head.append(el('span', { class: 'badge', 'data-testid': 'message-unread' }, t('messages.unread')));
      return el(
        'li',
        { class: unread ? 'message unread' : 'message', 'data-testid': 'message-row', 'data-id': m.id, 'data-unread': String(unread) },
        head,
        meta,
        el(
          'div',
          { class: 'message-actions' },
          el('div', { class: 'row' }, play, download, remove),
          el('div', { class: 'field' }, el('label', { for: formatId }, t('messages.format')), format),
          el('div', { class: 'field' }, el('label', { for: moveId }, t('messages.move')), move),
        ),
      );
    }),
  );
}
