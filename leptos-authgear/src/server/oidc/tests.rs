//! The OpenID Connect flow's tests: token lifetimes, the client's authentication method, which
//! refusals end a grant, and discovery against a real HTTP fixture.

use super::*;

#[test]
fn a_providers_expires_in_cannot_overflow_or_last_for_ever() {
    assert_eq!(expires_at(1_000, 3_600), 4_600);
    assert_eq!(expires_at(1_000, u64::MAX), 1_000 + 365 * 86_400);
    assert_eq!(expires_at(i64::MAX - 5, 3_600), i64::MAX);
}

#[test]
fn client_secret_post_is_preferred_when_offered() {
    let both = vec![
        CoreClientAuthMethod::ClientSecretBasic,
        CoreClientAuthMethod::ClientSecretPost,
    ];
    assert!(matches!(
        choose_auth_type(Some(&both)),
        AuthType::RequestBody
    ));
    let basic_only = vec![CoreClientAuthMethod::ClientSecretBasic];
    assert!(matches!(
        choose_auth_type(Some(&basic_only)),
        AuthType::BasicAuth
    ));
    assert!(matches!(choose_auth_type(None), AuthType::BasicAuth));
}

/// A stand-in for the provider's discovery document and JWKS (no keys), counting the
/// discoveries and failing them while `up` is false.
struct DiscoveryFixture {
    issuer: String,
    discoveries: Arc<std::sync::atomic::AtomicUsize>,
    up: Arc<std::sync::atomic::AtomicBool>,
    /// The token endpoint's next answer: status and body.
    token_answer: Arc<std::sync::Mutex<(u16, &'static str)>>,
}

impl DiscoveryFixture {
    async fn start() -> Self {
        use axum::http::StatusCode;
        use axum::routing::get;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let issuer = format!("http://{}", listener.local_addr().unwrap());
        let discoveries = Arc::new(AtomicUsize::new(0));
        let up = Arc::new(AtomicBool::new(true));
        let token_answer = Arc::new(std::sync::Mutex::new((500, "")));
        let document = crate::server::testing::discovery_document(&issuer, "RS256");
        let router = axum::Router::new()
            .route(
                "/.well-known/openid-configuration",
                get({
                    let (discoveries, up) = (discoveries.clone(), up.clone());
                    move || async move {
                        discoveries.fetch_add(1, Ordering::SeqCst);
                        if up.load(Ordering::SeqCst) {
                            Ok(axum::Json(document))
                        } else {
                            Err(StatusCode::SERVICE_UNAVAILABLE)
                        }
                    }
                }),
            )
            .route(
                "/oauth2/jwks",
                get(|| async { axum::Json(serde_json::json!({ "keys": [] })) }),
            )
            .route(
                "/oauth2/token",
                axum::routing::post({
                    let token_answer = token_answer.clone();
                    move || async move {
                        let (status, body) = *token_answer.lock().unwrap();
                        let content_type = if body.starts_with('{') {
                            "application/json"
                        } else {
                            "text/html"
                        };
                        (
                            StatusCode::from_u16(status).unwrap(),
                            [(axum::http::header::CONTENT_TYPE, content_type)],
                            body,
                        )
                    }
                }),
            );
        tokio::spawn(async move { axum::serve(listener, router).await });
        Self {
            issuer,
            discoveries,
            up,
            token_answer,
        }
    }

    /// A provider for this fixture, rediscovering after `max_age`.
    fn provider(&self, max_age: &str) -> Provider {
        self.provider_at(&self.issuer, max_age)
    }

