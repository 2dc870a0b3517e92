//! TLS for the hub and its clients (docs/HUB_API.md#tls).
//!
//! rustls with the ring provider on both sides, no OpenSSL. A client trusts
//! the system's roots (the OS store, and Mozilla's bundle as a fallback) plus
//! the CAs of `[hub] ca_file`; a hub serves the certificate chain and key of
//! `serve --tls-cert --tls-key`. A handshake that fails is described by what
//! was wrong with the certificate, so the person reading it knows what to fix,
//! and callers treat it as permanent: trying again cannot change a certificate.

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::{CertificateError, RootCertStore};
use std::error::Error as StdError;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A certificate or key file that cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum TlsFileError {
    #[error("cannot read the {what} {path}: {detail}")]
    Read {
        what: &'static str,
        path: PathBuf,
        detail: String,
    },
    #[error("the {what} {path} holds no PEM certificate")]
    NoCertificate { what: &'static str, path: PathBuf },
    #[error(
        "the TLS certificate {cert} and key {key} do not make a usable server identity: {detail}"
    )]
    Identity {
        cert: PathBuf,
        key: PathBuf,
        detail: String,
    },
}

/// Makes ring the process's default rustls provider unless one is set:
/// a reqwest client built without a preconfigured TLS setup (the tests'
/// plain clients) looks for it.
pub fn install_default_provider() {
    let _ = rustls::crypto::ring::default_provider().install_default();
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn read_certs(
    what: &'static str,
    path: &Path,
) -> Result<Vec<CertificateDer<'static>>, TlsFileError> {
    let read_error = |detail: String| TlsFileError::Read {
        what,
        path: path.to_path_buf(),
        detail,
    };
    let certs = CertificateDer::pem_file_iter(path)
        .map_err(|e| read_error(e.to_string()))?
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| read_error(e.to_string()))?;
    if certs.is_empty() {
        return Err(TlsFileError::NoCertificate {
            what,
            path: path.to_path_buf(),
        });
    }
    Ok(certs)
}

/// The roots a client trusts: the OS store, Mozilla's bundle, and `ca_file`'s
/// certificates (a private CA, or the hub's self-signed certificate).
fn roots(ca_file: Option<&Path>) -> Result<RootCertStore, TlsFileError> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    let native = rustls_native_certs::load_native_certs();
    let (added, _ignored) = roots.add_parsable_certificates(native.certs);
    tracing::debug!(added, "system root certificates");
    if let Some(path) = ca_file {
        for cert in read_certs("CA file", path)? {
            roots.add(cert).map_err(|e| TlsFileError::Read {
                what: "CA file",
                path: path.to_path_buf(),
                detail: e.to_string(),
            })?;
        }
    }
    Ok(roots)
}

/// The rustls configuration of a client: the system roots plus `ca_file`.
pub fn client_config(ca_file: Option<&Path>) -> Result<rustls::ClientConfig, TlsFileError> {
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_root_certificates(roots(ca_file)?)
        .with_no_client_auth();
    Ok(config)
}

/// The rustls configuration of a hub serving `cert` (a PEM chain, leaf
/// first) with `key` (a PEM private key: PKCS#8, PKCS#1 or SEC1).
pub fn server_config(cert: &Path, key: &Path) -> Result<rustls::ServerConfig, TlsFileError> {
    let chain = read_certs("TLS certificate", cert)?;
    let private = PrivateKeyDer::from_pem_file(key).map_err(|e| TlsFileError::Read {
        what: "TLS key",
        path: key.to_path_buf(),
        detail: e.to_string(),
    })?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .expect("ring supports the default protocol versions")
        .with_no_client_auth()
        .with_single_cert(chain, private)
        .map_err(|e| TlsFileError::Identity {
            cert: cert.to_path_buf(),
            key: key.to_path_buf(),
            detail: e.to_string(),
        })?;
    // HTTP/1.1 only: the WebSocket upgrade needs it, and clients send small requests.
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// Whether `host` (as in a URL: a name, an IPv4 address or a bracketed IPv6
/// one) is this machine: `localhost` or a loopback address.
pub fn is_loopback_host(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host.to_ascii_lowercase().ends_with(".localhost")
        || host.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// The host of `http://HOST:PORT/…` (or https).
pub fn url_host(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority = rest.split(['/', '?', '#']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    if let Some(end) = authority.find(']') {
        return &authority[..=end];
    }
    authority.split(':').next().unwrap_or("")
}

/// If a TLS handshake failed somewhere in `error`'s chain, what went wrong,
/// in words that say what to do.
pub fn handshake_failure(error: &(dyn StdError + 'static)) -> Option<String> {
    let mut current: Option<&(dyn StdError + 'static)> = Some(error);
    while let Some(e) = current {
        if let Some(tls) = e.downcast_ref::<rustls::Error>() {
            return Some(describe(tls));
        }
        // io::Error hides the error it wraps from `source()` (it returns the
        // wrapped error's source), and hyper wraps rustls's io::Error in
        // another one: step into the wrapped error itself.
        current = match e
            .downcast_ref::<std::io::Error>()
            .and_then(|io| io.get_ref())
        {
            Some(inner) => Some(inner as &(dyn StdError + 'static)),
            None => e.source(),
        };
    }
    None
}

fn describe(error: &rustls::Error) -> String {
    match error {
        rustls::Error::InvalidCertificate(problem) => {
            let hint = match problem {
                CertificateError::UnknownIssuer | CertificateError::BadSignature => {
                    "it is not signed by a CA this client trusts; if the hub uses a private CA, \
                     set `[hub] ca_file` to that CA's certificate (PEM)"
                }
                CertificateError::NotValidForName
                | CertificateError::NotValidForNameContext { .. } => {
                    "it is not made out for the host in the URL; use the name the certificate \
                     names, or a certificate for this name"
                }
                CertificateError::Expired | CertificateError::ExpiredContext { .. } => {
                    "it has expired"
                }
                CertificateError::NotValidYet | CertificateError::NotValidYetContext { .. } => {
                    "it is not valid yet (check this machine's clock)"
                }
                CertificateError::Revoked => "it was revoked",
                _ => "it cannot be verified",
            };
            format!("the server's certificate was refused ({problem:?}): {hint}")
        }
        other => format!("TLS failed: {other}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loopback_hosts() {
        for host in [
            "localhost",
            "127.0.0.1",
            "127.3.4.5",
            "[::1]",
            "LOCALHOST",
            "a.localhost",
        ] {
            assert!(is_loopback_host(host), "{host}");
        }
        for host in [
            "example.org",
            "10.0.0.1",
            "[2001:db8::1]",
            "localhost.evil.org",
        ] {
            assert!(!is_loopback_host(host), "{host}");
        }
        assert_eq!(url_host("http://127.0.0.1:7878/x"), "127.0.0.1");
        assert_eq!(url_host("https://u:p@hub.example.org"), "hub.example.org");
        assert_eq!(url_host("http://[::1]:80"), "[::1]");
    }
}
