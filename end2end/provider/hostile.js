// Hostile mode of the local provider (PROVIDER_TEST_HOOKS=1 only): one misbehaviour at a
// time, as in the OpenID Foundation's RP conformance plans, switched by
// POST /__test/settings {"hostile": "<mode>"} (null: behave). The app must refuse each.
import crypto from 'node:crypto';
import { CompactSign, decodeJwt } from 'jose';

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
const base64url = (value) => Buffer.from(JSON.stringify(value)).toString('base64url');
const now = () => Math.floor(Date.now() / 1000);

function rsaKey(kid) {
  const { privateKey, publicKey } = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { privateKey, kid, jwk: { ...publicKey.export({ format: 'jwk' }), kid, alg: 'RS256', use: 'sig' } };
}

/**
 * `signingKey` (public JWK with kid) and `privateKey` are the provider's own; `onTokens` sees
 * every token response as the app receives it.
 */
export function hostileMode({ signingKey, privateKey, onTokens }) {
  let mode = null;
  const rogue = rsaKey('not-in-the-jwks');
  const rotated = rsaKey('rotated-in-later');

  const sign = (claims, key = { privateKey, kid: signingKey.kid }) =>
    new CompactSign(Buffer.from(JSON.stringify(claims)))
      .setProtectedHeader({ alg: 'RS256', kid: key.kid })
      .sign(key.privateKey);

  // The ID token of a code exchange, rewritten.
  const idTokenAtLogin = {
    'id-token-bad-signature': async (claims) => {
      const jwt = await sign(claims);
      const at = jwt.length - 20; // inside the signature
      return jwt.slice(0, at) + (jwt[at] === 'A' ? 'B' : 'A') + jwt.slice(at + 1);
    },
    'id-token-alg-none': async (claims) => `${base64url({ alg: 'none', typ: 'JWT' })}.${base64url(claims)}.`,
    'id-token-wrong-iss': (claims) => sign({ ...claims, iss: 'https://evil.example' }),
    'id-token-wrong-aud': ({ azp, ...claims }) => sign({ ...claims, aud: ['another-client'] }),
    'id-token-expired': (claims) => sign({ ...claims, iat: now() - 7200, exp: now() - 3600 }),
    'id-token-wrong-nonce': (claims) => sign({ ...claims, nonce: 'not-the-nonce-that-was-sent' }),
    'id-token-no-nonce': ({ nonce, ...claims }) => sign(claims),
    'id-token-no-sub': ({ sub, ...claims }) => sign(claims),
    'id-token-unknown-kid': (claims) => sign(claims, rogue),
    'id-token-other-azp': (claims) => sign({ ...claims, azp: 'another-client' }),
    'id-token-two-audiences-no-azp': ({ azp, ...claims }) => sign({ ...claims, aud: [claims.aud, 'another-client'].flat() }),
    'id-token-issued-in-the-future': (claims) => sign({ ...claims, iat: now() + 3600, exp: now() + 7200 }),
    'id-token-wrong-at-hash': (claims) => sign({ ...claims, at_hash: 'AAAAAAAAAAAAAAAAAAAAAA' }),
    // Not hostile: the access token's hash, right (OIDC Core 3.2.2.9: the left half of its
    // SHA-256), as some providers send it.
    'id-token-right-at-hash': (claims, accessToken) => sign({
      ...claims,
      at_hash: crypto.createHash('sha256').update(accessToken).digest().subarray(0, 16).toString('base64url'),
    }),
    // Not hostile: a key rotation. The new key is in the JWKS, which the app fetched before.
    'id-token-rotated-key': (claims) => sign(claims, rotated),
  };

  // Token endpoint failures: answered instead of the real endpoint.
  const tokenEndpoint = {
    'token-500': async (ctx) => {
      ctx.status = 500;
      ctx.body = { error: 'server_error', error_description: 'database unavailable' };
    },
    'token-not-json': async (ctx) => {
      ctx.status = 200;
      ctx.type = 'html';
      ctx.body = '<html><body><h1>502 Bad Gateway</h1></body></html>';
    },
    'token-hang': async (ctx) => {
      await sleep(15_000);
      ctx.status = 504;
    },
    'token-huge': async (ctx) => {
      ctx.status = 200;
      ctx.type = 'json';
      ctx.body = `{"access_token":"${'a'.repeat(5_000_000)}","token_type":"Bearer","expires_in":1800}`;
    },
  };

  const modes = [...Object.keys(idTokenAtLogin), ...Object.keys(tokenEndpoint), 'userinfo-other-sub', 'refresh-other-sub', 'refresh-slow'];

  async function middleware(ctx, next) {
    const isToken = ctx.path === '/oauth2/token';
    if (isToken && tokenEndpoint[mode]) return tokenEndpoint[mode](ctx);
    await next();
    // Not hostile, slow: a refresh grant is done (the refresh token rotated) before the answer
    // leaves, 1.5 s later.
    if (isToken && mode === 'refresh-slow' && ctx.oidc?.params?.grant_type === 'refresh_token') await sleep(1500);
    if (isToken && ctx.body?.id_token) {
      const claims = decodeJwt(ctx.body.id_token);
      const refreshing = ctx.oidc?.params?.grant_type === 'refresh_token';
      let idToken = ctx.body.id_token;
      if (!refreshing && idTokenAtLogin[mode]) idToken = await idTokenAtLogin[mode](claims, ctx.body.access_token);
      if (refreshing && mode === 'refresh-other-sub') idToken = await sign({ ...claims, sub: 'someone-else' });
      ctx.body = { ...ctx.body, id_token: idToken };
    }
    if (isToken && ctx.body?.access_token) onTokens(ctx.body);
    if (ctx.path === '/oauth2/userinfo' && mode === 'userinfo-other-sub' && ctx.body?.sub) {
      ctx.body = { ...ctx.body, sub: 'someone-else' };
    }
    if (ctx.path === '/oauth2/jwks' && mode === 'id-token-rotated-key') {
      ctx.body = { keys: [...ctx.body.keys, rotated.jwk] };
    }
  }

  return {
    middleware,
    get mode() {
      return mode;
    },
    set(next) {
      if (next !== null && !modes.includes(next)) throw new Error(`unknown hostile mode ${next}; one of ${modes.join(', ')}`);
      mode = next;
    },
  };
}
