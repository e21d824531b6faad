//! [`Provider`]: the provider as discovered (OpenID Connect Discovery), kept and done again
//! when it is old, when it failed, or when a token names a signing key it does not know.

use super::*;

/// The provider, discovered on first use: if it is down when the app starts, the app still
/// serves guests and discovery is tried again on the next login. Discovered again when an ID
/// token is signed with a key we do not know (key rotation), and when the last discovery is
/// older than `discovery_max_age` (a withdrawn key stops being trusted). Only calls that use
/// what discovery found (login, callback, refresh, logout, back-channel logout, `/readyz`) ever
/// wait for one; page views and `/api/current_user` do not.
pub struct Provider {
    settings: ProviderSettings,
    redirect_uri: RedirectUrl,
    post_logout_redirect_uri: PostLogoutRedirectUrl,
    http: ProviderHttp,
    discovered: RwLock<Option<Discovered>>,
    /// While there is no discovery yet: the last failed one, and until when it is the answer.
    failed: RwLock<Option<(Instant, String)>>,
    /// One discovery at a time.
    discovering: tokio::sync::Mutex<()>,
    /// The last discovery made because an unauthenticated request (a back-channel logout)
    /// named a signing key we do not know: such requests may cause one every
    /// [`UNKNOWN_KEY_REDISCOVERY_INTERVAL`] at most.
    last_unknown_key_rediscovery: std::sync::Mutex<Option<Instant>>,
    /// A discovery for unknown keys is scheduled (`rediscover_later`).
    rediscovery_due: std::sync::atomic::AtomicBool,
    /// [`UNKNOWN_KEY_REDISCOVERY_INTERVAL`] (shorter in tests).
    pub(super) unknown_key_interval: Duration,
}

/// A discovery's outcome, and until when it is used without discovering again.
#[derive(Clone)]
struct Discovered {
    client: Arc<OidcClient>,
    fresh_until: Instant,
}

/// After a failed rediscovery, the previous one serves this long (at most the max age) before
/// the next try: requests do not queue behind one attempt after another while the provider
/// hangs.
const REDISCOVERY_RETRY: Duration = Duration::from_secs(60);

/// Before any discovery has succeeded, a failed one is the answer for this long (at most the
/// max age): the requests that queued behind it, and those that follow, fail at once instead of
/// each waiting for a provider that hangs.
const FIRST_DISCOVERY_RETRY: Duration = Duration::from_secs(5);

/// A token from an unauthenticated sender, signed with a key we do not know, makes us discover
/// again at most this often: anyone can post such a token, and each must not cost the
/// provider a request.
const UNKNOWN_KEY_REDISCOVERY_INTERVAL: Duration = Duration::from_secs(30);
/// The same, as a `Retry-After` value.
pub(crate) const UNKNOWN_KEY_REDISCOVERY_SECS: &str = "30";

impl Discovered {
    fn is_fresh(&self) -> bool {
        Instant::now() < self.fresh_until
    }
}

impl Provider {
    pub fn new(settings: &Settings) -> Result<Self, String> {
        let http = ProviderHttp::new()?;
        Ok(Self {
            redirect_uri: RedirectUrl::new(settings.redirect_uri()).map_err(|e| e.to_string())?,
            post_logout_redirect_uri: PostLogoutRedirectUrl::new(
                settings.post_logout_redirect_uri(),
            )
            .map_err(|e| e.to_string())?,
            settings: settings.provider.clone(),
            http,
            discovered: RwLock::default(),
            failed: RwLock::default(),
            discovering: tokio::sync::Mutex::default(),
            last_unknown_key_rediscovery: std::sync::Mutex::default(),
            rediscovery_due: std::sync::atomic::AtomicBool::new(false),
            unknown_key_interval: UNKNOWN_KEY_REDISCOVERY_INTERVAL,
        })
    }

    /// The discovered client; discovers now if that has not succeeded yet or is too old. When
    /// discovering again fails, the previous discovery serves, and is tried again after
    /// [`REDISCOVERY_RETRY`]: the provider being briefly unreachable must not stop logouts.
    pub async fn client(&self) -> Result<Arc<OidcClient>, OidcError> {
        if let Some(fresh) = self.cached().filter(Discovered::is_fresh) {
            return Ok(fresh.client);
        }
        let _one_at_a_time = self.discovering.lock().await;
        match self.cached() {
            Some(found) if found.is_fresh() => Ok(found.client),
            Some(stale) => match self.discover_now().await {
                Ok(client) => Ok(client),
                Err(error) => {
                    tracing::warn!(%error, "discovering the provider again failed; using the previous discovery");
                    let retry = REDISCOVERY_RETRY.min(self.settings.discovery_max_age);
                    self.keep(stale.client.clone(), retry);
                    Ok(stale.client)
                }
            },
            None => {
                if let Some(error) = self.recent_failure() {
                    return Err(OidcError::Unavailable(error));
                }
                let discovered = self.discover_now().await;
                if let Err(error) = &discovered {
                    let retry = FIRST_DISCOVERY_RETRY.min(self.settings.discovery_max_age);
                    *self
                        .failed
                        .write()
                        .unwrap_or_else(|poisoned| poisoned.into_inner()) = Instant::now()
                        .checked_add(retry)
                        .map(|until| (until, error.to_string()));
                }
                discovered
            }
        }
    }

