//! `diagnostics()`: what a support ticket needs about the network between this process and the
//! API, as one structured value (`partly doctor` prints it; Python and Node return it as a dict /
//! object of the same fields).
//!
//! It makes one unauthenticated `GET` of the base URL with the client's own settings (proxy,
//! trusted roots, TLS and ALPN), timing each step itself: DNS, TCP, the proxy's `CONNECT`, the
//! TLS handshake and the first byte of the answer. The answer's status does not matter (the API
//! answers 404 there); its `Date` header gives the server's clock offset. No API key, client
//! secret or proxy credential appears in the value.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! let report = partly::diagnostics(partly::ClientBuilder::from_env()).await?;
//! println!("{}", partly::serde_json::to_string_pretty(&report)?);
//! # Ok(()) }
//! ```

use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use bytes::Bytes;
use http_body_util::Empty;
use hyper_util::rt::{TokioExecutor, TokioIo};
use serde::Serialize;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use url::Url;

use crate::config::{ClientBuilder, Config};
use crate::error::Error;
use crate::network::{self, ProxySource, RootSource};

/// The proxy in force for the base URL, with credentials redacted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProxyReport {
    /// The proxy URL (`http://***@proxy.corp:3128`), or `None` when calls go direct.
    pub url: Option<String>,
    /// `option`, `environment` or `none`.
    pub source: ProxySource,
    /// The variable it came from (`HTTPS_PROXY`), if any.
    pub variable: Option<String>,
    /// Why a configured proxy is not used (`loopback is never proxied`, `NO_PROXY matches the host`).
    pub bypassed: Option<String>,
}

/// How long each step of the probe took, in milliseconds (`None`: not done, or not reached).
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Timings {
    /// Resolving the host connected to (the proxy's, when there is one).
    pub dns_ms: Option<f64>,
    /// The TCP connection.
    pub tcp_ms: Option<f64>,
    /// The proxy's answer to `CONNECT`.
    pub proxy_connect_ms: Option<f64>,
    /// The TLS handshake with the API.
    pub tls_ms: Option<f64>,
    /// From sending the request to the answer's head.
    pub first_byte_ms: Option<f64>,
    /// The whole probe.
    pub total_ms: f64,
}

/// Where the probe failed.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct ProbeError {
    /// `dns`, `tcp`, `proxy`, `tls`, `request` or `timeout`.
    pub stage: String,
    /// What went wrong and, where we know, how to fix it.
    pub message: String,
}

/// The result of [`diagnostics`].
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Diagnostics {
    /// The SDK's version.
    pub sdk_version: String,
    /// The `user-agent` the client sends.
    pub user_agent: String,
    /// The base URL.
    pub base_url: String,
    /// The proxy in force.
    pub proxy: ProxyReport,
    /// Where trusted roots come from (`system`, `ca_bundle`, `NODE_EXTRA_CA_CERTS`), with counts.
    pub trusted_roots: Vec<RootSource>,
    /// Whether HTTP/2 is offered over TLS.
    pub http2_offered: bool,
    /// The addresses the connected host resolved to.
    pub resolved_addresses: Vec<String>,
    /// The address connected to.
    pub connected_to: Option<String>,
    /// The TLS version negotiated (`TLSv1_3`).
    pub tls_version: Option<String>,
    /// The HTTP version of the answer (`HTTP/1.1`, `HTTP/2`).
    pub http_version: Option<String>,
    /// The status of the answer (any status is a success of the probe).
    pub status: Option<u16>,
    /// The server's `Date` header.
    pub server_date: Option<String>,
    /// The server's clock minus this machine's, in milliseconds (the header has a resolution of
    /// one second, so within about ±1000 ms).
    pub clock_offset_ms: Option<i64>,
    /// Step timings.
    pub timings: Timings,
    /// Where the probe failed, if it did.
    pub error: Option<ProbeError>,
}

/// Runs the probe with the settings of `builder` (validated first: bad settings are the same
/// `Validation` error the client would give).
pub async fn diagnostics(builder: ClientBuilder) -> Result<Diagnostics, Error> {
    let config = builder.build_config()?;
    Ok(run(&config).await)
}

