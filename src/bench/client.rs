//! A minimal Secrets Manager client for load: one keep-alive HTTP/1.1 connection (hyper's
//! `client::conn::http1` over a tokio `TcpStream`, with `rustls` for `https://` endpoints),
//! requests sent one after another on it, each signed with SigV4 as an SDK would (the derived
//! signing key is cached per day).

use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;

use crate::auth::SERVICE_NAME;
use crate::auth::sigv4::{self, CredentialScope, Credentials, SigningKey, SigningParams};
use crate::clock::{Clock, SystemClock};

/// The AWS JSON 1.1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How long one request may take before it counts as a transport error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where requests go: `http://host[:port][/path]` or `https://...`.
pub struct Endpoint {
    /// The `Host` header (host and port as given).
    pub authority: String,
    pub path: String,
    pub addresses: Vec<SocketAddr>,
    /// For `https://`: how to open TLS and the name the certificate must carry.
    tls: Option<(TlsConnector, ServerName<'static>)>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint")
            .field("authority", &self.authority)
            .field("path", &self.path)
            .field("addresses", &self.addresses)
            .field("tls", &self.tls.is_some())
            .finish()
    }
}

impl Endpoint {
    /// Parses and resolves an endpoint URL. For `https://`, the server certificate must chain
    /// to the system's roots (or `SSL_CERT_FILE`/`SSL_CERT_DIR`) or to a certificate of
    /// `ca_bundle` (PEM).
    pub async fn resolve(url: &str, ca_bundle: Option<&Path>) -> Result<Endpoint, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|error| format!("--endpoint {url}: not a URL ({error})"))?;
        let https = match uri.scheme_str() {
            Some("http") => false,
            Some("https") => true,
            _ => {
                return Err(format!(
                    "--endpoint {url}: expected http://host:port or https://host"
                ));
            }
        };
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--endpoint {url}: no host"))?;
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let tls = if https {
            let host = authority
                .host()
                .trim_start_matches('[')
                .trim_end_matches(']');
            let name = ServerName::try_from(host.to_owned())
                .map_err(|error| format!("--endpoint {url}: {error}"))?;
            let config =
                tls_config(ca_bundle).map_err(|error| format!("--endpoint {url}: {error}"))?;
            Some((TlsConnector::from(Arc::new(config)), name))
        } else {
            None
        };
        let addresses: Vec<SocketAddr> = tokio::net::lookup_host((authority.host(), port))
            .await
            .map_err(|error| format!("--endpoint {url}: cannot resolve the host: {error}"))?
            .collect();
        if addresses.is_empty() {
            return Err(format!("--endpoint {url}: the host has no address"));
        }
        let path = match uri.path() {
            "" => "/".to_owned(),
            path => path.to_owned(),
        };
        Ok(Endpoint {
            authority: authority.as_str().to_owned(),
            path,
            addresses,
            tls,
        })
    }
}

/// TLS 1.2/1.3 with the `ring` provider, HTTP/1.1 by ALPN, trusting the system roots and
/// `ca_bundle`.
fn tls_config(ca_bundle: Option<&Path>) -> Result<rustls::ClientConfig, String> {
    let mut roots = rustls::RootCertStore::empty();
    for certificate in rustls_native_certs::load_native_certs().certs {
        let _ = roots.add(certificate);
    }
    if let Some(path) = ca_bundle {
        let certificates = CertificateDer::pem_file_iter(path)
            .map_err(|error| format!("cannot read the CA bundle {}: {error}", path.display()))?;
        for certificate in certificates {
            let certificate = certificate.map_err(|error| {
                format!("cannot read the CA bundle {}: {error}", path.display())
            })?;
            roots.add(certificate).map_err(|error| {
                format!("a certificate of {} is not usable: {error}", path.display())
            })?;
        }
    }
    if roots.is_empty() {
        return Err(
            "no trusted root certificates: install the system's CA certificates or give \
             --ca-bundle (AWS_CA_BUNDLE)"
                .into(),
        );
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| format!("TLS: {error}"))?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(config)
}

