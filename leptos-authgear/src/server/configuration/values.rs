//! The settings' values that are checked when they are made: each constructor validates, so a
//! value of these types is always usable.

use super::ConfigError;
use openidconnect::IssuerUrl;
use secrecy::ExposeSecret;
use std::fmt;
use url::Url;

const MIN_SECRET_KEY_BYTES: usize = 32;

/// The provider's issuer, exactly as the provider writes it in its discovery document and its
/// tokens (OpenID Connect Discovery §4 and Core §3.1.3.7 compare it character for character):
/// with its path (Keycloak's `/realms/<name>`, Entra ID's `/<tenant>/v2.0`, Okta's
/// `/oauth2/<id>`) and its trailing slash, if it has them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issuer(IssuerUrl);

impl Issuer {
    /// `myapp.authgear.cloud` (Authgear's guide) means `https://myapp.authgear.cloud`; a full
    /// `http(s)://` URL is taken exactly as written. No user name, password, query or fragment.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let value = value.trim();
        if value.is_empty() {
            return Err(super::missing("AUTHGEAR_DOMAIN", super::ISSUER));
        }
        let with_scheme = if value.contains("://") {
            value.to_owned()
        } else {
            format!("https://{value}")
        };
        let problem = |why: String| {
            ConfigError::one(
                "AUTHGEAR_DOMAIN",
                format!(
                    "{why}; expected a domain like myapp.authgear.cloud or the issuer URL as the \
                     provider writes it, e.g. https://sso.example.com/realms/main"
                ),
            )
        };
        let url = check_http_url(&with_scheme).map_err(problem)?;
        if url.query().is_some() || url.fragment().is_some() {
            return Err(problem(format!(
                "`{value}` must not have a query or fragment"
            )));
        }
        // The URL crate writes `https://host` as `https://host/`: keep the text as given, which
        // is what the provider's `iss` must equal.
        IssuerUrl::new(with_scheme)
            .map(Self)
            .map_err(|error| problem(format!("not a valid issuer URL ({error})")))
    }

    /// The issuer's text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }

    pub(crate) fn url(&self) -> &IssuerUrl {
        &self.0
    }
}

impl fmt::Display for Issuer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The app's public origin, e.g. `http://localhost:3000`, without a trailing slash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppUrl(String);

impl AppUrl {
    /// `scheme://host[:port]`, with an optional trailing `/` (dropped); no path, query or
    /// fragment.
    pub fn parse(value: &str) -> Result<Self, ConfigError> {
        let problem = |why: String| {
            ConfigError::one(
                "APP_URL",
                format!("{why}; expected the app's address, e.g. http://localhost:3000"),
            )
        };
        let url = check_http_url(value).map_err(problem)?;
        if url.path() != "/" || url.query().is_some() || url.fragment().is_some() {
            return Err(problem(format!(
                "`{value}` must not have a path, query or fragment"
            )));
        }
        Ok(Self(url.as_str().trim_end_matches('/').to_owned()))
    }

    /// `http://localhost:3000`, the default.
    pub(crate) fn localhost() -> Self {
        Self("http://localhost:3000".to_owned())
    }

    /// `scheme://host[:port]`.
    pub fn origin(&self) -> &str {
        &self.0
    }
    /// Served over HTTPS: the cookie is `Secure` and named `__Host-session`.
    pub fn is_https(&self) -> bool {
        self.0.starts_with("https://")
    }
    /// On this machine: `localhost`, an IPv4 loopback address or `[::1]`.
    pub(crate) fn is_loopback(&self) -> bool {
        let host = url::Url::parse(&self.0)
            .ok()
            .and_then(|url| url.host().map(|host| host.to_owned()));
        match host {
            Some(url::Host::Domain(name)) => name.eq_ignore_ascii_case("localhost"),
            Some(url::Host::Ipv4(address)) => address.is_loopback(),
            Some(url::Host::Ipv6(address)) => address.is_loopback(),
            None => false,
        }
    }
}