impl crate::Client {
    /// [`diagnostics`] with this client's settings.
    pub async fn diagnostics(&self) -> Diagnostics {
        run(self.config()).await
    }
}

fn ms(d: Duration) -> f64 {
    (d.as_secs_f64() * 1000.0 * 1000.0).round() / 1000.0
}

/// Runs the probe with validated settings.
pub async fn run(config: &Config) -> Diagnostics {
    let net = config.network();
    let proxy = net.proxy();
    // The TLS set-up (made at first use) first, so that the roots say what it found.
    let _ = net.tls_config();
    let mut roots = net.roots();
    if let Some(system) = roots.iter_mut().find(|r| r.source == "system") {
        let loaded = rustls_native_certs::load_native_certs();
        system.certificates = Some(loaded.certs.len());
        if let Some(first) = loaded.errors.first() {
            system.warning = Some(first.to_string());
        }
        if system.path.is_none() {
            system.path = std::env::var("SSL_CERT_DIR").ok().filter(|v| !v.is_empty());
        }
    }
    let mut out = Diagnostics {
        sdk_version: crate::VERSION.to_string(),
        user_agent: config.user_agent(),
        base_url: config.base_url().as_str().trim_end_matches('/').to_string(),
        proxy: ProxyReport {
            url: proxy.display(),
            source: proxy.source,
            variable: proxy.variable.map(str::to_string),
            bypassed: proxy.bypassed.clone(),
        },
        trusted_roots: roots,
        http2_offered: net.http2(),
        resolved_addresses: Vec::new(),
        connected_to: None,
        tls_version: None,
        http_version: None,
        status: None,
        server_date: None,
        clock_offset_ms: None,
        timings: Timings::default(),
        error: None,
    };
    let started = Instant::now();
    let result = tokio::time::timeout(config.timeout(), probe(config, &mut out)).await;
    out.timings.total_ms = ms(started.elapsed());
    match result {
        Ok(Ok(())) => {}
        Ok(Err(e)) => out.error = Some(e),
        Err(_) => {
            out.error = Some(ProbeError {
                stage: "timeout".into(),
                message: format!("no answer within the timeout of {} s", config.timeout().as_secs_f64()),
            })
        }
    }
    out
}

trait Io: AsyncRead + AsyncWrite + Unpin + Send {}
impl<T: AsyncRead + AsyncWrite + Unpin + Send> Io for T {}

fn fail(stage: &str, message: impl Into<String>) -> ProbeError {
    ProbeError { stage: stage.into(), message: message.into() }
}

fn server_name(host: &str) -> Result<rustls_pki_types::ServerName<'static>, ProbeError> {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    rustls_pki_types::ServerName::try_from(bare.to_string())
        .map_err(|e| fail("tls", format!("{host:?} is not a valid TLS server name ({e})")))
}

async fn tls_connect(
    tls: Arc<rustls::ClientConfig>,
    host: &str,
    stream: Box<dyn Io>,
) -> Result<tokio_rustls::client::TlsStream<Box<dyn Io>>, ProbeError> {
    let connector = tokio_rustls::TlsConnector::from(tls);
    connector.connect(server_name(host)?, stream).await.map_err(|e| {
        let message = match network::find_tls_error(&e) {
            Some(tls) => network::explain_tls_error(tls, host),
            None => format!("the TLS handshake with {host} failed ({e})"),
        };
        fail("tls", message)
    })
}