    /// The last failed first discovery, while it is still the answer.
    fn recent_failure(&self) -> Option<String> {
        let failed = self
            .failed
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner());
        failed
            .as_ref()
            .filter(|(until, _)| Instant::now() < *until)
            .map(|(_, error)| format!("{error} (a discovery moments ago; retried shortly)"))
    }

    /// Discovers again, unless another request already replaced `stale` meanwhile.
    pub(super) async fn rediscover(
        &self,
        stale: &Arc<OidcClient>,
    ) -> Result<Arc<OidcClient>, OidcError> {
        let _one_at_a_time = self.discovering.lock().await;
        match self.cached() {
            Some(found) if !Arc::ptr_eq(&found.client, stale) => Ok(found.client),
            _ => self.discover_now().await,
        }
    }

    /// Discovers again because a token from an unauthenticated sender names a key we do not
    /// know (the provider may have rotated its keys), at most once every
    /// [`UNKNOWN_KEY_REDISCOVERY_INTERVAL`]; `None` when it is too soon. Then a discovery is
    /// due at the end of the interval, whoever asks meanwhile: anyone can post such tokens and
    /// use the allowance up, but a genuine token signed with a key rotated in since finds that
    /// key when its sender tries again (the route answers 503 with `Retry-After`).
    pub async fn rediscover_for_unknown_key(
        self: &Arc<Self>,
        stale: &Arc<OidcClient>,
    ) -> Option<Result<Arc<OidcClient>, OidcError>> {
        {
            let mut last = self
                .last_unknown_key_rediscovery
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner());
            let now = Instant::now();
            if let Some(at) = last.filter(|at| now.duration_since(*at) < self.unknown_key_interval)
            {
                self.rediscover_later(at + self.unknown_key_interval);
                return None;
            }
            *last = Some(now);
        }
        Some(self.rediscover(stale).await)
    }

    /// One discovery at `when` (the next allowed), however many tokens asked meanwhile.
    fn rediscover_later(self: &Arc<Self>, when: Instant) {
        if self
            .rediscovery_due
            .swap(true, std::sync::atomic::Ordering::AcqRel)
        {
            return;
        }
        let provider = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(when.into()).await;
            *provider
                .last_unknown_key_rediscovery
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Instant::now());
            provider
                .rediscovery_due
                .store(false, std::sync::atomic::Ordering::Release);
            if let Err(error) = provider.discover_now().await {
                tracing::warn!(%error, "discovery for an unknown key failed");
            }
        });
    }

    fn cached(&self) -> Option<Discovered> {
        self.discovered
            .read()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
            .clone()
    }

    async fn discover_now(&self) -> Result<Arc<OidcClient>, OidcError> {
        let client = Arc::new(self.discover().await?);
        tracing::info!(issuer = %self.settings.issuer.as_str(), keys = client.jwks.keys().len(), "provider discovered");
        self.keep(client.clone(), self.settings.discovery_max_age);
        Ok(client)
    }

    fn keep(&self, client: Arc<OidcClient>, for_how_long: Duration) {
        *self
            .discovered
            .write()
            .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(Discovered {
            client,
            // The settings cap the max age, so this does not overflow; if it did, the
            // discovery would just be done again on the next call.
            fresh_until: Instant::now()
                .checked_add(for_how_long)
                .unwrap_or_else(Instant::now),
        });
    }

    async fn discover(&self) -> Result<OidcClient, OidcError> {
        let metadata =
            DiscoveredMetadata::discover_async(self.settings.issuer.url().clone(), &self.http)
                .await
                .map_err(|error| {
                    let mut message = error_chain(&error);
                    if message.contains("unexpected issuer") {
                        // The one thing a person can fix: the issuer is compared as written.
                        message.push_str(
                            "; configure the issuer exactly as the provider's discovery \
                             document writes it (a trailing slash included or not)",
                        );
                    }
                    OidcError::Unavailable(message)
                })?;
        let auth_type = choose_auth_type(metadata.token_endpoint_auth_methods_supported());
        let LogoutAndRevocation {
            end_session_endpoint,
            revocation_endpoint,
        } = metadata.additional_metadata().clone();
        let jwks = metadata.jwks().clone();
        let signing_algs = metadata.id_token_signing_alg_values_supported().clone();
        let client = DiscoveredClient::from_provider_metadata(
            metadata,
            self.settings.client_id.clone(),
            Some(self.settings.client_secret.clone()),
        )
        .set_redirect_uri(self.redirect_uri.clone())
        .set_auth_type(auth_type.clone());
        Ok(OidcClient {
            client,
            // Discovery has checked that the document's `issuer` is exactly this one.
            issuer: self.settings.issuer.url().clone(),
            http: self.http.clone(),
            scopes: self.settings.extra_scopes.clone(),
            end_session_endpoint,
            revocation_endpoint,
            jwks,
            signing_algs,
            client_id: self.settings.client_id.clone(),
            client_secret: self.settings.client_secret.clone(),
            auth_type,
            post_logout_redirect_uri: self.post_logout_redirect_uri.clone(),
        })
    }
}
