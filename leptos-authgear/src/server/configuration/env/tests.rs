use super::super::{EndSessionMethod, Settings};
use crate::server::configuration::ConfigError;
use std::collections::HashMap;

const KEY: &str = "0123456789abcdef0123456789abcdef";

fn settings(pairs: &[(&str, &str)]) -> Result<Settings, ConfigError> {
    let map: HashMap<String, String> = pairs
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Settings::from_lookup(|name| map.get(name).cloned())
}

fn valid() -> Vec<(&'static str, &'static str)> {
    vec![
        ("AUTHGEAR_DOMAIN", "myapp.authgear.cloud"),
        ("AUTHGEAR_CLIENT_ID", "client"),
        ("AUTHGEAR_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", KEY),
    ]
}

fn variables(error: ConfigError) -> Vec<&'static str> {
    error.0.into_iter().map(|p| p.variable).collect()
}

#[test]
fn the_discovery_max_age_is_a_duration() {
    let mut pairs = valid();
    pairs.push(("AUTHGEAR_DISCOVERY_MAX_AGE", "10m"));
    let s = settings(&pairs).expect("valid");
    assert_eq!(
        s.provider.discovery_max_age,
        std::time::Duration::from_secs(600)
    );
    for bad in ["0", "soon", "-1h", "31d", "99999999999999999d"] {
        let mut pairs = valid();
        pairs.push(("AUTHGEAR_DISCOVERY_MAX_AGE", bad));
        let error = settings(&pairs).expect_err(bad);
        assert_eq!(variables(error), ["AUTHGEAR_DISCOVERY_MAX_AGE"], "{bad}");
    }
}

#[test]
fn defaults_follow_the_authgear_guide() {
    let s = settings(&valid()).expect("valid");
    assert_eq!(s.provider.issuer.as_str(), "https://myapp.authgear.cloud");
    assert_eq!(s.redirect_uri(), "http://localhost:3000/callback");
    assert_eq!(s.post_logout_redirect_uri(), "http://localhost:3000/");
    assert_eq!(s.listen_addr, "127.0.0.1:3000".parse().expect("addr"));
    assert!(!s.app_url.is_https());
    assert_eq!(
        s.provider.discovery_max_age,
        std::time::Duration::from_secs(3600)
    );
    assert!(s.provider.extra_scopes.is_empty());
}

#[test]
fn generic_names_are_aliases_and_a_base_path_moves_every_route() {
    let s = settings(&[
        ("OIDC_ISSUER", "https://sso.example.com/realms/main/"),
        ("OIDC_CLIENT_ID", "client"),
        ("OIDC_CLIENT_SECRET", "secret"),
        ("APP_SECRET_KEY", KEY),
        ("AUTH_BASE_PATH", "/auth"),
        ("AUTHGEAR_WEBHOOK_SECRET", "a-secret-from-the-portal"),
    ])
    .expect("valid");
    assert_eq!(
        s.provider.issuer.as_str(),
        "https://sso.example.com/realms/main/"
    );
    assert_eq!(s.redirect_uri(), "http://localhost:3000/auth/callback");
    assert_eq!(s.paths.login(), "/auth/login");
    assert_eq!(
        s.webhooks.expect("on").path,
        "/auth/webhooks/authgear",
        "the webhook route follows the base path"
    );
    let mut pairs = valid();
    pairs.push(("AUTH_BASE_PATH", "auth"));
    assert_eq!(
        variables(settings(&pairs).expect_err("bad")),
        ["AUTH_BASE_PATH"]
    );
}

#[test]
fn every_missing_variable_is_reported_at_once() {
    let error = settings(&[]).expect_err("nothing set");
    assert_eq!(
        variables(error.clone()),
        [
            "AUTHGEAR_DOMAIN",
            "AUTHGEAR_CLIENT_ID",
            "AUTHGEAR_CLIENT_SECRET",
            "APP_SECRET_KEY"
        ]
    );
    let text = error.to_string();
    assert!(text.contains("AUTHGEAR_CLIENT_SECRET: missing"), "{text}");
}

