// The local provider's pages: its sign-in pages in English and French (from `ui_locales`, as
// Authgear's are), the frame every page of it shares, and reading a request's body.

// The login pages in the language `ui_locales` asks for, as Authgear's are: the first tag whose
// language this provider speaks (English, French), else English.
const WORDS = {
  en: {
    signIn: 'Sign in',
    signUp: 'Create your account',
    intro: 'Local demo provider: enter any email address to get a one-time code.',
    email: 'Email',
    continue: 'Continue',
    cancel: 'Cancel',
    enterCode: 'Enter the code',
    sent: 'We sent a one-time code to',
    code: 'One-time code',
    verify: 'Verify',
  },
  fr: {
    signIn: 'Connexion',
    signUp: 'Créer votre compte',
    intro: 'Fournisseur de démonstration local : saisissez une adresse e-mail pour recevoir un code à usage unique.',
    email: 'Adresse e-mail',
    continue: 'Continuer',
    cancel: 'Annuler',
    enterCode: 'Saisissez le code',
    sent: 'Nous avons envoyé un code à usage unique à',
    code: 'Code à usage unique',
    verify: 'Vérifier',
  },
};

export function languageOf(uiLocales) {
  const tags = String(uiLocales || '').split(' ').map((tag) => tag.split('-')[0].toLowerCase());
  return tags.find((tag) => tag in WORDS) || 'en';
}

export function emailPage(uid, error = '', signup = false, lang = 'en') {
  const words = WORDS[lang];
  const title = signup ? words.signUp : words.signIn;
  return page(title, `
    <h1 id="${signup ? 'signupTitle' : 'loginTitle'}">${title}</h1>
    <p>${words.intro}</p>
    ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
    <form method="post" action="/interaction/${uid}/email">
      <label for="email">${words.email}</label>
      <input id="email" name="email" type="email" autocomplete="email" required autofocus>
      <button type="submit" id="continue">${words.continue}</button>
    </form>
    <form method="post" action="/interaction/${uid}/abort">
      <button type="submit" id="cancel" class="secondary">${words.cancel}</button>
    </form>`, lang);
}

export function codePage(uid, email, code, error = '', lang = 'en') {
  const words = WORDS[lang];
  return page(words.enterCode, `
    <h1>${words.enterCode}</h1>
    <p>${words.sent} <strong>${escape(email)}</strong>.</p>
    <p class="dev" id="devCode">Development only — your code is <code>${escape(code)}</code></p>
    ${error ? `<p class="error" role="alert">${escape(error)}</p>` : ''}
    <form method="post" action="/interaction/${uid}/code">
      <label for="code">${words.code}</label>
      <input id="code" name="code" inputmode="numeric" autocomplete="one-time-code" required autofocus>
      <button type="submit" id="verify">${words.verify}</button>
    </form>`, lang);
}

export function page(title, body, lang = 'en') {
  return `<!DOCTYPE html><html lang="${lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · Local demo provider</title>
<style>
body{font-family:system-ui,sans-serif;max-width:26rem;margin:3rem auto;padding:0 1rem;color:#1d1d1f}
label{display:block;margin:.8rem 0 .3rem}input{width:100%;padding:.6rem;font-size:1rem;box-sizing:border-box}
button{margin-top:.8rem;padding:.6rem 1rem;font-size:1rem;background:#1d4ed8;color:#fff;border:0;border-radius:6px;cursor:pointer}
button.secondary{background:#e5e7eb;color:#111}.error{color:#b91c1c}.dev{background:#fef3c7;padding:.5rem;border-radius:6px}
.badge{font-size:.8rem;color:#555}
</style></head><body><p class="badge">Local demo provider (like Authgear)</p>${body}</body></html>`;
}

export function escape(text) {
  return String(text).replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]);
}

export function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

export async function readBody(req) {
  let body = '';
  for await (const chunk of req) {
    body += chunk;
    if (body.length > 10_000) throw new Error('request body too large');
  }
  return body;
}

export async function readForm(req) {
  return new URLSearchParams(await readBody(req));
}
