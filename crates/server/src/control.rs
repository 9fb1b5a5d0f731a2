//! The control HTTP API, served on the gateway's listener so that any client can be pointed at
//! the server. It stands in for Discord's main gateway and adds test controls.
//!
//! | route | body | answer |
//! | --- | --- | --- |
//! | `POST /v1/voice/join` | `{guild_id, channel_id, user_id}` | [`JoinInfo`]: endpoint, token and session id as `VOICE_SERVER_UPDATE` and `VOICE_STATE_UPDATE` carry them |
//! | `GET /v1/channels/{guild}/{channel}` | | [`ChannelInfo`]: participants, SSRCs, packet counts |
//! | `POST /v1/channels/{guild}/{channel}/impairment` | [`ImpairmentRequest`] | `{"applied": n}` |
//! | `POST /v1/channels/{guild}/{channel}/drop` | `{user_id, code}` | closes that participant's WebSocket with `code` |
//! | `GET /v1/health` | | `{"ok": true}` |
//!
//! Ids may be JSON strings or numbers.

use std::time::Duration;

use serde::Deserialize;
use serde_json::json;
use tokio::sync::{mpsc, oneshot};
use voxwire_netsim::{Loss, NetsimConfig};

use crate::driver::Command;
use crate::http::Request;
use crate::hub::{ChannelInfo, JoinInfo};

/// An id given as a JSON string or number.
#[derive(Deserialize)]
#[serde(untagged)]
enum Id {
    Str(String),
    Num(u64),
}

impl Id {
    fn get(&self) -> Option<u64> {
        match self {
            Self::Str(s) => s.parse().ok(),
            Self::Num(n) => Some(*n),
        }
    }
}

#[derive(Deserialize)]
#[expect(clippy::struct_field_names, reason = "the field names are the wire names")]
struct JoinRequest {
    guild_id: Id,
    channel_id: Id,
    user_id: Id,
}

/// Impairment of the packets the server sends to one participant (or all of a channel's).
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct ImpairmentRequest {
    /// Only this participant; all of the channel's when absent.
    user_id: Option<Id>,
    /// Remove the impairment.
    clear: bool,
    /// Loss probability, 0..1.
    loss: f64,
    /// Mean burst length in packets; above 1, loss is bursty (Gilbert-Elliott).
    burst: f64,
    /// One-way delay in milliseconds.
    delay_ms: u64,
    /// Jitter (standard deviation of the added delay) in milliseconds.
    jitter_ms: u64,
    /// Probability that a packet is held back so later ones overtake it.
    reorder: f64,
    /// Probability that a packet is delivered twice.
    duplicate: f64,
    /// Seed of the model.
    seed: u64,
}

impl std::fmt::Debug for Id {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Str(s) => write!(f, "{s:?}"),
            Self::Num(n) => write!(f, "{n}"),
        }
    }
}

impl ImpairmentRequest {
    /// The model, or `None` for `clear`.
    fn config(&self) -> Result<Option<NetsimConfig>, String> {
        if self.clear {
            return Ok(None);
        }
        for (name, p) in
            [("loss", self.loss), ("reorder", self.reorder), ("duplicate", self.duplicate)]
        {
            if !(0.0..=1.0).contains(&p) {
                return Err(format!("{name} must be within 0..1"));
            }
        }
        let loss = if self.burst > 1.0 {
            Loss::bursty(self.loss, self.burst)
        } else {
            Loss::Random(self.loss)
        };
        Ok(Some(
            NetsimConfig::default()
                .with_delay(Duration::from_millis(self.delay_ms))
                .with_jitter(Duration::from_millis(self.jitter_ms))
                .with_loss(loss)
                .with_reorder(self.reorder, Duration::from_millis(self.delay_ms.max(20)))
                .with_duplicate(self.duplicate, Duration::from_millis(5)),
        ))
    }
}

#[derive(Deserialize)]
struct DropRequest {
    user_id: Id,
    code: u16,
}

fn error(status: u16, msg: &str) -> (u16, String) {
    (status, json!({ "error": msg }).to_string())
}

async fn ask<T>(
    hub: &mpsc::Sender<Command>,
    make: impl FnOnce(oneshot::Sender<T>) -> Command,
) -> Option<T> {
    let (tx, rx) = oneshot::channel();
    hub.send(make(tx)).await.ok()?;
    rx.await.ok()
}

/// Answers one control request: status and JSON body.
pub(crate) async fn route(req: &Request, hub: &mpsc::Sender<Command>) -> (u16, String) {
    let segments: Vec<&str> = req.path.trim_matches('/').split('/').collect();
    match (req.method.as_str(), segments.as_slice()) {
        ("GET", ["v1", "health"]) => (200, json!({ "ok": true }).to_string()),
        ("POST", ["v1", "voice", "join"]) => {
            let Ok(j) = serde_json::from_slice::<JoinRequest>(&req.body) else {
                return error(400, "expected {guild_id, channel_id, user_id}");
            };
            let (Some(guild), Some(channel), Some(user)) =
                (j.guild_id.get(), j.channel_id.get(), j.user_id.get())
            else {
                return error(400, "ids must be decimal snowflakes");
            };
            match ask(hub, |reply| Command::Join { guild, channel, user, reply }).await {
                Some(Ok(info)) => {
                    (200, serde_json::to_string::<JoinInfo>(&info).unwrap_or_default())
                }
                Some(Err(e)) => error(409, &e),
                None => error(503, "server stopping"),
            }
        }
        ("GET", ["v1", "channels", g, c]) => {
            let (Ok(guild), Ok(channel)) = (g.parse(), c.parse()) else {
                return error(400, "ids must be decimal snowflakes");
            };
            match ask(hub, |reply| Command::ChannelInfo { guild, channel, reply }).await {
                Some(Some(info)) => {
                    (200, serde_json::to_string::<ChannelInfo>(&info).unwrap_or_default())
                }
                Some(None) => error(404, "no such channel"),
                None => error(503, "server stopping"),
            }
        }
        ("POST", ["v1", "channels", g, c, "impairment"]) => {
            let (Ok(guild), Ok(channel)) = (g.parse(), c.parse()) else {
                return error(400, "ids must be decimal snowflakes");
            };
            let Ok(r) = serde_json::from_slice::<ImpairmentRequest>(&req.body) else {
                return error(400, "bad impairment");
            };
            let config = match r.config() {
                Ok(c) => c,
                Err(e) => return error(400, &e),
            };
            let user = r.user_id.as_ref().and_then(Id::get);
            let seed = r.seed;
            match ask(hub, |reply| Command::Impair {
                guild,
                channel,
                user,
                config: config.map(Box::new),
                seed,
                reply,
            })
            .await
            {
                Some(n) => (200, json!({ "applied": n }).to_string()),
                None => error(503, "server stopping"),
            }
        }
        ("POST", ["v1", "channels", g, c, "drop"]) => {
            let (Ok(guild), Ok(channel)) = (g.parse(), c.parse()) else {
                return error(400, "ids must be decimal snowflakes");
            };
            let Ok(d) = serde_json::from_slice::<DropRequest>(&req.body) else {
                return error(400, "expected {user_id, code}");
            };
            let Some(user) = d.user_id.get() else { return error(400, "bad user id") };
            match ask(hub, |reply| Command::Drop { guild, channel, user, code: d.code, reply })
                .await
            {
                Some(true) => (200, json!({ "dropped": true }).to_string()),
                Some(false) => error(404, "no such connected participant"),
                None => error(503, "server stopping"),
            }
        }
        (_, ["v1", ..]) => error(404, "no such route"),
        _ => error(404, "not found"),
    }
}
