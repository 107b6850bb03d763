//! The network settings of a client, resolved once when it is built: which proxy (if any) the
//! base URL goes through, which roots are trusted, and the TLS configuration shared by the HTTP
//! client and [`diagnostics`](crate::diagnostics()).
//!
//! Rules (the same in Rust, Python and Node):
//! - `proxy`: an explicit URL wins over the environment; `no_proxy()` turns proxies off; by
//!   default `HTTPS_PROXY` (https base URLs) or `HTTP_PROXY` (http ones), then `ALL_PROXY`, each
//!   lower case first, with `NO_PROXY` exceptions. Loopback (`127.0.0.0/8`, `::1`, `localhost`) is
//!   never proxied: the key would travel to the proxy, in clear text over plain http.
//! - Proxy credentials (`http://user:pass@proxy:3128`) are kept as a secret: every printed form
//!   of the proxy is [`redact_url`]ed.
//! - `ca_bundle`: a PEM file of extra roots, added to the system's (rustls-platform-verifier).

use std::fmt;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use rustls::client::danger::ServerCertVerifier;
use rustls::crypto::CryptoProvider;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::CertificateDer;
use serde::Serialize;
use url::Url;

use crate::error::{Error, ErrorKind};

/// The proxy environment variables, in the order they are read (lower case first).
pub const PROXY_ENV_VARS: [&str; 9] = [
    "https_proxy",
    "HTTPS_PROXY",
    "http_proxy",
    "HTTP_PROXY",
    "all_proxy",
    "ALL_PROXY",
    "no_proxy",
    "NO_PROXY",
    // Set by CGI servers, which also turn a request's `Proxy:` header into `HTTP_PROXY`
    // ("httpoxy"): `HTTP_PROXY` in upper case is ignored there.
    "REQUEST_METHOD",
];

/// Node's variable of extra trusted roots (read by the Node package only, as Node does).
pub const NODE_EXTRA_CA_CERTS: &str = "NODE_EXTRA_CA_CERTS";

/// What the client was told about proxies.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum ProxySetting {
    /// From the environment (the default).
    #[default]
    FromEnv,
    /// This proxy URL, whatever the environment says.
    Url(String),
    /// No proxy at all.
    Off,
}

/// The values of [`PROXY_ENV_VARS`], read once (from the process, or a binding's own view).
#[derive(Clone, Default, PartialEq, Eq)]
pub struct ProxyEnv {
    vars: Vec<(&'static str, String)>,
}

impl fmt::Debug for ProxyEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.vars.iter().map(|(k, _)| k)).finish()
    }
}

impl ProxyEnv {
    /// Reads the variables through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> ProxyEnv {
        let vars = PROXY_ENV_VARS
            .iter()
            .filter_map(|&name| lookup(name).map(|v| (name, v.trim().to_string())))
            .filter(|(_, v)| !v.is_empty())
            .collect();
        ProxyEnv { vars }
    }

    /// Reads the process environment.
    pub fn from_process() -> ProxyEnv {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    fn get(&self, name: &str) -> Option<(&'static str, &str)> {
        self.vars.iter().find(|(k, _)| *k == name).map(|(k, v)| (*k, v.as_str()))
    }

    fn first(&self, names: &[&str]) -> Option<(&'static str, &str)> {
        names.iter().find_map(|n| self.get(n))
    }
}

/// Where the proxy in force came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum ProxySource {
    /// The client's `proxy` option.
    Option,
    /// An environment variable (named in [`EffectiveProxy::variable`]).
    Environment,
    /// None is set.
    None,
}

/// The proxy decision for the client's base URL, with the proxy URL's credentials (if any)
/// kept apart as a secret.
#[derive(Clone)]
pub struct EffectiveProxy {
    url: Option<Url>,
    /// Where the setting came from.
    pub source: ProxySource,
    /// The environment variable it came from, if it did.
    pub variable: Option<&'static str>,
    /// Why a configured proxy is not used for this base URL (loopback, `NO_PROXY`, turned off).
    pub bypassed: Option<String>,
}

impl fmt::Debug for EffectiveProxy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EffectiveProxy")
            .field("url", &self.display())
            .field("source", &self.source)
            .field("variable", &self.variable)
            .field("bypassed", &self.bypassed)
            .finish()
    }
}