/// The key the session cookie's key is derived from (`APP_SECRET_KEY`): never printed
/// (`secrecy`), wiped from memory when dropped.
#[derive(Clone)]
pub struct SecretKey(secrecy::SecretSlice<u8>);

impl SecretKey {
    /// At least 32 bytes, e.g. the text of `openssl rand -hex 32`.
    pub fn new(key: impl Into<Vec<u8>>) -> Result<Self, ConfigError> {
        let key = key.into();
        if key.len() < MIN_SECRET_KEY_BYTES {
            return Err(ConfigError::one(
                "APP_SECRET_KEY",
                format!(
                    "is {} bytes long; use at least {MIN_SECRET_KEY_BYTES}, e.g. `openssl rand \
                     -hex 32`",
                    key.len()
                ),
            ));
        }
        Ok(Self(key.into()))
    }

    /// The key's bytes.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.expose_secret()
    }
}

impl fmt::Debug for SecretKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("SecretKey([redacted])")
    }
}

/// An `http(s)://host…` URL without credentials; the reason otherwise.
fn check_http_url(value: &str) -> Result<Url, String> {
    let url = Url::parse(value).map_err(|error| format!("`{value}` is not a URL ({error})"))?;
    if !matches!(url.scheme(), "http" | "https") {
        return Err(format!("`{value}` must start with http:// or https://"));
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`{value}` has no host"));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(format!(
            "`{value}` must not contain a user name or password"
        ));
    }
    Ok(url)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_domain_means_https_and_a_url_is_kept_exactly() {
        for (given, kept) in [
            ("myapp.authgear.cloud", "https://myapp.authgear.cloud"),
            ("http://localhost:4000", "http://localhost:4000"),
            ("http://localhost:4000/", "http://localhost:4000/"),
            (
                "https://sso.example.com/realms/main",
                "https://sso.example.com/realms/main",
            ),
            (
                "https://login.microsoftonline.com/tenant/v2.0",
                "https://login.microsoftonline.com/tenant/v2.0",
            ),
            (
                "https://example.okta.com/oauth2/default/",
                "https://example.okta.com/oauth2/default/",
            ),
        ] {
            assert_eq!(Issuer::parse(given).expect(given).as_str(), kept);
        }
    }

    #[test]
    fn an_issuer_with_a_path_builds_its_discovery_url_under_it() {
        let issuer = Issuer::parse("https://sso.example.com/realms/main").expect("valid");
        assert_eq!(
            issuer
                .url()
                .join(".well-known/openid-configuration")
                .expect("url")
                .as_str(),
            "https://sso.example.com/realms/main/.well-known/openid-configuration"
        );
        let slash = Issuer::parse("https://sso.example.com/realms/main/").expect("valid");
        assert_eq!(
            slash
                .url()
                .join(".well-known/openid-configuration")
                .expect("url")
                .as_str(),
            "https://sso.example.com/realms/main/.well-known/openid-configuration"
        );
    }

    #[test]
    fn bad_issuers_are_refused() {
        for bad in [
            "ftp://example.com",
            "https://user:pw@example.com",
            "https://example.com?x=1",
            "https://example.com/#x",
            "exa mple.com",
            "http://",
        ] {
            assert!(Issuer::parse(bad).is_err(), "{bad} should be rejected");
        }
    }

    #[test]
    fn app_urls_are_origins() {
        assert_eq!(
            AppUrl::parse("https://app.example.com/")
                .expect("ok")
                .origin(),
            "https://app.example.com"
        );
        assert!(AppUrl::parse("https://app.example.com/app").is_err());
        assert!(AppUrl::parse("localhost:3000").is_err());
    }

    #[test]
    fn a_short_secret_key_is_refused_with_its_length() {
        let error = SecretKey::new("too-short").expect_err("short");
        assert!(error.to_string().contains("9 bytes"), "{error}");
        assert_eq!(
            SecretKey::new([7u8; 32]).expect("long enough").as_bytes(),
            &[7u8; 32]
        );
    }
}