/// The HTTP/1.1 handshake over `io`; the connection is driven by a task of its own.
async fn handshake<T>(io: T) -> Result<SendRequest<Full<Bytes>>, TransportError>
where
    T: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (sender, connection) = http1::handshake(TokioIo::new(io))
        .await
        .map_err(|error| TransportError(format!("handshake: {error}")))?;
    tokio::spawn(async move {
        let _ = connection.await;
    });
    Ok(sender)
}

/// Signs requests for one access key and region, keeping the day's signing key.
#[derive(Debug, Clone)]
pub struct RequestSigner {
    credentials: Arc<Credentials>,
    region: String,
    cached: Option<(String, SigningKey)>,
}

impl RequestSigner {
    pub fn new(credentials: Arc<Credentials>, region: String) -> RequestSigner {
        RequestSigner {
            credentials,
            region,
            cached: None,
        }
    }

    /// The `X-Amz-Date`, `Authorization` and (optional) `X-Amz-Security-Token` values for a
    /// POST of `body` with these headers.
    fn sign(
        &mut self,
        path: &str,
        host: &str,
        target: &str,
        body: &[u8],
    ) -> sigv4::SignatureHeaders {
        let amz_date = sigv4::amz_date(SystemClock.now());
        let day = amz_date.get(..8).unwrap_or(&amz_date);
        if self.cached.as_ref().is_none_or(|(cached, _)| cached != day) {
            let scope = CredentialScope::new(day, &self.region, SERVICE_NAME);
            let key = sigv4::signing_key(&self.credentials.secret_access_key, &scope);
            self.cached = Some((day.to_owned(), key));
        }
        let cached_key = self.cached.as_ref().map(|(_, key)| key);
        sigv4::sign_request(
            &sigv4::Request {
                method: "POST",
                path,
                query: "",
                headers: &[
                    ("content-type", CONTENT_TYPE),
                    ("host", host),
                    ("x-amz-target", target),
                ],
                payload: body,
            },
            &SigningParams {
                credentials: &self.credentials,
                region: &self.region,
                service: SERVICE_NAME,
                amz_date: &amz_date,
                cached_key,
            },
        )
    }
}

/// An HTTP answer: status and whole body.
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub body: Bytes,
}

impl Answer {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }

    /// The error code of an AWS error answer: the body's `__type` (without a `prefix#`), else
    /// the status.
    pub fn error_type(&self) -> String {
        let from_body = serde_json::from_slice::<serde_json::Value>(&self.body)
            .ok()
            .and_then(|value| value.get("__type")?.as_str().map(str::to_owned))
            .map(|code| match code.rsplit_once('#') {
                Some((_, code)) => code.to_owned(),
                None => code,
            });
        from_body.unwrap_or_else(|| format!("HTTP {}", self.status))
    }

    /// The error message of an AWS error answer, if any.
    pub fn error_message(&self) -> Option<String> {
        let value = serde_json::from_slice::<serde_json::Value>(&self.body).ok()?;
        let message = value.get("message").or_else(|| value.get("Message"))?;
        message
            .as_str()
            .filter(|message| !message.is_empty())
            .map(str::to_owned)
    }
}

/// A connection-level failure: connect, send, receive or time out.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
pub struct TransportError(pub String);

