//! Where the root key comes from, and the start-up check that it belongs to the database.
//!
//! The root key never enters the database. It comes from one of:
//!
//! - **A key file** ([`RootKeySource::File`]). The default is a file in the data directory that
//!   [`load_or_create`] generates on first start; a file elsewhere (another disk) can be named
//!   in the configuration and read with [`load`], which never creates one (so a missing mount
//!   is an error, not a new key). A key file must not be accessible by group or others
//!   (`mode & 0o077 == 0`): anything else is refused with the `chmod` that fixes it.
//! - **An environment variable** ([`RootKeySource::Env`]), read by `config` like every other
//!   setting and handed over here as a [`SecretString`].
//!
//! Both hold the 32 key bytes in standard base64 (44 characters), surrounding whitespace
//! ignored: exactly what `openssl rand -base64 32` prints. The file written on first start is
//! those 44 characters and a newline.
//!
//! **Creating the file** is atomic and durable: the key is written to a temporary file in the
//! same directory (created with mode 0600, then set to 0600 whatever the umask), fsynced, then
//! published under the final name with a hard link, which (unlike `rename`) fails if the name
//! exists. So two processes starting at once on an empty data directory never replace each
//! other's key: the loser reads the winner's. The temporary name is then removed and the
//! directory fsynced. A crash leaves at most a stray `.<name>.<random>.tmp` (mode 0600).
//!
//! **The check** ([`verify_check_value`]): the database keeps the root key's check value
//! ([`RootKey::check_value`]). On first start there is none, and the caller stores the one
//! returned; later, a different value means the wrong root key, and Coffer must refuse to start
//! before it tries to decrypt anything.

use std::fmt;
use std::fs::{self, File, OpenOptions, Permissions};
use std::io::{self, Read, Write};
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use zeroize::Zeroizing;

use super::keys::{KEY_LEN, KeyMaterial, RootKey};
use super::{CryptoError, REDACTED, SecretString, aead};

/// The mode of a key file Coffer creates.
pub const KEY_FILE_MODE: u32 = 0o600;
/// A key file is a line of base64; anything longer than this is not one.
const MAX_KEY_FILE_LEN: u64 = 1024;

/// Where to find the root key.
pub enum RootKeySource {
    /// A key file.
    File(PathBuf),
    /// The value of an environment variable (named, for error messages).
    Env {
        variable: String,
        value: SecretString,
    },
}

impl fmt::Debug for RootKeySource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RootKeySource::File(path) => f.debug_tuple("File").field(path).finish(),
            RootKeySource::Env { variable, .. } => f
                .debug_struct("Env")
                .field("variable", variable)
                .field("value", &format_args!("{REDACTED}"))
                .finish(),
        }
    }
}

/// Where a loaded root key came from (for the start-up log line).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RootKeyOrigin {
    /// Generated now, into a new key file: the operator should back it up.
    CreatedFile,
    ExistingFile,
    Environment,
}

/// Why the root key could not be loaded or does not fit the database. No message contains
/// key material: only paths, modes, variable names and lengths.
#[derive(Debug, thiserror::Error)]
pub enum RootKeyError {
    #[error("cannot {action} root key file {}: {source}", path.display())]
    Io {
        action: &'static str,
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error(
        "root key file {} has mode {mode:04o}, which lets other users read or change it; \
         run `chmod 600 {}` and start again",
        path.display(),
        path.display()
    )]
    TooOpen { path: PathBuf, mode: u32 },
    #[error("root key file {} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error(
        "{origin} does not hold a root key: {reason}; a root key is 32 random bytes in \
         base64, such as the output of `openssl rand -base64 32`"
    )]
    Malformed { origin: String, reason: String },
    #[error(
        "the root key does not match this database: its key check value differs from the \
         one stored when the database was first started; start coffer with that root key"
    )]
    WrongRootKey,
    #[error(transparent)]
    Crypto(#[from] CryptoError),
}

/// Reads the root key; a missing key file is an error. For a key file named in the
/// configuration and for the environment variable.
pub fn load(source: &RootKeySource) -> Result<RootKey, RootKeyError> {
    match source {
        RootKeySource::Env { variable, value } => parse_key(value.expose().as_bytes(), || {
            format!("the environment variable {variable}")
        }),
        RootKeySource::File(path) => match read_key_file(path)? {
            Some(key) => Ok(key),
            None => Err(RootKeyError::Io {
                action: "read",
                path: path.clone(),
                source: io::ErrorKind::NotFound.into(),
            }),
        },
    }
}

