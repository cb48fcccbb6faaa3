//! A real Iceberg REST catalog for the tests: `rustberg` 0.3 (built once by
//! `.ci/install-rustberg` into `$HOME/.cache/ailake-tools`, or `AILAKE_RUSTBERG`), on a free
//! loopback port with a redb catalog file and a local warehouse, stopped when dropped (and
//! when the test process dies).

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

/// Where `.ci/run` installs rustberg.
pub fn rustberg_bin() -> PathBuf {
    if let Some(path) = std::env::var_os("AILAKE_RUSTBERG") {
        return PathBuf::from(path);
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default();
    let path = home.join(".cache/ailake-tools/rustberg-0.3.0-s3/bin/rustberg");
    assert!(
        path.exists(),
        "rustberg 0.3 is not installed at {}: run .ci/install-rustberg (.ci/run does) or set AILAKE_RUSTBERG",
        path.display()
    );
    path
}

/// A running rustberg server.
pub struct Rustberg {
    /// `http://127.0.0.1:PORT`.
    pub url: String,
    /// The admin API key it minted (sent as a bearer token).
    pub key: String,
    /// The warehouse directory its tables live in (unused with another warehouse URI).
    pub warehouse: PathBuf,
    child: Child,
}

/// Runs the server and stops it when the test process is gone (SIGTERM from `Drop` too).
const WATCHER: &str = r#"parent=$PPID; "$0" "$@" & server=$!
trap 'kill $server 2>/dev/null; exit 0' TERM INT
while kill -0 $parent 2>/dev/null && kill -0 $server 2>/dev/null; do sleep 0.3; done
kill $server 2>/dev/null"#;

impl Rustberg {
    /// Starts a server whose catalog and warehouse live under `dir`.
    pub fn start(dir: &Path) -> Self {
        Self::start_with(dir, None, &[])
    }

    /// Starts a server whose catalog lives under `dir` and whose warehouse is `warehouse_uri`
    /// (default a directory under `dir`), reaching its storage with Iceberg `properties`
    /// (`s3.endpoint`, `s3.access-key-id`, ...).
    pub fn start_with(dir: &Path, warehouse_uri: Option<&str>, properties: &[(&str, &str)]) -> Self {
        let warehouse = dir.join("rest-warehouse");
        std::fs::create_dir_all(&warehouse).unwrap();
        let warehouse = warehouse.canonicalize().unwrap();
        let warehouse_uri =
            warehouse_uri.map_or_else(|| format!("file://{}", warehouse.display()), str::to_string);
        let properties: String = properties.iter().map(|(k, v)| format!("\"{k}\" = \"{v}\"\n")).collect();
        let port = TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let config = dir.join("rustberg.toml");
        // No rate limit and no lockout: the tests send bad credentials on purpose.
        std::fs::write(
            &config,
            format!(
                "[server]\nhost = \"127.0.0.1\"\nport = {port}\n[storage]\ncatalog_url = \"file://{}\"\n\
                 [rate_limit]\nenabled = false\n[logging]\nlevel = \"warn\"\n[storage.properties]\n{properties}",
                dir.join("catalog.redb").display()
            ),
        )
        .unwrap();
        let log = dir.join("rustberg.log");
        let out = std::fs::File::create(&log).unwrap();
        let child = Command::new("sh")
            .arg("-c")
            .arg(WATCHER)
            .arg(rustberg_bin())
            .args(["--dev", "--insecure-http", "--config"])
            .arg(&config)
            .arg("--warehouse")
            .arg(warehouse_uri)
            .env("NO_COLOR", "1")
            .stdout(out.try_clone().unwrap())
            .stderr(out)
            .spawn()
            .expect("sh");
        let mut server =
            Rustberg { url: format!("http://127.0.0.1:{port}"), key: String::new(), warehouse, child };
        let started = Instant::now();
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if let Some(at) = text.find("X-API-Key: rb_") {
                let key = &text[at + "X-API-Key: ".len()..];
                server.key = key.split_whitespace().next().unwrap().to_string();
                if TcpStream::connect(("127.0.0.1", port)).is_ok() {
                    return server;
                }
            }
            assert!(started.elapsed() < Duration::from_secs(30), "rustberg did not start:\n{text}");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Rustberg {
    fn drop(&mut self) {
        let _ = Command::new("kill").arg("-TERM").arg(self.child.id().to_string()).status();
        let _ = self.child.wait();
    }
}
