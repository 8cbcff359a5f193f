//! Files only their owner may read: cache keys, secrets, the CLI's config.

use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` (and parents) with mode 0700, and tightens it if it already exists.
pub fn create_private_dir(dir: &Path) -> io::Result<()> {
    fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)?;
    fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
}

/// Creates a new file with mode 0600; fails if it exists.
pub fn create_private_file(path: &Path) -> io::Result<File> {
    OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
}

/// Writes `bytes` to `path` atomically (a private temporary file renamed over it),
/// leaving the result with mode 0600.
pub fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    let tmp = dir.join(format!(
        ".{}.tmp-{}",
        file_name(path),
        hex::encode(random_bytes(6)?)
    ));
    let result = (|| {
        let mut file = create_private_file(&tmp)?;
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

/// Reads the secret at `path`, or creates it with `len` random bytes (mode 0600).
/// Two processes racing to create it agree: the loser reads the winner's file.
pub fn read_or_create_secret(path: &Path, len: usize) -> io::Result<Vec<u8>> {
    match create_private_file(path) {
        Ok(mut file) => {
            let secret = random_bytes(len)?;
            file.write_all(&secret)?;
            file.sync_all()?;
            Ok(secret)
        }
        Err(err) if err.kind() == io::ErrorKind::AlreadyExists => {
            let mut secret = Vec::new();
            File::open(path)?.read_to_end(&mut secret)?;
            if secret.len() < len {
                // Possibly a racing writer that has not finished; a short secret is
                // never acceptable either way.
                return Err(io::Error::other(format!(
                    "{} is shorter than {len} bytes",
                    path.display()
                )));
            }
            Ok(secret)
        }
        Err(err) => Err(err),
    }
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

    #[test]
    fn secrets_are_created_once_and_private() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("secret");
        let first = read_or_create_secret(&path, 32).unwrap();
        let second = read_or_create_secret(&path, 32).unwrap();
        assert_eq!(first, second);
        assert_eq!(first.len(), 32);
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
    }

    #[test]
    fn write_private_replaces_atomically_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("config.toml");
        fs::write(&path, "old").unwrap();
        fs::set_permissions(&path, fs::Permissions::from_mode(0o644)).unwrap();
        write_private(&path, b"new").unwrap();
        assert_eq!(fs::read_to_string(&path).unwrap(), "new");
        assert_eq!(
            fs::metadata(&path).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            fs::read_dir(dir.path()).unwrap().count(),
            1,
            "no temporary file left behind"
        );
    }
}