/// Reads the root key, generating a key file first if there is none (the default key file
/// in the data directory). The directory must exist.
pub fn load_or_create(source: &RootKeySource) -> Result<(RootKey, RootKeyOrigin), RootKeyError> {
    let path = match source {
        RootKeySource::Env { .. } => return Ok((load(source)?, RootKeyOrigin::Environment)),
        RootKeySource::File(path) => path,
    };
    if let Some(key) = read_key_file(path)? {
        return Ok((key, RootKeyOrigin::ExistingFile));
    }
    if let Some(key) = create_key_file(path)? {
        return Ok((key, RootKeyOrigin::CreatedFile));
    }
    // Another process created the file between our read and our link: use its key.
    Ok((load(source)?, RootKeyOrigin::ExistingFile))
}

/// The result of comparing the root key with the database's check value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CheckOutcome {
    /// The database has no check value yet: store this one (first start).
    FirstStart { check_value: [u8; 32] },
    /// The root key is the database's.
    Matches,
}

/// Compares the root key with the check value stored in the database, in constant time.
pub fn verify_check_value(
    root: &RootKey,
    stored: Option<[u8; 32]>,
) -> Result<CheckOutcome, RootKeyError> {
    match stored {
        None => Ok(CheckOutcome::FirstStart {
            check_value: root.check_value(),
        }),
        Some(stored) if root.matches_check_value(&stored) => Ok(CheckOutcome::Matches),
        Some(_) => Err(RootKeyError::WrongRootKey),
    }
}

fn io_error(action: &'static str, path: &Path) -> impl FnOnce(io::Error) -> RootKeyError {
    let path = path.to_path_buf();
    move |source| RootKeyError::Io {
        action,
        path,
        source,
    }
}

/// The key in the file at `path`, or `None` if there is no such file.
fn read_key_file(path: &Path) -> Result<Option<RootKey>, RootKeyError> {
    let file = match File::open(path) {
        Ok(file) => file,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(None),
        Err(error) => return Err(io_error("open", path)(error)),
    };
    // The mode of the file we opened, not of whatever the path names a moment later.
    let metadata = file.metadata().map_err(io_error("inspect", path))?;
    if !metadata.is_file() {
        return Err(RootKeyError::NotAFile {
            path: path.to_path_buf(),
        });
    }
    let mode = metadata.permissions().mode() & 0o7777;
    if mode & 0o077 != 0 {
        return Err(RootKeyError::TooOpen {
            path: path.to_path_buf(),
            mode,
        });
    }
    // Enough capacity up front that reading never reallocates (and leaves a copy behind).
    let mut contents = Zeroizing::new(Vec::with_capacity(MAX_KEY_FILE_LEN as usize + 64));
    file.take(MAX_KEY_FILE_LEN + 1)
        .read_to_end(&mut contents)
        .map_err(io_error("read", path))?;
    if contents.len() as u64 > MAX_KEY_FILE_LEN {
        return Err(RootKeyError::Malformed {
            origin: format!("root key file {}", path.display()),
            reason: "it is too long".to_owned(),
        });
    }
    parse_key(&contents, || format!("root key file {}", path.display())).map(Some)
}

fn parse_key(text: &[u8], origin: impl FnOnce() -> String) -> Result<RootKey, RootKeyError> {
    let malformed = |reason: String| RootKeyError::Malformed {
        origin: origin(),
        reason,
    };
    let text = text.trim_ascii();
    if text.is_empty() {
        return Err(malformed("it is empty".to_owned()));
    }
    let mut decoded = Zeroizing::new(Vec::with_capacity(
        base64::decoded_len_estimate(text.len()) + 3,
    ));
    // The decoder's error names the offending byte: not repeated, it is part of the key.
    if STANDARD.decode_vec(text, &mut decoded).is_err() {
        return Err(malformed("it is not valid base64".to_owned()));
    }
    if decoded.len() != KEY_LEN {
        return Err(malformed(format!(
            "it holds {} bytes instead of {KEY_LEN}",
            decoded.len()
        )));
    }
    Ok(RootKey::new(KeyMaterial::from_slice(&decoded)?))
}

