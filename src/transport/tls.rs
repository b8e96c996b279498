//! Client TLS for `wss://` and `https://` with rustls.
//!
//! Certificates are verified by default against the system's roots plus the
//! bundled Mozilla roots (webpki-roots). `--cacert` replaces those with the given
//! PEM bundle (as curl does): its certificates are trust anchors, so the broker's
//! name and the validity dates are still checked. `--pin-cert` trusts one exact
//! certificate whatever its name and dates, `--insecure` turns verification off;
//! the command layer warns about both. `--cert/--key` present a client
//! certificate (mTLS).
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
    /// Accept exactly the certificates in this file, regardless of name and
    /// dates (still checking that the broker holds the key).
    pub pin_cert: Option<PathBuf>,
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
    } else if let Some(path) = &opts.pin_cert {
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(PinnedExactly {
                pinned: load_certs(path)?,
                any: AcceptAnything::new(),
            }))
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
        // default), which WebPKI refuses as a server certificate; that one
        // refusal is lifted for a certificate of the file, after its dates
        // (checked first by WebPKI) and its name have passed.
        let inner = rustls::client::WebPkiServerVerifier::builder(Arc::new(roots))
            .build()
            .map_err(|e| cfg_err(format!("cannot verify with {}: {e}", path.display())))?;
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(CaFile {
                inner,
                anchors: certs,
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

/// `--cacert`: WebPKI verification against the file's certificates as trust
/// anchors. A certificate of the file presented by the server itself passes
/// even when it is marked as a CA, but only with a matching name and valid
/// dates: a trust anchor, not a waiver.
#[derive(Debug)]
struct CaFile {
    inner: Arc<rustls::client::WebPkiServerVerifier>,
    anchors: Vec<CertificateDer<'static>>,
}

/// WebPKI's "a CA certificate used as the server's certificate".
fn is_ca_used_as_end_entity(e: &rustls::Error) -> bool {
    match e {
        rustls::Error::InvalidCertificate(rustls::CertificateError::Other(other)) => {
            matches!(
                other.0.downcast_ref::<webpki::Error>(),
                Some(webpki::Error::CaUsedAsEndEntity)
            )
        }
        _ => false,
    }
}

impl ServerCertVerifier for CaFile {
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
            // WebPKI checks the dates before the CA flag, so an expired or
            // not-yet-valid certificate never reaches this arm.
            Err(e)
                if is_ca_used_as_end_entity(&e)
                    && self
                        .anchors
                        .iter()
                        .any(|p| p.as_ref() == end_entity.as_ref()) =>
            {
                let parsed = rustls::server::ParsedCertificate::try_from(end_entity)?;
                rustls::client::verify_server_name(&parsed, server_name)?;
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
) -> Result<TlsStream<FirstBytes<TcpStream>>, TransportError> {
    let config = client_config(opts)?;
    let name = ServerName::try_from(host.to_string())
        .map_err(|_| cfg_err(format!("'{host}' is not a valid TLS server name")))?;
    let (tcp, answer) = FirstBytes::new(tcp);
    TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .map_err(|e| {
            let answer = answer.lock().unwrap_or_else(|e| e.into_inner()).clone();
            let rustls_error = e.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>());
            let (what, is_cert) = match rustls_error {
                Some(re) => (plain_words(re, host, &answer), is_certificate_error(re)),
                None if !answer.is_empty() && e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    (not_tls(&answer), false)
                }
                None if e.kind() == std::io::ErrorKind::ConnectionReset => (
                    "the server reset the connection during the TLS handshake".to_string(),
                    false,
                ),
                None if e.kind() == std::io::ErrorKind::UnexpectedEof => (
                    "the server closed the connection without a TLS answer (does this port speak TLS? try ws:// or http://)".to_string(),
                    false,
                ),
                None => (e.to_string(), false),
            };
            let hint = match (is_cert, &opts.cacert, &opts.pin_cert) {
                (false, _, _) | (true, _, Some(_)) => "",
                (true, Some(_), None) => {
                    " (check that --cacert holds the broker's certificate or the CA that signed it, and that the URL names a host the certificate is for)"
                }
                (true, None, None) => {
                    " (use --cacert FILE for a private CA or a self-signed broker, or --insecure to skip verification)"
                }
            };
            TransportError::Tls(format!("handshake with {host} failed: {what}{hint}"))
        })
}

fn is_certificate_error(e: &rustls::Error) -> bool {
    matches!(e, rustls::Error::InvalidCertificate(_)) || e.to_string().contains("certificate")
}

/// A rustls error as a sentence: what is wrong with the certificate, or that
/// the server does not speak TLS at all (`answer`: its first bytes).
pub(super) fn plain_words(e: &rustls::Error, host: &str, answer: &[u8]) -> String {
    use rustls::CertificateError as C;
    let date = |t: &UnixTime| {
        let when = std::time::UNIX_EPOCH + std::time::Duration::from_secs(t.as_secs());
        humantime::format_rfc3339_seconds(when).to_string()
    };
    match e {
        rustls::Error::InvalidCertificate(c) => match c {
            C::NotValidForNameContext { presented, .. } => format!(
                "the broker's certificate is not for {host} (it is for {})",
                if presented.is_empty() {
                    "no host name at all".to_string()
                } else {
                    presented
                        .iter()
                        .map(|n| bare_name(n))
                        .collect::<Vec<_>>()
                        .join(", ")
                }
            ),
            C::NotValidForName => format!("the broker's certificate is not for {host}"),
            C::ExpiredContext { not_after, .. } => {
                format!("the broker's certificate expired on {}", date(not_after))
            }
            C::Expired => "the broker's certificate has expired".into(),
            C::NotValidYetContext { not_before, .. } => format!(
                "the broker's certificate is not valid before {}",
                date(not_before)
            ),
            C::NotValidYet => "the broker's certificate is not valid yet".into(),
            C::UnknownIssuer => "the broker's certificate is not signed by a trusted CA".into(),
            C::BadSignature => "the broker's certificate has a bad signature".into(),
            C::Revoked => "the broker's certificate is revoked".into(),
            C::BadEncoding => "the broker's certificate is malformed (not valid DER)".into(),
            C::UnhandledCriticalExtension => {
                "the broker's certificate has a critical extension that cannot be checked".into()
            }
            C::UnknownRevocationStatus => {
                "the revocation status of the broker's certificate is unknown".into()
            }
            C::ExpiredRevocationList | C::ExpiredRevocationListContext { .. } => {
                "the revocation list for the broker's certificate has expired".into()
            }
            C::UnsupportedSignatureAlgorithmContext { .. }
            | C::UnsupportedSignatureAlgorithmForPublicKeyContext { .. } => {
                "the broker's certificate is signed with an algorithm smqctl does not support"
                    .into()
            }
            C::InvalidPurpose | C::InvalidPurposeContext { .. } => {
                "the broker's certificate is not for TLS servers (its extended key usage)".into()
            }
            C::InvalidOcspResponse => {
                "the broker sent an invalid OCSP response for its certificate".into()
            }
            C::ApplicationVerificationFailure => {
                "the broker's certificate failed verification".into()
            }
            C::Other(other) => match other.0.downcast_ref::<webpki::Error>() {
                Some(w) => webpki_words(w),
                None => format!("the broker's certificate was refused: {other}"),
            },
            other => format!("the broker's certificate was refused: {other}"),
        },
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerSentOversizedRecord
            if !answer.is_empty() && !looks_like_tls(answer) =>
        {
            not_tls(answer)
        }
        rustls::Error::InvalidMessage(_)
        | rustls::Error::InappropriateMessage { .. }
        | rustls::Error::InappropriateHandshakeMessage { .. }
        | rustls::Error::PeerSentOversizedRecord => {
            "the broker's TLS messages are malformed".into()
        }
        rustls::Error::AlertReceived(a) => alert_words(*a),
        rustls::Error::PeerIncompatible(p) => {
            use rustls::PeerIncompatible as P;
            let what = match p {
                P::ServerDoesNotSupportTls12Or13 | P::ServerTlsVersionIsDisabledByOurConfig => {
                    "it speaks neither TLS 1.2 nor TLS 1.3".to_string()
                }
                P::NoCipherSuitesInCommon => "no cipher suite in common".into(),
                P::NoKxGroupsInCommon => "no key exchange group in common".into(),
                P::NoSignatureSchemesInCommon => "no signature scheme in common".into(),
                other => format!("{other:?}"),
            };
            format!("the broker's TLS settings are incompatible with smqctl's: {what}")
        }
        rustls::Error::PeerMisbehaved(p) => {
            format!("the broker broke the TLS protocol ({p:?})")
        }
        rustls::Error::NoCertificatesPresented => "the broker presented no certificate".into(),
        rustls::Error::DecryptError => {
            "the broker's TLS records cannot be decrypted (a broken or tampered connection)".into()
        }
        rustls::Error::UnsupportedNameType => {
            format!("'{host}' cannot be checked against a certificate")
        }
        rustls::Error::General(s) => s.clone(),
        other => other.to_string(),
    }
}

/// A TLS alert from the broker, as what it most likely means.
fn alert_words(a: rustls::AlertDescription) -> String {
    use rustls::AlertDescription as A;
    match a {
        A::CertificateRequired => {
            "the broker requires a client certificate: give --cert and --key".into()
        }
        A::BadCertificate
        | A::UnsupportedCertificate
        | A::CertificateRevoked
        | A::CertificateExpired
        | A::CertificateUnknown
        | A::UnknownCA
        | A::AccessDenied => format!(
            "the broker refused our client certificate (TLS alert {a:?}): check --cert, --key and that the broker trusts their CA"
        ),
        A::HandshakeFailure | A::InsufficientSecurity => format!(
            "the broker refused the handshake (TLS alert {a:?}): no TLS version or cipher in common, or it wants a client certificate (--cert/--key)"
        ),
        A::ProtocolVersion => "the broker does not accept TLS 1.2 or 1.3".into(),
        A::UnrecognisedName => {
            "the broker does not serve the host name in the URL (TLS alert UnrecognisedName): check the host".into()
        }
        A::InternalError => "the broker failed in its TLS code (TLS alert InternalError)".into(),
        other => format!("the broker ended the TLS handshake (TLS alert {other:?})"),
    }
}

/// WebPKI's reasons (inside rustls' `CertificateError::Other`) in words.
fn webpki_words(e: &webpki::Error) -> String {
    use webpki::Error as W;
    match e {
        W::CaUsedAsEndEntity => {
            "the broker presented a CA certificate as its own certificate (and it is not one of the trusted certificates)".into()
        }
        W::EndEntityUsedAsCa => {
            "the broker's chain has a certificate that signs another but is not a CA".into()
        }
        W::BadDer | W::BadDerTime | W::TrailingData(_) => {
            "the broker's certificate is malformed".into()
        }
        W::PathLenConstraintViolated | W::MaximumPathDepthExceeded => {
            "the broker's certificate chain is longer than its CA allows".into()
        }
        W::NameConstraintViolation | W::MaximumNameConstraintComparisonsExceeded => {
            "the broker's certificate is for a name its CA may not vouch for".into()
        }
        W::RequiredEkuNotFoundContext(_) => {
            "the broker's certificate is not for TLS servers (its extended key usage)".into()
        }
        W::UnsupportedCertVersion => "the broker's certificate is not an X.509 v3 one".into(),
        other => format!("the broker's certificate was refused ({other})"),
    }
}

/// `DnsName("example.com")` (how rustls lists presented names) → `example.com`.
fn bare_name(n: &str) -> &str {
    match (n.find("(\""), n.strip_suffix("\")")) {
        (Some(i), Some(rest)) if i + 2 <= rest.len() => &rest[i + 2..],
        _ => n.trim_start_matches("IpAddress(").trim_end_matches(')'),
    }
}

/// Says what a non-TLS answer to our ClientHello looks like.
fn not_tls(answer: &[u8]) -> String {
    if answer.starts_with(b"HTTP/") {
        let line = String::from_utf8_lossy(answer);
        let line = line.lines().next().unwrap_or_default().trim().to_string();
        format!(
            "the server answered in plain HTTP ('{line}'), not TLS: this port does not speak TLS; try ws:// or http://"
        )
    } else {
        format!(
            "the server's answer is not TLS (first bytes {}): this port does not speak TLS; try ws:// or http://",
            hex::encode(&answer[..answer.len().min(8)])
        )
    }
}

/// A stream that keeps the first bytes it reads, so a failed TLS handshake can
/// say what the server answered instead (e.g. plain HTTP).
pub struct FirstBytes<S> {
    inner: S,
    seen: Arc<Mutex<Vec<u8>>>,
    full: bool,
}

const KEEP: usize = 1024;

/// A TLS record header (handshake or alert, version 3.x): what a TLS server
/// answers to a plain HTTP request.
pub(super) fn looks_like_tls(answer: &[u8]) -> bool {
    matches!(answer, [0x15 | 0x16, 0x03, ..])
}

impl<S> FirstBytes<S> {
    pub(super) fn new(inner: S) -> (Self, Arc<Mutex<Vec<u8>>>) {
        let seen = Arc::new(Mutex::new(Vec::new()));
        let s = FirstBytes {
            inner,
            seen: seen.clone(),
            full: false,
        };
        (s, seen)
    }
}

impl<S: tokio::io::AsyncRead + Unpin> tokio::io::AsyncRead for FirstBytes<S> {
    fn poll_read(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &mut tokio::io::ReadBuf<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        let before = buf.filled().len();
        let r = std::pin::Pin::new(&mut self.inner).poll_read(cx, buf);
        if !self.full && std::sync::Arc::strong_count(&self.seen) == 1 {
            // Nobody looks any more (the connect is done): the kept bytes
            // need not stay with the connection for its whole life.
            self.full = true;
            *self.seen.lock().unwrap_or_else(|e| e.into_inner()) = Vec::new();
        }
        if !self.full {
            let mut seen = self.seen.lock().unwrap_or_else(|e| e.into_inner());
            let new = &buf.filled()[before..];
            let take = new.len().min(KEEP - seen.len());
            seen.extend_from_slice(&new[..take]);
            let full = seen.len() >= KEEP;
            drop(seen);
            self.full = full;
        }
        r
    }
}

impl<S: tokio::io::AsyncWrite + Unpin> tokio::io::AsyncWrite for FirstBytes<S> {
    fn poll_write(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        buf: &[u8],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<std::io::Result<()>> {
        std::pin::Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
        bufs: &[std::io::IoSlice<'_>],
    ) -> std::task::Poll<std::io::Result<usize>> {
        std::pin::Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

/// `--pin-cert`: the server's certificate must be byte for byte one of the
/// file's; name, dates and issuer are not looked at (the user said so, and is
/// warned). The handshake signature is still checked against its key.
#[derive(Debug)]
struct PinnedExactly {
    pinned: Vec<CertificateDer<'static>>,
    any: AcceptAnything,
}

impl ServerCertVerifier for PinnedExactly {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &ServerName<'_>,
        _ocsp_response: &[u8],
        _now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        if self
            .pinned
            .iter()
            .any(|p| p.as_ref() == end_entity.as_ref())
        {
            Ok(ServerCertVerified::assertion())
        } else {
            Err(rustls::Error::General(
                "the broker's certificate is not the one given with --pin-cert".into(),
            ))
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.any.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.any.supported_verify_schemes()
    }
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_rustls_error_a_user_can_hit_is_a_sentence_not_a_debug_dump() {
        use rustls::CertificateError as C;
        let mut errors: Vec<rustls::Error> = [
            C::BadEncoding,
            C::Expired,
            C::NotValidYet,
            C::Revoked,
            C::UnhandledCriticalExtension,
            C::UnknownIssuer,
            C::UnknownRevocationStatus,
            C::ExpiredRevocationList,
            C::BadSignature,
            C::NotValidForName,
            C::InvalidPurpose,
            C::InvalidOcspResponse,
            C::ApplicationVerificationFailure,
        ]
        .into_iter()
        .map(rustls::Error::InvalidCertificate)
        .collect();
        for w in [
            webpki::Error::CaUsedAsEndEntity,
            webpki::Error::EndEntityUsedAsCa,
            webpki::Error::BadDer,
            webpki::Error::PathLenConstraintViolated,
            webpki::Error::NameConstraintViolation,
            webpki::Error::UnsupportedCertVersion,
        ] {
            errors.push(rustls::Error::InvalidCertificate(C::Other(
                rustls::OtherError(Arc::new(w)),
            )));
        }
        for a in [
            rustls::AlertDescription::HandshakeFailure,
            rustls::AlertDescription::CertificateRequired,
            rustls::AlertDescription::BadCertificate,
            rustls::AlertDescription::UnknownCA,
            rustls::AlertDescription::ProtocolVersion,
            rustls::AlertDescription::UnrecognisedName,
            rustls::AlertDescription::InternalError,
            rustls::AlertDescription::DecodeError,
        ] {
            errors.push(rustls::Error::AlertReceived(a));
        }
        errors.extend([
            rustls::Error::PeerIncompatible(
                rustls::PeerIncompatible::ServerDoesNotSupportTls12Or13,
            ),
            rustls::Error::PeerIncompatible(rustls::PeerIncompatible::NoCipherSuitesInCommon),
            rustls::Error::NoCertificatesPresented,
            rustls::Error::DecryptError,
            rustls::Error::PeerSentOversizedRecord,
        ]);
        for e in &errors {
            let said = plain_words(e, "broker.example", &[]);
            assert!(
                said.starts_with("the ") || said.starts_with('\''),
                "{e:?}: {said}"
            );
            for jargon in [
                "Other(",
                "OtherError",
                "InvalidCertificate",
                "AlertReceived",
                "Error::",
            ] {
                assert!(!said.contains(jargon), "{e:?}: {said}");
            }
        }
        let ca = rustls::Error::InvalidCertificate(C::Other(rustls::OtherError(Arc::new(
            webpki::Error::CaUsedAsEndEntity,
        ))));
        assert!(
            plain_words(&ca, "h", &[])
                .contains("presented a CA certificate as its own certificate")
        );
    }
}
