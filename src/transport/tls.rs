//! Client TLS for `wss://` and `https://` with rustls.
//!
//! Certificates are verified by default against the system's roots plus the
//! bundled Mozilla roots (webpki-roots). `--cacert` replaces those with the given
//! PEM bundle (as curl does), `--cert/--key` present a client certificate (mTLS),
//! and `--insecure` turns verification off; the command layer warns about that.
//!
//! May import: `transport` (parent), rustls.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, OnceLock};

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{ClientConfig, DigitallySignedStruct, RootCertStore, SignatureScheme};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_rustls::client::TlsStream;

use super::TransportError;

#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct TlsOptions {
    pub cacert: Option<PathBuf>,
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub insecure: bool,
}

fn cfg_err(msg: String) -> TransportError {
    TransportError::TlsConfig(msg)
}

pub fn load_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, TransportError> {
    let certs: Vec<_> = CertificateDer::pem_file_iter(path)
        .map_err(|e| {
            cfg_err(format!(
                "cannot read certificates from {}: {e}",
                path.display()
            ))
        })?
        .collect::<Result<_, _>>()
        .map_err(|e| cfg_err(format!("bad PEM certificate in {}: {e}", path.display())))?;
    if certs.is_empty() {
        return Err(cfg_err(format!(
            "no PEM certificate found in {}",
            path.display()
        )));
    }
    Ok(certs)
}

pub fn load_key(path: &Path) -> Result<PrivateKeyDer<'static>, TransportError> {
    PrivateKeyDer::from_pem_file(path).map_err(|e| {
        cfg_err(format!(
            "cannot read a PEM private key from {}: {e}",
            path.display()
        ))
    })
}

/// The client configuration for these options, built once per process: loading
/// the system's roots takes milliseconds, and benchmarks open thousands of
/// connections.
pub fn client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TransportError> {
    static CACHE: OnceLock<Mutex<HashMap<TlsOptions, Arc<ClientConfig>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    if let Some(c) = cache.lock().unwrap_or_else(|e| e.into_inner()).get(opts) {
        return Ok(c.clone());
    }
    let config = build_client_config(opts)?;
    cache
        .lock()
        .unwrap_or_else(|e| e.into_inner())
        .insert(opts.clone(), config.clone());
    Ok(config)
}

/// Builds the rustls client configuration the options describe.
fn build_client_config(opts: &TlsOptions) -> Result<Arc<ClientConfig>, TransportError> {
    let builder = ClientConfig::builder();
    let builder = if opts.insecure {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(AcceptAnything::new()))
    } else if let Some(path) = &opts.cacert {
        let certs = load_certs(path)?;
        let mut roots = RootCertStore::empty();
        for cert in &certs {
            roots.add(cert.clone()).map_err(|e| {
                cfg_err(format!(
                    "unusable CA certificate in {}: {e}",
                    path.display()
                ))
            })?;
        }
        // A self-signed broker certificate is often marked as a CA (OpenSSL's
        // default), which WebPKI refuses as a server certificate; trusting
        // exactly that certificate, as curl does, is what --cacert means.
        let inner = rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .map_err(|e| cfg_err(format!("cannot verify with {}: {e}", path.display())))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedOrWebPki {
                inner,
                pinned: certs,
            }))
    } else {
        let mut roots = RootCertStore::empty();
        roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
        let native = rustls_native_certs::load_native_certs();
        let _ = roots.add_parsable_certificates(native.certs);
        builder.with_root_certificates(roots)
    };
    let config = match (&opts.cert, &opts.key) {
        (Some(cert), Some(key)) => builder
            .with_client_auth_cert(load_certs(cert)?, load_key(key)?)
            .map_err(|e| cfg_err(format!("client certificate/key do not work together: {e}")))?,
        (None, None) => builder.with_no_client_auth(),
        _ => return Err(cfg_err("--cert and --key must be given together".into())),
    };
    Ok(Arc::new(config))
}

/// `--cacert`: WebPKI verification against the file's certificates, and the
/// server's certificate accepted as well when it is byte for byte one of them.
#[derive(Debug)]
struct PinnedOrWebPki {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    pinned: Vec<CertificateDer<'static>>,
}

impl ServerCertVerifier for PinnedOrWebPki {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Ok(v) => Ok(v),
            Err(_)
                if self
                    .pinned
                    .iter()
                    .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                Ok(ServerCertVerified::assertion())
            }
            Err(e) => Err(e),
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

pub async fn connect(
    tcp: TcpStream,
    host: &str,
    opts: &TlsOptions,
) -> Result<TlsStream<TcpStream>, TransportError> {
    let config = client_config(opts)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| cfg_err(format!("'{host}' is not a valid TLS server name")))?;
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let hint = match (e.to_string().contains("certificate"), &opts.cacert) {
                (false, _) => "",
                (true, Some(_)) => {
                    " (check that --cacert holds the broker's certificate or the CA that signed it)"
                }
                (true, None) => {
                    " (use --cacert FILE for a private CA or a self-signed broker, or --insecure to skip verification)"
                }
            };
            TransportError::Tls(format!("handshake with {host} failed: {e}{hint}"))
        })
}

/// The verifier behind `--insecure`: signatures are still checked so the session
/// is encrypted, but nobody vouches for the peer.
#[derive(Debug)]
struct AcceptAnything(Arc<rustls::crypto::CryptoProvider>);

impl AcceptAnything {
    fn new() -> Self {
        AcceptAnything(Arc::new(rustls::crypto::ring::default_provider()))
    }
}

impl ServerCertVerifier for AcceptAnything {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        Ok(ServerCertVerified::assertion())
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(
            message,
            cert,
            dss,
            &self.0.signature_verification_algorithms,
        )
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.0.signature_verification_algorithms.supported_schemes()
    }
}
