//! The HTTP client for every call to the provider — discovery, JWKS, token, userinfo,
//! revocation: no redirects (openidconnect's SSRF advice), a deadline for the whole call, and a
//! cap on the response body, so that no provider answer can hang a request or fill memory.

use openidconnect::{http, reqwest, AsyncHttpClient, HttpClientError, HttpRequest, HttpResponse};
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

/// No call to the provider may hang a request for longer than this.
pub const PROVIDER_TIMEOUT: Duration = Duration::from_secs(10);

/// Discovery, JWKS and token responses are a few kilobytes; anything near this is hostile.
pub const MAX_RESPONSE_BYTES: usize = 256 * 1024;

type Error = HttpClientError<reqwest::Error>;

#[derive(Clone, Debug)]
pub struct ProviderHttp(reqwest::Client);

impl ProviderHttp {
    pub fn new() -> Result<Self, String> {
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(PROVIDER_TIMEOUT)
            .build()
            .map(Self)
            .map_err(|error| format!("cannot build the HTTP client: {error}"))
    }

    /// For requests that openidconnect does not make itself (revocation). Same limits.
    pub fn post(&self, url: url::Url) -> reqwest::RequestBuilder {
        self.0.post(url)
    }

    /// POSTs `body` as JSON to `url` (Authgear's own API): the answer's status and body, with
    /// the same limits.
    pub async fn post_json(
        &self,
        url: url::Url,
        body: Vec<u8>,
    ) -> Result<(http::StatusCode, Vec<u8>), Error> {
        let mut response = self
            .0
            .post(url)
            .header(http::header::CONTENT_TYPE, "application/json")
            .body(body)
            .send()
            .await
            .map_err(Box::new)?;
        Ok((response.status(), read_capped(&mut response).await?))
    }
}

impl<'c> AsyncHttpClient<'c> for ProviderHttp {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let request = request.try_into().map_err(Box::new)?;
            let mut response = self.0.execute(request).await.map_err(Box::new)?;
            let mut builder = http::Response::builder()
                .status(response.status())
                .version(response.version());
            for (name, value) in response.headers() {
                builder = builder.header(name, value);
            }
            let body = read_capped(&mut response).await?;
            builder.body(body).map_err(HttpClientError::Http)
        })
    }
}

/// The body, or an error as soon as it is known to exceed [`MAX_RESPONSE_BYTES`].
async fn read_capped(response: &mut reqwest::Response) -> Result<Vec<u8>, Error> {
    let too_large =
        || HttpClientError::Other(format!("response larger than {MAX_RESPONSE_BYTES} bytes"));
    if response
        .content_length()
        .is_some_and(|length| length > MAX_RESPONSE_BYTES as u64)
    {
        return Err(too_large());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(Box::new)? {
        if body.len() + chunk.len() > MAX_RESPONSE_BYTES {
            return Err(too_large());
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// The provider's client, noting the status of its last answer: openidconnect reports an error
/// answer whose body is not an OAuth error (an empty `400`, say) without its status, and the
/// status is what tells "refused" from "unavailable".
pub struct NotingStatus<'a> {
    http: &'a ProviderHttp,
    status: std::sync::Mutex<Option<http::StatusCode>>,
}

impl<'a> NotingStatus<'a> {
    pub fn new(http: &'a ProviderHttp) -> Self {
        Self {
            http,
            status: std::sync::Mutex::new(None),
        }
    }

    /// The status of the last answer; `None` if none came (network error, timeout).
    pub fn status(&self) -> Option<http::StatusCode> {
        *self
            .status
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

impl<'c> AsyncHttpClient<'c> for NotingStatus<'_> {
    type Error = Error;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, Error>> + Send + Sync + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(async move {
            let response = self.http.call(request).await?;
            *self
                .status
                .lock()
                .unwrap_or_else(|poisoned| poisoned.into_inner()) = Some(response.status());
            Ok(response)
        })
    }
}

/// An error and its sources, joined: what a provider call's error says, all of it.
pub fn error_chain(error: &dyn std::error::Error) -> String {
    let mut text = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