impl EffectiveProxy {
    /// The proxy the base URL goes through, if any (with credentials: never print it; use
    /// [`display`](Self::display)).
    pub(crate) fn url(&self) -> Option<&Url> {
        self.url.as_ref()
    }

    /// The proxy URL with its credentials redacted, or `None` when no proxy is used.
    pub fn display(&self) -> Option<String> {
        self.url.as_ref().map(redact_url)
    }

    /// The proxy's `user:password` (percent-decoded), if its URL has any.
    pub(crate) fn credentials(&self) -> Option<(String, String)> {
        let url = self.url.as_ref()?;
        if url.username().is_empty() && url.password().is_none() {
            return None;
        }
        let dec = |s: &str| percent_decode(s);
        Some((dec(url.username()), dec(url.password().unwrap_or(""))))
    }

    /// One line for messages: `via proxy http://***@proxy:3128 (HTTPS_PROXY)`.
    pub(crate) fn describe(&self) -> Option<String> {
        let shown = self.display()?;
        Some(match self.variable {
            Some(var) => format!("via proxy {shown} (from {var})"),
            None => format!("via proxy {shown} (the proxy option)"),
        })
    }
}

/// A URL with any user name and password replaced by `***`.
pub fn redact_url(url: &Url) -> String {
    if url.username().is_empty() && url.password().is_none() {
        return url.as_str().trim_end_matches('/').to_string();
    }
    let mut u = url.clone();
    let _ = u.set_password(None);
    let _ = u.set_username("");
    let plain = u.as_str().trim_end_matches('/').to_string();
    match plain.split_once("://") {
        Some((scheme, rest)) => format!("{scheme}://***@{rest}"),
        None => "***".to_string(),
    }
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push(h * 16 + l);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Whether a URL's host is this machine for certain: a loopback IP, or `localhost` (which the
/// client resolves to loopback itself, never through DNS). `*.localhost` names are not: what
/// they resolve to is up to the resolver.
pub(crate) fn is_loopback(url: &Url) -> bool {
    match url.host() {
        Some(url::Host::Domain(d)) => d.eq_ignore_ascii_case("localhost"),
        Some(url::Host::Ipv4(ip)) => ip.is_loopback(),
        Some(url::Host::Ipv6(ip)) => ip.is_loopback() || ip.to_ipv4_mapped().is_some_and(|v4| v4.is_loopback()),
        None => false,
    }
}

/// Parses a proxy URL; `source` names the option or variable for the message. The message never
/// repeats a value that may hold credentials.
pub(crate) fn parse_proxy_url(raw: &str, source: &str) -> Result<Url, Error> {
    let raw = raw.trim();
    let shown = if raw.contains('@') { "(credentials hidden)".to_string() } else { format!("{raw:?}") };
    let with_scheme = if raw.contains("://") { raw.to_string() } else { format!("http://{raw}") };
    let url = Url::parse(&with_scheme).map_err(|e| {
        Error::validation(format!(
            "{source} {shown} is not a valid proxy URL ({e}); give one like \"http://proxy.example:3128\""
        ))
    })?;
    match url.scheme() {
        "http" | "https" => {}
        other => {
            return Err(Error::validation(format!(
                "{source}: proxy scheme {other:?} is not supported; give an http:// or https:// proxy (HTTP CONNECT)"
            )))
        }
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(Error::validation(format!(
            "{source} {shown} has no host; give one like \"http://proxy.example:3128\""
        )));
    }
    if url.query().is_some() || url.fragment().is_some() || !matches!(url.path(), "" | "/") {
        return Err(Error::validation(format!(
            "{source} {} has a path, query or fragment; give just scheme, host and port",
            redact_url(&url)
        )));
    }
    Ok(url)
}

/// Decides the proxy for `target`.
pub(crate) fn resolve_proxy(target: &Url, setting: &ProxySetting, env: &ProxyEnv) -> Result<EffectiveProxy, Error> {
    let none = |source, variable, bypassed: Option<String>| EffectiveProxy { url: None, source, variable, bypassed };
    let (url, source, variable) = match setting {
        ProxySetting::Off => return Ok(none(ProxySource::None, None, Some("proxies turned off (no_proxy)".into()))),
        ProxySetting::Url(raw) => (parse_proxy_url(raw, "proxy")?, ProxySource::Option, None),
        ProxySetting::FromEnv => {
            let cgi = env.get("REQUEST_METHOD").is_some();
            let found = if target.scheme() == "https" {
                env.first(&["https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY"])
            } else if cgi {
                env.first(&["http_proxy", "all_proxy", "ALL_PROXY"])
            } else {
                env.first(&["http_proxy", "HTTP_PROXY", "all_proxy", "ALL_PROXY"])
            };
            let Some((var, raw)) = found else {
                return Ok(none(ProxySource::None, None, None));
            };
            (parse_proxy_url(raw, var)?, ProxySource::Environment, Some(var))
        }
    };
    if is_loopback(target) {
        return Ok(none(source, variable, Some("loopback is never proxied".into())));
    }
    if source == ProxySource::Environment {
        if let Some((var, list)) = env.first(&["no_proxy", "NO_PROXY"]) {
            if no_proxy_matches(list, target) {
                return Ok(none(source, variable, Some(format!("{var} matches the host"))));
            }
        }
    }
    Ok(EffectiveProxy { url: Some(url), source, variable, bypassed: None })
}

/// `NO_PROXY` matching: `*`; host names (`example.com`, `.example.com` and `*.example.com` all
/// match the name and its subdomains); IP addresses and CIDR ranges; an optional `:port`.
pub(crate) fn no_proxy_matches(list: &str, target: &Url) -> bool {
    let Some(host) = target.host_str() else { return false };
    let host = host.trim_start_matches('[').trim_end_matches(']').trim_end_matches('.').to_ascii_lowercase();
    let port = target.port_or_known_default();
    let ip: Option<IpAddr> = host.parse().ok();
    list.split([',', ' ']).map(str::trim).filter(|e| !e.is_empty()).any(|entry| {
        if entry == "*" {
            return true;
        }
        let entry = entry.to_ascii_lowercase();
        if let Some(ip) = ip {
            let e = entry.trim_start_matches('[');
            let e = e.split(']').next().unwrap_or(e);
            if let Some((net, bits)) = e.split_once('/') {
                return match (net.parse::<IpAddr>(), bits.parse::<u8>()) {
                    (Ok(net), Ok(bits)) => in_cidr(ip, net, bits),
                    _ => false,
                };
            }
            return e.parse::<IpAddr>().is_ok_and(|e| e == ip);
        }
        let (name, want_port) = match entry.rsplit_once(':') {
            Some((n, p)) if p.chars().all(|c| c.is_ascii_digit()) && !p.is_empty() => (n, p.parse::<u16>().ok()),
            _ => (entry.as_str(), None),
        };
        if want_port.is_some() && want_port != port {
            return false;
        }
        let name = name.trim_start_matches("*.").trim_start_matches('.').trim_end_matches('.');
        !name.is_empty() && (host == name || host.ends_with(&format!(".{name}")))
    })
}

fn in_cidr(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(ip), IpAddr::V4(net)) if bits <= 32 => {
            let mask = if bits == 0 { 0 } else { u32::MAX << (32 - bits) };
            u32::from(ip) & mask == u32::from(net) & mask
        }
        (IpAddr::V6(ip), IpAddr::V6(net)) if bits <= 128 => {
            let mask = if bits == 0 { 0 } else { u128::MAX << (128 - bits) };
            u128::from(ip) & mask == u128::from(net) & mask
        }
        _ => false,
    }
}