async fn probe(config: &Config, out: &mut Diagnostics) -> Result<(), ProbeError> {
    let net = config.network();
    let target: &Url = config.base_url();
    let https = target.scheme() == "https";
    let host = target.host_str().unwrap_or("").to_string();
    let port = target.port_or_known_default().unwrap_or(if https { 443 } else { 80 });
    let via = net.proxy().url().cloned();
    let (connect_host, connect_port) = match &via {
        Some(p) => (p.host_str().unwrap_or("").to_string(), p.port_or_known_default().unwrap_or(80)),
        None => (host.clone(), port),
    };

    // DNS (`localhost` is loopback, never asked of DNS: the client pins it the same way).
    let t = Instant::now();
    let addrs: Vec<SocketAddr> = if connect_host.eq_ignore_ascii_case("localhost") {
        vec![
            SocketAddr::from(([127, 0, 0, 1], connect_port)),
            SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, connect_port)),
        ]
    } else {
        let bare = connect_host.trim_start_matches('[').trim_end_matches(']');
        let looked_up = tokio::net::lookup_host((bare, connect_port)).await;
        out.timings.dns_ms = Some(ms(t.elapsed()));
        looked_up.map_err(|e| fail("dns", format!("could not resolve {connect_host}: {e}")))?.collect()
    };
    out.timings.dns_ms = Some(ms(t.elapsed()));
    out.resolved_addresses = addrs.iter().map(|a| a.ip().to_string()).collect();

    // TCP
    let t = Instant::now();
    let mut last = None;
    let mut tcp = None;
    for addr in &addrs {
        match tokio::time::timeout(config.connect_timeout(), TcpStream::connect(addr)).await {
            Ok(Ok(s)) => {
                out.connected_to = Some(addr.to_string());
                tcp = Some(s);
                break;
            }
            Ok(Err(e)) => last = Some(format!("{addr}: {e}")),
            Err(_) => last = Some(format!("{addr}: no connection within {} s", config.connect_timeout().as_secs_f64())),
        }
    }
    let Some(tcp) = tcp else {
        let what = if via.is_some() { "the proxy" } else { "the API" };
        return Err(fail(
            "tcp",
            format!("could not connect to {what} ({}): {}", connect_host, last.unwrap_or_else(|| "no address".into())),
        ));
    };
    let _ = tcp.set_nodelay(true);
    out.timings.tcp_ms = Some(ms(t.elapsed()));
    let mut stream: Box<dyn Io> = Box::new(tcp);

    // The proxy: TLS to it when it is an https:// proxy, then CONNECT for an https API.
    if let Some(p) = &via {
        if p.scheme() == "https" {
            let mut cfg = (*net.tls_config().map_err(|e| fail("tls", e.message()))?).clone();
            cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
            stream = Box::new(tls_connect(Arc::new(cfg), &connect_host, stream).await?);
        }
        if https {
            let t = Instant::now();
            connect_tunnel(&mut stream, &host, port, net.proxy()).await?;
            out.timings.proxy_connect_ms = Some(ms(t.elapsed()));
        }
    }

    // TLS with the API.
    let mut h2 = false;
    if https {
        let t = Instant::now();
        let config = net.tls_config().map_err(|e| fail("tls", e.message()))?;
        let tls = tls_connect(config, &host, stream).await?;
        out.timings.tls_ms = Some(ms(t.elapsed()));
        let (_, session) = tls.get_ref();
        out.tls_version = session.protocol_version().map(|v| format!("{v:?}"));
        h2 = session.alpn_protocol() == Some(b"h2");
        stream = Box::new(tls);
    }

    // One GET of the base URL, without credentials.
    let path = match target.path() {
        "" => "/".to_string(),
        p => p.to_string(),
    };
    let uri = if via.is_some() && !https { target.as_str().to_string() } else { path };
    let mut req = hyper::Request::get(uri.as_str())
        .header(hyper::header::USER_AGENT, config.user_agent())
        .header(hyper::header::ACCEPT, "*/*");
    if !h2 {
        let authority = match target.port() {
            Some(p) => format!("{host}:{p}"),
            None => host.clone(),
        };
        req = req.header(hyper::header::HOST, authority);
    } else {
        req = req.uri(target.as_str());
    }
    if let (Some(_), false, Some((user, password))) = (&via, https, net.proxy().credentials()) {
        req = req.header(hyper::header::PROXY_AUTHORIZATION, basic_auth(&user, &password));
    }
    let req =
        req.body(Empty::<Bytes>::new()).map_err(|e| fail("request", format!("could not build the request: {e}")))?;
    let io = TokioIo::new(stream);
    let t = Instant::now();
    let response = if h2 {
        let (mut send, conn) = hyper::client::conn::http2::handshake(TokioExecutor::new(), io)
            .await
            .map_err(|e| fail("request", format!("the HTTP/2 handshake failed: {}", crate::client::error_chain(&e))))?;
        tokio::spawn(conn);
        send.send_request(req).await
    } else {
        let (mut send, conn) = hyper::client::conn::http1::handshake(io).await.map_err(|e| {
            fail("request", format!("the HTTP/1.1 handshake failed: {}", crate::client::error_chain(&e)))
        })?;
        tokio::spawn(conn);
        send.send_request(req).await
    };
    let response = response
        .map_err(|e| fail("request", format!("no answer to the request: {}", crate::client::error_chain(&e))))?;
    let now = SystemTime::now();
    out.timings.first_byte_ms = Some(ms(t.elapsed()));
    out.status = Some(response.status().as_u16());
    out.http_version = Some(
        match response.version() {
            hyper::Version::HTTP_2 => "HTTP/2",
            hyper::Version::HTTP_10 => "HTTP/1.0",
            _ => "HTTP/1.1",
        }
        .to_string(),
    );
    if let Some(date) = response.headers().get(hyper::header::DATE).and_then(|v| v.to_str().ok()) {
        out.server_date = Some(date.chars().take(64).collect());
        if let Ok(server) = httpdate::parse_http_date(date) {
            out.clock_offset_ms = Some(match server.duration_since(now) {
                Ok(ahead) => i64::try_from(ahead.as_millis()).unwrap_or(i64::MAX),
                Err(behind) => -i64::try_from(behind.duration().as_millis()).unwrap_or(i64::MAX),
            });
        }
    }
    Ok(())
}

