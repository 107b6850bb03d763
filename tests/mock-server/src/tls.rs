//! HTTPS for the mock: a CA generated at start, a server certificate it signs for `localhost`,
//! `127.0.0.1`, `::1` and the bound address, and the CA written to a PEM file for clients to
//! trust (`ca_bundle`, `SSL_CERT_FILE`, `NODE_EXTRA_CA_CERTS`).

use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa, KeyPair,
    KeyUsagePurpose,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};

/// The CA and server identity of one TLS mock.
pub(crate) struct TlsIdentity {
    pub(crate) acceptor: tokio_rustls::TlsAcceptor,
    pub(crate) ca_pem: String,
    pub(crate) ca_path: PathBuf,
    /// Whether `ca_path` is a file this process created in a directory of its own (removed on drop).
    owned_dir: Option<PathBuf>,
}

impl Drop for TlsIdentity {
    fn drop(&mut self) {
        if let Some(dir) = self.owned_dir.take() {
            let _ = std::fs::remove_dir_all(dir);
        }
    }
}

fn err(e: impl std::fmt::Display) -> std::io::Error {
    std::io::Error::other(format!("partly-mock tls: {e}"))
}

/// Generates a CA and a server certificate, writes the CA to `ca_file` (or a fresh temporary
/// directory) and builds the acceptor. ALPN offers `h2` unless `http1_only`.
pub(crate) fn identity(host: IpAddr, ca_file: Option<&Path>, http1_only: bool) -> std::io::Result<TlsIdentity> {
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(err)?;
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.distinguished_name.push(DnType::CommonName, "partly-mock test CA (generated at start)");
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca = CertifiedIssuer::self_signed(ca_params, KeyPair::generate().map_err(err)?).map_err(err)?;

    // `mock.partly.test` is a name that is not loopback (loopback is never proxied), for tests
    // through a proxy that maps it to the mock (`.test` never resolves on the internet).
    let mut names =
        vec!["localhost".to_string(), "127.0.0.1".to_string(), "::1".to_string(), crate::TLS_TEST_HOST.to_string()];
    if !host.is_unspecified() && !names.contains(&host.to_string()) {
        names.push(host.to_string());
    }
    let mut leaf = CertificateParams::new(names).map_err(err)?;
    leaf.distinguished_name.push(DnType::CommonName, "partly-mock");
    leaf.key_usages = vec![KeyUsagePurpose::DigitalSignature, KeyUsagePurpose::KeyEncipherment];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    let leaf_key = KeyPair::generate().map_err(err)?;
    let leaf_cert = leaf.signed_by(&leaf_key, &ca).map_err(err)?;

    let chain: Vec<CertificateDer<'static>> = vec![leaf_cert.der().clone(), ca.der().clone()];
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(leaf_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(err)?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(err)?;
    config.alpn_protocols =
        if http1_only { vec![b"http/1.1".to_vec()] } else { vec![b"h2".to_vec(), b"http/1.1".to_vec()] };

    let ca_pem = ca.pem();
    let (ca_path, owned_dir) = match ca_file {
        Some(path) => (path.to_path_buf(), None),
        None => {
            let dir = std::env::temp_dir().join(format!(
                "partly-mock-{}-{}",
                std::process::id(),
                uuid::Uuid::new_v4().simple()
            ));
            std::fs::create_dir_all(&dir)?;
            (dir.join("ca.pem"), Some(dir))
        }
    };
    std::fs::write(&ca_path, &ca_pem)?;
    Ok(TlsIdentity { acceptor: tokio_rustls::TlsAcceptor::from(Arc::new(config)), ca_pem, ca_path, owned_dir })
}