// ---------------------------------------------------------------------------------------------
// Trusted roots and TLS
// ---------------------------------------------------------------------------------------------

/// One source of trusted roots, as [`diagnostics`](crate::diagnostics()) reports it.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RootSource {
    /// `system`, `ca_bundle` or `NODE_EXTRA_CA_CERTS`.
    pub source: String,
    /// The file, when the roots come from one (`SSL_CERT_FILE` for the system roots, if set).
    pub path: Option<String>,
    /// How many certificates it gave (for the system: counted by [`diagnostics`](crate::diagnostics())).
    pub certificates: Option<usize>,
    /// A problem with it that did not stop the client (`NODE_EXTRA_CA_CERTS` unreadable).
    pub warning: Option<String>,
}

/// Reads a PEM file of CA certificates. `option` names the setting for messages.
pub(crate) fn read_ca_file(path: &Path, option: &str) -> Result<Vec<CertificateDer<'static>>, Error> {
    let shown = path.display();
    let bytes = std::fs::read(path).map_err(|e| {
        let why = match e.kind() {
            std::io::ErrorKind::NotFound => "no such file".to_string(),
            std::io::ErrorKind::PermissionDenied => "permission denied".to_string(),
            _ if path.is_dir() => "it is a directory".to_string(),
            _ => e.to_string(),
        };
        Error::validation(format!(
            "{option} {shown:?} cannot be read ({why}); give the path of a PEM file holding the CA certificate(s) to trust"
        ))
    })?;
    let mut certs = Vec::new();
    for item in CertificateDer::pem_slice_iter(&bytes) {
        match item {
            Ok(c) => certs.push(c),
            Err(e) => {
                return Err(Error::validation(format!(
                "{option} {shown:?} is not a valid PEM file ({e}); give a file of -----BEGIN CERTIFICATE----- blocks"
            )))
            }
        }
    }
    if certs.is_empty() {
        return Err(Error::validation(format!(
            "{option} {shown:?} holds no certificate (no -----BEGIN CERTIFICATE----- block); give a PEM file of the CA certificate(s) to trust"
        )));
    }
    for (i, c) in certs.iter().enumerate() {
        let mut store = rustls::RootCertStore::empty();
        if let Err(e) = store.add(c.clone()) {
            return Err(Error::validation(format!(
                "{option} {shown:?}: certificate {} of {} cannot be used as a trusted root ({e})",
                i + 1,
                certs.len()
            )));
        }
    }
    Ok(certs)
}

