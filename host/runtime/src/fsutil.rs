//! Files only their owner may read or write: secrets, the CLI's config, the
//! compiled-plugin cache.
//!
//! Creation: files are created with mode 0600 and directories with 0700 by the
//! `open`/`mkdir` call itself, so there is no moment when another user could read
//! them; a secret appears under its name only once it is complete (written to a
//! private temporary file, then linked into place), so processes racing to create
//! it agree on the first one.
//!
//! Checks, as OpenSSH's `StrictModes` makes them on `~/.ssh`: a secret file must be
//! owned by this user (or root) and neither readable nor writable by group or others;
//! a directory holding secrets must be owned by this user (or root) and not writable
//! by group or others (anyone who can write the directory can replace the files in
//! it). Anything else is refused with an [`Insecure`] error that says how to fix it.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

/// A file or directory qhub will not trust with a secret, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Insecure {
    /// The file or directory at fault.
    pub path: PathBuf,
    pub problem: Problem,
}

/// What is wrong with an [`Insecure`] path.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Problem {
    /// A secret file that group or others may read or write; `mode` is its
    /// permission bits (e.g. `0o644`).
    Exposed { mode: u32 },
    /// A directory that group or others may write (they could plant or replace
    /// files in it); `mode` is its permission bits.
    Writable { mode: u32 },
    /// Owned by `owner`, neither this user (`uid`) nor root.
    Owner { owner: u32, uid: u32 },
}

impl fmt::Display for Insecure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path.display();
        match self.problem {
            Problem::Exposed { mode } => write!(
                f,
                "{path} has mode {mode:04o}: other users may read or change this secret, so qhub \
                 refuses to use it"
            ),
            Problem::Writable { mode } => write!(
                f,
                "{path} has mode {mode:04o}: other users may write to it and plant files qhub \
                 trusts, so qhub refuses to use it"
            ),
            Problem::Owner { owner, .. } => write!(
                f,
                "{path} is owned by another user (uid {owner}), so qhub refuses to use it"
            ),
        }
    }
}

impl std::error::Error for Insecure {}

impl Insecure {
    /// The command that fixes it, for a `hint:` line.
    pub fn hint(&self) -> String {
        let path = shell_quote(&self.path);
        match self.problem {
            Problem::Exposed { .. } => format!(
                "run `chmod 600 {path}`; if someone else may have read or changed it, delete it \
                 instead"
            ),
            Problem::Writable { .. } => format!("run `chmod 700 {path}`"),
            Problem::Owner { uid, .. } => format!(
                "if it is yours, run `sudo chown {uid} {path}`; otherwise delete it or set \
                 QHUB_HOME to a directory you own"
            ),
        }
    }

    fn into_io(self) -> io::Error {
        io::Error::new(io::ErrorKind::PermissionDenied, self)
    }
}

/// The [`Insecure`] finding an I/O error from this module carries, if any.
pub fn insecure(err: &io::Error) -> Option<&Insecure> {
    err.get_ref()?.downcast_ref::<Insecure>()
}

/// `path` as a shell word: quoted only when it has to be.
fn shell_quote(path: &Path) -> String {
    let text = path.to_string_lossy();
    let plain = |c: char| c.is_ascii_alphanumeric() || "/._-+:@%,=".contains(c);
    if !text.is_empty() && text.chars().all(plain) {
        text.into_owned()
    } else {
        format!("'{}'", text.replace('\'', r"'\''"))
    }
}

fn check_owner(path: &Path, meta: &fs::Metadata) -> Result<(), Insecure> {
    let uid = rustix::process::geteuid().as_raw();
    let owner = meta.uid();
    if owner == uid || owner == 0 {
        return Ok(());
    }
    Err(Insecure {
        path: path.to_path_buf(),
        problem: Problem::Owner { owner, uid },
    })
}

/// Refuses a secret file that is not private to its owner.
pub fn check_secret_file(path: &Path, meta: &fs::Metadata) -> Result<(), Insecure> {
    check_owner(path, meta)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(Insecure {
            path: path.to_path_buf(),
            problem: Problem::Exposed { mode },
        });
    }
    Ok(())
}

