//! A redis-server of its own for a test (Debian's, which `scripts/setup --e2e` installs).

use fred::prelude::Pool as RedisPool;

/// A redis-server on a free port, stopped when dropped.
pub(crate) struct ScratchRedis {
    child: std::process::Child,
    pub(crate) url: String,
}

impl ScratchRedis {
    pub(crate) async fn start() -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map(|addr| addr.port())
            .expect("port");
        let child = std::process::Command::new("redis-server")
            .args([
                "--port",
                &port.to_string(),
                "--save",
                "",
                "--appendonly",
                "no",
            ])
            .stdout(std::process::Stdio::null())
            .spawn()
            .expect("redis-server on PATH (scripts/setup --e2e installs it)");
        let url = format!("redis://127.0.0.1:{port}");
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                break;
            }
            tokio::time::sleep(std::time::Duration::from_millis(50)).await;
        }
        Self { child, url }
    }

    /// A connected pool, as the store makes it.
    pub(crate) async fn pool(&self) -> RedisPool {
        super::redis::connect_redis(&self.url).await.expect("redis")
    }
}

impl Drop for ScratchRedis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
