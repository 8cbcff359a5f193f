//! The one helper every CLI test drives the binary through.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;

pub const PASSWORD: &str = "correct horse battery staple";

/// A `qhub` with its own, fresh `QHUB_HOME`, on the embedded SQLite database or
/// on a fresh database of the real PostgreSQL server.
///
/// Its compiled plugins come from the cache this test process shares
/// ([`shared_cache`], through `QHUB_CACHE_DIR`), so that hundreds of fresh homes
/// do not each compile the same components again; a test about the cache itself,
/// or about what a first run compiles, takes [`Qhub::with_own_cache`].
pub struct Qhub {
    home: tempfile::TempDir,
    postgres: Option<qhub_test_support::TempDatabase>,
    /// `QHUB_CACHE_DIR`, or `None` for the home's own `QHUB_HOME/cache`.
    cache: Option<PathBuf>,
}

/// The compiled-plugin cache every [`Qhub`] of this test process uses, warmed
/// once: the first call runs a `register` on SQLite and one on PostgreSQL, which
/// compile the account core and both storage plugins into it; anything else (the
/// provider plugins, `qhub serve`'s engine) is compiled there by the first test
/// that needs it. Entries are trusted because only this user can write them (the
/// directory and each entry are checked), so sharing them between the homes of
/// one user is as safe as reusing them within one home.
///
/// It lives in `target/tmp/cli-plugin-cache-PID`: a directory per process, so that
/// every run starts cold and concurrent runs stay apart, and the directories of
/// processes that have ended are removed here.
pub fn shared_cache() -> &'static Path {
    static CACHE: OnceLock<PathBuf> = OnceLock::new();
    CACHE.get_or_init(|| {
        let base = Path::new(env!("CARGO_TARGET_TMPDIR"));
        remove_dirs_of_ended_processes(base, "cli-plugin-cache-");
        let dir = base.join(format!("cli-plugin-cache-{}", std::process::id()));
        let warm = |qhub: Qhub| {
            let qhub = Qhub {
                cache: Some(dir.clone()),
                ..qhub
            };
            let run = qhub.register("warm-up@example.com");
            // Only an optimisation: a test that needs what failed here fails itself.
            if run.code != 0 {
                eprintln!("warming the shared plugin cache failed: {run:#?}");
            }
        };
        warm(Qhub::with_home(None));
        warm(Qhub::with_home(Some(
            qhub_test_support::TempDatabase::create(),
        )));
        dir
    })
}

/// Removes the directories `PREFIXpid` in `base` (a test process's own, named by
/// its pid) whose process has ended.
pub fn remove_dirs_of_ended_processes(base: &Path, prefix: &str) {
    let Ok(entries) = std::fs::read_dir(base) else {
        return;
    };
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(pid) = name.to_str().and_then(|n| n.strip_prefix(prefix)) else {
            continue;
        };
        if pid.parse::<u32>().is_ok() && !Path::new("/proc").join(pid).exists() {
            let _ = std::fs::remove_dir_all(entry.path());
        }
    }
}