/// Generates a key and publishes it at `path`; `None` if a file appeared there meanwhile.
fn create_key_file(path: &Path) -> Result<Option<RootKey>, RootKeyError> {
    let Some(file_name) = path.file_name() else {
        return Err(RootKeyError::NotAFile {
            path: path.to_path_buf(),
        });
    };
    let directory = match path.parent() {
        Some(parent) if !parent.as_os_str().is_empty() => parent,
        _ => Path::new("."),
    };
    let material = KeyMaterial::generate()?;
    let mut contents = Zeroizing::new(String::with_capacity(64));
    STANDARD.encode_string(material.expose(), &mut contents);
    contents.push('\n');

    let mut suffix = [0u8; 8];
    aead::fill_random(&mut suffix)?;
    let temporary = directory.join(format!(
        ".{}.{}.tmp",
        file_name.to_string_lossy(),
        hex::encode(suffix)
    ));
    let written = write_new_file(&temporary, contents.as_bytes());
    let published = written.and_then(|()| fs::hard_link(&temporary, path));
    // Whatever happened, the temporary name goes (the key stays under `path` if linked).
    let removed = fs::remove_file(&temporary);
    match published {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::AlreadyExists => return Ok(None),
        Err(error) => return Err(io_error("create", path)(error)),
    }
    removed.map_err(io_error("remove the temporary copy of", path))?;
    File::open(directory)
        .and_then(|directory| directory.sync_all())
        .map_err(io_error("sync the directory of", path))?;
    Ok(Some(RootKey::new(material)))
}

