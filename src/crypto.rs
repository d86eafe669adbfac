//! Sealing report content at rest: XChaCha20-Poly1305 with a random 192-bit nonce per value,
//! stored as hex of `nonce || ciphertext`. The 32-byte key comes from `SOMEBOT_REPORT_KEY`
//! (64 hex digits) or from the file `report.key` in the data directory (64 hex digits),
//! which a first start creates with mode 0600. The key never sits in the database.

use std::fmt;
use std::path::{Path, PathBuf};

use chacha20poly1305::aead::{Aead, AeadCore, KeyInit, OsRng};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use sha2::{Digest, Sha256};

/// The environment variable that holds the key.
pub const KEY_VAR: &str = "SOMEBOT_REPORT_KEY";
/// The key file in the data directory, used when the variable is not set.
pub const KEY_FILE: &str = "report.key";

const NONCE_LEN: usize = 24;

/// The report key. `Debug` never shows it.
#[derive(Clone, PartialEq, Eq)]
pub struct ReportKey([u8; 32]);

impl fmt::Debug for ReportKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReportKey([redacted])")
    }
}

/// Why a sealed value could not be opened.
#[derive(Debug, thiserror::Error)]
#[error("a sealed report value could not be opened (wrong key or damaged data)")]
pub struct OpenError;

impl ReportKey {
    /// A fresh random key (tests, and the first start without a key).
    pub fn random() -> ReportKey {
        ReportKey(XChaCha20Poly1305::generate_key(&mut OsRng).into())
    }

    /// Parses 64 hex digits.
    pub fn from_hex(s: &str) -> Result<ReportKey, String> {
        let bytes = hex::decode(s.trim()).map_err(|_| "is not hexadecimal".to_string())?;
        let arr: [u8; 32] =
            bytes.try_into().map_err(|b: Vec<u8>| format!("has {} bytes, not 32 (64 hex digits)", b.len()))?;
        Ok(ReportKey(arr))
    }

    /// The key as 64 hex digits, for writing the key file.
    pub fn to_hex(&self) -> String {
        hex::encode(self.0)
    }

    /// Encrypts `plain`; returns hex of nonce and ciphertext.
    pub fn seal(&self, plain: &[u8]) -> String {
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        let nonce = XChaCha20Poly1305::generate_nonce(&mut OsRng);
        // Encryption into a Vec cannot fail for inputs under 2^38 bytes.
        let ct = cipher.encrypt(&nonce, plain).expect("XChaCha20-Poly1305 encryption");
        let mut out = nonce.to_vec();
        out.extend_from_slice(&ct);
        hex::encode(out)
    }

    /// Encrypts text.
    pub fn seal_str(&self, plain: &str) -> String {
        self.seal(plain.as_bytes())
    }

    /// Decrypts what [`seal`](Self::seal) produced.
    pub fn open(&self, sealed: &str) -> Result<Vec<u8>, OpenError> {
        let raw = hex::decode(sealed).map_err(|_| OpenError)?;
        if raw.len() < NONCE_LEN + 16 {
            return Err(OpenError);
        }
        let (nonce, ct) = raw.split_at(NONCE_LEN);
        let cipher = XChaCha20Poly1305::new((&self.0).into());
        cipher.decrypt(XNonce::from_slice(nonce), ct).map_err(|_| OpenError)
    }

    /// Decrypts text.
    pub fn open_str(&self, sealed: &str) -> Result<String, OpenError> {
        String::from_utf8(self.open(sealed)?).map_err(|_| OpenError)
    }
}

/// SHA-256 of bytes, as lowercase hex.
pub fn sha256_hex(data: &[u8]) -> String {
    hex::encode(Sha256::digest(data))
}

/// Where the key came from, for the operator.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum KeySource {
    Variable,
    File(PathBuf),
    Created(PathBuf),
}

/// Loads the key: the variable's value when given, else the key file in `data_dir`, else a
/// new key written to that file with mode 0600. Errors name the variable or the file.
pub fn load_or_create(var: Option<&str>, data_dir: &Path) -> Result<(ReportKey, KeySource), String> {
    if let Some(v) = var.map(str::trim).filter(|v| !v.is_empty()) {
        return ReportKey::from_hex(v).map(|k| (k, KeySource::Variable)).map_err(|why| {
            format!("configuration error: {KEY_VAR} {why}; set it to 64 hex digits (for example the output of `openssl rand -hex 32`), or unset it to use {}", data_dir.join(KEY_FILE).display())
        });
    }
    let path = data_dir.join(KEY_FILE);
    match std::fs::read_to_string(&path) {
        Ok(text) => ReportKey::from_hex(&text).map(|k| (k, KeySource::File(path.clone()))).map_err(|why| {
            format!(
                "configuration error: the report key file {} {why}; it must hold 64 hex digits (or set {KEY_VAR})",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = ReportKey::random();
            write_private(&path, &key.to_hex()).map_err(|e| {
                format!(
                    "configuration error: cannot create the report key file {} ({e}); set {KEY_VAR} or make SOMEBOT_DATA_DIR writable",
                    path.display()
                )
            })?;
            Ok((key, KeySource::Created(path)))
        }
        Err(e) => Err(format!(
            "configuration error: cannot read the report key file {} ({e}); set {KEY_VAR} or fix the file's permissions",
            path.display()
        )),
    }
}

fn write_private(path: &Path, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path)?;
    f.write_all(text.as_bytes())?;
    f.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealing_round_trips_and_hides_the_text() {
        let k = ReportKey::random();
        let sealed = k.seal_str("han truga meg");
        assert!(!sealed.contains("truga"));
        assert_ne!(sealed, k.seal_str("han truga meg"), "fresh nonce each time");
        assert_eq!(k.open_str(&sealed).unwrap(), "han truga meg");
        assert!(ReportKey::random().open_str(&sealed).is_err(), "another key cannot open it");
        assert!(format!("{k:?}").contains("redacted"));
    }

    #[test]
    fn keys_are_read_checked_and_created_private() {
        let dir = tempfile::tempdir().unwrap();
        assert!(load_or_create(Some("zz"), dir.path()).unwrap_err().contains(KEY_VAR));
        let (k1, src) = load_or_create(None, dir.path()).unwrap();
        assert!(matches!(src, KeySource::Created(_)));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(dir.path().join(KEY_FILE)).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        let (k2, src) = load_or_create(None, dir.path()).unwrap();
        assert_eq!(k1, k2);
        assert!(matches!(src, KeySource::File(_)));
        let (k3, _) = load_or_create(Some(&"ab".repeat(32)), dir.path()).unwrap();
        assert_eq!(k3.to_hex(), "ab".repeat(32));
        assert_eq!(sha256_hex(b"abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
