//! A minimal Secrets Manager client for load: one keep-alive HTTP/1.1 connection (hyper's
//! `client::conn::http1` over a tokio `TcpStream`), requests sent one after another on it, each
//! signed with SigV4 as an SDK would (the derived signing key is cached per day).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper::{Request, header};
use hyper_util::rt::TokioIo;
use tokio::net::TcpStream;

use crate::auth::SERVICE_NAME;
use crate::auth::sigv4::{self, CredentialScope, Credentials, SigningKey, SigningParams};
use crate::clock::{Clock, SystemClock};

/// The AWS JSON 1.1 content type.
pub const CONTENT_TYPE: &str = "application/x-amz-json-1.1";

/// How long one request may take before it counts as a transport error.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Where requests go: `http://host[:port][/path]`.
#[derive(Debug)]
pub struct Endpoint {
    /// The `Host` header (host and port as given).
    pub authority: String,
    pub path: String,
    pub addresses: Vec<SocketAddr>,
}

impl Endpoint {
    /// Parses and resolves an endpoint URL.
    pub async fn resolve(url: &str) -> Result<Endpoint, String> {
        let uri: hyper::Uri = url
            .parse()
            .map_err(|error| format!("--endpoint {url}: not a URL ({error})"))?;
        match uri.scheme_str() {
            Some("http") => {}
            Some("https") => {
                return Err(format!(
                    "--endpoint {url}: https is not supported by coffer bench yet; use http:// \
                     (or a local TLS-terminating proxy)"
                ));
            }
            _ => return Err(format!("--endpoint {url}: expected http://host:port")),
        }
        let authority = uri
            .authority()
            .ok_or_else(|| format!("--endpoint {url}: no host"))?;
        let port = authority.port_u16().unwrap_or(80);
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
        })
    }
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
                    let (sender, connection) = http1::handshake(TokioIo::new(stream))
                        .await
                        .map_err(|error| TransportError(format!("handshake: {error}")))?;
                    tokio::spawn(async move {
                        let _ = connection.await;
                    });
                    return Ok(sender);
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
        let endpoint = Endpoint::resolve("http://127.0.0.1:8566").await;
        let endpoint = endpoint.expect("endpoint");
        assert_eq!(endpoint.authority, "127.0.0.1:8566");
        assert_eq!(endpoint.path, "/");
        assert_eq!(
            endpoint.addresses,
            vec![SocketAddr::from(([127, 0, 0, 1], 8566))]
        );
        let https = Endpoint::resolve("https://secretsmanager.us-east-1.amazonaws.com").await;
        assert!(https.is_err_and(|e| e.contains("https")));
        assert!(Endpoint::resolve("127.0.0.1:8566").await.is_err());
    }
}
