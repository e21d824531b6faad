//! Where a login attempt waits between `/login` and `/callback`: in a cookie of its own, in the
//! browser that started it, encrypted and authenticated with the app's secret key. Nothing is
//! written to the session store until the provider has signed the user in, so a client that
//! calls `/login` in a loop costs the server no storage at all (issue 21; before, each call left
//! a session record for a day).
//!
//! Each attempt (each tab) has its own cookie, named after its `state`, gone after
//! [`LOGIN_TRANSACTION_TTL_SECS`]. Over https it is a `__Host-` cookie, which a sibling
//! subdomain cannot set (no login CSRF by planting an attempt); such a cookie must have
//! `Path=/`, so it travels with the app's other requests for those minutes. Over http (this
//! machine only) it is sent only to `/callback`. The callback takes it and removes it:
//! single use in the browser, and the provider refuses a second use of the code anyway.

use crate::server::session::{unix_now, LoginTransaction, LOGIN_TRANSACTION_TTL_SECS};
use axum::http::header::COOKIE;
use axum::http::HeaderMap;
use tower_sessions::cookie::time::Duration;
use tower_sessions::cookie::{Cookie, CookieJar, Key, SameSite};

/// The longest `state` this app issues is 43 characters; a longer one names no attempt.
const MAX_STATE_LEN: usize = 64;

/// Writes and reads the login-attempt cookies.
#[derive(Clone)]
pub(crate) struct LoginAttempts {
    key: Key,
    secure: bool,
    /// The callback's path: the only route the cookies are sent to.
    path: &'static str,
}

impl LoginAttempts {
    /// Cookies encrypted with `key`; `Secure` (and named `__Host-…`) when the app is served
    /// over https.
    pub(crate) fn new(key: Key, secure: bool, path: &'static str) -> Self {
        Self { key, secure, path }
    }

    /// The `Set-Cookie` value that keeps `transaction` in the browser for the login window.
    pub(crate) fn set_cookie(&self, transaction: &LoginTransaction) -> Option<String> {
        let name = self.name(&transaction.state)?;
        let value = serde_json::to_string(transaction).ok()?;
        let mut jar = CookieJar::new();
        jar.private_mut(&self.key).add(self.cookie(name, value));
        let cookie = jar.delta().next()?;
        Some(cookie.to_string())
    }

    /// The attempt `state` names, if this browser holds it, it is intact and it is not older
    /// than the login window; and the `Set-Cookie` value that removes it (sent whatever the
    /// outcome, so that it is used at most once).
    pub(crate) fn take(
        &self,
        headers: &HeaderMap,
        state: &str,
    ) -> (Option<LoginTransaction>, Option<String>) {
        let Some(name) = self.name(state) else {
            return (None, None);
        };
        let mut jar = CookieJar::new();
        for header in headers.get_all(COOKIE) {
            let Ok(header) = header.to_str() else {
                continue;
            };
            for cookie in Cookie::split_parse(header).flatten() {
                if cookie.name() == name {
                    jar.add_original(cookie.into_owned());
                }
            }
        }
        let found = jar
            .private(&self.key)
            .get(&name)
            .and_then(|cookie| serde_json::from_str::<LoginTransaction>(cookie.value()).ok())
            .filter(|transaction| transaction.state == state)
            .filter(|transaction| {
                let age = unix_now().saturating_sub(transaction.created_at);
                (0..LOGIN_TRANSACTION_TTL_SECS).contains(&age)
            });
        let removal = jar.get(&name).map(|_| {
            let mut removal = self.cookie(name, String::new());
            removal.make_removal();
            removal.to_string()
        });
        (found, removal)
    }

    /// `__Host-login-<state>` (or `login-<state>` over http). `None` for a `state` this app
    /// cannot have issued (it is URL-safe base64): such a name could not be a cookie's.
    fn name(&self, state: &str) -> Option<String> {
        let plausible = !state.is_empty()
            && state.len() <= MAX_STATE_LEN
            && state
                .bytes()
                .all(|byte| byte.is_ascii_alphanumeric() || byte == b'-' || byte == b'_');
        let prefix = if self.secure { "__Host-" } else { "" };
        plausible.then(|| format!("{prefix}login-{state}"))
    }