/// `CONNECT host:port` through the proxy on `stream`; Ok once it answered 2xx.
async fn connect_tunnel(
    stream: &mut Box<dyn Io>,
    host: &str,
    port: u16,
    proxy: &network::EffectiveProxy,
) -> Result<(), ProbeError> {
    let shown = proxy.display().unwrap_or_default();
    let mut head = format!("CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n");
    if let Some((user, password)) = proxy.credentials() {
        head.push_str(&format!("Proxy-Authorization: {}\r\n", basic_auth(&user, &password)));
    }
    head.push_str("\r\n");
    let io_err = |e: std::io::Error| fail("proxy", format!("the proxy {shown} dropped the connection: {e}"));
    Pin::new(&mut *stream).write_all(head.as_bytes()).await.map_err(io_err)?;
    let mut buf = Vec::with_capacity(512);
    let mut byte = [0u8; 1];
    while !buf.ends_with(b"\r\n\r\n") {
        if buf.len() > 16 * 1024 {
            return Err(fail("proxy", format!("the proxy {shown} answered CONNECT with over 16 KiB of headers")));
        }
        let n = stream.read(&mut byte).await.map_err(io_err)?;
        if n == 0 {
            return Err(fail("proxy", format!("the proxy {shown} closed the connection before answering CONNECT")));
        }
        buf.push(byte[0]);
    }
    let line = String::from_utf8_lossy(&buf);
    let line = line.lines().next().unwrap_or("");
    let status = line.split_whitespace().nth(1).and_then(|s| s.parse::<u16>().ok());
    match status {
        Some(s) if (200..300).contains(&s) => Ok(()),
        Some(407) => Err(fail(
            "proxy",
            format!("the proxy {shown} requires authentication (407): give its user and password in the proxy URL, http://user:password@host:port"),
        )),
        Some(s) => Err(fail("proxy", format!("the proxy {shown} refused CONNECT to {host}:{port} with status {s}"))),
        None => Err(fail("proxy", format!("the proxy {shown} answered CONNECT with something that is not HTTP"))),
    }
}

fn basic_auth(user: &str, password: &str) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let input = format!("{user}:{password}");
    let bytes = input.as_bytes();
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4 + 6);
    out.push_str("Basic ");
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[((n >> (18 - 6 * i)) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn basic_auth_is_base64() {
        assert_eq!(super::basic_auth("Aladdin", "open sesame"), "Basic QWxhZGRpbjpvcGVuIHNlc2FtZQ==");
        assert_eq!(super::basic_auth("a", "b"), "Basic YTpi");
        assert_eq!(super::basic_auth("ab", "c"), "Basic YWI6Yw==");
    }
}
