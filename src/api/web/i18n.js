// Interface texts of the web manager, French by default; the choice is kept in localStorage.
const STORAGE_KEY = 'repondeur.language';

const MESSAGES = {
  fr: {
    'app.title': 'Répondeur — gestion de la ligne',
    'lang.toggle': 'English',
    'lang.toggleLabel': 'Switch to English',
    'login.title': 'Connexion',
    'login.line': 'Numéro de la ligne',
    'login.pin': 'Code secret (PIN)',
    'login.submit': 'Se connecter',
    'logout': 'Se déconnecter',
    'line.label': 'Ligne',
    'routing.title': 'Activer/désactiver le répondeur',
    'routing.fax': 'La ligne fonctionne en mode fax.',
    'routing.voicemail': 'Le répondeur est activé.',
    'routing.enable': 'Activer le répondeur',
    'routing.disable': 'Revenir au mode fax',
    'routing.warning': "L'activation du répondeur désactive toutes les fonctionnalités fax de votre ligne",
    'routing.confirmEnable': 'Activer la fonction « Répondeur »',
    'routing.confirmDisable': 'Revenir au mode fax',
    'routing.cancel': 'Annuler',
    'routing.disableText': 'Les appels seront de nouveau reçus par le fax et le répondeur ne prendra plus de messages.',
    'numbers.title': 'Consulter la messagerie par téléphone',
    'numbers.text': 'Composez l’un de ces numéros depuis n’importe quel téléphone :',
    'pin.title': 'Mot de passe accès répondeur',
    'pin.new': 'Nouveau code (4 à 10 chiffres)',
    'pin.submit': 'Changer le code',
    'pin.done': 'Code modifié.',
    'settings.title': 'Configuration du répondeur',
    'settings.unread': 'Messages non lus',
    'settings.greetingType': 'Annonce',
    'settings.greetingType.default': 'Annonce par défaut',
    'settings.greetingType.full': 'Annonce personnalisée complète',
    'settings.greetingType.short': 'Annonce courte',
    'settings.temporaryGreetingActivated': 'Annonce temporaire activée',
    'settings.doNotRecord': 'Ne pas enregistrer de message (annonce seule)',
    'settings.forcePassword': 'Toujours demander le code, même depuis la ligne',
    'settings.keepMessage': 'Conserver les messages après envoi par e-mail',
    'settings.audioFormat': 'Format audio des pièces jointes',
    'settings.fromEmail': 'Adresse e-mail de l’expéditeur',
    'settings.fromName': 'Nom de l’expéditeur',
    'settings.emails': 'Adresses e-mail de notification (5 au plus)',
    'settings.email': 'Adresse e-mail',
    'settings.emailType': 'Type de notification',
    'settings.emailType.attachment': 'Avec le message en pièce jointe',
    'settings.emailType.simple': 'Simple notification',
    'settings.save': 'Enregistrer',
    'settings.saved': 'Configuration enregistrée.',
    'greetings.title': 'Messages d’accueil',
    'greetings.kind.unavail': 'Indisponible',
    'greetings.kind.busy': 'Occupé',
    'greetings.kind.greet': 'Accueil',
    'greetings.kind.temp': 'Temporaire',
    'greetings.kind.name': 'Nom',
    'greetings.none': 'Aucune annonce enregistrée',
    'greetings.recorded': 'Enregistrée',
    'greetings.file': 'Fichier audio',
    'greetings.upload': 'Envoyer',
    'greetings.delete': 'Supprimer',
    'greetings.uploaded': 'Annonce enregistrée.',
    'messages.title': 'Écoute et gestion des messages',
    'messages.folder': 'Dossier',
    'messages.all': 'Tous',
    'messages.caller': 'Appelant',
    'messages.date': 'Date',
    'messages.duration': 'Durée',
    'messages.actions': 'Actions',
    'messages.play': 'Écouter',
    'messages.download': 'Télécharger',
    'messages.format': 'Format',
    'messages.move': 'Déplacer vers',
    'messages.delete': 'Supprimer',
    'messages.confirmDelete': 'Supprimer définitivement ce message ?',
    'messages.empty': 'Aucun message.',
    'messages.player': 'Lecteur',
    'folder.inbox': 'Nouveaux',
    'folder.old': 'Écoutés',
    'folder.urgent': 'Urgents',
    'folder.work': 'Travail',
    'folder.family': 'Famille',
    'folder.friends': 'Amis',
    'error.generic': 'Une erreur est survenue',
  },
  en: {
    'app.title': 'Voicemail — line management',
    'lang.toggle': 'Français',
    'lang.toggleLabel': 'Passer en français',
    'login.title': 'Log in',
    'login.line': 'Line number',
    'login.pin': 'Secret code (PIN)',
    'login.submit': 'Log in',
    'logout': 'Log out',
    'line.label': 'Line',
    'routing.title': 'Enable/disable the voicemail',
    'routing.fax': 'The line works as a fax.',
    'routing.voicemail': 'The voicemail is enabled.',
    'routing.enable': 'Enable the voicemail',
    'routing.disable': 'Back to fax mode',
    'routing.warning': 'Enabling the voicemail disables every fax feature of your line',
    'routing.confirmEnable': 'Enable the "Voicemail" feature',
    'routing.confirmDisable': 'Back to fax mode',
    'routing.cancel': 'Cancel',
    'routing.disableText': 'Calls will be answered by the fax again and the voicemail will stop taking messages.',
    'numbers.title': 'Consult your mailbox by phone',
    'numbers.text': 'Dial one of these numbers from any phone:',
    'pin.title': 'Voicemail access password',
    'pin.new': 'New code (4 to 10 digits)',
    'pin.submit': 'Change the code',
    'pin.done': 'Code changed.',
    'settings.title': 'Voicemail settings',
    'settings.unread': 'Unread messages',
    'settings.greetingType': 'Greeting',
    'settings.greetingType.default': 'Default greeting',
    'settings.greetingType.full': 'Full custom greeting',
    'settings.greetingType.short': 'Short greeting',
    'settings.temporaryGreetingActivated': 'Temporary greeting enabled',
    'settings.doNotRecord': 'Do not record messages (greeting only)',
    'settings.forcePassword': 'Always ask for the code, even from the line',
    'settings.keepMessage': 'Keep messages after sending them by e-mail',
    'settings.audioFormat': 'Audio format of attachments',
    'settings.fromEmail': 'Sender e-mail address',
    'settings.fromName': 'Sender name',
    'settings.emails': 'Notification e-mail addresses (at most 5)',
    'settings.email': 'E-mail address',
    'settings.emailType': 'Notification type',
    'settings.emailType.attachment': 'With the message attached',
    'settings.emailType.simple': 'Simple notification',
    'settings.save': 'Save',
    'settings.saved': 'Settings saved.',
    'greetings.title': 'Greetings',
    'greetings.kind.unavail': 'Unavailable',
    'greetings.kind.busy': 'Busy',
    'greetings.kind.greet': 'Welcome',
    'greetings.kind.temp': 'Temporary',
    'greetings.kind.name': 'Name',
    'greetings.none': 'No greeting recorded',
    'greetings.recorded': 'Recorded',
    'greetings.file': 'Audio file',
    'greetings.upload': 'Upload',
    'greetings.delete': 'Delete',
    'greetings.uploaded': 'Greeting saved.',
    'messages.title': 'Listen to and manage messages',
    'messages.folder': 'Folder',
    'messages.all': 'All',
    'messages.caller': 'Caller',
    'messages.date': 'Date',
    'messages.duration': 'Duration',
    'messages.actions': 'Actions',
    'messages.play': 'Play',
    'messages.download': 'Download',
    'messages.format': 'Format',
    'messages.move': 'Move to',
    'messages.delete': 'Delete',
    'messages.confirmDelete': 'Delete this message for good?',
    'messages.empty': 'No messages.',
    'messages.player': 'Player',
    'folder.inbox': 'New',
    'folder.old': 'Heard',
    'folder.urgent': 'Urgent',
    'folder.work': 'Work',
    'folder.family': 'Family',
    'folder.friends': 'Friends',
    'error.generic': 'Something went wrong',
  },
};

export const LANGUAGES = Object.freeze(Object.keys(MESSAGES));

let current = readStoredLanguage();

function readStoredLanguage() {
  try {
    const stored = localStorage.getItem(STORAGE_KEY);
    return stored !== null && stored in MESSAGES ? stored : 'fr';
  } catch {
    return 'fr';
  }
}

export function language() {
  return current;
}

/** The text of `key` in the current language (the key itself if missing, so gaps are visible). */
export function t(key) {
  return MESSAGES[current][key] ?? MESSAGES.fr[key] ?? key;
}

export function setLanguage(lang) {
  if (!(lang in MESSAGES)) return;
  current = lang;
  try {
    localStorage.setItem(STORAGE_KEY, lang);
  } catch {
    // Private browsing may refuse storage: the choice then lasts for the page only.
  }
}

/** Fills every element carrying data-i18n (text) or data-i18n-label (aria-label) under `root`. */
export function translate(root) {
  document.documentElement.lang = current;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
}
