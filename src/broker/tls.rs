//! Server-side TLS for `wss://` and `https://` (raw over TLS): loading a PEM
//! certificate chain and private key into a rustls `ServerConfig`.
//!
//! The broker itself only needs an `Arc<ServerConfig>`; this helper exists so the
//! `broker` command and tests get errors that name the file that was wrong.
//!
//! May import: rustls and [`super::BrokerError`].

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use super::BrokerError;

/// Builds a TLS server configuration from a PEM certificate chain and a PEM
/// private key (PKCS#8, PKCS#1 or SEC1).
pub fn load_tls_config(
    cert_pem: &Path,
    key_pem: &Path,
) -> Result<Arc<rustls::ServerConfig>, BrokerError> {
    load_tls_config_with_clients(cert_pem, key_pem, None)
}

/// Like [`load_tls_config`]; with `client_ca`, every client must present a
/// certificate signed by one of the CAs in that PEM file (mutual TLS).
pub fn load_tls_config_with_clients(
    cert_pem: &Path,
    key_pem: &Path,
    client_ca: Option<&Path>,
) -> Result<Arc<rustls::ServerConfig>, BrokerError> {
    let read = |path: &Path| {
        std::fs::read(path).map_err(|source| BrokerError::ReadFile {
            path: path.to_path_buf(),
            source,
        })
    };
    let cert_bytes = read(cert_pem)?;
    let key_bytes = read(key_pem)?;
    let bad_pem = |path: &Path, e: rustls::pki_types::pem::Error| BrokerError::Pem {
        path: path.to_path_buf(),
        reason: e.to_string(),
    };
    let certs = CertificateDer::pem_slice_iter(&cert_bytes)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| bad_pem(cert_pem, e))?;
    if certs.is_empty() {
        return Err(BrokerError::Pem {
            path: cert_pem.to_path_buf(),
            reason: "no CERTIFICATE section found".into(),
        });
    }
    let key = PrivateKeyDer::from_pem_slice(&key_bytes).map_err(|e| match e {
        rustls::pki_types::pem::Error::NoItemsFound => BrokerError::Pem {
            path: key_pem.to_path_buf(),
            reason: "no PRIVATE KEY section found".into(),
        },
        other => bad_pem(key_pem, other),
    })?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let verifier = match client_ca {
        None => None,
        Some(ca_pem) => {
            let ca_bytes = read(ca_pem)?;
            let mut roots = rustls::RootCertStore::empty();
            for ca in CertificateDer::pem_slice_iter(&ca_bytes) {
                let ca = ca.map_err(|e| bad_pem(ca_pem, e))?;
                roots.add(ca).map_err(|e| BrokerError::Pem {
                    path: ca_pem.to_path_buf(),
                    reason: format!("unusable CA certificate: {e}"),
                })?;
            }
            if roots.is_empty() {
                return Err(BrokerError::Pem {
                    path: ca_pem.to_path_buf(),
                    reason: "no CERTIFICATE section found".into(),
                });
            }
            let v = rustls::server::WebPkiClientVerifier::builder_with_provider(
                Arc::new(roots),
                provider.clone(),
            )
            .build()
            .map_err(|e| BrokerError::Pem {
                path: ca_pem.to_path_buf(),
                reason: format!("cannot verify clients with these CAs: {e}"),
            })?;
            Some(v)
        }
    };
    let config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .and_then(|b| match verifier {
            Some(v) => b.with_client_cert_verifier(v).with_single_cert(certs, key),
            None => b.with_no_client_auth().with_single_cert(certs, key),
        })
        .map_err(|source| BrokerError::Tls {
            cert: cert_pem.to_path_buf(),
            key: key_pem.to_path_buf(),
            source,
        })?;
    Ok(Arc::new(config))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn loads_rcgen_certificate_and_key() {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let dir = tempfile::tempdir().expect("tempdir");
        let (c, k) = (dir.path().join("c.pem"), dir.path().join("k.pem"));
        std::fs::write(&c, ck.cert.pem()).expect("write");
        std::fs::write(&k, ck.signing_key.serialize_pem()).expect("write");
        assert!(load_tls_config(&c, &k).is_ok());
    }

    #[test]
    fn errors_name_the_wrong_file() {
        let ck = rcgen::generate_simple_self_signed(vec!["localhost".into()]).expect("cert");
        let dir = tempfile::tempdir().expect("tempdir");
        let (c, k) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
        std::fs::write(&c, ck.cert.pem()).expect("write");
        std::fs::write(&k, "not a key").expect("write");
        let e = load_tls_config(&c, &k).expect_err("bad key").to_string();
        assert!(e.contains("key.pem") && e.contains("PRIVATE KEY"), "{e}");
        // Certificate file holding only a key.
        std::fs::write(&c, ck.signing_key.serialize_pem()).expect("write");
        let e = load_tls_config(&c, &k).expect_err("bad cert").to_string();
        assert!(e.contains("cert.pem"), "{e}");
        let e = load_tls_config(&dir.path().join("missing.pem"), &k)
            .expect_err("missing")
            .to_string();
        assert!(e.contains("missing.pem"), "{e}");
    }
}