/// Defines each scenario twice, as `NAME::sqlite` and `NAME::postgres`: the same
/// test code on both databases.
macro_rules! on_both_databases {
    ($($(#[$meta:meta])* fn $name:ident($qhub:ident) $body:block)*) => {$(
        $(#[$meta])*
        mod $name {
            #[allow(unused_imports, reason = "not every scenario uses its module's helpers")]
            use super::*;
            fn scenario($qhub: $crate::harness::Qhub) $body
            #[test]
            fn sqlite() {
                scenario($crate::harness::Qhub::new())
            }
            #[test]
            fn postgres() {
                scenario($crate::harness::Qhub::postgres())
            }
        }
    )*};
}
pub(crate) use on_both_databases;

/// What one run of the binary did.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

/// Starts `command` with its three streams piped, writes `stdin` (if any) and
/// closes it, without waiting: several can then run at once.
pub fn spawn_piped(command: &mut Command, stdin: Option<&str>) -> Child {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the qhub binary runs");
    let mut pipe = child.stdin.take().expect("stdin is piped");
    if let Some(input) = stdin {
        match pipe.write_all(input.as_bytes()) {
            // A command may end without reading its input (a usage error, say):
            // what it did is judged from its exit code and output, not here.
            Err(err) if err.kind() == std::io::ErrorKind::BrokenPipe => {}
            written => written.expect("writing stdin"),
        }
    }
    child
}

impl Run {
    /// Waits for a child from [`spawn_piped`] and collects what it did.
    pub fn finish(child: Child) -> Run {
        let out = child.wait_with_output().expect("qhub finishes");
        Run {
            code: out.status.code().unwrap_or(-1),
            stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
            stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        }
    }

    /// Asserts success and returns stdout.
    #[track_caller]
    pub fn ok(&self) -> &str {
        assert_eq!(self.code, 0, "expected success, got {self:#?}");
        &self.stdout
    }

    /// Asserts the exit code and that stderr mentions `needle`.
    #[track_caller]
    pub fn fails(&self, code: i32, needle: &str) -> &Self {
        assert_eq!(self.code, code, "expected exit code {code}, got {self:#?}");
        assert!(
            self.stderr.contains(needle),
            "stderr should mention {needle:?}: {self:#?}"
        );
        self
    }

    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(self.ok())
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }
}

impl Qhub {
    /// On the embedded SQLite database.
    pub fn new() -> Qhub {
        Qhub {
            cache: Some(shared_cache().to_owned()),
            ..Qhub::with_home(None)
        }
    }

    /// On a fresh PostgreSQL database (`--database` through `DATABASE_URL`).
    pub fn postgres() -> Qhub {
        Qhub {
            cache: Some(shared_cache().to_owned()),
            ..Qhub::with_home(Some(qhub_test_support::TempDatabase::create()))
        }
    }

    /// A fresh home over `postgres` (SQLite when `None`), its cache in it.
    fn with_home(postgres: Option<qhub_test_support::TempDatabase>) -> Qhub {
        Qhub {
            home: tempfile::tempdir().expect("temporary QHUB_HOME"),
            postgres,
            cache: None,
        }
    }

    /// This `qhub` with its compiled-plugin cache in its own `QHUB_HOME/cache`,
    /// empty, as on a user's first run: for the tests of the cache, of what a first
    /// run compiles and shows, and of processes racing on a fresh home.
    pub fn with_own_cache(self) -> Qhub {
        Qhub {
            cache: None,
            ..self
        }
    }

    pub fn database_url(&self) -> Option<&str> {
        self.postgres.as_ref().map(|db| db.url())
    }

    pub fn home(&self) -> &Path {
        self.home.path()
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.home.path().join(name)
    }

    /// `qhub args...` in this home, with the environment every test runs it in.
    pub fn command(&self, args: &[&str], env: &[(&str, &str)]) -> Command {
        let mut command = Command::new(env!("CARGO_BIN_EXE_qhub"));
        command
            .args(args)
            .env("QHUB_HOME", self.home.path())
            .current_dir(self.home.path())
            .env_remove("QHUB_LOG")
            .env_remove("QHUB_SERVER")
            .env_remove("QHUB_TOKEN")
            .env_remove("JWT_SECRET")
            .env_remove("DATABASE_URL")
            // A developer's real credentials or settings never reach a test.
            .env_remove("CLOUDFLARE_API_TOKEN")
            .env_remove("QHUB_D1_API_URL")
            .env_remove("QHUB_PROVIDERS")
            .env_remove("QHUB_CACHE_DIR")
            .envs(self.cache.as_ref().map(|dir| ("QHUB_CACHE_DIR", dir)))
            // Colour follows the test, not the developer's terminal settings.
            .env_remove("NO_COLOR")
            .env_remove("CLICOLOR")
            .env_remove("CLICOLOR_FORCE")
            .envs(self.database_url().map(|url| ("DATABASE_URL", url)))
            .envs(env.iter().copied());
        command
    }

    /// Runs `qhub args...` with `stdin` piped in (empty when `None`).
    pub fn run_with(&self, args: &[&str], stdin: Option<&str>, env: &[(&str, &str)]) -> Run {
        Run::finish(spawn_piped(&mut self.command(args, env), stdin))
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with(args, None, &[])
    }

    /// `qhub register --email EMAIL --password-stdin` with [`PASSWORD`].
    pub fn register(&self, email: &str) -> Run {
        self.run_with(
            &["register", "--email", email, "--password-stdin"],
            Some(&format!("{PASSWORD}\n")),
            &[],
        )
    }

    pub fn login(&self, email: &str, password: &str) -> Run {
        self.run_with(
            &["login", "--email", email, "--password-stdin"],
            Some(&format!("{password}\n")),
            &[],
        )
    }

    pub fn config(&self) -> String {
        std::fs::read_to_string(self.path("config.toml")).expect("config.toml exists")
    }

    /// The active login's token.
    pub fn token(&self) -> String {
        let config: toml::Table = toml::from_str(&self.config()).expect("config.toml is TOML");
        config["login"][0]["token"]
            .as_str()
            .expect("a token is saved")
            .to_owned()
    }

    /// Replaces the saved logins with one login holding `token`, for this
    /// harness's database.
    pub fn set_token(&self, token: &str) {
        let database = self
            .database_url()
            .map(|url| format!("database = {url:?}\n"))
            .unwrap_or_default();
        let config =
            format!("[[login]]\nemail = \"ada@example.com\"\n{database}token = {token:?}\n");
        std::fs::write(self.path("config.toml"), config).expect("writing config.toml");
    }

    /// Forgets the saved login (config.toml), as another device that never held
    /// this one's token: its next login leaves the earlier sessions alone.
    pub fn forget_login(&self) {
        std::fs::remove_file(self.path("config.toml")).expect("removing config.toml");
    }

    /// Expires every API key that has an expiry, as if its time had passed.
    pub fn expire_api_keys(&self) {
        match self.database_url() {
            Some(url) => self.sql(
                url,
                "UPDATE api_keys SET expires_at = to_timestamp(1) WHERE expires_at IS NOT NULL",
            ),
            None => {
                let url = format!("sqlite://{}", self.path("qhub.db").display());
                self.sql(
                    &url,
                    "UPDATE api_keys SET expires_at = 1000 WHERE expires_at IS NOT NULL",
                )
            }
        }
    }

    /// Expires every session in the database, as an operator with SQL access could.
    pub fn expire_sessions(&self) {
        match self.database_url() {
            Some(url) => self.sql(url, "UPDATE user_sessions SET expires_at = to_timestamp(1)"),
            None => {
                let url = format!("sqlite://{}", self.path("qhub.db").display());
                self.sql(&url, "UPDATE user_sessions SET expires_at = 1000")
            }
        }
    }

    /// Ends every sign-in lock, as if its time had passed.
    pub fn expire_login_locks(&self) {
        match self.database_url() {
            Some(url) => self.sql(
                url,
                "UPDATE login_throttles SET locked_until = to_timestamp(1)",
            ),
            None => {
                let url = format!("sqlite://{}", self.path("qhub.db").display());
                self.sql(&url, "UPDATE login_throttles SET locked_until = 1000")
            }
        }
    }

    fn sql(&self, url: &str, statement: &str) {
        let (url, statement) = (url.to_owned(), statement.to_owned());
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("tokio")
            .block_on(async move {
                use sqlx::Connection;
                let statement = sqlx::AssertSqlSafe(statement);
                if url.starts_with("sqlite:") {
                    let mut conn = sqlx::SqliteConnection::connect(&url)
                        .await
                        .expect("open qhub.db");
                    sqlx::query(statement)
                        .execute(&mut conn)
                        .await
                        .expect("run SQL");
                } else {
                    let mut conn = sqlx::PgConnection::connect(&url)
                        .await
                        .expect("open PostgreSQL");
                    sqlx::query(statement)
                        .execute(&mut conn)
                        .await
                        .expect("run SQL");
                }
            });
    }
}