/// The crypto provider of the SDK (aws-lc-rs, as reqwest's rustls default).
fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

type VerifierCache = Mutex<Option<((Option<String>, Option<String>), Arc<dyn ServerCertVerifier>)>>;

/// The verifier with only the system's roots, built once per `SSL_CERT_FILE`/`SSL_CERT_DIR`
/// (loading the system roots reads and parses every file of the store).
static SYSTEM_VERIFIER: VerifierCache = Mutex::new(None);

fn system_verifier() -> Result<Arc<dyn ServerCertVerifier>, rustls::Error> {
    let key = (std::env::var("SSL_CERT_FILE").ok(), std::env::var("SSL_CERT_DIR").ok());
    let mut cache = SYSTEM_VERIFIER.lock().unwrap_or_else(|p| p.into_inner());
    if let Some((k, v)) = cache.as_ref() {
        if *k == key {
            return Ok(Arc::clone(v));
        }
    }
    let v: Arc<dyn ServerCertVerifier> = Arc::new(rustls_platform_verifier::Verifier::new(provider())?);
    *cache = Some((key, Arc::clone(&v)));
    Ok(v)
}

/// Everything network-related a client was built with.
///
/// The proxy is decided and the `ca_bundle` read when the client is built (bad settings are a
/// `Validation` error then, before any request); the TLS set-up itself, which reads the
/// system's trusted roots (tens of milliseconds), is made at first use (the first call, on the
/// runtime, or `diagnostics()`), so that building a client does no blocking work: not in an
/// event loop, not at import. Clones share it.
#[derive(Clone)]
pub struct Network {
    pub(crate) proxy: EffectiveProxy,
    roots: Vec<RootSource>,
    pub(crate) http2: bool,
    /// The roots added to the system's (`ca_bundle`, `NODE_EXTRA_CA_CERTS`).
    extra: Arc<Vec<CertificateDer<'static>>>,
    /// A plain-http base URL needs no roots: without any, TLS is refused instead of the client.
    plain_http: bool,
    tls: Arc<std::sync::OnceLock<Result<TlsSetUp, String>>>,
}

/// The TLS set-up, made at first use.
struct TlsSetUp {
    config: Arc<rustls::ClientConfig>,
    /// Why the system's roots could not be loaded, when a plain-http client went on without.
    system_warning: Option<String>,
}

