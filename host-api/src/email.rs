//! `automa:host/email`: allowlisted email through the server's SMTP settings.

use crate::bindings::automa::host::email::{Host, Message};
use crate::bindings::automa::host::types::Error as WitError;
use crate::ports::{BoxFuture, Mailer, OutboundEmail};
use crate::{HostContext, HostError};
use lettre::message::{Attachment, Mailbox, MultiPart, SinglePart, header::ContentType};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Tokio1Executor};
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use std::time::{Duration, Instant};

impl Host for HostContext {
    async fn send(&mut self, msg: Message) -> Result<(), WitError> {
        self.audit_ready().await?;
        let started = Instant::now();
        let target = msg
            .to
            .iter()
            .chain(&msg.cc)
            .chain(&msg.bcc)
            .cloned()
            .collect::<Vec<_>>()
            .join(", ");
        let result = self.send_email(msg).await;
        self.audit("email.send", target, started, &result);
        result.map_err(Into::into)
    }
}

impl HostContext {
    async fn send_email(&mut self, msg: Message) -> Result<(), HostError> {
        let policy = &self.capabilities.email;
        let recipients: Vec<&String> = msg.to.iter().chain(&msg.cc).chain(&msg.bcc).collect();
        if recipients.is_empty() {
            return Err(HostError::InvalidInput(
                "an email needs at least one recipient".into(),
            ));
        }
        if let Some(denied) = recipients.iter().find(|r| !policy.allows(r)) {
            return Err(HostError::Denied(format!(
                "sending email to {denied} is not allowed: no entry of this script's email \
                 allowlist matches it. An admin can grant the address or its domain in the \
                 script's capabilities (for `automa run`: --allow-email {denied} or \
                 --allow-email @{})",
                denied
                    .rsplit_once('@')
                    .map(|(_, d)| d)
                    .unwrap_or("example.com")
            )));
        }
        if self.counters.emails >= policy.max_per_run {
            return Err(HostError::LimitReached(format!(
                "this run already sent {} emails, the most allowed",
                policy.max_per_run
            )));
        }
        let size = msg.text.len()
            + msg.html.as_ref().map_or(0, String::len)
            + msg.attachments.iter().map(|a| a.data.len()).sum::<usize>();
        if size as u64 > policy.max_message_bytes {
            return Err(HostError::TooLarge(format!(
                "the message is {size} bytes; the limit is {}",
                policy.max_message_bytes
            )));
        }
        let mailer = self.mailer.clone().ok_or_else(|| {
            HostError::Denied(
                "email is not configured on this server: an admin must set the SMTP settings"
                    .into(),
            )
        })?;
        self.counters.emails += 1;
        mailer
            .send(OutboundEmail {
                to: msg.to,
                cc: msg.cc,
                bcc: msg.bcc,
                subject: msg.subject,
                text: msg.text,
                html: msg.html,
                reply_to: msg.reply_to,
                attachments: msg
                    .attachments
                    .into_iter()
                    .map(|a| (a.filename, a.content_type, a.data))
                    .collect(),
            })
            .await
    }
}

/// How the SMTP connection is secured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum SmtpTls {
    /// Plain SMTP (only for a relay on the same machine or in tests).
    None,
    /// Upgrade with STARTTLS (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte (port 465).
    Tls,
}

/// The server-level SMTP settings (`[smtp]`); unknown keys are refused so a typo is not
/// silently a different mail setup.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpSettings {
    /// The SMTP server's host name.
    pub host: String,
    /// Its port (587, the submission port, when not given).
    #[serde(default = "default_port")]
    pub port: u16,
    /// Connection security.
    #[serde(default)]
    pub tls: SmtpTls,
    /// Login name, if the server wants one.
    #[serde(default)]
    pub username: Option<String>,
    /// Password for `username`: never printed (`Debug` and serialization show
    /// `[REDACTED]`).
    #[serde(default, serialize_with = "redacted")]
    pub password: Option<SecretString>,
    /// The sender address of every message.
    pub from: String,
}

fn default_port() -> u16 {
    587
}

/// Serializes a set password as `[REDACTED]`: serialized settings are for people to read
/// (`automa serve --print-config`), never a way to copy the password out.
fn redacted<S: serde::Serializer>(
    password: &Option<SecretString>,
    serializer: S,
) -> Result<S::Ok, S::Error> {
    match password {
        Some(_) => serializer.serialize_str("[REDACTED]"),
        None => serializer.serialize_none(),
    }
}

/// Sends email over SMTP with lettre.
pub struct SmtpMailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
}

impl SmtpMailer {
    /// A mailer for `settings`; fails on an invalid sender or host.
    pub fn new(settings: &SmtpSettings) -> Result<Self, HostError> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let from: Mailbox = settings.from.parse().map_err(|e| {
            HostError::InvalidInput(format!("invalid sender {:?}: {e}", settings.from))
        })?;
        let builder = match settings.tls {
            SmtpTls::None => {
                AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(settings.host.as_str())
            }
            SmtpTls::Starttls => {
                AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(&settings.host)
                    .map_err(|e| HostError::InvalidInput(format!("SMTP host: {e}")))?
            }
            SmtpTls::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(&settings.host)
                .map_err(|e| HostError::InvalidInput(format!("SMTP host: {e}")))?,
        };
        let mut builder = builder
            .port(settings.port)
            .timeout(Some(Duration::from_secs(30)));
        if let (Some(user), Some(password)) = (&settings.username, &settings.password) {
            builder = builder.credentials(Credentials::new(
                user.clone(),
                password.expose_secret().to_owned(),
            ));
        }
        Ok(Self {
            transport: builder.build(),
            from,
        })
    }

    fn build_message(&self, email: OutboundEmail) -> Result<lettre::Message, HostError> {
        let parse = |address: &str| -> Result<Mailbox, HostError> {
            address
                .parse()
                .map_err(|e| HostError::InvalidInput(format!("invalid address {address:?}: {e}")))
        };
        let mut builder = lettre::Message::builder()
            .from(self.from.clone())
            .subject(email.subject);
        for address in &email.to {
            builder = builder.to(parse(address)?);
        }
        for address in &email.cc {
            builder = builder.cc(parse(address)?);
        }
        for address in &email.bcc {
            builder = builder.bcc(parse(address)?);
        }
        if let Some(reply_to) = &email.reply_to {
            builder = builder.reply_to(parse(reply_to)?);
        }
        let body = match email.html {
            Some(html) => MultiPart::alternative_plain_html(email.text, html),
            None => MultiPart::mixed().singlepart(SinglePart::plain(email.text)),
        };
        let body = email.attachments.into_iter().try_fold(
            MultiPart::mixed().multipart(body),
            |parts, (name, kind, data)| {
                let content_type = ContentType::parse(&kind).map_err(|e| {
                    HostError::InvalidInput(format!("invalid content type {kind:?}: {e}"))
                })?;
                Ok::<_, HostError>(parts.singlepart(Attachment::new(name).body(data, content_type)))
            },
        )?;
        builder
            .multipart(body)
            .map_err(|e| HostError::InvalidInput(format!("cannot build the message: {e}")))
    }
}

impl Mailer for SmtpMailer {
    fn send(&self, email: OutboundEmail) -> BoxFuture<'_, Result<(), HostError>> {
        Box::pin(async move {
            let message = self.build_message(email)?;
            self.transport
                .send(message)
                .await
                .map(|_| ())
                .map_err(|e| HostError::Failed(format!("SMTP: {e}")))
        })
    }
}
