//! TLS for the voice gateway: a certificate the user passes, or a throw-away CA and a leaf
//! certificate for `localhost` and `127.0.0.1` generated at start-up.

use std::path::Path;
use std::sync::Arc;

use rustls::ServerConfig as RustlsConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};

use crate::Error;

/// A TLS setup ready for the listener, with the CA certificate clients must trust.
pub(crate) struct Tls {
    pub(crate) config: Arc<RustlsConfig>,
    /// PEM of the certificate that clients should trust (the generated CA, or the chain passed in).
    pub(crate) ca_pem: String,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<RustlsConfig>, Error> {
    let mut config = RustlsConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| Error::Tls(e.to_string()))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Generates a CA and a leaf certificate for `localhost`, `127.0.0.1` and `::1`.
pub(crate) fn self_signed() -> Result<Tls, Error> {
    use rcgen::{BasicConstraints, CertificateParams, DnType, IsCa, KeyPair, KeyUsagePurpose};

    let gen_err = |e: rcgen::Error| Error::Tls(e.to_string());
    let ca_key = KeyPair::generate().map_err(gen_err)?;
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).map_err(gen_err)?;
    ca_params.distinguished_name.push(DnType::CommonName, "voxwire local voice server CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    let ca_cert = ca_params.self_signed(&ca_key).map_err(gen_err)?;
    let issuer = rcgen::Issuer::new(ca_params, ca_key);

    let leaf_key = KeyPair::generate().map_err(gen_err)?;
    let mut leaf_params = CertificateParams::new(vec![
        "localhost".to_owned(),
        "127.0.0.1".to_owned(),
        "::1".to_owned(),
    ])
    .map_err(gen_err)?;
    leaf_params.distinguished_name.push(DnType::CommonName, "localhost");
    let leaf_cert = leaf_params.signed_by(&leaf_key, &issuer).map_err(gen_err)?;

    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    let key =
        PrivateKeyDer::try_from(leaf_key.serialize_der()).map_err(|e| Error::Tls(e.to_owned()))?;
    Ok(Tls { config: server_config(chain, key)?, ca_pem: ca_cert.pem() })
}

/// Loads a PEM certificate chain and private key.
pub(crate) fn from_files(cert: &Path, key: &Path) -> Result<Tls, Error> {
    let io =
        |p: &Path, e: rustls_pki_types::pem::Error| Error::Tls(format!("{}: {e}", p.display()));
    let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| io(cert, e))?
        .collect::<Result<_, _>>()
        .map_err(|e| io(cert, e))?;
    if chain.is_empty() {
        return Err(Error::Tls(format!("{}: no certificate in the file", cert.display())));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| io(key, e))?;
    let ca_pem = std::fs::read_to_string(cert)
        .map_err(|e| Error::Tls(format!("{}: {e}", cert.display())))?;
    Ok(Tls { config: server_config(chain, key_der)?, ca_pem })
}

/// A rustls client configuration that trusts exactly the given PEM certificates. For tests and
/// tools that connect to a server started with a generated certificate.
pub fn client_config_trusting(ca_pem: &str) -> Result<Arc<rustls::ClientConfig>, Error> {
    let mut roots = rustls::RootCertStore::empty();
    for cert in CertificateDer::pem_slice_iter(ca_pem.as_bytes()) {
        let cert = cert.map_err(|e| Error::Tls(e.to_string()))?;
        roots.add(cert).map_err(|e| Error::Tls(e.to_string()))?;
    }
    let config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| Error::Tls(e.to_string()))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    Ok(Arc::new(config))
}
