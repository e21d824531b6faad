//! [`serve`]: `axum::serve` with what production needs and it does not offer — a limit on open
//! connections, a time limit on reading a request's headers, the client's address for the
//! login's routes only, and a graceful shutdown that ends the session event streams (which
//! would otherwise hold it open forever).

use super::head_timer::HeadTimers;
use super::Auth;
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tower::Service;

/// Serves `app` (the app's router with [`Auth::layer`], or any service around it) on
/// `listener` over HTTP/1.1 until `shutdown` completes, then stops accepting, ends the session
/// event streams and waits for the open requests. At most
/// [`ServerLimits::max_connections`](super::ServerLimits) connections are open at once (more
/// wait in the kernel's queue); a connection that does not send a request's headers within
/// `header_read_timeout` is closed. The login's routes get the connection's peer as axum's
/// `ConnectInfo` (the login rate limit's client, through
/// [`trusted_proxies`](super::SettingsBuilder::trusted_proxies)); other requests do not pay
/// for it.
///
/// ```no_run
/// # #[cfg(feature = "ssr")]
/// # async fn example(auth: leptos_authgear::server::Auth, app: axum::Router) -> std::io::Result<()> {
/// let listener = tokio::net::TcpListener::bind("127.0.0.1:3000").await?;
/// leptos_authgear::server::serve(listener, app, &auth, async {
///     let _ = tokio::signal::ctrl_c().await;
/// })
/// .await
/// # }
/// ```
pub async fn serve<S>(
    listener: TcpListener,
    app: S,
    auth: &Auth,
    shutdown: impl Future<Output = ()>,
) -> std::io::Result<()>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send + 'static,
{
    let limits = auth.settings().limits();
    let paths = auth.paths();
    let connections = Arc::new(Semaphore::new(limits.max_connections));
    let graceful = GracefulShutdown::new();
    let timers = HeadTimers::start();
    let mut http = hyper::server::conn::http1::Builder::new();
    http.header_read_timeout(limits.header_read_timeout);
    tracing::info!(
        address = %listener.local_addr()?,
        max_connections = limits.max_connections,
        header_read_timeout = ?limits.header_read_timeout,
        client = %auth.client_source(),
        "serving"
    );
    tokio::pin!(shutdown);
    loop {
        let permit = tokio::select! {
            permit = connections.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
            () = &mut shutdown => break,
        };
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(error) => {
                    // Out of file descriptors, say: wait rather than spin (as axum::serve).
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(100)).await;
                    continue;
                }
            },
            () = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let service = PeerForLogin {
            inner: app.clone(),
            peer,
            login: paths.login(),
            callback: paths.callback(),
        };
        let connection = http
            .timer(timers.for_connection())
            .serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let connection = graceful.watch(connection);
        tokio::spawn(async move {
            // A client that goes away mid-request is not the server's error.
            let _ = connection.await;
            drop(permit);
        });
    }
    drop(listener);
    tracing::info!("shutting down");
    auth.stop_event_streams();
    graceful.shutdown().await;
    Ok(())
}

/// The app for one connection from `peer`: a request to the login's routes gets `peer` as
/// `ConnectInfo` (docs/decisions/0004-client-address-for-login-only.md).
#[derive(Clone)]
struct PeerForLogin<S> {
    inner: S,
    peer: SocketAddr,
    login: &'static str,
    callback: &'static str,
}

impl<S> Service<hyper::Request<Incoming>> for PeerForLogin<S>
where
    S: Service<Request, Response = Response, Error = Infallible>,
{
    type Response = Response;
    type Error = Infallible;
    type Future = S::Future;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: hyper::Request<Incoming>) -> Self::Future {
        let mut request = request.map(axum::body::Body::new);
        let path = request.uri().path();
        if path == self.login || path == self.callback {
            request.extensions_mut().insert(ConnectInfo(self.peer));
        }
        self.inner.call(request)
    }
}