#[test]
fn short_secret_key_is_rejected_with_its_length() {
    let mut pairs = valid();
    pairs[3] = ("APP_SECRET_KEY", "too-short");
    let error = settings(&pairs).expect_err("short key");
    assert_eq!(variables(error.clone()), ["APP_SECRET_KEY"]);
    assert!(error.to_string().contains("9 bytes"));
}

#[test]
fn webhooks_are_off_without_a_secret_and_checked_with_one() {
    let s = settings(&valid()).expect("valid");
    assert!(s.webhooks.is_none());
    assert_eq!(s.end_session_method, EndSessionMethod::Post);
    let mut pairs = valid();
    pairs.push(("AUTHGEAR_WEBHOOK_SECRET", "a-secret-from-the-portal"));
    let s = settings(&pairs).expect("valid");
    let webhooks = s.webhooks.expect("on");
    assert_eq!(webhooks.path, "/webhooks/authgear");
    assert!(
        !format!("{webhooks:?}").contains("portal"),
        "the secret is never printed"
    );
    let mut pairs = valid();
    pairs.extend([
        ("AUTHGEAR_WEBHOOK_SECRET", "short"),
        ("AUTHGEAR_WEBHOOK_PATH", "webhooks"),
        ("AUTHGEAR_END_SESSION_METHOD", "delete"),
    ]);
    let error = settings(&pairs).expect_err("invalid");
    assert_eq!(
        variables(error),
        [
            "AUTHGEAR_WEBHOOK_SECRET",
            "AUTHGEAR_WEBHOOK_PATH",
            "AUTHGEAR_END_SESSION_METHOD"
        ]
    );
    for bad in ["/", "/a//b", "/a?b", "/a b", "https://x/y"] {
        let mut pairs = valid();
        pairs.extend([
            ("AUTHGEAR_WEBHOOK_SECRET", "a-secret-from-the-portal"),
            ("AUTHGEAR_WEBHOOK_PATH", bad),
        ]);
        assert_eq!(
            variables(settings(&pairs).expect_err(bad)),
            ["AUTHGEAR_WEBHOOK_PATH"]
        );
    }
}

#[test]
fn port_overrides_the_site_address_port() {
    let mut pairs = valid();
    pairs.push(("LEPTOS_SITE_ADDR", "0.0.0.0:8080"));
    pairs.push(("PORT", "5000"));
    let s = settings(&pairs).expect("valid");
    assert_eq!(s.listen_addr, "0.0.0.0:5000".parse().expect("addr"));
}

#[test]
fn invalid_optional_values_are_named() {
    let mut pairs = valid();
    pairs.extend([
        ("PORT", "70000"),
        ("LEPTOS_SITE_ADDR", "localhost"),
        ("APP_URL", "localhost:3000"),
        ("AUTH_BASE_PATH", "a b"),
    ]);
    let error = settings(&pairs).expect_err("invalid");
    assert_eq!(
        variables(error),
        ["APP_URL", "AUTH_BASE_PATH", "LEPTOS_SITE_ADDR", "PORT"]
    );
}

#[test]
fn https_app_url_is_detected() {
    let mut pairs = valid();
    pairs.push(("APP_URL", "https://app.example.com/"));
    let s = settings(&pairs).expect("valid");
    assert!(s.app_url.is_https());
    assert_eq!(s.redirect_uri(), "https://app.example.com/callback");
}

#[test]
fn extra_scopes_are_validated_and_deduplicated() {
    let mut pairs = valid();
    pairs.push(("AUTHGEAR_SCOPES", "email  profile email openid"));
    assert_eq!(
        settings(&pairs).expect("valid").provider.extra_scopes,
        ["email", "profile"]
    );
    for bad in ["https://authgear.com/scopes/full-access", "bad\"scope"] {
        let mut pairs = valid();
        pairs.push(("AUTHGEAR_SCOPES", bad));
        assert_eq!(
            variables(settings(&pairs).expect_err(bad)),
            ["AUTHGEAR_SCOPES"]
        );
    }
}