impl fmt::Debug for Network {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Network")
            .field("proxy", &self.proxy)
            .field("roots", &self.roots)
            .field("http2", &self.http2)
            .finish()
    }
}

/// What the builder says about the network.
#[derive(Clone, Debug, Default)]
pub(crate) struct NetworkOptions {
    pub(crate) proxy: ProxySetting,
    pub(crate) proxy_env: Option<ProxyEnv>,
    pub(crate) ca_bundle: Option<PathBuf>,
    pub(crate) node_extra_ca_certs: Option<String>,
    pub(crate) http2: Option<bool>,
}

impl Network {
    pub(crate) fn build(base_url: &Url, options: &NetworkOptions) -> Result<Network, Error> {
        let env = match &options.proxy_env {
            Some(env) => env.clone(),
            None => ProxyEnv::from_process(),
        };
        let proxy = resolve_proxy(base_url, &options.proxy, &env)?;
        let mut roots = vec![RootSource {
            source: "system".into(),
            path: std::env::var("SSL_CERT_FILE").ok().filter(|v| !v.is_empty()),
            certificates: None,
            warning: None,
        }];
        let mut extra = Vec::new();
        if let Some(path) = &options.ca_bundle {
            let certs = read_ca_file(path, "ca_bundle")?;
            roots.push(RootSource {
                source: "ca_bundle".into(),
                path: Some(path.display().to_string()),
                certificates: Some(certs.len()),
                warning: None,
            });
            extra.extend(certs);
        }
        if let Some(path) = options.node_extra_ca_certs.as_deref().map(str::trim).filter(|p| !p.is_empty()) {
            // As Node does: a file that cannot be used is a warning, never a failure.
            match read_ca_file(Path::new(path), NODE_EXTRA_CA_CERTS) {
                Ok(certs) => {
                    roots.push(RootSource {
                        source: NODE_EXTRA_CA_CERTS.into(),
                        path: Some(path.to_string()),
                        certificates: Some(certs.len()),
                        warning: None,
                    });
                    extra.extend(certs);
                }
                Err(e) => {
                    tracing::warn!(target: "partly", "ignoring extra certificates from {NODE_EXTRA_CA_CERTS}: {}", e.message());
                    roots.push(RootSource {
                        source: NODE_EXTRA_CA_CERTS.into(),
                        path: Some(path.to_string()),
                        certificates: Some(0),
                        warning: Some(e.message().to_string()),
                    });
                }
            }
        }
        let http2 = options.http2.unwrap_or(crate::config::defaults::HTTP2);
        Ok(Network {
            proxy,
            roots,
            http2,
            extra: Arc::new(extra),
            plain_http: base_url.scheme() == "http",
            tls: Arc::new(std::sync::OnceLock::new()),
        })
    }

    /// The TLS configuration (trusted roots, ALPN), made at the first call of this.
    pub(crate) fn tls_config(&self) -> Result<Arc<rustls::ClientConfig>, Error> {
        match self.tls.get_or_init(|| self.set_up_tls()) {
            Ok(t) => Ok(Arc::clone(&t.config)),
            Err(why) => Err(Error::new(ErrorKind::Connection, why.clone())),
        }
    }

    fn set_up_tls(&self) -> Result<TlsSetUp, String> {
        let mut system_warning = None;
        let verifier: Arc<dyn ServerCertVerifier> = if self.extra.is_empty() {
            match system_verifier() {
                Ok(v) => v,
                // A plain-http base URL (a local mock in a container without CA certificates)
                // needs no roots: build the client, and refuse any TLS it might be sent to.
                Err(e) if self.plain_http => {
                    let why = no_roots(e).message().to_string();
                    system_warning = Some(why.clone());
                    Arc::new(NoRoots(why))
                }
                Err(e) => return Err(no_roots(e).message().to_string()),
            }
        } else {
            Arc::new(
                rustls_platform_verifier::Verifier::new_with_extra_roots(self.extra.iter().cloned(), provider())
                    .map_err(|e| no_roots(e).message().to_string())?,
            )
        };
        let mut tls = rustls::ClientConfig::builder_with_provider(provider())
            .with_safe_default_protocol_versions()
            .map_err(|e| format!("could not set up TLS: {e}"))?
            .dangerous()
            .with_custom_certificate_verifier(verifier)
            .with_no_client_auth();
        tls.alpn_protocols =
            if self.http2 { vec![b"h2".to_vec(), b"http/1.1".to_vec()] } else { vec![b"http/1.1".to_vec()] };
        Ok(TlsSetUp { config: Arc::new(tls), system_warning })
    }