    /// A provider at `issuer`, with this fixture's client.
    fn provider_at(&self, issuer: &str, max_age: &str) -> Provider {
        let vars = std::collections::HashMap::from([
            ("AUTHGEAR_DOMAIN", issuer.to_owned()),
            ("AUTHGEAR_CLIENT_ID", "client".to_owned()),
            ("AUTHGEAR_CLIENT_SECRET", "secret".to_owned()),
            (
                "APP_SECRET_KEY",
                "unit-tests-only-0123456789abcdef0123".to_owned(),
            ),
            ("AUTHGEAR_DISCOVERY_MAX_AGE", max_age.to_owned()),
        ]);
        let settings =
            crate::server::configuration::Settings::from_lookup(|name| vars.get(name).cloned())
                .expect("valid settings");
        Provider::new(&settings).unwrap()
    }

    fn discoveries(&self) -> usize {
        self.discoveries.load(std::sync::atomic::Ordering::SeqCst)
    }
}

/// Any 4xx but 429 from the token endpoint ends the grant, parsed as an OAuth error or not
/// (an empty `400`, as one certified provider answers a revoked refresh token); 429, 5xx
/// and no answer keep the session.
#[tokio::test]
async fn only_refusals_end_the_grant() {
    let fixture = DiscoveryFixture::start().await;
    let provider = fixture.provider("1h");
    let user = SignedInUser::test_user("sub-1", None, serde_json::json!({}));
    for (status, body, ends) in [
        (400, r#"{"error":"invalid_grant"}"#, true),
        (400, "", true),
        (400, "<html>Bad Request</html>", true),
        (401, r#"{"error":"invalid_client"}"#, true),
        (403, "", true),
        (429, "", false),
        (429, r#"{"error":"slow_down"}"#, false),
        (500, "", false),
        (502, "<html>Bad Gateway</html>", false),
        (503, r#"{"error":"temporarily_unavailable"}"#, false),
    ] {
        *fixture.token_answer.lock().unwrap() = (status, body);
        let error = provider.refresh(&user).await.expect_err("refused");
        assert_eq!(
            matches!(error, RefreshError::GrantEnded(_)),
            ends,
            "{status} {body:?}: {error}"
        );
    }
    // No answer at all (the provider gone): temporary.
    let unreachable = fixture.provider_at("http://127.0.0.1:9", "1h");
    let error = unreachable.refresh(&user).await.expect_err("refused");
    assert!(matches!(error, RefreshError::Temporary(_)), "{error}");
}

/// Issuers are compared exactly (OpenID Connect Discovery §4.3): one written with a slash
/// the provider does not write is refused, with the fix in the message.
#[tokio::test]
async fn an_issuer_written_otherwise_than_the_provider_writes_it_is_refused_with_the_fix() {
    let fixture = DiscoveryFixture::start().await;
    let slashed = fixture.provider_at(&format!("{}/", fixture.issuer), "1h");
    let Err(error) = slashed.client().await else {
        panic!("a discovery document naming another issuer was accepted");
    };
    let message = error.to_string();
    assert!(message.contains("unexpected issuer"), "{message}");
    assert!(message.contains("trailing slash"), "{message}");
    assert!(
        fixture.provider("1h").client().await.is_ok(),
        "as written: accepted"
    );
}

#[tokio::test]
async fn a_failed_first_discovery_is_the_answer_for_a_moment_then_tried_again() {
    let fixture = DiscoveryFixture::start().await;
    fixture.up.store(false, std::sync::atomic::Ordering::SeqCst);
    let provider = fixture.provider("1s");
    assert!(provider.client().await.is_err());
    assert_eq!(fixture.discoveries(), 1);
    for _ in 0..5 {
        let error = provider.client().await.err().expect("still failing");
        assert!(error.to_string().contains("moments ago"), "{error}");
    }
    assert_eq!(fixture.discoveries(), 1, "no new try at once");
    fixture.up.store(true, std::sync::atomic::Ordering::SeqCst);
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    provider
        .client()
        .await
        .expect("discovered when tried again");
    assert_eq!(fixture.discoveries(), 2);
}

#[tokio::test]
async fn discovery_is_done_again_when_too_old_and_kept_while_that_fails() {
    let fixture = DiscoveryFixture::start().await;
    let provider = fixture.provider("1s");
    let too_old = || tokio::time::sleep(std::time::Duration::from_millis(1100));

    let first = provider.client().await.expect("discovered");
    let cached = provider.client().await.expect("cached");
    assert!(Arc::ptr_eq(&first, &cached));
    assert_eq!(fixture.discoveries(), 1);

    too_old().await;
    let renewed = provider.client().await.expect("discovered again");
    assert!(!Arc::ptr_eq(&first, &renewed));
    assert_eq!(fixture.discoveries(), 2);

    fixture.up.store(false, std::sync::atomic::Ordering::SeqCst);
    too_old().await;
    let kept = provider.client().await.expect("the previous discovery");
    assert!(Arc::ptr_eq(&renewed, &kept));
    assert_eq!(fixture.discoveries(), 3, "it tried");
    // The next call does not try again at once (the retry interval, here the max age).
    let kept = provider.client().await.expect("the previous discovery");
    assert!(Arc::ptr_eq(&renewed, &kept));
    assert_eq!(fixture.discoveries(), 3, "no second try at once");
    too_old().await;
    fixture.up.store(true, std::sync::atomic::Ordering::SeqCst);
    let back = provider
        .client()
        .await
        .expect("discovered when the provider is back");
    assert!(!Arc::ptr_eq(&renewed, &back));
    assert_eq!(fixture.discoveries(), 4);
}

/// Anyone may post tokens naming unknown keys: the rediscovery they may cause is spent at once,
/// but a discovery is then due at the end of the interval, however many ask meanwhile, so that a
/// genuine token signed with a key rotated in since finds it when its sender tries again.
#[tokio::test]
async fn unknown_keys_cannot_use_up_the_rediscovery_for_good() {
    let fixture = DiscoveryFixture::start().await;
    let mut provider = fixture.provider("1h");
    provider.unknown_key_interval = Duration::from_millis(300);
    let provider = Arc::new(provider);
    let client = provider.client().await.expect("discovered");
    let before = fixture.discoveries();
    assert!(provider.rediscover_for_unknown_key(&client).await.is_some());
    assert_eq!(fixture.discoveries(), before + 1);
    let client = provider.client().await.expect("discovered");
    for _ in 0..5 {
        assert!(provider.rediscover_for_unknown_key(&client).await.is_none());
    }
    assert_eq!(fixture.discoveries(), before + 1, "no more at once");
    tokio::time::sleep(Duration::from_millis(700)).await;
    assert_eq!(
        fixture.discoveries(),
        before + 2,
        "one at the end of the interval, for all who asked"
    );
}

/// A step-up login sends `max_age` (and `prompt=login` for `0`, as Authgear reads it), and
/// keeps it with the attempt, for the callback to check `auth_time` against.
#[tokio::test]
async fn a_step_up_login_sends_max_age_and_keeps_it() {
    let fixture = DiscoveryFixture::start().await;
    let client = fixture.provider("1h").client().await.expect("discovered");
    let query = |url: &Url, name: &str| {
        url.query_pairs()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.into_owned())
    };
    let login = |max_age| {
        client.authorize(
            "/account".into(),
            AuthorizeOptions {
                max_age,
                ..AuthorizeOptions::default()
            },
        )
    };

    let (url, attempt) = login(Some(300));
    assert_eq!(query(&url, "max_age").as_deref(), Some("300"));
    assert_eq!(query(&url, "prompt"), None);
    assert_eq!(attempt.max_age, Some(300));

    let (url, attempt) = login(Some(0));
    assert_eq!(query(&url, "max_age").as_deref(), Some("0"));
    assert_eq!(query(&url, "prompt").as_deref(), Some("login"));
    assert_eq!(attempt.max_age, Some(0));

    let (url, attempt) = login(None);
    assert_eq!(query(&url, "max_age"), None);
    assert_eq!(attempt.max_age, None);
}