/// Refuses a directory that others may write to.
pub fn check_private_dir(path: &Path, meta: &fs::Metadata) -> Result<(), Insecure> {
    check_closed_to_others_writes(path, meta)
}

/// Refuses a file or directory not owned by this user (or root), or that the
/// group or others may write to.
pub fn check_closed_to_others_writes(path: &Path, meta: &fs::Metadata) -> Result<(), Insecure> {
    check_owner(path, meta)?;
    let mode = meta.mode() & 0o7777;
    if mode & 0o022 != 0 {
        return Err(Insecure {
            path: path.to_path_buf(),
            problem: Problem::Writable { mode },
        });
    }
    Ok(())
}

/// Creates `dir` (and parents) with mode 0700. An existing directory must pass
/// [`check_private_dir`] (an [`Insecure`] error otherwise); it is then tightened to
/// 0700 if it is ours.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    let meta = fs::metadata(dir)?;
    check_private_dir(dir, &meta).map_err(Insecure::into_io)?;
    if meta.mode() & 0o777 != 0o700 && meta.uid() == rustix::process::geteuid().as_raw() {
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))?;
    }
    Ok(())
}

/// Creates a new file with mode 0600; fails if it exists.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Creates an empty file with mode 0600 unless something exists at `path`;
/// returns whether it created it. For files another library then fills (SQLite
/// creates its `-wal` and `-shm` files with the database file's mode).
pub fn create_private_file_if_missing(path: &Path) -> io::Result<bool> {
    match create_private_file(path) {
        Ok(_) => Ok(true),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => Ok(false),
        Err(err) => Err(err),
    }
}

/// Reads a secret file, refusing it (an [`Insecure`] error) unless it is private
/// to its owner. The check is made on the opened file, so the file read is the
/// file checked.
pub fn read_private(path: &Path) -> io::Result<Vec<u8>> {
    let mut file = File::open(path)?;
    let meta = file.metadata()?;
    check_secret_file(path, &meta).map_err(Insecure::into_io)?;
    if !meta.is_file() {
        return Err(io::Error::other(format!(
            "{} is not a regular file",
            path.display()
        )));
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// A new private temporary file beside `path`, named after it.
fn private_temp(path: &Path) -> io::Result<(PathBuf, File)> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name(path),
        hex::encode(random_bytes(6)?)
    ));
    let file = create_private_file(&tmp)?;
    Ok((tmp, file))
}

/// Writes `bytes` to `path` atomically (a private temporary file renamed over it),
/// leaving the result with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let (tmp, mut file) = private_temp(path)?;
    let result = (|| {
        file.write_all(bytes)?;
        file.sync_all()?;
        fs::rename(&tmp, path)
    })();
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// Reads the secret at `path` (which must be private: see [`read_private`]), or
/// creates it with `len` random bytes (mode 0600). The new secret is written to a
/// private temporary file and hard-linked to `path`, which fails if `path` exists:
/// of processes racing to create it, one wins and the others read its complete file.
pub fn read_or_create_secret(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    match read_private(path) {
        Ok(secret) => return check_length(path, secret, len),
        Err(err) if err.kind() == io::ErrorKind::NotFound => {}
        Err(err) => return Err(err),
    }
    let secret = random_bytes(len)?;
    let (tmp, mut file) = private_temp(path)?;
    let linked = (|| {
        file.write_all(&secret)?;
        file.sync_all()?;
        fs::hard_link(&tmp, path)
    })();
    let _ = fs::remove_file(&tmp);
    match linked {
        Ok(()) => Ok(secret),
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            check_length(path, read_private(path)?, len)
        }
        Err(err) => Err(err),
    }
}

fn check_length(path: &Path, secret: Vec<u8>, len: usize) -> io::Result<Vec<u8>> {
    if secret.len() < len {
        return Err(io::Error::other(format!(
            "{} is shorter than {len} bytes; delete it and qhub makes a new one",
            path.display()
        )));
    }
    Ok(secret)
}