#[test]
fn settings_signed_in_asks_for_full_access_which_is_never_listed_by_hand() {
    let full_access = crate::authgear::FULL_ACCESS_SCOPE;
    let mut pairs = valid();
    pairs.extend([
        ("AUTHGEAR_SETTINGS_SIGNED_IN", "true"),
        ("AUTHGEAR_SCOPES", "email"),
    ]);
    let s = settings(&pairs).expect("valid");
    assert!(s.settings_signed_in);
    assert_eq!(s.provider.extra_scopes, ["email", full_access]);
    assert!(!settings(&valid()).expect("valid").settings_signed_in);

    let mut pairs = valid();
    pairs.push(("AUTHGEAR_SETTINGS_SIGNED_IN", "sometimes"));
    let error = settings(&pairs).expect_err("not a switch");
    assert_eq!(variables(error), ["AUTHGEAR_SETTINGS_SIGNED_IN"]);

    let mut pairs = valid();
    pairs.push(("AUTHGEAR_SCOPES", full_access));
    let error = settings(&pairs).expect_err("listed by hand");
    assert!(
        error.0[0].message.contains("AUTHGEAR_SETTINGS_SIGNED_IN"),
        "{error}"
    );
}

#[test]
fn secrets_are_not_printed() {
    let s = settings(&valid()).expect("valid");
    let debug = format!("{s:?}");
    assert!(!debug.contains(KEY));
    assert!(!debug.contains("\"secret\""));
}

const VARIABLES: [&str; 19] = [
    "AUTHGEAR_DOMAIN",
    "AUTHGEAR_CLIENT_ID",
    "AUTHGEAR_CLIENT_SECRET",
    "AUTHGEAR_SCOPES",
    "APP_SECRET_KEY",
    "APP_URL",
    "LEPTOS_SITE_ADDR",
    "PORT",
    "AUTH_BASE_PATH",
    "SESSION_STORE",
    "SESSION_IDLE_TIMEOUT",
    "SESSION_MAX_LIFETIME",
    "SESSION_CACHE_SIZE",
    "RECENT_LOGIN_TO_END_SESSIONS",
    "AUTHGEAR_UI_LOCALES",
    "UI_LOCALES_FROM_ACCEPT_LANGUAGE",
    "SILENT_LOGIN_ONCE",
    "AUTHGEAR_SETTINGS_SIGNED_IN",
    "RUST_LOG",
];

proptest::proptest! {
    /// Any values for any variables: parsing never panics, reports problems by variable,
    /// and whatever it accepts keeps its promises.
    #[test]
    fn configuration_parsing_never_panics(
        values in proptest::collection::vec(
            proptest::option::of(proptest::prop_oneof![
                ".{0,80}",
                "(https?|redis|sqlite|ftp)://[a-z0-9.:@/%]{0,40}",
                "[0-9]{1,25}[smhdw]?",
            ]),
            VARIABLES.len(),
        )
    ) {
        let lookup = |name: &str| {
            VARIABLES
                .iter()
                .position(|variable| *variable == name)
                .and_then(|i| values[i].clone())
        };
        match Settings::from_lookup(lookup) {
            Ok(settings) => {
                proptest::prop_assert!(settings.secret_key.as_bytes().len() >= 32);
                proptest::prop_assert!(matches!(settings.provider.issuer.url().url().scheme(), "http" | "https"));
                proptest::prop_assert!(settings.session.idle_timeout <= settings.session.max_lifetime);
                proptest::prop_assert!(settings.session.cache_size >= 1);
                proptest::prop_assert!(!settings.app_url.origin().ends_with('/'));
            }
            Err(error) => {
                proptest::prop_assert!(!error.0.is_empty());
                for problem in &error.0 {
                    proptest::prop_assert!(VARIABLES.contains(&problem.variable));
                }
            }
        }
    }
}