/// One keep-alive connection and the signer of its requests. Not shared: one per worker.
pub struct Client {
    endpoint: Arc<Endpoint>,
    signer: RequestSigner,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Client {
    pub fn new(endpoint: Arc<Endpoint>, signer: RequestSigner) -> Client {
        Client {
            endpoint,
            signer,
            sender: None,
        }
    }

    async fn connect(&self) -> Result<SendRequest<Full<Bytes>>, TransportError> {
        let mut last_error = None;
        for address in &self.endpoint.addresses {
            match TcpStream::connect(address).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    return match &self.endpoint.tls {
                        None => handshake(stream).await,
                        Some((connector, name)) => {
                            let stream = connector
                                .connect(name.clone(), stream)
                                .await
                                .map_err(|error| TransportError(format!("TLS: {error}")))?;
                            handshake(stream).await
                        }
                    };
                }
                Err(error) => last_error = Some(format!("connect to {address}: {error}")),
            }
        }
        Err(TransportError(
            last_error.unwrap_or_else(|| "no address to connect to".into()),
        ))
    }

    /// Sends `secretsmanager.<operation>` with this JSON body and reads the whole answer. A
    /// transport error drops the connection; the next call opens a new one.
    pub async fn call(&mut self, operation: &str, body: Vec<u8>) -> Result<Answer, TransportError> {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.exchange(operation, body)).await {
            Ok(Ok(answer)) => Ok(answer),
            Ok(Err(error)) => {
                self.sender = None;
                Err(error)
            }
            Err(_) => {
                self.sender = None;
                Err(TransportError(format!(
                    "no answer within {} s",
                    REQUEST_TIMEOUT.as_secs()
                )))
            }
        }
    }

    async fn exchange(&mut self, operation: &str, body: Vec<u8>) -> Result<Answer, TransportError> {
        let target = format!("secretsmanager.{operation}");
        let signed = self.signer.sign(
            &self.endpoint.path,
            &self.endpoint.authority,
            &target,
            &body,
        );
        let mut builder = Request::post(self.endpoint.path.as_str())
            .header(header::HOST, self.endpoint.authority.as_str())
            .header(header::CONTENT_TYPE, CONTENT_TYPE)
            .header("x-amz-target", target)
            .header("x-amz-date", signed.amz_date)
            .header(header::AUTHORIZATION, signed.authorization);
        if let Some(token) = signed.security_token {
            builder = builder.header("x-amz-security-token", token);
        }
        let request = builder
            .body(Full::new(Bytes::from(body)))
            .map_err(|error| TransportError(format!("cannot build the request: {error}")))?;

        let sender = match &mut self.sender {
            Some(sender) if !sender.is_closed() => sender,
            _ => self.sender.insert(self.connect().await?),
        };
        sender
            .ready()
            .await
            .map_err(|error| TransportError(format!("connection: {error}")))?;
        let response = sender
            .send_request(request)
            .await
            .map_err(|error| TransportError(format!("request: {error}")))?;
        let status = response.status().as_u16();
        let body = response
            .into_body()
            .collect()
            .await
            .map_err(|error| TransportError(format!("response body: {error}")))?
            .to_bytes();
        Ok(Answer { status, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(status: u16, body: &str) -> Answer {
        Answer {
            status,
            body: Bytes::from(body.to_owned()),
        }
    }

    #[test]
    fn error_types_come_from_the_body() {
        let a = answer(
            400,
            r#"{"__type":"ResourceNotFoundException","message":"nope"}"#,
        );
        assert_eq!(a.error_type(), "ResourceNotFoundException");
        assert_eq!(a.error_message().as_deref(), Some("nope"));
        let prefixed = answer(
            400,
            r#"{"__type":"com.amazonaws.secretsmanager#InvalidRequestException","Message":"m"}"#,
        );
        assert_eq!(prefixed.error_type(), "InvalidRequestException");
        assert_eq!(prefixed.error_message().as_deref(), Some("m"));
        assert_eq!(answer(502, "<html>").error_type(), "HTTP 502");
        assert!(answer(200, "{}").is_success());
        assert!(!answer(404, "{}").is_success());
    }

    #[tokio::test]
    async fn endpoints() {
        let endpoint = Endpoint::resolve("http://127.0.0.1:8566", None).await;
        let endpoint = endpoint.expect("endpoint");
        assert_eq!(endpoint.authority, "127.0.0.1:8566");
        assert_eq!(endpoint.path, "/");
        assert_eq!(
            endpoint.addresses,
            vec![SocketAddr::from(([127, 0, 0, 1], 8566))]
        );
        assert!(endpoint.tls.is_none());
        assert!(Endpoint::resolve("127.0.0.1:8566", None).await.is_err());
        assert!(Endpoint::resolve("ftp://127.0.0.1", None).await.is_err());
        let missing = Endpoint::resolve("https://127.0.0.1", Some(Path::new("/nonexistent.pem")));
        assert!(missing.await.is_err_and(|e| e.contains("CA bundle")));
    }
}