fn write_new_file(path: &Path, contents: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(KEY_FILE_MODE)
        .open(path)?;
    // The umask may have taken bits away (even the owner's); set exactly 0600.
    file.set_permissions(Permissions::from_mode(KEY_FILE_MODE))?;
    file.write_all(contents)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key_path(dir: &tempfile::TempDir) -> PathBuf {
        dir.path().join("root.key")
    }

    fn file_source(path: &Path) -> RootKeySource {
        RootKeySource::File(path.to_path_buf())
    }

    fn env_source(value: &str) -> RootKeySource {
        RootKeySource::Env {
            variable: "COFFER_ROOT_KEY".to_owned(),
            value: SecretString::new(value.to_owned()),
        }
    }

    fn mode_of(path: &Path) -> u32 {
        fs::metadata(path).expect("metadata").permissions().mode() & 0o7777
    }

    fn chmod(path: &Path, mode: u32) {
        fs::set_permissions(path, Permissions::from_mode(mode)).expect("chmod");
    }

    #[test]
    fn first_start_creates_a_0600_key_file_that_reloads_to_the_same_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_path(&dir);
        let (created, origin) = load_or_create(&file_source(&path)).expect("create");
        assert_eq!(origin, RootKeyOrigin::CreatedFile);
        assert_eq!(mode_of(&path), 0o600);

        let contents = fs::read_to_string(&path).expect("read");
        assert_eq!(contents.len(), 45, "44 base64 characters and a newline");
        assert!(contents.ends_with('\n'));

        let (reloaded, origin) = load_or_create(&file_source(&path)).expect("reload");
        assert_eq!(origin, RootKeyOrigin::ExistingFile);
        assert!(reloaded == created);
        assert!(load(&file_source(&path)).expect("load") == created);
        // The same key through the environment.
        let from_env = load(&env_source(contents.trim())).expect("env");
        assert!(from_env == created);

        let names: Vec<_> = fs::read_dir(dir.path())
            .expect("list")
            .map(|entry| entry.expect("entry").file_name())
            .collect();
        assert_eq!(
            names,
            vec![std::ffi::OsString::from("root.key")],
            "no temporary left"
        );
    }

    #[test]
    fn concurrent_first_starts_agree_on_one_key() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_path(&dir);
        let keys: Vec<RootKey> = std::thread::scope(|scope| {
            let handles: Vec<_> = (0..8)
                .map(|_| scope.spawn(|| load_or_create(&file_source(&path)).expect("load").0))
                .collect();
            handles
                .into_iter()
                .map(|handle| handle.join().expect("thread"))
                .collect()
        });
        let on_disk = load(&file_source(&path)).expect("load");
        assert!(keys.iter().all(|key| *key == on_disk));
        assert_eq!(fs::read_dir(dir.path()).expect("list").count(), 1);
    }

    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_path(&dir);
        load_or_create(&file_source(&path)).expect("create");
        for mode in [0o644, 0o640, 0o604, 0o660, 0o602, 0o610] {
            chmod(&path, mode);
            let error = load_or_create(&file_source(&path)).expect_err("too open");
            assert!(
                matches!(error, RootKeyError::TooOpen { mode: m, .. } if m == mode),
                "{error}"
            );
            let message = error.to_string();
            let shown = path.display().to_string();
            assert!(message.contains(&shown), "{message}");
            assert!(message.contains(&format!("chmod 600 {shown}")), "{message}");
            assert!(message.contains(&format!("{mode:04o}")), "{message}");
            assert!(load(&file_source(&path)).is_err());
        }
        // The file was not replaced by the refusals.
        for mode in [0o600, 0o400] {
            chmod(&path, mode);
            assert!(load(&file_source(&path)).is_ok(), "{mode:o}");
        }
    }

    #[test]
    fn a_truncated_or_malformed_key_file_is_refused() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_path(&dir);
        load_or_create(&file_source(&path)).expect("create");
        let good = fs::read_to_string(&path).expect("read");
        let cases = [
            (good[..good.len() / 2].to_owned(), "truncated"),
            (good[..43].to_owned(), "one character short"),
            (String::new(), "empty"),
            ("\n".to_owned(), "blank"),
            ("not base64 at all!".to_owned(), "garbage"),
            (STANDARD.encode([7u8; 31]), "31 bytes"),
            (STANDARD.encode([7u8; 33]), "33 bytes"),
            (hex::encode([7u8; 32]), "hex, not base64"),
            ("A".repeat(2000), "too long"),
        ];
        for (contents, case) in cases {
            fs::write(&path, &contents).expect("write");
            chmod(&path, 0o600);
            let error = load_or_create(&file_source(&path)).expect_err(case);
            assert!(
                matches!(error, RootKeyError::Malformed { .. }),
                "{case}: {error}"
            );
            let message = error.to_string();
            assert!(message.contains(&path.display().to_string()), "{message}");
            if contents.len() > 8 {
                assert!(!message.contains(contents.trim()), "{case}: {message}");
            }
            // A malformed file is never replaced by a new key.
            assert_eq!(fs::read_to_string(&path).expect("read"), contents, "{case}");
        }
    }

    #[test]
    fn surrounding_whitespace_is_ignored() {
        let encoded = STANDARD.encode([42u8; 32]);
        let expected = RootKey::new(KeyMaterial::from_slice(&[42; 32]).expect("key"));
        for text in [
            encoded.clone(),
            format!("{encoded}\n"),
            format!("  {encoded}\r\n\n"),
        ] {
            assert!(load(&env_source(&text)).expect("parse") == expected);
        }
    }

    #[test]
    fn a_configured_key_file_is_never_created() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = key_path(&dir);
        let error = load(&file_source(&path)).expect_err("missing");
        assert!(matches!(&error, RootKeyError::Io { source, .. }
            if source.kind() == io::ErrorKind::NotFound));
        assert!(error.to_string().contains(&path.display().to_string()));
        assert!(!path.exists());
    }

    #[test]
    fn a_missing_directory_or_a_directory_is_an_error_naming_the_path() {
        let dir = tempfile::tempdir().expect("tempdir");
        let path = dir.path().join("absent").join("root.key");
        let error = load_or_create(&file_source(&path)).expect_err("no directory");
        assert!(matches!(error, RootKeyError::Io { .. }), "{error}");
        assert!(error.to_string().contains(&path.display().to_string()));

        let directory = dir.path().join("a-directory");
        fs::create_dir(&directory).expect("mkdir");
        chmod(&directory, 0o700);
        let error = load_or_create(&file_source(&directory)).expect_err("directory");
        assert!(matches!(error, RootKeyError::NotAFile { .. }), "{error}");
    }

    #[test]
    fn a_malformed_environment_variable_is_named_but_not_repeated() {
        for value in [
            "",
            "c2hvcnQ=",
            "!!!!not-base64-secret-ish!!!!",
            &"QUFB".repeat(20),
        ] {
            let error = load(&env_source(value)).expect_err("malformed");
            let message = error.to_string();
            assert!(message.contains("COFFER_ROOT_KEY"), "{message}");
            if !value.is_empty() {
                assert!(!message.contains(value), "{message}");
            }
        }
    }

    #[test]
    fn the_check_value_is_stored_on_first_start_and_compared_later() {
        let root = RootKey::new(KeyMaterial::from_slice(&[1; 32]).expect("key"));
        let other = RootKey::new(KeyMaterial::from_slice(&[2; 32]).expect("key"));
        let CheckOutcome::FirstStart { check_value } =
            verify_check_value(&root, None).expect("first start")
        else {
            panic!("expected a first start");
        };
        assert_eq!(check_value, root.check_value());
        assert_eq!(
            verify_check_value(&root, Some(check_value)).expect("same key"),
            CheckOutcome::Matches
        );
        let error = verify_check_value(&other, Some(check_value)).expect_err("wrong key");
        assert!(matches!(error, RootKeyError::WrongRootKey));
        assert!(
            error
                .to_string()
                .starts_with("the root key does not match this database")
        );
    }

    #[test]
    fn sources_print_without_the_key() {
        let printed = format!("{:?}", env_source("c2VjcmV0LXZhbHVlLWRpc3RpbmN0aXZl"));
        assert!(printed.contains(REDACTED), "{printed}");
        assert!(printed.contains("COFFER_ROOT_KEY"), "{printed}");
        assert!(!printed.contains("c2VjcmV0"), "{printed}");
        let printed = format!("{:?}", file_source(Path::new("/data/root.key")));
        assert!(printed.contains("/data/root.key"), "{printed}");
    }
}
