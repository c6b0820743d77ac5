//! Profiles of the aws CLI's shared credentials file (`[profile]` sections of `key = value`
//! lines): one profile is added or replaced, the rest of the file is kept as it was. The file
//! is written whole to a temporary file of mode 0600 and renamed over the old one.

use std::io::Write;
use std::path::Path;

use crate::service::identity::NewAccessKey;

/// `text` with the section `[profile]` replaced by `section` (appended if absent).
fn replace_section(text: &str, profile: &str, section: &str) -> String {
    let header = format!("[{profile}]");
    let mut out = String::new();
    let mut skipping = false;
    let mut replaced = false;
    for line in text.lines() {
        let trimmed = line.trim();
        if trimmed.starts_with('[') {
            skipping = trimmed == header;
            if skipping && !replaced {
                out.push_str(section);
                replaced = true;
            }
        }
        if !skipping {
            out.push_str(line);
            out.push('\n');
        }
    }
    if !replaced {
        if !out.is_empty() && !out.ends_with("\n\n") {
            out.push('\n');
        }
        out.push_str(section);
    }
    out
}

/// Writes `key` as `profile` into the credentials file at `path` (created with mode 0600;
/// its other profiles are kept).
pub fn write_profile(path: &Path, profile: &str, key: &NewAccessKey) -> Result<(), String> {
    if profile.is_empty() || profile.contains(['[', ']', '\n']) {
        return Err(format!("invalid profile name {profile:?}"));
    }
    let existing = match std::fs::read_to_string(path) {
        Ok(text) => zeroize::Zeroizing::new(text),
        Err(error) if error.kind() == std::io::ErrorKind::NotFound => {
            zeroize::Zeroizing::new(String::new())
        }
        Err(error) => return Err(format!("cannot read {}: {error}", path.display())),
    };
    let section = zeroize::Zeroizing::new(key.profile(profile));
    let text = zeroize::Zeroizing::new(replace_section(&existing, profile, &section));
    let file_name = path
        .file_name()
        .map(|name| name.to_string_lossy().into_owned())
        .unwrap_or_else(|| "credentials".to_owned());
    let temporary = path.with_file_name(format!(".{file_name}.tmp-{}", std::process::id()));
    let write = || -> std::io::Result<()> {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut file = options.open(&temporary)?;
        #[cfg(unix)]
        std::fs::set_permissions(
            &temporary,
            std::os::unix::fs::PermissionsExt::from_mode(0o600),
        )?;
        file.write_all(text.as_bytes())?;
        file.sync_all()?;
        std::fs::rename(&temporary, path)
    };
    write().map_err(|error| {
        let _ = std::fs::remove_file(&temporary);
        format!(
            "cannot write the credentials file {}: {error}",
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_profile_is_added_or_replaced_and_the_others_kept() {
        let section = "[coffer]\naws_access_key_id = NEW\n";
        assert_eq!(replace_section("", "coffer", section), section);
        let other = "[default]\naws_access_key_id = D\n";
        assert_eq!(
            replace_section(other, "coffer", section),
            format!("{other}\n{section}")
        );
        let both = "[default]\na = 1\n\n[coffer]\naws_access_key_id = OLD\nx = y\n[z]\nb = 2\n";
        assert_eq!(
            replace_section(both, "coffer", section),
            "[default]\na = 1\n\n[coffer]\naws_access_key_id = NEW\n[z]\nb = 2\n"
        );
    }
}