    /// The proxy decision for the base URL.
    pub fn proxy(&self) -> &EffectiveProxy {
        &self.proxy
    }

    /// Where the trusted roots come from (with the system's warning once the TLS set-up is
    /// made and found none).
    pub fn roots(&self) -> Vec<RootSource> {
        let mut roots = self.roots.clone();
        if let Some(Ok(TlsSetUp { system_warning: Some(why), .. })) = self.tls.get() {
            if let Some(system) = roots.iter_mut().find(|r| r.source == "system") {
                system.warning = Some(why.clone());
            }
        }
        roots
    }

    /// Whether HTTP/2 is offered over TLS (ALPN `h2`).
    pub fn http2(&self) -> bool {
        self.http2
    }
}

/// The HTTP client of a [`Client`](crate::Client) for these settings: our TLS config (roots,
/// ALPN), the one proxy decided for the base URL (or none), and `localhost` pinned to loopback.
pub(crate) fn http_client(
    network: &Network,
    connect_timeout: std::time::Duration,
    pooled: bool,
) -> Result<reqwest::Client, Error> {
    let tls = network.tls_config()?;
    let set_up = |e: reqwest::Error| {
        Error::new(ErrorKind::Connection, format!("could not set up the HTTP client: {e}")).with_source(e)
    };
    let loopback = [
        std::net::SocketAddr::from((std::net::Ipv4Addr::LOCALHOST, 0)),
        std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
    ];
    let mut b = reqwest::Client::builder()
        .connect_timeout(connect_timeout)
        .redirect(reqwest::redirect::Policy::none())
        .pool_idle_timeout(std::time::Duration::from_secs(60))
        .tcp_nodelay(true)
        .tls_backend_preconfigured((*tls).clone())
        .resolve_to_addrs("localhost", &loopback)
        .no_proxy();
    if !network.http2 {
        b = b.http1_only();
    }
    if !pooled {
        b = b.pool_max_idle_per_host(0);
    }
    if let Some(url) = network.proxy.url() {
        let mut proxy = reqwest::Proxy::all(url.clone()).map_err(set_up)?;
        if let Some((user, password)) = network.proxy.credentials() {
            proxy = proxy.basic_auth(&user, &password);
        }
        b = b.proxy(proxy);
    }
    b.build().map_err(set_up)
}

/// The verifier of a client that has no trusted roots at all: it refuses every certificate.
#[derive(Debug)]
struct NoRoots(String);

impl ServerCertVerifier for NoRoots {
    fn verify_server_cert(
        &self,
        _end_entity: &CertificateDer<'_>,
        _intermediates: &[CertificateDer<'_>],
        _server_name: &rustls_pki_types::ServerName<'_>,
        _ocsp_response: &[u8],
        _now: rustls_pki_types::UnixTime,
    ) -> Result<rustls::client::danger::ServerCertVerified, rustls::Error> {
        Err(rustls::Error::General(self.0.clone()))
    }

    fn verify_tls12_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(self.0.clone()))
    }

    fn verify_tls13_signature(
        &self,
        _message: &[u8],
        _cert: &CertificateDer<'_>,
        _dss: &rustls::DigitallySignedStruct,
    ) -> Result<rustls::client::danger::HandshakeSignatureValid, rustls::Error> {
        Err(rustls::Error::General(self.0.clone()))
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        provider().signature_verification_algorithms.supported_schemes()
    }
}

fn no_roots(e: rustls::Error) -> Error {
    Error::new(
        ErrorKind::Connection,
        format!(
            "no trusted CA certificates could be loaded ({e}); install the system's CA certificates (Debian: ca-certificates), set SSL_CERT_FILE, or pass ca_bundle"
        ),
    )
}

// ---------------------------------------------------------------------------------------------
// Explaining failures
// ---------------------------------------------------------------------------------------------