/// `len` bytes from the operating system's CSPRNG.
pub fn random_bytes(len: usize) -> io::Result<Vec<u8>> {
    let mut bytes = vec![0u8; len];
    getrandom::fill(&mut bytes)
        .map_err(|e| io::Error::other(format!("no randomness available: {e}")))?;
    Ok(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(path: &Path) -> u32 {
        fs::metadata(path).unwrap().permissions().mode() & 0o777
    }

    fn set_mode(path: &Path, mode: u32) {
        fs::set_permissions(path, fs::Permissions::from_mode(mode)).unwrap();
    }

    #[test]
    fn secrets_are_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let first = read_or_create_secret(&path, 32).unwrap();
        let second = read_or_create_secret(&path, 32).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }

    #[test]
    fn threads_racing_to_create_a_secret_agree() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let secrets: Vec<Vec<u8>> = std::thread::scope(|s| {
            let handles: Vec<_> = (0..16)
                .map(|_| s.spawn(|| read_or_create_secret(&path, 32).unwrap()))
                .collect();
            handles.into_iter().map(|h| h.join().unwrap()).collect()
        });
        assert!(secrets.iter().all(|s| *s == secrets[0]));
        assert_eq!(fs::read_dir(dir.path()).unwrap().count(), 1);
    }

    #[test]
    fn exposed_secrets_are_refused_with_the_chmod_that_fixes_them() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        fs::write(&path, [7u8; 32]).unwrap();
        for bad in [0o644, 0o640, 0o606, 0o660, 0o666] {
            set_mode(&path, bad);
            let err = read_or_create_secret(&path, 32).unwrap_err();
            let found = insecure(&err).unwrap_or_else(|| panic!("{bad:o}: {err}"));
            assert_eq!(found.problem, Problem::Exposed { mode: bad });
            assert!(
                err.to_string().contains(&format!("mode {bad:04o}")),
                "{err}"
            );
            assert_eq!(
                found.hint(),
                format!(
                    "run `chmod 600 {}`; if someone else may have read or changed it, delete it \
                     instead",
                    path.display()
                )
            );
        }
        for good in [0o600, 0o400, 0o700] {
            set_mode(&path, good);
            assert_eq!(read_or_create_secret(&path, 32).unwrap(), [7u8; 32]);
        }
    }

    #[test]
    fn directories_others_may_write_are_refused_and_others_tightened() {
        let dir = tempfile::tempdir().unwrap();
        let home = dir.path().join("home");
        fs::create_dir(&home).unwrap();
        for bad in [0o777, 0o770, 0o1777, 0o722] {
            set_mode(&home, bad);
            let err = create_private_dir(&home).unwrap_err();
            let found = insecure(&err).unwrap_or_else(|| panic!("{bad:o}: {err}"));
            assert_eq!(found.problem, Problem::Writable { mode: bad });
            assert_eq!(found.hint(), format!("run `chmod 700 {}`", home.display()));
            assert_eq!(
                mode(&home),
                bad & 0o777,
                "a refused directory is left alone"
            );
        }
        set_mode(&home, 0o755);
        create_private_dir(&home).unwrap();
        assert_eq!(mode(&home), 0o700);
        let nested = dir.path().join("a/b");
        create_private_dir(&nested).unwrap();
        assert_eq!(mode(&nested), 0o700);
    }

    #[test]
    fn hints_quote_paths_for_the_shell() {
        let found = Insecure {
            path: PathBuf::from("/tmp/it's here/jwt-secret"),
            problem: Problem::Writable { mode: 0o777 },
        };
        assert_eq!(
            found.hint(),
            r"run `chmod 700 '/tmp/it'\''s here/jwt-secret'`"
        );
    }

    #[test]
    fn write_private_replaces_atomically_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "old").unwrap();
        set_mode(&path, 0o644);
        write_private(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(mode(&path), 0o600);
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }
}