    fn cookie(&self, name: String, value: String) -> Cookie<'static> {
        Cookie::build((name, value))
            .path(if self.secure { "/" } else { self.path })
            .http_only(true)
            // Lax: the provider's redirect back is a top-level GET navigation, which carries it.
            .same_site(SameSite::Lax)
            .secure(self.secure)
            .max_age(Duration::seconds(LOGIN_TRANSACTION_TTL_SECS))
            .build()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn attempts(secure: bool) -> LoginAttempts {
        LoginAttempts::new(Key::derive_from(&[7; 64]), secure, "/callback")
    }

    fn transaction(state: &str, created_at: i64) -> LoginTransaction {
        LoginTransaction {
            state: state.to_owned(),
            nonce: "nonce".to_owned(),
            pkce_verifier: "verifier".to_owned(),
            return_to: "/account".to_owned(),
            created_at,
            max_age: None,
            silent: false,
        }
    }

    /// The request a browser sends to `/callback` with `set_cookie`'s cookie.
    fn request_with(set_cookie: &str) -> HeaderMap {
        let pair = set_cookie.split(';').next().expect("name=value");
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_str(pair).expect("header"));
        headers
    }

    #[test]
    fn an_attempt_comes_back_from_its_cookie_once_and_the_cookie_is_removed() {
        let attempts = attempts(false);
        let set = attempts
            .set_cookie(&transaction("abc_-123", unix_now()))
            .expect("cookie");
        assert!(set.starts_with("login-abc_-123="), "{set}");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/callback", "Max-Age=600"] {
            assert!(set.contains(attribute), "{attribute} missing: {set}");
        }
        assert!(!set.contains("Secure"), "{set}");
        assert!(
            !set.contains("/account"),
            "the cookie must be encrypted: {set}"
        );

        let (found, removal) = attempts.take(&request_with(&set), "abc_-123");
        let found = found.expect("the attempt");
        assert_eq!(found.return_to, "/account");
        let removal = removal.expect("removal");
        assert!(removal.starts_with("login-abc_-123=;"), "{removal}");
        assert!(removal.contains("Max-Age=0"), "{removal}");
    }

    #[test]
    fn over_https_the_cookie_is_a_host_cookie_that_comes_back() {
        let attempts = attempts(true);
        let set = attempts
            .set_cookie(&transaction("s1", unix_now()))
            .expect("cookie");
        // `__Host-`: Secure, Path=/ and no Domain, or browsers drop it.
        assert!(set.starts_with("__Host-login-s1="), "{set}");
        let attributes = |cookie: &str| -> Vec<String> {
            cookie.split("; ").skip(1).map(str::to_owned).collect()
        };
        assert!(attributes(&set).contains(&"Secure".to_owned()), "{set}");
        assert!(attributes(&set).contains(&"Path=/".to_owned()), "{set}");
        assert!(!set.contains("Domain"), "{set}");
        let (found, removal) = attempts.take(&request_with(&set), "s1");
        assert_eq!(found.expect("taken").state, "s1");
        let removal = removal.expect("removed");
        assert!(removal.starts_with("__Host-login-s1=;"), "{removal}");
        assert!(
            attributes(&removal).contains(&"Path=/".to_owned()),
            "{removal}"
        );
    }

    #[test]
    fn another_state_a_tampered_or_foreign_cookie_or_an_old_attempt_finds_nothing() {
        let attempts = attempts(false);
        let set = attempts
            .set_cookie(&transaction("s1", unix_now()))
            .expect("cookie");
        assert!(attempts.take(&request_with(&set), "s2").0.is_none());

        // One character of the sealed value changed.
        let mut tampered = set.split(';').next().expect("pair").to_owned();
        let last = tampered.pop().expect("value");
        tampered.push(if last == 'A' { 'B' } else { 'A' });
        assert!(attempts.take(&request_with(&tampered), "s1").0.is_none());

        // Sealed with another key.
        let foreign = LoginAttempts::new(Key::derive_from(&[8; 64]), false, "/callback")
            .set_cookie(&transaction("s1", unix_now()))
            .expect("cookie");
        assert!(attempts.take(&request_with(&foreign), "s1").0.is_none());

        // Older than the login window.
        let old = attempts
            .set_cookie(&transaction("s1", unix_now() - LOGIN_TRANSACTION_TTL_SECS))
            .expect("cookie");
        assert!(attempts.take(&request_with(&old), "s1").0.is_none());
    }

    #[test]
    fn a_state_that_cannot_be_a_cookie_name_finds_nothing() {
        let attempts = attempts(false);
        let headers = request_with("login-x=y");
        for state in ["", "a=b", "a;b", "a b", &"a".repeat(65), "é"] {
            assert_eq!(attempts.take(&headers, state).0.map(|t| t.state), None);
        }
    }
}