/// The rustls error inside an error chain (reqwest and hyper wrap it in `io::Error`s).
pub(crate) fn find_tls_error<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if let Some(inner) = io.get_ref() {
                if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
                    return Some(tls);
                }
                if let Some(found) = find_tls_error(inner) {
                    return Some(found);
                }
            }
        }
        cur = err.source();
    }
    None
}

/// A sentence naming a TLS failure and how to fix it, for `ConnectionError` messages.
pub(crate) fn explain_tls_error(e: &rustls::Error, host: &str) -> String {
    use rustls::CertificateError as C;
    let trust_hint = "if a TLS-inspecting proxy or a private CA signs it, trust that CA: pass its PEM file as \
ca_bundle (Node: caBundle), or set SSL_CERT_FILE (Node: NODE_EXTRA_CA_CERTS)";
    match e {
        rustls::Error::InvalidCertificate(cert) => match cert {
            C::UnknownIssuer => format!(
                "the TLS certificate of {host} is not trusted: it was issued by a certificate authority this machine does not trust; {trust_hint}"
            ),
            C::BadSignature => {
                format!("the TLS certificate of {host} has a bad signature; {trust_hint}")
            }
            C::NotValidForName | C::NotValidForNameContext { .. } => format!(
                "the TLS certificate of {host} is not valid for that name; check the host of the base URL (or what answers at it)"
            ),
            C::Expired | C::ExpiredContext { .. } => format!(
                "the TLS certificate of {host} has expired (or this machine's clock is wrong: partly diagnostics shows the offset)"
            ),
            C::NotValidYet | C::NotValidYetContext { .. } => format!(
                "the TLS certificate of {host} is not valid yet (check this machine's clock: partly diagnostics shows the offset)"
            ),
            C::Revoked => format!("the TLS certificate of {host} has been revoked"),
            other => format!("the TLS certificate of {host} was refused ({other:?}); {trust_hint}"),
        },
        rustls::Error::NoApplicationProtocol => {
            format!("the TLS handshake with {host} failed: no common application protocol (ALPN)")
        }
        other => format!("the TLS handshake with {host} failed ({other})"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> ProxyEnv {
        let pairs: Vec<(String, String)> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        ProxyEnv::from_lookup(|n| pairs.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()))
    }

    fn url(s: &str) -> Url {
        Url::parse(s).unwrap()
    }

    #[test]
    fn environment_proxies_by_scheme_lower_case_first() {
        let e = env(&[
            ("HTTPS_PROXY", "http://upper:1"),
            ("https_proxy", "http://lower:2"),
            ("HTTP_PROXY", "http://plain:3"),
        ]);
        let p = resolve_proxy(&url("https://api.partly.com"), &ProxySetting::FromEnv, &e).unwrap();
        assert_eq!(p.display().as_deref(), Some("http://lower:2"));
        assert_eq!(p.variable, Some("https_proxy"));
        let p = resolve_proxy(&url("http://api.partly.com"), &ProxySetting::FromEnv, &e).unwrap();
        assert_eq!(p.display().as_deref(), Some("http://plain:3"));
        let e = env(&[("ALL_PROXY", "proxy.corp:3128")]);
        let p = resolve_proxy(&url("https://api.partly.com"), &ProxySetting::FromEnv, &e).unwrap();
        assert_eq!(p.display().as_deref(), Some("http://proxy.corp:3128"), "no scheme means http");
        let p = resolve_proxy(&url("https://api.partly.com"), &ProxySetting::FromEnv, &env(&[])).unwrap();
        assert!(p.url().is_none());
    }

    #[test]
    fn loopback_is_never_proxied() {
        let e = env(&[("HTTP_PROXY", "http://proxy:1"), ("HTTPS_PROXY", "http://proxy:1")]);
        for target in
            ["http://127.0.0.1:8080", "http://127.5.6.7:1", "http://[::1]:9", "http://localhost:3", "https://LOCALHOST"]
        {
            let p = resolve_proxy(&url(target), &ProxySetting::FromEnv, &e).unwrap();
            assert!(p.url().is_none(), "{target}");
            assert_eq!(p.bypassed.as_deref(), Some("loopback is never proxied"));
            let p = resolve_proxy(&url(target), &ProxySetting::Url("http://explicit:1".into()), &e).unwrap();
            assert!(p.url().is_none(), "{target} with an explicit proxy");
        }
        // Not certain to be this machine: proxied like any other name.
        let p = resolve_proxy(&url("https://api.localhost"), &ProxySetting::FromEnv, &e).unwrap();
        assert!(p.url().is_some());
    }

    #[test]
    fn no_proxy_forms() {
        let t = url("https://api.partly.com");
        for list in ["*", "partly.com", ".partly.com", "*.partly.com", "other, api.partly.com", "api.partly.com:443"] {
            assert!(no_proxy_matches(list, &t), "{list}");
        }
        for list in ["", "artly.com", "api.partly.com:8443", "partly.co", "10.0.0.0/8"] {
            assert!(!no_proxy_matches(list, &t), "{list}");
        }
        let ip = url("https://10.1.2.3:8443");
        assert!(no_proxy_matches("10.0.0.0/8", &ip));
        assert!(no_proxy_matches("10.1.2.3", &ip));
        assert!(!no_proxy_matches("10.1.2.4,192.168.0.0/16", &ip));
        assert!(no_proxy_matches("fd00::/8", &url("https://[fd12::1]")));
        let e = env(&[("HTTPS_PROXY", "http://proxy:1"), ("NO_PROXY", ".partly.com")]);
        let p = resolve_proxy(&t, &ProxySetting::FromEnv, &e).unwrap();
        assert!(p.url().is_none());
        assert_eq!(p.bypassed.as_deref(), Some("NO_PROXY matches the host"));
        // An explicit proxy overrides the environment, NO_PROXY included.
        let p = resolve_proxy(&t, &ProxySetting::Url("http://explicit:1".into()), &e).unwrap();
        assert_eq!(p.display().as_deref(), Some("http://explicit:1"));
        let p = resolve_proxy(&t, &ProxySetting::Off, &e).unwrap();
        assert!(p.url().is_none());
    }

    #[test]
    fn cgi_ignores_upper_case_http_proxy() {
        let e = env(&[("HTTP_PROXY", "http://injected:1"), ("REQUEST_METHOD", "GET")]);
        let p = resolve_proxy(&url("http://api.partly.com"), &ProxySetting::FromEnv, &e).unwrap();
        assert!(p.url().is_none());
    }

    #[test]
    fn credentials_are_redacted_everywhere() {
        let e = env(&[("HTTPS_PROXY", "http://alice:s3cr3t-pw@proxy.corp:3128")]);
        let p = resolve_proxy(&url("https://api.partly.com"), &ProxySetting::FromEnv, &e).unwrap();
        assert_eq!(p.display().as_deref(), Some("http://***@proxy.corp:3128"));
        assert!(!format!("{p:?}").contains("s3cr3t"));
        assert!(!format!("{e:?}").contains("s3cr3t"));
        assert!(!p.describe().unwrap().contains("alice"));
        assert_eq!(p.credentials(), Some(("alice".into(), "s3cr3t-pw".into())));
        let pct = parse_proxy_url("http://a%40b:p%3Aw@proxy:1", "proxy").unwrap();
        let p = EffectiveProxy { url: Some(pct), source: ProxySource::Option, variable: None, bypassed: None };
        assert_eq!(p.credentials(), Some(("a@b".into(), "p:w".into())));
        for bad in ["http://user:pa ss@@", "socks5://u:secretpw@h:1", "http://u:secretpw@h:1/path"] {
            let err = parse_proxy_url(bad, "proxy").unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Validation);
            assert!(!err.to_string().contains("secretpw") && !err.to_string().contains("pa ss"), "{err}");
        }
    }

    #[test]
    fn ca_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("partly-ca-test-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let missing = dir.join("missing.pem");
        let e = read_ca_file(&missing, "ca_bundle").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        assert!(e.to_string().contains("no such file") && e.to_string().contains("PEM"), "{e}");
        let empty = dir.join("empty.pem");
        std::fs::write(&empty, "just some text\n").unwrap();
        let e = read_ca_file(&empty, "ca_bundle").unwrap_err();
        assert!(e.to_string().contains("holds no certificate"), "{e}");
        let e = read_ca_file(&dir, "ca_bundle").unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
        let _ = std::fs::remove_dir_all(&dir);
    }
}
